"""``nn.GRU``, ``nn.RNN``, ``nn.GRUCell`` and ``nn.RNNCell`` (and what they share with ``nn.LSTM``
through ``RNNBase``, and LSTM's ``proj_size``) against torch 2.13.0: outputs, final states, every gradient, the
initialisation after ``manual_seed``, ``repr``, and torch's exceptions for bad arguments.

Both libraries get identical weights (torch's, loaded through ``load_state_dict``) and identical
random inputs; the loss is a fixed random weighting of every output, so each output element
gets its own gradient.
"""

from __future__ import annotations

import random
import warnings
from collections import OrderedDict

import pytest
from conftest import assert_same

import minigrad as mg
import minigrad.nn as nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

RTOL, ATOL = 1e-4, 1e-5  # float32 through a few dozen steps of recurrence, as test_nn_lstm.py
MODULES = ["RNN", "GRU", "LSTM"]


def _pair(shape: tuple, rng: random.Random, requires_grad: bool = True, dtype: str = "float32"):
    n = 1
    for s in shape:
        n *= s
    values = [rng.uniform(-1.5, 1.5) for _ in range(n)]
    t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape).requires_grad_(requires_grad)
    m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(*shape)
    if requires_grad:
        m = m.detach().requires_grad_()
    return t, m


def _copy_weights(t_module, m_module) -> None:
    converted = OrderedDict(
        (k, mg.tensor(v.tolist(), dtype=getattr(mg, str(v.dtype)[6:]))) for k, v in t_module.state_dict().items()
    )
    m_module.load_state_dict(converted)


def _flatten(outputs) -> list:
    """(output, h_n) or (output, (h_n, c_n)) as a flat list of tensors."""
    flat = []
    for o in outputs:
        flat += list(o) if isinstance(o, tuple) else [o]
    return flat


def _weighted_sum(outputs_t, outputs_m, rng):
    t_loss, m_loss = 0.0, 0.0
    for t, m in zip(outputs_t, outputs_m):
        w = [rng.uniform(-1, 1) for _ in range(t.numel())]
        t_loss = t_loss + (t * torch.tensor(w, dtype=t.dtype).reshape(t.shape)).sum()
        m_loss = m_loss + (m * mg.tensor(w, dtype=m.dtype).reshape(*m.shape)).sum()
    return t_loss, m_loss


def _check_grads(t_module, m_module, pairs, rtol=RTOL, atol=ATOL) -> None:
    t_named, m_named = list(t_module.named_parameters()), list(m_module.named_parameters())
    assert [n for n, _ in t_named] == [n for n, _ in m_named]
    for (_, t_param), (_, m_param) in zip(t_named, m_named):
        assert_same(m_param.grad, t_param.grad, rtol=rtol, atol=atol)
    for t, m in pairs:
        assert_same(m.grad, t.grad, rtol=rtol, atol=atol)


def _hidden(mode: str, shape: tuple, rng, dtype="float32", proj_size: int = 0):
    """(torch hx, minigrad hx, leaf pairs) for a module of ``mode`` (h has proj_size features if > 0)."""
    t_h, m_h = _pair(shape[:2] + (proj_size,) if proj_size else shape, rng, dtype=dtype)
    if mode != "LSTM":
        return t_h, m_h, [(t_h, m_h)]
    t_c, m_c = _pair(shape, rng, dtype=dtype)
    return (t_h, t_c), (m_h, m_c), [(t_h, m_h), (t_c, m_c)]


