# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""``minigrad.nn.functional``: the stateless forms of the layers and losses, as torch's ``F``.

The heavy lifting (log_softmax, nll_loss, embedding lookups) is done by the Functions in
``minigrad/_functions/softmax_loss.py``; this module adds torch's signatures, defaults and argument checks,
and composes the rest (``cross_entropy`` is ``nll_loss`` of ``log_softmax``).
"""

from __future__ import annotations

import warnings

from minigrad import _creation
from minigrad._dtype import dtype as _dtype
from minigrad._dtype import int64, scalar_type_name
from minigrad._functions import indexing as _indexing
from minigrad._functions import linalg as _linalg
from minigrad._functions import pointwise as _pointwise
from minigrad._functions import sampling as _sampling
from minigrad._functions import softmax_loss as _softmax_loss
from minigrad._tensor import Tensor

# -- activations ---------------------------------------------------------------------------------


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), elementwise."""
    return _pointwise.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _pointwise.tanh(input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise; ``inplace`` overwrites ``input``."""
    if inplace:
        return input._inplace(_pointwise.relu(input))
    return _pointwise.relu(input)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype | None = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (computed in ``dtype`` when given)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return _softmax_loss.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype | None = None) -> Tensor:
    """x_i - log sum_j exp(x_j) along ``dim`` (computed in ``dtype`` when given)."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return _softmax_loss.log_softmax(input, dim)


# -- layers --------------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b for x of shape (..., in_features), W (out_features, in_features).

    A batch of rows with a bias is one ``addmm`` (as in torch); other shapes multiply, then add."""
    if input.dim() == 2 and bias is not None:
        return _linalg.addmm(bias, input, weight.t())
    if input.dim() <= 2:
        out = input @ weight.t()
    else:
        leading = input.shape[:-1]
        out = (input.reshape(-1, input.shape[-1]) @ weight.t()).reshape(*leading, weight.shape[0])
    return out if bias is None else out + bias


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input`` (any shape): out[..., :] = weight[input[...], :].

    The ``padding_idx`` row receives no gradient. With ``max_norm``, the rows that ``input`` picks
    are first renormalised in place (without recording) to a ``norm_type`` norm of at most
    ``max_norm``, as torch's ``embedding_renorm_``. (``scale_grad_by_freq`` and ``sparse`` are
    torch options minigrad does not implement.)
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("minigrad's embedding does not support scale_grad_by_freq or sparse")
    if padding_idx is not None and padding_idx != 0:  # (torch's own assert, before the weight's rank)
        rows = weight.shape[0]
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if max_norm is not None:
        from minigrad.nn._functional_layers import embedding_renorm_

        embedding_renorm_(weight, input, max_norm, norm_type)
    return _indexing.embedding(input, weight, padding_idx)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the survivors by 1/(1-p) (training only).

    As torch's CPU path: ``noise = empty_like(input).bernoulli_(1 - p)`` (so the mask is drawn
    from torch's stream, spec 6b), ``noise.div_(1 - p)``, then ``input * noise``: each kept
    element is ``x * f(1/f(1-p))``, f rounding to input's dtype. ``p == 1`` draws nothing, and
    ``p == 0``, eval mode or an empty input return ``input`` itself.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        noise = input.new_zeros(())
    else:
        noise = _sampling.bernoulli_(_creation.empty_like(input), 1.0 - p).div_(1.0 - p)
    return input.mul_(noise) if inplace else input * noise


# -- losses --------------------------------------------------------------------------------------


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """The ``reduction`` that the deprecated ``size_average``/``reduce`` pair stands for."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
        stacklevel=3,
    )
    return reduction


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of log-probabilities ``input`` (N, C), (C,) or (N, C, d1, ...):
    loss_i = -weight[t_i] * input[i, t_i]; 'mean' divides the sum by the summed weights."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _softmax_loss.nll_loss(input, target, weight, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy of unnormalised scores ``input`` (N, C), (C,) or (N, C, d1, ...).

    With class indices: nll_loss(log_softmax(input, class dim), target). With class
    probabilities (a float ``target`` of the input's shape): -sum_c weight_c target_c log p_c, averaged
    over the batch for 'mean'. ``label_smoothing`` e mixes in the uniform distribution:
    (1 - e) * loss + e * (the loss against 1/C for every class), as torch computes it.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = _softmax_loss.log_softmax(input, class_dim)
    if target.shape == input.shape:  # torch's rule: same shape means class probabilities
        if not target.is_floating_point():
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                + scalar_type_name(target.dtype)
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _soft_target_loss(logp, target, weight, class_dim, reduction, label_smoothing)
    loss = _softmax_loss.nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return loss
    classes = input.shape[class_dim]
    weighted = logp if weight is None else logp * _along(weight, class_dim, input.dim())
    smooth = (-weighted.sum(class_dim)).masked_fill(target == ignore_index, 0.0)
    if reduction == "mean":
        kept = [t for t in target.reshape(-1).tolist() if t != ignore_index]
        if weight is None:
            smooth = smooth.sum() / len(kept)
        else:
            smooth = smooth.sum() / weight.index_select(0, _creation.tensor(kept, dtype=int64)).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)


def _along(weight: Tensor, class_dim: int, ndim: int) -> Tensor:
    """Per-class weights shaped to broadcast along ``class_dim`` of an ndim-dimensional tensor."""
    return weight.reshape(*([-1] + [1] * (ndim - class_dim - 1)))


def _soft_target_loss(
    logp: Tensor, target: Tensor, weight: Tensor | None, class_dim: int, reduction: str, label_smoothing: float
) -> Tensor:
    classes = logp.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    terms = logp * target
    if weight is not None:
        terms = terms * _along(weight, class_dim, logp.dim())
    losses = -terms.sum(class_dim)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (logp.numel() // classes)


# -- more layers, activations and losses (torch's F names; the code lives in the modules below) ---

from minigrad.nn._functional_activations import (  # noqa: E402, F401 - they use the helpers above
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    relu6,
    selu,
    selu_,
    silu,
    softmin,
    softplus,
    softsign,
    tanhshrink,
)
from minigrad.nn._functional_attention import (  # noqa: E402, F401
    _canonical_mask,
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
from minigrad.nn._functional_layers import (  # noqa: E402, F401
    avg_pool1d,
    bilinear,
    conv1d,
    cosine_similarity,
    embedding_bag,
    layer_norm,
    max_pool1d,
    normalize,
    one_hot,
    pad,
    pairwise_distance,
)
from minigrad.nn._functional_losses import (  # noqa: E402, F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    smooth_l1_loss,
)
