"""torch's CPU random streams as kernels over the generator's state: MT19937 words, ``uniform_``,
``normal_`` (the 16-element block path and the serial path) and ``bernoulli_(p)``, bit for bit
torch 2.13.0's AVX2 kernels (the sections named are those of the spec, ``torch-rng.md``).
Twin: ``minigrad_c/sampling.pxi``.

The state is the generator's own: an ``array('I')`` of 625 words, the 624 words of the Mersenne
Twister and the read position: 0..623 is the next word to temper, 624 means the block is used up
(twist before the next word), and 625 means the same right after seeding (torch reports the two
apart: ``(left, next)`` is ``(1, 624)`` or ``(1, 0)``). A kernel draws from the state and advances
it in place, so a draw here and one in ``minigrad.random`` continue the same stream.

Here the twist is CPython's: ``random.Random`` runs the same MT19937 (only its seeding differs), so
the state is handed to it with ``setstate`` when a draw crosses a twist; a draw that does not is
tempered word by word. The block path works on whole lists (one comprehension per arithmetic step)
so that ``normal_`` of 320,000 elements takes seconds, not minutes.
"""

from __future__ import annotations

import math
import random as _pyrandom
import sys
from array import array

from minigrad._float32 import f32 as _f32
from minigrad._float32 import f32_from_bits as _f32_from_bits
from minigrad._float32 import fma32 as _fma32
from minigrad._float32 import fma64 as _fma64
from minigrad._float32 import round_f32 as _round_f32

_MT_N = 624  # state words; the state array holds one more, the read position
_U32 = "I" if array("I").itemsize == 4 else "L"  # array typecode of a 32-bit word

# ==================================================================== MT19937 words (section 1)


def _temper(y: int) -> int:
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    return y ^ (y >> 18)


def mt19937_words(state: array, out: array) -> None:
    """out = the next len(out) tempered 32-bit words of the stream; advances ``state``."""
    n = len(out)
    if n == 0:
        return
    index = min(state[_MT_N], _MT_N)
    if n <= _MT_N - index:  # no twist needed: temper the next words of the block
        out[:] = array(out.typecode, map(_temper, state[index : index + n]))
        state[_MT_N] = index + n
        return
    engine = _pyrandom.Random()
    engine.setstate((3, tuple(state[:_MT_N].tolist()) + (index,), None))
    # getrandbits(32 * n) draws n words and puts the first one in the lowest bits.
    words = array(out.typecode, engine.getrandbits(32 * n).to_bytes(4 * n, "little"))
    if sys.byteorder == "big":
        words.byteswap()
    out[:] = words
    state[:] = array(state.typecode, engine.getstate()[1])


def _words(state: array, n: int) -> array:
    out = array(_U32, bytes(4 * n))
    mt19937_words(state, out)
    return out


# ========================================================================== uniform (section 3)

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


def uniform_fill(state: array, low: float, high: float, out: array) -> None:
    """out = ``uniform_(low, high)`` draws: ``v = fma(x, to - from, from)`` rounded once, and
    ``v == to`` -> ``from``.

    float32 out ('f'): one word per value, the bounds and ``to - from`` rounded to float32.
    float64 out ('d'): two words per value (53 bits), all in double.
    On [0, 1) (``rand``) the fma is ``x * 1 + 0``, which is ``x`` exactly, and no draw reaches 1.
    """
    n = len(out)
    if out.typecode == "d":
        start, end = low, high
        width = end - start
        draws = _uniform53(_words(state, 2 * n))
    else:
        start, end = _f32(low), _f32(high)
        width = _f32(end - start)
        draws = _uniform24(_words(state, n))
    if not (start == 0.0 and width == 1.0):
        values = [_fma64(x, width, start) for x in draws] if out.typecode == "d" else _fma32(draws, width, start)
        draws = [start if v == end else v for v in values]
    out[:] = array(out.typecode, draws)


