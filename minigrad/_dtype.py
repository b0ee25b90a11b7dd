# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Data types: the four element types minigrad stores, and torch's promotion rules.

Each dtype knows the ``array.array`` typecode its storage uses. Bool tensors are stored as
unsigned bytes holding 0 or 1.
"""

from __future__ import annotations


class dtype:
    """An element type, printed like ``torch.float32`` but named ``minigrad.float32``."""

    __slots__ = ("name", "typecode", "is_floating_point", "itemsize", "_rank")

    def __init__(self, name: str, typecode: str, is_floating_point: bool, itemsize: int, rank: int):
        self.name = name
        self.typecode = typecode
        self.is_floating_point = is_floating_point
        self.itemsize = itemsize
        self._rank = rank  # position in the promotion lattice bool < int64 < float32 < float64

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self) -> str:
        return self.name


bool_ = dtype("bool", "B", False, 1, 0)
int64 = dtype("int64", "q", False, 8, 1)
float32 = dtype("float32", "f", True, 4, 2)
float64 = dtype("float64", "d", True, 8, 3)

ALL_DTYPES = (bool_, int64, float32, float64)
BY_NAME = {d.name: d for d in ALL_DTYPES}
_SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}


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
    """The smallest dtype both ``a`` and ``b`` convert to (torch.promote_types)."""
    return a if a._rank >= b._rank else b


def _category(d: dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    return 2 if d.is_floating_point else d._rank


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
