"""torch's vectorised float32 (and float64) math, emulated operation by operation in pure Python.

torch's CPU kernels (ATEN_CPU_CAPABILITY=avx2) compute ``exp``, ``log``, ``tanh`` and the other
transcendental functions of float32 tensors with SLEEF's 8-lane functions (``Sleef_expf8_u10``,
``Sleef_logf8_u10``, ``Sleef_tanhf8_u10``, ...), whose results differ from the correctly rounded
ones in the last bit now and then. This module repeats SLEEF's algorithms (``sleefsimdsp.c``,
``df.h``) step by step: every float32 operation rounded once, every ``vmla`` a fused
multiply-add (AVX2 has FMA), the same constants, the same special-case selections. So its
results equal torch's bit for bit.

Each float32 function takes a list of float32 values (Python floats) and returns a new list;
each step is one list comprehension over all the elements ("lanes"), as in ``minigrad.random``.
A pair ``(hi, lo)`` of lists is SLEEF's ``vfloat2``, a value carried as an unevaluated float32
sum. The float64 functions (``expd``, ``logd``: SLEEF's ``Sleef_expd4_u10``, ``Sleef_logd4_u10``)
take one double: Python's own arithmetic is double, and only their fused multiply-adds need care.
"""

from __future__ import annotations

import math
import struct
from array import array
from itertools import repeat
from typing import Union

from minigrad._float32 import f32, fma32, fma64, round_f32

Lanes = list[float]
Operand = Union[Lanes, float]
Pair = tuple[Lanes, Lanes]

INF = math.inf
NAN = math.nan
_INT_MIN = -(2**31)  # what cvtps2dq gives for NaN and out-of-range values
_U32 = "I" if array("I").itemsize == 4 else "L"


# ---------------------------------------------------------------------------------------------
# One float32 operation on every lane
# ---------------------------------------------------------------------------------------------


def _lanes(v: Operand):
    return v if isinstance(v, list) else repeat(v)


def quotient(a: float, b: float) -> float:
    """IEEE a / b in double: x/0 is +-inf, 0/0 is nan (Python would raise). The pure kernels' division too."""
    if b:
        return a / b
    if a != a or a == 0:
        return NAN
    return math.copysign(INF, a) * math.copysign(1.0, b)


def add(a: Operand, b: Operand) -> Lanes:
    return round_f32([x + y for x, y in zip(_lanes(a), _lanes(b))])


def sub(a: Operand, b: Operand) -> Lanes:
    return round_f32([x - y for x, y in zip(_lanes(a), _lanes(b))])


def mul(a: Operand, b: Operand) -> Lanes:
    return round_f32([x * y for x, y in zip(_lanes(a), _lanes(b))])


def div(a: Operand, b: Operand) -> Lanes:
    return round_f32([quotient(x, y) for x, y in zip(_lanes(a), _lanes(b))])


def fma(a: Operand, b: Operand, c: Operand) -> Lanes:
    """a*b + c rounded once (``vmla``, ``vfma``)."""
    return fma32(a, b, c)


def fmapn(a: Operand, b: Operand, c: Operand) -> Lanes:
    """a*b - c rounded once (``vfmapn``)."""
    return fma32(a, b, [-v for v in c] if isinstance(c, list) else -c)


def fmanp(a: Operand, b: Operand, c: Operand) -> Lanes:
    """-a*b + c rounded once (``vfmanp``)."""
    return fma32([-v for v in a] if isinstance(a, list) else -a, b, c)


def rint(a: Lanes) -> list[int]:
    """float -> int32, rounding half to even (``vrint_vi2_vf``: cvtps2dq); NaN and overflow give INT_MIN."""
    return [round(v) if -2147483648.0 <= v < 2147483648.0 else _INT_MIN for v in a]


def to_bits(a: Lanes) -> array:
    return array(_U32, array("f", a).tobytes())


def from_bits(bits: list[int]) -> Lanes:
    return array("f", array(_U32, [b & 0xFFFFFFFF for b in bits]).tobytes()).tolist()


def pow2i(q: list[int]) -> Lanes:
    """2**q built from its exponent bits (``vpow2i_vf_vi2``), wrapping as 32-bit integers do."""
    return from_bits([(v + 0x7F) << 23 for v in q])


