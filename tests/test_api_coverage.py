"""The public names minigrad claims from PyTorch (``tests/api_coverage.txt``): each exists in
minigrad's namespace and in torch 2.13.0's, and most run on a sample input with torch's result.

The list holds what minigrad provides under torch's names; add a name there when adding it to
minigrad, and a sample below when it can run on its own.
"""

import math
import pathlib
import types

import pytest
from conftest import assert_same

import minigrad as mg
import minigrad.nn as mnn
import minigrad.nn.functional as mF
import minigrad.optim as moptim

torch = pytest.importorskip("torch")
import torch.nn.functional as tF  # noqa: E402

LIST = pathlib.Path(__file__).with_name("api_coverage.txt")


def claimed() -> list[tuple[str, str]]:
    """(section, name) for every line of the list."""
    entries, section = [], None
    for line in LIST.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        entries.append((section, line))
    return entries


NAMESPACES = {
    "torch": (mg, torch),
    "torch.nn": (mnn, torch.nn),
    "torch.nn.functional": (mF, tF),
    "torch.optim": (moptim, torch.optim),
    "Tensor": (mg.Tensor, torch.Tensor),
}
ENTRIES = claimed()


def test_the_list_is_sorted_and_has_no_repeats():
    for section in NAMESPACES:
        names = [n for s, n in ENTRIES if s == section]
        assert names, f"no names listed under [{section}]"
        assert len(set(names)) == len(names), f"a name is listed twice under [{section}]"
        assert names == sorted(names, key=str.lower), f"[{section}] is not in alphabetical order"


@pytest.mark.parametrize("section, name", ENTRIES, ids=[f"{s}.{n}" for s, n in ENTRIES])
def test_name_exists_in_minigrad_and_torch(section, name):
    ours, theirs = NAMESPACES[section]
    assert hasattr(theirs, name), f"{section}.{name} is not a torch name"
    assert hasattr(ours, name), f"minigrad lacks {section}.{name}"
    assert isinstance(getattr(ours, name), types.ModuleType) == isinstance(getattr(theirs, name), types.ModuleType)


# -- samples: (section, name) -> a call made with either library as ``lib`` -------------------------

X = [[0.5, -1.25, 2.0, 0.75], [1.5, 0.25, -0.5, 3.0], [-2.0, 1.0, 0.125, -0.75]]
P = [[0.5, 1.25, 2.0], [1.5, 0.25, 0.75]]


def x(lib):
    return lib.tensor(X)


def p(lib):
    return lib.tensor(P)


def idx(lib):
    return lib.tensor([2, 0, 1])


# Tensor methods (and torch functions of the same name) of one tensor and no other argument
UNARY = (
    "abs clone contiguous cpu detach double exp float flatten int long neg relu short sigmoid t tanh tolist "
    "numel dim sum mean max min argmax argmin prod std var norm amax amin all any count_nonzero median "
    "unique trace tril triu diag diagonal is_floating_point is_contiguous element_size nelement char byte bool "
    "nelement"
).split()
FUNCTION_UNARY = (
    "abs clone exp flatten neg relu sigmoid t tanh numel sum mean max min argmax argmin prod std var norm amax amin "
    "all any count_nonzero median unique trace tril triu diag diagonal is_floating_point"
).split()

