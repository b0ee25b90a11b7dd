"""minigrad's tensor printing against torch 2.13.0's ``repr``.

Every expected string is produced by torch itself on the same values: each case builds a
torch tensor, hands its flat values, shape and dtype to ``format_tensor`` and compares with
``repr(t)``.
"""

import math
import random

import pytest

from minigrad._printing import format_tensor, get_printoptions, set_printoptions

torch = pytest.importorskip("torch")

DTYPES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.int64: "int64",
    torch.bool: "bool",
}


@pytest.fixture(autouse=True)
def default_printoptions():
    """Every test starts and ends with the default options in both libraries."""
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")


def grad_suffixes(t):
    """The autograd items torch prints for ``t``, spelled as minigrad's tensor layer passes them."""
    if t.grad_fn is not None:
        return [f"grad_fn=<{type(t.grad_fn).__name__}>"]
    if t.requires_grad:
        return ["requires_grad=True"]
    return []


def minigrad_repr(t):
    return format_tensor(t.detach().flatten().tolist(), tuple(t.shape), DTYPES[t.dtype], grad_suffixes(t))


def assert_prints_like_torch(t):
    expected = repr(t)
    assert minigrad_repr(t) == expected, f"torch printed:\n{expected}"


# ----------------------------------------------------------------------------- random tensors


def random_shape(rng):
    kind = rng.random()
    if kind < 0.05:
        return ()
    if kind < 0.15:  # empty
        return tuple(rng.choice([0, 0, 1, 2, 3]) for _ in range(rng.randint(1, 3)))
    if kind < 0.25:  # long rows that wrap
        return (*[rng.randint(1, 2) for _ in range(rng.randint(0, 2))], rng.randint(10, 150))
    if kind < 0.35:  # above the summarisation threshold
        return rng.choice([(rng.randint(1001, 3000),), (rng.randint(30, 60), rng.randint(30, 60)),
                           (rng.randint(1, 9), rng.randint(11, 20), rng.randint(11, 20)),
                           (2, 7, 9, 11), (1, 1001)])
    return tuple(rng.randint(1, 6) for _ in range(rng.randint(1, 4)))


def random_float_values(rng, gen, shape, dtype):
    n = math.prod(shape)
    kind = rng.choice(["normal", "scaled", "mixed", "integers", "zeros", "huge", "tiny", "halves"])
    if kind == "normal":
        t = torch.randn(n, generator=gen, dtype=dtype)
    elif kind == "scaled":
        t = torch.randn(n, generator=gen, dtype=dtype) * 10.0 ** rng.randint(-6, 9)
    elif kind == "mixed":  # magnitudes spread over many decades
        t = torch.randn(n, generator=gen, dtype=dtype) * 10.0 ** torch.randint(-8, 8, (n,), generator=gen)
    elif kind == "integers":  # whole numbers in a float tensor print as "3."
        t = torch.randint(-10 ** rng.randint(1, 10), 10 ** rng.randint(1, 10), (n,), generator=gen).to(dtype)
    elif kind == "zeros":
        t = torch.zeros(n, dtype=dtype)
    elif kind == "huge":
        t = torch.randn(n, generator=gen, dtype=dtype) * 1e30
    elif kind == "tiny":
        t = torch.randn(n, generator=gen, dtype=dtype) * 1e-30
    else:  # a ratio of exactly 1000 stays in fixed point, just above it switches
        t = torch.tensor([rng.choice([0.5, -0.5, 500.0, 500.5, 2.0]) for _ in range(n)], dtype=dtype)
    if n and rng.random() < 0.4:  # sprinkle specials
        for _ in range(rng.randint(1, 3)):
            t[rng.randrange(n)] = rng.choice([math.nan, math.inf, -math.inf, -0.0, 0.0])
    return t.reshape(shape)


def random_tensor(rng, gen):
    shape = random_shape(rng)
    dtype = rng.choice([torch.float32, torch.float32, torch.float64, torch.int64, torch.bool])
    n = math.prod(shape)
    if dtype == torch.int64:
        bound = 10 ** rng.randint(0, 18)
        return torch.randint(-bound, bound + 1, (n,), generator=gen).reshape(shape)
    if dtype == torch.bool:
        return (torch.rand(n, generator=gen) > 0.5).reshape(shape)
    return random_float_values(rng, gen, shape, dtype)


