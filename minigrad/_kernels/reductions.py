"""Reductions over one dimension of a contiguous buffer viewed as (outer, n, inner): sum, max,
min, their arg versions, and the sum of a whole buffer. Twin: ``minigrad_c/reductions.pxi``."""

from __future__ import annotations

import operator
from array import array

from minigrad._kernels.common import NAN, _fsum

# reductions
SUM, MAX, MIN = range(3)


def reduce_dim(op: int, x: array, outer: int, n: int, inner: int, out: array) -> None:
    """out[o, i] = reduce_k x[o, k, i] for SUM, MAX or MIN (NaN wins MAX and MIN)."""
    values = []
    block = n * inner
    for o in range(outer):
        base = o * block
        for i in range(inner):
            column = x[base + i : base + block : inner]
            if op == SUM:
                values.append(sum(column))
            elif any(v != v for v in column):
                values.append(NAN)
            else:
                values.append(max(column) if op == MAX else min(column))
    out[:] = array(out.typecode, values)


def arg_reduce_dim(op: int, x: array, outer: int, n: int, inner: int, values: array, indices: array) -> None:
    """values/indices of the MAX or MIN along k of x[o, k, i]; first occurrence; NaN wins."""
    vals = []
    idxs = []
    block = n * inner
    better = operator.gt if op == MAX else operator.lt
    for o in range(outer):
        base = o * block
        for i in range(inner):
            column = x[base + i : base + block : inner]
            best_k = 0
            best = column[0]
            for k in range(1, n):
                v = column[k]
                if best != best:
                    break
                if v != v or better(v, best):
                    best, best_k = v, k
            vals.append(best)
            idxs.append(best_k)
    values[:] = array(values.typecode, vals)
    indices[:] = array("q", idxs)


def sum_all(x: array) -> float:
    """The sum of every element, accumulated in double precision (inf - inf gives nan)."""
    return _fsum(x) if x.typecode in "fd" else sum(x)


# -- issue 16 (tagops): the backward of a max/min along one dimension ---------------------------


def arg_reduce_dim_backward(grad: array, indices: array, outer: int, n: int, inner: int, out: array) -> None:
    """out[o, k, i] = grad[o, i] where k == indices[o, i], else 0: the gradient of
    ``arg_reduce_dim``'s values (grad and indices hold outer * inner elements, out
    outer * n * inner). Every element of out is written."""
    grad = grad[:] if grad is out else grad
    out[:] = array(out.typecode, bytes(out.itemsize * outer * n * inner))
    block = n * inner
    for o in range(outer):
        base = o * inner
        for i in range(inner):
            out[o * block + indices[base + i] * inner + i] = grad[base + i]
