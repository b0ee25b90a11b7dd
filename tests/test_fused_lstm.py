"""The fused LSTM layer (one kernel call forward, one backward) on both kernel modules.

The references: the composed layer (``lstm_layer_composed``, autograd through small ops), central
finite differences (``gradcheck`` in float64), and torch 2.13.0's ``nn.LSTM``.
"""

from __future__ import annotations

import random
from array import array

import pytest
from conftest import GradXSpy, cython_core

import minigrad as mg
from minigrad import _kernels as pure
from minigrad._functions import recurrent as rnn
from minigrad.autograd import gradcheck

compiled = cython_core()

KERNELS = [pytest.param(pure, id="python")] + ([pytest.param(compiled, id="cython")] if compiled else [])
TOLERANCE = {mg.float32: 2e-5, mg.float64: 1e-12}


@pytest.fixture(params=KERNELS)
def kernels(request, monkeypatch):
    """Run the fused layer on one kernel module (the composed reference uses the session's)."""
    monkeypatch.setattr(rnn, "K", request.param)
    return request.param


def make_inputs(steps, batch, features, hidden, dtype, bias=True, seed=0, scale=0.6):
    rng = random.Random(seed)

    def leaf(*shape):
        n = 1
        for s in shape:
            n *= s
        return mg.tensor([rng.uniform(-scale, scale) for _ in range(n)], dtype=dtype).reshape(shape).requires_grad_()

    x = leaf(steps, batch, features)
    h0, c0 = leaf(batch, hidden), leaf(batch, hidden)
    w_ih, w_hh = leaf(4 * hidden, features), leaf(4 * hidden, hidden)
    b_ih, b_hh = (leaf(4 * hidden), leaf(4 * hidden)) if bias else (None, None)
    return [x, h0, c0, w_ih, w_hh, b_ih, b_hh]


def loss_of(out, h_n, c_n, seed=1):
    """A scalar that weighs every output element differently."""
    rng = random.Random(seed)
    total = 0
    for t in (out, h_n, c_n):
        w = mg.tensor([rng.uniform(-1, 1) for _ in range(t.numel())], dtype=t.dtype).reshape(t.shape)
        total = total + (t * w).sum()
    return total


def run(layer, inputs, reverse):
    for t in inputs:
        if t is not None:
            t.grad = None
    out, h_n, c_n = layer(*inputs, reverse=reverse)
    loss_of(out, h_n, c_n).backward()
    return [out, h_n, c_n] + [t.grad for t in inputs if t is not None and t.is_leaf]


def assert_close(got, expected, tol):
    assert got.shape == expected.shape and got.dtype is expected.dtype
    for a, b in zip(got.reshape(-1).tolist(), expected.reshape(-1).tolist()):
        assert abs(a - b) <= tol * max(1.0, abs(b)), f"{a} != {b}"


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("dims", [(5, 1, 6, 6), (4, 3, 2, 5), (1, 2, 3, 1), (7, 2, 1, 3)])
def test_fused_matches_composed_forward_and_gradients(kernels, dtype, reverse, dims):
    inputs = make_inputs(*dims, dtype=dtype, seed=hash(dims) % 1000)
    fused = run(rnn.lstm_layer, inputs, reverse)
    composed = run(rnn.lstm_layer_composed, inputs, reverse)
    names = ["out", "h_n", "c_n", "x.grad", "h0.grad", "c0.grad", "w_ih.grad", "w_hh.grad", "b_ih.grad", "b_hh.grad"]
    for name, got, expected in zip(names, fused, composed):
        assert got is not None, name
        assert_close(got, expected, TOLERANCE[dtype])


