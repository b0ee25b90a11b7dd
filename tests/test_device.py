"""Devices as torch 2.13.0 (CPU build): minigrad.device, Tensor.to/cpu/cuda, Module.to/cpu/cuda,
minigrad.cuda, and torch's errors when CUDA is asked for."""

import pytest
from conftest import check_raises

import minigrad as mg
import minigrad.nn as mnn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 1), ("cpu", 0), ("mps",)])
def test_device_prints_and_compares_like_torch(args):
    t, m = torch.device(*args), mg.device(*args)
    assert (repr(m), str(m), m.type, m.index) == (repr(t), str(t), t.type, t.index)
    assert m == mg.device(*args) and hash(m) == hash(mg.device(*args))
    assert (m == "cpu") == (t == "cpu")  # a device never equals a string, as torch's
    assert mg.device(m) == m


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("gpu",), "Expected one of cpu, cuda"),
        (("cuda:x",), "Invalid device string: 'cuda:x'"),
        (("cuda", -1), ""),
        ((3,), "Cannot access accelerator device when none is available."),
    ],
)
def test_bad_device_strings(args, fragment):
    check_raises(lambda: torch.device(*args), lambda: mg.device(*args), fragment)


def test_tensor_device_and_moves():
    x = mg.ones(2, 3)
    assert x.device == mg.device("cpu") and str(x.device) == "cpu"
    assert not x.is_cuda and x.is_cpu
    assert x.cpu() is x and x.to("cpu") is x and x.to(mg.device("cpu")) is x
    y = x.to("cpu", copy=True)
    assert y is not x and y.tolist() == x.tolist()
    assert x.to("cpu", mg.float64).dtype is mg.float64
    assert x.to(device="cpu", dtype=mg.int32).dtype is mg.int32
    assert x.to(mg.zeros(1, dtype=mg.int16)).dtype is mg.int16
    assert x.to(mg.float32, non_blocking=True) is x


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.ones(2).cuda(),
        lambda lib: lib.ones(2).to("cuda"),
        lambda lib: lib.ones(2).to(lib.device("cuda", 0)),
        lambda lib: lib.ones(2).to(device="cuda:0"),
        lambda lib: lib.nn.Linear(2, 2).cuda(),
        lambda lib: lib.nn.Linear(2, 2).to("cuda"),
    ],
)
def test_cuda_raises_torchs_error(call):
    check_raises(lambda: call(torch), lambda: call(mg), "Torch not compiled with CUDA enabled", exact=True)


def test_cuda_module_and_module_moves():
    assert mg.cuda.is_available() is torch.cuda.is_available() is False
    assert mg.cuda.device_count() == torch.cuda.device_count() == 0
    mg.cuda.manual_seed(0)
    mg.cuda.manual_seed_all(0)
    model = mnn.Linear(2, 2)
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to(mg.device("cpu"), mg.float64).weight.dtype is mg.float64


def test_tutorial_idiom_runs():
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    model = mnn.Linear(3, 1).to(device)
    x = mg.ones(4, 3).to(device)
    assert model(x).shape == (4, 1) and device.type == "cpu"


def test_half_and_bfloat16_say_minigrad_has_no_such_dtype():
    with pytest.raises(TypeError, match="no float16"):
        mg.ones(2).half()
    with pytest.raises(TypeError, match="no bfloat16"):
        mg.ones(2).bfloat16()


def test_new_tensors_like_this_one():
    x, t = mg.ones(2, dtype=mg.float64), torch.ones(2, dtype=torch.float64)
    for fn in (
        lambda lib, v: v.new_empty(3),
        lambda lib, v: v.new_empty((2, 3)),
        lambda lib, v: v.new_zeros(2, 3, dtype=lib.int32),
        lambda lib, v: v.new_ones((2,)),
        lambda lib, v: v.new_full((2,), 7),
        lambda lib, v: v.new_tensor([1, 2]),
    ):
        got, expected = fn(mg, x), fn(torch, t)
        assert (tuple(got.shape), got.dtype.name) == (tuple(expected.shape), str(expected.dtype)[6:])
        if "empty" not in repr(fn.__code__.co_names):
            assert got.tolist() == expected.tolist()


def test_equal_numel_is_floating_point():
    pairs = [([1, 2], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([1.0], [1.0, 1.0])]
    for a, b in pairs:
        assert mg.equal(mg.tensor(a), mg.tensor(b)) == torch.equal(torch.tensor(a), torch.tensor(b))
    assert (
        mg.numel(mg.ones(2, 3)) == 6 and mg.is_floating_point(mg.ones(1)) and not mg.is_floating_point(mg.ones(1).int())
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, d: lib.zeros(2, device=d),
        lambda lib, d: lib.ones((2,), device=d),
        lambda lib, d: lib.empty(2, device=d).shape,
        lambda lib, d: lib.full((2,), 3.0, device=d),
        lambda lib, d: lib.tensor([1, 2], device=d),
        lambda lib, d: lib.as_tensor([1.5], device=d),
        lambda lib, d: lib.arange(3, device=d),
        lambda lib, d: lib.linspace(0, 1, 3, device=d),
        lambda lib, d: lib.eye(2, device=d),
        lambda lib, d: (lib.manual_seed(0), lib.rand(3, device=d))[1],
        lambda lib, d: (lib.manual_seed(0), lib.randn(3, device=d))[1],
        lambda lib, d: (lib.manual_seed(0), lib.randint(0, 5, (3,), device=d))[1],
        lambda lib, d: (lib.manual_seed(0), lib.randperm(4, device=d))[1],
        lambda lib, d: lib.zeros_like(lib.ones(2), device=d),
        lambda lib, d: lib.ones_like(lib.ones(2), device=d),
        lambda lib, d: lib.full_like(lib.ones(2), 4, device=d),
        lambda lib, d: lib.ones(2).new_zeros(3, device=d),
        lambda lib, d: lib.ones(2).new_tensor([5], device=d, requires_grad=True),
    ],
)
def test_creation_takes_a_device(make):
    for where in ("cpu", "cpu:0"):
        got, expected = make(mg, mg.device(where)), make(torch, torch.device(where))
        if isinstance(expected, torch.Tensor):
            assert got.tolist() == expected.tolist() and got.requires_grad == expected.requires_grad
        else:
            assert tuple(got) == tuple(expected)
    check_raises(lambda: make(torch, "cuda"), lambda: make(mg, "cuda"), "Torch not compiled with CUDA enabled")


def test_backends_flags_as_on_a_cpu_build():
    for name in ("deterministic", "benchmark", "enabled"):
        assert getattr(mg.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    assert mg.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert mg.backends.cudnn.version() == torch.backends.cudnn.version()
    assert mg.backends.mps.is_available() == torch.backends.mps.is_available()
    assert mg.backends.mps.is_built() == torch.backends.mps.is_built()
    assert mg.backends.cuda.is_built() == torch.backends.cuda.is_built()
    mg.backends.cudnn.deterministic = True  # tutorials set it; nothing changes
    mg.backends.cudnn.deterministic = False
