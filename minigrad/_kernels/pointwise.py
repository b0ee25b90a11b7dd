"""Pointwise kernels: one op code applied element by element (``unary``, ``binary``, ``where``,
``clamp``, ...) and their derivatives, plus ``axpy`` (the optimizer's fused update). Twin:
``minigrad_c/pointwise.pxi``."""

from __future__ import annotations

import math
import operator
from array import array

from minigrad._kernels.common import _div, _exp, _log, _maximum, _minimum, _pow, _relu, _sigmoid, _sqrt
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
    """out[i] = f(x[i]) for the unary op code."""
    out[:] = array(out.typecode, map(UNARY[op], x))


def unary_backward(op: int, x: array, y: array, grad: array, out: array) -> None:
    """out = grad * f'(x), written with the input x or the output y, whichever is simpler.

    neg: -g   exp: g*y   log: g/x   sqrt: g/(2y)   abs: g*sign(x)
    sigmoid: g*y*(1-y)   tanh: g*(1-y^2)   relu: g*[x>0]
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
        out[:] = array(tc, [g * v * (1.0 - v) for g, v in zip(grad, y)])
    elif op == TANH:
        out[:] = array(tc, [g * (1.0 - v * v) for g, v in zip(grad, y)])
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
