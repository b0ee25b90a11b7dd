"""``nn.Linear``, ``nn.Embedding`` and ``nn.Dropout`` (and their ``F`` forms)."""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def _copy_weights(t_module, m_module) -> None:
    m_module.load_state_dict(OrderedDict((k, mg.tensor(v.tolist())) for k, v in t_module.state_dict().items()))


# -- Linear -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("input_shape", [(4,), (3, 4), (2, 3, 4), (2, 1, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(input_shape, bias):
    torch = pytest.importorskip("torch")
    from conftest import assert_same

    torch.manual_seed(0)
    t_layer, m_layer = torch.nn.Linear(4, 5, bias), nn.Linear(4, 5, bias)
    _copy_weights(t_layer, m_layer)
    rng = random.Random(1)
    n = 1
    for size in input_shape:
        n *= size
    values = [rng.uniform(-2, 2) for _ in range(n)]
    t_x = torch.tensor(values).reshape(input_shape).requires_grad_()
    m_x = mg.tensor(values).reshape(*input_shape).requires_grad_()
    t_out, m_out = t_layer(t_x), m_layer(m_x)
    assert_same(m_out, t_out)
    w = [rng.uniform(-1, 1) for _ in range(t_out.numel())]
    (t_out * torch.tensor(w).reshape(t_out.shape)).sum().backward()
    (m_out * mg.tensor(w).reshape(*m_out.shape)).sum().backward()
    assert_same(m_x.grad, t_x.grad)
    assert_same(m_layer.weight.grad, t_layer.weight.grad)
    if bias:
        assert_same(m_layer.bias.grad, t_layer.bias.grad)


def test_linear_by_hand():
    layer = nn.Linear(2, 2)
    with mg.no_grad():
        layer.weight.copy_(mg.tensor([[1.0, 2.0], [3.0, 4.0]]))
        layer.bias.copy_(mg.tensor([0.5, -0.5]))
    # y = x W^T + b: [1, 1] -> [1 + 2 + 0.5, 3 + 4 - 0.5]
    assert layer(mg.tensor([[1.0, 1.0]])).tolist() == [[3.5, 6.5]]
    assert F.linear(mg.tensor([1.0, 1.0]), layer.weight).tolist() == [3.0, 7.0]


def test_linear_shape_error_matches_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as t_info:
        torch.nn.Linear(3, 2)(torch.zeros(5, 4))
    with pytest.raises(RuntimeError) as m_info:
        nn.Linear(3, 2)(mg.zeros(5, 4))
    assert str(m_info.value) == str(t_info.value)


# -- Embedding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
@pytest.mark.parametrize("index_shape", [(5,), (2, 3)])
def test_embedding_matches_torch(padding_idx, index_shape):
    torch = pytest.importorskip("torch")
    from conftest import assert_same

    torch.manual_seed(0)
    t_emb = torch.nn.Embedding(6, 3, padding_idx=padding_idx)
    m_emb = nn.Embedding(6, 3, padding_idx=padding_idx)
    _copy_weights(t_emb, m_emb)
    rng = random.Random(2)
    n = index_shape[0] * (index_shape[1] if len(index_shape) > 1 else 1)
    indices = [rng.randrange(6) for _ in range(n - 1)] + [5]  # repeats and the padding row appear
    t_idx = torch.tensor(indices).reshape(index_shape)
    m_idx = mg.tensor(indices, dtype=mg.long).reshape(*index_shape)
    t_out, m_out = t_emb(t_idx), m_emb(m_idx)
    assert_same(m_out, t_out)
    w = [rng.uniform(-1, 1) for _ in range(t_out.numel())]
    (t_out * torch.tensor(w).reshape(t_out.shape)).sum().backward()
    (m_out * mg.tensor(w).reshape(*m_out.shape)).sum().backward()
    assert_same(m_emb.weight.grad, t_emb.weight.grad)


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=1)
    assert emb.weight[1].tolist() == [0.0, 0.0]
    emb(mg.tensor([1, 1, 3], dtype=mg.long)).sum().backward()
    assert emb.weight.grad.tolist() == [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]


def test_embedding_out_of_range_index_raises_index_error():
    emb = nn.Embedding(3, 2)
    for bad in (3, -1):
        with pytest.raises(IndexError, match="^index out of range in self$"):
            emb(mg.tensor([0, bad], dtype=mg.long))


def test_embedding_rejects_bad_padding_idx_and_float_indices():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one of the following"):
        nn.Embedding(3, 2)(mg.tensor([0.0, 1.0]))


def test_embedding_from_pretrained_shares_and_freezes():
    vectors = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    emb = nn.Embedding.from_pretrained(vectors)
    assert not emb.weight.requires_grad
    assert emb(mg.tensor([2, 0], dtype=mg.long)).tolist() == [[5.0, 6.0], [1.0, 2.0]]
    with mg.no_grad():
        vectors[0, 0] = 10.0
    assert emb.weight[0, 0].item() == 10.0  # the weight is the given tensor's storage
    trainable = nn.Embedding.from_pretrained(vectors, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    assert trainable.weight[1].tolist() == [3.0, 4.0]  # from_pretrained does not zero the padding row
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(mg.zeros(3))


def test_embedding_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        nn.Embedding(3, 2, scale_grad_by_freq=True)(mg.tensor([0], dtype=mg.long))


# -- Dropout ------------------------------------------------------------------------------------------


def test_dropout_zeroes_and_rescales_in_training():
    mg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = mg.ones(4000).requires_grad_()
    y = drop(x)
    values = y.tolist()
    kept = [v for v in values if v != 0.0]
    assert all(v == pytest.approx(1 / 0.75) for v in kept)
    assert 0.2 < 1 - len(kept) / len(values) < 0.3
    y.sum().backward()
    # the gradient passes through exactly where the value was kept, with the same scale
    assert x.grad.tolist() == values


def test_dropout_is_identity_in_eval_and_for_p_zero():
    x = mg.randn(10)
    assert nn.Dropout(0.5).eval()(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.7, training=False) is x
    assert F.dropout(x, 1.0).tolist() == [0.0] * 10


def test_dropout_inplace_and_bad_probability():
    x = mg.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(x.tolist()) <= {0.0, 2.0}
    for module in (lambda: nn.Dropout(1.5), lambda: F.dropout(x, -0.1)):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
            module()
