"""The regression, binary and embedding losses against torch 2.13.0: values and gradients of every
input for every reduction, broadcasting, non-contiguous inputs, float64 gradcheck, the modules'
reprs and torch's errors and warnings."""

from __future__ import annotations

import random
import warnings

import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd import gradcheck

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402
from conftest import check_op, check_raises  # noqa: E402 - needs torch

pytestmark = [
    pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning"),
    pytest.mark.filterwarnings("ignore:Using a target size:UserWarning"),
]

REDUCTIONS = ["mean", "sum", "none"]
LAYOUTS = ["contiguous", "permuted", "strided"]


def _both(name, **kwargs):
    """(torch fn, minigrad fn) calling F.<name>(*tensors, **kwargs)."""
    return (lambda *a: getattr(TF, name)(*a, **kwargs)), (lambda *a: getattr(F, name)(*a, **kwargs))


def _sign(x):
    return 1.0 if x >= 0 else -1.0


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.3}),
        ("kl_div", {"log_target": True}),
    ],
)
def test_regression_losses(name, kwargs, reduction, layout):
    t_fn, m_fn = _both(name, reduction=reduction, **kwargs)
    check_op([(3, 4), (3, 4)], t_fn, m_fn, layout=layout)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    t_fn, m_fn = _both("kl_div", reduction=reduction, log_target=log_target)
    # targets are probabilities (or their logs); one exact zero exercises 0 log 0 = 0
    rng = random.Random(3)
    inputs = [rng.uniform(-3, -0.1) for _ in range(12)]
    targets = [rng.uniform(0.01, 1) for _ in range(12)]
    targets[5] = 0.0 if not log_target else -2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op([(3, 4), (3, 4)], t_fn, m_fn, values=[inputs, targets])


def test_kl_div_mean_warns_like_torch():
    x, y = mg.tensor([[-1.0, -2.0]]), mg.tensor([[0.5, 0.5]])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_per_element_weight(name, reduction):
    rng = random.Random(1)
    w = [rng.uniform(0.1, 2) for _ in range(6)]
    check_op(
        [(2, 3), (2, 3)],
        lambda x, y: getattr(TF, name)(x, y, reduction=reduction, weight=torch.tensor(w).reshape(2, 3)),
        lambda x, y: getattr(F, name)(x, y, reduction=reduction, weight=mg.tensor(w).reshape(2, 3)),
    )


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_broadcast_target_warns_and_broadcasts(name):
    t_fn, m_fn = _both(name, reduction="none")
    with pytest.warns(UserWarning, match=r"Using a target size \(minigrad.Size\(\[4\]\)\) that is different"):
        check_op([(3, 4), (4,)], t_fn, m_fn)
    check_raises(
        lambda: getattr(TF, name)(torch.ones(3), torch.ones(4)),
        lambda: getattr(F, name)(mg.ones(3), mg.ones(4)),
        "must match the size of tensor b",
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    rng = random.Random(2)
    x = [rng.uniform(0.02, 0.98) for _ in range(12)]
    y = [rng.uniform(0, 1) for _ in range(12)]
    y[0], y[1] = 0.0, 1.0
    w = [rng.uniform(0.1, 2) for _ in range(4)]
    check_op(
        [(3, 4), (3, 4)],
        lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(w) if weighted else None, reduction=reduction),
        lambda a, b: F.binary_cross_entropy(a, b, mg.tensor(w) if weighted else None, reduction=reduction),
        values=[x, y],
    )


