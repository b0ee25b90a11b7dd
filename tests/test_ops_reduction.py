"""Reductions against torch 2.13.0: sum, mean, max, min, argmax, argmin, logsumexp."""

import math
import random

import pytest
from conftest import check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]

REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "sum0": lambda x: x.sum(0),
    "sum-1_keep": lambda x: x.sum(-1, keepdim=True),
    "sum_tuple": lambda x: x.sum((0, 2)),
    "sum_tuple_keep": lambda x: x.sum(dim=(2, 0), keepdim=True),
    "sum_list": lambda x: x.sum([1]),
    "mean": lambda x: x.mean(),
    "mean1": lambda x: x.mean(1),
    "mean_keep": lambda x: x.mean(dim=-1, keepdim=True),
    "mean_tuple": lambda x: x.mean((0, 1)),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "max_dim": lambda x: x.max(1),
    "max_dim_keep": lambda x: x.max(dim=-1, keepdim=True),
    "min_dim": lambda x: x.min(0),
    "min_dim_keep": lambda x: x.min(2, keepdim=True),
    "argmax": lambda x: x.argmax(),
    "argmax_dim": lambda x: x.argmax(1),
    "argmax_keep": lambda x: x.argmax(dim=-1, keepdim=True),
    "argmin_dim": lambda x: x.argmin(0),
    "logsumexp": lambda x: x.logsumexp(1),
    "logsumexp_keep": lambda x: x.logsumexp(-1, keepdim=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, layout, dtype):
    check_op([(3, 4, 2)], REDUCTIONS[name], layout=layout, dtype=dtype)


