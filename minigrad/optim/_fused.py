"""The two fused updates of torch's CPU kernels that optimizers use, with torch's single rounding,
and ``update_in_place``, which runs a whole-step optimizer kernel (``K.adam``, ``K.sgd``) on tensors.

torch's (AVX2) ``addcmul_`` computes ``self + value * t1 * t2`` as ``fma(value * t1, t2, self)``
and ``lerp_`` with a scalar weight w computes ``fma(w, end - self, self)`` (``|w| < 0.5``) or
``fma(w - 1, end - self, end)``; every other step is rounded to the tensor's dtype. Plain tensor
ops would round once more, so these two are done here element by element with exact
fused multiply-adds (``minigrad.random``'s). Both write into ``target`` (a tensor without history).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

from minigrad._float32 import fma_typed
from minigrad._functions.pointwise import round_scalar
from minigrad._tensor import Tensor


def addcmul_(target: Tensor, t1: Tensor, t2: Tensor, value: float = 1.0) -> Tensor:
    """target = target + value * t1 * t2, as ``fma(value * t1, t2, target)`` (same shapes)."""
    scale = round_scalar(value, target.dtype)
    scaled = (t1 * scale)._values().tolist() if scale != 1 else t1._values().tolist()
    result = fma_typed(target.dtype.typecode, scaled, t2._values().tolist(), target._values().tolist())
    target._write(array(target.dtype.typecode, result))
    return target


def lerp_(target: Tensor, end: Tensor, weight: float) -> Tensor:
    """target = target + weight * (end - target), as torch's fused form (same shapes)."""
    w = round_scalar(weight, target.dtype)
    gap = (end - target)._values().tolist()
    if abs(w) < 0.5:
        result = fma_typed(target.dtype.typecode, w, gap, target._values().tolist())
    else:
        result = fma_typed(target.dtype.typecode, round_scalar(w - 1, target.dtype), gap, end._values().tolist())
    target._write(array(target.dtype.typecode, result))
    return target


def update_in_place(
    kernel: Callable[..., None], param: Tensor, grad: Tensor, state: list[Tensor | None], *scalars: Any
) -> None:
    """Run ``kernel(param, grad, *state, *scalars)`` on the tensors' elements in row-major order
    (a None state stays None) and keep what it wrote into param and the state. A tensor that owns
    its whole storage row-major is updated in its storage directly, any other view through a copy
    written back; each gets a new version, as by an in-place op. grad is only read."""
    updated = [param, *state]
    buffers = [None if t is None else t._values() for t in updated]
    kernel(buffers[0], grad._values(), *buffers[1:], *scalars)
    for t, values in zip(updated, buffers):
        if t is None:
            continue
        if values is t._storage.data:
            t._storage.version += 1
        else:
            t._write(values)
