# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Indexing: ``x[...]``, ``x[...] = v``, ``gather``, ``index_select``, ``embedding``.

Basic indexing (ints, slices, None, ...) makes a view: only shape, strides and offset change.
Advanced indexing (integer tensors or lists, bool masks) picks arbitrary elements, so it is a
copy described by a list of storage *positions*: forward reads ``x[positions]``, backward adds
the gradient into ``zeros[positions]`` (repeated positions add up). ``index_select`` picks whole
rows along one dim, so it copies rows instead of listing every element.
"""

from __future__ import annotations

import warnings
from array import array
from math import prod
from typing import Any

from minigrad import _overlap
from minigrad._alloc import check_int64
from minigrad._backend import kernels as K
from minigrad._dtype import bool_, int64
from minigrad._shape import broadcast_shapes, contiguous_strides
from minigrad._tensor import Tensor, empty_buffer, new_buffer
from minigrad.autograd import grad_mode
from minigrad.autograd.function import Function

# -- turning an index into geometry --------------------------------------------------------------


class _NewDim:
    """A bool used as an index (``x[True]``): a new size-1 dim, indexed by [0] (True) or [] (False)."""

    __slots__ = ("index",)

    def __init__(self, flag: bool) -> None:
        self.index = Tensor._make(array("q", [0] if flag else []), (1 if flag else 0,), int64)


def _treat_as_tuple(index: list) -> bool:
    """torch's (and old numpy's) rule: a short list holding sequences, slices, None or ... is a tuple."""
    if len(index) >= 32:
        return False
    return any(isinstance(item, (Tensor, list, tuple, slice)) or item is None or item is Ellipsis for item in index)


def _normalize_index(x: Tensor, index: Any) -> tuple:
    """A tuple of int / slice / None / int64 Tensor / _NewDim entries, with ... and bool masks expanded."""
    if isinstance(index, list) and _treat_as_tuple(index):
        warnings.warn(
            "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
            "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor "
            "index, x[torch.tensor(seq)], which will result either in an error or a different result",
            UserWarning,
            stacklevel=4,
        )
        index = tuple(index)
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    for item in index:
        if isinstance(item, bool):
            item = _NewDim(item)
        elif isinstance(item, Tensor) and not item._shape and not item.dtype.is_floating_point:
            item = _NewDim(bool(item.item())) if item.dtype is bool_ else int(item.item())
        elif isinstance(item, (list, tuple, Tensor)):
            item = item if isinstance(item, Tensor) else _index_tensor(item)
            if item.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            raise ValueError("Overflow when unpacking long long")
        elif not (item is None or item is Ellipsis or isinstance(item, (int, slice))):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                f"valid indices (got {type(item).__name__})"
            )
        items.append(item)
    consumed = sum(_dims_consumed(item) for item in items)
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        i = ellipses[0]
        items[i : i + 1] = [slice(None)] * max(len(x._shape) - consumed, 0)
    if consumed > len(x._shape):
        if not x._shape and any(type(item) is int for item in items):
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
                "convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {len(x._shape)}")
    expanded = []
    dim = 0
    for item in items:
        if isinstance(item, Tensor) and item.dtype is bool_:
            expanded.extend(_mask_to_indices(item, x._shape, dim))
        else:
            expanded.append(item)
        dim += _dims_consumed(item)
    return tuple(expanded)


def _dims_consumed(item: Any) -> int:
    """How many dims of the indexed tensor an index entry uses up (a k-d mask uses k)."""
    if item is None or item is Ellipsis or isinstance(item, _NewDim):
        return 0
    if isinstance(item, Tensor) and item.dtype is bool_:
        return item.dim()
    return 1


def _index_tensor(values: list) -> Tensor:
    from minigrad._creation import tensor

    t = tensor(values)
    return t if t.numel() else t.long()


def _mask_to_indices(mask: Tensor, shape: tuple, dim: int) -> list[Tensor]:
    """The coordinates of the True entries of a k-d mask over ``shape[dim:dim+k]``, as k int64 index tensors."""
    for k, size in enumerate(mask._shape):
        if shape[dim + k] != size:
            raise IndexError(
                f"The shape of the mask {list(mask._shape)} at index {k} does not match the shape of the indexed "
                f"tensor {list(shape)} at index {dim + k}"
            )
    coords: list[list[int]] = [[] for _ in mask._shape]
    strides = contiguous_strides(mask._shape)
    for flat, v in enumerate(mask._values()):
        if v:
            for d, s in enumerate(strides):
                coords[d].append(flat // s % mask._shape[d])
    return [Tensor._make(array("q", c), (len(c),), int64) for c in coords]


def _check_bounds(i: int, size: int, dim: int) -> int:
    if not -size <= i < size:
        check_int64(i)
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
    return i + size if i < 0 else i


def _basic(shape: tuple, strides: tuple, offset: int, index: tuple):
    """Apply ints, slices and None; tensors stay as full dims (their (place, tensor) are returned)."""
    new_shape, new_strides, advanced = [], [], []
    dim = 0
    for item in index:
        if item is None or isinstance(item, _NewDim):  # a new dim of size 1, with torch's unsqueeze stride
            if item is not None:
                advanced.append((len(new_shape), item.index))
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
            advanced.append((len(new_shape), item))
            new_shape.append(size)
            new_strides.append(stride)
        dim += 1
    new_shape.extend(shape[dim:])
    new_strides.extend(strides[dim:])
    return tuple(new_shape), tuple(new_strides), offset, advanced


def positions_for(shape: tuple, strides: tuple, offset: int, index: tuple) -> tuple[tuple, array]:
    """(result shape, storage position of each result element) for an advanced index.

    The index tensors broadcast together; their dims replace the indexed dims in place when the
    tensors are adjacent, else they go first (torch's and numpy's rule).
    """
    view_shape, view_strides, offset, advanced = _basic(shape, strides, offset, index)
    broadcast: tuple = ()
    try:
        for _, t in advanced:
            broadcast = broadcast_shapes(broadcast, t._shape)
    except RuntimeError:
        shapes = ", ".join(str(list(t._shape)) for _, t in advanced)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}"
        ) from None
    count = prod(broadcast)
    jumps = [0] * count
    for ordinal, (place, t) in enumerate(advanced):
        size, stride = view_shape[place], view_strides[place]
        values = t.expand(*broadcast)._values() if t._shape != broadcast else t._values()
        for k, i in enumerate(values):
            jumps[k] += _check_bounds(i, size, ordinal) * stride  # torch names the ordinal of the index tensor
    places = [p for p, _ in advanced]
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
    return any(isinstance(item, (Tensor, _NewDim)) for item in index)


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
            K.copy_strided(grad._storage.data, shape, grad._strides, grad._offset, out, strides, offset)
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
        K.put(out, positions, _broadcast_values(value, shape, x, True), False)
        ctx.shape, ctx.positions = shape, positions
        ctx.value_shape = value._shape if isinstance(value, Tensor) else None
        return Tensor._make(out, x._shape, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        grad_values = grad._values()
        picked = new_buffer(grad.dtype, len(ctx.positions))
        K.take(grad_values, ctx.positions, picked)
        cleared = grad_values[:]
        K.put(cleared, ctx.positions, new_buffer(grad.dtype, len(ctx.positions)), False)
        grad_x = Tensor._make(cleared, grad._shape, grad.dtype)
        grad_value = Tensor._make(picked, ctx.shape, grad.dtype)
        if ctx.value_shape is not None and len(ctx.value_shape) > len(ctx.shape):  # value had leading 1s
            stripped = ctx.value_shape[len(ctx.value_shape) - len(ctx.shape) :]
            grad_value = grad_value._sum_to_shape(stripped).reshape(ctx.value_shape)
        return grad_x, grad_value, None, None


class IndexSelect(Function):
    """y = the slices of x at ``index`` along ``dim``;  dx = each slice of dy added back where it
    was taken from (a repeated index adds up).

    Around ``dim``, x is (outer, size, inner): slice k of y is the row x[o, index[k], :] of
    ``inner`` elements for each o, so both directions copy whole rows (``gather_rows``,
    ``scatter_add_rows``) instead of listing every element's position."""

    @staticmethod
    def forward(ctx, x, dim, index):
        shape = x._shape
        picked = index._values()
        rows = _rows_picked(shape, dim, picked)
        inner = prod(shape[dim + 1 :])
        out = empty_buffer(x.dtype, len(rows) * inner)
        if len(out):
            K.gather_rows(x._values(), inner, rows, out)
        ctx.save_for_backward(index)
        ctx.input_shape, ctx.dim = shape, dim
        return Tensor._make(out, shape[:dim] + (len(picked),) + shape[dim + 1 :], x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        shape, dim = ctx.input_shape, ctx.dim
        rows = _rows_picked(shape, dim, index._values())
        out = new_buffer(grad.dtype, prod(shape))
        if len(rows) and len(out):
            K.scatter_add_rows(out, prod(shape[dim + 1 :]), rows, grad._values(), -1)
        return Tensor._make(out, shape, grad.dtype), None, None


def _rows_picked(shape: tuple, dim: int, picked: array) -> array:
    """The rows (of ``prod(shape[dim + 1:])`` elements) that index_select copies, in order: row
    o * size + i for each outer position o and each picked i."""
    outer, size = prod(shape[:dim]), shape[dim]
    if outer == 1:
        return picked
    return array("q", [o * size + i for o in range(outer) for i in picked])


def _broadcast_values(value: Any, shape: tuple, like: Tensor, advanced: bool) -> array:
    """value (a Tensor or a number) broadcast to ``shape`` in like's dtype, as a flat buffer.

    Leading size-1 dims of a value with more dims than the target are dropped, as torch does.
    """
    from minigrad._functions.pointwise import cast

    if not isinstance(value, Tensor):
        return array(like.dtype.typecode, [_as_dtype(value, like)]) * prod(shape)
    v = cast(value.detach(), like.dtype)
    while len(v._shape) > len(shape) and v._shape[0] == 1:
        v = v.squeeze(0)
    if v._shape == shape:
        return v._values()
    if not advanced:
        return v.expand(*shape)._values()
    try:
        return v.expand(*shape)._values()
    except RuntimeError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value._shape)} cannot be broadcast to "
            f"indexing result of shape {list(shape)}"
        ) from None


def _as_dtype(value: Any, like: Tensor) -> Any:
    """A Python number converted as torch stores it into like's dtype (int64 truncates toward zero)."""
    if like.dtype.is_floating_point:
        return float(value)
    return bool(value) if like.dtype is bool_ else int(value)


# -- the functional API --------------------------------------------------------------------------


def getitem(x: Tensor, index: Any) -> Tensor:
    if type(index) is int and x._shape:  # x[i], the commonest index: nothing to normalise
        return BasicIndex.apply(x, (index,))
    index = _normalize_index(x, index)
    if not _has_advanced(index):
        return BasicIndex.apply(x, index)
    shape, positions = positions_for(x._shape, contiguous_strides(x._shape), 0, index)
    return Take.apply(x, shape, positions)


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """x[index] = value, in place (recorded as an ``IndexPut`` when grad is tracked)."""
    index = _normalize_index(x, index)
    if _has_advanced(index):
        _overlap.check_index_put(x, value)
    else:
        _overlap.check_elementwise(x._view(*_basic(x._shape, x._strides, x._offset, index)[:3]), value)
    tracked = grad_mode.state.enabled and (x.requires_grad or getattr(value, "requires_grad", False))
    if tracked:
        shape, positions = positions_for(x._shape, contiguous_strides(x._shape), 0, index)
        x._inplace(IndexPut.apply(x, value, shape, positions))
        return
    if _has_advanced(index):
        shape, positions = positions_for(x._shape, x._strides, x._offset, index)
        K.put(x._storage.data, positions, _broadcast_values(value, shape, x, True), False)
        x._storage.version += 1
        return
    shape, strides, offset, _ = _basic(x._shape, x._strides, x._offset, index)
    if prod(shape):
        K.scatter(x._storage.data, shape, strides, offset, _broadcast_values(value, shape, x, False))
    x._storage.version += 1


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of x along dim at the (non-negative) positions in the vector ``index``."""
    from minigrad._shape import normalize_dim

    if not isinstance(index, Tensor) or index.dtype is not int64:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = normalize_dim(dim, x.dim())
    size = x._shape[dim] if x._shape else 1
    for i in index._values():
        if not 0 <= i < size:
            if dim == 1 or (not x.numel() and x.dim() > 1):  # torch's dim-1 and empty-input kernels word it so
                raise RuntimeError(f"INDICES element is out of DATA bounds, id={i} axis_dim={size}")
            raise IndexError("index out of range in self")
    if not x._shape:
        return IndexSelect.apply(x.reshape(1), 0, index.reshape(-1)).reshape(())
    return IndexSelect.apply(x, dim, index.reshape(-1))


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (and likewise for other dims)."""
    from minigrad._shape import normalize_dim

    if not isinstance(index, Tensor) or index.dtype is not int64:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    dim = normalize_dim(dim, x.dim())
    if not index.numel():  # nothing to pick: torch skips every other check
        return Take.apply(x, index._shape, array("q"))
    if index.dim() != x.dim():
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
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
        step = 0 if d == dim else strides[d]
        base = [p + k * step for p in base for k in range(n)]
    stride = strides[dim] if x._shape else 0
    positions = array("q")
    for p, i in zip(base, index._values()):
        if not 0 <= i < size:
            raise RuntimeError(f"index {i} is out of bounds for dimension {dim} with size {size}")
        positions.append(p + i * stride)
    return Take.apply(x, index._shape, positions)


class Embedding(Function):
    """y[..., :] = weight[indices[...], :];  dweight[i] = sum of dy rows that picked row i
    (the padding_idx row gets no gradient)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        d = weight._shape[1]
        idx = indices._values()
        out = empty_buffer(weight.dtype, len(idx) * d)
        K.gather_rows(weight._values(), d, idx, out)
        ctx.save_for_backward(indices)
        ctx.weight_shape, ctx.padding_idx = weight._shape, padding_idx
        return Tensor._make(out, indices._shape + (d,), weight.dtype)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        rows, d = ctx.weight_shape
        out = new_buffer(grad.dtype, rows * d)
        skip = -1 if ctx.padding_idx is None else ctx.padding_idx
        K.scatter_add_rows(out, d, indices._values(), grad._values(), skip)
        return Tensor._make(out, ctx.weight_shape, grad.dtype), None, None


def embedding(indices: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by the int64 ``indices`` (any shape)."""
    if not isinstance(indices, Tensor) or indices.dtype is not int64:
        kind = indices.type() if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
            f"Int; but got {kind} instead (while checking arguments for embedding)"
        )
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    rows = weight._shape[0]
    for i in indices._values():
        if not 0 <= i < rows:
            raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight._shape[0]
    return Embedding.apply(weight, indices, padding_idx)
