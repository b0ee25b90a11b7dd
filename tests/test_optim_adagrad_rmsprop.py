"""``optim.Adagrad`` and ``optim.RMSprop`` against torch 2.13.0: 50-step trajectories for every
option, the state (names, steps, buffers) and ``state_dict``/``load_state_dict``, errors, and
one step checked bit for bit where torch's MKL square root is exact.

torch's float32 ``sqrt`` goes through MKL's vector library, which is not correctly rounded (it
differs from the correctly rounded square root in about a fifth of the elements, by one ulp), so
the 50-step trajectories (driven by a fixed sequence of gradients, so that a difference does
not feed back through a loss) are compared to a relative 1e-5; most of their steps agree bit for
bit. A wrong update formula or order differs by far more.
"""

from __future__ import annotations

import random

import pytest

import minigrad as mg
import minigrad.optim as optim

torch = pytest.importorskip("torch")

ADAGRAD_OPTIONS = [
    {},
    {"lr": 0.1},
    {"lr": 0.1, "lr_decay": 0.05},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "initial_accumulator_value": 0.3, "eps": 1e-6},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.2, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1, "maximize": True},
]

RMSPROP_OPTIONS = [
    {},
    {"lr": 0.001},
    {"lr": 0.003, "alpha": 0.9},
    {"lr": 0.002, "momentum": 0.9},
    {"lr": 0.002, "centered": True},
    {"lr": 0.002, "centered": True, "momentum": 0.5, "alpha": 0.3},  # lerp with a weight >= 0.5
    {"lr": 0.002, "weight_decay": 0.1, "eps": 1e-4},
    {"lr": 0.002, "maximize": True, "centered": True},
]


def _gradients(steps: int, n: int) -> list[list[float]]:
    """A fixed sequence of gradients (the same in both libraries: differences in the updates do
    not feed back into the gradients, as they would through a loss)."""
    rng = random.Random(0)
    return [[rng.gauss(0, 1) * rng.choice([1e-3, 1.0, 10.0]) for _ in range(n)] for _ in range(steps)]


def _run(lib, optimizer_name, options, steps=50):
    params = [lib.tensor([0.5, -1.0, 2.0, 0.0, 3.0, -0.25]).requires_grad_(), lib.ones(2, 3).requires_grad_()]
    optimizer = getattr(lib.optim, optimizer_name)(params, **options)
    history = []
    for grads in _gradients(steps, 12):
        params[0].grad = lib.tensor(grads[:6])
        params[1].grad = lib.tensor(grads[6:]).reshape(2, 3)
        optimizer.step()
        history.append([v for p in params for v in p.detach().reshape(-1).tolist()])
    return history, optimizer, params


def _flat(values) -> list:
    return [v for row in values for v in _flat(row)] if isinstance(values, list) else [values]


def _close(ours, theirs, rel=1e-5):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, rel=rel, abs=1e-7), f"step {step}"


@pytest.mark.parametrize("options", ADAGRAD_OPTIONS)
def test_adagrad_trajectory_matches_torch(options):
    ours, m_opt, _ = _run(mg, "Adagrad", options)
    theirs, t_opt, _ = _run(torch, "Adagrad", options)
    _close(ours, theirs)
    m_state, t_state = m_opt.state_dict(), t_opt.state_dict()
    assert m_state["param_groups"] == t_state["param_groups"]
    for key in t_state["state"]:
        assert sorted(m_state["state"][key]) == sorted(t_state["state"][key]) == ["step", "sum"]
        assert m_state["state"][key]["step"].item() == t_state["state"][key]["step"].item() == 50.0
        _close([_flat(m_state["state"][key]["sum"].tolist())], [_flat(t_state["state"][key]["sum"].tolist())])


