# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Sizes checked before memory is allocated: a tensor too large for this machine fails at once
with torch's error, instead of filling memory for seconds and ending in an empty MemoryError.

Sizes come from the user in the creation functions (``zeros(2**40)``, ``arange(2**40)``,
``linspace(0, 1, 2**40)``, ``randn``, ``new_*``, ...) and, through views that repeat elements
(``expand``), in any op that makes a contiguous result; every buffer goes through ``check``.
"""

from __future__ import annotations

import os
from math import prod

_INT64_MAX = 2**63 - 1


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no early check
        return _INT64_MAX


MEMORY = _physical_memory()
"""Bytes of RAM: no single buffer can be larger (torch's allocator fails there too)."""


LARGE = 2**28
"""Buffers above this many bytes are also checked against the memory available right now."""


def _available_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return MEMORY


def check(n: int, itemsize: int) -> None:
    """Raise torch's RuntimeError if ``n`` elements of ``itemsize`` bytes cannot be allocated
    (more than the machine's memory, or than is free now: filling it would only swap)."""
    nbytes = n * itemsize
    if nbytes > MEMORY or (nbytes > LARGE and nbytes > _available_memory()):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you "
            f"tried to allocate {nbytes} bytes. Error code 12 (Cannot allocate memory)"
        )


def check_int64(value: int) -> int:
    """An int argument torch reads as a C long long (an index, a length, a count)."""
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return value


def check_shape(shape: tuple, itemsize: int, function: str) -> None:
    """A shape given by the user: each size a C long long, the byte count within int64 and memory."""
    for i, s in enumerate(shape):
        if not -_INT64_MAX - 1 <= s <= _INT64_MAX:
            raise TypeError(
                f"{function}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                '"Overflow when unpacking long long"'
            )
    if any(s < 0 for s in shape):
        return  # (the caller reports negative sizes in its own words)
    if prod(shape) * itemsize > _INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    check(prod(shape), itemsize)
