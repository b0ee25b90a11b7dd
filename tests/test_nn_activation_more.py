"""The activations beyond relu/tanh/sigmoid against torch 2.13.0: values and gradients (float32
and float64, non-contiguous inputs, special values), float64 gradcheck, ``inplace``, the modules'
reprs and torch's errors."""

from __future__ import annotations

import math
import random

import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd import gradcheck

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402
from conftest import check_op, check_raises  # noqa: E402 - needs torch

CASES = [
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {"alpha": 1.5}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("logsigmoid", {}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("relu6", {}),
    ("softsign", {}),
    ("mish", {}),
    ("silu", {}),
    ("tanhshrink", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("softmin", {"dim": 1}),
    ("softmin", {"dim": 0}),
]


def _ids(case):
    return case[0] + "".join(f"-{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("layout", ["contiguous", "permuted", "strided"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch(case, dtype, layout):
    name, kwargs = case
    check_op(
        [(5, 8)],
        lambda x: getattr(TF, name)(x, **kwargs),
        lambda x: getattr(F, name)(x, **kwargs),
        dtype=dtype,
        layout=layout,
        low=-7.0,
        high=7.0,
    )


SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 3.0, -3.0, 6.0, 1.0, -1.0, 20.0, 25.0, -25.0, 88.0, -104.0, 1e4, -1e4]


@pytest.mark.parametrize("case", CASES[:-2], ids=_ids)
def test_special_values(case):
    """Bounds of the piecewise definitions, overflow edges, signed zero, inf and nan."""
    name, kwargs = case
    values = SPECIAL + [math.inf, -math.inf, math.nan]
    check_op(
        [(len(values),)],
        lambda x: getattr(TF, name)(x, **kwargs),
        lambda x: getattr(F, name)(x, **kwargs),
        values=[values],
        grad=False,
    )
    check_op(
        [(len(SPECIAL),)],
        lambda x: getattr(TF, name)(x, **kwargs),
        lambda x: getattr(F, name)(x, **kwargs),
        values=[SPECIAL],
    )


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in ("hardtanh", "relu6")], ids=_ids)
def test_gradcheck_float64(case):
    name, kwargs = case
    rng = random.Random(0)
    # away from the kinks at 0, +-1, +-3 and 6
    values = [rng.choice([-1, 1]) * rng.uniform(0.1, 0.9) + rng.choice([-4.5, -2, 0, 2, 4.5]) for _ in range(12)]
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True).reshape(3, 4)
    assert gradcheck(lambda t: getattr(F, name)(t, **kwargs), (x,))


INPLACE = ["leaky_relu", "elu", "selu", "celu", "hardtanh", "relu6", "mish", "silu", "hardsigmoid", "hardswish"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace(name):
    """``inplace=True`` overwrites a non-leaf input and backpropagates through it."""

    def run(lib, fn):
        leaf = lib.tensor([-3.5, -1.0, -0.2, 0.0, 0.4, 2.5, 7.0], requires_grad=True)
        y = leaf * 1.5
        out = fn(y, inplace=True)
        assert out is y
        (out * lib.arange(7).to(out.dtype)).sum().backward()
        return out.tolist(), leaf.grad.tolist()

    t_vals, t_grad = run(torch, getattr(TF, name))
    m_vals, m_grad = run(mg, getattr(F, name))
    assert m_vals == pytest.approx(t_vals, rel=1e-6, abs=1e-7)
    assert m_grad == pytest.approx(t_grad, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize(
    "name, args",
    [("elu_", (0.5,)), ("celu_", (2.0,)), ("selu_", ()), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 1.5))],
)
def test_inplace_function_variants(name, args):
    t_x, m_x = torch.tensor([-2.0, -0.25, 0.0, 0.75, 3.0]), mg.tensor([-2.0, -0.25, 0.0, 0.75, 3.0])
    t_out, m_out = getattr(TF, name)(t_x, *args), getattr(F, name)(m_x, *args)
    assert t_out is t_x and m_out is m_x
    assert m_x.tolist() == pytest.approx(t_x.tolist(), rel=1e-6)


