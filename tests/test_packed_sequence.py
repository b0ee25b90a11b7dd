"""``minigrad.nn.utils.rnn``'s packed and padded sequences against torch 2.13.0's
``torch.nn.utils.rnn``: ``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``,
``pad_sequence``, ``pack_sequence``, ``unpack_sequence``, ``unpad_sequence`` (values, gradients
through packing and unpacking, torch's errors), and ``nn.RNN``/``nn.GRU``/``nn.LSTM`` on packed
input: the packed output, ``h_n`` (each sequence's last real step, in the caller's order) and
every gradient.
"""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest
from conftest import assert_same

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn.utils import rnn as mrnn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
trnn = torch.nn.utils.rnn

RTOL, ATOL = 1e-4, 1e-5  # as test_nn_lstm.py


def _pair(shape: tuple, rng: random.Random, requires_grad: bool = True):
    n = 1
    for s in shape:
        n *= s
    values = [rng.uniform(-1.5, 1.5) for _ in range(n)]
    t = torch.tensor(values).reshape(shape).requires_grad_(requires_grad)
    m = mg.tensor(values).reshape(*shape)
    return t, (m.detach().requires_grad_() if requires_grad else m)


def _weights(shape, rng):
    w = [rng.uniform(-1, 1) for _ in range(int(torch.Size(shape).numel()))]
    return torch.tensor(w).reshape(shape), mg.tensor(w).reshape(*shape)


def _backward(t_outs, m_outs, rng):
    t_loss, m_loss = 0.0, 0.0
    for t, m in zip(t_outs, m_outs):
        t_w, m_w = _weights(tuple(t.shape), rng)
        t_loss, m_loss = t_loss + (t * t_w).sum(), m_loss + (m * m_w).sum()
    t_loss.backward()
    m_loss.backward()


def _same_packed(m, t) -> None:
    assert isinstance(m, mrnn.PackedSequence)
    assert_same(m.data, t.data, rtol=RTOL, atol=ATOL)
    assert_same(m.batch_sizes, t.batch_sizes)
    for m_idx, t_idx in ((m.sorted_indices, t.sorted_indices), (m.unsorted_indices, t.unsorted_indices)):
        assert (m_idx is None) == (t_idx is None)
        if t_idx is not None:
            assert_same(m_idx, t_idx)


LENGTH_CASES = [
    ([4, 3, 1], True),
    ([4, 4, 2, 2, 1], True),
    ([2, 4, 1, 3], False),
    ([1, 3, 3, 2, 3], False),  # ties
    ([4], True),
    ([2, 2, 2], True),
]