CASES = [
    # (constructor kwargs, seq, batch, with hx)
    ({}, 5, 1, True),
    ({}, 4, 3, False),
    ({"num_layers": 2}, 6, 2, True),
    ({"num_layers": 3}, 3, 1, False),
    ({"bidirectional": True}, 5, 1, True),
    ({"bidirectional": True}, 4, 3, False),
    ({"num_layers": 2, "bidirectional": True}, 5, 2, True),
    ({"bias": False}, 4, 2, True),
    ({"bias": False, "bidirectional": True, "num_layers": 2}, 3, 2, False),
    ({"batch_first": True}, 4, 3, True),
    ({"batch_first": True, "num_layers": 2, "bidirectional": True}, 3, 2, False),
    ({"nonlinearity": "relu"}, 5, 3, True),
    ({"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, 4, 2, False),
    ({"dropout": 0.5, "num_layers": 2}, 4, 2, True),  # run in eval mode: dropout is off
    ({"proj_size": 2}, 4, 3, True),
    ({"proj_size": 3, "num_layers": 2, "bidirectional": True, "batch_first": True}, 3, 2, False),
    ({"proj_size": 1, "num_layers": 2, "bias": False}, 4, 2, True),
]


def _cases(modes=MODULES):
    for mode in modes:
        for i, case in enumerate(CASES):
            if "nonlinearity" in case[0] and mode != "RNN" or "proj_size" in case[0] and mode != "LSTM":
                continue
            yield pytest.param(mode, i, id=f"{mode}-{i}")


@pytest.mark.parametrize("mode, case", list(_cases()))
def test_module_matches_torch(mode, case):
    kwargs, seq, batch, with_hx = CASES[case]
    rng = random.Random(case)
    torch.manual_seed(case)
    input_size, hidden_size = 3, 4
    t_mod = getattr(torch.nn, mode)(input_size, hidden_size, **kwargs)
    m_mod = getattr(nn, mode)(input_size, hidden_size, **kwargs)
    if kwargs.get("dropout"):
        t_mod.eval()
        m_mod.eval()
    _copy_weights(t_mod, m_mod)
    x_shape = (batch, seq, input_size) if kwargs.get("batch_first") else (seq, batch, input_size)
    t_x, m_x = _pair(x_shape, rng)
    pairs = [(t_x, m_x)]
    states = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    if with_hx:
        t_hx, m_hx, leaves = _hidden(mode, (states, batch, hidden_size), rng, proj_size=kwargs.get("proj_size", 0))
        pairs += leaves
        t_out, m_out = t_mod(t_x, t_hx), m_mod(m_x, m_hx)
    else:
        t_out, m_out = t_mod(t_x), m_mod(m_x)
    t_flat, m_flat = _flatten(t_out), _flatten(m_out)
    for m, t in zip(m_flat, t_flat):
        assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum(t_flat, m_flat, rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_mod, m_mod, pairs)


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_float64_module_matches_torch_tightly(mode):
    rng = random.Random(7)
    torch.manual_seed(7)
    t_mod = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    m_mod = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype=mg.float64)
    _copy_weights(t_mod, m_mod)
    t_x, m_x = _pair((5, 2, 3), rng, dtype="float64")
    t_h, m_h = _pair((4, 2, 4), rng, dtype="float64")
    t_out, m_out = t_mod(t_x, t_h), m_mod(m_x, m_h)
    for m, t in zip(_flatten(m_out), _flatten(t_out)):
        assert_same(m, t, "float64")
    t_loss, m_loss = _weighted_sum(_flatten(t_out), _flatten(m_out), rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_mod, m_mod, [(t_x, m_x), (t_h, m_h)], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_with_and_without_hx(mode, batch_first):
    rng = random.Random(3)
    t_mod = getattr(torch.nn, mode)(2, 3, num_layers=2, batch_first=batch_first)
    m_mod = getattr(nn, mode)(2, 3, num_layers=2, batch_first=batch_first)
    _copy_weights(t_mod, m_mod)
    t_x, m_x = _pair((4, 2), rng)
    t_h, m_h = _pair((2, 3), rng)
    for args in [(t_x,), (t_x, t_h)]:
        t_out = t_mod(*args)
        m_out = m_mod(*[m_x if a is t_x else m_h for a in args])
        for m, t in zip(_flatten(m_out), _flatten(t_out)):
            assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum(_flatten(t_out), _flatten(m_out), rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_mod, m_mod, [(t_x, m_x), (t_h, m_h)])


@pytest.mark.parametrize("mode", MODULES)
def test_non_contiguous_input_and_state(mode):
    """A batch_first view of a time-major tensor and a permuted initial state."""
    rng = random.Random(11)
    t_mod = getattr(torch.nn, mode)(3, 4, batch_first=True, bidirectional=True)
    m_mod = getattr(nn, mode)(3, 4, batch_first=True, bidirectional=True)
    _copy_weights(t_mod, m_mod)
    t_stored, m_stored = _pair((5, 2, 3), rng)  # (T, B, I) in memory
    t_x, m_x = t_stored.transpose(0, 1), m_stored.transpose(0, 1)  # seen as (B, T, I)
    assert not m_x.is_contiguous()
    t_hs, m_hs = _pair((2, 4, 2), rng)
    t_h, m_h = t_hs.transpose(1, 2), m_hs.transpose(1, 2)  # seen as (2, B, H)
    assert not m_h.is_contiguous()
    pairs = [(t_stored, m_stored), (t_hs, m_hs)]
    t_hx, m_hx = ((t_h, t_h * 0.5), (m_h, m_h * 0.5)) if mode == "LSTM" else (t_h, m_h)
    t_out, m_out = t_mod(t_x, t_hx), m_mod(m_x, m_hx)
    for m, t in zip(_flatten(m_out), _flatten(t_out)):
        assert_same(m, t, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum(_flatten(t_out), _flatten(m_out), rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_mod, m_mod, pairs)


@pytest.mark.parametrize("mode", MODULES)
def test_stepwise_equals_whole_sequence(mode):
    """Feeding the state back one step at a time gives the whole sequence's result, bit for bit."""
    mg.manual_seed(0)
    module = getattr(nn, mode)(3, 3, num_layers=2)
    inputs = mg.randn(5, 2, 3)
    out_all, h_all = module(inputs)
    state = None
    for t in range(5):
        out, state = module(inputs[t : t + 1], state)
        assert out.tolist() == out_all[t : t + 1].tolist()
    assert _flatten([state]) and all(a.tolist() == b.tolist() for a, b in zip(_flatten([state]), _flatten([h_all])))


# -- initialisation, parameters, repr ---------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, kwargs",
    [
        ("RNN", {}),
        ("RNN", {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True}),
        ("GRU", {"num_layers": 2, "bidirectional": True}),
        ("GRU", {"bias": False}),
        ("LSTM", {"num_layers": 2}),
        ("LSTM", {"num_layers": 2, "proj_size": 3, "bidirectional": True}),
        ("LSTM", {"proj_size": 2, "bias": False}),
        ("RNNCell", {}),
        ("RNNCell", {"bias": False, "nonlinearity": "relu"}),
        ("GRUCell", {}),
        ("LSTMCell", {"bias": False}),
    ],
)
def test_initialisation_names_shapes_and_repr_match_torch(mode, kwargs):
    torch.manual_seed(5)
    t_mod = getattr(torch.nn, mode)(7, 6, **kwargs)
    mg.manual_seed(5)
    m_mod = getattr(nn, mode)(7, 6, **kwargs)
    t_named, m_named = list(t_mod.named_parameters()), list(m_mod.named_parameters())
    assert [(n, tuple(p.shape)) for n, p in m_named] == [(n, tuple(p.shape)) for n, p in t_named]
    for (_, m_p), (_, t_p) in zip(m_named, t_named):
        assert m_p.tolist() == t_p.tolist()  # bit for bit
    assert repr(m_mod) == repr(t_mod)
    if not mode.endswith("Cell"):
        assert [[tuple(p.shape) for p in layer] for layer in m_mod.all_weights] == [
            [tuple(p.shape) for p in layer] for layer in t_mod.all_weights
        ]


def test_rnn_positional_nonlinearity_and_attributes():
    t_mod = torch.nn.RNN(3, 5, 2, "relu", False, True, 0.25, True)
    m_mod = nn.RNN(3, 5, 2, "relu", False, True, 0.25, True)
    for name in ["mode", "nonlinearity", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "proj_size"]:
        assert getattr(m_mod, name) == getattr(t_mod, name), name
    assert repr(m_mod) == repr(t_mod)
    assert nn.GRU(2, 3).mode == "GRU" and nn.RNN(2, 3).mode == "RNN_TANH"
    assert isinstance(m_mod, nn.RNNBase) and isinstance(nn.GRUCell(2, 3), nn.RNNCellBase)


# -- dropout between layers -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODULES)
def test_dropout_one_between_layers_matches_torch(mode):
    """dropout=1 zeroes the input of every later layer: deterministic, so torch gives the same."""
    t_mod = getattr(torch.nn, mode)(3, 4, num_layers=3, dropout=1.0)
    m_mod = getattr(nn, mode)(3, 4, num_layers=3, dropout=1.0)
    _copy_weights(t_mod, m_mod)
    rng = random.Random(5)
    t_x, m_x = _pair((4, 2, 3), rng)
    for m, t in zip(_flatten(m_mod(m_x)), _flatten(t_mod(t_x))):
        assert_same(m, t, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("mode", MODULES)
def test_dropout_acts_on_the_layer_outputs_in_training_only(mode):
    """With dropout p, layer 2's input is layer 1's output times a mask of 0 and 1/(1-p): running
    the layers one by one with that output masked reproduces the module's result."""
    mg.manual_seed(2)
    module = getattr(nn, mode)(3, 4, num_layers=2, dropout=0.5, bidirectional=True)
    first = getattr(nn, mode)(3, 4, bidirectional=True)
    second = getattr(nn, mode)(8, 4, bidirectional=True)
    for layer, part in ((0, first), (1, second)):
        for name, p in part.named_parameters():
            p.data = getattr(module, name.replace("_l0", f"_l{layer}")).data
    x = mg.randn(5, 2, 3)
    module.eval()
    hidden, _ = first(x)
    assert module(x)[0].tolist() == second(hidden)[0].tolist()
    module.train()
    mg.manual_seed(9)
    out, _ = module(x)
    mg.manual_seed(9)
    mask = mg.nn.functional.dropout(mg.ones(5, 2, 8), 0.5, True)
    assert set(mask.reshape(-1).tolist()) == {0.0, 2.0}
    assert out.tolist() == second(hidden * mask)[0].tolist()


# -- cells -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RNNCell", "GRUCell"])
@pytest.mark.parametrize(
    "kwargs, batched, with_hx",
    [({}, True, True), ({"bias": False}, True, False), ({}, False, True), ({}, False, False),
     ({"nonlinearity": "relu"}, True, True)],
)
def test_cell_matches_torch(mode, kwargs, batched, with_hx):
    if "nonlinearity" in kwargs and mode != "RNNCell":
        pytest.skip("GRUCell has no nonlinearity")
    rng = random.Random(int(batched) * 2 + int(with_hx))
    t_cell, m_cell = getattr(torch.nn, mode)(3, 5, **kwargs), getattr(nn, mode)(3, 5, **kwargs)
    _copy_weights(t_cell, m_cell)
    lead = (2,) if batched else ()
    t_x, m_x = _pair(lead + (3,), rng)
    pairs = [(t_x, m_x)]
    if with_hx:
        t_h, m_h = _pair(lead + (5,), rng)
        pairs.append((t_h, m_h))
        t_out, m_out = t_cell(t_x, t_h), m_cell(m_x, m_h)
    else:
        t_out, m_out = t_cell(t_x), m_cell(m_x)
    assert_same(m_out, t_out, rtol=RTOL, atol=ATOL)
    t_loss, m_loss = _weighted_sum([t_out], [m_out], rng)
    t_loss.backward()
    m_loss.backward()
    _check_grads(t_cell, m_cell, pairs)


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_cell_steps_equal_the_sequence_module(mode):
    """The cell with the module's weights, stepped over the sequence, gives the module's output."""
    mg.manual_seed(4)
    module = getattr(nn, mode)(3, 4)
    cell = getattr(nn, mode + "Cell")(3, 4)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data = getattr(module, name + "_l0").data
    x = mg.randn(6, 2, 3)
    out, h_n = module(x)
    h = None
    for t in range(6):
        h = cell(x[t], h)
        for a, b in zip(h.reshape(-1).tolist(), out[t].reshape(-1).tolist()):
            assert abs(a - b) <= 1e-6
    assert out[-1].tolist() == h_n[0].tolist()


# -- bad input: torch's exception types and messages ------------------------------------------------


def _raises_like_torch(t_call, m_call) -> None:
    with pytest.raises(Exception) as t_info:
        t_call()
    with pytest.raises(type(t_info.value)) as m_info:
        m_call()
    assert str(m_info.value) == str(t_info.value).replace("torch.", "minigrad.")


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
@pytest.mark.parametrize(
    "x_shape, hx_shape, dtype",
    [
        ((2, 3, 4, 3), None, "float32"),  # 4-D input
        ((5, 1, 2), None, "float32"),  # wrong input_size
        ((5, 2, 3), (1, 1, 4), "float32"),  # wrong batch in h0
        ((5, 2, 3), (2, 2, 4), "float32"),  # wrong number of layers in h0
        ((5, 2, 3), (2, 4), "float32"),  # 2-D state for batched input
        ((5, 3), (1, 1, 4), "float32"),  # 3-D state for unbatched input
        ((5, 2, 3), None, "float64"),  # input dtype is not the weights'
    ],
)
def test_module_errors_match_torch(mode, x_shape, hx_shape, dtype):
    t_mod, m_mod = getattr(torch.nn, mode)(3, 4), getattr(nn, mode)(3, 4)

    def call(lib, module):
        hx = None if hx_shape is None else lib.zeros(*hx_shape)
        return lambda: module(lib.zeros(*x_shape, dtype=getattr(lib, dtype)), hx)

    _raises_like_torch(call(torch, t_mod), call(mg, m_mod))


@pytest.mark.parametrize("mode", MODULES)
def test_state_dtype_mismatch_matches_torch(mode):
    t_mod, m_mod = getattr(torch.nn, mode)(3, 4), getattr(nn, mode)(3, 4)

    def call(lib, module):
        h = lib.zeros(1, 2, 4, dtype=lib.float64)
        return lambda: module(lib.zeros(5, 2, 3), (h, h) if mode == "LSTM" else h)

    if mode == "LSTM":  # torch's LSTM runs on oneDNN here, which words it "get_mkldnn_dtype: unsupported data type"
        for lib, module in ((torch, t_mod), (mg, m_mod)):
            with pytest.raises(RuntimeError):
                call(lib, module)()
        return
    _raises_like_torch(call(torch, t_mod), call(mg, m_mod))


@pytest.mark.parametrize("mode", ["RNNCell", "GRUCell"])
@pytest.mark.parametrize(
    "x_shape, hx_shape",
    [((2, 3, 3), None), ((2, 4), None), ((2, 3), (1, 5)), ((2, 3), (2, 6)), ((2, 3), (1, 2, 5)), ((3,), (2, 5))],
)
def test_cell_errors_match_torch(mode, x_shape, hx_shape):
    t_cell, m_cell = getattr(torch.nn, mode)(3, 5), getattr(nn, mode)(3, 5)

    def call(lib, module):
        hx = None if hx_shape is None else lib.zeros(*hx_shape)
        return lambda: module(lib.zeros(*x_shape), hx)

    _raises_like_torch(call(torch, t_cell), call(mg, m_cell))


def test_rnn_cell_with_an_unknown_nonlinearity_fails_on_use_as_torch():
    t_cell, m_cell = torch.nn.RNNCell(3, 5, nonlinearity="sig"), nn.RNNCell(3, 5, nonlinearity="sig")
    assert repr(m_cell) == repr(t_cell)
    _raises_like_torch(lambda: t_cell(torch.zeros(2, 3)), lambda: m_cell(mg.zeros(2, 3)))


@pytest.mark.parametrize("mode", MODULES)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"dropout": 1.5},
        {"dropout": True},
        {"dropout": "0.5"},
        {"bias": 1},
        {"batch_first": "yes"},
        {"num_layers": 0},
        {"hidden_size": 0},
        {"input_size": 2.0},
        {"input_size": -1},
        {"hidden_size": "4"},
        {"proj_size": 2},
        {"proj_size": -1},
        {"proj_size": 4},
        {"nonlinearity": "sigmoid"},
    ],
)
def test_constructor_errors_match_torch(mode, kwargs):
    if "nonlinearity" in kwargs and mode != "RNN":
        pytest.skip("only RNN has a nonlinearity")
    if mode == "LSTM" and kwargs == {"proj_size": 2}:
        pytest.skip("a valid proj_size for LSTM")
    args = {"input_size": 3, "hidden_size": 4}
    args.update(kwargs)
    _raises_like_torch(lambda: getattr(torch.nn, mode)(**args), lambda: getattr(nn, mode)(**args))


@pytest.mark.parametrize("mode", MODULES)
def test_dropout_warning_for_one_layer_as_torch(mode):
    with warnings.catch_warnings(record=True) as t_warned:
        warnings.simplefilter("always")
        getattr(torch.nn, mode)(3, 4, dropout=0.5)
    with pytest.warns(UserWarning) as m_warned:
        getattr(nn, mode)(3, 4, dropout=0.5)
    assert [str(w.message) for w in m_warned] == [str(w.message) for w in t_warned]


def test_rnn_base_with_an_unknown_mode_raises_as_torch():
    _raises_like_torch(lambda: torch.nn.RNNBase("LSTMX", 3, 4), lambda: nn.RNNBase("LSTMX", 3, 4))
