"""The Cython kernels (``minigrad_c._kernels``) against the pure ones (``minigrad._kernels``).

Every public function of the pure module must exist in the Cython module with the same
signature, and give the same results on random inputs: random shapes, every typecode the
callers use, non-contiguous and broadcast (stride 0) views, and special values (+-0, +-inf,
nan) mixed in. Floats must agree within float32 tolerance (they agree bit for bit on Python
3.11; see the Cython module's docstring for where they may not), integers and bools exactly.
A kernel raising on an input must raise the same exception type in both modules.
"""

from __future__ import annotations

import inspect
import math
import random
import sys
from array import array
from math import prod

import pytest
from conftest import cython_core

from minigrad import _kernels as P

C = cython_core()
if C is None:
    pytest.skip("the Cython core minigrad_c is not built", allow_module_level=True)

CASES_PER_KERNEL = 60
SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e30, -1e-30, 88.0, -100.0]


def public_kernels() -> dict:
    """The pure module's own public functions."""
    return {
        name: obj
        for name, obj in vars(P).items()
        if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__.startswith(P.__name__ + ".")
    }


# -- random inputs -------------------------------------------------------------------------------


def floats(rng: random.Random, n: int, special: float = 0.05, low: float = -3.0, high: float = 3.0) -> list:
    return [rng.choice(SPECIALS) if rng.random() < special else rng.uniform(low, high) for _ in range(n)]


def values(rng: random.Random, tc: str, n: int, special: float = 0.05) -> array:
    if tc in "fd":
        return array(tc, floats(rng, n, special))
    if tc == "q":
        return array("q", [rng.randint(-20, 20) for _ in range(n)])
    if tc in "ihb":  # the narrow integer storages, which only the layout kernels see (small: sums fit in int8)
        return array(tc, [rng.randint(-4, 4) for _ in range(n)])
    return array("B", [rng.randint(0, 1) for _ in range(n)])


def zeros(tc: str, n: int) -> array:
    return array(tc, bytes(n * array(tc).itemsize))


def random_shape(rng: random.Random, max_dims: int = 4, max_size: int = 4, allow_empty: bool = True) -> tuple:
    low = 0 if allow_empty and rng.random() < 0.1 else 1
    return tuple(rng.randint(low, max_size) for _ in range(rng.randint(0, max_dims)))


def contiguous_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def random_view(rng: random.Random, shape: tuple, broadcast: bool = True) -> tuple[tuple, int, int]:
    """(strides, offset, buffer length) of a random view of ``shape`` that fits its buffer exactly:
    contiguous, permuted-looking, gapped, negative or (when ``broadcast``) stride-0 dimensions."""
    kind = rng.random()
    if kind < 0.35:
        strides = contiguous_strides(shape)
    else:
        strides = []
        for _ in shape:
            r = rng.random()
            if broadcast and r < 0.25:
                strides.append(0)
            else:
                strides.append(rng.choice([1, 2, 3, 5, 7, 11]) * (-1 if r > 0.85 else 1))
        strides = tuple(strides)
    if prod(shape) == 0:
        return strides, 0, rng.randint(0, 3)
    lo = sum((s - 1) * st for s, st in zip(shape, strides) if st < 0)
    hi = sum((s - 1) * st for s, st in zip(shape, strides) if st > 0)
    offset = -lo + rng.randint(0, 2)
    return strides, offset, offset + hi + 1 + rng.randint(0, 2)


# -- one generator of (args) per kernel; output buffers are zero-filled -------------------------


def case_strided_positions(rng):
    shape = random_shape(rng)
    strides, offset, _ = random_view(rng, shape)
    return shape, strides, offset


def case_gather(rng):
    tc = rng.choice("fdqBihb")
    shape = random_shape(rng)
    strides, offset, length = random_view(rng, shape)
    return values(rng, tc, length), shape, strides, offset, zeros(tc, prod(shape))


def case_scatter(rng):
    tc = rng.choice("fdqBihb")
    shape = random_shape(rng)
    strides, offset, length = random_view(rng, shape)
    return values(rng, tc, length), shape, strides, offset, values(rng, tc, prod(shape))


def case_take(rng):
    tc = rng.choice("fdqBihb")
    src = values(rng, tc, rng.randint(1, 12))
    positions = array("q", [rng.randrange(len(src)) for _ in range(rng.randint(0, 15))])
    return src, positions, zeros(tc, len(positions))


def case_put(rng):
    tc = rng.choice("fdqihb")
    dst = values(rng, tc, rng.randint(1, 12))
    positions = array("q", [rng.randrange(len(dst)) for _ in range(rng.randint(0, 15))])
    return dst, positions, values(rng, tc, len(positions)), rng.random() < 0.5


def case_zeros(rng):
    return zeros(rng.choice("fdqBihb"), rng.randint(0, 3)), rng.choice([0, 1, 7, 300, 5000, 5000, -1])


def case_empty(rng):
    return zeros(rng.choice("fdqBihb"), rng.randint(0, 3)), rng.choice([0, 1, 7, 300, 5000, 5000, -1])


def case_fill(rng):
    tc = rng.choice("fdqBihb")
    value = {"f": rng.uniform(-5, 5), "d": rng.choice(SPECIALS + [rng.uniform(-5, 5)])}.get(
        tc, rng.randint(0, 1) if tc == "B" else rng.randint(-9, 9)
    )
    return zeros(tc, rng.randint(0, 9)), value


def case_unary(rng):
    tc = rng.choice("fdfdq")
    op = rng.randrange(P.SIGN + 1) if tc in "fd" else rng.choice([P.NEG, P.ABS, P.RELU])  # every op code
    x = values(rng, tc, rng.randint(0, 12), special=0.15)
    return op, x, zeros(tc, len(x))


def case_unary_backward(rng):
    tc = rng.choice("fd")
    op = rng.randrange(8)
    n = rng.randint(0, 12)
    x = values(rng, tc, n, special=0.1)
    y = zeros(tc, n)
    P.unary(op, x, y)
    uses_x = op in (P.LOG, P.ABS, P.RELU)
    return op, x if uses_x else array(tc), array(tc) if uses_x else y, values(rng, tc, n, 0.1), zeros(tc, n)


