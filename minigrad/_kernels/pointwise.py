"""Pointwise kernels: one op code applied element by element (``unary``, ``binary``, ``where``,
``clamp``, ...) and their derivatives, plus ``axpy`` (the optimizer's fused update). Twin:
``minigrad_c/pointwise.pxi``."""

from __future__ import annotations

import math
import operator
from array import array

from minigrad import _sleef, _vec
from minigrad._kernels.common import INF, NAN, _div, _exp, _log, _maximum, _minimum, _pow, _relu, _sigmoid, _sqrt
from minigrad._kernels.indexing import _read, fill

# unary ops
NEG, EXP, LOG, SQRT, ABS, SIGMOID, TANH, RELU = range(8)
# binary ops
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE = range(13)

UNARY = {
    NEG: operator.neg,
    EXP: _exp,
    LOG: _log,
    SQRT: _sqrt,
    ABS: abs,
    SIGMOID: _sigmoid,
    TANH: math.tanh,
    RELU: _relu,
}

BINARY = {
    ADD: operator.add,
    SUB: operator.sub,
    MUL: operator.mul,
    DIV: _div,
    POW: _pow,
    MAXIMUM: _maximum,
    MINIMUM: _minimum,
    EQ: operator.eq,
    NE: operator.ne,
    LT: operator.lt,
    LE: operator.le,
    GT: operator.gt,
    GE: operator.ge,
}


def unary(op: int, x: array, out: array) -> None:
    """out[i] = f(x[i]) for the unary op code (sigmoid as torch's kernel computes it)."""
    if op == SIGMOID and out.typecode in "fd":
        out[:] = array(out.typecode, _vec.sigmoid(x.tolist(), out.typecode))
        return
    if op in _FLOAT32_TORCH and out.typecode == "f":
        out[:] = array("f", _FLOAT32_TORCH[op](x.tolist()))
        return
    if op == RSQRT and out.typecode == "f":  # 1 / sqrt(x) with sqrt rounded to float32 first, as torch
        out[:] = array("f", [_div(1.0, v) for v in array("f", map(_sqrt, x))])
        return
    out[:] = array(out.typecode, map(UNARY[op], x))


def unary_backward(op: int, x: array, y: array, grad: array, out: array) -> None:
    """out = grad * f'(x), written with the input x or the output y, whichever is simpler.

    neg: -g   exp: g*y   log: g/x   sqrt: g/(2y)   abs: g*sign(x)
    sigmoid: (g*(1-y))*y   tanh: g*fma(-y, y, 1)   relu: g*[x>0]

    sigmoid and tanh round each step to the buffers' precision, in torch's order (its kernels
    contract 1 - y*y to one fused multiply-add).
    """
    tc = out.typecode
    if op == NEG:
        out[:] = array(tc, map(operator.neg, grad))
    elif op == EXP:
        out[:] = array(tc, map(operator.mul, grad, y))
    elif op == LOG:
        out[:] = array(tc, map(_div, grad, x))
    elif op == SQRT:
        out[:] = array(tc, [_div(g, 2.0 * v) for g, v in zip(grad, y)])
    elif op == ABS:
        out[:] = array(tc, [g * ((v > 0) - (v < 0)) for g, v in zip(grad, x)])
    elif op == SIGMOID:
        out[:] = array(tc, _vec.sigmoid_backward(y.tolist(), grad.tolist(), tc))
    elif op == TANH:
        out[:] = array(tc, _vec.tanh_backward(y.tolist(), grad.tolist(), tc))
    elif op == RELU:
        out[:] = array(tc, [g if v > 0 else 0.0 for g, v in zip(grad, x)])
    else:
        raise ValueError(f"unknown unary op code {op}")


def binary(
    op: int,
    a: array,
    a_strides: tuple,
    a_offset: int,
    b: array,
    b_strides: tuple,
    b_offset: int,
    shape: tuple,
    out: array,
) -> None:
    """out = a (op) b elementwise over ``shape``; broadcast inputs have stride 0."""
    n = len(out)
    f = BINARY[op]
    values = map(f, _read(a, shape, a_strides, a_offset, n), _read(b, shape, b_strides, b_offset, n))
    out[:] = array(out.typecode, values)


