"""Elementwise ops against torch 2.13.0: values, gradients, broadcasting, scalars on both sides,
layouts, extreme inputs and type promotion."""

import itertools
import math
import random

import pytest
from conftest import broadcastable_shapes, check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "permuted", "strided"]

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "add_alpha": lambda x, y: x.add(y, alpha=-2.5),
    "sub_alpha": lambda x, y: x.sub(y, alpha=3),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_same_shape(name, layout, dtype):
    check_op([(3, 4), (3, 4)], BINARY[name], layout=layout, dtype=dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting(name):
    rng = random.Random(name)
    for case in range(12):
        a, b = broadcastable_shapes(rng)
        check_op([a, b], BINARY[name], seed=case)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_tensor_tensor(dtype):
    check_op([(2, 3), (3,)], lambda x, y: x**y, low=0.5, high=2.0, dtype=dtype)
    check_op([(2, 1), ()], lambda x, y: x.pow(y), low=0.5, high=2.0, dtype=dtype)


SCALAR = {
    "add": lambda x: x + 2,
    "radd": lambda x: 2.5 + x,
    "sub": lambda x: x - 1.5,
    "rsub": lambda x: 1.5 - x,
    "mul": lambda x: x * 3,
    "rmul": lambda x: -0.5 * x,
    "div": lambda x: x / 4,
    "rdiv": lambda x: 2 / x,
    "pow2": lambda x: x**2,
    "pow3": lambda x: x**3,
    "pow_half": lambda x: x**0.5,
    "pow_neg": lambda x: x**-1.5,
    "pow0": lambda x: x**0,
    "rpow": lambda x: 2**x,
    "rpow_float": lambda x: 0.7**x,
    "neg": lambda x: -x,
    "neg_method": lambda x: x.neg(),
    "bool_scalar": lambda x: x * True,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalar_operands(name, dtype):
    check_op([(2, 3)], SCALAR[name], low=0.3, high=2.0, dtype=dtype, layout="permuted")


@pytest.mark.parametrize("name", ["add", "rsub", "mul", "rdiv", "pow2", "rpow", "neg"])
def test_scalar_operands_on_0d(name):
    check_op([()], SCALAR[name], low=0.3, high=2.0)


def test_pow_negative_base_integer_exponent():
    check_op([(5,)], lambda x: x**3, low=-2, high=-0.1)
    check_op([(5,)], lambda x: x**2.0, low=-2, high=2)
    check_op([(5,)], lambda x: x**0.5, low=-2, high=-0.1, grad=False)  # nan in both


UNARY = {
    "exp": (lambda x: x.exp(), -3, 3),
    "log": (lambda x: x.log(), 0.1, 3),
    "sqrt": (lambda x: x.sqrt(), 0.1, 3),
    "abs": (lambda x: x.abs(), -2, 2),
    "sigmoid": (lambda x: x.sigmoid(), -4, 4),
    "tanh": (lambda x: x.tanh(), -3, 3),
    "relu": (lambda x: x.relu(), -2, 2),
    "clamp_both": (lambda x: x.clamp(-0.5, 0.7), -2, 2),
    "clamp_min": (lambda x: x.clamp(min=0.2), -2, 2),
    "clamp_max": (lambda x: x.clamp(max=-0.1), -2, 2),
    "clip": (lambda x: x.clip(-1, 1), -2, 2),
    "abs_builtin": (lambda x: abs(x), -2, 2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, layout, dtype):
    fn, low, high = UNARY[name]
    check_op([(3, 4)], fn, low=low, high=high, layout=layout, dtype=dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_0d_and_empty(name):
    fn, low, high = UNARY[name]
    check_op([()], fn, low=low, high=high)
    check_op([(0, 3)], fn, low=low, high=high)


FUNCTIONAL = ["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "neg"]


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_module_level_functions(name):
    check_op([(4,)], getattr(torch, name), getattr(mg, name), low=0.1, high=2)


def test_module_level_binary_functions():
    for name in ["add", "sub", "mul", "div", "pow"]:
        check_op([(2, 3), (3,)], getattr(torch, name), getattr(mg, name), low=0.2, high=2)
    check_op([(3,)], lambda x: torch.clamp(x, -0.5, 0.5), lambda x: mg.clamp(x, -0.5, 0.5))
    check_op([(3,)], lambda x: torch.pow(2.0, x), lambda x: mg.pow(2.0, x))


def test_clamp_gradient_at_the_bounds():
    # torch passes the gradient where low <= x <= high, boundaries included
    check_op([(4,)], lambda x: x.clamp(-1.0, 1.0), values=[[-1.0, 1.0, 0.0, 2.0]])


def test_relu_and_abs_gradient_at_zero():
    check_op([(3,)], lambda x: x.relu(), values=[[0.0, -0.0, 1.0]])
    check_op([(3,)], lambda x: x.abs(), values=[[0.0, -0.0, -1.0]])


def test_clamp_with_tensor_bounds():
    # ties between x and a bound (values on a grid) keep x, as in torch
    values = [[-2.0, 0.5, 0.5, 3.0, 1.0, 0.0], [0.0, 0.5, 0.0, 0.0, 2.0, 0.0], [1.0, 1.0, 0.5, 2.0, 1.5, -1.0]]
    check_op(
        [(6,), (6,), (6,)],
        lambda x, lo, hi: torch.clamp(x, lo, hi),
        lambda x, lo, hi: mg.clamp(x, lo, hi),
        values=values,
    )
    check_op([(2, 3), (3,)], lambda x, lo: x.clamp(min=lo), lambda x, lo: x.clamp(min=lo))
    check_op([(2, 3), (2, 1)], lambda x, hi: x.clamp(max=hi), lambda x, hi: x.clamp(max=hi))
    t, m = _both([1, 5], "int64")
    t_lo, m_lo = _both([2.5, 2.0], "float32")
    check_op([], lambda: t.clamp(min=t_lo), lambda: m.clamp(min=m_lo), grad=False)
    with pytest.raises(TypeError):
        torch.clamp(torch.ones(2), min=torch.zeros(2), max=3.5)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        mg.clamp(mg.ones(2), min=mg.zeros(2), max=3.5)


def test_clamp_without_bounds_raises():
    x = [1.0, 2.0]
    check_raises(lambda: torch.tensor(x).clamp(), lambda: mg.tensor(x).clamp(), "At least one of 'min' or 'max'")


# -- extreme inputs -------------------------------------------------------------------------------

EXTREME = [-1000.0, -100.0, -88.0, -20.0, -1e-8, 0.0, 1e-8, 20.0, 88.0, 89.0, 100.0, 1000.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp", "relu", "abs", "neg"])
def test_extreme_inputs(name, dtype):
    check_op([(len(EXTREME),)], lambda x: getattr(x, name)(), values=[EXTREME], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_and_sqrt_at_zero_and_negative(dtype):
    values = [[0.0, -0.0, -1.0, 1e-30, math.inf]]
    check_op([(5,)], lambda x: x.log(), values=values, dtype=dtype)
    check_op([(5,)], lambda x: x.sqrt(), values=values, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_division_by_zero(dtype):
    check_op([(4,), (4,)], lambda x, y: x / y, values=[[1.0, -1.0, 0.0, 2.0], [0.0, 0.0, 0.0, -0.0]], dtype=dtype)
    check_op([(2,)], lambda x: x / 0, values=[[1.0, -1.0]], dtype=dtype, grad=False)


def test_pow_gradients_at_a_zero_base_or_exponent():
    # torch masks these gradients to 0: d/da where b == 0, d/db where a == 0 and b >= 0
    check_op([(4,), (4,)], lambda x, y: x**y, values=[[0.0, 0.0, 2.0, -2.0], [2.0, 0.0, 0.0, 3.0]])
    check_op([(3,)], lambda x: 0.0**x, values=[[0.0, 1.0, 2.0]])
    check_op([(2,)], lambda x: x**0, values=[[0.0, 4.0]])
    check_op([(2,)], lambda x: x**0.5, values=[[0.0, 4.0]])
    check_op([(2,)], lambda x: x**-1, values=[[0.0, 4.0]])


def test_pow_extremes():
    check_op([(4,)], lambda x: x**-1, values=[[0.0, -0.0, 2.0, 1e30]], grad=False)
    check_op([(3,)], lambda x: x**2, values=[[1e30, -1e30, 1e-30]], grad=False)
    check_op([(3,)], lambda x: 10.0**x, values=[[100.0, 400.0, -400.0]], grad=False)


def test_nan_propagates():
    nan = math.nan
    for name in ["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu"]:
        check_op([(2,)], lambda x, name=name: getattr(x, name)(), values=[[nan, 1.0]], grad=False)
    check_op([(2,)], lambda x: x.clamp(-1, 1), values=[[nan, 3.0]], grad=False)


# -- integer and bool tensors, type promotion -----------------------------------------------------

INT_VALUES = [[3, -2, 0, 7], [2, 5, -3, 1]]


def _both(values, dtype_name):
    t_dtype = {"int64": torch.int64, "bool": torch.bool, "float32": torch.float32, "float64": torch.float64}
    return torch.tensor(values, dtype=t_dtype[dtype_name]), mg.tensor(values, dtype=mg._dtype.BY_NAME[dtype_name])


PROMOTION_CASES = {
    "int + float scalar": (("int64", [1, 2]), 1.5, lambda a, b: a + b),
    "int * int scalar": (("int64", [1, 2]), 3, lambda a, b: a * b),
    "int / int": (("int64", [1, 2]), ("int64", [2, 4]), lambda a, b: a / b),
    "int / int scalar": (("int64", [1, 2]), 2, lambda a, b: a / b),
    "int scalar / int": (("int64", [1, 2]), 2, lambda a, b: b / a),
    "float32 + float64": (("float32", [1.0, 2.0]), ("float64", [0.5, 0.25]), lambda a, b: a + b),
    "float32 + 0-d float64": (("float32", [1.0, 2.0]), ("float64", 0.5), lambda a, b: a + b),
    "int + 0-d float64": (("int64", [1, 2]), ("float64", 0.5), lambda a, b: a + b),
    "0-d int + float32": (("int64", 3), ("float32", [0.5]), lambda a, b: a * b),
    "0-d float32 + 0-d float64": (("float32", 1.0), ("float64", 0.5), lambda a, b: a + b),
    "float64 + float scalar": (("float64", [1.0]), 1e-10, lambda a, b: a + b),
    "float32 - int scalar": (("float32", [1.0]), 7, lambda a, b: a - b),
    "bool + int scalar": (("bool", [True, False]), 2, lambda a, b: a + b),
    "bool * float scalar": (("bool", [True, False]), 1.5, lambda a, b: a * b),
    "bool + int": (("bool", [True, False]), ("int64", [1, 1]), lambda a, b: a + b),
    "int - int": (("int64", INT_VALUES[0]), ("int64", INT_VALUES[1]), lambda a, b: a - b),
    "int * int": (("int64", INT_VALUES[0]), ("int64", INT_VALUES[1]), lambda a, b: a * b),
    "int ** int scalar": (("int64", INT_VALUES[0]), 2, lambda a, b: a**b),
    "int ** float scalar": (("int64", [1, 4]), 0.5, lambda a, b: a**b),
    "int scalar ** int": (("int64", [1, 4]), 2, lambda a, b: b**a),
    "float scalar ** int": (("int64", [1, 4]), 0.5, lambda a, b: b**a),
    "int div by zero": (("int64", [1, 0]), ("int64", [0, 0]), lambda a, b: a / b),
    "int eq float": (("int64", [1, 2]), ("float32", [1.0, 2.5]), lambda a, b: a == b),
    "int lt float scalar": (("int64", [1, 2]), 1.5, lambda a, b: a < b),
    "float ge int scalar": (("float32", [1.0, 2.5]), 2, lambda a, b: a >= b),
}


@pytest.mark.parametrize("name", sorted(PROMOTION_CASES))
def test_type_promotion(name):
    (a_dtype, a_values), b, fn = PROMOTION_CASES[name]
    t_a, m_a = _both(a_values, a_dtype)
    t_b, m_b = _both(b[1], b[0]) if isinstance(b, tuple) else (b, b)
    check_op([], lambda: fn(t_a, t_b), lambda: fn(m_a, m_b), grad=False)


@pytest.mark.parametrize("name", ["neg", "abs", "relu", "exp", "log", "sqrt", "sigmoid", "tanh"])
def test_unary_on_int_tensors(name):
    t, m = _both([1, 4, 9], "int64")
    check_op([], lambda: getattr(t, name)(), lambda: getattr(m, name)(), grad=False)


def test_clamp_on_int_tensor():
    t, m = _both(INT_VALUES[0], "int64")
    check_op([], lambda: t.clamp(-1, 2), lambda: m.clamp(-1, 2), grad=False)
    check_op([], lambda: t.clamp(min=0.5), lambda: m.clamp(min=0.5), grad=False)


def test_int_to_negative_power_raises():
    t, m = _both([1, 2], "int64")
    check_raises(lambda: t**-1, lambda: m**-1, "Integers to negative integer powers are not allowed.", exact=True)


def test_mixed_dtype_gradients():
    # float32 input combined with a float64 tensor: the result is float64, each grad keeps its input's dtype
    t_a = torch.tensor([1.0, 2.0], requires_grad=True)
    t_b = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    m_a = mg.tensor([1.0, 2.0], requires_grad=True)
    m_b = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    (t_a * t_b + t_a).sum().backward()
    (m_a * m_b + m_a).sum().backward()
    assert m_a.grad.dtype is mg.float32 and m_b.grad.dtype is mg.float64
    assert m_a.grad.tolist() == t_a.grad.tolist()
    assert m_b.grad.tolist() == t_b.grad.tolist()


def test_float32_scalar_is_rounded_like_torch():
    # 0.1 is not representable in float32; torch computes x + 0.1 in float32 arithmetic
    check_op([(3,)], lambda x: x + 0.1, values=[[1e-8, 1.0, 16777216.0]], grad=False, exact=True)
    check_op([(3,)], lambda x: x * 0.1, values=[[3.0, 1.0, 7.0]], grad=False, exact=True)


# -- comparisons, where, casts ---------------------------------------------------------------------

COMPARISONS = {
    "eq": lambda x, y: x == y,
    "ne": lambda x, y: x != y,
    "lt": lambda x, y: x < y,
    "le": lambda x, y: x <= y,
    "gt": lambda x, y: x > y,
    "ge": lambda x, y: x >= y,
    "eq_method": lambda x, y: x.eq(y),
    "gt_scalar": lambda x, y: x > 0.5,
    "le_rscalar": lambda x, y: 0.5 >= x,
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons(name):
    # values on a coarse grid so that ties happen
    rng = random.Random(name)
    values = [[rng.choice([-1.0, 0.0, 0.5, 1.0]) for _ in range(n)] for n in (6, 3)]
    check_op([(2, 3), (3,)], COMPARISONS[name], values=values, grad=False)
    t = torch.tensor([1.0], requires_grad=True)
    m = mg.tensor([1.0], requires_grad=True)
    assert not COMPARISONS[name](m, m).requires_grad and not COMPARISONS[name](t, t).requires_grad


def test_logical_ops_on_bool():
    a, b = [True, False, True, False], [True, True, False, False]
    t_a, m_a = _both(a, "bool")
    t_b, m_b = _both(b, "bool")
    check_op([], lambda: (t_a & t_b, t_a | t_b, ~t_a), lambda: (m_a & m_b, m_a | m_b, ~m_a), grad=False)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_where(layout):
    rng = random.Random(3)
    cond = [rng.random() < 0.5 for _ in range(12)]
    t_c, m_c = torch.tensor(cond).reshape(3, 4), mg.tensor(cond).reshape(3, 4)
    check_op([(3, 4), (3, 4)], lambda x, y: torch.where(t_c, x, y), lambda x, y: mg.where(m_c, x, y), layout=layout)
    check_op([(4,), (3, 1)], lambda x, y: torch.where(t_c, x, y), lambda x, y: mg.where(m_c, x, y))
    check_op([(3, 4)], lambda x: torch.where(t_c, x, 0.0), lambda x: mg.where(m_c, x, 0.0))
    check_op([(3, 4)], lambda x: torch.where(t_c, 1.5, x), lambda x: mg.where(m_c, 1.5, x))
    check_op([(3, 4)], lambda x: x.masked_fill(t_c, -1.0), lambda x: x.masked_fill(m_c, -1.0))
    check_op([(3, 4)], lambda x: x.where(t_c, -x), lambda x: x.where(m_c, -x))


def test_where_mixed_dtypes_and_errors():
    t_c, m_c = torch.tensor([True, False]), mg.tensor([True, False])
    t_i, m_i = _both([1, 2], "int64")
    check_op([(2,)], lambda x: torch.where(t_c, x, t_i), lambda x: mg.where(m_c, x, m_i))
    check_op([], lambda: torch.where(t_c, t_i, 0.5), lambda: mg.where(m_c, m_i, 0.5), grad=False)
    t_x, m_x = _both([1.0, 2.0], "float32")
    check_raises(
        lambda: torch.where(t_i, t_x, t_x),
        lambda: mg.where(m_i, m_x, m_x),
        "where expected condition to be a boolean tensor",
    )
    t_y, m_y = _both([1.0, 2.0, 3.0], "float32")
    check_raises(lambda: torch.where(t_c, t_x, t_y), lambda: mg.where(m_c, m_x, m_y), "must match the size")


@pytest.mark.parametrize("target", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("source", ["float32", "float64", "int64", "bool"])
def test_to_dtype(source, target):
    values = {"bool": [True, False, True], "int64": [-3, 0, 7]}.get(source, [-2.7, 0.0, 2.5])
    t, m = _both(values, source)
    t_target, m_target = torch_dtype_pair(target)
    check_op([], lambda: t.to(t_target), lambda: m.to(m_target), grad=False)


def torch_dtype_pair(name):
    return getattr(torch, name), mg._dtype.BY_NAME[name]


def test_cast_methods_and_gradients():
    check_op([(2, 3)], lambda x: x.double() * 2, dtype="float32")
    check_op([(2, 3)], lambda x: x.float() * 2, dtype="float64")
    check_op([(2, 3)], lambda x: x.to(torch.float64), lambda x: x.to(mg.float64))
    check_op([(2, 3)], lambda x: x.to(dtype=torch.float64), lambda x: x.to(dtype=mg.float64))
    check_op([(2, 3)], lambda x: x.long(), grad=False, low=-5, high=5)
    check_op([(2, 3)], lambda x: x.to("cpu", torch.float64), lambda x: x.to("cpu", mg.float64))
    t, m = torch.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    assert m.float() is m and t.float() is t
    assert not m.long().requires_grad and not t.long().requires_grad


def test_float_to_int_truncates_toward_zero():
    values = [[-2.7, -0.5, 0.5, 2.7, 1e10]]
    check_op([(5,)], lambda x: x.long(), values=values, dtype="float64", grad=False)


def test_bool_arithmetic():
    t, m = _both([True, False, True], "bool")
    check_op(
        [], lambda: (t + t, t * t, t + True, t * 2, t / t), lambda: (m + m, m * m, m + True, m * 2, m / m), grad=False
    )
    check_op([], lambda: (t + t).long(), lambda: (m + m).long(), grad=False)
    check_op([], lambda: t.clamp(0, 1), lambda: m.clamp(0, 1), grad=False)


BOOL_ERRORS = {
    "sub two bools": (lambda b: b - b, "with two bool tensors is not supported"),
    "sub int": (lambda b: b - 1, "with a bool tensor is not supported"),
    "rsub int": (lambda b: 1 - b, "with a bool tensor is not supported"),
    "neg": (lambda b: -b, "Negation, the `-` operator, on a bool tensor is not supported"),
    "pow": (lambda b: b**b, "\"pow\" not implemented for 'Bool'"),
    "abs": (lambda b: b.abs(), "\"abs_cpu\" not implemented for 'Bool'"),
    "relu": (lambda b: b.relu(), "Boolean inputs not supported for relu"),
}


@pytest.mark.parametrize("name", sorted(BOOL_ERRORS))
def test_bool_errors(name):
    fn, fragment = BOOL_ERRORS[name]
    t, m = _both([True, False], "bool")
    check_raises(lambda: fn(t), lambda: fn(m), fragment, exact=True)


def test_int_pow_negative_exponents_follow_c_integer_rules():
    t, m = _both([1, -1, -1, 2, 0, 5], "int64")
    t_e, m_e = _both([-1, -1, -2, -1, -1, 2], "int64")
    check_op([], lambda: t**t_e, lambda: m**m_e, grad=False)
    check_op([], lambda: 2**t_e, lambda: 2**m_e, grad=False)


def _operand(kind, dtype):
    """One operand as (torch value, minigrad value): a 1-D tensor, a 0-d tensor or a Python scalar."""
    values = {"bool": [True, False], "int64": [3, -2], "float32": [1.5, -0.25], "float64": [0.75, -2.5]}[dtype]
    if kind == "scalar":
        return values[0], values[0]
    if kind == "0-d":
        values = values[0]
    return _both(values, dtype)


def test_type_promotion_table():
    """Every pairing of dtypes and operand kinds, for each arithmetic op: torch's result or its error."""
    dtypes = ["bool", "int64", "float32", "float64"]
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a == b]
    for kind_a, kind_b, dtype_a, dtype_b in itertools.product(["1-d", "0-d"], ["1-d", "0-d", "scalar"], dtypes, dtypes):
        if kind_b == "scalar" and dtype_b == "float64":
            continue  # a Python float has the default dtype
        t_a, m_a = _operand(kind_a, dtype_a)
        t_b, m_b = _operand(kind_b, dtype_b)
        for op in ops:
            _check_pairing(op, t_a, t_b, m_a, m_b)


def _check_pairing(op, t_a, t_b, m_a, m_b):
    try:
        expected = op(t_a, t_b)
    except RuntimeError:
        check_raises(lambda: op(t_a, t_b), lambda: op(m_a, m_b), exact=True)
    else:
        check_op([], lambda: expected, lambda: op(m_a, m_b), grad=False)
