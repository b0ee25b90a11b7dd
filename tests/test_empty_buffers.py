"""Outputs made with ``empty_buffer`` (not cleared first: with the Cython core, whatever the memory
held) must be written in full by their kernels. Each op runs once with ``empty_buffer`` clearing
its buffers (the reference), then again right after buffers of the outputs' sizes were filled
with NaN (or 0x55 bytes) and freed, so that the allocator hands that memory back: the results
must be the same bits, where an element a kernel left unwritten would show what was there."""

from __future__ import annotations

import math
import random
from array import array

import pytest

import minigrad as mg
import minigrad._tensor as tensor_module
from minigrad._backend import kernels
from minigrad._functions import indexing, linalg, pointwise, recurrent, reduction, views

USERS = (pointwise, views, linalg, indexing, reduction, recurrent)  # the modules whose ops take empty buffers


def _poison(n: int) -> None:
    """Fill and free buffers of n elements of each storage type, so that new ones reuse them."""
    for code in "fdqB":
        held = [array(code, [math.nan if code in "fd" else 0x55]) * n for _ in range(4)]
        del held


def _cleared(dt, n: int) -> array:
    return tensor_module._ZERO[dt.typecode] * n


def _results(op) -> list:
    out = op()
    return [(t.dtype, t.shape, t.reshape(-1).tolist()) for t in (out if isinstance(out, tuple) else (out,))]


rng = random.Random(0)
X = mg.tensor([rng.uniform(-3, 3) for _ in range(400 * 30)]).reshape(400, 30)
Y = mg.tensor([rng.uniform(-3, 3) for _ in range(30 * 20)]).reshape(30, 20)
IDX = mg.tensor([rng.randrange(400) for _ in range(25)])
SEQUENCE = mg.tensor([rng.uniform(-2, 2) for _ in range(5 * 4 * 6)]).reshape(5, 4, 6)
LAYERS = {name: getattr(mg.nn, name)(6, 64, bidirectional=True) for name in ("LSTM", "GRU", "RNN")}


def _recurrent(name: str) -> tuple:
    """A bidirectional layer's outputs and its weights' gradients (which read the gates and cells
    its forward kernel wrote into buffers of its own). Batch 4 x hidden 64: the final states too
    have _CLEARED_AT elements (smaller buffers are cleared)."""
    layer = LAYERS[name]
    layer.zero_grad()
    out, state = layer(SEQUENCE)
    out.sum().backward()
    return (out, *(state if isinstance(state, tuple) else (state,)), *(p.grad for p in layer.parameters()))


OPS = {
    "add": lambda: X + X.flip(0),
    "add scalar": lambda: X + 2.5,
    "scalar sub": lambda: 2.5 - X,
    "broadcast mul": lambda: X * X[0],
    "tanh": lambda: X.tanh(),
    "neg int": lambda: -(X * 10).long(),
    "where": lambda: mg.where(X > 0, X, X * 2),
    "cat": lambda: mg.cat([X, X[:, :7], X[:, 3:4]], 1),
    "matmul": lambda: X[:20, :10] @ Y[:10, :15],
    "matmul blocked": lambda: X @ Y,
    "matmul blocked float64": lambda: X.double() @ Y.double(),
    "index_select": lambda: X.index_select(0, IDX),
    "embedding": lambda: mg.nn.functional.embedding(IDX, X),
    "max dim": lambda: X.max(1),
    "min dim int": lambda: (X * 10).long().min(1),
    "lstm": lambda: _recurrent("LSTM"),
    "gru": lambda: _recurrent("GRU"),
    "rnn": lambda: _recurrent("RNN"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_outputs_are_written_in_full(name, monkeypatch):
    op = OPS[name]
    with monkeypatch.context() as patched:
        for module in USERS:
            patched.setattr(module, "empty_buffer", _cleared)
        reference = _results(op)
    assert max(len(values) for _, _, values in reference) >= tensor_module._CLEARED_AT  # (smaller are cleared)
    for _ in range(3):
        for _, _, values in reference:
            _poison(len(values))
        assert _results(op) == reference


def test_zeros_are_zeros_in_reused_memory():
    """``K.zeros`` of a large buffer (whose whole 2 MiB pages the Cython core asks to be huge
    pages before clearing it) is all zeros, also where the allocator hands back memory that held
    other values."""
    n = 3 << 20  # 12 MiB of float32
    for _ in range(3):
        _poison(n)
        buffer = kernels.zeros(array("f"), n)
        assert len(buffer) == n and buffer.count(0.0) == n
