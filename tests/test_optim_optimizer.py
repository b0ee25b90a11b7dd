"""``optim.Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``."""

from __future__ import annotations

import pytest
from test_optim_sgd import _problem

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim


def _run(optimizer, params, loss, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    return [v for p in params for v in p.detach().reshape(-1).tolist()]


def test_param_groups_take_their_own_hyperparameters():
    a, b = mg.tensor([1.0]).requires_grad_(), mg.tensor([1.0]).requires_grad_()
    optimizer = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.5]
    a.grad, b.grad = mg.tensor([1.0]), mg.tensor([1.0])
    optimizer.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)


def test_add_param_group_fills_defaults_and_rejects_overlap():
    a, b = mg.zeros(1, requires_grad=True), mg.zeros(1, requires_grad=True)
    optimizer = optim.Adam([a], lr=0.01)
    optimizer.add_param_group({"params": [b], "betas": (0.5, 0.6)})
    group = optimizer.param_groups[1]
    assert group["lr"] == 0.01 and group["betas"] == (0.5, 0.6) and group["eps"] == 1e-8
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optimizer.add_param_group({"params": [a]})


@pytest.mark.parametrize(
    "params, error, message",
    [
        ([], ValueError, "optimizer got an empty parameter list"),
        (mg.zeros(2, requires_grad=True), TypeError, "should be an iterable of Tensors or dicts, but got"),
        ([mg.zeros(2, requires_grad=True) * 2], ValueError, "can't optimize a non-leaf Tensor"),
        ([1.0], TypeError, "optimizer can only optimize Tensors, but one of the params is float"),
        ({mg.zeros(1, requires_grad=True)}, TypeError, "optimizer parameters need to be organized in ordered"),
    ],
)
def test_constructor_errors(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params if not isinstance(params, set) else [{"params": params}], lr=0.1)


def test_zero_grad_sets_none_or_zeros():
    p = mg.ones(2, requires_grad=True)
    optimizer = optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert p.grad is None


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned():
    params, loss = _problem(mg)
    optimizer = optim.SGD(params, lr=0.1)

    def closure():
        optimizer.zero_grad()
        value = loss()
        value.backward()
        return value

    with mg.no_grad():
        returned = optimizer.step(closure)
    assert returned.requires_grad and params[0].grad is not None


def test_state_dict_layout_matches_torch():
    torch = pytest.importorskip("torch")

    def build(lib, module):
        model = module.Sequential(module.Linear(2, 3), module.Linear(3, 1))
        optimizer = lib.optim.Adam(
            [{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 0.5}], lr=0.01
        )
        model(lib.ones(4, 2)).sum().backward()
        optimizer.step()
        return optimizer.state_dict()

    ours, theirs = build(mg, nn), build(torch, torch.nn)
    assert ours["param_groups"] == theirs["param_groups"]
    assert list(ours["state"]) == list(theirs["state"]) == [0, 1, 2, 3]
    for index in ours["state"]:
        assert list(ours["state"][index]) == list(theirs["state"][index]) == ["step", "exp_avg", "exp_avg_sq"]
        assert ours["state"][index]["step"].item() == theirs["state"][index]["step"].item() == 1.0


@pytest.mark.parametrize(
    "optimizer_class, kwargs", [(optim.SGD, {"lr": 0.05, "momentum": 0.9}), (optim.Adam, {"lr": 0.02})]
)
def test_load_state_dict_continues_the_same_trajectory(optimizer_class, kwargs):
    params, loss = _problem(mg)
    straight = _run(optimizer_class(params, **kwargs), params, loss, 20)

    params, loss = _problem(mg)
    first = optimizer_class(params, **kwargs)
    _run(first, params, loss, 10)
    saved = first.state_dict()
    second = optimizer_class(params, lr=123.0)  # hyperparameters come back from the state dict
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == kwargs["lr"]
    assert second.param_groups[0]["params"][0] is params[0]
    resumed = _run(second, params, loss, 10)
    assert resumed == straight
    # the loaded state is a copy: the first optimizer's buffers did not move
    assert all(a is not b for a, b in zip(first.state[params[0]].values(), second.state[params[0]].values()))


def test_load_state_dict_checks_group_shapes():
    a, b = mg.zeros(1, requires_grad=True), mg.zeros(1, requires_grad=True)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    assert repr(ours) == repr(theirs)
