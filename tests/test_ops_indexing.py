"""Indexing against torch 2.13.0: advanced indexing (integer tensors and lists, bool masks),
``gather``, ``index_select`` and ``__setitem__`` in place (also through the graph)."""

import pytest
from conftest import check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

LAYOUTS = ["contiguous", "permuted", "strided"]


def _idx(values, dtype="int64"):
    """The same index as a torch and a minigrad tensor."""
    return torch.tensor(values, dtype=getattr(torch, dtype)), mg.tensor(values, dtype=getattr(mg, dtype))


I1 = _idx([2, 0, 2, -1])  # repeats and a negative index: gradients must add up
I2 = _idx([[0, 1], [2, 2]])
J1 = _idx([3, 1, 0, 2])
K2 = _idx([1, 0])  # for a dim of size 2
S0 = _idx(1)  # a 0-d index tensor
MASK = _idx([True, False, True], "bool")
MASK2 = _idx([[True, False, False, True], [False, False, True, True], [True, True, False, False]], "bool")

ADVANCED = {
    "tensor": lambda lib, i, x: x[i(I1)],
    "tensor_2d": lambda lib, i, x: x[i(I2)],
    "list": lambda lib, i, x: x[[0, 2, 2]],
    "nested_list": lambda lib, i, x: x[[[0, 1], [1, 2]]],
    "two_tensors": lambda lib, i, x: x[i(I1), i(J1)],
    "two_tensors_broadcast": lambda lib, i, x: x[i(I2)[:, :1], i(J1)[:2]],
    "tensor_then_slice": lambda lib, i, x: x[i(I1), 1:3],
    "slice_then_tensor": lambda lib, i, x: x[:, i(J1)],
    "ellipsis_then_tensor": lambda lib, i, x: x[..., i(K2)],
    "int_and_tensor": lambda lib, i, x: x[1, i(J1)],
    "separated_tensors": lambda lib, i, x: x[i(I1)[:2], :, i(K2)],
    "separated_by_int": lambda lib, i, x: x[i(I1)[:2], 1, i(K2)],
    "int_separates_slice_and_tensor": lambda lib, i, x: x[1, :, i(K2)],
    "bool_true": lambda lib, i, x: x[True],
    "bool_false": lambda lib, i, x: x[False, 1:],
    "bool_0d_tensor": lambda lib, i, x: x[i(_idx(True, "bool")), :, 1],
    "none_and_tensor": lambda lib, i, x: x[None, i(I1)],
    "scalar_tensors": lambda lib, i, x: x[i(S0), i(S0)],
    "scalar_tensor_and_slice": lambda lib, i, x: x[i(S0), 1:],
    "mask": lambda lib, i, x: x[i(MASK)],
    "mask_2d": lambda lib, i, x: x[i(MASK2)],
    "mask_then_slice": lambda lib, i, x: x[i(MASK), ::2],
    "slice_then_mask": lambda lib, i, x: x[:, i(MASK2)[0]],
    "comparison_mask": lambda lib, i, x: x[x > 0],
    "empty_list": lambda lib, i, x: x[[]],
}


def _run(name, lib):
    pick = (lambda pair: pair[0]) if lib is torch else (lambda pair: pair[1])
    return lambda x: ADVANCED[name](lib, pick, x)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence for multidimensional indexing")
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(ADVANCED))
def test_advanced_indexing(name, layout):
    shape = (3, 4) if name in ("mask_2d", "slice_then_mask", "mask_then_slice") else (3, 4, 2)
    check_op([shape], _run(name, torch), _run(name, mg), layout=layout)


def test_a_list_of_lists_is_a_tuple_of_indices_with_torchs_warning():
    t, m = torch.arange(12.0).reshape(3, 4), mg.arange(12.0).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        expected = t[[[0, 2], [1, 3]]]
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        got = m[[[0, 2], [1, 3]]]
    assert got.tolist() == expected.tolist() == [1.0, 11.0]


def test_index_with_python_ints_in_tensor_is_a_view_like_torch():
    t, m = torch.arange(12.0).reshape(3, 4), mg.arange(12.0).reshape(3, 4)
    t_i, m_i = torch.tensor(1), mg.tensor(1)
    assert m[m_i]._storage is m._storage
    assert m[m_i].tolist() == t[t_i].tolist()
    assert m[m_i, 2].item() == t[t_i, 2].item()