@pytest.mark.parametrize("case", range(len(LENGTH_CASES)))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_then_pad_matches_torch_with_gradients(case, batch_first, as_tensor):
    lengths, enforce_sorted = LENGTH_CASES[case]
    rng = random.Random(case)
    steps, batch = max(lengths) + 1, len(lengths)
    t_x, m_x = _pair((batch, steps, 2) if batch_first else (steps, batch, 2), rng)
    t_len = torch.tensor(lengths) if as_tensor else lengths
    m_len = mg.tensor(lengths) if as_tensor else lengths
    t_packed = trnn.pack_padded_sequence(t_x, t_len, batch_first=batch_first, enforce_sorted=enforce_sorted)
    m_packed = mrnn.pack_padded_sequence(m_x, m_len, batch_first=batch_first, enforce_sorted=enforce_sorted)
    _same_packed(m_packed, t_packed)
    for total_length, padding_value in ((None, 0.0), (steps + 2, -3.5)):
        t_pad, t_lengths = trnn.pad_packed_sequence(t_packed, batch_first, padding_value, total_length)
        m_pad, m_lengths = mrnn.pad_packed_sequence(m_packed, batch_first, padding_value, total_length)
        assert_same(m_pad, t_pad)
        assert_same(m_lengths, t_lengths)
    _backward([t_packed.data, t_pad], [m_packed.data, m_pad], rng)
    assert_same(m_x.grad, t_x.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch_with_gradients(batch_first, padding_side):
    rng = random.Random(1)
    pairs = [_pair((n, 2, 3), rng) for n in (2, 5, 1)]
    t_out = trnn.pad_sequence([t for t, _ in pairs], batch_first, -1.0, padding_side)
    m_out = mrnn.pad_sequence([m for _, m in pairs], batch_first, -1.0, padding_side)
    assert_same(m_out, t_out)
    _backward([t_out], [m_out], rng)
    for t, m in pairs:
        assert_same(m.grad, t.grad)


def test_pad_sequence_takes_a_tensor_as_a_sequence_of_rows_and_broadcasts_like_torch():
    rng = random.Random(2)
    t_x, m_x = _pair((3, 2, 4), rng)
    assert_same(mrnn.pad_sequence(m_x), trnn.pad_sequence(t_x))
    t_seqs = [torch.zeros(2, 2), torch.ones(3, 1)]  # torch copies the second into a (3, 2) slot
    m_seqs = [mg.zeros(2, 2), mg.ones(3, 1)]
    assert_same(mrnn.pad_sequence(m_seqs), trnn.pad_sequence(t_seqs))


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_sequence_match_torch(enforce_sorted):
    rng = random.Random(3)
    sizes = (4, 3, 3, 1) if enforce_sorted else (2, 4, 1, 3)
    pairs = [_pair((n, 2), rng) for n in sizes]
    t_packed = trnn.pack_sequence([t for t, _ in pairs], enforce_sorted)
    m_packed = mrnn.pack_sequence([m for _, m in pairs], enforce_sorted)
    _same_packed(m_packed, t_packed)
    t_seqs, m_seqs = trnn.unpack_sequence(t_packed), mrnn.unpack_sequence(m_packed)
    assert len(m_seqs) == len(t_seqs)
    for m, t in zip(m_seqs, t_seqs):
        assert_same(m, t)
    _backward(t_seqs, m_seqs, rng)
    for t, m in pairs:
        assert_same(m.grad, t.grad)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(batch_first):
    rng = random.Random(4)
    t_x, m_x = _pair((3, 4, 2) if batch_first else (4, 3, 2), rng)
    lengths = [4, 1, 3]
    t_seqs = trnn.unpad_sequence(t_x.detach().clone(), torch.tensor(lengths), batch_first)
    m_seqs = mrnn.unpad_sequence(m_x, mg.tensor(lengths), batch_first)
    for m, t in zip(m_seqs, t_seqs):
        assert_same(m, t)
    assert tuple(m_x.shape) == tuple(t_x.shape)  # minigrad leaves its argument as it is


def test_packed_sequence_is_a_namedtuple_as_torch():
    data, sizes, order = mg.tensor([[1.0], [2.0], [3.0]]), mg.tensor([2, 1]), mg.tensor([1, 0])
    packed = mrnn.PackedSequence(data, sizes, order)
    assert packed._fields == trnn.PackedSequence._fields
    assert packed.unsorted_indices.tolist() == [1, 0]
    data_, sizes_, sorted_, unsorted_ = packed
    assert data_ is data and sizes_ is sizes and sorted_ is order
    assert mrnn.PackedSequence((data, sizes)).sorted_indices is None
    assert packed.to(mg.float32) is packed
    as_double = packed.double()
    assert as_double.data.dtype is mg.float64 and as_double.batch_sizes is sizes
    assert as_double.unsorted_indices is packed.unsorted_indices
    assert mrnn.invert_permutation(mg.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert mrnn.invert_permutation(None) is None
    with pytest.raises(AssertionError, match="Expected data to be a list or tuple of length 2"):
        mrnn.PackedSequence(data)


# -- torch's errors ------------------------------------------------------------------------------------


def _raises_like_torch(t_call, m_call) -> None:
    with pytest.raises(Exception) as t_info:
        t_call()
    with pytest.raises(type(t_info.value)) as m_info:
        m_call()
    assert str(m_info.value) == str(t_info.value)


@pytest.mark.parametrize(
    "lengths, kwargs",
    [
        ([3, 4, 1], {}),  # not sorted
        ([4, 3, 0], {}),  # an empty sequence
        ([4, 3, -1], {"enforce_sorted": False}),
        ([4, 3], {}),  # one length too few
        ([4, 3, 1], {"batch_first": True}),  # the batch is 4 long then
        ("2d", {}),
    ],
)
def test_pack_padded_sequence_errors_match_torch(lengths, kwargs):
    def call(lib, rnn_utils):
        lens = lib.tensor([[4, 3, 1]]) if lengths == "2d" else lengths
        return lambda: rnn_utils.pack_padded_sequence(lib.zeros(4, 3, 2), lens, **kwargs)

    _raises_like_torch(call(torch, trnn), call(mg, mrnn))


def test_pack_padded_sequence_refuses_lengths_beyond_the_batch():
    """torch reads past the end of the padded tensor here; minigrad refuses."""
    with pytest.raises(RuntimeError, match=r"a length \(5\) exceeds the 4 steps"):
        mrnn.pack_padded_sequence(mg.zeros(4, 3, 2), [5, 3, 1])


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, u: u.pad_packed_sequence(u.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 3, 1]), total_length=3),
        lambda lib, u: u.pad_sequence([]),
        lambda lib, u: u.pad_sequence(3),
        lambda lib, u: u.pad_sequence([lib.tensor(1.0), lib.tensor(2.0)]),
        lambda lib, u: u.pack_padded_sequence(lib.zeros(4), [4]),
        lambda lib, u: u.pack_padded_sequence(lib.zeros(0, 2, 3), [1, 1]),
        lambda lib, u: u.pad_sequence([lib.zeros(2, 3), lib.zeros(3, 2)]),
        lambda lib, u: u.pad_sequence([lib.zeros(2, 3), lib.zeros(3, 3)], padding_side="up"),
        lambda lib, u: u.pack_sequence([lib.zeros(2, 3), lib.zeros(3, 3)]),
    ],
)
def test_padding_errors_match_torch(call):
    _raises_like_torch(lambda: call(torch, trnn), lambda: call(mg, mrnn))


