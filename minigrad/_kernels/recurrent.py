"""The LSTM: one layer and one direction over a whole sequence, forward and backward. Twin:
``minigrad_c/recurrent.pxi``."""

from __future__ import annotations

import math
import operator
from array import array

from minigrad._kernels.common import _relu, _sigmoid
from minigrad._kernels.pointwise import TANH


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
    dh and dc are grad_h0 and grad_c0. grad_bias is the gradient of b_ih and of b_hh alike. An
    empty grad_x means x's gradient is not wanted (x needs none): its products are skipped.
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
            if grad_x:
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
# GRU and Elman RNN: one layer and one direction over a whole sequence (as the LSTM's above)
# ---------------------------------------------------------------------------------------------


def gru_forward(
    x: array,
    w_ih: array,
    w_hh: array,
    b_ih: array,
    b_hh: array,
    h0: array,
    shape: tuple,
    reverse: bool,
    out: array,
    h_n: array,
    gates: array,
) -> None:
    """Run one GRU layer over a sequence, gates in torch's order (r, z, n).

    ``shape`` is (T steps, B batch, I input size, H hidden size): x is (T, B, I), w_ih (3H, I),
    w_hh (3H, H), b_ih and b_hh (3H,) or both empty (no bias), h0 (B, H). For each step t (from
    the last one when ``reverse``) and each batch row, with h the previous state and xs, hs the
    sums x_t w_ih^T and h w_hh^T (in double)::

        r = sigmoid((xs_r + (b_ir + b_hr)) + hs_r)
        z = sigmoid((xs_z + (b_iz + b_hz)) + hs_z)
        m = hs_n + b_hn
        n = tanh((xs_n + b_in) + r m)
        h' = n + z (h - n)                          (torch's (1 - z) n + z h, as torch computes it)

    Writes out (T, B, H) = every h', h_n (B, H) = the final state, and gates (T, B, 4H) =
    (r, z, n, m) for the backward pass. The state carried into the next step is h' as stored.
    """
    steps, batch, features, hidden = shape
    three = 3 * hidden
    tc = out.typecode
    mul = operator.mul
    rows_ih = [w_ih[r * features : (r + 1) * features] for r in range(three)]
    rows_hh = [w_hh[r * hidden : (r + 1) * hidden] for r in range(three)]
    has_bias = len(b_ih) != 0
    b_i = b_ih.tolist() if has_bias else [0.0] * three
    b_h = b_hh.tolist() if has_bias else [0.0] * three
    bias_rz = list(map(operator.add, b_i[: 2 * hidden], b_h[: 2 * hidden]))
    h_prev = [h0[b * hidden : (b + 1) * hidden] for b in range(batch)]
    for t in reversed(range(steps)) if reverse else range(steps):
        for b in range(batch):
            row = t * batch + b
            x_t, h = x[row * features : (row + 1) * features], h_prev[b]
            xs = [sum(map(mul, x_t, w)) for w in rows_ih]
            hs = [sum(map(mul, h, u)) for u in rows_hh]
            rz = [_sigmoid((xs[k] + bias_rz[k]) + hs[k]) for k in range(2 * hidden)]
            r, z = rz[:hidden], rz[hidden:]
            m = [hs[2 * hidden + j] + b_h[2 * hidden + j] for j in range(hidden)]
            n = [math.tanh((xs[2 * hidden + j] + b_i[2 * hidden + j]) + r[j] * m[j]) for j in range(hidden)]
            state = slice(row * hidden, (row + 1) * hidden)
            gates[row * 4 * hidden : (row + 1) * 4 * hidden] = array(tc, r + z + n + m)
            out[state] = array(tc, [nj + zj * (hj - nj) for nj, zj, hj in zip(n, z, h)])
            h_prev[b] = out[state]
    for b in range(batch):
        h_n[b * hidden : (b + 1) * hidden] = h_prev[b]


