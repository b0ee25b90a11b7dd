"""PyTorch's CPU random number generator, reproduced bit for bit in pure Python.

After ``manual_seed(s)`` the draws here equal those of torch 2.13.0 (CPU wheel, x86-64,
AVX2 kernels) for ``rand``/``uniform_``, ``randn``/``normal_``, ``randint``, ``randperm``,
``bernoulli_`` (and so dropout masks), ``exponential_``, ``random_`` and ``multinomial``, in
float32 and float64. The tensor layer wraps the flat lists returned here into tensors;
this module knows nothing about tensors and imports only ``minigrad._float32`` (float32
arithmetic and fused multiply-adds) from minigrad.

Sections, in the order of the spec (``torch-rng.md``):

1. engine         - MT19937, run by CPython's C code through ``random.Random.setstate``
2. arithmetic     - float32 rounding and single-rounding fused multiply-adds (FMA), from
                    ``minigrad._float32``
3. uniform        - 24-bit float32 / 53-bit float64 uniforms, ``x * (to - from) + from`` as an FMA
4. serial normal  - double Box-Muller with a cached second value (spec 4a)
5. block normal   - 16-element blocks: the AVX2 float32 kernel with the Cephes ``LOG`` and
                    ``SINCOS`` emulated operation by operation (4b), and float64 (4d)
6. integers       - ``randint`` and ``randperm``
6b. more          - ``bernoulli_``, ``exponential_``, ``cauchy_``, ``geometric_``, ``log_normal_``
                    (in ``Generator``), ``random_``, ``multinomial`` with replacement
7. Generator      - the state that ties it together, and the module-level default generator

The block path works on whole lists at a time (one list comprehension per arithmetic step)
so that ``normal(320_000)`` takes seconds, not minutes.
"""

from __future__ import annotations

import bisect
import math
import os
import random as _pyrandom
import struct
import sys
from array import array

from minigrad._float32 import f32 as _f32
from minigrad._float32 import f32_from_bits as _f32_from_bits
from minigrad._float32 import fma32 as _fma32
from minigrad._float32 import fma64 as _fma64
from minigrad._float32 import round_f32 as _round_f32

__all__ = [
    "Generator",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]

# ===================================================================== 1. engine

_MT_N = 624  # state words
_U32 = "I" if array("I").itemsize == 4 else "L"  # array typecode of a 32-bit word


def _init_genrand(seed32: int) -> list[int]:
    """Matsumoto-Nishimura ``init_genrand``: the 624 state words for a 32-bit seed.

    ``st[0] = seed``, ``st[j] = 1812433253 * (st[j-1] ^ (st[j-1] >> 30)) + j  (mod 2**32)``.
    """
    state = [seed32]
    for j in range(1, _MT_N):
        prev = state[-1]
        state.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return state


