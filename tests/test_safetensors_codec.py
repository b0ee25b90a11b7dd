"""The safetensors codec: layout per the format description in the safetensors README
(8-byte little-endian header length, space-padded JSON header, packed buffer), every
corruption case, and interoperability with the reference implementation."""

import json
import os
import struct
import zipfile

import pytest

from minigrad import _safetensors
from minigrad._safetensors import load_file, save_file

TENSORS = {
    "weight": ("float32", (2, 3), struct.pack("<6f", 1.0, -2.5, 0.125, 3.0, 1e-3, -0.0)),
    "bias": ("float64", (3,), struct.pack("<3d", 0.1, 0.2, -1e300)),
    "steps": ("int64", (), struct.pack("<q", -(2**40))),
    "mask": ("bool", (2, 2), bytes([1, 0, 0, 1])),
    "empty": ("float32", (0, 4), b""),
}


def read_header(path):
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return length, raw[8 : 8 + length], raw[8 + length :]


def write_raw(path, header, buffer=b""):
    """A file with an arbitrary header (a JSON-able object or raw bytes) and buffer."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(header_bytes)) + header_bytes + buffer)
    return path


def test_round_trip(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(TENSORS, path, metadata={"format": "minigrad", "epoch": "3"})
    tensors, metadata = load_file(path)
    assert tensors == TENSORS
    assert metadata == {"format": "minigrad", "epoch": "3"}


def test_round_trip_without_metadata(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(TENSORS, path)
    assert load_file(path) == (TENSORS, {})
    assert b"__metadata__" not in path.read_bytes()


def test_exact_bytes_of_a_one_tensor_file(tmp_path):
    # By hand from the format description: the 54-byte JSON header is padded with two
    # spaces to 56 (a multiple of 8), preceded by 56 as a little-endian u64.
    path = tmp_path / "x.safetensors"
    save_file({"x": ("float32", (2,), struct.pack("<2f", 1.0, 2.0))}, path)
    header = b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    assert len(header) == 54
    assert path.read_bytes() == (b"\x38" + b"\x00" * 7) + header + b"  " + b"\x00\x00\x80\x3f\x00\x00\x00\x40"


def test_layout_largest_itemsize_first_then_by_name(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(TENSORS, path, metadata={"k": "v"})
    length, header_bytes, buffer = read_header(path)
    assert length % 8 == 0 and (8 + length) % 8 == 0
    header = json.loads(header_bytes)
    offsets = {name: info["data_offsets"] for name, info in header.items() if name != "__metadata__"}
    # 8-byte items (bias 24 B, steps 8 B), then 4-byte (empty 0 B, weight 24 B), then bool (4 B).
    assert offsets == {"bias": [0, 24], "steps": [24, 32], "empty": [32, 32], "weight": [32, 56], "mask": [56, 60]}
    assert [header[name]["dtype"] for name in ("bias", "steps", "weight", "mask")] == ["F64", "I64", "F32", "BOOL"]
    assert header["__metadata__"] == {"k": "v"}
    assert len(buffer) == 60


def test_save_replaces_atomically_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old")
    save_file(TENSORS, path)
    assert load_file(path)[0] == TENSORS
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save_file({"a": ("int64", (1,), struct.pack("<q", 7))}, path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(_safetensors.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_file(TENSORS, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


@pytest.mark.parametrize(
    ("tensors", "metadata", "error", "message"),
    [
        ({"a": ("float16", (1,), b"\0\0")}, None, ValueError, "unsupported dtype 'float16'"),
        (
            {"a": ("float32", (2,), b"\0" * 4)},
            None,
            ValueError,
            "has 4 bytes of data but float32 of shape (2,) needs 8",
        ),
        ({"a": ("float32", (-1,), b"")}, None, ValueError, "invalid shape (-1,)"),
        ({"a": ("float32", (True,), b"")}, None, ValueError, "invalid shape (True,)"),
        ({"a": ("float32", (1,), [0.0])}, None, TypeError, "data must be bytes, got list"),
        ({"a": ("float32", (1,))}, None, TypeError, "must be a (dtype, shape, data) tuple"),
        ({1: ("float32", (0,), b"")}, None, TypeError, "tensor names must be str"),
        ({"__metadata__": ("float32", (0,), b"")}, None, ValueError, "reserved for metadata"),
        ({}, {"epoch": 3}, TypeError, "metadata must be a dict mapping str to str"),
    ],
)
def test_save_rejects_bad_input(tmp_path, tensors, metadata, error, message):
    with pytest.raises(error) as info:
        save_file(tensors, tmp_path / "bad.safetensors", metadata)
    assert message in str(info.value)
    assert os.listdir(tmp_path) == []


def test_load_names_the_file(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match=f"^{path}: not a valid safetensors file: the file has 3 bytes"):
        load_file(path)


GOOD_ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    ("header", "buffer", "message"),
    [
        ({"a": {**GOOD_ENTRY, "dtype": "F16"}}, b"\0" * 8, "tensor 'a' has unsupported dtype 'F16'"),
        ({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, "tensor 'a': missing data_offsets"),
        ({"a": [1, 2]}, b"", "tensor 'a': expected an object"),
        ({"a": {**GOOD_ENTRY, "shape": [-2]}}, b"\0" * 8, "tensor 'a' has invalid shape [-2]"),
        ({"a": {**GOOD_ENTRY, "shape": "2"}}, b"\0" * 8, "tensor 'a' has invalid shape '2'"),
        ({"a": {**GOOD_ENTRY, "data_offsets": [8, 0]}}, b"\0" * 8, "invalid data_offsets [8, 0]"),
        ({"a": {**GOOD_ENTRY, "data_offsets": [0]}}, b"\0" * 8, "invalid data_offsets [0]"),
        ({"a": GOOD_ENTRY}, b"\0" * 4, "data_offsets [0, 8] are out of range for the 4-byte data buffer"),
        (
            {"a": {**GOOD_ENTRY, "data_offsets": [0, 12]}},
            b"\0" * 12,
            "data_offsets [0, 12] span 12 bytes but F32 of shape [2] needs 8",
        ),
        (
            {"a": GOOD_ENTRY, "b": {**GOOD_ENTRY, "data_offsets": [4, 12]}},
            b"\0" * 12,
            "tensor 'b' (bytes 4..12) overlaps the tensor before it",
        ),
        (
            {"a": GOOD_ENTRY, "b": {**GOOD_ENTRY, "data_offsets": [12, 20]}},
            b"\0" * 20,
            "gap in the data buffer: bytes 8..12 before tensor 'b'",
        ),
        ({"a": {**GOOD_ENTRY, "data_offsets": [4, 12]}}, b"\0" * 12, "gap in the data buffer: bytes 0..4"),
        ({"a": GOOD_ENTRY}, b"\0" * 10, "the last 2 bytes of the data buffer belong to no tensor"),
        ({"__metadata__": {"epoch": 3}}, b"", "__metadata__ must map strings to strings"),
        ([1, 2], b"", "header is a JSON list, expected an object"),
        (b'{"a": ', b"", "header is not valid JSON"),
        (b'{"a": 1, "a": 2}', b"", "header repeats the key 'a'"),
        (b'{"\xff": 1}', b"", "header is not UTF-8"),
    ],
)
def test_load_rejects_corrupt_files(tmp_path, header, buffer, message):
    path = write_raw(tmp_path / "bad.safetensors", header, buffer)
    with pytest.raises(ValueError, match=f"^{path}: not a valid safetensors file: ") as info:
        load_file(path)
    assert message in str(info.value)


def test_load_rejects_header_length_beyond_the_file(tmp_path):
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(struct.pack("<Q", 100) + b"{}")
    with pytest.raises(ValueError, match="header length 100 runs past the end of the 10-byte file"):
        load_file(path)


def test_load_rejects_files_that_are_not_safetensors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("just some text, certainly not a model\n")
    with pytest.raises(ValueError, match="not a valid safetensors file: header length .* exceeds the limit"):
        load_file(text)
    archive = tmp_path / "model.zip"  # e.g. a torch.save checkpoint is a zip archive
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data.pkl", b"x" * 10)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        load_file(archive)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="the file has 0 bytes, too few for the 8-byte header length"):
        load_file(empty)


def test_zero_size_tensors_may_share_an_offset(tmp_path):
    header = {
        "a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
        "b": {"dtype": "I64", "shape": [0, 5], "data_offsets": [0, 0]},
        "c": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]},
    }
    tensors, _ = load_file(write_raw(tmp_path / "z.safetensors", header, b"\x01"))
    assert tensors == {"a": ("float32", (0,), b""), "b": ("int64", (0, 5), b""), "c": ("bool", (1,), b"\x01")}


# Interoperability with the reference implementation (the `safetensors` package).


def torch_tensors(torch):
    """TENSORS as torch tensors, built from the same values (not from our bytes)."""
    return {
        "weight": torch.tensor([[1.0, -2.5, 0.125], [3.0, 1e-3, -0.0]], dtype=torch.float32),
        "bias": torch.tensor([0.1, 0.2, -1e300], dtype=torch.float64),
        "steps": torch.tensor(-(2**40), dtype=torch.int64),
        "mask": torch.tensor([[True, False], [False, True]]),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
    }


STRUCT_CODES = {"float32": "f", "float64": "d", "int64": "q", "bool": "?"}


def unpack_values(record):
    dtype, _, data = record
    code = STRUCT_CODES[dtype]
    return list(struct.unpack(f"<{len(data) // struct.calcsize(code)}{code}", data))


def flat_values(tensor):
    return tensor.reshape(-1).tolist()


def test_reference_implementation_reads_our_files(tmp_path):
    pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    import safetensors
    import safetensors.torch

    path = tmp_path / "ours.safetensors"
    save_file(TENSORS, path, metadata={"format": "pt", "note": "written by minigrad"})
    loaded = safetensors.torch.load_file(str(path))
    expected = torch_tensors(torch)
    assert loaded.keys() == expected.keys()
    for name, tensor in expected.items():
        assert loaded[name].dtype == tensor.dtype and loaded[name].shape == tensor.shape, name
        assert torch.equal(loaded[name], tensor), name
    assert torch.signbit(loaded["weight"][1, 2])  # -0.0 kept (torch.equal treats it as 0.0)
    with safetensors.safe_open(str(path), framework="pt") as handle:
        assert handle.metadata() == {"format": "pt", "note": "written by minigrad"}


def reference_save_file(safetensors, tensors, path, metadata):
    """The reference writer. `safetensors.torch.save_file` needs numpy (not installed in the
    dev environment); it passes each tensor's buffer to `serialize_file` as a `TensorSpec`,
    which is what this does without numpy."""
    if not hasattr(safetensors, "TensorSpec"):
        pytest.skip("this safetensors version has no TensorSpec")
    specs = {
        name: safetensors.TensorSpec(
            dtype=str(tensor.dtype).removeprefix("torch."),
            shape=list(tensor.shape),
            data_ptr=tensor.data_ptr(),
            data_len=tensor.numel() * tensor.element_size(),
        )
        for name, tensor in tensors.items()
    }
    safetensors.serialize_file(specs, str(path), metadata=metadata)


def test_we_read_reference_files(tmp_path):
    pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    import safetensors

    path = tmp_path / "reference.safetensors"
    tensors = torch_tensors(torch)
    reference_save_file(safetensors, tensors, path, {"format": "pt"})
    loaded, metadata = load_file(path)
    assert metadata == {"format": "pt"}
    assert loaded.keys() == tensors.keys()
    dtypes = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}
    for name, tensor in tensors.items():
        dtype, shape, _ = loaded[name]
        assert (dtype, shape) == (dtypes[tensor.dtype], tuple(tensor.shape)), name
        assert unpack_values(loaded[name]) == flat_values(tensor), name
    # Same values as our own writer's bytes for the same tensors.
    assert loaded == TENSORS
