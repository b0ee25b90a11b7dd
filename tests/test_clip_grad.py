"""``nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` / ``get_total_norm`` against torch 2.13.0
(its AVX2 kernels: ``ATEN_CPU_CAPABILITY=avx2``, set in conftest): the returned total norm and
every clipped gradient element are equal bit for bit, for gradient sizes on both sides of the
kernel's 8-lane blocks and 4-element tail groups; plus ``parameters_to_vector`` and
``vector_to_parameters``."""

from __future__ import annotations

import math
import random
import warnings

import pytest

import minigrad as mg
import minigrad.nn as mnn

torch = pytest.importorskip("torch")

SIZES = [
    (1,),
    (2,),
    (3,),
    (4,),
    (5,),
    (7,),
    (8,),
    (9,),
    (12,),
    (13,),
    (15,),
    (16,),
    (17,),
    (31,),
    (3, 5),
    (10, 10),
    (1000,),
]


def _pair(shapes, dtype: str, seed: int, scale: float):
    """Parameters of the given shapes in both libraries, with equal random gradients."""
    rng = random.Random(seed)
    t_dtype, m_dtype = getattr(torch, dtype), getattr(mg, dtype)
    t_params, m_params = [], []
    for shape in shapes:
        n = math.prod(shape)
        values = [rng.gauss(0, 1) * scale for _ in range(n)]
        grads = [rng.gauss(0, 1) * scale * rng.choice([1, 10]) for _ in range(n)]
        t_p = torch.tensor(values, dtype=t_dtype).reshape(shape).requires_grad_()
        m_p = mg.tensor(values, dtype=m_dtype).reshape(shape).detach().requires_grad_()
        t_p.grad = torch.tensor(grads, dtype=t_dtype).reshape(shape)
        m_p.grad = mg.tensor(grads, dtype=m_dtype).reshape(shape)
        t_params.append(t_p)
        m_params.append(m_p)
    return t_params, m_params


def _same_grads(m_params, t_params):
    for m_p, t_p in zip(m_params, t_params):
        if t_p.grad is None:
            assert m_p.grad is None
        else:
            assert m_p.grad.tolist() == t_p.grad.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 2, math.inf, "inf", 1.0, 3.0])
def test_clip_grad_norm_bit_for_bit(dtype, norm_type):
    rng = random.Random(0)
    for trial in range(25):
        shapes = [rng.choice(SIZES) for _ in range(rng.randint(1, 5))]
        scale = rng.choice([1e-3, 1.0, 30.0])
        max_norm = rng.choice([0.5, 1.0, 5.0, 1e4])
        t_params, m_params = _pair(shapes, dtype, trial, scale)
        t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type=norm_type)
        m_total = mnn.utils.clip_grad_norm_(m_params, max_norm, norm_type=norm_type)
        assert m_total.dtype.name == dtype and m_total.shape == ()
        assert m_total.item() == t_total.item(), (shapes, scale)
        _same_grads(m_params, t_params)


