# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Making tensors: from data (``tensor``), filled (``zeros``, ``full``, ``arange``, ``eye``, ...)
and random (``rand``, ``randn``, ``randint``, ``randperm``), with torch's dtype inference."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from math import prod
from typing import Any

from minigrad import _alloc
from minigrad import random as _random
from minigrad._backend import kernels as K
from minigrad._device import check_device
from minigrad._dtype import bool_, dtype, get_default_dtype, int64, wrap_int
from minigrad._shape import as_shape, dense_layout
from minigrad._tensor import Tensor, new_buffer


def _flatten(data: Any) -> tuple[list, tuple[int, ...]]:
    """Flatten nested lists/tuples (of numbers or tensors) into a list of numbers and the shape.

    As torch, the shape is read down the first elements, then every sequence is checked against it.
    """
    if isinstance(data, Tensor):
        return data._flat_values(), data._shape
    shape = []
    probe = data
    while True:
        if isinstance(probe, Tensor):
            shape.extend(probe._shape)
            break
        if not isinstance(probe, (list, tuple)):
            if isinstance(probe, str) and shape:  # torch reads a string in a list as one more dimension
                raise ValueError("too many dimensions 'str'")
            break
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    values: list = []
    _fill(data, tuple(shape), 0, values)
    return values, tuple(shape)


def _fill(item: Any, shape: tuple, dim: int, values: list) -> None:
    """Append the numbers of ``item`` (expected to have ``shape[dim:]``) to values."""
    if isinstance(item, Tensor):
        if item._shape != shape[dim:]:
            raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(item)})")
        values.extend(item._flat_values())
        return
    if dim == len(shape):
        if isinstance(item, (list, tuple)):
            raise TypeError(f"must be real number, not {type(item).__name__}")
        if not isinstance(item, (bool, int, float)):
            if item is None:
                raise RuntimeError("Could not infer dtype of NoneType")
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
        values.append(item)
        return
    if not isinstance(item, (list, tuple)):
        raise TypeError("not a sequence")
    if len(item) != shape[dim]:
        raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(item)})")
    if dim == len(shape) - 1 and _plain_numbers(item):
        values.extend(item)  # the common innermost list of plain numbers
        return
    for sub in item:
        _fill(sub, shape, dim + 1, values)


def _plain_numbers(item: list | tuple) -> bool:
    """Whether every element of item is a bool, int or float (no subclass, no tensor).

    (A loop rather than ``all()`` over a generator: compiled, the loop makes no generator object
    per innermost list.)"""
    for v in item:
        kind = type(v)
        if kind is not int and kind is not float and kind is not bool:  # (compiled: three pointer tests)
            return False
    return True


def _infer_dtype(values: list) -> dtype:
    if not values:
        return get_default_dtype()
    if all(isinstance(v, bool) for v in values):
        return bool_
    if any(isinstance(v, float) for v in values):
        return get_default_dtype()
    return int64


def _buffer(values: Sequence, dt: dtype) -> array:
    if dt is bool_:
        return array("B", [1 if v else 0 for v in values])
    if dt is int64:
        return _int64_array(values)
    if not dt.is_floating_point:
        ints = [int(v) for v in values]
        if any(wrap_int(v, dt) != v for v in ints):
            raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")
        return array(dt.typecode, ints)
    return array(dt.typecode, values)  # (the array converts ints and bools as float() does)


def _int64_array(values: Sequence) -> array:
    """int64 storage for ints, bools and floats (truncated toward zero), with torch's errors for
    values out of range."""
    try:
        return array("q", values)  # ints and bools as they are
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    except TypeError:  # a float among them
        pass
    ints = []
    for v in values:
        if type(v) is float:
            if not -(2.0**63) <= v <= 2.0**63:  # torch's check (nan fails it)
                raise RuntimeError("value cannot be converted to type int64 without overflow")
            v = wrap_int(int(v), int64)  # (2.0**63 passes it, and becomes -2**63 as in torch's cast)
        ints.append(v)
    return _int64_array(ints)


