"""Shape and linear-algebra operations against torch 2.13.0: dot, outer, einsum, tril/triu, diag,
diagonal, trace, roll, tile, broadcast_to, meshgrid, movedim, swapaxes, unflatten,
take_along_dim and where(condition); values and gradients, three layouts, torch's errors."""

import pytest
from conftest import assert_same, check_op, check_raises

import minigrad as mg
from minigrad.autograd import gradcheck

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]

ONE_INPUT = {
    "tril": ((3, 4), lambda lib, x: lib.tril(x)),
    "tril_diag": ((3, 4), lambda lib, x: x.tril(-1)),
    "triu": ((3, 4), lambda lib, x: lib.triu(x, diagonal=1)),
    "triu_batch": ((2, 3, 3), lambda lib, x: x.triu(-1)),
    "diag_matrix": ((3, 4), lambda lib, x: lib.diag(x)),
    "diag_matrix_offset": ((3, 4), lambda lib, x: x.diag(2)),
    "diag_matrix_below": ((4, 3), lambda lib, x: lib.diag(x, -1)),
    "diag_vector": ((3,), lambda lib, x: lib.diag(x)),
    "diag_vector_offset": ((3,), lambda lib, x: lib.diag(x, -2)),
    "diagonal": ((2, 3, 4), lambda lib, x: lib.diagonal(x)),
    "diagonal_dims": ((2, 3, 4), lambda lib, x: x.diagonal(1, -1, 1)),
    "diagonal_negative": ((2, 3, 4), lambda lib, x: lib.diagonal(x, offset=-1, dim1=2, dim2=1)),
    "trace": ((3, 4), lambda lib, x: lib.trace(x)),
    "roll": ((3, 4), lambda lib, x: lib.roll(x, 1)),
    "roll_dim": ((3, 4), lambda lib, x: x.roll(-5, 1)),
    "roll_dims": ((3, 4), lambda lib, x: lib.roll(x, (2, 1), (0, 1))),
    "tile": ((2, 3), lambda lib, x: lib.tile(x, (2,))),
    "tile_more": ((2, 3), lambda lib, x: x.tile(2, 1, 2)),
    "tile_method_tuple": ((2, 3), lambda lib, x: x.tile((3, 2))),
    "broadcast_to": ((3, 1), lambda lib, x: lib.broadcast_to(x, (2, 3, 4))),
    "movedim": ((2, 3, 4), lambda lib, x: lib.movedim(x, 0, -1)),
    "movedim_tuple": ((2, 3, 4), lambda lib, x: x.movedim((0, 1), (2, 0))),
    "moveaxis": ((2, 3, 4), lambda lib, x: lib.moveaxis(x, -1, 0)),
    "swapaxes": ((2, 3, 4), lambda lib, x: lib.swapaxes(x, 0, 2)),
    "swapdims": ((2, 3, 4), lambda lib, x: x.swapdims(-1, 1)),
    "unflatten": ((2, 12), lambda lib, x: lib.unflatten(x, 1, (3, -1))),
    "unflatten_method": ((2, 12), lambda lib, x: x.unflatten(-1, (2, 2, 3))),
    "einsum_transpose": ((3, 4), lambda lib, x: lib.einsum("ij->ji", x)),
    "einsum_sum": ((3, 4), lambda lib, x: lib.einsum("ij->", x)),
    "einsum_rowsum": ((3, 4), lambda lib, x: lib.einsum("ij->i", x)),
    "einsum_diag": ((3, 3), lambda lib, x: lib.einsum("ii->i", x)),
    "einsum_trace": ((3, 3), lambda lib, x: lib.einsum("ii", x)),
    "einsum_implicit": ((3, 4), lambda lib, x: lib.einsum("ji", x)),
    "einsum_ellipsis": ((2, 3, 4), lambda lib, x: lib.einsum("...ij->...ji", x)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(ONE_INPUT))
def test_one_input(name, layout, dtype):
    shape, fn = ONE_INPUT[name]
    check_op([shape], lambda x: fn(torch, x), lambda x: fn(mg, x), layout=layout, dtype=dtype)


TWO_INPUTS = {
    "dot": ((4,), (4,), lambda lib, a, b: lib.dot(a, b)),
    "dot_method": ((4,), (4,), lambda lib, a, b: a.dot(b)),
    "outer": ((3,), (4,), lambda lib, a, b: lib.outer(a, b)),
    "outer_method": ((3,), (2,), lambda lib, a, b: a.outer(b)),
    "einsum_mm": ((3, 4), (4, 2), lambda lib, a, b: lib.einsum("ij,jk->ik", a, b)),
    "einsum_bmm": ((2, 3, 4), (2, 4, 5), lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b)),
    "einsum_dot": ((4,), (4,), lambda lib, a, b: lib.einsum("i,i->", a, b)),
    "einsum_outer": ((3,), (4,), lambda lib, a, b: lib.einsum("i,j->ij", a, b)),
    "einsum_implicit_mm": ((3, 4), (4, 2), lambda lib, a, b: lib.einsum("ij,jk", a, b)),
    "einsum_list": ((3, 4), (4, 2), lambda lib, a, b: lib.einsum("ij,jk->ki", [a, b])),
    "einsum_elementwise": ((3, 4), (3, 4), lambda lib, a, b: lib.einsum("ij,ij->ij", a, b)),
    "einsum_batch_ellipsis": ((2, 3, 4), (4, 5), lambda lib, a, b: lib.einsum("...ij,jk->...ik", a, b)),
    "einsum_bilinear_like": ((2, 3), (2, 3), lambda lib, a, b: lib.einsum("bi,bi->b", a, b)),
    "einsum_sum_one_side": ((3, 4), (4,), lambda lib, a, b: lib.einsum("ij,j->", a, b)),
    "einsum_broadcast_summed": ((3, 1), (4, 2), lambda lib, a, b: lib.einsum("ij,jk->ik", a, b)),
    "einsum_broadcast_batch": ((1, 3, 4), (2, 4, 5), lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b)),
    "einsum_spaces": ((3, 4), (4, 2), lambda lib, a, b: lib.einsum("ij, jk -> ik", a, b)),
    "take_along_dim": ((3, 4), None, lambda lib, a, i: lib.take_along_dim(a, i, 1)),
    "take_along_dim_flat": ((3, 4), None, lambda lib, a, i: lib.take_along_dim(a, i)),
    "take_along_dim_broadcast": ((3, 4), "col", lambda lib, a, i: a.take_along_dim(i, dim=0)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(TWO_INPUTS))
