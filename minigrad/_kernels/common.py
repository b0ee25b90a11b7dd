"""What the kernel families share: IEEE-safe scalar math as the kernels compute it (Python floats,
rounded on store), ``math.fsum`` that does not raise."""

from __future__ import annotations

import math

from minigrad import _sleef

INF = math.inf
NAN = math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -INF if x == 0 else NAN


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), written so that neither branch overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _relu(x: float) -> float:
    return 0 if x < 0 else x  # NaN and -0.0 pass through, as in torch (max(0, x) keeps x on ties)


_div = _sleef.quotient  # IEEE division: x/0 is +-inf, 0/0 is nan (Python would raise)


def _pow(a: float, b: float) -> float:
    """a ** b with IEEE results where Python raises, and C integer semantics for int ** negative int."""
    if type(b) is int and b < 0 and type(a) is int:  # only 1 and -1 have integer reciprocals
        return 1 if a == 1 else (-1 if b % 2 else 1) if a == -1 else 0
    try:
        r = a**b
    except (ZeroDivisionError, OverflowError):  # 0 ** negative, or a result too large for a float
        odd = math.isfinite(b) and b % 2 == 1
        return -INF if odd and math.copysign(1.0, a) < 0 else INF
    return NAN if isinstance(r, complex) else r


def _fsum(values) -> float:
    """math.fsum, but inf - inf gives nan (and an overflowing sum inf) instead of raising."""
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        return sum(values)


def _maximum(a: float, b: float) -> float:
    if a != a or b != b:
        return NAN
    return a if a >= b else b


def _minimum(a: float, b: float) -> float:
    if a != a or b != b:
        return NAN
    return a if a <= b else b
