"""Losses and ``nn.functional`` against torch 2.13.0: values and gradients of the input."""

from __future__ import annotations

import math
import random

import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
from conftest import assert_same  # noqa: E402 - needs torch


def _logits(shape, seed=0):
    rng = random.Random(seed)
    n = math.prod(shape)
    values = [rng.uniform(-3, 3) for _ in range(n)]
    t = torch.tensor(values).reshape(shape).requires_grad_()
    m = mg.tensor(values).reshape(*shape).requires_grad_()
    return t, m


def _targets(values, shape=None):
    t = torch.tensor(values)
    m = mg.tensor(values, dtype=mg.long)
    if shape is not None:
        t, m = t.reshape(shape), m.reshape(*shape)
    return t, m


def _check_value_and_grad(t_out, m_out, t_in, m_in, seed=1):
    assert_same(m_out, t_out)
    rng = random.Random(seed)
    w = [rng.uniform(-1, 1) for _ in range(t_out.numel())]
    (t_out * torch.tensor(w).reshape(t_out.shape)).sum().backward()
    (m_out * mg.tensor(w).reshape(*m_out.shape)).sum().backward()
    assert_same(m_in.grad, t_in.grad)


WEIGHTS = [0.2, 1.0, 3.0, 0.5]
LOSS_CASES = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"weight": WEIGHTS},
    {"weight": WEIGHTS, "reduction": "none"},
    {"ignore_index": 2},
    {"ignore_index": 2, "weight": WEIGHTS, "reduction": "sum"},
]


def _kwargs(lib, case):
    kwargs = dict(case)
    if "weight" in kwargs:
        kwargs["weight"] = lib.tensor(kwargs["weight"])
    return kwargs


@pytest.mark.parametrize("case", LOSS_CASES)
@pytest.mark.parametrize("module", ["NLLLoss", "CrossEntropyLoss"])
def test_loss_modules_match_torch(case, module):
    t_x, m_x = _logits((6, 4))
    t_y, m_y = _targets([0, 2, 1, 3, 2, 1])
    t_in = torch.log_softmax(t_x, 1) if module == "NLLLoss" else t_x
    m_in = F.log_softmax(m_x, 1) if module == "NLLLoss" else m_x
    t_loss = getattr(torch.nn, module)(**_kwargs(torch, case))(t_in, t_y)
    m_loss = getattr(nn, module)(**_kwargs(mg, case))(m_in, m_y)
    _check_value_and_grad(t_loss, m_loss, t_x, m_x)


