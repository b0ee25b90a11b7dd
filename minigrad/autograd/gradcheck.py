"""``gradcheck``: compare backward's gradients with central finite differences.

For each input x (float64, requires_grad) and each element x_j, the numeric derivative of
every output element y_k is  (y_k(x_j + eps) - y_k(x_j - eps)) / (2 eps);  the analytic one
comes from backward with a one-hot gradient on y_k. They must agree within
``atol + rtol * |numeric|``. A mismatch is reported with the output's ``grad_fn`` (the op to
blame), the input, the element and both values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigrad.autograd.engine import grad
from minigrad.autograd.grad_mode import no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck: names the op, the input, the element and both values."""


def _outputs(fn: Callable, inputs: Sequence) -> list:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _unravel(flat: int, shape: tuple) -> tuple[int, ...]:
    """The multi-index of element ``flat`` of a row-major tensor of ``shape``."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))


def _analytic_jacobian(out: Any, inputs: list) -> list[list[list[float]]]:
    """``J[i][k][j]`` = d out.flat[k] / d inputs[i].flat[j], one backward pass per k."""
    jacobian: list[list[list[float]]] = [[] for _ in inputs]
    for k in range(out.numel()):
        one_hot = out.detach().clone().zero_()
        one_hot._storage.data[k] = 1
        grads = grad([out], inputs, [one_hot], retain_graph=True, allow_unused=True)
        for i, (x, g) in enumerate(zip(inputs, grads)):
            jacobian[i].append(g._flat_values() if g is not None else [0.0] * x.numel())
    return jacobian


def _numeric_column(fn: Callable, inputs: Sequence, x: Any, j: int, eps: float) -> list[list[float]]:
    """d outputs / d x.flat[j] by central differences, for every output (x must be contiguous)."""
    data = x._storage.data
    original = data[j]
    with no_grad():
        data[j] = original + eps
        plus = [o._flat_values() for o in _outputs(fn, inputs)]
        data[j] = original - eps
        minus = [o._flat_values() for o in _outputs(fn, inputs)]
    data[j] = original
    return [[(a - b) / (2 * eps) for a, b in zip(ps, ms)] for ps, ms in zip(plus, minus)]


def gradcheck(
    func: Callable,
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when analytic and numeric gradients of ``func`` at ``inputs`` agree.

    Otherwise raises ``GradcheckError`` (or returns False with ``raise_exception=False``).
    """
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
        if not x.is_contiguous() or x._offset or len(x._storage.data) != x.numel():
            raise ValueError(f"gradcheck: input {i} must be contiguous and own its storage (use .clone())")
    outputs = _outputs(func, inputs)
    checked = [(n, out) for n, out in enumerate(outputs) if getattr(out, "requires_grad", False)]
    jacobians = {n: _analytic_jacobian(out, [inputs[i] for i in wrt]) for n, out in checked}
    for position, i in enumerate(wrt):
        x = inputs[i]
        for j in range(x.numel()):
            numeric_columns = _numeric_column(func, inputs, x, j, eps)
            for n, out in checked:
                for k, numeric in enumerate(numeric_columns[n]):
                    analytic = jacobians[n][position][k][j]
                    allowed = atol + rtol * abs(numeric)
                    if not abs(analytic - numeric) <= allowed:
                        if not raise_exception:
                            return False
                        op = out.grad_fn.name() if out.grad_fn is not None else "AccumulateGrad"
                        raise GradcheckError(
                            f"Jacobian mismatch for {op} (output {n}): d output[{k}] / d input {i}[{j}] "
                            f"(element {list(_unravel(j, x._shape))} of input {i}) is analytic {analytic!r} "
                            f"but numeric {numeric!r} (difference {abs(analytic - numeric):.3g}, "
                            f"allowed {allowed:.3g})"
                        )
    return True
