"""Sorting and selection along a dim, with torch's CPU order among equal values: ``sort``,
``argsort``, ``topk``, ``kthvalue``.

torch's CPU kernels order each line with the C++ standard library (``std::sort``, or
``std::stable_sort`` for ``stable=True``; ``std::partial_sort`` or ``std::nth_element`` then
``std::sort`` for ``topk``) and ``kthvalue`` with its own quickselect. These algorithms are not
stable: which of several equal values comes first depends on how each one moves elements. So
this module replays libstdc++'s introsort, introselect and heap algorithms step by step (on the
values, carrying the indices along) and gets torch's indices for ties too. NaN counts as larger
than every number, as in torch.

Values are differentiable: each op finds the indices first, then takes the values with
``gather`` (whose backward scatters the gradient back to the chosen positions).
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable
from typing import Any

from minigrad._dtype import int64
from minigrad._shape import normalize_dim
from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import no_grad

Compare = Callable[[Any, Any], bool]
_THRESHOLD = 16  # libstdc++'s _S_threshold: introsort leaves runs this short to insertion sort


def _is_nan(v: Any) -> bool:
    return v != v


def _ascending(a: Any, b: Any) -> bool:
    """torch's ascending comparator: a before b (NaN last)."""
    return (not _is_nan(a) and _is_nan(b)) or a < b


def _descending(a: Any, b: Any) -> bool:
    """torch's descending comparator: a before b (NaN first)."""
    return (_is_nan(a) and not _is_nan(b)) or a > b


