"""minigrad: a small, readable autograd engine whose API and numbers follow PyTorch's.

``import minigrad as torch`` is meant to run PyTorch teaching code unchanged.
"""

import builtins

from minigrad import _backend  # first: it chooses the kernels, and where the modules below come from  # isort: skip
from minigrad._tensor import Tensor, is_tensor  # next: the operations import it  # isort: skip
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
    finfo,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from minigrad._functions.indexing import gather, index_select
from minigrad._functions.linalg import addmm, bmm, matmul, mm
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
)
from minigrad._functions.pointwise import where as _where
from minigrad._functions.pointwise_math import (  # more pointwise math (issue 14)
    METHOD_FUNCTIONS,
    atan2,
    copysign,
    fmax,
    fmin,
    fmod,
    hypot,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    lerp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    nan_to_num,
    remainder,
    signbit,
)
from minigrad._functions.rearrange import flip, repeat_interleave
from minigrad._functions.reduction import argmax, argmin, logsumexp, max, mean, min, sum  # noqa: A004
from minigrad._functions.sampling import bernoulli, multinomial, normal, randint_like
from minigrad._functions.scatter import nonzero, scatter, scatter_add
from minigrad._functions.softmax_loss import log_softmax, softmax
from minigrad._functions.sorting import argsort, kthvalue, sort, topk
from minigrad._functions.views import (
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
from minigrad._legacy import BoolTensor, DoubleTensor, FloatTensor, LongTensor
from minigrad._printing import get_printoptions, set_printoptions
from minigrad._shape import Size
from minigrad._threads import get_num_interop_threads, get_num_threads, set_num_interop_threads, set_num_threads
from minigrad.autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

globals().update(METHOD_FUNCTIONS)  # torch.sin, torch.floor, ...: the Tensor methods as functions
float = float32  # noqa: A001 - torch.float
double = float64
long = int64
int = int32  # noqa: A001 - torch.int
short = int16
clip = clamp
concat = concatenate = cat
backend: str = _backend.name
"""``"cython"`` when the compiled core is in use, ``"python"`` otherwise (see ``_backend``)."""
compiled_modules = _backend.compiled_modules

__version__ = "0.1.0"


# -- ops: devices, dtypes, reductions, linear algebra and shape (issue 14) ---------------------
from minigrad import backends, cuda, linalg  # noqa: E402
from minigrad._device import device  # noqa: E402
from minigrad._dtype import result_type as _result_type  # noqa: E402
from minigrad._functions.reduction_more import (  # noqa: E402
    all,  # noqa: A004 - torch.all
    amax,
    amin,
    aminmax,
    any,  # noqa: A004 - torch.any
    bincount,
    count_nonzero,
    cumprod,
    cumsum,
    median,
    mode,
    norm,
    prod,
    std,
    std_mean,
    unique,
    var,
    var_mean,
)
from minigrad._functions.shape_more import (  # noqa: E402
    broadcast_to,
    diag,
    diagonal,
    dot,
    einsum,
    meshgrid,
    movedim,
    outer,
    roll,
    swapaxes,
    take_along_dim,
    tile,
    trace,
    tril,
    triu,
    unflatten,
)
from minigrad._functions.shape_more import nonzero_tuple as _nonzero_tuple  # noqa: E402

swapdims = swapaxes
moveaxis = movedim


def where(condition: Tensor, input: object = None, other: object = None) -> Tensor | tuple[Tensor, ...]:
    """``where(condition, input, other)`` picks elementwise; ``where(condition)`` alone gives the
    coordinates of the nonzero elements, one tensor per dim (``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        return _nonzero_tuple(condition)
    return _where(condition, input, other)


def result_type(tensor1: Tensor | builtins.float, tensor2: Tensor | builtins.float) -> dtype:
    """The dtype an arithmetic op of the two gives (torch.result_type)."""
    return _result_type([tensor1, tensor2])


def equal(input: Tensor, other: Tensor) -> builtins.bool:
    """True when both have the same shape and equal elements (dtypes may differ)."""
    return input.equal(other)


def numel(x: Tensor) -> int:
    return x.numel()


def is_floating_point(x: Tensor) -> bool:
    return x.is_floating_point()


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08) -> builtins.bool:
    """True when |a - b| <= atol + rtol * |b| everywhere (shapes broadcast)."""
    diff = (a - b).abs()
    limit = (b.abs() * rtol + atol).expand_as(diff)
    return builtins.all(d <= bound for d, bound in zip(diff._flat_values(), limit._flat_values()))


_ABSENT_DTYPES = ("half", "float16", "bfloat16", "cfloat", "cdouble", "complex64", "complex128", "uint16", "uint32",
                  "uint64", "float8_e4m3fn", "float8_e5m2")  # fmt: skip


def __getattr__(name: str) -> object:
    """``minigrad.save`` and ``minigrad.load``, imported on first use (the file format code is
    rarely needed, so ``import minigrad`` does not pay for it)."""
    if name in ("save", "load"):
        from minigrad import serialization

        return getattr(serialization, name)
    if name in _ABSENT_DTYPES:
        raise AttributeError(
            f"minigrad has no {name} dtype: it has float32, float64, int64, int32, int16, int8, uint8 and bool"
        )
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


# Last: the layers and optimizers import the names above (``import minigrad`` exposes them, as torch).
from minigrad import nn, optim  # noqa: E402
