"""Random sampling ops against torch 2.13.0: bernoulli, dropout, exponential_, random_,
normal (tensor overloads), multinomial, randint_like.

Every draw is compared bit for bit (floats through ``tolist``, which is exact for float32 and
float64) after the same ``manual_seed``, and so is the generator's whole state afterwards
(``get_rng_state`` has torch's byte layout), so an op that drew one word too many or too few
fails even when its values happen to agree.
"""

from __future__ import annotations

import warnings

import pytest

import minigrad as mg
import minigrad.nn as mnn
import minigrad.nn.functional as MF

torch = pytest.importorskip("torch")

SEEDS = (0, 1, 7, 12345)
SIZES = (1, 5, 15, 16, 17, 1000)  # across the 16-element block size of torch's normal kernel
FLOATS = (("float32", torch.float32, mg.float32), ("float64", torch.float64, mg.float64))
ALL_DTYPES = FLOATS + (("int64", torch.int64, mg.int64), ("bool", torch.bool, mg.bool))


def _torch_bernoulli_is_mt19937() -> bool:
    """On Intel CPUs torch's scalar ``bernoulli_`` runs MKL (one draw seeds another stream), which
    minigrad does not reproduce; everywhere else it draws one double per element (2 words)."""
    g = torch.Generator().manual_seed(0)
    torch.empty(10).bernoulli_(0.5, generator=g)
    reference = torch.Generator().manual_seed(0)
    torch.randint(0, 2**20, (20,), generator=reference)
    return torch.equal(g.get_state(), reference.get_state())


needs_mt_bernoulli = pytest.mark.skipif(
    not _torch_bernoulli_is_mt19937(), reason="torch's bernoulli_ uses MKL's stream on this (Intel) CPU"
)


def seed_both(seed: int) -> None:
    torch.manual_seed(seed)
    mg.manual_seed(seed)


def assert_same_values(m_out, t_out) -> None:
    assert tuple(m_out.shape) == tuple(t_out.shape)
    assert m_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    assert m_out.tolist() == t_out.tolist()


def assert_same_state() -> None:
    """The default generators are in the same state (words, read position, cached normal)."""
    assert mg.get_rng_state() == bytes(torch.get_rng_state().numpy())
    assert mg.rand(3).tolist() == torch.rand(3).tolist()


# -- bernoulli -----------------------------------------------------------------------------------


