"""The p-norm along some dims, with torch's gradient (0 where the norm is 0), for
``normalize``, ``cosine_similarity``, ``pairwise_distance`` and ``Embedding(max_norm=...)``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from minigrad._functions.pointwise import where
from minigrad._tensor import Tensor
from minigrad.autograd.function import Function


def norm_values(x: Tensor, p: float, dims: Sequence[int], keepdim: bool) -> Tensor:
    """(sum |x|^p)^(1/p) over dims (max |x| for p = inf, the count of non-zeros for p = 0),
    without recording a graph."""
    a = x.abs()
    if p == math.inf:
        out = a
        for d in sorted(dims, reverse=True):
            out = out.max(d, keepdim=True)[0]
        return out if keepdim else out.reshape(*[s for i, s in enumerate(x.shape) if i not in dims])
    if p == 0:
        return (a != 0).to(x.dtype).sum(list(dims), keepdim)
    if p == 1:
        return a.sum(list(dims), keepdim)
    if p == 2:
        return (x * x).sum(list(dims), keepdim).sqrt()
    return (a**p).sum(list(dims), keepdim) ** (1.0 / p)


def _sign(x: Tensor) -> Tensor:
    return where(x > 0, 1.0, where(x < 0, -1.0, 0.0)).to(x.dtype)


class Norm(Function):
    """y = ||x||_p over dims;  dy/dx = sign(x) |x|^(p-1) / y^(p-1) (x / y for p = 2), 0 where y = 0;
    for p = inf the gradient goes to the elements equal to the max, shared evenly."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        y = norm_values(x, p, dims, keepdim)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdim:
            for d in sorted(ctx.dims):
                grad, y = grad.unsqueeze(d), y.unsqueeze(d)
        if p == 0:
            return x * 0, None, None, None
        if p == 1:
            return _sign(x) * grad, None, None, None
        if p == math.inf:
            at_max = (x.abs() == y).to(x.dtype)
            count = at_max.sum(list(ctx.dims), keepdim=True)
            return _sign(x) * at_max * grad / count, None, None, None
        if p == 2:
            scaled = x * (grad / y)
        else:
            scaled = x * x.abs() ** (p - 2) * (grad / y ** (p - 1))
        return where(y == 0, 0.0, scaled), None, None, None


def norm(x: Tensor, p: float, dims: int | Sequence[int], keepdim: bool = False) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    dims = tuple(sorted(d + x.dim() if d < 0 else d for d in dims))
    return Norm.apply(x, float(p), dims, keepdim)
