# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Shape arithmetic: strides, broadcasting, dims, and the geometry of views.

Everything here works on tuples of ints and raises torch's errors; nothing here touches data.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``minigrad.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    def numel(self) -> int:
        return prod(self)


def as_shape(args: Sequence) -> tuple[int, ...]:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    shape = tuple([int(a) for a in args])
    for i, size in enumerate(shape):
        if not -(2**63) <= size < 2**63:
            raise TypeError(
                f"argument 'size' failed to unpack the object at pos {i + 1} with error "
                '"Overflow when unpacking long long"'
            )
    return shape


_ROW_MAJOR: dict[tuple, tuple] = {}  # shape -> contiguous_strides(shape), for the shapes seen lately


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major strides: the last dimension moves by 1."""
    strides = _ROW_MAJOR.get(shape)
    if strides is None:
        reversed_strides = []
        step = 1
        for size in reversed(shape):
            reversed_strides.append(step)
            step *= max(size, 1)
        strides = tuple(reversed(reversed_strides))
        if len(_ROW_MAJOR) >= 1024:
            _ROW_MAJOR.clear()
        _ROW_MAJOR[shape] = strides
    return strides


def dense_layout(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, ...] | None:
    """The dims from outermost to innermost in memory when a view covers a block of memory
    without gaps or overlaps but not in row-major order (a transpose, a permute), else None:
    the order in which torch's ``*_like`` functions lay out their result (``preserve_format``)
    and in which its fills visit the elements."""
    if is_contiguous(shape, strides):
        return None
    order = tuple(sorted(range(len(shape)), key=lambda d: -strides[d]))  # stable: ties keep dim order
    sizes = tuple(shape[d] for d in order)
    if is_contiguous(sizes, tuple(strides[d] for d in order)):
        return order
    return None


def is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """True when the strides are row-major (dimensions of size 1 may have any stride) or there are no elements."""
    expected = 1
    for d in range(len(shape) - 1, -1, -1):  # from the last dimension
        if shape[d] == 1:
            continue
        if strides[d] != expected:
            return 0 in shape
        expected *= shape[d]
    return True


def normalize_dim(dim: int, ndim: int) -> int:
    """Wrap a negative dim; raise torch's IndexError when out of range (0-d acts as 1-d)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast of two shapes, aligned at the right (torch.broadcast_shapes)."""
    if a == b:
        return a
    n = max(len(a), len(b))
    a1 = (1,) * (n - len(a)) + tuple(a)
    b1 = (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a1, b1)):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {i}"
            )
    return tuple(out)


def broadcast_strides(shape: tuple, strides: tuple, out_shape: tuple) -> tuple[int, ...]:
    """Strides that read a (shape, strides) view as out_shape: 0 on broadcast dimensions."""
    lead = len(out_shape) - len(shape)
    result = [0] * lead
    for size, stride, target in zip(shape, strides, out_shape[lead:]):
        result.append(stride if size == target else 0)
    return tuple(result)


def infer_size(shape: tuple, numel: int) -> tuple[int, ...]:
    """Resolve one -1 in a requested view shape; raise torch's error when sizes disagree."""
    shape = tuple([int(s) for s in shape])
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = prod([s for s in shape if s != -1])
    if unknown:
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                "dimension size -1 can be any value and is ambiguous"
            )
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        i = unknown[0]
        return shape[:i] + (numel // known,) + shape[i + 1 :]
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple) -> tuple[int, ...] | None:
    """Strides that show the same elements with new_shape without copying, or None.

    torch's ``computeStride``: split the old dims into chunks that are contiguous among
    themselves; each chunk may be re-split into new dims of the same total size.
    """
    if not old_shape:
        return (1,) * len(new_shape)
    if old_strides == contiguous_strides(old_shape):  # row-major (the common case): so is the view
        return contiguous_strides(tuple(new_shape))
    numel = prod(old_shape)
    if numel == 0:
        return contiguous_strides(tuple(new_shape))
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (
            old_shape[tensor_d - 1] != 1 and old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def sum_to_dims(shape: tuple, target: tuple) -> tuple[tuple[int, ...], bool]:
    """The dims of ``shape`` to sum so the result reshapes to ``target`` (undoing broadcast).

    Returns (dims, ok); ok is False when target does not broadcast to shape.
    """
    lead = len(shape) - len(target)
    if lead < 0:
        return (), False
    dims = list(range(lead))
    for i, t in enumerate(target):
        s = shape[lead + i]
        if t == s:
            continue
        if t != 1:
            return (), False
        dims.append(lead + i)
    return tuple(dims), True
