"""The sampling kernels (torch's CPU random streams) of the Cython core against the pure ones, and
large draws against torch 2.13.0 (run with ATEN_CPU_CAPABILITY=avx2, as conftest.py sets).

The pure kernels (``minigrad/_kernels/sampling.py``) are the reference: the Cython twins must store
the same bits and leave the generator's state (the 624 words, the read position and the cached
normal) as the pure ones do, on every path: MT19937 words, ``uniform_`` (float32: one word per
value and a float32 fused multiply-add; float64: two words), ``normal_``'s 16-element block path
(float32: the AVX2 kernel's Cephes logf/sincosf with fused multiply-adds; float64: libm) and tail
rule, its serial path with the cached normal, and ``bernoulli_(p)``. Floats are compared as bytes.
"""

from __future__ import annotations

import math
from array import array

import pytest
from conftest import cython_core, kernels_for

import minigrad
import minigrad.nn as mnn
from minigrad import _kernels as P
from minigrad import random as mrandom


@pytest.fixture(scope="module")
def C():
    core = cython_core()
    if core is None:
        pytest.skip("the Cython core minigrad_c is not built")
    return core


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


SIZES = [0, 1, 15, 16, 17, 100003]
MEAN_STD = [(0.0, 1.0), (-0.7, 2.5)]


def seeded_state(seed: int, drawn: int) -> array:
    """The state of a generator seeded with ``seed`` after ``drawn`` words (625 when none: fresh)."""
    g = minigrad.Generator().manual_seed(seed)
    g._engine.words(drawn)
    return g._engine.state[:]


def zeros(tc: str, n: int) -> array:
    return array(tc, bytes(n * array(tc).itemsize))


def run_both(C, name: str, n: int, tc: str, *args, drawn: int = 0) -> tuple:
    """The kernel ``name`` on a copy of the same state in each backend: (out, state, result) twice."""
    results = []
    for kernels in (P, C):
        state, out = seeded_state(n + len(args), drawn), zeros(tc, n)
        returned = getattr(kernels, name)(state, *args, out)
        results.append((out.tobytes(), state.tolist(), returned))
    return results


# ------------------------------------------------------------------------- Cython against pure


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("drawn", [0, 5, 623])
def test_words_are_the_pure_words(C, n, drawn):
    pure, cython = run_both(C, "mt19937_words", n, "I", drawn=drawn)
    assert cython == pure


@pytest.mark.parametrize("tc", ["f", "d"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-0.125, 0.125), (-3.3, 7.1), (1.0, 1.0 + 2.0**-23)])
def test_uniform_fill_is_bit_for_bit_the_pure_kernel(C, tc, n, bounds):
    pure, cython = run_both(C, "uniform_fill", n, tc, *bounds, drawn=7)
    assert cython == pure


@pytest.mark.parametrize("tc", ["f", "d"])
@pytest.mark.parametrize("n", [n for n in SIZES if n >= 16] + [31, 32, 33, 1000])
@pytest.mark.parametrize("mean_std", MEAN_STD)
def test_block_normal_is_bit_for_bit_the_pure_kernel(C, tc, n, mean_std):
    pure, cython = run_both(C, "normal_fill", n, tc, *mean_std, drawn=11)
    assert cython == pure


