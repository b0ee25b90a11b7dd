"""torch's float32 and float64 CPU kernels for sigmoid and the softmax family, emulated in pure Python.

torch 2.13 (ATEN_CPU_CAPABILITY=avx2, the kernels minigrad follows) computes these with vectors
(``Vectorized<float>``: 8 lanes, ``Vectorized<double>``: 4) whose exp and log are SLEEF's
(``minigrad._sleef``), with the reduction orders of ``vec::reduce_all`` and with a scalar
C-library path for the elements a vectorised loop leaves over. This module repeats those loops,
so the results are torch's bit for bit:

- sigmoid (UnaryOpsKernel.cpp, ``cpu_kernel_vec``): 1 / (1 + exp(-x)) with SLEEF's exp on
  whole pairs of vectors, and the C library's ``exp`` on the elements left over.
  (torch splits tensors above 32768 elements between its threads; each share has its own
  leftover elements, so there the split depends on torch's thread count: not reproduced.)
- softmax and log_softmax over the last dimension (SoftMaxKernel.cpp, ``_vec_softmax_lastdim``,
  ``_vec_log_softmax_lastdim``) and their backward passes.
- the backward passes of sigmoid and tanh (BinaryOpsKernel.cpp).
- exp2 of float32 (``cpu_kernel_vec`` as sigmoid; expm1 and log1p are SLEEF's on every element).

With ATEN_CPU_CAPABILITY=avx512, torch's vectors have 16 float lanes and its reductions another
order: float32 softmax then differs from these results in the last bit for about a quarter of the
elements, log_softmax for a few percent.

The C library's ``expf`` and ``exp`` (glibc) are correctly rounded in practice; ``expf`` is
emulated by computing in double and rounding once, ``exp`` is Python's (the same libm).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable

from minigrad import _sleef as S
from minigrad._float32 import fma64, round_f32

Lanes = list[float]


def _exp_c(v: float) -> float:
    """The C library's exp in double (overflow gives inf, as in C)."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _maximum(a: float, b: float) -> float:
    """vec::maximum: _mm256_max_ps(a, b) (b on ties and NaN), then an all-ones NaN if either is NaN."""
    if a != a or b != b:
        return S.ALL_ONES
    return a if a > b else b


class _Float32:
    """float32 lanes: every operation rounded to float32, 8 lanes, SLEEF's expf and logf."""

    width = 8
    add, sub, mul, div, fmanp = S.add, S.sub, S.mul, S.div, S.fmanp
    exp, log = S.expf, S.logf

    @staticmethod
    def exp_libm(x: Lanes) -> Lanes:
        return round_f32([_exp_c(v) for v in x])

    @staticmethod
    def add1(a: float, b: float) -> float:
        return array("f", (a + b,))[0]

    @staticmethod
    def lanes(acc: Lanes, op: Callable[[float, float], float]) -> float:
        """The AVX2 float specialisation of vec_reduce_all: (i, i^4), then (i, i^2), then (0, 1)."""
        v = [op(acc[i], acc[i ^ 4]) for i in range(8)]
        v = [op(v[i], v[i ^ 2]) for i in range(8)]
        return op(v[0], v[1])


def _pairwise(f: Callable[[float, float], float]) -> Callable[[Lanes | float, Lanes | float], Lanes]:
    def run(a, b):
        a = a if isinstance(a, list) else [a] * len(b)
        b = b if isinstance(b, list) else [b] * len(a)
        return list(map(f, a, b))

    return run


class _Float64:
    """float64 lanes: Python's own arithmetic, 4 lanes, SLEEF's exp and log in double."""

    width = 4
    add = staticmethod(_pairwise(float.__add__))
    sub = staticmethod(_pairwise(float.__sub__))
    mul = staticmethod(_pairwise(float.__mul__))
    div = staticmethod(_pairwise(S.quotient))

    @staticmethod
    def fmanp(a: Lanes, b: Lanes, c: Lanes) -> Lanes:
        return [fma64(-x, y, z) for x, y, z in zip(a, b, c)]

    @staticmethod
    def exp(x: Lanes) -> Lanes:
        return [S.expd(v) for v in x]

    @staticmethod
    def log(x: Lanes) -> Lanes:
        return [S.logd(v) for v in x]

    exp_libm = staticmethod(lambda x: [_exp_c(v) for v in x])
    add1 = staticmethod(float.__add__)

    @staticmethod
    def lanes(acc: Lanes, op: Callable[[float, float], float]) -> float:
        """The generic vec_reduce_all (no AVX2 specialisation for double): lanes left to right."""
        r = acc[0]
        for v in acc[1:]:
            r = op(r, v)
        return r