# ================================================================= serial normal (section 4a)

_TWO_PI = 6.283185307179586  # the double 2*pi of the serial and float64 block paths


def normal_serial_fill(state: array, mean: float, std: float, cached: float | None, out: array) -> float | None:
    """out = ``normal_(mean, std)`` draws on the serial path; returns the new cached normal.

    Double Box-Muller, one element at a time: a new pair draws ``u1, u2`` (53 bits each, 4
    words), ``r = sqrt(-2 log1p(-u2))`` and ``theta = 2 pi u1``; ``r cos theta`` is used now and
    ``r sin theta`` cached (``cached``: None or the value), to be used by the next element, in
    this call or a later one. Each output is ``fma(z, std, mean)`` in double, rounded on store.
    """
    n = len(out)
    pairs = (n - (cached is not None) + 1) // 2
    uniforms = iter(_uniform53(_words(state, 4 * pairs)))
    values = []
    for _ in range(n):
        if cached is not None:
            z, cached = cached, None
        else:
            u1, u2 = next(uniforms), next(uniforms)
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = _TWO_PI * u1
            cached = radius * math.sin(theta)
            z = radius * math.cos(theta)
        values.append(_fma64(z, std, mean))
    out[:] = array(out.typecode, values)
    return cached


# ================================================================== block normal (section 4b, 4d)
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


def _LOG(x: list[float]) -> list[float]:  # named as in the spec, section 4b
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


def _SINCOS(theta: list[float]) -> tuple[list[float], list[float]]:  # named as in the spec, section 4b
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
    radius = _round_f32([math.sqrt(-2.0 * v) for v in _LOG([1.0 - u for u in first])])
    theta = _round_f32([_TWO_PI_F32 * u for u in second])
    sines, cosines = _SINCOS(theta)
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


def normal_fill(state: array, mean: float, std: float, out: array) -> None:
    """out = ``normal_(mean, std)`` draws on the block path (len(out) >= 16, a contiguous tensor).

    Fill with uniforms and transform every full block of 16; if the length is not a multiple of
    16, draw 16 fresh uniforms into the last 16 slots and transform that window too. float32:
    the AVX2 kernel's arithmetic with mean and std rounded to float32; float64: libm in double.
    """
    n = len(out)
    if n < 16:
        raise ValueError(f"the block path of normal_ needs at least 16 elements, got {n}")
    if out.typecode == "d":
        box_muller = _box_muller_f64
        d = _uniform53(_words(state, 2 * n))
    else:
        box_muller = _box_muller_f32
        mean, std = _f32(mean), _f32(std)
        d = _uniform24(_words(state, n))
    _transform_blocks(d, range(0, n - n % 16, 16), box_muller, mean, std)
    if n % 16:
        d[n - 16 :] = _uniform53(_words(state, 32)) if out.typecode == "d" else _uniform24(_words(state, 16))
        _transform_blocks(d, [n - 16], box_muller, mean, std)
    out[:] = array(out.typecode, d)


# ===================================================================== bernoulli_(p) (section 6b)


def bernoulli_fill(state: array, p: float, out: array) -> None:
    """out[i] = 1 when the i-th 53-bit double uniform ``m * 2**-53`` is ``< p``, else 0 (out of any
    dtype: ``bernoulli_(p)`` with a Python float p). Compared as integers: m is below
    ``p * 2**53`` (exact: a power-of-two scaling)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    n = len(out)
    high_limit, low_limit = divmod(math.ceil(p * 2.0**53), 2**32)
    words = _words(state, 2 * n)
    highs = [w & 0x1FFFFF for w in words[0::2]]  # m's top 21 bits decide, unless they equal the limit's
    keep = [h < high_limit for h in highs]
    if high_limit in highs:
        for i, (h, low) in enumerate(zip(highs, words[1::2])):
            if h == high_limit:
                keep[i] = low < low_limit
    out[:] = array(out.typecode, keep)
