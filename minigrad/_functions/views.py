# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Operations that change shape or layout: views, copies, concatenation.

A view shares its input's storage: its backward maps the gradient back through the inverse
view (``View``, ``Permute``) or sums what was duplicated (``Expand``).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from minigrad._alloc import check_int64
from minigrad._backend import kernels as K
from minigrad._dtype import result_type
from minigrad._functions.indexing import getitem
from minigrad._functions.pointwise import cast
from minigrad._shape import as_shape, broadcast_strides, contiguous_strides, infer_size, normalize_dim, view_strides
from minigrad._tensor import Tensor, empty_buffer, new_buffer
from minigrad.autograd.function import Function


class View(Function):
    """y = x seen with another shape (same elements, same order);  dx = dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape, strides):
        ctx.input_shape = x._shape
        return x._view(shape, strides, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return reshaped(grad, ctx.input_shape), None, None


def reshaped(grad: Tensor, shape: tuple) -> Tensor:
    """``grad.reshape(shape)`` for a backward, which records nothing: a plain view (or copy)."""
    strides = view_strides(grad._shape, grad._strides, shape)
    if strides is None:
        grad = grad._copy()
        strides = contiguous_strides(shape)
    return grad._view(shape, strides, grad._offset)


def expanded(x: Tensor, shape: tuple) -> Tensor:
    """``x.expand(shape)`` for a backward, which records nothing: a plain view, stride 0 on repeated dims."""
    return x._view(shape, broadcast_strides(x._shape, x._strides, shape), x._offset)


def narrowed(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``x.narrow(dim, start, length)`` for a backward, which records nothing: a plain view."""
    shape = x._shape[:dim] + (length,) + x._shape[dim + 1 :]
    return x._view(shape, x._strides, x._offset + start * x._strides[dim])


class Restride(Function):
    """y = x with size-1 dims removed or inserted (same elements, same order);  dx = dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape, strides):
        ctx.input_shape = x._shape
        return x._view(shape, strides, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return reshaped(grad, ctx.input_shape), None, None


class Permute(Function):
    """y = x with its dimensions reordered;  dx = dy with the inverse order."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return permuted(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return permuted(grad, ctx.inverse), None


class Transpose(Function):
    """y = x with dims a and b swapped;  dx = dy with them swapped back."""

    @staticmethod
    def forward(ctx, x, a, b):
        order = list(range(len(x._shape)))
        order[a], order[b] = b, a
        ctx.order = order  # a swap is its own inverse
        return permuted(x, order)

    @staticmethod
    def backward(ctx, grad):
        return permuted(grad, ctx.order), None, None


class T(Transpose):
    """``x.t()``: a matrix's transpose (a node named as torch's, TBackward)."""


def permuted(x: Tensor, dims: tuple) -> Tensor:
    """x with its dims in the order ``dims``, as a plain view (no graph)."""
    return x._view(tuple([x._shape[d] for d in dims]), tuple([x._strides[d] for d in dims]), x._offset)


class Expand(Function):
    """y = x repeated along size-1 (or new leading) dims, by stride 0;  dx = dy summed over them."""

    @staticmethod
    def forward(ctx, x, shape, strides):
        ctx.input_shape = x._shape
        return x._view(shape, strides, x._offset)

    @staticmethod
    def backward(ctx, grad):
        return grad._sum_to_shape(ctx.input_shape, "ExpandBackward"), None, None


def _expand_geometry(x: Tensor, shape: tuple) -> tuple[tuple, tuple]:
    """The sizes and strides of ``x.expand(*shape)``: stride 0 on the repeated dims; torch's errors."""
    lead = len(shape) - len(x._shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({x.type()}{{{list(x._shape)}}}, size=[{', '.join(map(str, shape))}]): the number "
            f"of sizes provided ({len(shape)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({len(x._shape)})"
        )
    sizes, strides = [], []
    for i, target in enumerate(shape):
        if i < lead:
            if target < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({target}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            sizes.append(target)
            strides.append(0)
            continue
        size, stride = x._shape[i - lead], x._strides[i - lead]
        if target == -1:
            target = size
        if size == target:
            sizes.append(size)
            strides.append(stride)
        elif size == 1:
            sizes.append(target)
            strides.append(0)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({target}) must match the existing size ({size}) at "
                f"non-singleton dimension {i}.  Target sizes: [{', '.join(map(str, shape))}].  "
                f"Tensor sizes: [{', '.join(map(str, x._shape))}]"
            )
    if prod(sizes) >= 2**63:
        raise RuntimeError("numel: integer multiplication overflow")
    return tuple(sizes), tuple(strides)


