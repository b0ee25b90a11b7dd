"""Matrix products: ``matmul`` of (batches of) row-major matrices, each sum in double in order and
rounded once. Twin: ``minigrad_c/products.pxi`` (where large float products run on the blocked
routine the LSTM uses, the same sums, except float32 products of at least 12 rows and columns,
summed in float32 as torch's: within the float32 bound of a k-term sum of these)."""

from __future__ import annotations

import operator
from array import array


def matmul(a: array, b: array, batch: int, m: int, k: int, n: int, out: array) -> None:
    """out[z] = a[z] @ b[z] for z < batch, with a[z] (m, k), b[z] (k, n), all row-major."""
    values = []
    mul = operator.mul
    for z in range(batch):
        a0 = z * m * k
        b0 = z * k * n
        columns = [b[b0 + j : b0 + k * n : n] for j in range(n)]
        for i in range(m):
            row = a[a0 + i * k : a0 + (i + 1) * k]
            values.extend([sum(map(mul, row, col)) for col in columns])
    out[:] = array(out.typecode, values)


def set_num_threads(n: int) -> None:
    """How many threads the matrix products may use. The pure kernels run on the interpreter's
    one thread, so only the argument is checked; the Cython twin shares its products out."""
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n}")
