"""The fused GRU and Elman RNN layers (one kernel call forward, one backward) on both kernel modules.

The references: the composed layers (``gru_layer_composed``, ``rnn_layer_composed``: autograd
through small ops, one step at a time), central finite differences (``gradcheck`` in float64),
torch 2.13.0's ``nn.GRU``/``nn.RNN`` layer by layer, and ``packed_layer`` against each sequence
run alone.
"""

from __future__ import annotations

import random
from array import array

import pytest
from conftest import GradXSpy, cython_core, torch_sums_as_ours

import minigrad as mg
from minigrad import _kernels as pure
from minigrad._functions import recurrent
from minigrad.autograd import gradcheck

compiled = cython_core()

KERNELS = [pytest.param(pure, id="python")] + ([pytest.param(compiled, id="cython")] if compiled else [])
TOLERANCE = {mg.float32: 2e-5, mg.float64: 1e-12}

# name -> (gates, fused, composed, extra keyword arguments)
LAYERS = {
    "gru": (3, recurrent.gru_layer, recurrent.gru_layer_composed, {}),
    "tanh": (1, recurrent.rnn_layer, recurrent.rnn_layer_composed, {"nonlinearity": "tanh"}),
    "relu": (1, recurrent.rnn_layer, recurrent.rnn_layer_composed, {"nonlinearity": "relu"}),
}


@pytest.fixture(params=KERNELS)
def kernels(request, monkeypatch):
    """Run the fused layer on one kernel module (the composed reference uses the session's)."""
    monkeypatch.setattr(recurrent, "K", request.param)
    return request.param


def make_inputs(gates, steps, batch, features, hidden, dtype, bias=True, seed=0, scale=0.6):
    rng = random.Random(seed)

    def leaf(*shape):
        n = 1
        for s in shape:
            n *= s
        return mg.tensor([rng.uniform(-scale, scale) for _ in range(n)], dtype=dtype).reshape(shape).requires_grad_()

    x, h0 = leaf(steps, batch, features), leaf(batch, hidden)
    w_ih, w_hh = leaf(gates * hidden, features), leaf(gates * hidden, hidden)
    b_ih, b_hh = (leaf(gates * hidden), leaf(gates * hidden)) if bias else (None, None)
    return [x, h0, w_ih, w_hh, b_ih, b_hh]


def loss_of(outputs, seed=1):
    """A scalar that weighs every output element differently."""
    rng = random.Random(seed)
    total = 0
    for t in outputs:
        w = mg.tensor([rng.uniform(-1, 1) for _ in range(t.numel())], dtype=t.dtype).reshape(t.shape)
        total = total + (t * w).sum()
    return total


def run(layer, inputs, reverse, **kwargs):
    for t in inputs:
        if t is not None:
            t.grad = None
    out, h_n = layer(*inputs, reverse=reverse, **kwargs)
    loss_of([out, h_n]).backward()
    return [out, h_n] + [t.grad for t in inputs if t is not None and t.is_leaf]


