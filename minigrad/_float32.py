"""float32 and float64 arithmetic as the CPU does it, in pure Python.

Python floats are doubles. A float32 operation is emulated by computing in double and rounding
to float32 once; this is exact for +, -, *, / and sqrt of float32 operands. A fused
multiply-add (one rounding of ``a*b + c``) needs more care, in float32 (``fma32``, a whole
list at a time) and in float64 (``fma64``). ``minigrad.random`` (Box-Muller) and
``minigrad._sleef`` (torch's vectorised exp, log, tanh, ...) build on these.
"""

from __future__ import annotations

import math
import re
import struct
import sys
from array import array
from itertools import repeat
from operator import add, mul

# A product of two float32 values has at most 48 significant bits, so it is exact in a
# double. Adding a third float32 rounds once, to 53 bits; rounding that double to float32
# again gives the correctly rounded float32 fma(a, b, c) except when the double lands
# exactly halfway between two float32 values (then the first rounding may have decided the
# tie the wrong way). Those rare elements are found by a fast scan and redone exactly.
# Plain float32 +, -, *, / and sqrt done in double and rounded once are always correct
# (53 >= 2 * 24 + 2), so they need no such care.

_FLOAT32_NORMAL_MIN = 2.0**-126
# A double that lies exactly halfway between two float32 in their normal range has
# 0x10000000 in the 29 low bits of its mantissa (the bits that rounding to float32 drops):
# in little-endian bytes, three zero bytes and then a byte whose low 5 bits are 10000.
_FLOAT32_TIE_BYTES = re.compile(rb"\x00\x00\x00[\x10\x30\x50\x70\x90\xb0\xd0\xf0]")


def round_f32(values: list[float]) -> list[float]:
    """Round each double to the nearest float32 (ties to even); returns Python floats."""
    return array("f", values).tolist()


def f32(x: float) -> float:
    """Round one double to the nearest float32 (overflow gives inf, as a C cast does)."""
    return array("f", (x,))[0]


