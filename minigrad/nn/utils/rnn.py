# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Recurrent networks over batches of sequences of different lengths.

A batch of sequences is stored time-major, padded at the end: ``x`` has shape ``(T, B, *)``,
column ``b`` holds sequence ``b`` in its first ``lengths[b]`` steps and padding after that.

Padding at the end is harmless to a left-to-right LSTM: step ``t`` only sees steps ``<= t``,
so the outputs at real positions never see the padding. A right-to-left LSTM would read the
padding first, so it is run on each sequence reversed *within its own length*::

    sequence  a b c _ _        (length 3, two padding steps)
    reversed  c b a _ _        (padding stays at the end)

A left-to-right pass over the reversed batch, reversed back the same way, is the right-to-left
pass over the real steps. Each sequence's final state ``h_n`` is its output at step
``length - 1`` of the pass (of the reversed batch for the right-to-left direction).

This is what ``torch.nn.utils.rnn.pack_padded_sequence`` achieves for torch's LSTM; here the
lengths are passed alongside the padded tensor instead of packing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigrad import _creation
from minigrad._dtype import bool_, int64
from minigrad._functions.rnn import lstm_layer
from minigrad._functions.views import cat, stack
from minigrad._tensor import Tensor

__all__ = [
    "lstm_layer_padded",
    "lstm_padded",
    "pad_sequence",
    "reverse_padded_sequence",
    "select_last_steps",
    "sequence_mask",
]

Lengths = Sequence[int] | Tensor


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0) -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``), ``T = max L_i``, filling the steps after each ``L_i`` with
    ``padding_value``. Differentiable with respect to every sequence."""
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for seq in sequences:
        if seq.dim() == 0 or tuple(seq.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: every sequence must have shape (L, {', '.join(map(str, trailing))}),"
                               f" got {list(seq.shape)}")
    longest = max(len(seq) for seq in sequences)
    padded = []
    for seq in sequences:
        missing = longest - len(seq)
        if missing:
            seq = cat([seq, _creation.full((missing, *trailing), padding_value, dtype=seq.dtype)])
        padded.append(seq)
    return stack(padded, 0 if batch_first else 1)


def sequence_mask(lengths: Lengths, max_len: int | None = None) -> Tensor:
    """The ``(T, B)`` bool mask of real steps: ``mask[t, b] = t < lengths[b]``.
    ``T`` is ``max_len``, by default the longest length."""
    lengths = _as_list(lengths)
    steps = max(lengths, default=0) if max_len is None else max_len
    rows = [[t < length for length in lengths] for t in range(steps)]
    return _creation.tensor(rows, dtype=bool_).reshape(steps, len(lengths))


def reverse_padded_sequence(x: Tensor, lengths: Lengths) -> Tensor:
    """Reverse each column of a time-major ``(T, B, *)`` batch within its length:
    ``out[t, b] = x[lengths[b] - 1 - t, b]`` for ``t < lengths[b]``; padding steps stay where
    they are. Applying it twice gives ``x`` back. Differentiable."""
    steps, batch = _check_batch(x, lengths)
    lengths = _as_list(lengths)
    rows = [((length - 1 - t) if t < length else t) * batch + b
            for t in range(steps) for b, length in enumerate(lengths)]
    return _rows(x, steps * batch, rows).reshape(x.shape)


def select_last_steps(x: Tensor, lengths: Lengths) -> Tensor:
    """``out[b] = x[lengths[b] - 1, b]``: each sequence's last real step, shape ``(B, *)``."""
    steps, batch = _check_batch(x, lengths)
    rows = [(length - 1) * batch + b for b, length in enumerate(_as_list(lengths))]
    return _rows(x, steps * batch, rows).reshape(batch, *x.shape[2:])


