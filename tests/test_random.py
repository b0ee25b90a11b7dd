"""Tests for minigrad.random: torch 2.13.0's CPU random streams, bit for bit.

Expected values come from three independent places: the self-check table of the RNG spec
(copied below), plain-Python references written here (a textbook MT19937, exact rational
arithmetic with fractions.Fraction), and torch 2.13.0 itself (skipped if torch is absent).
Floats are compared bit for bit through struct, never approximately.
"""

import math
import random
import struct
from fractions import Fraction

import pytest

from minigrad import random as mrandom
from minigrad._float32 import fma32 as _fma32
from minigrad._float32 import fma64 as _fma64
from minigrad.random import Generator


def bits(values):
    """The exact bytes of a list of Python floats (so -0.0 != 0.0 and nan compares)."""
    return struct.pack(f"<{len(values)}d", *values)


def hex32(values):
    return " ".join(struct.pack(">f", v).hex() for v in values)


def g8(values):
    """Values as 8 significant digits, the precision of the spec's decimal columns."""
    return [f"{v:.8g}" for v in values]


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ----------------------------------------------------------------------------------------------
# The self-check table, section 10 of the project's RNG spec torch-rng.md ("torch and the reference
# agree bit for bit"), copied here. Each call comes right after manual_seed(seed).

SELF_CHECK = {
    0: {
        "words": [2357136044, 2546248239, 3071714933],
        "randn5": "3fc53f5c be963c50 c00b7149 3f1184b6 bf8ad1a1",
        "rand5": "3efe1558 3f44aa2f 3db533a8 3e073300 3e9d6686",
        "randn16": "bf901b85 bf93808a be804bd6 bede255d 3f594515",
        "randn17": ["-1.1258398", "-1.6959312", "0.56665063", "0.79350835", "0.59883946"],
        "randint": [4, 9, 3, 0, 3],
        "randperm": [4, 0, 1, 3, 2],
        "linear": ["-0.0043225177", "0.30971584", "-0.47518533", "-0.4248946", "-0.22236897", "0.15482073"],
    },
    1: {
        "words": [1791095845, 4282876139, 3093770124],
        "randn5": "3f294e60 3e88aa47 3d7ca14b 3f1f0ea7 bee76038",
        "rand5": "3f41f425 3e8f01d6 3ece5f18 3f3c1448 3cefdfe0",
        "randn16": "bfc346ba bf400f31 bf276b4b bfce0399 bdcd2473",
        "randn17": ["-1.5255959", "-1.1607615", "0.6995424", "0.19908163", "0.86569238"],
        "randint": [5, 9, 4, 8, 3],
        "randperm": [0, 4, 2, 3, 1],
        "linear": ["0.29748735", "-0.25482982", "-0.11192598", "0.27099028", "-0.54353881", "0.34624693"],
    },
}


def kaiming_uniform_bound(fan_in, a):
    """Spec section 7: gain = sqrt(2 / (1 + a**2)), std = gain / sqrt(fan_in), bound = sqrt(3) * std."""
    gain = math.sqrt(2.0 / (1 + a**2))
    return math.sqrt(3.0) * (gain / math.sqrt(fan_in))


@pytest.mark.parametrize("seed", [0, 1])
def test_self_check_table(seed):
    expected = SELF_CHECK[seed]
    g = Generator()
    assert list(g.manual_seed(seed)._engine.words(3)) == expected["words"]
    assert hex32(g.manual_seed(seed).normal(5)) == expected["randn5"]
    assert hex32(g.manual_seed(seed).uniform(5, 0.0, 1.0)) == expected["rand5"]
    assert hex32(g.manual_seed(seed).normal(16)[:5]) == expected["randn16"]
    assert g8(g.manual_seed(seed).normal(17)[:5]) == expected["randn17"]
    assert g.manual_seed(seed).randint(5, 0, 10) == expected["randint"]
    assert g.manual_seed(seed).randperm(5) == expected["randperm"]
    bound = kaiming_uniform_bound(fan_in=3, a=math.sqrt(5))
    assert g8(g.manual_seed(seed).uniform(6, -bound, bound)) == expected["linear"]


