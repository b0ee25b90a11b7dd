# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Matrix products: ``mm``, ``addmm`` (what ``nn.Linear`` runs), ``bmm`` and ``matmul`` (which
reduces every case to ``bmm``)."""

from __future__ import annotations

from math import prod

from minigrad._backend import kernels as K
from minigrad._dtype import bool_, kernel_dtype, scalar_type_name
from minigrad._functions.pointwise import binary_values, cast
from minigrad._functions.views import permuted
from minigrad._shape import broadcast_shapes, sum_to_dims
from minigrad._tensor import Tensor, empty_buffer
from minigrad.autograd.function import Function


def _matmul_values(a: Tensor, b: Tensor, batch: int, m: int, k: int, n: int, shape: tuple) -> Tensor:
    """batch products (m, k) @ (k, n) of the row-major values of a and b, as a tensor of ``shape``; no graph."""
    wide = kernel_dtype(a.dtype)  # narrow integers multiply in int64 and wrap back
    out = empty_buffer(wide, batch * m * n)
    K.matmul(cast(a, wide)._values(), cast(b, wide)._values(), batch, m, k, n, out)
    return cast(Tensor._make(out, shape, wide), a.dtype)


def _transposed_times(a: Tensor, g: Tensor) -> Tensor:
    """a^T @ g for matrices a (m, k) and g (m, n): the gradient of the second factor of a product.

    Either a^T is copied out row-major (k * m elements moved, element by element), or g^T is and
    the product runs as (g^T @ a)^T, whose (n, k) result is transposed back: n * (m + k) elements,
    far fewer when n is small (nn.Linear's weight gradient, a^T = x^T of a batch of rows). Each
    element is the same sum either way, over the m rows in order, of the same products (a * g
    and g * a round alike), so the values do not depend on the route."""
    (m, k), n = a._shape, g._shape[1]
    if n * (m + k) >= m * k:
        return _matmul_values(permuted(a, (1, 0)), g, 1, k, m, n, (k, n))
    product = _matmul_values(permuted(g, (1, 0)), a, 1, n, m, k, (n, k))
    return Tensor._make(permuted(product, (1, 0))._values(), (k, n), product.dtype)


def _check_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_c_name(a)} != {_c_name(b)}")


def _c_name(t: Tensor) -> str:
    return {
        "float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
        "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
    }[t.dtype.name]  # fmt: skip


def _check_product(a: Tensor, b: Tensor, first: str) -> None:
    """a (m, k) and b (k, n) must be matrices that multiply; ``first`` is what torch names a."""
    if a.dim() != 2 or b.dim() != 2:
        if first == "mat1":
            bad = "mat1" if a.dim() != 2 else "mat2"
            raise RuntimeError(f"{bad} must be a matrix, got {(a if a.dim() != 2 else b).dim()}-D tensor")
        raise RuntimeError(f"{'self' if a.dim() != 2 else 'mat2'} must be a matrix")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and "
            f"{b._shape[0]}x{b._shape[1]})"
        )
    _check_dtypes(a, b)


class Mm(Function):
    """C = A @ B for matrices;  dA = dC @ B^T,  dB = A^T @ dC."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        (m, k), n = a._shape, b._shape[1]
        return _matmul_values(a, b, 1, m, k, n, (m, n))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        (m, k), n = a._shape, b._shape[1]
        grad = cast(grad, a.dtype)
        # the products mm(grad, b.t()) and mm(a.t(), grad), straight to the kernel: backward records nothing
        grad_a = _matmul_values(grad, permuted(b, (1, 0)), 1, m, n, k, a._shape) if da else None
        grad_b = _transposed_times(a, grad) if db else None
        return grad_a, grad_b


class Addmm(Function):
    """C = beta * input + alpha * (A @ B), input broadcast to C's shape; nn.Linear is
    ``addmm(bias, x, W.t())``, one node, as in torch.
    d input = beta * dC summed back to input's shape,  dA = alpha * dC @ B^T,  dB = alpha * A^T @ dC.

    The product is rounded once, as by ``mm``, then scaled by alpha and added to beta * input:
    with beta = alpha = 1, exactly the values of ``input + A @ B``."""

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha):
        (m, k), n = a._shape, b._shape[1]
        product = _matmul_values(a, b, 1, m, k, n, (m, n))
        ctx.save_for_backward(a, b)
        ctx.beta, ctx.alpha = beta, alpha
        if alpha != 1:
            product = product * alpha
        if beta == 0:  # input is ignored: its nan and inf do not reach the result
            return product
        if beta != 1:
            input = input * beta
        return binary_values(K.ADD, input, product, b.dtype, b.dtype)  # input + product, broadcast

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        (m, k), n = a._shape, b._shape[1]
        scaled = grad if ctx.alpha == 1 else grad * ctx.alpha
        # grad_input in C's shape: the engine sums it back to input's shape
        grad_input = (grad if ctx.beta == 1 else grad * ctx.beta) if needs[0] else None
        grad_a = _matmul_values(scaled, permuted(b, (1, 0)), 1, m, n, k, a._shape) if needs[1] else None
        grad_b = _transposed_times(a, scaled) if needs[2] else None
        return grad_input, grad_a, grad_b, None, None


