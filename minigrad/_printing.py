"""Tensor printing that reproduces PyTorch 2.13.0's ``repr(tensor)`` character for character.

This is a port of ``torch/_tensor_str.py`` for dense CPU tensors of dtype float32, float64,
the integer types and bool. It knows nothing about ``Tensor``: the tensor layer hands it the flat
row-major elements as Python numbers, the shape and the dtype name, and gets a string back.

How torch lays a tensor out:

* One ``_Formatter`` per tensor picks a single style and a single column width for all the
  elements that will be shown. Integers and bools print with ``str``. Floats print

  - in *int mode* (``1.``, ``-3.``) when every finite nonzero value is a whole number,
  - in *scientific mode* (``1.2346e+05``) when, over the finite nonzero magnitudes,
    ``max / min > 1000`` or ``max > 1e8`` or ``min < 1e-4`` (or when forced by
    ``set_printoptions(sci_mode=...)``),
  - otherwise in fixed point with ``precision`` decimals (``0.1235``).

  Zeros, nan and inf do not take part in choosing the style or the width.
* Each element is right-aligned to the common width; rows wrap so that a line holds
  ``floor((linewidth - indent) / (width + 2))`` elements.
* When ``numel > threshold`` the tensor is summarised: along every dimension longer than
  ``2 * edgeitems`` only the first and last ``edgeitems`` entries are shown, with ``...``
  between them. Only those edge elements are ever formatted.
* Sub-tensors of a ``d``-dimensional tensor are separated by ``,`` and ``d - 1`` newlines.
* Items after the data (``dtype=``, ``size=``, ``requires_grad=True``, ``grad_fn=<...>``)
  follow ``, `` on the same line, or start a new line when the line would pass
  ``linewidth``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_DTYPES = ("float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
_DEFAULT_DTYPE = "float32"
# Dtypes whose name torch leaves out of a non-empty tensor's repr.
_IMPLIED_DTYPES = ("float32", "int64", "bool")
_PREFIX = "tensor("

Scalar = float | int | bool  # one element, as the tensor layer hands it over


class _PrintOptions:
    """The current options; the defaults are torch's."""

    def __init__(self) -> None:
        self.precision: int = 4
        self.threshold: float = 1000
        self.edgeitems: int = 3
        self.linewidth: int = 80
        self.sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the options for printing tensors, as ``torch.set_printoptions`` does.

    ``profile`` ("default", "short" or "full") is applied first, then any explicit option
    overrides it. As in torch, ``sci_mode`` is always assigned: leaving it out restores the
    automatic choice.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions(): unknown profile {profile!r}, "
                f"expected one of {', '.join(map(repr, _PROFILES))}"
            )
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    if precision is not None:
        _OPTIONS.precision = precision
    if threshold is not None:
        _OPTIONS.threshold = threshold
    if edgeitems is not None:
        _OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTIONS.linewidth = linewidth
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return dict(vars(_OPTIONS))


def format_tensor(
    values: Sequence[float | int | bool],
    shape: tuple[int, ...],
    dtype: str,
    suffixes: Sequence[str] = (),
) -> str:
    """Return what torch's ``repr`` prints for a dense CPU tensor.

    ``values`` are the flat row-major elements (float32 ones already rounded to float32),
    ``dtype`` is one of ``_DTYPES`` ("float32", "int8", ...), and ``suffixes`` are extra
    items such as ``"requires_grad=True"`` or ``"grad_fn=<AddBackward0>"``, printed after
    any ``size=``/``dtype=`` items.
    """
    if dtype not in _DTYPES:
        raise ValueError(f"format_tensor(): unsupported dtype {dtype!r}, expected one of {_DTYPES}")
    shape = tuple(shape)
    numel = math.prod(shape)
    if len(values) != numel:
        raise ValueError(
            f"format_tensor(): {len(values)} values given for shape {shape} ({numel} elements)"
        )
    items = []
    if numel == 0:
        # Explicitly print the shape if it is not (0,); the dtype cannot be inferred from [].
        if len(shape) != 1:
            items.append(f"size={shape}")
        if dtype != _DEFAULT_DTYPE:
            items.append(f"dtype=torch.{dtype}")
        body = "[]"
    else:
        if not _OPTIONS.edgeitems:
            items.append(f"size={shape}")
        if dtype not in _IMPLIED_DTYPES:
            items.append(f"dtype=torch.{dtype}")
        body = _tensor_str(_Block(values, 0, shape, dtype), len(_PREFIX))
    items.extend(suffixes)
    return _add_suffixes(_PREFIX + body, items, len(_PREFIX))


