"""Indexing: ``x[...]``, ``x[...] = v``, ``gather``, ``index_select``.

Basic indexing (ints, slices, None, ...) makes a view: only shape, strides and offset change.
Advanced indexing (integer tensors or lists, bool masks) picks arbitrary elements, so it is a
copy described by a list of storage *positions*: forward reads ``x[positions]``, backward adds
the gradient into ``zeros[positions]`` (repeated positions add up).
"""

from __future__ import annotations

from array import array
from math import prod
from typing import Any

from minigrad._backend import kernels as K
from minigrad._dtype import bool_, int64
from minigrad._shape import broadcast_shapes, contiguous_strides
from minigrad.autograd import grad_mode
from minigrad.autograd.function import Function
from minigrad.tensor import Tensor, new_buffer

# -- turning an index into geometry --------------------------------------------------------------


def _normalize_index(x: Tensor, index: Any) -> tuple:
    """A tuple of int / slice / None / int64 Tensor entries, with ... and bool masks expanded."""
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    for item in index:
        if (
            isinstance(item, Tensor)
            and not item._shape
            and not item.dtype.is_floating_point
            and item.dtype is not bool_
        ):
            item = int(item.item())
        elif isinstance(item, (list, Tensor)):
            item = item if isinstance(item, Tensor) else _index_tensor(item)
            if item.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(item, bool):
            raise IndexError("minigrad does not support indexing with Python bools")
        elif not (item is None or item is Ellipsis or isinstance(item, (int, slice))):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                f"valid indices (got {type(item).__name__})"
            )
        items.append(item)
    consumed = sum(
        (item.dim() if isinstance(item, Tensor) and item.dtype is bool_ else 1)
        for item in items
        if item is not None and item is not Ellipsis
    )
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        i = ellipses[0]
        items[i : i + 1] = [slice(None)] * max(len(x._shape) - consumed, 0)
    if consumed > len(x._shape):
        raise IndexError(f"too many indices for tensor of dimension {len(x._shape)}")
    expanded = []
    for item in items:
        if isinstance(item, Tensor) and item.dtype is bool_:
            expanded.extend(_mask_to_indices(item))
        else:
            expanded.append(item)
    return tuple(expanded)


def _index_tensor(values: list) -> Tensor:
    from minigrad._creation import tensor

    t = tensor(values)
    return t if t.numel() else t.long()