def test_two_inputs(name, layout, dtype):
    shape_a, shape_b, fn = TWO_INPUTS[name]
    if name == "take_along_dim_flat" and layout != "contiguous":
        pytest.skip("torch's take_along_dim without dim views its input, which fails on these layouts")
    if name.startswith("take_along_dim"):
        rows = [[2, 0], [1, 1], [3, 0]] if shape_b is None else [[0, 2, 1, 1]]
        check_op(
            [shape_a],
            lambda a: fn(torch, a, torch.tensor(rows)),
            lambda a: fn(mg, a, mg.tensor(rows)),
            layout=layout,
            dtype=dtype,
        )
        return
    check_op([shape_a, shape_b], lambda a, b: fn(torch, a, b), lambda a, b: fn(mg, a, b), layout=layout, dtype=dtype)


def test_einsum_three_operands():
    check_op(
        [(2, 3), (3, 4), (4, 5)],
        lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c),
        lambda a, b, c: mg.einsum("ij,jk,kl->il", a, b, c),
        dtype="float64",
    )


def test_einsum_matches_matmul_bit_for_bit():
    a = mg.randn(5, 7)
    b = mg.randn(7, 3)
    assert mg.einsum("ij,jk->ik", a, b).tolist() == (a @ b).tolist()


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    check_op(
        [(3,), (4,), (2,)],
        lambda a, b, c: torch.meshgrid(a, b, c, indexing=indexing),
        lambda a, b, c: mg.meshgrid(a, b, c, indexing=indexing),
    )
    check_op(
        [(3,), (4,)],
        lambda a, b: torch.meshgrid([a, b], indexing=indexing),
        lambda a, b: mg.meshgrid([a, b], indexing=indexing),
    )


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "bool"])
def test_integer_inputs(dtype):
    values = [[1, 0, 3], [4, 5, 0], [7, 1, 9]]
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    m = mg.tensor(values, dtype=getattr(mg, dtype))
    for fn in (
        lambda lib, x: lib.tril(x),
        lambda lib, x: x.triu(1),
        lambda lib, x: lib.diag(x),
        lambda lib, x: x.diagonal(-1),
        lambda lib, x: lib.roll(x, 1, 0),
        lambda lib, x: x.tile(2),
        lambda lib, x: lib.movedim(x, 1, 0),
    ):
        assert_same(fn(mg, m), fn(torch, t))
    if dtype != "bool":
        assert_same(mg.trace(m), torch.trace(t))


@pytest.mark.parametrize("shape", [(2, 3), (4,), (), (2, 0)])
def test_where_with_one_argument(shape):
    values = [v % 3 for v in range(6)]
    n = 1
    for s in shape:
        n *= s
    t = torch.tensor(values[:n], dtype=torch.float32).reshape(shape)
    m = mg.tensor(values[:n], dtype=mg.float32).reshape(shape)
    got, expected = mg.where(m), torch.where(t)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_same(g, e)