FLOAT_ARITH = [P.ADD, P.SUB, P.MUL, P.DIV, P.POW, P.MAXIMUM, P.MINIMUM,
               P.FMOD, P.REMAINDER, P.ATAN2, P.HYPOT, P.COPYSIGN]  # fmt: skip
POW_BASES = [0.0, -0.0, -2.0, 3.0, 1e30, -1e30, 1e200, -1e200, math.inf, -math.inf, math.nan, -0.5, 1.0, -1.0]
POW_EXPONENTS = [-1.0, -2.0, -3.0, 2.0, 3.0, 11.0, 0.5, -0.5, math.inf, -math.inf, 0.0, math.nan]
COMPARISONS = [P.EQ, P.NE, P.LT, P.LE, P.GT, P.GE]


def binary_op(rng, tc: str) -> int:
    if rng.random() < 0.35:
        return rng.choice(COMPARISONS)
    if tc in "fd":
        return rng.choice(FLOAT_ARITH)
    if tc == "q":
        return rng.choice([P.ADD, P.SUB, P.MUL, P.MAXIMUM, P.MINIMUM,
                           P.FMOD, P.REMAINDER, P.BITAND, P.BITOR, P.BITXOR, P.LSHIFT, P.RSHIFT])  # fmt: skip
    return rng.choice([P.ADD, P.MUL, P.MAXIMUM, P.MINIMUM, P.BITAND, P.BITOR, P.BITXOR])


def case_binary(rng):
    tc = rng.choice("fdqB")
    op = binary_op(rng, tc)
    shape = random_shape(rng)
    a_strides, a_offset, a_len = random_view(rng, shape)
    b_strides, b_offset, b_len = random_view(rng, shape)
    a, b = values(rng, tc, a_len, 0.15), values(rng, tc, b_len, 0.15)
    if tc == "q" and rng.random() < 0.2:  # small integer powers, negative exponents too
        op = P.POW
        a, b = array("q", [rng.randint(-4, 4) for _ in a]), array("q", [rng.randint(-3, 5) for _ in b])
    elif tc in "fd" and rng.random() < 0.2:  # signed zeros, overflow, odd and even integer exponents
        op = P.POW
        a = array(tc, [rng.choice(POW_BASES) for _ in a])
        b = array(tc, [rng.choice(POW_EXPONENTS) for _ in b])
    out = zeros("B" if op in COMPARISONS else tc, prod(shape))
    return op, a, a_strides, a_offset, b, b_strides, b_offset, shape, out


def case_binary_scalar(rng):
    tc = rng.choice("fdq")
    op = binary_op(rng, tc)
    a = values(rng, tc, rng.randint(0, 10), 0.15)
    scalar = rng.choice(SPECIALS + [rng.uniform(-3, 3)] * 6) if tc in "fd" else rng.randint(-5, 5)
    if tc == "q" and op == P.POW:
        scalar = rng.randint(-3, 5)
    elif op == P.POW and rng.random() < 0.5:
        scalar = rng.choice(POW_EXPONENTS)
    return op, a, scalar, rng.random() < 0.5, zeros("B" if op in COMPARISONS else tc, len(a))


def case_where(rng):
    tc = rng.choice("fdqB")
    shape = random_shape(rng)
    views = [random_view(rng, shape) for _ in range(3)]
    cond = values(rng, "B", views[0][2])
    a, b = values(rng, tc, views[1][2]), values(rng, tc, views[2][2])
    return (
        cond, views[0][0], views[0][1],
        a, views[1][0], views[1][1],
        b, views[2][0], views[2][1],
        shape, zeros(tc, prod(shape)),
    )  # fmt: skip


def bounds(rng) -> tuple[float, float]:
    low = rng.choice([-math.inf, rng.uniform(-2, 1), math.nan])
    high = rng.choice([math.inf, rng.uniform(-1, 2)])
    return low, high


def case_clamp(rng):
    tc = rng.choice("fdq")
    x = values(rng, tc, rng.randint(0, 12), 0.15)
    if tc == "q":
        low, high = rng.choice([-math.inf, rng.randint(-10, 5)]), rng.choice([math.inf, rng.randint(-5, 10)])
    else:
        low, high = bounds(rng)
    return x, low, high, zeros(tc, len(x))


def case_clamp_backward(rng):
    tc = rng.choice("fd")
    n = rng.randint(0, 12)
    low, high = bounds(rng)
    return values(rng, tc, n, 0.15), low, high, values(rng, tc, n), zeros(tc, n)


def case_pow_scalar_backward(rng):
    tc = rng.choice("fd")
    n = rng.randint(0, 12)
    exponent = rng.choice([0.0, 1.0, 2.0, 3.0, 0.5, -1.5, rng.uniform(-3, 3)])
    return values(rng, tc, n, 0.1), exponent, values(rng, tc, n), zeros(tc, n)


def lines(rng, allow_empty_n: bool = False) -> tuple[int, int, int]:
    """(outer, n, inner), now and then with an empty outer or inner."""
    outer, inner = (0 if rng.random() < 0.05 else rng.randint(1, 3) for _ in range(2))
    return outer, rng.randint(0 if allow_empty_n else 1, 5), inner


def case_reduce_dim(rng):
    tc = rng.choice("fdqB")
    op = rng.choice([P.SUM, P.MAX, P.MIN])
    outer, n, inner = lines(rng, allow_empty_n=op == P.SUM)
    return op, values(rng, tc, outer * n * inner, 0.1), outer, n, inner, zeros(tc, outer * inner)


