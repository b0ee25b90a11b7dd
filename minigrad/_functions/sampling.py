"""Random sampling ops on tensors, drawing exactly what torch 2.13.0's CPU kernels draw.

``bernoulli``/``bernoulli_``, ``exponential_``, ``cauchy_``, ``geometric_``, ``log_normal_``,
``random_``, ``normal`` (its tensor overloads), ``multinomial`` and ``randint_like``. The
generator arithmetic lives in ``minigrad/random.py``; this module checks arguments as torch
does, visits elements in torch's order and writes the draws.

Order of the draws: torch's kernels run one element after another through a TensorIterator,
which walks a contiguous tensor row by row and any other tensor in memory order (by increasing
address). ``_visit_order`` gives that order, as row-major indices.

Autograd: torch treats a draw as a constant of its parameters. ``bernoulli(p)`` and
``normal(mean, std)`` of tensors that require grad record a node whose gradient is zero
(torch's ``BernoulliBackward``/``NormalBackward``); the in-place ops are not recorded.
"""

from __future__ import annotations

import warnings
from array import array
from typing import Any

from minigrad import random as _random
from minigrad._backend import kernels as K
from minigrad._dtype import bool_, dtype, float32, float64, int64, scalar_type_name
from minigrad._shape import broadcast_shapes
from minigrad._tensor import Tensor, new_buffer, zeros_for
from minigrad.autograd.function import Function

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DIGITS = {"float32": 24, "float64": 53}  # mantissa bits of the floating dtypes
_TYPE_WORD = {"float32": "float", "float64": "double", "int64": "long", "bool": "bool"}  # torch's dtype names


def _generator(generator: _random.Generator | None) -> _random.Generator:
    return generator or _random.default_generator


def _memory_order(t: Tensor) -> list[int] | None:
    """Row-major indices of t's elements by increasing address: the order torch's kernels visit
    them. None when that is row-major order itself."""
    if t.is_contiguous():
        return None
    positions = K.strided_positions(t._shape, t._strides, t._offset)
    order = sorted(range(len(positions)), key=positions.__getitem__)
    return None if order == list(range(len(order))) else order


def _to_row_major(values: list, order: list[int] | None) -> list:
    """``values[k]`` (the k-th value drawn) moved to row-major index ``order[k]``."""
    if order is None:
        return values
    row_major: list = [None] * len(values)
    for k, index in enumerate(order):
        row_major[index] = values[k]
    return row_major


def _write_visited(t: Tensor, values: list | array, order: list[int] | None) -> Tensor:
    """Store the drawn values (a list, or a buffer of t's dtype) in the elements torch visits, in
    turn; bumps the version."""
    values = _to_row_major(values, order)
    if t.dtype is bool_ and not isinstance(values, array):
        values = [1 if v else 0 for v in values]
    t._write(array(t.dtype.typecode, values))
    return t


def _float_only(t: Tensor, kernel: str) -> None:
    if not t.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_type_name(t.dtype)}'")


# -- bernoulli -----------------------------------------------------------------------------------


