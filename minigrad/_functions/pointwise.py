# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Elementwise operations: arithmetic with broadcasting, unary math, clamp, where, casts.

Gradients are returned in the broadcast (output) shape; ``Function`` machinery in the engine
sums them back to each input's shape.
"""

from __future__ import annotations

import math
import struct
from math import prod
from typing import Any

from minigrad._backend import kernels as K
from minigrad._dtype import (
    NARROW_INTS,
    bool_,
    dtype,
    float32,
    int32,
    int64,
    kernel_dtype,
    promote_types,
    result_type,
    wrap_int,
)
from minigrad._shape import broadcast_shapes, broadcast_strides
from minigrad._tensor import Tensor, empty_buffer, new_buffer, scalar_tensor, zeros_for
from minigrad.autograd.function import Function

Number = int | float | bool


_FLOAT32 = struct.Struct("f")


def round_scalar(value: Number, dt: dtype) -> Number:
    """A Python scalar as the computation dtype sees it (float32 scalars are rounded, integers
    wrap into a narrow integer dtype's range: -1 is 255 to a uint8 tensor)."""
    if dt is float32:
        return _FLOAT32.unpack(_FLOAT32.pack(value))[0]
    if dt.is_floating_point:
        return float(value)
    return wrap_int(int(value), dt) if dt in NARROW_INTS else int(value)


_INT32_RANGE = (-2147483649.0, 2147483648.0)  # open bounds of the floats that truncate into int32
_INT64_RANGE = (-9223372036854775808.0, 9223372036854775808.0)  # [low, high) for int64


def float_to_int(v: float, dt: dtype) -> int:
    """A float converted to an integer dtype as torch does on x86: truncated toward zero; NaN,
    infinities and values out of range become the x86 "integer indefinite" (INT64_MIN for int64,
    INT32_MIN for the narrower types, which first convert through int32 and then wrap: 300.0 is
    44 as int8, 1e10 is 0)."""
    if dt is int64:
        return int(v) if _INT64_RANGE[0] <= v < _INT64_RANGE[1] else -(1 << 63)
    t = int(v) if _INT32_RANGE[0] < v < _INT32_RANGE[1] else -(1 << 31)
    return t if dt is int32 else wrap_int(t, dt)


def cast(x: Tensor, dt: dtype) -> Tensor:
    """x converted to dtype dt, without recording a graph (x itself when it already is dt).

    Narrowing integer casts wrap around, float to integer truncates (``float_to_int``)."""
    if x.dtype is dt:
        return x
    values = x._values()
    src = x.dtype
    if dt is bool_:
        data = new_buffer(dt, len(values))
        data[:] = type(data)("B", [v != 0 for v in values])
    elif dt.is_floating_point or (not src.is_floating_point and promote_types(src, dt) is dt):
        data = type(values)(dt.typecode, values)  # exact: to a float, or to a wider integer
    elif not src.is_floating_point:
        data = type(values)(dt.typecode, [wrap_int(v, dt) for v in values])
    else:
        data = type(values)(dt.typecode, [float_to_int(v, dt) for v in values])
    return Tensor._make(data, x._shape, dt)


def binary_values(op: int, a: Any, b: Any, compute: dtype, out_dtype: dtype) -> Tensor:
    """Kernel ``op`` over a and b (tensors or one Python scalar) with broadcasting.

    Narrow integer dtypes compute in int64 and wrap back to ``out_dtype`` (uint8 200 + 100 = 44)."""
    if compute in NARROW_INTS:
        a = a if isinstance(a, Tensor) else round_scalar(a, compute)
        b = b if isinstance(b, Tensor) else round_scalar(b, compute)
        return cast(binary_values(op, a, b, int64, kernel_dtype(out_dtype)), out_dtype)
    if not isinstance(b, Tensor):
        x = cast(a, compute)
        out = empty_buffer(out_dtype, x.numel())
        K.binary_scalar(op, x._values(), round_scalar(b, compute), False, out)
        return Tensor._make(out, x._shape, out_dtype)
    if not isinstance(a, Tensor):
        y = cast(b, compute)
        out = empty_buffer(out_dtype, y.numel())
        K.binary_scalar(op, y._values(), round_scalar(a, compute), True, out)
        return Tensor._make(out, y._shape, out_dtype)
    if a.dtype is not compute or b.dtype is not compute:
        a, b = cast(a, compute), cast(b, compute)
    shape = a._shape if a._shape == b._shape else broadcast_shapes(a._shape, b._shape)
    out = empty_buffer(out_dtype, prod(shape))
    # the kernel reads each operand's storage through its own strides (0 where it is broadcast)
    a_strides = a._strides if a._shape == shape else broadcast_strides(a._shape, a._strides, shape)
    b_strides = b._strides if b._shape == shape else broadcast_strides(b._shape, b._strides, shape)
    K.binary(op, a._storage.data, a_strides, a._offset, b._storage.data, b_strides, b._offset, shape, out)
    return Tensor._make(out, shape, out_dtype)


def _arithmetic(op: int, a: Any, b: Any, true_division: bool = False) -> Tensor:
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype is b.dtype:
        dt = a.dtype  # the common case: nothing to promote
    else:
        dt = result_type([a, b])
    if dt is bool_:
        op = K.MAXIMUM if op == K.ADD else op  # True + True is True: addition of bools is logical or
    if true_division and not dt.is_floating_point:
        dt = float32
    return binary_values(op, a, b, dt, dt)


def _is_bool(x: Any) -> bool:
    """A Python bool or a bool tensor."""
    return type(x) is bool or getattr(x, "dtype", None) is bool_


def _refuse_bool(name: str, *operands: Any) -> None:
    """Raise torch's error for subtracting or negating bool tensors (``~`` inverts a mask)."""
    if name == "neg":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
            "use the `~` or `logical_not()` operator instead."
        )
    if all(_is_bool(x) for x in operands):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead."
        )
    raise RuntimeError(
        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
        "use the `~` or `logical_not()` operator instead."
    )


