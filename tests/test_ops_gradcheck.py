"""Every differentiable op's backward against central finite differences (float64 gradcheck).

Inputs are drawn away from kinks (|x| >= 0.2, and clamp bounds sit between drawn values) so the
finite differences are meaningful.
"""

import random
from math import prod

import pytest

import minigrad as mg
from minigrad._functions import softmax_loss as F
from minigrad.autograd import gradcheck


def _inputs(shapes, seed, positive):
    rng = random.Random(seed)
    tensors = []
    for shape in shapes:
        values = [rng.uniform(0.2, 2.0) * (1 if positive or rng.random() < 0.5 else -1) for _ in range(prod(shape))]
        tensors.append(mg.tensor(values, dtype=mg.float64).reshape(shape).clone().requires_grad_())
    return tensors


IDX = [2, 0, 2, 1]
TARGET = [1, 0, 2]

OPS = {
    # pointwise
    "add_broadcast": ([(2, 3), (3,)], lambda x, y: x + y),
    "sub_broadcast": ([(2, 1), (1, 3)], lambda x, y: x - y),
    "mul_broadcast": ([(2, 3), (2, 1)], lambda x, y: x * y),
    "div_broadcast": ([(2, 3), (3,)], lambda x, y: x / y),
    "scalar_ops": ([(2, 3)], lambda x: (2.5 - x) * 3 + 1 / x - x / 4),
    "pow_tensor": ([(2, 3), (3,)], lambda x, y: x**y, True),
    "pow_scalar": ([(2, 3)], lambda x: x**3 + x**-2 + x**0.5, True),
    "rpow": ([(2, 3)], lambda x: 1.7**x),
    "neg": ([(2, 3)], lambda x: -x),
    "exp": ([(2, 3)], lambda x: x.exp()),
    "log": ([(2, 3)], lambda x: x.log(), True),
    "sqrt": ([(2, 3)], lambda x: x.sqrt(), True),
    "abs": ([(2, 3)], lambda x: x.abs()),
    "sigmoid": ([(2, 3)], lambda x: x.sigmoid()),
    "tanh": ([(2, 3)], lambda x: x.tanh()),
    "relu": ([(2, 3)], lambda x: x.relu()),
    "clamp": ([(3, 4)], lambda x: x.clamp(-1.1, 0.9)),
    "clamp_tensor_bounds": ([(3, 4), (4,), (3, 1)], lambda x, lo, hi: x.clamp(lo - 0.5, hi + 0.5)),
    "where": ([(2, 3), (3,)], lambda x, y: mg.where(x > 0, x, y)),
    "to_float64": ([(2, 3)], lambda x: x.to(mg.float64) * 2),
    # reductions
    "sum": ([(2, 3, 2)], lambda x: x.sum()),
    "sum_dims": ([(2, 3, 2)], lambda x: x.sum((0, 2), keepdim=True)),
    "mean": ([(2, 3)], lambda x: x.mean(1)),
    "max_all": ([(2, 3)], lambda x: x.max()),
    "max_dim": ([(2, 3)], lambda x: x.max(1)[0]),
    "min_dim_keep": ([(2, 3)], lambda x: x.min(0, keepdim=True).values),
    "max_elementwise": ([(2, 3), (3,)], lambda x, y: mg.max(x, y)),
    "logsumexp": ([(2, 3)], lambda x: x.logsumexp(1)),
    "softmax": ([(2, 3)], lambda x: x.softmax(1)),
    "log_softmax": ([(2, 3)], lambda x: x.log_softmax(0)),
    "nll_loss": ([(3, 3)], lambda x: F.nll_loss(x.log_softmax(1), mg.tensor(TARGET))),
    "nll_loss_weighted": (
        [(3, 3)],
        lambda x: F.nll_loss(x, mg.tensor(TARGET), weight=mg.tensor([0.5, 2.0, 1.5], dtype=mg.float64)),
    ),
    # linear algebra
    "dot": ([(3,), (3,)], lambda x, y: x @ y),
    "mv": ([(2, 3), (3,)], lambda x, y: x @ y),
    "mm": ([(2, 3), (3, 2)], lambda x, y: x.mm(y)),
    "bmm": ([(2, 2, 3), (2, 3, 2)], lambda x, y: x.bmm(y)),
    "matmul_broadcast": ([(2, 1, 2, 3), (2, 3, 2)], lambda x, y: x @ y),
    "matmul_folded": ([(2, 2, 3), (3, 2)], lambda x, y: x @ y),
    "matmul_vector_batch": ([(3,), (2, 3, 2)], lambda x, y: x @ y),
    # shape
    "view": ([(2, 3)], lambda x: x.view(3, 2) * mg.arange(6.0, dtype=mg.float64).view(3, 2)),
    "reshape_copy": ([(2, 3)], lambda x: x.t().reshape(6)),
    "permute": ([(2, 3, 2)], lambda x: x.permute(2, 0, 1)),
    "transpose": ([(2, 3)], lambda x: x.transpose(0, 1).contiguous()),
    "expand": ([(2, 1)], lambda x: x.expand(2, 3) * mg.arange(6.0, dtype=mg.float64).view(2, 3)),
    "squeeze_unsqueeze": ([(2, 1, 3)], lambda x: x.squeeze(1).unsqueeze(0)),
    "indexing_basic": ([(3, 4)], lambda x: x[1:, ::2][0]),
    "select_narrow": ([(3, 4)], lambda x: x.select(1, 2) + x.narrow(1, 0, 1).squeeze(1)),
    "chunk_split_unbind": ([(4, 3)], lambda x: x.chunk(2)[1] * x.split([1, 3])[1][1:] + x.unbind(0)[0]),
    "cat": ([(2, 3), (1, 3)], lambda x, y: mg.cat([x, y, x], 0)),
    "stack": ([(2, 3), (2, 3)], lambda x, y: mg.stack([x, y], 1)),
    "clone": ([(2, 3)], lambda x: x.clone() * x),
    # indexing
    "advanced_repeats": ([(3, 4)], lambda x: x[mg.tensor(IDX)]),
    "advanced_pair": ([(3, 4)], lambda x: x[mg.tensor([0, 2, 2]), mg.tensor([1, 3, 1])]),
    "mask": ([(3, 4)], lambda x: x[x > 0]),
    "gather": ([(3, 4)], lambda x: x.gather(1, mg.tensor([[0, 0], [3, 1], [2, 2]]))),
    "index_select": ([(3, 4)], lambda x: x.index_select(0, mg.tensor(IDX))),
    # in place through the graph
    "setitem": ([(3, 4), (4,)], lambda x, v: _setitem(x * 1, 1, v * 2)),
    "setitem_advanced": ([(3, 4), (2, 4)], lambda x, v: _setitem(x * 1, mg.tensor([2, 0]), v)),
    "add_inplace": ([(2, 3), (3,)], lambda x, y: (x * 1).add_(y, alpha=2)),
    "mul_inplace": ([(2, 3), (3,)], lambda x, y: (x * 1).mul_(y)),
    "copy_inplace": ([(2, 3), (3,)], lambda x, y: (x * 1).copy_(y) * x),
}


def _setitem(x, index, value):
    x[index] = value
    return x


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name):
    shapes, fn, *positive = OPS[name]
    assert gradcheck(fn, _inputs(shapes, name, bool(positive)))