class MT19937:
    """The Mersenne Twister that torch's CPU generator runs (spec section 1).

    Python's ``random.Random`` is the same MT19937 (same twist, same tempering); only its
    seeding differs. So the state is built with ``init_genrand`` here and handed over with
    ``setstate``, and from then on CPython's C code produces torch's words, with the read
    index 624 meaning "block used up, twist before the next word".

    torch reports the read position as ``(left, next)``: ``left`` counts down to the next
    twist and ``next`` indexes the next word; freshly seeded it is ``(1, 0)``, otherwise
    ``left + next == 625``. ``fresh`` tells apart ``(1, 0)`` from ``(1, 624)``, which
    Python's single index cannot.
    """

    def __init__(self, seed: int) -> None:
        self._random = _pyrandom.Random()
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Seed with the low 32 bits of ``seed``; the first draw twists first."""
        self._load(_init_genrand(seed & 0xFFFFFFFF), _MT_N)
        self.fresh = True

    def _load(self, words: list[int] | tuple[int, ...], index: int) -> None:
        self._random.setstate((3, tuple(words) + (index,), None))

    def words(self, n: int) -> array:
        """The next ``n`` tempered 32-bit output words, in order."""
        if n <= 0:
            return array(_U32)
        self.fresh = False
        # getrandbits(32 * n) draws n words and puts the first one in the lowest bits.
        raw = self._random.getrandbits(32 * n).to_bytes(4 * n, "little")
        out = array(_U32, raw)
        if sys.byteorder == "big":
            out.byteswap()
        return out

    def get_words_and_position(self) -> tuple[tuple[int, ...], int, int]:
        """``(state words, left, next)`` in torch's convention."""
        internal = self._random.getstate()[1]
        index = internal[_MT_N]
        if index == _MT_N:
            left, nxt = 1, (0 if self.fresh else _MT_N)
        else:
            left, nxt = _MT_N + 1 - index, index
        return internal[:_MT_N], left, nxt

    def set_words_and_position(self, words: tuple[int, ...], left: int, nxt: int) -> None:
        """Inverse of ``get_words_and_position``; raises ValueError on states torch never makes."""
        if len(words) != _MT_N or any(not 0 <= w <= 0xFFFFFFFF for w in words):
            raise ValueError("Invalid mt19937 state: the state words must be 624 values below 2**32")
        if not 1 <= left <= _MT_N or not 0 <= nxt <= _MT_N:
            raise ValueError(f"Invalid mt19937 state: left={left} must be in [1, 624] and next={nxt} in [0, 624]")
        if left + nxt != _MT_N + 1 and (left, nxt) != (1, 0):
            raise ValueError(
                f"Invalid mt19937 state: left={left}, next={nxt} is not a read position torch "
                "produces (left + next == 625, or left=1, next=0 right after seeding)"
            )
        self._load(words, _MT_N if left == 1 else nxt)
        self.fresh = nxt == 0


# ================================================================ 2. arithmetic
#
# float32 rounding and single-rounding fused multiply-adds live in minigrad._float32.


# =================================================================== 3. uniform

_FLT_MAX = 3.4028234663852886e38
_DBL_MAX = sys.float_info.max
_TWO_POW_M24 = 2.0**-24
_TWO_POW_M53 = 2.0**-53


def _uniform24(words: array) -> list[float]:
    """float32 uniforms in [0, 1): the low 24 bits of each word, times 2**-24 (exact)."""
    return [(w & 0xFFFFFF) * _TWO_POW_M24 for w in words]


def _uniform53(words: array) -> list[float]:
    """float64 uniforms in [0, 1) from word pairs: ``random64() & (2**53 - 1)`` times 2**-53.

    ``random64()`` puts the first word in the high half, so that is the low 21 bits of the
    first word followed by the whole second word.
    """
    return [((hi & 0x1FFFFF) * 4294967296 + lo) * _TWO_POW_M53 for hi, lo in zip(words[0::2], words[1::2])]


def _check_uniform_bounds(low: float, high: float, double: bool) -> None:
    """torch's ``uniform_`` argument checks, in its order and wording."""
    name, biggest = ("double", _DBL_MAX) if double else ("float", _FLT_MAX)
    if not -biggest <= low <= biggest:
        raise RuntimeError(f"from is out of bounds for {name}")
    if not -biggest <= high <= biggest:
        raise RuntimeError(f"to is out of bounds for {name}")
    if not low <= high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low:g} > to={high:g}")
    if not high - low <= biggest:
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{name.capitalize()}>::max(), "
            f"but found to={high:g} and from={low:g} which result in to-from to exceed the limit"
        )


def _uniform(engine: MT19937, n: int, low: float, high: float, double: bool) -> list[float]:
    """Spec section 3: ``v = fma(x, to - from, from)`` rounded once, and ``v == to`` -> ``from``.

    float32: one word per value, and the bounds and ``to - from`` rounded to float32.
    float64: two words per value (53 bits), all in double.
    On [0, 1) (``rand``, dropout masks) the fma is ``x * 1 + 0``, which is ``x`` exactly, and
    no draw reaches 1: the draws are the values.
    """
    if double:
        start, end = low, high
        width = end - start
        draws = _uniform53(engine.words(2 * n))
    else:
        start, end = _f32(low), _f32(high)
        width = _f32(end - start)
        draws = _uniform24(engine.words(n))
    if start == 0.0 and width == 1.0:
        return draws
    values = [_fma64(x, width, start) for x in draws] if double else _fma32(draws, width, start)
    return [start if v == end else v for v in values]


