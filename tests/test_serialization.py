"""minigrad.save / minigrad.load: state dicts of tensors as safetensors files.

Expected values come from the tensors themselves (a round trip must give them back exactly)
and from the reference implementation (the ``safetensors`` package with torch 2.13.0)."""

import os
import signal
import struct
import subprocess
import sys
import time

import pytest

import minigrad as mg
from minigrad.serialization import load_with_metadata


def sample_state():
    return {
        "embed.weight": mg.tensor([[0.1, -2.5, 3.0], [1e-30, -0.0, 7.25]]),
        "lstm.bias": mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64),
        "step": mg.tensor(41),
        "mask": mg.tensor([[True, False], [False, True]]),
        "empty": mg.zeros(0, 3),
    }


def assert_same_tensors(got, expected):
    assert set(got) == set(expected)
    for name, tensor in expected.items():
        assert got[name].dtype is tensor.dtype, name
        assert tuple(got[name].shape) == tuple(tensor.shape), name
        assert got[name].tolist() == tensor.tolist(), name


def test_round_trip_keeps_names_dtypes_shapes_and_values(tmp_path):
    state = sample_state()
    path = tmp_path / "model.safetensors"
    mg.save(state, path, metadata={"epoch": "3"})
    assert_same_tensors(mg.load(path), state)
    tensors, metadata = load_with_metadata(path)
    assert_same_tensors(tensors, state)
    assert metadata == {"epoch": "3"}


def test_views_are_saved_by_value_and_grads_are_dropped(tmp_path):
    base = mg.arange(12, dtype=mg.float32).reshape(3, 4)
    weight = mg.ones(2, 2, requires_grad=True)
    (weight * 3).sum().backward()
    path = tmp_path / "views.safetensors"
    mg.save({"t": base.t(), "strided": base[::2, 1::2], "w": weight}, path)
    loaded = mg.load(path)
    assert loaded["t"].tolist() == base.t().tolist()
    assert loaded["strided"].tolist() == [[1.0, 3.0], [9.0, 11.0]]
    assert loaded["t"].is_contiguous()
    assert not loaded["w"].requires_grad and loaded["w"].grad is None


def test_file_bytes_are_little_endian(tmp_path):
    path = tmp_path / "x.safetensors"
    mg.save({"x": mg.tensor([1.0, 2.0]), "n": mg.tensor([-2], dtype=mg.int64)}, path)
    raw = path.read_bytes()
    assert raw.endswith(struct.pack("<q", -2) + struct.pack("<2f", 1.0, 2.0))


def test_loaded_tensors_are_independent_of_each_other(tmp_path):
    path = tmp_path / "x.safetensors"
    mg.save({"a": mg.zeros(2), "b": mg.zeros(2)}, path)
    loaded = mg.load(path)
    loaded["a"].add_(1.0)
    assert loaded["b"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("state", "message"), [
    ([("w", mg.zeros(1))], "expects a dict"),
    ({"w": [1.0, 2.0]}, "'w' is a list, not a Tensor"),
    ({1: mg.zeros(1)}, "names must be str"),
])
def test_save_rejects_what_is_not_a_state_dict(tmp_path, state, message):
    with pytest.raises(TypeError, match=message):
        mg.save(state, tmp_path / "bad.safetensors")


def test_load_rejects_a_truncated_file(tmp_path):
    path = tmp_path / "model.safetensors"
    mg.save(sample_state(), path)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        mg.load(path)


def test_load_rejects_a_foreign_file(tmp_path):
    path = tmp_path / "notes.safetensors"
    path.write_text("just some text, certainly not a tensor file\n" * 10)
    with pytest.raises(ValueError, match=f"{path.name}: not a valid safetensors file"):
        mg.load(path)


def test_load_rejects_bool_bytes_other_than_0_and_1(tmp_path):
    path = tmp_path / "mask.safetensors"
    mg.save({"mask": mg.tensor([True, False])}, path)
    raw = bytearray(path.read_bytes())
    raw[-1] = 7
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="BOOL tensor 'mask' holds bytes other than 0 and 1"):
        mg.load(path)


def test_load_rejects_a_pickled_torch_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3)}, path)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        mg.load(path)


def test_pytorch_reads_our_files(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    state = sample_state()
    path = tmp_path / "model.safetensors"
    mg.save(state, path, metadata={"format": "pt"})
    loaded = st_torch.load_file(str(path))
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        assert str(loaded[name].dtype) == "torch." + tensor.dtype.name
        expected = torch.tensor(tensor.tolist(), dtype=loaded[name].dtype).reshape(tuple(tensor.shape))
        assert torch.equal(loaded[name], expected), name


def test_we_read_pytorch_files(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    pytest.importorskip("numpy")  # safetensors.torch.save_file converts through numpy
    generator = torch.Generator().manual_seed(0)
    state = {"w": torch.randn(3, 4, generator=generator), "ids": torch.arange(5),
             "w64": torch.randn(2, dtype=torch.float64, generator=generator), "on": torch.tensor([True, False])}
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(state, str(path))
    loaded = mg.load(path)
    for name, tensor in state.items():
        assert loaded[name].dtype.name == str(tensor.dtype).removeprefix("torch.")
        assert loaded[name].tolist() == tensor.tolist(), name


def test_load_rejects_dtypes_minigrad_lacks(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    pytest.importorskip("numpy")  # safetensors.torch.save_file converts through numpy
    path = tmp_path / "half.safetensors"
    st_torch.save_file({"w": torch.ones(2, dtype=torch.float16)}, str(path))
    with pytest.raises(ValueError, match="unsupported dtype 'F16'"):
        mg.load(path)


_WRITER = """
import sys
import minigrad as mg
path, n = sys.argv[1], int(sys.argv[2])
versions = [mg.full((n,), 1.0), mg.full((n,), 2.0)]
print("ready", flush=True)
i = 0
while True:
    mg.save({"w": versions[i % 2]}, path, metadata={"version": str(i % 2)})
    i += 1
"""


def test_a_writer_killed_mid_save_leaves_a_complete_file(tmp_path):
    """SIGKILL a process that keeps rewriting the file: whenever it dies, the file is one
    complete version, never a torn mix."""
    path = tmp_path / "model.safetensors"
    n = 400_000  # 1.6 MB per save
    mg.save({"w": mg.zeros(n)}, path, metadata={"version": "initial"})
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for delay in (0.3, 0.45, 0.6):
        child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(n)], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        tensors, metadata = load_with_metadata(path)
        expected = {"initial": 0.0, "0": 1.0, "1": 2.0}[metadata["version"]]
        values = tensors["w"]
        assert values.numel() == n
        assert set(values.tolist()) == {expected}