def case_arg_reduce_dim(rng):
    tc = rng.choice("fdqB")
    outer, n, inner = lines(rng)
    x = values(rng, tc, outer * n * inner, 0.1)
    if tc in "fd" and rng.random() < 0.3:  # ties
        x = array(tc, [rng.choice([0.0, -0.0, 1.0]) for _ in x])
    return rng.choice([P.MAX, P.MIN]), x, outer, n, inner, zeros(tc, outer * inner), zeros("q", outer * inner)


def case_sum_all(rng):
    tc = rng.choice("fdqB")
    x = values(rng, tc, rng.randint(0, 30), special=0.0)
    if tc == "d" and rng.random() < 0.3:  # cancellation that fsum gets right and a naive sum does not
        x = array("d", [1e16, 1.0, -1e16, 1e-16] * rng.randint(1, 3))
    return (x,)


def case_matmul(rng):
    tc = rng.choice("fdq")
    batch, m, k, n = (rng.randint(0, 4) for _ in range(4))
    a, b = values(rng, tc, batch * m * k, 0.02), values(rng, tc, batch * k * n, 0.02)
    return a, b, batch, m, k, n, zeros(tc, batch * m * n)


def softmax_lines(rng, allow_empty_n: bool = False):
    tc = rng.choice("fd")
    outer, n, inner = lines(rng, allow_empty_n)
    return tc, outer, n, inner, values(rng, tc, outer * n * inner, 0.08)


def case_log_softmax(rng):
    tc, outer, n, inner, x = softmax_lines(rng)
    return x, outer, n, inner, zeros(tc, len(x))


def case_softmax(rng):
    return case_log_softmax(rng)


def case_logsumexp(rng):
    tc, outer, n, inner, x = softmax_lines(rng)
    return x, outer, n, inner, zeros(tc, outer * inner)


def case_log_softmax_backward(rng):
    tc, outer, n, inner, x = softmax_lines(rng, allow_empty_n=True)
    y = zeros(tc, len(x))
    if n:
        P.log_softmax(x, outer, n, inner, y)
    return y, values(rng, tc, len(x), 0.1), outer, n, inner, zeros(tc, len(x))


def case_softmax_backward(rng):
    tc, outer, n, inner, x = softmax_lines(rng, allow_empty_n=True)
    y = zeros(tc, len(x))
    if n:
        P.softmax(x, outer, n, inner, y)
    return y, values(rng, tc, len(x), 0.1), outer, n, inner, zeros(tc, len(x))


def nll_args(rng, tc: str, n: int, c: int) -> tuple:
    ignore_index = rng.choice([-100, 0, 1])
    target = array("q", [rng.choice([rng.randrange(c), ignore_index]) if c else ignore_index for _ in range(n)])
    weight = values(rng, tc, c, 0.0) if rng.random() < 0.5 else array(tc)
    return target, weight, ignore_index


def case_nll_loss(rng):
    tc, n, c = rng.choice("fd"), rng.randint(0, 6), rng.randint(1, 5)
    target, weight, ignore_index = nll_args(rng, tc, n, c)
    return values(rng, tc, n * c, 0.05), target, weight, n, c, ignore_index, zeros(tc, n)


def case_nll_loss_backward(rng):
    tc, n, c = rng.choice("fd"), rng.randint(0, 6), rng.randint(1, 5)
    target, weight, ignore_index = nll_args(rng, tc, n, c)
    return values(rng, tc, n, 0.0), target, weight, n, c, ignore_index, zeros(tc, n * c)


def lstm_inputs(rng) -> tuple:
    tc = rng.choice("fd")
    steps, batch, features, hidden = rng.randint(0, 5), rng.randint(1, 3), rng.randint(0, 4), rng.randint(1, 4)
    w = lambda n: array(tc, floats(rng, n, 0.0, -0.8, 0.8))  # noqa: E731
    bias = rng.random() < 0.7
    args = (
        w(steps * batch * features), w(4 * hidden * features), w(4 * hidden * hidden),
        w(4 * hidden) if bias else array(tc), w(4 * hidden) if bias else array(tc),
        w(batch * hidden), w(batch * hidden), (steps, batch, features, hidden), rng.random() < 0.5,
    )  # fmt: skip
    return tc, steps, batch, features, hidden, args


def lstm_outputs(tc, steps, batch, hidden) -> tuple:
    return (
        zeros(tc, steps * batch * hidden), zeros(tc, batch * hidden), zeros(tc, batch * hidden),
        zeros(tc, steps * batch * 4 * hidden), zeros(tc, steps * batch * hidden),
    )  # fmt: skip


def uncleared(rng, buffers: tuple) -> tuple:
    """Output buffers holding other values (NaNs among them): the recurrent forward kernels get
    buffers that are not cleared first (``empty_buffer``), so they must write every element."""
    return tuple(values(rng, b.typecode, len(b)) for b in buffers)


def case_lstm_forward(rng):
    tc, steps, batch, _, hidden, args = lstm_inputs(rng)
    return args + uncleared(rng, lstm_outputs(tc, steps, batch, hidden))


def wanted_x(rng, n: int) -> int:
    """The length of a backward kernel's grad_x: n, or now and then 0 (x's gradient not wanted)."""
    return 0 if rng.random() < 0.25 else n


def case_lstm_backward(rng):
    tc, steps, batch, features, hidden, args = lstm_inputs(rng)
    x, w_ih, w_hh, b_ih, b_hh, h0, c0, shape, reverse = args
    out, h_n, c_n, gates, cells = lstm_outputs(tc, steps, batch, hidden)
    P.lstm_forward(*args, out, h_n, c_n, gates, cells)
    grads = [values(rng, tc, len(b), 0.0) for b in (out, h_n, c_n)]
    grad_buffers = (
        zeros(tc, wanted_x(rng, steps * batch * features)), zeros(tc, 4 * hidden * features),
        zeros(tc, 4 * hidden * hidden),
        zeros(tc, 4 * hidden), zeros(tc, batch * hidden), zeros(tc, batch * hidden),
    )  # fmt: skip
    return (x, w_ih, w_hh, h0, c0, out, gates, cells, *grads, shape, reverse) + grad_buffers


# -- GRU and Elman RNN ------------------------------------------------------------------------------


