"""The activation functions of ``nn.functional`` beyond relu/tanh/sigmoid, with torch's
signatures; the arithmetic is in ``minigrad/_functions/activation.py``. ``inplace=True``
overwrites ``input`` with the result (and its history), as torch's ``*_`` variants do."""

from __future__ import annotations

from minigrad._dtype import dtype as _dtype
from minigrad._functions import activation as _act
from minigrad._functions import softmax_loss as _nn
from minigrad._tensor import Tensor


def _result(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    return input._inplace(out) if inplace else out


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) (Phi the standard normal CDF); ``approximate='tanh'``:
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return _act.Gelu.apply(input)
    if approximate == "tanh":
        return _act.GeluTanh.apply(input)
    raise RuntimeError("approximate argument must be either none or tanh.")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return _result(input, _act.LeakyRelu.apply(input, negative_slope), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (exp(x) - 1)."""
    return _result(input, _act.Elu.apply(input, alpha, 1.0, 1.0), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with torch's constants (alpha 1.6733, scale 1.0507)."""
    return _result(input, _act.Elu.apply(input, _act.SELU_ALPHA, _act.SELU_SCALE, 1.0), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (exp(x / alpha) - 1)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _result(input, _act.Elu.apply(input, alpha, 1.0, 1.0 / alpha), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return _act.Softplus.apply(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))."""
    return _act.LogSigmoid.apply(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val] (gradient 0 at the bounds themselves)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if not input.dtype.is_floating_point:
        return _result(input, input.clamp(int(min_val), int(max_val)), inplace)
    return _result(input, _act.Hardtanh.apply(input, min_val, max_val), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return _result(input, _act.Mish.apply(input), inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x sigmoid(x) (swish)."""
    return _result(input, _act.Silu.apply(input), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x + 3, 0), 6) / 6."""
    return _result(input, _act.Hardsigmoid.apply(input), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x min(max(x + 3, 0), 6) / 6."""
    return _result(input, _act.Hardswish.apply(input), inplace)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype | None = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    if dim is None:
        from minigrad.nn.functional import _softmax_dim

        dim = _softmax_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return _nn.softmax(-input, dim)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``elu`` in place."""
    return elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``celu`` in place."""
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """``selu`` in place."""
    return selu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``leaky_relu`` in place."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``hardtanh`` in place."""
    return hardtanh(input, min_val, max_val, inplace=True)
