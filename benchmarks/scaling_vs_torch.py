"""How a recurrent training step's cost grows with its size: minigrad against torch 2.13.0.

    python benchmarks/scaling_vs_torch.py                 # LSTM and GRU, every size
    python benchmarks/scaling_vs_torch.py --quick         # fewer steps, fewer sizes
    python benchmarks/scaling_vs_torch.py --cells lstm --hidden 64 128 --batch 16

One step, as a new user would write it: a bidirectional recurrent layer (LSTM or GRU, input 64,
T = 30 steps, ``batch_first=False``), a Linear layer to 32 classes, cross entropy over every
position, ``zero_grad``, ``backward`` and an SGD step. Both libraries run single-threaded, each
size in its own subprocess per library (``--worker``), the libraries taking turns size by size,
from the same seed (minigrad draws torch's initial weights, so the first losses agree). The
figure is the median step time after two warm-up steps; ratio = minigrad / torch, lower is
better.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBS = {"torch": {}, "minigrad": {"MINIGRAD_REQUIRE_EXTENSIONS": "1"}}
INPUT, STEPS_IN_TIME, CLASSES = 64, 30, 32


def import_lib(name: str):
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        return torch
    import minigrad

    return minigrad


def measure(lib: str, cell: str, hidden: int, batch: int, steps: int) -> dict:
    torch = import_lib(lib)
    nn = torch.nn
    torch.manual_seed(0)
    layer = getattr(nn, cell.upper())(INPUT, hidden, bidirectional=True)
    head = nn.Linear(2 * hidden, CLASSES)
    parameters = list(layer.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(parameters, lr=0.01)
    loss_function = nn.CrossEntropyLoss()
    inputs = torch.randn(STEPS_IN_TIME, batch, INPUT)
    targets = torch.randint(0, CLASSES, (STEPS_IN_TIME * batch,))
    times, losses = [], []
    for _ in range(steps + 2):
        start = time.perf_counter()
        optimizer.zero_grad()
        outputs, _ = layer(inputs)
        loss = loss_function(head(outputs.reshape(-1, 2 * hidden)), targets)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        losses.append(loss.item())
    return {"seconds": statistics.median(times[2:]), "first_loss": losses[0]}


def run_worker(lib: str, cell: str, hidden: int, batch: int, steps: int) -> dict:
    env = dict(os.environ, **LIBS[lib], OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--worker", lib, cell, str(hidden), str(batch), str(steps)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{lib} {cell} hidden {hidden} batch {batch} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def steps_for(hidden: int, batch: int, quick: bool) -> int:
    """Timed steps: fewer for the larger sizes, but at least 5 (the median of 3 moved by several
    percent between runs at hidden 512)."""
    work = hidden * hidden * max(batch, 4)
    steps = max(5, min(20, int(4e7 / work)))
    return max(3, steps // 3) if quick else steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)  # LIB CELL HIDDEN BATCH STEPS
    parser.add_argument("--quick", action="store_true", help="fewer steps and sizes")
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=["lstm", "gru"])
    parser.add_argument("--hidden", nargs="+", type=int, default=None, help="default: 64 128 256 512")
    parser.add_argument("--batch", nargs="+", type=int, default=None, help="default: 1 16 64")
    args = parser.parse_args()
    if args.worker:
        lib, cell, hidden, batch, steps = args.worker
        print(json.dumps(measure(lib, cell, int(hidden), int(batch), int(steps))))
        return
    hiddens = args.hidden or ([64, 256] if args.quick else [64, 128, 256, 512])
    batches = args.batch or ([1, 16] if args.quick else [1, 16, 64])
    print(f"bidirectional recurrent layer, input {INPUT}, T={STEPS_IN_TIME}, Linear to {CLASSES}, cross entropy, "
          "SGD; one thread each; median step time")
    print(f"{'cell':5} {'hidden':>6} {'batch':>5} {'torch ms':>9} {'minigrad ms':>12} {'ratio':>6}  first losses")
    for cell in args.cells:
        for hidden in hiddens:
            for batch in batches:
                steps = steps_for(hidden, batch, args.quick)
                result = {lib: run_worker(lib, cell, hidden, batch, steps) for lib in LIBS}
                t, m = result["torch"], result["minigrad"]
                print(f"{cell:5} {hidden:6d} {batch:5d} {1e3 * t['seconds']:9.2f} {1e3 * m['seconds']:12.2f} "
                      f"{m['seconds'] / t['seconds']:6.2f}  {t['first_loss']:.5f} / {m['first_loss']:.5f}",
                      flush=True)


if __name__ == "__main__":
    main()
