"""``nn.LSTM`` and ``nn.LSTMCell`` against torch 2.13.0: outputs, final states and every gradient.

Both libraries get identical weights (torch's, loaded through ``load_state_dict``) and identical
random inputs; the loss is a fixed random weighting of every output, so each output element
gets its own gradient.
"""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest
from conftest import assert_same

import minigrad as mg
import minigrad.nn as nn

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-4, 1e-5  # float32 through a few dozen steps of recurrence


@pytest.fixture(autouse=True)
def _seed_torch():
    """Reproducible torch weights (minigrad receives a copy of them)."""
    torch.manual_seed(0)


def _pair(shape: tuple, rng: random.Random, requires_grad: bool = True):
    values = [rng.uniform(-1.5, 1.5) for _ in range(int(torch.tensor(shape).prod()) if shape else 1)]
    t = torch.tensor(values, dtype=torch.float32).reshape(shape).requires_grad_(requires_grad)
    m = mg.tensor(values).reshape(*shape)
    if requires_grad:
        m = m.detach().requires_grad_()
    return t, m


def _copy_weights(t_module, m_module) -> None:
    converted = OrderedDict((k, mg.tensor(v.tolist())) for k, v in t_module.state_dict().items())
    m_module.load_state_dict(converted)


def _weighted_sum(outputs_t, outputs_m, rng):
    t_loss, m_loss = 0.0, 0.0
    for t, m in zip(outputs_t, outputs_m):
        w = [rng.uniform(-1, 1) for _ in range(t.numel())]
        t_loss = t_loss + (t * torch.tensor(w).reshape(t.shape)).sum()
        m_loss = m_loss + (m * mg.tensor(w).reshape(*m.shape)).sum()
    return t_loss, m_loss


def _check_grads(t_module, m_module, pairs) -> None:
    for (name, t_param), (m_name, m_param) in zip(t_module.named_parameters(), m_module.named_parameters()):
        assert name == m_name
        assert_same(m_param.grad, t_param.grad, rtol=RTOL, atol=ATOL)
    for t, m in pairs:
        assert_same(m.grad, t.grad, rtol=RTOL, atol=ATOL)


LSTM_CASES = [
    # (constructor kwargs, seq, batch, with hx)
    ({}, 5, 1, True),
    ({}, 5, 1, False),
    ({}, 4, 3, True),
    ({"num_layers": 2}, 6, 2, True),
    ({"num_layers": 3}, 3, 1, False),
    ({"bidirectional": True}, 5, 1, True),
    ({"bidirectional": True}, 4, 3, False),
    ({"num_layers": 2, "bidirectional": True}, 5, 2, True),
    ({"bias": False}, 4, 2, True),
    ({"batch_first": True}, 4, 3, True),
    ({"batch_first": True, "num_layers": 2, "bidirectional": True}, 3, 2, False),
]


@pytest.mark.parametrize("case", range(len(LSTM_CASES)))
def test_lstm_matches_torch(case):
    kwargs, seq, batch, with_hx = LSTM_CASES[case]
    rng = random.Random(case)
    torch.manual_seed(case)
    input_size, hidden_size = 3, 4
    t_lstm = torch.nn.LSTM(input_size, hidden_size, **kwargs)
    m_lstm = nn.LSTM(input_size, hidden_size, **kwargs)
    _copy_weights(t_lstm, m_lstm)
    x_shape = (batch, seq, input_size) if kwargs.get("batch_first") else (seq, batch, input_size)
    t_x, m_x = _pair(x_shape, rng)
    pairs = [(t_x, m_x)]
    states = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    if with_hx:
        t_h, m_h = _pair((states, batch, hidden_size), rng)
        t_c, m_c = _pair((states, batch, hidden_size), rng)
        pairs += [(t_h, m_h), (t_c, m_c)]
        t_out, (t_hn, t_cn) = t_lstm(t_x, (t_h, t_c))
        m_out, (m_hn, m_cn) = m_lstm(m_x, (m_h, m_c))
    else:
        t_out, (t_hn, t_cn) = t_lstm(t_x)
        m_out, (m_hn, m_cn) = m_lstm(m_x)
    for m, t in [(m_out, t_out), (m_hn, t_hn), (m_cn, t_cn)]:
        assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum([t_out, t_hn, t_cn], [m_out, m_hn, m_cn], rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_lstm, m_lstm, pairs)


def test_lstm_hx_by_keyword_and_unbatched_input():
    rng = random.Random(3)
    t_lstm, m_lstm = torch.nn.LSTM(2, 3, num_layers=2), nn.LSTM(2, 3, num_layers=2)
    _copy_weights(t_lstm, m_lstm)
    t_x, m_x = _pair((4, 2), rng)
    t_h, m_h = _pair((2, 3), rng)
    t_c, m_c = _pair((2, 3), rng)
    t_out, (t_hn, t_cn) = t_lstm(t_x, hx=(t_h, t_c))
    m_out, (m_hn, m_cn) = m_lstm(m_x, hx=(m_h, m_c))
    for m, t in [(m_out, t_out), (m_hn, t_hn), (m_cn, t_cn)]:
        assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum([t_out, t_cn], [m_out, m_cn], rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_lstm, m_lstm, [(t_x, m_x), (t_h, m_h), (t_c, m_c)])


def test_lstm_returns_output_and_a_state_tuple():
    out, hidden = nn.LSTM(3, 3)(mg.randn(5, 1, 3))
    assert isinstance(hidden, tuple) and len(hidden) == 2
    # the last step of the output is the final hidden state
    assert out[-1].tolist() == hidden[0][0].tolist()


