"""Layers of ``nn.functional`` composed from differentiable tensor ops, with torch's signatures,
defaults and errors: ``layer_norm``, ``normalize``, ``cosine_similarity``, ``pairwise_distance``,
``one_hot``, ``pad``, ``conv1d`` (im2col: a stack of strided slices, then one matmul),
``max_pool1d``, ``avg_pool1d``, ``bilinear`` and ``embedding_bag``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minigrad import _creation
from minigrad._dtype import int64
from minigrad._functions import distance as _distance
from minigrad._functions.views import cat, stack
from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import no_grad


def _single(value: Any) -> int:
    """An int, or the one int of a 1-tuple (torch's ``_single``)."""
    return value[0] if isinstance(value, (tuple, list)) else value


# -- normalisation and distances ------------------------------------------------------------------


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims
    (biased variance), computed as torch's kernel does: x * rstd + (-mean * rstd)."""
    shape = tuple(normalized_shape) if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    n = len(shape)
    if n == 0 or tuple(input.shape[input.dim() - n :]) != shape or input.dim() < n:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size{list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(shape)}")  # fmt: skip
    dims = list(range(input.dim() - n, input.dim()))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    rstd = 1.0 / ((centered * centered).mean(dims, keepdim=True) + eps).sqrt()
    out = input * rstd + (-mean * rstd)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``."""
    denom = _distance.norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denom
    if out is not None:
        with no_grad():
            out.copy_(result)
        return out
    return result


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1/||x1|| * x2/||x2||) along ``dim`` (each norm at least eps), broadcasting x1 and x2."""
    from minigrad._shape import broadcast_shapes, normalize_dim

    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    dim = normalize_dim(dim, len(shape))
    n1 = _distance.norm(x1, 2.0, dim, keepdim=True).clamp(min=eps)
    n2 = _distance.norm(x2, 2.0, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension."""
    last = max(x1.dim(), x2.dim(), 1) - 1
    diff = x1 - x2 + eps
    if diff.dim() == 0:
        diff = diff.reshape(1)
    return _distance.norm(diff, p, last, keepdim=keepdim)


# -- one_hot and pad -------------------------------------------------------------------------------


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape (*tensor.shape, num_classes) with 1 at each class index."""
    if tensor.dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor.reshape(-1).tolist()
    if num_classes == -1:
        if not values:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = max(values) + 1
    if values and min(values) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if values and max(values) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    flat = [0] * (len(values) * num_classes)
    for i, v in enumerate(values):
        flat[i * num_classes + v] = 1
    return _creation.tensor(flat, dtype=int64).reshape(*tensor.shape, num_classes)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative sizes, crop) the last len(pad) // 2 dims: pad = (left of the last
    dim, right of the last dim, left of the one before, ...). Modes 'constant' (with ``value``,
    default 0), 'reflect', 'replicate' and 'circular'."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding length "
            f"{len(pad)} and input of dimension {input.dim()}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant" and value:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        out = _pad_dim(out, dim, pad[2 * i], pad[2 * i + 1], mode, 0.0 if value is None else value, input)
    return out


def _pad_dim(x: Tensor, dim: int, left: int, right: int, mode: str, value: float, original: Tensor) -> Tensor:
    size = x.shape[dim]
    if left < 0:
        x, size, left = x.narrow(dim, -left, size + left), size + left, 0
    if right < 0:
        x, size, right = x.narrow(dim, 0, size + right), size + right, 0
    if not left and not right:
        return x
    if mode == "reflect" and (left >= size or right >= size):
        raise RuntimeError(
            f"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding "
            f"({left}, {right}) at dimension {dim} of input {list(original.shape)}"
        )
    pieces = []
    for count, at_start in ((left, True), (right, False)):
        if not count:
            pieces.append(None)
            continue
        if mode == "constant":
            block_shape = list(x.shape)
            block_shape[dim] = count
            pieces.append(_creation.full(block_shape, value, dtype=x.dtype))
            continue
        if mode == "replicate":
            idx = [0] * count if at_start else [size - 1] * count
        elif mode == "reflect":
            idx = list(range(count, 0, -1)) if at_start else list(range(size - 2, size - 2 - count, -1))
        else:  # circular
            idx = [(size - count + j) % size for j in range(count)] if at_start else [j % size for j in range(count)]
        pieces.append(x.index_select(dim, _creation.tensor(idx, dtype=int64)))
    parts = [p for p in (pieces[0], x, pieces[1]) if p is not None]
    return cat(parts, dim)