ARITH = {"f": _Float32, "d": _Float64}


def reduce_all(A, op: Callable[[float, float], float], data: Lanes) -> float:
    """vec::reduce_all: lane-wise op over blocks of the vector width (a short last block updates only
    its lanes), then the lanes as ``A.lanes`` combines them. Fewer elements than lanes are reduced
    left to right."""
    n, width = len(data), A.width
    if n < width:
        acc = data[0]
        for v in data[1:]:
            acc = op(acc, v)
        return acc
    lanes = list(data[:width])
    for d in range(width, n, width):
        block = data[d : d + width]
        lanes[: len(block)] = [op(a, b) for a, b in zip(lanes, block)]
    return A.lanes(lanes, op)


def sigmoid(x: Lanes, typecode: str) -> Lanes:
    """torch.sigmoid of a contiguous buffer: SLEEF's exp on the elements the vector loop covers (whole
    blocks of 2 vectors), the C library's exp on the rest."""
    A = ARITH[typecode]
    n = len(x)
    cut = n - n % (2 * A.width)
    e = A.exp([-v for v in x[:cut]]) + A.exp_libm([-v for v in x[cut:]])
    return A.div(1.0, A.add(e, 1.0))


def exp2(x: Lanes) -> Lanes:
    """torch.exp2 of a float32 contiguous buffer: SLEEF's exp2f on whole blocks of 16, the C library's
    exp2f (correctly rounded in practice: exp2 in double, rounded once) on the rest."""
    cut = len(x) - len(x) % 16
    return S.exp2f(x[:cut]) + round_f32([_exp2_c(v) for v in x[cut:]])


def _exp2_c(v: float) -> float:
    try:
        return math.exp2(v)
    except OverflowError:
        return math.inf


def sigmoid_backward(y: Lanes, grad: Lanes, typecode: str) -> Lanes:
    """(g * (1 - y)) * y, each step rounded (sigmoid_backward in BinaryOpsKernel.cpp)."""
    A = ARITH[typecode]
    return A.mul(A.mul(grad, A.sub(1.0, y)), y)


def tanh_backward(y: Lanes, grad: Lanes, typecode: str) -> Lanes:
    """g * (1 - y*y), where the compiler contracts 1 - y*y to one fused multiply-add."""
    A = ARITH[typecode]
    return A.mul(grad, A.fmanp(y, y, [1.0] * len(y)))


def _rows(x: Lanes, n: int) -> list[Lanes]:
    return [x[i : i + n] for i in range(0, len(x), n)]


def _each_row(values: Lanes, n: int) -> Lanes:
    """One value per row of n, repeated n times (a row's scalar broadcast over the row)."""
    return [v for v in values for _ in range(n)]


def softmax_lastdim(x: Lanes, n: int, typecode: str) -> Lanes:
    """softmax over rows of n: e = exp(x - max), then e * (1 / sum(e))."""
    A = ARITH[typecode]
    maxes = [reduce_all(A, _maximum, row) for row in _rows(x, n)]
    e = A.exp(A.sub(x, _each_row(maxes, n)))
    sums = [reduce_all(A, A.add1, row) for row in _rows(e, n)]
    return A.mul(e, _each_row(A.div(1.0, sums), n))


def log_softmax_lastdim(x: Lanes, n: int, typecode: str) -> Lanes:
    """log_softmax over rows of n: (x - max) - log(sum(exp(x - max)))."""
    A = ARITH[typecode]
    maxes = _each_row([reduce_all(A, _maximum, row) for row in _rows(x, n)], n)
    shifted = A.sub(x, maxes)
    sums = [reduce_all(A, A.add1, row) for row in _rows(A.exp(shifted), n)]
    return A.sub(shifted, _each_row(A.log(sums), n))


def softmax_backward_lastdim(y: Lanes, grad: Lanes, n: int, typecode: str) -> Lanes:
    """(g - sum(g * y)) * y over rows of n."""
    A = ARITH[typecode]
    sums = [reduce_all(A, A.add1, row) for row in _rows(A.mul(grad, y), n)]
    return A.mul(A.sub(grad, _each_row(sums, n)), y)


def log_softmax_backward_lastdim(y: Lanes, grad: Lanes, n: int, typecode: str) -> Lanes:
    """g - exp(y) * sum(g) over rows of n, as one fused multiply-add (the compiler contracts it)."""
    A = ARITH[typecode]
    sums = [reduce_all(A, A.add1, row) for row in _rows(grad, n)]
    return A.fmanp(A.exp(y), _each_row(sums, n), grad)