def test_without_bias_and_with_a_non_contiguous_input(kernels):
    x, h0, c0, w_ih, w_hh, _, _ = make_inputs(3, 2, 4, 3, mg.float64, bias=False)
    stored = mg.tensor(x.detach().transpose(0, 1).contiguous().tolist(), dtype=mg.float64).requires_grad_()
    view = stored.transpose(0, 1)  # (T, B, I) with the batch dimension outermost in memory
    assert not view.is_contiguous()
    fused = run(rnn.lstm_layer, [view, h0, c0, w_ih, w_hh, None, None], False)
    fused_x_grad = stored.grad
    composed = run(rnn.lstm_layer_composed, [view, h0, c0, w_ih, w_hh, None, None], False)
    for got, expected in zip(fused, composed):
        assert_close(got, expected, 1e-12)
    assert_close(fused_x_grad, stored.grad, 1e-12)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_gradients_match_finite_differences(kernels, reverse):
    inputs = make_inputs(3, 2, 2, 2, mg.float64, seed=3)

    def layer(*args):
        return rnn.lstm_layer(*args, reverse=reverse)

    assert gradcheck(layer, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_whole_sequence_is_one_graph_node(kernels):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make_inputs(6, 1, 3, 2, mg.float32)
    out, h_n, c_n = rnn.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    assert type(out.grad_fn).__name__ == "LSTMLayerBackward"
    assert h_n.grad_fn is out.grad_fn and c_n.grad_fn is out.grad_fn
    assert all(edge[0].variable is leaf for edge, leaf in zip(out.grad_fn.next_functions, (x, h0, c0, w_ih, w_hh)))


def test_inputs_that_do_not_require_grad_get_none(kernels):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make_inputs(3, 1, 2, 2, mg.float32)
    x = x.detach()
    h0, c0 = mg.zeros(1, 2), mg.zeros(1, 2)
    out, _, _ = rnn.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    out.sum().backward()
    assert x.grad is None and h0.grad is None
    assert w_ih.grad is not None and b_hh.grad is not None
    assert_close(b_ih.grad, b_hh.grad, 0.0)


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_an_input_that_needs_no_gradient_gets_none_computed(kernels, monkeypatch, dtype, reverse):
    """When x needs no gradient the kernel is given an empty grad_x, leaves it empty (its product
    is skipped), and every other gradient is the same bits as when x's is computed."""
    inputs = make_inputs(4, 3, 5, 20, dtype)  # 4H = 80: more than a vector's lanes
    spy = GradXSpy(kernels, "lstm_backward")
    monkeypatch.setattr(rnn, "K", spy)
    with_x = run(rnn.lstm_layer, inputs, reverse)
    without_x = run(rnn.lstm_layer, [inputs[0].detach(), *inputs[1:]], reverse)
    assert [len(buffer) for buffer in spy.grad_x] == [4 * 3 * 5, 0]
    assert with_x[3] is not None and without_x[3] is None  # x's gradient
    for got, expected in zip(without_x[:3] + without_x[4:], with_x[:3] + with_x[4:]):
        assert got.tolist() == expected.tolist()


@pytest.mark.skipif(compiled is None, reason="the Cython core is not built")
def test_cython_backward_takes_grad_x_empty_or_whole():
    """An empty grad_x is accepted (x's gradient not wanted); any other wrong size raises before
    the kernel writes anything."""
    steps, batch, features, hidden = 2, 1, 3, 2

    def zeros(n):
        return array("f", bytes(4 * n))

    inputs = [zeros(n) for n in (6, 24, 16, 2, 2, 4, 16, 4, 4, 2, 2)] + [(steps, batch, features, hidden), False]
    grads = [zeros(n) for n in (24, 16, 8, 2, 2)]
    compiled.lstm_backward(*inputs, zeros(0), *grads)
    with pytest.raises(ValueError, match="grad_x holds 5 elements but 6 are expected"):
        compiled.lstm_backward(*inputs, zeros(5), *grads)


def test_no_graph_under_no_grad(kernels):
    inputs = make_inputs(2, 1, 2, 2, mg.float32)
    with mg.no_grad():
        out, h_n, _ = rnn.lstm_layer(*inputs)
    assert out.grad_fn is None and not out.requires_grad and h_n.grad_fn is None


def test_modifying_the_output_in_place_is_caught(kernels):
    inputs = make_inputs(2, 1, 2, 2, mg.float32)
    out, _, _ = rnn.lstm_layer(*inputs)
    loss = (out * out).sum()
    with mg.no_grad():
        out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_empty_sequence_passes_the_state_through(kernels):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make_inputs(0, 2, 3, 2, mg.float64)
    out, h_n, c_n = rnn.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    assert out.shape == (0, 2, 2)
    assert h_n.tolist() == h0.tolist() and c_n.tolist() == c0.tolist()
    (h_n.sum() + 2 * c_n.sum()).backward()
    assert h0.grad.tolist() == [[1.0, 1.0]] * 2 and c0.grad.tolist() == [[2.0, 2.0]] * 2
    assert w_ih.grad.tolist() == [[0.0] * 3] * 8


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.__setitem__(0, a[0][0]), "input must have 3 dimensions"),
        (lambda a: a.__setitem__(1, mg.zeros(2, 3)), "Expected h0 size"),
        (lambda a: a.__setitem__(2, mg.zeros(1, 2, 3)), "Expected c0 size"),
        (lambda a: a.__setitem__(3, mg.zeros(12, 2)), "weight_ih must have shape"),
        (lambda a: a.__setitem__(4, mg.zeros(12, 4)), "weight_hh must have shape"),
        (lambda a: a.__setitem__(5, None), "b_ih and b_hh must be given together"),
        (lambda a: a.__setitem__(6, mg.zeros(4)), "bias_hh must have shape"),
        (lambda a: a.__setitem__(3, a[3].double()), "expected all LSTM tensors to be minigrad.float32"),
        (lambda a: a.__setitem__(0, mg.zeros(2, 1, 3, dtype=mg.int64)), "must be floating point"),
    ],
)
def test_bad_inputs_raise(kernels, change, message):
    args = [t.detach() for t in make_inputs(2, 1, 3, 3, mg.float32)]
    change(args)
    with pytest.raises(RuntimeError, match=message):
        rnn.lstm_layer(*args)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_bidirectional_lstm(kernels, dtype):
    torch = pytest.importorskip("torch")
    steps, batch, features, hidden = 5, 2, 3, 4
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(features, hidden, bidirectional=True).to(getattr(torch, dtype))
    x = torch.randn(steps, batch, features, dtype=lstm.weight_ih_l0.dtype, requires_grad=True)
    h0 = torch.randn(2, batch, hidden, dtype=x.dtype, requires_grad=True)
    c0 = torch.randn(2, batch, hidden, dtype=x.dtype, requires_grad=True)
    out, (h_n, c_n) = lstm(x, (h0, c0))
    weights = torch.randn(steps, batch, 2 * hidden, dtype=x.dtype)
    ((out * weights).sum() + (h_n * h_n).sum() + c_n.sum()).backward()

    mdt = getattr(mg, dtype)

    def mine(t):
        return mg.tensor(t.detach().tolist(), dtype=mdt).requires_grad_()

    mx, mh0, mc0 = mine(x), mine(h0), mine(c0)
    params = {name: mine(p) for name, p in lstm.named_parameters()}
    outs, hs, cs = [], [], []
    for d, suffix in enumerate(["l0", "l0_reverse"]):
        o, h, c = rnn.lstm_layer(
            mx, mh0[d], mc0[d],
            params[f"weight_ih_{suffix}"], params[f"weight_hh_{suffix}"],
            params[f"bias_ih_{suffix}"], params[f"bias_hh_{suffix}"], reverse=d == 1,
        )  # fmt: skip
        outs.append(o)
        hs.append(h)
        cs.append(c)
    m_out, m_h, m_c = mg.cat(outs, 2), mg.stack(hs), mg.stack(cs)
    ((m_out * mg.tensor(weights.tolist(), dtype=mdt)).sum() + (m_h * m_h).sum() + m_c.sum()).backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    pairs = [(m_out, out), (m_h, h_n), (m_c, c_n), (mx.grad, x.grad), (mh0.grad, h0.grad), (mc0.grad, c0.grad)]
    pairs += [(params[name].grad, p.grad) for name, p in lstm.named_parameters()]
    for got, expected in pairs:
        assert_close(got, mg.tensor(expected.detach().tolist(), dtype=mdt), tol)