def test_binary_cross_entropy_clamps_log_at_minus_100():
    """At x = 0 or 1 torch's logs are clamped to -100, and the gradient's denominator to 1e-12."""
    values = [[0.0, 1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 0.0, 1.0, 0.25]]
    check_op([(5,), (5,)], *_both("binary_cross_entropy", reduction="none"), values=values, rtol=1e-6)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("extra", ["none", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits(extra, reduction, layout):
    rng = random.Random(4)
    w = [rng.uniform(0.1, 2) for _ in range(4)]
    pw = [rng.uniform(0.5, 3) for _ in range(4)]

    def call(lib, fn):
        def run(x, y):
            weight = lib.tensor(w) if extra in ("weight", "both") else None
            pos_weight = lib.tensor(pw) if extra in ("pos_weight", "both") else None
            return fn(x, y, weight, reduction=reduction, pos_weight=pos_weight)

        return run

    x = [rng.uniform(-30, 30) for _ in range(12)]  # past the range where a naive formula overflows
    y = [rng.uniform(0, 1) for _ in range(12)]
    check_op(
        [(3, 4), (3, 4)],
        call(torch, TF.binary_cross_entropy_with_logits),
        call(mg, F.binary_cross_entropy_with_logits),
        values=[x, y],
        layout=layout,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_margin_ranking_loss(reduction, margin):
    rng = random.Random(5)
    target = [_sign(rng.uniform(-1, 1)) for _ in range(6)]
    x1 = [rng.uniform(-2, 2) for _ in range(6)]
    x2 = [rng.uniform(-2, 2) for _ in range(6)]
    check_op(
        [(6,), (6,), (6,)],
        *_both("margin_ranking_loss", margin=margin, reduction=reduction),
        values=[x1, x2, target],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding_loss(reduction, margin):
    rng = random.Random(6)
    target = [1.0, -1.0, 1.0, -1.0, -1.0]
    x1 = [rng.uniform(-2, 2) for _ in range(15)]
    x2 = [rng.uniform(-2, 2) for _ in range(15)]
    check_op(
        [(5, 3), (5, 3), (5,)],
        *_both("cosine_embedding_loss", margin=margin, reduction=reduction),
        values=[x1, x2, target],
    )
    # one pair of vectors with a 0-d target
    check_op([(3,), (3,), ()], *_both("cosine_embedding_loss", margin=margin), values=[x1[:3], x2[:3], [-1.0]])


LOSS_FNS = [
    ("mse_loss", (0.1, 0.9)),
    ("l1_loss", (0.1, 0.9)),
    ("smooth_l1_loss", (0.1, 0.9)),
    ("huber_loss", (0.1, 0.9)),
    ("binary_cross_entropy", (0.1, 0.9)),
    ("binary_cross_entropy_with_logits", (-3.0, 3.0)),
    ("kl_div", (0.1, 0.9)),
]


@pytest.mark.parametrize("name, bounds", LOSS_FNS)
def test_gradcheck_float64(name, bounds):
    rng = random.Random(7)
    x = mg.tensor([rng.uniform(*bounds) for _ in range(6)], dtype=mg.float64, requires_grad=True)
    # targets away from the kinks of l1/smooth-l1/huber (|x - y| = 0 or beta)
    y = mg.tensor([rng.uniform(0.1, 0.9) for _ in range(6)], dtype=mg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda a, b: getattr(F, name)(a, b, reduction="sum"), (x, y))


def test_gradcheck_float64_pairs():
    rng = random.Random(8)
    a = mg.tensor([rng.uniform(-2, 2) for _ in range(8)], dtype=mg.float64, requires_grad=True).reshape(4, 2)
    b = mg.tensor([rng.uniform(-2, 2) for _ in range(8)], dtype=mg.float64, requires_grad=True).reshape(4, 2)
    y = mg.tensor([1.0, -1.0, 1.0, -1.0], dtype=mg.float64)
    assert gradcheck(lambda p, q: F.cosine_embedding_loss(p, q, y, margin=-0.5), (a, b))
    assert gradcheck(lambda p, q: F.margin_ranking_loss(p[:, 0], q[:, 0], y, margin=0.1), (a, b))


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated:UserWarning")
def test_legacy_size_average_and_reduce():
    x, y = mg.tensor([1.0, 2.0, 4.0]), mg.tensor([0.0, 0.0, 0.0])
    tx, ty = torch.tensor([1.0, 2.0, 4.0]), torch.zeros(3)
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            got = F.mse_loss(x, y, size_average=size_average, reduce=reduce)
        expected = TF.mse_loss(tx, ty, size_average=size_average, reduce=reduce)
        assert got.tolist() == expected.tolist()
        with pytest.warns(UserWarning):
            module = nn.L1Loss(size_average=size_average, reduce=reduce)
        assert module.reduction == torch.nn.L1Loss(size_average=size_average, reduce=reduce).reduction


MODULES = [
    ("MSELoss", {}, 2),
    ("L1Loss", {"reduction": "sum"}, 2),
    ("SmoothL1Loss", {"beta": 0.5}, 2),
    ("HuberLoss", {"delta": 0.5, "reduction": "none"}, 2),
    ("BCELoss", {}, 2),
    ("BCEWithLogitsLoss", {}, 2),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, 2),
    ("MarginRankingLoss", {"margin": 0.2}, 3),
    ("CosineEmbeddingLoss", {"margin": 0.1}, 3),
]


@pytest.mark.parametrize("name, kwargs, n_inputs", MODULES)
def test_loss_modules(name, kwargs, n_inputs):
    t_mod, m_mod = getattr(torch.nn, name)(**kwargs), getattr(nn, name)(**kwargs)
    assert repr(m_mod) == repr(t_mod)
    assert m_mod.reduction == t_mod.reduction
    rng = random.Random(9)
    if n_inputs == 2:
        values = [[rng.uniform(0.05, 0.95) for _ in range(8)] for _ in range(2)]
        check_op([(2, 4), (2, 4)], t_mod, m_mod, values=values)
    else:
        shapes = [(4, 2), (4, 2), (4,)] if name == "CosineEmbeddingLoss" else [(4,), (4,), (4,)]
        n = 8 if name == "CosineEmbeddingLoss" else 4
        values = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(2)] + [[1.0, -1.0, -1.0, 1.0]]
        check_op(shapes, t_mod, m_mod, values=values)


def test_weighted_modules_keep_weights_as_buffers():
    w, pw = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 0.5])
    bce = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw)
    reference = torch.nn.BCEWithLogitsLoss(torch.ones(2), pos_weight=torch.ones(2))
    assert list(bce.state_dict()) == list(reference.state_dict())
    assert bce.pos_weight is pw
    assert list(nn.BCELoss(weight=w).state_dict()) == ["weight"]


