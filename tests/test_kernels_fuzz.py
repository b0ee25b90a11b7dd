"""Bad arguments thrown at every Cython kernel raise a Python exception; nothing crashes.

For each kernel there are small valid calls; each argument of each call is then replaced, one
at a time, by values that make the call invalid (None, lists, bytes, unsupported or mismatched
typecodes, buffers one element short or long, negative, huge and non-integer sizes, offsets
and strides outside the buffer, out-of-range positions and targets, shapes of the wrong rank),
and the kernel must raise. A seeded random phase then garbles several arguments at once,
including objects whose ``__index__``/``__float__`` resize the buffers mid-call, and only
requires that the process survives.

The fuzzing runs in a subprocess (this file run as a script), so a segfault or an abort fails
the test instead of killing pytest.
"""

from __future__ import annotations

import inspect
import json
import random
import subprocess
import sys
from array import array

import pytest
from conftest import cython_core, kernels_for

from minigrad import _kernels as P

HUGE = 2**62
TOO_BIG = 2**63  # does not fit in a C Py_ssize_t


def public_kernels() -> list[str]:
    return sorted(
        name
        for name, obj in vars(P).items()
        if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__.startswith(P.__name__ + ".")
    )


def f32(n: int, start: float = 0.5) -> array:
    return array("f", [start + 0.25 * i for i in range(n)])


def q(*values: int) -> array:
    return array("q", values)


# -- valid calls: (kinds of the arguments, arguments) --------------------------------------------
# kinds: "exact" buffer (its length and typecode are fixed by the others), "storage" buffer
# (indexed by a view or positions: at least as long as needed, here exactly; "cond" is a bool
# one), "free" buffer (any length; any typecode when "free_tc"), "positions", "target", "size", "op", "offset", "shape",
# "strides", "int" (any int), "real" (any float), "scalar" (a number for the buffer's type),
# "flag" (anything with a truth value), "optional" (an "exact" buffer, or None), "threads" (a positive count),
# "count" (how many elements to allocate: any int >= 0; the random phase keeps it small or absurd).


def lstm_forward_call(tc: str = "f") -> tuple:
    steps, batch, features, hidden = 2, 2, 3, 2
    b = lambda n: array(tc, [0.1 * ((i % 7) - 3) for i in range(n)])  # noqa: E731
    args = (
        b(steps * batch * features), b(4 * hidden * features), b(4 * hidden * hidden), b(4 * hidden), b(4 * hidden),
        b(batch * hidden), b(batch * hidden), (steps, batch, features, hidden), False,
        b(steps * batch * hidden), b(batch * hidden), b(batch * hidden), b(steps * batch * 4 * hidden),
        b(steps * batch * hidden),
    )  # fmt: skip
    kinds = ("exact",) * 7 + ("shape", "flag") + ("exact",) * 5
    return kinds, args


def lstm_backward_call() -> tuple:
    _, fwd = lstm_forward_call()
    x, w_ih, w_hh, _, _, h0, c0, shape, reverse, out, h_n, c_n, gates, cells = fwd
    grads = (out[:], h_n[:], c_n[:])
    results = (x[:], w_ih[:], w_hh[:], f32(4 * shape[3]), h0[:], c0[:])
    args = (x, w_ih, w_hh, h0, c0, out, gates, cells, *grads, shape, reverse, *results)
    kinds = ("exact",) * 11 + ("shape", "flag") + ("exact",) * 6
    return kinds, args


def gru_forward_call(tc: str = "f") -> tuple:
    steps, batch, features, hidden = 2, 2, 3, 2
    b = lambda n: array(tc, [0.1 * ((i % 7) - 3) for i in range(n)])  # noqa: E731
    args = (
        b(steps * batch * features), b(3 * hidden * features), b(3 * hidden * hidden), b(3 * hidden), b(3 * hidden),
        b(batch * hidden), (steps, batch, features, hidden), True,
        b(steps * batch * hidden), b(batch * hidden), b(steps * batch * 4 * hidden),
    )  # fmt: skip
    return ("exact",) * 6 + ("shape", "flag") + ("exact",) * 3, args


def gru_backward_call() -> tuple:
    _, (x, w_ih, w_hh, _, _, h0, shape, reverse, out, h_n, gates) = gru_forward_call()
    results = (x[:], w_ih[:], w_hh[:], f32(3 * shape[3]), f32(3 * shape[3]), h0[:])
    args = (x, w_ih, w_hh, h0, out, gates, out[:], h_n[:], shape, reverse, *results)
    return ("exact",) * 8 + ("shape", "flag") + ("exact",) * 6, args


