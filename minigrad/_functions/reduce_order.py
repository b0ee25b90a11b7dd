"""Reductions in the order and precision torch's CPU kernels use (AVX2 build), so that ``norm``,
``vector_norm`` and ``prod`` of float32 and float64 tensors print torch's digits.

Norms.
torch reduces a norm in the tensor's own type (float32 stays float32), in one of two orders:

* 2-norm over the innermost, contiguous dim (or over every element of a contiguous tensor): the
  lanes of one AVX2 vector (eight float32 or four float64) take the squares in turn,
  ``lane[j] += x*x`` (multiply, then add, each rounded); the lanes are folded left into lane 0;
  the leftover ``n % lanes`` elements are added in order, those in whole groups of four as
  ``acc + x*x`` rounded twice and the last ``n % 4`` with a fused multiply-add (the compiler's
  code for the scalar loop); then ``sqrt``.
* any other case (a dim that is not innermost, the 1-norm): one accumulator, in index order,
  ``acc + x*x`` (or ``acc + |x|``) rounded to the element type at each step.

Products (``binary_kernel_reduce_vec``). Over the innermost, contiguous dim (or every element of
a contiguous tensor), rows of at least 32 float32 (16 float64) elements run on four vectors of
lanes: the first 32 elements start them, each further block of 32 multiplies in lane by lane;
then ``(v0 * v1) * (v2 * v3)`` lane by lane, the lanes folded left, and the leftover elements
multiplied in order. Over any other dim, and for shorter rows: in index order from 1.

Measured against torch 2.13.0 with ``ATEN_CPU_CAPABILITY=avx2``: equal on every row of the
tests (the AVX-512 kernels have twice the lanes and differ).
"""

from __future__ import annotations

import math

from minigrad._float32 import _fma32_exact
from minigrad._float32 import f32 as _f32
from minigrad._float32 import fma64 as _fma64


def _same(v: float) -> float:
    return v


def norm2_lanes(row: list[float], single: bool) -> float:
    """2-norm of a contiguous row (float32 when ``single``, else float64), as torch's vectorised
    kernel computes it."""
    rounded, fma, lanes = (_f32, _fma32_exact, 8) if single else (_same, _fma64, 4)
    acc_lanes = [0.0] * lanes
    n = len(row)
    whole = n - n % lanes
    for d in range(0, whole, lanes):
        for j in range(lanes):
            v = row[d + j]
            acc_lanes[j] = rounded(acc_lanes[j] + rounded(v * v))
    acc = acc_lanes[0]
    for j in range(1, lanes):
        acc = rounded(acc + acc_lanes[j])
    fours = whole + (n - whole) // 4 * 4
    for v in row[whole:fours]:
        acc = rounded(acc + rounded(v * v))
    for v in row[fours:]:
        acc = fma(v, v, acc)
    return rounded(math.sqrt(acc))


def norm_in_order(row: list[float], p: int, single: bool) -> float:
    """The 1- or 2-norm accumulated in index order in float32 (``single``) or float64."""
    acc = 0.0
    for v in row:
        term = v * v if p == 2 else abs(v)
        acc = _f32(acc + _f32(term)) if single else acc + term
    if p == 2:
        acc = math.sqrt(acc)
    return _f32(acc) if single else acc


def prod_lanes(row: list[float], single: bool) -> float:
    """The product of a contiguous row as torch's vectorised inner reduction computes it."""
    rounded, lanes = (_f32, 8) if single else (_same, 4)
    block = 4 * lanes
    count = len(row) // block
    out = 1.0
    if count:
        acc = list(row[:block])
        for i in range(1, count):
            acc = [rounded(a * v) for a, v in zip(acc, row[i * block : (i + 1) * block])]
        low = [rounded(acc[j] * acc[lanes + j]) for j in range(lanes)]
        high = [rounded(acc[2 * lanes + j] * acc[3 * lanes + j]) for j in range(lanes)]
        folded = [rounded(a * b) for a, b in zip(low, high)]
        out = folded[0]
        for v in folded[1:]:
            out = rounded(out * v)
    return prod_in_order(row[count * block :], single, out)


def prod_in_order(row: list[float], single: bool, start: float = 1.0) -> float:
    """``start`` times the row's elements, one at a time in index order, rounded at each step."""
    rounded = _f32 if single else _same
    out = start
    for v in row:
        out = rounded(out * v)
    return out
