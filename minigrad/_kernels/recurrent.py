"""The LSTM: one layer and one direction over a whole sequence, forward and backward. Twin:
``minigrad_c/recurrent.pxi``."""

from __future__ import annotations

import math
import operator
from array import array

from minigrad._kernels.common import _sigmoid


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
