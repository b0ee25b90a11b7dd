"""More elementwise math: trigonometric and hyperbolic functions, log and exp variants, rounding,
erf and erfinv; the binary maximum, minimum, fmod, remainder, atan2, hypot, copysign and lerp;
the tests isnan, isinf, isfinite, signbit; nan_to_num; logical and bitwise operations.

A forward pass runs one kernel op code (``K.SIN`` ...) over the row-major values; a backward
pass is written with tensor operations (it runs with grad mode off), each derivative as torch's
``tools/autograd/derivatives.yaml`` defines it. Integer and bool inputs of the float functions
are computed as float32, as in torch; rounding functions keep integer dtypes.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad._backend import kernels as K
from minigrad._dtype import bool_, float32, int64, result_type, scalar_type_name
from minigrad._functions.pointwise import binary_values, cast, compare, round_scalar, unary_values, where
from minigrad._tensor import Tensor, new_buffer, zeros_for
from minigrad.autograd.function import Function

Number = int | float | bool

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _no_grad_for(grad: Tensor) -> Tensor:
    return zeros_for(grad._shape, grad.dtype)


# (derivative of y = f(x), written with x, y and the incoming gradient g, in the order of torch's
# derivatives.yaml so that float32 gradients round as torch's do)
_DERIVATIVES = {
    "sin": lambda x, y, g: g * x.cos(),
    "cos": lambda x, y, g: g * -x.sin(),
    "tan": lambda x, y, g: g * (y * y + 1),
    "asin": lambda x, y, g: g * (-x * x + 1).rsqrt(),
    "acos": lambda x, y, g: g * -((-x * x + 1).rsqrt()),
    "atan": lambda x, y, g: g / (x * x + 1),
    "sinh": lambda x, y, g: g * x.cosh(),
    "cosh": lambda x, y, g: g * x.sinh(),
    "asinh": lambda x, y, g: g * (x * x + 1).rsqrt(),
    "acosh": lambda x, y, g: g * (x * x - 1).rsqrt(),
    "atanh": lambda x, y, g: g / (-x * x + 1),
    "log1p": lambda x, y, g: g / (x + 1),
    "expm1": lambda x, y, g: g * (y + 1),
    "log2": lambda x, y, g: g / (x * _LN2),
    "log10": lambda x, y, g: g / (x * _LN10),
    "exp2": lambda x, y, g: g * y * _LN2,
    "rsqrt": lambda x, y, g: -0.5 * g * (y * y * y),
    "reciprocal": lambda x, y, g: -g * (y * y),
    "erf": lambda x, y, g: _TWO_OVER_SQRT_PI * (-(x * x)).exp() * g,
    "erfinv": lambda x, y, g: _HALF_SQRT_PI * (y * y).exp() * g,
    "frac": lambda x, y, g: g,
}
_STEP_FUNCTIONS = {"floor", "ceil", "round", "trunc", "sign"}  # derivative 0 everywhere


class _MathUnary(Function):
    """y = f(x) elementwise by one kernel op code; dy/dx from ``_DERIVATIVES``."""

    name: str

    @staticmethod
    def forward(ctx, x):
        name = ctx._function.name
        if not x.dtype.is_floating_point and name in _STEP_FUNCTIONS | {"frac"}:
            return _integer_step(name, x)
        y = unary_values(getattr(K, name.upper()), x)
        if name not in _STEP_FUNCTIONS:
            ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        name = ctx._function.name
        if name in _STEP_FUNCTIONS:
            return _no_grad_for(grad)
        x, y = ctx.saved_tensors
        return _DERIVATIVES[name](cast(x, y.dtype), y, grad)


def _integer_step(name: str, x: Tensor) -> Tensor:
    """floor, ceil, round, trunc and sign of integers and bools (torch's dtype rules and errors)."""
    if name == "frac" or (x.dtype is bool_ and name != "sign"):
        kernel = {"frac": "frac_cpu", "round": "round_cpu"}.get(name, f"{name}_vml_cpu")
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(x)}\'')
    if name == "sign" and x.dtype is not bool_:
        return (x > 0).to(x.dtype) - (x < 0).to(x.dtype)
    return Tensor._make(x._values()[:], x._shape, x.dtype)


