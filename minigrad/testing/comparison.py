"""``assert_close``: are two tensors equal up to a tolerance, and if not, where and by how much.

Element by element, ``actual`` is close to ``expected`` when

    |actual - expected| <= atol + rtol * |expected|

(NaN is never close, except to NaN with ``equal_nan=True``; infinities only to themselves). The
default ``rtol``/``atol`` depend on the dtype, as in ``torch.testing.assert_close``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# (rtol, atol) by dtype name: torch.testing.assert_close's defaults. Other dtypes compare exactly.
DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


@dataclass(frozen=True)
class Flat:
    """A tensor's elements in row-major order, its shape and dtype name.

    Python numbers and lists get the dtype torch would infer (bool, int64, float64) with
    ``typed=False``: their dtype is not compared with the other side's.
    """

    values: list
    shape: tuple[int, ...]
    dtype: str
    typed: bool = True


def is_tensor_like(x: Any) -> bool:
    """A minigrad or torch tensor (anything with ``detach``, ``reshape``, ``shape`` and ``dtype``)."""
    return all(hasattr(x, name) for name in ("detach", "reshape", "shape", "dtype"))


def flatten(x: Any) -> Flat:
    """A minigrad tensor, a torch tensor, a Python number or nested lists of numbers, as ``Flat``."""
    if is_tensor_like(x):
        return Flat(x.detach().reshape(-1).tolist(), tuple(x.shape), str(x.dtype).rsplit(".", 1)[-1])
    if not isinstance(x, (list, tuple, int, float)):
        raise TypeError(f"cannot compare a {type(x).__name__}: expected a tensor, a number or a list of numbers")
    values: list = []
    shape = _nested_shape(x, values)
    if values and all(isinstance(v, bool) for v in values):
        dtype = "bool"
    elif values and all(isinstance(v, int) for v in values):
        dtype = "int64"
    else:
        dtype = "float64"
    return Flat(values, shape, dtype, typed=False)


def _nested_shape(data: Any, out: list) -> tuple[int, ...]:
    """Append the numbers of a rectangular nest of lists to ``out`` and return its shape."""
    if not isinstance(data, (list, tuple)):
        if not isinstance(data, (int, float)):
            raise TypeError(f"cannot compare a list holding a {type(data).__name__}")
        out.append(data)
        return ()
    shapes = {_nested_shape(item, out) for item in data}
    if len(shapes) > 1:
        raise ValueError("cannot compare a ragged nested list: its rows have different lengths")
    return (len(data), *(shapes.pop() if shapes else ()))


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_dtype: bool = True,
) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close element by element.

    Either may be a minigrad tensor, a torch tensor, a Python number or a nested list; tuples,
    lists and dicts of tensors are compared item by item. The message names the mismatched
    count, the greatest absolute and relative differences and the worst element: the one
    furthest beyond its allowed difference, with its index and both values.
    """
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    for where, a, e in _pairs(actual, expected, ""):
        problem = _compare(flatten(a), flatten(e), rtol, atol, equal_nan, check_dtype)
        if problem is not None:
            raise AssertionError(problem + (f"\n\nThe failure occurred for item {where}" if where else ""))


def _is_array_data(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return all(_is_array_data(item) for item in x)
    return isinstance(x, (int, float))


def _pairs(actual: Any, expected: Any, where: str) -> list[tuple[str, Any, Any]]:
    """The leaves to compare: containers of tensors are opened, tensors and numbers are leaves."""
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise AssertionError(
                f"The keys of the mappings do not match: {sorted(map(str, actual))} != {sorted(map(str, expected))}"
                + (f"\n\nThe failure occurred for item {where}" if where else "")
            )
        return [pair for key in actual for pair in _pairs(actual[key], expected[key], f"{where}[{key!r}]")]
    if _is_container(actual) and _is_container(expected):
        if len(actual) != len(expected):
            raise AssertionError(
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
                + (f"\n\nThe failure occurred for item {where}" if where else "")
            )
        return [pair for i, (a, e) in enumerate(zip(actual, expected)) for pair in _pairs(a, e, f"{where}[{i}]")]
    return [(where, actual, expected)]


def _is_container(x: Any) -> bool:
    """A list or tuple that holds tensors somewhere (a list of numbers is one array instead)."""
    return isinstance(x, (list, tuple)) and not _is_array_data(x)


def _tolerances(a: Flat, e: Flat, rtol: float | None, atol: float | None) -> tuple[float, float]:
    """The given tolerances, or the looser default of the two dtypes (as torch, check_dtype=False)."""
    if rtol is not None and atol is not None:
        return rtol, atol
    pairs = [DEFAULT_TOLERANCES.get(d, (0.0, 0.0)) for d in (a.dtype, e.dtype)]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _compare(
    a: Flat, e: Flat, rtol: float | None, atol: float | None, equal_nan: bool, check_dtype: bool
) -> str | None:
    """None when close, else the report."""
    if a.shape != e.shape:
        return f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}."
    if check_dtype and a.typed and e.typed and a.dtype != e.dtype:
        return f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}."
    rtol, atol = _tolerances(a, e, rtol, atol)
    mismatched = []  # (flat index, |difference|, relative difference, how far beyond the allowance)
    for i, (x, y) in enumerate(zip(a.values, e.values)):
        if x == y or (equal_nan and math.isnan(x) and math.isnan(y)):
            continue
        difference = abs(x - y)  # exact for integers of any size; NaN when either is NaN
        allowed = atol + rtol * abs(y)
        if difference <= allowed and not (math.isinf(x) or math.isinf(y)):
            continue
        relative = difference / abs(y) if y else math.inf
        excess = difference / allowed if allowed else math.inf
        mismatched.append((i, difference, relative, math.inf if math.isnan(excess) else excess))
    if not mismatched:
        return None
    n = len(a.values)
    worst_abs = max(mismatched, key=lambda m: _nan_last(m[1]))
    worst_rel = max(mismatched, key=lambda m: _nan_last(m[2]))
    worst = max(mismatched, key=lambda m: (m[3], _nan_last(m[1])))
    index = worst[0]
    return "\n".join(
        [
            "Tensor-likes are not close!",
            "",
            f"Mismatched elements: {len(mismatched)} / {n} ({100 * len(mismatched) / n:.1f}%)",
            f"Greatest absolute difference: {worst_abs[1]} at index {_unravel(worst_abs[0], a.shape)} "
            f"(up to {atol} allowed)",
            f"Greatest relative difference: {worst_rel[2]} at index {_unravel(worst_rel[0], a.shape)} "
            f"(up to {rtol} allowed)",
            f"Worst element: index {_unravel(index, a.shape)}: actual {a.values[index]!r}, expected "
            f"{e.values[index]!r}, difference {worst[1]!r} (allowed {atol + rtol * abs(float(e.values[index])):.4g})",
        ]
    )


def _nan_last(value: float) -> float:
    """Sort key that puts NaN above every number (a NaN difference is the worst kind)."""
    return math.inf if math.isnan(value) else value


def _unravel(flat_index: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The multi-index of a row-major flat index: 5 in shape (2, 3) is (1, 2)."""
    index = []
    for size in reversed(shape):
        flat_index, i = divmod(flat_index, size)
        index.append(i)
    return tuple(reversed(index))
