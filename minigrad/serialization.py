"""``minigrad.save`` / ``minigrad.load``: state dicts as safetensors files, without pickle.

A state dict is a ``{name: Tensor}`` mapping (``module.state_dict()``). ``save`` writes each
tensor's values row-major and little-endian into one safetensors file (the format is described
in ``minigrad/_safetensors.py``), atomically: a crash mid-write leaves the previous file intact.
The files open in PyTorch with ``safetensors.torch.load_file(path)``, and files written by
``safetensors.torch.save_file`` load here when their dtypes are ones minigrad has
(float32, float64, int64, bool).

Nothing in a file is executed on load: a corrupt or foreign file (a pickled ``torch.save``
checkpoint, a truncated download) raises ``ValueError`` saying what is wrong with it.

The format has no checksum, so flipped bytes inside the tensors' data load silently. The opt-in
check: ``save(..., checksum=True)`` records the sha256 of the data in the file's metadata
(``"minigrad.sha256"``, which other readers ignore), and ``load(path, verify=True)`` recomputes it
and raises ``ValueError`` on a mismatch, or when the file has no checksum.
"""

from __future__ import annotations

import hashlib
import os
import sys
from array import array
from collections.abc import Mapping
from typing import Any

from minigrad import _safetensors
from minigrad._dtype import BY_NAME
from minigrad._tensor import Tensor

__all__ = ["load", "load_with_metadata", "save"]

_BIG_ENDIAN = sys.byteorder == "big"


def save(state_dict: Mapping[str, Tensor], path: str | os.PathLike[str],
         metadata: Mapping[str, str] | None = None, *, checksum: bool = False) -> None:
    """Write ``{name: tensor}`` (plus optional ``{str: str}`` metadata) to ``path``.

    Tensors are saved by value: views are written as their own elements, and gradients and
    autograd history are not saved. ``checksum=True`` also records the sha256 of the tensors'
    data, which ``load(path, verify=True)`` checks. The file keeps the permissions of the file it
    replaces; temporaries of earlier saves killed midway are removed.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save() expects a dict of name -> Tensor, got {type(state_dict).__name__}")
    records = {}
    for name, tensor in state_dict.items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"save(): the value of {name!r} is a {type(tensor).__name__}, not a Tensor")
        records[name] = (tensor.dtype.name, tuple(tensor.shape), _little_endian_bytes(tensor._values()))
    if checksum:
        ordered = [records[name] for name in _safetensors.file_order(records)]
        metadata = {**(metadata or {}), CHECKSUM_KEY: _data_sha256(ordered)}
    _safetensors.save_file(records, path, metadata)


def load(path: str | os.PathLike[str], *, verify: bool = False) -> dict[str, Tensor]:
    """The ``{name: tensor}`` dict stored in the safetensors file at ``path``; with ``verify``,
    checked against the data checksum that ``save(..., checksum=True)`` recorded."""
    return load_with_metadata(path, verify=verify)[0]


def load_with_metadata(path: str | os.PathLike[str], *,
                       verify: bool = False) -> tuple[dict[str, Tensor], dict[str, str]]:
    """``({name: tensor}, metadata)`` from one read of the file at ``path``; the metadata is
    the file's ``{str: str}`` ``__metadata__`` (``{}`` when it has none)."""
    records, metadata = _safetensors.load_file(path)
    if verify:
        _verify(path, records, metadata)
    return {name: _tensor_from_record(path, name, *record) for name, record in records.items()}, metadata


CHECKSUM_KEY = "minigrad.sha256"


def _data_sha256(records: Any) -> str:
    """sha256 of the tensors' bytes, in file order."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(record[2])
    return digest.hexdigest()


def _verify(path: str | os.PathLike[str], records: dict, metadata: dict[str, str]) -> None:
    expected = metadata.get(CHECKSUM_KEY)
    if expected is None:
        raise ValueError(f"{path}: cannot verify: the file records no checksum (save it with checksum=True)")
    if _data_sha256(records.values()) != expected:
        raise ValueError(f"{path}: the tensors' data does not match the sha256 the file records: the file is "
                         "corrupt (restore it from a backup or save it again)")


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
