"""The fused optimizer steps (``K.adam``, ``K.sgd``): bit for bit torch 2.13.0's single-tensor
``Adam``, ``AdamW`` and ``SGD`` (run with ATEN_CPU_CAPABILITY=avx2, see conftest.py).

The end-to-end trajectories of test_optim_adam.py / test_optim_sgd.py go through tanh and a
matrix product, whose last bits differ from torch's, so they compare within a tolerance. Here
both libraries get the same gradients, made of correctly rounded elementwise ops only
(``noise + p * 0.5``), so every step of the optimizer itself must give torch's bits: float32 and
float64, every option, non-contiguous parameters, and gradients with 0, -0, subnormals, huge
values, inf and nan. The kernels' own parity (pure against Cython) is in test_kernels_parity.py.

One op is not torch's: torch's CPU ``sqrt`` is MKL's (VML), which is faithful, not correctly
rounded (about 17% of float32 results and 1.4% of float64 ones are the other neighbour, one ulp
away); minigrad's sqrt is IEEE's. So Adam is compared with torch's Adam running with a correctly
rounded ``Tensor.sqrt`` (bit for bit: every other op is checked), and with torch's own within a
per-element tolerance; SGD (no sqrt) with torch's own, bit for bit.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

import minigrad as mg
import minigrad.optim as optim

ADAM_OPTIONS = [
    {},
    {"lr": 0.05},
    {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "maximize": True},
    {"lr": 0.3, "betas": (0.3, 0.5), "weight_decay": 0.5, "amsgrad": True, "maximize": True},
    {"lr": 0.01, "betas": (0.0, 0.0)},  # lerp weight 1: lerp's other branch, fma(w - 1, gap, end)
]
ADAMW_OPTIONS = [{}, {"lr": 0.02, "weight_decay": 0.5}, {"lr": 0.01, "amsgrad": True, "maximize": True}]
SGD_OPTIONS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.02, "maximize": True},
    {"lr": 0.03, "momentum": 0.5, "weight_decay": 0.01, "nesterov": True, "maximize": True},
]
CASES = [("Adam", o) for o in ADAM_OPTIONS] + [("AdamW", o) for o in ADAMW_OPTIONS] + [("SGD", o) for o in SGD_OPTIONS]
SPECIALS = [0.0, -0.0, 1e-45, -1e-40, 1e-30, 3e38, -3e38, 1e30, math.inf, -math.inf, math.nan]


def _torch():
    return pytest.importorskip("torch")


def _bits(values: list[float], dtype: str) -> list:
    """Each value's bit pattern (signed zeros apart), with every NaN as one value."""
    code = "f" if dtype == "float32" else "d"
    return ["nan" if v != v else struct.pack(code, v) for v in values]


def _state(optimizer, params) -> list[list[float]]:
    """The parameters' values and their state tensors' values (in a fixed order)."""
    rows = [p.detach().reshape(-1).tolist() for p in params]
    for p in params:
        state = optimizer.state[p]
        rows += [state[k].reshape(-1).tolist() for k in sorted(state) if k != "step"]
    return rows


def _run(lib, name, options, dtype, steps=30, seed=0, specials=0.0, transposed=False, length=7):
    """``steps`` steps on two parameters (a (3, 5) matrix, transposed when asked, and a vector of
    ``length``),
    the gradient ``noise + p * 0.5`` with noise over many magnitudes (and special values mixed in
    at the rate ``specials``). Returns the bits of the parameters and the state after each step."""
    rng = random.Random(seed)
    dt = getattr(lib, dtype)

    def noise(n):
        return [
            rng.choice(SPECIALS) if rng.random() < specials else rng.uniform(-1, 1) * 2.0 ** rng.randint(-20, 4)
            for _ in range(n)
        ]

    w = lib.tensor(noise(15), dtype=dt).reshape(3, 5)
    w = (w.t() if transposed else w).requires_grad_()
    b = lib.tensor(noise(length), dtype=dt).requires_grad_()
    params = [w, b]
    kwargs = {"foreach": False} if lib is not mg else {}
    optimizer = getattr(lib.optim, name)(params, **options, **kwargs)
    history = []
    for _ in range(steps):
        for p in params:
            p.grad = lib.tensor(noise(p.numel()), dtype=dt).reshape(p.shape) + p.detach() * 0.5
        optimizer.step()
        history.append([_bits(row, dtype) for row in _state(optimizer, params)])
    return history


def _assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"step {step} differs"


