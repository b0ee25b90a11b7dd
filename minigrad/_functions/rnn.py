# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""The LSTM: one fused Function per layer and direction, and the composed reference.

One step, with gates in torch's order (i, f, g, o)::

    gates = x W_ih^T + b_ih + h W_hh^T + b_hh          (B, 4H)
    i, f, g, o = sigmoid(gates_i), sigmoid(gates_f), tanh(gates_g), sigmoid(gates_o)
    c' = f * c + i * g
    h' = o * tanh(c')

``lstm_layer`` runs a whole sequence as one ``LSTMLayer`` node: its forward is one kernel call
(``lstm_forward``) and its backward, backpropagation through time, is another
(``lstm_backward``). ``lstm_layer_composed`` writes the same layer out of ops autograd already
knows, one small op at a time; it is the readable reference the tests compare the fused layer
against.
"""

from __future__ import annotations

from array import array

from minigrad._backend import kernels as K
from minigrad._functions.views import stack
from minigrad._tensor import Tensor, new_buffer
from minigrad.autograd.function import Function


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


class LSTMLayer(Function):
    """(out, h_n, c_n) = one LSTM layer over x (T, B, I) from (h0, c0), each (B, H).

    Forward and backward are one kernel call each; the derivative (backpropagation through
    time) is written out in ``minigrad._kernels.lstm_backward``. The gradient of b_ih equals
    the gradient of b_hh: both are added to the same gates.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        steps, batch, features = x._shape
        hidden = h0._shape[1]
        dt = x.dtype
        no_bias = array(dt.typecode)
        out = new_buffer(dt, steps * batch * hidden)
        h_n = new_buffer(dt, batch * hidden)
        c_n = new_buffer(dt, batch * hidden)
        gates = new_buffer(dt, steps * batch * 4 * hidden)
        cells = new_buffer(dt, steps * batch * hidden)
        shape = (steps, batch, features, hidden)
        K.lstm_forward(
            x._values(), w_ih._values(), w_hh._values(),
            no_bias if b_ih is None else b_ih._values(), no_bias if b_hh is None else b_hh._values(),
            h0._values(), c0._values(), shape, reverse,
            out, h_n, c_n, gates, cells,
        )  # fmt: skip
        output = Tensor._make(out, (steps, batch, hidden), dt)
        # Save a second view of the output's storage: it shares the version counter (so in-place
        # changes are caught) without the output -> node -> output reference cycle.
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, output._view(output._shape, output._strides, 0))
        ctx.shape, ctx.reverse, ctx.gates, ctx.cells = shape, reverse, gates, cells
        return output, Tensor._make(h_n, (batch, hidden), dt), Tensor._make(c_n, (batch, hidden), dt)

    @staticmethod
    def backward(ctx, grad_out, grad_h_n, grad_c_n):
        x, h0, c0, w_ih, w_hh, output = ctx.saved_tensors
        steps, batch, features, hidden = ctx.shape
        dt = x.dtype
        grad_x = new_buffer(dt, steps * batch * features)
        grad_w_ih = new_buffer(dt, 4 * hidden * features)
        grad_w_hh = new_buffer(dt, 4 * hidden * hidden)
        grad_bias = new_buffer(dt, 4 * hidden)
        grad_h0 = new_buffer(dt, batch * hidden)
        grad_c0 = new_buffer(dt, batch * hidden)
        K.lstm_backward(
            x._values(), w_ih._values(), w_hh._values(), h0._values(), c0._values(),
            output._values(), ctx.gates, ctx.cells,
            grad_out._values(), grad_h_n._values(), grad_c_n._values(), ctx.shape, ctx.reverse,
            grad_x, grad_w_ih, grad_w_hh, grad_bias, grad_h0, grad_c0,
        )  # fmt: skip
        needs = ctx.needs_input_grad
        return (
            Tensor._make(grad_x, x._shape, dt) if needs[0] else None,
            Tensor._make(grad_h0, (batch, hidden), dt) if needs[1] else None,
            Tensor._make(grad_c0, (batch, hidden), dt) if needs[2] else None,
            Tensor._make(grad_w_ih, w_ih._shape, dt) if needs[3] else None,
            Tensor._make(grad_w_hh, w_hh._shape, dt) if needs[4] else None,
            Tensor._make(grad_bias, (4 * hidden,), dt) if needs[5] else None,
            Tensor._make(grad_bias[:], (4 * hidden,), dt) if needs[6] else None,
            None,
        )


def _check_layer_args(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> None:
    """Raise a clear error unless the shapes and dtypes make one LSTM layer."""
    if x.dim() != 3:
        raise RuntimeError(f"input must have 3 dimensions (seq_len, batch, input_size), got {x.dim()}")
    steps, batch, features = x._shape
    if w_hh.dim() != 2 or w_hh._shape[0] % 4 or w_hh._shape[0] != 4 * w_hh._shape[1]:
        raise RuntimeError(f"weight_hh must have shape (4*hidden_size, hidden_size), got {list(w_hh._shape)}")
    hidden = w_hh._shape[1]
    if w_ih._shape != (4 * hidden, features):
        raise RuntimeError(f"weight_ih must have shape {[4 * hidden, features]}, got {list(w_ih._shape)}")
    for name, state in (("h0", h0), ("c0", c0)):
        if state._shape != (batch, hidden):
            raise RuntimeError(f"Expected {name} size {[batch, hidden]}, got {list(state._shape)}")
    if (b_ih is None) != (b_hh is None):
        raise RuntimeError("b_ih and b_hh must be given together")
    for name, bias in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if bias is not None and bias._shape != (4 * hidden,):
            raise RuntimeError(f"{name} must have shape {[4 * hidden]}, got {list(bias._shape)}")
    dt = x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f"LSTM input must be floating point, got {dt}")
    for t in (h0, c0, w_ih, w_hh, b_ih, b_hh):
        if t is not None and t.dtype is not dt:
            raise RuntimeError(f"expected all LSTM tensors to be {dt}, but got {t.dtype}")


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
    The whole sequence is one ``LSTMLayer`` node.
    """
    _check_layer_args(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, bool(reverse))


def lstm_layer_composed(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """``lstm_layer`` written out of small ops, one step at a time (the reference).

    Autograd differentiates through every step, which is backpropagation through time.
    """
    _check_layer_args(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
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
