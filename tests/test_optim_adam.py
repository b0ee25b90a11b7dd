"""``optim.Adam`` and ``optim.AdamW``: 50-step trajectories equal torch 2.13.0's, plus hand checks."""

from __future__ import annotations

import math

import pytest
from test_optim_sgd import _trajectory

import minigrad as mg
import minigrad.optim as optim

ADAM_OPTIONS = [
    {},
    {"lr": 0.05},
    {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "maximize": True},
]


def _assert_close_trajectories(ours, theirs):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for got, want in zip(a, b):
            assert got == pytest.approx(want, rel=1e-4, abs=1e-5), f"step {step}"


@pytest.mark.parametrize("options", ADAM_OPTIONS)
def test_adam_trajectory_matches_torch(options):
    torch = pytest.importorskip("torch")
    _assert_close_trajectories(_trajectory(mg, optim.Adam, **options), _trajectory(torch, torch.optim.Adam, **options))


@pytest.mark.parametrize("options", [{}, {"lr": 0.02, "weight_decay": 0.5}, {"lr": 0.01, "amsgrad": True}])
def test_adamw_trajectory_matches_torch(options):
    torch = pytest.importorskip("torch")
    _assert_close_trajectories(
        _trajectory(mg, optim.AdamW, **options), _trajectory(torch, torch.optim.AdamW, **options)
    )


def test_adam_first_step_by_hand():
    # at t = 1: m = (1 - b1) g, v = (1 - b2) g^2, so the step is lr * g / (|g| + eps * sqrt(1 - b2))
    # (bias corrections cancel), i.e. lr * sign(g) up to eps
    p = mg.tensor([1.0, -1.0]).requires_grad_()
    optimizer = optim.Adam([p], lr=0.1)
    p.grad = mg.tensor([4.0, -0.5])
    optimizer.step()
    assert p.tolist() == pytest.approx([0.9, -0.9], rel=1e-6)
    state = optimizer.state[p]
    assert state["step"].item() == 1.0 and state["step"].dtype is mg.float32 and state["step"].dim() == 0
    assert state["exp_avg"].tolist() == pytest.approx([0.4, -0.05])
    assert state["exp_avg_sq"].tolist() == pytest.approx([0.016, 0.00025])


def test_adamw_decays_weights_before_the_step():
    p = mg.tensor([2.0]).requires_grad_()
    optimizer = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = mg.tensor([0.0])
    optimizer.step()
    # zero gradient: only the decay p * (1 - lr * wd) acts
    assert p.item() == pytest.approx(2.0 * (1 - 0.05))
    assert optimizer.param_groups[0]["decoupled_weight_decay"] is True


def test_adam_amsgrad_keeps_the_running_maximum():
    p = mg.tensor([0.0]).requires_grad_()
    optimizer = optim.Adam([p], lr=0.1, amsgrad=True)
    for g in (3.0, 0.0):
        p.grad = mg.tensor([g])
        optimizer.step()
    state = optimizer.state[p]
    assert state["max_exp_avg_sq"].item() == pytest.approx(0.001 * 9)
    assert state["exp_avg_sq"].item() == pytest.approx(0.999 * 0.001 * 9)
    assert not math.isnan(p.item())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -0.1}, "Invalid learning rate: -0.1"),
        ({"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ({"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
    ],
)
def test_adam_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Adam([mg.zeros(1, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_defaults_match_torch(name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([mg.zeros(1, requires_grad=True)]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in ours.items() if k != "params"} == {k: v for k, v in theirs.items() if k != "params"}
