"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector and back
(``torch.nn.utils``), e.g. for optimizers that work on a single vector."""

from __future__ import annotations

from collections.abc import Iterable

from minigrad._functions.views import cat
from minigrad._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated in order (differentiable, as torch's cat)."""
    return cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's ``data`` the next ``numel()`` elements of ``vec``, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    start = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[start : start + count].view_as(param).data
        start += count
