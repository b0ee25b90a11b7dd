"""Default initialisation and ``nn.init``: after ``manual_seed`` the weights are torch's, bit for bit.

Each test builds the same module (or runs the same init function) after the same seed in both
libraries and requires every float32 to be identical, and then requires the next random
number to be identical too, which shows the same number of words was drawn.
"""

from __future__ import annotations

import math
import struct

import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.nn import init


def _bits(values: list[float]) -> list[str]:
    return [struct.pack(">f", v).hex() for v in values]


def _flat(t) -> list[float]:
    return t.detach().reshape(-1).tolist()


def _assert_same_parameters(m_module, t_module) -> None:
    m_named = list(m_module.named_parameters())
    t_named = list(t_module.named_parameters())
    assert [name for name, _ in m_named] == [name for name, _ in t_named]
    for (name, m_param), (_, t_param) in zip(m_named, t_named):
        assert tuple(m_param.shape) == tuple(t_param.shape), name
        assert _bits(_flat(m_param)) == _bits(_flat(t_param)), name


def _assert_same_stream_after(torch) -> None:
    """The generators are in the same place: the next draws agree (both randn paths)."""
    assert _bits(mg.randn(3).tolist()) == _bits(torch.randn(3).tolist())
    assert _bits(mg.randn(20).tolist()) == _bits(torch.randn(20).tolist())


# -- values copied from the spec's self-check table (torch 2.13.0), no torch needed ----------------


@pytest.mark.parametrize(
    "seed, expected",
    [
        (0, [-0.0043225177, 0.30971584, -0.47518533, -0.4248946, -0.22236897, 0.15482073]),
        (1, [0.29748735, -0.25482982, -0.11192598, 0.27099028, -0.54353881, 0.34624693]),
    ],
)
def test_linear_weight_matches_torch_self_check_values(seed, expected):
    # nn.Linear(3, 2).weight right after manual_seed, as printed by torch 2.13.0 (spec table, §10)
    mg.manual_seed(seed)
    weight = nn.Linear(3, 2).weight
    assert weight.shape == (2, 3)
    for got, want in zip(_flat(weight), expected):
        assert got == pytest.approx(want, rel=1e-7)