@pytest.mark.parametrize(
    "case",
    [
        {},
        {"label_smoothing": 0.1},
        {"label_smoothing": 0.3, "weight": WEIGHTS},
        {"label_smoothing": 0.2, "ignore_index": 1},
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_label_smoothing_matches_torch(case, reduction):
    t_x, m_x = _logits((5, 4), seed=3)
    t_y, m_y = _targets([1, 0, 3, 1, 2])
    t_loss = torch.nn.functional.cross_entropy(t_x, t_y, reduction=reduction, **_kwargs(torch, case))
    m_loss = F.cross_entropy(m_x, m_y, reduction=reduction, **_kwargs(mg, case))
    _check_value_and_grad(t_loss, m_loss, t_x, m_x)


@pytest.mark.parametrize("case", [{}, {"label_smoothing": 0.1}, {"weight": WEIGHTS, "reduction": "sum"}])
def test_cross_entropy_with_class_probabilities_matches_torch(case):
    t_x, m_x = _logits((3, 4), seed=4)
    rng = random.Random(5)
    rows = [[rng.random() for _ in range(4)] for _ in range(3)]
    probs = [[v / sum(row) for v in row] for row in rows]
    t_loss = torch.nn.functional.cross_entropy(t_x, torch.tensor(probs), **_kwargs(torch, case))
    m_loss = F.cross_entropy(m_x, mg.tensor(probs), **_kwargs(mg, case))
    _check_value_and_grad(t_loss, m_loss, t_x, m_x)


def test_cross_entropy_spatial_and_unbatched_match_torch():
    t_x, m_x = _logits((2, 3, 4), seed=6)  # (N, C, d1)
    t_y, m_y = _targets([[0, 1, 2, 1], [2, 2, 0, 1]])
    _check_value_and_grad(torch.nn.functional.cross_entropy(t_x, t_y), F.cross_entropy(m_x, m_y), t_x, m_x)
    t_v, m_v = _logits((4,), seed=7)  # unbatched (C,)
    t_loss = torch.nn.functional.cross_entropy(t_v, torch.tensor(2), label_smoothing=0.1)
    m_loss = F.cross_entropy(m_v, mg.tensor(2), label_smoothing=0.1)
    _check_value_and_grad(t_loss, m_loss, t_v, m_v)


def test_nll_loss_of_a_1d_input_and_a_one_element_target_matches_torch():
    t_x, m_x = _logits((4,), seed=11)
    for reduction in ("mean", "none"):
        t_loss = torch.nn.functional.nll_loss(t_x, torch.tensor([2]), reduction=reduction)
        assert_same(F.nll_loss(m_x, mg.tensor([2]), reduction=reduction), t_loss)


def test_all_ignored_targets_give_nan_mean_and_zero_gradient_like_torch():
    t_x, m_x = _logits((2, 3), seed=12)
    t_y, m_y = _targets([1, 1])
    t_loss = torch.nn.functional.nll_loss(t_x, t_y, ignore_index=1)
    m_loss = F.nll_loss(m_x, m_y, ignore_index=1)
    _check_value_and_grad(t_loss, m_loss, t_x, m_x)
    assert math.isnan(m_loss.item()) and m_x.grad.reshape(-1).tolist() == [0.0] * 6


def test_cross_entropy_equals_nll_of_log_softmax_by_hand():
    x = mg.tensor([[1.0, 2.0, 3.0]])
    # -log softmax(x)[2] = log(e + e^2 + e^3) - 3
    expected = math.log(math.e + math.e**2 + math.e**3) - 3
    assert F.cross_entropy(x, mg.tensor([2], dtype=mg.long)).item() == pytest.approx(expected, rel=1e-6)


def test_nll_loss_legacy_arguments_warn_and_map_to_reduction():
    t_x, m_x = _logits((3, 4))
    t_y, m_y = _targets([0, 1, 3])
    for legacy in ({"size_average": False}, {"reduce": False}):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            m_loss = nn.NLLLoss(**legacy)(m_x, m_y)
        with pytest.warns(UserWarning):
            t_loss = torch.nn.NLLLoss(**legacy)(t_x, t_y)
        assert_same(m_loss, t_loss)


def test_loss_errors_match_torch():
    cases = [
        lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0, 5])),
        lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0, 1, 2])),
        lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1]), reduction="avg"),
        lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([[0, 1, 2]])),  # batch size before rank
        lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0.0, 1.0])),
        lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0, 1]), weight=lib.ones(3, dtype=lib.float64)),
        lambda lib, x: lib.nn.functional.nll_loss(x[0], lib.tensor([0, 1])),
        lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0.0, 1.0])),  # not probabilities: indices
        lambda lib, x: lib.nn.functional.cross_entropy(x, lib.zeros(2, 3, dtype=lib.long)),
        lambda lib, x: lib.nn.functional.cross_entropy(x, lib.zeros(2, 3), ignore_index=1),
    ]
    for case in cases:
        with pytest.raises(Exception) as t_info:
            case(torch, torch.zeros(2, 3))
        with pytest.raises(type(t_info.value)) as m_info:
            case(mg, mg.zeros(2, 3))
        assert str(m_info.value) == str(t_info.value)


# -- activations and softmax -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activations_match_torch(name):
    t_x, m_x = _logits((3, 5), seed=8)
    _check_value_and_grad(getattr(torch.nn.functional, name)(t_x), getattr(F, name)(m_x), t_x, m_x)


def test_relu_inplace():
    x = mg.tensor([-1.0, 2.0, -3.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0, 0.0]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(name, dim):
    t_x, m_x = _logits((3, 4), seed=9)
    _check_value_and_grad(getattr(torch.nn.functional, name)(t_x, dim=dim), getattr(F, name)(m_x, dim=dim), t_x, m_x)


@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4)])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(shape):
    t_x, m_x = _logits(shape, seed=10)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax has been deprecated"):
        m_out = F.log_softmax(m_x)
    with pytest.warns(UserWarning):
        t_out = torch.nn.functional.log_softmax(t_x)
    assert_same(m_out, t_out)


def test_log_softmax_dtype_argument():
    _, m_x = _logits((2, 3))
    out = F.log_softmax(m_x, dim=1, dtype=mg.float64)
    assert out.dtype is mg.float64