def ldexp2(d: Lanes, e: list[int]) -> Lanes:
    """d * 2**(e>>1) * 2**(e - (e>>1)) (``vldexp2_vf_vf_vi2``)."""
    return mul(mul(d, pow2i([v >> 1 for v in e])), pow2i([v - (v >> 1) for v in e]))


def ldexp3(d: Lanes, q: list[int]) -> Lanes:
    """Add q to the exponent field of d (``vldexp3_vf_vf_vi2``)."""
    return from_bits([b + (v << 23) for b, v in zip(to_bits(d), q)])


def ilogb2k(d: Lanes) -> list[int]:
    """The unbiased exponent field of d (``vilogb2k_vi2_vf``)."""
    return [((b >> 23) & 0xFF) - 0x7F for b in to_bits(d)]


def select(mask: list[bool], a: Operand, b: Operand) -> Lanes:
    """a where mask else b (``vsel``)."""
    return [x if m else y for m, x, y in zip(mask, _lanes(a), _lanes(b))]


# ---------------------------------------------------------------------------------------------
# Double-float arithmetic (df.h, the FMA variants): a value is hi + lo
# ---------------------------------------------------------------------------------------------


def df_add_ff(x: Operand, y: Operand) -> Pair:
    """dfadd_vf2_vf_vf (|x| >= |y|)."""
    hi = add(x, y)
    return hi, add(sub(x, hi), y)


def df_add2_ff(x: Operand, y: Lanes) -> Pair:
    """dfadd2_vf2_vf_vf: Knuth's two-sum."""
    hi = add(x, y)
    v = sub(hi, x)
    return hi, add(sub(x, sub(hi, v)), sub(y, v))


def df_add_pf(x: Pair, y: Lanes) -> Pair:
    """dfadd_vf2_vf2_vf."""
    hi = add(x[0], y)
    return hi, add(add(sub(x[0], hi), y), x[1])


def df_add_fp(x: Operand, y: Pair) -> Pair:
    """dfadd_vf2_vf_vf2."""
    hi = add(x, y[0])
    return hi, add(add(sub(x, hi), y[0]), y[1])


def df_add_pp(x: Pair, y: Pair) -> Pair:
    """dfadd_vf2_vf2_vf2 (|x| >= |y|)."""
    hi = add(x[0], y[0])
    return hi, add(add(add(sub(x[0], hi), y[0]), x[1]), y[1])


def df_add2_pf(x: Pair, y: Operand) -> Pair:
    """dfadd2_vf2_vf2_vf."""
    hi = add(x[0], y)
    v = sub(hi, x[0])
    return hi, add(add(sub(x[0], sub(hi, v)), sub(y, v)), x[1])


def df_scale(x: Pair, s: float) -> Pair:
    return mul(x[0], s), mul(x[1], s)


def df_mul_pf(x: Pair | tuple[float, float], y: Lanes) -> Pair:
    """dfmul_vf2_vf2_vf."""
    hi = mul(x[0], y)
    return hi, fma(x[1], y, fmapn(x[0], y, hi))


def df_mul_pp(x: Pair, y: Pair) -> Pair:
    """dfmul_vf2_vf2_vf2."""
    hi = mul(x[0], y[0])
    return hi, fma(x[0], y[1], fma(x[1], y[0], fmapn(x[0], y[0], hi)))


def df_squ(x: Pair) -> Pair:
    """dfsqu_vf2_vf2."""
    hi = mul(x[0], x[0])
    return hi, fma(add(x[0], x[0]), x[1], fmapn(x[0], x[0], hi))


def df_div(n: Pair, d: Pair) -> Pair:
    """dfdiv_vf2_vf2_vf2."""
    t = div(1.0, d[0])
    hi = mul(n[0], t)
    u = fmapn(t, n[0], hi)
    lo = fmanp(d[1], t, fmanp(d[0], t, 1.0))
    return hi, fma(hi, lo, fma(n[1], t, u))


# ---------------------------------------------------------------------------------------------
# The functions
# ---------------------------------------------------------------------------------------------

