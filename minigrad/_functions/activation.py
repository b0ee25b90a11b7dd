"""Activation functions: forward and derivative of each, written as torch's vectorised CPU
kernels (``aten/src/ATen/native/cpu/Activation.cpp``) write them.

Each is a ``_Composed`` Function: forward and backward are tensor operations in the kernel's
order, with its constants rounded to the tensor's dtype. Each float32 operation rounds as torch's
does, so the results equal torch's bit for bit wherever the transcendental ops (exp, tanh) do.
The primitives that are not tensor ops here (erf, expm1, log1p) are mapped over the elements in
double precision and rounded once (``map_values``).
"""

from __future__ import annotations

import math
from array import array

from minigrad._dtype import float32, scalar_type_name
from minigrad._functions.pointwise import round_scalar, where
from minigrad._tensor import Tensor, new_buffer
from minigrad.autograd.function import Function

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# the C library's constants, as torch's kernels combine them (in double, then cast to the dtype)
_SQRT1_2 = 0.70710678118654752440  # M_SQRT1_2
_SQRT2 = 1.41421356237309504880  # M_SQRT2
_2_SQRTPI = 1.12837916709551257390  # M_2_SQRTPI
_GELU_PDF = _2_SQRTPI * _SQRT1_2 * 0.5
_GELU_BETA = _SQRT2 * _2_SQRTPI * 0.5
_GELU_KAPPA = 0.044715
_ONE_SIXTH_F = 0.1666666716337204  # 1.0f / 6.0f


def expm1(x: float) -> float:
    """e^x - 1, with inf (not OverflowError) past the double range."""
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def log1p(x: float) -> float:
    """log(1 + x) with IEEE results at and below -1."""
    if x > -1.0:
        return math.log1p(x) if x != math.inf else math.inf
    return -math.inf if x == -1.0 else math.nan


def _erf(x: float) -> float:
    """erf(x); nan at +-inf, as torch's vectorised erf gives there."""
    return math.nan if x in (math.inf, -math.inf) else math.erf(x)


def map_values(fn, x: Tensor) -> Tensor:
    """A new tensor of x's shape and dtype with fn(element) for each element (no graph)."""
    out = new_buffer(x.dtype, x.numel())
    out[:] = array(out.typecode, [fn(v) for v in x._values()])
    return Tensor._make(out, x._shape, x.dtype)


class _Composed(Function):
    """y = f(x); both directions are tensor operations (``compute`` and ``derivative``). Saves x."""

    name: str

    @staticmethod
    def compute(x: Tensor, *params: float) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def derivative(x: Tensor, grad: Tensor, *params: float) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def forward(ctx, x, *params):
        function = ctx._function
        if not x.dtype.is_floating_point:
            raise NotImplementedError(f'"{function.name}" not implemented for \'{scalar_type_name(x.dtype)}\'')
        ctx.save_for_backward(x)
        ctx.params = params
        return function.compute(x, *params)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (ctx._function.derivative(x, grad, *ctx.params),) + (None,) * len(ctx.params)


def _f32(value: float) -> float:
    """value rounded to float32 (a constant the kernel computes in float)."""
    return round_scalar(value, float32)


def _constant(value: float, x: Tensor) -> float:
    """A kernel constant ``scalar_t(value)`` for x's dtype."""
    return _f32(value) if x.dtype is float32 else value


class GeluTanh(_Composed):
    """y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)."""

    name = "GeluKernelImpl"

    @staticmethod
    def compute(x):
        beta, kappa = _constant(_GELU_BETA, x), _constant(_GELU_KAPPA, x)
        inner = (x + x * x * x * kappa) * beta
        return x * 0.5 * (inner.tanh() + 1.0)

    @staticmethod
    def derivative(x, grad):
        beta, kappa = _constant(_GELU_BETA, x), _constant(_GELU_KAPPA, x)
        three_kappa = _constant(3.0 * kappa, x)  # kThreeVec * kKappaVec, rounded once
        x_sq = x * x
        tanh_inner = ((x + x * x * x * kappa) * beta).tanh()
        left_derivative = (tanh_inner + 1.0) * 0.5
        tanh_derivative = 1.0 - tanh_inner * tanh_inner
        inner_derivative = (x_sq * three_kappa + 1.0) * beta
        right_derivative = x * 0.5 * tanh_derivative * inner_derivative
        return grad * (left_derivative + right_derivative)


class Elu(_Composed):
    """y = scale * x if x > 0 else alpha * scale * (exp(input_scale * x) - 1) (ELU, SELU, CELU);
    dy/dx = scale, or alpha * scale * input_scale * exp(input_scale * x). (torch's forward takes
    expm1, not exp - 1; expm1 is not a tensor op here, so it is mapped, correctly rounded.)"""

    name = "elu_cpu"

    @staticmethod
    def compute(x, alpha, scale, input_scale):
        negcoef = _constant(_constant(alpha, x) * _constant(scale, x), x)
        negative = map_values(expm1, x * input_scale) * negcoef
        return where(x > 0, x * scale, negative)

    @staticmethod
    def derivative(x, grad, alpha, scale, input_scale):
        negcoef = _constant(_constant(alpha, x) * _constant(scale, x), x)
        negative = grad * input_scale * negcoef * (x * input_scale).exp()
        return where(x > 0, grad * scale, negative)