def test_result_of_advanced_indexing_is_a_copy():
    t, m = torch.zeros(3), mg.zeros(3)
    t[[0, 1]].add_(1)
    m[[0, 1]].add_(1)
    assert m.tolist() == t.tolist() == [0.0, 0.0, 0.0]


# -- gather and index_select --------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gather(layout):
    idx0 = _idx([[2, 0, 1, 1], [0, 0, 2, 1]])
    idx1 = _idx([[3, 0], [1, 1], [0, 2]])
    idx_neg = _idx([[-1, 0], [1, -4], [0, 2]])
    check_op([(3, 4)], lambda x: x.gather(0, idx0[0]), lambda x: x.gather(0, idx0[1]), layout=layout)
    check_op([(3, 4)], lambda x: x.gather(1, idx1[0]), lambda x: x.gather(1, idx1[1]), layout=layout)
    check_op([(3, 4)], lambda x: torch.gather(x, -1, idx1[0]), lambda x: mg.gather(x, -1, idx1[1]))
    check_op([(3, 4)], lambda x: x.gather(1, idx1[0][:2]), lambda x: x.gather(1, idx1[1][:2]))
    t_neg, m_neg = idx_neg
    check_raises(lambda: torch.ones(3, 4).gather(1, t_neg), lambda: mg.ones(3, 4).gather(1, m_neg), "out of bounds")


def test_gather_3d_and_0d():
    idx = _idx([[[1], [0]], [[0], [0]]])
    check_op([(2, 2, 3)], lambda x: x.gather(2, idx[0]), lambda x: x.gather(2, idx[1]))
    check_op([(2, 2, 3)], lambda x: x.gather(1, idx[0]), lambda x: x.gather(1, idx[1]))
    i0 = _idx(0)
    check_op([()], lambda x: x.gather(0, i0[0]), lambda x: x.gather(0, i0[1]))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_select(layout):
    rows = _idx([2, 0, 2, 1])
    check_op([(3, 4)], lambda x: x.index_select(0, rows[0]), lambda x: x.index_select(0, rows[1]), layout=layout)
    check_op([(3, 4)], lambda x: torch.index_select(x, 1, J1[0]), lambda x: mg.index_select(x, 1, J1[1]))
    check_op([(3, 4)], lambda x: x.index_select(-1, S0[0]), lambda x: x.index_select(-1, S0[1]))
    empty = _idx([])
    check_op([(3, 4)], lambda x: x.index_select(0, empty[0].long()), lambda x: x.index_select(0, empty[1].long()))
    check_op([()], lambda x: x.index_select(0, S0[0] * 0), lambda x: x.index_select(0, S0[1] * 0))
    # a middle dim: rows of the last dim copied for every position of the first (repeats add up in backward)
    middle = _idx([2, 0, 2])
    check_op([(2, 3, 4)], lambda x: x.index_select(1, middle[0]), lambda x: x.index_select(1, middle[1]), layout=layout)
    check_op([(2, 3, 0)], lambda x: x.index_select(1, middle[0]), lambda x: x.index_select(1, middle[1]))


# -- __setitem__ -----------------------------------------------------------------------------------------


SETITEM = {
    "int_scalar": lambda i, x, v: x.__setitem__(1, 5.0),
    "slice_tensor": lambda i, x, v: x.__setitem__((slice(None), slice(1, 3)), v[:, :2]),
    "slice_broadcast": lambda i, x, v: x.__setitem__(slice(0, 2), v[0]),
    "leading_ones": lambda i, x, v: x.__setitem__(0, v[:1, None]),
    "tensor_index_scalar": lambda i, x, v: x.__setitem__(i(I1), -1.0),
    "tensor_index_tensor": lambda i, x, v: x.__setitem__(i(_UNIQUE), v[:2]),
    "tensor_index_leading_ones": lambda i, x, v: x.__setitem__(i(_UNIQUE), v[None, 1:2, :]),
    "two_tensors": lambda i, x, v: x.__setitem__((i(_UNIQUE), i(_COLS)), v[0, 0]),
    "mask": lambda i, x, v: x.__setitem__(i(MASK), 0.0),
    "mask_tensor": lambda i, x, v: x.__setitem__(i(MASK), v[:2]),
    "ellipsis": lambda i, x, v: x.__setitem__(Ellipsis, v[0]),
    "none": lambda i, x, v: x.__setitem__((None, 0), v[0]),
    "scalar_tensor_value": lambda i, x, v: x.__setitem__((0, 1), v[0, 0]),
}
_UNIQUE = _idx([2, 0])
_COLS = _idx([1, 3])