_R_LN2 = f32(1.442695040888963407359924681001892137426645954152985934135449406931)
_L2U = f32(0.693145751953125)
_L2L = f32(1.428606765330187045e-06)
_EXP_POLY = [f32(c) for c in (0.000198527617612853646278381, 0.00139304355252534151077271,
                               0.00833336077630519866943359, 0.0416664853692054748535156,
                               0.166666671633720397949219, 0.5)]  # fmt: skip


def expf(d: Lanes) -> Lanes:
    """e**d: ``Sleef_expf8_u10`` (xexpf): d = q ln2 + s, a degree-7 polynomial in s, times 2**q."""
    q = rint(mul(d, _R_LN2))
    qf = [float(v) for v in q]
    s = fma(qf, -_L2U, d)
    s = fma(qf, -_L2L, s)
    u: Operand = _EXP_POLY[0]
    for c in _EXP_POLY[1:]:
        u = fma(u, s, c)
    u = add(1.0, fma(mul(s, s), u, s))
    u = ldexp2(u, q)
    return [INF if 100 < v else 0.0 if v < -104 else r for v, r in zip(d, u)]


_FLT_MIN = 2.0**-126
_TWO64 = 2.0**64
_LN2_PAIR = (f32(0.69314718246459960938), f32(-1.904654323148236017e-09))
_LOG_POLY = [f32(c) for c in (0.3027294874, 0.3996108174, 0.6666694880)]


def logf(d: Lanes) -> Lanes:
    """ln d: ``Sleef_logf8_u10`` (xlogf_u1): d = m 2**e with m in [0.75, 1.5), then
    ln m = 2 atanh((m-1)/(m+1)) as a polynomial, carried in double-float."""
    small = [v < _FLT_MIN for v in d]
    d2 = select(small, mul(d, _TWO64), d)
    e = ilogb2k(mul(d2, f32(1.0 / 0.75)))
    m = ldexp3(d2, [-v for v in e])
    e = [v - 64 if s else v for v, s in zip(e, small)]
    s = df_mul_pf(_LN2_PAIR, [float(v) for v in e])
    x = df_div(df_add2_ff(-1.0, m), df_add2_ff(1.0, m))
    x2 = mul(x[0], x[0])
    t = fma(_LOG_POLY[0], x2, _LOG_POLY[1])
    t = fma(t, x2, _LOG_POLY[2])
    s = df_add_pp(s, df_scale(x, 2.0))
    s = df_add_pf(s, mul(mul(x2, x[0]), t))
    r = add(s[0], s[1])
    return [
        -INF if v == 0 else NAN if v < 0 or v != v else INF if v == INF else w for v, w in zip(d, r)
    ]


_EXPK2_POLY = [f32(c) for c in (0.1980960224e-3, 0.1394256484e-2, 0.8333456703e-2, 0.4166637361e-1)]
_ONE_SIXTH = f32(0.166666659414234244790680580464)


def _expk2f(d: Pair) -> Pair:
    """e**d for a double-float d, as a double-float (expk2f)."""
    q = rint(mul(add(d[0], d[1]), _R_LN2))
    qf = [float(v) for v in q]
    s = df_add2_pf(d, mul(qf, -_L2U))
    s = df_add2_pf(s, mul(qf, -_L2L))
    u: Operand = _EXPK2_POLY[0]
    for c in _EXPK2_POLY[1:]:
        u = fma(u, s[0], c)
    t = df_add2_pf(df_mul_pf(s, u), _ONE_SIXTH)
    t = df_add2_pf(df_mul_pp(s, t), 0.5)
    t = _df_add2_pp(s, df_mul_pp(df_squ(s), t))
    t = df_add_fp(1.0, t)
    hi, lo = ldexp2(t[0], q), ldexp2(t[1], q)
    low = [v < -104 for v in d[0]]
    return select(low, 0.0, hi), select(low, 0.0, lo)


def _df_add2_pp(x: Pair, y: Pair) -> Pair:
    """dfadd2_vf2_vf2_vf2."""
    hi = add(x[0], y[0])
    v = sub(hi, x[0])
    return hi, add(add(sub(x[0], sub(hi, v)), sub(y[0], v)), add(x[1], y[1]))


ALL_ONES = from_bits([0xFFFFFFFF])[0]  # the NaN that SLEEF's and torch's masks produce (all bits set)


