"""Gradient clipping (``torch.nn.utils.clip_grad_norm_``, ``clip_grad_value_``) with torch
2.13.0's CPU arithmetic, so that the clipped gradients equal torch's bit for bit.

``clip_grad_norm_`` takes the ``norm_type``-norm of each gradient, then the same norm of those
norms (``get_total_norm``), and multiplies every gradient by
``clip_coef = min(max_norm / (total_norm + 1e-6), 1)`` in the gradients' dtype, where torch
computes ``max_norm / t`` as ``t.reciprocal() * max_norm`` (two roundings). ``foreach`` is
accepted and changes nothing: on the CPU torch's foreach kernels compute the same values.

The norms follow torch's CPU kernels (AVX2 build), each step rounded to the tensor's dtype:

* p = 2 (vectorised): eight lanes (four for float64) each sum the squares of every eighth
  element of the whole blocks, ``lane += x * x`` rounded twice; the lanes are added in order;
  then the rest: in groups of four, ``b += x * x`` rounded twice, and the last one to three
  elements as fused multiply-adds ``b = fma(x, x, b)``; finally ``sqrt(b)``.
* p = inf / -inf: the largest / smallest ``|x|``; p = 0: the count of non-zeros.
* any other p: ``acc += |x| ** p`` element by element, then ``acc ** (1 / p)``.
"""

from __future__ import annotations

import math
import types
import warnings
from array import array
from collections.abc import Iterable

from minigrad import _creation
from minigrad._dtype import float64, promote_types
from minigrad._float32 import _fma32_exact
from minigrad._float32 import fma64 as _fma64
from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

_TensorOrTensors = Tensor | Iterable[Tensor]


def _rounder(double: bool):
    """The rounding of one arithmetic result to the tensor's dtype (identity for float64)."""
    if double:
        return lambda v: v
    slot = array("f", [0.0])

    def to_float32(v: float) -> float:
        slot[0] = v
        return slot[0]

    return to_float32


def _norm_two(values: list[float], double: bool) -> float:
    """torch's vectorised 2-norm of a contiguous vector (see the module docstring)."""
    f = _rounder(double)
    fma = _fma64 if double else _fma32_exact
    lanes = 4 if double else 8
    whole = len(values) - len(values) % lanes
    total = 0.0
    for lane in range(lanes):
        acc = 0.0
        for x in values[lane:whole:lanes]:
            acc = f(acc + f(x * x))
        total = acc if lane == 0 else f(total + acc)
    grouped = whole + (len(values) - whole) // 4 * 4
    for x in values[whole:grouped]:
        total = f(total + f(x * x))
    for x in values[grouped:]:
        total = fma(x, x, total)
    return f(math.sqrt(total))


def _norm(values: list[float], p: float, double: bool) -> float:
    """The p-norm of the values as torch's ``linalg.vector_norm`` computes it on the CPU."""
    if not values:
        return math.inf if p < 0 else 0.0
    if len(values) == 1 and p != 0:
        return abs(values[0])
    if p == 2:
        return _norm_two(values, double)
    if p == math.inf:
        return max(abs(x) for x in values)
    if p == -math.inf:
        return min(abs(x) for x in values)
    f = _rounder(double)
    acc = 0.0
    if p == 0:
        for x in values:
            acc = f(acc + (x != 0))
        return acc
    if p == 1:
        for x in values:
            acc = f(acc + abs(x))
        return acc
    for x in values:
        acc = f(acc + f(abs(x) ** p))
    return f(acc ** f(1.0 / p))


def _as_list(tensors: _TensorOrTensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(
    tensors: _TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Tensor:
    """The ``norm_type``-norm of the tensors' norms: the norm of all their elements as one
    vector (in exact arithmetic), as a 0-d tensor."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _creation.tensor(0.0)
    norms, dtype = [], tensors[0].dtype
    for t in tensors:
        norms.append(_norm(t.detach()._values().tolist(), norm_type, t.dtype is float64))
        dtype = promote_types(dtype, t.dtype)  # torch.stack of the norms promotes
    total = _norm(norms, norm_type, dtype is float64)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return _creation.tensor(total, dtype=dtype)


def clip_grads_with_norm_(
    parameters: _TensorOrTensors, max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    """Multiply each gradient by ``min(max_norm / (total_norm + 1e-6), 1)``, computed in
    total_norm's dtype as torch does: ``(1 / (total_norm + 1e-6)) * max_norm``, each step rounded
    (torch's ``number / tensor`` is ``tensor.reciprocal() * number``)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        coefficient = ((1.0 / (total_norm + 1e-6)) * max_norm).clamp(max=1.0)
        for grad in grads:
            grad.mul_(coefficient)


def clip_grad_norm_(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type``-norm is
    at most ``max_norm``; returns the total norm before clipping (a 0-d tensor)."""
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_`` (with torch's FutureWarning)."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    with no_grad():
        for grad in grads:
            grad.clamp_(min=-clip_value, max=clip_value)