FUNCTIONAL = {
    "sum": (lambda lib, x: lib.sum(x, 1)),
    "mean": (lambda lib, x: lib.mean(x, dim=0, keepdim=True)),
    "max": (lambda lib, x: lib.max(x, 1)),
    "min": (lambda lib, x: lib.min(x)),
    "argmax": (lambda lib, x: lib.argmax(x, 0)),
    "argmin": (lambda lib, x: lib.argmin(x)),
    "logsumexp": (lambda lib, x: lib.logsumexp(x, 0)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_module_level(name):
    fn = FUNCTIONAL[name]
    check_op([(3, 4)], lambda x: fn(torch, x), lambda x: fn(mg, x))


def test_max_dim_result_has_named_fields():
    t, m = torch.tensor([[1.0, 5.0], [3.0, 2.0]]), mg.tensor([[1.0, 5.0], [3.0, 2.0]])
    check_op([], lambda: (t.max(1).values, t.max(1).indices), lambda: (m.max(1).values, m.max(1).indices), grad=False)
    values, indices = m.min(dim=0)
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [0, 1]


def test_elementwise_max_with_other_tensor():
    check_op([(2, 3), (3,)], lambda x, y: torch.max(x, y), lambda x, y: mg.max(x, y))
    check_op([(2, 3), (2, 1)], lambda x, y: torch.min(x, y), lambda x, y: mg.min(x, y))


@pytest.mark.parametrize("name", ["max", "min", "max_dim", "min_dim_keep", "argmax_dim", "argmin_dim"])
def test_ties_take_the_first_index_and_share_the_gradient(name):
    # values on a coarse grid so the extreme is often repeated
    rng = random.Random(name)
    values = [[rng.choice([0.0, 1.0, 2.0]) for _ in range(24)]]
    check_op([(3, 4, 2)], REDUCTIONS[name], values=values)


@pytest.mark.parametrize("name", ["max", "max_dim", "min_dim", "argmax_dim", "argmax", "sum0", "mean"])
def test_nan_wins(name):
    values = [[1.0, math.nan, 3.0, 2.0, 0.0, 5.0, math.nan, 1.0] * 3]
    check_op([(3, 4, 2)], REDUCTIONS[name], values=values, grad=False)


def test_infinities():
    inf = math.inf
    check_op([(2, 3)], lambda x: x.sum(1), values=[[inf, -inf, 1.0, inf, inf, 2.0]], grad=False)
    check_op([(2, 3)], lambda x: x.logsumexp(1), values=[[inf, -inf, 1.0, -inf, -inf, -inf]], grad=False)
    check_op([(2, 3)], lambda x: x.max(1), values=[[-inf, -inf, -inf, 1.0, inf, 2.0]], grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_of_large_values(dtype):
    check_op(
        [(2, 3)], lambda x: x.logsumexp(1), values=[[1000.0, 1001.0, 999.0, -1000.0, -1002.0, -1001.0]], dtype=dtype
    )
    check_op([(2, 3)], lambda x: x.logsumexp(0), values=[[88.0, 89.0, 90.0, 1.0, 2.0, 3.0]], dtype=dtype)


@pytest.mark.parametrize("name", ["sum", "sum0", "mean", "max", "min", "max_dim", "argmax", "logsumexp"])
def test_0d(name):
    fn = {"sum0": lambda x: x.sum(0), "max_dim": lambda x: x.max(0), "logsumexp": lambda x: x.logsumexp(0)}
    check_op([()], fn.get(name, REDUCTIONS.get(name)))


def test_1d_reductions_to_0d():
    for fn in [lambda x: x.sum(0), lambda x: x.max(0), lambda x: x.mean(-1), lambda x: x.logsumexp(0)]:
        check_op([(5,)], fn)


def test_empty():
    check_op([(0, 3)], lambda x: x.sum())
    check_op([(0, 3)], lambda x: x.sum(0))
    check_op([(0, 3)], lambda x: x.sum(1))
    check_op([(0, 3)], lambda x: x.mean(0))
    check_op([(0, 3)], lambda x: x.mean(), grad=False)
    check_op([(0, 3)], lambda x: x.max(1))
    check_op([(3, 0)], lambda x: x.logsumexp(1))


def test_reductions_of_int_and_bool():
    t_i, m_i = torch.tensor([[1, -2, 3], [4, 5, -6]]), mg.tensor([[1, -2, 3], [4, 5, -6]])
    t_b, m_b = torch.tensor([True, False, True]), mg.tensor([True, False, True])
    cases = [
        lambda x: x.sum(),
        lambda x: x.sum(0),
        lambda x: x.max(),
        lambda x: x.min(1),
        lambda x: x.argmax(),
    ]
    for fn in cases:
        check_op([], lambda fn=fn: fn(t_i), lambda fn=fn: fn(m_i), grad=False)
    for fn in cases[:2]:
        check_op([], lambda fn=fn: fn(t_b), lambda fn=fn: fn(m_b), grad=False)
    check_op([], lambda: t_i.logsumexp(1), lambda: m_i.logsumexp(1), grad=False)


def test_all_any():
    t, m = torch.tensor([[True, False], [True, True]]), mg.tensor([[True, False], [True, True]])
    check_op([], lambda: (t.all(), t.any(), (~t).any()), lambda: (m.all(), m.any(), (~m).any()), grad=False)


# -- bad input ---------------------------------------------------------------------------------------


def _both(values, dtype=None):
    return torch.tensor(values, dtype=dtype and getattr(torch, dtype)), mg.tensor(
        values, dtype=dtype and getattr(mg, dtype)
    )


def test_dim_out_of_range():
    t, m = _both([[1.0, 2.0], [3.0, 4.0]])
    message = "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    for fn in [lambda x: x.sum(2), lambda x: x.max(2), lambda x: x.mean(-3), lambda x: x.argmax(2)]:
        check_raises(lambda fn=fn: fn(t), lambda fn=fn: fn(m), "Dimension out of range", "but got")
    check_raises(lambda: t.sum(2), lambda: m.sum(2), message, exact=True)
    check_raises(lambda: t.logsumexp(5), lambda: m.logsumexp(5), "Dimension out of range")


def test_mean_of_int_raises():
    t, m = _both([1, 2])
    check_raises(lambda: t.mean(), lambda: m.mean(), "mean(): could not infer output dtype", "Got: Long", exact=True)


def test_max_of_empty_raises():
    t, m = torch.zeros(0, 3), mg.zeros(0, 3)
    check_raises(lambda: t.max(), lambda: m.max(), "Expected reduction dim to be specified for input.numel() == 0")
    check_raises(lambda: t.max(0), lambda: m.max(0), "Expected reduction dim 0 to have non-zero size", exact=True)
    check_raises(lambda: t.argmax(), lambda: m.argmax(), "argmax(): Expected reduction dim to be specified", exact=True)
    check_raises(lambda: t.argmin(0), lambda: m.argmin(0), exact=True)
    check_raises(lambda: t.min(), lambda: m.min(), exact=True)


def test_duplicate_dims_raise():
    t, m = torch.ones(2, 3), mg.ones(2, 3)
    check_raises(lambda: t.sum((0, -2)), lambda: m.sum((0, -2)), exact=True)


def test_empty_dim_list_reduces_everything():
    check_op([(2, 3)], lambda x: x.sum(dim=()))
    check_op([(2, 3)], lambda x: x.mean(dim=[]))


def test_reductions_keep_0d_shape_with_keepdim():
    check_op([()], lambda x: x.sum(0, keepdim=True))
    check_op([()], lambda x: x.max(0, keepdim=True))
    check_op([()], lambda x: x.argmax(keepdim=True), grad=False)
    check_op([(2, 3)], lambda x: x.argmax(keepdim=True), grad=False)


INF = math.inf
GRADIENTS_WITH_INFINITIES = {
    "logsumexp_all_minus_inf_row": ([(2, 3)], lambda x: x.logsumexp(1), [-INF, -INF, -INF, 1.0, -INF, 2.0]),
    "logsumexp_inf": ([(2, 3)], lambda x: x.logsumexp(1), [INF, 0.0, 1.0, 1.0, -INF, 2.0]),
    "softmax_minus_inf": ([(2, 3)], lambda x: x.softmax(1), [-INF, 0.0, 1.0, 1.0, -INF, 2.0]),
    "log_softmax_minus_inf": ([(2, 3)], lambda x: x.log_softmax(1), [-INF, 0.0, 1.0, 1.0, -INF, 2.0]),
    "max_tied_infinities": ([(2, 3)], lambda x: x.max(), [INF, 0.0, INF, 1.0, -INF, 2.0]),
    "sum_inf": ([(2, 3)], lambda x: x.sum(0), [INF, 0.0, 1.0, 1.0, -INF, 2.0]),
    "mean_inf": ([(2, 3)], lambda x: x.mean(), [INF, 0.0, 1.0, 1.0, -INF, 2.0]),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS_WITH_INFINITIES))
def test_gradients_with_infinities(name):
    shapes, fn, values = GRADIENTS_WITH_INFINITIES[name]
    check_op(shapes, fn, values=[values])
