"""minigrad (each backend) against torch 2.13.0, same workloads, same run, single-threaded.

    python benchmarks/bench_vs_torch.py            # every workload
    python benchmarks/bench_vs_torch.py --quick    # fewer repeats and a shorter W2

Each run of a library is its own subprocess (``--worker LIB WORKLOAD``; W3 apart, see below) so
that imports, backends and memory do not mix, and the libraries take turns within each repeat,
so that a change in the machine's load reaches all of them alike. The parent prints per-workload medians, the ratio
minigrad/torch and a checksum (the final loss, next to torch's at the same step) showing both did
the same work from identical weights (both seed with ``manual_seed`` and minigrad reproduces
torch's initialisation bit for bit).

Workloads
- W1, the tutorial: 2 sentences, emb 6, hidden 6, 300 epochs (600 SGD steps).
- W2, a scaled tagger: a deterministic synthetic corpus (vocab 5000, 12 tags, 500 sentences of
  5..40 words), emb 64, hidden 128, one epoch, one sentence per step.
- W2-GRU, the same with an ``nn.GRU`` in place of the ``nn.LSTM``.
- W3, per-op overhead: tiny tensors; forward alone and forward + backward. Here each minigrad
  backend's worker imports torch too and times the two in turns of a few milliseconds, op by
  op, and the ratio is the median of those back-to-back pairs: this machine's speed changes
  over seconds, by more than the differences measured.
- W4, the tutorial example as a whole process (import included): wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIBS = {
    "torch": {},
    "minigrad-cython": {"MINIGRAD_REQUIRE_EXTENSIONS": "1"},
    "minigrad-python": {"MINIGRAD_NO_EXTENSIONS": "1"},
}


# -- the workloads, written once against the torch API -----------------------------------------


def import_lib(name: str):
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        return torch
    import minigrad

    expected = name.split("-")[1]
    if minigrad.backend != expected:
        raise SystemExit(f"wanted the {expected} backend, got {minigrad.backend}")
    return minigrad


def make_tagger(torch, vocab: int, tags: int, emb: int, hidden: int, cell: str = "LSTM"):
    nn = torch.nn
    F = torch.nn.functional

    class LSTMTagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(vocab, emb)
            self.lstm = getattr(nn, cell)(emb, hidden)
            self.hidden2tag = nn.Linear(hidden, tags)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            return F.log_softmax(tag_space, dim=1)

    return LSTMTagger()


def train(
    torch, data: list, vocab: int, tags: int, emb: int, hidden: int, epochs: int, cell: str = "LSTM"
) -> tuple[list, list]:
    """Train one sentence per step; returns (seconds of each step, loss of each step)."""
    torch.manual_seed(1)
    model = make_tagger(torch, vocab, tags, emb, hidden, cell)
    loss_function = torch.nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    tensors = [
        (torch.tensor(words, dtype=torch.long), torch.tensor(labels, dtype=torch.long)) for words, labels in data
    ]
    times, losses = [], []
    clock = time.perf_counter
    for _ in range(epochs):
        for sentence, targets in tensors:
            start = clock()
            model.zero_grad()
            loss = loss_function(model(sentence), targets)
            loss.backward()
            optimizer.step()
            times.append(clock() - start)
            losses.append(loss.item())  # outside the timed step
    return times, losses


def tutorial_data() -> list:
    training = [
        ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
        ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
    ]
    word_to_ix: dict[str, int] = {}
    for sent, _ in training:
        for word in sent:
            word_to_ix.setdefault(word, len(word_to_ix))
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}
    return [([word_to_ix[w] for w in s], [tag_to_ix[t] for t in ts]) for s, ts in training]


def synthetic_corpus(sentences: int) -> list:
    """Deterministic sentences of 5..40 words over a 5000-word vocabulary with 12 tags."""
    rng = random.Random(0)
    tag_of_word = [rng.randrange(12) for _ in range(5000)]
    data = []
    for _ in range(sentences):
        words = [rng.randrange(5000) for _ in range(rng.randint(5, 40))]
        data.append((words, [tag_of_word[w] for w in words]))
    return data


def tiny_ops(torch) -> dict[str, Callable[[], Any]]:
    """The ops an LSTM tagger uses, on tiny tensors (per-op overhead, not arithmetic)."""
    torch.manual_seed(0)
    x = torch.randn(1, 24, requires_grad=True)
    w = torch.randn(6, 24, requires_grad=True)
    h = torch.randn(1, 6, requires_grad=True)
    idx = torch.tensor([0, 2, 1])
    table = torch.randn(9, 6, requires_grad=True)
    target = torch.tensor([1])
    F = torch.nn.functional
    return {
        "add": lambda: h + h,
        "mul": lambda: h * h,
        "matmul": lambda: x @ w.t(),
        "tanh": lambda: h.tanh(),
        "sigmoid": lambda: h.sigmoid(),
        "view": lambda: h.view(6, 1),
        "index": lambda: x[0],
        "cat": lambda: torch.cat([h, h], 1),
        "embedding": lambda: F.embedding(idx, table),
        "log_softmax": lambda: F.log_softmax(h, dim=1),
        "nll_loss": lambda: F.nll_loss(F.log_softmax(h, dim=1), target),
    }


def time_op(torch, op: Callable[[], Any], mode: str, calls: int) -> float:
    """Microseconds per call of ``op()`` (under no_grad) or of ``op().sum().backward()``."""
    start = time.perf_counter()
    if mode == "forward":
        with torch.no_grad():
            for _ in range(calls):
                op()
    else:
        for _ in range(calls):
            op().sum().backward()
    return (time.perf_counter() - start) / calls * 1e6


def per_op_pairs(minigrad, torch, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """For each op and mode, ``rounds`` pairs (torch's, minigrad's microseconds per call), each
    pair measured back to back in this one process, so that both see the machine alike."""
    ops = {"torch": tiny_ops(torch), "minigrad": tiny_ops(minigrad)}
    pairs: dict[str, list[tuple[float, float]]] = {}
    for name in ops["torch"]:
        for mode in ("forward", "forward+backward"):
            calls = 1000 if mode == "forward" else 100
            pairs[f"{name} {mode}"] = [
                (time_op(torch, ops["torch"][name], mode, calls), time_op(minigrad, ops["minigrad"][name], mode, calls))
                for _ in range(rounds)
            ]
    return pairs


W2_SENTENCES = {"full": 500, "quick": 25, "minigrad-python": 25}
"""The pure kernels need minutes for the full W2 epoch, so they train on the first 25 sentences;
their ratio is taken against torch's first 25 steps (same sentences, same weights)."""


