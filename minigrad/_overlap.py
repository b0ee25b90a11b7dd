# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Memory-overlap checks before an in-place write (torch's ``MemoryOverlap`` rules).

An in-place op may not write into a tensor in which several elements share one storage place
(``x.expand(3).mul_(2)``: "internal overlap"), nor read an input that covers part of what it
writes (``x[1:].copy_(x[:-1])``: "partial overlap"); an input that is exactly the written tensor is
fine for elementwise ops (``x.add_(x)``). Index writes (``x[index] = value``) refuse any overlap of
value and x. As in torch, layouts that are not a dense block of storage are not analysed.
"""

from __future__ import annotations

from math import prod
from typing import Any

_INTERNAL = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
    "Please clone() the tensor before performing the operation."
)
_BETWEEN = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory "
    "location. Please clone() the tensor before performing the operation."
)


def has_internal_overlap(t: Any) -> bool:
    """Whether a dim of more than one element has stride 0 (torch's only certain case)."""
    for size, stride in zip(t._shape, t._strides):
        if size > 1 and stride == 0:
            return True
    return False


def _dense_span(t: Any) -> tuple[int, int] | None:
    """The storage range [start, end) of a tensor whose elements fill it exactly once, else None."""
    dims = sorted([(stride, size) for size, stride in zip(t._shape, t._strides) if size != 1])
    expected = 1
    for stride, size in dims:
        if stride != expected:
            return None
        expected *= size
    return t._offset, t._offset + prod(t._shape)


def _overlap(a: Any, b: Any) -> str:
    """"no", "full" (same elements, same layout), "partial", or "unknown" (torch's TOO_HARD)."""
    if a is b:
        return "full"
    if a._storage is not b._storage or not prod(a._shape) or not prod(b._shape):
        return "no"
    span_a, span_b = _dense_span(a), _dense_span(b)
    if span_a is None or span_b is None:
        return "unknown"
    if span_a == span_b:
        return "full" if a._strides == b._strides else "partial"
    return "partial" if span_a[0] < span_b[1] and span_b[0] < span_a[1] else "no"


def check_internal(written: Any) -> None:
    if has_internal_overlap(written):
        raise RuntimeError(_INTERNAL)


def check_elementwise(written: Any, *inputs: Any) -> None:
    """An elementwise in-place op (``add_``, ``copy_``, ...): no internal or partial overlap."""
    check_internal(written)
    for x in inputs:
        if hasattr(x, "_storage") and _overlap(written, x) == "partial":
            raise RuntimeError(_BETWEEN)


def check_index_put(written: Any, value: Any) -> None:
    """``x[index] = value`` with an advanced index: value may not share any element with x."""
    check_internal(written)
    if hasattr(value, "_storage") and _overlap(written, value) in ("full", "partial"):
        raise RuntimeError(_BETWEEN)