@pytest.fixture
def ieee_torch(monkeypatch):
    """torch with ``Tensor.sqrt`` correctly rounded (math.sqrt in double, then to the dtype: exact
    for float32 too), in place of MKL's faithful one."""
    torch = _torch()

    def sqrt(self):
        values = [math.sqrt(v) if v >= 0 else math.nan for v in self.reshape(-1).tolist()]
        return torch.tensor(values, dtype=self.dtype).reshape(self.shape)

    monkeypatch.setattr(torch.Tensor, "sqrt", sqrt)
    return torch


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, options", CASES)
def test_steps_are_torch_bit_for_bit(name, options, dtype, ieee_torch):
    _assert_same(_run(mg, name, options, dtype), _run(ieee_torch, name, options, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, options", CASES)
def test_special_values_are_torch_bit_for_bit(name, options, dtype, ieee_torch):
    args = (name, options, dtype, 4, 1, 0.3)
    _assert_same(_run(mg, *args), _run(ieee_torch, *args))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, options", CASES)
def test_long_parameters_are_torch_bit_for_bit(name, options, dtype, ieee_torch):
    """A parameter of 203 elements: the compiled steps run on vector lanes (up to 16 floats),
    with a remainder, where the 7 and 15 elements above may run on the remainder loop only."""
    args = (name, options, dtype, 5, 3, 0.02, False, 203)
    _assert_same(_run(mg, *args), _run(ieee_torch, *args))


@pytest.mark.parametrize("name, options", [CASES[6], CASES[-1], ("SGD", {"lr": 0.1, "momentum": 0.9})])
def test_non_contiguous_parameters_are_torch_bit_for_bit(name, options, ieee_torch):
    args = (name, options, "float32", 10, 2, 0.0, True)
    _assert_same(_run(mg, *args), _run(ieee_torch, *args))


@pytest.mark.parametrize("name, options", [c for c in CASES if c[0] == "SGD"])
def test_sgd_is_torch_bit_for_bit_with_its_own_ops(name, options):
    torch = _torch()
    assert torch.Tensor.sqrt is not None  # (SGD takes no square root: nothing to replace)
    _assert_same(_run(mg, name, options, "float32"), _run(torch, name, options, "float32"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, options", [c for c in CASES if c[0] != "SGD"])
def test_adam_is_torch_within_its_sqrt_with_its_own_ops(name, options, dtype):
    """Against torch's own (MKL) sqrt: one ulp in a denominator moves a step by about one ulp of
    the step (at most lr), so after 30 steps each value is within 60 ulp of lr of torch's, plus
    what the gradient's feedback (noise + p / 2) adds to the state: 2 ulp relative."""
    torch = _torch()
    ulp = 2.0**-23 if dtype == "float32" else 2.0**-52
    lr = options.get("lr", 1e-3)
    code = "f" if dtype == "float32" else "d"
    ours, theirs = _run(mg, name, options, dtype), _run(torch, name, options, dtype)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for row_a, row_b in zip(a, b):
            for x, y in zip(row_a, row_b):
                x, y = struct.unpack(code, x)[0], struct.unpack(code, y)[0]
                assert abs(x - y) <= 60 * ulp * lr + 2 * ulp * abs(y), f"step {step}: {x} != {y}"


def test_a_transposed_parameter_updates_its_base():
    base = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    p = base.t().requires_grad_()
    p.grad = mg.ones(2, 2)
    version = p._version
    optim.SGD([p], lr=0.5).step()
    assert base.tolist() == [[0.5, 1.5], [2.5, 3.5]] and p.tolist() == [[0.5, 2.5], [1.5, 3.5]]
    assert p._version > version


def test_adam_float32_first_step_by_hand():
    # one element, g = 3, lr = 0.1, default betas: m = fma(0.1f, 3 - 0, 0) = f32(0.3),
    # v = fma(f32(0.001) * 3, 3, 0) = f32(f32(0.001) * 3) * 3 rounded, denom = f32(sqrt(v) / f32(sqrt(0.001))) + 1e-8f,
    # p = 1 + f32(f32(-0.1 / 0.1) * m) / denom: the float32 steps spelled out with struct
    def f(x):
        return struct.unpack("f", struct.pack("f", x))[0]

    p = mg.tensor([1.0]).requires_grad_()
    p.grad = mg.tensor([3.0])
    optimizer = optim.Adam([p], lr=0.1)
    optimizer.step()
    m = f(f(0.1) * 3.0)
    v = f(f(f(0.001) * 3.0) * 3.0)
    denom = f(f(f(math.sqrt(v)) / f((1 - 0.999) ** 0.5)) + f(1e-8))
    expected = f(1.0 + f(f(f(-(0.1 / (1 - 0.9))) * m) / denom))
    assert optimizer.state[p]["exp_avg"].item() == m and optimizer.state[p]["exp_avg_sq"].item() == v
    assert p.item() == expected
