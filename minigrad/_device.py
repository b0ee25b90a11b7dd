"""Devices: ``minigrad.device`` as torch's, on a machine that has only the CPU.

Programs copied from tutorials move tensors and modules around (``x.to(device)``,
``model.cuda()`` behind ``if torch.cuda.is_available()``). Here every tensor lives on the CPU:
``device("cuda:0")`` can be named, compared and printed as in torch, but moving anything to it
raises torch's own error on a build without CUDA.
"""

from __future__ import annotations

from typing import Any

# the device types torch's parser knows, in the order its error message lists them
_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
    "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


class device:
    """A device type and an optional index: ``device("cuda:1")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - torch's name
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            # a bare index names a device of the current accelerator, and there is none
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type.__class__.__name__})")
        else:
            type, index = _parse(type, index)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'minigrad.device' objects is not writable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return (device, (self.type, self.index))


def _parse(text: str, index: int | None) -> tuple[str, int | None]:
    """('cuda', 0) from 'cuda:0'; torch's RuntimeErrors for an unknown type or a bad index."""
    name, colon, number = text.partition(":")
    if name not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {text}")
    if colon:
        if index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {text}")
        if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
            raise RuntimeError(f"Invalid device string: '{text}'")
        index = int(number)
    return name, index


CPU = device("cpu")


def check_device(where: Any) -> None:
    """Accept a CPU device (a device, a string, or None); raise torch's error for any other."""
    if where is None:
        return
    target = where if isinstance(where, device) else device(where)
    if target.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    if target.type != "cpu":
        raise RuntimeError(f"minigrad has only the CPU; there is no '{target.type}' device")
