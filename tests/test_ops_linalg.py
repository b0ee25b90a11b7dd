"""Matrix products against torch 2.13.0: matmul / @ in every rank combination, mm, bmm."""

import random
from array import array

import pytest
from conftest import check_op, check_raises, cython_core, torch_sums_as_ours

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]

MATMUL_SHAPES = [
    ((4,), (4,)),  # dot
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4, 5)),  # vector @ matrix
    ((3, 4), (4, 5)),  # mm
    ((2, 3, 4), (2, 4, 5)),  # bmm
    ((2, 3, 4), (4, 5)),  # batch @ matrix
    ((4,), (2, 4, 5)),  # vector @ batch
    ((2, 3, 4), (4,)),  # batch @ vector
    ((3, 4), (2, 4, 5)),  # matrix @ batch
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims
    ((1, 3, 4), (2, 4, 2)),
    ((1, 4), (4, 1)),
    ((40, 30), (30, 2)),  # few columns: the second factor's gradient runs as (dC^T A)^T
    ((3, 0), (0, 2)),  # empty inner dimension: zeros
    ((0, 4), (4, 2)),
    ((2, 0, 3), (3, 4)),
    ((2, 3, 0), (0,)),
    ((0, 3, 4), (4, 2)),
    ((3,), (0, 3, 2)),
    ((2, 3), (1, 3, 0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, layout, dtype):
    check_op(list(shapes), lambda x, y: x @ y, layout=layout, dtype=dtype)


def test_matmul_spellings():
    check_op([(3, 4), (4, 2)], lambda x, y: x.matmul(y))
    check_op([(3, 4), (4, 2)], lambda x, y: torch.matmul(x, y), lambda x, y: mg.matmul(x, y))
    check_op([(3, 4), (4, 2)], lambda x, y: x.mm(y))
    check_op([(3, 4), (4, 2)], lambda x, y: torch.mm(x, y), lambda x, y: mg.mm(x, y))
    check_op([(2, 3, 4), (2, 4, 2)], lambda x, y: x.bmm(y))
    check_op([(2, 3, 4), (2, 4, 2)], lambda x, y: torch.bmm(x, y), lambda x, y: mg.bmm(x, y))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mm_and_bmm_layouts(layout):
    check_op([(3, 4), (4, 2)], lambda x, y: x.mm(y), layout=layout)
    check_op([(2, 3, 4), (2, 4, 2)], lambda x, y: x.bmm(y), layout=layout)


def test_matmul_with_a_transposed_and_expanded_operand():
    check_op([(4, 3), (4, 2)], lambda x, y: x.t() @ y)
    check_op([(1, 4), (4, 2)], lambda x, y: x.expand(3, 4) @ y)
    check_op([(3, 4), (4, 1)], lambda x, y: x @ y.expand(4, 5))


def test_only_one_operand_requires_grad():
    w = [[0.5, -1.0], [2.0, 0.25], [1.5, 1.0]]
    t_w, m_w = torch.tensor(w), mg.tensor(w)
    check_op([(2, 3)], lambda x: x @ t_w, lambda x: x @ m_w)
    check_op([(2, 2)], lambda x: t_w @ x, lambda x: m_w @ x)


def test_matmul_of_int_tensors():
    a, b = [[1, 2], [3, 4]], [[5, -6], [7, 8]]
    check_op([], lambda: torch.tensor(a) @ torch.tensor(b), lambda: mg.tensor(a) @ mg.tensor(b), grad=False)


def test_large_values():
    check_op(
        [(2, 2), (2, 2)], lambda x, y: x @ y, values=[[1e20, 1e20, -1e20, 3.0], [1e20, 1.0, 1e20, 2.0]], grad=False
    )


# -- bad input ---------------------------------------------------------------------------------------


def _pair(*shape, dtype=None):
    return torch.ones(*shape, dtype=dtype and getattr(torch, dtype)), mg.ones(
        *shape, dtype=dtype and getattr(mg, dtype)
    )


def test_mm_shape_mismatch():
    (ta, ma), (tb, mb) = _pair(2, 3), _pair(4, 5)
    check_raises(
        lambda: ta @ tb, lambda: ma @ mb, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)", exact=True
    )
    check_raises(lambda: ta.mm(tb), lambda: ma.mm(mb), exact=True)


def test_mm_needs_matrices():
    (ta, ma), (tb, mb) = _pair(2, 3), _pair(3)
    check_raises(lambda: ta.mm(tb), lambda: ma.mm(mb), "mat2 must be a matrix", exact=True)
    check_raises(lambda: tb.mm(ta), lambda: mb.mm(ma), "self must be a matrix", exact=True)