def gru_backward(
    x: array,
    w_ih: array,
    w_hh: array,
    h0: array,
    out: array,
    gates: array,
    grad_out: array,
    grad_h_n: array,
    shape: tuple,
    reverse: bool,
    grad_x: array,
    grad_w_ih: array,
    grad_w_hh: array,
    grad_b_ih: array,
    grad_b_hh: array,
    grad_h0: array,
) -> None:
    """Backpropagation through time for ``gru_forward`` (same shape and direction).

    Walking the steps in the opposite order, carrying dh (it starts as grad_h_n), with (r, z, n,
    m) the row's saved gates and h the state the step started from::

        dh = dh + grad_out_t
        dn = dh (1 - z) (1 - n^2) ;  dr = dn m r (1 - r) ;  dz = dh (h - n) z (1 - z)
        dx_gates = (dr, dz, dn) ;  dh_gates = (dr, dz, dn r)
        grad_x_t = dx_gates w_ih ;  dh <- dh_gates w_hh + dh z
        grad_w_ih += dx_gates^T x_t ;  grad_w_hh += dh_gates^T h
        grad_b_ih += dx_gates ;  grad_b_hh += dh_gates

    Carried and summed in double, the weight sums in that step order; the final dh is grad_h0.
    An empty grad_x: x's gradient is not wanted, and its products are skipped (as the LSTM's).
    """
    steps, batch, features, hidden = shape
    three = 3 * hidden
    tc = grad_x.typecode
    mul = operator.mul
    cols_ih = [w_ih[j::features] for j in range(features)]
    cols_hh = [w_hh[j::hidden] for j in range(hidden)]
    dh = [grad_h_n[b * hidden : (b + 1) * hidden].tolist() for b in range(batch)]
    dx_rows, dh_rows, x_rows, h_rows = [], [], [], []  # in the order the steps are walked
    for t in range(steps) if reverse else reversed(range(steps)):
        prev = t + 1 if reverse else t - 1
        for b in range(batch):
            row = t * batch + b
            state = slice(row * hidden, (row + 1) * hidden)
            if 0 <= prev < steps:
                h_p = out[(prev * batch + b) * hidden : (prev * batch + b + 1) * hidden]
            else:
                h_p = h0[b * hidden : (b + 1) * hidden]
            act = gates[row * 4 * hidden : (row + 1) * 4 * hidden]
            d_r, d_z, d_n, d_m, direct = [], [], [], [], []
            for j, (dhj, gj, hpj) in enumerate(zip(dh[b], grad_out[state], h_p)):
                r, z, n, m = act[j], act[hidden + j], act[2 * hidden + j], act[3 * hidden + j]
                dhj = dhj + gj
                dn = dhj * (1.0 - z) * (1.0 - n * n)
                d_r.append(dn * m * r * (1.0 - r))
                d_z.append(dhj * (hpj - n) * z * (1.0 - z))
                d_n.append(dn)
                d_m.append(dn * r)
                direct.append(dhj * z)
            dx_gates = d_r + d_z + d_n
            dh_gates = d_r + d_z + d_m
            if grad_x:
                grad_x[row * features : (row + 1) * features] = array(tc, [sum(map(mul, dx_gates, c)) for c in cols_ih])
            dh[b] = [sum(map(mul, dh_gates, col)) + dj for col, dj in zip(cols_hh, direct)]
            dx_rows.append(dx_gates)
            dh_rows.append(dh_gates)
            x_rows.append(x[row * features : (row + 1) * features])
            h_rows.append(h_p)
    dx_cols = list(zip(*dx_rows)) or [()] * three
    dh_cols = list(zip(*dh_rows)) or [()] * three
    x_cols = list(zip(*x_rows)) or [()] * features
    h_cols = list(zip(*h_rows)) or [()] * hidden
    grad_w_ih[:] = array(tc, [sum(map(mul, dc, xc)) for dc in dx_cols for xc in x_cols])
    grad_w_hh[:] = array(tc, [sum(map(mul, dc, hc)) for dc in dh_cols for hc in h_cols])
    grad_b_ih[:] = array(tc, [sum(dc) for dc in dx_cols])
    grad_b_hh[:] = array(tc, [sum(dc) for dc in dh_cols])
    grad_h0[:] = array(tc, [v for row in dh for v in row])


