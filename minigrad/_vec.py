"""torch's float32 CPU kernels for sigmoid and the softmax family, emulated in pure Python.

torch 2.13 (ATEN_CPU_CAPABILITY=avx2, the kernels minigrad follows) computes these with 8-lane
vectors (``Vectorized<float>``) whose exp and log are SLEEF's (``minigrad._sleef``), with the
reduction orders of ``vec::reduce_all`` and with a scalar C-library path for the elements a
vectorised loop leaves over. This module repeats those loops, so the results are torch's bit
for bit:

- sigmoid (UnaryOpsKernel.cpp, ``cpu_kernel_vec``): 1 / (1 + exp(-x)) with SLEEF's exp on
  whole pairs of vectors (16 elements), and ``expf`` of the C library on the last n % 16 ones.
  (torch splits tensors above 32768 elements between its threads; each share has its own
  leftover elements, so there the split depends on torch's thread count: not reproduced.)
- softmax and log_softmax over the last dimension (SoftMaxKernel.cpp, ``_vec_softmax_lastdim``,
  ``_vec_log_softmax_lastdim``) and their backward passes.
- the backward passes of sigmoid and tanh (BinaryOpsKernel.cpp).

The C library's ``expf`` (glibc) is correctly rounded in practice; it is emulated by computing
in double and rounding once.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable

from minigrad import _sleef as S
from minigrad._float32 import round_f32

Lanes = list[float]
WIDTH = 8  # Vectorized<float>::size() with AVX2


def _exp_c(v: float) -> float:
    """The C library's exp in double (overflow gives inf, as in C)."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def expf_libm(x: Lanes) -> Lanes:
    """glibc's float expf: correctly rounded, emulated as exp in double rounded once."""
    return round_f32([_exp_c(v) for v in x])


def sigmoid(x: Lanes) -> Lanes:
    """torch.sigmoid of float32 values in a contiguous buffer: SLEEF's exp on the elements the
    vector loop covers (whole blocks of 2 * 8), the C library's expf on the rest."""
    n = len(x)
    cut = n - n % (2 * WIDTH)
    e = S.expf([-v for v in x[:cut]]) + expf_libm([-v for v in x[cut:]])
    return S.div(1.0, S.add(e, 1.0))


def sigmoid_backward(y: Lanes, grad: Lanes) -> Lanes:
    """(g * (1 - y)) * y, each step rounded (sigmoid_backward in BinaryOpsKernel.cpp)."""
    return S.mul(S.mul(grad, S.sub(1.0, y)), y)


def tanh_backward(y: Lanes, grad: Lanes) -> Lanes:
    """g * (1 - y*y), where the compiler contracts 1 - y*y to one fused multiply-add."""
    return S.mul(grad, S.fmanp(y, y, 1.0))


def _maximum(a: float, b: float) -> float:
    """vec::maximum: _mm256_max_ps(a, b) (b on ties and NaN), then an all-ones NaN if either is NaN."""
    if a != a or b != b:
        return S._ALL_ONES
    return a if a > b else b


def reduce_all(op: Callable[[float, float], float], data: Lanes) -> float:
    """vec::reduce_all: lane-wise op over blocks of 8 (a short last block updates only its lanes),
    then the lanes pairwise: (0,4) (1,5) ..., then (0,2) (1,3), then (0,1). Fewer than 8 elements
    are reduced left to right."""
    n = len(data)
    if n < WIDTH:
        acc = data[0]
        for v in data[1:]:
            acc = op(acc, v)
        return acc
    acc = list(data[:WIDTH])
    for d in range(WIDTH, n, WIDTH):
        block = data[d : d + WIDTH]
        acc[: len(block)] = [op(a, b) for a, b in zip(acc, block)]
    v = [op(acc[i], acc[i ^ 4]) for i in range(WIDTH)]
    v = [op(v[i], v[i ^ 2]) for i in range(WIDTH)]
    return op(v[0], v[1])


def _add(a: float, b: float) -> float:
    return array("f", (a + b,))[0]


def _rows(x: Lanes, n: int) -> list[Lanes]:
    return [x[i : i + n] for i in range(0, len(x), n)]


def _each_row(values: Lanes, n: int) -> Lanes:
    """One value per row of n, repeated n times (a row's scalar broadcast over the row)."""
    return [v for v in values for _ in range(n)]


def softmax_lastdim(x: Lanes, n: int) -> Lanes:
    """softmax over rows of n: e = exp(x - max), then e * (1 / sum(e))."""
    maxes = [reduce_all(_maximum, row) for row in _rows(x, n)]
    e = S.expf(S.sub(x, _each_row(maxes, n)))
    sums = [reduce_all(_add, row) for row in _rows(e, n)]
    return S.mul(e, _each_row(S.div(1.0, sums), n))


def log_softmax_lastdim(x: Lanes, n: int) -> Lanes:
    """log_softmax over rows of n: (x - max) - log(sum(exp(x - max)))."""
    maxes = _each_row([reduce_all(_maximum, row) for row in _rows(x, n)], n)
    shifted = S.sub(x, maxes)
    sums = [reduce_all(_add, row) for row in _rows(S.expf(shifted), n)]
    return S.sub(shifted, _each_row(S.logf(sums), n))


def softmax_backward_lastdim(y: Lanes, grad: Lanes, n: int) -> Lanes:
    """(g - sum(g * y)) * y over rows of n."""
    sums = [reduce_all(_add, row) for row in _rows(S.mul(grad, y), n)]
    return S.mul(S.sub(grad, _each_row(sums, n)), y)


def log_softmax_backward_lastdim(y: Lanes, grad: Lanes, n: int) -> Lanes:
    """g - exp(y) * sum(g) over rows of n, as one fused multiply-add (the compiler contracts it)."""
    sums = [reduce_all(_add, row) for row in _rows(grad, n)]
    return S.fmanp(S.expf(y), _each_row(sums, n), grad)
