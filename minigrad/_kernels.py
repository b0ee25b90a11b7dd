"""The pure-Python kernels: loops over flat ``array.array`` buffers.

This is the bottom layer. A kernel knows buffers, shapes given as tuples of ints, and small
integer op codes; it knows nothing of tensors or autograd. Every kernel writes into an ``out``
buffer that the caller allocated with the right typecode and length, so storing a Python float
into an ``array('f')`` rounds it to float32 exactly as a float32 store would.

``minigrad_c._kernels`` (Cython) exports the same names with the same signatures. Callers
validate shapes and lengths before calling; the Cython kernels re-check whatever could make them
read or write out of bounds.
"""

from __future__ import annotations

import math
import operator
from array import array
from collections.abc import Sequence

# ---------------------------------------------------------------------------------------------
# Op codes
# ---------------------------------------------------------------------------------------------

# unary ops
NEG, EXP, LOG, SQRT, ABS, SIGMOID, TANH, RELU = range(8)
# binary ops
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE = range(13)
# reductions
SUM, MAX, MIN = range(3)

INF = math.inf
NAN = math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -INF if x == 0 else NAN


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), written so that neither branch overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _relu(x: float) -> float:
    return 0 if x <= 0 else x  # NaN is not <= 0, so it passes through as in torch


def _div(a: float, b: float) -> float:
    """IEEE division: x/0 is +-inf, 0/0 is nan (Python would raise)."""
    if b:
        return a / b
    if a != a or a == 0:
        return NAN
    return math.copysign(INF, a) * math.copysign(1.0, b)


def _pow(a: float, b: float) -> float:
    """a ** b with IEEE results where Python raises, and C integer semantics for int ** negative int."""
    if type(b) is int and b < 0 and type(a) is int:  # only 1 and -1 have integer reciprocals
        return 1 if a == 1 else (-1 if b % 2 else 1) if a == -1 else 0
    try:
        r = a**b
    except (ZeroDivisionError, OverflowError):  # 0 ** negative, or a result too large for a float
        odd = math.isfinite(b) and b % 2 == 1
        return -INF if odd and math.copysign(1.0, a) < 0 else INF
    return NAN if isinstance(r, complex) else r


def _fsum(values) -> float:
    """math.fsum, but inf - inf gives nan (and an overflowing sum inf) instead of raising."""
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        return sum(values)


def _maximum(a: float, b: float) -> float:
    if a != a or b != b:
        return NAN
    return a if a >= b else b


def _minimum(a: float, b: float) -> float:
    if a != a or b != b:
        return NAN
    return a if a <= b else b


UNARY = {
    NEG: operator.neg,
    EXP: _exp,
    LOG: _log,
    SQRT: _sqrt,
    ABS: abs,
    SIGMOID: _sigmoid,
    TANH: math.tanh,
    RELU: _relu,
}

BINARY = {
    ADD: operator.add,
    SUB: operator.sub,
    MUL: operator.mul,
    DIV: _div,
    POW: _pow,
    MAXIMUM: _maximum,
    MINIMUM: _minimum,
    EQ: operator.eq,
    NE: operator.ne,
    LT: operator.lt,
    LE: operator.le,
    GT: operator.gt,
    GE: operator.ge,
}


# ---------------------------------------------------------------------------------------------
# Layout: strided reads and writes
# ---------------------------------------------------------------------------------------------


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


def fill(out: array, value: float) -> None:
    """Every element of out becomes value."""
    out[:] = array(out.typecode, [value]) * len(out)


# ---------------------------------------------------------------------------------------------
# Pointwise
# ---------------------------------------------------------------------------------------------


def unary(op: int, x: array, out: array) -> None:
    """out[i] = f(x[i]) for the unary op code."""
    out[:] = array(out.typecode, map(UNARY[op], x))


def unary_backward(op: int, x: array, y: array, grad: array, out: array) -> None:
    """out = grad * f'(x), written with the input x or the output y, whichever is simpler.

    neg: -g   exp: g*y   log: g/x   sqrt: g/(2y)   abs: g*sign(x)
    sigmoid: g*y*(1-y)   tanh: g*(1-y^2)   relu: g*[x>0]
    """
    tc = out.typecode
    if op == NEG:
        out[:] = array(tc, map(operator.neg, grad))
    elif op == EXP:
        out[:] = array(tc, map(operator.mul, grad, y))
    elif op == LOG:
        out[:] = array(tc, map(_div, grad, x))
    elif op == SQRT:
        out[:] = array(tc, [_div(g, 2.0 * v) for g, v in zip(grad, y)])
    elif op == ABS:
        out[:] = array(tc, [g * ((v > 0) - (v < 0)) for g, v in zip(grad, x)])
    elif op == SIGMOID:
        out[:] = array(tc, [g * v * (1.0 - v) for g, v in zip(grad, y)])
    elif op == TANH:
        out[:] = array(tc, [g * (1.0 - v * v) for g, v in zip(grad, y)])
    elif op == RELU:
        out[:] = array(tc, [g if v > 0 else 0.0 for g, v in zip(grad, x)])
    else:
        raise ValueError(f"unknown unary op code {op}")