# ============================================================= 4. serial normal

_TWO_PI = 6.283185307179586  # the double 2*pi of the serial and float64 block paths


def _normal_serial(
    engine: MT19937, n: int, mean: float, std: float, cached: float | None
) -> tuple[list[float], float | None]:
    """Spec 4a: double Box-Muller, one element at a time; returns (values, new cache).

    A new pair draws ``u1, u2`` (53 bits each, 4 words), ``r = sqrt(-2 log1p(-u2))`` and
    ``theta = 2 pi u1``; ``r cos theta`` is used now and ``r sin theta`` cached, to be
    used by the next element, in this call or a later one. Each output is
    ``fma(z, std, mean)`` in double.
    """
    out = []
    for _ in range(n):
        if cached is not None:
            z, cached = cached, None
        else:
            u1, u2 = _uniform53(engine.words(4))
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = _TWO_PI * u1
            cached = radius * math.sin(theta)
            z = radius * math.cos(theta)
        out.append(_fma64(z, std, mean))
    return out, cached


# ============================================================== 5. block normal
#
# Contiguous tensors of 16 or more elements: fill with uniforms, then Box-Muller on each
# 16-element block, pairing element j with element j+8. float32 runs the AVX2 kernel's
# float32 arithmetic step by step (4b); float64 uses libm in double (4d).

# Constants of the AVX2 float32 kernel (avx_mathfun, after Cephes), as float32 bit patterns.
_TWO_PI_F32 = _f32_from_bits(0x40C90FDB)
_SQRT_HALF = _f32_from_bits(0x3F3504F3)
_LOG_POLY = [
    _f32_from_bits(bits)
    for bits in (
        0x3D9021BB,
        0xBDEBD1B8,
        0x3DEF251A,
        0xBDFE5D4F,
        0x3E11E9BF,
        0xBE2AAE50,
        0x3E4CCEAC,
        0xBE7FFFFC,
        0x3EAAAAAA,
    )
]
_LOG_Q1 = _f32_from_bits(0xB95E8083)  # -2.12194440e-4, low part of ln 2
_LOG_Q2 = _f32_from_bits(0x3F318000)  # 0.693359375, high part of ln 2
_FOUR_OVER_PI = _f32_from_bits(0x3FA2F983)
_MINUS_DP1 = _f32_from_bits(0xBF490000)  # -pi/4 in three pieces
_MINUS_DP2 = _f32_from_bits(0xB97DA000)
_MINUS_DP3 = _f32_from_bits(0xB3222169)
_COS_P0, _COS_P1, _COS_P2 = (_f32_from_bits(b) for b in (0x37CCF5CE, 0xBAB6061A, 0x3D2AAAA5))
_SIN_P0, _SIN_P1, _SIN_P2 = (_f32_from_bits(b) for b in (0xB94CA1F9, 0x3C08839E, 0xBE2AAAA3))


def LOG(x: list[float]) -> list[float]:  # named as in the spec, section 4b
    """The AVX2 kernel's float32 natural log (Cephes ``logf``) of each x in (0, 1].

    ``x = m * 2**e`` with m in [0.5, 1); with ``t = m - 1`` (or ``2m - 1`` and ``e - 1``
    when m < sqrt(1/2)), ``log x = t - t**2/2 + t**3 * P(t) + e ln 2``, ln 2 in two parts.
    """
    bits = array(_U32, array("f", x).tobytes())
    e = [float(((b >> 23) & 0xFF) - 126) for b in bits]  # biased exponent - 127 + 1
    m = array("f", array(_U32, [(b & 0x807FFFFF) | 0x3F000000 for b in bits]).tobytes()).tolist()
    below = [v < _SQRT_HALF for v in m]
    t = _round_f32([(v - 1.0) + v if small else v - 1.0 for v, small in zip(m, below)])
    e = [v - 1.0 if small else v for v, small in zip(e, below)]
    z = _round_f32([v * v for v in t])
    y: list[float] | float = _LOG_POLY[0]
    for coefficient in _LOG_POLY[1:]:
        y = _fma32(y, t, coefficient)
    y = _round_f32([a * b for a, b in zip(y, t)])
    y = _fma32(y, z, _round_f32([v * _LOG_Q1 for v in e]))
    y = _round_f32([a - 0.5 * b for a, b in zip(y, z)])
    t = _round_f32([a + b for a, b in zip(t, y)])
    return _fma32(e, _LOG_Q2, t)


