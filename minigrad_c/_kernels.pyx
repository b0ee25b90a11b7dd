# cython: language_level=3, binding=True, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The Cython twins of ``minigrad._kernels``: the same names and signatures, as C loops.

The buffers are the caller's ``array.array`` objects themselves (typecodes 'f' float32, 'd'
float64, 'q' int64, 'B' bool bytes): a kernel takes the array's data pointer, so nothing is
copied in or out. (A typed memoryview would do the same with ~0.15 us more per buffer, which at
batch size 1 is a real share of a training step.)

Every kernel checks its arguments before its loops: buffer types and typecodes (TypeError),
sizes and lengths (ValueError), positions, targets and strided views against the buffer they
index (IndexError). Only then does it run its loops, which never read or write outside a buffer.

Arithmetic follows the pure kernels, which compute in Python floats (C doubles) and round on
store: floats are read as double, combined in double in the same order, and rounded once when
stored, with the same libm functions (exp, log, tanh, pow). Sums run in the same order from
0.0; ``math.fsum`` is reproduced exactly (Shewchuk's partials, as CPython), with the pure
kernels' fallback to the plain sum where fsum raises. So results agree bit for bit, except where
documented:

- NaN sign and payload bits may differ (a NaN is a NaN);
- integer arithmetic wraps around on overflow (as torch does), where the pure kernels raise
  OverflowError on store; integer ops that would store a float (DIV, a non-integral clamp
  bound or fill value) raise before the loop;
- on Python 3.12+ the built-in ``sum`` of the pure kernels is compensated (Neumaier), so the
  pure sums in ``reduce_dim``, ``matmul`` and the recurrent kernels may differ in the last bits;
- the LSTM kernels' float32 matrix products are float32 sums with fused multiply-adds, as
  torch's (``_gemm_in_dtype`` in products.pxi), and carry the walk's gradients in float32: within
  a documented bound of the pure kernel's double sums, not bit for bit
  (tests/test_kernels_parity.py ``float32_agrees``), and no further from torch's numbers
  (tests/test_lstm_fidelity.py);
- the float32 GRU kernels compute torch's GRU cell op by op in float32, their products summed as
  torch's sgemm sums (``_sgemm_as_torch``: bit for bit torch's products of at least 4 rows and
  12 columns, in the runs MKL takes on the CPU at hand, ``TORCH_RUNS``), within the same bound
  of the pure kernel's double arithmetic. The RNN kernels keep double sums;
- ``matmul``'s float32 products of at least 4096 multiply-adds and of at least 12 rows and 12
  columns (MATMUL_TORCH_SUMS_AT) are summed as torch's sgemm too (``_matmul_as_torch``): torch's
  bits, within the float32 bound of a k-term sum of the pure kernel's double sums
  (tests/test_ops_linalg.py, tests/test_kernels_parity.py); smaller float32 products keep double
  sums, rounded once, as the pure kernel;
- the recurrent kernels' float32 gates (LSTM, GRU, RNN) use branch-free sigmoid and tanh
  (``mg_sigmoid``, ``mg_tanh`` in recurrent.pxi), which run on vector lanes: within 3 ulp of
  libm's in double, so the stored float32 values equal the pure kernel's unless a double lands
  that close to a float32 rounding boundary (which 2e7 sampled arguments never did); float64
  keeps libm;
- sigmoid, softmax and log_softmax over the last dimension, and the backward passes of sigmoid,
  tanh, softmax and log_softmax, compute in the buffers' precision as torch's AVX2 kernels do
  (SLEEF's exp and log, fused multiply-adds, torch's lane order), in C here and step by step in
  ``minigrad._vec`` for the pure kernels: the same bits;
- strided views have at most 64 dimensions (as torch);
- bad arguments that the pure kernels would silently accept (negative sizes, negative or
  out-of-range positions, mismatched lengths) raise here.

The kernels are written by op family, one include file each, beside the declarations they share
in _kernels.pxd; each family's file is named as its pure twin in minigrad/_kernels/ (indexing,
pointwise, reductions, products, softmax_loss, recurrent, sampling, optim). They are included, not compiled as
separate modules, so that the families share their C helpers (fused-type functions, the _gemm
routine) directly and this remains one extension module, minigrad_c._kernels, with every name.

Loops that step by a run-time amount (a row's width, a panel) are ``while`` loops: Cython turns
``range(start, stop, step)`` into a C loop only when it can see the sign of the step, and
otherwise iterates a Python range object, a Python int per iteration.
"""

import operator


include "common.pxi"
include "indexing.pxi"
include "pointwise.pxi"
include "reductions.pxi"
include "products.pxi"
include "softmax_loss.pxi"
include "recurrent.pxi"
include "sampling.pxi"
include "optim.pxi"


# Freed buffers are kept for reuse. A training step frees and makes the same large buffers every
# step (an embedding's dense gradient, its copy into .grad). glibc's malloc serves buffers over
# its mmap threshold with fresh pages and returns freed memory at the top of the heap to the
# system once more than its trim threshold is free: either way the next step pays a page fault
# per 4 KiB it writes (on the W2 benchmark's 5000 x 64 embedding, two thirds of a step). glibc
# raises both thresholds by itself as large buffers come and go, but only sometimes, depending
# on which buffer happens to lie at the top of the heap. Importing the core sets them to where
# glibc's own rule ends (buffers up to 32 MiB from the heap; up to 64 MiB of free memory kept):
# the process then holds on to at most that much memory it is not using.
cdef extern from *:
    """
    #ifdef __GLIBC__
    #include <malloc.h>
    static void mg_keep_freed_memory(void) {
        mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    }
    #else
    static void mg_keep_freed_memory(void) {}
    #endif
    """
    void mg_keep_freed_memory()


mg_keep_freed_memory()
