# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Recurrent modules, as torch's ``torch.nn.modules.rnn``: ``RNN``, ``LSTM`` and ``GRU`` (whole
sequences, stacked, optionally bidirectional, padded or packed), and the one-step cells
``RNNCell``, ``LSTMCell`` and ``GRUCell``.

``RNNBase`` holds everything the three sequence modules share: the argument checks, the
parameters, named, shaped and ordered as torch's, with the G gates stacked along the first
dimension (G = 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n), 1 for RNN)::

    weight_ih_l{k}{_reverse}  (G*H, input of layer k)    weight_hh_l{k}{_reverse}  (G*H, H)
    bias_ih_l{k}{_reverse}    (G*H,)                     bias_hh_l{k}{_reverse}    (G*H,)

with LSTM's projection ``weight_hr_l{k}{_reverse}`` (P, H) last when ``proj_size`` P > 0 (then h
has P features: w_hh is (G*H, P) and later layers take P * directions inputs), one
``reset_parameters`` (every parameter from U(-1/sqrt(H), 1/sqrt(H)) in ``parameters()``
order, so after ``manual_seed`` the weights are torch's bit for bit), ``extra_repr``, the checks
of the input and the initial state (torch's ``check_input``/``check_hidden_size`` wording), and
the run over layers and directions with dropout between layers. A subclass only names its
layer (``minigrad._functions.recurrent``: one fused node per layer and direction) and how its
state looks: a tensor h, or LSTM's pair (h, c). The modules hold no math.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from minigrad._creation import empty, zeros
from minigrad._dtype import dtype as _dtype
from minigrad._dtype import scalar_type_name
from minigrad._functions import recurrent
from minigrad._functions.views import cat, stack
from minigrad._tensor import Tensor
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.nn.utils.rnn import PackedSequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}

State = tuple[Tensor, ...]  # (h,) or LSTM's (h, c), each (layers * directions, batch, hidden)


def _check_dims(name: str, value: Any) -> None:
    if not isinstance(value, int):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")


class RNNBase(Module):
    """The base of ``RNN``, ``LSTM`` and ``GRU`` (see the module docstring); ``mode`` is
    'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'."""

    def __init__(
        self,
        mode: str,
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
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._check_arguments(dropout)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_input),
                    f"weight_hh_l{layer}{suffix}": (gate_size, real_hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                if proj_size > 0:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype)))
                self._flat_weights_names.extend(shapes)
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    def _check_arguments(self, dropout: Any) -> None:
        """torch's checks of the constructor's arguments, in torch's order."""
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={self.num_layers}",
                stacklevel=4,
            )
        if not isinstance(self.bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(self.bias).__name__}")
        if not isinstance(self.batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(self.batch_first).__name__}")
        _check_dims("input_size", self.input_size)
        _check_dims("hidden_size", self.hidden_size)
        if self.num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if self.proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [self._parameters[name] for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[self._parameters[name] for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op, as in torch on the CPU (it packs the weights for cuDNN)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
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

    # -- checks of the input and the state, as torch's ------------------------------------------

    def check_input(self, input: Tensor, batch_sizes: list[int] | None) -> None:
        weight_dtype = self._parameters[self._flat_weights_names[0]].dtype
        if input.dtype is not weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )
        if batch_sizes is None and input.shape[1 if self.batch_first else 0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: list[int] | None) -> tuple[int, int, int]:
        if batch_sizes is not None:
            mini_batch = batch_sizes[0]
        else:
            mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * (2 if self.bidirectional else 1), mini_batch, real_hidden_size)

    def check_hidden_size(
        self, hx: Tensor, expected_hidden_size: tuple[int, int, int], msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        if tuple(hx.shape) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.shape)))

    def check_forward_args(self, input: Tensor, hidden: State | None, batch_sizes: list[int] | None) -> None:
        """``hidden`` None stands for zeros (nothing to check)."""
        self.check_input(input, batch_sizes)
        if hidden is None:
            return
        for state, expected, msg in zip(hidden, self._expected_sizes(input, batch_sizes), self._HIDDEN_MESSAGES):
            self.check_hidden_size(state, expected, msg)
        for state in hidden:
            if state.dtype is not input.dtype:  # torch's matrix product finds it
                raise RuntimeError(
                    f"mat1 and mat2 must have the same dtype, but got {scalar_type_name(state.dtype)} and "
                    f"{scalar_type_name(input.dtype)}"
                )

    # -- what a subclass defines -----------------------------------------------------------------

    _HIDDEN_MESSAGES = ("Expected hidden size {}, got {}",)

    def _expected_sizes(self, input: Tensor, batch_sizes: list[int] | None) -> list[tuple[int, int, int]]:
        """The expected size of each tensor of the state."""
        return [self.get_expected_hidden_size(input, batch_sizes)]

    def _layer(self, *args: Any, reverse: bool) -> tuple:
        """One layer and direction: ``(x, *state, w_ih, w_hh, b_ih, b_hh) -> (out, *state)``."""
        raise NotImplementedError

    def _input_dim_error(self, dim: int) -> str:
        return f"{type(self).__name__}: Expected input to be 2D or 3D, got {dim}D instead"

    def _hx_to_state(self, hx: Any, batched: bool) -> State:
        """``hx`` as the state tuple, checked against the input's batchedness (unsqueezed if not)."""
        if batched and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if not batched:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
        return (hx,)

    def _state_to_hx(self, state: State) -> Any:
        return state[0]

    # -- forward ---------------------------------------------------------------------------------

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) for input (seq, batch, input_size)
        ((batch, seq, ...) with ``batch_first``), unbatched (seq, input_size), or a
        ``PackedSequence`` (then the output is one too, and h_n holds each sequence's last step)."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if input.dim() not in (2, 3):
            raise ValueError(self._input_dim_error(input.dim()))
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        state = None if hx is None else self._hx_to_state(hx, batched)
        self.check_forward_args(input, state, None)
        output, final = self._run(input.transpose(0, 1) if self.batch_first else input, state, None)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output, final = output.squeeze(batch_dim), tuple(s.squeeze(1) for s in final)
        return output, self._state_to_hx(final)

    def _forward_packed(self, input: PackedSequence, hx: Any) -> tuple[PackedSequence, Any]:
        data, batch_sizes, sorted_indices, unsorted_indices = input
        sizes = batch_sizes.tolist()
        state = None
        if hx is not None:
            state = tuple(hx) if isinstance(hx, tuple) else (hx,)
            if sorted_indices is not None:  # hx is in the caller's order of the sequences
                state = tuple(s.index_select(1, sorted_indices) for s in state)
        self.check_forward_args(data, state, sizes)
        output, final = self._run(data, state, sizes)
        if unsorted_indices is not None:
            final = tuple(s.index_select(1, unsorted_indices) for s in final)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), self._state_to_hx(final)

    def _run(self, x: Tensor, state: State | None, batch_sizes: list[int] | None) -> tuple[Tensor, State]:
        """Every layer and direction over x: (seq, batch, features), or packed data (rows,
        features) with ``batch_sizes``. ``state`` None stands for zeros. Dropout goes on the
        output of every layer but the last, in training mode (as torch)."""
        directions = 2 if self.bidirectional else 1
        if state is None:  # x is time-major here: the batch is its dim 1
            batch = batch_sizes[0] if batch_sizes is not None else x.shape[1]
            sizes = self._expected_sizes(x, batch_sizes)
            zero_state = tuple(zeros(batch, features, dtype=x.dtype) for _, _, features in sizes)
        finals: list[list[Tensor]] = [[] for _ in self._HIDDEN_MESSAGES]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [self._parameters[name] for name in self._all_weights[k]]
                if not self.bias:
                    weights[2:2] = [None, None]  # (w_ih, w_hh, b_ih, b_hh[, w_hr])
                initial = zero_state if state is None else tuple(s[k] for s in state)
                reverse = direction == 1
                if batch_sizes is None:
                    out, *final = self._layer(x, *initial, *weights, reverse=reverse)
                else:
                    out, final = recurrent.packed_layer(self._layer, x, batch_sizes, initial, weights, reverse)
                outputs.append(out)
                for kept, s in zip(finals, final):
                    kept.append(s)
            x = outputs[0] if directions == 1 else cat(outputs, x.dim() - 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, tuple(_stack_states(kept) for kept in finals)


def _stack_states(states: list[Tensor]) -> Tensor:
    """The final states as (layers * directions, batch, hidden); a single one is viewed, not copied."""
    return states[0].unsqueeze(0) if len(states) == 1 else stack(states)


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh
    or relu (``nonlinearity``). ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False)``; ``forward(input, hx=None)``
    returns ``(output, h_n)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def _input_dim_error(self, dim: int) -> str:
        return f"RNN: Expected input to be 2D or 3D, got {dim}D tensor instead"

    def _layer(self, *args: Any, reverse: bool) -> tuple:
        return recurrent.rnn_layer(*args, reverse=reverse, nonlinearity=self.nonlinearity)


