"""What autograd knows of a tensor: the methods it calls, and nothing else.

Autograd sits below the tensor module and never imports it (as minitorch's ``autodiff.py`` is
written against a small ``Variable`` protocol). ``minigrad._tensor.Tensor`` is the one class that
implements this protocol; the engine and ``Function`` are typed against it.
"""

from __future__ import annotations

from typing import Any, Protocol


class TensorLike(Protocol):
    """The part of ``Tensor`` that the engine and ``Function.apply`` use."""

    _shape: tuple[int, ...]
    dtype: Any
    grad: Any
    grad_fn: Any
    _output_nr: int
    _requires_grad: bool
    _storage: Any  # ``.version`` counts in-place writes; ``save_for_backward`` records it

    @property
    def requires_grad(self) -> bool: ...

    def numel(self) -> int: ...

    def _values(self) -> Any: ...

    def _view(self, shape: tuple, strides: tuple, offset: int) -> TensorLike: ...

    def _copy(self) -> TensorLike: ...

    def _sum_to_shape(self, shape: tuple, op_name: str = "", index: int = 0) -> TensorLike: ...

    def to(self, dtype: Any) -> TensorLike: ...

    def detach(self) -> TensorLike: ...

    def clone(self) -> TensorLike: ...

    def _new_full(self, shape: tuple, dtype: Any, value: int) -> TensorLike: ...

    def add_(self, other: TensorLike) -> TensorLike: ...

    def __add__(self, other: TensorLike) -> TensorLike: ...


def is_tensor_like(value: object) -> bool:
    """Whether ``value`` can be a gradient: a cheap check of one protocol method, as the engine
    runs it once per gradient (``isinstance`` against a runtime Protocol costs ~100 times more)."""
    return hasattr(value, "_sum_to_shape")
