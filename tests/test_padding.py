"""Padded batches of sequences through ``lstm_padded``: padding changes neither the outputs at
real steps (in both directions of a bidirectional LSTM) nor the loss and its gradients.

References: the same sentences run one at a time through the same minigrad LSTM, hand-written
index tables, and torch 2.13.0's pack_padded_sequence + nn.LSTM."""

import random
from collections import OrderedDict

import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad._functions.softmax_loss import nll_loss
from minigrad.nn.utils.rnn import lstm_padded, pad_sequence, select_last_steps, sequence_mask

LENGTHS = [5, 2, 3, 1]
INPUT, HIDDEN = 3, 4


def rand(rng, *shape, dtype=mg.float64):
    n = 1
    for size in shape:
        n *= size
    return mg.tensor([rng.uniform(-1, 1) for _ in range(n)], dtype=dtype).reshape(*shape)


def bidirectional_lstm(seed: int, layers: int = 1, dtype=mg.float64) -> nn.LSTM:
    mg.manual_seed(seed)
    return nn.LSTM(INPUT, HIDDEN, num_layers=layers, bidirectional=True, dtype=dtype)


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


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_on_a_padded_batch_equals_one_sentence_at_a_time(layers):
    rng = random.Random(1)
    lstm = bidirectional_lstm(1, layers)
    sentences = [rand(rng, length, INPUT) for length in LENGTHS]
    out_weights = [rand(rng, length, 2 * HIDDEN) for length in LENGTHS]  # the loss is sum(out * w)
    h_weights = [rand(rng, 2 * layers, HIDDEN) for _ in LENGTHS]

    # one at a time: the module on a batch of one
    expected_out, expected_h = [], []
    expected_grads = [mg.zeros(w.shape, dtype=w.dtype) for w in lstm.parameters()]
    for sentence, w_out, w_h in zip(sentences, out_weights, h_weights):
        out, (h_n, _) = lstm(sentence.unsqueeze(1))
        ((out.squeeze(1) * w_out).sum() + (h_n.squeeze(1) * w_h).sum()).backward()
        expected_out.append(out.squeeze(1).tolist())
        expected_h.append(h_n.squeeze(1).tolist())
        for total, weight in zip(expected_grads, lstm.parameters()):
            total.add_(weight.grad)
            weight.grad = None

    for filler in (0.0, 1e3):  # what sits in the padding must not matter
        x = padded_batch(sentences, filler)
        out, h_n = lstm_padded(lstm, x, LENGTHS)
        w_out = pad_sequence(out_weights, padding_value=5.0)  # nonzero on padding: its outputs must be 0
        ((out * w_out).sum() + (h_n * mg.stack(h_weights, 1)).sum()).backward()
        for b, length in enumerate(LENGTHS):
            column = out[:, b].tolist()
            assert flat(column[:length]) == pytest.approx(flat(expected_out[b]), abs=1e-12)
            assert column[length:] == [[0.0] * 2 * HIDDEN] * (len(column) - length)
            assert flat(h_n[:, b].tolist()) == pytest.approx(flat(expected_h[b]), abs=1e-12)
        for weight, expected in zip(lstm.parameters(), expected_grads):
            assert weight.grad.reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), abs=1e-12)
            weight.grad = None


def test_loss_with_ignore_index_on_a_padded_batch_equals_one_sentence_at_a_time():
    """Token-averaged cross-entropy over a bidirectional LSTM: padded targets are
    ``ignore_index``; the batch loss is the token-weighted mean of the per-sentence losses."""
    rng = random.Random(2)
    lstm = bidirectional_lstm(2)
    classes = 3
    project = rand(rng, 2 * HIDDEN, classes).requires_grad_()
    sentences = [rand(rng, length, INPUT) for length in LENGTHS]
    targets = [[rng.randrange(classes) for _ in range(length)] for length in LENGTHS]
    params = [*lstm.parameters(), project]

    def scores(x, lengths):
        return lstm_padded(lstm, x, lengths)[0] @ project

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


@pytest.mark.parametrize("batch_first", [False, True])
def test_stacked_bidirectional_lstm_matches_torch_packed_sequence(batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True, batch_first=batch_first)
    module = nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True, batch_first=batch_first)
    module.load_state_dict(OrderedDict((k, mg.tensor(v.tolist())) for k, v in reference.state_dict().items()))
    rng = random.Random(3)
    sentences = [rand(rng, length, INPUT, dtype=mg.float32) for length in LENGTHS]
    x = padded_batch(sentences, 9.0)
    if batch_first:
        x = x.transpose(0, 1)
    out, h_n = lstm_padded(module, x, LENGTHS)

    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x.tolist()), LENGTHS, batch_first, False)
    t_packed, (t_h, _) = reference(packed)
    t_out, _ = torch.nn.utils.rnn.pad_packed_sequence(t_packed, batch_first)
    assert tuple(out.shape) == tuple(t_out.shape)
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
        select_last_steps(mg.zeros(3, 3, 2), lengths)


def test_pad_sequence_rejects_mismatched_trailing_shapes():
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-"):
        pad_sequence([mg.zeros(2, 2), mg.zeros(2, 3)])
