"""The LSTM, written out of the ops autograd already knows (the readable reference).

One step, with gates in torch's order (i, f, g, o)::

    gates = x W_ih^T + b_ih + h W_hh^T + b_hh          (B, 4H)
    i, f, g, o = sigmoid(gates_i), sigmoid(gates_f), tanh(gates_g), sigmoid(gates_o)
    c' = f * c + i * g
    h' = o * tanh(c')

Autograd differentiates through every step, which is backpropagation through time.
"""

from __future__ import annotations

from minigrad._functions.shape import stack
from minigrad.tensor import Tensor


def lstm_cell(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step for a batch: x (B, I), h and c (B, H) -> (h', c')."""
    gates = x @ w_ih.t() + h @ w_hh.t()
    if b_ih is not None:
        gates = gates + b_ih + b_hh
    return _gates_to_state(gates, c)


def _gates_to_state(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    i, f, g, o = gates.chunk(4, 1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h_next = o.sigmoid() * c_next.tanh()
    return h_next, c_next


def lstm_layer(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run one LSTM layer over a sequence x (T, B, I) from (h0, c0), each (B, H).

    Returns (output (T, B, H), h_n, c_n). With ``reverse`` the sequence is read from the end
    (the backward direction of a bidirectional LSTM); output[t] still belongs to input x[t].
    """
    steps, batch, features = x.shape
    # The input projection of every step at once: (T*B, I) @ (I, 4H).
    projected = x.reshape(steps * batch, features) @ w_ih.t()
    if b_ih is not None:
        projected = projected + (b_ih + b_hh)
    projected = projected.reshape(steps, batch, -1)
    w_hh_t = w_hh.t()
    h, c = h0, c0
    outputs: list[Tensor | None] = [None] * steps
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        h, c = _gates_to_state(projected[t] + h @ w_hh_t, c)
        outputs[t] = h
    return stack(outputs), h, c