def SINCOS(theta: list[float]) -> tuple[list[float], list[float]]:  # named as in the spec, section 4b
    """The AVX2 kernel's float32 ``(sin, cos)`` (Cephes ``sincosf``) of each theta >= 0.

    Reduce to ``x = theta - j pi/4`` (j even, pi/4 in three parts), evaluate the sine and
    cosine polynomials of x, then let bits 1 and 2 of j swap them and pick the signs.
    """
    j = [(int(v) + 1) & ~1 for v in _round_f32([v * _FOUR_OVER_PI for v in theta])]
    y = [float(k) for k in j]
    x = _fma32(y, _MINUS_DP1, theta)
    x = _fma32(y, _MINUS_DP2, x)
    x = _fma32(y, _MINUS_DP3, x)
    z = _round_f32([v * v for v in x])
    # cos x = 1 - z/2 + z**2 * poly(z)
    c = _fma32(_COS_P0, z, _COS_P1)
    c = _fma32(c, z, _COS_P2)
    c = _round_f32([a * b for a, b in zip(z, c)])
    c = _fma32(z, c, [-0.5 * v for v in z])
    c = _round_f32([v + 1.0 for v in c])
    # sin x = x + x * z * poly(z)
    s = _fma32(_SIN_P0, z, _SIN_P1)
    s = _fma32(s, z, _SIN_P2)
    s = _round_f32([a * b for a, b in zip(z, s)])
    s = _fma32(x, s, x)
    sines, cosines = [], []
    for k, sin_x, cos_x in zip(j, s, c):
        if k & 2:
            sin_x, cos_x = cos_x, sin_x
        sines.append(-sin_x if k & 4 else sin_x)
        cosines.append(cos_x if (k - 2) & 4 else -cos_x)
    return sines, cosines


def _box_muller_f32(
    first: list[float], second: list[float], mean: float, std: float
) -> tuple[list[float], list[float]]:
    """Spec 4b for many pairs at once: ``r = sqrt(-2 LOG(1 - first))``,
    ``theta = f32(2 pi) * second``; returns ``fma(r cos, std, mean), fma(r sin, std, mean)``."""
    radius = _round_f32([math.sqrt(-2.0 * v) for v in LOG([1.0 - u for u in first])])
    theta = _round_f32([_TWO_PI_F32 * u for u in second])
    sines, cosines = SINCOS(theta)
    r_cos = _round_f32([r * c for r, c in zip(radius, cosines)])
    r_sin = _round_f32([r * s for r, s in zip(radius, sines)])
    return _fma32(r_cos, std, mean), _fma32(r_sin, std, mean)


def _box_muller_f64(
    first: list[float], second: list[float], mean: float, std: float
) -> tuple[list[float], list[float]]:
    """Spec 4d: ``r = sqrt(-2 log(1 - first))``, ``theta = 2 pi second``, double fmas."""
    out_first, out_second = [], []
    for u, v in zip(first, second):
        radius = math.sqrt(-2.0 * math.log(1.0 - u))
        theta = _TWO_PI * v
        out_first.append(_fma64(radius * math.cos(theta), std, mean))
        out_second.append(_fma64(radius * math.sin(theta), std, mean))
    return out_first, out_second


def _transform_blocks(d: list[float], starts: range | list[int], box_muller, mean: float, std: float) -> None:
    """Replace each window ``d[o:o+16]`` (o in ``starts``) by normals, in place."""
    first: list[float] = []
    second: list[float] = []
    for o in starts:
        first += d[o : o + 8]
        second += d[o + 8 : o + 16]
    out_first, out_second = box_muller(first, second, mean, std)
    for k, o in enumerate(starts):
        d[o : o + 8] = out_first[8 * k : 8 * k + 8]
        d[o + 8 : o + 16] = out_second[8 * k : 8 * k + 8]