# -- convolution and pooling -------------------------------------------------------------------------


def _windows(x: Tensor, kernel: int, stride: int, dilation: int, out_len: int) -> Tensor:
    """(..., L) -> (..., out_len, kernel): window o holds x[o*stride + k*dilation] for each k."""
    last = x.dim() - 1
    span = (out_len - 1) * stride + 1
    taps = [x.narrow(last, k * dilation, span)[..., ::stride] for k in range(kernel)]
    return stack(taps, -1)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | str | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """out[n, o, t] = bias[o] + sum_{c, k} weight[o, c, k] x[n, g(o) * C/groups + c, t*stride + k*dilation - padding]
    for input (N, C, L) or (C, L) and weight (O, C/groups, K)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: {list(input.shape)}"
        )
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    stride, dilation = _single(stride), _single(dilation)
    out_channels, group_channels, kernel = weight.shape
    if isinstance(padding, str):
        if padding == "valid":
            left = right = 0
        elif padding == "same":
            if stride != 1:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = dilation * (kernel - 1)
            left, right = total // 2, total - total // 2
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        left = right = _single(padding)
    if x.shape[1] != group_channels * groups:
        batched_shape = list(x.shape) if not unbatched else [1] + list(input.shape)
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{batched_shape} to have "
            f"{group_channels * groups} channels, but got {x.shape[1]} channels instead"
        )
    padded_len = x.shape[2] + left + right
    if padded_len < dilation * (kernel - 1) + 1:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({padded_len}). Kernel size: ({dilation * (kernel - 1) + 1}). "
            "Kernel size can't be greater than actual input size"
        )
    if left or right:
        x = pad(x, (left, right))
    out_len = (padded_len - dilation * (kernel - 1) - 1) // stride + 1
    cols = _windows(x, kernel, stride, dilation, out_len)  # (N, C, out_len, K)
    n = x.shape[0]
    cols = cols.permute(0, 1, 3, 2)  # (N, C, K, out_len)
    per_group = out_channels // groups
    outs = []
    for g in range(groups):
        block = cols.narrow(1, g * group_channels, group_channels).reshape(n, group_channels * kernel, out_len)
        w = weight.narrow(0, g * per_group, per_group).reshape(per_group, group_channels * kernel)
        outs.append(w @ block)
    out = outs[0] if groups == 1 else cat(outs, 1)
    if bias is not None:
        out = out + bias.reshape(out_channels, 1)
    return out.squeeze(0) if unbatched else out


def _pool_out_len(length: int, kernel: int, pad: int, stride: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape."""
    numerator = length + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= length + pad:
        out -= 1
    return out


def _pool_args(name: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any) -> tuple[int, int, int]:
    kernel = _single(kernel_size)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _single(stride)
    padding = _single(padding)
    if kernel <= 0:
        raise RuntimeError(f"{name}() kernel_size must be greater than zero, but got {kernel}")
    if stride <= 0:
        raise RuntimeError(f"{name}() stride must be greater than zero, but got {stride}")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{name}() Expected 2D or 3D input tensor, but got {list(input.shape)}")
    return kernel, stride, padding


def max_pool1d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The max of each window of the last dimension (padding counts as -inf); with
    ``return_indices``, also the position in the input of each max (the first, or a nan)."""
    kernel, stride, padding = _pool_args("max_pool1d", input, kernel_size, stride, padding)
    dilation = _single(dilation)
    if dilation <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dilation}")
    if padding > kernel // 2:
        raise RuntimeError(
            f"max_pool1d() padding should be at most half of kernel size, but got padding={padding} and "
            f"kernel_size={kernel}"
        )
    length = input.shape[-1]
    out_len = _pool_out_len(length, kernel, padding, stride, dilation, ceil_mode)
    if out_len <= 0:
        raise RuntimeError(
            f"max_pool1d() Invalid computed output size: {out_len}"
        )
    right = max(0, (out_len - 1) * stride + dilation * (kernel - 1) + 1 - length - padding)
    x = pad(input, (padding, right), value=-math.inf) if padding or right else input
    values, which = _windows(x, kernel, stride, dilation, out_len).max(-1)
    if not return_indices:
        return values
    starts = _creation.arange(out_len, dtype=int64) * stride - padding
    return values, which * dilation + starts


def avg_pool1d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window of the last dimension; windows are divided by their size with the
    zero padding (``count_include_pad``) or without it."""
    kernel, stride, padding = _pool_args("avg_pool1d", input, kernel_size, stride, padding)
    if padding > kernel // 2:
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={padding}, kernel_size={kernel} and "
            "dilation=1"
        )
    length = input.shape[-1]
    out_len = _pool_out_len(length, kernel, padding, stride, 1, ceil_mode)
    right = max(0, (out_len - 1) * stride + kernel - length - padding)
    x = pad(input, (padding, right)) if padding or right else input
    sums = _windows(x, kernel, stride, 1, out_len).sum(-1)
    divisors = []
    for o in range(out_len):
        start = o * stride - padding
        end = min(start + kernel, length + padding)
        size = end - start
        start, end = max(start, 0), min(end, length)
        divisors.append(float(size if count_include_pad else end - start))
    return sums / _creation.tensor(divisors, dtype=input.dtype)


