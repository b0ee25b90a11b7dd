"""More reductions: prod, var/std, norms, cumsum/cumprod, amax/amin, all/any, counting and
order statistics (median, mode, unique, bincount).

Float results are computed in double from the stored values and rounded once, as torch's CPU
kernels accumulate float32 in double for ``var``/``std``, ``cumsum`` and ``cumprod``. Where an
op's gradient is an existing op's (``gather`` for the values picked by ``median``/``mode``), the
op is composed from it instead of having its own backward.
"""

from __future__ import annotations

import builtins
import math
import warnings
from array import array
from collections.abc import Sequence
from math import prod as _prod
from typing import Any

from minigrad._backend import kernels as K
from minigrad._dtype import bool_, dtype, float64, int64, kernel_dtype, scalar_type_name, uint8, wrap_int
from minigrad._functions import reduce_order
from minigrad._functions.pointwise import cast, compare
from minigrad._functions.reduction import _dims, _reduced_shape, split_at, sum_values
from minigrad._functions.sorting import std_sort_order
from minigrad._functions.views import expanded, reshaped
from minigrad._shape import normalize_dim
from minigrad._tensor import Tensor, new_buffer
from minigrad.autograd.function import Function

Dims = int | Sequence[int] | None
_ONE_THREAD = 32768  # torch's grain size: smaller reductions run in one pass, in order


def lines(x: Tensor, dim: int) -> tuple[list[list], int]:
    """The 1-d slices of x along ``dim`` as lists (row-major over the other dims), and their length."""
    shape = x._shape or (1,)
    outer, n, inner = split_at(shape, dim)
    values = x._values()
    block = n * inner
    return [values[o * block + i : (o + 1) * block : inner].tolist() for o in range(outer) for i in range(inner)], n


def from_lines(rows: list[list], shape: tuple, dim: int, dt: dtype) -> Tensor:
    """The inverse of ``lines``: a tensor of ``shape`` whose slices along dim are ``rows``."""
    outer, n, inner = split_at(shape or (1,), dim)
    out = [0] * (outer * n * inner)
    block = n * inner
    for r, row in enumerate(rows):
        o, i = divmod(r, inner)
        out[o * block + i : (o + 1) * block : inner] = row
    return Tensor._make(store(out, dt), shape, dt)


def store(values: list, dt: dtype) -> array:
    """Python numbers as a buffer of dtype dt (integers wrap into narrow dtypes, as torch's)."""
    if dt.is_floating_point or dt is int64:
        return array(dt.typecode, [wrap_int(v, int64) if type(v) is int else v for v in values])
    return array(dt.typecode, [wrap_int(int(v), dt) for v in values])


