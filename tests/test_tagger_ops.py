"""The ops of the tagger's training step that issue 16 made faster, bit for bit against torch
2.13.0 (ATEN_CPU_CAPABILITY=avx2, from conftest): max along a dim and its backward (one kernel),
logsumexp and its backward (one kernel; the CRF's forward algorithm),
strided copies whose dims merge into long rows (slices, ``cat``, the slices' backward),
``where``/``masked_fill`` and broadcast arithmetic read in place, row by row."""

from __future__ import annotations

import math
import random
import struct

import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def bits(values: list, dtype: str) -> list:
    """Each float's bit pattern (so -0.0 differs from 0.0), every NaN as one (their signs are
    not specified)."""
    fmt = "f" if dtype == "float32" else "d"
    return ["nan" if v != v else struct.unpack("<I" if fmt == "f" else "<Q", struct.pack("<" + fmt, v))[0]
            for v in values]  # fmt: skip


def pair(shape: tuple, dtype: str, seed: int, specials: bool = False) -> tuple:
    """The same random tensor in minigrad and torch (leaves that require grad)."""
    rng = random.Random(seed)
    n = math.prod(shape)
    values = [rng.choice([0.0, -0.0, 1.5, -math.inf]) if specials and rng.random() < 0.2 else rng.uniform(-2, 2)
              for _ in range(n)]  # fmt: skip
    m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(shape).requires_grad_()
    t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape).requires_grad_()
    return m, t


