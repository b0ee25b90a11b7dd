"""``minigrad.backends``: the switches tutorials set or ask about (``cudnn.deterministic``,
``mps.is_available()``). minigrad runs on the CPU only and is deterministic whatever they say."""

from minigrad.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
