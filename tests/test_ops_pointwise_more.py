"""The pointwise functions of issue 14 (``minigrad._functions.pointwise_math``) against torch 2.13.0:
values and gradients (float32 and float64, three layouts), integer and bool inputs, broadcasting,
Python-number operands, in-place variants, torch's errors, and gradcheck in float64."""

import math

import pytest
from conftest import check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]

# name: (inputs drawn from [low, high])
UNARY = {
    "sin": (-4, 4), "cos": (-4, 4), "tan": (-1.2, 1.2), "asin": (-0.95, 0.95), "acos": (-0.95, 0.95),
    "atan": (-4, 4), "sinh": (-3, 3), "cosh": (-3, 3), "asinh": (-4, 4), "acosh": (1.1, 4), "atanh": (-0.9, 0.9),
    "log1p": (-0.9, 4), "expm1": (-3, 3), "log2": (0.1, 8), "log10": (0.1, 8), "exp2": (-4, 4),
    "rsqrt": (0.1, 4), "reciprocal": (0.2, 3), "erf": (-3, 3), "erfinv": (-0.95, 0.95),
    "floor": (-3, 3), "ceil": (-3, 3), "round": (-3, 3), "trunc": (-3, 3), "frac": (-3, 3), "sign": (-3, 3),
    "square": (-3, 3), "sgn": (-3, 3), "fix": (-3, 3), "arcsin": (-0.9, 0.9), "arctanh": (-0.9, 0.9),
}  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_methods(name, layout, dtype):
    low, high = UNARY[name]
    check_op([(3, 4)], lambda x: getattr(x, name)(), low=low, high=high, layout=layout, dtype=dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_functions_0d_and_empty(name):
    low, high = UNARY[name]
    check_op([(5,)], getattr(torch, name), getattr(mg, name), low=low, high=high)
    check_op([()], getattr(torch, name), getattr(mg, name), low=low, high=high)
    check_op([(0, 2)], getattr(torch, name), getattr(mg, name), low=low, high=high)


SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-40, 100.0, -100.0]


@pytest.mark.parametrize("name", sorted(n for n in UNARY if n not in ("square",)))
def test_unary_special_values(name):
    check_op([(len(SPECIALS),)], lambda x: getattr(x, name)(), values=[SPECIALS], grad=False)


@pytest.mark.parametrize("name", ["sin", "exp2", "rsqrt", "reciprocal", "erfinv", "floor", "round", "sign", "square"])
@pytest.mark.parametrize("dtype", [mg.int64, mg.bool])
def test_unary_integer_and_bool_inputs(name, dtype):
    values = [3, -2, 0, 1] if dtype is mg.int64 else [True, False, True, True]
    t_dtype = torch.int64 if dtype is mg.int64 else torch.bool
    t_in, m_in = torch.tensor(values, dtype=t_dtype), mg.tensor(values, dtype=dtype)
    try:
        expected = getattr(t_in, name)()
    except Exception:
        check_raises(lambda: getattr(t_in, name)(), lambda: getattr(m_in, name)())
        return
    got = getattr(m_in, name)()
    assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    assert got.tolist() == pytest.approx(expected.tolist(), nan_ok=True, rel=1e-6)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals(decimals):
    values = [0.125, 2.5, -2.5, 1.2345, 15.0, -25.0, 0.05, 123.456]
    check_op([(8,)], lambda x: x.round(decimals=decimals), values=[values], dtype="float64")
    check_op([(8,)], lambda x: torch.round(x, decimals=decimals), lambda x: mg.round(x, decimals=decimals),
             values=[values])  # fmt: skip


def test_round_decimals_of_integers_raises():
    check_raises(lambda: torch.round(torch.tensor([25]), decimals=-1), lambda: mg.round(mg.tensor([25]), decimals=-1),
                 "round_cpu")  # fmt: skip