def _normal_blocks(engine: MT19937, n: int, mean: float, std: float, double: bool) -> list[float]:
    """Spec 4b/4d for n >= 16: transform every full block of 16; if n is not a multiple of
    16, draw 16 fresh uniforms into the last 16 slots and transform that window too."""
    if double:
        box_muller = _box_muller_f64
        d = _uniform53(engine.words(2 * n))
    else:
        box_muller = _box_muller_f32
        mean, std = _f32(mean), _f32(std)
        d = _uniform24(engine.words(n))
    _transform_blocks(d, range(0, n - n % 16, 16), box_muller, mean, std)
    if n % 16:
        d[n - 16 :] = _uniform53(engine.words(32)) if double else _uniform24(engine.words(16))
        _transform_blocks(d, [n - 16], box_muller, mean, std)
    return d


# ================================================================== 6. integers


def _randint(engine: MT19937, n: int, low: int, high: int) -> list[int]:
    """Spec 6: ``w % (high - low) + low`` with ``w`` one word, or ``random64()`` (two words,
    the first one high) when the range is at least 2**28."""
    span = high - low
    if span >= 2**28:
        words = engine.words(2 * n)
        return [((hi << 32) | lo) % span + low for hi, lo in zip(words[0::2], words[1::2])]
    return [w % span + low for w in engine.words(n)]


def _randperm(engine: MT19937, n: int) -> list[int]:
    """Spec 6: start from ``0..n-1`` and swap ``r[i]`` with ``r[i + w % (n - i)]`` for
    i = 0..n-2, one word each."""
    perm = list(range(n))
    for i, w in enumerate(engine.words(n - 1)):
        j = i + w % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


# ====================================== 6b. bernoulli, exponential, random_, multinomial


def _bernoulli_scalar(engine: MT19937, n: int, p: float) -> list[bool]:
    """Spec 6b (``bernoulli_(p)`` with a Python float, any dtype): element i is 1 exactly when
    the i-th 53-bit double uniform ``m * 2**-53`` is ``< p``, that is when the 53-bit integer
    m is below ``p * 2**53`` (exact: a power-of-two scaling), compared as integers."""
    high_limit, low_limit = divmod(math.ceil(p * 2.0**53), 2**32)
    words = engine.words(2 * n)
    highs = [w & 0x1FFFFF for w in words[0::2]]  # m's top 21 bits decide, unless they equal the limit's
    keep = [h < high_limit for h in highs]
    if high_limit in highs:
        for i, (h, low) in enumerate(zip(highs, words[1::2])):
            if h == high_limit:
                keep[i] = low < low_limit
    return keep


def _bernoulli_tensor(engine: MT19937, probs: list[float], double: bool) -> list[bool]:
    """``bernoulli_(p_tensor)``: one uniform per probability, 53-bit double for a float64 ``p``
    (two words), 24-bit float32 for a float32 ``p`` (one word); 1 where ``u < p``."""
    n = len(probs)
    draws = _uniform53(engine.words(2 * n)) if double else _uniform24(engine.words(n))
    return [u < p for u, p in zip(draws, probs)]


def _exponential(engine: MT19937, n: int, lambd: float, double: bool) -> list[float]:
    """``exponential_(lambd)``: ``(-1 / lambd) * log1p(-u)`` in double from a 53-bit uniform u
    (two words per value, in either dtype), rounded once to float32 for a float32 tensor."""
    scale = -1.0 / lambd
    values = [scale * math.log1p(-u) for u in _uniform53(engine.words(2 * n))]
    return values if double else _round_f32(values)


def _cauchy(engine: MT19937, n: int, median: float, sigma: float, double: bool) -> list[float]:
    """``cauchy_(median, sigma)``: ``median + sigma * tan(pi * (u - 0.5))`` in double from a 53-bit
    uniform u, rounded once to float32 for a float32 tensor."""
    values = [median + sigma * math.tan(math.pi * (u - 0.5)) for u in _uniform53(engine.words(2 * n))]
    return values if double else _round_f32(values)