def rnn_forward_call(tc: str = "f") -> tuple:
    steps, batch, features, hidden = 3, 2, 3, 2
    b = lambda n: array(tc, [0.1 * ((i % 7) - 3) for i in range(n)])  # noqa: E731
    args = (
        b(steps * batch * features), b(hidden * features), b(hidden * hidden), b(hidden), b(hidden),
        b(batch * hidden), (steps, batch, features, hidden), P.TANH, False,
        b(steps * batch * hidden), b(batch * hidden),
    )  # fmt: skip
    return ("exact",) * 6 + ("shape", "op", "flag") + ("exact",) * 2, args


def rnn_backward_call() -> tuple:
    _, (x, w_ih, w_hh, _, _, h0, shape, _, reverse, out, h_n) = rnn_forward_call()
    results = (x[:], w_ih[:], w_hh[:], f32(shape[3]), h0[:])
    args = (x, w_ih, w_hh, h0, out, out[:], h_n[:], shape, P.RELU, reverse, *results)
    return ("exact",) * 7 + ("shape", "op", "flag") + ("exact",) * 5, args


def mt_state(position: int = 625) -> array:
    """A generator state: 624 words and the read position (625: freshly seeded)."""
    return array("I", [(2654435761 * i) % 2**32 for i in range(624)] + [position])


