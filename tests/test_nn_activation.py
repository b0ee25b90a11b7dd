"""Activation modules against torch: same outputs and gradients, same repr."""

import pytest

import minigrad
import minigrad.nn as nn

torch = pytest.importorskip("torch")

VALUES = [[-2.0, -0.5, 0.0, 0.25, 3.0], [1.5, -1.0, 0.5, -3.0, 2.0]]


@pytest.mark.parametrize(
    "name, args",
    [("ReLU", ()), ("Tanh", ()), ("Sigmoid", ()), ("Softmax", (1,)), ("LogSoftmax", (1,)), ("Identity", ())],
)
def test_activation_matches_torch(name, args):
    ours_in = minigrad.tensor(VALUES, requires_grad=True)
    theirs_in = torch.tensor(VALUES, requires_grad=True)
    ours = getattr(nn, name)(*args)
    theirs = getattr(torch.nn, name)(*args)
    weights = [[0.3, -1.0, 2.0, 0.5, 1.0], [1.0, 0.1, -0.7, 2.0, -0.2]]
    out, expected = ours(ours_in), theirs(theirs_in)
    assert out.reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), rel=1e-6, abs=1e-7)
    (out * minigrad.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert ours_in.grad.reshape(-1).tolist() == pytest.approx(theirs_in.grad.reshape(-1).tolist(), rel=1e-5, abs=1e-6)
    assert repr(ours) == repr(theirs)


def test_sequential_of_activations_repr_matches_torch():
    minigrad.manual_seed(0)
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.LogSoftmax(dim=1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.LogSoftmax(dim=1)
    )
    assert repr(ours) == repr(theirs)
    x = [[0.5, -1.0, 2.0]]
    assert ours(minigrad.tensor(x)).reshape(-1).tolist() == pytest.approx(
        theirs(torch.tensor(x)).reshape(-1).tolist(), rel=1e-5
    )