# -- recurrent modules on packed input -----------------------------------------------------------------


def _copy_weights(t_module, m_module) -> None:
    m_module.load_state_dict(OrderedDict((k, mg.tensor(v.tolist())) for k, v in t_module.state_dict().items()))


def _flatten(h) -> list:
    return list(h) if isinstance(h, tuple) else [h]


MODULE_CASES = [
    # (mode, constructor kwargs, lengths, enforce_sorted, with hx)
    ("GRU", {}, [5, 3, 3, 1], True, False),
    ("GRU", {"num_layers": 2, "bidirectional": True}, [2, 5, 1, 3], False, True),
    ("GRU", {"batch_first": True, "bias": False}, [4, 2, 4], False, False),
    ("RNN", {"bidirectional": True}, [4, 4, 2], True, True),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, [1, 4, 3, 3], False, False),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, [3, 1, 5, 2], False, True),
    ("LSTM", {"batch_first": True}, [5, 4, 2, 1], True, True),
    ("LSTM", {}, [3], True, False),
    ("LSTM", {"proj_size": 2, "bidirectional": True}, [2, 4, 4, 1], False, True),
]


@pytest.mark.parametrize("case", range(len(MODULE_CASES)))
def test_module_on_packed_input_matches_torch(case):
    mode, kwargs, lengths, enforce_sorted, with_hx = MODULE_CASES[case]
    rng = random.Random(case)
    torch.manual_seed(case)
    t_mod, m_mod = getattr(torch.nn, mode)(3, 4, **kwargs), getattr(nn, mode)(3, 4, **kwargs)
    _copy_weights(t_mod, m_mod)
    batch_first = kwargs.get("batch_first", False)
    steps, batch = max(lengths), len(lengths)
    t_x, m_x = _pair((batch, steps, 3) if batch_first else (steps, batch, 3), rng)
    t_packed = trnn.pack_padded_sequence(t_x, lengths, batch_first, enforce_sorted)
    m_packed = mrnn.pack_padded_sequence(m_x, lengths, batch_first, enforce_sorted)
    pairs = [(t_x, m_x)]
    args_t, args_m = [t_packed], [m_packed]
    if with_hx:
        states = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        h_size = kwargs.get("proj_size", 4)
        hx = [_pair((states, batch, size), rng) for size in ((h_size, 4) if mode == "LSTM" else (4,))]
        pairs += hx
        args_t.append(tuple(t for t, _ in hx) if mode == "LSTM" else hx[0][0])
        args_m.append(tuple(m for _, m in hx) if mode == "LSTM" else hx[0][1])
    t_out, t_h = t_mod(*args_t)
    m_out, m_h = m_mod(*args_m)
    _same_packed(m_out, t_out)
    assert isinstance(m_h, tuple) == isinstance(t_h, tuple)
    for m, t in zip(_flatten(m_h), _flatten(t_h)):
        assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_pad, _ = trnn.pad_packed_sequence(t_out, batch_first)
    m_pad, _ = mrnn.pad_packed_sequence(m_out, batch_first)
    assert_same(m_pad, t_pad, rtol=RTOL, atol=ATOL)
    _backward([t_pad, *_flatten(t_h)], [m_pad, *_flatten(m_h)], rng)
    for (_, t_p), (_, m_p) in zip(t_mod.named_parameters(), m_mod.named_parameters()):
        assert_same(m_p.grad, t_p.grad, rtol=RTOL, atol=ATOL)
    for t, m in pairs:
        assert_same(m.grad, t.grad, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_packed_run_equals_each_sequence_alone(mode):
    """h_n of a packed batch is, for each sequence, the module's h_n on that sequence alone."""
    mg.manual_seed(6)
    module = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True)
    sequences = [mg.randn(n, 3) for n in (2, 5, 1, 3)]
    out, h_n = module(mrnn.pack_sequence(sequences, enforce_sorted=False))
    outputs = mrnn.unpack_sequence(out)
    for b, seq in enumerate(sequences):
        alone_out, alone_h = module(seq.unsqueeze(1))
        assert outputs[b].tolist() == alone_out.squeeze(1).tolist()
        for packed_state, state in zip(_flatten(h_n), _flatten(alone_h)):
            assert packed_state[:, b].tolist() == state[:, 0].tolist()