def test_weights_that_require_grad_are_refused_like_torch():
    for name in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        check_raises(
            lambda name=name: getattr(TF, name)(torch.rand(3), torch.rand(3), torch.ones(3, requires_grad=True)),
            lambda name=name: getattr(F, name)(mg.rand(3), mg.rand(3), mg.ones(3, requires_grad=True)),
            exact=True,
        )
    t_pos, m_pos = torch.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)
    check_raises(
        lambda: TF.binary_cross_entropy_with_logits(torch.rand(3), torch.rand(3), pos_weight=t_pos),
        lambda: F.binary_cross_entropy_with_logits(mg.rand(3), mg.rand(3), pos_weight=m_pos),
        exact=True,
    )
    with mg.no_grad():
        F.binary_cross_entropy(mg.rand(3), mg.rand(3), mg.ones(3, requires_grad=True))


def test_errors_match_torch():
    check_raises(
        lambda: TF.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0])),
        lambda: F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0])),
        exact=True,
    )
    check_raises(
        lambda: TF.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([2.0])),
        lambda: F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([2.0])),
        exact=True,
    )
    check_raises(
        lambda: TF.binary_cross_entropy(torch.ones(3) / 2, torch.ones(2)),
        lambda: F.binary_cross_entropy(mg.ones(3) / 2, mg.ones(2)),
        "that is different to the input size",
    )
    check_raises(
        lambda: TF.binary_cross_entropy_with_logits(torch.ones(3), torch.ones(4)),
        lambda: F.binary_cross_entropy_with_logits(mg.ones(3), mg.ones(4)),
        "must be the same as input size",
    )
    check_raises(
        lambda: TF.smooth_l1_loss(torch.ones(3), torch.ones(3), beta=-1.0),
        lambda: F.smooth_l1_loss(mg.ones(3), mg.ones(3), beta=-1.0),
        exact=True,
    )
    check_raises(
        lambda: TF.huber_loss(torch.ones(3), torch.ones(3), delta=0.0),
        lambda: F.huber_loss(mg.ones(3), mg.ones(3), delta=0.0),
        exact=True,
    )
    for name in ("mse_loss", "l1_loss", "kl_div"):
        check_raises(
            lambda name=name: getattr(TF, name)(torch.ones(3), torch.ones(3), reduction="avg"),
            lambda name=name: getattr(F, name)(mg.ones(3), mg.ones(3), reduction="avg"),
            exact=True,
        )
    check_raises(
        lambda: TF.mse_loss(torch.ones(3), torch.ones(3), weight=torch.ones(2)),
        lambda: F.mse_loss(mg.ones(3), mg.ones(3), weight=mg.ones(2)),
        exact=True,
    )
    check_raises(
        lambda: TF.cosine_embedding_loss(torch.ones(3, 2), torch.ones(3, 2), torch.ones(3, 1)),
        lambda: F.cosine_embedding_loss(mg.ones(3, 2), mg.ones(3, 2), mg.ones(3, 1)),
        exact=True,
    )
    check_raises(
        lambda: TF.cosine_embedding_loss(torch.ones(3, 2), torch.ones(3, 2), torch.ones(())),
        lambda: F.cosine_embedding_loss(mg.ones(3, 2), mg.ones(3, 2), mg.ones(())),
        exact=True,
    )
    check_raises(
        lambda: TF.cosine_embedding_loss(torch.ones(3), torch.ones(3), torch.ones(3)),
        lambda: F.cosine_embedding_loss(mg.ones(3), mg.ones(3), mg.ones(3)),
        exact=True,
    )
    check_raises(
        lambda: TF.margin_ranking_loss(torch.ones(3), torch.ones(3), torch.ones(3, 1)),
        lambda: F.margin_ranking_loss(mg.ones(3), mg.ones(3), mg.ones(3, 1)),
        "All input tensors should have same dimension",
    )
