"""``add_(other, alpha=...)`` (the optimizers' update) equals torch's bit for bit."""

import random
import struct

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _bits(values):
    return [struct.pack("<f", v) for v in values]


@pytest.mark.parametrize("n", [1, 7, 8, 33, 100])
@pytest.mark.parametrize("alpha", [-0.1, -0.001, 0.3333333333])
def test_add_with_alpha_matches_torch_bits(n, alpha):
    rng = random.Random(n)
    p = [rng.uniform(-2, 2) for _ in range(n)]
    g = [rng.uniform(-5, 5) for _ in range(n)]
    ours = minigrad.tensor(p)
    theirs = torch.tensor(p)
    with minigrad.no_grad():
        ours.add_(minigrad.tensor(g), alpha=alpha)
    theirs.add_(torch.tensor(g), alpha=alpha)
    assert _bits(ours.tolist()) == _bits(theirs.tolist())


def test_sgd_steps_match_torch_bits():
    rng = random.Random(0)
    p = [rng.uniform(-1, 1) for _ in range(50)]
    ours = minigrad.nn.Parameter(minigrad.tensor(p))
    theirs = torch.nn.Parameter(torch.tensor(p))
    opt_ours = minigrad.optim.SGD([ours], lr=0.1)
    opt_theirs = torch.optim.SGD([theirs], lr=0.1)
    for _ in range(20):
        for param, opt, lib in ((ours, opt_ours, minigrad), (theirs, opt_theirs, torch)):
            opt.zero_grad()
            (param * param * lib.tensor(p)).sum().backward()
            opt.step()
    assert _bits(ours.tolist()) == _bits(theirs.tolist())
