"""sort, argsort, topk, kthvalue, flip, repeat, repeat_interleave, scatter/scatter_add (and their
in-place forms), nonzero, masked_fill_ against torch 2.13.0: values, indices (with torch's order
among equal values), gradients, and torch's errors."""

from __future__ import annotations

import random

import pytest
from conftest import check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")


def _tied(rng: random.Random, n: int, spread: int) -> list[float]:
    """Values with many ties (small integers), now and then a NaN."""
    values = [float(rng.randint(0, spread)) for _ in range(n)]
    if n and rng.random() < 0.15:
        values[rng.randrange(n)] = float("nan")
    return values


def _same(m_out, t_out):
    assert tuple(m_out.shape) == tuple(t_out.shape)
    assert str(m_out.tolist()) == str(t_out.tolist())  # (str: NaN equals NaN)


# -- order among ties ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 17, 40, 100, 700])
def test_sort_and_topk_ties_match_torch(n):
    rng = random.Random(n)
    for _ in range(20):
        values = _tied(rng, n, rng.choice([1, 3, 50]))
        t, m = torch.tensor(values), mg.tensor(values)
        for descending in (False, True):
            for stable in (False, True):
                t_out, m_out = (
                    t.sort(descending=descending, stable=stable),
                    m.sort(descending=descending, stable=stable),
                )
                _same(m_out.values, t_out.values)
                _same(m_out.indices, t_out.indices)
            _same(m.argsort(descending=descending), t.argsort(descending=descending))
        k = rng.randint(0, n)
        for largest in (True, False):
            for sorted_ in (True, False):  # sorted=False keeps the selection's own order
                _same(
                    m.topk(k, largest=largest, sorted=sorted_).indices,
                    t.topk(k, largest=largest, sorted=sorted_).indices,
                )
        k = rng.randint(1, n)
        t_kth, m_kth = t.kthvalue(k), m.kthvalue(k)
        _same(m_kth.values, t_kth.values)
        _same(m_kth.indices, t_kth.indices)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_sorting_along_each_dim(dtype):
    rng = random.Random(2)
    values = [rng.randint(0, 4) for _ in range(3 * 20 * 4)]
    t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(3, 20, 4)
    m = mg.tensor(values, dtype=getattr(mg, dtype)).reshape(3, 20, 4)
    for dim in (0, 1, 2, -1):
        for descending in (False, True):
            _same(mg.sort(m, dim, descending).indices, torch.sort(t, dim, descending).indices)
        _same(mg.topk(m, 2, dim).indices, torch.topk(t, 2, dim).indices)
        _same(mg.kthvalue(m, 2, dim, keepdim=True).indices, torch.kthvalue(t, 2, dim, keepdim=True).indices)
        _same(mg.argsort(m, dim, stable=True), torch.argsort(t, dim=dim, stable=True))


def test_max_min_with_dim_take_torchs_index_among_ties():
    rng = random.Random(3)
    for shape in [(7,), (5, 9), (3, 40), (2, 3, 33)]:
        for _ in range(10):
            values = _tied(rng, int(torch.Size(shape).numel()), 3)
            t, m = torch.tensor(values).reshape(shape), mg.tensor(values).reshape(*shape)
            dim = rng.randrange(len(shape))
            for name in ("max", "min"):
                t_out, m_out = getattr(t, name)(dim), getattr(m, name)(dim)
                _same(m_out.values, t_out.values)
                _same(m_out.indices, t_out.indices)
            assert m.argmax().item() == t.argmax().item() and m.argmin().item() == t.argmin().item()


def test_result_types_and_zero_dim():
    result = mg.topk(mg.tensor([3.0, 1.0, 2.0]), 2)
    values, indices = result
    assert (
        result.values is values and result.indices is indices and repr(result).startswith("minigrad.return_types.topk(")
    )
    _same(mg.tensor(3.0).sort().values, torch.tensor(3.0).sort().values)
    _same(mg.tensor(3.0).topk(1).indices, torch.tensor(3.0).topk(1).indices)
    _same(mg.tensor(3.0).kthvalue(1).indices, torch.tensor(3.0).kthvalue(1).indices)


