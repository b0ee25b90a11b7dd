"""The binary cross entropy losses, with torch's clamped logarithms and torch's backward formulas
(``aten/src/ATen/native/Loss.cpp``, ``tools/autograd/derivatives.yaml``), reduction included: as
in torch, the backward of 'mean' divides the finished gradient by the element count.

Operands arrive expanded to one shape. Forward and backward are tensor operations in torch's
order (so float32 rounds as in torch); the logarithms are mapped, correctly rounded.
"""

from __future__ import annotations

import math

from minigrad._functions.activation import LogSigmoid, log1p, map_values
from minigrad._tensor import Tensor
from minigrad.autograd.function import Function

_EPSILON = 1e-12  # the floor of x (1 - x) in the BCE gradient


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _finish(grad: Tensor, weight: Tensor | None, reduction: str, count: int) -> Tensor:
    """The weighting and the 'mean' division that torch applies last."""
    if weight is not None:
        grad = grad * weight
    return grad / count if reduction == "mean" else grad


class BinaryCrossEntropy(Function):
    """loss = w ((t - 1) max(log(1 - x), -100) - t max(log x, -100));
    dloss/dx = w (x - t) / max((1 - x) x, 1e-12),  dloss/dt = -w logit(x) = -w log(x / (1 - x))."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction):
        for v in x._values():
            if not 0.0 <= v <= 1.0:
                raise RuntimeError("all elements of input should be between 0 and 1")
        for v in target._values():
            if not 0.0 <= v <= 1.0:
                raise RuntimeError("all elements of target should be between 0 and 1")
        log_1mx = map_values(log1p, -x).clamp(min=-100.0)
        log_x = map_values(_log, x).clamp(min=-100.0)
        loss = (target - 1.0) * log_1mx - target * log_x
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, weight)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, target, weight = ctx.saved_tensors
        _, needs_target, _, _ = ctx.needs_input_grad
        dx = grad * (x - target) / ((1.0 - x) * x).clamp(min=_EPSILON)
        dt = None
        if needs_target:
            dt = _finish(-map_values(_log, x / (1.0 - x)) * grad, weight, ctx.reduction, x.numel())
        return _finish(dx, weight, ctx.reduction, x.numel()), dt, None, None


class BinaryCrossEntropyWithLogits(Function):
    """With p = pos_weight: loss = w ((1 - t) x - (1 + (p - 1) t) log sigmoid(x));
    dloss/dx = w ((p t + 1 - t) sigmoid(x) - p t)  (w (sigmoid(x) - t) without p),
    dloss/dt = w (log sigmoid(-x) - p log sigmoid(x))  (-w x without p)."""

    @staticmethod
    def forward(ctx, x, target, weight, pos_weight, reduction):
        log_sigmoid = LogSigmoid.apply(x)
        if pos_weight is not None:
            log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
        loss = (1 - target) * x - log_sigmoid
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, weight, pos_weight)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, target, weight, pos_weight = ctx.saved_tensors
        _, needs_target, _, _, _ = ctx.needs_input_grad
        sigmoid = x.sigmoid()
        if pos_weight is not None:
            t = pos_weight * target
            dx = ((t + 1) - target) * sigmoid - t
        else:
            dx = sigmoid - target
        dt = None
        if needs_target:
            if pos_weight is not None:
                dt = (LogSigmoid.apply(-x) - LogSigmoid.apply(x) * pos_weight) * grad
            else:
                dt = -x * grad
            dt = _finish(dt, weight, ctx.reduction, x.numel())
        return _finish(dx * grad, weight, ctx.reduction, x.numel()), dt, None, None, None

