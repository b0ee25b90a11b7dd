"""Moving tensors between minigrad and PyTorch, and running one function on both.

PyTorch is optional: it is imported only when one of these functions is called.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import minigrad
from minigrad._dtype import BY_NAME
from minigrad._tensor import Tensor
from minigrad.testing.comparison import assert_close, is_tensor_like


def _torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError("this minigrad.testing helper needs PyTorch: pip install torch") from error
    return torch


def to_torch(t: Tensor) -> Any:
    """A torch tensor with ``t``'s values, dtype, shape and ``requires_grad`` (a new leaf)."""
    torch = _torch()
    if not isinstance(t, Tensor):
        raise TypeError(f"to_torch expects a minigrad Tensor, but got {type(t).__name__}")
    values = t.detach().reshape(-1).tolist()
    out = torch.tensor(values, dtype=getattr(torch, t.dtype.name)).reshape(tuple(t.shape))
    return out.requires_grad_(t.requires_grad)


def from_torch(t: Any) -> Tensor:
    """A minigrad tensor with torch tensor ``t``'s values, dtype, shape and ``requires_grad``."""
    torch = _torch()
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"from_torch expects a torch.Tensor, but got {type(t).__name__}")
    name = str(t.dtype).removeprefix("torch.")
    if name not in BY_NAME:
        raise TypeError(f"minigrad has no dtype for {t.dtype}; it supports {', '.join(BY_NAME)}")
    values = t.detach().cpu().reshape(-1).tolist()
    out = minigrad.tensor(values, dtype=BY_NAME[name]).reshape(tuple(t.shape))
    return out.requires_grad_(t.requires_grad)


def compare_with_torch(
    fn: Callable[..., Any],
    *inputs: Any,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Run ``fn`` on ``inputs`` (minigrad tensors, or anything else passed as is) and on torch
    copies of them; raise ``AssertionError`` unless outputs and input gradients agree.

    ``fn`` must work on both libraries' tensors, e.g. ``lambda x, w: (x @ w).tanh()``. The
    gradients are those of every output that requires grad, weighted by the fixed upstream
    gradient sin(1), sin(2), ... (uneven, so that each element of an output counts differently),
    with respect to each input that requires grad; an input that got no gradient counts as zeros.
    Tolerances are ``assert_close``'s.
    """
    torch = _torch()
    torch_inputs = [to_torch(x) if isinstance(x, Tensor) else x for x in inputs]
    ours = _as_tuple(fn(*inputs))
    theirs = _as_tuple(fn(*torch_inputs))
    if len(ours) != len(theirs):
        raise AssertionError(f"fn returned {len(ours)} outputs on minigrad but {len(theirs)} on torch")
    for i, (o, t) in enumerate(zip(ours, theirs)):
        _check(f"output {i}", o, t, rtol, atol)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    differentiable = []
    for i, (o, t) in enumerate(zip(ours, theirs)):
        ours_needs, theirs_needs = bool(getattr(o, "requires_grad", False)), bool(getattr(t, "requires_grad", False))
        if ours_needs != theirs_needs:
            raise AssertionError(f"output {i} requires grad on {'minigrad' if ours_needs else 'torch'} only")
        if ours_needs:
            differentiable.append((o, t))
    if not wrt or not differentiable:
        return
    seeds = [_seed(o.numel()) for o, _ in differentiable]
    our_grads = minigrad.autograd.grad(
        [o for o, _ in differentiable],
        [inputs[i] for i in wrt],
        [minigrad.tensor(s, dtype=o.dtype).reshape(tuple(o.shape)) for s, (o, _) in zip(seeds, differentiable)],
        allow_unused=True,
    )
    their_grads = torch.autograd.grad(
        [t for _, t in differentiable],
        [torch_inputs[i] for i in wrt],
        [torch.tensor(s, dtype=t.dtype).reshape(t.shape) for s, (_, t) in zip(seeds, differentiable)],
        allow_unused=True,
    )
    for i, g_ours, g_theirs in zip(wrt, our_grads, their_grads):
        g_ours = minigrad.zeros_like(inputs[i]) if g_ours is None else g_ours
        g_theirs = torch.zeros_like(torch_inputs[i]) if g_theirs is None else g_theirs
        _check(f"the gradient of input {i}", g_ours, g_theirs, rtol, atol)


def _as_tuple(result: Any) -> tuple:
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def _seed(n: int) -> list[float]:
    return [math.sin(k + 1) for k in range(n)]


def _check(what: str, ours: Any, theirs: Any, rtol: float | None, atol: float | None) -> None:
    if is_tensor_like(ours) != is_tensor_like(theirs):
        raise AssertionError(f"{what} is a {type(ours).__name__} on minigrad but a {type(theirs).__name__} on torch")
    try:
        assert_close(ours, theirs, rtol=rtol, atol=atol)
    except AssertionError as error:
        raise AssertionError(f"minigrad (actual) and torch (expected) differ in {what}:\n\n{error}") from None
