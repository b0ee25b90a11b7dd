"""The Cython core keeps freed buffers for reuse (glibc's malloc thresholds, set on import).

A training step frees and remakes the same large buffers every step. The pattern below is an
embedding gradient's: two buffers of 1.25 MiB made and freed together, again and again, after
one such buffer came and went (which is what makes glibc move its thresholds by itself, to
where this pattern then returns the memory to the system on every free). Each buffer's pages are
written when it is made (zero-filled), so fresh memory costs a page fault per 4 KiB: 640 per
round. With the core imported the rounds after the first must fault (almost) never.
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from conftest import cython_core

PATTERN = """
import resource, sys
from array import array
if sys.argv[1] == "core":
    import minigrad_c._kernels
zero = array("f", [0.0])
n = 320_000                      # 5000 x 64 float32
once = zero * n
del once
faults = []
for _ in range(12):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = zero * n
    b = zero * n
    del a, b
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(sum(faults[2:]))
"""


def page_faults(mode: str) -> int:
    proc = subprocess.run([sys.executable, "-c", PATTERN, mode], capture_output=True, text=True, check=True)
    return int(proc.stdout)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_freed_buffers_are_reused_without_page_faults():
    if cython_core() is None:
        pytest.skip("the Cython core minigrad_c is not built")
    # ten rounds of two fresh 1.25 MiB buffers would be 6,400 faults; reused memory makes none
    assert page_faults("core") < 100


WORKSPACE = """
import resource
from array import array
import minigrad_c._kernels as core
T, B, I, H = 30, 64, 64, 512
def buffer(n):
    return array("f", bytes(4 * n))
inputs = [buffer(n) for n in (T * B * I, 3 * H * I, 3 * H * H, B * H, T * B * H, T * B * 4 * H, T * B * H, B * H)]
outputs = [buffer(n) for n in (T * B * I, 3 * H * I, 3 * H * H, 3 * H, 3 * H, B * H)]
faults = []
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    core.gru_backward(*inputs, (T, B, I, H), False, *outputs)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(*faults)
"""


@pytest.mark.skipif(platform.system() != "Linux", reason="counts page faults with getrusage")
def test_a_large_kernel_workspace_is_kept_for_the_next_call():
    """The GRU backward at T = 30, batch 64, hidden 512 needs a 35 MB workspace: over glibc's
    32 MiB mmap ceiling, so freeing it would unmap it, and the next call would fault in its pages
    again (8,500 of 4 KiB; some 500 where Linux gives the huge pages the core asks for). The core
    keeps it for the next call: the later calls fault (almost) never."""
    if cython_core() is None:
        pytest.skip("the Cython core minigrad_c is not built")
    proc = subprocess.run([sys.executable, "-c", WORKSPACE], capture_output=True, text=True, check=True)
    faults = [int(v) for v in proc.stdout.split()]
    assert faults[0] > 100, f"the first call did not fault in a 35 MB workspace: {faults}"
    assert max(faults[1:]) < faults[0] / 10, f"page faults per call: {faults}"
