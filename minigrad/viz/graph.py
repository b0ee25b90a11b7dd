"""Walking the autograd graph behind some tensors, and the words used to describe it.

The graph is made of ``Node`` objects: ``tensor.grad_fn`` is the node that made a tensor, and
``node.next_functions`` has one edge ``(producer, output_nr)`` per input of the op (``None`` for
inputs that need no gradient). Leaves that require grad end in an ``AccumulateGrad`` node whose
``.variable`` is the leaf tensor.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from minigrad._tensor import Tensor
from minigrad.autograd.function import AccumulateGrad, Node

Params = Union[Mapping[str, Tensor], Iterable[tuple[str, Tensor]], None]
Outputs = Union[Tensor, Sequence[Tensor], Mapping[str, Tensor]]


@dataclass(frozen=True)
class Edge:
    """Input ``index`` of ``consumer`` is output ``output_nr`` of ``producer``."""

    producer: Node
    output_nr: int
    consumer: Node
    index: int


def named_outputs(outputs: Outputs) -> list[tuple[str, Tensor]]:
    """``outputs`` as (name, tensor) pairs: one tensor, a sequence, or a name -> tensor mapping."""
    if isinstance(outputs, Tensor):
        pairs = [("output", outputs)]
    elif isinstance(outputs, Mapping):
        pairs = list(outputs.items())
    else:
        pairs = [(f"output {i}", t) for i, t in enumerate(outputs)]
    for name, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected minigrad Tensors to draw, but {name} is {type(t).__name__}")
        if not t.requires_grad:
            raise ValueError(f"{name} does not require grad, so there is no autograd graph behind it")
    return pairs


def leaf_names(params: Params) -> dict[int, str]:
    """``id(tensor) -> name`` from a dict or from pairs such as ``module.named_parameters()``."""
    if params is None:
        return {}
    pairs = params.items() if isinstance(params, Mapping) else params
    return {id(tensor): name for name, tensor in pairs}


def walk(roots: Sequence[Node]) -> tuple[list[Node], list[Edge]]:
    """Every node reachable from ``roots`` (breadth first, each once) and every edge between them."""
    order = list(dict.fromkeys(roots))
    seen = set(order)
    queue = deque(order)
    edges = []
    while queue:
        node = queue.popleft()
        for index, edge in enumerate(node.next_functions):
            if edge is None:
                continue
            producer, output_nr = edge
            edges.append(Edge(producer, output_nr, node, index))
            if producer not in seen:
                seen.add(producer)
                order.append(producer)
                queue.append(producer)
    return order, edges


def format_shape(shape: Iterable[int]) -> str:
    """A shape as a Python tuple: ``(2, 3)``, ``(3,)``, ``()``."""
    return str(tuple(shape))


def node_title(node: Node, names: Mapping[int, str]) -> str:
    """The node's class name, with the leaf's name for a named ``AccumulateGrad``."""
    if isinstance(node, AccumulateGrad) and id(node.variable) in names:
        return f"{node.name()} ({names[id(node.variable)]})"
    return node.name()


def saved_summary(node: Node) -> str | None:
    """What ``ctx.save_for_backward`` kept: shapes of tensors, numbers as they are.

    ``None`` when nothing is saved, which includes after a backward pass freed the tensors.
    """
    if not node._saved:
        return None
    parts = []
    for value, _version in node._saved:
        if isinstance(value, Tensor):
            parts.append(format_shape(value.shape))
        elif value is not None:
            parts.append(repr(value))
    return "saved: " + ", ".join(parts) if parts else None


def norm(grad: Tensor) -> float:
    """The 2-norm sqrt(sum g_i^2) of a gradient, in Python floats."""
    return sum(float(v) * float(v) for v in grad.detach().reshape(-1).tolist()) ** 0.5


def gradient_summary(grad: Any) -> str:
    """``(2, 3) 4.123``: a gradient's shape and its 2-norm (``-`` when none flowed)."""
    if grad is None:
        return "-"
    return f"{format_shape(grad.shape)} {norm(grad):.4g}"


FIRST_VALUES = 6  # elements of a tensor shown in summaries


def tensor_summary(t: Tensor) -> dict[str, Any]:
    """A tensor for the HTML page: shape, dtype, its first elements and (for floats) its 2-norm.

    Non-finite numbers become the strings ``"nan"``, ``"inf"``, ``"-inf"`` (JSON has none).
    """
    values = t._flat_values()
    summary = {
        "shape": list(t.shape),
        "dtype": t.dtype.name,
        "numel": len(values),
        "values": [_json_number(v) for v in values[:FIRST_VALUES]],
    }
    if t.dtype.is_floating_point:
        summary["norm"] = _json_number(sum(v * v for v in values) ** 0.5)
    return summary


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return value