def binary(
    op: int,
    a: array,
    a_strides: tuple,
    a_offset: int,
    b: array,
    b_strides: tuple,
    b_offset: int,
    shape: tuple,
    out: array,
) -> None:
    """out = a (op) b elementwise over ``shape``; broadcast inputs have stride 0."""
    n = len(out)
    f = BINARY[op]
    values = map(f, _read(a, shape, a_strides, a_offset, n), _read(b, shape, b_strides, b_offset, n))
    out[:] = array(out.typecode, values)


def binary_scalar(op: int, a: array, scalar: float, reverse: bool, out: array) -> None:
    """out[i] = a[i] (op) scalar, or scalar (op) a[i] when reverse."""
    f = BINARY[op]
    if reverse:
        out[:] = array(out.typecode, [f(scalar, v) for v in a])
    else:
        out[:] = array(out.typecode, [f(v, scalar) for v in a])


def where(
    cond: array,
    c_strides: tuple,
    c_offset: int,
    a: array,
    a_strides: tuple,
    a_offset: int,
    b: array,
    b_strides: tuple,
    b_offset: int,
    shape: tuple,
    out: array,
) -> None:
    """out = a where cond else b, elementwise over ``shape`` (inputs broadcast by stride 0)."""
    n = len(out)
    conds = _read(cond, shape, c_strides, c_offset, n)
    xs = _read(a, shape, a_strides, a_offset, n)
    ys = _read(b, shape, b_strides, b_offset, n)
    out[:] = array(out.typecode, [x if c else y for c, x, y in zip(conds, xs, ys)])


def clamp(x: array, low: float, high: float, out: array) -> None:
    """out = min(max(x, low), high); pass -inf/inf for a missing bound. NaN stays NaN."""
    out[:] = array(out.typecode, [v if v != v else min(max(v, low), high) for v in x])


def clamp_backward(x: array, low: float, high: float, grad: array, out: array) -> None:
    """out = grad where low <= x <= high, else 0."""
    out[:] = array(out.typecode, [g if low <= v <= high else 0.0 for g, v in zip(grad, x)])


def pow_scalar_backward(x: array, exponent: float, grad: array, out: array) -> None:
    """d/dx x^e = e * x^(e-1); the derivative is 0 where e == 0."""
    if exponent == 0:
        fill(out, 0.0)
        return
    e1 = exponent - 1.0
    out[:] = array(out.typecode, [g * exponent * _pow(v, e1) for g, v in zip(grad, x)])


# ---------------------------------------------------------------------------------------------
# Reductions over one dimension of a contiguous buffer viewed as (outer, n, inner)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------


def matmul(a: array, b: array, batch: int, m: int, k: int, n: int, out: array) -> None:
    """out[z] = a[z] @ b[z] for z < batch, with a[z] (m, k), b[z] (k, n), all row-major."""
    values = []
    mul = operator.mul
    for z in range(batch):
        a0 = z * m * k
        b0 = z * k * n
        columns = [b[b0 + j : b0 + k * n : n] for j in range(n)]
        for i in range(m):
            row = a[a0 + i * k : a0 + (i + 1) * k]
            values.extend([sum(map(mul, row, col)) for col in columns])
    out[:] = array(out.typecode, values)


# ---------------------------------------------------------------------------------------------
# Softmax family over one dimension of a contiguous buffer viewed as (outer, n, inner)
# ---------------------------------------------------------------------------------------------


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
    """
    for s, line in _columns(x, outer, n, inner):
        lse = _logsumexp_line(line)
        if lse == INF or lse == -INF:
            out[s] = array(out.typecode, [NAN]) * len(line)
            continue
        out[s] = array(out.typecode, [v - lse for v in line])


def log_softmax_backward(y: array, grad: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = g - exp(y) * sum(g) along the line, where y = log_softmax(x)."""
    for s, line in _columns(y, outer, n, inner):
        g = grad[s]
        total = _fsum(g)
        out[s] = array(out.typecode, [gi - math.exp(yi) * total for gi, yi in zip(g, line)])


