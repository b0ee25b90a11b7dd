# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Reductions: sum, mean, max/min (with indices), argmax/argmin, logsumexp.

A reduction over one dimension views the contiguous input as (outer, n, inner): ``outer`` is the
product of the sizes before the dimension, ``inner`` the product of those after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from minigrad._backend import kernels as K
from minigrad._dtype import bool_, dtype, float32, int64, kernel_dtype, scalar_type_name
from minigrad._functions.pointwise import cast
from minigrad._functions.views import expanded, reshaped
from minigrad._shape import normalize_dim
from minigrad._tensor import Tensor, empty_buffer, new_buffer, scalar_tensor
from minigrad.autograd.function import Function

Dims = int | Sequence[int] | None


def split_at(shape: tuple, dim: int) -> tuple[int, int, int]:
    """(outer, n, inner) for reducing ``dim`` of a contiguous tensor of this shape."""
    return prod(shape[:dim]), shape[dim], prod(shape[dim + 1 :])


def _dims(x: Tensor, dim: int | Sequence[int] | None) -> tuple[int, ...]:
    """The sorted dims to reduce: all of them for None or an empty list; none for a 0-d tensor."""
    n = len(x._shape)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if dim is None or not dims:
        return tuple(range(n))
    normalized = [normalize_dim(d, n) for d in dims]
    for d in normalized:
        if normalized.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(normalized)) if n else ()


def _reduced_shape(shape: tuple, dims: tuple, keepdim: bool) -> tuple:
    if keepdim:
        return tuple([1 if i in dims else s for i, s in enumerate(shape)])
    return tuple([s for i, s in enumerate(shape) if i not in dims])


def sum_values(x: Tensor, dims: tuple, keepdim: bool) -> Tensor:
    """Sum over dims (no graph); ints and bools sum as int64, like torch."""
    dt = x.dtype if x.dtype.is_floating_point else int64
    x = cast(x, dt)
    if len(dims) == len(x._shape):
        total = scalar_tensor(K.sum_all(x._values()), dt)
        return reshaped(total, _reduced_shape(x._shape, dims, keepdim)) if keepdim else total
    values, shape = x._values(), x._shape
    for d in reversed(dims):
        outer, n, inner = split_at(shape, d)
        out = new_buffer(dt, outer * inner)
        K.reduce_dim(K.SUM, values, outer, n, inner, out)
        values, shape = out, shape[:d] + (1,) + shape[d + 1 :]
    return Tensor._make(values, _reduced_shape(x._shape, dims, keepdim), dt)


class Sum(Function):
    """y = sum of x over dims;  dx = dy broadcast back over the summed dims."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape = x._shape
        ctx.kept_shape = _reduced_shape(x._shape, dims, True)
        return sum_values(x, dims, keepdim)

    @staticmethod
    def backward(ctx, grad):
        return expanded(reshaped(grad, ctx.kept_shape), ctx.input_shape), None, None


class Mean(Function):
    """y = sum(x) / n over dims;  dx = dy / n broadcast back."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape = x._shape
        ctx.kept_shape = _reduced_shape(x._shape, dims, True)
        ctx.count = prod(x._shape[d] for d in dims)
        total = sum_values(x, dims, keepdim)
        return total / ctx.count if ctx.count else total * float("nan")

    @staticmethod
    def backward(ctx, grad):
        return expanded(reshaped(grad / ctx.count, ctx.kept_shape), ctx.input_shape), None, None


class MaxDim(Function):
    """(values, indices) of the max (or min) along dim;  dx = dy placed at the indices."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, op):
        shape = x._shape or (1,)
        outer, n, inner = split_at(shape, dim)
        wide = kernel_dtype(x.dtype)
        values = empty_buffer(wide, outer * inner)
        indices = empty_buffer(int64, outer * inner)
        K.arg_reduce_dim(op, cast(x, wide)._values(), outer, n, inner, values, indices)
        out_shape = _reduced_shape(x._shape, (dim,), keepdim)
        ctx.input_shape, ctx.dim, ctx.kept_shape = x._shape, dim, _reduced_shape(x._shape, (dim,), True)
        index = Tensor._make(indices, out_shape, int64)
        ctx.save_for_backward(index)
        ctx.mark_non_differentiable(index)
        return cast(Tensor._make(values, out_shape, wide), x.dtype), index

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        (index,) = ctx.saved_tensors
        out = new_buffer(grad.dtype, prod(ctx.input_shape))
        outer, n, inner = split_at(ctx.input_shape or (1,), ctx.dim)
        K.arg_reduce_dim_backward(grad._values(), index._values(), outer, n, inner, out)
        return Tensor._make(out, ctx.input_shape, grad.dtype), None, None, None


class MaxAll(Function):
    """y = max (or min) of all elements;  dx = dy shared evenly among the elements equal to y."""

    @staticmethod
    def forward(ctx, x, op):
        wide = kernel_dtype(x.dtype)
        out = new_buffer(wide, 1)
        K.reduce_dim(op, cast(x, wide)._values(), 1, x.numel(), 1, out)
        y = cast(Tensor._make(out, (), wide), x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        mask = (x != x) if y.item() != y.item() else (x == y)  # a NaN result shares among the NaNs
        mask = mask.to(grad.dtype)
        return mask * (grad / mask.sum()), None


class LogSumExp(Function):
    """y = log sum_k exp(x_k) along dim;  dx = dy * softmax(x)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        x = x if x.dtype.is_floating_point else cast(x, float32)
        shape = x._shape or (1,)
        outer, n, inner = split_at(shape, dim)
        out = new_buffer(x.dtype, outer * inner)
        if n:
            K.logsumexp(x._values(), outer, n, inner, out)
        else:
            K.fill(out, float("-inf"))  # the log of an empty sum
        y = Tensor._make(out, _reduced_shape(x._shape, (dim,), keepdim), x.dtype)
        ctx.save_for_backward(x, y)
        ctx.kept_shape, ctx.dim = _reduced_shape(x._shape, (dim,), True), dim
        return y

    @staticmethod
    def backward(ctx, grad, *_):
        x, y = ctx.saved_tensors
        if grad.dtype is not x.dtype:  # a root gradient of another dtype: the product promotes
            return (x - y.reshape(ctx.kept_shape)).exp() * grad.reshape(ctx.kept_shape), None, None
        outer, n, inner = split_at(x._shape or (1,), ctx.dim)
        out = new_buffer(x.dtype, outer * n * inner)
        K.logsumexp_backward(x._values(), y._values(), grad._values(), outer, n, inner, out)
        return Tensor._make(out, x._shape, x.dtype), None, None