def _setitem_case(name, lib, through_graph):
    pick = (lambda pair: pair[0]) if lib is torch else (lambda pair: pair[1])

    def run(x, v):
        y = x * 1.0 if through_graph else x.detach().clone()  # a non-leaf, or a plain copy
        SETITEM[name](pick, y, v if through_graph else v.detach())
        return y

    return run


@pytest.mark.parametrize("through_graph", [True, False])
@pytest.mark.parametrize("name", sorted(SETITEM))
def test_setitem(name, through_graph):
    check_op([(3, 4), (3, 4)], _setitem_case(name, torch, through_graph), _setitem_case(name, mg, through_graph))


def test_setitem_on_a_view_writes_the_base_and_bumps_the_version():
    t, m = torch.zeros(3, 4), mg.zeros(3, 4)
    t_view, m_view = t.t()[1:], m.t()[1:]
    version = m._version
    t_view[0] = 1.0
    m_view[0] = 1.0
    t_view[[1, 2], [0, 2]] = torch.tensor([2.0, 3.0])
    m_view[[1, 2], [0, 2]] = mg.tensor([2.0, 3.0])
    t[t > 2] = 7.0
    m[m > 2] = 7.0
    assert m.tolist() == t.tolist()
    assert m._version == version + 3


def test_setitem_converts_the_value_dtype():
    t, m = torch.zeros(3, dtype=torch.int64), mg.zeros(3, dtype=mg.int64)
    t[0], m[0] = 2.7, 2.7
    t[1:] = torch.tensor([1.5, -1.5])
    m[1:] = mg.tensor([1.5, -1.5])
    assert m.tolist() == t.tolist()


def test_setitem_graph_through_a_view_of_a_non_leaf():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True)
        y = x * 2
        y[:, 0] = v * 3
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        return y, x.grad, v.grad

    for m, t in zip(run(mg), run(torch)):
        assert m.tolist() == t.tolist()


def test_setitem_on_a_view_with_history_rewrites_the_viewed_tensors_history():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 2
        y[0][1] = 5.0
        (y * y).sum().backward()
        return y, x.grad

    for m, t in zip(run(mg), run(torch)):
        assert m.tolist() == t.tolist()
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    check_raises(
        lambda: t[0].__setitem__(1, 5.0),
        lambda: x[0].__setitem__(1, 5.0),
        "a view of a leaf Variable that requires grad is being used in an in-place operation.",
        exact=True,
    )


def test_setitem_on_leaf_requiring_grad_raises():
    t, m = torch.zeros(3, requires_grad=True), mg.zeros(3, requires_grad=True)
    check_raises(lambda: t.__setitem__(0, 1.0), lambda: m.__setitem__(0, 1.0), "a leaf Variable that requires grad")
    with torch.no_grad():
        t[0] = 1.0
    with mg.no_grad():
        m[0] = 1.0
    assert m.tolist() == t.tolist()


def test_saved_tensor_modified_by_setitem_is_detected():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.exp()  # saves its output
        z[0] = 0.0
        z.sum().backward()

    check_raises(lambda: run(torch), lambda: run(mg), "modified by an inplace operation")


# -- bad input -----------------------------------------------------------------------------------------