# ---------------------------------------------------------------------------------------------
# float64: Sleef_expd4_u10 and Sleef_logd4_u10 (sleefsimddp.c, dd.h), one element at a time
# ---------------------------------------------------------------------------------------------

_R_LN2_D = 1.442695040888963407359924681001892137426645954152985934135449406931
_L2U_D = 0.69314718055966295651160180568695068359375
_L2L_D = 0.28235290563031577122588448175013436025525412068e-12
_EXPD_POLY = (0.2081276378237164457e-8, 0.2511210703042288022e-7, 0.2755762628169491192e-6,
              0.2755723402025388239e-5, 0.2480158687479686264e-4, 0.1984126989855865850e-3,
              0.1388888888914497797e-2, 0.8333333333314938210e-2, 0.4166666666666602598e-1,
              0.1666666666666669072e+0)  # fmt: skip
_D = struct.Struct("<d")
_Q = struct.Struct("<Q")


def _pow2i_d(q: int) -> float:
    """2**q from its exponent bits (``vpow2i_vd_vi``: q + 0x3ff shifted in 32-bit lanes)."""
    return _D.unpack(_Q.pack((((q + 0x3FF) << 20) & 0xFFFFFFFF) << 32))[0]


def _rint_i32(v: float) -> int:
    return round(v) if -2147483648.0 <= v < 2147483648.0 else _INT_MIN


def expd(d: float) -> float:
    """e**d in double: ``Sleef_expd4_u10`` (xexp, the FMA variant: Estrin's scheme for the polynomial)."""
    u = d * _R_LN2_D
    u = float(round(u)) if math.isfinite(u) else u  # vrint_vd_vd
    q = _rint_i32(u)
    s = fma64(u, -_L2U_D, d)
    s = fma64(u, -_L2L_D, s)
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    c = _EXPD_POLY
    high = fma64(s2, fma64(s, c[2], c[3]), fma64(s, c[4], c[5]))
    low = fma64(s4, high, fma64(s2, fma64(s, c[6], c[7]), fma64(s, c[8], c[9])))
    u = fma64(s8, fma64(s, c[0], c[1]), low)
    u = fma64(u, s, 0.5)
    u = fma64(u, s, 1.0)
    u = fma64(u, s, 1.0)
    u = (u * _pow2i_d(q >> 1)) * _pow2i_d(q - (q >> 1))
    if d > 709.78271114955742909217217426:
        return INF
    return 0.0 if d < -1000 else u


_LOGD_POLY = (0.1532076988502701353, 0.1525629051003428716, 0.1818605932937785996, 0.2222214519839380009,
              0.2857142932794299317, 0.3999999999635251990, 0.6666666666667333541)  # fmt: skip
_DBL_MIN = 2.0**-1022


def logd(d: float) -> float:
    """ln d in double: ``Sleef_logd4_u10`` (xlog_u1): as ``logf`` with double-double arithmetic."""
    small = d < _DBL_MIN
    dd = d * _TWO64 if small else d
    e = ((_Q.unpack(_D.pack(dd * (1.0 / 0.75)))[0] >> 52) & 0x7FF) - 0x3FF
    m = _D.unpack(_Q.pack((_Q.unpack(_D.pack(dd))[0] + (-e << 52)) & 0xFFFFFFFFFFFFFFFF))[0]
    if small:
        e -= 64
    # x = (m - 1) / (m + 1) in double-double (ddadd2, dddiv)
    nx, ny = _two_sum(-1.0, m)
    dx, dy = _two_sum(1.0, m)
    t = 1.0 / dx
    xx = nx * t
    u = fma64(t, nx, -xx)
    lo = fma64(-dy, t, fma64(-dx, t, 1.0))
    xy = fma64(xx, lo, fma64(ny, t, u))
    x2 = xx * xx
    x4 = x2 * x2
    x8 = x4 * x4
    c = _LOGD_POLY
    t = fma64(x8, fma64(x4, c[0], fma64(x2, c[1], c[2])), fma64(x4, fma64(x2, c[3], c[4]), fma64(x2, c[5], c[6])))
    ef = float(e)
    sx = 0.693147180559945286226764 * ef
    sy = fma64(2.319046813846299558417771e-17, ef, fma64(0.693147180559945286226764, ef, -sx))
    # s = ddadd(s, 2x): hi, then (((sx - hi) + 2xx) + sy) + 2xy
    hi = sx + 2.0 * xx
    sy = (((sx - hi) + 2.0 * xx) + sy) + 2.0 * xy
    sx = hi
    v = (x2 * xx) * t
    hi = sx + v
    sy = ((sx - hi) + v) + sy
    r = hi + sy
    if d == INF:
        r = INF
    if d < 0 or d != d:
        r = NAN
    if d == 0:
        r = -INF
    return r