@pytest.mark.parametrize("options", RMSPROP_OPTIONS)
def test_rmsprop_trajectory_matches_torch(options):
    ours, m_opt, _ = _run(mg, "RMSprop", options)
    theirs, t_opt, _ = _run(torch, "RMSprop", options)
    _close(ours, theirs)
    m_state, t_state = m_opt.state_dict(), t_opt.state_dict()
    assert m_state["param_groups"] == t_state["param_groups"]
    for key in t_state["state"]:
        assert list(m_state["state"][key]) == list(t_state["state"][key])
        for name, value in t_state["state"][key].items():
            _close([_flat(m_state["state"][key][name].tolist())], [_flat(value.tolist())])


@pytest.mark.parametrize("name, options", [("Adagrad", ADAGRAD_OPTIONS[-1]), ("RMSprop", RMSPROP_OPTIONS[5])])
def test_load_state_dict_continues_like_torch(name, options):
    results = []
    for lib in (mg, torch):
        _, first, params = _run(lib, name, options, steps=5)
        second = getattr(lib.optim, name)(params, **options)
        second.load_state_dict(first.state_dict())
        for grads in _gradients(5, 12):
            params[0].grad = lib.tensor(grads[:6])
            params[1].grad = lib.tensor(grads[6:]).reshape(2, 3)
            second.step()
        results.append([v for p in params for v in p.detach().reshape(-1).tolist()])
    _close([results[0]], [results[1]])


def test_first_adagrad_step_is_bit_exact():
    """With a zero accumulator, sqrt(g * g) = |g| exactly in both libraries, so the whole first
    step (fma accumulation, division, update) must agree bit for bit."""
    values = [0.3, -1.7, 2.5e-3, 40.0, -0.0625, 1e-4]
    grads = [0.11, -3.3, 7e-4, 0.5, -2.0, 1e-3]
    results = []
    for lib in (mg, torch):
        param = lib.tensor(values, requires_grad=True)
        optimizer = lib.optim.Adagrad([param], lr=0.37, lr_decay=0.1, weight_decay=0.03)
        param.grad = lib.tensor(grads)
        optimizer.step()
        results.append((param.tolist(), optimizer.state[param]["sum"].tolist()))
    assert results[0] == results[1]


def test_rmsprop_fused_accumulations_are_bit_exact():
    """square_avg (mul then fma), grad_avg (lerp as an fma) and the momentum buffer of the first
    steps equal torch's bit for bit: only the square root may differ."""
    grads = [[0.11, -3.3, 7e-4, 0.5, -2.0, 1e-3], [0.2, 1.3, -7e-3, 0.05, 2.5, -1e-2]]
    results = []
    for lib in (mg, torch):
        param = lib.tensor([0.0] * 6, requires_grad=True)
        optimizer = lib.optim.RMSprop([param], lr=0.01, alpha=0.3, centered=True, momentum=0.9)
        state = []
        for g in grads:
            param.grad = lib.tensor(g)
            optimizer.step()
            state.append([optimizer.state[param][k].tolist() for k in ("square_avg", "grad_avg")])
        results.append(state)
    assert results[0] == results[1]


def test_state_created_at_construction_and_errors():
    param = mg.zeros(3, requires_grad=True)
    adagrad = optim.Adagrad([param], initial_accumulator_value=0.5)
    assert adagrad.state[param]["step"].item() == 0.0 and adagrad.state[param]["sum"].tolist() == [0.5] * 3
    assert len(optim.RMSprop([param]).state) == 0
    cases = [
        ("Adagrad", {"lr": -1}, "Invalid learning rate: -1"),
        ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
        ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
        ("Adagrad", {"eps": -1}, "Invalid epsilon value: -1"),
        ("RMSprop", {"alpha": -1}, "Invalid alpha value: -1"),
        ("RMSprop", {"momentum": -1}, "Invalid momentum value: -1"),
        ("RMSprop", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ]
    for name, options, message in cases:
        for lib in (mg, torch):
            with pytest.raises(ValueError, match=message):
                getattr(lib.optim, name)([lib.zeros(1, requires_grad=True)], **options)
