"""``LSTM`` (a whole sequence, stacked and optionally bidirectional) and ``LSTMCell`` (one step).

Parameters are named, shaped and ordered as torch's, with the gates stacked in the order
(i, f, g, o) along the first dimension of each weight::

    weight_ih_l{k}{_reverse}  (4H, input of layer k)     weight_hh_l{k}{_reverse}  (4H, H)
    bias_ih_l{k}{_reverse}    (4H,)                      bias_hh_l{k}{_reverse}    (4H,)

Every parameter is drawn from U(-1/sqrt(H), 1/sqrt(H)) in ``parameters()`` order, as torch does,
so after ``manual_seed`` the weights are torch's bit for bit. Each layer and direction runs
through ``minigrad._functions.rnn.lstm_layer``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from minigrad._creation import empty, zeros
from minigrad._dtype import dtype as _dtype
from minigrad._functions import rnn as _rnn
from minigrad._functions.shape import cat, stack
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

_GATES = 4  # i, f, g, o


def _check_int_size(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")


class LSTM(Module):
    """A multi-layer LSTM over sequences of shape (seq, batch, input_size) (or (batch, seq, ...)
    with ``batch_first``, or unbatched (seq, input_size)).

    ``forward(input, hx=None)`` returns ``output, (h_n, c_n)``: ``output`` holds the last layer's
    hidden state at every step (both directions concatenated when bidirectional), ``h_n`` and
    ``c_n`` the final states of every layer and direction, shaped (num_layers * directions,
    batch, hidden_size). ``hx = (h_0, c_0)`` defaults to zeros. With ``dropout`` > 0, dropout is
    applied to the outputs of every layer but the last, in training mode only.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: _dtype | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        _check_int_size("input_size", input_size)
        _check_int_size("hidden_size", hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size != 0:
            raise NotImplementedError("minigrad's LSTM does not support proj_size")
        self.mode = "LSTM"
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {
                    f"weight_ih_l{layer}{suffix}": (_GATES * hidden_size, layer_input),
                    f"weight_hh_l{layer}{suffix}": (_GATES * hidden_size, hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (_GATES * hidden_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (_GATES * hidden_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype)))
                self._all_weights.append(list(shapes))
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[self._parameters[name] for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        if self.batch_first:
            input = input.transpose(0, 1)
        self._check_input(input)
        states = self.num_layers * (2 if self.bidirectional else 1)
        expected = (states, input.shape[1], self.hidden_size)
        if hx is None:
            h0 = c0 = None  # zeros, made per layer by _run_layers
        else:
            h0, c0 = hx
            if batched and (h0.dim() != 3 or c0.dim() != 3):
                raise RuntimeError(
                    f"For batched 3-D input, hx and cx should also be 3-D but got ({h0.dim()}-D, {c0.dim()}-D) tensors"
                )
            if not batched:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError(
                        "For unbatched 2-D input, hx and cx should also be 2-D but got "
                        f"({h0.dim()}-D, {c0.dim()}-D) tensors"
                    )
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            for i, state in enumerate((h0, c0)):
                if tuple(state.shape) != expected:
                    raise RuntimeError(f"Expected hidden[{i}] size {expected}, got {list(state.shape)}")
        output, h_n, c_n = self._run_layers(input, h0, c0)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output, h_n, c_n = output.squeeze(batch_dim), h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)

    def _check_input(self, input: Tensor) -> None:
        weight_dtype = self._parameters[self._flat_weights_names[0]].dtype
        if input.dtype is not weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        if input.shape[0] == 0:  # (time-major here)
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _run_layers(self, x: Tensor, h0: Tensor | None, c0: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """Layer by layer, each direction through ``lstm_layer``; (seq, batch, feature) layout.

        ``h0`` and ``c0`` None stand for zeros."""
        params = self._parameters
        zero_state = zeros(x.shape[1], self.hidden_size, dtype=x.dtype) if h0 is None else None
        directions = 2 if self.bidirectional else 1
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [params[name] for name in self._all_weights[k]]
                if not self.bias:
                    weights += [None, None]
                h_k, c_k = (zero_state, zero_state) if h0 is None else (h0[k], c0[k])
                out, h, c = _rnn.lstm_layer(x, h_k, c_k, *weights, reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, _stack_states(h_n), _stack_states(c_n)


def _stack_states(states: list[Tensor]) -> Tensor:
    """The final states as (layers * directions, batch, hidden); a single one is viewed, not copied."""
    return states[0].unsqueeze(0) if len(states) == 1 else stack(states)


class LSTMCell(Module):
    """One LSTM step: ``(h', c') = cell(x, (h, c))`` for x (batch, input_size) or (input_size,).

    Parameters ``weight_ih`` (4H, input_size), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh``
    (4H,), gates (i, f, g, o), drawn from U(-1/sqrt(H), 1/sqrt(H)) as torch does.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: _dtype | None = None
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(_GATES * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(_GATES * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(_GATES * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(_GATES * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for i, state in enumerate(hx):
                if state.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{i}] to be 1D or 2D, got {state.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            h = c = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        else:
            h, c = hx if batched else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        self._check_shapes(input, h, c)
        h, c = _rnn.lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def _check_shapes(self, input: Tensor, h: Tensor, c: Tensor) -> None:
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for label, state in enumerate((h, c)):
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"Input batch size {input.shape[0]} doesn't match hidden{label} batch size {state.shape[0]}"
                )
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{label} has inconsistent hidden_size: got {state.shape[1]}, expected {self.hidden_size}"
                )