def recurrent_inputs(rng, gates: int) -> tuple:
    """(typecode, T, B, I, H, x, w_ih, w_hh, b_ih, b_hh, h0) for a layer of ``gates`` gates."""
    tc = rng.choice("fd")
    steps, batch, features, hidden = rng.randint(0, 5), rng.randint(1, 3), rng.randint(0, 4), rng.randint(1, 4)
    w = lambda n: array(tc, floats(rng, n, 0.0, -0.8, 0.8))  # noqa: E731
    bias = rng.random() < 0.7
    g = gates * hidden
    buffers = (w(steps * batch * features), w(g * features), w(g * hidden), w(g) if bias else array(tc),
               w(g) if bias else array(tc), w(batch * hidden))
    return (tc, steps, batch, features, hidden, *buffers)


def case_gru_forward(rng):
    tc, steps, batch, features, hidden, *buffers = recurrent_inputs(rng, 3)
    outputs = (zeros(tc, steps * batch * hidden), zeros(tc, batch * hidden), zeros(tc, steps * batch * 4 * hidden))
    return (*buffers, (steps, batch, features, hidden), rng.random() < 0.5, *uncleared(rng, outputs))


def case_gru_backward(rng):
    tc, steps, batch, features, hidden, x, w_ih, w_hh, b_ih, b_hh, h0 = recurrent_inputs(rng, 3)
    shape, reverse = (steps, batch, features, hidden), rng.random() < 0.5
    out, h_n = zeros(tc, steps * batch * hidden), zeros(tc, batch * hidden)
    gates = zeros(tc, steps * batch * 4 * hidden)
    P.gru_forward(x, w_ih, w_hh, b_ih, b_hh, h0, shape, reverse, out, h_n, gates)
    grads = [values(rng, tc, len(b), 0.0) for b in (out, h_n)]
    results = [zeros(tc, n) for n in (wanted_x(rng, len(x)), len(w_ih), len(w_hh), 3 * hidden, 3 * hidden, len(h0))]
    return (x, w_ih, w_hh, h0, out, gates, *grads, shape, reverse, *results)


def case_rnn_forward(rng):
    tc, steps, batch, features, hidden, *buffers = recurrent_inputs(rng, 1)
    outputs = (zeros(tc, steps * batch * hidden), zeros(tc, batch * hidden))
    return (*buffers, (steps, batch, features, hidden), rng.choice([P.TANH, P.RELU]), rng.random() < 0.5,
            *uncleared(rng, outputs))


def case_rnn_backward(rng):
    tc, steps, batch, features, hidden, x, w_ih, w_hh, b_ih, b_hh, h0 = recurrent_inputs(rng, 1)
    shape, nonlinearity, reverse = (steps, batch, features, hidden), rng.choice([P.TANH, P.RELU]), rng.random() < 0.5
    out, h_n = zeros(tc, steps * batch * hidden), zeros(tc, batch * hidden)
    P.rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, shape, nonlinearity, reverse, out, h_n)
    grads = [values(rng, tc, len(b), 0.0) for b in (out, h_n)]
    results = [zeros(tc, n) for n in (wanted_x(rng, len(x)), len(w_ih), len(w_hh), hidden, len(h0))]
    return (x, w_ih, w_hh, h0, out, *grads, shape, nonlinearity, reverse, *results)


def case_gather_rows(rng):
    tc, width = rng.choice("fdqBihb"), rng.randint(0, 4)
    rows = rng.randint(1, 6)
    indices = array("q", [rng.randrange(rows) for _ in range(rng.randint(0, 8))])
    return values(rng, tc, rows * width), width, indices, zeros(tc, len(indices) * width)


def case_scatter_add_rows(rng):
    tc, width = rng.choice("fd"), rng.randint(0, 4)
    rows = rng.randint(1, 6)
    indices = array("q", [rng.randrange(rows) for _ in range(rng.randint(0, 12))])  # repeats add up
    skip = rng.choice([-1, 0, rows - 1])
    return values(rng, tc, rows * width, 0.02), width, indices, values(rng, tc, len(indices) * width, 0.02), skip


def case_axpy(rng):
    tc, n = rng.choice("fd"), rng.randint(0, 12)
    alpha = rng.choice([-0.1, 0.5, 1.0, rng.uniform(-2, 2), math.inf])
    return values(rng, tc, n, 0.05), alpha, values(rng, tc, n, 0.05)


def case_set_num_threads(rng):
    """A thread count: the products give the same sums on any; zero and negatives raise."""
    return (rng.choice([0, -2]) if rng.random() < 0.1 else rng.randint(1, 4),)


# -- sampling (torch's random streams): the state is 624 random words and a read position (0..625)


def mt_state(rng) -> array:
    return array("I", [rng.getrandbits(32) for _ in range(624)] + [rng.randint(0, 625)])


def case_mt19937_words(rng):
    return mt_state(rng), zeros("I", rng.choice([0, 1, 5, 623, 624, 625, 1300]))


def case_uniform_fill(rng):
    low = rng.uniform(-3, 3)
    high = low + rng.choice([0.0, 1e-7, rng.uniform(0, 5)])
    return mt_state(rng), low, high, zeros(rng.choice("fd"), rng.randint(0, 40))


def case_normal_fill(rng):  # below 16 elements both raise
    return mt_state(rng), rng.uniform(-3, 3), rng.uniform(0, 3), zeros(rng.choice("fd"), rng.randint(14, 70))


def case_normal_serial_fill(rng):
    cached = rng.choice([None, rng.gauss(0, 1)])
    return mt_state(rng), rng.uniform(-3, 3), rng.uniform(0, 3), cached, zeros(rng.choice("fd"), rng.randint(0, 9))


def case_bernoulli_fill(rng):
    return mt_state(rng), rng.choice([0.0, 1.0, rng.random()]), zeros(rng.choice("fdqBihb"), rng.randint(0, 40))


# -- optimizer steps (K.adam, K.sgd) ---------------------------------------------------------------


