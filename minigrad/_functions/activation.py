"""Activation functions: forward and derivative of each, written per element as torch's CPU
kernels (``aten/src/ATen/native/cpu/Activation.cpp``) write them.

Each is an ``_Elementwise`` Function: a scalar ``value(x, *params)`` and a scalar
``derivative(x, grad, *params)`` mapped over the elements (computed in double precision and
rounded once to the tensor's dtype). The primitives some of them need (erf, log1p) are not
tensor ops yet, so the map is over Python floats; none of these is a hot loop in the programs
minigrad runs.
"""

from __future__ import annotations

import math
from array import array

from minigrad._dtype import scalar_type_name
from minigrad._functions.pointwise import round_scalar
from minigrad.autograd.function import Function
from minigrad.tensor import Tensor, new_buffer

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 0.70710678118654752440  # M_SQRT1_2
_GELU_PDF = 2.0 / math.sqrt(math.pi) * _SQRT1_2 * 0.5  # M_2_SQRTPI * M_SQRT1_2 * 0.5
_GELU_BETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5  # M_SQRT2 * M_2_SQRTPI * 0.5
_GELU_KAPPA = 0.044715
_ONE_SIXTH_F = 0.1666666716337204  # 1.0f / 6.0f


def exp(x: float) -> float:
    """e^x, with inf (not OverflowError) past the double range."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def log1p(x: float) -> float:
    """log(1 + x) with IEEE results at and below -1."""
    if x > -1.0:
        return math.log1p(x) if x != math.inf else math.inf
    return -math.inf if x == -1.0 else math.nan


def map_values(fn, x: Tensor, *params: float) -> Tensor:
    """A new tensor of x's shape and dtype with fn(element, *params) for each element (no graph)."""
    out = new_buffer(x.dtype, x.numel())
    out[:] = array(out.typecode, [fn(v, *params) for v in x._values()])
    return Tensor._make(out, x._shape, x.dtype)


def map_pairs(fn, x: Tensor, grad: Tensor, *params: float) -> Tensor:
    """fn(x_i, grad_i, *params) for each element (x and grad have one shape)."""
    out = new_buffer(grad.dtype, grad.numel())
    out[:] = array(out.typecode, [fn(v, g, *params) for v, g in zip(x._values(), grad._values())])
    return Tensor._make(out, grad._shape, grad.dtype)


class _Elementwise(Function):
    """y = value(x, *params) elementwise;  dx = derivative(x, dy, *params). Saves x."""

    name: str

    @staticmethod
    def value(x: float, *params: float) -> float:
        raise NotImplementedError

    @staticmethod
    def derivative(x: float, grad: float, *params: float) -> float:
        raise NotImplementedError

    @staticmethod
    def forward(ctx, x, *params):
        function = ctx._function
        if not x.dtype.is_floating_point:
            raise NotImplementedError(f'"{function.name}" not implemented for \'{scalar_type_name(x.dtype)}\'')
        params = tuple([round_scalar(p, x.dtype) for p in params])  # as torch's kernels see them
        ctx.save_for_backward(x)
        ctx.params = params
        return map_values(function.value, x, *params)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (map_pairs(ctx._function.derivative, x, grad, *ctx.params),) + (None,) * len(ctx.params)


class Gelu(_Elementwise):
    """y = x * Phi(x) = x/2 * (1 + erf(x / sqrt 2));  dy/dx = Phi(x) + x * phi(x)."""

    name = "GeluKernelImpl"

    @staticmethod
    def value(x):
        if x in (math.inf, -math.inf):
            return math.nan  # torch's vectorised erf gives nan at +-inf
        return x * 0.5 * (1.0 + math.erf(x * _SQRT1_2))

    @staticmethod
    def derivative(x, grad):
        cdf = 0.5 * (1.0 + math.erf(x * _SQRT1_2))
        pdf = exp(-0.5 * x * x) * _GELU_PDF
        return grad * (cdf + x * pdf)


class GeluTanh(_Elementwise):
    """y = x/2 * (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)."""

    name = "GeluKernelImpl"

    @staticmethod
    def value(x):
        inner = _GELU_BETA * (x + _GELU_KAPPA * (x * x * x))
        return 0.5 * x * (1.0 + math.tanh(inner))

    @staticmethod
    def derivative(x, grad):
        x_sq = x * x
        tanh_inner = math.tanh(_GELU_BETA * (x + _GELU_KAPPA * x_sq * x))
        left_derivative = 0.5 * (1.0 + tanh_inner)
        inner_derivative = _GELU_BETA * (1.0 + 3.0 * _GELU_KAPPA * x_sq)
        right_derivative = 0.5 * x * (1.0 - tanh_inner * tanh_inner) * inner_derivative
        return grad * (left_derivative + right_derivative)


