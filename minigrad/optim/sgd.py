# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""``SGD``: stochastic gradient descent with optional momentum, dampening, Nesterov momentum,
weight decay and maximisation, with torch's update formulas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad._backend import kernels as K
from minigrad._creation import zeros_like
from minigrad._tensor import Tensor
from minigrad.optim._fused import update_in_place
from minigrad.optim.optimizer import Optimizer


class SGD(Optimizer):
    r"""For each parameter p with gradient g (negated when ``maximize``)::

        g = g + weight_decay * p                       (if weight_decay)
        b = g                           at the first step, then
        b = momentum * b + (1 - dampening) * g         (if momentum; b is state "momentum_buffer")
        g = g + momentum * b   if nesterov   else   g = b
        p = p - lr * g

    Each parameter's update is one kernel, ``K.sgd``, with torch's roundings (its ``add`` with
    ``alpha`` is one fused multiply-add): torch's bits.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable or fused:
            raise NotImplementedError("minigrad's SGD has neither a differentiable nor a fused variant")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        """One fused kernel per parameter (``K.sgd``), rounding as torch's tensor ops do."""
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            buf, first = None, False
            if momentum != 0:
                state = self.state[param]
                buf = state.get("momentum_buffer")
                first = buf is None  # then the kernel starts the buffer as a copy of the (decayed) gradient
                if first:
                    buf = state["momentum_buffer"] = zeros_like(grad)
            update_in_place(
                K.sgd, param, grad, [buf], first, maximize, weight_decay, momentum, 1 - dampening, nesterov, -lr
            )