def bernoulli_(t: Tensor, p: float | Tensor = 0.5, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with 0/1 draws: 1 with probability p (a number, or a tensor that
    broadcasts to t's shape).

    A number p draws one 53-bit double uniform u per element and stores ``u < p`` (spec 6b).
    A float64 tensor p does the same element by element; a float32 tensor p draws 24-bit float32
    uniforms (one word each) instead.
    """
    gen = _generator(generator)
    order = _memory_order(t)
    if isinstance(p, Tensor):
        _float_only(p, "bernoulli_tensor_cpu_p_")
        probs = p.expand(*t._shape)._values().tolist()
        if order is not None:
            probs = [probs[i] for i in order]
        draws = gen.bernoulli_tensor(probs, double=p.dtype is float64)
    else:
        draws = gen.fill_bernoulli(new_buffer(t.dtype, t.numel()), p)
    return _write_visited(t, draws, order)


class Bernoulli(Function):
    """y = 0/1 draws, 1 with probability p (x itself, or a number p for every element of x's
    shape);  torch treats the draw as a constant: dx = 0."""

    @staticmethod
    def forward(ctx, x, p, generator):
        out = zeros_for(x._shape, x.dtype)
        return bernoulli_(out, x if p is None else p, generator)

    @staticmethod
    def backward(ctx, grad):
        return zeros_for(grad._shape, grad.dtype), None, None


def bernoulli(input: Tensor, p: float | None = None, *, generator: _random.Generator | None = None) -> Tensor:
    """A tensor of input's shape and dtype of 0/1 draws: 1 with probability ``input[i]``, or
    with probability ``p`` for every element when p is given."""
    if p is None:
        _float_only(input, "bernoulli_tensor_cpu_p_")
    return Bernoulli.apply(input, p, generator)


# -- exponential, random_ ------------------------------------------------------------------------


def exponential_(t: Tensor, lambd: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with ``-log(1 - u) / lambd`` draws (computed as ``(-1/lambd) * log1p(-u)``
    in double from a 53-bit uniform u, as torch's CPU kernel)."""
    if not t.dtype.is_floating_point:
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a floating point "
            f"but you specified {scalar_type_name(t.dtype)}"
        )
    draws = _generator(generator).exponential(t.numel(), lambd, double=t.dtype is float64)
    return _write_visited(t, draws, _memory_order(t))


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with Cauchy draws ``median + sigma * tan(pi * (u - 1/2))``."""
    if not t.dtype.is_floating_point:
        raise RuntimeError(
            "Cauchy distribution is a continuous probability distribution. dtype must be a floating point but "
            f"you specified {'bool' if t.dtype is bool_ else 'long int'}"
        )
    draws = _generator(generator).cauchy(t.numel(), median, sigma, double=t.dtype is float64)
    return _write_visited(t, draws, _memory_order(t))


def geometric_(t: Tensor, p: float, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with geometric draws: the number of Bernoulli(p) trials up to the first
    success, ``ceil(log(u) / log(1 - p))``."""
    if t.dtype is bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    draws = _generator(generator).geometric(t.numel(), p)
    if not t.dtype.is_floating_point:
        draws = [int(v) for v in draws]
    return _write_visited(t, draws, _memory_order(t))


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, generator: _random.Generator | None = None) -> Tensor:
    """Fill t in place with ``exp(N(mean, std))`` draws (torch's serial normal path, any size)."""
    _float_only(t, "log_normal_cpu")
    draws = _generator(generator).log_normal(t.numel(), mean, std, double=t.dtype is float64)
    return _write_visited(t, draws, _memory_order(t))


def _update_from(value: int, digits: int) -> int:
    """torch's ``update_from``: raise ``from`` to a value the float dtype holds exactly."""
    from_plus_1 = int(_as_float(value + 1, digits))
    if from_plus_1 < value:
        n = abs(value + 1).bit_length() - 1
        value = from_plus_1 + (1 << (n - digits + 1))
    return value


def _update_to(value: int, digits: int) -> int:
    """torch's ``update_to``: lower ``to`` to a value the float dtype holds exactly."""
    to_minus_1 = int(_as_float(value - 1, digits))
    if to_minus_1 >= value:
        n = abs(value - 1).bit_length() - 1
        value = to_minus_1 - (1 << (n - digits + 1))
    return value


def _as_float(value: int, digits: int) -> float:
    """An integer rounded to the float dtype with ``digits`` mantissa bits (a C cast)."""
    return array("f", (float(value),))[0] if digits == 24 else float(value)


def _check_in_range(low: int, high_inclusive: int, dt: dtype) -> None:
    """torch's ``check_from_to_in_range``: errors outside the dtype, warnings beyond the
    integers a float dtype holds exactly."""
    word = _TYPE_WORD[dt.name]
    if dt.is_floating_point:
        biggest = 3.4028234663852886e38 if dt is float32 else 1.7976931348623157e308
        lowest, highest = -biggest, biggest
    else:
        lowest, highest = (0, 1) if dt is bool_ else (_INT64_MIN, _INT64_MAX)
    for value, name in ((low, "from"), (high_inclusive, "to - 1")):
        if not lowest <= value <= highest:
            raise RuntimeError(f"{name} is out of bounds for {word}")
    if dt.is_floating_point:
        digits = _DIGITS[dt.name]
        for value, name in ((low, "from"), (high_inclusive, "to - 1")):
            if not -(2**digits) <= value <= 2**digits:
                warnings.warn(
                    f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations {word} can "
                    "support discrete uniform distribution only within this range. This warning will become an "
                    "error in version 1.7 release, please fix the code in advance",
                    stacklevel=4,
                )