BINARY = {
    "maximum": (-2, 2), "minimum": (-2, 2), "fmod": (0.3, 3), "remainder": (0.3, 3), "atan2": (-2, 2),
    "hypot": (-2, 2), "copysign": (-2, 2), "fmax": (-2, 2), "fmin": (-2, 2),
}  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, layout, dtype):
    low, high = BINARY[name]
    check_op([(3, 4), (3, 4)], lambda a, b: getattr(a, name)(b), low=low, high=high, layout=layout, dtype=dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting(name):
    low, high = BINARY[name]
    check_op([(3, 1), (1, 4)], getattr(torch, name), getattr(mg, name), low=low, high=high)


def test_maximum_minimum_ties_share_the_gradient():
    values = [[1.0, 2.0, 3.0, math.nan], [1.0, 5.0, -3.0, 0.0]]
    for name in ["maximum", "minimum"]:
        check_op([(4,), (4,)], getattr(torch, name), getattr(mg, name), values=values)


@pytest.mark.parametrize("name", ["fmod", "remainder", "copysign"])
@pytest.mark.parametrize("scalar", [2, -1.5, 0.7])
def test_binary_with_a_number(name, scalar):
    check_op([(6,)], lambda a: getattr(a, name)(scalar), low=-3, high=3)


def test_fmod_remainder_signs_and_integers():
    a, b = [7, -7, 7, -7, 0], [3, 3, -3, -3, 5]
    for name in ["fmod", "remainder"]:
        expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        got = getattr(mg, name)(mg.tensor(a), mg.tensor(b))
        assert got.dtype is mg.int64 and got.tolist() == expected.tolist()
        floats = [[float(v) for v in a], [float(v) for v in b]]
        check_op([(5,), (5,)], getattr(torch, name), getattr(mg, name), values=floats)
    assert (mg.tensor([5, -5]) % 3).tolist() == (torch.tensor([5, -5]) % 3).tolist()
    check_raises(lambda: torch.fmod(torch.tensor([1]), 0), lambda: mg.fmod(mg.tensor([1]), 0), "ZeroDivisionError")


def test_binary_errors_as_torch():
    check_raises(lambda: torch.maximum(torch.tensor([1.0]), 2), lambda: mg.maximum(mg.tensor([1.0]), 2),
                 "must be Tensor, not int")  # fmt: skip
    check_raises(lambda: torch.hypot(torch.tensor([1]), torch.tensor([2])),
                 lambda: mg.hypot(mg.tensor([1]), mg.tensor([2])), "hypot_cpu")  # fmt: skip
    check_raises(lambda: torch.tensor([1.0]) & torch.tensor([1.0]), lambda: mg.tensor([1.0]) & mg.tensor([1.0]),
                 "bitwise_and_cpu")  # fmt: skip
    check_raises(lambda: ~torch.tensor([1.0]), lambda: ~mg.tensor([1.0]), "only implemented on integer and Boolean")


def test_integer_inputs_promote():
    i = [3, -2, 0]
    for name in ["atan2", "copysign"]:
        expected = getattr(torch, name)(torch.tensor(i), torch.tensor([1, -1, 2]))
        got = getattr(mg, name)(mg.tensor(i), mg.tensor([1, -1, 2]))
        assert got.dtype is mg.float32 and got.tolist() == pytest.approx(expected.tolist())
    got = mg.maximum(mg.tensor(i), mg.tensor([1.5, -1.0, math.nan]))
    expected = torch.maximum(torch.tensor(i), torch.tensor([1.5, -1.0, math.nan]))
    assert got.dtype is mg.float32 and got.tolist()[:2] == expected.tolist()[:2] and math.isnan(got.tolist()[2])


@pytest.mark.parametrize("weight", [0.3, 0.7, -0.2, "tensor"])
def test_lerp(weight):
    if weight == "tensor":
        check_op([(2, 3), (2, 3), (2, 3)], torch.lerp, mg.lerp, low=-1, high=1.5)
    else:
        check_op([(2, 3), (2, 3)], lambda a, b: torch.lerp(a, b, weight), lambda a, b: mg.lerp(a, b, weight))


def test_tests_and_nan_to_num():
    values = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.5, -2.0, 3.4e38]
    for name in ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"]:
        check_op([(8,)], getattr(torch, name), getattr(mg, name), values=[values], grad=False)
    check_op([(8,)], torch.nan_to_num, mg.nan_to_num, values=[values], grad=False)
    check_op([(8,)], lambda x: x.nan_to_num(nan=1.0, posinf=2.0, neginf=-3.0), values=[values], grad=False)
    check_op([(8,)], lambda x: x.nan_to_num(), values=[values], dtype="float64", grad=False)
    for name in ["isnan", "isinf", "isfinite", "signbit"]:
        assert getattr(mg, name)(mg.tensor([3, -1])).tolist() == getattr(torch, name)(torch.tensor([3, -1])).tolist()


def test_nan_to_num_gradient():
    check_op([(4,)], lambda x: (x * 2).nan_to_num(), values=[[1.0, 2.0, -3.0, 0.5]])