SAMPLES = {
    ("torch", "add"): lambda lib: lib.add(x(lib), 2.0, alpha=3),
    ("torch", "sub"): lambda lib: lib.sub(x(lib), x(lib).sum(0), alpha=0.5),
    ("torch", "mul"): lambda lib: lib.mul(x(lib), 3),
    ("torch", "div"): lambda lib: lib.div(x(lib), 4.0),
    ("torch", "pow"): lambda lib: lib.pow(p(lib), 1.5),
    ("torch", "sqrt"): lambda lib: lib.sqrt(p(lib)),
    ("torch", "log"): lambda lib: lib.log(p(lib)),
    ("torch", "clamp"): lambda lib: lib.clamp(x(lib), -1, 1),
    ("torch", "clip"): lambda lib: lib.clip(x(lib), min=0),
    ("torch", "where"): lambda lib: lib.where(x(lib) > 0, x(lib), 0.0),
    ("torch", "matmul"): lambda lib: lib.matmul(x(lib), x(lib).t()),
    ("torch", "mm"): lambda lib: lib.mm(x(lib), x(lib).t()),
    ("torch", "bmm"): lambda lib: lib.bmm(x(lib).unsqueeze(0), x(lib).t().unsqueeze(0)),
    ("torch", "addmm"): lambda lib: lib.addmm(lib.ones(3), x(lib), x(lib).t()),
    ("torch", "cat"): lambda lib: lib.cat([x(lib), x(lib)], 1),
    ("torch", "concat"): lambda lib: lib.concat([x(lib), x(lib)]),
    ("torch", "concatenate"): lambda lib: lib.concatenate([x(lib), x(lib)], -1),
    ("torch", "stack"): lambda lib: lib.stack([x(lib), x(lib)], 1),
    ("torch", "chunk"): lambda lib: lib.chunk(x(lib), 2, 1),
    ("torch", "split"): lambda lib: lib.split(x(lib), 1),
    ("torch", "unbind"): lambda lib: lib.unbind(x(lib), 1),
    ("torch", "narrow"): lambda lib: lib.narrow(x(lib), 1, 1, 2),
    ("torch", "select"): lambda lib: lib.select(x(lib), 1, 2),
    ("torch", "permute"): lambda lib: lib.permute(x(lib), (1, 0)),
    ("torch", "reshape"): lambda lib: lib.reshape(x(lib), (2, 6)),
    ("torch", "squeeze"): lambda lib: lib.squeeze(x(lib).unsqueeze(0)),
    ("torch", "unsqueeze"): lambda lib: lib.unsqueeze(x(lib), -1),
    ("torch", "transpose"): lambda lib: lib.transpose(x(lib), 0, 1),
    ("torch", "gather"): lambda lib: lib.gather(x(lib), 1, idx(lib).unsqueeze(1)),
    ("torch", "index_select"): lambda lib: lib.index_select(x(lib), 0, idx(lib)),
    ("torch", "softmax"): lambda lib: lib.softmax(x(lib), 1),
    ("torch", "log_softmax"): lambda lib: lib.log_softmax(x(lib), 0),
    ("torch", "logsumexp"): lambda lib: lib.logsumexp(x(lib), (0, 1)),
    ("torch", "cumsum"): lambda lib: lib.cumsum(x(lib), 1),
    ("torch", "cumprod"): lambda lib: lib.cumprod(x(lib), 0),
    ("torch", "std_mean"): lambda lib: lib.std_mean(x(lib), 1),
    ("torch", "var_mean"): lambda lib: lib.var_mean(x(lib), 0, correction=0),
    ("torch", "aminmax"): lambda lib: tuple(lib.aminmax(x(lib))),
    ("torch", "mode"): lambda lib: tuple(lib.mode(idx(lib))),
    ("torch", "bincount"): lambda lib: lib.bincount(idx(lib)),
    ("torch", "dot"): lambda lib: lib.dot(x(lib)[0], x(lib)[1]),
    ("torch", "outer"): lambda lib: lib.outer(x(lib)[0], x(lib)[1]),
    ("torch", "einsum"): lambda lib: lib.einsum("ij,kj->ik", x(lib), x(lib)),
    ("torch", "roll"): lambda lib: lib.roll(x(lib), 1, 1),
    ("torch", "tile"): lambda lib: lib.tile(x(lib), (2, 1)),
    ("torch", "broadcast_to"): lambda lib: lib.broadcast_to(x(lib)[0], (2, 4)),
    ("torch", "meshgrid"): lambda lib: lib.meshgrid(idx(lib), idx(lib), indexing="ij"),
    ("torch", "movedim"): lambda lib: lib.movedim(x(lib), 0, 1),
    ("torch", "moveaxis"): lambda lib: lib.moveaxis(x(lib), 1, 0),
    ("torch", "swapaxes"): lambda lib: lib.swapaxes(x(lib), 0, 1),
    ("torch", "swapdims"): lambda lib: lib.swapdims(x(lib), 1, 0),
    ("torch", "unflatten"): lambda lib: lib.unflatten(x(lib), 1, (2, 2)),
    ("torch", "take_along_dim"): lambda lib: lib.take_along_dim(x(lib), idx(lib).unsqueeze(1), 1),
    ("torch", "equal"): lambda lib: lib.equal(x(lib), x(lib) + 0),
    ("torch", "allclose"): lambda lib: lib.allclose(x(lib), x(lib) + 1e-9),
    ("torch", "result_type"): lambda lib: str(lib.result_type(idx(lib), 2.5)).split(".")[1],
    ("torch", "promote_types"): lambda lib: str(lib.promote_types(lib.uint8, lib.int8)).split(".")[1],
    ("torch", "is_tensor"): lambda lib: lib.is_tensor(x(lib)),
    ("torch", "tensor"): lambda lib: lib.tensor([[1, 2], [3, 4]], dtype=lib.int16),
    ("torch", "as_tensor"): lambda lib: lib.as_tensor([1.5, 2.5]),
    ("torch", "zeros"): lambda lib: lib.zeros(2, 3, dtype=lib.int8),
    ("torch", "ones"): lambda lib: lib.ones((2, 3)),
    ("torch", "full"): lambda lib: lib.full((2,), 7, dtype=lib.uint8),
    ("torch", "eye"): lambda lib: lib.eye(3, 2),
    ("torch", "arange"): lambda lib: lib.arange(1, 7, 2),
    ("torch", "linspace"): lambda lib: lib.linspace(0, 1, 5),
    ("torch", "zeros_like"): lambda lib: lib.zeros_like(x(lib)),
    ("torch", "ones_like"): lambda lib: lib.ones_like(idx(lib)),
    ("torch", "full_like"): lambda lib: lib.full_like(x(lib), 2.5),
    ("torch", "empty"): lambda lib: lib.empty(2, 3).shape,
    ("torch", "empty_like"): lambda lib: lib.empty_like(x(lib)).shape,
    ("torch", "rand"): lambda lib: (lib.manual_seed(3), lib.rand(2, 3))[1],
    ("torch", "randn"): lambda lib: (lib.manual_seed(3), lib.randn(5))[1],
    ("torch", "randint"): lambda lib: (lib.manual_seed(3), lib.randint(0, 10, (6,)))[1],
    ("torch", "randperm"): lambda lib: (lib.manual_seed(3), lib.randperm(7))[1],
    ("torch", "rand_like"): lambda lib: (lib.manual_seed(4), lib.rand_like(x(lib)))[1],
    ("torch", "randn_like"): lambda lib: (lib.manual_seed(4), lib.randn_like(x(lib)))[1],
    ("torch", "where_one_argument"): lambda lib: lib.where(x(lib) > 0),
    ("torch", "median_dim"): lambda lib: tuple(lib.median(x(lib), 1)),
    ("torch", "device"): lambda lib: repr(lib.device("cuda:1")),
    ("torch", "iinfo"): lambda lib: repr(lib.iinfo(lib.int16)),
    ("torch", "finfo"): lambda lib: repr(lib.finfo(lib.float64)),
    ("torch.nn.functional", "relu"): lambda lib: lib.nn.functional.relu(x(lib)),
    ("torch.nn.functional", "sigmoid"): lambda lib: lib.nn.functional.sigmoid(x(lib)),
    ("torch.nn.functional", "tanh"): lambda lib: lib.nn.functional.tanh(x(lib)),
    ("torch.nn.functional", "softmax"): lambda lib: lib.nn.functional.softmax(x(lib), dim=1),
    ("torch.nn.functional", "log_softmax"): lambda lib: lib.nn.functional.log_softmax(x(lib), dim=0),
    ("torch.nn.functional", "linear"): lambda lib: lib.nn.functional.linear(x(lib), x(lib), lib.ones(3)),
    ("torch.nn.functional", "nll_loss"): lambda lib: lib.nn.functional.nll_loss(x(lib), idx(lib)),
    ("torch.nn.functional", "cross_entropy"): lambda lib: lib.nn.functional.cross_entropy(x(lib), idx(lib)),
    ("torch.nn.functional", "embedding"): lambda lib: lib.nn.functional.embedding(idx(lib), x(lib)),
    ("torch.nn.functional", "dropout"): lambda lib: lib.nn.functional.dropout(x(lib), 0.5, training=False),
    ("torch.nn", "Linear"): lambda lib: (lib.manual_seed(0), lib.nn.Linear(4, 2)(x(lib)))[1],
    ("torch.nn", "Embedding"): lambda lib: (lib.manual_seed(0), lib.nn.Embedding(3, 2)(idx(lib)))[1],
    ("torch.nn", "ReLU"): lambda lib: lib.nn.ReLU()(x(lib)),
    ("torch.nn", "Sigmoid"): lambda lib: lib.nn.Sigmoid()(x(lib)),
    ("torch.nn", "Tanh"): lambda lib: lib.nn.Tanh()(x(lib)),
    ("torch.nn", "Softmax"): lambda lib: lib.nn.Softmax(dim=1)(x(lib)),
    ("torch.nn", "LogSoftmax"): lambda lib: lib.nn.LogSoftmax(dim=1)(x(lib)),
    ("torch.nn", "Identity"): lambda lib: lib.nn.Identity()(x(lib)),
    ("torch.nn", "NLLLoss"): lambda lib: lib.nn.NLLLoss()(x(lib), idx(lib)),
    ("torch.nn", "CrossEntropyLoss"): lambda lib: lib.nn.CrossEntropyLoss(reduction="sum")(x(lib), idx(lib)),
    ("torch.nn", "Dropout"): lambda lib: lib.nn.Dropout(0.3).eval()(x(lib)),
    ("torch.nn", "Sequential"): lambda lib: (
        lib.manual_seed(1),
        lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh())(x(lib)),
    )[1],
    ("torch.optim", "SGD"): lambda lib: _one_step(lib, lambda ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9)),
    ("torch.optim", "Adam"): lambda lib: _one_step(lib, lambda ps: lib.optim.Adam(ps, lr=0.1)),
    ("torch.optim", "AdamW"): lambda lib: _one_step(lib, lambda ps: lib.optim.AdamW(ps, lr=0.1)),
    ("Tensor", "to"): lambda lib: x(lib).to("cpu", lib.int32),
    ("Tensor", "new_zeros"): lambda lib: x(lib).new_zeros(2, 1),
    ("Tensor", "new_ones"): lambda lib: idx(lib).new_ones((2,)),
    ("Tensor", "new_full"): lambda lib: idx(lib).new_full((2,), 5),
    ("Tensor", "new_tensor"): lambda lib: idx(lib).new_tensor([1.5]),
    ("Tensor", "new_empty"): lambda lib: x(lib).new_empty(3).shape,
    ("Tensor", "type"): lambda lib: idx(lib).char().type().split(".")[1],
    ("Tensor", "masked_fill"): lambda lib: x(lib).masked_fill(x(lib) < 0, 0.5),
    ("Tensor", "cumsum"): lambda lib: x(lib).cumsum(0),
    ("Tensor", "logsumexp"): lambda lib: x(lib).logsumexp(1),
    ("Tensor", "softmax"): lambda lib: x(lib).softmax(-1),
    ("Tensor", "view"): lambda lib: x(lib).view(4, 3),
    ("Tensor", "expand"): lambda lib: x(lib)[0:1].expand(2, 4),
    ("Tensor", "roll"): lambda lib: x(lib).roll(-1, 0),
    ("Tensor", "tile"): lambda lib: x(lib).tile(1, 2),
    ("Tensor", "unflatten"): lambda lib: x(lib).unflatten(0, (3, 1)),
    ("Tensor", "mode"): lambda lib: tuple(idx(lib).mode()),
    ("Tensor", "aminmax"): lambda lib: tuple(x(lib).aminmax(dim=0)),
    ("Tensor", "eq"): lambda lib: x(lib).eq(0.5),
    ("Tensor", "lt"): lambda lib: x(lib).lt(0),
    ("Tensor", "ge"): lambda lib: x(lib).ge(x(lib).t().mean(1)),
}


