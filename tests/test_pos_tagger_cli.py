"""The tagger's command line under bad input: one line on stderr saying what is wrong, a
non-zero exit status, options checked when parsed, ``--help`` with defaults, ``tag`` streaming
its input and ending quietly when the reader of its output goes away."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad.serialization import load_with_metadata

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "pos_tagger.py"
FIXTURE = ROOT / "tests" / "fixtures" / "ewt-sample.conllu"
SIZES = ["--word-dim", "4", "--char-dim", "2", "--char-features", "3", "--hidden", "3"]


def run(*args, stdin=b"", timeout=120):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], input=stdin, capture_output=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "m.safetensors"
    done = run("train", "--model", path, "--train", FIXTURE, "--dev", FIXTURE, "--epochs", "1", "--batch-size", "16",
               *SIZES)
    assert done.returncode == 0, done.stderr.decode()
    return path


def one_line_error(done, *fragments):
    assert done.returncode != 0
    err = done.stderr.decode()
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 or lines[0].startswith("usage:"), err
    for fragment in fragments:
        assert fragment in err, err
    return err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["tag", "--batch-size", "0"], "--batch-size: must be >= 1, got 0"),
        (["tag", "--batch-size", "-1"], "--batch-size: must be >= 1, got -1"),
        (["eval", "--batch-size", "x"], "expected an integer, got 'x'"),
        (["train", "--epochs", "0"], "--epochs: must be >= 1, got 0"),
        (["train", "--lr", "0"], "--lr: must be > 0.0, got 0"),
        (["train", "--lr", "nan"], "--lr: must be > 0.0, got nan"),
        (["train", "--dropout", "1"], "--dropout: must be >= 0.0 and < 1.0, got 1"),
        (["train", "--hidden", "0"], "--hidden: must be >= 1, got 0"),
        (["train", "--token-loss", "1"], "--token-loss adds to a CRF's loss"),
    ],
)
def test_bad_options_are_refused_when_parsed(tmp_path, args, fragment):
    done = run(*args, "--model", tmp_path / "never.safetensors")
    assert done.returncode == 2  # argparse's status for a usage error
    one_line_error(done, fragment)
    assert not (tmp_path / "never.safetensors").exists()


def test_help_shows_the_defaults():
    out = run("train", "--help").stdout.decode()
    assert "(default: 10)" in out and "(default: 64)" in out and "(default: 0.01)" in out


def test_a_missing_model(tmp_path):
    one_line_error(run("tag", "--model", tmp_path / "nope.safetensors"), "does not exist", "train one with")


def test_a_directory_as_model(tmp_path):
    one_line_error(run("eval", "--model", tmp_path, "--data", FIXTURE), "is a directory")


def test_a_corrupt_model(tmp_path):
    path = tmp_path / "corrupt.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    one_line_error(run("tag", "--model", path), "not a valid safetensors file")


def test_a_model_whose_weights_do_not_fit_its_configuration(model, tmp_path):
    state, metadata = load_with_metadata(model)
    del state[sorted(state)[0]]
    broken = tmp_path / "broken.safetensors"
    mg.save(state, broken, metadata=metadata)
    one_line_error(run("tag", "--model", broken), "do not fit the model")


def test_undecodable_input(model):
    one_line_error(run("tag", "--model", model, stdin=b"The dog \xff\xfe barks .\n"), "not UTF-8")


def test_tag_streams_and_keeps_blank_lines(model):
    done = run("tag", "--model", model, "--batch-size", "2", stdin=b"The dog barks .\n\nHello\nA b\nC\n")
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 5 and lines[1] == ""
    assert [pair.rsplit("/", 1)[0] for pair in lines[0].split()] == ["The", "dog", "barks", "."]


def test_tag_prints_a_batch_before_its_input_ends(model):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    child = subprocess.Popen([sys.executable, str(SCRIPT), "tag", "--model", str(model), "--batch-size", "1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        child.stdin.write(b"The dog barks .\n")
        child.stdin.flush()
        first = child.stdout.readline()  # arrives while stdin is still open
        assert first.decode().split()[0].startswith("The/")
    finally:
        child.stdin.close()
        child.wait(timeout=60)
        child.stdout.close()


def test_a_closed_output_pipe_ends_quietly(model):
    sentences = b"The dog barks .\n" * 400
    pipeline = subprocess.run(
        f'"{sys.executable}" "{SCRIPT}" tag --model "{model}" --batch-size 8 | head -1',
        shell=True, input=sentences, capture_output=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path])),
    )
    assert len(pipeline.stdout.decode().splitlines()) == 1
    assert b"Traceback" not in pipeline.stderr and b"BrokenPipe" not in pipeline.stderr, pipeline.stderr
