"""Utilities for building networks (``torch.nn.utils``): ``rnn`` handles padded batches of
sequences of different lengths; ``crf`` is a linear-chain conditional random field."""

from minigrad.nn.utils import rnn

__all__ = ["rnn"]