def valid_calls() -> dict[str, list[tuple]]:
    E, S, F = "exact", "storage", "free"
    view = ((2, 3), (3, 1), 0)
    strided = ((2, 3), (1, 2), 0)  # non-contiguous: positions 0, 2, 4, 1, 3, 5
    return {
        "strided_positions": [(("shape", "strides_unbounded", "int"), view)],
        "gather": [((S, "shape", "strides", "offset", E), (f32(6), *view, f32(6))),
                   ((S, "shape", "strides", "offset", E), (q(*range(6)), *strided, q(*range(6)))),
                   # the narrow integer storages (int32, int16, int8) move through the layout kernels
                   *[((S, "shape", "strides", "offset", E), (array(tc, range(6)), *strided, array(tc, range(6))))
                     for tc in "ihb"]],
        "scatter": [((S, "shape", "strides", "offset", E), (f32(6), *strided, f32(6))),
                    ((S, "shape", "strides", "offset", E), (array("h", range(6)), *strided, array("h", range(6))))],
        "take": [((S, "positions", E), (f32(4), q(0, 3, 1), f32(3))),
                 ((S, "positions", E), (array("b", range(4)), q(0, 3, 1), array("b", range(3))))],
        "put": [((S, "positions", E, "flag"), (f32(4), q(0, 3, 3), f32(3), True)),
                ((S, "positions", E, "flag"), (q(1, 2, 3, 4), q(3, 0), q(5, 6), False)),
                ((S, "positions", E, "flag"), (array("i", [1, 2, 3, 4]), q(3, 3), array("i", [5, 6]), True))],
        "zeros": [(("any_tc", "count"), (f32(2), 3)), (("any_tc", "count"), (array("b", [1]), 0))],
        "empty": [(("any_tc", "count"), (f32(2), 3)), (("any_tc", "count"), (array("q", [1]), 0))],
        "fill": [(("free_tc", "scalar"), (f32(3), 1.5)), (("any_tc", "scalar"), (q(1, 2), 7)),
                 (("any_tc", "scalar"), (array("b", [1, 2]), -7)), (("any_tc", "scalar"), (array("h", [1]), 300)),
                 (("any_tc", "scalar"), (array("i", [1, 2, 3]), 70000))],
        "unary": [(("op", E, E), (P.TANH, f32(4), f32(4))), (("op", E, E), (P.NEG, q(1, -2), q(0, 0))),
                  (("op", E, E), (P.ERFINV, f32(4), f32(4)))],
        "unary_backward": [(("op", E, F, E, E), (P.LOG, f32(3), array("f"), f32(3), f32(3))),
                           (("op", F, E, E, E), (P.SIGMOID, array("f"), f32(3), f32(3), f32(3)))],
        "binary": [(("op", S, "strides", "offset", S, "strides", "offset", "shape", E),
                    (P.ADD, f32(6), (3, 1), 0, f32(3), (0, 1), 0, (2, 3), f32(6))),
                   (("op", S, "strides", "offset", S, "strides", "offset", "shape", E),
                    (P.LT, q(*range(6)), (1, 2), 0, q(*range(6)), (3, 1), 0, (2, 3), array("B", bytes(6)))),
                   (("op", S, "strides", "offset", S, "strides", "offset", "shape", E),
                    (P.REMAINDER, q(*range(6)), (3, 1), 0, q(1, 2, 3), (0, 1), 0, (2, 3), q(*range(6))))],
        "binary_scalar": [(("op", E, "scalar", "flag", E), (P.MUL, f32(3), 2.5, False, f32(3))),
                          (("op", E, "scalar", "flag", E), (P.POW, q(1, 2), 3, True, q(0, 0)))],
        "where": [(("cond", "strides", "offset", S, "strides", "offset", S, "strides", "offset", "shape", E),
                   (array("B", [1, 0, 1, 1, 0, 0]), (3, 1), 0, f32(6), (1, 2), 0, f32(3), (0, 1), 0, (2, 3),
                    f32(6)))],
        "clamp": [((E, "real", "real", E), (f32(4), 0.7, 1.0, f32(4))),
                  ((E, "real", "real", E), (q(1, 5, 9), 2, 8, q(0, 0, 0)))],
        "clamp_backward": [((E, "real", "real", E, E), (f32(4), 0.7, 1.0, f32(4), f32(4)))],
        "pow_scalar_backward": [((E, "real", E, E), (f32(3), 2.5, f32(3), f32(3)))],
        "reduce_dim": [(("op", E, "size", "size", "size", E), (P.SUM, f32(12), 2, 3, 2, f32(4))),
                       (("op", E, "size", "size", "size", E), (P.MAX, q(*range(12)), 2, 3, 2, q(0, 0, 0, 0)))],
        "arg_reduce_dim": [(("op", E, "size", "size", "size", E, E), (P.MIN, f32(12), 2, 3, 2, f32(4), q(0, 0, 0, 0)))],
        "sum_all": [(("free_tc",), (f32(5),))],
        "matmul": [((E, E, "size", "size", "size", "size", E), (f32(12), f32(12), 2, 2, 3, 2, f32(8))),
                   # 16 x 16 x 16 = 4096 multiply-adds: the Cython core's blocked product
                   ((E, E, "size", "size", "size", "size", E), (f32(256), f32(256), 1, 16, 16, 16, f32(256)))],
        "log_softmax": [((E, "size", "size", "size", E), (f32(12), 2, 3, 2, f32(12)))],
        "log_softmax_backward": [((E, E, "size", "size", "size", E), (f32(12), f32(12), 2, 3, 2, f32(12)))],
        "softmax": [((E, "size", "size", "size", E), (f32(12), 2, 3, 2, f32(12)))],
        "softmax_backward": [((E, E, "size", "size", "size", E), (f32(12), f32(12), 2, 3, 2, f32(12)))],
        "logsumexp": [((E, "size", "size", "size", E), (f32(12), 2, 3, 2, f32(4)))],
        "nll_loss": [((E, "target", E, "size", "size", "int", E), (f32(6), q(0, 2), f32(3), 2, 3, -100, f32(2)))],
        "nll_loss_backward": [((E, "target", E, "size", "size", "int", E),
                               (f32(2), q(2, -100), f32(3), 2, 3, -100, f32(6)))],
        "gather_rows": [((S, "size", "positions", E), (f32(6), 2, q(2, 0, 2), f32(6)))],
        "scatter_add_rows": [((S, "size", "positions", E, "int"), (f32(6), 2, q(2, 0, 2), f32(6), 5))],
        "axpy": [((E, "real", E), (f32(4), -0.1, f32(4)))],
        "set_num_threads": [(("threads",), (1,))],
        "lstm_forward": [lstm_forward_call(), lstm_forward_call("d")],
        "lstm_backward": [lstm_backward_call()],
        "gru_forward": [gru_forward_call(), gru_forward_call("d")],
        "gru_backward": [gru_backward_call()],
        "rnn_forward": [rnn_forward_call(), rnn_forward_call("d")],
        "rnn_backward": [rnn_backward_call()],
        # sampling: the generator state (624 words and a read position) and the buffers it fills
        "mt19937_words": [(("state", "words"), (mt_state(), array("I", bytes(4 * 700))))],
        "uniform_fill": [(("state", "real", "real", F), (mt_state(), -1.0, 2.0, f32(5))),
                         (("state", "real", "real", F), (mt_state(), -1.0, 2.0, array("d", [0.0] * 3)))],
        "normal_fill": [(("state", "real", "real", F), (mt_state(), 0.0, 1.0, f32(17))),
                        (("state", "real", "real", F), (mt_state(), 0.0, 1.0, array("d", [0.0] * 16)))],
        "normal_serial_fill": [(("state", "real", "real", "cached", F), (mt_state(), 0.0, 1.0, None, f32(3))),
                               (("state", "real", "real", "cached", F), (mt_state(), 0.0, 1.0, 0.5, f32(3)))],
        "bernoulli_fill": [(("state", "probability", "any_tc"), (mt_state(), 0.3, q(0, 0, 0))),
                           (("state", "probability", "any_tc"), (mt_state(), 0.3, array("b", [0] * 4)))],
        "adam": [(("exact",) * 4 + ("optional", "flag") + ("real",) * 8,
                  (f32(4), f32(4), f32(4), f32(4), f32(4), False, 0.1, 0.99, 0.1, 0.999, 0.001, 0.03, 1e-8, -0.01)),
                 (("exact",) * 4 + ("optional", "flag") + ("real",) * 8,
                  (*[array("d", f32(3)) for _ in range(4)], None, True, 0.0, 1.0, 0.9, 0.5, 0.5, 0.7, 0.0, -0.1))],
        "sgd": [(("exact", "exact", "optional", "flag", "flag", "real", "real", "real", "flag", "real"),
                 (f32(5), f32(5), f32(5), False, True, 0.1, 0.9, 1.0, True, -0.1)),
                (("exact", "exact", "optional", "flag", "flag", "real", "real", "real", "flag", "real"),
                 (array("d", f32(2)), array("d", f32(2)), None, True, False, 0.0, 0.0, 1.0, False, -0.1))],
        # issue 16 (tagops)
        "arg_reduce_dim_backward": [((E, "target", "size", "size", "size", E),
                                     (f32(4), q(0, 2, 1, 0), 2, 3, 2, f32(12)))],
        "logsumexp_backward": [((E, E, E, "size", "size", "size", E), (f32(12), f32(4), f32(4), 2, 3, 2, f32(12)))],
        "copy_strided": [((S, "shape", "strides", "offset", S, "strides", "offset"),
                          (f32(6), *strided, f32(6), (3, 1), 0)),
                         ((S, "shape", "strides", "offset", S, "strides", "offset"),
                          (array("b", range(6)), *view, array("b", range(6)), (1, 2), 0))],
    }  # fmt: skip


