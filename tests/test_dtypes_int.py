"""The narrow integer dtypes (int32, int16, int8, uint8) against torch 2.13.0: promotion,
wrapping arithmetic, casts from floats and between integers, printing, conversions."""

import math

import pytest
from conftest import assert_same, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

INTS = ["int32", "int16", "int8", "uint8"]
ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]


def pair(values, dtype):
    return torch.tensor(values, dtype=getattr(torch, dtype)), mg.tensor(values, dtype=getattr(mg, dtype))


@pytest.mark.parametrize("a", ALL)
@pytest.mark.parametrize("b", ALL)
def test_promote_types_and_result_type(a, b):
    ta, tb, ma, mb = getattr(torch, a), getattr(torch, b), getattr(mg, a), getattr(mg, b)
    assert mg.promote_types(ma, mb).name == str(torch.promote_types(ta, tb))[6:]
    zero_d = mg.result_type(mg.ones(2, dtype=ma), mg.ones((), dtype=mb))
    assert zero_d.name == str(torch.result_type(torch.ones(2, dtype=ta), torch.ones((), dtype=tb)))[6:]
    for scalar in (3, 2.5, True):
        assert (
            mg.result_type(mg.ones(2, dtype=ma), scalar).name
            == str(torch.result_type(torch.ones(2, dtype=ta), scalar))[6:]
        )


OPS = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "eq": lambda x, y: x == y,
    "lt": lambda x, y: x < y,
    "where": lambda x, y: x.where(x > y, y),
}
VALUES = [[100, -100, 127, -128, 55, 0], [100, 100, -3, -1, 2, 1]]