# -- gradients -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.sort(dim=1)[0],
        lambda x: x.sort(dim=0, descending=True).values,
        lambda x: x.topk(2, dim=1).values,
        lambda x: x.topk(3, dim=0, largest=False, sorted=False).values,
        lambda x: x.kthvalue(2, dim=1)[0],
        lambda x: x.kthvalue(3, dim=0, keepdim=True).values,
        lambda x: x.flip(0),
        lambda x: x.flip(0, 1),
        lambda x: x.repeat(2, 3),
        lambda x: x.repeat(2, 1, 2),
        lambda x: x.repeat_interleave(2),
        lambda x: x.repeat_interleave(3, dim=1),
    ],
)
def test_gradients_match_torch(fn):
    check_op([(4, 5)], fn)
    check_op([(4, 5)], fn, layout="permuted", dtype="float64")


def test_repeat_interleave_tensor_repeats_and_counts():
    check_op(
        [(3, 2)],
        lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 2]), dim=0),
        lambda x: mg.repeat_interleave(x, mg.tensor([1, 0, 2]), dim=0),
    )
    _same(mg.repeat_interleave(mg.tensor([1, 2, 0, 3])), torch.repeat_interleave(torch.tensor([1, 2, 0, 3])))
    _same(
        mg.tensor([[1, 2], [3, 4]]).repeat_interleave(mg.tensor(2), dim=0),
        torch.tensor([[1, 2], [3, 4]]).repeat_interleave(torch.tensor(2), dim=0),
    )
    _same(mg.tensor(5.0).flip(0), torch.tensor(5.0).flip(0))
    _same(mg.tensor(5.0).repeat(2, 3), torch.tensor(5.0).repeat(2, 3))


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_family_values_and_gradients():
    index = [[0, 1, 2, 0], [2, 0, 0, 1]]
    check_op(
        [(3, 4), (2, 4)],
        lambda x, s: x.scatter(0, torch.tensor(index), s),
        lambda x, s: x.scatter(0, mg.tensor(index), s),
    )
    check_op(
        [(3, 4), (2, 5)],
        lambda x, s: x.scatter_add(0, torch.tensor(index), s[:, :4]),
        lambda x, s: x.scatter_add(0, mg.tensor(index), s[:, :4]),
    )
    check_op(
        [(4, 3)],
        lambda x: torch.scatter(x, 1, torch.tensor([[2], [0], [1], [1]]), value=-1.5),
        lambda x: mg.scatter(x, 1, mg.tensor([[2], [0], [1], [1]]), value=-1.5),
    )
    # in place, repeated positions (scatter_add adds in index order), reduce= forms
    rng = random.Random(0)
    src = [rng.uniform(-1, 1) for _ in range(12)]
    idx = [rng.randrange(3) for _ in range(12)]
    t_out = torch.zeros(3, 4).scatter_add_(0, torch.tensor(idx).reshape(3, 4), torch.tensor(src).reshape(3, 4))
    m_out = mg.zeros(3, 4).scatter_add_(0, mg.tensor(idx).reshape(3, 4), mg.tensor(src).reshape(3, 4))
    _same(m_out, t_out)
    for reduce in ("add", "multiply"):
        with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"):
            mg.zeros(3, 4).scatter_(0, mg.tensor(idx).reshape(3, 4), mg.ones(3, 4), reduce=reduce)
        t_out = torch.full((3, 4), 2.0).scatter_(
            0, torch.tensor(idx).reshape(3, 4), torch.tensor(src).reshape(3, 4), reduce=reduce
        )
        m_out = mg.full((3, 4), 2.0).scatter_(
            0, mg.tensor(idx).reshape(3, 4), mg.tensor(src).reshape(3, 4), reduce=reduce
        )
        _same(m_out, t_out)
    _same(
        mg.zeros(2, 3, dtype=mg.int64).scatter_(1, mg.tensor([[2, 2], [0, 1]]), 7),
        torch.zeros(2, 3, dtype=torch.int64).scatter_(1, torch.tensor([[2, 2], [0, 1]]), 7),
    )