def _one_step(lib, make):
    lib.manual_seed(0)
    model = lib.nn.Linear(4, 2)
    opt = make(model.parameters())
    for _ in range(2):
        opt.zero_grad()
        model(x(lib)).pow(2).sum().backward()
        opt.step()
    return model.weight.detach()


for _name in UNARY:
    SAMPLES.setdefault(("Tensor", _name), lambda lib, n=_name: getattr(x(lib), n)())
for _name in FUNCTION_UNARY:
    SAMPLES.setdefault(("torch", _name), lambda lib, n=_name: getattr(lib, n)(x(lib)))


def _compare(got, expected):
    if isinstance(expected, torch.Tensor):
        assert_same(got, expected)
    elif isinstance(expected, (tuple, list)) and not isinstance(expected, torch.Size):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _compare(g, e)
    else:
        assert got == expected or (isinstance(got, float) and math.isclose(got, expected, rel_tol=1e-6))


@pytest.mark.parametrize("key", sorted(SAMPLES), ids=[f"{s}.{n}" for s, n in sorted(SAMPLES)])
def test_sample_behaves_as_torch(key):
    section, name = key
    base = name.split("_one_argument")[0].split("_dim")[0] if name not in NAMESPACES[section][1].__dict__ else name
    assert hasattr(NAMESPACES[section][0], base), f"sample for {section}.{name}, which minigrad lacks"
    _compare(SAMPLES[key](mg), SAMPLES[key](torch))


def test_most_claimed_names_have_a_sample():
    sampled = {(s, n) for s, n in SAMPLES}
    runnable = [(s, n) for s, n in ENTRIES if not n[0].isupper() or s != "torch"]
    share = len([e for e in runnable if e in sampled]) / len(runnable)
    assert share >= 0.6, f"only {share:.0%} of the listed names run a sample"