def _geometric(engine: MT19937, n: int, p: float) -> list[float]:
    """``geometric_(p)``: ``ceil(log(u) / log1p(-p))`` in double from a 53-bit uniform u (the
    number of Bernoulli(p) trials up to the first success)."""
    scale = math.log1p(-p)
    return [math.ceil(math.log(u) / scale) if u > 0.0 else math.inf for u in _uniform53(engine.words(2 * n))]


def _random_range(engine: MT19937, n: int, low: int, span: int, wide: bool) -> list[int]:
    """``random_(from, to)``'s kernel: ``w % span + low`` with w one word, or ``random64()``
    (two words, the first one high) when ``wide`` (int64, float32, float64 tensors) and
    ``span >= 2**28``. ``span == 2**64`` is the full int64 range: ``random64()`` read as signed."""
    if span == 2**64:
        words = engine.words(2 * n)
        return [((hi << 32) | lo) - (((hi >> 31) & 1) << 64) for hi, lo in zip(words[0::2], words[1::2])]
    if wide and span >= 2**28:
        words = engine.words(2 * n)
        return [((hi << 32) | lo) % span + low for hi, lo in zip(words[0::2], words[1::2])]
    return [w % span + low for w in engine.words(n)]


# random_() without bounds: which draw each dtype takes and what it is reduced modulo
_RANDOM_BITS = {
    "float32": (False, 2**24 + 1),
    "float64": (True, 2**53 + 1),
    "int64": (True, 2**63),
    "bool": (False, 2),
}


def _random_bits(engine: MT19937, n: int, dtype_name: str) -> list[int]:
    """``random_()``: integers in ``[0, 2**mantissa]`` for floats (``[0, 2**24]`` float32,
    ``[0, 2**53]`` float64), ``[0, 2**63 - 1]`` for int64, and ``word & 1`` for bool. float64
    and int64 draw ``random64()`` (two words), the others one word."""
    wide, modulus = _RANDOM_BITS[dtype_name]
    if wide:
        words = engine.words(2 * n)
        return [((hi << 32) | lo) % modulus for hi, lo in zip(words[0::2], words[1::2])]
    return [w % modulus for w in engine.words(n)]


def _multinomial_with_replacement(
    engine: MT19937, rows: list[list[float]], n_sample: int, double: bool
) -> list[list[int]]:
    """torch's CPU sampler with replacement, row by row: the running sum ``c_j`` of the row
    (accumulated in the row's dtype), ``c_j / c_last`` rounded to that dtype, the last set to 1;
    each sample draws a 53-bit double uniform u and takes the first j with ``u <= c_j``
    (a binary search, as torch's)."""
    rounded = (lambda v: v) if double else _f32
    out = []
    for row in rows:
        total, cumulative = 0.0, []
        for value in row:
            if not value >= 0:
                raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
            if not math.isfinite(value):
                raise RuntimeError(
                    "invalid multinomial distribution (encountering probability entry = infinity or NaN)"
                )
            total = rounded(total + value)
            cumulative.append(total)
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cumulative = [rounded(c / total) for c in cumulative]
        cumulative[-1] = 1.0
        draws = _uniform53(engine.words(2 * n_sample))
        out.append([bisect.bisect_left(cumulative, u) for u in draws])
    return out


# ================================================================= 7. Generator

_DEFAULT_SEED = 67280421310721
_RANDPERM_LIMIT = 214748364  # (2**32 - 1) // 20: torch uses another algorithm from here on
# torch's CPUGeneratorImplState, little-endian: initial seed, left, seeded, next, the 624
# words as uint64, normal_x, normal_y (the cached double normal), normal_rho,
# normal_is_valid, padding, the cached float normal, its valid flag, padding.
_STATE = struct.Struct("<QiiQ624Q3di4xf?3x")


def _check_count(n: int) -> int:
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return n