def worker(lib: str, workload: str, quick: bool) -> None:
    """One run of one workload (the parent repeats runs, alternating the libraries)."""
    torch = import_lib(lib)
    if workload == "W1":
        times, losses = train(torch, tutorial_data(), 9, 3, 6, 6, 300)
        result = {"step_times": [statistics.median(times)], "losses": losses}
    elif workload in ("W2", "W2-GRU"):
        sentences = W2_SENTENCES["quick" if quick else lib if lib in W2_SENTENCES else "full"]
        cell = "GRU" if workload == "W2-GRU" else "LSTM"
        times, losses = train(torch, synthetic_corpus(sentences), 5000, 12, 64, 128, 1, cell)
        result = {"step_times": times, "losses": losses}
    elif workload == "W3":
        result = {"pairs": per_op_pairs(minigrad=torch, torch=import_lib("torch"), rounds=10 if quick else 40)}
    else:
        raise SystemExit(f"unknown workload {workload}")
    print(json.dumps(result))


# -- the parent: run every library on every workload and compare ------------------------------


def _base_environment() -> dict[str, str]:
    """This process's environment without the backend switches: each library sets its own."""
    return {k: v for k, v in os.environ.items() if k not in ("MINIGRAD_NO_EXTENSIONS", "MINIGRAD_REQUIRE_EXTENSIONS")}


def run_worker(lib: str, workload: str, quick: bool) -> dict:
    env = {**_base_environment(), **LIBS[lib]}
    cmd = [sys.executable, __file__, "--worker", lib, workload] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"{lib} {workload} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(libs: list, repeats: int, run_once: Callable[[str], Any]) -> dict[str, list]:
    """``repeats`` results of ``run_once(lib)`` per library, the libraries taking turns within each
    repeat, so that a change in the machine's load reaches every library alike."""
    results: dict[str, list] = {lib: [] for lib in libs}
    for _ in range(repeats):
        for lib in libs:
            results[lib].append(run_once(lib))
    return results


