"""Layout and indexing kernels: strided reads and writes (``gather``, ``scatter``), storage
positions (``take``, ``put``), ``zeros``, ``empty`` and ``fill``, and whole rows picked by index (the embedding's
``gather_rows`` and ``scatter_add_rows``). Twin: ``minigrad_c/indexing.pxi``."""

from __future__ import annotations

import operator
from array import array
from collections.abc import Sequence
from math import prod


def strided_positions(shape: Sequence[int], strides: Sequence[int], offset: int) -> list[int]:
    """The storage position of every element of a strided view, in row-major order."""
    positions = [offset]
    for size, stride in zip(shape, strides):
        steps = [k * stride for k in range(size)]
        positions = [p + s for p in positions for s in steps]
    return positions


def _is_dense(shape: Sequence[int], strides: Sequence[int]) -> bool:
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def _read(src: array, shape: Sequence[int], strides: Sequence[int], offset: int, n: int):
    """The elements of a strided view of ``src`` in row-major order, as a sequence."""
    if _is_dense(shape, strides):
        return src[offset : offset + n]
    return [src[p] for p in strided_positions(shape, strides, offset)]


def gather(src: array, shape: tuple, strides: tuple, offset: int, out: array) -> None:
    """out[i] = the i-th element (row-major) of the view (shape, strides, offset) of src."""
    out[:] = array(out.typecode, _read(src, shape, strides, offset, len(out)))


def scatter(dst: array, shape: tuple, strides: tuple, offset: int, src: array) -> None:
    """Write the row-major elements of src into the view (shape, strides, offset) of dst."""
    if _is_dense(shape, strides):
        dst[offset : offset + len(src)] = array(dst.typecode, src)
        return
    for p, v in zip(strided_positions(shape, strides, offset), src):
        dst[p] = v


def take(src: array, positions: array, out: array) -> None:
    """out[i] = src[positions[i]]."""
    out[:] = array(out.typecode, map(src.__getitem__, positions))


def put(dst: array, positions: array, src: array, accumulate: bool) -> None:
    """dst[positions[i]] = src[i], or += when accumulate (repeated positions then add up).

    Positions are read before any write, even when they are dst itself.
    """
    if positions is dst:
        positions = positions[:]
    if accumulate:
        for p, v in zip(positions, src):
            dst[p] += v
    else:
        for p, v in zip(positions, src):
            dst[p] = v


def zeros(like: array, n: int) -> array:
    """A new buffer of n zeros of ``like``'s typecode (the Cython twin clears it with memset)."""
    if n < 0:
        raise ValueError(f"zeros expects n >= 0, got {n}")
    return array(like.typecode, (0,)) * n


def empty(like: array, n: int) -> array:
    """A new buffer of n elements of ``like``'s typecode whose values are unspecified, for a
    kernel to overwrite in full. (Zeros here: Python makes no buffer without filling it; the
    Cython twin leaves whatever the memory held, as ``torch.empty`` does.)"""
    if n < 0:
        raise ValueError(f"empty expects n >= 0, got {n}")
    return array(like.typecode, (0,)) * n


def fill(out: array, value: float) -> None:
    """Every element of out becomes value."""
    out[:] = array(out.typecode, [value]) * len(out)


def gather_rows(src: array, width: int, indices: array, out: array) -> None:
    """out[k, :] = src[indices[k], :] for rows of ``width`` elements (an embedding lookup).

    src and indices are read as they were before any write, even when one of them is out.
    """
    if src is out:
        src = src[:]
    if indices is out:
        indices = indices[:]
    for k, i in enumerate(indices):
        out[k * width : (k + 1) * width] = src[i * width : (i + 1) * width]


def scatter_add_rows(dst: array, width: int, indices: array, src: array, skip: int) -> None:
    """dst[indices[k], :] += src[k, :] for k in order, except where indices[k] == skip.

    The gradient of an embedding (``skip`` is its padding index, or -1 for none). Every add is
    rounded on store, so a row picked twice gets (dst + src_a) + src_b, as ``put`` accumulates.
    """
    tc = dst.typecode
    for k, i in enumerate(indices):
        if i != skip:
            row = slice(i * width, (i + 1) * width)
            dst[row] = array(tc, map(operator.add, dst[row], src[k * width : (k + 1) * width]))


# -- issue 16 (tagops): one strided view copied into another -------------------------------------


def copy_strided(src: array, shape: tuple, src_strides: tuple, src_offset: int, dst: array, dst_strides: tuple,
                 dst_offset: int) -> None:
    """Write the elements of the view (shape, src_strides, src_offset) of src, in row-major order,
    into the view (shape, dst_strides, dst_offset) of dst: ``gather`` then ``scatter`` without
    the buffer between them (src is read before dst is written, even when they are one buffer)."""
    values = _read(src, shape, src_strides, src_offset, prod(shape))
    scatter(dst, shape, dst_strides, dst_offset, array(dst.typecode, values))