@pytest.mark.parametrize("dtype", INTS + ["int64"])
@pytest.mark.parametrize("other", INTS + ["int64", "float32", "bool"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_binary_ops_wrap_and_promote(op, dtype, other):
    ta, ma = pair([v % 256 if dtype == "uint8" else v for v in VALUES[0]], dtype)
    right = [v % 2 if other == "bool" else (v % 256 if other == "uint8" else v) for v in VALUES[1]]
    tb, mb = pair(right, other)
    if op == "sub" and other == "bool":
        check_raises(lambda: ta - tb, lambda: ma - mb, "Subtraction, the `-` operator, with a bool tensor")
        return
    assert_same(OPS[op](ma, mb), OPS[op](ta, tb))


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("scalar", [100, -1, 300, 2.5, True])
@pytest.mark.parametrize("op", ["add", "mul", "lt", "eq", "sub"])
def test_scalar_operands_wrap_into_the_dtype(op, dtype, scalar):
    ta, ma = pair([200 if dtype == "uint8" else 100, 3, 0], dtype)
    fn = OPS[op]
    if op == "sub" and scalar is True:
        check_raises(lambda: ta - scalar, lambda: ma - scalar, "Subtraction, the `-` operator, with a bool tensor")
        return
    assert_same(fn(ma, scalar), fn(ta, scalar))
    assert_same(fn(scalar, ma), fn(scalar, ta))


@pytest.mark.parametrize("dtype", INTS)
def test_unary_and_reductions(dtype):
    values = [0, 1, 5, 127] if dtype == "uint8" else [-128, -1, 5, 127]
    t, m = pair(values, dtype)
    for fn in (
        lambda x: -x,
        lambda x: x.abs(),
        lambda x: x.relu(),
        lambda x: x.exp(),
        lambda x: x.sum(),
        lambda x: x.max(),
        lambda x: x.min(0).values,
        lambda x: x.argmax(),
        lambda x: x.clamp(0, 6),
        lambda x: x * x,
        lambda x: x.reshape(2, 2).t().contiguous(),
        lambda x: x.reshape(2, 2) @ x.reshape(2, 2),
        lambda x: x[[0, 2]],
        lambda x: x.float(),
    ):
        assert_same(fn(m), fn(t))


@pytest.mark.parametrize("target", INTS + ["int64", "bool"])
@pytest.mark.parametrize("source", ["float32", "float64"])
def test_float_to_integer_casts_truncate_and_wrap_as_torch_on_x86(source, target):
    values = [300.0, -300.0, 1e10, -1e10, math.nan, math.inf, -math.inf, 2.7, -2.7, 255.5, -1.0, 40000.0, 0.0]
    t, m = pair(values, source)
    assert_same(m.to(getattr(mg, target)), t.to(getattr(torch, target)))


@pytest.mark.parametrize("target", ALL)
@pytest.mark.parametrize("source", INTS + ["int64"])
def test_integer_casts_wrap(source, target):
    values = {"uint8": [0, 255, 128, 7], "int8": [-128, 127, -1, 7], "int16": [-32768, 32767, 300, -129]}
    t, m = pair(values.get(source, [70000, -70000, 2**31 - 1, -1]), source)
    assert_same(m.to(getattr(mg, target)), t.to(getattr(torch, target)))


@pytest.mark.parametrize("dtype", INTS)
def test_printing_and_type_names(dtype):
    t, m = pair([[1, 2], [3, 100]], dtype)
    assert repr(m) == repr(t)
    assert repr(m[0, 0]) == repr(t[0, 0])
    assert m.type() == t.type().replace("torch.", "minigrad.")
    assert m.element_size() == t.element_size()
    assert mg.iinfo(getattr(mg, dtype)).max == torch.iinfo(getattr(torch, dtype)).max
    assert repr(mg.iinfo(getattr(mg, dtype))) == repr(torch.iinfo(getattr(torch, dtype)))


def test_conversion_methods_and_aliases():
    x = mg.tensor([1.7, -2.5])
    t = torch.tensor([1.7, -2.5])
    for name in ("int", "short", "char", "byte", "long"):
        assert_same(getattr(x, name)(), getattr(t, name)())
    assert mg.int is mg.int32 and mg.short is mg.int16
    for d in ("float32", "float64"):
        assert repr(mg.finfo(getattr(mg, d))) == repr(torch.finfo(getattr(torch, d)))
        assert mg.finfo(getattr(mg, d)).eps == torch.finfo(getattr(torch, d)).eps
        assert mg.finfo(getattr(mg, d)).tiny == torch.finfo(getattr(torch, d)).tiny


def test_in_place_ops_keep_the_narrow_dtype():
    t, m = pair([250, 3], "uint8")
    t += 10
    m += 10
    assert_same(m, t)
    t[0] = 7
    m[0] = 7
    assert_same(m, t)
    t.fill_(255)
    m.fill_(255)
    assert_same(m, t)


ERRORS = {
    "tensor_overflow": (lambda lib: lib.tensor([300], dtype=lib.int8), ["value cannot be converted to type int8"]),
    "fill_overflow": (lambda lib: lib.zeros(2, dtype=lib.int8).fill_(200), ["value cannot be converted to type int8"]),
    "requires_grad": (
        lambda lib: lib.tensor([1], dtype=lib.int16).requires_grad_(),
        ["only Tensors of floating point dtype can require gradients"],
    ),
    "iinfo_float": (lambda lib: lib.iinfo(lib.float32), ["requires an integer input type"]),
    "finfo_int": (lambda lib: lib.finfo(lib.int32), ["requires a floating point input type"]),
    "mean_int": (lambda lib: lib.tensor([1, 2], dtype=lib.int32).mean(), ["mean(): could not infer output dtype"]),
    "mm_dtypes": (
        lambda lib: lib.ones(2, 2, dtype=lib.int8) @ lib.ones(2, 2, dtype=lib.int16),
        ["expected m1 and m2 to have the same dtype"],
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    call, fragments = ERRORS[name]
    check_raises(lambda: call(torch), lambda: call(mg), *fragments)


def test_narrow_integers_round_trip_through_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    tensors = {name: mg.tensor([[1, 2], [3, 100]], dtype=getattr(mg, name)) for name in INTS}
    path = str(tmp_path / "ints.safetensors")
    mg.save(tensors, path)
    for name, t in st.load_file(path).items():  # torch reads what minigrad wrote
        assert_same(tensors[name], t)
    st.save_file({"x": torch.tensor([-3, 7], dtype=torch.int8)}, path)
    assert_same(mg.load(path)["x"], torch.tensor([-3, 7], dtype=torch.int8))


# -- everyday ops on every narrow integer dtype: nothing may reach a kernel that cannot take it ------

EVERYDAY_OPS = {
    "add": lambda lib, x: x + x,
    "radd": lambda lib, x: 3 + x,
    "mul_t": lambda lib, x: x * x.t().t(),
    "neg": lambda lib, x: -x,
    "abs": lambda lib, x: x.abs(),
    "relu": lambda lib, x: x.relu(),
    "exp": lambda lib, x: x.exp(),
    "div": lambda lib, x: x / 3,
    "pow": lambda lib, x: x**2,
    "cmp": lambda lib, x: x > 2,
    "where": lambda lib, x: lib.where(x > 2, x, x * 2),
    "clamp": lambda lib, x: x.clamp(1, 3),
    "sum": lambda lib, x: x.sum(1),
    "max": lambda lib, x: x.max(),
    "maxdim": lambda lib, x: x.max(0)[0],
    "argmin": lambda lib, x: x.argmin(1),
    "mm": lambda lib, x: x @ x.t(),
    "cat": lambda lib, x: lib.cat([x, x.t().t()], 0),
    "stack": lambda lib, x: lib.stack([x, x]),
    "index": lambda lib, x: x[:, 1],
    "adv": lambda lib, x: x[[0, 1], [1, 0]],
    "bool_idx": lambda lib, x: x[x > 2],
    "gather": lambda lib, x: x.gather(1, lib.tensor([[0], [1]])),
    "index_select": lambda lib, x: x.index_select(1, lib.tensor([2, 0])),
    "t_contig": lambda lib, x: x.t().contiguous(),
    "reshape_t": lambda lib, x: x.t().reshape(-1),
    "expand": lambda lib, x: x[:1].expand(3, 3),
    "masked_fill": lambda lib, x: x.masked_fill(x > 2, 7),
    "prod": lambda lib, x: x.prod(1),
    "cumsum": lambda lib, x: x.cumsum(0),
    "amax": lambda lib, x: x.amax(0),
    "median": lambda lib, x: x.median(),
    "unique": lambda lib, x: x.unique(),
    "tril": lambda lib, x: x.tril(),
    "roll": lambda lib, x: x.roll(1),
    "tile": lambda lib, x: x.tile(2),
    "diag": lambda lib, x: x.diag(),
    "einsum": lambda lib, x: lib.einsum("ij->ji", x),
    "to_float": lambda lib, x: x.float(),
    "to_int8": lambda lib, x: x.char(),
    "clone": lambda lib, x: x.clone(),
    "setitem": lambda lib, x: (x.clone().__setitem__((0, 0), 5), x)[1],
    "fill": lambda lib, x: x.clone().fill_(1),
    "copy": lambda lib, x: x.clone().copy_(x.t().t()),
    "iadd": lambda lib, x: x.clone().add_(1),
    "eq": lambda lib, x: lib.equal(x, x),
    "split": lambda lib, x: x.split(1, 1)[1],
    "unbind": lambda lib, x: x.unbind(1)[0],
    "flatten": lambda lib, x: x.t().flatten(),
    "all": lambda lib, x: x.all(1),
    "count": lambda lib, x: x.count_nonzero(),
    "mode": lambda lib, x: x.mode()[0],
    "bincount": lambda lib, x: (
        x.flatten().abs().bincount() if x.dtype not in (lib.uint8,) else x.flatten().long().bincount()
    ),
}


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("name", sorted(EVERYDAY_OPS))
def test_everyday_ops(name, dtype):
    fn = EVERYDAY_OPS[name]
    values = [[1, 2, 3], [4, 0, 2]]
    try:
        expected = fn(torch, torch.tensor(values, dtype=getattr(torch, dtype)))
    except Exception as error:
        check_raises(
            lambda: fn(torch, torch.tensor(values, dtype=getattr(torch, dtype))),
            lambda: fn(mg, mg.tensor(values, dtype=getattr(mg, dtype))),
            str(error)[:30],
        )
        return
    got = fn(mg, mg.tensor(values, dtype=getattr(mg, dtype)))
    if isinstance(expected, bool):
        assert got is expected
    else:
        assert_same(got, expected)


def test_type_by_name_and_absent_dtypes():
    for name in ("torch.IntTensor", "torch.ByteTensor", "torch.CharTensor", "torch.ShortTensor", "torch.FloatTensor"):
        assert_same(mg.tensor([1.5, -2.0]).type(name), torch.tensor([1.5, -2.0]).type(name))
    assert mg.ones(1).type("minigrad.DoubleTensor").dtype is mg.float64
    check_raises(
        lambda: torch.ones(1).type("torch.FooTensor"), lambda: mg.ones(1).type("torch.FooTensor"), "invalid type"
    )
    for name in ("half", "float16", "bfloat16", "complex64"):
        with pytest.raises(AttributeError, match=f"minigrad has no {name} dtype"):
            getattr(mg, name)