def softmax(x: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = exp(x - max) / sum(exp(x - max)) along the middle dimension."""
    for s, line in _columns(x, outer, n, inner):
        m = max(line)
        exps = [_exp(v - m) for v in line]
        total = _fsum(exps)
        out[s] = array(out.typecode, [e / total for e in exps])


def softmax_backward(y: array, grad: array, outer: int, n: int, inner: int, out: array) -> None:
    """out = y * (g - sum(g * y)) along the line, where y = softmax(x)."""
    for s, line in _columns(y, outer, n, inner):
        g = grad[s]
        dot = _fsum(list(map(operator.mul, g, line)))
        out[s] = array(out.typecode, [yi * (gi - dot) for gi, yi in zip(g, line)])


def logsumexp(x: array, outer: int, n: int, inner: int, out: array) -> None:
    """out[o, i] = log sum_k exp(x[o, k, i]), computed stably."""
    out[:] = array(out.typecode, [_logsumexp_line(line) for _, line in _columns(x, outer, n, inner)])


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# LSTM: one layer and one direction over a whole sequence
# ---------------------------------------------------------------------------------------------


def lstm_forward(
    x: array,
    w_ih: array,
    w_hh: array,
    b_ih: array,
    b_hh: array,
    h0: array,
    c0: array,
    shape: tuple,
    reverse: bool,
    out: array,
    h_n: array,
    c_n: array,
    gates: array,
    cells: array,
) -> None:
    """Run one LSTM layer over a sequence, gates in torch's order (i, f, g, o).

    ``shape`` is (T steps, B batch, I input size, H hidden size): x is (T, B, I), w_ih (4H, I),
    w_hh (4H, H), b_ih and b_hh (4H,) or both empty (no bias), h0 and c0 (B, H). For each step
    t (from the last one when ``reverse``) and each batch row, with (h, c) the previous state::

        z = (x_t w_ih^T + (b_ih + b_hh)) + h w_hh^T        (4H sums, in double)
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
        c' = f c + i g
        h' = o tanh(c')

    Writes out (T, B, H) = every h', h_n and c_n (B, H) = the final state, and what the backward
    pass needs: gates (T, B, 4H) = (i, f, g, o) and cells (T, B, H) = every c'. The state carried
    into the next step is h' and c' as stored (rounded to the buffers' precision).
    """
    steps, batch, features, hidden = shape
    four = 4 * hidden
    tc = out.typecode
    mul = operator.mul
    rows_ih = [w_ih[r * features : (r + 1) * features] for r in range(four)]
    rows_hh = [w_hh[r * hidden : (r + 1) * hidden] for r in range(four)]
    bias = list(map(operator.add, b_ih, b_hh)) if len(b_ih) else [0.0] * four
    h_prev = [h0[b * hidden : (b + 1) * hidden] for b in range(batch)]
    c_prev = [c0[b * hidden : (b + 1) * hidden] for b in range(batch)]
    for t in reversed(range(steps)) if reverse else range(steps):
        for b in range(batch):
            row = t * batch + b
            x_t, h = x[row * features : (row + 1) * features], h_prev[b]
            z = [sum(map(mul, x_t, w)) + bb + sum(map(mul, h, u)) for w, bb, u in zip(rows_ih, bias, rows_hh)]
            i = [_sigmoid(v) for v in z[:hidden]]
            f = [_sigmoid(v) for v in z[hidden : 2 * hidden]]
            g = [math.tanh(v) for v in z[2 * hidden : 3 * hidden]]
            o = [_sigmoid(v) for v in z[3 * hidden :]]
            c = [fj * cj + ij * gj for fj, cj, ij, gj in zip(f, c_prev[b], i, g)]
            state = slice(row * hidden, (row + 1) * hidden)
            gates[row * four : (row + 1) * four] = array(tc, i + f + g + o)
            cells[state] = array(tc, c)
            out[state] = array(tc, [oj * math.tanh(cj) for oj, cj in zip(o, c)])
            h_prev[b], c_prev[b] = out[state], cells[state]
    for b in range(batch):
        h_n[b * hidden : (b + 1) * hidden] = h_prev[b]
        c_n[b * hidden : (b + 1) * hidden] = c_prev[b]


def lstm_backward(
    x: array,
    w_ih: array,
    w_hh: array,
    h0: array,
    c0: array,
    out: array,
    gates: array,
    cells: array,
    grad_out: array,
    grad_h_n: array,
    grad_c_n: array,
    shape: tuple,
    reverse: bool,
    grad_x: array,
    grad_w_ih: array,
    grad_w_hh: array,
    grad_bias: array,
    grad_h0: array,
    grad_c0: array,
) -> None:
    """Backpropagation through time for ``lstm_forward`` (same shape and direction).

    Given the gradients of out, h_n and c_n, walk the steps in the opposite order carrying
    dh and dc, the gradients reaching the state (they start as grad_h_n and grad_c_n)::

        dh = dh + grad_out_t ;  tc = tanh(c_t)
        do = dh tc ;  dc = dc + dh o (1 - tc^2)
        di = dc g ;  df = dc c_prev ;  dg = dc i ;  dc <- dc f
        dz = (di i (1 - i), df f (1 - f), dg (1 - g^2), do o (1 - o))
        grad_x_t = dz w_ih ;  dh <- dz w_hh
        grad_w_ih += dz^T x_t ;  grad_w_hh += dz^T h_prev ;  grad_bias += dz

    Everything is carried and summed in double, the weight sums in that step order; the final
    dh and dc are grad_h0 and grad_c0. grad_bias is the gradient of b_ih and of b_hh alike.
    """
    steps, batch, features, hidden = shape
    four = 4 * hidden
    tc = grad_x.typecode
    mul = operator.mul
    cols_ih = [w_ih[j::features] for j in range(features)]
    cols_hh = [w_hh[j::hidden] for j in range(hidden)]
    dh = [grad_h_n[b * hidden : (b + 1) * hidden].tolist() for b in range(batch)]
    dc = [grad_c_n[b * hidden : (b + 1) * hidden].tolist() for b in range(batch)]
    dz_rows, x_rows, h_rows = [], [], []  # in the order the steps are walked
    for t in range(steps) if reverse else reversed(range(steps)):
        prev = t + 1 if reverse else t - 1
        for b in range(batch):
            row = t * batch + b
            state = slice(row * hidden, (row + 1) * hidden)
            if 0 <= prev < steps:
                before = slice((prev * batch + b) * hidden, (prev * batch + b + 1) * hidden)
                h_p, c_p = out[before], cells[before]
            else:
                h_p, c_p = h0[b * hidden : (b + 1) * hidden], c0[b * hidden : (b + 1) * hidden]
            act = gates[row * four : (row + 1) * four]
            dz_i, dz_f, dz_g, dz_o, dc_next = [], [], [], [], []
            for j, (dhj, gj, dcj, ctj, cpj) in enumerate(zip(dh[b], grad_out[state], dc[b], cells[state], c_p)):
                i, f, g, o = act[j], act[hidden + j], act[2 * hidden + j], act[3 * hidden + j]
                dhj = dhj + gj
                tcj = math.tanh(ctj)
                do = dhj * tcj
                dcj = dcj + dhj * o * (1.0 - tcj * tcj)
                dz_i.append(dcj * g * i * (1.0 - i))
                dz_f.append(dcj * cpj * f * (1.0 - f))
                dz_g.append(dcj * i * (1.0 - g * g))
                dz_o.append(do * o * (1.0 - o))
                dc_next.append(dcj * f)
            dz = dz_i + dz_f + dz_g + dz_o
            x_t = x[row * features : (row + 1) * features]
            grad_x[row * features : (row + 1) * features] = array(tc, [sum(map(mul, dz, col)) for col in cols_ih])
            dh[b] = [sum(map(mul, dz, col)) for col in cols_hh]
            dc[b] = dc_next
            dz_rows.append(dz)
            x_rows.append(x_t)
            h_rows.append(h_p)
    dz_cols = list(zip(*dz_rows)) or [()] * four
    x_cols = list(zip(*x_rows)) or [()] * features
    h_cols = list(zip(*h_rows)) or [()] * hidden
    grad_w_ih[:] = array(tc, [sum(map(mul, dzc, xc)) for dzc in dz_cols for xc in x_cols])
    grad_w_hh[:] = array(tc, [sum(map(mul, dzc, hc)) for dzc in dz_cols for hc in h_cols])
    grad_bias[:] = array(tc, [sum(dzc) for dzc in dz_cols])
    grad_h0[:] = array(tc, [v for row in dh for v in row])
    grad_c0[:] = array(tc, [v for row in dc for v in row])


# ---------------------------------------------------------------------------------------------
# Fused training-step kernels: embedding rows and the optimizer's update
# ---------------------------------------------------------------------------------------------


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


def axpy(y: array, alpha: float, x: array) -> None:
    """y[i] = y[i] + alpha * x[i] in place (an optimizer's update), in double, rounded once."""
    y[:] = array(y.typecode, [v + alpha * g for v, g in zip(y, x)])
