# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""The softmax family and the loss that reads it, each with a dedicated kernel: softmax,
log_softmax, nll_loss.

Each could be composed from smaller ops; a fused kernel is both faster and numerically steadier
(log_softmax never forms exp(x) of a large x).
"""

from __future__ import annotations

import math
from array import array

from minigrad._backend import kernels as K
from minigrad._dtype import int64, scalar_type_name
from minigrad._functions.reduction import split_at
from minigrad._shape import normalize_dim
from minigrad._tensor import Tensor, new_buffer, scalar_tensor
from minigrad.autograd.function import Function


def _softmax_kernel(kernel, x: Tensor, dim: int) -> Tensor:
    outer, n, inner = split_at(x._shape or (1,), dim)
    out = new_buffer(x.dtype, outer * n * inner)
    if out:
        kernel(x._values(), outer, n, inner, out)
    return Tensor._make(out, x._shape, x.dtype)


def _softmax_backward(kernel, y: Tensor, grad: Tensor, dim: int) -> Tensor:
    outer, n, inner = split_at(y._shape or (1,), dim)
    out = new_buffer(grad.dtype, outer * n * inner)
    if out:
        kernel(y._values(), grad._values(), outer, n, inner, out)
    return Tensor._make(out, y._shape, grad.dtype)


class _SoftmaxFamily(Function):
    """y = f(x) along ``dim``, computed and differentiated by a kernel pair; saves y."""

    forward_kernel: staticmethod
    backward_kernel: staticmethod

    @staticmethod
    def forward(ctx, x, dim):
        y = _softmax_kernel(ctx._function.forward_kernel, x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _softmax_backward(ctx._function.backward_kernel, y, grad, ctx.dim), None


class LogSoftmax(_SoftmaxFamily):
    """y = x - log sum_k exp(x_k) along dim;  dx = dy - exp(y) * sum_k dy_k."""

    forward_kernel = staticmethod(K.log_softmax)
    backward_kernel = staticmethod(K.log_softmax_backward)


class Softmax(_SoftmaxFamily):
    """y = exp(x) / sum_k exp(x_k) along dim;  dx = y * (dy - sum_k dy_k y_k)."""

    forward_kernel = staticmethod(K.softmax)
    backward_kernel = staticmethod(K.softmax_backward)


class NllLoss(Function):
    """loss_i = -w[t_i] * logp[i, t_i] (0 where t_i == ignore_index), then reduced:
    'none' keeps loss_i, 'sum' adds them, 'mean' divides the sum by sum_i w[t_i].
    d loss / d logp[i, t_i] = -w[t_i] (scaled by the reduction); every other entry is 0."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        n, c = logp._shape
        targets = target._values()
        weights = weight._values() if weight is not None else array(logp.dtype.typecode)
        losses = new_buffer(logp.dtype, n)
        total_weight = K.nll_loss(logp._values(), targets, weights, n, c, ignore_index, losses)
        ctx.save_for_backward(target, weight)
        ctx.n, ctx.c, ctx.ignore_index, ctx.reduction, ctx.total_weight = n, c, ignore_index, reduction, total_weight
        if reduction == "none":
            return Tensor._make(losses, (n,), logp.dtype)
        total = K.sum_all(losses)
        if reduction == "mean":
            total = total / total_weight if total_weight else float("nan")
        return scalar_tensor(total, logp.dtype)

    @staticmethod
    def backward(ctx, grad):
        target, weight = ctx.saved_tensors
        n, c = ctx.n, ctx.c
        if ctx.reduction == "none":
            per_row = grad._values()
        else:
            scale = _divide(grad.item(), ctx.total_weight) if ctx.reduction == "mean" else grad.item()
            per_row = array(grad.dtype.typecode, [scale]) * n
        weights = weight._values() if weight is not None else array(grad.dtype.typecode)
        out = new_buffer(grad.dtype, n * c)
        K.nll_loss_backward(per_row, target._values(), weights, n, c, ctx.ignore_index, out)
        return Tensor._make(out, (n, c), grad.dtype), None, None, None, None


# -- the functional API --------------------------------------------------------------------------


def log_softmax(x: Tensor, dim: int) -> Tensor:
    dim = normalize_dim(dim, x.dim())
    _check_floating(x, dim, "log_softmax")
    return LogSoftmax.apply(x, dim)


def softmax(x: Tensor, dim: int) -> Tensor:
    dim = normalize_dim(dim, x.dim())
    _check_floating(x, dim, "softmax")
    return Softmax.apply(x, dim)


def _check_floating(x: Tensor, dim: int, name: str) -> None:
    """torch's error for an integer or bool input (its kernel's name depends on the dim)."""
    if not x.dtype.is_floating_point and x.numel():
        kernel = f"{name}_lastdim_kernel_impl" if dim == max(x.dim() - 1, 0) else f"{name}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(x.dtype)}\'')


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """The negative log likelihood loss of log-probabilities ``input`` (N, C), (C,) or
    (N, C, d1, ...). The checks run in torch's order, with torch's wording."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if not isinstance(target, Tensor):
        raise TypeError(f"nll_loss(): argument 'target' must be Tensor, not {type(target).__name__}")
    if input.dim() != 1:
        target_batch = target._shape[0] if target._shape else 0
        if input._shape[0] != target_batch:
            raise ValueError(
                f"Expected input batch_size ({input._shape[0]}) to match target batch_size ({target_batch})."
            )
    if input.dim() > 2:
        expected = input._shape[:1] + input._shape[2:]
        if target._shape != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(target._shape)}")
        moved = input.movedim(1, -1).reshape(-1, input._shape[1])
        loss = nll_loss(moved, target.reshape(-1), weight, ignore_index, reduction)
        return loss.reshape(target._shape) if reduction == "none" else loss
    if target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() == 1 and target.dim() == 1 and target._shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target._shape[0]}")
    if target.dtype is not int64:
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {scalar_type_name(target.dtype)}"
        )
    classes = input._shape[-1]
    if weight is not None:
        if weight.dim() > 1 or weight.numel() != classes:
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no classes but "
                f"got weight tensor of shape: {list(weight._shape)}"
            )
        if weight.dtype is not input.dtype:
            raise RuntimeError(
                f"expected scalar type {scalar_type_name(input.dtype)} but found "
                f"{scalar_type_name(weight.dtype)}"
            )
    for t in target._values():
        if t != ignore_index and not 0 <= t < classes:
            raise IndexError(f"Target {t} is out of bounds.")
    if input.dim() == 1:
        loss = NllLoss.apply(input.unsqueeze(0), target.reshape(1), weight, ignore_index, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    return NllLoss.apply(input, target, weight, ignore_index, reduction)


def _divide(a: float, b: float) -> float:
    """a / b with IEEE semantics for b == 0 (inf or nan, as torch's kernels give), not an error."""
    if b:
        return a / b
    if a != a or a == 0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)
