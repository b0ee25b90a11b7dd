"""The regression, binary and embedding losses of ``nn.functional``, as torch 2.13.0 computes them
(``torch/nn/functional.py`` for the argument handling, ``aten/src/ATen/native/Loss.cpp`` for the
arithmetic). Each is an elementwise loss, then the reduction: 'none' keeps it, 'sum' adds it up,
'mean' averages it.
"""

from __future__ import annotations

import warnings

from minigrad._functions import loss as _loss
from minigrad._functions.pointwise import where
from minigrad._shape import broadcast_shapes
from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import is_grad_enabled

_EPSILON = 1e-12  # cosine_embedding_loss's guard on squared norms


def reduction_of(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The reduction to apply: the legacy pair when given (with torch's warning), else
    ``reduction``, checked."""
    if size_average is not None or reduce is not None:
        from minigrad.nn.functional import _legacy_reduction

        return _legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _not_differentiable(function: str, **tensors: Tensor | None) -> None:
    """torch's error for a loss argument that has no derivative but requires grad."""
    if not is_grad_enabled():
        return
    for name, tensor in tensors.items():
        if tensor is not None and tensor.requires_grad:
            raise RuntimeError(
                f"The function '{function}' is not differentiable with respect to argument '{name}'. "
                "This input cannot have requires_grad True."
            )


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _broadcast(*tensors: Tensor) -> list[Tensor]:
    """The tensors expanded to their common shape (torch.broadcast_tensors)."""
    shape = tensors[0].shape
    for t in tensors[1:]:
        shape = broadcast_shapes(shape, t.shape)
    return [t if t.shape == shape else t.expand(*shape) for t in tensors]


def _weighted(
    errors: Tensor, input: Tensor, weight: Tensor | None, reduction: str, mean_over_weight: bool
) -> Tensor:
    """torch's python path for per-element ``weight``: errors * weight, then the reduction
    ('mean' divides by sum(weight) for mse/l1, by the element count for huber)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = errors * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean":
        return weighted.sum() / weight.sum() if mean_over_weight else weighted.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """(x - y)^2 elementwise, reduced (with ``weight``: 'mean' is sum(w (x-y)^2) / sum(w))."""
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = reduction_of(size_average, reduce, reduction)
    x, y = _broadcast(input, target)
    diff = x - y
    if weight is not None:
        return _weighted(diff * diff, input, weight, reduction, mean_over_weight=True)
    return reduce_loss(diff * diff, reduction_of(None, None, reduction))


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """|x - y| elementwise, reduced (with ``weight``: 'mean' is sum(w |x-y|) / sum(w))."""
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = reduction_of(size_average, reduce, reduction)
    x, y = _broadcast(input, target)
    if weight is not None:
        return _weighted((x - y).abs(), input, weight, reduction, mean_over_weight=True)
    return reduce_loss((x - y).abs(), reduction_of(None, None, reduction))


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 z^2 / beta where z = |x - y| < beta, else z - 0.5 beta (beta = 0: plain L1)."""
    _warn_size(input, target)
    reduction = reduction_of(size_average, reduce, reduction)
    x, y = _broadcast(input, target)
    if beta == 0.0:
        return reduce_loss((x - y).abs(), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    z = (x - y).abs()
    return reduce_loss(where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """0.5 z^2 where z = |x - y| < delta, else delta (z - 0.5 delta)."""
    _warn_size(input, target)
    x, y = _broadcast(input, target)
    if weight is None:
        reduction = reduction_of(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    z = (x - y).abs()
    loss = where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, input, weight, reduction, mean_over_weight=False)
    return reduce_loss(loss, reduction)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x, each log clamped to >= -100."""
    reduction = reduction_of(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) is "
            "deprecated. Please ensure they have the same size."
        )
    if weight is not None:
        weight = weight.expand(*broadcast_shapes(target.shape, weight.shape))
    _not_differentiable("binary_cross_entropy", weight=weight)
    return _loss.BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """-w (p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) from logits x, computed stably as
    (1 - y) x - (1 + (p - 1) y) log sigmoid(x)."""
    reduction = reduction_of(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    _not_differentiable("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    shape = input.shape
    for extra in (weight, pos_weight):
        if extra is not None:
            shape = broadcast_shapes(shape, extra.shape)
    x, y = _broadcast(input, target) if shape == input.shape else (input.expand(*shape), target.expand(*shape))
    weight = None if weight is None else weight.expand(*shape)
    pos_weight = None if pos_weight is None else pos_weight.expand(*shape)
    return _loss.BinaryCrossEntropyWithLogits.apply(x, y, weight, pos_weight, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """y (log y - x) for log-probabilities x (with ``log_target``: exp(y) (y - x)); 'batchmean'
    divides the sum by the batch size (the first dimension)."""
    if size_average is not None or reduce is not None:
        applied = reduction_of(size_average, reduce, reduction)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
        applied = "sum" if reduction == "batchmean" else reduction_of(None, None, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(y, y) - y x: 0 log 0 is 0
        loss = where(target == 0, 0.0, target * target.log()) - target * input
    reduced = reduce_loss(loss, applied)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.shape[0]
    return reduced


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin)."""
    reduction = reduction_of(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return reduce_loss((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0 elsewhere);
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))."""
    reduction = reduction_of(size_average, reduce, reduction)
    targ_dim = target.dim()
    if targ_dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    sizes = f"{list(input1.shape)} and {list(input2.shape)}"
    if targ_dim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes {sizes}.")
    if targ_dim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes {sizes}.")
    prod_sum = (input1 * input2).sum(targ_dim)
    mag_square1 = (input1 * input1).sum(targ_dim) + _EPSILON
    mag_square2 = (input2 * input2).sum(targ_dim) + _EPSILON
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = cos.new_zeros(*cos.shape)
    positive = where(target == 1, 1 - cos, zeros)
    negative = where(target == -1, (cos - margin).clamp(min=0), zeros)
    return reduce_loss(positive + negative, reduction)