class _Block:
    """A sub-tensor: ``shape`` elements of the flat row-major ``values`` from ``start`` on."""

    __slots__ = ("values", "start", "shape", "dtype")

    def __init__(self, values: Sequence[Scalar], start: int, shape: tuple[int, ...], dtype: str) -> None:
        self.values = values
        self.start = start
        self.shape = shape
        self.dtype = dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, i: int) -> _Block:
        """The ``i``-th sub-tensor along the first dimension (``i`` non-negative)."""
        inner = self.shape[1:]
        return _Block(self.values, self.start + i * math.prod(inner), inner, self.dtype)

    def element(self, i: int = 0) -> Scalar:
        """The ``i``-th element of a 1-d block (or the only element of a 0-d one)."""
        value = self.values[self.start + i]
        if self.dtype == "bool":
            return bool(value)
        if self.dtype.startswith(("int", "uint")):
            return int(value)
        return float(value)


def _tensor_str(block: _Block, indent: int) -> str:
    summarize = math.prod(block.shape) > _OPTIONS.threshold
    shown = _summarized_values(block) if summarize else _all_values(block)
    formatter = _Formatter(shown, floating=block.dtype.startswith("float"))
    return _block_str(block, indent, summarize, formatter)


def _all_values(block: _Block) -> list[Scalar]:
    return [block.element(i) for i in range(math.prod(block.shape))]


def _summarized_values(block: _Block) -> list[Scalar]:
    """The elements a summarised print shows (torch's ``get_summarized_data``), in order."""
    edge = _OPTIONS.edgeitems
    if not block.shape:
        return [block.element()]
    if not edge:  # every row prints as "...", so no element is shown
        return []
    n = len(block)
    if len(block.shape) == 1:
        indices = range(n)
        if n > 2 * edge:
            indices = [*indices[:edge], *indices[-edge:]]
        return [block.element(i) for i in indices]
    rows = range(n)
    if n > 2 * edge:
        rows = [*range(edge), *range(n - edge, n)]
    return [value for i in rows for value in _summarized_values(block[i])]


class _Formatter:
    """One print style and column width for all the elements shown (torch's ``_Formatter``)."""

    def __init__(self, values: list[Scalar], floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            self.max_width = max([1, *(len(str(value)) for value in values)])
            return
        nonzero_finite = [v for v in values if math.isfinite(v) and v != 0]
        if not nonzero_finite:
            return
        magnitudes = [abs(v) for v in nonzero_finite]
        smallest, largest = min(magnitudes), max(magnitudes)
        self.int_mode = all(v == math.ceil(v) for v in nonzero_finite)
        if _OPTIONS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = _OPTIONS.sci_mode
        precision = _OPTIONS.precision
        if self.sci_mode:
            widths = (len(f"{v:.{precision}e}") for v in nonzero_finite)
        elif self.int_mode:
            # the trailing "." that marks a whole float takes one more column
            widths = (len(f"{v:.0f}") + 1 for v in nonzero_finite)
        else:
            widths = (len(f"{v:.{precision}f}") for v in nonzero_finite)
        self.max_width = max(self.max_width, *widths)

    def format(self, value: Scalar) -> str:
        precision = _OPTIONS.precision
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        return text.rjust(self.max_width)


def _block_str(block: _Block, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """Nested brackets for ``block`` whose first ``[`` sits in column ``indent``."""
    dim = len(block.shape)
    if dim == 0:
        return formatter.format(block.element())
    if dim == 1:
        return _vector_str(block, indent, summarize, formatter)
    edge = _OPTIONS.edgeitems
    n = len(block)
    if summarize and n > 2 * edge:
        head = [_block_str(block[i], indent + 1, summarize, formatter) for i in range(edge)]
        tail = [_block_str(block[i], indent + 1, summarize, formatter) for i in range(n - edge, n)]
        slices = [*head, "...", *tail]
    else:
        slices = [_block_str(block[i], indent + 1, summarize, formatter) for i in range(n)]
    separator = "," + "\n" * (dim - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _vector_str(block: _Block, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """A 1-d row, wrapped to ``linewidth`` with as many elements per line as fit."""
    element_length = formatter.max_width + 2  # the element plus ", "
    per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / element_length))
    edge = _OPTIONS.edgeitems
    n = len(block)
    indices = range(n)
    if summarize and not edge:
        data = ["..."]
    elif summarize and n > 2 * edge:
        head = [formatter.format(block.element(i)) for i in indices[:edge]]
        tail = [formatter.format(block.element(i)) for i in indices[-edge:]]
        data = [*head, " ...", *tail]
    else:
        data = [formatter.format(block.element(i)) for i in indices]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _add_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    """Append ``suffixes`` and the closing ``)``, starting a new line when one would overflow.

    Like torch, the length of the last line counts two columns more than it has.
    """
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)
