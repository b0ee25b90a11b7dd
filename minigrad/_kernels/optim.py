"""Optimizer kernels: one parameter's whole update (``adam``, ``sgd``) in one call, with the
rounding of torch's single-tensor optimizers step by step. Twin: ``minigrad_c/optim.pxi``.

torch's ``Adam.step`` and ``SGD.step`` are some ten tensor ops per parameter, each rounding its
result to the parameter's dtype. These kernels do the same ops in the same order on each
element, rounding every intermediate as the op would, so that the result is torch's bit for bit.
What torch's AVX2 CPU kernels compute (the same in their vector loops and their scalar tails):

    a.add(b, alpha=s)        fma(b, s, a)
    a.mul_(s)                a * s
    a.lerp_(b, w)            fma(w, b - a, a)  if |w| < 0.5  else  fma(w - 1, b - a, b)
    a.addcmul_(b, c, value=s)  fma(s * b, c, a)
    a.addcdiv_(b, c, value=s)  a + (s * b) / c
    a / s, a + s             one rounding each

Every scalar (a Python float from the optimizer) is first rounded to the dtype, and so is
``w - 1`` (computed in the dtype). Buffers are float32 ('f') or float64 ('d'), all of one length
and typecode; the state buffers and ``param`` are updated in place.

Here each step is a pass over Python lists: products, sums and quotients of float32 values are
computed in double and rounded once (exact for +, -, *, / and sqrt), fused multiply-adds by
``minigrad._float32``.
"""

from __future__ import annotations

import operator
from array import array

from minigrad._float32 import fma_typed, round_typed
from minigrad._kernels.common import _div, _maximum, _sqrt


def adam(
    param: array,
    grad: array,
    exp_avg: array,
    exp_avg_sq: array,
    max_exp_avg_sq: array | None,
    maximize: bool,
    weight_decay: float,
    decay: float,
    lerp_weight: float,
    beta2: float,
    square_weight: float,
    bias_correction2_sqrt: float,
    eps: float,
    neg_step_size: float,
) -> None:
    """One Adam/AdamW step of one parameter, as torch's ``_single_tensor_adam``::

        g = -grad if maximize else grad
        p = p * decay                                  (decoupled weight decay, if decay != 1)
        g = g.add(p, alpha=weight_decay)               (if weight_decay != 0)
        m = m.lerp_(g, lerp_weight)                    (lerp_weight = 1 - beta1)
        v = v.mul_(beta2).addcmul_(g, g, value=square_weight)      (square_weight = 1 - beta2)
        vmax = maximum(vmax, v)                        (amsgrad: max_exp_avg_sq is not None)
        d = (sqrt(vmax or v) / bias_correction2_sqrt).add_(eps)
        p = p.addcdiv_(m, d, value=neg_step_size)
    """
    tc = param.typecode
    scalar = lambda value: round_typed(tc, [value])[0]  # noqa: E731
    p, g, m = param.tolist(), grad.tolist(), exp_avg.tolist()
    if maximize:
        g = [-x for x in g]
    if decay != 1:
        d = scalar(decay)
        p = round_typed(tc, [x * d for x in p])
    if weight_decay != 0:
        g = fma_typed(tc, p, scalar(weight_decay), g)
    m = _lerp(tc, m, g, scalar(lerp_weight))
    b2 = scalar(beta2)
    v = round_typed(tc, [x * b2 for x in exp_avg_sq])
    w2 = scalar(square_weight)
    v = fma_typed(tc, round_typed(tc, [w2 * x for x in g]), g, v)
    second = v
    if max_exp_avg_sq is not None:
        second = list(map(_maximum, max_exp_avg_sq, v))
        max_exp_avg_sq[:] = array(tc, second)
    c2, e, s = scalar(bias_correction2_sqrt), scalar(eps), scalar(neg_step_size)
    denom = round_typed(tc, [_div(x, c2) for x in round_typed(tc, list(map(_sqrt, second)))])
    denom = round_typed(tc, [x + e for x in denom])
    scaled = round_typed(tc, [s * x for x in m])
    p = round_typed(tc, list(map(operator.add, p, round_typed(tc, list(map(_div, scaled, denom))))))
    param[:], exp_avg[:], exp_avg_sq[:] = array(tc, p), array(tc, m), array(tc, v)


def _lerp(tc: str, start: list[float], end: list[float], weight: float) -> list[float]:
    """torch's ``start.lerp_(end, weight)`` for a scalar weight already in the dtype."""
    gap = round_typed(tc, list(map(operator.sub, end, start)))
    if abs(weight) < 0.5:
        return fma_typed(tc, weight, gap, start)
    return fma_typed(tc, round_typed(tc, [weight - 1.0])[0], gap, end)


def sgd(
    param: array,
    grad: array,
    momentum_buffer: array | None,
    first: bool,
    maximize: bool,
    weight_decay: float,
    momentum: float,
    damped: float,
    nesterov: bool,
    neg_lr: float,
) -> None:
    """One SGD step of one parameter, as torch's ``_single_tensor_sgd``::

        g = -grad if maximize else grad
        g = g.add(p, alpha=weight_decay)               (if weight_decay != 0)
        b = g                          if first        (momentum_buffer is not None: momentum != 0)
        b = b.mul_(momentum).add_(g, alpha=damped)     otherwise       (damped = 1 - dampening)
        g = g.add(b, alpha=momentum) if nesterov else b
        p = p.add_(g, alpha=neg_lr)
    """
    tc = param.typecode
    scalar = lambda value: round_typed(tc, [value])[0]  # noqa: E731
    p, g = param.tolist(), grad.tolist()
    if maximize:
        g = [-x for x in g]
    if weight_decay != 0:
        g = fma_typed(tc, p, scalar(weight_decay), g)
    if momentum_buffer is not None:
        if first:
            b = g
        else:
            mu = scalar(momentum)
            b = fma_typed(tc, g, scalar(damped), round_typed(tc, [x * mu for x in momentum_buffer]))
        momentum_buffer[:] = array(tc, b)
        g = fma_typed(tc, b, scalar(momentum), g) if nesterov else b
    param[:] = array(tc, fma_typed(tc, g, scalar(neg_lr), p))