def _mask_to_indices(mask: Tensor) -> list[Tensor]:
    """The coordinates of the True entries of a k-d mask, as k int64 index tensors."""
    if not mask._shape:
        raise IndexError("minigrad does not support indexing with a 0-d bool mask")
    coords: list[list[int]] = [[] for _ in mask._shape]
    strides = contiguous_strides(mask._shape)
    for flat, v in enumerate(mask._values()):
        if v:
            for d, s in enumerate(strides):
                coords[d].append(flat // s % mask._shape[d])
    return [Tensor._make(array("q", c), (len(c),), int64) for c in coords]


def _check_bounds(i: int, size: int, dim: int) -> int:
    if not -size <= i < size:
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
    return i + size if i < 0 else i


def _basic(shape: tuple, strides: tuple, offset: int, index: tuple):
    """Apply ints, slices and None; tensors stay as full dims (their positions are returned)."""
    new_shape, new_strides, advanced = [], [], []
    dim = 0
    for item in index:
        if item is None:  # a new dim of size 1, with torch's unsqueeze stride
            new_shape.append(1)
            new_strides.append(shape[dim] * strides[dim] if dim < len(shape) else 1)
            continue
        size, stride = shape[dim], strides[dim]
        if isinstance(item, int):
            offset += _check_bounds(item, size, dim) * stride
        elif isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("slice step cannot be zero" if item.step == 0 else "step must be greater than zero")
            start, stop, step = item.indices(size)
            new_shape.append(len(range(start, stop, step)))
            new_strides.append(stride * step)
            offset += start * stride
        else:
            advanced.append((len(new_shape), item, dim))
            new_shape.append(size)
            new_strides.append(stride)
        dim += 1
    new_shape.extend(shape[dim:])
    new_strides.extend(strides[dim:])
    return tuple(new_shape), tuple(new_strides), offset, advanced


def positions_for(shape: tuple, strides: tuple, offset: int, index: tuple) -> tuple[tuple, array]:
    """(result shape, storage position of each result element) for an advanced index."""
    view_shape, view_strides, offset, advanced = _basic(shape, strides, offset, index)
    broadcast: tuple = ()
    for _, t, _ in advanced:
        broadcast = broadcast_shapes(broadcast, t._shape)
    count = prod(broadcast)
    jumps = [0] * count
    for place, t, dim in advanced:
        size, stride = view_shape[place], view_strides[place]
        values = t.expand(*broadcast)._values() if t._shape != broadcast else t._values()
        for k, i in enumerate(values):
            jumps[k] += _check_bounds(i, size, dim) * stride
    places = [p for p, _, _ in advanced]
    others = [(view_shape[d], view_strides[d]) for d in range(len(view_shape)) if d not in places]
    adjacent = places == list(range(places[0], places[0] + len(places))) if places else False
    front = others[: places[0]] if adjacent else []
    back = others[places[0] :] if adjacent else others
    positions = [offset]
    for size, stride in front:
        positions = [p + k * stride for p in positions for k in range(size)]
    positions = [p + j for p in positions for j in jumps]
    for size, stride in back:
        positions = [p + k * stride for p in positions for k in range(size)]
    result_shape = tuple(s for s, _ in front) + broadcast + tuple(s for s, _ in back)
    return result_shape, array("q", positions)


def _has_advanced(index: tuple) -> bool:
    return any(isinstance(item, Tensor) for item in index)


# -- Functions -----------------------------------------------------------------------------------


class BasicIndex(Function):
    """y = a view of x picked by ints and slices;  dx = zeros with dy written into that view."""

    @staticmethod
    def forward(ctx, x, index):
        shape, strides, offset, _ = _basic(x._shape, x._strides, x._offset, index)
        ctx.input_shape, ctx.index = x._shape, index
        return x._view(shape, strides, offset)

    @staticmethod
    def backward(ctx, grad):
        out = new_buffer(grad.dtype, prod(ctx.input_shape))
        shape, strides, offset, _ = _basic(ctx.input_shape, contiguous_strides(ctx.input_shape), 0, ctx.index)
        if prod(shape):
            K.scatter(out, shape, strides, offset, grad._values())
        return Tensor._make(out, ctx.input_shape, grad.dtype), None


class Take(Function):
    """y[k] = x.flat[positions[k]];  dx.flat[positions[k]] += dy[k]."""

    @staticmethod
    def forward(ctx, x, shape, positions):
        out = new_buffer(x.dtype, len(positions))
        K.take(x._values(), positions, out)
        ctx.input_shape, ctx.positions = x._shape, positions
        return Tensor._make(out, shape, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        out = new_buffer(grad.dtype, prod(ctx.input_shape))
        K.put(out, ctx.positions, grad._values(), True)
        return Tensor._make(out, ctx.input_shape, grad.dtype), None, None


class IndexPut(Function):
    """y = x with y.flat[positions] = value;  dx = dy with those places zeroed,
    dvalue = dy.flat[positions] (summed back to value's shape)."""

    @staticmethod
    def forward(ctx, x, value, shape, positions):
        out = x._values()[:]
        K.put(out, positions, _broadcast_values(value, shape, x), False)
        ctx.shape, ctx.positions = shape, positions
        return Tensor._make(out, x._shape, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        grad_values = grad._values()
        picked = new_buffer(grad.dtype, len(ctx.positions))
        K.take(grad_values, ctx.positions, picked)
        cleared = grad_values[:]
        K.put(cleared, ctx.positions, new_buffer(grad.dtype, len(ctx.positions)), False)
        grad_x = Tensor._make(cleared, grad._shape, grad.dtype)
        return grad_x, Tensor._make(picked, ctx.shape, grad.dtype), None, None


def _broadcast_values(value: Any, shape: tuple, like: Tensor) -> array:
    """value (a Tensor or a number) broadcast to ``shape`` in like's dtype, as a flat buffer."""
    from minigrad._functions.pointwise import cast

    if isinstance(value, Tensor):
        v = cast(value.detach(), like.dtype)
        if v._shape != shape:
            try:
                v = v.expand(*shape)
            except RuntimeError:
                raise RuntimeError(
                    f"shape mismatch: value tensor of shape {list(value._shape)} cannot be broadcast to "
                    f"indexing result of shape {list(shape)}"
                ) from None
        return v._values()
    return array(like.dtype.typecode, [value]) * prod(shape)


# -- the functional API --------------------------------------------------------------------------


def getitem(x: Tensor, index: Any) -> Tensor:
    index = _normalize_index(x, index)
    if not _has_advanced(index):
        return BasicIndex.apply(x, index)
    shape, positions = positions_for(x._shape, contiguous_strides(x._shape), 0, index)
    return Take.apply(x, shape, positions)


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """x[index] = value, in place (recorded as an ``IndexPut`` when grad is tracked)."""
    index = _normalize_index(x, index)
    tracked = grad_mode.state.enabled and (x._requires_grad or getattr(value, "_requires_grad", False))
    if tracked:
        if x.grad_fn is None and x._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        shape, positions = positions_for(x._shape, contiguous_strides(x._shape), 0, index)
        result = IndexPut.apply(x, value, shape, positions)
        x._write(result._values())
        x.grad_fn, x._output_nr, x._requires_grad = result.grad_fn, 0, True
        return
    if _has_advanced(index):
        shape, positions = positions_for(x._shape, x._strides, x._offset, index)
        K.put(x._storage.data, positions, _broadcast_values(value, shape, x), False)
        x._storage.version += 1
        return
    shape, strides, offset, _ = _basic(x._shape, x._strides, x._offset, index)
    if prod(shape):
        K.scatter(x._storage.data, shape, strides, offset, _broadcast_values(value, shape, x))
    x._storage.version += 1


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    from minigrad._shape import normalize_dim

    if not isinstance(index, Tensor) or index.dtype is not int64:
        raise RuntimeError("index_select(): Expected dtype int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = normalize_dim(dim, x.dim())
    size = x._shape[dim] if x._shape else 1
    for i in index._values():
        if not -size <= i < size:
            raise IndexError("index out of range in self")
    return getitem(x, (slice(None),) * dim + (index.reshape(-1),))


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (and likewise for other dims)."""
    from minigrad._shape import normalize_dim

    if not isinstance(index, Tensor) or index.dtype is not int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    if index.dim() != x.dim():
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    dim = normalize_dim(dim, x.dim())
    for d, (a, b) in enumerate(zip(index._shape, x._shape)):
        if d != dim and a > b:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index._shape)} to be smaller "
                f"than self {list(x._shape)} apart from dimension {dim}"
            )
    strides = contiguous_strides(x._shape)
    size = x._shape[dim] if x._shape else 1
    base = [0]
    for d, n in enumerate(index._shape):
        step = 0 if d == dim else strides[d] if x._shape else 0
        base = [p + k * step for p in base for k in range(n)]
    stride = strides[dim] if x._shape else 0
    positions = array("q")
    for p, i in zip(base, index._values()):
        if not -size <= i < size:
            raise RuntimeError(f"index {i} is out of bounds for dimension {dim} with size {size}")
        positions.append(p + (i % size) * stride)
    return Take.apply(x, index._shape, positions)
