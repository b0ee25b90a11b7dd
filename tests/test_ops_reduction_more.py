"""More reductions against torch 2.13.0: prod, var/std, norms, cumsum/cumprod, amax/amin,
all/any, count_nonzero, median, mode, unique, bincount; values and gradients, three layouts,
and torch's errors."""

import math
import random

import pytest
from conftest import assert_same, check_op, check_raises

import minigrad as mg
from minigrad.autograd import gradcheck

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]
INF = float("inf")

REDUCTIONS = {
    "prod": lambda x: x.prod(),
    "prod1": lambda x: x.prod(1),
    "prod_keep": lambda x: x.prod(-1, keepdim=True),
    "var": lambda x: x.var(),
    "var_dims": lambda x: x.var((0, 2)),
    "var_correction0": lambda x: x.var(1, correction=0),
    "var_unbiased_false_keep": lambda x: x.var(-1, False, True),
    "var_correction2": lambda x: x.var(dim=(1, 2), correction=2, keepdim=True),
    "std": lambda x: x.std(),
    "std_dim": lambda x: x.std(0),
    "std_unbiased_false": lambda x: x.std(False),
    "std_keep": lambda x: x.std([0, 1], keepdim=True),
    "norm": lambda x: x.norm(),
    "norm_p1_dim": lambda x: x.norm(1, dim=1),
    "norm_p3": lambda x: x.norm(3, dim=(0, 2), keepdim=True),
    "norm_inf": lambda x: x.norm(INF, dim=-1),
    "norm_fro_dims": lambda x: x.norm("fro", dim=(1, 2)),
    "cumsum0": lambda x: x.cumsum(0),
    "cumsum-1": lambda x: x.cumsum(-1),
    "cumprod1": lambda x: x.cumprod(1),
    "cumprod-1": lambda x: x.cumprod(dim=-1),
    "amax": lambda x: x.amax(),
    "amax_dim": lambda x: x.amax(1),
    "amax_dims_keep": lambda x: x.amax((0, 2), keepdim=True),
    "amin_dim": lambda x: x.amin(-1),
    "logsumexp_dims": lambda x: x.logsumexp((0, 2)),
    "logsumexp_dims_keep": lambda x: x.logsumexp((-1, 1), keepdim=True),
    "median_dim": lambda x: x.median(1),
    "median_dim_keep": lambda x: x.median(-1, keepdim=True),
    "mode_dim": lambda x: x.mode(0),
    "aminmax": lambda x: tuple(x.aminmax(dim=1)),
    "sum_dtype": lambda x: x.sum(1, dtype=x.dtype),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, layout, dtype):
    check_op([(3, 4, 2)], REDUCTIONS[name], layout=layout, dtype=dtype)