def test_packed_input_errors_match_torch():
    t_packed = trnn.pack_padded_sequence(torch.zeros(4, 3, 2), [4, 3, 1])
    m_packed = mrnn.pack_padded_sequence(mg.zeros(4, 3, 2), [4, 3, 1])
    _raises_like_torch(lambda: torch.nn.GRU(3, 4)(t_packed), lambda: nn.GRU(3, 4)(m_packed))
    _raises_like_torch(lambda: torch.nn.GRU(2, 4)(t_packed, torch.zeros(1, 2, 4)),
                       lambda: nn.GRU(2, 4)(m_packed, mg.zeros(1, 2, 4)))


def test_packed_sequence_prints_as_torch():
    t_packed = trnn.pack_sequence([torch.tensor([[1.5], [2.0]]), torch.tensor([[-3.0]])])
    m_packed = mrnn.pack_sequence([mg.tensor([[1.5], [2.0]]), mg.tensor([[-3.0]])])
    assert repr(m_packed) == repr(t_packed)


def test_unpad_sequence_with_too_few_lengths_raises_as_torch():
    _raises_like_torch(lambda: trnn.unpad_sequence(torch.zeros(3, 4, 2), torch.tensor([4, 1]), batch_first=True),
                       lambda: mrnn.unpad_sequence(mg.zeros(3, 4, 2), mg.tensor([4, 1]), batch_first=True))
