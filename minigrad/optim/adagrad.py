"""``Adagrad``, with torch's update (its single-tensor CPU path, in the same order)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad._creation import full_like, tensor
from minigrad._dtype import float32
from minigrad._tensor import Tensor
from minigrad.optim._fused import addcmul_
from minigrad.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    r"""For each parameter p with gradient g (negated when ``maximize``), at step t::

        g = g + weight_decay * p                  (if weight_decay)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                             (state "sum", from initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    The state (``step`` as a float32 0-d tensor, ``sum``) is created at construction, as in torch.
    torch's float32 ``sqrt`` runs through MKL's vector library, which is not correctly rounded,
    so a result may differ from torch's in the last bit where the square root does.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        for name, value in (
            ("learning rate", lr),
            ("lr_decay value", lr_decay),
            ("weight_decay value", weight_decay),
            ("initial_accumulator_value value", initial_accumulator_value),
            ("epsilon value", eps),
        ):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        if differentiable or fused:
            raise NotImplementedError("minigrad's Adagrad has neither a differentiable nor a fused variant")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, initial_accumulator_value)

    def _init_state(self, param: Tensor, initial_value: float) -> dict[str, Any]:
        state = self.state[param]
        state["step"] = tensor(0.0, dtype=float32)
        state["sum"] = full_like(param, initial_value)
        return state

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps, weight_decay = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state[param] or self._init_state(param, self.defaults["initial_accumulator_value"])
            step = state["step"].add_(1).item()
            if group["maximize"]:
                grad = -grad
            if weight_decay != 0:  # g + weight_decay * p rounded once, as torch's add
                grad = grad.clone().add_(param, alpha=weight_decay)
            clr = lr / (1 + (step - 1) * lr_decay)
            state_sum = addcmul_(state["sum"], grad, grad)
            std = state_sum.sqrt().add_(eps)
            param.add_(grad * -clr / std)  # torch's addcdiv_: p + (value * g) / std
