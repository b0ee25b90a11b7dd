"""Creation functions against torch 2.13.0: dtype inference, shapes, values, errors."""

import pytest
from conftest import assert_same, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

DATA = {
    "int": [1, -2, 3],
    "float": [1.5, -2.0, 3.25],
    "mixed int float": [1, 2.5, -3],
    "bool": [True, False, True],
    "bool and int": [True, 2, 0],
    "bool and float": [True, 0.5],
    "nested": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
    "nested int": [[[1], [2]], [[3], [4]]],
    "scalar int": 7,
    "scalar float": -0.1,
    "scalar bool": False,
    "empty": [],
    "nested empty": [[], []],
    "tuple": (1.0, 2.0),
    "list of tuples": [(1, 2), (3, 4)],
    "large int": [2**40, -(2**62)],
    "float not in float32": [0.1, 1e-40, 3.4e38, 1e39],
    "inf and nan": [float("inf"), float("-inf"), float("nan")],
}


@pytest.mark.parametrize("name", sorted(DATA))
def test_tensor_infers_dtype_and_shape(name):
    assert_same(mg.tensor(DATA[name]), torch.tensor(DATA[name]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("name", ["int", "float", "mixed int float", "bool", "nested", "scalar float"])
def test_tensor_with_dtype(name, dtype):
    assert_same(mg.tensor(DATA[name], dtype=getattr(mg, dtype)), torch.tensor(DATA[name], dtype=getattr(torch, dtype)))


def test_tensor_from_tensor_copies():
    m = mg.tensor([1.0, 2.0])
    c = mg.tensor(m)
    c.add_(1)
    assert m.tolist() == [1.0, 2.0] and c.tolist() == [2.0, 3.0]
    assert mg.tensor(mg.tensor([1, 2]), dtype=mg.float64).dtype is mg.float64
    assert_same(mg.tensor([mg.tensor(1.5), mg.tensor(2.0)]), torch.tensor([torch.tensor(1.5), torch.tensor(2.0)]))


def test_tensor_requires_grad():
    m = mg.tensor([1.0, 2.0], requires_grad=True)
    assert m.requires_grad and m.is_leaf and m.grad_fn is None
    check_raises(
        lambda: torch.tensor([1, 2], requires_grad=True),
        lambda: mg.tensor([1, 2], requires_grad=True),
        "Only Tensors of floating point and complex dtype can require gradients",
        exact=True,
    )
    check_raises(
        lambda: torch.zeros(2, dtype=torch.int64, requires_grad=True),
        lambda: mg.zeros(2, dtype=mg.int64, requires_grad=True),
        exact=True,
    )
    check_raises(
        lambda: torch.ones(2, dtype=torch.int64).requires_grad_(),
        lambda: mg.ones(2, dtype=mg.int64).requires_grad_(),
        "only Tensors of floating point dtype can require gradients",
        exact=True,
    )


def test_tensor_errors():
    check_raises(lambda: torch.tensor([[1, 2], [3]]), lambda: mg.tensor([[1, 2], [3]]), "expected sequence of length 2")
    check_raises(lambda: torch.tensor([[1, 2], 3]), lambda: mg.tensor([[1, 2], 3]), "not a sequence", exact=True)
    check_raises(lambda: torch.tensor([[[1], [2]], [[3]]]), lambda: mg.tensor([[[1], [2]], [[3]]]), exact=True)
    for bad in ["ab", ["a"], [1, "a"], None, [[1.0], [None]], [[1.0], [[2.0]]]]:
        check_raises(lambda bad=bad: torch.tensor(bad), lambda bad=bad: mg.tensor(bad), exact=True)


@pytest.mark.parametrize(
    "data", [[2**63], [-(2**63) - 1], [1.0, 2**64], [1e30], [float("nan")], [float("-inf"), 1], [9.3e18]]
)
def test_int64_values_out_of_range_raise_torchs_errors(data):
    check_raises(lambda: torch.tensor(data, dtype=torch.int64), lambda: mg.tensor(data, dtype=mg.int64), exact=True)


def test_int64_from_floats_truncates_toward_zero():
    data = [1.9, -1.9, 0.5, -(2.0**63), 2.0**62 + 2.0**40, True, 7, 2.0**63]  # (the last wraps, as torch's cast)
    assert_same(mg.tensor(data, dtype=mg.int64), torch.tensor(data, dtype=torch.int64))


SIZES = {
    "varargs": ((2, 3), {}),
    "tuple": (((2, 3),), {}),
    "list": (([2, 3],), {}),
    "0-d": (((),), {}),
    "empty": ((0, 3), {}),
    "float64": ((2,), {"dtype": "float64"}),
    "int64": ((2, 2), {"dtype": "int64"}),
    "bool": ((3,), {"dtype": "bool"}),
    "requires_grad": ((2,), {"requires_grad": True}),
}


def _kwargs(lib, kwargs):
    return {k: (getattr(lib, v) if k == "dtype" else v) for k, v in kwargs.items()}


@pytest.mark.parametrize("name", sorted(SIZES))
@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_filled(fn, name):
    args, kwargs = SIZES[name]
    t = getattr(torch, fn)(*args, **_kwargs(torch, kwargs))
    m = getattr(mg, fn)(*args, **_kwargs(mg, kwargs))
    if fn == "empty":  # uninitialised in torch: compare everything but the values
        assert tuple(m.shape) == tuple(t.shape) and str(t.dtype) == "torch." + m.dtype.name
    else:
        assert_same(m, t)
    assert m.requires_grad == t.requires_grad


def test_size_object_is_accepted():
    assert_same(mg.zeros(mg.Size([2, 3])), torch.zeros(torch.Size([2, 3])))
    assert_same(mg.ones(mg.zeros(2, 3).shape), torch.ones(torch.zeros(2, 3).shape))


@pytest.mark.parametrize(
    "args",
    [((2, 3), 1.5), ((2,), 7), ((2,), True), ((), -1.0), ([3], 2.5)],
    ids=str,
)
def test_full(args):
    assert_same(mg.full(*args), torch.full(*args))
    assert_same(mg.full(*args, dtype=mg.float64), torch.full(*args, dtype=torch.float64))


LIKE = {
    "zeros_like": (),
    "ones_like": (),
    "full_like": (2.5,),
    "empty_like": (),
}


@pytest.mark.parametrize("name", sorted(LIKE))
@pytest.mark.parametrize("source", ["float64", "int64", "bool"])
def test_like(name, source):
    t_src = torch.tensor([[1, 0, 1]], dtype=getattr(torch, source)).t()
    m_src = mg.tensor([[1, 0, 1]], dtype=getattr(mg, source)).t()
    t, m = getattr(torch, name)(t_src, *LIKE[name]), getattr(mg, name)(m_src, *LIKE[name])
    if name == "empty_like":
        assert tuple(m.shape) == tuple(t.shape) and str(t.dtype) == "torch." + m.dtype.name
    else:
        assert_same(m, t)
    t = getattr(torch, name)(t_src, *LIKE[name], dtype=torch.float32)
    m = getattr(mg, name)(m_src, *LIKE[name], dtype=mg.float32)
    assert str(t.dtype) == "torch." + m.dtype.name


ARANGE = [
    (5,),
    (2, 7),
    (1, 10, 3),
    (10, 1, -3),
    (0.0, 1.0, 0.1),
    (2.5,),
    (-1, 1, 0.25),
    (0, 0),
    (1, 2, 0.3),
    (0, 5, 2.0),
]


@pytest.mark.parametrize("args", ARANGE, ids=str)
def test_arange(args):
    assert_same(mg.arange(*args), torch.arange(*args))
    assert_same(mg.arange(*args, dtype=mg.float64), torch.arange(*args, dtype=torch.float64))


def test_full_size_must_be_a_sequence():
    check_raises(lambda: torch.full(3, 0.5), lambda: mg.full(3, 0.5), "must be tuple of ints, not int", exact=True)


def test_arange_errors():
    check_raises(lambda: torch.arange(0, 5, 0), lambda: mg.arange(0, 5, 0), "step must be nonzero")
    check_raises(
        lambda: torch.arange(5, 0, 1),
        lambda: mg.arange(5, 0, 1),
        "upper bound and lower bound inconsistent with step sign",
    )
    check_raises(lambda: torch.arange(float("inf")), lambda: mg.arange(float("inf")), "unsupported range: 0 -> inf")


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,), (1, 1)], ids=str)
def test_eye(args):
    assert_same(mg.eye(*args), torch.eye(*args))
    assert_same(mg.eye(*args, dtype=mg.int64), torch.eye(*args, dtype=torch.int64))


