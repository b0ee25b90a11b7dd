"""The safetensors file format (https://github.com/huggingface/safetensors), on raw bytes.

Layout of a file::

    N          8 bytes, unsigned little-endian: the header's length in bytes
    header     N bytes of UTF-8 JSON, padded with spaces so that 8 + N is a multiple of 8:
               {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
                "__metadata__": {"<key>": "<value>", ...}}          (metadata optional)
    buffer     the tensors' bytes, little-endian and row-major; offsets are relative to the
               start of the buffer, and the tensors tile it exactly: no gaps, no overlaps,
               end - begin == prod(shape) * itemsize.

This module knows nothing about tensors: a tensor is a ``(dtype, shape, data)`` triple with
minigrad's dtype name ("float32", "int8", "bool", ...) and its little-endian bytes.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from stat import S_ISREG
from typing import Any, BinaryIO

from minigrad import _alloc
from minigrad._atomic import atomic_write, remove_stale_temporaries

__all__ = ["DTYPES", "load_file", "save_file"]

TensorRecord = tuple[str, tuple[int, ...], bytes]

# minigrad dtype name -> (safetensors dtype code, bytes per element)
DTYPES = {
    "float32": ("F32", 4),
    "float64": ("F64", 8),
    "int64": ("I64", 8),
    "int32": ("I32", 4),
    "int16": ("I16", 2),
    "int8": ("I8", 1),
    "uint8": ("U8", 1),
    "bool": ("BOOL", 1),
}
_BY_CODE = {code: (name, itemsize) for name, (code, itemsize) in DTYPES.items()}
_LENGTH = struct.Struct("<Q")
MAX_HEADER_BYTES = 100_000_000  # the reference implementation refuses larger headers
METADATA_KEY = "__metadata__"


def save_file(tensors: Mapping[str, TensorRecord], path: str | os.PathLike[str],
              metadata: Mapping[str, str] | None = None) -> None:
    """Write ``{name: (dtype, shape, data)}`` (and optional string metadata) to ``path``.

    Tensors are laid out largest item size first, then by name (as the reference
    implementation does), so each starts at a multiple of its item size. The file is written
    to a temporary file next to ``path``, synced, then renamed over ``path``: a crash leaves
    either the old file or the new one, never half of one.
    """
    _check_metadata(metadata)
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors must be a dict of name -> (dtype, shape, data), got {type(tensors).__name__}")
    records = {name: _check_tensor(name, record) for name, record in tensors.items()}
    order = file_order(records)
    header: dict[str, Any] = {METADATA_KEY: dict(metadata)} if metadata else {}
    buffers = []
    offset = 0
    for name in order:
        dtype, shape, data = records[name]
        header[name] = {"dtype": DTYPES[dtype][0], "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        buffers.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with atomic_write(path) as file:
        for chunk in (_LENGTH.pack(len(header_bytes)), header_bytes, *buffers):
            file.write(chunk)


def file_order(records: Mapping[str, TensorRecord]) -> list[str]:
    """The names in the order their data is written: largest item size first, then by name."""
    return sorted(records, key=lambda name: (-DTYPES[records[name][0]][1], name))


def _check_tensor(name: Any, record: Any) -> TensorRecord:
    """Validate one ``(dtype, shape, data)`` record; returns it with ``shape`` a tuple and
    ``data`` bytes."""
    if not isinstance(name, str):
        raise TypeError(f"tensor names must be str, got {type(name).__name__}")
    if name == METADATA_KEY:
        raise ValueError(f"{METADATA_KEY!r} is reserved for metadata and cannot name a tensor")
    if not (isinstance(record, tuple) and len(record) == 3):
        raise TypeError(f"tensor {name!r} must be a (dtype, shape, data) tuple")
    dtype, shape, data = record
    if dtype not in DTYPES:
        raise ValueError(f"tensor {name!r} has unsupported dtype {dtype!r} (expected one of {', '.join(DTYPES)})")
    if not (isinstance(shape, (tuple, list)) and all(_is_size(size) for size in shape)):
        raise ValueError(f"tensor {name!r} has invalid shape {shape!r} (expected non-negative ints)")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"tensor {name!r} data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    expected = math.prod(shape) * DTYPES[dtype][1]
    if len(data) != expected:
        raise ValueError(f"tensor {name!r} has {len(data)} bytes of data but {dtype} of shape "
                         f"{tuple(shape)} needs {expected}")
    return dtype, tuple(shape), data


def _check_metadata(metadata: Mapping[str, str] | None) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, Mapping) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in metadata.items()):
        raise TypeError("metadata must be a dict mapping str to str")


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def load_file(path: str | os.PathLike[str]) -> tuple[dict[str, TensorRecord], dict[str, str]]:
    """Read a safetensors file: ``({name: (dtype, shape, data)}, metadata)``, tensors in file
    order. Anything malformed raises ``ValueError`` naming the file and the problem, having read
    no more than the header's length and the data it describes (never a whole ``/dev/zero``).

    Temporaries left beside ``path`` by writers killed mid-save are removed first.
    """
    remove_stale_temporaries(path)
    with open(path, "rb") as file:
        return _Parser(str(path), file).parse()


class _Parser:
    def __init__(self, source: str, file: BinaryIO) -> None:
        self.source = source
        self.file = file
        stat = os.fstat(file.fileno())
        self.size = stat.st_size if S_ISREG(stat.st_mode) else None  # None: a pipe or device, size unknown

    def error(self, reason: str) -> ValueError:
        return ValueError(f"{self.source}: not a valid safetensors file: {reason}")

    def parse(self) -> tuple[dict[str, TensorRecord], dict[str, str]]:
        header, buffer_start = self._read_header()
        metadata = self._metadata(header.pop(METADATA_KEY, {}))
        buffer_len = None if self.size is None else self.size - buffer_start
        entries = sorted((self._entry(name, info, buffer_len) for name, info in header.items()),
                         key=lambda entry: entry[3])
        needed = max([end for *_, (_, end) in entries], default=0)
        if buffer_len is None:  # read what the header describes, and one byte more to find extra data
            if needed > _alloc.MEMORY:
                raise self.error(f"the header describes {needed} bytes of data, more than this machine's memory")
            buffer = self.file.read(needed + 1)
            buffer_len = len(buffer)
            for name, _, _, offsets in entries:
                self._check_in_buffer(name, list(offsets), buffer_len)
        else:
            buffer = self.file.read(buffer_len)
        self._check_layout(entries, buffer_len)
        tensors = {}
        for name, dtype, shape, (begin, end) in entries:
            tensors[name] = (dtype, shape, buffer[begin:end])
        return tensors, metadata

    def _read_header(self) -> tuple[dict[str, Any], int]:
        head = self.file.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise self.error(f"the file has {len(head)} bytes, too few for the 8-byte header length")
        (header_len,) = _LENGTH.unpack(head)
        if header_len > MAX_HEADER_BYTES:
            raise self.error(f"header length {header_len} exceeds the limit of {MAX_HEADER_BYTES} bytes")
        raw = self.file.read(header_len)
        if len(raw) < header_len:
            raise self.error(f"header length {header_len} runs past the end of the "
                             f"{_LENGTH.size + len(raw)}-byte file")
        try:
            header = json.loads(raw.decode("utf-8"), object_pairs_hook=self._no_duplicate_keys)
        except UnicodeDecodeError as exc:
            raise self.error(f"header is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise self.error(f"header is not valid JSON ({exc.msg} at character {exc.pos})") from None
        except RecursionError:
            raise self.error("header nests JSON values too deeply") from None
        if not isinstance(header, dict):
            raise self.error(f"header is a JSON {type(header).__name__}, expected an object")
        return header, _LENGTH.size + header_len

    def _no_duplicate_keys(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = {}
        for key, value in pairs:
            if key in result:
                raise self.error(f"header repeats the key {key!r}")
            result[key] = value
        return result

    def _metadata(self, metadata: Any) -> dict[str, str]:
        if not (isinstance(metadata, dict) and all(isinstance(value, str) for value in metadata.values())):
            raise self.error(f"{METADATA_KEY} must map strings to strings, got {metadata!r}")
        return metadata

    def _entry(self, name: str, info: Any, buffer_len: int | None) -> tuple[str, str, tuple[int, ...], tuple[int, int]]:
        if not isinstance(info, dict):
            raise self.error(f"tensor {name!r}: expected an object, got {info!r}")
        missing = [key for key in ("dtype", "shape", "data_offsets") if key not in info]
        if missing:
            raise self.error(f"tensor {name!r}: missing {', '.join(missing)}")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(code, str) or code not in _BY_CODE:
            raise self.error(f"tensor {name!r} has unsupported dtype {code!r} "
                             f"(minigrad reads {', '.join(_BY_CODE)})")
        dtype, itemsize = _BY_CODE[code]
        if not (isinstance(shape, list) and all(_is_size(size) for size in shape)):
            raise self.error(f"tensor {name!r} has invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_size(x) for x in offsets)
                and offsets[0] <= offsets[1]):
            raise self.error(f"tensor {name!r} has invalid data_offsets {offsets!r} (expected [begin, end], "
                             "0 <= begin <= end)")
        begin, end = offsets
        if buffer_len is not None:
            self._check_in_buffer(name, offsets, buffer_len)
        expected = math.prod(shape) * itemsize
        if end - begin != expected:
            raise self.error(f"tensor {name!r} data_offsets {offsets} span {end - begin} bytes but {code} of "
                             f"shape {shape} needs {expected}")
        return name, dtype, tuple(shape), (begin, end)

    def _check_in_buffer(self, name: str, offsets: list, buffer_len: int) -> None:
        if offsets[1] > buffer_len:
            raise self.error(f"tensor {name!r} data_offsets {offsets} are out of range for the "
                             f"{buffer_len}-byte data buffer")

    def _check_layout(self, entries: list[tuple[str, str, tuple[int, ...], tuple[int, int]]],
                      buffer_len: int) -> None:
        """The tensors, in offset order, must tile the buffer exactly."""
        position = 0
        for name, _, _, (begin, end) in entries:
            if begin < position:
                raise self.error(f"tensor {name!r} (bytes {begin}..{end}) overlaps the tensor before it")
            if begin > position:
                raise self.error(f"gap in the data buffer: bytes {position}..{begin} before tensor {name!r} "
                                 "belong to no tensor")
            position = end
        if position != buffer_len:
            raise self.error(f"the last {buffer_len - position} bytes of the data buffer belong to no tensor")