FUNCTIONAL = {
    "prod": lambda lib, x: lib.prod(x, 0, dtype=lib.float64),
    "var": lambda lib, x: lib.var(x, 1, keepdim=True),
    "std": lambda lib, x: lib.std(x, dim=0, correction=0),
    "var_mean": lambda lib, x: lib.var_mean(x, 1),
    "std_mean": lambda lib, x: lib.std_mean(x, dim=(0, 1), unbiased=False),
    "norm": lambda lib, x: lib.norm(x, p=2, dim=1),
    "cumsum": lambda lib, x: lib.cumsum(x, dim=1),
    "cumsum_dtype": lambda lib, x: lib.cumsum(x, 0, dtype=lib.float64),
    "cumprod": lambda lib, x: lib.cumprod(x, 0),
    "amax": lambda lib, x: lib.amax(x, dim=0),
    "amin": lambda lib, x: lib.amin(x, (0, 1)),
    "aminmax": lambda lib, x: tuple(lib.aminmax(x)),
    "median": lambda lib, x: lib.median(x),
    "median_dim": lambda lib, x: tuple(lib.median(x, 0)),
    "logsumexp": lambda lib, x: lib.logsumexp(x, [0, 1]),
    "vector_norm": lambda lib, x: lib.linalg.vector_norm(x),
    "vector_norm_inf": lambda lib, x: lib.linalg.vector_norm(x, ord=INF, dim=1),
    "vector_norm_-inf": lambda lib, x: lib.linalg.vector_norm(x, -INF, 0, True),
    "vector_norm_0": lambda lib, x: lib.linalg.vector_norm(x, 0, dim=1),
    "vector_norm_1.5": lambda lib, x: lib.linalg.vector_norm(x, 1.5),
    "linalg_norm": lambda lib, x: lib.linalg.norm(x),
    "linalg_norm_dim": lambda lib, x: lib.linalg.norm(x, dim=1),
    "linalg_norm_fro": lambda lib, x: lib.linalg.norm(x, "fro"),
    "linalg_norm_ord1": lambda lib, x: lib.linalg.norm(x, 1),
    "linalg_norm_ord_inf": lambda lib, x: lib.linalg.norm(x, INF),
    "linalg_norm_ord_-1": lambda lib, x: lib.linalg.norm(x, -1),
    "linalg_norm_ord2_vector": lambda lib, x: lib.linalg.norm(x, 3, dim=0),
    "matrix_norm": lambda lib, x: lib.linalg.matrix_norm(x),
    "matrix_norm_-inf": lambda lib, x: lib.linalg.matrix_norm(x, -INF, keepdim=True),
    "mean_dtype": lambda lib, x: lib.mean(x, 0, dtype=lib.float64),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional(name, dtype):
    fn = FUNCTIONAL[name]
    check_op([(3, 4)], lambda x: fn(torch, x), lambda x: fn(mg, x), dtype=dtype, layout="permuted")


# -- gradients at the special points: zeros in prod/cumprod, ties in amax and median, norm at 0 --

SPECIAL = {
    "prod_one_zero": ([[1.5, 0.0, 2.0, -1.0]], lambda x: x.prod()),
    "prod_two_zeros": ([[0.0, 3.0, 0.0, 2.0]], lambda x: x.prod()),
    "prod_dim_zeros": ([[0.0, 3.0, 1.0, 2.0]], lambda x: x.reshape(2, 2).prod(1)),
    "cumprod_zero": ([[2.0, 0.0, 3.0, 0.5]], lambda x: x.cumprod(0)),
    "cumprod_two_zeros": ([[2.0, 0.0, 3.0, 0.0]], lambda x: x.cumprod(0)),
    "amax_ties": ([[1.0, 3.0, 3.0, 2.0]], lambda x: x.amax()),
    "amin_ties_dim": ([[1.0, 1.0, 3.0, 3.0]], lambda x: x.reshape(2, 2).amin(1)),
    "median_ties": ([[2.0, 1.0, 2.0, 2.0]], lambda x: x.median()),
    "norm_zero": ([[0.0, 0.0, 0.0, 0.0]], lambda x: x.norm()),
    "norm_zero_dim": ([[0.0, 0.0, 1.0, 2.0]], lambda x: x.reshape(2, 2).norm(dim=1)),
    "norm_inf_ties": ([[-2.0, 2.0, 1.0, 0.5]], lambda x: x.norm(INF)),
    "norm_1_zero": ([[0.0, -2.0, 1.0, 0.5]], lambda x: x.norm(1)),
    "std_one_element": ([[2.0]], lambda x: x.std()),
    "var_constant": ([[2.0, 2.0, 2.0, 2.0]], lambda x: x.var()),
    "amax_nan": ([[1.0, math.nan, 3.0, 2.0]], lambda x: x.amax()),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # std of one element: torch and minigrad warn
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_points(name, dtype):
    values, fn = SPECIAL[name]
    check_op([(len(values[0]),)], fn, values=values, dtype=dtype)


GRADCHECK = {
    "prod": ([(3, 4)], lambda x: x.prod(1)),
    "var": ([(3, 4)], lambda x: x.var((0, 1), correction=0)),
    "std": ([(3, 4)], lambda x: x.std(1, keepdim=True)),
    "norm": ([(3, 4)], lambda x: x.norm(dim=0)),
    "norm_p": ([(3, 4)], lambda x: x.norm(2.5)),
    "cumsum": ([(3, 4)], lambda x: x.cumsum(1)),
    "cumprod": ([(3, 4)], lambda x: x.cumprod(0)),
    "amax": ([(3, 4)], lambda x: x.amax(1)),
    "logsumexp": ([(2, 3, 2)], lambda x: x.logsumexp((0, 2))),
    "median": ([(3, 5)], lambda x: x.median(1).values),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    shapes, fn = GRADCHECK[name]
    n = math.prod(shapes[0])
    values = [((i * 7919) % 23) / 7.0 - 1.5 + 0.01 * i for i in range(n)]  # distinct
    x = mg.tensor(values, dtype=mg.float64).reshape(shapes[0]).requires_grad_()
    assert gradcheck(fn, [x])


# -- integer and bool inputs ---------------------------------------------------------------------

INTEGER = {
    "prod": lambda x: x.prod(),
    "prod_dim": lambda x: x.prod(0),
    "cumsum": lambda x: x.cumsum(1),
    "cumprod": lambda x: x.cumprod(0),
    "amax": lambda x: x.amax(1),
    "amin": lambda x: x.amin(),
    "all": lambda x: x.all(),
    "all_dim": lambda x: x.all(1),
    "any_dim_keep": lambda x: x.any(0, keepdim=True),
    "count_nonzero": lambda x: x.count_nonzero(),
    "count_nonzero_dim": lambda x: x.count_nonzero(0),
    "median": lambda x: x.median(),
    "mode": lambda x: tuple(x.mode(1)),
    "sum_dtype": lambda x: x.sum(dtype=x.dtype),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(INTEGER))
def test_integer_inputs(name, dtype):
    values = [3, 0, 1, 3, 5, 0, 1, 1, 2, 7, 7, 1]
    if dtype == "bool":
        if name.startswith(("median", "mode", "cumprod", "amax", "amin", "prod")):
            pytest.skip("torch's CPU kernels do not cover these for bool")
        values = [v % 2 for v in values]
    fn = INTEGER[name]
    t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(3, 4)
    m = mg.tensor(values, dtype=getattr(mg, "bool" if dtype == "bool" else dtype)).reshape(3, 4)
    expected, got = fn(t), fn(m)
    for e, g in zip(expected if isinstance(expected, tuple) else [expected], got if isinstance(got, tuple) else [got]):
        assert_same(g, e)


def test_prod_and_cumsum_wrap_in_narrow_dtypes():
    t = torch.tensor([100, 3, 7], dtype=torch.int8)
    m = mg.tensor([100, 3, 7], dtype=mg.int8)
    assert_same(m.prod(dtype=mg.int8), t.prod(dtype=torch.int8))
    assert_same(m.cumsum(0, dtype=mg.int8), t.cumsum(0, dtype=torch.int8))
    assert_same(m.sum(dtype=mg.int8), t.sum(dtype=torch.int8))


# -- unique and bincount ---------------------------------------------------------------------------


@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("counts", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int16"])
def test_unique(inverse, counts, dtype):
    values = [[3, 1, 3], [2, -1, 1]]
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    m = mg.tensor(values, dtype=getattr(mg, dtype))
    expected = torch.unique(t, return_inverse=inverse, return_counts=counts)
    got = m.unique(return_inverse=inverse, return_counts=counts)
    expected, got = (expected, got) if isinstance(expected, tuple) else ((expected,), (got,))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_same(g, e)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float64", "int8"])
def test_unique_along_a_dim(dim, dtype):
    values = [[1, 2, 1], [0, 5, 0], [1, 2, 1], [0, 1, 0]]
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    m = mg.tensor(values, dtype=getattr(mg, dtype))
    expected = torch.unique(t, dim=dim, return_inverse=True, return_counts=True)
    got = mg.unique(m, dim=dim, return_inverse=True, return_counts=True)
    for g, e in zip(got, expected):
        assert_same(g, e)
    assert_same(m.unique(dim=dim), t.unique(dim=dim))


@pytest.mark.parametrize("weights", [None, "float32", "float64", "int64"])
@pytest.mark.parametrize("minlength", [0, 7])
def test_bincount(weights, minlength):
    values = [0, 1, 1, 3, 5, 1]
    w = [0.5, 1.25, -2.0, 3.0, 0.125, 1.0]
    if weights == "int64":
        w = [1, 2, 3, 4, 5, 6]
    t_w = None if weights is None else torch.tensor(w, dtype=getattr(torch, weights))
    m_w = None if weights is None else mg.tensor(w, dtype=getattr(mg, weights))
    assert_same(
        mg.bincount(mg.tensor(values), m_w, minlength=minlength),
        torch.bincount(torch.tensor(values), t_w, minlength=minlength),
    )


def test_median_of_an_even_count_is_the_lower_one_and_nan_wins():
    assert_same(mg.tensor([4.0, 1.0, 3.0, 2.0]).median(), torch.tensor([4.0, 1.0, 3.0, 2.0]).median())
    t = torch.tensor([[1.0, math.nan, 0.0, math.nan], [3.0, 1.0, 2.0, 0.5]])
    m = mg.tensor(t.tolist())
    assert_same(m.median(), t.median())
    for g, e in zip(m.median(1), t.median(1)):
        assert_same(g, e)


def test_return_types_have_names_and_print_like_torch():
    x = mg.tensor([[1.0, 5.0], [3.0, 2.0]])
    result = x.aminmax(dim=0)
    assert result.min.tolist() == [1.0, 2.0] and result.max.tolist() == [3.0, 5.0]
    assert repr(x.median(0)) == repr(torch.tensor([[1.0, 5.0], [3.0, 2.0]]).median(0)).replace("torch.", "minigrad.", 1)


def test_var_of_one_element_is_nan_and_std_correction_beyond_n_is_inf():
    for lib in (torch, mg):  # both warn, in the same words
        with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
            lib.tensor([1.0]).var()
        with pytest.warns(
            UserWarning, match=r"std\(\): degrees of freedom is <= 0. Correction should be strictly less"
        ):
            lib.tensor([1.0, 2.0]).std(correction=3)
    with pytest.warns(UserWarning):
        assert_same(mg.tensor([1.0]).var(), torch.tensor([1.0]).var())
        assert_same(mg.tensor([1.0, 2.0]).std(correction=3), torch.tensor([1.0, 2.0]).std(correction=3))


# -- bad arguments ---------------------------------------------------------------------------------

ERRORS = {
    "std_int": (lambda lib: lib.tensor([1, 2]).std(), ["std and var only support floating point"]),
    "var_int": (lambda lib: lib.var(lib.tensor([1, 2])), ["std and var only support floating point"]),
    "norm_int": (
        lambda lib: lib.tensor([1, 2]).norm(),
        ["Expected a floating point or complex tensor as input. Got Long"],
    ),
    "amax_empty_dim": (
        lambda lib: lib.zeros(2, 0).amax(1),
        ["amax(): Expected reduction dim 1 to have non-zero size."],
    ),
    "bincount_negative": (lambda lib: lib.bincount(lib.tensor([-1, 2])), ["bincount only supports 1-d non-negative"]),
    "bincount_2d": (lambda lib: lib.bincount(lib.tensor([[1]])), ["bincount only supports 1-d non-negative"]),
    "bincount_float": (lambda lib: lib.bincount(lib.tensor([1.0])), ["\"bincount_cpu\" not implemented for 'Float'"]),
    "cumsum_dim": (lambda lib: lib.ones(2, 3).cumsum(2), ["Dimension out of range"]),
    "prod_dim": (lambda lib: lib.ones(2).prod(-2), ["Dimension out of range"]),
    "median_empty_dim": (
        lambda lib: lib.zeros(0, 2).median(0),
        ["median(): Expected reduction dim 0 to have non-zero size."],
    ),
    "var_repeated_dim": (lambda lib: lib.ones(2, 3).var((0, 0)), ["appears multiple times in the list of dims"]),
    "vector_norm_neg_empty": (
        lambda lib: lib.linalg.vector_norm(lib.zeros(0), -1),
        ["linalg.vector_norm cannot compute the -1"],
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    call, fragments = ERRORS[name]
    check_raises(lambda: call(torch), lambda: call(mg), *fragments)


# -- 0-d and empty inputs ----------------------------------------------------------------------------

ZERO_DIM = {
    "prod": lambda lib, x: x.prod(),
    "prod_dim": lambda lib, x: x.prod(0),
    "cumsum": lambda lib, x: x.cumsum(0),
    "cumprod": lambda lib, x: x.cumprod(-1),
    "amax": lambda lib, x: x.amax(),
    "amax_dim": lambda lib, x: x.amax(0),
    "median": lambda lib, x: x.median(),
    "median_dim": lambda lib, x: x.median(0)[0],
    "norm": lambda lib, x: x.norm(),
    "var": lambda lib, x: x.var(),
    "std_dim": lambda lib, x: x.std(0, correction=0),
    "all": lambda lib, x: x.all(),
    "any_dim": lambda lib, x: x.any(0),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x),
    "logsumexp": lambda lib, x: x.logsumexp(0),
    "mode": lambda lib, x: x.mode()[0],
    "unique": lambda lib, x: x.unique(),
    "roll": lambda lib, x: x.roll(1),
    "tile": lambda lib, x: x.tile(3),
    "movedim": lambda lib, x: x.movedim(0, 0),
}
EMPTY = {
    "prod": lambda lib, x: x.prod(),
    "prod_dim": lambda lib, x: x.prod(1),
    "cumsum": lambda lib, x: x.cumsum(0),
    "var": lambda lib, x: x.var(),
    "norm": lambda lib, x: x.norm(),
    "all": lambda lib, x: x.all(),
    "any_dim": lambda lib, x: x.any(1),
    "count_nonzero_dim": lambda lib, x: x.count_nonzero(0),
    "amax_dim0": lambda lib, x: x.amax(0),
    "median": lambda lib, x: x.median(),
    "unique": lambda lib, x: x.unique(),
    "tril": lambda lib, x: x.tril(),
    "diagonal": lambda lib, x: x.diagonal(),
    "einsum": lambda lib, x: lib.einsum("ij->j", x),
    "roll": lambda lib, x: x.roll(1, 1),
    "tile": lambda lib, x: x.tile(2, 1),
    "std_mean": lambda lib, x: lib.std_mean(x, 1)[0],
}
EDGE = [("0-d", n, f) for n, f in ZERO_DIM.items()] + [("empty", n, f) for n, f in EMPTY.items()]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind, name, fn", EDGE, ids=[f"{k}-{n}" for k, n, _ in EDGE])
def test_zero_dim_and_empty_inputs(kind, name, fn):
    def make(lib):
        return lib.tensor(2.5) if kind == "0-d" else lib.zeros(0, 3)

    try:
        expected = fn(torch, make(torch))
    except Exception as error:  # torch refuses: minigrad must refuse the same way
        check_raises(lambda: fn(torch, make(torch)), lambda: fn(mg, make(mg)), str(error).split("\n")[0][:40])
        return
    assert_same(fn(mg, make(mg)), expected)


@pytest.mark.parametrize("seed", range(5))
def test_median_and_mode_indices_among_ties_are_torchs(seed):
    rng = random.Random(seed)
    # long rows too: past 16 elements torch's std::sort (mode) is no longer an insertion sort
    rows = [[float(rng.randint(0, rng.choice([1, 3, 20]))) for _ in range(rng.randint(1, 200))] for _ in range(20)]
    for row in rows:
        t, m = torch.tensor(row).reshape(1, -1), mg.tensor(row).reshape(1, -1)
        for name in ("median", "mode"):
            for g, e in zip(getattr(m, name)(1), getattr(t, name)(1)):
                assert_same(g, e)


def test_std_sort_order_sorts():
    from minigrad._functions.sorting import std_sort_order

    rng = random.Random(0)
    for _ in range(50):
        xs = [rng.randint(0, 20) for _ in range(rng.randint(0, 120))]
        order = std_sort_order(xs, lambda a, b: a < b)
        assert sorted(order) == list(range(len(xs)))
        assert [xs[i] for i in order] == sorted(xs)


# -- norms bit for bit: torch's summation order (minigrad/_functions/reduce_order.py; AVX2 kernels) --

NORM_SHAPES = [(5,), (3, 17), (4, 9, 6), (2, 3, 33), (1, 70), (6, 5), (2, 4)]
NORMS = {
    "all_2": lambda lib, x: x.norm(),
    "last_2": lambda lib, x: x.norm(dim=-1),
    "first_2": lambda lib, x: x.norm(dim=0),
    "middle_2": lambda lib, x: x.norm(dim=1 if x.dim() > 2 else 0, keepdim=True),
    "all_1": lambda lib, x: x.norm(1),
    "last_1": lambda lib, x: lib.linalg.vector_norm(x, 1, -1),
    "first_1": lambda lib, x: x.norm(p=1, dim=0),
    "vector_norm": lambda lib, x: lib.linalg.vector_norm(x, dim=-1),
    "linalg_norm": lambda lib, x: lib.linalg.norm(x.reshape(-1)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", NORM_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(NORMS))
def test_norms_are_torchs_bit_for_bit(name, shape, dtype):
    rng = random.Random(f"{name}{shape}{dtype}")  # a str seed is the same in every process
    for _ in range(5):
        values = [rng.uniform(-3.0, 3.0) for _ in range(math.prod(shape))]
        t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
        m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(shape)
        expected = NORMS[name](torch, t)
        assert_same(NORMS[name](mg, m), expected, dtype, rtol=0, atol=0)


def test_norm_leftover_rule_is_needed():
    """Rows whose leftover past the eight lanes is four or more (whole groups of four unfused, the
    rest fused) equal torch's; a plain in-order fused sum of the same rows does not."""
    from minigrad._float32 import _fma32_exact
    from minigrad._float32 import f32 as _f32
    from minigrad._functions import reduce_order

    rng = random.Random(0)
    disagreements = 0
    for _ in range(200):
        row = [_f32(rng.uniform(-3.0, 3.0)) for _ in range(rng.choice([4, 5, 12, 13, 21]))]
        expected = torch.tensor([row]).norm(dim=1).item()
        assert reduce_order.norm2_lanes(row, True) == expected
        acc = 0.0
        for v in row:
            acc = _fma32_exact(v, v, acc)
        disagreements += _f32(math.sqrt(acc)) != expected
    assert disagreements > 0


PROD_SHAPES = [(5,), (3, 17), (4, 9, 6), (2, 3, 40), (1, 70), (2, 100), (33,)]
PRODS = {
    "all": lambda x: x.prod(),
    "last": lambda x: x.prod(-1),
    "first": lambda x: x.prod(0),
    "middle": lambda x: x.prod(1, keepdim=True) if x.dim() > 2 else x.prod(0, keepdim=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", PROD_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(PRODS))
def test_prod_is_torchs_bit_for_bit(name, shape, dtype):
    rng = random.Random(f"{name}{shape}{dtype}")
    for _ in range(5):  # factors near 1 in magnitude, so that long products stay finite
        values = [rng.uniform(0.5, 1.6) * rng.choice((1, -1)) for _ in range(math.prod(shape))]
        t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
        m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(shape)
        assert_same(PRODS[name](m), PRODS[name](t), dtype, rtol=0, atol=0)


EXACT = {  # torch accumulates these in double and rounds once; so does minigrad (var/std: float32 only)
    "var": lambda x: x.var(-1),
    "var_all": lambda x: x.var(),
    "std_first": lambda x: x.std(0, correction=0),
    "cumsum": lambda x: x.cumsum(-1),
    "cumprod": lambda x: x.cumprod(0),
    "amax": lambda x: x.amax(-1),
    "median": lambda x: x.median(-1).values,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(EXACT))
def test_double_accumulated_reductions_are_torchs_bit_for_bit(name, dtype):
    if dtype == "float64" and name.startswith(("var", "std")):
        pytest.skip("float64 var/std: torch's Welford updates round differently in the last bit (within 1 ulp)")
    rng = random.Random(f"{name}{dtype}")
    for shape in [(7, 33), (4, 5), (2, 64)]:
        values = [rng.uniform(-3.0, 3.0) for _ in range(math.prod(shape))]
        t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
        m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(shape)
        assert_same(EXACT[name](m), EXACT[name](t), dtype, rtol=0, atol=0)
