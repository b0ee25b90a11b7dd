"""``*_like`` keep a dense view's layout (torch's ``preserve_format``), so fills and dropout masks
visit its elements in memory order, as torch's do.

torch's ``empty_like(x)`` of a transposed ``x`` has ``x``'s strides, and ``bernoulli_``/``uniform_``
fill it in memory order; so ``F.dropout`` of a ``batch_first`` RNN's output (a transposed view)
draws its mask in (T, B, H) order. Compared with torch: strides, values, the generator after.
"""

from __future__ import annotations

import pytest

import minigrad as mg

VIEWS = {
    "transpose": lambda lib: lib.ones(2, 3, 4).transpose(0, 1),
    "permute": lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1),
    "t": lambda lib: lib.ones(5, 3).t(),
    "contiguous": lambda lib: lib.ones(3, 4),
    "with gaps": lambda lib: lib.ones(4, 6)[:, ::2],
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like"])
def test_like_keeps_the_layout_and_fills_in_memory_order(name, view):
    torch = pytest.importorskip("torch")
    t_x, m_x = VIEWS[view](torch), VIEWS[view](mg)
    torch.manual_seed(3)
    mg.manual_seed(3)
    t_out, m_out = getattr(torch, name)(t_x), getattr(mg, name)(m_x)
    assert m_out.stride() == t_out.stride()
    if name != "empty_like":
        assert m_out.tolist() == t_out.tolist()
    assert mg.rand(3).tolist() == torch.rand(3).tolist()  # as many draws


def test_like_with_requires_grad_is_a_leaf():
    out = mg.full_like(mg.ones(3, 2).t(), 2.5, requires_grad=True)
    assert out.is_leaf and out.requires_grad and out.grad_fn is None
    assert out.stride() == (1, 2)


@pytest.mark.parametrize("view", ["transpose", "permute", "with gaps"])
def test_dropout_of_a_view_draws_torchs_mask(view):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mg.manual_seed(0)
    t_out = torch.nn.functional.dropout(VIEWS[view](torch), 0.4)
    m_out = mg.nn.functional.dropout(VIEWS[view](mg), 0.4)
    assert m_out.tolist() == t_out.tolist()