class LeakyRelu(_Elementwise):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope."""

    name = "leaky_relu_cpu"

    @staticmethod
    def value(x, slope):
        return x if x > 0 else x * slope

    @staticmethod
    def derivative(x, grad, slope):
        return grad if x > 0 else grad * slope


class Elu(_Elementwise):
    """y = scale * x if x > 0 else alpha * scale * (exp(input_scale * x) - 1) (ELU, SELU, CELU);
    dy/dx = scale, or alpha * scale * input_scale * exp(input_scale * x)."""

    name = "elu_cpu"

    @staticmethod
    def value(x, alpha, scale, input_scale):
        return (exp(x * input_scale) - 1.0) * (alpha * scale) if x <= 0 else x * scale

    @staticmethod
    def derivative(x, grad, alpha, scale, input_scale):
        if x <= 0:
            return grad * input_scale * (alpha * scale) * exp(x * input_scale)
        return grad * scale


class Softplus(_Elementwise):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold;
    dy/dx = sigmoid(beta x) (1 past the threshold)."""

    name = "softplus_cpu"

    @staticmethod
    def value(x, beta, threshold):
        return x if x * beta > threshold else log1p(exp(x * beta)) / beta

    @staticmethod
    def derivative(x, grad, beta, threshold):
        if x * beta > threshold:
            return grad
        z = exp(x * beta)
        return grad * z / (z + 1.0) if z != math.inf else grad


class LogSigmoid(_Elementwise):
    """y = min(x, 0) - log(1 + exp(-|x|));  dy/dx = 1 - sigmoid(x), as b/(1+b) with b = exp(-|x|)."""

    name = "log_sigmoid_cpu"

    @staticmethod
    def value(x):
        return min(x, 0.0) - log1p(exp(-abs(x))) if x == x else x

    @staticmethod
    def derivative(x, grad):
        b = exp(-abs(x))
        if x < 0:
            return (1.0 - b / (1.0 + b)) * grad
        return (b / (1.0 + b)) * grad


class Hardtanh(_Elementwise):
    """y = min(max(x, low), high);  dy/dx = 1 strictly between the bounds, else 0."""

    name = "hardtanh_cpu"

    @staticmethod
    def value(x, low, high):
        return x if x != x else min(max(x, low), high)

    @staticmethod
    def derivative(x, grad, low, high):
        return 0.0 if x <= low or x >= high else grad


class Mish(_Elementwise):
    """y = x tanh(softplus(x));  dy/dx = tanh(sp) + x sigmoid(x) (1 - tanh^2(sp))."""

    name = "mish_cpu"

    @staticmethod
    def value(x):
        return x * math.tanh(log1p(exp(x)))

    @staticmethod
    def derivative(x, grad):
        sigmoid = 1.0 / (1.0 + exp(-x))
        tanh_softplus = math.tanh(log1p(exp(x)))
        return grad * (tanh_softplus + x * sigmoid * (1.0 - tanh_softplus * tanh_softplus))


class Silu(_Elementwise):
    """y = x / (1 + exp(-x));  dy/dx = sigmoid(x) (1 + x (1 - sigmoid(x)))."""

    name = "silu_cpu"

    @staticmethod
    def value(x):
        return x / (1.0 + exp(-x))

    @staticmethod
    def derivative(x, grad):
        sigmoid = 1.0 / (1.0 + exp(-x))
        return grad * sigmoid * (1.0 + x * (1.0 - sigmoid))


class Hardsigmoid(_Elementwise):
    """y = min(max(x + 3, 0), 6) / 6;  dy/dx = 1/6 for -3 < x < 3, else 0. (torch's backward
    multiplies by 1/6 rounded to float32, in float64 too.)"""

    name = "hardsigmoid_cpu"

    @staticmethod
    def value(x):
        return x if x != x else min(max(x + 3.0, 0.0), 6.0) / 6.0

    @staticmethod
    def derivative(x, grad):
        return grad * _ONE_SIXTH_F if -3.0 < x < 3.0 else 0.0


class Hardswish(_Elementwise):
    """y = x min(max(x + 3, 0), 6) / 6;  dy/dx = 0 up to -3, x/3 + 1/2 below 3, 1 from 3 on."""

    name = "hardswish_cpu"

    @staticmethod
    def value(x):
        return x if x != x else x * min(max(x + 3.0, 0.0), 6.0) / 6.0

    @staticmethod
    def derivative(x, grad):
        if x <= -3.0:
            return 0.0
        return grad * (x / 3.0 + 0.5) if x < 3.0 else grad


class Log1p(_Elementwise):
    """y = log(1 + x);  dy/dx = 1 / (1 + x). (Used by the BCE loss.)"""

    name = "log1p"

    @staticmethod
    def value(x):
        return log1p(x)

    @staticmethod
    def derivative(x, grad):
        return grad / (1.0 + x) if x != -1.0 else math.copysign(math.inf, grad) if grad else math.nan