def test_block_path_is_the_avx2_kernel_not_the_scalar_one():
    # Spec section 10: randn(16)[3] for seed 0 is bede255d in the AVX2 build, bede255e in
    # the scalar build.
    assert hex32(Generator().manual_seed(0).normal(16)[3:4]) == "bede255d"


def words_used(g, seed):
    """How many engine words g has drawn since manual_seed(seed), found by replaying."""
    target = g.get_state()[:5016]  # seed, position and the 624 words; not the caches
    probe = Generator().manual_seed(seed)
    for count in range(2000):
        if probe.get_state()[:5016] == target:
            return count
        probe._engine.words(1)
    raise AssertionError("more than 2000 words")


def test_tutorial_sequence_word_counts_and_cached_normal():
    # Spec section 8 ("Sequence Models and LSTM" tutorial, seed 1): words per step, and the
    # cached double normal that the final randn(1) returns.
    g = Generator().manual_seed(1)
    k3, k6 = 1 / math.sqrt(3), 1 / math.sqrt(6)
    for numel in (36, 36, 12, 12):  # nn.LSTM(3, 3)
        g.uniform(numel, -k3, k3)
    assert words_used(g, 1) == 96
    used = 96
    for expected_words in (8, 4, 8, 4, 8):  # randn(1, 3) x 5
        g.normal(3)
        used += expected_words
        assert words_used(g, 1) == used
    for expected_words in (4, 8, 4, 8):  # randn(1, 1, 3) x 2, twice
        g.normal(3)
        used += expected_words
        assert words_used(g, 1) == used
    g.normal(54)  # nn.Embedding(9, 6): block path, 54 + 16 words
    used += 70
    assert g._next_double_normal is not None  # the block path leaves the cache alone
    for numel in (144, 144, 24, 24):  # nn.LSTM(6, 6)
        g.uniform(numel, -k6, k6)
    bound = kaiming_uniform_bound(fan_in=6, a=math.sqrt(5))
    g.uniform(18, -bound, bound)  # nn.Linear(6, 3)
    g.uniform(3, -k6, k6)
    used += 336 + 21
    assert words_used(g, 1) == used
    assert g.normal(1) == [0.5118972659111023]  # float32 randn(1): the cached double, rounded


# ----------------------------------------------------------------------------------------------
# Engine against a plain-Python MT19937 (init_genrand seeding, in-place twist, tempering).


def reference_mt19937(seed, count):
    state = [seed & 0xFFFFFFFF]
    for j in range(1, 624):
        state.append((1812433253 * (state[-1] ^ (state[-1] >> 30)) + j) & 0xFFFFFFFF)
    out, index = [], 624
    while len(out) < count:
        if index == 624:
            for k in range(624):
                y = (state[k] & 0x80000000) | (state[(k + 1) % 624] & 0x7FFFFFFF)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            index = 0
        y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        out.append(y)
    return out


@pytest.mark.parametrize("seed", [0, 1, 5489, 2**32 - 1, 2**32 + 7, -3])
def test_engine_matches_plain_python_twist(seed):
    g = Generator().manual_seed(seed)
    drawn = []
    for chunk in (1, 2, 620, 1, 3, 700, 0, 624, 1300):  # crosses several twists
        drawn += g._engine.words(chunk)
    assert drawn == reference_mt19937(seed % 2**64, len(drawn))


# ----------------------------------------------------------------------------------------------
# Single-rounding fused multiply-add against exact rational arithmetic.


def round_fraction_to_f32(q):
    """Nearest float32 to the rational q, ties to even (normal and subnormal range)."""
    if q == 0:
        return 0.0
    sign, q = (-1.0 if q < 0 else 1.0), abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if q < Fraction(2) ** e:
        e -= 1  # now 2**e <= q < 2**(e+1)
    shift = max(e, -126) - 23  # 24 significant bits; subnormals keep the exponent -126
    return sign * math.ldexp(round(q / Fraction(2) ** shift), shift)  # round(): half to even


