"""``flip``, ``repeat`` and ``repeat_interleave``: copies that rearrange or repeat elements,
composed from differentiable ops (``index_select``, ``expand``, ``reshape``), so their backward
is those ops' (a repeated element's gradient is the sum over its copies)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from minigrad._dtype import int64
from minigrad._functions.indexing import index_select
from minigrad._shape import normalize_dim
from minigrad._tensor import Tensor


def _positions(values: list[int]) -> Tensor:
    return Tensor._make(array("q", values), (len(values),), int64)


def _sizes(args: Sequence) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` / ``f([2, 3])``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def flip(input: Tensor, dims: Sequence[int] | int) -> Tensor:
    """input with the order of its elements reversed along each of ``dims``."""
    dims = [dims] if isinstance(dims, int) else list(dims)
    wrapped = [normalize_dim(d, max(input.dim(), 1)) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    out = input
    for d in wrapped:
        if input.dim() and input.shape[d] > 1:
            out = index_select(out, d, _positions(list(range(input.shape[d] - 1, -1, -1))))
    return out.clone() if out is input else out


def repeat(input: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """input tiled ``sizes[d]`` times along each dim d (leading sizes add new dims):
    ``repeat(r0, r1)`` of shape (a, b) is (r0 a, r1 b), copy (i, j) at rows i a.., columns j b..."""
    reps = _sizes(sizes)
    if len(reps) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(reps) - input.dim()) + tuple(input.shape)
    target = [r * s for r, s in zip(reps, shape)]
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(target)}: {target}")
    # view as (1, s0, 1, s1, ...), expand to (r0, s0, r1, s1, ...), merge each pair
    paired = [v for s in shape for v in (1, s)]
    expanded = [v for r, s in zip(reps, shape) for v in (r, s)]
    return input.reshape(*paired).expand(*expanded).reshape(*target) if target else input.clone()


def repeat_interleave(
    input: Tensor, repeats: int | Tensor | None = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Each element (or each slice along dim) repeated ``repeats`` times in place, e.g.
    [a, b] with repeats [1, 2] -> [a, b, b]. Without dim, input is flattened first.
    ``repeat_interleave(counts)`` alone gives ``[0] * counts[0] + [1] * counts[1] + ...``."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = input
        if counts.dim() > 1 or counts.dtype is not int64:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if any(c < 0 for c in counts._values()):
            raise RuntimeError("repeats can not be negative")
        return _positions([i for i, c in enumerate(counts._values()) for _ in range(c)])
    if dim is None:
        input, dim = input.reshape(-1), 0
    dim = normalize_dim(dim, max(input.dim(), 1))
    size = input.shape[dim] if input.dim() else 1
    if isinstance(repeats, Tensor):
        if repeats.dim() > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = list(repeats._values())
        if len(counts) == 1:
            counts = counts * size
        elif len(counts) != size:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {len(counts)} and input.size({dim}) = {size}"
            )
        if any(c < 0 for c in counts):
            raise RuntimeError("repeats can not be negative")
    else:
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        counts = [repeats] * size
    picked = [i for i, c in enumerate(counts) for _ in range(c)]
    if output_size is not None and output_size != len(picked):
        raise RuntimeError(f"allocated size does not match required size: {output_size} vs {len(picked)}")
    source = input if input.dim() else input.reshape(1)
    return index_select(source, dim, _positions(picked))
