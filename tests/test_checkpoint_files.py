"""Checkpoint files under faults: the saved file's permissions, temporaries left by a writer
killed mid-save, malformed headers (ValueError naming the problem, reading only what the header
allows), and the opt-in integrity checks (``minigrad.load(verify=True)``, the tagger's sidecar)."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import minigrad as mg
from minigrad import _atomic
from minigrad.data import read_conllu

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from tagger.checkpoint import load_checkpoint, save_checkpoint, sidecar_path  # noqa: E402
from tagger.data import Vocabularies  # noqa: E402
from tagger.model import Tagger, TaggerConfig  # noqa: E402


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


# -- permissions -----------------------------------------------------------------------------------


def test_saving_over_a_private_file_keeps_it_private(tmp_path):
    path = tmp_path / "w.safetensors"
    mg.save({"w": mg.ones(2)}, path)
    path.chmod(0o600)
    mg.save({"w": mg.zeros(2)}, path)
    assert _mode(path) == 0o600
    assert mg.load(path)["w"].tolist() == [0.0, 0.0]


def test_a_new_file_gets_the_umasks_default_mode(tmp_path):
    previous = os.umask(0o077)
    try:
        mg.save({"w": mg.ones(2)}, tmp_path / "private.safetensors")
        os.umask(0o002)
        mg.save({"w": mg.ones(2)}, tmp_path / "group.safetensors")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "private.safetensors") == 0o600
    assert _mode(tmp_path / "group.safetensors") == 0o664


# -- temporaries of killed writers -------------------------------------------------------------------

_WRITER = """
import sys
import minigrad as mg
path = sys.argv[1]
big = mg.zeros(3_000_000)
print("ready", flush=True)
while True:
    mg.save({"w": big}, path)
"""


def _temporaries(path):
    return sorted(path.parent.glob(f".{path.name}.*"))


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_save_and_load(tmp_path):
    path = tmp_path / "model.safetensors"
    mg.save({"w": mg.zeros(2)}, path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    left = []
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 20
        while not _temporaries(path) and time.monotonic() < deadline:  # kill it mid-write
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        left += _temporaries(path)
    assert left, "no writer was caught mid-write"
    mg.load(path)  # a load of the path removes them ...
    assert _temporaries(path) == []
    for name in left:  # ... and so does a save
        name.write_bytes(b"stale")
    mg.save({"w": mg.zeros(2)}, path)
    assert _temporaries(path) == []


def test_the_temporary_of_a_running_writer_is_kept(tmp_path):
    path = tmp_path / "model.safetensors"
    mine = tmp_path / f".{path.name}.{os.getpid()}.abc{_atomic._SUFFIX}"
    mine.write_bytes(b"in progress")
    dead = tmp_path / f".{path.name}.999999999.abc{_atomic._SUFFIX}"
    dead.write_bytes(b"stale")
    other = tmp_path / ".other.safetensors.999999999.abc.minigrad-tmp"
    other.write_bytes(b"another path's")
    assert _atomic.remove_stale_temporaries(path) == [dead]
    assert mine.exists() and other.exists()


# -- malformed files ---------------------------------------------------------------------------------


def _file(tmp_path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path = tmp_path / "bad.safetensors"
    n = len(header) if length is None else length
    path.write_bytes(n.to_bytes(8, "little") + header + data)
    return path


@pytest.mark.parametrize(
    "header, fragment",
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests JSON values too deeply"),
        (b'{"w": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}', "unsupported dtype ['F32']"),
        (b'{"w": {"dtype": {"a": 1}, "shape": [1], "data_offsets": [0, 4]}}', "unsupported dtype"),
        (b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"a": [1]}}',
         "must map strings to strings"),
        (b'{"w": 5}', "expected an object"),
        (b'{"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 4]}}', "invalid shape"),
        (b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', "out of range"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_headers_raise_value_error_naming_the_problem(tmp_path, header, fragment):
    with pytest.raises(ValueError, match="not a valid safetensors file") as info:
        mg.load(_file(tmp_path, header))
    assert fragment in str(info.value)


def test_a_header_longer_than_the_file_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="runs past the end"):
        mg.load(_file(tmp_path, b"{}", length=1000))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_rejected_after_reading_its_header_length():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="header is not valid JSON"):
        mg.load("/dev/zero")
    assert time.perf_counter() - start < 1.0


def test_a_pipe_is_read_only_as_far_as_the_header_describes(tmp_path):
    good = tmp_path / "good.safetensors"
    mg.save({"w": mg.tensor([1.0, 2.0])}, good)
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f'exec cat "{good}" /dev/zero > "{fifo}"'])  # one writer, no EOF
    try:
        with pytest.raises(ValueError, match="belong to no tensor"):
            mg.load(fifo)  # the tensors' bytes, then endless zeros: refused after one extra byte
    finally:
        writer.kill()
        writer.wait()


def test_a_directory_raises_an_os_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        mg.load(tmp_path)


# -- integrity ----------------------------------------------------------------------------------------


def _flip_last_data_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_data_bytes_are_caught_by_verify(tmp_path):
    path = tmp_path / "w.safetensors"
    state = {"w": mg.tensor([1.0, 2.0, 3.0]), "ids": mg.tensor([1, 2])}
    mg.save(state, path, checksum=True)
    assert mg.load(path, verify=True)["w"].tolist() == [1.0, 2.0, 3.0]
    _flip_last_data_byte(path)
    assert mg.load(path)["w"].tolist() != [1.0, 2.0, 3.0]  # unchecked: loads silently, as before
    with pytest.raises(ValueError, match="does not match the sha256"):
        mg.load(path, verify=True)


def test_verify_refuses_a_file_without_a_checksum(tmp_path):
    path = tmp_path / "w.safetensors"
    mg.save({"w": mg.ones(1)}, path)
    with pytest.raises(ValueError, match="records no checksum"):
        mg.load(path, verify=True)


def test_the_checksum_is_plain_metadata_other_readers_ignore(tmp_path):
    torch_st = pytest.importorskip("safetensors.torch")
    pytest.importorskip("torch")
    path = tmp_path / "w.safetensors"
    mg.save({"w": mg.tensor([1.0, 2.0])}, path, metadata={"format": "pt"}, checksum=True)
    assert torch_st.load_file(str(path))["w"].tolist() == [1.0, 2.0]


def test_the_tagger_checks_its_weights_against_the_sidecar(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "ewt-sample.conllu"
    vocabs = Vocabularies.build(read_conllu(fixture))
    mg.manual_seed(0)
    model = Tagger(vocabs, TaggerConfig(word_dim=4, char_dim=2, char_features=3, hidden=3))
    path = tmp_path / "tagger.safetensors"
    save_checkpoint(path, model, vocabs)
    load_checkpoint(path)
    _flip_last_data_byte(path)
    with pytest.raises(ValueError, match="does not match the one recorded in tagger.json"):
        load_checkpoint(path)
    sidecar_path(path).write_text(json.dumps({"format": "x"}))
    with pytest.raises(ValueError, match="damaged sidecar"):
        load_checkpoint(path)
    sidecar_path(path).unlink()  # without a sidecar the file loads unchecked, as before
    load_checkpoint(path)