def test_nonzero_and_masked_fill_():
    values = [[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]
    for as_tuple in (False, True):
        t_out, m_out = torch.tensor(values).nonzero(as_tuple=as_tuple), mg.nonzero(mg.tensor(values), as_tuple=as_tuple)
        if as_tuple:
            assert len(m_out) == len(t_out)
            for a, b in zip(m_out, t_out):
                _same(a, b)
        else:
            _same(m_out, t_out)
    _same(mg.tensor(3.0).nonzero(), torch.tensor(3.0).nonzero())
    _same(mg.tensor([False, True]).nonzero(as_tuple=True)[0], torch.tensor([False, True]).nonzero(as_tuple=True)[0])
    t, m = torch.tensor(values), mg.tensor(values)
    assert m.masked_fill_(m > 0, 9.0) is m
    t.masked_fill_(t > 0, 9.0)
    _same(m, t)


ERRORS = [
    (lambda lib: lib.tensor([1.0, 2.0]).topk(3), "selected index k out of range"),
    (lambda lib: lib.tensor([1.0, 2.0]).kthvalue(3), "kthvalue(): selected number k out of range for dimension 0"),
    (lambda lib: lib.ones(2, 3).flip(0, 0), "dim 0 appears multiple times in the list of dims"),
    (lambda lib: lib.ones(2, 3).repeat(2), "Number of dimensions of repeat dims can not be smaller"),
    (lambda lib: lib.ones(2, 3).repeat(-1, 2), "Trying to create tensor with negative dimension -2: [-2, 6]"),
    (lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([1, 2]), dim=1), "repeats must have the same size"),
    (lambda lib: lib.ones(2, 3).repeat_interleave(lib.tensor([1, -2]), dim=0), "repeats can not be negative"),
    (lambda lib: lib.ones(2, 3).repeat_interleave(-1), "Repeats must be non-negative"),
    (
        lambda lib: lib.zeros(3, 3).scatter_(0, lib.tensor([[0, 1, 5]]), 1.0),
        "index 5 is out of bounds for dimension 0 with size 3",
    ),
    (
        lambda lib: lib.zeros(3, 3).scatter_(0, lib.tensor([[0, 1, 2]]), lib.ones(1, 3, dtype=lib.float64)),
        "scatter(): Expected self.dtype to be equal to src.dtype",
    ),
    (
        lambda lib: lib.zeros(3, 3).scatter_(0, lib.tensor([0, 1, 2]), lib.ones(3)),
        "Index tensor must have the same number of dimensions as self tensor",
    ),
    (
        lambda lib: lib.zeros(2, 2).scatter_(0, lib.tensor([[0, 1, 1], [0, 0, 0]]), lib.ones(2, 3)),
        "Expected index [2, 3] to be no larger than self [2, 2] apart from dimension 0 and to be no larger size "
        "than src [2, 3]",
    ),
    (
        lambda lib: lib.zeros(3, 3).scatter_(0, lib.tensor([[0, 1, 2]]), 2.0, reduce="foo"),
        "reduce argument must be either add or multiply.",
    ),
]


@pytest.mark.parametrize("call, message", ERRORS)
def test_errors_match_torch(call, message):
    check_raises(lambda: call(torch), lambda: call(mg), message)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_with_reduce_has_no_derivative():
    for lib in (torch, mg):
        x = lib.zeros(3, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
            x.scatter(0, lib.tensor([[0, 1, 2]]), lib.ones(1, 3), reduce="add").sum().backward()