INDEX_ERRORS = {
    "int out of range": (lambda i, x: x[3], "index 3 is out of bounds for dimension 0 with size 3"),
    "negative int out of range": (lambda i, x: x[-4], "index -4 is out of bounds for dimension 0 with size 3"),
    "int on a 0-dim tensor": (lambda i, x: x[0, 0][0], "invalid index of a 0-dim tensor"),
    "tensor out of range": (lambda i, x: x[i(_idx([0, 3]))], "index 3 is out of bounds for dimension 0 with size 3"),
    "negative out of range": (lambda i, x: x[i(_idx([-4]))], "index -4 is out of bounds for dimension 0 with size 3"),
    "list out of range": (lambda i, x: x[:, [5]], "index 5 is out of bounds for dimension 0 with size 4"),
    "second tensor out of range": (lambda i, x: x[[0], [5]], "index 5 is out of bounds for dimension 1 with size 4"),
    "mask shape later dim": (lambda i, x: x[:, i(MASK)], "The shape of the mask [3] at index 0 does not match"),
    "float index tensor": (lambda i, x: x[i(_idx([0.0], "float32"))], "tensors used as indices must be long"),
    "mask shape": (
        lambda i, x: x[i(_idx([True, False], "bool"))],
        "The shape of the mask [2] at index 0 does not match",
    ),
    "too many": (lambda i, x: x[i(I1), i(J1), 0, 0], "too many indices for tensor of dimension 2"),
    "shape mismatch": (lambda i, x: x[i(I1), i(I2)], "shape mismatch: indexing tensors could not be broadcast"),
    "float": (lambda i, x: x[1.5], "only integers, slices"),
    "index_select float": (lambda i, x: x.index_select(0, i(_idx([0.0], "float32"))), "index_select(): Expected dtype"),
    "index_select range": (lambda i, x: x.index_select(1, i(_idx([4]))), "INDICES element is out of DATA bounds"),
    "index_select 2d": (lambda i, x: x.index_select(0, i(I2)), "index_select(): Index is supposed to be a vector"),
    "gather float": (lambda i, x: x.gather(0, i(_idx([[0.0]], "float32"))), "gather(): Expected dtype int32/int64"),
    "gather negative": (lambda i, x: x.gather(1, i(_idx([[-1]]))), "index -1 is out of bounds for dimension 1"),
    "index_select negative": (lambda i, x: x.index_select(0, i(_idx([-1]))), "index out of range in self"),
    "index_select range 0": (lambda i, x: x.index_select(0, i(_idx([3]))), "index out of range in self"),
    "index_select noncontiguous": (lambda i, x: x.t().index_select(1, i(_idx([3]))), "INDICES element is out of"),
    "gather dims": (lambda i, x: x.gather(0, i(I1)), "Index tensor must have the same number of dimensions"),
    "gather range": (lambda i, x: x.gather(1, i(_idx([[4]]))), "index 4 is out of bounds for dimension 1 with size 4"),
    "gather size": (lambda i, x: x.gather(0, i(_idx([[0] * 5]))), "Size does not match at dimension 1"),
}


@pytest.mark.parametrize("name", sorted(INDEX_ERRORS))
def test_index_errors(name):
    fn, fragment = INDEX_ERRORS[name]
    check_raises(
        lambda: fn(lambda pair: pair[0], torch.ones(3, 4)), lambda: fn(lambda pair: pair[1], mg.ones(3, 4)), fragment
    )


def test_setitem_errors():
    t, m = torch.zeros(3, 4), mg.zeros(3, 4)
    check_raises(
        lambda: t.__setitem__(slice(None), torch.ones(2)),
        lambda: m.__setitem__(slice(None), mg.ones(2)),
        "The expanded size of the tensor (4) must match the existing size (2)",
        exact=True,
    )
    check_raises(
        lambda: t.__setitem__([0, 1], torch.ones(3, 4)),
        lambda: m.__setitem__([0, 1], mg.ones(3, 4)),
        "shape mismatch: value tensor of shape [3, 4] cannot be broadcast to indexing result of shape [2, 4]",
        exact=True,
    )
    check_raises(
        lambda: t.__setitem__(0, torch.ones(2, 4)),
        lambda: m.__setitem__(0, mg.ones(2, 4)),
        "the number of sizes provided (1) must be greater or equal to the number of dimensions in the tensor (2)",
    )
    check_raises(lambda: t.__setitem__(5, 1.0), lambda: m.__setitem__(5, 1.0), "index 5 is out of bounds")


@pytest.mark.parametrize("i", [0, 2, -1, -3])
def test_int_index(i):
    check_op([(3, 4)], lambda x: x[i])
    check_op([(3,)], lambda x: x[i])