class Silu(_Composed):
    """y = x / (1 + exp(-x));  dy/dx = sigmoid(x) (1 + x (1 - sigmoid(x)))."""

    name = "silu_cpu"

    @staticmethod
    def compute(x):
        return x / ((-x).exp() + 1.0)

    @staticmethod
    def derivative(x, grad):
        sigmoid = 1.0 / ((-x).exp() + 1.0)
        return grad * sigmoid * (x * (1.0 - sigmoid) + 1.0)


class Hardsigmoid(_Composed):
    """y = min(max(x + 3, 0), 6) / 6;  dy/dx = 1/6 for -3 < x < 3, else 0. (The backward multiplies
    by 1.0f / 6, in float64 too.)"""

    name = "hardsigmoid_cpu"

    @staticmethod
    def compute(x):
        return (x + 3.0).clamp(0.0, 6.0) / 6.0

    @staticmethod
    def derivative(x, grad):
        return where((x > -3.0) & (x < 3.0), grad * _ONE_SIXTH_F, 0.0)


class Hardswish(_Composed):
    """y = x min(max(x + 3, 0), 6) / 6;  dy/dx = 0 up to -3, x/3 + 1/2 below 3, 1 from 3 on."""

    name = "hardswish_cpu"

    @staticmethod
    def compute(x):
        return x * (x + 3.0).clamp(0.0, 6.0) / 6.0

    @staticmethod
    def derivative(x, grad):
        middle = where(x >= 3.0, grad, grad * (x / 3.0 + 0.5))
        return where(x <= -3.0, 0.0, middle)


class Gelu(_Composed):
    """y = x Phi(x) = x/2 (1 + erf(x / sqrt 2));  dy/dx = Phi(x) + x phi(x). (erf is mapped,
    correctly rounded: it is not a tensor op here.)"""

    name = "GeluKernelImpl"

    @staticmethod
    def compute(x):
        return x * 0.5 * (map_values(_erf, x * _SQRT1_2) + 1.0)

    @staticmethod
    def derivative(x, grad):
        cdf = (map_values(_erf, x * _SQRT1_2) + 1.0) * 0.5
        pdf = (x * x * -0.5).exp() * _GELU_PDF
        return grad * (cdf + x * pdf)


class Softplus(_Composed):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold;
    dy/dx = sigmoid(beta x) (1 past the threshold)."""

    name = "softplus_cpu"

    @staticmethod
    def compute(x, beta, threshold):
        scaled = x * beta
        return where(scaled > threshold, x, map_values(log1p, scaled.exp()) / beta)

    @staticmethod
    def derivative(x, grad, beta, threshold):
        scaled = x * beta
        z = scaled.exp()
        return where(scaled > threshold, grad, grad * z / (z + 1.0))


class LogSigmoid(_Composed):
    """y = min(x, 0) - log(1 + b), b = exp(-|x|);  dy/dx = 1 - b/(1+b) for x < 0, b/(1+b) otherwise."""

    name = "log_sigmoid_cpu"

    @staticmethod
    def compute(x):
        return x.clamp(max=0.0) - map_values(log1p, (-x.abs()).exp())

    @staticmethod
    def derivative(x, grad):
        b = (-x.abs()).exp()
        ratio = b / (b + 1.0)
        return where(x < 0, (1.0 - ratio) * grad, ratio * grad)


class Mish(_Composed):
    """y = x tanh(softplus(x));  dy/dx = tanh(sp) + x sigmoid(x) (1 - tanh^2(sp))."""

    name = "mish_cpu"

    @staticmethod
    def compute(x):
        return x * map_values(log1p, x.exp()).tanh()

    @staticmethod
    def derivative(x, grad):
        sigmoid = 1.0 / ((-x).exp() + 1.0)
        tanh_softplus = map_values(log1p, x.exp()).tanh()
        return grad * (tanh_softplus + x * sigmoid * (1.0 - tanh_softplus * tanh_softplus))


class LeakyRelu(_Composed):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope."""

    name = "leaky_relu_cpu"

    @staticmethod
    def compute(x, slope):
        return where(x > 0, x, x * slope)

    @staticmethod
    def derivative(x, grad, slope):
        return where(x > 0, grad, grad * slope)


class Hardtanh(_Composed):
    """y = min(max(x, low), high);  dy/dx = 1 strictly between the bounds, else 0."""

    name = "hardtanh_cpu"

    @staticmethod
    def compute(x, low, high):
        return x.clamp(low, high)

    @staticmethod
    def derivative(x, grad, low, high):
        return where((x <= low) | (x >= high), 0.0, grad)
