"""``optim.SGD``: 50-step trajectories equal torch 2.13.0's for every option, plus hand checks."""

from __future__ import annotations

import random

import pytest

import minigrad as mg
import minigrad.optim as optim


def _problem(lib, seed: int = 0):
    """Parameters W (3, 4), b (3,) and a loss sum((tanh(x W^T + b) - y)^2) on fixed data."""
    rng = random.Random(seed)
    values = lambda n: [rng.uniform(-1, 1) for _ in range(n)]  # noqa: E731
    w = lib.tensor(values(12)).reshape(3, 4).requires_grad_()
    b = lib.tensor(values(3)).requires_grad_()
    x = lib.tensor(values(20)).reshape(5, 4)
    y = lib.tensor(values(15)).reshape(5, 3)

    def loss():
        return ((lib.tanh(x @ w.t() + b) - y) ** 2).sum()

    return [w, b], loss


def _trajectory(lib, optimizer_class, steps: int = 50, **kwargs) -> list[list[float]]:
    params, loss = _problem(lib)
    optimizer = optimizer_class(params, **kwargs)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
        history.append([v for p in params for v in p.detach().reshape(-1).tolist()])
    return history


SGD_OPTIONS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.02, "maximize": True},
    {"lr": 0.03, "momentum": 0.5, "weight_decay": 0.01, "nesterov": True, "maximize": True},
]


@pytest.mark.parametrize("options", SGD_OPTIONS)
def test_sgd_trajectory_matches_torch(options):
    torch = pytest.importorskip("torch")
    ours = _trajectory(mg, optim.SGD, **options)
    theirs = _trajectory(torch, torch.optim.SGD, **options)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for got, want in zip(a, b):
            assert got == pytest.approx(want, rel=1e-4, abs=1e-5), f"step {step}"


def test_sgd_step_by_hand():
    p = mg.tensor([1.0, -2.0]).requires_grad_()
    optimizer = optim.SGD([p], lr=0.5, momentum=0.5)
    for _ in range(2):
        p.grad = mg.tensor([1.0, 1.0])
        optimizer.step()
    # step 1: buf = g = 1, p = p - 0.5;  step 2: buf = 0.5 * 1 + 1 = 1.5, p = p - 0.75
    assert p.tolist() == [1.0 - 0.5 - 0.75, -2.0 - 0.5 - 0.75]
    assert optimizer.state[p]["momentum_buffer"].tolist() == [1.5, 1.5]


def test_sgd_skips_parameters_without_gradient_and_keeps_no_state_without_momentum():
    a, b = mg.tensor([1.0]).requires_grad_(), mg.tensor([2.0]).requires_grad_()
    optimizer = optim.SGD([a, b], lr=1.0)
    a.grad = mg.tensor([0.5])
    optimizer.step()
    assert a.tolist() == [0.5] and b.tolist() == [2.0]
    assert len(optimizer.state) == 0


def test_sgd_step_is_not_recorded_and_bumps_the_version():
    p = mg.tensor([1.0, 2.0]).requires_grad_()
    (p * p).sum().backward()
    version = p._version
    optim.SGD([p], lr=0.1).step()
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    assert p._version > version
    assert p.tolist() == pytest.approx([0.8, 1.6])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "Invalid learning rate: -1.0"),
        ({"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"lr": 0.1, "weight_decay": -1}, "Invalid weight_decay value: -1"),
        ({"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov momentum requires"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([mg.zeros(1, requires_grad=True)], **kwargs)


def test_sgd_defaults_match_torch():
    torch = pytest.importorskip("torch")
    ours = optim.SGD([mg.zeros(1, requires_grad=True)]).param_groups[0]
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in ours.items() if k != "params"} == {k: v for k, v in theirs.items() if k != "params"}