# -- bad replacements for one argument -----------------------------------------------------------


class FalseBool:
    def __bool__(self):
        raise RuntimeError("no truth value")


def other_typecodes(buf: array) -> list[array]:
    """Zero buffers of the same length in every other supported typecode."""
    return [array(tc, [0] * len(buf)) for tc in "fdqBihb" if tc != buf.typecode]


def bad_replacements(kind: str, value, others: tuple) -> list:
    """Values for one argument of kind ``kind`` that make the call invalid."""
    not_numbers = [None, "1", [1], 1j]
    if kind == "optional":  # an "exact" buffer or None (the optimizers' optional state)
        return [b for b in bad_replacements("exact", value, others) if b is not None] if value is not None else []
    if kind in ("exact", "storage", "free", "free_tc", "any_tc", "cond", "positions", "target"):
        # any_tc: a buffer of any storage typecode, the narrow integers' 'i', 'h', 'b' included
        bad = [None, value.tolist(), bytes(len(value)), "abc", 3, array("I", [0] * len(value)), array("l")]
        if kind in ("free", "free_tc"):
            bad += [array("i", [0] * len(value)), array("b")]
        if kind not in ("free", "free_tc", "any_tc"):
            bad += [value[:-1]] if len(value) else []
            bad += other_typecodes(value)
        if kind in ("exact", "positions", "target"):
            bad.append(value + value[-1:] if len(value) else array(value.typecode, [0]))
        if kind == "positions" and len(value):
            bad += [array("q", [10**9] + value.tolist()[1:]), array("q", [-1] + value.tolist()[1:])]
        if kind == "target":
            bad += [array("q", [99] + value.tolist()[1:]), array("q", [-5] + value.tolist()[1:])]
        return bad
    if kind == "state":  # typecode 'I' (32-bit words), 625 entries, the last a position up to 625
        wrong = [array(tc, [w % 2**31 for w in value]) for tc in "iqfd"]
        return [None, value.tolist(), bytes(4 * len(value)), "abc", 3, value[:-1], value + value[-1:],
                value[:-1] + array("I", [626]), value[:-1] + array("I", [2**32 - 1]), *wrong]  # fmt: skip
    if kind == "words":  # any length of 32-bit words
        return [None, value.tolist(), bytes(len(value)), "abc", 3, array("i", [0] * 4), array("q", [0] * 4)]
    if kind == "cached":  # None or a float
        return ["1", [1.0], 1j]
    if kind == "probability":
        return [None, "1", [0.5], 1j, -0.1, 1.5, float("nan")]
    if kind == "size":
        return [-1, 10**6, TOO_BIG, HUGE, 1.5, *not_numbers]
    if kind == "count":  # HUGE elements of any typecode are more bytes than any machine has
        return [-1, HUGE, TOO_BIG, 1.5, *not_numbers]
    if kind == "threads":  # a positive count; larger than the machine is allowed
        return [0, -1, TOO_BIG, 1.5, *not_numbers]
    if kind == "op":
        return [-1, 99, TOO_BIG, 1.5, *not_numbers]
    if kind == "offset":
        return [-1, 10**6, TOO_BIG, 1.5, *not_numbers]
    if kind == "int":
        return [1.5, TOO_BIG, *not_numbers]
    if kind == "real":
        return [None, "1", [1.0], 1j]
    if kind == "scalar":
        buffers = [o for o in others if isinstance(o, array)]
        narrow = {"b": 128, "h": 2**15, "i": 2**31, "B": 256}.get(buffers[0].typecode)
        return [None, "1", [1], 1j] + ([1.5, TOO_BIG] if buffers[0].typecode in "qBihb" else []) + (
            [narrow, -narrow - 1] if narrow else []
        )
    if kind == "flag":
        return [FalseBool()]
    if kind in ("shape", "strides", "strides_unbounded"):
        # strides_unbounded: strided_positions has no buffer, so any stride that fits is valid
        entries = {"shape": [-1, HUGE, TOO_BIG], "strides": [HUGE, -HUGE, TOO_BIG]}.get(kind, [TOO_BIG])
        bad = [None, 5, "ab", value + (2,), (None,) * len(value), (1.5,) * len(value)]
        if value:
            bad.append(value[:-1])
        for d in range(len(value)):
            bad += [value[:d] + (entry,) + value[d + 1 :] for entry in entries]
        return bad
    raise AssertionError(kind)