@needs_mt_bernoulli
@pytest.mark.parametrize("name, t_dt, m_dt", ALL_DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_bernoulli_scalar_p(name, t_dt, m_dt, n):
    for seed in SEEDS:
        for p in (0.0, 0.3, 0.5, 1.0):
            seed_both(seed)
            assert_same_values(mg.empty(n, dtype=m_dt).bernoulli_(p), torch.empty(n, dtype=t_dt).bernoulli_(p))
            assert_same_state()


@needs_mt_bernoulli
def test_bernoulli_decided_by_the_low_word():
    """p equal to a draw u (u < p is False) or one 2**-53 above it (True): the comparison reaches
    the draw's low 32 bits, a case random p almost never hits."""
    for seed in SEEDS:
        words = mg.Generator().manual_seed(seed)._engine.words(2)
        m = (words[0] & 0x1FFFFF) * 2**32 + words[1]
        for p in (m * 2.0**-53, (m + 1) * 2.0**-53, (m - 1) * 2.0**-53):
            seed_both(seed)
            t_out, m_out = torch.empty(3).bernoulli_(p), mg.empty(3).bernoulli_(p)
            assert_same_values(m_out, t_out)
        assert [mg.Generator().manual_seed(seed).bernoulli(1, p)[0] for p in (m * 2.0**-53, (m + 1) * 2.0**-53)] == [
            False,
            True,
        ]


@needs_mt_bernoulli
def test_bernoulli_default_p_shapes_and_generator():
    seed_both(3)
    assert_same_values(mg.empty(3, 4).bernoulli_(), torch.empty(3, 4).bernoulli_())
    t_gen, m_gen = torch.Generator().manual_seed(9), mg.Generator().manual_seed(9)
    assert_same_values(
        mg.empty(2, 3, 5).bernoulli_(0.7, generator=m_gen), torch.empty(2, 3, 5).bernoulli_(0.7, generator=t_gen)
    )
    assert m_gen.get_state() == bytes(t_gen.get_state().numpy())
    assert_same_state()  # the default generators were not used by the generator= calls


@pytest.mark.parametrize("p_name, p_t, p_m", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_bernoulli_tensor_p(p_name, p_t, p_m, n):
    """A float32 probability tensor draws float32 uniforms (one word), a float64 one doubles."""
    for seed in SEEDS:
        seed_both(seed)
        probs_t, probs_m = torch.rand(n, dtype=p_t), mg.rand(n, dtype=p_m)
        assert_same_values(mg.bernoulli(probs_m), torch.bernoulli(probs_t))
        assert_same_values(probs_m.bernoulli(), probs_t.bernoulli())
        assert_same_values(
            mg.empty(n, dtype=mg.int64).bernoulli_(probs_m), torch.empty(n, dtype=torch.int64).bernoulli_(probs_t)
        )
        assert_same_state()


def test_bernoulli_tensor_p_broadcasts_and_out_dtype():
    seed_both(5)
    probs_t, probs_m = torch.rand(3), mg.rand(3)
    assert_same_values(mg.empty(4, 3).bernoulli_(probs_m), torch.empty(4, 3).bernoulli_(probs_t))
    assert_same_values(
        mg.empty(4, 3, dtype=mg.bool).bernoulli_(probs_m), torch.empty(4, 3, dtype=torch.bool).bernoulli_(probs_t)
    )
    assert_same_state()


@needs_mt_bernoulli
def test_bernoulli_with_p_number_on_tensor():
    seed_both(2)
    x_t, x_m = torch.rand(6, 3), mg.rand(6, 3)
    assert_same_values(mg.bernoulli(x_m, 0.25), torch.bernoulli(x_t, 0.25))
    assert_same_values(x_m.bernoulli(0.75), x_t.bernoulli(0.75))
    assert_same_state()


def test_bernoulli_non_contiguous_fills_in_memory_order():
    """torch's kernel walks a transposed tensor by address, not row by row."""
    seed_both(4)
    t_base, m_base = torch.zeros(5, 7), mg.zeros(5, 7)
    probs_t, probs_m = torch.rand(7, 5), mg.rand(7, 5)
    t_base.t().bernoulli_(probs_t)
    m_base.t().bernoulli_(probs_m)
    assert_same_values(m_base, t_base)
    t_base, m_base = torch.zeros(6, 4, dtype=torch.float64), mg.zeros(6, 4, dtype=mg.float64)
    t_base.t().exponential_()
    m_base.t().exponential_()
    assert_same_values(m_base, t_base)
    assert_same_state()


def test_bernoulli_gradient_is_zero_as_torch():
    seed_both(0)
    x_t = torch.rand(4, requires_grad=True)
    x_m = mg.rand(4, requires_grad=True)
    y_t, y_m = torch.bernoulli(x_t), mg.bernoulli(x_m)
    assert y_m.requires_grad and y_t.requires_grad
    (y_t * 3).sum().backward()
    (y_m * 3).sum().backward()
    assert x_m.grad.tolist() == x_t.grad.tolist() == [0.0] * 4


def test_bernoulli_errors():
    for call in (lambda lib: lib.empty(3).bernoulli_(1.5), lambda lib: lib.empty(3).bernoulli_(-0.1)):
        with pytest.raises(RuntimeError) as t_err:
            call(torch)
        with pytest.raises(RuntimeError) as m_err:
            call(mg)
        assert str(m_err.value) == str(t_err.value)
    with pytest.raises(RuntimeError, match=r"Expected p_in >= 0 && p_in <= 1"):
        torch.empty(3).bernoulli_(torch.tensor([0.5, 1.5, 0.2]))
    with pytest.raises(RuntimeError, match=r"Expected p_in >= 0 && p_in <= 1"):
        mg.empty(3).bernoulli_(mg.tensor([0.5, 1.5, 0.2]))
    for lib in (torch, mg):
        with pytest.raises(NotImplementedError, match="\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'"):
            lib.bernoulli(lib.tensor([1, 0, 1]))
    x = mg.rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.bernoulli_(0.5)


# -- dropout -------------------------------------------------------------------------------------


@needs_mt_bernoulli
@pytest.mark.parametrize("name, t_dt, m_dt", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_dropout_matches_torch_bit_for_bit(name, t_dt, m_dt, n):
    """Mask and scaling: each kept element is x * f(1 / f(1 - p)), as torch's noise.div_(1 - p)."""
    for seed in SEEDS:
        for p in (0.1, 0.025, 0.04, 0.053, 0.5, 0.9):  # 0.025, 0.04, 0.053: f(1/f(1-p)) != f(1/(1-p))
            seed_both(seed)
            x_t, x_m = torch.randn(n, dtype=t_dt), mg.randn(n, dtype=m_dt)
            assert_same_values(MF.dropout(x_m, p), torch.nn.functional.dropout(x_t, p))
            assert_same_state()


@needs_mt_bernoulli
def test_dropout_module_inplace_eval_and_gradient():
    seed_both(11)
    x_t = torch.randn(3, 17, requires_grad=True)
    x_m = mg.randn(3, 17, requires_grad=True)
    drop_t, drop_m = torch.nn.Dropout(0.4), mnn.Dropout(0.4)
    y_t, y_m = drop_t(x_t * 2), drop_m(x_m * 2)
    assert_same_values(y_m, y_t)
    weights = torch.randn(3, 17)
    w_m = mg.tensor(weights.tolist())
    mg.randn(3, 17)  # keep the streams together (the weights were drawn by torch only)
    (y_t * weights).sum().backward()
    (y_m * w_m).sum().backward()
    assert x_m.grad.tolist() == x_t.grad.tolist()
    # in place
    z_t, z_m = torch.randn(40), mg.randn(40)
    out_t = torch.nn.functional.dropout(z_t, 0.5, inplace=True)
    out_m = MF.dropout(z_m, 0.5, inplace=True)
    assert out_m is z_m and out_t is z_t
    assert_same_values(z_m, z_t)
    # eval mode and training=False: the input itself, no draws
    drop_m.eval()
    drop_t.eval()
    assert drop_m(z_m) is z_m and drop_t(z_t) is z_t
    assert MF.dropout(z_m, 0.5, training=False) is z_m
    # p = 1 zeroes everything without drawing; p = 0 returns the input
    assert_same_values(MF.dropout(z_m, 1.0), torch.nn.functional.dropout(z_t, 1.0))
    assert MF.dropout(z_m, 0.0) is z_m
    assert_same_state()


def test_dropout_errors():
    for lib in (torch, mg):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            lib.nn.functional.dropout(lib.ones(3), 1.5)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.5"):
            lib.nn.Dropout(-0.5)


# -- exponential_ ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, t_dt, m_dt", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_exponential(name, t_dt, m_dt, n):
    for seed in SEEDS:
        for lambd in (1.0, 0.3, 2.5, 1e-3):
            seed_both(seed)
            assert_same_values(
                mg.empty(n, dtype=m_dt).exponential_(lambd), torch.empty(n, dtype=t_dt).exponential_(lambd)
            )
            assert_same_state()


def test_exponential_errors_and_generator():
    for lib in (torch, mg):
        with pytest.raises(RuntimeError, match=r"exponential_ expects lambda > 0.0, but found lambda=-1"):
            lib.empty(3).exponential_(-1)
        with pytest.raises(RuntimeError, match="dtype must be a floating point but you specified Long"):
            lib.empty(3, dtype=lib.int64).exponential_()
    t_gen, m_gen = torch.Generator().manual_seed(1), mg.Generator().manual_seed(1)
    assert_same_values(mg.empty(20).exponential_(generator=m_gen), torch.empty(20).exponential_(generator=t_gen))


@pytest.mark.parametrize("name, t_dt, m_dt", FLOATS)
@pytest.mark.parametrize("n", (1, 15, 16, 17, 300))
def test_cauchy_geometric_log_normal(name, t_dt, m_dt, n):
    """log_normal_ takes the serial normal path at every size, with the cached second normal:
    odd sizes leave a value cached, which the next randn(1) must return in both libraries."""
    for seed in SEEDS[:3]:
        seed_both(seed)
        assert_same_values(mg.empty(n, dtype=m_dt).cauchy_(0.5, 2.0), torch.empty(n, dtype=t_dt).cauchy_(0.5, 2.0))
        assert_same_values(mg.empty(n, dtype=m_dt).geometric_(0.3), torch.empty(n, dtype=t_dt).geometric_(0.3))
        assert_same_values(
            mg.empty(n, dtype=mg.int64).geometric_(0.05), torch.empty(n, dtype=torch.int64).geometric_(0.05)
        )
        assert_same_values(mg.empty(n, dtype=m_dt).log_normal_(), torch.empty(n, dtype=t_dt).log_normal_())
        assert_same_values(
            mg.empty(n, dtype=m_dt).log_normal_(-1.0, 0.25), torch.empty(n, dtype=t_dt).log_normal_(-1.0, 0.25)
        )
        assert_same_values(mg.randn(1), torch.randn(1))
        assert_same_state()


def test_cauchy_geometric_log_normal_errors():
    cases = [
        (lambda lib: lib.empty(2).cauchy_(0, 0), RuntimeError, "cauchy_ expects sigma > 0.0, but found sigma=0"),
        (lambda lib: lib.empty(2).geometric_(1.5), RuntimeError, "geometric_ expects p to be in (0, 1), but got p=1.5"),
        (lambda lib: lib.empty(2).log_normal_(0, -1), RuntimeError, "log_normal_ expects std > 0.0, but found std=-1"),
        (
            lambda lib: lib.empty(2, dtype=lib.int64).cauchy_(),
            RuntimeError,
            "Cauchy distribution is a continuous probability distribution. dtype must be a floating point but you "
            "specified long int",
        ),
        (
            lambda lib: lib.empty(2, dtype=lib.int64).log_normal_(),
            NotImplementedError,
            "\"log_normal_cpu\" not implemented for 'Long'",
        ),
        (
            lambda lib: lib.empty(2, dtype=lib.bool).geometric_(0.5),
            NotImplementedError,
            "\"geometric_cpu\" not implemented for 'Bool'",
        ),
    ]
    for call, kind, message in cases:
        for lib in (torch, mg):
            with pytest.raises(kind) as info:
                call(lib)
            assert str(info.value) == message


# -- random_ ---------------------------------------------------------------------------------------


RANDOM_FORMS = [
    ((), {}),
    ((10,), {}),
    ((2**28 - 1,), {}),
    ((2**28,), {}),  # float32 lowers to=2**28 to a representable value: one word per draw
    ((2**30,), {}),  # 64-bit draws from 2**28 on
    ((-7, 13), {}),
    ((5, None), {}),
    ((), {"from": 3, "to": 9}),
    ((), {"to": 4}),
]


@pytest.mark.parametrize("name, t_dt, m_dt", ALL_DTYPES)
@pytest.mark.parametrize("args, kwargs", RANDOM_FORMS)
def test_random_forms(name, t_dt, m_dt, args, kwargs):
    if name == "bool" and (args or kwargs):
        args, kwargs = (0, 2), {}
    for seed in SEEDS:
        for n in (1, 17, 300):
            seed_both(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_out = torch.empty(n, dtype=t_dt).random_(*args, **kwargs)
                m_out = mg.empty(n, dtype=m_dt).random_(*args, **kwargs)
            assert_same_values(m_out, t_out)
            assert_same_state()


def test_random_full_int64_range_and_large_from():
    seed_both(8)
    low = -(2**63)
    assert_same_values(
        mg.empty(50, dtype=mg.int64).random_(low, None), torch.empty(50, dtype=torch.int64).random_(low, None)
    )
    assert_same_values(
        mg.empty(50, dtype=mg.int64).random_(-5, None), torch.empty(50, dtype=torch.int64).random_(-5, None)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_values(mg.empty(50).random_(2**40 + 1, 2**41 - 1), torch.empty(50).random_(2**40 + 1, 2**41 - 1))
    assert_same_state()


def test_random_errors_and_warning():
    cases = [
        (lambda lib: lib.empty(3).random_(5, 3), "random_ expects 'from' to be less than 'to', but got from=5 >= to=3"),
        (lambda lib: lib.empty(3).random_(0, 0), "random_ expects 'from' to be less than 'to', but got from=0 >= to=0"),
        (lambda lib: lib.empty(3, dtype=lib.bool).random_(3), "to - 1 is out of bounds for bool"),
        (lambda lib: lib.empty(3, dtype=lib.int64).random_(-5), "but got from=0 >= to=-5"),
    ]
    for call, message in cases:
        for lib in (torch, mg):
            with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
                call(lib)
    for lib in (torch, mg):
        with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
            lib.empty(2).random_(2**25)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mg.zeros(2, requires_grad=True).random_()


def test_randint_like():
    seed_both(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in ((5,), (2, 9), (0, 2**30)):
            for t_x, m_x in (
                (torch.ones(3, 17), mg.ones(3, 17)),
                (torch.ones(20, dtype=torch.int64), mg.ones(20, dtype=mg.int64)),
            ):
                assert_same_values(mg.randint_like(m_x, *args), torch.randint_like(t_x, *args))
    assert_same_values(
        mg.randint_like(mg.ones(4), 7, dtype=mg.int64), torch.randint_like(torch.ones(4), 7, dtype=torch.int64)
    )
    assert_same_state()


# -- normal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, t_dt, m_dt", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_normal_overloads(name, t_dt, m_dt, n):
    for seed in SEEDS[:2]:
        seed_both(seed)
        mean_t, mean_m = torch.rand(n, dtype=t_dt) * 4 - 2, mg.rand(n, dtype=m_dt) * 4 - 2
        std_t, std_m = torch.rand(n, dtype=t_dt) * 3, mg.rand(n, dtype=m_dt) * 3
        assert_same_values(mg.normal(mean_m, std_m), torch.normal(mean_t, std_t))
        assert_same_values(mg.normal(mean_m, 0.7), torch.normal(mean_t, 0.7))
        assert_same_values(mg.normal(mean_m), torch.normal(mean_t))
        assert_same_values(mg.normal(-1.3, std_m), torch.normal(-1.3, std_t))
        assert_same_values(mg.normal(2.0, 3.0, (n, 2), dtype=m_dt), torch.normal(2.0, 3.0, (n, 2), dtype=t_dt))
        assert_same_values(mg.normal(2.0, 3.0, size=(n,)), torch.normal(2.0, 3.0, size=(n,)))
        assert_same_state()


def test_normal_broadcast_mixed_dtypes_generator_and_gradient():
    seed_both(3)
    mean_t = torch.zeros(4, 1, requires_grad=True)
    mean_m = mg.zeros(4, 1, requires_grad=True)
    std_t, std_m = torch.rand(5, dtype=torch.float64), mg.rand(5, dtype=mg.float64)
    out_t, out_m = torch.normal(mean_t, std_t), mg.normal(mean_m, std_m)
    assert_same_values(out_m, out_t)  # float32 (the mean's dtype), shape (4, 5)
    assert out_m.requires_grad
    out_t.sum().backward()
    out_m.sum().backward()
    assert mean_m.grad.tolist() == mean_t.grad.tolist() == [[0.0]] * 4
    t_gen, m_gen = torch.Generator().manual_seed(2), mg.Generator().manual_seed(2)
    assert_same_values(mg.normal(mg.ones(20), 2.0, generator=m_gen), torch.normal(torch.ones(20), 2.0, generator=t_gen))
    assert_same_state()


def test_normal_errors():
    cases = [
        (
            lambda lib: lib.normal(lib.zeros(3), lib.tensor([1.0, -1.0, 1.0])),
            RuntimeError,
            "normal expects all elements of std >= 0.0",
        ),
        (
            lambda lib: lib.normal(0.0, lib.tensor([1.0, float("nan")])),
            RuntimeError,
            "normal expects all elements of std >= 0.0",
        ),
        (lambda lib: lib.normal(lib.zeros(3), -1.0), RuntimeError, "normal expects std >= 0.0, but found std -1"),
        (
            lambda lib: lib.normal(lib.zeros(3), lib.ones(2)),
            RuntimeError,
            "The size of tensor a (3) must match the size of tensor b (2)",
        ),
        (
            lambda lib: lib.normal(lib.zeros(3, dtype=lib.int64), 1.0),
            NotImplementedError,
            "\"normal_kernel_cpu\" not implemented for 'Long'",
        ),
        (
            lambda lib: lib.normal(2.0, 3.0),
            TypeError,
            "normal() received an invalid combination of arguments - got (float, float)",
        ),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as t_err:
            call(torch)
        with pytest.raises(kind) as m_err:
            call(mg)
        assert message in str(t_err.value)
        assert message in str(m_err.value)


# -- multinomial -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, t_dt, m_dt", FLOATS)
@pytest.mark.parametrize("categories", (1, 5, 15, 16, 17, 1000))
def test_multinomial(name, t_dt, m_dt, categories):
    for seed in SEEDS:
        seed_both(seed)
        probs_t, probs_m = torch.rand(3, categories, dtype=t_dt), mg.rand(3, categories, dtype=m_dt)
        for k in sorted({1, min(categories, 2), min(categories, 7), categories}):
            for replacement in (False, True):
                assert_same_values(mg.multinomial(probs_m, k, replacement), torch.multinomial(probs_t, k, replacement))
                assert_same_values(probs_m[1].multinomial(k, replacement), probs_t[1].multinomial(k, replacement))
        assert_same_values(
            mg.multinomial(probs_m[0], 3 * categories, True), torch.multinomial(probs_t[0], 3 * categories, True)
        )
        assert_same_state()


def test_multinomial_zero_probabilities_unnormalised_weights_and_generator():
    seed_both(0)
    weights = [0.0, 3.0, 0.0, 1.0, 0.0, 0.5, 2.0, 0.0]
    for k in (1, 2, 4, 7, 8):  # from 5 on, zero-probability categories too (torch's topk order of ties)
        for replacement in (False, True):
            assert_same_values(
                mg.multinomial(mg.tensor(weights), k, replacement),
                torch.multinomial(torch.tensor(weights), k, replacement),
            )
    assert_same_values(mg.multinomial(mg.tensor(weights), 50, True), torch.multinomial(torch.tensor(weights), 50, True))
    probs_t, probs_m = torch.rand(6, 4), mg.rand(6, 4)
    assert_same_values(mg.multinomial(probs_m.t(), 2), torch.multinomial(probs_t.t(), 2))  # a transposed input
    t_gen, m_gen = torch.Generator().manual_seed(4), mg.Generator().manual_seed(4)
    assert_same_values(
        mg.multinomial(mg.tensor(weights), 3, generator=m_gen),
        torch.multinomial(torch.tensor(weights), 3, generator=t_gen),
    )
    assert_same_state()
    assert tuple(mg.multinomial(mg.ones(0, 3), 1).shape) == (0, 1)


def test_multinomial_errors():
    cases = [
        (
            lambda lib: lib.multinomial(lib.tensor([0.2, 0.3]), 3),
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([0.2, -0.3]), 1),
            "probability tensor contains either `inf`, `nan` or element < 0",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([0.2, float("nan")]), 1),
            "probability tensor contains either `inf`, `nan` or element < 0",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
            "invalid multinomial distribution (sum of probabilities <= 0)",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 2, True),
            "invalid multinomial distribution (sum of probabilities <= 0)",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([0.2, -0.3]), 2, True),
            "invalid multinomial distribution (encountering probability entry < 0)",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([0.0, float("inf")]), 2, True),
            "invalid multinomial distribution (encountering probability entry = infinity or NaN)",
        ),
        (
            lambda lib: lib.multinomial(lib.tensor([1, 2]), 2),
            "multinomial only supports floating-point dtypes for input, got: Long",
        ),
        (lambda lib: lib.multinomial(lib.tensor(1.0), 2), "prob_dist must be 1 or 2 dim"),
        (lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
        (lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 0), "cannot sample n_sample <= 0 samples"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError) as t_err:
            call(torch)
        with pytest.raises(RuntimeError) as m_err:
            call(mg)
        assert str(t_err.value).startswith(message)
        assert str(m_err.value) == message


@needs_mt_bernoulli
def test_lstm_dropout_between_layers_draws_torchs_masks():
    """nn.LSTM's inter-layer dropout (F.dropout on each layer's output) takes torch's masks: the
    outputs agree (to the LSTM arithmetic's float32 precision, not a mask apart) and the
    generators end in the same state."""
    for seed in (0, 1):
        seed_both(seed)
        t_lstm = torch.nn.LSTM(3, 4, num_layers=3, dropout=0.4, bidirectional=True)
        m_lstm = mnn.LSTM(3, 4, num_layers=3, dropout=0.4, bidirectional=True)
        t_out, _ = t_lstm(torch.randn(5, 2, 3))
        m_out, _ = m_lstm(mg.randn(5, 2, 3))
        assert m_out.reshape(-1).tolist() == pytest.approx(t_out.reshape(-1).tolist(), abs=1e-6)
        assert_same_state()