def _type_name(x: Tensor) -> str:
    return scalar_type_name(x.dtype)


def _unary_function(name: str) -> type:
    return type(name.capitalize(), (_MathUnary,), {"name": name, "__doc__": f"y = {name}(x) elementwise."})


UNARY_NAMES = [
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "erf", "erfinv",
    "floor", "ceil", "round", "trunc", "frac", "sign",
]  # fmt: skip
UNARY_FUNCTIONS = {name: _unary_function(name) for name in UNARY_NAMES}


def _round(x: Tensor, decimals: int = 0) -> Tensor:
    """torch.round: half to even; with ``decimals``, round(x * 10^d) / 10^d (x / 10^-d * 10^-d for d < 0)."""
    if not decimals:
        return UNARY_FUNCTIONS["round"].apply(x)
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"\"round_cpu\" not implemented for '{_type_name(x)}'")
    if decimals > 0:
        scale = 10.0**decimals
        return UNARY_FUNCTIONS["round"].apply(x * scale) / scale
    scale = 10.0**-decimals
    return UNARY_FUNCTIONS["round"].apply(x / scale) * scale


# -- binary --------------------------------------------------------------------------------------


class _MathBinary(Function):
    """z = f(a, b) elementwise with broadcasting (a tensor and a tensor or a Python number)."""

    op: int
    floats_only: bool = False

    @staticmethod
    def forward(ctx, a, b):
        function = ctx._function
        dt = result_type([a, b])
        if function.floats_only and not dt.is_floating_point:
            dt = float32
        if function.op in (K.FMOD, K.REMAINDER) and not dt.is_floating_point:
            divisor = b._values() if isinstance(b, Tensor) else [b]
            if any(v == 0 for v in divisor):
                raise RuntimeError("ZeroDivisionError")
        z = binary_values(function.op, a, b, dt, dt)
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        grad_a, grad_b = ctx._function.derivative(a, b, z, grad)
        return (grad_a if da else None), (grad_b if db else None)


def _max_min_derivative(a, b, g, loses: int):
    """Half the gradient to each side of a tie, none to the side that lost (``loses``: the
    comparison op of a losing a), all of it otherwise (NaN comparisons included, as torch)."""
    shared = where(compare(K.EQ, a, b), g / 2, g)
    zero = g.new_zeros(())
    grad_a = where(compare(loses, a, b), zero, shared) if isinstance(a, Tensor) else None
    grad_b = where(compare(loses, b, a), zero, shared) if isinstance(b, Tensor) else None
    return grad_a, grad_b


class Maximum(_MathBinary):
    """z = max(a, b), NaN if either is NaN;  dz/da = 1 where a > b, 1/2 where a == b, 0 where a < b."""

    op = K.MAXIMUM

    @staticmethod
    def derivative(a, b, z, g):
        return _max_min_derivative(a, b, g, K.LT)


class Minimum(_MathBinary):
    """z = min(a, b), NaN if either is NaN;  dz/da = 1 where a < b, 1/2 where a == b, 0 where a > b."""

    op = K.MINIMUM

    @staticmethod
    def derivative(a, b, z, g):
        return _max_min_derivative(a, b, g, K.GT)


class Fmod(_MathBinary):
    """z = a - b trunc(a/b) (sign of a);  dz/da = 1,  dz/db = -trunc(a/b)."""

    op = K.FMOD

    @staticmethod
    def derivative(a, b, z, g):
        return g, -g * (a / b).trunc() if isinstance(b, Tensor) else None