def test_diagonal_is_a_view_and_diag_of_a_vector_is_not():
    x = mg.zeros(3, 3)
    x.diagonal().fill_(1.0)
    assert x.tolist() == torch.eye(3).tolist()
    v = mg.tensor([1.0, 2.0])
    d = mg.diag(v)
    d[0, 0] = 5.0
    assert v.tolist() == [1.0, 2.0]


GRADCHECK = {
    "einsum_bmm": ([(2, 3, 4), (2, 4, 2)], lambda a, b: mg.einsum("bij,bjk->bik", a, b)),
    "einsum_diag": ([(3, 3)], lambda a: mg.einsum("ii->i", a)),
    "diag_vector": ([(3,)], lambda a: mg.diag(a, 1)),
    "diagonal": ([(2, 3, 4)], lambda a: a.diagonal(1, 1, 2)),
    "roll": ([(3, 4)], lambda a: a.roll((1, -1), (0, 1))),
    "tile": ([(2, 3)], lambda a: a.tile(2, 2)),
    "take_along_dim": ([(3, 4)], lambda a: a.take_along_dim(mg.tensor([[1], [0], [3]]), 1)),
    "outer": ([(3,), (2,)], lambda a, b: mg.outer(a, b)),
    "tril": ([(3, 4)], lambda a: a.tril(1)),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    shapes, fn = GRADCHECK[name]
    inputs = []
    for k, shape in enumerate(shapes):
        n = 1
        for s in shape:
            n *= s
        values = [((i * 7919 + k) % 23) / 7.0 - 1.5 for i in range(n)]
        inputs.append(mg.tensor(values, dtype=mg.float64).reshape(shape).requires_grad_())
    assert gradcheck(fn, inputs)


ERRORS = {
    "dot_2d": (lambda lib: lib.dot(lib.ones(2, 2), lib.ones(2)), ["1D tensors expected, but got 2D and 1D tensors"]),
    "dot_dtypes": (
        lambda lib: lib.dot(lib.ones(2), lib.ones(2, dtype=lib.float64)),
        ["dot : expected both vectors to have same dtype, but found Float and Double"],
    ),
    "dot_lengths": (lambda lib: lib.dot(lib.ones(2), lib.ones(3)), ["inconsistent tensor size"]),
    "trace_1d": (lambda lib: lib.trace(lib.ones(3)), ["trace: expected a matrix, but got tensor with dim 1"]),
    "diagonal_same_dims": (
        lambda lib: lib.ones(2, 2).diagonal(0, 1, 1),
        ["diagonal dimensions cannot be identical 1, 1"],
    ),
    "diagonal_1d": (lambda lib: lib.ones(2).diagonal(), ["Dimension out of range"]),
    "tril_1d": (lambda lib: lib.tril(lib.ones(3)), ["tril: input tensor must have at least 2 dimensions"]),
    "roll_mismatch": (lambda lib: lib.roll(lib.ones(2, 2), (1, 1), 0), ["shifts and dimensions must align"]),
    "meshgrid_indexing": (
        lambda lib: lib.meshgrid(lib.ones(2), indexing="ab"),
        ['torch.meshgrid: indexing must be one of "xy" or "ij"'],
    ),
    "unflatten_sizes": (lambda lib: lib.ones(2, 6).unflatten(1, (4, 2)), ["unflatten: Provided sizes [4, 2]"]),
    "movedim_lengths": (
        lambda lib: lib.movedim(lib.ones(2, 3), (0, 1), (0,)),
        ["movedim: Invalid source or destination"],
    ),
    "take_along_dim_float_index": (
        lambda lib: lib.take_along_dim(lib.ones(2), lib.ones(2)),
        ["gather(): Expected dtype int32/int64 for index"],
    ),
    "einsum_too_many_operands": (
        lambda lib: lib.einsum("ij->i", lib.ones(2, 2), lib.ones(2)),
        ["more operands were provided than specified in the equation"],
    ),
    "einsum_unknown_output": (lambda lib: lib.einsum("ij->k", lib.ones(2, 2)), ["output subscript k does not appear"]),
    "einsum_repeated_output": (
        lambda lib: lib.einsum("ij->ii", lib.ones(2, 2)),
        ["appears more than once in the output"],
    ),
    "einsum_sizes": (
        lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(2, 2)),
        ["einsum(): subscript j has size 2 for operand 1 which does not broadcast with previously seen size 3"],
    ),
    "einsum_wrong_rank": (
        lambda lib: lib.einsum("ijk->i", lib.ones(2, 2)),
        ["einsum(): the number of subscripts in the equation (3) does not match the number of dimensions (2)"],
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    call, fragments = ERRORS[name]
    check_raises(lambda: call(torch), lambda: call(mg), *fragments)