def _flat_groups(x: Tensor, dims: tuple) -> tuple[list[list], tuple]:
    """The elements of each reduced group (dims reduced together) as lists, and the kept shape."""
    rest = [d for d in range(x.dim()) if d not in dims]
    moved = x.detach().permute(*rest, *dims) if x._shape else x.detach().reshape(1)
    n = _prod(x._shape[d] for d in dims) if x._shape else 1
    values = moved._values().tolist()
    groups = (
        [values[k * n : (k + 1) * n] for k in range(len(values) // n)]
        if n
        else [[] for _ in range(_prod(x._shape[d] for d in rest))]
    )
    return groups, _reduced_shape(x._shape, dims, True)


def _floating(x: Tensor, name: str) -> None:
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


def _with_dtype(x: Tensor, dt: dtype | None) -> Tensor:
    return x if dt is None else x.to(dt)


def _as_asked(y: Tensor, dt: dtype | None) -> Tensor:
    """An integer result (computed in int64) in the dtype asked for, wrapping as torch's."""
    return y if dt is None or y.dtype is dt else y.to(dt)


# -- prod ----------------------------------------------------------------------------------------


def _product(values: list) -> Any:
    result = 1.0 if values and isinstance(values[0], float) else 1
    for v in values:
        result *= v
    return result


def _others_product(row: list) -> list:
    """For each position, the product of every other element of the row (zeros handled exactly)."""
    n = len(row)
    before = [1.0] * (n + 1)
    after = [1.0] * (n + 1)
    for i in range(n):
        before[i + 1] = before[i] * row[i]
        after[n - 1 - i] = after[n - i] * row[n - 1 - i]
    return [before[i] * after[i + 1] for i in range(n)]


def _torch_order_products(x: Tensor, rows: list, dim: int | None) -> list | None:
    """Float products of a contiguous tensor in the order torch's kernel multiplies
    (``reduce_order``); None where that order is not known here."""
    if not x.dtype.is_floating_point or not x.is_contiguous() or x.numel() >= _ONE_THREAD:
        return None
    single = x.dtype.typecode == "f"
    if dim is None or dim == x.dim() - 1 or not x._shape:
        return [reduce_order.prod_lanes(row, single) for row in rows]
    return [reduce_order.prod_in_order(row, single) for row in rows]


class Prod(Function):
    """y = prod_k x_k along dim (all elements when dim is None);  dx_i = dy * prod_{k != i} x_k."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        out_dt = x.dtype if x.dtype.is_floating_point else int64
        src = cast(x, kernel_dtype(x.dtype) if out_dt is int64 else x.dtype)
        d = 0 if dim is None else dim
        flat = src.reshape(-1) if dim is None else src
        rows, _ = lines(flat, d)
        values = _torch_order_products(x, rows, dim) or [_product(row) for row in rows]
        shape = () if dim is None else _reduced_shape(x._shape, (dim,), keepdim)
        if dim is None and keepdim:
            shape = (1,) * x.dim()
        ctx.save_for_backward(x)
        ctx.dim = dim
        return Tensor._make(store(values, out_dt), shape, out_dt)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        dim = ctx.dim
        source = x.reshape(-1) if dim is None else x
        d = 0 if dim is None else dim
        rows, _ = lines(source, d)
        others = from_lines([_others_product(row) for row in rows], source._shape, d, x.dtype).reshape(x._shape)
        kept = (1,) * x.dim() if dim is None else _reduced_shape(x._shape, (dim,), True)
        return expanded(reshaped(grad, kept), x._shape) * others, None, None


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The product of the elements (along ``dim``); integers and bools multiply as int64."""
    x = _with_dtype(input, dtype)
    return _as_asked(Prod.apply(x, None if dim is None else normalize_dim(dim, x.dim()), keepdim), dtype)


# -- var, std ------------------------------------------------------------------------------------


def _moments(group: list, correction: float) -> tuple[float, float]:
    """(mean, sum of squared deviations / max(0, n - correction)) in double, two passes."""
    n = len(group)
    mean = math.fsum(group) / n if n else math.nan
    squares = math.fsum((v - mean) ** 2 for v in group) if n else math.nan
    denominator = max(0.0, n - correction)
    return mean, (
        squares / denominator if denominator else (math.nan if squares == 0 or squares != squares else math.inf)
    )


class VarStd(Function):
    """v = sum (x - mean)^2 / (n - correction) over dims, s = sqrt(v);
    dx = dv * 2 (x - mean) / (n - correction),  or  ds * (x - mean) / ((n - correction) s)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim, root):
        groups, kept = _flat_groups(x, dims)
        if groups and len(groups[0]) - correction <= 0:
            warnings.warn(
                f"{'std' if root else 'var'}(): degrees of freedom is <= 0. Correction should be strictly less than "
                "the reduction factor (input numel divided by output numel).",
                stacklevel=4,
            )
        moments = [_moments(g, correction) for g in groups]
        values = [math.sqrt(v) if root and v == v else v for _, v in moments]
        ctx.save_for_backward(x)
        ctx.kept, ctx.dims, ctx.correction, ctx.root = kept, dims, correction, root
        y = Tensor._make(array(x.dtype.typecode, values), _reduced_shape(x._shape, dims, keepdim), x.dtype)
        ctx.y = y.detach()
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        n = _prod(x._shape[d] for d in ctx.dims) if x._shape else 1
        centred = x - x.mean(ctx.dims, keepdim=True) if x._shape else x - x
        scale = reshaped(grad, ctx.kept) / max(0.0, n - ctx.correction)
        if ctx.root:
            return centred * (scale / reshaped(ctx.y, ctx.kept)), None, None, None, None
        return centred * (scale * 2), None, None, None, None


def _var_args(name: str, x: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any) -> tuple:
    """torch's overloads: (dim, unbiased, keepdim), (unbiased) alone, or correction= by keyword."""
    if isinstance(dim, bool):  # var(x, False): the old ``unbiased`` overload
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{name}: Cannot pass both unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    _floating(x, "std and var")
    return _dims(x, dim), correction, keepdim


def var(
    input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
) -> Tensor:
    """The variance over dims with ``correction`` (1: Bessel's, the default; unbiased=False is 0)."""
    dims, correction, keepdim = _var_args("var", input, dim, unbiased, keepdim, correction)
    return VarStd.apply(input, dims, correction, keepdim, False)


def std(
    input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
) -> Tensor:
    """The standard deviation: sqrt of ``var`` with the same arguments."""
    dims, correction, keepdim = _var_args("std", input, dim, unbiased, keepdim, correction)
    return VarStd.apply(input, dims, correction, keepdim, True)


def var_mean(
    input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
) -> tuple[Tensor, Tensor]:
    dims, correction, keepdim = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    return VarStd.apply(input, dims, correction, keepdim, False), input.mean(dims, keepdim=keepdim)


def std_mean(
    input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
) -> tuple[Tensor, Tensor]:
    dims, correction, keepdim = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    return VarStd.apply(input, dims, correction, keepdim, True), input.mean(dims, keepdim=keepdim)


# -- norms ---------------------------------------------------------------------------------------


def _norm_value(group: list, p: float) -> float:
    if p == math.inf:
        return max((abs(v) for v in group), default=0.0)
    if p == -math.inf:
        return min(abs(v) for v in group)
    if p == 0:
        return float(sum(1 for v in group if v != 0))
    if p == 1:
        return math.fsum(abs(v) for v in group)
    if p == 2:
        return math.sqrt(math.fsum(v * v for v in group))
    total = math.fsum(abs(v) ** p for v in group)
    return total ** (1.0 / p)


def _torch_order_norms(x: Tensor, groups: list, p: float, dims: tuple) -> list | None:
    """The 1- and 2-norms of a contiguous tensor over one dim or all of them, summed in the order
    torch's kernels use (``reduce_order``); None where that order is not known here."""
    if p not in (1.0, 2.0) or not x.is_contiguous() or x.numel() >= _ONE_THREAD or not x._shape:
        return None
    last = x.dim() - 1
    everything = len(dims) == x.dim()
    if not everything and len(dims) != 1:
        return None
    single = x.dtype.typecode == "f"
    if p == 2.0 and (everything or dims == (last,)):
        return [reduce_order.norm2_lanes(g, single) for g in groups]
    return [reduce_order.norm_in_order(g, int(p), single) for g in groups]


class VectorNorm(Function):
    """y = (sum |x|^p)^(1/p) over dims (max |x| for p = inf, min for -inf, the count of nonzeros for 0);
    dx = dy * sign(x) |x|^(p-1) / y^(p-1) (0 where y = 0); for +-inf dy * sign(x) shared evenly
    among the elements whose |x| is y; for p = 0 none (torch's leaves .grad unset)."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        groups, kept = _flat_groups(x, dims)
        if p < 0 and builtins.any(not g for g in groups):
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the operation does not "
                "have an identity"
            )
        values = _torch_order_norms(x, groups, p, dims) or [_norm_value(g, p) for g in groups]
        y = Tensor._make(array(x.dtype.typecode, values), _reduced_shape(x._shape, dims, keepdim), x.dtype)
        ctx.save_for_backward(x)
        ctx.p, ctx.dims, ctx.kept, ctx.y = p, dims, kept, y.detach()
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p, y, g = ctx.p, reshaped(ctx.y, ctx.kept), reshaped(grad, ctx.kept)
        sign = (x > 0).to(x.dtype) - (x < 0).to(x.dtype)
        if p == 0:
            return None, None, None, None  # no gradient at all, as torch's (not even zeros)
        if p in (math.inf, -math.inf):
            ties = (x.abs() == y).to(x.dtype)
            return sign * ties * (g / ties.sum(ctx.dims, keepdim=True)), None, None, None
        if p == 1:
            return sign * g, None, None, None
        safe = y.masked_fill(y == 0, 1.0)
        if p == 2:
            scaled = x * (g / safe)
        else:
            scaled = sign * x.abs() ** (p - 1) * (g / safe ** (p - 1))
        return scaled.masked_fill((y == 0).expand_as(x), 0.0), None, None, None


def vector_norm(
    x: Tensor, ord: float = 2, dim: Dims = None, keepdim: bool = False, *, dtype: dtype | None = None
) -> Tensor:
    """torch.linalg.vector_norm: the ``ord``-norm of x over ``dim`` (every element when None)."""
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {scalar_type_name(x.dtype)}"
        )
    x = _with_dtype(x, dtype)
    return VectorNorm.apply(x, float(ord), _dims(x, dim), keepdim)


def matrix_norm(
    A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *, dtype: dtype | None = None
) -> Tensor:
    """torch.linalg.matrix_norm for ord 'fro', 1, -1, inf and -inf over the two dims of ``dim``."""
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    A = _with_dtype(A, dtype)
    rows, cols = (normalize_dim(d, A.dim()) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = A.abs().sum(summed, keepdim=True)
        result = (amax if ord > 0 else amin)(sums, other, keepdim=True)
        return result if keepdim else result.squeeze((rows, cols) if rows < cols else (cols, rows))
    raise NotImplementedError(
        f"minigrad's linalg.matrix_norm supports ord 'fro', 1, -1, inf, -inf (not {ord!r}: it needs an SVD)"
    )


def linalg_norm(
    A: Tensor, ord: Any = None, dim: Dims = None, keepdim: bool = False, *, dtype: dtype | None = None
) -> Tensor:
    """torch.linalg.norm: a vector norm, or with a string ``ord`` or two dims (or a 2-d input and an
    ``ord``) a matrix norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", tuple(dim), keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2):
        return matrix_norm(A, ord, tuple(dim) if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if dim is None and A.dim() != 1:
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.dim()}D."
        )
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def norm(input: Tensor, p: Any = "fro", dim: Dims = None, keepdim: bool = False, dtype: dtype | None = None) -> Tensor:
    """torch.norm: the p-norm over dims ('fro' is the 2-norm; 'nuc' is not supported)."""
    if p == "nuc":
        raise NotImplementedError("minigrad's norm does not compute the nuclear norm (it needs an SVD)")
    return vector_norm(input, 2 if p == "fro" else p, dim, keepdim, dtype=dtype)


# -- cumulative sums and products ----------------------------------------------------------------


def _running(row: list, multiply: bool) -> list:
    total = row[0] if row else 0
    out = [total] * len(row)
    for i in range(1, len(row)):
        total = total * row[i] if multiply else total + row[i]
        out[i] = total
    return out


def _cumprod_grad(row: list, grad: list) -> list:
    """dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k (O(n) without zeros, else directly)."""
    n = len(row)
    if builtins.all(v != 0 for v in row):
        out, carry, prefix = [0.0] * n, 0.0, _running(row, True)
        for i in range(n - 1, -1, -1):
            carry += grad[i] * prefix[i]
            out[i] = carry / row[i]
        return out
    out = []
    for i in range(n):
        before = _product(row[:i]) if i else 1.0
        total, running = 0.0, before
        for j in range(i, n):
            if j > i:
                running *= row[j]
            total += grad[j] * running
        out.append(total)
    return out


class Cumulative(Function):
    """y_i = x_0 + ... + x_i (or x_0 * ... * x_i) along dim;
    cumsum: dx_i = sum_{j >= i} dy_j;  cumprod: dx_i = sum_{j >= i} dy_j prod_{k <= j, k != i} x_k."""

    @staticmethod
    def forward(ctx, x, dim, multiply):
        out_dt = x.dtype if x.dtype.is_floating_point else int64
        rows, _ = lines(cast(x, out_dt), dim)
        ctx.save_for_backward(x if multiply else None)
        ctx.dim, ctx.multiply = dim, multiply
        return from_lines([_running(r, multiply) for r in rows], x._shape, dim, out_dt)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        grads, _ = lines(grad, ctx.dim)
        if ctx.multiply:
            rows, _ = lines(x, ctx.dim)
            result = [_cumprod_grad(r, g) for r, g in zip(rows, grads)]
        else:
            result = [_running(g[::-1], False)[::-1] for g in grads]
        return from_lines(result, grad._shape, ctx.dim, grad.dtype), None, None


def cumsum(input: Tensor, dim: int, *, dtype: dtype | None = None) -> Tensor:
    """Running sums along dim (integers and bools sum as int64), accumulated in double as torch's."""
    x = _with_dtype(input, dtype)
    return _as_asked(Cumulative.apply(x, normalize_dim(dim, x.dim()), False), dtype)


def cumprod(input: Tensor, dim: int, *, dtype: dtype | None = None) -> Tensor:
    x = _with_dtype(input, dtype)
    return _as_asked(Cumulative.apply(x, normalize_dim(dim, x.dim()), True), dtype)


# -- amax, amin, aminmax -------------------------------------------------------------------------


def _extreme_values(x: Tensor, dims: tuple, keepdim: bool, op: int) -> Tensor:
    """max/min over dims (NaN wins), no graph."""
    wide = kernel_dtype(x.dtype)
    values, shape = cast(x, wide)._values(), x._shape
    for d in reversed(dims):
        outer, n, inner = split_at(shape, d)
        out = new_buffer(wide, outer * inner)
        K.reduce_dim(op, values, outer, n, inner, out)
        values, shape = out, shape[:d] + (1,) + shape[d + 1 :]
    return cast(Tensor._make(values, _reduced_shape(x._shape, dims, keepdim), wide), x.dtype)


class AMax(Function):
    """y = max (or min) over dims;  dx = dy shared evenly among the elements equal to y."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, op):
        y = _extreme_values(x, dims, keepdim, op)
        ctx.save_for_backward(x)
        ctx.dims, ctx.y = dims, reshaped(y, _reduced_shape(x._shape, dims, True))
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        y = ctx.y
        ties = (x == y).to(grad.dtype)  # a NaN result ties with nothing: NaN gradients, as torch's
        share = reshaped(grad, y._shape) / ties.sum(ctx.dims, keepdim=True)
        return ties * share, None, None, None


def _amax_dims(x: Tensor, dim: Dims, name: str) -> tuple:
    dims = _dims(x, dim)
    for d in dims:
        if x._shape and x._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if not x._shape and x.numel() == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    return dims


def amax(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """The max over ``dim`` (every dim when it is empty); ties share the gradient evenly."""
    return AMax.apply(input, _amax_dims(input, dim, "amax"), keepdim, K.MAX)


def amin(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    return AMax.apply(input, _amax_dims(input, dim, "amin"), keepdim, K.MIN)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    if dim is None and input.numel() == 0:
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
        )
    d = () if dim is None else dim
    return return_type("aminmax", ("min", "max"))(amin(input, d, keepdim), amax(input, d, keepdim))


# -- logical reductions and counting -------------------------------------------------------------


def _count(x: Tensor, dims: tuple, keepdim: bool) -> Tensor:
    return sum_values(compare(K.NE, x, 0), dims, keepdim)


def all(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch.all
    """True where every element over dim is nonzero (uint8 inputs give uint8, as torch)."""
    dims = _dims(input, dim)
    size = _prod(input._shape[d] for d in dims) if input._shape else 1
    result = compare(K.EQ, _count(input, dims, keepdim), size)
    return cast(result, uint8) if input.dtype is uint8 else result


def any(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch.any
    result = compare(K.GT, _count(input, _dims(input, dim), keepdim), 0)
    return cast(result, uint8) if input.dtype is uint8 else result


def count_nonzero(input: Tensor, dim: Dims = None) -> Tensor:
    return _count(input, _dims(input, dim), False)


# -- order statistics ----------------------------------------------------------------------------


def _is_nan(v: Any) -> bool:
    return v != v


def _median_index(row: list) -> int:
    """Where the lower median of row is: the ((n - 1) // 2)-th element in the order of (value,
    position), which is torch's strict order for its nth_element, so ties resolve as in torch;
    the first NaN when there is one."""
    for i, v in enumerate(row):
        if _is_nan(v):
            return i
    return builtins.sorted(range(len(row)), key=lambda i: (row[i], i))[(len(row) - 1) // 2]


def _mode_index(row: list) -> int:
    """Where torch's mode says the most frequent value (the smallest of equally frequent ones) is:
    torch sorts (value, position) pairs by value with std::sort, which is not stable, and reports
    the position that ends last in the value's run."""
    pairs = [(row[i], i) for i in std_sort_order(row, lambda a, b: a < b)]
    best, best_count, count = 0, 0, 0
    for k, (value, _) in enumerate(pairs):
        count += 1
        if k == len(pairs) - 1 or value != pairs[k + 1][0]:
            if count > best_count:
                best, best_count = k, count
            count = 0
    return pairs[best][1]


def _select(input: Tensor, dim: int | None, keepdim: bool, pick: Any, name: str) -> Any:
    """(values, indices) picked along dim by ``pick(row) -> index``; values via gather (differentiable)."""
    d = normalize_dim(dim, input.dim())
    if input._shape and input._shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    rows, _ = lines(input.detach(), d)
    kept = _reduced_shape(input._shape, (d,), True)
    index = Tensor._make(array("q", [pick(r) for r in rows]), kept, int64)
    values = input.gather(d, index) if input._shape else input.clone()
    if not keepdim:
        values, index = (
            values.reshape(_reduced_shape(input._shape, (d,), False)),
            index.reshape(_reduced_shape(input._shape, (d,), False)),
        )
    return return_type(name, ("values", "indices"))(values, index)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of all elements (a 0-d tensor), or (values, indices) along ``dim``. NaN wins."""
    if dim is not None:
        return _select(input, dim, keepdim, _median_index, "median")
    if input.numel() == 0:
        return input.new_full((), math.nan) if input.dtype.is_floating_point else input.new_zeros(())
    flat = input.reshape(-1)
    y = flat[_median_index(flat._values().tolist())]
    return EvenlyShared.apply(input, y.detach()) if input.requires_grad else y


class EvenlyShared(Function):
    """y = a value picked from x;  dx = dy shared evenly among the elements equal to it (NaNs for NaN)."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.save_for_backward(x, value)
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        ties = ((x == y) | ((x != x) & (y != y))).to(grad.dtype)
        return ties * (grad / ties.sum()), None


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """(values, indices): the most frequent value along dim (the smallest of equally frequent ones)."""
    return _select(input, dim, keepdim, _mode_index, "mode")


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements in ascending order (torch's CPU unique sorts whatever ``sorted`` says),
    or with ``dim`` the distinct slices along it in lexicographic order; optionally each element's
    (slice's) position among them and how often each occurs."""
    x = input.detach()
    if dim is None:
        values = x._values().tolist()
        keys = values
    else:
        d = normalize_dim(dim, x.dim())
        slices = x.movedim(d, 0).reshape(x._shape[d], -1) if x._shape else x.reshape(1, 1)
        keys = [tuple(row) for row in slices.tolist()]
    distinct = builtins.sorted(set(keys), key=lambda v: (v != v, v))
    where = {v: i for i, v in enumerate(distinct)}
    if dim is None:
        out = Tensor._make(store(distinct, x.dtype), (len(distinct),), x.dtype)
    else:
        first = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        out = x.index_select(d, Tensor._make(array("q", [first[k] for k in distinct]), (len(distinct),), int64))
    result = [out]
    if return_inverse:
        shape = x._shape if dim is None else (len(keys),)
        result.append(Tensor._make(array("q", [where[v] for v in keys]), shape, int64))
    if return_counts:
        counts = [0] * len(distinct)
        for v in keys:
            counts[where[v]] += 1
        result.append(Tensor._make(array("q", counts), (len(distinct),), int64))
    return out if len(result) == 1 else tuple(result)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in a 1-d tensor (or the sum of its weights)."""
    if input.dtype.is_floating_point or input.dtype is bool_:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{scalar_type_name(input.dtype)}'")
    values = input._values().tolist()
    if input.dim() != 1 or (values and min(values) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    size = max(max(values, default=-1) + 1, minlength)
    if weights is None:
        counts = [0] * size
        for v in values:
            counts[v] += 1
        return Tensor._make(array("q", counts), (size,), int64)
    if weights._shape != input._shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = weights.dtype if weights.dtype.is_floating_point else float64
    totals = [0.0] * size
    for v, w in zip(values, weights._values().tolist()):
        totals[v] += w
    return Tensor._make(array(dt.typecode, totals), (size,), dt)


# -- named results -------------------------------------------------------------------------------

_RETURN_TYPES: dict = {}


def return_type(name: str, fields: tuple) -> type:
    """A tuple class like torch.return_types.<name>: fields by name, torch's repr."""
    cls = _RETURN_TYPES.get(name)
    if cls is None:

        def __repr__(self: tuple) -> str:
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
            return f"minigrad.return_types.{name}(\n{body})"

        namespace = {f: property(lambda self, i=i: self[i]) for i, f in enumerate(fields)}
        namespace.update(__repr__=__repr__, __new__=lambda cls, *values: tuple.__new__(cls, values))
        cls = _RETURN_TYPES[name] = type(name, (tuple,), namespace)
    return cls