class Remainder(_MathBinary):
    """z = a - b floor(a/b) (sign of b);  dz/da = 1,  dz/db = -floor(a/b)."""

    op = K.REMAINDER

    @staticmethod
    def derivative(a, b, z, g):
        return g, -g * (a / b).floor() if isinstance(b, Tensor) else None


class Atan2(_MathBinary):
    """z = atan2(a, b);  dz/da = b / (a^2 + b^2),  dz/db = -a / (a^2 + b^2) (times 1 / (a^2 + b^2), as torch)."""

    op, floats_only = K.ATAN2, True

    @staticmethod
    def derivative(a, b, z, g):
        recip = (a * a + b * b).reciprocal()
        return g * b * recip, g * -a * recip


class Hypot(_MathBinary):
    """z = sqrt(a^2 + b^2);  dz/da = a / z,  dz/db = b / z."""

    op, floats_only = K.HYPOT, True

    @staticmethod
    def derivative(a, b, z, g):
        return g * a / z, g * b / z


class Copysign(_MathBinary):
    """z = |a| with b's sign;  dz/da = z / a (0 where a == 0),  dz/db = 0."""

    op, floats_only = K.COPYSIGN, True

    @staticmethod
    def derivative(a, b, z, g):
        ratio = where(compare(K.EQ, a, 0), 0.0, z / a)
        return g * ratio, _no_grad_for(g)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    _need_tensor("maximum", other)
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    _need_tensor("minimum", other)
    return Minimum.apply(input, other)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """max(a, b) where NaN loses to a number."""
    return where(compare(K.NE, input, input), other, where(compare(K.NE, other, other), input, maximum(input, other)))


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """min(a, b) where NaN loses to a number."""
    return where(compare(K.NE, input, input), other, where(compare(K.NE, other, other), input, minimum(input, other)))


def fmod(input: Tensor, other: Any) -> Tensor:
    return Fmod.apply(input, other)


def remainder(input: Any, other: Any) -> Tensor:
    return Remainder.apply(input, other)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    _need_tensor("atan2", other)
    return Atan2.apply(input, other)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    _need_tensor("hypot", other)
    if not (input.dtype.is_floating_point and other.dtype.is_floating_point):
        raise NotImplementedError(f"\"hypot_cpu\" not implemented for '{_type_name(input)}'")
    return Hypot.apply(input, other)


def copysign(input: Tensor, other: Any) -> Tensor:
    return Copysign.apply(input, other)


def _need_tensor(name: str, other: Any) -> None:
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


class Lerp(Function):
    """z = a + w (b - a), computed as torch does: a + w (b - a) where |w| < 1/2, else
    b - (b - a)(1 - w);  dz/da = 1 - w,  dz/db = w,  dz/dw = b - a."""

    @staticmethod
    def forward(ctx, a, b, w):
        if not (a.dtype.is_floating_point and b.dtype.is_floating_point):
            raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{_type_name(a)}'")
        ctx.save_for_backward(a, b, w)
        diff = b - a
        if isinstance(w, Tensor):
            return where(w.abs() < 0.5, a + w * diff, b - diff * (1 - w))
        w = round_scalar(w, a.dtype)
        return a + w * diff if abs(w) < 0.5 else b - diff * (1 - w)

    @staticmethod
    def backward(ctx, grad):
        a, b, w = ctx.saved_tensors
        da, db, dw = ctx.needs_input_grad
        return (
            grad * (1 - w) if da else None,
            grad * w if db else None,
            grad * (b - a) if dw else None,
        )


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return Lerp.apply(input, end, weight)


# -- tests and replacements ----------------------------------------------------------------------


def isnan(x: Tensor) -> Tensor:
    return compare(K.NE, x, x)


def isinf(x: Tensor) -> Tensor:
    if not x.dtype.is_floating_point:
        return compare(K.NE, x, x)  # all False
    return compare(K.EQ, x.abs(), math.inf)