@pytest.mark.parametrize("tc", ["f", "d"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("cached", [None, -0.8326])
@pytest.mark.parametrize("mean_std", MEAN_STD)
def test_serial_normal_is_bit_for_bit_the_pure_kernel_with_its_cache(C, tc, n, cached, mean_std):
    pure, cython = run_both(C, "normal_serial_fill", n, tc, *mean_std, cached, drawn=3)
    assert cython == pure
    assert (pure[2] is None) == ((n + (cached is not None)) % 2 == 0)  # an odd count leaves one cached


@pytest.mark.parametrize("tc", ["f", "d", "q", "B", "i", "h", "b"])
@pytest.mark.parametrize("n", SIZES)
def test_bernoulli_fill_is_bit_for_bit_the_pure_kernel(C, tc, n):
    for p in (0.0, 0.3, 0.5, 1.0, 2.0**-53):
        pure, cython = run_both(C, "bernoulli_fill", n, tc, p, drawn=600)
        assert cython == pure


def test_generators_on_either_backend_draw_alike(C, monkeypatch):
    """One sequence of draws through ``Generator`` on the pure kernels and on the Cython ones: the
    same values, and the same state bytes (words, position, cached normal) after every call."""
    calls = [
        lambda g: g.normal(3),  # serial: leaves a cached normal
        lambda g: g.normal(100003, 0.5, 3.0),  # block path and tail; the cache stays
        lambda g: g.normal(1, double=True),  # the cached one
        lambda g: g.uniform(100003, -0.25, 0.25),
        lambda g: g.uniform(17, -2.0, 5.0, double=True),
        lambda g: g.normal(40, -1.0, 0.1, double=True),
        lambda g: g.normal(20, contiguous=False),  # serial for a non-contiguous tensor, any size
        lambda g: g.bernoulli(1001, 0.9),
        lambda g: g.randint(5, 0, 2**40),
        lambda g: g.normal(16),
    ]
    for kernels in (P, C):
        monkeypatch.setattr(mrandom, "K", kernels)
        g = mrandom.Generator().manual_seed(2024)
        trace = []
        for call in calls:
            values = call(g)
            trace.append((array("d", values).tobytes(), g.get_state()))
        if kernels is P:
            expected = trace
    assert trace == expected


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("backend", ["python", "cython"])
def test_both_backends_refuse_what_the_block_path_and_bernoulli_cannot_draw(backend):
    K = kernels_for(backend)
    state = seeded_state(0, 0)
    with pytest.raises(ValueError, match="at least 16 elements"):
        K.normal_fill(state, 0.0, 1.0, zeros("f", 15))
    for p in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="p must be in"):
            K.bernoulli_fill(state, p, zeros("f", 3))
    assert state == seeded_state(0, 0)  # nothing drawn


def test_cython_kernels_check_the_state_before_drawing(C):
    good = seeded_state(1, 10)
    for bad, error in [
        (good[:-1], ValueError),  # 624 entries
        (good + array("I", [0]), ValueError),
        (good[:-1] + array("I", [626]), ValueError),  # a read position past 625
        (array("q", good), TypeError),
        (array("i", [w % 2**31 for w in good]), TypeError),
        (good.tolist(), TypeError),
    ]:
        for call in (
            lambda s: C.mt19937_words(s, zeros("I", 3)),
            lambda s: C.uniform_fill(s, 0.0, 1.0, zeros("f", 3)),
            lambda s: C.normal_fill(s, 0.0, 1.0, zeros("d", 16)),
            lambda s: C.normal_serial_fill(s, 0.0, 1.0, None, zeros("f", 3)),
            lambda s: C.bernoulli_fill(s, 0.5, zeros("B", 3)),
        ):
            with pytest.raises(error):
                call(bad)
    with pytest.raises(ValueError, match="must not be the state"):
        C.mt19937_words(good, good)
    with pytest.raises(TypeError):
        C.uniform_fill(good, 0.0, 1.0, zeros("q", 3))  # integers: no uniform_ kernel
    with pytest.raises(TypeError):
        C.normal_serial_fill(good, 0.0, 1.0, "0.5", zeros("f", 3))
    assert good == seeded_state(1, 10)


# ------------------------------------------------------------------------- large draws vs torch


def torch_pair(torch, seed: int) -> tuple:
    torch.manual_seed(seed)
    minigrad.manual_seed(seed)
    return torch, minigrad


def same_bits(got, expected) -> bool:
    """Two tensors' values as the same doubles, byte for byte (float32 values are exact in double)."""
    return array("d", got.flatten().tolist()).tobytes() == array("d", expected.flatten().tolist()).tobytes()


def assert_same_state(torch):
    assert bytes(torch.get_rng_state().tolist()) == minigrad.get_rng_state()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
def test_tensor_draws_match_torch_with_the_state_after(torch, dtype, n):
    torch_pair(torch, n)
    for mean, std in MEAN_STD:
        expected = torch.empty(n, dtype=getattr(torch, dtype)).normal_(mean, std)
        got = minigrad.empty(n, dtype=getattr(minigrad, dtype)).normal_(mean, std)
        assert same_bits(got, expected)
        assert_same_state(torch)
    expected = torch.empty(n, dtype=getattr(torch, dtype)).uniform_(-0.0625, 0.125)
    got = minigrad.empty(n, dtype=getattr(minigrad, dtype)).uniform_(-0.0625, 0.125)
    assert same_bits(got, expected)
    assert_same_state(torch)
    expected, got = torch.randn(n, dtype=getattr(torch, dtype)), minigrad.randn(n, dtype=getattr(minigrad, dtype))
    assert same_bits(got, expected)
    assert_same_state(torch)


def test_initialising_layers_matches_torch(torch):
    """The weights of the issue's measurements, bit for bit: nn.init on a (10000, 64) tensor and a
    bidirectional LSTM's parameters."""
    torch_pair(torch, 16)
    for init in ("normal_", "uniform_"):
        expected = getattr(torch.nn.init, init)(torch.empty(10000, 64))
        got = getattr(mnn.init, init)(minigrad.empty(10000, 64))
        assert same_bits(got, expected)
    expected = list(torch.nn.LSTM(96, 64, bidirectional=True).parameters())
    got = list(mnn.LSTM(96, 64, bidirectional=True).parameters())
    assert len(got) == len(expected) == 8
    assert all(same_bits(g.detach(), e.detach()) for g, e in zip(got, expected))
    assert_same_state(torch)


VIEWS = {  # (storage shape, the view of it that is filled)
    "transposed": ((4, 5), lambda t: t.t()),
    "permuted": ((3, 4, 5), lambda t: t.permute(2, 0, 1)),
    "stepped": ((6, 8), lambda t: t[:, ::2]),
    "transposed slice": ((7, 9), lambda t: t[1:, 2:7].t()),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_non_contiguous_fills_go_in_memory_order_as_torch(torch, view, dtype):
    """torch's kernels visit a non-contiguous tensor by increasing address (not row by row):
    uniform_ and normal_ (which takes the serial path there, whatever the size)."""
    shape, make_view = VIEWS[view]
    torch_pair(torch, 77)
    for fill, args in [("uniform_", (-1.5, 0.5)), ("normal_", (0.25, 3.0)), ("uniform_", ())]:
        expected_base = torch.zeros(shape, dtype=getattr(torch, dtype))
        got_base = minigrad.zeros(shape, dtype=getattr(minigrad, dtype))
        expected = getattr(make_view(expected_base), fill)(*args)
        got = getattr(make_view(got_base), fill)(*args)
        assert not got.is_contiguous() and got.shape == expected.shape
        assert same_bits(got_base, expected_base), fill  # untouched elements too
        assert_same_state(torch)