# -- evil numbers for the random phase: converting them resizes the buffers ----------------------


class Shrinker:
    """A number whose conversion empties every buffer it was told about."""

    def __init__(self, buffers: list, value):
        self.buffers, self.value = buffers, value

    def _shrink(self):
        for b in self.buffers:
            try:
                del b[:]
            except (BufferError, TypeError):
                pass

    def __index__(self):
        self._shrink()
        return int(self.value)

    def __float__(self):
        self._shrink()
        return float(self.value)


def fuzz(seed: int = 1234, random_rounds: int = 4000) -> dict:
    C = cython_core()
    assert C is not None
    calls = valid_calls()
    report: dict = {"kernels": sorted(calls), "not_raised": [], "valid_failed": [], "random_calls": 0}
    for name, variants in sorted(calls.items()):
        fn = getattr(C, name)
        for v, (kinds, args) in enumerate(variants):
            try:
                fn(*[a[:] if isinstance(a, array) else a for a in args])
            except Exception as exc:
                report["valid_failed"].append(f"{name}[{v}]: {type(exc).__name__}: {exc}")
                continue
            for i, kind in enumerate(kinds):
                for bad in bad_replacements(kind, args[i], args):
                    trial = [a[:] if isinstance(a, array) else a for a in args]
                    trial[i] = bad
                    try:
                        fn(*trial)
                    except Exception:
                        continue
                    report["not_raised"].append(f"{name}[{v}] argument {i} ({kind}) = {bad!r}")
    report["aliased_calls"] = aliased_calls(C, calls)
    rng = random.Random(seed)
    names = sorted(calls)
    for _ in range(random_rounds):
        name = rng.choice(names)
        kinds, args = rng.choice(calls[name])
        trial = [a[:] if isinstance(a, array) else a for a in args]
        for i in rng.sample(range(len(trial)), min(len(trial), rng.randint(1, 3))):
            roll = rng.random()
            if roll < 0.15:
                buffers = [a for a in trial if isinstance(a, array)]
                if isinstance(args[i], tuple) and args[i]:  # one entry of a shape or strides
                    d = rng.randrange(len(args[i]))
                    trial[i] = args[i][:d] + (Shrinker(buffers, args[i][d]),) + args[i][d + 1 :]
                else:
                    trial[i] = Shrinker(buffers, args[i] if isinstance(args[i], (int, float)) else 1)
            elif roll < 0.3 and kinds[i] == "count":  # (2**31 would be a valid allocation of gigabytes)
                trial[i] = rng.choice([0, 1, -1, -(2**31), HUGE, -HUGE, 0.0, float("nan")])
            elif roll < 0.3:
                trial[i] = rng.choice([0, 1, -1, 2**31, -(2**31), HUGE, -HUGE, 10**6, 0.0, float("nan")])
            elif roll < 0.38 and isinstance(args[i], array):  # one buffer passed twice
                trial[i] = rng.choice([a for a in trial if isinstance(a, array)])
            elif roll < 0.45 and isinstance(args[i], array):
                trial[i] = array(rng.choice("fdqB"), [rng.randint(0, 3) for _ in range(rng.randint(0, 40))])
            else:
                pool = bad_replacements(kinds[i], args[i], args)
                trial[i] = rng.choice(pool) if pool else trial[i]
        try:
            getattr(C, name)(*trial)
        except Exception:
            pass
        report["random_calls"] += 1
    return report


