"""Golden files: a program's tensors recorded once, then compared against on later runs.

Record from the reference (torch tensors are accepted, so the file can come from PyTorch) and
check from minigrad, with no torch needed at check time::

    golden.record("tests/golden/step.json", loss=loss, grad=w.grad)     # once
    golden.check("tests/golden/step.json", loss=loss, grad=w.grad)      # every run

The file is JSON, one line per tensor, so a change reads well in a diff::

    {
      "format": "minigrad-golden",
      "version": 1,
      "tensors": {
        "loss": {"dtype": "float32", "shape": [], "values": [0.6931471824645996]}
      }
    }

Floats are written with Python's shortest round-tripping ``repr``, so float32 and float64
values come back exactly; NaN and the infinities are written as the strings "nan", "inf", "-inf".
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import minigrad
from minigrad._dtype import BY_NAME
from minigrad._tensor import Tensor
from minigrad.testing.comparison import assert_close, flatten

FORMAT = "minigrad-golden"
VERSION = 1


def record(path: str | Path, **tensors: Any) -> Path:
    """Write ``tensors`` (minigrad or torch tensors, or Python numbers) to the golden file."""
    if not tensors:
        raise ValueError("record needs at least one tensor, given as name=tensor")
    entries = []
    for name, value in tensors.items():
        flat = flatten(value)
        if flat.dtype not in BY_NAME:
            raise TypeError(
                f"cannot record {name!r}: minigrad has no dtype {flat.dtype} (it supports {', '.join(BY_NAME)})"
            )
        entry = {"dtype": flat.dtype, "shape": list(flat.shape), "values": [_encode(v) for v in flat.values]}
        entries.append(f"    {json.dumps(name)}: {json.dumps(entry)}")
    path = Path(path)
    header = f'{{\n  "format": "{FORMAT}",\n  "version": {VERSION},\n  "tensors": {{\n'
    path.write_text(header + ",\n".join(entries) + "\n  }\n}\n")
    return path


def load(path: str | Path) -> dict[str, Tensor]:
    """The recorded tensors, as minigrad tensors."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"golden file {str(path)!r} does not exist; make it once with minigrad.testing.golden.record"
        )
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f'{str(path)!r} is not a minigrad golden file (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise ValueError(f"{str(path)!r} is golden file version {data.get('version')}; this minigrad reads {VERSION}")
    tensors = {}
    for name, entry in data["tensors"].items():
        values = [_decode(v) for v in entry["values"]]
        tensors[name] = minigrad.tensor(values, dtype=BY_NAME[entry["dtype"]]).reshape(tuple(entry["shape"]))
    return tensors


def check(path: str | Path, *, rtol: float | None = None, atol: float | None = None, **tensors: Any) -> None:
    """Raise ``AssertionError`` unless ``tensors`` match the golden file: the same names, and
    values close by ``assert_close`` (dtype-dependent defaults, or ``rtol``/``atol``)."""
    expected = load(path)
    missing = [name for name in tensors if name not in expected]
    if missing:
        raise AssertionError(
            f"golden file {str(path)!r} has no tensor named {', '.join(map(repr, missing))} "
            f"(it has {', '.join(map(repr, expected)) or 'none'}); record it again to add them"
        )
    unchecked = [name for name in expected if name not in tensors]
    if unchecked:
        raise AssertionError(f"check got no value for the recorded tensor(s) {', '.join(map(repr, unchecked))}")
    for name, value in tensors.items():
        try:
            assert_close(value, expected[name], rtol=rtol, atol=atol)
        except AssertionError as error:
            raise AssertionError(f"{name!r} differs from golden file {str(path)!r}:\n\n{error}") from None


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf"
    return value


def _decode(value: Any) -> Any:
    return float(value) if isinstance(value, str) else value