def with_autograd(rng, t):
    """Maybe make ``t`` a leaf requiring grad, or the output of an op with a grad_fn."""
    if not t.dtype.is_floating_point or rng.random() < 0.5:
        return t
    leaf = t.clone().requires_grad_(True)
    if rng.random() < 0.5:
        return leaf
    op = rng.choice([lambda x: x * 1, lambda x: x + 0, lambda x: x.clone(), lambda x: x.view(x.shape)])
    return op(leaf)


@pytest.mark.parametrize("seed", range(400))
def test_random_tensor_prints_like_torch(seed):
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    assert_prints_like_torch(with_autograd(rng, random_tensor(rng, gen)))


def random_options(rng):
    options = {}
    if rng.random() < 0.3:
        options["profile"] = rng.choice(["default", "short", "full"])
    if rng.random() < 0.5:
        options["precision"] = rng.randint(0, 8)
    if rng.random() < 0.4:
        options["threshold"] = rng.choice([0, 1, 5, 20, 100, math.inf])
    if rng.random() < 0.4:
        options["edgeitems"] = rng.randint(0, 4)
    if rng.random() < 0.4:
        options["linewidth"] = rng.randint(10, 140)
    if rng.random() < 0.5:
        options["sci_mode"] = rng.choice([True, False])
    return options


@pytest.mark.parametrize("seed", range(200))
def test_random_tensor_with_random_printoptions(seed):
    rng = random.Random(1000 + seed)
    gen = torch.Generator().manual_seed(1000 + seed)
    options = random_options(rng)
    torch.set_printoptions(**options)
    set_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    assert_prints_like_torch(with_autograd(rng, random_tensor(rng, gen)))


# ----------------------------------------------------------------------------- specific cases


def test_example_from_an_lstm_output():
    # The repr of an LSTM output as torch 2.13.0 printed it (quoted in the task brief).
    expected = (
        "tensor([[[-0.0187,  0.1713, -0.2944]],\n"
        "\n"
        "        [[-0.3521,  0.1026, -0.2971]],\n"
        "\n"
        "        [[-0.3191,  0.0781, -0.1957]],\n"
        "\n"
        "        [[-0.1634,  0.0941, -0.1637]],\n"
        "\n"
        "        [[-0.3368,  0.0959, -0.0538]]], grad_fn=<MkldnnRnnLayerBackward0>)"
    )
    t = torch.tensor([[[-0.0187, 0.1713, -0.2944]], [[-0.3521, 0.1026, -0.2971]],
                      [[-0.3191, 0.0781, -0.1957]], [[-0.1634, 0.0941, -0.1637]],
                      [[-0.3368, 0.0959, -0.0538]]])
    got = format_tensor(t.flatten().tolist(), (5, 1, 3), "float32", ["grad_fn=<MkldnnRnnLayerBackward0>"])
    assert got == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.tensor(3.25),
        lambda: torch.tensor(-0.0),
        lambda: torch.tensor(7),
        lambda: torch.tensor(True),
        lambda: torch.tensor(2.0, dtype=torch.float64),
        lambda: torch.tensor(math.nan),
        lambda: torch.tensor([-0.0, 0.0]),
        lambda: torch.tensor([-0.0, 1.5]),
        lambda: torch.tensor([1.0, -2.0, 300.0]),
        lambda: torch.tensor([0.5, 500.0]),
        lambda: torch.tensor([0.5, 500.5]),
        lambda: torch.tensor([1e-5, 1.0]),
        lambda: torch.tensor([5e-5, 1e-2]),
        lambda: torch.tensor([1.5e-4, 1e-2]),
        lambda: torch.tensor([1e9, 1.0]),
        lambda: torch.tensor([123456789.0]),
        lambda: torch.tensor([math.nan, math.inf, -math.inf]),
        lambda: torch.tensor([math.nan, 1.0, -math.inf]),
        lambda: torch.tensor([math.nan, 0.25, math.inf]),
        lambda: torch.tensor([True, False]),
        lambda: torch.tensor([-(2**63), 2**63 - 1]),
        lambda: torch.zeros(0),
        lambda: torch.zeros(0, 3),
        lambda: torch.zeros(0, dtype=torch.int64),
        lambda: torch.zeros(2, 0, dtype=torch.float64),
        lambda: torch.zeros(0, dtype=torch.bool),
        lambda: torch.zeros(0, 3, requires_grad=True),
        lambda: torch.arange(1001),
        lambda: torch.arange(1000),
        lambda: torch.arange(4000.0).reshape(4, 10, 100),
        lambda: torch.randn(30, generator=torch.Generator().manual_seed(0)),
        lambda: torch.randn(30, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 1e6,
    ],
)
def test_corner_case_prints_like_torch(make):
    assert_prints_like_torch(make())