def _two_sum(x: float, y: float) -> tuple[float, float]:
    """ddadd2_vd2_vd_vd: hi = x + y and the exact rounding error."""
    hi = x + y
    v = hi - x
    return hi, (x - (hi - v)) + (y - v)


# ---------------------------------------------------------------------------------------------
# float32 expm1, log1p and exp2 (Sleef_expm1f8_u10, Sleef_log1pf8_u10, Sleef_exp2f8_u10)
# ---------------------------------------------------------------------------------------------

_EXPM1_BIG = f32(88.72283172607421875)
_EXPM1_SMALL = f32(-16.635532333438687426013570)


def _negzero(v: float) -> bool:
    return v == 0.0 and math.copysign(1.0, v) < 0


def expm1f(a: Lanes) -> Lanes:
    """e**a - 1: ``Sleef_expm1f8_u10`` (xexpm1f): the double-float e**a of tanhf, minus 1."""
    d = df_add2_pf(_expk2f((a, [0.0] * len(a))), -1.0)
    x = add(d[0], d[1])
    return [INF if v > _EXPM1_BIG else -1.0 if v < _EXPM1_SMALL else -0.0 if _negzero(v) else r for v, r in zip(a, x)]


_LOG1P_POLY = _LOG_POLY
_BIG = f32(1e38)


def log1pf(d: Lanes) -> Lanes:
    """ln(1 + d): ``Sleef_log1pf8_u10`` (xlog1pf): m = (1 + d) 2**-e formed as fma(d, t, t - 1).
    Above 1e38 (where the older SLEEF read here returns inf) torch's gives ln d: so does this."""
    dp1 = add(d, 1.0)
    small = [v < _FLT_MIN for v in dp1]
    dp1 = select(small, mul(dp1, _TWO64), dp1)
    e = ilogb2k(mul(dp1, f32(1.0 / 0.75)))
    t = ldexp3([1.0] * len(d), [-v for v in e])
    m = fma(d, t, sub(t, 1.0))
    e = [v - 64 if s else v for v, s in zip(e, small)]
    s = df_mul_pf(_LN2_PAIR, [float(v) for v in e])
    x = df_div((m, [0.0] * len(m)), df_add_ff(2.0, m))
    x2 = mul(x[0], x[0])
    t = fma(_LOG1P_POLY[0], x2, _LOG1P_POLY[1])
    t = fma(t, x2, _LOG1P_POLY[2])
    s = df_add_pp(s, df_scale(x, 2.0))
    s = df_add_pf(s, mul(mul(x2, x[0]), t))
    r = add(s[0], s[1])
    r = select([v > _BIG for v in d], logf(d), r)  # where 1 + d is d: ln d (what torch's SLEEF gives there)
    return [
        -0.0 if _negzero(v) else -INF if v == -1.0 else ALL_ONES if -1.0 > v else INF if v == INF else w
        for v, w in zip(d, r)
    ]


_EXP2_POLY = [f32(c) for c in (0.1535920892e-3, 0.1339262701e-2, 0.9618384764e-2, 0.5550347269e-1,
                               0.2402264476e+0, 0.6931471825e+0)]  # fmt: skip


def exp2f(d: Lanes) -> Lanes:
    """2**d: ``Sleef_exp2f8_u10`` (xexp2f): d = q + s with q = rint(d), a polynomial in s, times 2**q."""
    u = [float(round(v)) if math.isfinite(v) else v for v in d]
    q = rint(u)
    s = sub(d, u)
    p: Operand = _EXP2_POLY[0]
    for c in _EXP2_POLY[1:]:
        p = fma(p, s, c)
    p = fma(p, s, 1.0)
    p = ldexp2(p, q)
    return [INF if v >= 128 else 0.0 if v < -150 else r for v, r in zip(d, p)]