def aliased_calls(C, calls: dict) -> int:
    """Every valid call again with one buffer argument passed in the place of another (an output
    that is also an input, positions that are also the destination, ...): a kernel checks its
    arguments before its loop, so a loop that rewrote what it had checked could go out of bounds.
    Only survival is required here; the results of the index kernels are tested below."""
    count = 0
    for name, variants in sorted(calls.items()):
        for _, args in variants:
            places = [i for i, a in enumerate(args) if isinstance(a, array)]
            for i in places:
                for j in places:
                    if i == j:
                        continue
                    trial = [a[:] if isinstance(a, array) else a for a in args]
                    trial[j] = trial[i]
                    try:
                        getattr(C, name)(*trial)
                    except Exception:
                        pass
                    count += 1
    return count


@pytest.fixture(scope="module")
def report() -> dict:
    if cython_core() is None:
        pytest.skip("the Cython core minigrad_c is not built")
    proc = subprocess.run([sys.executable, __file__], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        f"the fuzzing process died (exit status {proc.returncode}; negative = killed by that signal)\n"
        f"{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_fuzzing_survives_and_covers_every_kernel(report):
    assert report["kernels"] == public_kernels(), "add valid calls for every kernel to valid_calls()"
    assert report["random_calls"] > 1000


def test_aliased_buffers_were_tried(report):
    assert report["aliased_calls"] > 100


@pytest.mark.parametrize("backend", ["python", "cython"])
def test_index_kernels_read_their_positions_before_writing_into_the_same_buffer(backend):
    K = kernels_for(backend)
    a = q(1, 0)
    K.put(a, a, q(10**15, 0), False)  # positions [1, 0] as given: dst[1] = 10**15, dst[0] = 0
    assert a.tolist() == [0, 10**15]
    a = q(1, 0)
    K.put(a, a, q(7, 8), True)  # dst[1] += 7, then dst[0] += 8 (not dst[7])
    assert a.tolist() == [1 + 8, 0 + 7]
    a = q(2, 0, 1)
    K.take(a, a, a)  # out = src[positions] with all three the same buffer
    assert a.tolist() == [1, 2, 0]
    a = q(1, 0)
    K.gather_rows(a, 1, a, a)  # rows of one element: out[k] = src[indices[k]]
    assert a.tolist() == [0, 1]
    b = q(1, 1, 0, 0)
    K.gather_rows(b, 2, q(1, 0), b)
    assert b.tolist() == [0, 0, 1, 1]


def test_valid_calls_are_valid(report):
    assert report["valid_failed"] == []


def test_every_bad_argument_raises(report):
    assert report["not_raised"] == [], "\n".join(report["not_raised"])


if __name__ == "__main__":
    print(json.dumps(fuzz()))
