"""torch's legacy tensor-type constructors, which programs still copy: ``LongTensor``,
``FloatTensor``, ``DoubleTensor``, ``BoolTensor``.

``FloatTensor(2, 3)`` (or ``FloatTensor(Size([2, 3]))``) makes an uninitialised float32 tensor of
that shape (zeros here, as ``empty``), ``FloatTensor([1, 2])`` one from data (``LongTensor``
truncates floats), ``FloatTensor()`` an empty one, and ``FloatTensor(t)`` shares the storage of
a float32 tensor t. The result is an ordinary ``Tensor``; as in torch, ``isinstance(t, FloatTensor)``
asks whether t is a float32 tensor, and ``t.type(LongTensor)`` converts.
"""

from __future__ import annotations

from typing import Any

from minigrad import _creation
from minigrad._dtype import BY_NAME, bool_, dtype, float32, float64, int64
from minigrad._shape import Size
from minigrad._tensor import Tensor

__all__ = ["BoolTensor", "DoubleTensor", "FloatTensor", "LongTensor", "dtype_of"]

_OPTIONS_NAME = {"float32": "float", "float64": "double", "int64": "long int", "bool": "bool"}  # as torch's C++


def _options(dt: dtype) -> str:
    return (
        f"TensorOptions(dtype={_OPTIONS_NAME[dt.name]}, device=cpu, layout=Strided, requires_grad=false (default), "
        "pinned_memory=false (default), memory_format=(nullopt))"
    )


class _TensorType(type):
    """The type of the legacy classes: ``isinstance(x, FloatTensor)`` is True for float32 tensors."""

    dtype: dtype

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'minigrad.{cls.__name__}'>"


class _LegacyTensor(metaclass=_TensorType):
    """``XTensor(*sizes)``, ``XTensor(data)``, ``XTensor(tensor)`` or ``XTensor()``: see the module."""

    is_cuda = False

    def __new__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[misc]
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
        dt = cls.dtype
        if not args:
            return _creation.empty(0, dtype=dt)
        if len(args) == 1 and isinstance(args[0], Tensor):
            other = args[0]
            if other.dtype is not dt:
                raise TypeError(f"expected {_options(dt)} (got {_options(other.dtype)})")
            return other.detach()
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
            return _creation.tensor(args[0], dtype=dt)
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        sizes = tuple(args[0]) if isinstance(args[0], Size) else args
        for position, size in enumerate(sizes, start=1):
            if not isinstance(size, int):
                raise TypeError(
                    f"new(): argument 'size' failed to unpack the object at pos {position} with error "
                    f'"type must be tuple of ints,but got {type(size).__name__}"'
                )
        return _creation.empty(*sizes, dtype=dt)


class FloatTensor(_LegacyTensor):
    dtype = float32


class DoubleTensor(_LegacyTensor):
    dtype = float64


class LongTensor(_LegacyTensor):
    dtype = int64


class BoolTensor(_LegacyTensor):
    dtype = bool_


_BY_TYPE_NAME = {cls.__name__: cls.dtype for cls in (FloatTensor, DoubleTensor, LongTensor, BoolTensor)}


def dtype_of(kind: Any) -> dtype:
    """The dtype meant by a ``Tensor.type(...)`` argument: a dtype, a legacy class, or its name
    (``"torch.LongTensor"``, ``"minigrad.LongTensor"``, ``"LongTensor"``)."""
    if isinstance(kind, dtype):
        return kind
    if isinstance(kind, _TensorType):
        return kind.dtype
    if isinstance(kind, str):
        name = kind.rsplit(".", 1)[-1]
        if name in _BY_TYPE_NAME:
            return _BY_TYPE_NAME[name]
        if name in BY_NAME:
            return BY_NAME[name]
        raise ValueError(f"invalid type: '{kind}'")
    raise TypeError(f"type() argument must be a dtype, a tensor type or its name, not {type(kind).__name__}")