# -- bilinear -----------------------------------------------------------------------------------------


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]."""
    out_features, in1, in2 = weight.shape
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    if input1.shape[-1] != in1:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but expected {in1}"
        )
    if input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected {in2}"
        )
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    left = (x1 @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)).reshape(-1, out_features, in2)
    out = (left * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_features)


# -- embeddings -----------------------------------------------------------------------------------------


def embedding_renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> Tensor:
    """Scale each row of ``weight`` that ``input`` picks, in place and unrecorded, to a norm of at
    most max_norm: row *= max_norm / (norm + 1e-7) where norm > max_norm."""
    with no_grad():
        for i in sorted(set(input.reshape(-1).tolist())):
            row = weight[i]
            norm = _distance.norm_values(row, norm_type, (0,), False).item()
            if norm > max_norm:
                row.mul_(max_norm / (norm + 1e-7))
    return weight


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of the rows of ``weight`` picked by each bag of indices: the rows of
    a 2-D ``input``, or the runs of a 1-D ``input`` that start at ``offsets``. Indices equal to
    ``padding_idx`` are left out (and not counted by 'mean'); an empty bag gives zeros.
    ``per_sample_weights`` scales each picked row ('sum' only)."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
        starts = list(range(0, input.numel(), input.shape[1])) if input.shape[1] else [0] * input.shape[0]
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets.tolist()
        if include_last_offset:
            starts = starts[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("minigrad's embedding_bag does not support scale_grad_by_freq or sparse")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if max_norm is not None:
        embedding_renorm_(weight, input, max_norm, norm_type)
    if input.dtype is not int64:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but "
            f"got {input.type()} instead (while checking arguments for embedding_bag)"
        )
    indices = input.tolist()
    ends = starts[1:] + [len(indices)]
    if include_last_offset and input.dim() == 1:
        ends = offsets.tolist()[1:]
    if starts and starts[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
            f"However, got {starts[0]}"
        )
    last = max(starts[-1:] + ends[-1:]) if starts else 0
    if last > len(indices):
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length {len(indices)} but got offsets[-1] of {last}"
        )
    for position, index in enumerate(indices):
        if not 0 <= index < weight.shape[0]:
            raise RuntimeError(
                f"Index {position} of input takes value {index} which is not in the valid range [0, {weight.shape[0]})"
            )
    rows = _embedding(input, weight)
    bags = []
    for start, end in zip(starts, ends):
        kept = [i for i in range(start, end) if indices[i] != padding_idx]
        if not kept:
            bags.append(_creation.zeros(weight.shape[1], dtype=weight.dtype))
            continue
        picked = rows.index_select(0, _creation.tensor(kept, dtype=int64))
        if per_sample_weights is not None:
            picked = picked * per_sample_weights.index_select(0, _creation.tensor(kept, dtype=int64)).unsqueeze(1)
        if mode == "max":
            bags.append(picked.max(0)[0])
        elif mode == "mean":
            bags.append(picked.sum(0) / len(kept))
        else:
            bags.append(picked.sum(0))
    if not bags:
        return _creation.zeros(0, weight.shape[1], dtype=weight.dtype)
    return stack(bags, 0)


def _embedding(input: Tensor, weight: Tensor) -> Tensor:
    from minigrad._functions.indexing import embedding

    return embedding(input, weight)
