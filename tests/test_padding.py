"""Padded batches of sequences: padding changes neither the outputs at real steps (in both
directions of a bidirectional LSTM) nor the loss and its gradients.

References: the same sentences run one at a time through the same minigrad LSTM, hand-written
index tables, and torch 2.13.0's pack_padded_sequence + nn.LSTM."""

import random
from types import SimpleNamespace

import pytest

import minigrad as mg
from minigrad._functions.rnn import lstm_layer
from minigrad._functions.softmax_loss import nll_loss
from minigrad.nn.utils.rnn import (
    lstm_layer_padded,
    lstm_padded,
    pad_sequence,
    reverse_padded_sequence,
    select_last_steps,
    sequence_mask,
)

LENGTHS = [5, 2, 3, 1]
INPUT, HIDDEN = 3, 4


def rand(rng, *shape, dtype=mg.float64):
    n = 1
    for size in shape:
        n *= size
    return mg.tensor([rng.uniform(-1, 1) for _ in range(n)], dtype=dtype).reshape(*shape)


def layer_weights(rng, dtype=mg.float64):
    """(w_ih, w_hh, b_ih, b_hh) leaves requiring grad."""
    shapes = [(4 * HIDDEN, INPUT), (4 * HIDDEN, HIDDEN), (4 * HIDDEN,), (4 * HIDDEN,)]
    return [rand(rng, *shape, dtype=dtype).requires_grad_() for shape in shapes]


def padded_batch(sentences, filler):
    """(T, B, I) batch of (L, I) sentences, padding steps filled with ``filler``."""
    steps = max(len(s) for s in sentences)
    rows = []
    for t in range(steps):
        rows.append([s[t].tolist() if t < len(s) else [filler] * INPUT for s in sentences])
    return mg.tensor(rows, dtype=sentences[0].dtype)


def flat(nested):
    return [v for row in nested for v in row]


# -- index helpers, by hand ----------------------------------------------------------------------


def test_sequence_mask_by_hand():
    assert sequence_mask([3, 1, 2]).tolist() == [[True, True, True], [True, False, True], [True, False, False]]
    assert sequence_mask(mg.tensor([1, 2]), max_len=3).tolist() == [[True, True], [False, True], [False, False]]


def test_reverse_within_length_by_hand():
    # column b holds 10*b + t at step t; lengths 3, 1, 2
    x = mg.tensor([[[10.0 * b + t] for b in range(3)] for t in range(3)])
    out = reverse_padded_sequence(x, [3, 1, 2]).reshape(3, 3).tolist()
    assert out == [[2.0, 10.0, 21.0],
                   [1.0, 11.0, 20.0],
                   [0.0, 12.0, 22.0]]
    assert reverse_padded_sequence(reverse_padded_sequence(x, [3, 1, 2]), [3, 1, 2]).tolist() == x.tolist()


def test_select_last_steps_by_hand():
    x = mg.tensor([[[10.0 * b + t, -1.0] for b in range(3)] for t in range(4)])
    assert select_last_steps(x, [4, 1, 2]).tolist() == [[3.0, -1.0], [10.0, -1.0], [21.0, -1.0]]


def test_pad_sequence_matches_torch():
    torch = pytest.importorskip("torch")
    rng = random.Random(0)
    values = [[rng.uniform(-1, 1) for _ in range(length * 2)] for length in (3, 1, 2)]
    for batch_first in (False, True):
        m_seqs = [mg.tensor(v, requires_grad=True) for v in values]
        t_seqs = [torch.tensor(v, requires_grad=True) for v in values]
        m_out = pad_sequence([s.reshape(-1, 2) for s in m_seqs], batch_first, padding_value=-7.0)
        t_out = torch.nn.utils.rnn.pad_sequence([s.reshape(-1, 2) for s in t_seqs], batch_first, padding_value=-7.0)
        assert m_out.tolist() == t_out.tolist()
        weights = [rng.uniform(-1, 1) for _ in range(t_out.numel())]
        (m_out * mg.tensor(weights).reshape(m_out.shape)).sum().backward()
        (t_out * torch.tensor(weights).reshape(t_out.shape)).sum().backward()
        for m, t in zip(m_seqs, t_seqs):
            assert m.grad.tolist() == pytest.approx(t.grad.tolist(), abs=1e-7)


# -- the LSTM over a padded batch == one sentence at a time --------------------------------------