def test_logical():
    a, b = [3, 0, -1, 0], [0.0, 0.0, 2.5, math.nan]
    for name in ["logical_and", "logical_or", "logical_xor"]:
        expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        got = getattr(mg, name)(mg.tensor(a), mg.tensor(b))
        assert got.dtype is mg.bool and got.tolist() == expected.tolist()
        assert getattr(mg.tensor(a), name)(mg.tensor(b)).tolist() == expected.tolist()
    assert mg.logical_not(mg.tensor(b)).tolist() == torch.logical_not(torch.tensor(b)).tolist()


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_bitwise(dtype):
    if dtype == "int64":
        a, b = [12, -7, 0, 5, -1], [10, 3, -4, 5, 7]
    else:
        a, b = [True, False, True, False, True], [True, True, False, False, False]
    t_dtype, m_dtype = getattr(torch, dtype), getattr(mg, dtype)
    ta, tb = torch.tensor(a, dtype=t_dtype), torch.tensor(b, dtype=t_dtype)
    ma, mb = mg.tensor(a, dtype=m_dtype), mg.tensor(b, dtype=m_dtype)
    for op in ["__and__", "__or__", "__xor__", "bitwise_and", "bitwise_or", "bitwise_xor"]:
        assert getattr(ma, op)(mb).tolist() == getattr(ta, op)(tb).tolist(), op
    assert (~ma).tolist() == (~ta).tolist() and mg.bitwise_not(ma).tolist() == torch.bitwise_not(ta).tolist()
    if dtype == "int64":
        assert (ma & 6).tolist() == (ta & 6).tolist() and (6 | ma).tolist() == (6 | ta).tolist()
        shifts = [1, 2, 63, 64, 0]
        for op in ["__lshift__", "__rshift__"]:
            expected = getattr(ta, op)(torch.tensor(shifts)).tolist()
            assert getattr(ma, op)(mg.tensor(shifts)).tolist() == expected, op
            assert getattr(ma, op)(3).tolist() == getattr(ta, op)(3).tolist(), op


def test_clamp_min_max_and_in_place():
    check_op([(5,)], lambda x: x.clamp_min(0.3), low=-1, high=1)
    check_op([(5,)], lambda x: torch.clamp_max(x, 0.2), lambda x: mg.clamp_max(x, 0.2), low=-1, high=1)
    for name in ["sin_", "floor_", "exp2_", "clamp_min_", "nan_to_num_", "round_"]:
        args = (0.1,) if name == "clamp_min_" else ()
        t, m = torch.tensor([0.5, -1.5, 2.25]), mg.tensor([0.5, -1.5, 2.25])
        expected = getattr(t, name)(*args)
        got = getattr(m, name)(*args)
        assert got is m and m.tolist() == pytest.approx(t.tolist()) and expected is t
    check_raises(lambda: torch.tensor([1, 2]).sin_(), lambda: mg.tensor([1, 2]).sin_(), "can't be cast")


@pytest.mark.parametrize("name", ["sin", "tan", "asinh", "atanh", "log1p", "expm1", "log2", "exp2", "rsqrt",
                                  "reciprocal", "erf", "erfinv", "frac", "acosh"])  # fmt: skip
def test_gradcheck_unary(name):
    low, high = UNARY[name]
    x = mg.tensor([low + (high - low) * k / 7 for k in range(1, 7)], dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: getattr(t, name)(), (x,))


@pytest.mark.parametrize("name", ["atan2", "hypot", "fmod", "remainder", "copysign", "lerp"])
def test_gradcheck_binary(name):
    a = mg.tensor([0.7, -1.3, 2.2, 0.4], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([1.9, 0.6, -0.8, -2.5], dtype=mg.float64, requires_grad=name not in ("copysign",))
    if name == "lerp":
        w = mg.tensor([0.2, 0.8, -0.3, 0.5], dtype=mg.float64, requires_grad=True)
        assert mg.autograd.gradcheck(lambda p, q, r: mg.lerp(p, q, r), (a, b, w))
    else:
        assert mg.autograd.gradcheck(lambda p, q: getattr(mg, name)(p, q), (a, b))


@pytest.mark.parametrize(
    "name, args",
    [("fmod_", (1.5,)), ("remainder_", (-1.5,)), ("copysign_", (-1.0,)), ("logical_and_", ("t",)),
     ("logical_not_", ()), ("atan2_", ("t",)), ("hypot_", ("t",)), ("lerp_", ("t", 0.3))],
)  # fmt: skip
def test_binary_in_place(name, args):
    values, other = [0.5, -2.5, 3.25], [1.0, -2.0, 0.5]
    t, m = torch.tensor(values), mg.tensor(values)
    t_args = [torch.tensor(other) if a == "t" else a for a in args]
    m_args = [mg.tensor(other) if a == "t" else a for a in args]
    assert getattr(m, name)(*m_args) is m and getattr(t, name)(*t_args) is t
    assert m.tolist() == pytest.approx(t.tolist(), rel=1e-6)


def test_bitwise_in_place():
    t, m = torch.tensor([12, -7, 5]), mg.tensor([12, -7, 5])
    for name, arg in [("bitwise_and_", 6), ("bitwise_or_", 1), ("bitwise_xor_", 3)]:
        getattr(t, name)(arg)
        getattr(m, name)(arg)
        assert m.tolist() == t.tolist(), name
    t.bitwise_not_()
    m.bitwise_not_()
    assert m.tolist() == t.tolist()
