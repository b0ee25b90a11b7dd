"""The softmax family over one dimension of a contiguous buffer viewed as (outer, n, inner)
(``log_softmax``, ``softmax``, ``logsumexp`` and backwards), and the negative log likelihood loss.
Twin: ``minigrad_c/softmax_loss.pxi``."""

from __future__ import annotations

import math
import operator
from array import array

from minigrad import _vec
from minigrad._kernels.common import INF, NAN, _exp, _fsum
from minigrad._kernels.indexing import fill


def _columns(x: array, outer: int, n: int, inner: int):
    """Yield (positions slice, values) for each (o, i) line along the middle dimension."""
    block = n * inner
    for o in range(outer):
        base = o * block
        for i in range(inner):
            s = slice(base + i, base + block, inner)
            yield s, x[s]


def _logsumexp_line(line) -> float:
    m = max(line)
    if m == INF or m == -INF or m != m:
        return m
    return m + math.log(_fsum([math.exp(v - m) for v in line]))


def log_softmax(x: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = x - logsumexp(x) along the middle dimension, computed stably.

    A line whose max is infinite is NaN throughout, as in torch (which computes x - max: inf - inf).
    Over the last dimension (inner == 1) this is torch's vectorised kernel, bit for bit.
    """
    if inner == 1 and n:
        out[:] = array(out.typecode, _vec.log_softmax_lastdim(x.tolist(), n, out.typecode))
        return
    for s, line in _columns(x, outer, n, inner):
        lse = _logsumexp_line(line)
        if lse == INF or lse == -INF:
            out[s] = array(out.typecode, [NAN]) * len(line)
            continue
        out[s] = array(out.typecode, [v - lse for v in line])


def log_softmax_backward(y: array, grad: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = g - exp(y) * sum(g) along the line, where y = log_softmax(x)."""
    if inner == 1 and n:
        out[:] = array(out.typecode, _vec.log_softmax_backward_lastdim(y.tolist(), grad.tolist(), n, out.typecode))
        return
    for s, line in _columns(y, outer, n, inner):
        g = grad[s]
        total = _fsum(g)
        out[s] = array(out.typecode, [gi - math.exp(yi) * total for gi, yi in zip(g, line)])


def softmax(x: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = exp(x - max) / sum(exp(x - max)) along the middle dimension (over the last
    dimension: torch's vectorised kernel, bit for bit)."""
    if inner == 1 and n:
        out[:] = array(out.typecode, _vec.softmax_lastdim(x.tolist(), n, out.typecode))
        return
    for s, line in _columns(x, outer, n, inner):
        m = max(line)
        exps = [_exp(v - m) for v in line]
        total = _fsum(exps)
        out[s] = array(out.typecode, [e / total for e in exps])


def softmax_backward(y: array, grad: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = y * (g - sum(g * y)) along the line, where y = softmax(x)."""
    if inner == 1 and n:
        out[:] = array(out.typecode, _vec.softmax_backward_lastdim(y.tolist(), grad.tolist(), n, out.typecode))
        return
    for s, line in _columns(y, outer, n, inner):
        g = grad[s]
        dot = _fsum(list(map(operator.mul, g, line)))
        out[s] = array(out.typecode, [yi * (gi - dot) for gi, yi in zip(g, line)])


def logsumexp(x: array, outer: int, n: int, inner: int, out: array) -> None:
    """out[o, i] = log sum_k exp(x[o, k, i]), computed stably."""
    out[:] = array(out.typecode, [_logsumexp_line(line) for _, line in _columns(x, outer, n, inner)])


def nll_loss(logp: array, target: array, weight: array, n: int, c: int, ignore_index: int, losses: array) -> float:
    """losses[i] = -weight[t] * logp[i, t] with t = target[i] (0 where t == ignore_index).

    Returns the total weight of the counted rows (the denominator of the 'mean' reduction).
    An empty ``weight`` buffer means weight 1 for every class.
    """
    total_weight = 0.0
    values = []
    for i in range(n):
        t = target[i]
        if t == ignore_index:
            values.append(0.0)
            continue
        w = weight[t] if len(weight) else 1.0
        total_weight += w
        values.append(-w * logp[i * c + t])
    losses[:] = array(losses.typecode, values)
    return total_weight


def nll_loss_backward(grad: array, target: array, weight: array, n: int, c: int, ignore_index: int, out: array) -> None:
    """out[i, t] = -weight[t] * grad[i] for t = target[i]; every other entry is 0."""
    fill(out, 0.0)
    for i in range(n):
        t = target[i]
        if t != ignore_index:
            w = weight[t] if len(weight) else 1.0
            out[i * c + t] = -w * grad[i]


# -- issue 16 (tagops): the backward of logsumexp in one pass (the CRF's forward algorithm) -------


def logsumexp_backward(x: array, y: array, grad: array, outer: int, n: int, inner: int, out: array) -> None:
    """out[o, k, i] = exp(x[o, k, i] - y[o, i]) * grad[o, i], where y = logsumexp(x) along k:
    softmax(x) * grad, each of the three steps rounded to the buffers' precision (as the
    subtraction, exp and product done one by one)."""
    tc = out.typecode
    line = [o * inner + i for o in range(outer) for _ in range(n) for i in range(inner)]  # (o, i) of each element
    shifted = array(tc, map(operator.sub, x, map(y.__getitem__, line)))
    probabilities = array(tc, map(_exp, shifted))
    out[:] = array(tc, map(operator.mul, probabilities, map(grad.__getitem__, line)))