def random_(
    t: Tensor, low: int | None = None, high: int | None = None, generator: _random.Generator | None = None
) -> Tensor:
    """Fill t in place with integers: ``random_()`` over ``[0, 2**mantissa]`` (floats) or
    ``[0, 2**63 - 1]`` (int64); ``random_(low, high)`` over ``[low, high)``; ``random_(low, None)``
    over ``[low, largest value of the dtype]``. Draws as torch's ``random_`` kernels."""
    gen = _generator(generator)
    n = t.numel()
    dt = t.dtype
    wide = dt is not bool_  # int64, float32 and float64 take 64-bit draws for large ranges
    if low is None:
        draws = gen.random_bits(n, dt.name)
    elif high is not None:
        low, high = int(low), int(high)
        if not low < high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        if dt.is_floating_point:
            low, high = _update_from(low, _DIGITS[dt.name]), _update_to(high, _DIGITS[dt.name])
            if not low < high:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
                    f"from={low} >= to={high}"
                )
        _check_in_range(low, high - 1, dt)
        draws = gen.random_range(n, low, high - low, wide)
    elif int(low) != _INT64_MIN:
        low = int(low)
        if dt.is_floating_point:
            high_inclusive = 2 ** _DIGITS[dt.name]
            low = _update_from(low, _DIGITS[dt.name])
            if not low < high_inclusive:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted to dtype, "
                    f"but got from={low} > to_inc={high_inclusive}"
                )
        else:
            high_inclusive = 1 if dt is bool_ else _INT64_MAX
        _check_in_range(low, high_inclusive, dt)
        draws = gen.random_range(n, low, high_inclusive - low + 1, wide)
    else:
        if dt is bool_:
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16")
        draws = gen.random_range(n, _INT64_MIN, 2**64, wide)
    return _write_visited(t, draws, _memory_order(t))