def tensor(data: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data (nested lists, a number, or a tensor)."""
    check_device(device)
    values, shape = _flatten(data)
    dt = dtype or (data.dtype if isinstance(data, Tensor) else _infer_dtype(values))
    return _finish(Tensor._make(_buffer(values, dt), shape, dt), requires_grad)


def as_tensor(data: Any, dtype: dtype | None = None, device: Any = None) -> Tensor:
    check_device(device)
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype):
        return data
    return tensor(data, dtype=dtype)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_()
    return t


def full(
    size: Sequence[int], fill_value: Any, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    check_device(device)
    if isinstance(size, int):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    shape = as_shape(size)
    _check_sizes(shape)
    dt = dtype or _infer_dtype([fill_value])
    _alloc.check_shape(shape, dt.itemsize, "full")
    return _finish(Tensor._make(array(dt.typecode, _buffer([fill_value], dt)) * prod(shape), shape, dt), requires_grad)


def zeros(*size: Any, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    check_device(device)
    shape = as_shape(size)
    dt = dtype or get_default_dtype()
    _alloc.check_shape(shape, dt.itemsize, "zeros")
    if any(s < 0 for s in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _finish(Tensor._make(new_buffer(dt, prod(shape)), shape, dt), requires_grad)


def ones(*size: Any, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    check_device(device)
    shape = as_shape(size)
    _check_sizes(shape)
    return full(shape, 1, dtype=dtype or get_default_dtype(), requires_grad=requires_grad)


def empty(*size: Any, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    check_device(device)
    """Uninitialised in torch; zeros here (no RNG is used, as in torch)."""
    _check_sizes(as_shape(size))
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def _check_sizes(shape: tuple) -> None:
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")


def _like(t: Tensor, make: Any, requires_grad: bool = False) -> Tensor:
    """``make(shape)``, laid out in memory as t is when t is a dense permutation of a row-major
    block (torch's ``preserve_format``: ``zeros_like(x.t())`` has ``x.t()``'s strides, and a fill
    of it visits the elements in memory order), else row-major; a leaf."""
    order = dense_layout(t._shape, t._strides)
    if order is None:
        made = make(t._shape)
    else:
        inverse = sorted(range(len(order)), key=order.__getitem__)
        made = make(tuple(t._shape[d] for d in order)).permute(*inverse)
    return made.requires_grad_() if requires_grad else made


def zeros_like(t: Tensor, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _like(t, lambda shape: zeros(shape, dtype=dtype or t.dtype, device=device), requires_grad)


def ones_like(t: Tensor, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _like(t, lambda shape: ones(shape, dtype=dtype or t.dtype, device=device), requires_grad)


def full_like(
    t: Tensor, fill_value: Any, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    return _like(t, lambda shape: full(shape, fill_value, dtype=dtype or t.dtype, device=device), requires_grad)


def empty_like(t: Tensor, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad, device=device)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Values start, start+step, ... below end (int64 when all arguments are ints)."""
    check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if any(isinstance(v, int) and not -(2**64) < v < 2**64 for v in (start, end, step)):
        raise OverflowError("int too big to convert")
    if any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in (start, end, step)):
        raise RuntimeError("value cannot be converted to type int64_t without overflow")
    n = math.ceil((end - start) / step)
    if n >= 2**63:
        raise RuntimeError("invalid size, possible overflow?")
    dt = dtype or _infer_dtype([start, end, step])
    _alloc.check_shape((n,), dt.itemsize, "arange")
    values = [start + i * step for i in range(n)]
    return _finish(Tensor._make(_buffer(values, dt), (n,), dt), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    check_device(device)
    if not -(2**63) <= steps < 2**63:
        raise ValueError("Overflow when unpacking long long")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    _alloc.check_shape((steps,), (dtype or get_default_dtype()).itemsize, "linspace")
    step = (end - start) / (steps - 1) if steps > 1 else 0.0  # (one step: just start, as torch)
    half = steps // 2
    values = [start + i * step if i < half else end - (steps - 1 - i) * step for i in range(steps)]
    if steps == 1:
        values = [start]
    dt = dtype or get_default_dtype()
    return _finish(Tensor._make(_buffer(values, dt), (steps,), dt), requires_grad)


def eye(
    n: int, m: int | None = None, dtype: dtype | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    check_device(device)
    m = n if m is None else m
    _alloc.check_int64(n), _alloc.check_int64(m)
    for name, size in (("n", n), ("m", m)):
        if size < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    dt = dtype or get_default_dtype()
    _alloc.check_shape((n, m), dt.itemsize, "eye")
    data = new_buffer(dt, n * m)
    for i in range(min(n, m)):
        data[i * m + i] = 1
    return _finish(Tensor._make(data, (n, m), dt), requires_grad)


# -- random --------------------------------------------------------------------------------------


def _float_dtype(dt: dtype | None, what: str) -> dtype:
    dt = dt or get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"\"{what}\" not implemented for '{dt.name.capitalize()}'")
    return dt


def rand(
    *size: Any,
    generator: _random.Generator | None = None,
    dtype: dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1), as torch draws them."""
    check_device(device)
    shape = as_shape(size)
    dt = _float_dtype(dtype, "check_uniform_bounds")
    _alloc.check_shape(shape, dt.itemsize, "rand")
    _check_sizes(shape)
    gen = generator or _random.default_generator
    values = gen.fill_uniform(new_buffer(dt, prod(shape)), 0.0, 1.0)
    return _finish(Tensor._make(values, shape, dt), requires_grad)


def randn(
    *size: Any,
    generator: _random.Generator | None = None,
    dtype: dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Standard normal samples, as torch draws them (its block path from 16 elements on)."""
    check_device(device)
    shape = as_shape(size)
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    _alloc.check_shape(shape, dt.itemsize, "randn")
    _check_sizes(shape)
    gen = generator or _random.default_generator
    values = gen.fill_normal(new_buffer(dt, prod(shape)), 0.0, 1.0)
    return _finish(Tensor._make(values, shape, dt), requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    generator: _random.Generator | None = None,
    dtype: dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Integers uniform in [low, high); ``randint(high, size)`` means low = 0."""
    check_device(device)
    if high is None:
        raise TypeError("randint() missing required argument 'size'")
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    shape = as_shape((size,) if isinstance(size, int) else size)
    gen = generator or _random.default_generator
    dt = dtype or int64
    _alloc.check_shape(shape, dt.itemsize, "randint")
    values = gen.randint(prod(shape), int(low), int(high))
    return _finish(Tensor._make(_buffer(values, dt), shape, dt), requires_grad)


def randperm(
    n: int,
    generator: _random.Generator | None = None,
    dtype: dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """A random permutation of 0 .. n-1."""
    check_device(device)
    gen = generator or _random.default_generator
    dt = dtype or int64
    _alloc.check_shape((n,), max(dt.itemsize, 8), "randperm")
    return _finish(Tensor._make(_buffer(gen.randperm(n), dt), (n,), dt), requires_grad)


def rand_like(t: Tensor, dtype: dtype | None = None, device: Any = None) -> Tensor:
    return _like(t, lambda shape: rand(shape, dtype=dtype or t.dtype, device=device))


def randn_like(t: Tensor, dtype: dtype | None = None, device: Any = None) -> Tensor:
    return randn(t._shape, dtype=dtype or t.dtype, device=device)


def _write_in_memory_order(t: Tensor, values: array) -> Tensor:
    """Store the k-th drawn value in t's element with the k-th lowest address: torch's kernels fill
    a non-contiguous tensor in memory order (e.g. ``empty(4, 5).t().uniform_()`` fills the
    underlying 4x5 storage row by row), a contiguous one row by row. Bumps the version."""
    if t.is_contiguous():
        t._write(values)
        return t
    positions = array("q", sorted(K.strided_positions(t._shape, t._strides, t._offset)))
    K.put(t._storage.data, positions, values, False)
    t._storage.version += 1
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with uniform samples in [a, b), in torch's order (memory order)."""
    gen = generator or _random.default_generator
    return _write_in_memory_order(t, gen.fill_uniform(new_buffer(t.dtype, t.numel()), float(a), float(b)))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with normal samples, in torch's order (memory order); the block path only
    for contiguous tensors."""
    gen = generator or _random.default_generator
    values = gen.fill_normal(new_buffer(t.dtype, t.numel()), float(mean), float(std), t.is_contiguous())
    return _write_in_memory_order(t, values)
