"""``scaled_dot_product_attention`` and ``MultiheadAttention`` against torch 2.13.0: values and
gradients of inputs and parameters with every kind of mask, initialisation bit for bit after
``manual_seed``, batch_first, unbatched inputs, kdim/vdim, and torch's errors."""

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


def _mg(t):
    if t is None or not isinstance(t, torch.Tensor):
        return t
    dtype = {torch.bool: mg.bool, torch.float64: mg.float64, torch.long: mg.long}.get(t.dtype, mg.float32)
    return mg.tensor(t.tolist(), dtype=dtype)


def _masks(length, source, seed=0):
    g = torch.Generator().manual_seed(seed)
    keep = torch.rand(length, source, generator=g) > 0.3
    keep[:, 0] = True
    return {
        "none": None,
        "bool": keep,
        "float": torch.randn(length, source, generator=g),
        "fully_masked_row": torch.tensor([[True] * source] + [[False] * source] * (length - 1)),
    }


@pytest.mark.parametrize("mask", ["none", "bool", "float", "fully_masked_row"])
@pytest.mark.parametrize("kwargs", [{}, {"scale": 0.3}, {"is_causal": True}])
def test_sdpa(mask, kwargs):
    if kwargs.get("is_causal") and mask != "none":
        return
    t_mask = _masks(3, 5)[mask]
    check_op(
        [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)],
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=t_mask, **kwargs),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_mg(t_mask), **kwargs),
    )


def test_sdpa_fully_masked_query_gives_zeros_and_gradcheck():
    q = mg.tensor([[0.3, -1.2], [1.0, 0.5]], dtype=mg.float64, requires_grad=True)
    k = mg.tensor([[0.1, 0.7], [2.0, -0.5], [0.4, 0.4]], dtype=mg.float64, requires_grad=True)
    v = mg.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]], dtype=mg.float64, requires_grad=True)
    keep = mg.tensor([[False, False, False], [True, False, True]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert out[0].tolist() == [0.0, 0.0]
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=keep), (q, k, v))
    k2, v2 = k[:2].detach().clone().requires_grad_(), v[:2].detach().clone().requires_grad_()
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k2, v2))


def test_sdpa_errors():
    q, k = torch.ones(1, 2, 3), torch.ones(1, 2, 3)
    check_raises(
        lambda: TF.scaled_dot_product_attention(q, k, k, attn_mask=torch.ones(2, 2, dtype=torch.bool), is_causal=True),
        lambda: F.scaled_dot_product_attention(_mg(q), _mg(k), _mg(k), attn_mask=mg.ones(2, 2, dtype=mg.bool),
                                               is_causal=True),  # fmt: skip
        "Explicit attn_mask should not be set when is_causal=True",
    )


def _pair_mha(seed, *args, **kwargs):
    torch.manual_seed(seed)
    t_mod = torch.nn.MultiheadAttention(*args, **kwargs)
    mg.manual_seed(seed)
    m_mod = nn.MultiheadAttention(*args, **kwargs)
    return t_mod, m_mod


MHA_CASES = [
    ((4, 2), {}),
    ((6, 3), {"bias": False}),
    ((4, 1), {"batch_first": True}),
    ((4, 2), {"kdim": 3, "vdim": 5}),
    ((4, 2), {"add_bias_kv": True}),
    ((4, 2), {"add_zero_attn": True}),
    ((4, 2), {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True}),
]