def f32_from_bits(bits: int) -> float:
    """The float32 with the given IEEE-754 bit pattern, e.g. ``0x40C90FDB`` -> 2*pi."""
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _maybe_on_float32_tie(wide: list[float]) -> list[int]:
    """Indices of the doubles that sit exactly halfway between two float32 (plus any below
    float32's normal range, where the halfway bit is elsewhere): the only places where
    rounding to double and then to float32 can differ from rounding once.

    The scan is a regular expression over the raw bytes, so it runs at C speed.
    """
    doubles = array("d", wide)
    if sys.byteorder == "big":
        doubles.byteswap()
    raw = doubles.tobytes()
    ties = []
    if _FLOAT32_TIE_BYTES.search(raw):  # (rarely: most calls end without listing matches)
        ties = [m.start() // 8 for m in _FLOAT32_TIE_BYTES.finditer(raw) if m.start() % 8 == 0]
    if any(map(_FLOAT32_NORMAL_MIN.__gt__, map(abs, wide))):
        ties += [i for i, v in enumerate(wide) if abs(v) < _FLOAT32_NORMAL_MIN]
    return ties


def _fma32_exact(a: float, b: float, c: float) -> float:
    """Correctly rounded float32 fma(a, b, c) of float32 inputs.

    ``a*b`` is exact in double (two 24-bit factors), and Knuth's two-sum gives the exact
    rounding error of ``wide = a*b + c``, so ``a*b + c == wide + error`` exactly. Rounding
    ``wide`` to float32 is right unless ``wide`` is a float32 tie and ``error`` is not zero;
    then the sign of ``error`` says which neighbour is nearer.
    """
    product = a * b
    wide = product + c
    back = wide - product
    error = (product - (wide - back)) + (c - back)
    rounded = f32(wide)
    other = 2.0 * wide - rounded  # the float32 on the other side, if wide is a tie
    if error == 0.0 or rounded == wide or f32(other) != other:
        return rounded
    return max(rounded, other) if error > 0.0 else min(rounded, other)


def fma32(a: list[float] | float, b: list[float] | float, c: list[float] | float) -> list[float]:
    """Elementwise float32 ``fma(a, b, c)`` with a single rounding.

    Each argument is a list of float32 values or one float32 value used for every element;
    at least one must be a list.
    """
    lanes_a = a if isinstance(a, list) else repeat(a)
    lanes_b = b if isinstance(b, list) else repeat(b)
    lanes_c = c if isinstance(c, list) else repeat(c)
    wide = list(map(add, map(mul, lanes_a, lanes_b), lanes_c))  # x * y + z in double, at C speed
    out = round_f32(wide)
    for i in _maybe_on_float32_tie(wide):
        out[i] = _fma32_exact(*(v[i] if isinstance(v, list) else v for v in (a, b, c)))
    return out


_SPLITTER = 134217729.0  # 2**27 + 1, Veltkamp's constant for splitting a double in halves
_SAFE_MIN = 2.0**-900  # inside these bounds Dekker's exact product cannot under/overflow
_SAFE_MAX = 2.0**900


def _split(a: float) -> tuple[float, float]:
    """Veltkamp split: ``a == hi + lo`` exactly, each half with at most 26 bits."""
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def fma64(a: float, b: float, c: float) -> float:
    """Double ``fma(a, b, c)``: ``a * b + c`` rounded once (Python 3.11 has no math.fma).

    With ``p = a*b`` and ``s = p + c`` in double, the exact result is ``s + d`` where
    ``d = (a*b - p) + (p + c - s)`` is a sum of two error terms, both computed exactly
    (Dekker's product, Knuth's two-sum). ``s + d`` rounds like ``s + t`` for t = double(d)
    unless ``s + d`` is near a halfway point; that is checked by rounding ``s`` plus the
    doubles on either side of t, and the rare undecided cases are done with fractions.
    """
    p = a * b
    s = p + c
    if not (math.isfinite(s) and _SAFE_MIN < abs(p) < _SAFE_MAX and abs(a) < _SAFE_MAX and abs(b) < _SAFE_MAX):
        return _fma64_slow(a, b, c, s)
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    product_error = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    if product_error == 0.0:
        return s  # a*b was exact, so p + c was already rounded once
    back = s - p
    sum_error = (p - (s - back)) + (c - back)
    t = product_error + sum_error
    low = s + math.nextafter(t, -math.inf)
    if low == s + math.nextafter(t, math.inf):
        return low
    return _fma64_slow(a, b, c, s)


def _fma64_slow(a: float, b: float, c: float, s: float) -> float:
    """``fma64`` for the rare cases: non-finite values, extreme exponents, near-ties."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return s  # inf/nan propagate exactly as in a fused operation
    if a == 0.0 or b == 0.0:
        return s  # an exact zero product: s = p + c is already right, signed zeros included
    from fractions import Fraction  # only for the rare exact halfway cases

    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        return 0.0
    try:
        return float(exact)  # int / int true division rounds correctly
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


def round_typed(typecode: str, values: list[float]) -> list[float]:
    """Round each double to the buffer typecode's precision: float32 for 'f', unchanged for 'd'."""
    return round_f32(values) if typecode == "f" else values


def fma_typed(typecode: str, a: list[float] | float, b: list[float] | float, c: list[float] | float) -> list[float]:
    """Elementwise ``fma(a, b, c)`` rounded once to float32 ('f') or float64 ('d'); each argument
    is a list or one value used for every element (at least one a list), as for ``fma32``."""
    if typecode == "f":
        return fma32(a, b, c)
    columns = [v if isinstance(v, list) else None for v in (a, b, c)]
    n = len(next(v for v in columns if v is not None))
    lanes = [v if v is not None else [s] * n for v, s in zip(columns, (a, b, c))]
    return [fma64(x, y, z) for x, y, z in zip(*lanes)]