def _seed_to_uint64(seed: int) -> int:
    """torch's seed conversion: ints in [-2**63, 2**64), negatives wrapped modulo 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"Overflow when unpacking long long: seed {seed} is outside [-2**63, 2**64)")
    return seed % 2**64


class Generator:
    """A CPU random number generator with torch's streams.

    State: the MT19937 engine, the seed it was built from, and the double normal cached by
    the serial Box-Muller path (plus a float one that only ``set_state`` can fill, kept so
    that ``get_state`` gives it back). Draws return flat lists; float32 results are Python
    floats already rounded to float32.
    """

    def __init__(self, device: str = "cpu") -> None:
        if str(device) != "cpu":
            raise ValueError(f"minigrad has CPU generators only, got device {device!r}")
        self.device = "cpu"
        self._engine = MT19937(_DEFAULT_SEED)
        self.manual_seed(_DEFAULT_SEED)

    # ------------------------------------------------------------- seeding, state

    def manual_seed(self, seed: int) -> Generator:
        """Reseed (negative seeds wrap modulo 2**64) and forget cached normals."""
        self._initial_seed = _seed_to_uint64(seed)
        self._engine.seed(self._initial_seed)
        self._next_double_normal: float | None = None
        self._next_float_normal: float | None = None
        return self

    def initial_seed(self) -> int:
        """The seed of the last ``manual_seed``/``seed``, as a uint64."""
        return self._initial_seed

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        new_seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(new_seed)
        return new_seed

    def get_state(self) -> bytes:
        """A snapshot, byte for byte the layout of torch's ``Generator.get_state()``."""
        words, left, nxt = self._engine.get_words_and_position()
        cached, cached_float = self._next_double_normal, self._next_float_normal
        return _STATE.pack(
            self._initial_seed, left, 1, nxt, *words,
            0.0, 0.0 if cached is None else cached, 0.0, cached is not None,
            0.0 if cached_float is None else cached_float, cached_float is not None,
        )  # fmt: skip

    def set_state(self, state: bytes) -> None:
        """Restore a snapshot from ``get_state`` (or ``bytes(torch.get_rng_state())``)."""
        if not isinstance(state, (bytes, bytearray)):
            raise TypeError(f"RNG state must be bytes from get_state(), but got {type(state).__name__}")
        if len(state) != _STATE.size:
            raise ValueError(
                f"Expected a CPUGeneratorImplState of size {_STATE.size} "
                f"but found the input RNG state size to be {len(state)}"
            )
        fields = _STATE.unpack(state)
        initial, left, seeded, nxt = fields[:4]
        words = fields[4 : 4 + _MT_N]
        _, cached, _, cached_valid, cached_float, cached_float_valid = fields[4 + _MT_N :]
        if not seeded:
            raise ValueError("Invalid mt19937 state: the engine is marked as never seeded")
        self._engine.set_words_and_position(words, left, nxt)
        self._initial_seed = initial
        self._next_double_normal = cached if cached_valid else None
        self._next_float_normal = cached_float if cached_float_valid else None

    # ---------------------------------------------------------------------- draws

    def uniform(self, n: int, low: float, high: float, double: bool = False) -> list[float]:
        """``n`` values of ``Tensor.uniform_(low, high)``, float32 unless ``double``."""
        n = _check_count(n)
        low, high = float(low), float(high)
        _check_uniform_bounds(low, high, double)
        return _uniform(self._engine, n, low, high, double)

    def normal(
        self, n: int, mean: float = 0.0, std: float = 1.0, double: bool = False, contiguous: bool = True
    ) -> list[float]:
        """``n`` values of ``Tensor.normal_(mean, std)``, float32 unless ``double``.

        Contiguous tensors of 16 or more elements take the block path; smaller or
        non-contiguous ones the serial path, which uses and updates the cached normal.
        Values come in the order torch fills them: row-major for a contiguous tensor, but
        memory order for a non-contiguous one (e.g. ``empty(4, 5).t().normal_()`` fills
        the underlying 4x5 storage row by row).
        """
        n = _check_count(n)
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if n >= 16 and contiguous:
            return _normal_blocks(self._engine, n, mean, std, double)
        values, self._next_double_normal = _normal_serial(self._engine, n, mean, std, self._next_double_normal)
        return values if double else _round_f32(values)

    def randint(self, n: int, low: int, high: int) -> list[int]:
        """``n`` values of ``torch.randint(low, high, (n,))`` (int64)."""
        n = _check_count(n)
        low, high = int(low), int(high)
        if not low < high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        return _randint(self._engine, n, low, high)

    def randperm(self, n: int) -> list[int]:
        """``torch.randperm(n)``; torch's algorithm for n >= 214748364 is not reproduced."""
        n = _check_count(n)
        if n >= _RANDPERM_LIMIT:
            raise NotImplementedError(f"randperm is reproduced for n < {_RANDPERM_LIMIT} only, got n={n}")
        return _randperm(self._engine, n)

    def bernoulli(self, n: int, p: float) -> list[bool]:
        """``n`` values of ``Tensor.bernoulli_(p)`` for a Python float p (spec 6b)."""
        n = _check_count(n)
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        return _bernoulli_scalar(self._engine, n, p)

    def bernoulli_tensor(self, probs: list[float], double: bool) -> list[bool]:
        """One draw per probability (float64 probabilities when ``double``, else float32 ones)."""
        if any(not 0.0 <= p <= 1.0 for p in probs):
            raise RuntimeError(
                "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
                "improved?  If so, please report an enhancement request to PyTorch.)"
            )
        return _bernoulli_tensor(self._engine, probs, double)

    def exponential(self, n: int, lambd: float = 1.0, double: bool = False) -> list[float]:
        """``n`` values of ``Tensor.exponential_(lambd)``, float32 unless ``double``."""
        n = _check_count(n)
        lambd = float(lambd)
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
        return _exponential(self._engine, n, lambd, double)

    def cauchy(self, n: int, median: float = 0.0, sigma: float = 1.0, double: bool = False) -> list[float]:
        """``n`` values of ``Tensor.cauchy_(median, sigma)``, float32 unless ``double``."""
        n, median, sigma = _check_count(n), float(median), float(sigma)
        if not sigma > 0.0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
        return _cauchy(self._engine, n, median, sigma, double)

    def geometric(self, n: int, p: float) -> list[float]:
        """``n`` values of ``Tensor.geometric_(p)`` (whole numbers, as floats)."""
        n, p = _check_count(n), float(p)
        if not 0.0 < p < 1.0:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
        return _geometric(self._engine, n, p)

    def log_normal(self, n: int, mean: float = 1.0, std: float = 2.0, double: bool = False) -> list[float]:
        """``n`` values of ``Tensor.log_normal_(mean, std)``: ``exp`` of the serial normal path
        (spec 4a, whatever the size), which uses and updates the cached normal."""
        n, mean, std = _check_count(n), float(mean), float(std)
        if not std > 0.0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
        normals, self._next_double_normal = _normal_serial(self._engine, n, mean, std, self._next_double_normal)
        values = [math.exp(v) for v in normals]
        return values if double else _round_f32(values)

    def random_range(self, n: int, low: int, span: int, wide: bool = True) -> list[int]:
        """``n`` integers ``low + w % span`` as torch's ``random_(from, to)`` kernel draws them
        (``wide``: the tensor's dtype allows 64-bit draws, as int64/float32/float64 do)."""
        return _random_range(self._engine, _check_count(n), int(low), int(span), wide)

    def random_bits(self, n: int, dtype_name: str) -> list[int]:
        """``n`` values of ``random_()`` without bounds for a tensor of dtype ``dtype_name``."""
        return _random_bits(self._engine, _check_count(n), dtype_name)

    def multinomial_with_replacement(self, rows: list[list[float]], n_sample: int, double: bool) -> list[list[int]]:
        """``n_sample`` category indices per row of probabilities (float64 rows when ``double``)."""
        return _multinomial_with_replacement(self._engine, rows, int(n_sample), double)


# The global generator gets an unpredictable seed at start-up, as torch's does.
default_generator = Generator()
default_generator.seed()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator and return it (like ``torch.manual_seed``, via ``int(seed)``)."""
    return default_generator.manual_seed(int(seed))


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def seed() -> int:
    """Reseed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def get_rng_state() -> bytes:
    """Snapshot of the default generator (the layout of ``torch.get_rng_state()``)."""
    return default_generator.get_state()


def set_rng_state(state: bytes) -> None:
    """Restore the default generator from ``get_rng_state()``."""
    default_generator.set_state(state)
