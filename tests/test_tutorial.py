"""The tutorial example, run as a user runs it, prints PyTorch's output number for number.

Also: the same program with its four imports switched back to torch runs on torch and prints
the same numbers, and the Viterbi example (the tutorial's exercise) decodes optimally.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "examples" / "sequence_models_tutorial.py"
VITERBI = ROOT / "examples" / "viterbi.py"

# What PyTorch 2.13.0 (CPU) prints for the original tutorial program
# (pytorch/tutorials beginner_source/nlp/sequence_models_tutorial.py), copied verbatim.
# The grad_fn=<...> names are PyTorch's internal node names; minigrad prints its own there.
TORCH_OUTPUT = """\
tensor([[[-0.0187,  0.1713, -0.2944]],

        [[-0.3521,  0.1026, -0.2971]],

        [[-0.3191,  0.0781, -0.1957]],

        [[-0.1634,  0.0941, -0.1637]],

        [[-0.3368,  0.0959, -0.0538]]], grad_fn=<MkldnnRnnLayerBackward0>)
(tensor([[[-0.3368,  0.0959, -0.0538]]], grad_fn=<StackBackward0>), \
tensor([[[-0.9825,  0.4715, -0.0633]]], grad_fn=<StackBackward0>))
{'The': 0, 'dog': 1, 'ate': 2, 'the': 3, 'apple': 4, 'Everybody': 5, 'read': 6, 'that': 7, 'book': 8}
tensor([[-1.1389, -1.2024, -0.9693],
        [-1.1065, -1.2200, -0.9834],
        [-1.1286, -1.2093, -0.9726],
        [-1.1190, -1.1960, -0.9916],
        [-1.0137, -1.2642, -1.0366]])
tensor([[-0.0462, -4.0106, -3.6096],
        [-4.8205, -0.0286, -3.9045],
        [-3.7876, -4.1355, -0.0394],
        [-0.0185, -4.7874, -4.6013],
        [-5.7881, -0.0186, -4.1778]])
"""

NUMBER = re.compile(r"-?\d+\.\d+|-?\d+")
GRAD_FN = re.compile(r"grad_fn=<(\w+)>")


def _run(script: Path, cwd: Path) -> str:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # torch's thread pool only slows tiny ops down
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(GRAD_FN.sub("", text))


def _layout(text: str) -> str:
    return GRAD_FN.sub("grad_fn=<...>", text)


@pytest.fixture(scope="module")
def minigrad_output() -> str:
    return _run(TUTORIAL, ROOT)


def test_tutorial_prints_torchs_numbers(minigrad_output):
    assert _numbers(minigrad_output) == _numbers(TORCH_OUTPUT)
    assert len(_numbers(TORCH_OUTPUT)) == 15 + 3 + 3 + 9 + 15 + 15  # out, h, c, word ids, 2 x scores


def test_tutorial_prints_torchs_layout(minigrad_output):
    assert _layout(minigrad_output) == _layout(TORCH_OUTPUT)
    # the three tensors that carry history name a minigrad node
    assert len(GRAD_FN.findall(minigrad_output)) == 3


def test_tutorial_runs_on_torch_with_only_the_imports_changed(tmp_path, minigrad_output):
    pytest.importorskip("torch")
    source = TUTORIAL.read_text()
    imports = {
        "import minigrad as torch\n": "import torch\n",
        "import minigrad.nn as nn\n": "import torch.nn as nn\n",
        "import minigrad.nn.functional as F\n": "import torch.nn.functional as F\n",
        "import minigrad.optim as optim\n": "import torch.optim as optim\n",
    }
    for ours, theirs in imports.items():
        assert source.count(ours) == 1
        source = source.replace(ours, theirs)
    assert "minigrad" not in source.split('"""', 2)[2]  # nothing else in the program names minigrad
    script = tmp_path / "sequence_models_tutorial_torch.py"
    script.write_text(source)
    torch_output = _run(script, tmp_path)
    assert _layout(torch_output) == _layout(TORCH_OUTPUT)
    assert _numbers(torch_output) == _numbers(minigrad_output)


# -- the Viterbi example --------------------------------------------------------------------------


def _load_viterbi():
    spec = importlib.util.spec_from_file_location("viterbi_example", VITERBI)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _brute_force(emissions, transitions, start, end):
    """The best path by trying all K^T of them."""
    steps, tags = len(emissions), len(transitions)
    best = None
    for path in itertools.product(range(tags), repeat=steps):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t][path[t]] for t in range(steps))
        score += sum(transitions[i][j] for i, j in zip(path, path[1:]))
        if best is None or score > best[0]:
            best = (score, list(path))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_viterbi_finds_the_best_path(seed):
    viterbi = _load_viterbi()
    rng = random.Random(seed)
    steps, tags = rng.randint(1, 6), rng.randint(1, 4)
    emissions = [[rng.uniform(-3, 1) for _ in range(tags)] for _ in range(steps)]
    transitions = [[rng.uniform(-2, 0) for _ in range(tags)] for _ in range(tags)]
    start = [rng.uniform(-1, 0) for _ in range(tags)]
    end = [rng.uniform(-1, 0) for _ in range(tags)]
    score, path = viterbi.viterbi_decode(
        mg.tensor(emissions, dtype=mg.float64),
        mg.tensor(transitions, dtype=mg.float64),
        mg.tensor(start, dtype=mg.float64),
        mg.tensor(end, dtype=mg.float64),
    )
    best_score, best_path = _brute_force(emissions, transitions, start, end)
    assert path == best_path
    assert score == pytest.approx(best_score, rel=1e-12)


def test_viterbi_transitions_are_smoothed_log_probabilities():
    viterbi = _load_viterbi()
    transitions, start, end = viterbi.transition_scores([[0, 1, 1], [1, 0]], 2)
    # every count starts at 1. Pairs: 0->1, 1->1, 1->0 once each. First tags: 0 once, 1 once.
    # Tag 0 continues once and ends once; tag 1 continues twice and ends once.
    log = math.log
    assert transitions.reshape(-1).tolist() == pytest.approx([log(1 / 3), log(2 / 3), log(2 / 4), log(2 / 4)])
    assert start.tolist() == pytest.approx([log(2 / 4), log(2 / 4)])
    assert end.tolist() == pytest.approx([log(2 / 4), log(2 / 5)])


def test_viterbi_example_fixes_the_greedy_tags():
    output = _run(VITERBI, ROOT)
    blocks = output.strip().split("\n")
    assert blocks[0] == "The dog ate the apple"
    assert blocks[2].startswith("  viterbi: DET NN V DET NN")
    assert blocks[5].startswith("  viterbi: NN V DET NN")