def assert_bits(m, t) -> None:
    assert tuple(m.shape) == tuple(t.shape)
    dtype = str(t.dtype).removeprefix("torch.").removeprefix("minigrad.")
    assert bits(m.flatten().tolist(), dtype) == bits(t.flatten().tolist(), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_and_min_along_a_dim_backward_bit_for_bit(dim, dtype):
    """The gradient lands at each winner's index, -0.0 and NaN gradients kept as torch keeps them
    (torch scatters them into zeros), the other places are +0.0; ties go to the first winner."""
    for op in ("max", "min"):
        m, t = pair((4, 5, 3), dtype, seed=dim + 7, specials=True)
        grad_values = [-0.0, math.nan, 2.5, -1.25, 0.0] * 4
        mv, _ = getattr(m, op)(dim)
        tv, _ = getattr(t, op)(dim)
        count = mv.numel()
        mg_grad = mg.tensor(grad_values[:count], dtype=getattr(mg, dtype)).reshape(mv.shape)
        torch_grad = torch.tensor(grad_values[:count], dtype=getattr(torch, dtype)).reshape(tv.shape)
        mv.backward(mg_grad)
        tv.backward(torch_grad)
        assert_bits(mv, tv)
        assert_bits(m.grad, t.grad)


def test_max_backward_of_a_non_contiguous_input_and_keepdim():
    m, t = pair((3, 4, 6), "float32", seed=3)
    mv, mi = m.transpose(0, 2)[:, 1:].max(1, keepdim=True)
    tv, ti = t.transpose(0, 2)[:, 1:].max(1, keepdim=True)
    (mv * mv).sum().backward()
    (tv * tv).sum().backward()
    assert mi.tolist() == ti.tolist()
    assert_bits(m.grad, t.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_character_windows_forward_and_backward_bit_for_bit(dtype):
    """The char-CNN's windows: slices of a (F, W + 2, D) tensor side by side (strided copies of
    rows of W * D elements into rows of D), then the slices' backward (rows written into zeros)
    and the sum of the three."""
    width = 7
    m, t = pair((5, width + 2, 4), dtype, seed=11)
    mw = mg.cat([m[:, k:k + width] for k in range(3)], 2)
    tw = torch.cat([t[:, k:k + width] for k in range(3)], 2)
    assert_bits(mw, tw)
    weights = pair(tuple(tw.shape), dtype, seed=12)
    (mw * weights[0].detach()).sum().backward()
    (tw * weights[1].detach()).sum().backward()
    assert_bits(m.grad, t.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_strided_copies_of_every_layout(dtype):
    """contiguous() of permuted, sliced, stepped and expanded views: dims merge where they can."""
    rng = random.Random(5)
    values = [rng.randint(-50, 50) for _ in range(2 * 3 * 4 * 5)]
    m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(2, 3, 4, 5)
    t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(2, 3, 4, 5)
    views = [
        lambda x: x[:, 1:],
        lambda x: x[:, :, 1:3],
        lambda x: x[..., ::2],
        lambda x: x.permute(0, 2, 1, 3),
        lambda x: x.transpose(1, 3),
        lambda x: x[1:, 2:, 3:, 4:],
        lambda x: x[:, ::2, ::3],
    ]
    for view in views:
        got, expected = view(m).contiguous(), view(t).contiguous()
        assert got.tolist() == expected.tolist()
        target_m, target_t = mg.zeros(2, 3, 4, 5, dtype=m.dtype), torch.zeros(2, 3, 4, 5, dtype=t.dtype)
        view(target_m).copy_(got)
        view(target_t).copy_(expected)
        assert target_m.tolist() == target_t.tolist()
    expanded = m[:, :1, :, 2:].expand(2, 4, 4, 3).contiguous()
    assert expanded.tolist() == t[:, :1, :, 2:].expand(2, 4, 4, 3).contiguous().tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_fill_with_a_broadcast_mask_bit_for_bit(dtype):
    """The char-CNN's masked_fill: a (F, W, 1) mask over (F, W, C) scores and a scalar, read in
    place (stride 0); the gradient flows only where the mask is off."""
    rng = random.Random(2)
    m, t = pair((6, 5, 8), dtype, seed=21)
    keep = [[rng.random() < 0.6] for _ in range(30)]
    mask_m, mask_t = mg.tensor(keep).reshape(6, 5, 1), torch.tensor(keep).reshape(6, 5, 1)
    for transform in (lambda x: x, lambda x: x.transpose(0, 1)):
        mo = transform(m).masked_fill(~transform(mask_m), float("-inf"))
        to = transform(t).masked_fill(~transform(mask_t), float("-inf"))
        assert_bits(mo, to)
        mo.max(1).values.sum().backward()
        to.max(1).values.sum().backward()
        assert_bits(m.grad, t.grad)


@pytest.mark.parametrize("shape_a, shape_b", [((4, 1, 40), (1, 3, 40)), ((7, 33), (33,)), ((5, 2), (1, 2)),
                                              ((3, 20, 2), (3, 1, 2)), ((2, 3, 17), (2, 1, 1))])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "lt"])
def test_broadcast_arithmetic_bit_for_bit(shape_a, shape_b, op):
    """Binary ops over broadcast and transposed operands (long rows read in place, short rows
    through copies), as the tagger's shared dropout mask (1, B, D) times (T, B, D)."""
    a_m, a_t = pair(shape_a, "float32", seed=31, specials=True)
    b_m, b_t = pair(shape_b, "float32", seed=32, specials=True)
    for transform in (lambda x: x, lambda x: x.transpose(0, -1).contiguous().transpose(0, -1)):
        got = getattr(transform(a_m.detach()), op)(b_m.detach())
        expected = getattr(transform(a_t.detach()), op)(b_t.detach())
        if op == "lt":
            assert got.tolist() == expected.tolist()
        else:
            assert_bits(got, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_logsumexp_backward_is_the_composed_formula_bit_for_bit(dim, dtype):
    """The one-pass kernel rounds each step as exp(x - y) * grad done op by op (torch's formula;
    the values agree with torch's to rounding, whose float32 forward sums in another order);
    -inf entries (a CRF's impossible transitions) get a zero gradient."""
    m, t = pair((4, 18, 18), dtype, seed=41 + dim, specials=True)
    my, ty = m.logsumexp(dim), t.logsumexp(dim)
    mw, tw = pair(tuple(ty.shape), dtype, seed=50)
    my.backward(mw.detach())
    ty.backward(tw.detach())
    composed = (m.detach() - my.detach().unsqueeze(dim)).exp() * mw.detach().unsqueeze(dim)
    assert_bits(m.grad, composed)
    expected = torch.tensor(m.grad.tolist(), dtype=t.dtype)
    assert torch.allclose(expected, t.grad, rtol=2e-6 if dtype == "float32" else 1e-14, atol=0, equal_nan=True)


def test_logsumexp_backward_with_a_root_gradient_of_another_dtype():
    """A float64 gradient into a float32 logsumexp: the product is taken in float64, then cast
    (as torch's grad * exp(x - y) promotes)."""
    m, _ = pair((3, 5), "float32", seed=61)
    grad = mg.tensor([0.1, -2.0, 3.0], dtype=mg.float64)
    y = m.logsumexp(1)
    y.backward(grad)
    assert_bits(m.grad, ((m.detach() - y.detach().unsqueeze(1)).exp() * grad.unsqueeze(1)).float())