def test_lstm_stepwise_equals_whole_sequence():
    """Feeding the state back step by step (the tutorial's first loop) gives the same result."""
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 3)
    inputs = mg.randn(5, 1, 3)
    hidden = (mg.randn(1, 1, 3), mg.randn(1, 1, 3))
    out_all, (h_all, c_all) = lstm(inputs, hidden)
    state = hidden
    for t in range(5):
        out, state = lstm(inputs[t].view(1, 1, -1), state)
        assert out.tolist() == out_all[t : t + 1].tolist()
    assert state[0].tolist() == h_all.tolist() and state[1].tolist() == c_all.tolist()


def test_lstm_dropout_between_layers_in_training_only():
    # dropout=1 zeroes the second layer's input: torch gives the same output, deterministically
    t_lstm = torch.nn.LSTM(3, 4, num_layers=2, dropout=1.0)
    m_lstm = nn.LSTM(3, 4, num_layers=2, dropout=1.0)
    _copy_weights(t_lstm, m_lstm)
    rng = random.Random(5)
    t_x, m_x = _pair((4, 2, 3), rng, requires_grad=False)
    assert_same(m_lstm(m_x)[0], t_lstm(t_x)[0], rtol=RTOL, atol=ATOL)
    t_lstm.eval()
    m_lstm.eval()
    assert_same(m_lstm(m_x)[0], t_lstm(t_x)[0], rtol=RTOL, atol=ATOL)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("bias, batched, with_hx", [(True, True, True), (False, True, False), (True, False, True)])
def test_lstm_cell_matches_torch(bias, batched, with_hx):
    rng = random.Random(int(bias) * 4 + int(batched) * 2 + int(with_hx))
    t_cell, m_cell = torch.nn.LSTMCell(3, 5, bias), nn.LSTMCell(3, 5, bias)
    _copy_weights(t_cell, m_cell)
    lead = (2,) if batched else ()
    t_x, m_x = _pair(lead + (3,), rng)
    pairs = [(t_x, m_x)]
    if with_hx:
        t_h, m_h = _pair(lead + (5,), rng)
        t_c, m_c = _pair(lead + (5,), rng)
        pairs += [(t_h, m_h), (t_c, m_c)]
        t_out, m_out = t_cell(t_x, (t_h, t_c)), m_cell(m_x, (m_h, m_c))
    else:
        t_out, m_out = t_cell(t_x), m_cell(m_x)
    assert isinstance(m_out, tuple) and len(m_out) == 2
    for m, t in zip(m_out, t_out):
        assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum(t_out, m_out, rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_cell, m_cell, pairs)


# -- bad input: torch's exception types and messages ------------------------------------------------


def _raises_like_torch(t_call, m_call) -> None:
    with pytest.raises(Exception) as t_info:
        t_call()
    with pytest.raises(type(t_info.value)) as m_info:
        m_call()
    assert str(m_info.value) == str(t_info.value)


@pytest.mark.parametrize(
    "x_shape, hx_shapes",
    [
        ((2, 3, 4, 3), None),  # 4-D input
        ((5, 1, 2), None),  # wrong input_size
        ((5, 2, 3), ((1, 1, 4), (1, 2, 4))),  # wrong batch in h0
        ((5, 2, 3), ((1, 2, 4), (1, 2, 5))),  # wrong hidden size in c0
        ((5, 2, 3), ((2, 4), (2, 4))),  # 2-D state for batched input
        ((5, 3), ((1, 1, 4), (1, 1, 4))),  # 3-D state for unbatched input
    ],
)
def test_lstm_errors_match_torch(x_shape, hx_shapes):
    t_lstm, m_lstm = torch.nn.LSTM(3, 4), nn.LSTM(3, 4)

    def call(lib, module):
        hx = None if hx_shapes is None else tuple(lib.zeros(*s) for s in hx_shapes)
        return lambda: module(lib.zeros(*x_shape), hx)

    _raises_like_torch(call(torch, t_lstm), call(mg, m_lstm))


def test_lstm_rejects_float64_input_for_float32_weights():
    with pytest.raises(ValueError, match=r"RNN input dtype \(minigrad.float64\) does not match weight dtype"):
        nn.LSTM(3, 4)(mg.zeros(2, 1, 3, dtype=mg.float64))


@pytest.mark.parametrize(
    "x_shape, hx_shapes",
    [((2, 3, 3), None), ((2, 4), None), ((2, 3), ((1, 5), (1, 5))), ((2, 3), ((2, 5), (2, 6)))],
)
def test_lstm_cell_errors_match_torch(x_shape, hx_shapes):
    t_cell, m_cell = torch.nn.LSTMCell(3, 5), nn.LSTMCell(3, 5)

    def call(lib, module):
        hx = None if hx_shapes is None else tuple(lib.zeros(*s) for s in hx_shapes)
        return lambda: module(lib.zeros(*x_shape), hx)

    _raises_like_torch(call(torch, t_cell), call(mg, m_cell))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dropout": 1.5},
        {"dropout": True},
        {"bias": 1},
        {"batch_first": "yes"},
        {"num_layers": 0},
        {"hidden_size": 0},
        {"input_size": 2.0},
    ],
)
def test_lstm_constructor_errors_match_torch(kwargs):
    args = {"input_size": 3, "hidden_size": 4}
    args.update(kwargs)
    _raises_like_torch(lambda: torch.nn.LSTM(**args), lambda: nn.LSTM(**args))