class LSTM(RNNBase):
    """A multi-layer LSTM, gates (i, f, g, o). ``forward(input, hx=None)`` with ``hx = (h_0,
    c_0)`` returns ``output, (h_n, c_n)``. With ``proj_size`` P > 0, h = (o * tanh(c)) W_hr^T
    has P features (c keeps hidden_size); those layers run step by step out of small ops."""

    _HIDDEN_MESSAGES = ("Expected hidden[0] size {}, got {}", "Expected hidden[1] size {}, got {}")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: list[int] | None) -> tuple[int, int, int]:
        layers, batch, _ = self.get_expected_hidden_size(input, batch_sizes)
        return (layers, batch, self.hidden_size)

    def _expected_sizes(self, input: Tensor, batch_sizes: list[int] | None) -> list[tuple[int, int, int]]:
        return [self.get_expected_hidden_size(input, batch_sizes), self.get_expected_cell_size(input, batch_sizes)]

    def _layer(self, *args: Any, reverse: bool) -> tuple:
        if self.proj_size > 0:
            return recurrent.lstm_layer_projected(*args, reverse=reverse)
        return recurrent.lstm_layer(*args, reverse=reverse)

    def _hx_to_state(self, hx: Any, batched: bool) -> State:
        h, c = hx
        if batched and (h.dim() != 3 or c.dim() != 3):
            raise RuntimeError(
                f"For batched 3-D input, hx and cx should also be 3-D but got ({h.dim()}-D, {c.dim()}-D) tensors"
            )
        if not batched:
            if h.dim() != 2 or c.dim() != 2:
                raise RuntimeError(
                    f"For unbatched 2-D input, hx and cx should also be 2-D but got ({h.dim()}-D, {c.dim()}-D) tensors"
                )
            h, c = h.unsqueeze(1), c.unsqueeze(1)
        return (h, c)

    def _state_to_hx(self, state: State) -> tuple[Tensor, Tensor]:
        return state[0], state[1]


