"""The binary cross entropy losses, with torch's clamped logarithms and torch's backward formulas
(``aten/src/ATen/native/Loss.cpp``, ``tools/autograd/derivatives.yaml``).

Both return the unreduced, weighted loss of every element; ``nn.functional`` reduces it. Their
operands arrive expanded to one shape.
"""

from __future__ import annotations

import math
from array import array

from minigrad._functions.activation import LogSigmoid, log1p
from minigrad.autograd.function import Function
from minigrad.tensor import Tensor, new_buffer

_EPSILON = 1e-12  # the floor of x (1 - x) in the BCE gradient


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


def _clamped_logs(x: float) -> tuple[float, float]:
    """(max(log(x), -100), max(log(1 - x), -100)), as torch clamps them."""
    return max(_log(x), -100.0), max(log1p(-x), -100.0)


def _logit(x: float) -> float:
    """log(x / (1 - x)): -inf at 0, inf at 1."""
    return _log(x / (1.0 - x)) if x != 1.0 else math.inf


class BinaryCrossEntropy(Function):
    """loss = -w (t max(log x, -100) + (1 - t) max(log(1 - x), -100));
    dloss/dx = w (x - t) / max(x (1 - x), 1e-12),  dloss/dt = -w logit(x) = -w log(x / (1 - x)) (unclamped)."""

    @staticmethod
    def forward(ctx, x, target, weight):
        xs, ts = x._values(), target._values()
        for v in xs:
            if not 0.0 <= v <= 1.0:
                raise RuntimeError("all elements of input should be between 0 and 1")
        for v in ts:
            if not 0.0 <= v <= 1.0:
                raise RuntimeError("all elements of target should be between 0 and 1")
        logs = [_clamped_logs(v) for v in xs]
        losses = [(t - 1.0) * log_1mx - t * log_x for (log_x, log_1mx), t in zip(logs, ts)]
        loss = _like(x, losses)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, weight)
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, target, weight = ctx.saved_tensors
        _, needs_target, _ = ctx.needs_input_grad
        if weight is not None:
            grad = grad * weight
        gs = grad._values()
        xs, ts = x._values(), target._values()
        dx = [g * (v - t) / max((1.0 - v) * v, _EPSILON) for g, v, t in zip(gs, xs, ts)]
        dt = None
        if needs_target:
            dt = _like(grad, [-g * _logit(v) for g, v in zip(gs, xs)])
        return _like(grad, dx), dt, None


class BinaryCrossEntropyWithLogits(Function):
    """With p = pos_weight: loss = w ((1 - t) x - (1 + (p - 1) t) log sigmoid(x));
    dloss/dx = w ((p t + 1 - t) sigmoid(x) - p t)  (w (sigmoid(x) - t) without p),
    dloss/dt = w (log sigmoid(-x) - p log sigmoid(x))  (-w x without p)."""

    @staticmethod
    def forward(ctx, x, target, weight, pos_weight):
        log_sigmoid = LogSigmoid.apply(x)
        if pos_weight is not None:
            log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
        loss = (1 - target) * x - log_sigmoid
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, weight, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, target, weight, pos_weight = ctx.saved_tensors
        _, needs_target, _, _ = ctx.needs_input_grad
        sigmoid = x.sigmoid()
        if pos_weight is not None:
            t = pos_weight * target
            dx = (t + 1 - target) * sigmoid - t
        else:
            dx = sigmoid - target
        dx = dx * grad
        dt = None
        if needs_target:
            if pos_weight is not None:
                dt = (LogSigmoid.apply(-x) - LogSigmoid.apply(x) * pos_weight) * grad
            else:
                dt = -x * grad
        if weight is not None:
            dx = dx * weight
            dt = None if dt is None else dt * weight
        return dx, dt, None, None


def _like(x: Tensor, values: list[float]) -> Tensor:
    """A tensor of x's shape and dtype holding ``values`` (row-major)."""
    out = new_buffer(x.dtype, len(values))
    out[:] = array(out.typecode, values)
    return Tensor._make(out, x._shape, x.dtype)
