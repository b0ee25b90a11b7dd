"""The two fused updates of torch's CPU kernels that optimizers use, with torch's single rounding.

torch's (AVX2) ``addcmul_`` computes ``self + value * t1 * t2`` as ``fma(value * t1, t2, self)``
and ``lerp_`` with a scalar weight w computes ``fma(w, end - self, self)`` (``|w| < 0.5``) or
``fma(w - 1, end - self, end)``; every other step is rounded to the tensor's dtype. Plain tensor
ops would round once more, so these two are done here element by element with exact
fused multiply-adds (``minigrad.random``'s). Both write into ``target`` (a tensor without history).
"""

from __future__ import annotations

from array import array

from minigrad._dtype import float64
from minigrad._float32 import fma32 as _fma32
from minigrad._float32 import fma64 as _fma64
from minigrad._functions.pointwise import round_scalar
from minigrad._tensor import Tensor


def _fma(double: bool, a: list[float] | float, b: list[float] | float, c: list[float] | float) -> list[float]:
    """Elementwise fma(a, b, c) rounded once to float32, or to float64 when ``double``."""
    if not double:
        return _fma32(a, b, c)
    columns = [v if isinstance(v, list) else None for v in (a, b, c)]
    n = len(next(v for v in columns if v is not None))
    at = [v if v is not None else [s] * n for v, s in zip(columns, (a, b, c))]
    return [_fma64(x, y, z) for x, y, z in zip(*at)]


def addcmul_(target: Tensor, t1: Tensor, t2: Tensor, value: float = 1.0) -> Tensor:
    """target = target + value * t1 * t2, as ``fma(value * t1, t2, target)`` (same shapes)."""
    double = target.dtype is float64
    scale = round_scalar(value, target.dtype)
    scaled = (t1 * scale)._values().tolist() if scale != 1 else t1._values().tolist()
    result = _fma(double, scaled, t2._values().tolist(), target._values().tolist())
    target._write(array(target.dtype.typecode, result))
    return target


def lerp_(target: Tensor, end: Tensor, weight: float) -> Tensor:
    """target = target + weight * (end - target), as torch's fused form (same shapes)."""
    double = target.dtype is float64
    w = round_scalar(weight, target.dtype)
    gap = (end - target)._values().tolist()
    if abs(w) < 0.5:
        result = _fma(double, w, gap, target._values().tolist())
    else:
        result = _fma(double, round_scalar(w - 1, target.dtype), gap, end._values().tolist())
    target._write(array(target.dtype.typecode, result))
    return target