def test_suffix_wraps_onto_a_new_line_like_torch():
    # 8 fixed-point elements fill the last line, so the grad_fn item cannot follow on it.
    t = torch.randn(16, generator=torch.Generator().manual_seed(3), requires_grad=True) * 2
    assert "\n       grad_fn=<MulBackward0>)" in repr(t)
    assert_prints_like_torch(t)


def test_dtype_and_grad_suffixes_wrap_one_by_one():
    t = torch.randn(8, generator=torch.Generator().manual_seed(4), dtype=torch.float64, requires_grad=True)
    expected = repr(t)
    assert expected.count("\n") == 1  # dtype fits on the data line, requires_grad wraps
    assert minigrad_repr(t) == expected


class CountingList(list):
    """A list that counts how many elements are read from it."""

    def __init__(self, items):
        super().__init__(items)
        self.reads = 0

    def __getitem__(self, i):
        self.reads += 1
        return super().__getitem__(i)


def test_summarising_a_million_elements_reads_only_the_edges():
    t = torch.randn(1000, 1000, generator=torch.Generator().manual_seed(5))

    values = CountingList(t.flatten().tolist())
    assert format_tensor(values, (1000, 1000), "float32") == repr(t)
    # torch shows 6 x 6 edge elements; each is read once for the style and once to print
    assert values.reads <= 2 * 36


def test_summarising_with_no_edge_items_reads_no_elements():
    t = torch.arange(100_000)
    torch.set_printoptions(edgeitems=0)
    set_printoptions(edgeitems=0)

    values = CountingList(t.tolist())
    assert format_tensor(values, (100_000,), "int64") == repr(t)
    assert values.reads == 0


# ----------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"precision": 0},
        {"sci_mode": True},
        {"sci_mode": False},
        {"threshold": 5},
        {"threshold": 5, "edgeitems": 1},
        {"threshold": 5, "edgeitems": 0},
        {"linewidth": 30},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "short", "precision": 6},
    ],
)
def test_printoptions_match_torch(options):
    gen = torch.Generator().manual_seed(6)
    torch.set_printoptions(**options)
    set_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for t in [
        torch.randn(2, 3, 4, generator=gen),
        torch.randn(12, generator=gen, dtype=torch.float64) * 1e4,
        torch.tensor([1e-6, 2.0, math.nan]),
        torch.tensor([0.0, -0.0]),
        torch.arange(40).reshape(5, 8),
        torch.arange(40.0).reshape(2, 4, 5),
        torch.tensor(1.5),
        torch.tensor([True, False] * 4),
    ]:
        assert_prints_like_torch(t)


def test_default_options_are_torchs():
    assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_setting_options_without_sci_mode_restores_automatic_choice():
    set_printoptions(sci_mode=True)
    set_printoptions(precision=3)
    torch.set_printoptions(sci_mode=True)
    torch.set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None
    assert get_printoptions() == torch._tensor_str.get_printoptions()


# ----------------------------------------------------------------------------- bad input


def test_unknown_dtype_is_rejected():
    with pytest.raises(ValueError, match="unsupported dtype 'float16'"):
        format_tensor([1], (1,), "float16")


def test_values_must_match_shape():
    with pytest.raises(ValueError, match=r"5 values given for shape \(2, 3\)"):
        format_tensor([1.0] * 5, (2, 3), "float32")


def test_unknown_profile_is_rejected():
    with pytest.raises(ValueError, match="unknown profile 'long'"):
        set_printoptions(profile="long")
