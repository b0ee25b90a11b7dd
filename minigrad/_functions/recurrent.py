# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Recurrent layers (LSTM, GRU, Elman RNN): one fused Function per layer and direction, the
composed references, the one-step cells, and the run of a layer over a packed batch.

One LSTM step, with gates in torch's order (i, f, g, o)::

    gates = x W_ih^T + b_ih + h W_hh^T + b_hh          (B, 4H)
    i, f, g, o = sigmoid(gates_i), sigmoid(gates_f), tanh(gates_g), sigmoid(gates_o)
    c' = f * c + i * g
    h' = o * tanh(c')

``lstm_layer`` runs a whole sequence as one ``LSTMLayer`` node: its forward is one kernel call
(``lstm_forward``) and its backward, backpropagation through time, is another
(``lstm_backward``). ``lstm_layer_composed`` writes the same layer out of ops autograd already
knows, one small op at a time; it is the readable reference the tests compare the fused layer
against. GRU and RNN follow the same pattern (``gru_layer``/``GRULayer``/``gru_layer_composed``,
``rnn_layer``/``RNNLayer``/``rnn_layer_composed``); their steps are written in ``gru_cell`` and
``rnn_cell``.

``packed_layer`` runs any of these layers over a packed batch (sequences sorted by decreasing
length, ``batch_sizes[t]`` of them still running at step t): one call per run of steps with the
same batch size, the rows that end leaving the state as they go (torch's ``PackedLayer``).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

from minigrad._backend import kernels as K
from minigrad._functions.views import cat, stack
from minigrad._tensor import Tensor, empty_buffer, new_buffer
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
        out = empty_buffer(dt, steps * batch * hidden)  # the kernel writes every element of these
        h_n = empty_buffer(dt, batch * hidden)
        c_n = empty_buffer(dt, batch * hidden)
        gates = empty_buffer(dt, steps * batch * 4 * hidden)
        cells = empty_buffer(dt, steps * batch * hidden)
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
        grad_x = new_buffer(dt, steps * batch * features if ctx.needs_input_grad[0] else 0)  # empty: not wanted
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
    check_layer_args("LSTM", 4, x, (h0, c0), w_ih, w_hh, b_ih, b_hh)
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
    check_layer_args("LSTM", 4, x, (h0, c0), w_ih, w_hh, b_ih, b_hh)
    return _lstm_steps(x, h0, c0, w_ih, w_hh, b_ih, b_hh, None, reverse)


def lstm_layer_projected(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    w_hr: Tensor,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """An LSTM layer with a projection (torch's ``proj_size``), composed one step at a time:
    h' = (o * tanh(c')) W_hr^T, so h0 and the output have P = w_hr.shape[0] features and w_hh
    is (4H, P); c keeps H = w_hr.shape[1]. Returns (output (T, B, P), h_n, c_n)."""
    batch = x.shape[1]
    hidden, proj = w_hr.shape[1], w_hr.shape[0]
    if w_hh.shape != (4 * hidden, proj) or h0.shape != (batch, proj) or c0.shape != (batch, hidden):
        raise RuntimeError(
            f"a projected LSTM layer needs w_hh (4H, P), h0 (B, P), c0 (B, H) for w_hr (P, H) = {list(w_hr.shape)}, "
            f"got {list(w_hh.shape)}, {list(h0.shape)}, {list(c0.shape)}"
        )
    return _lstm_steps(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse)


def _lstm_steps(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse) -> tuple[Tensor, Tensor, Tensor]:
    """The composed LSTM layer's steps; h is projected by w_hr unless it is None."""
    projected = _project_inputs(x, w_ih, None if b_ih is None else b_ih + b_hh)
    w_hh_t = w_hh.t()
    w_hr_t = None if w_hr is None else w_hr.t()
    h, c = h0, c0
    outputs: list[Tensor | None] = [None] * x.shape[0]
    for t in _step_order(x.shape[0], reverse):
        h, c = _gates_to_state(projected[t] + h @ w_hh_t, c)
        if w_hr_t is not None:
            h = h @ w_hr_t
        outputs[t] = h
    return stack(outputs), h, c


# -- argument checks shared by the three layers ---------------------------------------------------


def check_layer_args(
    name: str,
    gates: int,
    x: Tensor,
    states: tuple[Tensor, ...],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
) -> None:
    """Raise a clear error unless the shapes and dtypes make one layer of ``name`` (``gates``
    stacked gates: 4 for LSTM, 3 for GRU, 1 for RNN); ``states`` are (h0,) or (h0, c0)."""
    if x.dim() != 3:
        raise RuntimeError(f"input must have 3 dimensions (seq_len, batch, input_size), got {x.dim()}")
    steps, batch, features = x._shape
    if w_hh.dim() != 2 or w_hh._shape[0] != gates * w_hh._shape[1]:
        rows = "hidden_size" if gates == 1 else f"{gates}*hidden_size"
        raise RuntimeError(f"weight_hh must have shape ({rows}, hidden_size), got {list(w_hh._shape)}")
    hidden = w_hh._shape[1]
    if w_ih._shape != (gates * hidden, features):
        raise RuntimeError(f"weight_ih must have shape {[gates * hidden, features]}, got {list(w_ih._shape)}")
    for state_name, state in zip(("h0", "c0"), states):
        if state._shape != (batch, hidden):
            raise RuntimeError(f"Expected {state_name} size {[batch, hidden]}, got {list(state._shape)}")
    if (b_ih is None) != (b_hh is None):
        raise RuntimeError("b_ih and b_hh must be given together")
    for bias_name, bias in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if bias is not None and bias._shape != (gates * hidden,):
            raise RuntimeError(f"{bias_name} must have shape {[gates * hidden]}, got {list(bias._shape)}")
    dt = x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} input must be floating point, got {dt}")
    for t in (*states, w_ih, w_hh, b_ih, b_hh):
        if t is not None and t.dtype is not dt:
            raise RuntimeError(f"expected all {name} tensors to be {dt}, but got {t.dtype}")


def _bias_values(bias: Tensor | None, typecode: str) -> array:
    """A bias's elements, or an empty buffer standing for no bias (as the kernels take it)."""
    return array(typecode) if bias is None else bias._values()


def _output_view(output: Tensor) -> Tensor:
    """A second view of the output's storage, to save for backward: it shares the version
    counter (so in-place changes are caught) without the output -> node -> output cycle."""
    return output._view(output._shape, output._strides, 0)


# -- GRU ------------------------------------------------------------------------------------------


def gru_cell(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step for a batch: x (B, I), h (B, H) -> h', gates in torch's order (r, z, n)::

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
        z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
        h' = (1 - z) * n + z * h = n + z * (h - n)
    """
    x_gates = x @ w_ih.t()
    h_gates = h @ w_hh.t()
    if b_ih is not None:
        x_gates, h_gates = x_gates + b_ih, h_gates + b_hh
    return _gru_step(x_gates, h_gates, h)


def _gru_step(x_gates: Tensor, h_gates: Tensor, h: Tensor) -> Tensor:
    x_r, x_z, x_n = x_gates.chunk(3, 1)
    h_r, h_z, h_n = h_gates.chunk(3, 1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return n + z * (h - n)


class GRULayer(Function):
    """(out, h_n) = one GRU layer over x (T, B, I) from h0 (B, H).

    Forward and backward are one kernel call each; the derivative is written out in
    ``minigrad._kernels.gru_backward``.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        steps, batch, features = x._shape
        hidden = h0._shape[1]
        dt = x.dtype
        out = empty_buffer(dt, steps * batch * hidden)  # the kernel writes every element of these
        h_n = empty_buffer(dt, batch * hidden)
        gates = empty_buffer(dt, steps * batch * 4 * hidden)
        shape = (steps, batch, features, hidden)
        K.gru_forward(
            x._values(), w_ih._values(), w_hh._values(), _bias_values(b_ih, dt.typecode),
            _bias_values(b_hh, dt.typecode), h0._values(), shape, reverse, out, h_n, gates,
        )  # fmt: skip
        output = Tensor._make(out, (steps, batch, hidden), dt)
        ctx.save_for_backward(x, h0, w_ih, w_hh, _output_view(output))
        ctx.shape, ctx.reverse, ctx.gates = shape, reverse, gates
        return output, Tensor._make(h_n, (batch, hidden), dt)

    @staticmethod
    def backward(ctx, grad_out, grad_h_n):
        x, h0, w_ih, w_hh, output = ctx.saved_tensors
        steps, batch, features, hidden = ctx.shape
        dt = x.dtype
        grad_x = new_buffer(dt, steps * batch * features if ctx.needs_input_grad[0] else 0)  # empty: not wanted
        grad_w_ih = new_buffer(dt, 3 * hidden * features)
        grad_w_hh = new_buffer(dt, 3 * hidden * hidden)
        grad_b_ih = new_buffer(dt, 3 * hidden)
        grad_b_hh = new_buffer(dt, 3 * hidden)
        grad_h0 = new_buffer(dt, batch * hidden)
        K.gru_backward(
            x._values(), w_ih._values(), w_hh._values(), h0._values(), output._values(), ctx.gates,
            grad_out._values(), grad_h_n._values(), ctx.shape, ctx.reverse,
            grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, grad_h0,
        )  # fmt: skip
        needs = ctx.needs_input_grad
        return (
            Tensor._make(grad_x, x._shape, dt) if needs[0] else None,
            Tensor._make(grad_h0, (batch, hidden), dt) if needs[1] else None,
            Tensor._make(grad_w_ih, w_ih._shape, dt) if needs[2] else None,
            Tensor._make(grad_w_hh, w_hh._shape, dt) if needs[3] else None,
            Tensor._make(grad_b_ih, (3 * hidden,), dt) if needs[4] else None,
            Tensor._make(grad_b_hh, (3 * hidden,), dt) if needs[5] else None,
            None,
        )


def gru_layer(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """Run one GRU layer over a sequence x (T, B, I) from h0 (B, H): (output (T, B, H), h_n).

    With ``reverse`` the sequence is read from the end; output[t] still belongs to x[t]. The
    whole sequence is one ``GRULayer`` node."""
    check_layer_args("GRU", 3, x, (h0,), w_ih, w_hh, b_ih, b_hh)
    return GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, bool(reverse))


def gru_layer_composed(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """``gru_layer`` written out of small ops, one ``_gru_step`` at a time (the reference)."""
    check_layer_args("GRU", 3, x, (h0,), w_ih, w_hh, b_ih, b_hh)
    projected = _project_inputs(x, w_ih, b_ih)
    w_hh_t = w_hh.t()
    h = h0
    outputs: list[Tensor | None] = [None] * x.shape[0]
    for t in _step_order(x.shape[0], reverse):
        h_gates = h @ w_hh_t
        if b_hh is not None:
            h_gates = h_gates + b_hh
        h = _gru_step(projected[t], h_gates, h)
        outputs[t] = h
    return stack(outputs), h


# -- Elman RNN ------------------------------------------------------------------------------------

NONLINEARITIES = {"tanh": K.TANH, "relu": K.RELU}


def rnn_cell(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman RNN step for a batch: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""
    pre = x @ w_ih.t() + h @ w_hh.t()
    if b_ih is not None:
        pre = pre + b_ih + b_hh
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


class RNNLayer(Function):
    """(out, h_n) = one Elman RNN layer over x (T, B, I) from h0 (B, H).

    Forward and backward are one kernel call each (``minigrad._kernels.rnn_forward`` and
    ``rnn_backward``). The gradient of b_ih equals the gradient of b_hh.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse):
        steps, batch, features = x._shape
        hidden = h0._shape[1]
        dt = x.dtype
        out = empty_buffer(dt, steps * batch * hidden)  # the kernel writes every element of these
        h_n = empty_buffer(dt, batch * hidden)
        shape = (steps, batch, features, hidden)
        K.rnn_forward(
            x._values(), w_ih._values(), w_hh._values(), _bias_values(b_ih, dt.typecode),
            _bias_values(b_hh, dt.typecode), h0._values(), shape, nonlinearity, reverse, out, h_n,
        )  # fmt: skip
        output = Tensor._make(out, (steps, batch, hidden), dt)
        ctx.save_for_backward(x, h0, w_ih, w_hh, _output_view(output))
        ctx.shape, ctx.nonlinearity, ctx.reverse = shape, nonlinearity, reverse
        return output, Tensor._make(h_n, (batch, hidden), dt)

    @staticmethod
    def backward(ctx, grad_out, grad_h_n):
        x, h0, w_ih, w_hh, output = ctx.saved_tensors
        steps, batch, features, hidden = ctx.shape
        dt = x.dtype
        grad_x = new_buffer(dt, steps * batch * features if ctx.needs_input_grad[0] else 0)  # empty: not wanted
        grad_w_ih = new_buffer(dt, hidden * features)
        grad_w_hh = new_buffer(dt, hidden * hidden)
        grad_bias = new_buffer(dt, hidden)
        grad_h0 = new_buffer(dt, batch * hidden)
        K.rnn_backward(
            x._values(), w_ih._values(), w_hh._values(), h0._values(), output._values(),
            grad_out._values(), grad_h_n._values(), ctx.shape, ctx.nonlinearity, ctx.reverse,
            grad_x, grad_w_ih, grad_w_hh, grad_bias, grad_h0,
        )  # fmt: skip
        needs = ctx.needs_input_grad
        return (
            Tensor._make(grad_x, x._shape, dt) if needs[0] else None,
            Tensor._make(grad_h0, (batch, hidden), dt) if needs[1] else None,
            Tensor._make(grad_w_ih, w_ih._shape, dt) if needs[2] else None,
            Tensor._make(grad_w_hh, w_hh._shape, dt) if needs[3] else None,
            Tensor._make(grad_bias, (hidden,), dt) if needs[4] else None,
            Tensor._make(grad_bias[:], (hidden,), dt) if needs[5] else None,
            None,
            None,
        )


def _check_nonlinearity(nonlinearity: str) -> int:
    if nonlinearity not in NONLINEARITIES:
        raise RuntimeError(f"Unknown nonlinearity: {nonlinearity}")
    return NONLINEARITIES[nonlinearity]


def rnn_layer(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
    nonlinearity: str = "tanh",
) -> tuple[Tensor, Tensor]:
    """Run one Elman RNN layer (``nonlinearity`` 'tanh' or 'relu') over x (T, B, I) from h0
    (B, H): (output (T, B, H), h_n). One ``RNNLayer`` node."""
    check_layer_args("RNN", 1, x, (h0,), w_ih, w_hh, b_ih, b_hh)
    code = _check_nonlinearity(nonlinearity)
    return RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, code, bool(reverse))


def rnn_layer_composed(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
    nonlinearity: str = "tanh",
) -> tuple[Tensor, Tensor]:
    """``rnn_layer`` written out of small ops, one step at a time (the reference)."""
    check_layer_args("RNN", 1, x, (h0,), w_ih, w_hh, b_ih, b_hh)
    _check_nonlinearity(nonlinearity)
    projected = _project_inputs(x, w_ih, None if b_ih is None else b_ih + b_hh)
    w_hh_t = w_hh.t()
    h = h0
    outputs: list[Tensor | None] = [None] * x.shape[0]
    for t in _step_order(x.shape[0], reverse):
        pre = projected[t] + h @ w_hh_t
        h = pre.tanh() if nonlinearity == "tanh" else pre.relu()
        outputs[t] = h
    return stack(outputs), h


def _project_inputs(x: Tensor, w_ih: Tensor, bias: Tensor | None) -> Tensor:
    """x_t W_ih^T (+ bias) for every step at once: (T*B, I) @ (I, G) viewed as (T, B, G)."""
    steps, batch, features = x.shape
    projected = x.reshape(steps * batch, features) @ w_ih.t()
    if bias is not None:
        projected = projected + bias
    return projected.reshape(steps, batch, -1)


def _step_order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


# -- a layer over a packed batch ------------------------------------------------------------------

Layer = Callable[..., tuple]
"""``layer(x (T, B, I), *states (B, H), *weights, reverse=...) -> (output, *final states)``."""


def packed_layer(
    layer: Layer,
    data: Tensor,
    batch_sizes: Sequence[int],
    states: tuple[Tensor, ...],
    weights: Sequence[Tensor | None],
    reverse: bool = False,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run one layer and direction over packed ``data`` (sum(batch_sizes), I): step t holds the
    ``batch_sizes[t]`` rows after the earlier steps', sequences sorted by decreasing length.

    Returns (packed output (sum(batch_sizes), H), final states, each (batch_sizes[0], H)). A
    run of steps with the same batch size is one call of ``layer`` on the (steps, batch, I)
    view of its rows. Left to right, the rows whose sequences end leave the state with their
    final value; right to left, each sequence joins with its initial state at its last step.
    """
    runs = _runs(batch_sizes)
    features = data.shape[1]
    outputs: list[Tensor] = []
    ended: list[tuple[Tensor, ...]] = []  # left to right: the states of the rows that ended
    if reverse:
        runs = runs[::-1]
        current = tuple(s[: runs[0][2]] for s in states)
    else:
        current = states
    for offset, steps, batch in runs:
        rows = current[0].shape[0]
        if batch < rows:
            ended.append(tuple(s[batch:] for s in current))
            current = tuple(s[:batch] for s in current)
        elif batch > rows:
            current = tuple(cat([s, initial[rows:batch]]) for s, initial in zip(current, states))
        x = data[offset : offset + steps * batch].view(steps, batch, features)
        out, *finals = layer(x, *current, *weights, reverse=reverse)
        current = tuple(finals)
        outputs.append(out.reshape(steps * batch, out.shape[2]))
    if reverse:
        outputs.reverse()
    elif ended:
        current = tuple(cat([s, *pieces[::-1]]) for s, *pieces in zip(current, *ended))
    return (outputs[0] if len(outputs) == 1 else cat(outputs)), current


def _runs(batch_sizes: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first row, steps, batch size) of each run of equal batch sizes, in step order."""
    runs: list[tuple[int, int, int]] = []
    offset = 0
    for size in batch_sizes:
        if runs and runs[-1][2] == size:
            first, steps, _ = runs[-1]
            runs[-1] = (first, steps + 1, size)
        else:
            runs.append((offset, 1, size))
        offset += size
    return runs