def case_adam(rng):
    tc, n = rng.choice("fd"), rng.randint(0, 12)
    buffers = [values(rng, tc, n, 0.05) for _ in range(2)] + [array(tc, map(abs, values(rng, tc, n, 0.05)))]
    buffers.insert(2, values(rng, tc, n, 0.05))  # param, grad, exp_avg, exp_avg_sq (>= 0)
    amsgrad = array(tc, map(abs, values(rng, tc, n, 0.05))) if rng.random() < 0.5 else None
    decay = rng.choice([1.0, 1 - rng.uniform(0, 0.1)])
    beta1, beta2 = rng.choice([0.9, 0.0, 0.4, rng.random()]), rng.choice([0.999, 0.0, rng.random()])
    step = rng.randint(1, 100)
    return (
        *buffers, amsgrad, rng.random() < 0.5, rng.choice([0.0, 0.0, 0.1, 1e-50]), decay, 1 - beta1, beta2, 1 - beta2,
        (1 - beta2**step) ** 0.5, rng.choice([1e-8, 1e-6, 0.0]), -rng.uniform(0, 0.1) / (1 - beta1**step),
    )  # fmt: skip


def case_sgd(rng):
    tc, n = rng.choice("fd"), rng.randint(0, 12)
    momentum = rng.choice([0.0, 0.9, rng.random()])
    buf = values(rng, tc, n, 0.05) if momentum else None
    return (
        values(rng, tc, n, 0.05), values(rng, tc, n, 0.05), buf, rng.random() < 0.3, rng.random() < 0.5,
        rng.choice([0.0, 0.0, 0.01, 1e-50]), momentum, 1 - rng.choice([0.0, 0.5]), rng.random() < 0.5,
        -rng.uniform(0, 0.5),
    )  # fmt: skip


# -- issue 16 (tagops): kernels of the tagger's training step -----------------------------------


def case_arg_reduce_dim_backward(rng):
    tc = rng.choice("fd")
    outer, n, inner = lines(rng)
    indices = array("q", [rng.randrange(n) for _ in range(outer * inner)])
    out = values(rng, tc, outer * n * inner)  # not zeros: every element must be written
    return values(rng, tc, outer * inner, 0.1), indices, outer, n, inner, out


def case_logsumexp_backward(rng):
    tc = rng.choice("fd")
    outer, n, inner = lines(rng)
    return (values(rng, tc, outer * n * inner, 0.1), values(rng, tc, outer * inner, 0.1),
            values(rng, tc, outer * inner, 0.1), outer, n, inner, values(rng, tc, outer * n * inner))  # fmt: skip


def case_copy_strided(rng):
    tc = rng.choice("fdqBihb")
    shape = random_shape(rng)
    src_strides, src_offset, src_length = random_view(rng, shape)
    dst_strides, dst_offset, dst_length = random_view(rng, shape)  # stride 0 too: the last write wins
    if rng.random() < 0.2:  # one buffer: read before written
        buffer = values(rng, tc, max(src_length, dst_length))
        return buffer, shape, src_strides, src_offset, buffer, dst_strides, dst_offset
    return (values(rng, tc, src_length), shape, src_strides, src_offset, values(rng, tc, dst_length),
            dst_strides, dst_offset)  # fmt: skip


def test_logsumexp_lines_of_every_length_match_fsum_exactly():
    """The Cython logsumexp sums its exp terms in double-double and falls back to fsum only where
    the rounding cannot be certified: the results must still be the pure kernel's (fsum's) bit
    for bit, for lines short and long (past its 4096-term limit), near-equal and spread values."""
    rng = random.Random("logsumexp")
    for n in (1, 2, 3, 17, 18, 100, 4096, 4097):
        for spread in (1e-6, 0.1, 3.0, 40.0):
            for tc in "fd":
                x = array(tc, [rng.uniform(-spread, spread) for _ in range(n * 3)])
                expected, got = zeros(tc, 3), zeros(tc, 3)
                P.logsumexp(x, 1, n, 3, expected)
                C.logsumexp(x, 1, n, 3, got)
                assert expected.tobytes() == got.tobytes(), (n, spread, tc)


CASES = {name[len("case_") :]: fn for name, fn in globals().items() if name.startswith("case_")}


# -- comparison ----------------------------------------------------------------------------------

TOLERANCE = {"f": (2e-6, 1e-6), "d": (1e-12, 1e-12)}


def same_number(a, b, tc: str | None) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a != a or b != b:
            return a != a and b != b
        if math.isinf(a) or math.isinf(b):
            return a == b
        rel, abs_ = TOLERANCE.get(tc or "d", TOLERANCE["d"])
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
    return a == b and type(a) is type(b)