def binary_scalar(op: int, a: array, scalar: float, reverse: bool, out: array) -> None:
    """out[i] = a[i] (op) scalar, or scalar (op) a[i] when reverse."""
    f = BINARY[op]
    if reverse:
        out[:] = array(out.typecode, [f(scalar, v) for v in a])
    else:
        out[:] = array(out.typecode, [f(v, scalar) for v in a])


def where(
    cond: array,
    c_strides: tuple,
    c_offset: int,
    a: array,
    a_strides: tuple,
    a_offset: int,
    b: array,
    b_strides: tuple,
    b_offset: int,
    shape: tuple,
    out: array,
) -> None:
    """out = a where cond else b, elementwise over ``shape`` (inputs broadcast by stride 0)."""
    n = len(out)
    conds = _read(cond, shape, c_strides, c_offset, n)
    xs = _read(a, shape, a_strides, a_offset, n)
    ys = _read(b, shape, b_strides, b_offset, n)
    out[:] = array(out.typecode, [x if c else y for c, x, y in zip(conds, xs, ys)])


def clamp(x: array, low: float, high: float, out: array) -> None:
    """out = min(max(x, low), high); pass -inf/inf for a missing bound. NaN stays NaN."""
    out[:] = array(out.typecode, [v if v != v else min(max(v, low), high) for v in x])


def clamp_backward(x: array, low: float, high: float, grad: array, out: array) -> None:
    """out = grad where low <= x <= high, else 0."""
    out[:] = array(out.typecode, [g if low <= v <= high else 0.0 for g, v in zip(grad, x)])


def pow_scalar_backward(x: array, exponent: float, grad: array, out: array) -> None:
    """d/dx x^e = e * x^(e-1); the derivative is 0 where e == 0."""
    if exponent == 0:
        fill(out, 0.0)
        return
    e1 = exponent - 1.0
    out[:] = array(out.typecode, [g * exponent * _pow(v, e1) for g, v in zip(grad, x)])


def axpy(y: array, alpha: float, x: array) -> None:
    """y[i] = y[i] + alpha * x[i] in place (an optimizer's update), in double, rounded once."""
    y[:] = array(y.typecode, [v + alpha * g for v, g in zip(y, x)])


# ---------------------------------------------------------------------------------------------
# More pointwise math (issue 14): op codes after the ones above, computed in double with libm
# ---------------------------------------------------------------------------------------------

# unary ops (float in, float out)
SIN, COS, TAN, ASIN, ACOS, ATAN, SINH, COSH, ASINH, ACOSH, ATANH = range(8, 19)
LOG1P, EXPM1, LOG2, LOG10, EXP2, RSQRT, RECIPROCAL, ERF, ERFINV = range(19, 28)
FLOOR, CEIL, ROUND, TRUNC, FRAC, SIGN = range(28, 34)
# binary ops: FMOD and REMAINDER on floats and integers, the bitwise ones on integers and bools
FMOD, REMAINDER, ATAN2, HYPOT, COPYSIGN, BITAND, BITOR, BITXOR, LSHIFT, RSHIFT = range(13, 23)


def _libm(f, odd: bool = False):
    """f(x) for every x: NaN where Python raises ValueError (outside the domain, where C gives
    NaN), inf where it raises OverflowError (with x's sign for an odd function)."""

    def call(x: float) -> float:
        try:
            return f(x)
        except ValueError:
            return NAN
        except OverflowError:
            return math.copysign(INF, x) if odd else INF

    return call


def _log_family(f):
    """log2, log10 and log1p at their poles: -inf where the argument is 0 (or -1 for log1p)."""

    def call(x: float) -> float:
        try:
            return f(x)
        except ValueError:
            return -INF if x == (-1.0 if f is math.log1p else 0.0) else NAN

    return call


def _atanh(x: float) -> float:
    return math.copysign(INF, x) if abs(x) == 1.0 else _libm(math.atanh)(x)


def _rsqrt(x: float) -> float:
    return _div(1.0, math.sqrt(x)) if x >= 0 else NAN  # rsqrt(-0) = 1 / -0 = -inf


def _integral(f):
    """floor, ceil, round (half to even) or trunc of a float, keeping the sign of zero; inf and NaN pass."""

    def call(x: float) -> float:
        return math.copysign(float(f(x)), x) if math.isfinite(x) else x

    return call


