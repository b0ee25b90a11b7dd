"""``set_num_threads``/``get_num_threads`` (and the inter-op pair): torch's checks and messages, and
the same results on any number of threads (each sum of a shared-out product is one thread's)."""

from __future__ import annotations

import random
from array import array

import pytest

import minigrad
from minigrad._backend import kernels as K


@pytest.fixture(autouse=True)
def one_thread_after():
    yield
    minigrad.set_num_threads(1)


@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "2", True, None])
def test_bad_counts_raise_torchs_errors(name, value):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        getattr(torch, name)(value)
    with pytest.raises(RuntimeError) as got:
        getattr(minigrad, name)(value)
    assert str(got.value) == str(expected.value)


def test_counts_round_trip():
    assert minigrad.get_num_threads() == 1
    minigrad.set_num_threads(2)
    assert minigrad.get_num_threads() == 2
    minigrad.set_num_interop_threads(3)
    assert minigrad.get_num_interop_threads() == 3


def test_the_kernel_checks_its_count():
    with pytest.raises(ValueError, match="positive"):
        K.set_num_threads(0)


def lstm_run(steps: int, batch: int, features: int, hidden: int) -> list:
    rng = random.Random(7)
    w = lambda n: array("f", [rng.uniform(-0.5, 0.5) for _ in range(n)])  # noqa: E731
    zeros = lambda n: array("f", bytes(4 * n))  # noqa: E731
    shape, four = (steps, batch, features, hidden), 4 * hidden
    x, w_ih, w_hh, b_ih, b_hh = w(steps * batch * features), w(four * features), w(four * hidden), w(four), w(four)
    h0, c0 = w(batch * hidden), w(batch * hidden)
    forward = [zeros(n) for n in (steps * batch * hidden, batch * hidden, batch * hidden, steps * batch * four,
                                  steps * batch * hidden)]  # fmt: skip
    K.lstm_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, shape, False, *forward)
    out, _, _, gates, cells = forward
    backward = [zeros(len(v)) for v in (x, w_ih, w_hh, b_ih, h0, c0)]
    K.lstm_backward(x, w_ih, w_hh, h0, c0, out, gates, cells, w(len(out)), w(len(h0)), w(len(c0)), shape, False,
                    *backward)
    return [v.tobytes() for v in forward + backward]


def test_products_give_the_same_bits_on_two_threads():
    """Shapes past the threshold where the Cython core shares a product's panels among threads."""
    rng = random.Random(3)
    m, k, n = 70, 300, 700
    a = array("f", [rng.uniform(-1, 1) for _ in range(m * k)])
    b = array("f", [rng.uniform(-1, 1) for _ in range(k * n)])
    results = []
    for threads in (1, 2):
        minigrad.set_num_threads(threads)
        out = array("f", bytes(4 * m * n))
        K.matmul(a, b, 1, m, k, n, out)
        results.append((out.tobytes(), lstm_run(6, 32, 40, 160)))
    assert results[0] == results[1]