class GRU(RNNBase):
    """A multi-layer GRU, gates (r, z, n): n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h. ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def _layer(self, *args: Any, reverse: bool) -> tuple:
        return recurrent.gru_layer(*args, reverse=reverse)


# -- cells: one step ------------------------------------------------------------------------------


class RNNCellBase(Module):
    """The base of the cells: ``weight_ih`` (G*H, input_size), ``weight_hh`` (G*H, H),
    ``bias_ih`` and ``bias_hh`` (G*H,) (None without bias), drawn from U(-1/sqrt(H), 1/sqrt(H))
    as torch does; the checks of the input and the state."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: _dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")

    def _check_hidden_dim(self, hx: Tensor | None) -> None:
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")

    def _check_shapes(self, input: Tensor, states: tuple[Tensor, ...]) -> None:
        """torch's check of a batched step (its C++ ``check_rnn_cell_forward_*``)."""
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for label, state in enumerate(states):
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"Input batch size {input.shape[0]} doesn't match hidden{label} batch size {state.shape[0]}"
                )
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{label} has inconsistent hidden_size: got {state.shape[1]}, expected {self.hidden_size}"
                )

    def _one_state(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor, bool]:
        """(input, hx, batched) with both batched (hx zeros if None) and checked: RNN and GRU cells."""
        self._check_input_dim(input)
        self._check_hidden_dim(hx)
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        elif not batched:
            hx = hx.unsqueeze(0)
        self._check_shapes(input, (hx,))
        return input, hx, batched


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: _dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, hx, batched = self._one_state(input, hx)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = recurrent.rnn_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h', c') = cell(x, (h, c))`` for x (batch, input_size) or (input_size,),
    gates (i, f, g, o)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: _dtype | None = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        self._check_input_dim(input)
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
        self._check_shapes(input, (h, c))
        h, c = recurrent.lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h, gates (r, z, n)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: _dtype | None = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, hx, batched = self._one_state(input, hx)
        h = recurrent.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
