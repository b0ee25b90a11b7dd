"""minigrad: a small, readable autograd engine whose API and numbers follow PyTorch's.

``import minigrad as torch`` is meant to run PyTorch teaching code unchanged.
"""

import builtins

from minigrad import _backend  # first: it chooses the kernels, and where the modules below come from  # isort: skip
from minigrad.tensor import Tensor, is_tensor  # next: the operations import it  # isort: skip
from minigrad import autograd
from minigrad._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from minigrad._dtype import (
    bool_ as bool,  # noqa: A001 - torch.bool
)
from minigrad._dtype import (
    dtype,
    float32,
    float64,
    get_default_dtype,
    int64,
    promote_types,
    set_default_dtype,
)
from minigrad._functions.indexing import gather, index_select
from minigrad._functions.linalg import addmm, bmm, matmul, mm
from minigrad._functions.nn import log_softmax, softmax
from minigrad._functions.pointwise import (
    abs,  # noqa: A004 - torch.abs
    add,
    clamp,
    div,
    exp,
    log,
    mul,
    neg,
    pow,  # noqa: A004 - torch.pow
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from minigrad._functions.reduction import argmax, argmin, logsumexp, max, mean, min, sum  # noqa: A004
from minigrad._functions.shape import (
    cat,
    chunk,
    clone,
    flatten,
    narrow,
    permute,
    reshape,
    select,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unbind,
    unsqueeze,
)
from minigrad._printing import get_printoptions, set_printoptions
from minigrad._shape import Size
from minigrad.autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

float = float32  # noqa: A001 - torch.float
double = float64
long = int64
clip = clamp
concat = concatenate = cat
backend: str = _backend.name
"""``"cython"`` when the compiled core is in use, ``"python"`` otherwise (see ``_backend``)."""

__version__ = "0.1.0"


def numel(x: Tensor) -> int:
    return x.numel()


def is_floating_point(x: Tensor) -> bool:
    return x.is_floating_point()


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08) -> builtins.bool:
    """True when |a - b| <= atol + rtol * |b| everywhere (shapes broadcast)."""
    diff = (a - b).abs()
    limit = (b.abs() * rtol + atol).expand_as(diff)
    return builtins.all(d <= bound for d, bound in zip(diff._flat_values(), limit._flat_values()))


def __getattr__(name: str) -> object:
    """``minigrad.save`` and ``minigrad.load``, imported on first use (the file format code is
    rarely needed, so ``import minigrad`` does not pay for it)."""
    if name in ("save", "load"):
        from minigrad import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


# Last: the layers and optimizers import the names above (``import minigrad`` exposes them, as torch).
from minigrad import nn, optim  # noqa: E402