def assert_close(got, expected, tol):
    assert got.shape == expected.shape and got.dtype is expected.dtype
    for a, b in zip(got.reshape(-1).tolist(), expected.reshape(-1).tolist()):
        assert abs(a - b) <= tol * max(1.0, abs(b)), f"{a} != {b}"


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("dims", [(5, 1, 6, 6), (4, 3, 2, 5), (1, 2, 3, 1), (7, 2, 1, 3)])
def test_fused_matches_composed_forward_and_gradients(kernels, name, dtype, reverse, dims):
    gates, fused, composed, kwargs = LAYERS[name]
    inputs = make_inputs(gates, *dims, dtype=dtype, seed=hash(dims) % 1000)
    got = run(fused, inputs, reverse, **kwargs)
    expected = run(composed, inputs, reverse, **kwargs)
    labels = ["out", "h_n", "x.grad", "h0.grad", "w_ih.grad", "w_hh.grad", "b_ih.grad", "b_hh.grad"]
    assert len(got) == len(expected) == len(labels)
    for label, g, e in zip(labels, got, expected):
        assert g is not None, label
        assert_close(g, e, TOLERANCE[dtype])


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_without_bias_and_with_a_non_contiguous_input(kernels, name):
    gates, fused, composed, kwargs = LAYERS[name]
    x, h0, w_ih, w_hh, _, _ = make_inputs(gates, 3, 2, 4, 3, mg.float64, bias=False)
    stored = mg.tensor(x.detach().transpose(0, 1).contiguous().tolist(), dtype=mg.float64).requires_grad_()
    view = stored.transpose(0, 1)  # (T, B, I) with the batch dimension outermost in memory
    assert not view.is_contiguous()
    got = run(fused, [view, h0, w_ih, w_hh, None, None], False, **kwargs)
    fused_x_grad = stored.grad
    expected = run(composed, [view, h0, w_ih, w_hh, None, None], False, **kwargs)
    for g, e in zip(got, expected):
        assert_close(g, e, 1e-12)
    assert_close(fused_x_grad, stored.grad, 1e-12)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_gradients_match_finite_differences(kernels, name, reverse):
    gates, fused, _, kwargs = LAYERS[name]
    inputs = make_inputs(gates, 3, 2, 2, 2, mg.float64, seed=3)

    def layer(*args):
        return fused(*args, reverse=reverse, **kwargs)

    assert gradcheck(layer, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_whole_sequence_is_one_graph_node(kernels):
    for name, node in (("gru", "GRULayerBackward"), ("relu", "RNNLayerBackward")):
        gates, fused, _, kwargs = LAYERS[name]
        x, h0, w_ih, w_hh, b_ih, b_hh = make_inputs(gates, 6, 1, 3, 2, mg.float32)
        out, h_n = fused(x, h0, w_ih, w_hh, b_ih, b_hh, **kwargs)
        assert type(out.grad_fn).__name__ == node
        assert h_n.grad_fn is out.grad_fn
        assert all(edge[0].variable is leaf for edge, leaf in zip(out.grad_fn.next_functions, (x, h0, w_ih, w_hh)))


def test_inputs_that_do_not_require_grad_get_none(kernels):
    for name in ("gru", "tanh"):
        gates, fused, _, kwargs = LAYERS[name]
        x, _, w_ih, w_hh, b_ih, b_hh = make_inputs(gates, 3, 1, 2, 2, mg.float32)
        out, _ = fused(x.detach(), mg.zeros(1, 2), w_ih, w_hh, b_ih, b_hh, **kwargs)
        out.sum().backward()
        assert w_ih.grad is not None and b_hh.grad is not None and b_ih.grad is not None
    # the RNN's two biases are added to the same sum: equal gradients (the GRU's differ in n)
    assert b_ih.grad.tolist() == b_hh.grad.tolist()


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_an_input_that_needs_no_gradient_gets_none_computed(kernels, monkeypatch, name, dtype, reverse):
    """When x needs no gradient the kernel is given an empty grad_x, leaves it empty (its product
    is skipped), and every other gradient is the same bits as when x's is computed."""
    gates, fused, _, kwargs = LAYERS[name]
    inputs = make_inputs(gates, 4, 3, 5, 20, dtype)  # 20 hidden units: more than a vector's lanes
    spy = GradXSpy(kernels, "gru_backward" if name == "gru" else "rnn_backward")
    monkeypatch.setattr(recurrent, "K", spy)
    with_x = run(fused, inputs, reverse, **kwargs)
    without_x = run(fused, [inputs[0].detach(), *inputs[1:]], reverse, **kwargs)
    assert [len(buffer) for buffer in spy.grad_x] == [4 * 3 * 5, 0]
    assert with_x[2] is not None and without_x[2] is None  # x's gradient
    for got, expected in zip(without_x[:2] + without_x[3:], with_x[:2] + with_x[3:]):
        assert got.tolist() == expected.tolist()


def test_modifying_the_output_in_place_is_caught(kernels):
    for name in ("gru", "relu"):
        gates, fused, _, kwargs = LAYERS[name]
        out, _ = fused(*make_inputs(gates, 2, 1, 2, 2, mg.float32), **kwargs)
        loss = (out * out).sum()
        with mg.no_grad():
            out.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_empty_sequence_passes_the_state_through(kernels, name):
    gates, fused, _, kwargs = LAYERS[name]
    x, h0, w_ih, w_hh, b_ih, b_hh = make_inputs(gates, 0, 2, 3, 2, mg.float64)
    out, h_n = fused(x, h0, w_ih, w_hh, b_ih, b_hh, **kwargs)
    assert out.shape == (0, 2, 2)
    assert h_n.tolist() == h0.tolist()
    (3 * h_n.sum()).backward()
    assert h0.grad.tolist() == [[3.0, 3.0]] * 2
    assert w_ih.grad.tolist() == [[0.0] * 3] * (gates * 2)


def test_relu_gradient_is_zero_where_the_output_is_zero(kernels):
    """h' = relu(...): rows of the pre-activation at or below 0 pass no gradient (torch's rule)."""
    w_ih = mg.tensor([[1.0], [-1.0]], requires_grad=True)
    x = mg.tensor([[[2.0]], [[3.0]]], requires_grad=True)  # (T=2, B=1, I=1)
    out, _ = recurrent.rnn_layer(x, mg.zeros(1, 2), w_ih, mg.zeros(2, 2), nonlinearity="relu")
    assert out.tolist() == [[[2.0, 0.0]], [[3.0, 0.0]]]
    out.sum().backward()
    assert w_ih.grad.tolist() == [[5.0], [0.0]] and x.grad.tolist() == [[[1.0]], [[1.0]]]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.__setitem__(0, a[0][0]), "input must have 3 dimensions"),
        (lambda a: a.__setitem__(1, mg.zeros(2, 3)), "Expected h0 size"),
        (lambda a: a.__setitem__(2, mg.zeros(9, 2)), "weight_ih must have shape"),
        (lambda a: a.__setitem__(3, mg.zeros(9, 4)), "weight_hh must have shape"),
        (lambda a: a.__setitem__(4, None), "b_ih and b_hh must be given together"),
        (lambda a: a.__setitem__(5, mg.zeros(4)), "bias_hh must have shape"),
        (lambda a: a.__setitem__(2, a[2].double()), "expected all GRU tensors to be minigrad.float32"),
        (lambda a: a.__setitem__(0, mg.zeros(2, 1, 3, dtype=mg.int64)), "GRU input must be floating point"),
    ],
)
def test_bad_inputs_raise(kernels, change, message):
    args = [t.detach() for t in make_inputs(3, 2, 1, 3, 3, mg.float32)]
    change(args)
    with pytest.raises(RuntimeError, match=message):
        recurrent.gru_layer(*args)