@pytest.mark.parametrize("reverse", [False, True], ids=["left-to-right", "right-to-left"])
def test_lstm_layer_on_a_padded_batch_equals_one_sentence_at_a_time(reverse):
    rng = random.Random(1)
    weights = layer_weights(rng)
    sentences = [rand(rng, length, INPUT) for length in LENGTHS]
    out_weights = [rand(rng, length, HIDDEN) for length in LENGTHS]  # the loss is sum(out * w)
    h_weights = [rand(rng, HIDDEN) for _ in LENGTHS]

    # one at a time: the plain layer on a batch of one
    expected_out, expected_h, expected_grads = [], [], [mg.zeros(w.shape, dtype=w.dtype) for w in weights]
    for sentence, w_out, w_h in zip(sentences, out_weights, h_weights):
        zeros = mg.zeros(1, HIDDEN, dtype=mg.float64)
        out, h_n, _ = lstm_layer(sentence.unsqueeze(1), zeros, zeros, *weights, reverse=reverse)
        ((out.squeeze(1) * w_out).sum() + (h_n.squeeze(0) * w_h).sum()).backward()
        expected_out.append(out.squeeze(1).tolist())
        expected_h.append(h_n.squeeze(0).tolist())
        for total, weight in zip(expected_grads, weights):
            total.add_(weight.grad)
            weight.grad = None

    for filler in (0.0, 1e3):  # what sits in the padding must not matter
        x = padded_batch(sentences, filler)
        zeros = mg.zeros(len(LENGTHS), HIDDEN, dtype=mg.float64)
        out, h_n = lstm_layer_padded(x, LENGTHS, zeros, zeros, *weights, reverse=reverse)
        w_out = pad_sequence(out_weights, padding_value=5.0)  # nonzero on padding: its outputs must be 0
        ((out * w_out).sum() + (h_n * mg.stack(h_weights)).sum()).backward()
        for b, length in enumerate(LENGTHS):
            column = out[:, b].tolist()
            assert flat(column[:length]) == pytest.approx(flat(expected_out[b]), abs=1e-12)
            assert column[length:] == [[0.0] * HIDDEN] * (len(column) - length)
            assert h_n[b].tolist() == pytest.approx(expected_h[b], abs=1e-12)
        for weight, expected in zip(weights, expected_grads):
            assert weight.grad.reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), abs=1e-12)
            weight.grad = None


def test_loss_with_ignore_index_on_a_padded_batch_equals_one_sentence_at_a_time():
    """Token-averaged cross-entropy over a bidirectional layer: padded targets are
    ``ignore_index``; the batch loss is the token-weighted mean of the per-sentence losses."""
    rng = random.Random(2)
    forward, backward = layer_weights(rng), layer_weights(rng)
    classes = 3
    project = rand(rng, 2 * HIDDEN, classes).requires_grad_()
    sentences = [rand(rng, length, INPUT) for length in LENGTHS]
    targets = [[rng.randrange(classes) for _ in range(length)] for length in LENGTHS]
    params = [*forward, *backward, project]

    def scores(x, lengths):
        zeros = mg.zeros(len(lengths), HIDDEN, dtype=mg.float64)
        out_f, _ = lstm_layer_padded(x, lengths, zeros, zeros, *forward)
        out_b, _ = lstm_layer_padded(x, lengths, zeros, zeros, *backward, reverse=True)
        return mg.cat([out_f, out_b], 2) @ project

    total = 0.0
    expected_grads = [mg.zeros(p.shape, dtype=p.dtype) for p in params]
    n_tokens = sum(LENGTHS)
    for sentence, target in zip(sentences, targets):
        logits = scores(sentence.unsqueeze(1), [len(target)]).squeeze(1)
        loss = nll_loss(logits.log_softmax(1), mg.tensor(target), reduction="sum") / n_tokens
        loss.backward()
        total += loss.item()
        for acc, p in zip(expected_grads, params):
            acc.add_(p.grad)
            p.grad = None

    steps = max(LENGTHS)
    padded_targets = mg.tensor([[t[i] if i < len(t) else -100 for t in targets] for i in range(steps)])
    logits = scores(padded_batch(sentences, 3.0), LENGTHS)
    loss = nll_loss(logits.reshape(-1, classes).log_softmax(1), padded_targets.reshape(-1), ignore_index=-100)
    loss.backward()
    assert loss.item() == pytest.approx(total, abs=1e-12)
    for p, expected in zip(params, expected_grads):
        assert p.grad.reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), abs=1e-12)


def test_stacked_bidirectional_lstm_matches_torch_packed_sequence():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    params = {name: mg.tensor(p.detach().tolist()) for name, p in reference.named_parameters()}
    module = SimpleNamespace(num_layers=2, bidirectional=True, hidden_size=HIDDEN, bias=True, batch_first=False,
                             dropout=0.0, training=False, **params)
    rng = random.Random(3)
    sentences = [rand(rng, length, INPUT, dtype=mg.float32) for length in LENGTHS]
    x = padded_batch(sentences, 9.0)
    out, h_n = lstm_padded(module, x, LENGTHS)

    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x.tolist()), LENGTHS, enforce_sorted=False)
    t_packed, (t_h, _) = reference(packed)
    t_out, _ = torch.nn.utils.rnn.pad_packed_sequence(t_packed)
    assert tuple(out.shape) == tuple(t_out.shape) == (max(LENGTHS), len(LENGTHS), 2 * HIDDEN)
    assert tuple(h_n.shape) == tuple(t_h.shape)
    torch.testing.assert_close(torch.tensor(out.tolist()), t_out.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.tensor(h_n.tolist()), t_h.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("lengths", "error", "message"), [
    ([3, 0, 1], RuntimeError, "Length of all samples has to be greater than 0"),
    ([3, 1], ValueError, "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)"),
    ([4, 1, 1], RuntimeError, "exceeds the 3 time steps"),
])
def test_bad_lengths_are_rejected(lengths, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("`", "`")):
        reverse_padded_sequence(mg.zeros(3, 3, 2), lengths)


def test_pad_sequence_rejects_mismatched_trailing_shapes():
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match=r"every sequence must have shape \(L, 2\)"):
        pad_sequence([mg.zeros(2, 2), mg.zeros(2, 3)])
