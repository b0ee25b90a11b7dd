"""``nn.utils.skip_init`` and ``nn.init.skipping_draws``: modules built without drawing weights.

What could go wrong: a draw that still happens (the generator moves, so later numbers differ
from a run that never built the module), a skip that leaks out of its block (later modules get
no weights), or a module whose shapes or structure differ from one built normally.
"""

from __future__ import annotations

import threading

import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn import init


class Net(nn.Module):
    def __init__(self, words: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(words, 4, padding_idx=0)
        self.lstm = nn.LSTM(4, 3, bidirectional=True)
        self.out = nn.Linear(6, 2)
        init.normal_(self.embed.weight, 0.0, 0.1)


def test_skip_init_draws_nothing_and_leaves_zeros():
    mg.manual_seed(7)
    expected_next = mg.rand(5).tolist()
    mg.manual_seed(7)
    net = nn.utils.skip_init(Net, 50)
    assert mg.rand(5).tolist() == expected_next  # the generator did not move
    for name, parameter in net.named_parameters():
        assert set(parameter.reshape(-1).tolist()) == {0.0}, name
        assert parameter.requires_grad, name


def test_skip_init_builds_the_same_structure_and_loads_a_state():
    mg.manual_seed(3)
    trained = Net(20)
    skipped = nn.utils.skip_init(Net, 20)
    shapes = [(n, p.shape) for n, p in trained.named_parameters()]
    assert [(n, p.shape) for n, p in skipped.named_parameters()] == shapes
    skipped.load_state_dict(trained.state_dict())
    for (name, a), b in zip(skipped.named_parameters(), trained.parameters()):
        assert a.tolist() == b.tolist(), name


def test_the_skip_ends_with_its_block_even_on_error():
    with pytest.raises(ZeroDivisionError):
        with init.skipping_draws():
            1 / 0
    mg.manual_seed(0)
    layer = nn.Linear(3, 2)
    assert any(v != 0.0 for v in layer.weight.reshape(-1).tolist())


def test_the_skip_belongs_to_its_thread():
    inside = threading.Event()
    release = threading.Event()

    def build_skipped() -> None:
        with init.skipping_draws():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=build_skipped)
    worker.start()
    inside.wait(5)
    try:
        weight = nn.Linear(3, 2).weight
    finally:
        release.set()
        worker.join()
    assert any(v != 0.0 for v in weight.reshape(-1).tolist())


def test_skip_init_rejects_what_is_not_a_module_class():
    with pytest.raises(RuntimeError, match="Expected a Module; got"):
        nn.utils.skip_init(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Expected a Module; got <class 'int'>"):
        nn.utils.skip_init(int)