def isfinite(x: Tensor) -> Tensor:
    if not x.dtype.is_floating_point:
        return compare(K.EQ, x, x)  # all True
    return compare(K.LT, x.abs(), math.inf)


def isposinf(x: Tensor) -> Tensor:
    return compare(K.EQ, x, math.inf) if x.dtype.is_floating_point else compare(K.NE, x, x)


def isneginf(x: Tensor) -> Tensor:
    return compare(K.EQ, x, -math.inf) if x.dtype.is_floating_point else compare(K.NE, x, x)


def signbit(x: Tensor) -> Tensor:
    """True where the sign bit is set (-0.0 and negative NaNs included)."""
    if not x.dtype.is_floating_point:
        return compare(K.LT, x, 0)
    return compare(K.LT, copysign(x.new_ones(()), x), 0)


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN -> nan, +inf -> posinf (the dtype's largest), -inf -> neginf (its lowest); differentiable as where."""
    if not x.dtype.is_floating_point:
        return x.clone()
    biggest = 3.4028234663852886e38 if x.dtype is float32 else 1.7976931348623157e308
    posinf = biggest if posinf is None else posinf
    neginf = -biggest if neginf is None else neginf
    x = where(isnan(x), nan, x)
    x = where(compare(K.EQ, x, math.inf), posinf, x)
    return where(compare(K.EQ, x, -math.inf), neginf, x)


# -- logical and bitwise -------------------------------------------------------------------------


def _truth(x: Any) -> Any:
    return compare(K.NE, x, 0) if isinstance(x, Tensor) else bool(x)


def logical_and(a: Tensor, b: Any) -> Tensor:
    return binary_values(K.BITAND, _truth(a), _truth(b), bool_, bool_)


def logical_or(a: Tensor, b: Any) -> Tensor:
    return binary_values(K.BITOR, _truth(a), _truth(b), bool_, bool_)


def logical_xor(a: Tensor, b: Any) -> Tensor:
    return binary_values(K.BITXOR, _truth(a), _truth(b), bool_, bool_)


def logical_not(a: Tensor) -> Tensor:
    return compare(K.EQ, a, 0)


_BITWISE_NAMES = {K.BITAND: "bitwise_and", K.BITOR: "bitwise_or", K.BITXOR: "bitwise_xor",
                  K.LSHIFT: "lshift", K.RSHIFT: "rshift"}  # fmt: skip


def bitwise(op: int, a: Any, b: Any) -> Tensor:
    """a (op) b on integers and bools (torch's error for floats)."""
    dt = result_type([a, b])
    if dt.is_floating_point:
        raise NotImplementedError(f"\"{_BITWISE_NAMES[op]}_cpu\" not implemented for '{scalar_type_name(dt)}'")
    if dt is bool_ and op in (K.LSHIFT, K.RSHIFT):
        dt = int64  # shifting bools gives integers
    return binary_values(op, a, b, dt, dt)


def bitwise_not(x: Tensor) -> Tensor:
    if x.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    if x.dtype is bool_:
        return compare(K.EQ, x, False)
    out = new_buffer(x.dtype, x.numel())
    K.binary_scalar(K.BITXOR, x._values(), -1, False, out)
    return Tensor._make(out, x._shape, x.dtype)


def _method_as_function(name: str) -> Any:
    """torch.<name>(input, *args): the Tensor method of that name, as a function."""

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.{name}(input, ...) = input.{name}(...)"
    return function


METHOD_FUNCTIONS = {
    name: _method_as_function(name)
    for name in [*UNARY_NAMES, *(name + "_" for name in UNARY_NAMES),
                 "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "fix", "sgn", "square",
                 "clamp_min", "clamp_max", "clamp_min_", "clamp_max_", "nan_to_num_",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]
}  # fmt: skip
"""The ``minigrad.<name>`` functions that call the Tensor method (``minigrad.sin(x)`` is ``x.sin()``)."""