def compare(op: int, a: Any, b: Any) -> Tensor:
    """A bool tensor of a (op) b; comparisons are not differentiable."""
    return binary_values(op, a, b, result_type([a, b]), bool_)


class Add(Function):
    """z = a + b;  dz/da = 1,  dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return _arithmetic(K.ADD, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = a - b;  dz/da = 1,  dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return _arithmetic(K.SUB, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b,  dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        da, db = ctx.needs_input_grad
        ctx.save_for_backward(a if db else None, b if da else None)
        return _arithmetic(K.MUL, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        # grad * b and grad * a, straight to the kernel: backward records nothing
        return (_arithmetic(K.MUL, grad, b) if da else None), (_arithmetic(K.MUL, grad, a) if db else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b,  dz/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return _arithmetic(K.DIV, a, b, true_division=True)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (grad / b if da else None), (-grad * a / (b * b) if db else None)


class Pow(Function):
    """z = a ** b;  dz/da = b * a^(b-1) (0 where b == 0),  dz/db = z * ln(a) (0 where a == 0 and b >= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        z = _arithmetic(K.POW, a, b)
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        grad_a = grad_b = None
        if da:
            if isinstance(b, Tensor):
                grad_a = where(compare(K.EQ, b, 0), 0.0, grad * b * a ** (b - 1))
            else:
                out = new_buffer(grad.dtype, grad.numel())
                K.pow_scalar_backward(a._values(), float(b), grad._values(), out)
                grad_a = Tensor._make(out, grad._shape, grad.dtype)
        if db:
            if isinstance(a, Tensor):
                zero_base = compare(K.EQ, a, 0) & compare(K.GE, b, 0)
                grad_b = where(zero_base, 0.0, grad * z * a.log())
            else:
                log_a = math.log(a) if a > 0 else -math.inf if a == 0 else math.nan
                grad_b = grad * z * log_a
                if a == 0:
                    grad_b = where(compare(K.GE, b, 0), 0.0, grad_b)
        return grad_a, grad_b


class Neg(Function):
    """z = -x;  dz/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return unary_values(K.NEG, x)

    @staticmethod
    def backward(ctx, grad):
        return unary_values(K.NEG, grad)


def unary_values(op: int, x: Tensor) -> Tensor:
    """Kernel ``op`` on every element of x (ints are computed as float32, like torch)."""
    dt = x.dtype if x.dtype.is_floating_point or op in (K.NEG, K.ABS, K.RELU) else float32
    wide = kernel_dtype(dt)  # narrow integers compute in int64 and wrap back: -(-128) is -128 in int8
    if x.dtype is not wide:
        x = cast(x, wide)
    out = empty_buffer(wide, prod(x._shape))
    K.unary(op, x._values(), out)
    y = Tensor._make(out, x._shape, wide)
    return y if wide is dt else cast(y, dt)


class _Unary(Function):
    """y = f(x) elementwise, where f's derivative is written with x or with y (``uses``)."""

    op: int
    uses: str  # "x" or "y": which one the derivative needs

    @staticmethod
    def forward(ctx, x):
        y = unary_values(ctx._function.op, x)
        ctx.save_for_backward(x if ctx._function.uses == "x" else y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        values = saved._values()
        empty = type(values)(values.typecode)
        x, y = (values, empty) if ctx._function.uses == "x" else (empty, values)
        out = new_buffer(saved.dtype, saved.numel())
        K.unary_backward(ctx._function.op, x, y, grad._values(), out)
        return Tensor._make(out, saved._shape, saved.dtype)


class Exp(_Unary):
    """y = e^x;  dy/dx = y."""

    op, uses = K.EXP, "y"


class Log(_Unary):
    """y = ln x;  dy/dx = 1/x."""

    op, uses = K.LOG, "x"


class Sqrt(_Unary):
    """y = sqrt(x);  dy/dx = 1/(2y)."""

    op, uses = K.SQRT, "y"


class Abs(_Unary):
    """y = |x|;  dy/dx = sign(x) (0 at 0)."""

    op, uses = K.ABS, "x"


class Sigmoid(_Unary):
    """y = 1/(1+e^-x);  dy/dx = y(1-y)."""

    op, uses = K.SIGMOID, "y"


class Tanh(_Unary):
    """y = tanh x;  dy/dx = 1 - y^2."""

    op, uses = K.TANH, "y"


class Relu(_Unary):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    op, uses = K.RELU, "x"


class Clamp(Function):
    """y = min(max(x, low), high);  dy/dx = 1 where low <= x <= high, else 0."""

    @staticmethod
    def forward(ctx, x, low, high):
        dt = result_type([x] + [bound for bound in (low, high) if bound is not None])
        wide = kernel_dtype(dt)
        x = cast(x, wide)
        ctx.save_for_backward(x)
        ctx.low = float("-inf") if low is None else round_scalar(low, dt)
        ctx.high = float("inf") if high is None else round_scalar(high, dt)
        out = new_buffer(wide, x.numel())
        K.clamp(x._values(), ctx.low, ctx.high, out)
        return cast(Tensor._make(out, x._shape, wide), dt)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = new_buffer(grad.dtype, grad.numel())
        K.clamp_backward(x._values(), ctx.low, ctx.high, grad._values(), out)
        return Tensor._make(out, x._shape, grad.dtype), None, None


class Where(Function):
    """z = a where cond else b;  dz/da = cond,  dz/db = not cond."""

    @staticmethod
    def forward(ctx, cond, a, b):
        dt = result_type([a, b])
        wide = kernel_dtype(dt)  # narrow integers select in int64
        a = cast(a, wide) if isinstance(a, Tensor) else scalar_tensor(round_scalar(a, dt), wide)
        b = cast(b, wide) if isinstance(b, Tensor) else scalar_tensor(round_scalar(b, dt), wide)
        shape = broadcast_shapes(broadcast_shapes(cond._shape, a._shape), b._shape)
        out = empty_buffer(wide, prod(shape))
        K.where(
            cond._storage.data, broadcast_strides(cond._shape, cond._strides, shape), cond._offset,
            a._storage.data, broadcast_strides(a._shape, a._strides, shape), a._offset,
            b._storage.data, broadcast_strides(b._shape, b._strides, shape), b._offset,
            shape, out,
        )  # fmt: skip
        ctx.save_for_backward(cond)
        return cast(Tensor._make(out, shape, wide), dt)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = grad.new_zeros(())
        _, da, db = ctx.needs_input_grad
        return None, (where(cond, grad, zero) if da else None), (where(cond, zero, grad) if db else None)


class ToDtype(Function):
    """y = x converted to another dtype;  the gradient is converted back."""

    @staticmethod
    def forward(ctx, x, dt):
        ctx.source = x.dtype
        return cast(x, dt)

    @staticmethod
    def backward(ctx, grad):
        return cast(grad, ctx.source), None


class Fill(Function):
    """y = every element set to a number (or a 0-d tensor's value);  y does not depend on x: dx = 0;
    dvalue = sum(dy)."""

    @staticmethod
    def forward(ctx, x, value):
        value = value.item() if isinstance(value, Tensor) else value
        value = value if x.dtype.is_floating_point else (bool(value) if x.dtype is bool_ else int(value))
        if x.dtype in NARROW_INTS and wrap_int(value, x.dtype) != value:
            raise RuntimeError(f"value cannot be converted to type {x.dtype.name}_t without overflow")
        return Tensor._make(type(x._storage.data)(x.dtype.typecode, [value]) * x.numel(), x._shape, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        grad_x = zeros_for(grad._shape, grad.dtype) if ctx.needs_input_grad[0] else None
        return grad_x, (grad.sum() if ctx.needs_input_grad[1] else None)


class Copy(Function):
    """y = src broadcast to x's shape and converted to x's dtype;  dx = 0,  dsrc = dy (summed and cast back)."""

    @staticmethod
    def forward(ctx, x, src):
        values = cast(src, x.dtype)
        if values._shape != x._shape:
            values = values.expand(*x._shape)
        return Tensor._make(values._values()[:], x._shape, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (zeros_for(grad._shape, grad.dtype) if ctx.needs_input_grad[0] else None), grad


# -- the functional API --------------------------------------------------------------------------


def _scaled(b: Any, alpha: Number) -> Any:
    """alpha * b for add/sub's ``alpha`` (a number times a number stays a number)."""
    return b if alpha == 1 else (mul(b, alpha) if isinstance(b, Tensor) else b * alpha)


def add(a: Any, b: Any, alpha: Number = 1) -> Tensor:
    return Add.apply(a, _scaled(b, alpha))


def sub(a: Any, b: Any, alpha: Number = 1) -> Tensor:
    b = _scaled(b, alpha)
    if _is_bool(a) or _is_bool(b):
        _refuse_bool("sub", a, b)
    return Sub.apply(a, b)


def mul(a: Any, b: Any) -> Tensor:
    return Mul.apply(a, b)


def div(a: Any, b: Any) -> Tensor:
    return Div.apply(a, b)


def pow(a: Any, b: Any) -> Tensor:
    if type(b) is int and b < 0 and isinstance(a, Tensor) and not a.dtype.is_floating_point:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if result_type([a, b]) is bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return Pow.apply(a, b)


def neg(x: Tensor) -> Tensor:
    if x.dtype is bool_:
        _refuse_bool("neg", x)
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    if x.dtype is bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def relu(x: Tensor) -> Tensor:
    if x.dtype is bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(x)


def clamp(x: Tensor, min: Number | Tensor | None = None, max: Number | Tensor | None = None) -> Tensor:
    """min(max(x, min), max) elementwise; bounds are numbers, or tensors that broadcast with x."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensor_bounds = [isinstance(bound, Tensor) for bound in (min, max) if bound is not None]
    if not any(tensor_bounds):
        return Clamp.apply(x, min, max)
    if not all(tensor_bounds):
        raise TypeError(
            "clamp() received an invalid combination of arguments: min and max must both be numbers or tensors"
        )
    # x where it lies within the bounds (ties and NaN keep x), else the bound it crossed
    if min is not None:
        x = where(compare(K.GE, x, min) | compare(K.NE, x, x), x, min)
    if max is not None:
        x = where(compare(K.LE, x, max) | compare(K.NE, x, x), x, max)
    return x


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    if not isinstance(condition, Tensor) or condition.dtype is not bool_:
        raise RuntimeError("where expected condition to be a boolean tensor")
    return Where.apply(condition, input, other)


def fill(x: Tensor, value: Any) -> Tensor:
    """A tensor like x with every element ``value`` (a number or a 0-d tensor): ``x.fill_``'s result."""
    if isinstance(value, Tensor) and value._shape:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions."
        )
    return Fill.apply(x, value)  # a 0-d tensor value stays one: it gets the gradient


def copy(x: Tensor, src: Tensor) -> Tensor:
    """src broadcast to x's shape in x's dtype: ``x.copy_(src)``'s result."""
    if broadcast_shapes(x._shape, src._shape) != x._shape:
        raise RuntimeError(
            f"output with shape {list(x._shape)} doesn't match the broadcast shape "
            f"{list(broadcast_shapes(x._shape, src._shape))}"
        )
    return Copy.apply(x, src)


def to_dtype(x: Tensor, dt: dtype) -> Tensor:
    return ToDtype.apply(x, dt)