def same_value(a, b) -> bool:
    if isinstance(a, array):
        return (
            isinstance(b, array)
            and a.typecode == b.typecode
            and len(a) == len(b)
            and all(same_number(x, y, a.typecode) for x, y in zip(a, b))
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return same_number(a, b, None)


def copy_args(args: tuple) -> tuple:
    return tuple(a[:] if isinstance(a, array) else a for a in args)


def run(fn, args: tuple):
    """(result, args after the call) or (the exception type, None)."""
    args = copy_args(args)
    try:
        result = fn(*args)
    except Exception as exc:  # compared by type below
        return type(exc), None
    return result, args


# -- the tests -----------------------------------------------------------------------------------


def test_every_pure_kernel_has_a_twin_with_the_same_signature():
    for name, pure in public_kernels().items():
        assert hasattr(C, name), f"minigrad_c._kernels has no {name}"
        expected = [(p.name, p.kind, p.default) for p in inspect.signature(pure).parameters.values()]
        got = [(p.name, p.kind, p.default) for p in inspect.signature(getattr(C, name)).parameters.values()]
        assert got == expected, f"{name}: Cython signature {got} != pure {expected}"


def test_op_codes_are_the_same():
    codes = [name for name, v in vars(P).items() if name.isupper() and isinstance(v, int)]
    assert len(codes) >= 24
    for name in codes:
        assert getattr(C, name) == getattr(P, name), name


def test_every_kernel_has_random_cases():
    assert sorted(CASES) == sorted(public_kernels()), "add a case_<kernel> generator for each new kernel"


UNSPECIFIED_VALUES = {"empty"}
"""Kernels whose results' values are unspecified (the Cython ``empty`` does not clear its buffer)."""


@pytest.fixture
def restore_threads():
    """set_num_threads' cases leave the core's count set: put back the one minigrad reports."""
    yield
    import minigrad

    C.set_num_threads(minigrad.get_num_threads())


@pytest.mark.parametrize("name", sorted(public_kernels()))
@pytest.mark.usefixtures("restore_threads")
def test_same_results_on_random_inputs(name):
    make = CASES[name]
    rng = random.Random(f"parity-{name}")
    raised = 0
    for case in range(CASES_PER_KERNEL):
        args = make(rng)
        expected, expected_args = run(getattr(P, name), args)
        got, got_args = run(getattr(C, name), args)
        if expected_args is None:
            raised += 1
            assert got_args is None and got is expected, f"{name} case {case}: pure raised {expected}, Cython {got}"
            continue
        assert got_args is not None, f"{name} case {case}: Cython raised {got.__name__} on {args}"
        if name in UNSPECIFIED_VALUES:  # a buffer of the same type and length, whatever it holds
            expected, got = (array(v.typecode, bytes(len(v) * v.itemsize)) for v in (expected, got))
        assert same_value(expected, got), f"{name} case {case}: returned {got}, pure {expected}"
        for i, (e, g) in enumerate(zip(expected_args, got_args)):
            assert same_value(e, g), f"{name} case {case}: argument {i} is\n{g}\npure:\n{e}\ninputs {args}"
    assert raised < CASES_PER_KERNEL // 4, f"{name}: {raised} random cases raised; the generator is off"


# LSTM shapes (steps, batch, input size, hidden size) at the edges of the Cython kernels' blocking,
# for each vector width a build may use (2, 4 or 8 doubles): 4H and the padded sizes that are not
# multiples of a panel (16, 32 or 64 columns) or of a vector; sums longer than a block of k (64, 128
# or 256 terms: input size 70, 4H = 264, 260 walked rows); batches and step counts that leave 1, 2
# or 3 rows after the 4-row tiles; no steps, one step, no input features. In float64 (bit for bit)
# also hidden 265, whose weight gradients (4H = 1060 rows of 272 padded columns, their factor dz^T
# read down its columns) _gemm takes in blocks of 240 rows (as many as 512 KiB of the product
# holds), each block's rows copied tile by tile (mg_pack_a), the last block ending in 4 rows. (In
# float32 its 265-term sums go beyond float32_agrees's bound, which was measured on the shapes above.)
LSTM_EDGE_SHAPES = [
    (0, 3, 5, 4), (1, 1, 1, 1), (2, 1, 70, 17), (3, 2, 7, 3), (2, 2, 3, 66), (9, 8, 4, 5), (5, 7, 0, 6),
    (13, 20, 2, 2),
]  # fmt: skip
EDGE_CASES = [(shape, tc) for shape in LSTM_EDGE_SHAPES for tc in "fd"] + [((2, 1, 5, 265), "d")]
BIT_FOR_BIT = sys.version_info < (3, 12)  # from 3.12, the pure kernels' sum() is compensated


def same_floats(expected: array, got: array) -> bool:
    """Bit for bit (signed zeros included) where the module docstring promises it, else close."""
    return expected.tobytes() == got.tobytes() if BIT_FOR_BIT else same_value(expected, got)


def float32_agrees(tc: str, expected: array, got: array) -> bool:
    """float64: bit for bit (as same_floats). float32, a documented bound instead: the Cython LSTM
    and GRU multiply in float32 with fused multiply-adds and carry the walk's gradients in
    float32 (the GRU rounds each of torch's cell operations to float32 too), where the pure
    kernels sum in double and keep those in double. Each float32 sum of K terms is within
    K * 2^-24 * sum |terms|; through the gates and the steps that comes to within 64 units of
    (a float32 ulp of the pure value + 2^-24 times the buffer's root mean square, for sums that
    cancel to near zero). Measured at the edge shapes: at most 41 (LSTM grad_w_hh), 33 (GRU
    grad_w_hh)."""
    if tc == "d":
        return same_floats(expected, got)
    rms = math.sqrt(sum(v * v for v in expected) / max(len(expected), 1))
    return all(abs(g - e) <= 64 * (math.ulp(e) * 2**29 + 2**-24 * rms) for e, g in zip(expected, got))


@pytest.mark.parametrize("shape, tc", EDGE_CASES)
def test_lstm_kernels_agree_at_blocking_edges(shape, tc):
    """float64 bit for bit; float32 within float32_agrees's bound."""
    steps, batch, features, hidden = shape
    four = 4 * hidden
    rng = random.Random(f"lstm-edges-{shape}-{tc}")
    w = lambda n: array(tc, floats(rng, n, 0.0, -0.8, 0.8))  # noqa: E731
    for reverse, bias in [(False, True), (True, False), (True, True)]:
        inputs = (
            w(steps * batch * features), w(four * features), w(four * hidden),
            w(four) if bias else array(tc), w(four) if bias else array(tc), w(batch * hidden), w(batch * hidden),
            shape, reverse,
        )  # fmt: skip
        expected, got = lstm_outputs(tc, steps, batch, hidden), lstm_outputs(tc, steps, batch, hidden)
        P.lstm_forward(*inputs, *expected)
        C.lstm_forward(*inputs, *got)
        for name, e, g in zip(("out", "h_n", "c_n", "gates", "cells"), expected, got):
            assert float32_agrees(tc, e, g), f"lstm_forward {shape} reverse={reverse} bias={bias}: {name} differs"
        x, w_ih, w_hh, _, _, h0, c0 = inputs[:7]
        out, _, _, gates, cells = expected
        grads = (w(steps * batch * hidden), w(batch * hidden), w(batch * hidden))
        expected, got = (
            [zeros(tc, n) for n in (len(x), len(w_ih), len(w_hh), four, len(h0), len(c0))] for _ in range(2)
        )
        P.lstm_backward(x, w_ih, w_hh, h0, c0, out, gates, cells, *grads, shape, reverse, *expected)
        C.lstm_backward(x, w_ih, w_hh, h0, c0, out, gates, cells, *grads, shape, reverse, *got)
        names = ("grad_x", "grad_w_ih", "grad_w_hh", "grad_bias", "grad_h0", "grad_c0")
        for name, e, g in zip(names, expected, got):
            assert float32_agrees(tc, e, g), f"lstm_backward {shape} reverse={reverse}: {name} differs"


@pytest.mark.parametrize("shape, tc", EDGE_CASES)
def test_gru_and_rnn_kernels_agree_at_blocking_edges(shape, tc):
    """The GRU's 3H and the RNN's H columns at the LSTM's blocking edges, both directions,
    with and without bias, both RNN nonlinearities: bit for bit, but the float32 GRU within
    float32_agrees's bound."""
    steps, batch, features, hidden = shape
    rng = random.Random(f"gru-rnn-edges-{shape}-{tc}")
    w = lambda n: array(tc, floats(rng, n, 0.0, -0.8, 0.8))  # noqa: E731
    for reverse, bias, nonlinearity in [(False, True, P.TANH), (True, False, P.RELU), (True, True, P.TANH)]:
        for gates in (3, 1):
            g = gates * hidden
            x, w_ih, w_hh, h0 = w(steps * batch * features), w(g * features), w(g * hidden), w(batch * hidden)
            b_ih, b_hh = (w(g), w(g)) if bias else (array(tc), array(tc))
            grads = (w(steps * batch * hidden), w(batch * hidden))
            results = []
            for kernels in (P, C):
                out, h_n = zeros(tc, steps * batch * hidden), zeros(tc, batch * hidden)
                if gates == 3:
                    saved = zeros(tc, steps * batch * 4 * hidden)
                    kernels.gru_forward(x, w_ih, w_hh, b_ih, b_hh, h0, shape, reverse, out, h_n, saved)
                    back = [zeros(tc, n) for n in (len(x), len(w_ih), len(w_hh), g, g, len(h0))]
                    kernels.gru_backward(x, w_ih, w_hh, h0, out, saved, *grads, shape, reverse, *back)
                    results.append([out, h_n, saved, *back])
                else:
                    kernels.rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, shape, nonlinearity, reverse, out, h_n)
                    back = [zeros(tc, n) for n in (len(x), len(w_ih), len(w_hh), g, len(h0))]
                    kernels.rnn_backward(x, w_ih, w_hh, h0, out, *grads, shape, nonlinearity, reverse, *back)
                    results.append([out, h_n, *back])
            agree = float32_agrees if gates == 3 else lambda _, e, g_: same_floats(e, g_)
            for k, (e, g_) in enumerate(zip(*results)):
                assert agree(tc, e, g_), f"gates={gates} {shape} reverse={reverse} bias={bias}: buffer {k} differs"