def test_bmm_errors():
    (ta, ma), (tb, mb), (tc, mc) = _pair(2, 3, 4), _pair(3, 4, 5), _pair(2, 5, 5)
    check_raises(lambda: ta.bmm(tb), lambda: ma.bmm(mb), "Expected size for first two dimensions of batch2 tensor")
    check_raises(lambda: ta.bmm(tc), lambda: ma.bmm(mc), "[2, 4] but got: [2, 5]")
    (td, md) = _pair(3, 4)
    check_raises(lambda: ta.bmm(td), lambda: ma.bmm(md), "batch2 must be a 3D tensor", exact=True)
    check_raises(lambda: td.bmm(ta), lambda: md.bmm(ma), "batch1 must be a 3D tensor", exact=True)


def test_matmul_errors():
    (ta, ma), (tb, mb) = _pair(3), _pair(4)
    check_raises(lambda: ta @ tb, lambda: ma @ mb, "inconsistent tensor size", "[3]", "[4]")
    (tc, mc), (td, md) = _pair(2, 3, 4), _pair(2, 5, 6)
    check_raises(lambda: tc @ td, lambda: mc @ md, "Expected size for first two dimensions of batch2 tensor")
    (te, me) = _pair(3, 4, 5)
    (tf, mf) = _pair(2, 5, 6)
    check_raises(lambda: te @ tf, lambda: me @ mf, "must match the size of tensor b (2) at non-singleton dimension 0")
    (tg, mg_) = torch.tensor(1.0), mg.tensor(1.0)
    check_raises(lambda: tg @ ta, lambda: mg_ @ ma, "both arguments to matmul need to be at least 1D", exact=True)
    (th, mh) = _pair(3, 2)
    check_raises(lambda: th @ tb, lambda: mh @ mb, "size mismatch, got input (3), mat (3x2), vec (4)", exact=True)


def test_matmul_dtype_mismatch():
    (ta, ma), (tb, mb) = _pair(2, 2), _pair(2, 2, dtype="float64")
    check_raises(lambda: ta @ tb, lambda: ma @ mb, "expected m1 and m2 to have the same dtype", exact=True)
    check_raises(lambda: ta.mm(tb), lambda: ma.mm(mb), exact=True)


MISMATCHES = [
    ((2, 3), (4,)),
    ((3,), (4, 2)),
    ((2, 3, 4), (5,)),
    ((2, 3, 4), (5, 2)),
    ((5,), (2, 3, 4)),
    ((3, 4), (2, 5, 6)),
    ((2, 2, 3), (3, 2, 1)),
    ((2, 3, 4), (2, 5, 6)),
]


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("shapes", MISMATCHES, ids=str)
def test_matmul_mismatch_messages(shapes, layout, requires_grad):
    """torch folds batch dims into one mm only for some layouts; the message tells which path ran."""

    def operands(lib):
        a, b = lib.ones(*shapes[0]), lib.ones(*shapes[1], requires_grad=requires_grad)
        if layout == "transposed" and a.dim() >= 3:
            a = lib.ones(a.shape[1], a.shape[0], *a.shape[2:]).transpose(0, 1)
        return a, b

    check_raises(lambda: operands(torch)[0] @ operands(torch)[1], lambda: operands(mg)[0] @ operands(mg)[1], exact=True)


DTYPE_MISMATCHES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 2)),
    ((2, 2, 3), (3,)),
    ((3,), (2, 3, 2)),
    ((2, 2, 3), (2, 3, 2)),
]


@pytest.mark.parametrize("shapes", DTYPE_MISMATCHES, ids=str)
def test_matmul_dtype_mismatch_messages(shapes):
    a, b = shapes
    check_raises(
        lambda: torch.ones(*a) @ torch.ones(*b, dtype=torch.float64),
        lambda: mg.ones(*a) @ mg.ones(*b, dtype=mg.float64),
        exact=True,
    )
    check_raises(
        lambda: torch.ones(*a, dtype=torch.int64) @ torch.ones(*b),
        lambda: mg.ones(*a, dtype=mg.int64) @ mg.ones(*b),
        exact=True,
    )


def test_folded_and_batched_paths_agree_on_gradients():
    # a 3-D @ 2-D product is folded into one mm when the matrix requires grad; check both paths
    check_op([(2, 3, 4), (4, 5)], lambda x, y: x @ y.detach())
    check_op([(2, 3, 4), (4, 5)], lambda x, y: x.detach() @ y)
    check_op([(3, 4), (2, 4, 5)], lambda x, y: x @ y.detach())
    check_op([(3, 4), (2, 4, 5)], lambda x, y: x.detach() @ y)
    check_op([(4,), (2, 4, 5)], lambda x, y: x @ y, layout="permuted")


