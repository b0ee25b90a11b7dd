"""``minigrad.save`` / ``minigrad.load``: state dicts as safetensors files, without pickle.

A state dict is a ``{name: Tensor}`` mapping (``module.state_dict()``). ``save`` writes each
tensor's values row-major and little-endian into one safetensors file (the format is described
in ``minigrad/_safetensors.py``), atomically: a crash mid-write leaves the previous file intact.
The files open in PyTorch with ``safetensors.torch.load_file(path)``, and files written by
``safetensors.torch.save_file`` load here when their dtypes are ones minigrad has
(float32, float64, int64, bool).

Nothing in a file is executed on load: a corrupt or foreign file (a pickled ``torch.save``
checkpoint, a truncated download) raises ``ValueError`` saying what is wrong with it.
"""

from __future__ import annotations

import os
import sys
from array import array
from collections.abc import Mapping

from minigrad import _safetensors
from minigrad._dtype import BY_NAME
from minigrad._tensor import Tensor

__all__ = ["load", "load_with_metadata", "save"]

_BIG_ENDIAN = sys.byteorder == "big"


def save(state_dict: Mapping[str, Tensor], path: str | os.PathLike[str],
         metadata: Mapping[str, str] | None = None) -> None:
    """Write ``{name: tensor}`` (plus optional ``{str: str}`` metadata) to ``path``.

    Tensors are saved by value: views are written as their own elements, and gradients and
    autograd history are not saved.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save() expects a dict of name -> Tensor, got {type(state_dict).__name__}")
    records = {}
    for name, tensor in state_dict.items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"save(): the value of {name!r} is a {type(tensor).__name__}, not a Tensor")
        records[name] = (tensor.dtype.name, tuple(tensor.shape), _little_endian_bytes(tensor._values()))
    _safetensors.save_file(records, path, metadata)


def load(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """The ``{name: tensor}`` dict stored in the safetensors file at ``path``."""
    return load_with_metadata(path)[0]


def load_with_metadata(path: str | os.PathLike[str]) -> tuple[dict[str, Tensor], dict[str, str]]:
    """``({name: tensor}, metadata)`` from one read of the file at ``path``; the metadata is
    the file's ``{str: str}`` ``__metadata__`` (``{}`` when it has none)."""
    records, metadata = _safetensors.load_file(path)
    return {name: _tensor_from_record(path, name, *record) for name, record in records.items()}, metadata


def _little_endian_bytes(values: array) -> bytes:
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _tensor_from_record(path: str | os.PathLike[str], name: str, dtype_name: str, shape: tuple[int, ...],
                        data: bytes) -> Tensor:
    dt = BY_NAME[dtype_name]
    values = array(dt.typecode)
    values.frombytes(data)
    if _BIG_ENDIAN:
        values.byteswap()
    if dt.name == "bool" and any(v > 1 for v in values):
        raise ValueError(f"{path}: not a valid safetensors file: the BOOL tensor {name!r} holds bytes "
                         "other than 0 and 1")
    return Tensor._make(values, shape, dt)
