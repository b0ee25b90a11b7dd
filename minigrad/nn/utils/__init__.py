"""Utilities for building networks (``torch.nn.utils``): ``rnn`` handles padded batches of
sequences of different lengths; ``crf`` is a linear-chain conditional random field;
``skip_init`` builds a module without drawing its initial weights."""

from minigrad.nn.utils import rnn
from minigrad.nn.utils.init import skip_init

__all__ = ["rnn", "skip_init"]
