"""``LongTensor``, ``FloatTensor``, ``DoubleTensor``, ``BoolTensor`` against torch 2.13.0: from
sizes, data, a tensor or nothing; ``isinstance``; ``Tensor.type(...)``; torch's errors."""

from __future__ import annotations

import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

NAMES = ["FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor"]

CALLS = [
    lambda lib, cls: cls(2, 3),
    lambda lib, cls: cls(lib.Size([4, 1])),
    lambda lib, cls: cls(0),
    lambda lib, cls: cls(),
    lambda lib, cls: cls([1, 0, 2]),
    lambda lib, cls: cls([[1.7, -2.5], [0.0, 3.25]]),
    lambda lib, cls: cls((2, 3)),  # a tuple is data, not sizes
    lambda lib, cls: cls([True, False]),
    lambda lib, cls: cls([1.5], device="cpu"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("call", range(len(CALLS)))
def test_constructors(name, call):
    t_out = CALLS[call](torch, getattr(torch, name))
    m_out = CALLS[call](mg, getattr(mg, name))
    assert type(m_out) is mg.Tensor
    assert (tuple(m_out.shape), m_out.dtype.name) == (tuple(t_out.shape), str(t_out.dtype)[6:])
    if call not in (0, 1):  # (sizes alone leave torch's memory uninitialised)
        assert m_out.tolist() == t_out.tolist()


def test_from_a_tensor_shares_storage_and_checks_dtype():
    x = mg.tensor([1.0, 2.0])
    y = mg.FloatTensor(x)
    y[0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    for lib in (torch, mg):
        with pytest.raises(
            TypeError, match=r"expected TensorOptions\(dtype=float, device=cpu.*\(got TensorOptions\(dtype=long int"
        ):
            lib.FloatTensor(lib.tensor([1, 2]))


def test_isinstance_and_type():
    for lib in (torch, mg):
        assert isinstance(lib.ones(2), lib.FloatTensor) and not isinstance(lib.ones(2), lib.LongTensor)
        assert isinstance(lib.ones(2).long(), lib.LongTensor) and isinstance(lib.ones(2).double(), lib.DoubleTensor)
        assert isinstance(lib.ones(2) > 0, lib.BoolTensor) and not isinstance(3, lib.FloatTensor)
        assert lib.FloatTensor.dtype is lib.float32 and lib.LongTensor.is_cuda is False
        for kind in (lib.LongTensor, "torch.LongTensor"):
            converted = lib.tensor([1.7, -2.5]).type(kind)
            assert converted.tolist() == [1, -2] and isinstance(converted, lib.LongTensor)
    assert mg.ones(1).type("minigrad.DoubleTensor").dtype is mg.float64
    assert mg.ones(1).type() == "minigrad.FloatTensor"


def test_errors():
    cases = [
        (lambda lib: lib.FloatTensor(2.5), TypeError, "new(): data must be a sequence (got float)"),
        (lambda lib: lib.FloatTensor(-1), RuntimeError, "Trying to create tensor with negative dimension -1: [-1]"),
        (lambda lib: lib.FloatTensor(2, "a"), TypeError, "new(): argument 'size' failed to unpack the object at pos 2"),
        (lambda lib: lib.LongTensor([[1], [2, 3]]), ValueError, "expected sequence of length 1 at dim 1 (got 2)"),
    ]
    for call, kind, message in cases:
        for lib in (torch, mg):
            with pytest.raises(kind) as info:
                call(lib)
            assert message in str(info.value)