class Clone(Function):
    """y = a contiguous copy of x;  dx = dy."""

    @staticmethod
    def forward(ctx, x):
        return x._copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cat(Function):
    """y = the inputs joined along ``dim``;  each input's gradient is its slice of dy."""

    @staticmethod
    def forward(ctx, dim, sizes, *tensors):
        # sizes: each input's length along dim (None: left out), from the checks in cat()
        dt = result_type(list(tensors))
        ctx.dim, ctx.sizes = dim, sizes
        joined = [(i, t) for i, t in enumerate(tensors) if sizes[i] is not None]
        if not joined:
            return Tensor._make(new_buffer(dt, 0), (0,), dt)
        first = joined[0][1]._shape
        shape = first[:dim] + (sum([sizes[i] for i, _ in joined]),) + first[dim + 1 :]
        out = empty_buffer(dt, prod(shape))  # the pieces cover it
        strides = contiguous_strides(shape)
        start = 0
        for i, t in joined:
            if sizes[i]:
                piece = shape[:dim] + (sizes[i],) + shape[dim + 1 :]
                t = cast(t, dt)
                K.copy_strided(t._storage.data, piece, t._strides, t._offset, out, strides, start * strides[dim])
            start += sizes[i]
        return Tensor._make(out, shape, dt)

    @staticmethod
    def backward(ctx, grad):
        pieces, start = [], 0
        for size in ctx.sizes:
            if size is None:
                pieces.append(grad.new_zeros(0))
                continue
            pieces.append(narrowed(grad, ctx.dim, start, size))
            start += size
        return (None, None, *pieces)


def _check_cat_shape(first: tuple, shape: tuple, dim: int, i: int) -> None:
    """Tensor number i of a cat must have the first one's rank and sizes, except along dim."""
    if len(shape) != len(first):
        raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}")
    if shape[:dim] == first[:dim] and shape[dim + 1 :] == first[dim + 1 :]:
        return
    d = next(d for d in range(len(first)) if d != dim and first[d] != shape[d])
    raise RuntimeError(
        f"Sizes of tensors must match except in dimension {dim}. Expected size {first[d]} "
        f"but got size {shape[d]} for tensor number {i} in the list."
    )


def _skipped_by_cat(t: Tensor) -> bool:
    """torch's legacy rule: 1-D empty tensors are left out of cat whatever the other shapes are."""
    return t._shape == (0,)


# -- the functional API --------------------------------------------------------------------------


def view(x: Tensor, *shape: int) -> Tensor:
    shape = infer_size(as_shape(shape), x.numel())
    strides = view_strides(x._shape, x._strides, shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return View.apply(x, shape, strides)


def reshape(x: Tensor, *shape: int) -> Tensor:
    """A view when the layout allows it, else a copy (torch.reshape)."""
    shape = infer_size(as_shape(shape), x.numel())
    strides = view_strides(x._shape, x._strides, shape)
    if strides is None:
        x = Clone.apply(x)
        strides = contiguous_strides(shape)
    return View.apply(x, shape, strides)


def permute(x: Tensor, *dims: int) -> Tensor:
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    n = len(x._shape)
    dims = tuple([normalize_dim(d, n) for d in as_shape(dims)])
    if len(dims) != n:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    n = len(x._shape)
    if n == 0:
        normalize_dim(dim0, 0), normalize_dim(dim1, 0)
        return x
    return Transpose.apply(x, normalize_dim(dim0, n), normalize_dim(dim1, n))


def t(x: Tensor) -> Tensor:
    if len(x._shape) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(x._shape)}D")
    return T.apply(x, 0, 1) if len(x._shape) == 2 else x


