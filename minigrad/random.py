"""PyTorch's CPU random number generator, reproduced bit for bit.

After ``manual_seed(s)`` the draws here equal those of torch 2.13.0 (CPU wheel, x86-64,
AVX2 kernels) for ``rand``/``uniform_``, ``randn``/``normal_``, ``randint``, ``randperm``,
``bernoulli_`` (and so dropout masks), ``exponential_``, ``random_`` and ``multinomial``, in
float32 and float64. The tensor layer wraps the flat lists or buffers returned here into
tensors; this module knows nothing about tensors.

Sections, in the order of the spec (``torch-rng.md``):

1. engine         - MT19937: the state array that the kernels draw from and advance
3. uniform        - torch's argument checks (the draws: ``K.uniform_fill``)
4, 5. normal      - the serial path (4a) and the 16-element block path (4b, 4d) are kernels:
                    ``K.normal_serial_fill``, ``K.normal_fill``
6. integers       - ``randint`` and ``randperm``
6b. more          - ``bernoulli_`` (``K.bernoulli_fill`` for a number p), ``exponential_``,
                    ``cauchy_``, ``geometric_``, ``log_normal_`` (in ``Generator``), ``random_``,
                    ``multinomial`` with replacement
7. Generator      - the state that ties it together, and the module-level default generator

The draws that make tensors (uniform, normal, bernoulli) are kernels of the ``sampling`` family
(``minigrad/_kernels/sampling.py``, the pure reference, and its C twin in the Cython core), so
that ``normal_`` on a large tensor is fast with the Cython core and the same bits either way.
"""

from __future__ import annotations

import bisect
import math
import os
import struct
import sys
from array import array

from minigrad._backend import kernels as K
from minigrad._float32 import f32 as _f32
from minigrad._float32 import round_f32 as _round_f32
from minigrad._kernels.sampling import _U32, _uniform24, _uniform53

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
_FRESH = _MT_N + 1  # the read position right after seeding (see MT19937)


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

    ``state`` is what the kernels draw from and advance in place (``K.mt19937_words``,
    ``K.uniform_fill``, ...): an ``array('I')`` of the 624 words and the read position, 0..623
    for the next word to temper and 624 for "block used up, twist before the next word".

    torch reports the read position as ``(left, next)``: ``left`` counts down to the next
    twist and ``next`` indexes the next word; freshly seeded it is ``(1, 0)``, otherwise
    ``left + next == 625``. The position 625 stands for ``(1, 0)``: used up as 624 is, but
    not yet drawn from.
    """

    def __init__(self, seed: int) -> None:
        self.state = array(_U32, bytes(4 * (_MT_N + 1)))
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Seed with the low 32 bits of ``seed``; the first draw twists first."""
        self.state[:] = array(_U32, _init_genrand(seed & 0xFFFFFFFF) + [_FRESH])

    def words(self, n: int) -> array:
        """The next ``n`` tempered 32-bit output words, in order."""
        out = array(_U32, bytes(4 * max(n, 0)))
        K.mt19937_words(self.state, out)
        return out

    def get_words_and_position(self) -> tuple[tuple[int, ...], int, int]:
        """``(state words, left, next)`` in torch's convention."""
        index = self.state[_MT_N]
        if index >= _MT_N:
            left, nxt = 1, (0 if index == _FRESH else _MT_N)
        else:
            left, nxt = _MT_N + 1 - index, index
        return tuple(self.state[:_MT_N]), left, nxt

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
        self.state[:] = array(_U32, list(words) + [_FRESH if nxt == 0 else _MT_N if left == 1 else nxt])


# =================================================================== 3. uniform
#
# The draws are kernels (K.uniform_fill, K.normal_fill, K.normal_serial_fill: sections 3, 4a, 4b,
# 4d); here are torch's argument checks.

_FLT_MAX = 3.4028234663852886e38
_DBL_MAX = sys.float_info.max


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
    floats already rounded to float32. The ``fill_*`` methods instead fill a buffer the caller
    allocated (its typecode says float32 or float64), which is what tensors are made of.
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
        out = array("d" if double else "f", bytes((8 if double else 4) * _check_count(n)))
        return self.fill_uniform(out, low, high).tolist()

    def fill_uniform(self, out: array, low: float, high: float) -> array:
        """Fill the buffer ``out`` ('f' float32 or 'd' float64) with ``uniform_(low, high)`` draws."""
        low, high = float(low), float(high)
        _check_uniform_bounds(low, high, out.typecode == "d")
        K.uniform_fill(self._engine.state, low, high, out)
        return out

    def normal(
        self, n: int, mean: float = 0.0, std: float = 1.0, double: bool = False, contiguous: bool = True
    ) -> list[float]:
        """``n`` values of ``Tensor.normal_(mean, std)``, float32 unless ``double``.

        Values come in the order torch fills them: row-major for a contiguous tensor, but
        memory order for a non-contiguous one (e.g. ``empty(4, 5).t().normal_()`` fills
        the underlying 4x5 storage row by row).
        """
        out = array("d" if double else "f", bytes((8 if double else 4) * _check_count(n)))
        return self.fill_normal(out, mean, std, contiguous).tolist()

    def fill_normal(self, out: array, mean: float = 0.0, std: float = 1.0, contiguous: bool = True) -> array:
        """Fill the buffer ``out`` ('f' or 'd') with ``normal_(mean, std)`` draws.

        Contiguous tensors of 16 or more elements take the block path; smaller or
        non-contiguous ones the serial path, which uses and updates the cached normal.
        """
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if len(out) >= 16 and contiguous:
            K.normal_fill(self._engine.state, mean, std, out)
        else:
            state, cached = self._engine.state, self._next_double_normal
            self._next_double_normal = K.normal_serial_fill(state, mean, std, cached, out)
        return out

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
        return [bool(v) for v in self.fill_bernoulli(array("B", bytes(_check_count(n))), p)]

    def fill_bernoulli(self, out: array, p: float) -> array:
        """Fill the buffer ``out`` (any dtype's typecode) with ``bernoulli_(p)`` draws, 0 or 1."""
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        K.bernoulli_fill(self._engine.state, p, out)
        return out

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
        normals = array("d", bytes(8 * n))
        self._next_double_normal = K.normal_serial_fill(
            self._engine.state, mean, std, self._next_double_normal, normals
        )
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
