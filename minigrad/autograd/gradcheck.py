"""``gradcheck``: compare backward's gradients with central finite differences.

For each input x (float64, requires_grad) and each element x_j, the numeric derivative of
every output element y_i is  (y_i(x_j + eps) - y_i(x_j - eps)) / (2 eps);  the analytic one
comes from backward with a one-hot gradient on y_i. They must agree within
``atol + rtol * |numeric|``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigrad.autograd.engine import grad
from minigrad.autograd.grad_mode import no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck: names the function, the input, the element and both values."""


def _outputs(fn: Callable, inputs: Sequence) -> list:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _numeric_column(fn: Callable, inputs: Sequence, x: Any, j: int, eps: float) -> list[list[float]]:
    """d outputs / d x.flat[j] by central differences (x must be contiguous)."""
    data = x._storage.data
    p = x._offset + j
    original = data[p]
    with no_grad():
        data[p] = original + eps
        plus = [o.detach()._flat_values() for o in _outputs(fn, inputs)]
        data[p] = original - eps
        minus = [o.detach()._flat_values() for o in _outputs(fn, inputs)]
    data[p] = original
    return [[(a - b) / (2 * eps) for a, b in zip(ps, ms)] for ps, ms in zip(plus, minus)]


def gradcheck(
    func: Callable,
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when analytic and numeric gradients of ``func`` at ``inputs`` agree."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    if not wrt:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True."
        )
    for i in wrt:
        x = inputs[i]
        if x.dtype.name != "float64":
            raise ValueError(f"gradcheck: input {i} is {x.dtype}; use float64 inputs for reliable finite differences")
        if not x.is_contiguous() or x._offset:
            raise ValueError(f"gradcheck: input {i} must be contiguous")
    name = getattr(func, "__name__", repr(func))
    outputs = _outputs(func, inputs)
    for out_index, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        n_out = out.numel()
        analytic = {i: [] for i in wrt}  # analytic[i][k] = flat gradient of out.flat[k] wrt input i
        for k in range(n_out):
            one_hot = out.detach().clone().zero_()
            one_hot._storage.data[k] = 1
            grads = grad([out], [inputs[i] for i in wrt], [one_hot], retain_graph=True, allow_unused=True)
            for i, g in zip(wrt, grads):
                analytic[i].append(g._flat_values() if g is not None else [0.0] * inputs[i].numel())
        for i in wrt:
            x = inputs[i]
            for j in range(x.numel()):
                numeric = _numeric_column(func, inputs, x, j, eps)[out_index]
                for k in range(n_out):
                    a, n = analytic[i][k][j], numeric[k]
                    if abs(a - n) > atol + rtol * abs(n):
                        message = (
                            f"Jacobian mismatch for {name}: output {out_index}, element {k}, with respect to "
                            f"input {i}, element {j}: analytic {a!r} vs numeric {n!r} "
                            f"(difference {abs(a - n):.3g}, allowed {atol + rtol * abs(n):.3g})"
                        )
                        if raise_exception:
                            raise GradcheckError(message)
                        return False
    return True