def test_bad_rnn_arguments_raise(kernels):
    args = [t.detach() for t in make_inputs(1, 2, 1, 3, 3, mg.float32)]
    with pytest.raises(RuntimeError, match=r"weight_hh must have shape \(hidden_size, hidden_size\)"):
        recurrent.rnn_layer(*args[:3], mg.zeros(6, 3), *args[4:])
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):
        recurrent.rnn_layer(*args, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):
        recurrent.rnn_layer_composed(*args, nonlinearity="sigmoid")


@pytest.mark.parametrize("mode", ["GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_bidirectional_layer(kernels, mode, dtype):
    torch = pytest.importorskip("torch")
    steps, batch, features, hidden = 5, 2, 3, 4
    torch.manual_seed(0)
    if mode == "GRU":
        module, name, kwargs = torch.nn.GRU(features, hidden, bidirectional=True), "gru", {}
    else:
        nonlinearity = mode[4:].lower()
        module = torch.nn.RNN(features, hidden, nonlinearity=nonlinearity, bidirectional=True)
        name, kwargs = nonlinearity, {"nonlinearity": nonlinearity}
    module = module.to(getattr(torch, dtype))
    x = torch.randn(steps, batch, features, dtype=module.weight_ih_l0.dtype, requires_grad=True)
    h0 = torch.randn(2, batch, hidden, dtype=x.dtype, requires_grad=True)
    out, h_n = module(x, h0)
    weights = torch.randn(steps, batch, 2 * hidden, dtype=x.dtype)
    ((out * weights).sum() + (h_n * h_n).sum()).backward()

    mdt = getattr(mg, dtype)

    def mine(t):
        return mg.tensor(t.detach().tolist(), dtype=mdt).requires_grad_()

    mx, mh0 = mine(x), mine(h0)
    params = {n: mine(p) for n, p in module.named_parameters()}
    fused = LAYERS[name][1]
    outs, hs = [], []
    for d, suffix in enumerate(["l0", "l0_reverse"]):
        o, h = fused(mx, mh0[d], params[f"weight_ih_{suffix}"], params[f"weight_hh_{suffix}"],
                     params[f"bias_ih_{suffix}"], params[f"bias_hh_{suffix}"], reverse=d == 1, **kwargs)
        outs.append(o)
        hs.append(h)
    m_out, m_h = mg.cat(outs, 2), mg.stack(hs)
    ((m_out * mg.tensor(weights.tolist(), dtype=mdt)).sum() + (m_h * m_h).sum()).backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    pairs = [(m_out, out), (m_h, h_n), (mx.grad, x.grad), (mh0.grad, h0.grad)]
    pairs += [(params[n].grad, p.grad) for n, p in module.named_parameters()]
    for got, expected in pairs:
        assert_close(got, mg.tensor(expected.detach().tolist(), dtype=mdt), tol)


@pytest.mark.parametrize("name", ["gru", "relu", "lstm"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_packed_layer_equals_each_sequence_alone(kernels, name, reverse):
    """packed_layer over sequences of lengths 4, 4, 2, 1: each sequence's output rows and final
    state are what the layer gives on that sequence alone, bit for bit."""
    if name == "lstm":
        gates, layer, kwargs = 4, recurrent.lstm_layer, {}
    else:
        gates, layer, _, kwargs = LAYERS[name]
    rng = random.Random(5)
    lengths, features, hidden = [4, 4, 2, 1], 3, 2
    n_states = 2 if name == "lstm" else 1
    sequences = [mg.tensor([[rng.uniform(-1, 1) for _ in range(features)] for _ in range(n)]) for n in lengths]
    states = [mg.tensor([[rng.uniform(-1, 1) for _ in range(hidden)] for _ in lengths]) for _ in range(n_states)]
    weights = [mg.tensor([[rng.uniform(-0.5, 0.5) for _ in range(cols)] for _ in range(gates * hidden)])
               for cols in (features, hidden)]
    weights += [mg.tensor([rng.uniform(-0.5, 0.5) for _ in range(gates * hidden)]) for _ in range(2)]
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = mg.stack([sequences[b][t] for t in range(lengths[0]) for b in range(batch_sizes[t])])

    def one_layer(x, *args, reverse):
        return layer(x, *args, reverse=reverse, **kwargs)

    out, finals = recurrent.packed_layer(one_layer, data, batch_sizes, tuple(states), weights, reverse)
    assert out.shape == (sum(lengths), hidden) and len(finals) == n_states
    row = 0
    rows_of = {b: [] for b in range(len(lengths))}
    for size in batch_sizes:
        for b in range(size):
            rows_of[b].append(row)
            row += 1
    for b, seq in enumerate(sequences):
        alone_out, *alone_finals = one_layer(seq.unsqueeze(1), *(s[b : b + 1] for s in states), *weights,
                                             reverse=reverse)
        assert [out[r].tolist() for r in rows_of[b]] == alone_out.squeeze(1).tolist()
        for final, alone in zip(finals, alone_finals):
            assert final[b].tolist() == alone[0].tolist()


@pytest.mark.skipif(compiled is None, reason="the Cython core is not built")
@pytest.mark.parametrize("hidden", [100, 193, 300, 385, 500])
def test_float32_gru_h_sums_are_torchs_bit_for_bit(hidden):
    """The Cython float32 GRU sums h w_hh^T + b_hh as torch's linear layer does (MKL's sgemm, as
    measured against torch 2.13.0 on an AMD EPYC): each run of up to 192 terms (two halves from
    193 to 384 terms) a chain of fused multiply-adds from 0, added onto the bias. The gates buffer
    keeps those sums (m, the last H of each row's 4H), so they are compared with torch's
    F.linear of the same h, bit for bit, for sums of one, two (odd and even) and three runs.
    On the Intel Xeon measured, MKL sums a batch of fewer than 16 rows against the transposed
    weight as dot products across vector lanes once H is over 192 (``torch_sums_as_ours``), which
    the core does not copy; there, and on a build without fused multiply-adds
    (MINIGRAD_PORTABLE_BUILD on x86-64), which rounds each product, each sum must be within the
    float32 bound of an (H + 1)-term sum, (H + 1) 2^-24 (|h| |w_hh|^T + |b_hh|), instead."""
    torch = pytest.importorskip("torch")
    steps, batch, features = 3, 5, 7
    g = torch.Generator().manual_seed(hidden)
    x, h0 = torch.randn(steps, batch, features, generator=g), torch.randn(batch, hidden, generator=g)
    w_ih, w_hh = torch.randn(3 * hidden, features, generator=g), torch.randn(3 * hidden, hidden, generator=g) / 10
    b_ih, b_hh = torch.randn(3 * hidden, generator=g), torch.randn(3 * hidden, generator=g)
    buf = {name: array("f", t.reshape(-1).tolist()) for name, t in
           (("x", x), ("h0", h0), ("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh))}
    out, h_n = array("f", bytes(4 * steps * batch * hidden)), array("f", bytes(4 * batch * hidden))
    gates = array("f", bytes(4 * steps * batch * 4 * hidden))
    compiled.gru_forward(buf["x"], buf["w_ih"], buf["w_hh"], buf["b_ih"], buf["b_hh"], buf["h0"],
                         (steps, batch, features, hidden), False, out, h_n, gates)
    outs = torch.tensor(out.tolist()).reshape(steps, batch, hidden)
    m = torch.tensor(gates.tolist()).reshape(steps, batch, 4 * hidden)[:, :, 3 * hidden:]
    torch.set_num_threads(1)
    for t, h_prev in enumerate([h0, outs[0], outs[1]]):
        expected = torch.nn.functional.linear(h_prev, w_hh, b_hh)[:, 2 * hidden:]
        if compiled._HAS_FMA and torch_sums_as_ours(batch, hidden, b_transposed=True):
            assert torch.equal(m[t], expected), f"step {t}: {(m[t] != expected).sum().item()} sums differ"
        else:
            magnitude = (h_prev.double().abs() @ w_hh.double().abs().t() + b_hh.double().abs())[:, 2 * hidden:]
            bound = (hidden + 1) * 2.0**-24 * magnitude
            assert ((m[t].double() - expected.double()).abs() <= bound).all(), f"step {t}: a sum is out of bounds"
