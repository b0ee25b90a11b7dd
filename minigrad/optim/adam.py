# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""``Adam`` and ``AdamW``, with torch's update formulas (its single-tensor CPU path)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad._backend import kernels as K
from minigrad._creation import tensor, zeros_like
from minigrad._dtype import float32
from minigrad._tensor import Tensor
from minigrad.optim._fused import update_in_place
from minigrad.optim.optimizer import Optimizer


class Adam(Optimizer):
    r"""For each parameter p with gradient g (negated when ``maximize``), at step t::

        p = p * (1 - lr * weight_decay)          if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p                 otherwise, if weight_decay
        m = m + (1 - beta1) * (g - m)            (state "exp_avg")
        v = beta2 * v + (1 - beta2) * g * g      (state "exp_avg_sq")
        v_max = max(v_max, v)                    (amsgrad; state "max_exp_avg_sq", used in place of v)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    ``state["step"]`` is t as a float32 0-d tensor, as in torch. Each parameter's update is one
    kernel, ``K.adam``, which rounds every intermediate as torch's tensor ops do (m by ``lerp_``,
    v by ``mul_`` and ``addcmul_``, p by ``addcdiv_``): torch's bits, but for torch's square root,
    which is MKL's (faithful, not correctly rounded; minigrad's is IEEE's).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if capturable or differentiable or fused:
            raise NotImplementedError("minigrad's Adam has no capturable, differentiable or fused variant")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        """One fused kernel per parameter (``K.adam``); the scalars are torch's, in double."""
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state[param]
            if not state:
                state["step"] = tensor(0.0, dtype=float32)
                state["exp_avg"] = zeros_like(param)
                state["exp_avg_sq"] = zeros_like(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = zeros_like(param)
            step = state["step"].add_(1).item()
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            update_in_place(
                K.adam,
                param,
                grad,
                [state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"] if amsgrad else None],
                group["maximize"],
                0 if decoupled else weight_decay,
                1 - lr * weight_decay if decoupled else 1.0,
                1 - beta1,
                beta2,
                1 - beta2,
                bias_correction2**0.5,
                eps,
                -(lr / bias_correction1),
            )


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step
    (default weight_decay 1e-2)."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