# -- the functional API --------------------------------------------------------------------------


def sum(x: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The sum over dims; ``dtype`` converts x first (integers and bools otherwise sum as int64)."""
    if dtype is not None:
        x = x.to(dtype)
        if not dtype.is_floating_point and dtype is not int64:  # the sum stays in the asked dtype
            return Sum.apply(x, _dims(x, dim), keepdim).to(dtype)
    return Sum.apply(x, _dims(x, dim), keepdim)


def mean(x: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:  # (torch checks the dtype before the dims)
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {scalar_type_name(x.dtype)}"
        )
    return Mean.apply(x, _dims(x, dim), keepdim)


def _extreme(x: Tensor, dim: int | None, keepdim: bool, op: int, other: Tensor | None) -> object:
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        from minigrad._functions.pointwise import compare, where

        pick = compare(K.GE if op == K.MAX else K.LE, x, other) | compare(K.NE, x, x)
        return where(pick, x, other)
    name = "max" if op == K.MAX else "min"
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return MaxAll.apply(x, op)
    dim = _nonempty_dim(x, dim, name)
    return MaxMinResult(*MaxDim.apply(x, dim, keepdim, op))


def _nonempty_dim(x: Tensor, dim: int, name: str) -> int:
    """dim normalized, after checking that it has elements to pick from."""
    dim = normalize_dim(dim, len(x._shape))
    if x._shape and x._shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    return dim


def _arg_extreme(x: Tensor, dim: int | None, keepdim: bool, op: int) -> Tensor:
    name = "argmax" if op == K.MAX else "argmin"
    if dim is None:
        if x.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = MaxDim.apply(x.detach().reshape(-1), 0, False, op)[1]
        return index.reshape((1,) * x.dim()) if keepdim else index
    return MaxDim.apply(x.detach(), _nonempty_dim(x, dim, name), keepdim, op)[1]


def max(x: Tensor, dim: int | None = None, keepdim: bool = False, other: Tensor | None = None) -> object:
    """max(x) -> 0-d tensor; max(x, dim) -> (values, indices); max(x, other) -> elementwise."""
    return _extreme(x, dim, keepdim, K.MAX, other)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False, other: Tensor | None = None) -> object:
    return _extreme(x, dim, keepdim, K.MIN, other)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if x.dtype is bool_:
        raise RuntimeError("argmax(): does not support bool input")
    return _arg_extreme(x, dim, keepdim, K.MAX)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if x.dtype is bool_:
        raise RuntimeError("argmin(): does not support bool input")
    return _arg_extreme(x, dim, keepdim, K.MIN)


def logsumexp(x: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """log sum exp over one dim, or several (moved to the end and flattened into one)."""
    if isinstance(dim, (tuple, list)):
        dims = _dims(x, dim)
        if len(dims) == 1:
            return LogSumExp.apply(x, dims[0], keepdim)
        rest = [d for d in range(x.dim()) if d not in dims]
        kept = tuple([x._shape[d] for d in rest])
        y = LogSumExp.apply(x.permute(*rest, *dims).reshape(*kept, -1), len(rest), False)
        return y.reshape(_reduced_shape(x._shape, dims, True)) if keepdim else y
    return LogSumExp.apply(x, normalize_dim(dim, len(x._shape)), keepdim)


class MaxMinResult(tuple):
    """What ``max(dim)`` returns: a (values, indices) pair with those names, like torch's."""

    def __new__(cls, values: Tensor, indices: Tensor) -> MaxMinResult:
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"minigrad.return_types.max(\nvalues={self[0]!r},\nindices={self[1]!r})"