def rnn_forward(
    x: array,
    w_ih: array,
    w_hh: array,
    b_ih: array,
    b_hh: array,
    h0: array,
    shape: tuple,
    nonlinearity: int,
    reverse: bool,
    out: array,
    h_n: array,
) -> None:
    """Run one Elman RNN layer over a sequence: ``nonlinearity`` is TANH or RELU.

    ``shape`` is (T, B, I, H): x (T, B, I), w_ih (H, I), w_hh (H, H), b_ih and b_hh (H,) or both
    empty, h0 (B, H). For each step t (from the last one when ``reverse``) and each batch row::

        h' = act((x_t w_ih^T + (b_ih + b_hh)) + h w_hh^T)      (sums in double)

    Writes out (T, B, H) = every h' and h_n (B, H) = the final state.
    """
    steps, batch, features, hidden = shape
    tc = out.typecode
    mul = operator.mul
    act = math.tanh if nonlinearity == TANH else _relu
    rows_ih = [w_ih[r * features : (r + 1) * features] for r in range(hidden)]
    rows_hh = [w_hh[r * hidden : (r + 1) * hidden] for r in range(hidden)]
    bias = list(map(operator.add, b_ih, b_hh)) if len(b_ih) else [0.0] * hidden
    h_prev = [h0[b * hidden : (b + 1) * hidden] for b in range(batch)]
    for t in reversed(range(steps)) if reverse else range(steps):
        for b in range(batch):
            row = t * batch + b
            x_t, h = x[row * features : (row + 1) * features], h_prev[b]
            state = slice(row * hidden, (row + 1) * hidden)
            out[state] = array(tc, [act(sum(map(mul, x_t, w)) + bb + sum(map(mul, h, u)))
                                    for w, bb, u in zip(rows_ih, bias, rows_hh)])
            h_prev[b] = out[state]
    for b in range(batch):
        h_n[b * hidden : (b + 1) * hidden] = h_prev[b]


def rnn_backward(
    x: array,
    w_ih: array,
    w_hh: array,
    h0: array,
    out: array,
    grad_out: array,
    grad_h_n: array,
    shape: tuple,
    nonlinearity: int,
    reverse: bool,
    grad_x: array,
    grad_w_ih: array,
    grad_w_hh: array,
    grad_bias: array,
    grad_h0: array,
) -> None:
    """Backpropagation through time for ``rnn_forward`` (same shape, nonlinearity and direction).

    Walking the steps in the opposite order, carrying dh (it starts as grad_h_n), with h' the
    step's stored output and h the state it started from::

        dh = dh + grad_out_t
        da = dh (1 - h'^2)   (tanh)   or   dh if h' > 0 else 0   (relu)
        grad_x_t = da w_ih ;  dh <- da w_hh
        grad_w_ih += da^T x_t ;  grad_w_hh += da^T h ;  grad_bias += da

    Carried and summed in double; grad_bias is the gradient of b_ih and of b_hh alike. An empty
    grad_x: x's gradient is not wanted, and its products are skipped (as the LSTM's).
    """
    steps, batch, features, hidden = shape
    tc = grad_x.typecode
    mul = operator.mul
    cols_ih = [w_ih[j::features] for j in range(features)]
    cols_hh = [w_hh[j::hidden] for j in range(hidden)]
    dh = [grad_h_n[b * hidden : (b + 1) * hidden].tolist() for b in range(batch)]
    da_rows, x_rows, h_rows = [], [], []  # in the order the steps are walked
    for t in range(steps) if reverse else reversed(range(steps)):
        prev = t + 1 if reverse else t - 1
        for b in range(batch):
            row = t * batch + b
            state = slice(row * hidden, (row + 1) * hidden)
            if 0 <= prev < steps:
                h_p = out[(prev * batch + b) * hidden : (prev * batch + b + 1) * hidden]
            else:
                h_p = h0[b * hidden : (b + 1) * hidden]
            total = map(operator.add, dh[b], grad_out[state])
            if nonlinearity == TANH:
                da = [d * (1.0 - y * y) for d, y in zip(total, out[state])]
            else:
                da = [d if y > 0 else 0.0 for d, y in zip(total, out[state])]
            if grad_x:
                grad_x[row * features : (row + 1) * features] = array(tc, [sum(map(mul, da, col)) for col in cols_ih])
            dh[b] = [sum(map(mul, da, col)) for col in cols_hh]
            da_rows.append(da)
            x_rows.append(x[row * features : (row + 1) * features])
            h_rows.append(h_p)
    da_cols = list(zip(*da_rows)) or [()] * hidden
    x_cols = list(zip(*x_rows)) or [()] * features
    h_cols = list(zip(*h_rows)) or [()] * hidden
    grad_w_ih[:] = array(tc, [sum(map(mul, dc, xc)) for dc in da_cols for xc in x_cols])
    grad_w_hh[:] = array(tc, [sum(map(mul, dc, hc)) for dc in da_cols for hc in h_cols])
    grad_bias[:] = array(tc, [sum(dc) for dc in da_cols])
    grad_h0[:] = array(tc, [v for row in dh for v in row])