def random_f32(rng, low_exp, high_exp):
    mantissa = rng.getrandbits(23)
    exponent = rng.randint(low_exp, high_exp) + 127
    word = (rng.getrandbits(1) << 31) | (exponent << 23) | mantissa
    return struct.unpack("<f", struct.pack("<I", word))[0]


def float32_tie_cases(rng, count):
    """Triples whose exact a*b + c lies a hair (far below a double's ulp) off a float32 tie,
    so rounding to double first lands exactly on the tie: c +- h*(1 - alpha**2) with h half
    an ulp of c, from a = h*(1 + alpha) and b = -+(1 - alpha)."""
    cases = []
    for _ in range(count):
        c = random_f32(rng, -20, 20)
        half_ulp = math.ldexp(1.0, math.frexp(c)[1] - 25)
        alpha = rng.randint(1, 300) * 2.0**-23
        sign = rng.choice((1.0, -1.0))
        cases.append((half_ulp * (1 + alpha), sign * (1 - alpha), c))
    return cases


def test_fma32_rounds_once_like_exact_arithmetic():
    rng = random.Random(2024)
    cases = [(random_f32(rng, -30, 30), random_f32(rng, -30, 30), random_f32(rng, -60, 60)) for _ in range(20000)]
    cases += [(random_f32(rng, -5, 5), random_f32(rng, -5, 5), random_f32(rng, -5, 5)) for _ in range(20000)]
    for _ in range(500):  # products and results below float32's normal range
        subnormal = rng.choice((1.0, -1.0)) * math.ldexp(rng.getrandbits(23), -149)
        cases.append((random_f32(rng, -70, -60), random_f32(rng, -70, -60), subnormal))
    for _ in range(500):  # ties between float32 subnormals (spaced 2**-149): c +- 2**-150 (1 - alpha**2)
        subnormal = rng.choice((1.0, -1.0)) * math.ldexp(rng.randrange(2**18, 2**23), -149)
        alpha = rng.randint(1, 60) * 2.0**-23
        cases.append((2.0**-75 * (1 + alpha), rng.choice((1.0, -1.0)) * 2.0**-75 * (1 - alpha), subnormal))
    cases += float32_tie_cases(rng, 2000)
    # The worked case: a*b + c = (1 + 2**-23) + 2**-24 - 2**-70; rounding to double gives
    # the tie 1 + 2**-23 + 2**-24, which rounds to even (1 + 2**-22), but the answer is 1 + 2**-23.
    cases.append((1 + 2.0**-23, 2.0**-24 * (1 - 2.0**-23), 1 + 2.0**-23))
    a, b, c = (list(column) for column in zip(*cases))
    expected = [round_fraction_to_f32(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in cases]
    assert bits(_fma32(a, b, c)) == bits(expected)
    assert _fma32([1 + 2.0**-23], 2.0**-24 * (1 - 2.0**-23), 1 + 2.0**-23) == [1 + 2.0**-23]
    naive = [f32(x * y + z) for x, y, z in cases]
    assert naive != expected  # the tie cases really need the exact treatment


def test_fma64_rounds_once_like_exact_arithmetic():
    rng = random.Random(7)

    def rand_double(low_exp, high_exp):
        return rng.choice((1.0, -1.0)) * math.ldexp(1.0 + rng.random(), rng.randint(low_exp, high_exp))

    cases = [(rand_double(-40, 40), rand_double(-40, 40), rand_double(-80, 80)) for _ in range(20000)]
    cases += [(x, y, -(x * y)) for x, y, _ in cases[:2000]]  # the exact product error
    for _ in range(2000):  # exact value a hair off a double tie: c +- h (1 - alpha**2)
        c = rand_double(-10, 10)
        half_ulp = math.ldexp(1.0, math.frexp(c)[1] - 54)
        alpha = rng.randint(1, 2**20) * 2.0**-52
        cases.append((half_ulp * (1 + alpha), rng.choice((1.0, -1.0)) * (1 - alpha), c))
    cases.append((1 + 2.0**-30, 2.0**-53 * (1 - 2.0**-30), 1 + 2.0**-52))  # naive: 1 + 2**-51
    cases += [(1e300, 1e300, -math.inf), (0.0, -1.0, 0.0), (-0.0, 1.0, -0.0), (math.inf, 0.0, 1.0)]
    cases += [(1e-200, 1e-200, 1e-310), (1e200, 1e200, -1e300)]
    expected = []
    for x, y, z in cases:
        if all(math.isfinite(v) for v in (x, y, z)) and x != 0 and y != 0:
            exact = Fraction(x) * Fraction(y) + Fraction(z)
            expected.append(math.inf if exact > 2**1024 else -math.inf if exact < -(2**1024) else float(exact))
        else:
            expected.append(x * y + z)  # zero or non-finite product: IEEE gives the same
    assert bits([_fma64(x, y, z) for x, y, z in cases]) == bits(expected)
    assert _fma64(1 + 2.0**-30, 2.0**-53 * (1 - 2.0**-30), 1 + 2.0**-52) == 1 + 2.0**-52


# ----------------------------------------------------------------------------------------------
# Behaviour that needs no torch.


def test_uniform_clamps_to_from():
    # Spec section 3: for uniform_(1, nextafter(1)) every value comes out as `from`.
    g = Generator().manual_seed(0)
    assert g.uniform(200, 1.0, 1.0 + 2.0**-23) == [1.0] * 200
    assert g.uniform(200, 1.0, math.nextafter(1.0, 2.0), double=True) == [1.0] * 200


def test_serial_normal_caches_second_value_across_calls():
    g = Generator().manual_seed(3)
    three_then_one = g.normal(3, double=True) + g.normal(1, double=True)
    assert three_then_one == Generator().manual_seed(3).normal(4, double=True, contiguous=False)
    g.manual_seed(3)
    g.normal(1)
    g.manual_seed(3)  # clears the cache: the same first value again
    assert g.normal(1) == Generator().manual_seed(3).normal(1)


def test_state_round_trip_keeps_position_and_cache():
    g = Generator().manual_seed(11)
    g.normal(5)  # odd count: leaves a cached normal
    state = g.get_state()
    first = (g.normal(3), g.uniform(700, -2, 3), g.randint(4, 0, 2**40), g.normal(40, double=True))
    g.manual_seed(0)
    g.set_state(state)
    again = (g.normal(3), g.uniform(700, -2, 3), g.randint(4, 0, 2**40), g.normal(40, double=True))
    assert again == first
    assert g.initial_seed() == 11


def test_set_state_rejects_bad_input():
    g = Generator()
    state = g.get_state()
    with pytest.raises(TypeError, match="bytes"):
        g.set_state("not a state")
    with pytest.raises(ValueError, match="of size 5056 but found the input RNG state size to be 3"):
        g.set_state(b"abc")
    bad_position = bytearray(state)
    bad_position[8:12] = struct.pack("<i", 700)  # left > 624
    with pytest.raises(ValueError, match="Invalid mt19937 state"):
        g.set_state(bytes(bad_position))
    unseeded = bytearray(state)
    unseeded[12:16] = struct.pack("<i", 0)
    with pytest.raises(ValueError, match="never seeded"):
        g.set_state(bytes(unseeded))
    assert g.get_state() == state  # a rejected state leaves the generator as it was


def test_seeds():
    g = Generator()
    assert g.initial_seed() == 67280421310721
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1
    assert g.manual_seed(2**64 - 1).normal(20) == Generator().manual_seed(-1).normal(20)
    with pytest.raises(ValueError, match="Overflow"):
        g.manual_seed(2**64)
    with pytest.raises(ValueError, match="Overflow"):
        g.manual_seed(-(2**63) - 1)
    with pytest.raises(TypeError, match="manual_seed expected a long, but got float"):
        g.manual_seed(1.5)
    new_seed = g.seed()
    assert 0 <= new_seed < 2**64 and g.initial_seed() == new_seed
    assert g.uniform(10, 0, 1) == Generator().manual_seed(new_seed).uniform(10, 0, 1)
    assert g.seed() != new_seed  # 64 random bits: equal with probability 2**-64


def test_module_level_functions_use_the_default_generator():
    assert mrandom.manual_seed(5) is mrandom.default_generator
    assert mrandom.initial_seed() == 5
    state = mrandom.get_rng_state()
    drawn = mrandom.default_generator.normal(7)
    mrandom.set_rng_state(state)
    assert mrandom.default_generator.normal(7) == drawn == Generator().manual_seed(5).normal(7)
    assert mrandom.seed() == mrandom.initial_seed()


def test_randperm_is_a_permutation_and_large_n_is_refused():
    assert sorted(Generator().manual_seed(2).randperm(1000)) == list(range(1000))
    with pytest.raises(NotImplementedError, match="214748364"):
        Generator().randperm(214748364)


def test_non_cpu_device_is_refused():
    with pytest.raises(ValueError, match="CPU"):
        Generator("cuda")


# ----------------------------------------------------------------------------------------------
# Differential tests against torch 2.13.0.

SEEDS = [0, 1, 7, 42, 2**31 + 5, 2**40 + 3, -5]
NORMAL_SIZES = [0, 1, 2, 3, 5, 15, 16, 17, 20, 31, 32, 33, 47, 48, 64, 100, 257, 1000, 1001]


def pair(torch, seed):
    return torch.Generator().manual_seed(seed), Generator().manual_seed(seed)


def torch_dtype(torch, double):
    return torch.float64 if double else torch.float32


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("double", [False, True])
def test_randn_and_normal_match_torch(torch, seed, double):
    dtype = torch_dtype(torch, double)
    for n in NORMAL_SIZES:
        tg, g = pair(torch, seed)
        assert bits(torch.randn(n, dtype=dtype, generator=tg).tolist()) == bits(g.normal(n, double=double)), n
        tg, g = pair(torch, seed)
        expected = torch.empty(n, dtype=dtype).normal_(0.3, 2.7, generator=tg).tolist()
        assert bits(expected) == bits(g.normal(n, 0.3, 2.7, double=double)), n


@pytest.mark.parametrize("double", [False, True])
def test_long_randn_and_odd_parameters_match_torch(torch, double):
    dtype = torch_dtype(torch, double)
    tg, g = pair(torch, 123)
    assert bits(torch.randn(20000, dtype=dtype, generator=tg).tolist()) == bits(g.normal(20000, double=double))
    for mean, std in [(-1e-3, 1e-30), (5.0, 0.0), (1e10, 3.5), (0.1, 1e-41)]:
        for n in (7, 40):
            expected = torch.empty(n, dtype=dtype).normal_(mean, std, generator=tg).tolist()
            assert bits(expected) == bits(g.normal(n, mean, std, double=double)), (mean, std, n)


@pytest.mark.parametrize("double", [False, True])
def test_non_contiguous_normal_takes_the_serial_path(torch, double):
    dtype = torch_dtype(torch, double)
    for rows, cols in [(4, 5), (8, 8), (30, 7)]:
        tg, g = pair(torch, rows * cols)
        base = torch.empty(rows, cols, dtype=dtype)
        base.t().normal_(generator=tg)  # fills the storage in memory order
        assert bits(base.flatten().tolist()) == bits(g.normal(rows * cols, double=double, contiguous=False))
        expected = base.t().normal_(2.0, 0.5, generator=tg)
        ours = g.normal(rows * cols, 2.0, 0.5, double=double, contiguous=False)
        assert bits(base.flatten().tolist()) == bits(ours) and expected.shape == (cols, rows)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("double", [False, True])
def test_rand_and_uniform_match_torch(torch, seed, double):
    dtype = torch_dtype(torch, double)
    bound = kaiming_uniform_bound(fan_in=64, a=math.sqrt(5))
    for n in [0, 1, 5, 16, 17, 300]:
        tg, g = pair(torch, seed)
        assert bits(torch.rand(n, dtype=dtype, generator=tg).tolist()) == bits(g.uniform(n, 0, 1, double=double))
        for low, high in [(-bound, bound), (-0.3, 0.7), (2.0, 1e6), (-1e-20, 0.0), (1.0, 1.0)]:
            expected = torch.empty(n, dtype=dtype).uniform_(low, high, generator=tg).tolist()
            assert bits(expected) == bits(g.uniform(n, low, high, double=double)), (n, low, high)
    tg, g = pair(torch, seed)  # [0, 1) takes a shortcut (the draws themselves): many of them
    expected = torch.rand(100_000, dtype=dtype, generator=tg).tolist()
    assert bits(expected) == bits(g.uniform(100_000, 0, 1, double=double))


@pytest.mark.parametrize("seed", SEEDS)
def test_randint_and_randperm_match_torch(torch, seed):
    ranges = [(0, 10), (-5, 5), (3, 4), (0, 2**28 - 1), (0, 2**28), (-(2**40), 2**40), (-(2**63), 2**63 - 1)]
    for low, high in ranges:
        tg, g = pair(torch, seed)
        assert torch.randint(low, high, (50,), generator=tg).tolist() == g.randint(50, low, high), (low, high)
    for n in [0, 1, 2, 5, 10, 100, 1000]:
        tg, g = pair(torch, seed)
        assert torch.randperm(n, generator=tg).tolist() == g.randperm(n), n


def test_interleaved_draws_share_one_stream_and_one_cache(torch):
    tg, g = pair(torch, 99)
    steps = [
        (lambda: torch.randn(1, 3, generator=tg), lambda: g.normal(3)),  # sets the cache
        (lambda: torch.randn(1, 3, generator=tg), lambda: g.normal(3)),  # uses it first
        (lambda: torch.randn(1, generator=tg), lambda: g.normal(1)),  # sets it again
        (lambda: torch.randn(4, 8, generator=tg), lambda: g.normal(32)),  # block path: cache kept
        (lambda: torch.rand(7, generator=tg), lambda: g.uniform(7, 0, 1)),
        (lambda: torch.randint(0, 10, (3,), generator=tg), lambda: g.randint(3, 0, 10)),
        (lambda: torch.randperm(6, generator=tg), lambda: g.randperm(6)),
        (lambda: torch.randn(2, dtype=torch.float64, generator=tg), lambda: g.normal(2, double=True)),
        (lambda: torch.empty(3).normal_(1.0, 2.0, generator=tg), lambda: g.normal(3, 1.0, 2.0)),
    ]
    for torch_step, our_step in steps:
        expected = torch_step().flatten().tolist()
        assert bits(expected) == bits(our_step()) if isinstance(expected[0], float) else expected == our_step()
        assert bytes(tg.get_state()) == g.get_state()


def test_tutorial_sequence_matches_torch(torch):
    # Spec section 8: the modules' draws in the tutorial's order, then the next randn(1).
    torch.manual_seed(1)
    g = Generator().manual_seed(1)
    torch.nn.LSTM(3, 3)
    k3, k6 = 1 / math.sqrt(3), 1 / math.sqrt(6)
    for numel in (36, 36, 12, 12):
        g.uniform(numel, -k3, k3)
    for _ in range(5):
        assert bits(torch.randn(1, 3).flatten().tolist()) == bits(g.normal(3))
    for _ in range(4):
        assert bits(torch.randn(1, 1, 3).flatten().tolist()) == bits(g.normal(3))
    embedding = torch.nn.Embedding(9, 6)
    assert bits(embedding.weight.detach().flatten().tolist()) == bits(g.normal(54))
    lstm = torch.nn.LSTM(6, 6)
    ours = [g.uniform(numel, -k6, k6) for numel in (144, 144, 24, 24)]
    theirs = [p.detach().flatten().tolist() for p in lstm.parameters()]
    assert [bits(values) for values in theirs] == [bits(values) for values in ours]
    linear = torch.nn.Linear(6, 3)
    bound = kaiming_uniform_bound(fan_in=6, a=math.sqrt(5))
    assert bits(linear.weight.detach().flatten().tolist()) == bits(g.uniform(18, -bound, bound))
    assert bits(linear.bias.detach().tolist()) == bits(g.uniform(3, -k6, k6))
    assert bits(torch.randn(1).tolist()) == bits(g.normal(1)) == bits([0.5118972659111023])


def test_state_bytes_match_torch(torch):
    tg, g = pair(torch, 2**33 + 17)
    assert bytes(tg.get_state()) == g.get_state()  # freshly seeded: left=1, next=0
    torch.randint(0, 10, (624,), generator=tg)
    g.randint(624, 0, 10)
    assert bytes(tg.get_state()) == g.get_state()  # block used up: left=1, next=624
    torch.randn(3, generator=tg)
    g.normal(3)
    assert bytes(tg.get_state()) == g.get_state()  # mid-block, with a cached normal
    # torch's state loads here and continues torch's stream, cache included.
    torch.randn(1, generator=tg)
    g2 = Generator()
    g2.set_state(bytes(tg.get_state()))
    assert bits(torch.randn(9, generator=tg).tolist()) == bits(g2.normal(9))
    assert bits(torch.rand(40, generator=tg).tolist()) == bits(g2.uniform(40, 0, 1))


def test_default_generator_and_negative_seeds_match_torch(torch):
    tg, g = torch.Generator(), Generator()
    assert tg.initial_seed() == g.initial_seed()
    assert bits(torch.randn(20, generator=tg).tolist()) == bits(g.normal(20))
    for seed in (-1, -(2**63), 2**64 - 1, 2**63):
        tg, g = pair(torch, seed)
        assert tg.initial_seed() == g.initial_seed()
        assert bits(torch.randn(5, generator=tg).tolist()) == bits(g.normal(5))
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        torch.Generator().manual_seed(2**64)


def error_of(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def test_bad_arguments_raise_like_torch(torch):
    g = Generator()
    f64 = torch.float64
    pairs = [
        (lambda: torch.randint(5, 5, (3,)), lambda: g.randint(3, 5, 5)),
        (lambda: torch.randint(2**62, -(2**62), (3,)), lambda: g.randint(3, 2**62, -(2**62))),
        (lambda: torch.randn(-1), lambda: g.normal(-1)),
        (lambda: torch.rand(-2), lambda: g.uniform(-2, 0, 1)),
        (lambda: torch.randint(0, 3, (-1,)), lambda: g.randint(-1, 0, 3)),
        (lambda: torch.randperm(-1), lambda: g.randperm(-1)),
        (lambda: torch.empty(3).normal_(0, -1), lambda: g.normal(3, 0, -1)),
        (lambda: torch.empty(3).normal_(0, -1e-20), lambda: g.normal(3, 0, -1e-20)),
        (lambda: torch.empty(3).normal_(0, math.nan), lambda: g.normal(3, 0, math.nan)),
        (lambda: torch.empty(3).uniform_(2, 1), lambda: g.uniform(3, 2, 1)),
        (lambda: torch.empty(3).uniform_(2.5, 1e-7), lambda: g.uniform(3, 2.5, 1e-7)),
        (lambda: torch.empty(3).uniform_(math.nan, 1), lambda: g.uniform(3, math.nan, 1)),
        (lambda: torch.empty(3).uniform_(0, 1e39), lambda: g.uniform(3, 0, 1e39)),
        (lambda: torch.empty(3).uniform_(-3e38, 3e38), lambda: g.uniform(3, -3e38, 3e38)),
        (lambda: torch.empty(3, dtype=f64).uniform_(0, math.inf), lambda: g.uniform(3, 0, math.inf, double=True)),
        (lambda: torch.empty(3, dtype=f64).uniform_(-1e308, 1e308), lambda: g.uniform(3, -1e308, 1e308, True)),
    ]
    for torch_call, our_call in pairs:
        assert error_of(our_call) == error_of(torch_call)
    assert g.get_state() == Generator().get_state()  # failed calls drew nothing
