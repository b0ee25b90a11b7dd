# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""``Tensor``: a strided view of typed storage, plus the fields autograd needs.

A tensor is ``storage`` (an ``array.array`` and a version counter shared by every view of it),
``shape``, ``strides`` and ``offset``: element ``[i, j, k]`` lives at
``storage[offset + i*strides[0] + j*strides[1] + k*strides[2]]``. Views such as ``transpose`` or
``x[1:]`` make a new tensor over the same storage with other strides and offset; ``contiguous()``
copies into row-major order, which is what kernels read.

The autograd fields: ``requires_grad``, ``grad`` (filled by backward on leaves), ``grad_fn``
(the ``Node`` that made this tensor, ``None`` for leaves) and ``_output_nr`` (which output of
that node this tensor is).

Operations live in ``minigrad/_functions/``; the methods here are thin doors into them.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from functools import partial
from math import prod
from typing import Any

from minigrad import _alloc, _device, _dtype, _overlap, _printing
from minigrad._backend import kernels as K
from minigrad._dtype import bool_, dtype, float32, float64, int64, scalar_type_name
from minigrad._shape import Size, contiguous_strides, is_contiguous, normalize_dim, sum_to_dims
from minigrad.autograd import engine as _engine
from minigrad.autograd import grad_mode


class Storage:
    """A flat typed buffer and its version counter (bumped by every in-place write)."""

    __slots__ = ("data", "version")

    def __init__(self, data: array) -> None:
        self.data = data
        self.version = 0


# one-element buffers of each typecode: repeating one is a fast fill of a few elements (and
# _ZERO's are the templates K.zeros allocates like)
_ZERO = {dt.typecode: array(dt.typecode, (0,)) for dt in _dtype.ALL_DTYPES}
_ONE = {dt.typecode: array(dt.typecode, (1,)) for dt in _dtype.ALL_DTYPES}


_UNCHECKED = _alloc.LARGE // 8  # buffers of up to this many elements fit whatever their dtype
_CLEARED_AT = 256  # from this many elements K.zeros (memset in the Cython core) beats repeating


def new_buffer(dt: dtype, n: int) -> array:
    """A zero-filled buffer of n elements of dtype dt (torch's error at once if it cannot fit)."""
    if n > _UNCHECKED and n * dt.itemsize > _alloc.LARGE:
        _alloc.check(n, dt.itemsize)
    return _ZERO[dt.typecode] * n if n < _CLEARED_AT else K.zeros(_ZERO[dt.typecode], n)


def empty_buffer(dt: dtype, n: int) -> array:
    """A buffer of n elements of dtype dt for a kernel to overwrite in full: with the Cython core
    its values are whatever the memory held (as ``torch.empty``'s), so only for outputs whose
    every element the kernel writes before anything reads it. Saves clearing the memory first."""
    if n > _UNCHECKED and n * dt.itemsize > _alloc.LARGE:
        _alloc.check(n, dt.itemsize)
    return _ZERO[dt.typecode] * n if n < _CLEARED_AT else K.empty(_ZERO[dt.typecode], n)


