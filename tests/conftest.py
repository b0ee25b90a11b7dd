"""Shared helpers for the differential op tests: one expression run on torch 2.13.0 and minigrad.

``check_op`` is teenygrad's ``helper_test_op``: it builds the same random inputs in both
libraries (optionally as non-contiguous views), runs the op, and compares the outputs and the
gradients of a non-trivial scalar loss ``sum(out * w)`` (``w`` fixed random weights) with
respect to every float input. ``check_raises`` compares the exception type and the key parts
of the message on bad input.

Test modules import these with ``from conftest import check_op``; torch is imported lazily so
that test files which do not need it still run without it.
"""

from __future__ import annotations

import inspect
import os
import random
from collections.abc import Callable, Sequence
from math import prod
from types import ModuleType
from typing import Any

import pytest

import minigrad as mg
from minigrad import _kernels as pure_kernels
from minigrad._backend import _flag

# torch's CPU kernels default to AVX-512 on this machine; minigrad follows the AVX2 ones (where a
# result depends on the vector width, e.g. the lanes of a float32 norm). Set before torch loads.
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")


def cython_core() -> ModuleType | None:
    """The Cython kernels (``minigrad_c._kernels``), or None where the core is not built. With
    MINIGRAD_REQUIRE_EXTENSIONS set a missing core is an ImportError, so that the Cython half of
    a test cannot be skipped in the run that requires it."""
    try:
        from minigrad_c import _kernels
    except ImportError:
        if _flag("MINIGRAD_REQUIRE_EXTENSIONS"):
            raise
        return None
    return _kernels


def torch_sums_as_ours(m: int, k: int, b_transposed: bool) -> bool:
    """Whether torch's sgemm sums an (m, k) @ (k, n) product in the runs the Cython core copies
    (its TORCH_RUNS; the core must be built), as measured: on the AMD EPYC, every layout tested;
    on the Intel Xeon (AVX-512, AMX), not when torch sees b transposed and a has fewer than 16
    rows and k is over 192 (MKL sums those as dot products across vector lanes), nor when b is
    transposed and k is over 768 (runs of 384 to the end instead of two halves at the end)."""
    if cython_core().TORCH_RUNS == "amd" or not b_transposed:
        return True
    return k <= 768 and (m >= 16 or k <= 192)


class GradXSpy:
    """A kernel module that passes every call through to ``kernels`` and keeps the ``grad_x``
    buffer each call of the backward kernel ``name`` received, to check after the call what a
    layer asked for (an empty grad_x: x's gradient not wanted) and what the kernel did with it."""

    def __init__(self, kernels: ModuleType, name: str) -> None:
        self._kernels, self._name, self.grad_x = kernels, name, []

    def __getattr__(self, attribute: str) -> Any:
        function = getattr(self._kernels, attribute)
        if attribute != self._name:
            return function

        def backward(*args: Any) -> None:
            self.grad_x.append(inspect.signature(function).bind(*args).arguments["grad_x"])
            function(*args)

        return backward


def kernels_for(backend: str) -> ModuleType:
    """The kernel module of a backend: the pure one for "python", the Cython one for "cython"
    (the test skipped where the core is not built)."""
    if backend == "python":
        return pure_kernels
    core = cython_core()
    if core is None:
        pytest.skip("the Cython core minigrad_c is not built")
    return core


# Tolerances, per element: |minigrad - torch| <= atol + rtol * |torch| for each element.
TOLERANCES = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-13)}


def _torch() -> Any:
    return pytest.importorskip("torch")


def torch_dtype(name: str) -> Any:
    torch = _torch()
    return getattr(torch, name)  # float32, int8, bool, ...: the same names in both libraries


def random_values(n: int, rng: random.Random, low: float = -2.0, high: float = 2.0) -> list[float]:
    return [rng.uniform(low, high) for _ in range(n)]


def make_pair(values: list, shape: tuple, dtype: str, requires_grad: bool, layout: str) -> tuple:
    """(torch leaf, minigrad leaf, torch input, minigrad input) holding ``values`` in ``shape``.

    The leaves are flat; the inputs are views of them with the requested ``layout``:
    ``"contiguous"``, ``"permuted"`` (stored with the dims reversed, then permuted back) or
    ``"strided"`` (stored twice as long along dim 0, then sliced with step 2).
    """
    torch = _torch()
    n = prod(shape)
    if layout == "strided" and shape:
        # each row is followed by a row of filler values that must never be read
        stored_shape = (2 * shape[0],) + tuple(shape[1:])
        row = n // shape[0] if shape[0] else 0
        stored = []
        for i in range(shape[0]):
            stored += values[i * row : (i + 1) * row] + [99.0] * row
    elif layout == "permuted" and len(shape) >= 2:
        stored_shape = tuple(reversed(shape))
        # stored[rev index] = values[index], so that permuting back gives ``values`` row-major
        flat_t = torch.tensor(values, dtype=torch.float64).reshape(shape).permute(*reversed(range(len(shape))))
        stored = flat_t.contiguous().reshape(-1).tolist()
    else:
        stored_shape, stored = tuple(shape), list(values)
    t_leaf = torch.tensor(stored, dtype=torch_dtype(dtype), requires_grad=requires_grad)
    m_leaf = mg.tensor(stored, dtype=mg._dtype.BY_NAME[dtype], requires_grad=requires_grad)
    t_x, m_x = t_leaf.reshape(stored_shape), m_leaf.reshape(stored_shape)
    if layout == "strided" and shape:
        t_x, m_x = t_x[::2], m_x[::2]
    elif layout == "permuted" and len(shape) >= 2:
        order = tuple(reversed(range(len(shape))))
        t_x, m_x = t_x.permute(*order), m_x.permute(*order)
    return t_leaf, m_leaf, t_x, m_x