def test_negative_sizes_raise():
    check_raises(lambda: torch.zeros(2, -1), lambda: mg.zeros(2, -1), exact=True)
    for fn in ["ones", "empty"]:
        check_raises(
            lambda fn=fn: getattr(torch, fn)(2, -1),
            lambda fn=fn: getattr(mg, fn)(2, -1),
            "Trying to create tensor with negative dimension -1: [2, -1]",
            exact=True,
        )
    check_raises(lambda: torch.full((-1,), 1.0), lambda: mg.full((-1,), 1.0), "negative dimension -1")
    check_raises(lambda: torch.eye(-1), lambda: mg.eye(-1), "n must be greater or equal to 0, got -1", exact=True)
    check_raises(lambda: torch.eye(2, -1), lambda: mg.eye(2, -1), "m must be greater or equal to 0, got -1", exact=True)


def test_new_methods():
    t, m = torch.ones(2, dtype=torch.float64), mg.ones(2, dtype=mg.float64)
    assert_same(m.new_zeros(3), t.new_zeros(3))
    assert_same(m.new_ones((2, 2)), t.new_ones((2, 2)))
    assert_same(m.new_full((2,), 4), t.new_full((2,), 4))
    assert_same(m.new_tensor([1, 2]), t.new_tensor([1, 2]))