def test_linear_bias_bound_is_one_over_sqrt_fan_in():
    mg.manual_seed(3)
    layer = nn.Linear(25, 40)
    assert max(abs(v) for v in _flat(layer.bias)) <= 1 / 5
    assert max(abs(v) for v in _flat(layer.weight)) <= 1 / 5


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(mg.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(mg.empty(2, 2), mode="fan_avg")


def test_simple_fills():
    t = mg.empty(2, 3)
    assert init.zeros_(t) is t and t.tolist() == [[0.0] * 3] * 2
    assert init.ones_(t).tolist() == [[1.0] * 3] * 2
    assert init.constant_(t, 0.25).tolist() == [[0.25] * 3] * 2


def test_init_of_a_parameter_is_not_recorded():
    p = nn.Parameter(mg.empty(3, 4))
    init.xavier_uniform_(p)
    init.normal_(p)
    assert p.grad_fn is None and p.is_leaf and p.requires_grad


# -- bit-for-bit against torch --------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 1234])
@pytest.mark.parametrize("in_features, out_features, bias", [(3, 2, True), (6, 3, True), (17, 33, True), (8, 5, False)])
def test_linear_init_bit_for_bit(seed, in_features, out_features, bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    mg.manual_seed(seed)
    m_linear = nn.Linear(in_features, out_features, bias)
    t_linear = torch.nn.Linear(in_features, out_features, bias)
    _assert_same_parameters(m_linear, t_linear)
    _assert_same_stream_after(torch)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rows, dim, padding_idx", [(2, 3, None), (9, 6, None), (9, 6, 0), (4, 4, -1), (50, 7, 3)])
def test_embedding_init_bit_for_bit(seed, rows, dim, padding_idx):
    # 2x3 and 4x4 take the serial normal path (< 16 values), the others the block path
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    mg.manual_seed(seed)
    m_emb = nn.Embedding(rows, dim, padding_idx=padding_idx)
    t_emb = torch.nn.Embedding(rows, dim, padding_idx=padding_idx)
    assert m_emb.padding_idx == t_emb.padding_idx
    _assert_same_parameters(m_emb, t_emb)
    _assert_same_stream_after(torch)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((3, 3), {}),
        ((6, 6), {}),
        ((5, 7), {"num_layers": 2}),
        ((4, 3), {"bidirectional": True}),
        ((3, 5), {"num_layers": 3, "bidirectional": True, "bias": False}),
        ((10, 20), {"num_layers": 2, "batch_first": True}),
    ],
)
def test_lstm_init_bit_for_bit(args, kwargs):
    torch = pytest.importorskip("torch")
    torch.manual_seed(7)
    mg.manual_seed(7)
    _assert_same_parameters(nn.LSTM(*args, **kwargs), torch.nn.LSTM(*args, **kwargs))
    _assert_same_stream_after(torch)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_init_bit_for_bit(bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    mg.manual_seed(2)
    _assert_same_parameters(nn.LSTMCell(4, 5, bias), torch.nn.LSTMCell(4, 5, bias))
    _assert_same_stream_after(torch)


def test_tutorial_model_init_bit_for_bit():
    """The tutorial's construction sequence: Embedding(9, 6), LSTM(6, 6), Linear(6, 3) in a row."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    mg.manual_seed(1)
    for m_module, t_module in [
        (nn.LSTM(3, 3), torch.nn.LSTM(3, 3)),
        (nn.Embedding(9, 6), torch.nn.Embedding(9, 6)),
        (nn.LSTM(6, 6), torch.nn.LSTM(6, 6)),
        (nn.Linear(6, 3), torch.nn.Linear(6, 3)),
    ]:
        _assert_same_parameters(m_module, t_module)
    _assert_same_stream_after(torch)


@pytest.mark.parametrize(
    "name, call_mg, call_torch",
    [
        ("uniform_", lambda t: init.uniform_(t, -0.3, 0.7), lambda tt, t: tt.nn.init.uniform_(t, -0.3, 0.7)),
        ("normal_", lambda t: init.normal_(t, 0.5, 2.0), lambda tt, t: tt.nn.init.normal_(t, 0.5, 2.0)),
        ("kaiming default", init.kaiming_uniform_, lambda tt, t: tt.nn.init.kaiming_uniform_(t)),
        (
            "kaiming fan_out relu",
            lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
            lambda tt, t: tt.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
        ),
        (
            "kaiming a=sqrt(5)",
            lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
            lambda tt, t: tt.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
        ),
        ("xavier", init.xavier_uniform_, lambda tt, t: tt.nn.init.xavier_uniform_(t)),
        (
            "xavier tanh gain",
            lambda t: init.xavier_uniform_(t, gain=init.calculate_gain("tanh")),
            lambda tt, t: tt.nn.init.xavier_uniform_(t, gain=tt.nn.init.calculate_gain("tanh")),
        ),
    ],
)
@pytest.mark.parametrize("shape", [(3, 4), (7, 2, 3), (20, 11)])
def test_init_functions_bit_for_bit(name, call_mg, call_torch, shape):
    torch = pytest.importorskip("torch")
    torch.manual_seed(11)
    mg.manual_seed(11)
    m_t = call_mg(mg.empty(*shape))
    t_t = call_torch(torch, torch.empty(*shape))
    assert _bits(_flat(m_t)) == _bits(_flat(t_t)), name
    _assert_same_stream_after(torch)


def test_init_uses_the_given_generator():
    torch = pytest.importorskip("torch")
    m_gen, t_gen = mg.Generator(), torch.Generator()
    m_gen.manual_seed(5)
    t_gen.manual_seed(5)
    m_t = init.kaiming_uniform_(mg.empty(4, 6), generator=m_gen)
    t_t = torch.nn.init.kaiming_uniform_(torch.empty(4, 6), generator=t_gen)
    assert _bits(_flat(m_t)) == _bits(_flat(t_t))
