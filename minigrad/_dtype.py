# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Data types: the element types minigrad stores, and torch's promotion rules.

Each dtype knows the ``array.array`` typecode its storage uses. Bool tensors are stored as
unsigned bytes holding 0 or 1. There is no float16: ``Tensor.half()`` says so.
"""

from __future__ import annotations


class dtype:
    """An element type, printed like ``torch.float32`` but named ``minigrad.float32``."""

    __slots__ = ("name", "typecode", "is_floating_point", "itemsize", "_rank", "is_signed")

    def __init__(self, name: str, typecode: str, is_floating_point: bool, itemsize: int, rank: int):
        self.name = name
        self.typecode = typecode
        self.is_floating_point = is_floating_point
        self.itemsize = itemsize
        self._rank = rank  # position in the promotion lattice bool < uint8 < int8 < ... < float64
        self.is_signed = name not in ("bool", "uint8")

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self) -> str:
        return self.name

    @property
    def is_complex(self) -> bool:
        return False


bool_ = dtype("bool", "B", False, 1, 0)
uint8 = dtype("uint8", "B", False, 1, 1)
int8 = dtype("int8", "b", False, 1, 2)
int16 = dtype("int16", "h", False, 2, 3)
int32 = dtype("int32", "i", False, 4, 4)
int64 = dtype("int64", "q", False, 8, 5)
float32 = dtype("float32", "f", True, 4, 6)
float64 = dtype("float64", "d", True, 8, 7)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float32, float64)
BY_NAME = {d.name: d for d in ALL_DTYPES}
_SCALAR_TYPE_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}
def by_tensor_type_name(name: str) -> dtype | None:
    """The dtype of a tensor type name: 'torch.IntTensor' or 'minigrad.IntTensor' is int32."""
    for d in ALL_DTYPES:
        if name in (f"torch.{_SCALAR_TYPE_NAMES[d.name]}Tensor", f"minigrad.{_SCALAR_TYPE_NAMES[d.name]}Tensor"):
            return d
    return None


NARROW_INTS = frozenset((uint8, int8, int16, int32))  # (a set: `d in NARROW_INTS` runs on every op)
"""The integer dtypes narrower than int64: kernels compute them as int64 and the result wraps
back (``wrap_int``), so only the layout kernels (copies) ever see their buffers."""


def kernel_dtype(d: dtype) -> dtype:
    """The dtype a kernel computes ``d`` in: int64 for the narrow integers, else ``d`` itself."""
    return int64 if d in NARROW_INTS else d


def wrap_int(value: int, d: dtype) -> int:
    """An integer reduced modulo 2^bits into dtype d's range (two's complement), as C casts do."""
    bits = 8 * d.itemsize
    value &= (1 << bits) - 1
    return value - (1 << bits) if d.is_signed and value >> (bits - 1) else value


def scalar_type_name(d: dtype) -> str:
    """torch's C++ name of a dtype (``Float`` for float32), as its error messages word it."""
    return _SCALAR_TYPE_NAMES[d.name]

_default_dtype = float32


def get_default_dtype() -> dtype:
    return _default_dtype


def set_default_dtype(d: dtype) -> None:
    """Choose the dtype of float tensors made from Python floats (float32 or float64)."""
    global _default_dtype
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to (torch.promote_types).

    bool < integers < floating point; among integers the wider wins, except that uint8 and int8
    meet at int16 (neither holds the other's range)."""
    if a is b:
        return a
    if {a, b} == {uint8, int8}:
        return int16
    return a if a._rank >= b._rank else b


def _category(d: dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    return 2 if d.is_floating_point else (0 if d is bool_ else 1)


def scalar_dtype(value: object) -> dtype:
    """The dtype torch gives a Python scalar: bool, int64, or the default float dtype."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_dtype
    raise TypeError(f"expected a number, but got {type(value).__name__}")


def result_type(operands: list) -> dtype:
    """torch.result_type over tensors and Python scalars.

    Operands have three priorities: tensors with dimensions, then 0-d tensors, then Python
    scalars. The highest-priority group decides the dtype, except that a lower group of a higher
    *category* (bool < integer < float) lifts the result to that category: a 0-d tensor by its
    own dtype, a Python scalar by the default dtype of its category.
    """
    groups: list[dtype | None] = [None, None, None]  # dimensioned, zero-dim, scalar
    for op in operands:
        if isinstance(getattr(op, "dtype", None), dtype):  # a Tensor (which imports this module)
            slot, d = (0 if op._shape else 1), op.dtype
        else:
            slot, d = 2, scalar_dtype(op)
        groups[slot] = d if groups[slot] is None else promote_types(groups[slot], d)
    result = None
    for d in groups:
        if d is None:
            continue
        if result is None:
            result = d
        elif _category(d) > _category(result):
            result = d
    assert result is not None
    return result


class iinfo:
    """The range of an integer dtype (torch.iinfo): ``bits``, ``min``, ``max``, ``dtype``."""

    def __init__(self, type: dtype) -> None:  # noqa: A002 - torch's name
        if type.is_floating_point or type is bool_:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        self.bits = 8 * type.itemsize
        self.min = -(1 << (self.bits - 1)) if type.is_signed else 0
        self.max = (1 << (self.bits - 1)) - 1 if type.is_signed else (1 << self.bits) - 1
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


# bits, eps, max, smallest normal, resolution (10 ** -digits) of IEEE binary32 and binary64
_FLOAT_LIMITS = {
    "float32": (32, 2.0**-23, (2 - 2.0**-23) * 2.0**127, 2.0**-126, 1e-06),
    "float64": (64, 2.0**-52, (2 - 2.0**-52) * 2.0**1023, 2.0**-1022, 1e-15),
}


class finfo:
    """The limits of a floating-point dtype (torch.finfo; the default dtype when none is given)."""

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002 - torch's name
        type = type or _default_dtype
        if not type.is_floating_point:
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'"
            )
        self.bits, self.eps, self.max, self.smallest_normal, self.resolution = _FLOAT_LIMITS[type.name]
        self.min = -self.max
        self.tiny = self.smallest_normal
        self.dtype = type.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )
