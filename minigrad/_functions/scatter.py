"""``scatter``/``scatter_`` and ``scatter_add``/``scatter_add_`` (writing src's elements to the
positions an index names along a dim) and ``nonzero``.

For an index of the same number of dims as self, element ``index[i][j]`` (dim 0, say) sends
``src[i][j]`` to ``self[index[i][j]][j]``. Writes go in index order, so for a repeated position
the last write wins (``scatter``) or all of them add up in that order (``scatter_add``).
"""

from __future__ import annotations

import warnings
from array import array
from typing import Any

from minigrad._dtype import int64
from minigrad._functions.pointwise import round_scalar
from minigrad._shape import contiguous_strides, normalize_dim
from minigrad._tensor import Tensor
from minigrad.autograd.function import Function

_REDUCTIONS = ("add", "multiply")


def _targets(x: Tensor, dim: int, index: Tensor, src: Any, name: str) -> tuple[list[int], list[int] | None]:
    """Check the arguments as torch does; return, for each index element in order, its target
    position in x (row-major) and the position of its source element in src (row-major)."""
    if not isinstance(index, Tensor) or index.dtype is not int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index.dim() != x.dim() and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor):
        if src.dtype is not x.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        if index.dim() != src.dim() and index.numel():
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    shape = tuple(index.shape)
    for d, size in enumerate(shape):
        too_big_for_src = isinstance(src, Tensor) and size > src.shape[d]
        if too_big_for_src or (d != dim and size > x.shape[d]):
            tail = f" and to be no larger size than src {list(src.shape)}" if isinstance(src, Tensor) else ""
            raise RuntimeError(
                f"Expected index {list(shape)} to be no larger than self {list(x.shape)} apart from dimension "
                f"{dim}{tail}"
            )
    size = x.shape[dim] if x.dim() else 1
    x_strides = contiguous_strides(tuple(x.shape))
    src_strides = contiguous_strides(tuple(src.shape)) if isinstance(src, Tensor) else None
    targets, sources = [], [] if src_strides is not None else None
    coords = [0] * len(shape)
    for k, i in enumerate(index._values()):
        if not -size <= i < size:
            raise RuntimeError(f"index {i} is out of bounds for dimension {dim} with size {size}")
        if k:
            d = len(shape) - 1
            while True:  # next row-major coordinate
                coords[d] += 1
                if coords[d] < shape[d]:
                    break
                coords[d] = 0
                d -= 1
        place = [c if d != dim else i % size for d, c in enumerate(coords)]
        targets.append(sum(c * s for c, s in zip(place, x_strides)))
        if sources is not None:
            sources.append(sum(c * s for c, s in zip(coords, src_strides)))
    return targets, sources


def _scattered(x: Tensor, dim: int, index: Tensor, src: Any, reduce: str | None, name: str) -> Tensor:
    """A copy of x with src written (or added, or multiplied) at the index positions."""
    dim = normalize_dim(dim, max(x.dim(), 1))
    targets, sources = _targets(x, dim, index, src, name)
    out = x._values().tolist()
    if sources is None:
        values = [round_scalar(src, x.dtype)] * len(targets)
    else:
        flat = src._values().tolist()
        values = [flat[s] for s in sources]
    if reduce is None:
        for t, v in zip(targets, values):
            out[t] = v
    elif reduce == "add":
        for t, v in zip(targets, values):
            out[t] += v
            out[t] = round_scalar(out[t], x.dtype)
    else:
        for t, v in zip(targets, values):
            out[t] = round_scalar(out[t] * v, x.dtype)
    return Tensor._make(array(x.dtype.typecode, out), tuple(x.shape), x.dtype)


class Scatter(Function):
    """y = x with src (a tensor or a number) written at the index positions along dim;
    dx = dy with zeros at those positions,  dsrc = dy gathered at them. (``reduce`` has no
    derivative, as in torch.)"""

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce):
        ctx.save_for_backward(index, dim, reduce)
        return _scattered(x, dim, index, src, reduce, "scatter")

    @staticmethod
    def backward(ctx, grad):
        index, dim, reduce = ctx.saved_tensors
        if reduce is not None:
            raise RuntimeError("derivative for aten::scatter is not implemented")
        grad_x = _scattered(grad, dim, index, 0.0, None, "scatter") if ctx.needs_input_grad[0] else None
        grad_src = grad.gather(dim, index) if ctx.needs_input_grad[3] else None
        return grad_x, None, None, grad_src, None


class ScatterAdd(Function):
    """y = x with each src element added at its index position along dim;
    dx = dy,  dsrc = dy gathered at the index positions."""

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.save_for_backward(index, dim)
        return _scattered(x, dim, index, src, "add", "scatter_add")

    @staticmethod
    def backward(ctx, grad):
        index, dim = ctx.saved_tensors
        grad_src = grad.gather(dim, index) if ctx.needs_input_grad[3] else None
        return grad, None, None, grad_src


def scatter(
    input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *, reduce: str | None = None
) -> Tensor:
    """Out-of-place scatter: ``src`` (a tensor) or ``value`` (a number) at the index positions."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce is not None and reduce not in _REDUCTIONS:
        raise RuntimeError("reduce argument must be either add or multiply.")
    if reduce is not None and isinstance(src, Tensor):
        warnings.warn(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future "
            "PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
            UserWarning,
            stacklevel=3,
        )
    return Scatter.apply(input, dim, index, src, reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place scatter_add: src's elements added at the index positions."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    return ScatterAdd.apply(input, dim, index, src)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The coordinates of the non-zero elements in row-major order: an int64 tensor of shape
    (count, ndim), or with ``as_tuple`` one index vector per dim."""
    shape = tuple(input.shape)
    hits = [k for k, v in enumerate(input._values()) if v]
    strides = contiguous_strides(shape)
    rows = [[(k // s) % n for n, s in zip(shape, strides)] for k in hits]
    if as_tuple:
        columns = [[row[d] for row in rows] for d in range(len(shape))] if shape else [[0] * len(hits)]
        return tuple(Tensor._make(array("q", c), (len(c),), int64) for c in columns)
    flat = [c for row in rows for c in row]
    return Tensor._make(array("q", flat), (len(hits), len(shape)), int64)
