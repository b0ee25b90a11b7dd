"""softmax, log_softmax and nll_loss (``minigrad._functions.softmax_loss``) against torch 2.13.0."""

import math

import pytest
from conftest import check_op, check_raises

import minigrad as mg
from minigrad._functions import softmax_loss as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(name, dim, layout, dtype):
    check_op([(3, 4, 2)], lambda x: getattr(x, name)(dim), layout=layout, dtype=dtype, low=-3, high=3)
    check_op([(3, 5)], lambda x: getattr(torch, name)(x, dim), lambda x: getattr(mg, name)(x, dim), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_extremes(name, dtype):
    inf = math.inf
    rows = [[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0], [88.0, 89.0, 90.0], [0.0, -inf, 1.0]]
    check_op([(4, 3)], lambda x: getattr(x, name)(1), values=[sum(rows, [])], dtype=dtype)
    check_op(
        [(2, 3)], lambda x: getattr(x, name)(1), values=[[-inf, -inf, -inf, inf, 0.0, 1.0]], dtype=dtype, grad=False
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_nan_anywhere_in_a_line(name):
    nan = math.nan
    values = [[1.0, nan, 2.0, nan, 0.0, 3.0, 4.0, 5.0, nan]]
    check_op([(3, 3)], lambda x: getattr(x, name)(1), values=values, grad=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_0d_and_empty(name):
    check_op([()], lambda x: getattr(x, name)(0))
    check_op([(0, 3)], lambda x: getattr(x, name)(1))
    check_op([(3, 0)], lambda x: getattr(x, name)(0))


def test_log_softmax_equals_the_composed_formula():
    check_op([(3, 4)], lambda x: x.log_softmax(1), lambda x: x - x.logsumexp(1, keepdim=True), dtype="float64")


def test_softmax_dim_errors():
    t, m = torch.ones(2, 3), mg.ones(2, 3)
    check_raises(lambda: t.softmax(2), lambda: m.softmax(2), "Dimension out of range", exact=True)
    check_raises(lambda: t.log_softmax(-3), lambda: m.log_softmax(-3), "Dimension out of range", exact=True)


def _targets(values):
    return torch.tensor(values), mg.tensor(values)


NLL = {
    "mean": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "ignore_index": {"ignore_index": 1},
    "ignore_index_none": {"ignore_index": 1, "reduction": "none"},
    "weight": {"weight": [0.5, 2.0, 1.0, 0.25]},
    "weight_sum": {"weight": [0.5, 2.0, 1.0, 0.25], "reduction": "sum"},
    "weight_ignore": {"weight": [0.5, 2.0, 1.0, 0.25], "ignore_index": 0},
}


def _nll_call(lib, kwargs):
    fn = TF.nll_loss if lib is torch else F.nll_loss
    kw = dict(kwargs)
    if "weight" in kw:
        kw["weight"] = lib.tensor(kw["weight"])
    return lambda x, target: fn(x, target, **kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(NLL))
def test_nll_loss(name, dtype):
    t_y, m_y = _targets([1, 0, 3, 1, 2])
    t_fn, m_fn = _nll_call(torch, NLL[name]), _nll_call(mg, NLL[name])
    if "weight" in NLL[name] and dtype == "float64":
        pytest.skip("the weight must have the input's dtype; covered in float32")
    check_op([(5, 4)], lambda x: t_fn(x.log_softmax(1), t_y), lambda x: m_fn(x.log_softmax(1), m_y), dtype=dtype)


def test_nll_loss_all_ignored_gives_nan_mean():
    t_y, m_y = _targets([1, 1])
    check_op([(2, 3)], lambda x: TF.nll_loss(x, t_y, ignore_index=1), lambda x: F.nll_loss(x, m_y, ignore_index=1))


def test_nll_loss_1d_input_and_0d_target():
    t_y, m_y = _targets(2)
    for kwargs in [{}, {"reduction": "none"}, {"reduction": "sum"}]:
        check_op([(4,)], lambda x, kw=kwargs: TF.nll_loss(x, t_y, **kw), lambda x, kw=kwargs: F.nll_loss(x, m_y, **kw))


def test_nll_loss_k_dimensional():
    t_y, m_y = _targets([[0, 2], [1, 1]])
    for kwargs in [{}, {"reduction": "none"}]:
        check_op(
            [(2, 3, 2)], lambda x, kw=kwargs: TF.nll_loss(x, t_y, **kw), lambda x, kw=kwargs: F.nll_loss(x, m_y, **kw)
        )


def test_nll_loss_on_non_contiguous_input():
    t_y, m_y = _targets([1, 0, 2])
    check_op([(3, 3)], lambda x: TF.nll_loss(x, t_y), lambda x: F.nll_loss(x, m_y), layout="permuted")


def test_nll_loss_float_target():
    check_raises(
        lambda: TF.nll_loss(torch.zeros(3, 4), torch.tensor([0.0, 1.0, 2.0])),
        lambda: F.nll_loss(mg.zeros(3, 4), mg.tensor([0.0, 1.0, 2.0])),
        exact=True,
    )


def test_nll_loss_errors():
    x_t, x_m = torch.zeros(3, 4), mg.zeros(3, 4)
    check_raises(
        lambda: TF.nll_loss(x_t, torch.tensor([0, 4, 1])),
        lambda: F.nll_loss(x_m, mg.tensor([0, 4, 1])),
        "Target 4 is out of bounds.",
        exact=True,
    )
    check_raises(
        lambda: TF.nll_loss(x_t, torch.tensor([0, -1, 1])),
        lambda: F.nll_loss(x_m, mg.tensor([0, -1, 1])),
        "Target -1 is out of bounds.",
        exact=True,
    )
    check_raises(
        lambda: TF.nll_loss(x_t, torch.tensor([0, 1])),
        lambda: F.nll_loss(x_m, mg.tensor([0, 1])),
        "Expected input batch_size (3) to match target batch_size (2).",
        exact=True,
    )
    check_raises(
        lambda: TF.nll_loss(x_t, torch.tensor([[0, 1], [2, 0], [1, 1]])),
        lambda: F.nll_loss(x_m, mg.tensor([[0, 1], [2, 0], [1, 1]])),
        "0D or 1D target tensor expected, multi-target not supported",
    )
    check_raises(
        lambda: TF.nll_loss(x_t, torch.tensor([0, 1, 2]), weight=torch.ones(3)),
        lambda: F.nll_loss(x_m, mg.tensor([0, 1, 2]), weight=mg.ones(3)),
        "weight tensor should be defined either for all 4 classes or no classes but got weight tensor of shape: [3]",
    )
    check_raises(
        lambda: TF.nll_loss(x_t, torch.tensor([0, 1, 2]), reduction="avg"),
        lambda: F.nll_loss(x_m, mg.tensor([0, 1, 2]), reduction="avg"),
        "avg is not a valid value for reduction",
        exact=True,
    )


def test_nll_loss_batch_size_checked_before_target_rank():
    check_raises(
        lambda: TF.nll_loss(torch.zeros(3, 4), torch.tensor([[0, 1, 2]])),
        lambda: F.nll_loss(mg.zeros(3, 4), mg.tensor([[0, 1, 2]])),
        exact=True,
    )