def assert_same(
    m_out: Any,
    t_out: Any,
    dtype: str = "float32",
    rtol: float | None = None,
    atol: float | None = None,
    exact: bool = False,
):
    """minigrad tensor ``m_out`` equals torch tensor ``t_out``: shape, dtype and values, each
    element within its own tolerance (``exact``: bit for bit, NaN equal to NaN)."""
    torch = _torch()
    assert isinstance(m_out, mg.Tensor), f"expected a minigrad Tensor, got {type(m_out).__name__}"
    assert tuple(m_out.shape) == tuple(t_out.shape), f"shape {tuple(m_out.shape)} != torch {tuple(t_out.shape)}"
    assert str(t_out.dtype) == "torch." + m_out.dtype.name, f"dtype {m_out.dtype} != {t_out.dtype}"
    got = torch.tensor(m_out.tolist(), dtype=t_out.dtype).reshape(t_out.shape)
    expected = t_out.detach()
    if not t_out.dtype.is_floating_point:
        assert torch.equal(got, expected), f"\nminigrad {got}\ntorch    {expected}"
        return
    if exact:
        same = (got == expected) & (torch.signbit(got) == torch.signbit(expected)) | (got.isnan() & expected.isnan())
        assert bool(same.all()), f"not bit-exact:\nminigrad {got.tolist()}\ntorch    {expected.tolist()}"
        return
    default_rtol, default_atol = TOLERANCES.get(dtype, TOLERANCES["float32"])
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    torch.testing.assert_close(got, expected, rtol=rtol, atol=atol, equal_nan=True)


def _as_list(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_op(
    shapes: Sequence[tuple],
    fn: Callable,
    mg_fn: Callable | None = None,
    *,
    dtype: str = "float32",
    low: float = -2.0,
    high: float = 2.0,
    layout: str = "contiguous",
    grad: bool = True,
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    values: Sequence[list] | None = None,
    exact: bool = False,
) -> None:
    """Run ``fn`` on torch tensors and ``mg_fn`` (default ``fn``) on minigrad tensors of ``shapes``.

    Compares every output (shape, dtype, values) and, when ``grad``, the gradient of
    ``sum_k sum(out_k * w_k)`` with respect to each input. ``values`` overrides the random
    inputs (one flat list per shape). ``exact`` compares the outputs bit for bit.
    """
    torch = _torch()
    rng = random.Random(seed)
    mg_fn = fn if mg_fn is None else mg_fn
    pairs = []
    for i, shape in enumerate(shapes):
        vals = list(values[i]) if values is not None else random_values(prod(shape), rng, low, high)
        pairs.append(make_pair(vals, tuple(shape), dtype, grad, layout))
    t_out = _as_list(fn(*[p[2] for p in pairs]))
    m_out = _as_list(mg_fn(*[p[3] for p in pairs]))
    assert len(m_out) == len(t_out), f"{len(m_out)} outputs, torch has {len(t_out)}"
    for m, t in zip(m_out, t_out):
        assert_same(m, t, dtype, rtol, atol, exact)
    if not grad:
        return
    t_loss, m_loss = 0.0, 0.0
    for m, t in zip(m_out, t_out):
        if not t.requires_grad:
            assert not m.requires_grad, "minigrad output requires grad where torch's does not"
            continue
        assert m.requires_grad, "torch output requires grad but minigrad's does not"
        w = random_values(t.numel(), rng)
        t_loss = t_loss + (t * torch.tensor(w, dtype=t.dtype).reshape(t.shape)).sum()
        m_loss = m_loss + (m * mg.tensor(w, dtype=m.dtype).reshape(t.shape)).sum()
    if isinstance(t_loss, float):
        return
    t_loss.backward()
    m_loss.backward()
    for t_leaf, m_leaf, _, _ in pairs:
        if t_leaf.grad is None:
            assert m_leaf.grad is None, "minigrad produced a gradient torch does not"
            continue
        assert m_leaf.grad is not None, "torch produced a gradient minigrad does not"
        assert_same(m_leaf.grad, t_leaf.grad, dtype, rtol, atol)


def check_raises(torch_call: Callable, mg_call: Callable, *fragments: str, exact: bool = False) -> None:
    """Both calls raise the same exception type; each fragment is in both messages
    (or, with ``exact``, the messages are equal)."""
    with pytest.raises(Exception) as t_info:
        torch_call()
    with pytest.raises(Exception) as m_info:
        mg_call()
    t_exc, m_exc = t_info.value, m_info.value
    builtin = next(c for c in type(t_exc).__mro__ if c.__module__ == "builtins")
    assert type(m_exc) is builtin, f"minigrad raised {type(m_exc).__name__}, torch {builtin.__name__}: {t_exc}"
    t_msg, m_msg = str(t_exc), str(m_exc)
    if exact:
        assert m_msg == t_msg, f"\nminigrad: {m_msg}\ntorch:    {t_msg}"
    for fragment in fragments:
        assert fragment in t_msg, f"fragment {fragment!r} is not in torch's message {t_msg!r}"
        assert fragment in m_msg, f"fragment {fragment!r} is not in minigrad's message {m_msg!r}"


def broadcastable_shapes(rng: random.Random, max_dims: int = 3, max_size: int = 3) -> tuple[tuple, tuple]:
    """Two random shapes that broadcast together (dims dropped or set to 1 on either side)."""
    out = tuple(rng.randint(1, max_size) for _ in range(rng.randint(0, max_dims)))

    def shrink(shape: tuple) -> tuple:
        shape = tuple(1 if rng.random() < 0.3 else s for s in shape)
        return shape[rng.randint(0, len(shape)) :] if rng.random() < 0.3 else shape

    return shrink(out), shrink(out)
