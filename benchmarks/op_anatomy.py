"""Where a tiny op's time goes: torch's whole op beside minigrad's whole op and its floor.

    python benchmarks/op_anatomy.py            # the Cython core (the build must have it)
    python benchmarks/op_anatomy.py --calls 20000

W3 of ``bench_vs_torch.py`` times ops on tiny tensors under ``no_grad``. This script splits three
of them (an addition, a view, a join) into the parts that minigrad cannot skip however its op
code is written, as long as a tensor is a Python object: the kernel call, the output buffer
and the new tensor object. Their sum is the op's *floor*; the rest of minigrad's time is the
Python around them (dispatch, type promotion and broadcasting, the ``Function`` machinery).
When the floor alone comes near torch's whole op, no tuning of that Python reaches torch's time.

It reads minigrad's internals (the kernels module, ``Tensor._make``), so it is a diagnostic,
not an API example. Each part is timed in turns with the others, the median of the rounds
printed, in microseconds per call (less the cost of calling an empty function, measured beside
each).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

import minigrad
from minigrad._backend import kernels as K
from minigrad._tensor import Tensor, empty_buffer


def per_call(function: Callable[[], object], calls: int) -> float:
    """Microseconds per call of ``function()``, the loop and the call included."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def nothing() -> None:
    """The loop and the call alone: subtracted from every timing, so that parts add up."""


def anatomy() -> dict[str, dict[str, Callable[[], object]]]:
    """For each op: torch's op, minigrad's op, and the parts of minigrad's floor."""
    torch.manual_seed(0)
    minigrad.manual_seed(0)
    t_h = torch.randn(1, 6)
    h = minigrad.randn(1, 6)
    f32 = h.dtype
    data, shape, strides = h._storage.data, h._shape, h._strides
    sum_buffer = empty_buffer(f32, 6)
    joined = empty_buffer(f32, 12)
    return {
        "add  h + h": {
            "torch": lambda: t_h + t_h,
            "minigrad": lambda: h + h,
            "kernel": lambda: K.binary(K.ADD, data, strides, 0, data, strides, 0, shape, sum_buffer),
            "buffer": lambda: empty_buffer(f32, 6),
            "tensor object": lambda: Tensor._make(sum_buffer, shape, f32),
        },
        "view h.view(6, 1)": {
            "torch": lambda: t_h.view(6, 1),
            "minigrad": lambda: h.view(6, 1),
            "tensor object": lambda: h._view((6, 1), (1, 1), 0),
        },
        "cat torch.cat([h, h], 1)": {
            "torch": lambda: torch.cat([t_h, t_h], 1),
            "minigrad": lambda: minigrad.cat([h, h], 1),
            "kernel": lambda: (
                K.copy_strided(data, shape, strides, 0, joined, (12, 1), 0),
                K.copy_strided(data, shape, strides, 0, joined, (12, 1), 6),
            ),
            "buffer": lambda: empty_buffer(f32, 12),
            "tensor object": lambda: Tensor._make(joined, (1, 12), f32),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000, help="calls per timing (default 10000)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds of turns (default 15)")
    args = parser.parse_args()
    if minigrad.backend != "cython":
        raise SystemExit(f"op_anatomy.py measures the Cython core, but minigrad runs on {minigrad.backend}")
    torch.set_num_threads(1)
    print(f"microseconds per call under no_grad, medians of {args.rounds} rounds; 1x6 float32 tensors")
    with torch.no_grad(), minigrad.no_grad():
        for op, parts in anatomy().items():
            rounds = {name: [] for name in parts}
            for _ in range(args.rounds):
                for name, function in parts.items():
                    rounds[name].append(per_call(function, args.calls) - per_call(nothing, args.calls))
            median = {name: statistics.median(times) for name, times in rounds.items()}
            floor = sum(us for name, us in median.items() if name not in ("torch", "minigrad"))
            print(f"{op}")
            for name, us in median.items():
                print(f"  {name:16s}{us:7.3f}")
            whole, torch_whole = median["minigrad"], median["torch"]
            print(f"  {'floor (sum)':16s}{floor:7.3f}   = {floor / torch_whole:.2f}x torch's whole op")
            print(f"  {'the rest':16s}{whole - floor:7.3f}   minigrad/torch {whole / torch_whole:.2f}x")


if __name__ == "__main__":
    main()