MODULES = [
    ("GELU", ()),
    ("GELU", ("tanh",)),
    ("LeakyReLU", ()),
    ("LeakyReLU", (0.2, True)),
    ("ELU", ()),
    ("ELU", (0.5, True)),
    ("CELU", (2.0,)),
    ("SELU", ()),
    ("SELU", (True,)),
    ("Softplus", ()),
    ("Softplus", (2.0, 5.0)),
    ("LogSigmoid", ()),
    ("Hardtanh", ()),
    ("Hardtanh", (-2.0, 3.0, True)),
    ("ReLU6", ()),
    ("ReLU6", (True,)),
    ("Softsign", ()),
    ("Mish", ()),
    ("Mish", (True,)),
    ("SiLU", ()),
    ("SiLU", (True,)),
    ("Softmin", ()),
    ("Softmin", (1,)),
    ("Tanhshrink", ()),
    ("Hardsigmoid", (True,)),
    ("Hardswish", ()),
    ("Hardswish", (True,)),
]


@pytest.mark.parametrize("name, args", MODULES)
def test_modules(name, args):
    t_mod, m_mod = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    assert repr(m_mod) == repr(t_mod)
    if name == "Softmin" and not args:
        return
    inplace = "inplace" in repr(t_mod) or (name in ("Hardsigmoid", "Hardswish") and args)
    check_op([(3, 4)], (lambda x: t_mod(x * 1)) if inplace else t_mod, (lambda x: m_mod(x * 1)) if inplace else m_mod)


def test_errors_match_torch():
    check_raises(
        lambda: TF.gelu(torch.ones(2), approximate="x"), lambda: F.gelu(mg.ones(2), approximate="x"), exact=True
    )
    check_raises(
        lambda: TF.hardtanh(torch.ones(2), 2.0, 1.0), lambda: F.hardtanh(mg.ones(2), 2.0, 1.0), exact=True
    )
    check_raises(lambda: torch.nn.Hardtanh(1.0, 1.0), lambda: nn.Hardtanh(1.0, 1.0), exact=True)
    check_raises(lambda: TF.celu(torch.ones(2), alpha=0.0), lambda: F.celu(mg.ones(2), alpha=0.0), exact=True)
    for name in ("gelu", "leaky_relu", "elu", "silu", "softplus", "logsigmoid", "mish"):
        check_raises(
            lambda name=name: getattr(TF, name)(torch.ones(2, dtype=torch.long)),
            lambda name=name: getattr(F, name)(mg.ones(2, dtype=mg.long)),
            exact=True,
        )


def test_hardtanh_and_relu6_keep_integers():
    x = [-9, -1, 0, 3, 8]
    assert F.relu6(mg.tensor(x)).tolist() == TF.relu6(torch.tensor(x)).tolist()
    assert F.hardtanh(mg.tensor(x)).dtype is mg.long


def test_softmin_without_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = F.softmin(mg.tensor([[1.0, 2.0], [3.0, 5.0]]))
    expected = TF.softmin(torch.tensor([[1.0, 2.0], [3.0, 5.0]]), 1)
    assert out.reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), rel=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("hardtanh", {"min_val": -0.7, "max_val": 2.5}),
     ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {})],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_piecewise_activations_are_bit_exact(name, kwargs, dtype):
    """Piecewise-linear activations involve only correctly rounded arithmetic, computed in torch's
    order: values and gradients equal torch's bit for bit on 5,000 inputs."""
    rng = random.Random(5)
    values = [rng.uniform(-8, 8) for _ in range(5000)] + [-3.0, 3.0, 0.0, -0.0, 6.0, -1.0, 1.0]
    t_x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    m_x = mg.tensor(values, dtype=getattr(mg, dtype), requires_grad=True)
    t_y, m_y = getattr(TF, name)(t_x, **kwargs), getattr(F, name)(m_x, **kwargs)
    assert m_y.tolist() == t_y.tolist()
    weights = [rng.uniform(-2, 2) for _ in values]
    (t_y * torch.tensor(weights, dtype=t_y.dtype)).sum().backward()
    (m_y * mg.tensor(weights, dtype=m_y.dtype)).sum().backward()
    assert m_x.grad.tolist() == t_x.grad.tolist()