def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    dtype: dtype | None = None,
    generator: _random.Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of input's shape (and dtype, unless given) of integers in ``[low, high)``;
    ``randint_like(input, high)`` means low = 0. Drawn as ``random_(low, high)``."""
    if high is None:
        low, high = 0, low
    out = random_(zeros_for(input._shape, dtype or input.dtype), low, high, generator)
    return out.requires_grad_() if requires_grad else out


# -- normal with tensor parameters ---------------------------------------------------------------


class Normal(Function):
    """y = mean + std * z with z standard normal draws (mean and std numbers or tensors);
    torch treats the draw as a constant: d mean = 0, d std = 0."""

    @staticmethod
    def forward(ctx, mean, std, generator):
        gen = _generator(generator)
        if isinstance(std, Tensor) and not all(v >= 0 for v in std._values()):  # (NaN fails too, as in torch)
            raise RuntimeError("normal expects all elements of std >= 0.0")
        like = mean if isinstance(mean, Tensor) else std
        _float_only(like, "normal_kernel_cpu")
        shape = broadcast_shapes(mean._shape, std._shape) if isinstance(std, Tensor) and like is mean else like._shape
        out = zeros_for(shape, like.dtype)
        if isinstance(std, Tensor):
            # torch: draw N(0, 1), then out.mul_(std).add_(mean)
            gen.fill_normal(out._storage.data, 0.0, 1.0)
            out = (out * std).to(out.dtype)
        else:
            # torch: draw N(0, std), then out.add_(mean)
            gen.fill_normal(out._storage.data, 0.0, std)
        return (out + mean).to(out.dtype)

    @staticmethod
    def backward(ctx, grad):
        return tuple(zeros_for(grad._shape, grad.dtype) if need else None for need in ctx.needs_input_grad)


def normal(
    mean: Tensor | float,
    std: Tensor | float = 1.0,
    size: Any = None,
    *,
    generator: _random.Generator | None = None,
    dtype: dtype | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``torch.normal``: draws with mean and std each a number or a tensor (shapes broadcast;
    the result takes the mean tensor's dtype, else the std tensor's), or, with two numbers,
    a new tensor of ``size``."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError(
                f"normal() received an invalid combination of arguments - got ({type(mean).__name__}, "
                f"{type(std).__name__}), but expected one of:\n"
                " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
                "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
                "bool pin_memory = False, bool requires_grad = False)\n"
            )
        from minigrad import _creation  # (imports this package's modules: bound on first use)

        out = _creation.empty(size, dtype=dtype)
        _creation.normal_(out, mean, std, generator)
        return out.requires_grad_() if requires_grad else out
    if not isinstance(std, Tensor):
        std = float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return Normal.apply(mean, std, generator)


# -- multinomial ---------------------------------------------------------------------------------


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator: _random.Generator | None = None
) -> Tensor:
    """``num_samples`` category indices drawn from each row of the (unnormalised) probabilities
    ``input`` (1-D, or 2-D: one distribution per row), as int64 of shape (num_samples,) or
    (rows, num_samples).

    As torch: without replacement, and for a single sample, ``argmax``/top-k of ``input / q``
    with q ~ Exp(1) drawn by ``exponential_`` (the Gumbel trick); with replacement, a binary
    search of 53-bit uniforms in the normalised running sums (``random.py``).
    """
    gen = _generator(generator)
    if not 1 <= input.dim() <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {scalar_type_name(input.dtype)}"
        )
    n_sample = int(num_samples)
    if n_sample <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input._shape[-1]
    if not replacement and n_sample > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if categories > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = input._shape[0] if input.dim() == 2 else 1
    out_shape = (rows, n_sample) if input.dim() == 2 else (n_sample,)
    if rows * n_sample == 0:
        return zeros_for(out_shape, int64)
    values = input._values().tolist()
    by_row = [values[r * categories : (r + 1) * categories] for r in range(rows)]
    if not replacement or n_sample == 1:
        if not all(0 <= v < float("inf") for v in values):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if any(not any(row) for row in by_row):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        picked = _gumbel_top_k(input, by_row, n_sample, gen)
    else:
        picked = gen.multinomial_with_replacement(by_row, n_sample, double=input.dtype is float64)
    return Tensor._make(array("q", [i for row in picked for i in row]), out_shape, int64)


def _gumbel_top_k(input: Tensor, by_row: list[list[float]], k: int, gen: _random.Generator) -> list[list[int]]:
    """torch's sampler without replacement: ``q = empty_like(input).exponential_(1)`` (filled in
    input's memory order when input is a dense permuted view, as empty_like keeps that layout),
    ``r = input / q`` in input's dtype, then ``argmax`` (k = 1: the first largest) or ``topk``
    of each row (with torch's order among equal ratios, e.g. of zero probabilities)."""
    from minigrad._functions.sorting import topk  # (sorting imports the tensor layer too)

    width = len(by_row[0])
    q = _random_values_like(input, lambda count: gen.exponential(count, 1.0, double=input.dtype is float64))
    flat = [v for row in by_row for v in row]
    ratios = Tensor._make(array(input.dtype.typecode, flat), (len(by_row), width), input.dtype) / Tensor._make(
        array(input.dtype.typecode, q), (len(by_row), width), input.dtype
    )
    if k == 1:
        rows = ratios._values().tolist()
        return [[row.index(max(row))] for row in (rows[r * width : (r + 1) * width] for r in range(len(by_row)))]
    return topk(ratios, k, 1).indices.tolist()


def _random_values_like(t: Tensor, draw) -> list[float]:
    """``draw(numel)`` values placed as torch fills ``empty_like(t)``: in t's memory order when
    t is a dense (gap-free) permutation of its storage, else row by row. Returns them row-major."""
    values = draw(t.numel())
    if t.is_contiguous():
        return values
    positions = K.strided_positions(t._shape, t._strides, t._offset)
    if max(positions) - min(positions) + 1 != len(positions):  # not dense: empty_like is contiguous
        return values
    return _to_row_major(values, _memory_order(t))