def test_single_tensor_generator_missing_grads_and_mixed_dtypes():
    t_params, m_params = _pair([(17,), (4, 3)], "float32", 1, 3.0)
    t_params[1].grad, m_params[1].grad = None, None
    assert mnn.utils.clip_grad_norm_(m_params[0], 0.1).item() == torch.nn.utils.clip_grad_norm_(t_params[0], 0.1).item()
    _same_grads(m_params, t_params)
    t_params, m_params = _pair([(9,), (5,)], "float32", 2, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_((p for p in t_params), 1.0)
    m_total = mnn.utils.clip_grad_norm_((p for p in m_params), 1.0)
    assert m_total.item() == t_total.item()
    _same_grads(m_params, t_params)
    # a float64 gradient among float32 ones: the norms are stacked (promoted) to float64
    t32, m32 = _pair([(13,)], "float32", 3, 2.0)
    t64, m64 = _pair([(6,)], "float64", 4, 2.0)
    t_total = torch.nn.utils.clip_grad_norm_(t32 + t64, 0.7)
    m_total = mnn.utils.clip_grad_norm_(m32 + m64, 0.7)
    assert (m_total.dtype.name, m_total.item()) == ("float64", t_total.item())
    _same_grads(m32 + m64, t32 + t64)
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        assert mnn.utils.clip_grad_norm_((p for p in []), 1.0).item() == 0.0


def test_non_finite_norms():
    for value in (math.inf, math.nan):
        t_params, m_params = _pair([(5,)], "float32", 0, 1.0)
        t_params[0].grad[2] = value
        m_params[0].grad[2] = value
        for lib, params in ((torch, t_params), (mg, m_params)):
            with pytest.raises(
                RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"
            ):
                lib.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
        t_total = torch.nn.utils.clip_grad_norm_(t_params, 1.0)
        m_total = mnn.utils.clip_grad_norm_(m_params, 1.0)
        assert str(m_total.item()) == str(t_total.item())
        assert str(m_params[0].grad.tolist()) == str(t_params[0].grad.tolist())


def test_foreach_and_deprecated_alias():
    t_params, m_params = _pair([(5,), (19,)], "float32", 0, 1.0)
    for lib, params in ((torch, t_params), (mg, m_params)):
        lib.nn.utils.clip_grad_norm_(params, 1.5, foreach=True)
        lib.nn.utils.clip_grad_value_(params, 0.2, foreach=True)
        with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
            lib.nn.utils.clip_grad_norm(params, 0.5, foreach=False)
    _same_grads(m_params, t_params)
    assert mnn.utils.get_total_norm([]).item() == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_value(dtype):
    t_params, m_params = _pair([(17,), (3, 4)], dtype, 5, 2.0)
    t_params[0].grad[0] = math.nan
    m_params[0].grad[0] = math.nan
    torch.nn.utils.clip_grad_value_(t_params, 0.3)
    mnn.utils.clip_grad_value_(m_params, 0.3)
    assert str(m_params[0].grad.tolist()) == str(t_params[0].grad.tolist())
    assert m_params[1].grad.tolist() == t_params[1].grad.tolist()


def test_training_loop_with_clipping_matches_torch():
    """SGD steps of a small network with clipping agree with torch's to float32 precision (the
    backward of tanh and of the loss are not bit-exact in minigrad yet, so the gradients may
    differ in their last bits before clipping; the tests above give clipping equal gradients)."""
    results = []
    for lib in (mg, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.Tanh(), lib.nn.Linear(16, 3))
        optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
        x, y = lib.randn(10, 6), lib.randint(0, 3, (10,))
        trace = []
        for _ in range(5):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            norm = lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            trace.append(
                [loss.item(), norm.item()] + [v for p in model.parameters() for v in p.grad.reshape(-1).tolist()]
            )
            optimizer.step()
        results.append(trace)
    ours, theirs = results
    assert ours[0][0] == theirs[0][0]  # the first loss
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-7)


def test_parameters_to_vector_and_back():
    t_params, m_params = _pair([(2, 3), (4,)], "float32", 7, 1.0)
    t_vec = torch.nn.utils.parameters_to_vector(t_params)
    m_vec = mnn.utils.parameters_to_vector(m_params)
    assert m_vec.tolist() == t_vec.tolist() and m_vec.requires_grad
    (m_vec * mg.arange(10.0)).sum().backward()
    assert m_params[0].grad.tolist() != [[0.0] * 3] * 2  # the gradient reached the parameters
    with mg.no_grad():
        mnn.utils.vector_to_parameters(mg.arange(10.0), m_params)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.arange(10.0), t_params)
    assert [p.tolist() for p in m_params] == [p.tolist() for p in t_params]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        mnn.utils.vector_to_parameters([1.0], m_params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnn.utils.clip_grad_value_(m_params, 1.0)
