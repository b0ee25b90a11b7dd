"""``RMSprop``, with torch's update (its single-tensor CPU path, in the same order)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad._creation import zeros, zeros_like
from minigrad._dtype import float32
from minigrad._tensor import Tensor
from minigrad.optim._fused import addcmul_, lerp_
from minigrad.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    r"""For each parameter p with gradient g (negated when ``maximize``)::

        g = g + weight_decay * p                          (if weight_decay)
        v = alpha * v + (1 - alpha) * g * g               (state "square_avg")
        m = m + (1 - alpha) * (g - m)                     (centered; state "grad_avg")
        d = sqrt(v - m * m) + eps   if centered   else   sqrt(v) + eps
        b = momentum * b + g / d;  p = p - lr * b         (if momentum; state "momentum_buffer")
        p = p - lr * g / d                                (otherwise)

    ``state["step"]`` counts the steps (a float32 0-d tensor). torch's float32 ``sqrt`` runs
    through MKL's vector library, which is not correctly rounded, so a result may differ from
    torch's in the last bit where the square root does.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        for name, value in (
            ("learning rate", lr),
            ("epsilon value", eps),
            ("momentum value", momentum),
            ("weight_decay value", weight_decay),
            ("alpha value", alpha),
        ):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        if differentiable:
            raise NotImplementedError("minigrad's RMSprop has no differentiable variant")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state[param]
            if not state:
                state["step"] = zeros((), dtype=float32)
                state["square_avg"] = zeros_like(param)
                if momentum > 0:
                    state["momentum_buffer"] = zeros_like(param)
                if centered:
                    state["grad_avg"] = zeros_like(param)
            if group["maximize"]:
                grad = -grad
            state["step"].add_(1)
            if weight_decay != 0:  # g + weight_decay * p rounded once, as torch's add
                grad = grad.clone().add_(param, alpha=weight_decay)
            square_avg = addcmul_(state["square_avg"].mul_(alpha), grad, grad, 1 - alpha)
            if centered:
                grad_avg = lerp_(state["grad_avg"], grad, 1 - alpha)
                avg = addcmul_(square_avg.clone(), grad_avg, grad_avg, -1).sqrt()
            else:
                avg = square_avg.sqrt()
            avg = avg.add_(eps)
            if momentum > 0:
                buf = state["momentum_buffer"].mul_(momentum).add_(grad / avg)  # torch's addcdiv_(g, avg)
                param.add_(buf, alpha=-lr)
            else:
                param.add_(grad * -lr / avg)  # torch's addcdiv_: p + (value * g) / avg