# -- addmm (nn.Linear's one node) ----------------------------------------------------------------------

ADDMM_INPUT_SHAPES = [(), (5,), (1, 5), (3, 1), (3, 5)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("input_shape", ADDMM_INPUT_SHAPES, ids=str)
def test_addmm(input_shape, dtype):
    check_op([input_shape, (3, 4), (4, 5)], lambda c, a, b: torch.addmm(c, a, b), lambda c, a, b: mg.addmm(c, a, b),
             dtype=dtype)  # fmt: skip
    check_op([input_shape, (3, 4), (4, 5)], lambda c, a, b: c.addmm(a, b), dtype=dtype)


@pytest.mark.parametrize(("beta", "alpha"), [(0.5, 2.0), (1, -1.5), (0, 1), (2, 0)])
def test_addmm_scaled(beta, alpha):
    check_op(
        [(5,), (3, 4), (4, 5)],
        lambda c, a, b: torch.addmm(c, a, b, beta=beta, alpha=alpha),
        lambda c, a, b: mg.addmm(c, a, b, beta=beta, alpha=alpha),
    )


def test_addmm_with_beta_zero_ignores_nan_in_input():
    nan_input = [float("nan")] * 5
    check_op(
        [(5,), (3, 4), (4, 5)],
        lambda c, a, b: torch.addmm(c, a, b, beta=0),
        lambda c, a, b: mg.addmm(c, a, b, beta=0),
        values=[nan_input, [0.5] * 12, [0.25] * 20],
    )


def test_linear_is_one_addmm_with_the_values_of_matmul_plus_bias():
    """nn.Linear on a batch of rows is addmm(bias, x, W.t()) (torch's graph), and gives bit for bit
    what the composition x @ W.t() + b gives (the product rounded once, then the bias added)."""
    mg.manual_seed(0)
    x, w, b = mg.randn(4, 3, requires_grad=True), mg.randn(5, 3, requires_grad=True), mg.randn(5, requires_grad=True)
    fused = mg.nn.functional.linear(x, w, b)
    assert fused.grad_fn.name() == "AddmmBackward"
    bias_edge, x_edge, weight_edge = fused.grad_fn.next_functions[:3]
    assert bias_edge[0].variable is b and x_edge[0].variable is x
    assert weight_edge[0].next_functions[0][0].variable is w  # through the transpose
    weights = mg.randn(4, 5)
    (fused * weights).sum().backward()
    grads = [t.grad.tolist() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    composed = x @ w.t() + b
    (composed * weights).sum().backward()
    assert fused.tolist() == composed.tolist()
    assert grads == [t.grad.tolist() for t in (x, w, b)]


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_second_factor_gradient_is_a_transposed_times_dc_bit_for_bit(dtype):
    """dB = A^T @ dC for mm, addmm and nn.Linear's weight, with few columns too, where it runs as
    (dC^T @ A)^T: the same products summed in the same order, so exactly the values of the
    product A^T @ dC made forward from a row-major copy of A^T."""
    mg.manual_seed(3)
    a, dc = mg.randn(40, 30, dtype=dtype), mg.randn(40, 2, dtype=dtype)
    expected = (a.t().contiguous() @ dc).tolist()
    for product in (mg.mm, lambda x, y: mg.addmm(mg.zeros(2, dtype=dtype), x, y)):
        b = mg.randn(30, 2, dtype=dtype, requires_grad=True)
        product(a, b).backward(dc)
        assert b.grad.tolist() == expected
    w = mg.randn(2, 30, dtype=dtype, requires_grad=True)
    mg.nn.functional.linear(a, w).backward(dc)
    assert w.grad.t().tolist() == expected


def test_addmm_errors():
    (tc, mc), (ta, ma), (tb, mb) = _pair(5), _pair(3, 4), _pair(4, 5)
    (tv, mv) = _pair(4)
    check_raises(lambda: torch.addmm(tc, tv, tb), lambda: mg.addmm(mc, mv, mb), exact=True)
    check_raises(lambda: torch.addmm(tc, ta, tv), lambda: mg.addmm(mc, ma, mv), exact=True)
    check_raises(lambda: torch.addmm(tc, ta, ta), lambda: mg.addmm(mc, ma, ma), exact=True)
    (t3, m3) = _pair(3)
    check_raises(lambda: torch.addmm(t3, ta, tb), lambda: mg.addmm(m3, ma, mb), "The expanded size of the tensor (5)")
    (td, md) = _pair(4, 5, dtype="float64")
    check_raises(lambda: torch.addmm(tc, ta, td), lambda: mg.addmm(mc, ma, md), exact=True)


# -- float32 products summed as torch's (the Cython core) -----------------------------------------

compiled = cython_core()

TORCH_SUM_SHAPES = [(12, 100, 12), (200, 300, 17), (16, 500, 40), (33, 64, 100), (130, 1100, 13), (12, 385, 12),
                    (20, 769, 16), (130, 200, 1100), (16, 520, 2100)]  # fmt: skip
"""(m, k, n) of at least 12 rows and columns: one run of k (<= 192), two halves (193..384; on the
Intel runs one run up to 384, then two halves up to 768), and several runs across the Cython
product's pieces of k and rows; 1100 columns, more than 512 KiB of a piece's 128 rows, which the
blocked product then takes in blocks of 112 rows (and 16); and runs of b larger than L2 as the
product assumes it (on the Intel two runs of 260 x 2112 floats, > 2 MiB), whose first row tile
prefetches them (MG_AHEAD)."""


def _random_floats(rng: random.Random, n: int) -> list:
    return [rng.uniform(-1, 1) for _ in range(n)]


@pytest.mark.skipif(compiled is None, reason="the Cython core is not built")
@pytest.mark.parametrize("m, k, n", TORCH_SUM_SHAPES)
def test_cython_float32_products_are_torchs_bit_for_bit(m, k, n):
    """The Cython float32 matmul of at least 12 rows and columns sums as torch 2.13's CPU sgemm
    (MKL's, measured on an AMD EPYC and an Intel Xeon): torch's bits whichever of its factors
    torch sees transposed, except where ``torch_sums_as_ours`` says MKL takes another kernel.
    There, and without fused multiply-adds (MINIGRAD_PORTABLE_BUILD on x86-64), where each
    product is rounded, the sums must be within the float32 bound of a k-term sum,
    k 2^-24 sum |a b|, instead."""
    rng = random.Random(f"{m}-{k}-{n}")
    a, b = _random_floats(rng, m * k), _random_floats(rng, k * n)
    out = array("f", bytes(4 * m * n))
    compiled.matmul(array("f", a), array("f", b), 1, m, k, n, out)
    ours = torch.tensor(out.tolist()).reshape(m, n)
    ta, tb = torch.tensor(a).reshape(m, k), torch.tensor(b).reshape(k, n)
    torch.set_num_threads(1)
    for a_t, b_t, b_transposed in [
        (ta, tb, False),
        (ta.t().contiguous().t(), tb, False),
        (ta, tb.t().contiguous().t(), True),
        (ta.t().contiguous().t(), tb.t().contiguous().t(), True),
    ]:
        expected = a_t @ b_t
        if compiled._HAS_FMA and torch_sums_as_ours(m, k, b_transposed):
            assert torch.equal(ours, expected), f"{(ours != expected).sum().item()} of {m * n} sums differ"
        else:
            bound = k * 2.0**-24 * (ta.double().abs() @ tb.double().abs())
            assert ((ours.double() - expected.double()).abs() <= bound).all()


@pytest.mark.skipif(
    mg.backend != "cython" or compiled is None or not compiled._HAS_FMA,
    reason="torch's float32 sums are the Cython core's (with fused multiply-adds)",
)
def test_linear_layer_and_its_gradients_are_torchs_bit_for_bit():
    """nn.Linear's product, bias (added after one run of k <= 192 terms, as torch adds it) and
    the gradients of its input and weight: the EWT tagger's character filters, on fewer rows.
    (The bias gradient is a sum over the rows, which torch orders otherwise: not compared.)"""
    rng = random.Random(3)
    rows, features, out = 500, 72, 32
    x, w, b, g = (_random_floats(rng, n) for n in (rows * features, out * features, out, rows * out))
    results = []
    for lib in (mg, torch):
        xt = lib.tensor(x).reshape(rows, features).requires_grad_()
        wt, bt = lib.tensor(w).reshape(out, features).requires_grad_(), lib.tensor(b).requires_grad_()
        y = lib.nn.functional.linear(xt, wt, bt)
        y.backward(lib.tensor(g).reshape(rows, out))
        results.append([t.detach().reshape(-1).tolist() for t in (y, xt.grad, wt.grad)])
    for name, ours, theirs in zip(("output", "grad x", "grad w"), *results):
        assert ours == theirs, f"{name}: {sum(p != q for p, q in zip(ours, theirs))} of {len(ours)} differ"