class Tensor:
    """A multi-dimensional array that can record the operations made with it."""

    __slots__ = (
        "_storage",
        "_shape",
        "_strides",
        "_offset",
        "dtype",
        "_requires_grad",
        "grad",
        "_grad_fn",
        "_output_nr",
        "_hooks",
        "_accumulator",
        "_retains_grad",
        "_base",
        "_view_version",
        "__weakref__",
    )

    def __init__(self, *args: Any) -> None:
        """``Tensor(2, 3)`` makes an uninitialised float32 tensor (zeros here), ``Tensor([1, 2])``
        a float32 tensor from data, as ``torch.Tensor``."""
        if len(args) == 1 and not isinstance(args[0], int):
            source = _creation().tensor(args[0], dtype=float32)
        else:
            source = _creation().zeros(*args, dtype=float32)
        _init_view(self, source._storage, source._shape, source._strides, source._offset, float32)

    # -- construction helpers used by ops -------------------------------------------------------

    @classmethod
    def _make(cls, data: array, shape: tuple, dt: dtype) -> Tensor:
        """A new contiguous tensor that owns ``data`` (row-major, len(data) == prod(shape))."""
        t = object.__new__(cls)
        _init_view(t, Storage(data), shape, contiguous_strides(shape), 0, dt)
        return t

    def _view(self, shape: tuple, strides: tuple, offset: int) -> Tensor:
        """A tensor over the same storage with another geometry (no autograd bookkeeping)."""
        t = object.__new__(Tensor)
        _init_view(t, self._storage, shape, strides, offset, self.dtype)
        return t

    def _values(self) -> array:
        """The elements in row-major order as a buffer. May be the storage itself: never mutate."""
        data = self._storage.data
        n = prod(self._shape)
        if is_contiguous(self._shape, self._strides):  # the storage itself, or one run of it
            return data if self._offset == 0 and len(data) == n else data[self._offset : self._offset + n]
        out = new_buffer(self.dtype, n)
        if n:
            K.gather(data, self._shape, self._strides, self._offset, out)
        return out

    def _new_full(self, shape: tuple, dt: dtype, value: int) -> Tensor:
        """A fresh tensor of ``shape`` and ``dt`` filled with ``value`` (0 or 1), no history (the engine's
        gradients of 1 to start from and of 0 for outputs that received none)."""
        return Tensor._make((_ONE if value else _ZERO)[dt.typecode] * prod(shape), shape, dt)

    def _copy(self) -> Tensor:
        """A contiguous copy that owns its storage, with no history (not recorded)."""
        values = self._values()
        return Tensor._make(values[:] if values is self._storage.data else values, self._shape, self.dtype)

    def _flat_values(self) -> list:
        """The elements in row-major order as Python numbers (bools for bool tensors)."""
        values = self._values().tolist()
        if self.dtype is bool_:
            return [bool(v) for v in values]
        return values

    def _write(self, values: array) -> None:
        """Overwrite this view's elements with row-major ``values``; bumps the version."""
        K.scatter(self._storage.data, self._shape, self._strides, self._offset, values)
        self._storage.version += 1

    def _sum_to_shape(self, shape: tuple, op_name: str = "", index: int = 0) -> Tensor:
        """Undo broadcasting: sum this gradient down to ``shape`` (the input's shape).

        For backward code, which records nothing: the result has no history.
        """
        dims, ok = sum_to_dims(self._shape, shape)
        if not ok:
            raise RuntimeError(
                f"Function {op_name} returned an invalid gradient at index {index} - got "
                f"{list(self._shape)} but expected shape compatible with {list(shape)}"
            )
        result = _reduction.sum_values(self, dims, True) if dims else self
        return _views.reshaped(result, shape)

    # -- basic properties ---------------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._shape)
        return self._shape[normalize_dim(dim, len(self._shape))] if self._shape else 1

    def stride(self, dim: int | None = None) -> Any:
        if dim is None:
            return self._strides
        return self._strides[normalize_dim(dim, len(self._shape))]

    def storage_offset(self) -> int:
        return self._offset

    def dim(self) -> int:
        return len(self._shape)

    ndim = property(dim)

    def numel(self) -> int:
        return prod(self._shape)

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize

    def is_contiguous(self) -> bool:
        return is_contiguous(self._shape, self._strides)

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    @property
    def device(self) -> _device.device:
        return _device.CPU

    is_cuda = False
    is_cpu = True

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._storage.version

    def type(self, dtype: Any = None) -> Any:
        """The type's name (``"minigrad.FloatTensor"``), or a copy converted to ``dtype``: a dtype,
        a legacy class such as ``minigrad.LongTensor``, or a type's name (torch's or minigrad's)."""
        if dtype is None:
            return "minigrad." + _dtype.scalar_type_name(self.dtype) + "Tensor"
        if isinstance(dtype, str):
            named = _dtype.by_tensor_type_name(dtype)
            if named is None:
                raise ValueError(f"invalid type: {dtype!r}")
            return self.to(named)
        from minigrad._legacy import dtype_of  # (the legacy classes import this module)

        return self.to(dtype_of(dtype))

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._shape[0]))

    __hash__ = object.__hash__

    # -- autograd API -------------------------------------------------------------------------

    @property
    def grad_fn(self) -> Any:
        """The node that made this tensor (None for a leaf). A view whose storage was written in
        place since it was made gets its history regenerated over its base's first."""
        if self._base is not None and self._view_version != self._storage.version:
            _view_history.refresh(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node: Any) -> None:
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._view_version != self._storage.version:
            _view_history.refresh(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach()."
                )
            return
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares storage)."""
        return self._view(self._shape, self._strides, self._offset)

    @data.setter
    def data(self, other: Tensor) -> None:
        self._storage, self._shape, self._strides, self._offset = (
            other._storage,
            other._shape,
            other._strides,
            other._offset,
        )
        self.dtype = other.dtype

    def detach(self) -> Tensor:
        """A tensor sharing storage with this one but not part of any graph."""
        return self._view(self._shape, self._strides, self._offset)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
        if create_graph:
            raise NotImplementedError("minigrad does not build graphs of the backward pass (create_graph=True)")
        _engine.backward(self, gradient, retain_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _RemovableHandle(self._hooks, hook)
        return _RemovableHandle(self.grad_fn._register_tensor_hook(self._output_nr, hook), hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves keep it anyway)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self.grad_fn._retain_grad(self._output_nr, self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def _forget_grad(self, set_to_none: bool) -> None:
        """What ``zero_grad`` does to one parameter: drop ``.grad``, or zero it in place."""
        if self.grad is None:
            return
        if set_to_none:
            self.grad = None
        else:
            self.grad.detach_()
            self.grad.zero_()

    # -- conversion ---------------------------------------------------------------------------

    def tolist(self) -> Any:
        values = self._flat_values()
        return _nest(values, self._shape) if self._shape else values[0]

    def item(self) -> Any:
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        value = self._storage.data[self._offset]
        return bool(value) if self.dtype is bool_ else value

    def __float__(self) -> float:
        return float(self._scalar_value())

    def __int__(self) -> int:
        return int(self._scalar_value())

    def _scalar_value(self) -> Any:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        n = self.numel()
        if n != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {'more than one value' if n else 'no values'} is ambiguous"
            )
        return bool(self.item())

    def __repr__(self) -> str:
        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return _printing.format_tensor(self._flat_values(), self._shape, self.dtype.name, suffixes)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if not self._shape:
            return format(self.item(), spec)
        return repr(self)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device, dtype)``, ``to(other)`` (other's dtype and device), with
        keywords ``dtype``, ``device``, ``non_blocking`` (ignored) and ``copy`` (a new tensor even
        when nothing changes). Only the CPU exists: another device raises torch's error."""
        target = kwargs.pop("dtype", None)
        where = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument {next(iter(kwargs))!r}")
        for a in args:
            if isinstance(a, dtype):
                target = a
            elif isinstance(a, Tensor):
                target = a.dtype
            elif isinstance(a, (str, int, _device.device)) and not isinstance(a, bool):
                where = a
        _device.check_device(where)
        if target is None or target is self.dtype:
            return _views.clone(self) if copy else self
        return _pointwise.to_dtype(self, target)

    def cpu(self, memory_format: Any = None) -> Tensor:
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
        raise AssertionError("Torch not compiled with CUDA enabled")

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def short(self) -> Tensor:
        return self.to(_dtype.int16)

    def char(self) -> Tensor:
        return self.to(_dtype.int8)

    def byte(self) -> Tensor:
        return self.to(_dtype.uint8)

    def half(self) -> Tensor:
        raise TypeError("minigrad has no float16 (half) dtype: use float() (float32) or double() (float64)")

    def bfloat16(self) -> Tensor:
        raise TypeError("minigrad has no bfloat16 dtype: use float() (float32) or double() (float64)")

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    # -- operations (implemented in minigrad/_functions) ---------------------------------------
    # (the binary operators +, -, *, /, **, @ and the comparisons ==, !=, <, <=, >, >= come from
    # the table _OPERATORS at the end of this file)

    def __neg__(self) -> Tensor:
        return _pointwise.neg(self)

    def __abs__(self) -> Tensor:
        return _pointwise.abs(self)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        return _pointwise.add(self, other, alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        return _pointwise.sub(self, other, alpha)

    def mul(self, other: Any) -> Tensor:
        return _pointwise.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return _pointwise.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return _pointwise.pow(self, exponent)

    def neg(self) -> Tensor:
        return _pointwise.neg(self)

    def exp(self) -> Tensor:
        return _pointwise.exp(self)

    def log(self) -> Tensor:
        return _pointwise.log(self)

    def sqrt(self) -> Tensor:
        return _pointwise.sqrt(self)

    def abs(self) -> Tensor:
        return _pointwise.abs(self)

    def sigmoid(self) -> Tensor:
        return _pointwise.sigmoid(self)

    def tanh(self) -> Tensor:
        return _pointwise.tanh(self)

    def relu(self) -> Tensor:
        return _pointwise.relu(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return _pointwise.clamp(self, min, max)

    clip = clamp

    def where(self, condition: Tensor, other: Any) -> Tensor:
        return _pointwise.where(condition, self, other)

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        return _pointwise.where(mask, value, self)

    # comparisons: bool results, never differentiable
    def eq(self, other: Any) -> Tensor:
        return _pointwise.compare(K.EQ, self, other)

    def ne(self, other: Any) -> Tensor:
        return _pointwise.compare(K.NE, self, other)

    def lt(self, other: Any) -> Tensor:
        return _pointwise.compare(K.LT, self, other)

    def le(self, other: Any) -> Tensor:
        return _pointwise.compare(K.LE, self, other)

    def gt(self, other: Any) -> Tensor:
        return _pointwise.compare(K.GT, self, other)

    def ge(self, other: Any) -> Tensor:
        return _pointwise.compare(K.GE, self, other)

    # -- more pointwise math (issue 14): minigrad._functions.pointwise_math ------------------------
    def __and__(self, other: Any) -> Tensor:
        return _math.bitwise(K.BITAND, self, other)

    def __or__(self, other: Any) -> Tensor:
        return _math.bitwise(K.BITOR, self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _math.bitwise(K.BITXOR, self, other)

    def __lshift__(self, other: Any) -> Tensor:
        return _math.bitwise(K.LSHIFT, self, other)

    def __rshift__(self, other: Any) -> Tensor:
        return _math.bitwise(K.RSHIFT, self, other)

    def __rand__(self, other: Any) -> Tensor:
        return _math.bitwise(K.BITAND, other, self)

    def __ror__(self, other: Any) -> Tensor:
        return _math.bitwise(K.BITOR, other, self)

    def __rxor__(self, other: Any) -> Tensor:
        return _math.bitwise(K.BITXOR, other, self)

    def __invert__(self) -> Tensor:
        return _math.bitwise_not(self)

    def __mod__(self, other: Any) -> Tensor:
        return _math.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _math.remainder(other, self)

    def __iand__(self, other: Any) -> Tensor:
        return self._inplace(self & other)

    def __ior__(self, other: Any) -> Tensor:
        return self._inplace(self | other)

    def __ixor__(self, other: Any) -> Tensor:
        return self._inplace(self ^ other)

    bitwise_and = __and__
    bitwise_or = __or__
    bitwise_xor = __xor__
    bitwise_not = __invert__
    bitwise_left_shift = __lshift__
    bitwise_right_shift = __rshift__

    def logical_not(self) -> Tensor:
        return _math.logical_not(self)

    def logical_and(self, other: Any) -> Tensor:
        return _math.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return _math.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return _math.logical_xor(self, other)

    def round(self, decimals: int = 0) -> Tensor:
        return _math._round(self, decimals)

    def square(self) -> Tensor:
        x = _pointwise.to_dtype(self, _dtype.int64) if self.dtype is bool_ else self  # bools square to int64
        return _pointwise.mul(x, x)

    def sgn(self) -> Tensor:
        return self.sign()

    def maximum(self, other: Tensor) -> Tensor:
        return _math.maximum(self, other)

    def minimum(self, other: Tensor) -> Tensor:
        return _math.minimum(self, other)

    def fmax(self, other: Tensor) -> Tensor:
        return _math.fmax(self, other)

    def fmin(self, other: Tensor) -> Tensor:
        return _math.fmin(self, other)

    def fmod(self, other: Any) -> Tensor:
        return _math.fmod(self, other)

    def remainder(self, other: Any) -> Tensor:
        return _math.remainder(self, other)

    def atan2(self, other: Tensor) -> Tensor:
        return _math.atan2(self, other)

    arctan2 = atan2

    def hypot(self, other: Tensor) -> Tensor:
        return _math.hypot(self, other)

    def copysign(self, other: Any) -> Tensor:
        return _math.copysign(self, other)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        return _math.lerp(self, end, weight)

    def clamp_min(self, min: Any) -> Tensor:
        return _pointwise.clamp(self, min, None)

    def clamp_max(self, max: Any) -> Tensor:
        return _pointwise.clamp(self, None, max)

    def isnan(self) -> Tensor:
        return _math.isnan(self)

    def isinf(self) -> Tensor:
        return _math.isinf(self)

    def isfinite(self) -> Tensor:
        return _math.isfinite(self)

    def isposinf(self) -> Tensor:
        return _math.isposinf(self)

    def isneginf(self) -> Tensor:
        return _math.isneginf(self)

    def signbit(self) -> Tensor:
        return _math.signbit(self)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
        return _math.nan_to_num(self, nan, posinf, neginf)

    def round_(self, decimals: int = 0) -> Tensor:
        return self._inplace(self.round(decimals))

    def clamp_min_(self, min: Any) -> Tensor:
        return self._inplace(self.clamp_min(min))

    def clamp_max_(self, max: Any) -> Tensor:
        return self._inplace(self.clamp_max(max))

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
        return self._inplace(self.nan_to_num(nan, posinf, neginf))

    def fmod_(self, other: Any) -> Tensor:
        return self._inplace(_math.fmod(self, other))

    def remainder_(self, other: Any) -> Tensor:
        return self._inplace(_math.remainder(self, other))

    def atan2_(self, other: Tensor) -> Tensor:
        return self._inplace(_math.atan2(self, other))

    def hypot_(self, other: Tensor) -> Tensor:
        return self._inplace(_math.hypot(self, other))

    def copysign_(self, other: Any) -> Tensor:
        return self._inplace(_math.copysign(self, other))

    def lerp_(self, end: Tensor, weight: Any) -> Tensor:
        return self._inplace(_math.lerp(self, end, weight))

    def logical_and_(self, other: Any) -> Tensor:
        return self._inplace(_math.logical_and(self, other))

    def logical_or_(self, other: Any) -> Tensor:
        return self._inplace(_math.logical_or(self, other))

    def logical_xor_(self, other: Any) -> Tensor:
        return self._inplace(_math.logical_xor(self, other))

    def logical_not_(self) -> Tensor:
        return self._inplace(_math.logical_not(self))

    def bitwise_and_(self, other: Any) -> Tensor:
        return self._inplace(self & other)

    def bitwise_or_(self, other: Any) -> Tensor:
        return self._inplace(self | other)

    def bitwise_xor_(self, other: Any) -> Tensor:
        return self._inplace(self ^ other)

    def bitwise_not_(self) -> Tensor:
        return self._inplace(~self)

    def equal(self, other: Tensor) -> bool:
        return self._shape == other._shape and self._flat_values() == other._flat_values()

    # reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        return _reduction.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        return _reduction.mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        return _reduction.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        return _reduction.min(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _reduction.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _reduction.argmin(self, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _reduction.logsumexp(self, dim, keepdim)

    def softmax(self, dim: int) -> Tensor:
        return _softmax_loss.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _softmax_loss.log_softmax(self, dim)

    # linear algebra
    def matmul(self, other: Tensor) -> Tensor:
        return _linalg.matmul(self, other)

    def mm(self, other: Tensor) -> Tensor:
        return _linalg.mm(self, other)

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        return _linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def bmm(self, other: Tensor) -> Tensor:
        return _linalg.bmm(self, other)

    # shape and layout
    def view(self, *shape: Any) -> Tensor:
        return _views.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _views.view(self, other._shape)

    def reshape(self, *shape: Any) -> Tensor:
        return _views.reshape(self, *shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _views.reshape(self, other._shape)

    def permute(self, *dims: Any) -> Tensor:
        return _views.permute(self, *dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _views.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        return _views.t(self)

    @property
    def T(self) -> Tensor:
        return _views.permute(self, tuple(reversed(range(len(self._shape)))))

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return _shape_more.movedim(self, source, destination)

    moveaxis = movedim

    def expand(self, *shape: Any) -> Tensor:
        return _views.expand(self, *shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return _views.expand(self, other._shape)

    def squeeze(self, dim: Any = None) -> Tensor:
        return _views.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _views.unsqueeze(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _views.flatten(self, start_dim, end_dim)

    def contiguous(self) -> Tensor:
        return _views.contiguous(self)

    def clone(self) -> Tensor:
        return _views.clone(self)

    def select(self, dim: int, index: int) -> Tensor:
        return _views.select(self, dim, index)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return _views.narrow(self, dim, start, length)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _views.chunk(self, chunks, dim)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _views.split(self, split_size, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return _views.unbind(self, dim)

    # indexing
    def __getitem__(self, index: Any) -> Tensor:
        return _indexing.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _indexing.setitem(self, index, value)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        return _indexing.gather(self, dim, index)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        return _indexing.index_select(self, dim, index)

    # new tensors like this one
    def new_zeros(
        self, *size: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _creation().zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(
        self, *size: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _creation().ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(
        self, size: Any, fill_value: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _creation().full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_tensor(
        self, data: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _creation().tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    # in place: each write bumps the storage's version counter
    def _inplace(self, result: Tensor) -> Tensor:
        """Make ``result`` (computed out of place) the new contents and history of self."""
        if result._shape != self._shape:
            raise RuntimeError(
                f"output with shape {list(self._shape)} doesn't match the broadcast shape {list(result._shape)}"
            )
        if result.dtype is not self.dtype and _dtype.promote_types(result.dtype, self.dtype) is not self.dtype:
            raise RuntimeError(
                f"result type {scalar_type_name(result.dtype)} can't be cast to the desired output type "
                f"{scalar_type_name(self.dtype)}"
            )
        node = result.grad_fn
        if node is not None:
            self._check_inplace_leaf(recorded=True)
            node._keep_original(self)  # the op may have saved self, which is about to change
        self._write(_pointwise.cast(result, self.dtype)._values())
        if node is not None and self._base is not None:
            _view_history.write_through_view(self, result)  # (self's own history follows from its base's)
        elif node is not None:
            self._grad_fn, self._output_nr, self._requires_grad = node, result._output_nr, True
            if self._retains_grad:
                node._retain_grad(self._output_nr, self)
        return self

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        """self += alpha * other. Unrecorded, between floating tensors of one shape and dtype, it
        is one fused kernel (``K.axpy``, rounded once, as torch's vectorised add): an optimizer's
        update."""
        _overlap.check_elementwise(self, other)
        if isinstance(other, Tensor) and self._fusable_update(other):
            scale = alpha if alpha == 1 else _pointwise.round_scalar(alpha, self.dtype)  # (1 is exact in any dtype)
            K.axpy(self._storage.data, scale, other._values())
            self._storage.version += 1
            return self
        return self._inplace(_pointwise.add(self, other, alpha))

    def _fusable_update(self, other: Tensor) -> bool:
        """Whether ``self += alpha * other`` may run as one kernel on self's whole storage: nothing
        to record, floating tensors of one shape and dtype, self owning its storage row-major."""
        if grad_mode.state.enabled and (self.requires_grad or other.requires_grad):
            return False
        return (
            self._shape == other._shape
            and self.dtype is other.dtype
            and self.dtype.is_floating_point
            and self._offset == 0
            and len(self._storage.data) == prod(self._shape)
            and is_contiguous(self._shape, self._strides)
        )

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        _overlap.check_elementwise(self, other)
        return self._inplace(_pointwise.sub(self, other, alpha))

    def mul_(self, other: Any) -> Tensor:
        _overlap.check_elementwise(self, other)
        return self._inplace(_pointwise.mul(self, other))

    def div_(self, other: Any) -> Tensor:
        _overlap.check_elementwise(self, other)
        return self._inplace(_pointwise.div(self, other))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        _overlap.check_elementwise(self, min, max)
        return self._inplace(_pointwise.clamp(self, min, max))

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to value (a number or a 0-d tensor)."""
        return self._inplace(_pointwise.fill(self, value))

    def copy_(self, src: Tensor) -> Tensor:
        """Copy src's values (broadcast and converted to self's dtype) into self; src gets the gradient."""
        _overlap.check_elementwise(self, src)
        return self._inplace(_pointwise.copy(self, src))

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        _overlap.check_internal(self)
        self._check_inplace_leaf()
        return _creation().uniform_(self, a, b, generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        _overlap.check_internal(self)
        self._check_inplace_leaf()
        return _creation().normal_(self, mean, std, generator)

    # -- random sampling (minigrad/_functions/sampling.py): torch's streams -------------------
    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        self._check_inplace_leaf()
        return _sampling.bernoulli_(self, p, generator)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        return _sampling.bernoulli(self, p, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        self._check_inplace_leaf()
        return _sampling.exponential_(self, lambd, generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
        self._check_inplace_leaf()
        return _sampling.cauchy_(self, median, sigma, generator)

    def geometric_(self, p: float, *, generator: Any = None) -> Tensor:
        self._check_inplace_leaf()
        return _sampling.geometric_(self, p, generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
        self._check_inplace_leaf()
        return _sampling.log_normal_(self, mean, std, generator)

    def random_(self, *bounds: Any, generator: Any = None, **names: Any) -> Tensor:
        """``random_()``, ``random_(to)``, ``random_(from, to)`` (``to`` may be None); keywords
        ``from=`` and ``to=`` as in torch."""
        if set(names) - {"from", "to"}:
            raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(set(names) - {'from', 'to'}))}'")
        bounds = bounds + tuple(names[k] for k in ("from", "to") if k in names)
        if len(bounds) > 2:
            raise TypeError(f"random_() takes at most 2 arguments ({len(bounds)} given)")
        if len(bounds) == 1:
            bounds = (0, bounds[0])
        self._check_inplace_leaf()
        return _sampling.random_(self, *bounds, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
        return _sampling.multinomial(self, num_samples, replacement, generator=generator)

    # -- sorting, selection, repeats, scatter (minigrad/_functions/sorting.py, rearrange.py, scatter.py)
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return _sorting.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return _sorting.argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return _sorting.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        return _sorting.kthvalue(self, k, dim, keepdim)

    def flip(self, *dims: Any) -> Tensor:
        return _rearrange.flip(self, dims[0] if len(dims) == 1 else dims)

    def repeat(self, *sizes: Any) -> Tensor:
        return _rearrange.repeat(self, *sizes)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
        return _rearrange.repeat_interleave(self, repeats, dim, output_size=output_size)

    def scatter(self, dim: int, index: Tensor, src: Any = None, value: Any = None, *, reduce: str | None = None):
        return _scatter.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_(self, dim: int, index: Tensor, src: Any = None, value: Any = None, *, reduce: str | None = None):
        return self._inplace(_scatter.scatter(self, dim, index, src, value, reduce=reduce))

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return _scatter.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return self._inplace(_scatter.scatter_add(self, dim, index, src))

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return _scatter.nonzero(self, as_tuple=as_tuple)

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        return self._inplace(self.masked_fill(mask, value))

    def _check_inplace_leaf(self, recorded: bool = False) -> None:
        """Refuse, while grad mode is on, an in-place change that would make gradients wrong.

        A leaf that requires grad may not change, nor may a view of one (torch's rules). Ops that
        autograd does not record (``uniform_``, ``normal_``: ``recorded=False``) may not change
        any tensor that has a history.
        """
        if not grad_mode.state.enabled:
            return
        base = self._base
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if not self.requires_grad:
            return
        node = self.grad_fn
        if node is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if not recorded:
            raise RuntimeError(
                "this in-place operation (a random fill: uniform_, normal_, bernoulli_, exponential_, random_) "
                "is not recorded by minigrad's autograd, so "
                f"applying it to a tensor with a history ({node.name()}) would give wrong gradients. Use an "
                "out-of-place operation instead, or detach() the tensor first."
            )

    # -- more reductions, linear algebra and shape (issue 14) ----------------------------------

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _reduction_more.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _reduction_more.any(self, dim, keepdim)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        return _reduction_more.prod(self, dim, keepdim, dtype=dtype)

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
        return _reduction_more.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
        return _reduction_more.std(self, dim, unbiased, keepdim, correction=correction)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: dtype | None = None) -> Tensor:
        return _reduction_more.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim: int, *, dtype: dtype | None = None) -> Tensor:
        return _reduction_more.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: int, *, dtype: dtype | None = None) -> Tensor:
        return _reduction_more.cumprod(self, dim, dtype=dtype)

    def amax(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        return _reduction_more.amax(self, dim, keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        return _reduction_more.amin(self, dim, keepdim)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        return _reduction_more.aminmax(self, dim=dim, keepdim=keepdim)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return _reduction_more.count_nonzero(self, dim)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return _reduction_more.median(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        return _reduction_more.mode(self, dim, keepdim)

    def unique(
        self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
    ) -> Any:
        return _reduction_more.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        return _reduction_more.bincount(self, weights, minlength)

    def dot(self, other: Tensor) -> Tensor:
        return _shape_more.dot(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        return _shape_more.outer(self, vec2)

    def tril(self, diagonal: int = 0) -> Tensor:
        return _shape_more.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return _shape_more.triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        return _shape_more.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return _shape_more.diagonal(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        return _shape_more.trace(self)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return _shape_more.roll(self, shifts, dims)

    def tile(self, *dims: Any) -> Tensor:
        return _shape_more.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def broadcast_to(self, size: Any) -> Tensor:
        return _shape_more.broadcast_to(self, size)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return _views.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return _shape_more.unflatten(self, dim, sizes)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        return _shape_more.take_along_dim(self, indices, dim)

    def new_empty(
        self, *size: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _creation().zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def __getstate__(self) -> None:
        raise TypeError("minigrad tensors are saved with minigrad.save (safetensors), not pickle")

    def __reduce_ex__(self, protocol: int) -> Any:
        raise TypeError("minigrad tensors are saved with minigrad.save (safetensors), not pickle")


class _RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _init_view(t: Tensor, storage: Storage, shape: tuple, strides: tuple, offset: int, dt: dtype) -> None:
    t._storage = storage
    t._shape = shape
    t._strides = strides
    t._offset = offset
    t.dtype = dt
    t._requires_grad = False
    t.grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._hooks = None
    t._accumulator = None
    t._retains_grad = False
    t._base = None  # for a view made by an op: the tensor it views (see autograd/views.py)
    t._view_version = 0


_OPERANDS = (Tensor, int, float)  # what the operator dunders accept; anything else gets NotImplemented


def _nest(values: list, shape: tuple) -> list:
    """Row-major ``values`` as nested lists of ``shape`` (sizes may be 0)."""
    if len(shape) == 1:
        return values
    step = prod(shape[1:])
    return [_nest(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def zeros_for(shape: tuple, dt: dtype) -> Tensor:
    """A fresh zero tensor with no history."""
    return Tensor._make(new_buffer(dt, prod(shape)), shape, dt)


def scalar_tensor(value: Any, dt: dtype) -> Tensor:
    """A 0-d tensor holding one Python number."""
    data = new_buffer(dt, 1)
    data[0] = value  # (cheaper than building the array from a list)
    return Tensor._make(data, (), dt)


def _creation() -> Any:
    from minigrad import _creation

    return _creation


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def _unary_method(name: str) -> Any:
    function = _math.UNARY_FUNCTIONS[name]

    def method(self: Tensor) -> Tensor:
        return function.apply(self)

    def method_(self: Tensor) -> Tensor:
        return self._inplace(function.apply(self))

    method.__name__, method_.__name__ = name, name + "_"
    method.__doc__ = method_.__doc__ = f"torch.Tensor.{name}: {function.__doc__}"
    return method, method_


def _add_math_methods() -> None:
    """Tensor.sin, Tensor.sin_, ... for the unary functions of pointwise_math (round takes decimals)."""
    for name in _math.UNARY_NAMES:
        if name != "round":
            method, method_ = _unary_method(name)
            setattr(Tensor, name, method)
            setattr(Tensor, name + "_", method_)
    for alias, name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                        ("arccosh", "acosh"), ("arctanh", "atanh"), ("fix", "trunc"), ("negative", "neg")]:  # fmt: skip
        setattr(Tensor, alias, getattr(Tensor, name))


# The declared two-way link (ARCHITECTURE.md): the operations import this module, so they are
# bound after Tensor exists.
from minigrad._functions import indexing as _indexing  # noqa: E402
from minigrad._functions import linalg as _linalg  # noqa: E402
from minigrad._functions import pointwise as _pointwise  # noqa: E402
from minigrad._functions import pointwise_math as _math  # noqa: E402
from minigrad._functions import rearrange as _rearrange  # noqa: E402
from minigrad._functions import reduction as _reduction  # noqa: E402
from minigrad._functions import reduction_more as _reduction_more  # noqa: E402
from minigrad._functions import sampling as _sampling  # noqa: E402
from minigrad._functions import scatter as _scatter  # noqa: E402
from minigrad._functions import shape_more as _shape_more  # noqa: E402
from minigrad._functions import softmax_loss as _softmax_loss  # noqa: E402
from minigrad._functions import sorting as _sorting  # noqa: E402
from minigrad._functions import views as _views  # noqa: E402
from minigrad.autograd import views as _view_history  # noqa: E402


def _operator(function: Callable, reflected: bool = False, operands: tuple = _OPERANDS) -> Callable:
    """The method behind a Python binary operator: ``function(self, other)``, or for a reflected
    operator (``__radd__``: ``2 + t``) ``function(other, self)``. An operand of another type gets
    ``NotImplemented``, so that Python tries the other operand's method, then raises its usual
    TypeError ("unsupported operand type(s) for +: 'Tensor' and 'str'")."""
    if reflected:

        def method(self: Tensor, other: Any) -> Any:
            return function(other, self) if isinstance(other, operands) else NotImplemented

    else:

        def method(self: Tensor, other: Any) -> Any:
            return function(self, other) if isinstance(other, operands) else NotImplemented

    return method


_OPERATORS = {
    "__add__": _operator(_pointwise.add),
    "__radd__": _operator(_pointwise.add, reflected=True),
    "__sub__": _operator(_pointwise.sub),
    "__rsub__": _operator(_pointwise.sub, reflected=True),
    "__mul__": _operator(_pointwise.mul),
    "__rmul__": _operator(_pointwise.mul, reflected=True),
    "__truediv__": _operator(_pointwise.div),
    "__rtruediv__": _operator(_pointwise.div, reflected=True),
    "__pow__": _operator(_pointwise.pow),
    "__rpow__": _operator(_pointwise.pow, reflected=True),
    "__matmul__": _operator(_linalg.matmul, operands=(Tensor,)),
    "__rmatmul__": _operator(_linalg.matmul, reflected=True, operands=(Tensor,)),
    # comparisons: bool results, never differentiable
    "__eq__": _operator(partial(_pointwise.compare, K.EQ)),
    "__ne__": _operator(partial(_pointwise.compare, K.NE)),
    "__lt__": _operator(partial(_pointwise.compare, K.LT)),
    "__le__": _operator(partial(_pointwise.compare, K.LE)),
    "__gt__": _operator(partial(_pointwise.compare, K.GT)),
    "__ge__": _operator(partial(_pointwise.compare, K.GE)),
}
"""Tensor's binary operators: the method name, and the operation it calls."""

for _name, _method in _OPERATORS.items():
    _method.__name__, _method.__qualname__ = _name, f"Tensor.{_name}"
    setattr(Tensor, _name, _method)

_add_math_methods()
