# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Batches of sequences of different lengths (torch's ``torch.nn.utils.rnn``), and the tagger's
length-aware LSTM helper.

**Packed sequences.** A ``PackedSequence`` stores a batch without padding, step-major: sorted by
decreasing length, the ``batch_sizes[t]`` sequences still running at step t contribute their
step t, one row each, after the rows of the earlier steps::

    sequences (sorted)   a1 a2 a3        data    a1 b1 c1 a2 b2 a3
                         b1 b2           batch_sizes  [3, 2, 1]
                         c1

``pack_padded_sequence`` builds one from a padded (T, B, *) tensor and the lengths (sorting the
batch first when ``enforce_sorted=False``: ``sorted_indices`` records the order and
``unsorted_indices`` undoes it), ``pad_packed_sequence`` turns it back into a padded tensor and
the lengths, and ``pack_sequence``/``unpack_sequence``, ``pad_sequence``/``unpad_sequence`` go
between a list of (L_i, *) tensors and either form. Packing and unpacking select rows with
``index_select``, so gradients flow through them. ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` take a
PackedSequence, run it through ``minigrad._functions.recurrent.packed_layer``, and return one.

**Lengths beside a padded batch.** ``lstm_padded`` runs an ``nn.LSTM`` over a padded batch
with its lengths by packing it: padding never enters the recurrence, in either direction.
``sequence_mask`` and ``select_last_steps`` serve losses over such batches (the CRF's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from minigrad import _creation
from minigrad._dtype import bool_, float32, float64, int64
from minigrad._functions.views import cat, stack
from minigrad._shape import broadcast_shapes
from minigrad._tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "lstm_padded",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "select_last_steps",
    "sequence_mask",
    "unpack_sequence",
    "unpad_sequence",
]

Lengths = Sequence[int] | Tensor


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A packed batch: ``data`` (sum(batch_sizes), *), ``batch_sizes`` (int64, one per step),
    ``sorted_indices`` (the batch's order by decreasing length, or None when it was sorted
    already) and ``unsorted_indices`` (its inverse). Made by ``pack_padded_sequence`` and
    ``pack_sequence``, not by hand. ``PackedSequence(data, batch_sizes, sorted_indices)``
    computes ``unsorted_indices``; ``PackedSequence((data, batch_sizes))`` is accepted too."""

    def __new__(
        cls,
        data: Any,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same batch with ``data.to(*args, **kwargs)`` (``batch_sizes`` and the indices
        stay as they are); ``self`` when the data does not change."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to(*args, **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=float32)

    def long(self) -> PackedSequence:
        return self.to(dtype=int64)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation: ``out[permutation[i]] = i`` (None for None)."""
    if permutation is None:
        return None
    order = permutation.tolist()
    inverse = [0] * len(order)
    for i, p in enumerate(order):
        inverse[p] = i
    return _creation.tensor(inverse, dtype=permutation.dtype)


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | list[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``input`` (T, B, *) ((B, T, *) with ``batch_first``) of sequences of
    ``lengths``. With ``enforce_sorted`` (the default) the lengths must be decreasing; else
    the batch is sorted by decreasing length first (ties keep their order) and the result
    records the permutation."""
    if isinstance(lengths, Tensor):
        lengths = lengths.to(dtype=int64)
    else:
        lengths = _creation.tensor([int(length) for length in lengths], dtype=int64)
    sorted_indices = None
    if not enforce_sorted and lengths.dim() == 1:
        values = lengths.tolist()
        order = sorted(range(len(values)), key=lambda i: -values[i])
        sorted_indices = _creation.tensor(order, dtype=int64)
        lengths = lengths.index_select(0, sorted_indices)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack_padded(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack_padded(input: Tensor, lengths: Tensor, batch_first: bool) -> tuple[Tensor, Tensor]:
    """torch's ``_pack_padded_sequence``: (data, batch_sizes) of a batch sorted by length."""
    if batch_first:
        input = input.transpose(0, 1)
    if lengths.dim() != 1:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D cpu Long tensor"
        )
    steps, batch = input.shape[0], input.size(1)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    sizes = lengths.tolist()
    if len(sizes) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(sizes)} "
                           f"(batch_size={batch})")
    if sizes[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if any(a < b for a, b in zip(sizes, sizes[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
            "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
            "you do not need ONNX exportability."
        )
    if sizes[0] > steps:  # torch reads past the end of the batch here
        raise RuntimeError(f"a length ({sizes[0]}) exceeds the {steps} steps of the padded batch")
    batch_sizes = [sum(1 for length in sizes if length > t) for t in range(sizes[0])]
    rows = [t * batch + b for t, size in enumerate(batch_sizes) for b in range(size)]
    trailing = tuple(input.shape[2:])
    data = input.reshape(steps * batch, -1).index_select(0, _creation.tensor(rows, dtype=int64))
    return data.reshape(len(rows), *trailing), _creation.tensor(batch_sizes, dtype=int64)


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *) with ``batch_first``,
    lengths (B,) int64), in the batch's original order. T is the longest length, or
    ``total_length``; the steps after each sequence hold ``padding_value``."""
    sizes = sequence.batch_sizes.tolist()
    max_seq_length = len(sizes)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_seq_length}"
            )
        max_seq_length = total_length
    data = sequence.data
    batch = sizes[0]
    trailing = tuple(data.shape[1:])
    filler = _creation.full((1, *trailing), padding_value, dtype=data.dtype)
    padding_row = data.shape[0]
    rows, offset = [], 0
    for t in range(max_seq_length):
        size = sizes[t] if t < len(sizes) else 0
        rows += [offset + b if b < size else padding_row for b in range(batch)]
        offset += size
    padded = cat([data, filler]).index_select(0, _creation.tensor(rows, dtype=int64))
    padded = padded.reshape(max_seq_length, batch, *trailing)
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = _creation.tensor([sum(1 for size in sizes if size > b) for b in range(batch)], dtype=int64)
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        return padded.index_select(0 if batch_first else 1, unsorted_indices), lengths[unsorted_indices]
    return padded, lengths


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``), ``T = max L_i``, filling the steps after each ``L_i`` (before it, with
    ``padding_side='left'``) with ``padding_value``. Differentiable with respect to every sequence."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if sequences[0].dim() == 0:  # torch's wording: it slices the first sequence's sizes from 1
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(sequences[0].shape[1:])
    longest = max(len(seq) for seq in sequences)
    padded = []
    for seq in sequences:
        if tuple(seq.shape[1:]) != trailing:  # torch copies it into a (L, *trailing) slot: broadcast
            seq = seq.expand(*broadcast_shapes((len(seq), *trailing), tuple(seq.shape)))
        missing = longest - len(seq)
        if missing:
            filler = _creation.full((missing, *trailing), padding_value, dtype=seq.dtype)
            seq = cat([seq, filler] if padding_side == "right" else [filler, seq])
        padded.append(seq)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Undo ``pad_sequence``: the list of each sequence's first ``lengths[b]`` steps.

    (torch transposes a time-major ``padded_sequences`` in place; minigrad leaves it as it is.)"""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    sizes = _as_list(lengths)
    if len(sizes) != padded_sequences.shape[0]:
        raise ValueError(
            f"zip() argument 2 is {'shorter' if len(sizes) < padded_sequences.shape[0] else 'longer'} than argument 1"
        )
    return [seq[:length] for seq, length in zip(padded_sequences, sizes)]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shapes (L_i, *) (decreasing L_i unless not ``enforce_sorted``)."""
    lengths = _creation.tensor([v.size(0) for v in sequences], dtype=int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo ``pack_sequence``: the list of (L_i, *) tensors, in their original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)


def sequence_mask(lengths: Lengths, max_len: int | None = None) -> Tensor:
    """The ``(T, B)`` bool mask of real steps: ``mask[t, b] = t < lengths[b]``.
    ``T`` is ``max_len``, by default the longest length."""
    lengths = _as_list(lengths)
    steps = max(lengths, default=0) if max_len is None else max_len
    rows = [[t < length for length in lengths] for t in range(steps)]
    return _creation.tensor(rows, dtype=bool_).reshape(steps, len(lengths))


def select_last_steps(x: Tensor, lengths: Lengths) -> Tensor:
    """``out[b] = x[lengths[b] - 1, b]``: each sequence's last real step, shape ``(B, *)``."""
    steps, batch = _check_batch(x, lengths)
    rows = _creation.tensor([(length - 1) * batch + b for b, length in enumerate(_as_list(lengths))], dtype=int64)
    return x.reshape(steps * batch, -1).index_select(0, rows).reshape(batch, *x.shape[2:])


def lstm_padded(lstm: Any, x: Tensor, lengths: Lengths,
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """Run an ``nn.LSTM`` module over a padded batch: ``(output, h_n)``.

    ``x`` is ``(T, B, I)`` (``(B, T, I)`` if the module is ``batch_first``), ``output`` is laid
    out likewise with ``num_directions * hidden_size`` features, zero at padding steps, and
    ``h_n`` is ``(num_layers * num_directions, B, H)``: each sequence's final state, as torch's.
    It is ``pack_padded_sequence``, the module, and ``pad_packed_sequence``.
    """
    packed = pack_padded_sequence(x, lengths, lstm.batch_first, enforce_sorted=False)
    output, (h_n, _) = lstm(packed, hx)
    padded, _ = pad_packed_sequence(output, lstm.batch_first, total_length=x.shape[1 if lstm.batch_first else 0])
    return padded, h_n


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

