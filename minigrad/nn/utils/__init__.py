"""Utilities for building networks (``torch.nn.utils``): ``rnn`` handles padded batches of
sequences of different lengths; ``crf`` is a linear-chain conditional random field;
``clip_grad_norm_``/``clip_grad_value_`` clip gradients; ``parameters_to_vector`` and
``vector_to_parameters`` flatten parameters; ``skip_init`` builds a module without drawing its
initial weights."""

from minigrad.nn.utils import rnn
from minigrad.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from minigrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from minigrad.nn.utils.init import skip_init

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "rnn",
    "skip_init",
    "vector_to_parameters",
]