def lstm_layer_padded(
    x: Tensor,
    lengths: Lengths,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One LSTM layer (one direction) over a padded ``(T, B, I)`` batch.

    Returns ``(output (T, B, H), h_n (B, H))``: at real steps the output is what each sequence
    would give on its own, padding steps hold zeros, and ``h_n`` is each sequence's final
    hidden state (after its last real step, or after its first one when ``reverse``).
    The final cell state is not returned: the layer only exposes it after step ``T``.
    """
    _check_batch(x, lengths)
    if reverse:
        x = reverse_padded_sequence(x, lengths)
    output, _, _ = lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, False)
    h_n = select_last_steps(output, lengths)
    if reverse:
        output = reverse_padded_sequence(output, lengths)
    return output * sequence_mask(lengths, x.shape[0]).unsqueeze(2).to(output.dtype), h_n


def lstm_padded(lstm: Any, x: Tensor, lengths: Lengths,
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """Run an ``nn.LSTM`` module over a padded batch: ``(output, h_n)``.

    ``x`` is ``(T, B, I)`` (``(B, T, I)`` if the module is ``batch_first``), ``output`` is laid
    out likewise with ``num_directions * hidden_size`` features, zero at padding steps, and
    ``h_n`` is ``(num_layers * num_directions, B, H)`` as torch's. Dropout between layers is
    applied as in ``lstm(x)`` when the module is training.
    """
    if lstm.batch_first:
        x = x.transpose(0, 1)
    steps, batch = _check_batch(x, lengths)
    directions = 2 if lstm.bidirectional else 1
    if hx is None:
        zeros = _creation.zeros(lstm.num_layers * directions, batch, lstm.hidden_size, dtype=x.dtype)
        hx = (zeros, zeros)
    h0, c0 = hx
    finals = []
    for layer in range(lstm.num_layers):
        if layer and lstm.dropout and lstm.training:
            from minigrad.nn import functional as F

            x = F.dropout(x, lstm.dropout, True)
        outputs = []
        for direction in range(directions):
            suffix = f"l{layer}" + ("_reverse" if direction else "")
            index = layer * directions + direction
            biases = ((getattr(lstm, f"bias_ih_{suffix}"), getattr(lstm, f"bias_hh_{suffix}"))
                      if lstm.bias else (None, None))
            output, h_n = lstm_layer_padded(x, lengths, h0[index], c0[index], getattr(lstm, f"weight_ih_{suffix}"),
                                            getattr(lstm, f"weight_hh_{suffix}"), *biases, reverse=bool(direction))
            outputs.append(output)
            finals.append(h_n)
        x = outputs[0] if directions == 1 else cat(outputs, 2)
    if lstm.batch_first:
        x = x.transpose(0, 1)
    return x, stack(finals)


def _as_list(lengths: Lengths) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dtype is not int64 or lengths.dim() != 1:
            raise RuntimeError(f"lengths must be a 1-D int64 tensor, got {lengths.dtype} of shape "
                               f"{list(lengths.shape)}")
        return lengths.tolist()
    return [int(length) for length in lengths]


def _check_batch(x: Tensor, lengths: Lengths) -> tuple[int, int]:
    """(T, B) of a time-major batch, after checking ``lengths`` against it."""
    if x.dim() < 2:
        raise RuntimeError(f"expected a time-major (T, B, *) batch, got shape {list(x.shape)}")
    steps, batch = x.shape[0], x.shape[1]
    lengths = _as_list(lengths)
    if len(lengths) != batch:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                         f"(batch_size={batch})")
    if any(length <= 0 for length in lengths):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if any(length > steps for length in lengths):
        raise RuntimeError(f"a length in {lengths} exceeds the {steps} time steps of the batch")
    return steps, batch


def _rows(x: Tensor, n_rows: int, rows: list[int]) -> Tensor:
    """Rows ``rows`` of x seen as ``(T*B, features)``."""
    flat = x.reshape(n_rows, -1)
    return flat.index_select(0, _creation.tensor(rows, dtype=int64))