class Bmm(Function):
    """C[z] = A[z] @ B[z];  dA[z] = dC[z] @ B[z]^T,  dB[z] = A[z]^T @ dC[z]."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        batch, m, k = a._shape
        n = b._shape[2]
        return _matmul_values(a, b, batch, m, k, n, (batch, m, n))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (bmm(grad, b.transpose(1, 2)) if da else None), (bmm(a.transpose(1, 2), grad) if db else None)


def mm(a: Tensor, b: Tensor) -> Tensor:
    _check_product(a, b, "self")
    return Mm.apply(a, b)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to (mat1 rows, mat2 columns)."""
    if input.dtype is not mat2.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {scalar_type_name(input.dtype)} and "
            f"{scalar_type_name(mat2.dtype)}"
        )
    _check_product(mat1, mat2, "mat1")
    shape = (mat1._shape[0], mat2._shape[1])
    if not sum_to_dims(shape, input._shape)[1]:
        input.expand(*shape)  # raises torch's error: input does not broadcast to (m, n)
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    if a.dim() != 3 or b.dim() != 3:
        raise RuntimeError(f"batch{1 if a.dim() != 3 else 2} must be a 3D tensor")
    if a._shape[0] != b._shape[0] or a._shape[2] != b._shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a._shape[0]}, {a._shape[2]}] but got: [{b._shape[0]}, {b._shape[1]}]."
        )
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(a.dtype)} but found {scalar_type_name(b.dtype)}")
    return Bmm.apply(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The inner product of two vectors, a 0-d tensor."""
    if a.dim() != 1 or b.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.dim()}D and {b.dim()}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {scalar_type_name(a.dtype)} and "
            f"{scalar_type_name(b.dtype)}"
        )
    if a._shape != b._shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a._shape[0]}] and src [{b._shape[0]}] to "
            f"have the same number of elements, but got {a._shape[0]} and {b._shape[0]} elements respectively"
        )
    return mm(a.unsqueeze(0), b.unsqueeze(1)).reshape(())


def mv(a: Tensor, b: Tensor) -> Tensor:
    """Matrix @ vector."""
    if a.dim() != 2 or b.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.dim()}, {b.dim()}")
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {scalar_type_name(b.dtype)}, "
            f"{scalar_type_name(a.dtype)}, and {scalar_type_name(b.dtype)}"
        )
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a._shape[0]}), mat ({a._shape[0]}x{a._shape[1]}), vec ({b._shape[0]})"
        )
    return mm(a, b.unsqueeze(1)).squeeze(1)


def _matrix_transpose(x: Tensor) -> Tensor:
    return x.transpose(-2, -1)


def _should_fold(a: Tensor, b: Tensor) -> bool:
    """torch's choice (``should_fold``) to fold the batch dims of the larger operand into mm rows.

    Folding happens when one operand has 3+ dims, the other 1 or 2, and the batch dims of the
    larger one can be merged without a copy (or the smaller one requires grad). The result is the
    same either way; the choice decides which error message a size mismatch gets.
    """
    a_larger = a.dim() >= b.dim()
    t1 = a if a_larger else _matrix_transpose(b)
    smaller = b if a_larger else a
    if not (t1.dim() >= 3 and smaller.dim() <= 2):
        return False
    if smaller.requires_grad:
        return True
    if a.dim() == 2:
        return False
    if t1.numel() == 0:
        return True
    shape, strides = t1._shape, t1._strides
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _folded_matmul(a: Tensor, b: Tensor) -> Tensor:
    """(..., m, k) @ (k, n) or (k,) as one mm/mv on (prod(...) * m, k); the mirror case by transposing."""
    transpose = b.dim() > a.dim()
    t1 = _matrix_transpose(b) if transpose else a
    t2 = (a.t() if a.dim() == 2 else a) if transpose else b
    out_shape = t1._shape[:-1]
    t1_folded = t1.reshape(prod(out_shape), t1._shape[-1])
    if t2.dim() == 1:
        return mv(t1_folded, t2).reshape(out_shape)
    out = mm(t1_folded, t2).reshape(*out_shape, t2._shape[1])
    return _matrix_transpose(out).contiguous() if transpose else out


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """torch.matmul: dot for 1-D @ 1-D, mv, mm, and batched (broadcasting batch dims) above."""
    da, db = a.dim(), b.dim()
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if a.dtype is bool_ and b.dtype is bool_:
        kernel = "dot" if da == 1 and db == 1 else ("addmv_impl_cpu" if da == 2 and db == 1 else "addmm_impl_cpu_")
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if da == 1 and db == 1:
        return dot(a, b)
    if da == 2 and db == 1:
        return mv(a, b)
    if da == 1 and db == 2:
        return mm(a.unsqueeze(0), b).squeeze(0)
    if da == 2 and db == 2:
        return mm(a, b)
    if _should_fold(a, b):
        return _folded_matmul(a, b)
    # batched: (*batch, n, m1) @ (*batch, m2, p), with 1-D operands as a row (n = 1) or a column (p = 1)
    n, m1 = (a._shape[-2] if da > 1 else 1), a._shape[-1]
    m2, p = (b._shape[-2], b._shape[-1]) if db > 1 else (b._shape[0], 1)
    batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
    count = prod(batch)
    a3 = a.expand(*batch, n, m1).reshape(count, n, m1)
    b3 = (b if db > 1 else b.unsqueeze(1)).expand(*batch, m2, p).reshape(count, m2, p)
    out_shape = batch + ((n,) if da > 1 else ()) + ((p,) if db > 1 else ())
    return bmm(a3, b3).reshape(out_shape)