def expand(x: Tensor, *shape: int) -> Tensor:
    shape = as_shape(shape)
    return Expand.apply(x, *_expand_geometry(x, shape))


def squeeze(x: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """x without its size-1 dims (all of them, or those of ``dim`` that have size 1)."""
    n = len(x._shape)
    if dim is None:
        dims = {i for i, s in enumerate(x._shape) if s == 1}
    else:
        dims = {normalize_dim(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        dims = {d for d in dims if n and x._shape[d] == 1}
    keep = [i for i in range(n) if i not in dims]
    return Restride.apply(x, tuple([x._shape[i] for i in keep]), tuple([x._strides[i] for i in keep]))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """x with a new size-1 dim at ``dim``; its stride is torch's (size * stride of the dim it precedes)."""
    n = len(x._shape)
    dim = normalize_dim(dim, n + 1)
    stride = x._shape[dim] * x._strides[dim] if dim < n else 1
    return Restride.apply(x, x._shape[:dim] + (1,) + x._shape[dim:], x._strides[:dim] + (stride,) + x._strides[dim:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    n = len(x._shape)
    if n == 0:
        normalize_dim(start_dim, 0), normalize_dim(end_dim, 0)
        return reshape(x, (1,))
    start, end = normalize_dim(start_dim, n), normalize_dim(end_dim, n)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return reshape(x, x._shape[:start] + (prod(x._shape[start : end + 1]),) + x._shape[end + 1 :])


def contiguous(x: Tensor) -> Tensor:
    return x if x.is_contiguous() else Clone.apply(x)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    if not len(tensors):
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not t._shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    sizes: list = [None] * len(tensors)  # each input's length along dim (None: left out)
    first = None
    for i, t in enumerate(tensors):
        if _skipped_by_cat(t):
            continue
        if first is None:
            first = t._shape
            dim = normalize_dim(dim, len(first))
        _check_cat_shape(first, t._shape, dim, i)
        sizes[i] = t._shape[dim]
    return Cat.apply(dim, tuple(sizes), *tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]
    dim = normalize_dim(dim, len(first._shape) + 1)
    for i, t in enumerate(tensors):
        if t._shape != first._shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first._shape)} at entry 0 "
                f"and {list(t._shape)} at entry {i}"
            )
    dim = normalize_dim(dim, len(first._shape) + 1)
    return Cat.apply(dim, (1,) * len(tensors), *[unsqueeze(t, dim) for t in tensors])


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    check_int64(start), check_int64(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    n = len(x._shape)
    if n == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, n)
    size = x._shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return getitem(x, (slice(None),) * dim + (slice(start, start + length),))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    check_int64(index)
    n = len(x._shape)
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, n)
    size = x._shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x._shape)} at dimension {dim}")
    return getitem(x, (slice(None),) * dim + (index,))


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    if isinstance(split_size_or_sections, int):
        check_int64(split_size_or_sections)
    if not x._shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    if isinstance(split_size_or_sections, int) and check_int64(split_size_or_sections) < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size_or_sections}")
    dim = normalize_dim(dim, len(x._shape))
    size = x._shape[dim]
    if isinstance(split_size_or_sections, int):
        step = check_int64(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [min(step, size - s) for s in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if any(s < 0 for s in sections):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={sections}"
            )
        if sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {dim}), but got split_sizes={sections}"
            )
    pieces, start = [], 0
    for length in sections:
        pieces.append(narrow(x, dim, start, length))
        start += length
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    check_int64(chunks)
    if not x._shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    size = x._shape[normalize_dim(dim, len(x._shape))]
    step = -(-size // chunks) if size else 1
    return split(x, step, dim)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    if not x._shape:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = normalize_dim(dim, len(x._shape))
    return tuple(select(x, dim, i) for i in range(x._shape[dim]))