def _frac(x: float) -> float:
    return x - _integral(math.trunc)(x)  # inf - inf: NaN, as in C


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0  # NaN and -0 give 0, as torch


_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfinv(y: float) -> float:
    """The inverse of erf (torch's calc_erfinv in double): a rational first guess, then two
    Newton steps x -= (erf(x) - y) / (2/sqrt(pi) exp(-x^2))."""
    a, b, c, d = _ERFINV_A, _ERFINV_B, _ERFINV_C, _ERFINV_D
    y_abs = abs(y)
    if not y_abs <= 1.0:
        return NAN
    if y_abs == 1.0:
        return math.copysign(INF, y)
    if y_abs <= 0.7:
        z = y * y
        num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0]
        dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1.0
        x = y * num / dem
    else:
        z = math.sqrt(-math.log((1.0 - y_abs) / 2.0))
        num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0]
        dem = (d[1] * z + d[0]) * z + 1.0
        x = math.copysign(num, y) / dem
    for _ in range(2):
        x = x - (math.erf(x) - y) / (_TWO_OVER_SQRT_PI * math.exp(-x * x))
    return x


# float32 functions computed as torch's kernels do, bit for bit (the rest: libm in double, rounded once)
_FLOAT32_TORCH = {EXPM1: _sleef.expm1f, LOG1P: _sleef.log1pf, EXP2: _vec.exp2}

UNARY.update(
    {
        SIN: _libm(math.sin),
        COS: _libm(math.cos),
        TAN: _libm(math.tan),
        ASIN: _libm(math.asin),
        ACOS: _libm(math.acos),
        ATAN: math.atan,
        SINH: _libm(math.sinh, odd=True),
        COSH: _libm(math.cosh),
        ASINH: math.asinh,
        ACOSH: _libm(math.acosh),
        ATANH: _atanh,
        LOG1P: _log_family(math.log1p),
        EXPM1: _libm(math.expm1),
        LOG2: _log_family(math.log2),
        LOG10: _log_family(math.log10),
        EXP2: _libm(math.exp2),
        RSQRT: _rsqrt,
        RECIPROCAL: lambda x: _div(1.0, x),
        ERF: math.erf,
        ERFINV: _erfinv,
        FLOOR: _integral(math.floor),
        CEIL: _integral(math.ceil),
        ROUND: _integral(round),
        TRUNC: _integral(math.trunc),
        FRAC: _frac,
        SIGN: _sign,
    }
)


def _fmod(a, b):
    """C's fmod: the remainder with the sign of a (integers: truncating division; b != 0)."""
    if type(a) is int and type(b) is int:
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if b == 0 or math.isinf(a) or a != a or b != b:
        return NAN
    return math.fmod(a, b)


def _remainder(a, b):
    """The remainder with the sign of b (Python's %; floats as torch: fmod, plus b where the signs differ)."""
    if type(a) is int and type(b) is int:
        return a % b
    r = _fmod(a, b)
    return r + b if r != 0 and (b < 0) != (r < 0) else r


def _hypot(a: float, b: float) -> float:
    """sqrt(a^2 + b^2) without overflow: big * sqrt(1 + (small/big)^2); inf wins over NaN."""
    a, b = abs(a), abs(b)
    if a == INF or b == INF:
        return INF
    if a != a or b != b:
        return NAN
    big, small = (a, b) if a >= b else (b, a)
    if big == 0:
        return 0.0
    r = small / big
    return big * math.sqrt(1.0 + r * r)


def _wrap64(v: int) -> int:
    return (v + 2**63) % 2**64 - 2**63


def _lshift(a: int, b: int) -> int:
    """a << b wrapping to int64; shifts outside [0, 64) give 0, as torch."""
    return _wrap64(a << b) if 0 <= b < 64 else 0


def _rshift(a: int, b: int) -> int:
    """a >> b, arithmetic; shifts past 63 give the sign (0 or -1), negative shifts 0, as torch."""
    return a >> min(b, 63) if b >= 0 else 0


BINARY.update(
    {
        FMOD: _fmod,
        REMAINDER: _remainder,
        ATAN2: math.atan2,
        HYPOT: _hypot,
        COPYSIGN: math.copysign,
        BITAND: operator.and_,
        BITOR: operator.or_,
        BITXOR: operator.xor,
        LSHIFT: _lshift,
        RSHIFT: _rshift,
    }
)