def whole_process(lib: str, cache: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of running the tutorial example once as a process.

    Both libraries import from compiled bytecode, as an installed package does (pip compiles
    torch's at install): bytecode may be written (to ``cache``, not into the source tree), and
    ``main`` makes an untimed first run of each library to write it.
    """
    source = (ROOT / "examples" / "sequence_models_tutorial.py").read_text()
    if lib == "torch":
        source = source.replace("import minigrad.nn.functional as F", "import torch.nn.functional as F")
        source = source.replace("import minigrad.optim as optim", "import torch.optim as optim")
        source = source.replace("import minigrad.nn as nn", "import torch.nn as nn")
        source = source.replace("import minigrad as torch", "import torch")
        source = "import torch\ntorch.set_num_threads(1)\n" + source
    script = ROOT / "benchmarks" / f".tutorial_{lib}.py"
    script.write_text(source)
    env = {**_base_environment(), **LIBS[lib], "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    finally:
        script.unlink()
    if status:
        raise SystemExit(f"the tutorial failed on {lib}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a shorter W2")
    parser.add_argument("--worker", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.quick)
        return
    libs = list(LIBS)
    repeats = 3 if args.quick else 5
    print(f"python {sys.version.split()[0]}, torch single-threaded; medians; libraries take turns\n")
    for workload, title in (
        ("W1", "W1 tutorial tagger (600 steps)"),
        ("W2", "W2 scaled tagger (vocab 5000, 64/128)"),
        ("W2-GRU", "W2-GRU the scaled tagger with a GRU"),
    ):
        results = interleaved(libs, repeats, lambda lib, workload=workload: run_worker(lib, workload, args.quick))
        reference = results["torch"][-1]
        print(title)
        for lib in libs:
            r = results[lib][-1]
            steps = len(r["losses"])
            # W1: the median over runs of each run's median step; W2: the median step over every run's
            # epoch, against torch's same steps (a prefix of each of its epochs when this library ran fewer).
            per_step = statistics.median(t for run in results[lib] for t in run["step_times"])
            prefix = len(r["step_times"]) if workload.startswith("W2") else None
            base = statistics.median(t for run in results["torch"] for t in run["step_times"][:prefix])
            loss, torch_loss = r["losses"][-1], reference["losses"][steps - 1]
            print(
                f"  {lib:16s} {per_step * 1e3:9.3f} ms/step  ratio {per_step / base:7.3f}"
                f"  final loss {loss:.6f} (torch {torch_loss:.6f} at step {steps})"
            )
        print()
    # W3: each minigrad backend measures itself against torch in its own process, op by op, the two
    # taking turns every 100 or 1000 calls; the ratio is the median of the pairs' ratios.
    mini = [lib for lib in libs if lib != "torch"]
    pairs = {lib: run_worker(lib, "W3", args.quick)["pairs"] for lib in mini}
    print("W3 per-op overhead (microseconds per call, medians; ratio: median of back-to-back pairs)")
    print(f"  {'op':28s}" + "".join(f"{'torch':>10s}{lib:>18s}{'ratio':>9s}" for lib in mini))
    for op in pairs[mini[0]]:
        cells = ""
        for lib in mini:
            torch_us = statistics.median(t for t, _ in pairs[lib][op])
            own = statistics.median(m for _, m in pairs[lib][op])
            ratio = statistics.median(m / t for t, m in pairs[lib][op])
            cells += f"{torch_us:10.2f}{own:18.2f}{ratio:8.2f}x"
        print(f"  {op:28s}{cells}")
    print()
    print("W4 the tutorial example as a whole process")
    with tempfile.TemporaryDirectory() as cache:
        for lib in libs:
            whole_process(lib, cache)  # untimed: compiles and caches the bytecode
        processes = interleaved(libs, repeats, lambda lib: whole_process(lib, cache))
    base = statistics.median(seconds for seconds, _ in processes["torch"])
    for lib in libs:
        seconds = statistics.median(t for t, _ in processes[lib])
        peak = max(p for _, p in processes[lib])
        print(f"  {lib:16s} {seconds:7.3f} s  ratio {seconds / base:6.3f}  peak RSS {peak:7.1f} MiB")


if __name__ == "__main__":
    main()