def test_sums_match_fsum_exactly():
    """sum_all reproduces math.fsum bit for bit, including its rounding across partials, and
    the pure kernel's answers where fsum raises."""
    rng = random.Random(7)
    for _ in range(200):
        scales = [1e16, -1e16, 1.0, 1e-16, 3.5e-17, 2.0**-60]
        x = array("d", [rng.choice(scales) * rng.uniform(0.5, 2) for _ in range(9)])
        assert C.sum_all(x) == math.fsum(x)
    assert C.sum_all(array("d", [1e-16, 1.0, 1e16])) == math.fsum([1e-16, 1.0, 1e16]) == 1.0000000000000002e16
    assert math.isnan(C.sum_all(array("d", [math.inf, 1.0, -math.inf])))  # fsum raises ValueError
    assert C.sum_all(array("d", [1.7e308, 1.7e308, -1.7e308])) == math.inf  # fsum raises OverflowError
    assert math.isnan(C.sum_all(array("d", [1.0, math.nan])))
    assert C.sum_all(array("d", [math.inf, 1.0])) == math.inf


def identity_lstm_inputs(z: list, hidden: int) -> tuple:
    """lstm_forward arguments whose gate pre-activations are exactly the values ``z``: w_ih is
    the 4H x 4H identity, each step's x is 4H of the values, and w_hh, the biases and h0 are 0
    (each sum is then one exact product plus zeros)."""
    four = 4 * hidden
    steps = len(z) // four
    identity = array("f", [1.0 if r == c else 0.0 for r in range(four) for c in range(four)])
    return (
        array("f", z[: steps * four]), identity, zeros("f", four * hidden), zeros("f", four), zeros("f", four),
        zeros("f", hidden), zeros("f", hidden), (steps, 1, four, hidden), False,
    )  # fmt: skip