@pytest.mark.parametrize("args, kwargs", MHA_CASES)
def test_mha_init_and_repr(args, kwargs):
    t_mod, m_mod = _pair_mha(11, *args, **kwargs)
    assert repr(m_mod) == repr(t_mod)
    assert [n for n, _ in m_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    for (name, tp), (_, mp) in zip(t_mod.named_parameters(), m_mod.named_parameters()):
        assert mp.tolist() == tp.tolist(), name  # bit for bit
    assert type(m_mod.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


def _inputs(kwargs, length=3, source=4, batch=2, embed=4, self_attention=False):
    g = torch.Generator().manual_seed(5)
    kdim, vdim = kwargs.get("kdim", embed), kwargs.get("vdim", embed)
    shape = (lambda n, e: (batch, n, e)) if kwargs.get("batch_first") else (lambda n, e: (n, batch, e))
    query = torch.randn(*shape(length, embed), generator=g).requires_grad_()
    if self_attention:
        return query, query, query
    key = torch.randn(*shape(source, kdim), generator=g).requires_grad_()
    value = torch.randn(*shape(source, vdim), generator=g).requires_grad_()
    return query, key, value


def _compare_mha(t_mod, m_mod, t_inputs, call_kwargs, self_attention=False):
    m_leaves = [_mg(t.detach()).requires_grad_() for t in t_inputs[: 1 if self_attention else 3]]
    m_inputs = m_leaves * 3 if self_attention else m_leaves
    m_call = {k: _mg(v) for k, v in call_kwargs.items()}
    t_out, t_w = t_mod(*t_inputs, **call_kwargs)
    m_out, m_w = m_mod(*m_inputs, **m_call)
    torch.testing.assert_close(torch.tensor(m_out.tolist()), t_out.detach(), rtol=1e-5, atol=1e-6)
    if t_w is None:
        assert m_w is None
    else:
        torch.testing.assert_close(torch.tensor(m_w.tolist()), t_w.detach(), rtol=1e-5, atol=1e-6, equal_nan=True)
    g = torch.Generator().manual_seed(9)
    w = torch.randn(*t_out.shape, generator=g)
    (t_out * w).sum().backward()
    (m_out * _mg(w)).sum().backward()
    for t_leaf, m_leaf in zip(t_inputs[: len(m_leaves)], m_leaves):
        torch.testing.assert_close(torch.tensor(m_leaf.grad.tolist()), t_leaf.grad, rtol=1e-5, atol=1e-5)
    for (name, tp), (_, mp) in zip(t_mod.named_parameters(), m_mod.named_parameters()):
        torch.testing.assert_close(torch.tensor(mp.grad.tolist()), tp.grad, rtol=1e-5, atol=1e-5, msg=name)


@pytest.mark.parametrize("args, kwargs", MHA_CASES)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_forward_backward(args, kwargs, need_weights):
    t_mod, m_mod = _pair_mha(12, *args, **kwargs)
    if kwargs.get("bias") is not False:  # non-zero biases, so that their gradients matter
        with torch.no_grad(), mg.no_grad():
            for (_, tp), (_, mp) in zip(t_mod.named_parameters(), m_mod.named_parameters()):
                if tp.dim() == 1:
                    tp.uniform_(-0.5, 0.5)
                    mp.copy_(_mg(tp))
    _compare_mha(t_mod, m_mod, _inputs(kwargs, embed=args[0]), {"need_weights": need_weights})


@pytest.mark.parametrize("self_attention", [False, True])
@pytest.mark.parametrize(
    "masks",
    ["key_padding_bool", "key_padding_float", "attn_bool", "attn_float", "attn_3d", "both", "no_average", "causal"],
)
def test_mha_masks(masks, self_attention):
    t_mod, m_mod = _pair_mha(13, 4, 2)
    g = torch.Generator().manual_seed(3)
    source = 3 if self_attention else 4
    kpm = torch.tensor([[False, False, True, False][:source], [False, True, False, False][:source]])
    attn_bool = torch.rand(3, source, generator=g) > 0.6
    attn_bool[:, 0] = False
    call = {
        "key_padding_bool": {"key_padding_mask": kpm},
        "key_padding_float": {"key_padding_mask": kpm.float() * -5.0},
        "attn_bool": {"attn_mask": attn_bool},
        "attn_float": {"attn_mask": torch.randn(3, source, generator=g)},
        "attn_3d": {"attn_mask": torch.randn(4, 3, source, generator=g)},
        "both": {"attn_mask": attn_bool, "key_padding_mask": kpm},
        "no_average": {"key_padding_mask": kpm, "average_attn_weights": False},
        "causal": {"attn_mask": attn_bool, "is_causal": True},
    }[masks]
    _compare_mha(t_mod, m_mod, _inputs({}, source=source, self_attention=self_attention), call, self_attention)


def test_mha_unbatched():
    t_mod, m_mod = _pair_mha(14, 4, 2)
    g = torch.Generator().manual_seed(4)
    q, k = torch.randn(3, 4, generator=g).requires_grad_(), torch.randn(5, 4, generator=g).requires_grad_()
    v = torch.randn(5, 4, generator=g).requires_grad_()
    _compare_mha(t_mod, m_mod, (q, k, v), {"key_padding_mask": torch.tensor([False, True, False, False, False])})


def test_mha_dropout_only_in_training():
    t_mod, m_mod = _pair_mha(15, 4, 2, dropout=0.5)
    t_mod.eval()
    m_mod.eval()
    _compare_mha(t_mod, m_mod, _inputs({}), {})
    m_mod.train()
    mg.manual_seed(0)
    _, weights = m_mod(*[_mg(t.detach()) for t in _inputs({})], average_attn_weights=False)
    values = weights.reshape(-1).tolist()
    assert any(v == 0.0 for v in values) and any(v > 0.0 for v in values)
    assert all(v == 0.0 or v > 0.0 for v in values) and not any(math.isnan(v) for v in values)


def test_mha_errors():
    check_raises(lambda: torch.nn.MultiheadAttention(4, 3), lambda: nn.MultiheadAttention(4, 3), exact=True)
    check_raises(lambda: torch.nn.MultiheadAttention(0, 1), lambda: nn.MultiheadAttention(0, 1), exact=True)
    t_mod, m_mod = _pair_mha(16, 4, 2)
    x = torch.randn(3, 2, 4)
    bad = [{"attn_mask": torch.zeros(2, 2)}, {"attn_mask": torch.zeros(5, 3, 3)},
           {"key_padding_mask": torch.zeros(2, 3, 1)}, {"attn_mask": torch.zeros(3, 3, dtype=torch.long)}]  # fmt: skip
    for kwargs in bad:
        with pytest.raises(Exception) as t_info:
            t_mod(x, x, x, **kwargs)
        with pytest.raises(type(t_info.value)) as m_info:
            m_mod(_mg(x), _mg(x), _mg(x), **{k: _mg(v) for k, v in kwargs.items()})
        assert str(m_info.value).replace("minigrad.", "torch.") == str(t_info.value)
    check_raises(
        lambda: t_mod(torch.ones(2, 3, 4, 4), x, x), lambda: m_mod(mg.ones(2, 3, 4, 4), _mg(x), _mg(x)), exact=True
    )
    check_raises(lambda: t_mod(x, x, x, is_causal=True), lambda: m_mod(_mg(x), _mg(x), _mg(x), is_causal=True))


def test_mha_gradcheck_float64():
    mg.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2).double()
    rng = random.Random(1)
    q = mg.tensor([rng.uniform(-1, 1) for _ in range(12)], dtype=mg.float64, requires_grad=True).reshape(3, 1, 4)
    k = mg.tensor([rng.uniform(-1, 1) for _ in range(8)], dtype=mg.float64, requires_grad=True).reshape(2, 1, 4)
    assert gradcheck(lambda a, b: mha(a, b, b)[0], (q, k))


@pytest.mark.parametrize("layout", ["permuted", "strided"])
def test_sdpa_non_contiguous(layout):
    t_mask = _masks(3, 5, seed=2)["float"]
    check_op(
        [(2, 3, 4), (2, 5, 4), (2, 5, 4)],
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=t_mask),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_mg(t_mask)),
        layout=layout,
    )