class _Line:
    """One line of values with their indices, and libstdc++'s algorithms on a range of it."""

    def __init__(self, values: list, comp: Compare) -> None:
        self.v = values
        self.i = list(range(len(values)))
        self.comp = comp

    def swap(self, a: int, b: int) -> None:
        self.v[a], self.v[b] = self.v[b], self.v[a]
        self.i[a], self.i[b] = self.i[b], self.i[a]

    # -- heaps (stl_heap.h) ----------------------------------------------------------------------

    def _push_heap(self, first: int, hole: int, top: int, value: tuple) -> None:
        v, i, comp = self.v, self.i, self.comp
        parent = (hole - 1) // 2
        while hole > top and comp(v[first + parent], value[0]):
            v[first + hole], i[first + hole] = v[first + parent], i[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        v[first + hole], i[first + hole] = value

    def _adjust_heap(self, first: int, hole: int, length: int, value: tuple) -> None:
        v, i, comp = self.v, self.i, self.comp
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if comp(v[first + child], v[first + child - 1]):
                child -= 1
            v[first + hole], i[first + hole] = v[first + child], i[first + child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            v[first + hole], i[first + hole] = v[first + child - 1], i[first + child - 1]
            hole = child - 1
        self._push_heap(first, hole, top, value)

    def _make_heap(self, first: int, last: int) -> None:
        length = last - first
        if length < 2:
            return
        parent = (length - 2) // 2
        while True:
            self._adjust_heap(first, parent, length, (self.v[first + parent], self.i[first + parent]))
            if parent == 0:
                return
            parent -= 1

    def _pop_heap(self, first: int, last: int, result: int) -> None:
        value = (self.v[result], self.i[result])
        self.v[result], self.i[result] = self.v[first], self.i[first]
        self._adjust_heap(first, 0, last - first, value)

    def _heap_select(self, first: int, middle: int, last: int) -> None:
        self._make_heap(first, middle)
        for k in range(middle, last):
            if self.comp(self.v[k], self.v[first]):
                self._pop_heap(first, middle, k)

    def _sort_heap(self, first: int, last: int) -> None:
        while last - first > 1:
            last -= 1
            self._pop_heap(first, last, last)

    def partial_sort(self, first: int, middle: int, last: int) -> None:
        self._heap_select(first, middle, last)
        self._sort_heap(first, middle)

    # -- introsort / introselect (stl_algo.h) ------------------------------------------------------

    def _move_median_to_first(self, result: int, a: int, b: int, c: int) -> None:
        v, comp = self.v, self.comp
        if comp(v[a], v[b]):
            if comp(v[b], v[c]):
                self.swap(result, b)
            elif comp(v[a], v[c]):
                self.swap(result, c)
            else:
                self.swap(result, a)
        elif comp(v[a], v[c]):
            self.swap(result, a)
        elif comp(v[b], v[c]):
            self.swap(result, c)
        else:
            self.swap(result, b)

    def _partition_pivot(self, first: int, last: int) -> int:
        self._move_median_to_first(first, first + 1, first + (last - first) // 2, last - 1)
        v, comp, pivot = self.v, self.comp, first
        lo, hi = first + 1, last
        while True:
            while comp(v[lo], v[pivot]):
                lo += 1
            hi -= 1
            while comp(v[pivot], v[hi]):
                hi -= 1
            if not lo < hi:
                return lo
            self.swap(lo, hi)
            lo += 1

    def _linear_insert(self, last: int) -> None:
        v, i, comp = self.v, self.i, self.comp
        value, index = v[last], i[last]
        prev = last - 1
        while comp(value, v[prev]):
            v[last], i[last] = v[prev], i[prev]
            last = prev
            prev -= 1
        v[last], i[last] = value, index

    def _insertion_sort(self, first: int, last: int) -> None:
        v, i = self.v, self.i
        for k in range(first + 1, last):
            if self.comp(v[k], v[first]):
                value, index = v[k], i[k]
                v[first + 1 : k + 1], i[first + 1 : k + 1] = v[first:k], i[first:k]
                v[first], i[first] = value, index
            else:
                self._linear_insert(k)

    def _introsort_loop(self, first: int, last: int, depth: int) -> None:
        while last - first > _THRESHOLD:
            if depth == 0:
                self.partial_sort(first, last, last)
                return
            depth -= 1
            cut = self._partition_pivot(first, last)
            self._introsort_loop(cut, last, depth)
            last = cut

    def sort(self, first: int, last: int) -> None:
        """``std::sort``: introsort, then a final insertion sort."""
        if last - first < 2:
            return
        self._introsort_loop(first, last, 2 * ((last - first).bit_length() - 1))
        if last - first > _THRESHOLD:
            self._insertion_sort(first, first + _THRESHOLD)
            for k in range(first + _THRESHOLD, last):
                self._linear_insert(k)
        else:
            self._insertion_sort(first, last)

    def nth_element(self, nth: int) -> None:
        """``std::nth_element`` over the whole line: introselect."""
        first, last = 0, len(self.v)
        if first == last or nth == last:
            return
        depth = 2 * ((last - first).bit_length() - 1)
        while last - first > 3:
            if depth == 0:
                self._heap_select(first, nth + 1, last)
                self.swap(first, nth)
                return
            depth -= 1
            cut = self._partition_pivot(first, last)
            if cut <= nth:
                first = cut
            else:
                last = cut
        self._insertion_sort(first, last)

    def quick_select(self, k: int) -> None:
        """torch's own ``quick_select_template`` (kthvalue): median of three, Hoare partition;
        ``self.comp`` is its "greater or NaN"."""
        v, gt = self.v, self.comp
        left, right = 0, len(v) - 1
        while True:
            if right <= left:
                return
            if right == left + 1:
                if gt(v[left], v[right]):
                    self.swap(left, right)
                return
            self.swap(left + (right - left) // 2, left + 1)
            if gt(v[left + 1], v[right]):
                self.swap(left + 1, right)
            if gt(v[left], v[right]):
                self.swap(left, right)
            if gt(v[left + 1], v[left]):
                self.swap(left + 1, left)
            lo, hi, pivot = left + 1, right, v[left]
            while True:
                lo += 1
                while gt(pivot, v[lo]):
                    lo += 1
                hi -= 1
                while gt(v[hi], pivot):
                    hi -= 1
                if hi < lo:
                    break
                self.swap(lo, hi)
            self.swap(left, hi)
            if hi <= k:
                left = lo
            if hi >= k:
                right = hi - 1


def std_sort_order(values: list, less: Compare) -> list[int]:
    """The positions of ``values`` in the order ``std::sort(first, last, less)`` leaves them:
    libstdc++'s introsort, which is not stable, so equal values come out in its own order (as in
    torch's kernels that call it, e.g. ``mode``)."""
    line = _Line(list(values), less)
    line.sort(0, len(values))
    return line.i


def _stable_order(values: list, comp: Compare) -> list[int]:
    """``std::stable_sort``: equal values keep their order."""
    key = functools.cmp_to_key(lambda a, b: -1 if comp(a, b) else (1 if comp(b, a) else 0))
    return sorted(range(len(values)), key=lambda j: key(values[j]))


def _lines(x: Tensor, dim: int) -> tuple[list[list], tuple]:
    """The lines of x along dim (as Python lists), and the shape with dim moved last."""
    moved = x.detach().movedim(dim, -1) if x.dim() else x.detach().reshape(1)
    values = moved._values().tolist()
    n = moved.shape[-1] if moved.dim() else 1
    return [values[s : s + n] for s in range(0, len(values), n)] if n else [], tuple(moved.shape)


def _indices(rows: list[list[int]], moved_shape: tuple, width: int, dim: int, ndim: int) -> Tensor:
    """Rows of indices (one per line) as an int64 tensor laid out like the input along dim."""
    shape = moved_shape[:-1] + (width,) if moved_shape else ()
    flat = [j for row in rows for j in row]
    result = Tensor._make(array("q", flat), shape if ndim else (), int64)
    return result.movedim(-1, dim) if ndim else result


def _check_dim(x: Tensor, dim: int) -> int:
    return normalize_dim(dim, max(x.dim(), 1))


class SortResult(tuple):
    """A (values, indices) pair with those names, as torch's ``return_types``."""

    _name = "sort"

    def __new__(cls, values: Tensor, indices: Tensor) -> SortResult:
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"minigrad.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


class TopKResult(SortResult):
    _name = "topk"


class KthValueResult(SortResult):
    _name = "kthvalue"


def _take(x: Tensor, dim: int, indices: Tensor) -> Tensor:
    """The values at ``indices`` along dim (differentiable through gather)."""
    if x.dim() == 0:
        return x.reshape(1).gather(0, indices.reshape(1)).reshape(())
    return x.gather(dim, indices)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """Values along dim in ascending (or descending) order and where they came from."""
    dim = _check_dim(input, dim)
    comp = _descending if descending else _ascending
    lines, moved = _lines(input, dim)
    rows = []
    for values in lines:
        if stable:
            rows.append(_stable_order(values, comp))
        else:
            line = _Line(values, comp)
            line.sort(0, len(values))
            rows.append(line.i)
    with no_grad():
        indices = _indices(rows, moved, moved[-1] if moved else 1, dim, input.dim())
    return SortResult(_take(input, dim, indices), indices)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort input along dim."""
    return sort(input, dim, descending, stable)[1]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopKResult:
    """The k largest (or smallest) values along dim, and their indices; ``sorted=False`` leaves
    them in the order torch's selection does."""
    dim = _check_dim(input, dim)
    size = input.shape[dim] if input.dim() else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    comp = _descending if largest else _ascending
    lines, moved = _lines(input, dim)
    rows = []
    for values in lines:
        line = _Line(values, comp)
        if k == 0:
            rows.append([])
            continue
        if k * 64 <= len(values):
            line.partial_sort(0, k, len(values))
        else:
            line.nth_element(k - 1)
            if sorted:
                line.sort(0, k - 1)
        rows.append(line.i[:k])
    with no_grad():
        indices = _indices(rows, moved, k, dim, input.dim())
    return TopKResult(_take(input, dim, indices), indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> KthValueResult:
    """The k-th smallest value along dim (k from 1) and its index, found as torch does."""
    dim = _check_dim(input, dim)
    size = input.shape[dim] if input.dim() else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    lines, moved = _lines(input, dim)
    rows = []
    for values in lines:
        line = _Line(values, _descending)  # quick_select's "greater, or NaN"
        line.quick_select(k - 1)
        rows.append([line.i[k - 1]])
    with no_grad():
        indices = _indices(rows, moved, 1, dim, input.dim())
    values = _take(input, dim, indices)
    if not keepdim and input.dim():
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return KthValueResult(values, indices)
