"""Matrix products: ``mm``, ``bmm`` and ``matmul`` (which reduces every case to ``bmm``)."""

from __future__ import annotations

from math import prod

from minigrad._backend import kernels as K
from minigrad._shape import broadcast_shapes
from minigrad.autograd.function import Function
from minigrad.tensor import Tensor, new_buffer


def _bmm_values(a: Tensor, b: Tensor) -> Tensor:
    """(batch, m, k) @ (batch, k, n) -> (batch, m, n), no graph."""
    batch, m, k = a._shape
    n = b._shape[2]
    out = new_buffer(a.dtype, batch * m * n)
    K.matmul(a._values(), b._values(), batch, m, k, n, out)
    return Tensor._make(out, (batch, m, n), a.dtype)


def _check_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_c_name(a)} != {_c_name(b)}")


def _c_name(t: Tensor) -> str:
    return {"float32": "float", "float64": "double", "int64": "long int", "bool": "bool"}[t.dtype.name]


class Mm(Function):
    """C = A @ B for matrices;  dA = dC @ B^T,  dB = A^T @ dC."""

    @staticmethod
    def forward(ctx, a, b):
        if a.dim() != 2 or b.dim() != 2:
            raise RuntimeError(f"{'self' if a.dim() != 2 else 'mat2'} must be a matrix")
        if a._shape[1] != b._shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and "
                f"{b._shape[0]}x{b._shape[1]})"
            )
        _check_dtypes(a, b)
        ctx.save_for_backward(a, b)
        return _bmm_values(a.reshape(1, *a._shape), b.reshape(1, *b._shape)).reshape(a._shape[0], b._shape[1])

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (mm(grad, b.t()) if da else None), (mm(a.t(), grad) if db else None)


class Bmm(Function):
    """C[z] = A[z] @ B[z];  dA[z] = dC[z] @ B[z]^T,  dB[z] = A[z]^T @ dC[z]."""

    @staticmethod
    def forward(ctx, a, b):
        if a.dim() != 3 or b.dim() != 3:
            raise RuntimeError(f"batch{1 if a.dim() != 3 else 2} must be a 3D tensor")
        if a._shape[0] != b._shape[0] or a._shape[2] != b._shape[1]:
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: "
                f"[{a._shape[0]}, {a._shape[2]}] but got: [{b._shape[0]}, {b._shape[1]}]."
            )
        _check_dtypes(a, b)
        ctx.save_for_backward(a, b)
        return _bmm_values(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (bmm(grad, b.transpose(1, 2)) if da else None), (bmm(a.transpose(1, 2), grad) if db else None)


def mm(a: Tensor, b: Tensor) -> Tensor:
    return Mm.apply(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    return Bmm.apply(a, b)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """torch.matmul: dot for 1-D @ 1-D, mm for 2-D, batched (broadcasting batch dims) above."""
    da, db = a.dim(), b.dim()
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    _check_dtypes(a, b)
    if da == 1 and db == 1:
        if a._shape != b._shape:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{a._shape[0]}] and src [{b._shape[0]}] to "
                f"have the same number of elements, but got {a._shape[0]} and {b._shape[0]} elements respectively"
            )
        return mm(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    if da == 2 and db == 2:
        return mm(a, b)
    if db == 1:
        if da == 2:
            return mm(a, b.unsqueeze(1)).squeeze(1)
        return matmul(a, b.unsqueeze(1)).squeeze(-1)
    if da == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    m, k = a._shape[-2:]
    k2, n = b._shape[-2:]
    if k != k2:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{prod(a._shape[:-2])}, {k}] "
            f"but got: [{prod(b._shape[:-2])}, {k2}]."
        )
    batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
    a3 = a.expand(*batch, m, k).reshape(-1, m, k)
    b3 = b.expand(*batch, k, n).reshape(-1, k, n)
    return bmm(a3, b3).reshape(*batch, m, n)