def test_float32_lstm_gates_match_libm_over_every_magnitude():
    """The Cython LSTM's float32 gates use branch-free sigmoid and tanh (its own exp), not libm's:
    they must still store the pure kernel's float32 values, from 1e-30 to overflow, inf and nan
    (in every vector lane: 16 hidden units)."""
    hidden, rng = 16, random.Random("gates")
    z = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-30, -1e-30, 1e-8, -1e-8, 20.0, -20.0, 88.0, -104.0, 1e30]
    for low in (1e-7, 1e-4, 1e-2, 1.0, 9.0, 30.0, 80.0):  # magnitudes up to where exp(-x) is 0 in float32
        z += [rng.choice((-1, 1)) * rng.uniform(low, 10 * low) for _ in range(4 * hidden * 40)]
    z += [0.0] * (-len(z) % (4 * hidden))
    inputs = identity_lstm_inputs(z, hidden)
    steps = inputs[7][0]
    expected, got = lstm_outputs("f", steps, 1, hidden), lstm_outputs("f", steps, 1, hidden)
    P.lstm_forward(*inputs, *expected)
    C.lstm_forward(*inputs, *got)
    for name, e, g in zip(("out", "h_n", "c_n", "gates", "cells"), expected, got):
        assert same_value(e, g) and all(x == y or x != x for x, y in zip(e, g)), f"{name} differs"
    grads = [values(rng, "f", n, 0.0) for n in (steps * hidden, hidden, hidden)]
    backward = [[zeros("f", n) for n in (steps * 4 * hidden, 16 * hidden * hidden, 4 * hidden * hidden,
                                          4 * hidden, hidden, hidden)] for _ in range(2)]  # fmt: skip
    for kernels, buffers in zip((P, C), backward):
        kernels.lstm_backward(*inputs[:3], *inputs[5:7], expected[0], expected[3], expected[4], *grads,
                              inputs[7], False, *buffers)  # fmt: skip
    for e, g in zip(*backward):
        assert same_value(e, g) and all(x == y or x != x for x, y in zip(e, g))


# (batch, m, k, n) at and above the Cython matmul's switch to the blocked product (4096
# multiply-adds): sums longer than a block of k, n not a multiple of a vector or a panel, 1- to
# 7-row remainders after the 8-row tiles, several batches, and more rows (MATMUL_ROWS, 128) and
# columns of a (MATMUL_DEPTH, 512) than the product converts at a time, with short last pieces.
# Float32 products of at least 12 rows and columns (and 12 rows of a, 12 columns of b: the kernel's
# MATMUL_TORCH_SUMS_AT) run torch's float32 sums instead: those shapes check a bound, with sums of
# one run (k <= 192), two halves (193..384: 193 is 96 + 96 + 1) and runs of 192 across the
# product's pieces of k (1100; on an Intel CPU with AVX-512, TORCH_RUNS, runs of up to 384), more
# rows than a piece (130 > 128), several batches; and 700 columns, where a float64 piece's 128 rows
# are more than _gemm keeps in one block of rows (512 KiB of the product: 88 rows); and a float64
# piece of b larger than L2 as _gemm assumes it (512 x 528 doubles > 2 MiB: its first row tile
# prefetches b, MG_AHEAD).
MATMUL_BLOCKED_SHAPES = [
    (1, 16, 16, 16), (2, 5, 70, 17), (1, 64, 64, 64), (3, 1, 300, 20), (1, 33, 129, 9), (1, 15, 40, 33),
    (1, 131, 20, 6), (2, 3, 1100, 5), (1, 257, 513, 3), (1, 12, 193, 100), (1, 13, 1100, 12), (2, 130, 385, 12),
    (1, 130, 20, 700), (1, 3, 520, 520),
]  # fmt: skip


def sums_as_torch(tc: str, m: int, n: int) -> bool:
    """Whether the Cython matmul sums a blocked product in float32 as torch's sgemm (m and n at
    least MATMUL_TORCH_SUMS_AT, 12) rather than in double as the pure kernel."""
    return tc == "f" and m >= 12 and n >= 12


@pytest.mark.parametrize("tc", ["f", "d"])
@pytest.mark.parametrize("shape", MATMUL_BLOCKED_SHAPES)
def test_large_matmuls_agree(shape, tc):
    """Bit for bit; float32 products summed as torch's within the float32 bound of a k-term sum:
    |cython - pure| <= (k + 1) 2^-24 sum_l |a_l b_l| (k roundings in the chains and the sum of
    the runs, one in the pure kernel's rounding of its double sum)."""
    batch, m, k, n = shape
    rng = random.Random(f"matmul-{shape}-{tc}")
    special = min(0.01, 0.25 / k)  # most sums of 2k operands then meet no NaN or infinity
    a, b = values(rng, tc, batch * m * k, special), values(rng, tc, batch * k * n, special)
    expected, got = zeros(tc, batch * m * n), zeros(tc, batch * m * n)
    P.matmul(a, b, batch, m, k, n, expected)
    C.matmul(a, b, batch, m, k, n, got)
    same_nans = [x != x for x in expected] == [x != x for x in got]
    if sums_as_torch(tc, m, n):
        magnitude = [
            math.fsum(abs(a[(z * m + i) * k + d] * b[(z * k + d) * n + j]) for d in range(k))
            for z in range(batch) for i in range(m) for j in range(n)
        ]  # fmt: skip
        bound = (k + 1) * 2.0**-24
        assert all(g == e or abs(g - e) <= bound * s for e, g, s in zip(expected, got, magnitude) if e == e)
        assert expected != got, "the float32 sums are expected to differ from the double ones somewhere"
    # else bit for bit, but a NaN's sign may differ (the module docstring): fused multiply-adds
    # of float32 values pass an operand's NaN on where a product inf * 0 would make a new one
    assert same_nans
    if not sums_as_torch(tc, m, n):
        assert same_floats(*(array(tc, [0.0 if x != x else x for x in v]) for v in (expected, got)))


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_optimizer_steps_agree_bit_for_bit(name):
    """The optimizer kernels promise the pure kernel's bits (signed zeros included; a NaN is a NaN),
    on the random cases above and on long buffers (past any unrolled or vector part of the loop)."""
    rng = random.Random(f"optim-bits-{name}")
    make = CASES[name]
    for case in range(200):
        args = make(rng)
        if case % 20 == 0 and all(len(a) for a in args if isinstance(a, array)):  # 1000 elements, repeated
            args = tuple(array(a.typecode, (a.tolist() * 1000)[:1000]) if isinstance(a, array) else a for a in args)
        (_, expected), (_, got) = run(getattr(P, name), args), run(getattr(C, name), args)
        for e, g in zip(expected, got):
            if isinstance(e, array):
                assert all(x == y and math.copysign(1, x) == math.copysign(1, y) or x != x and y != y
                           for x, y in zip(e, g)), f"{name} case {case}: {e} != {g} for {args}"  # fmt: skip
