"""torch's thread settings: ``set_num_threads``/``get_num_threads`` and the inter-op pair.

minigrad runs on one thread unless asked: ``set_num_threads(n)`` lets the Cython core share its
blocked matrix products (the LSTM's, and large ``matmul``s) among n threads, where the core was
built with OpenMP. Each sum stays one thread's, in the same order, so the results are the same
on any number of threads. The pure-Python kernels always run on the interpreter's one thread.
Inter-op threads (torch's pool for running independent ops at once) do not exist here: their
count is recorded and reported, as torch's is, and changes nothing.
"""

from __future__ import annotations

from minigrad._backend import kernels as K

_num_threads = 1
_num_interop_threads = 1


def _check_count(name: str, n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


def set_num_threads(n: int) -> None:
    """Use up to ``n`` threads for the matrix products (default 1)."""
    global _num_threads
    K.set_num_threads(_check_count("set_num_threads", n))
    _num_threads = n


def get_num_threads() -> int:
    """The thread count ``set_num_threads`` set (1 until then)."""
    return _num_threads


def set_num_interop_threads(n: int) -> None:
    """Record an inter-op thread count (minigrad runs its ops one at a time)."""
    global _num_interop_threads
    _num_interop_threads = _check_count("set_num_interop_threads", n)


def get_num_interop_threads() -> int:
    """The count ``set_num_interop_threads`` recorded (1 until then)."""
    return _num_interop_threads
