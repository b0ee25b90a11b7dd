"""The backward engine: Kahn's algorithm over the graph of ``Node`` objects.

1. Walk the graph once from the roots (an explicit stack, never recursion) and count, for each
   node, how many edges point at it: its dependencies.
2. Keep the gradients that have arrived for each node in a dict local to this pass. A node is
   ready when every edge into it has delivered; then its ``backward`` runs once, on the sum of
   what arrived, and it delivers to its own inputs.

Each node runs once and each edge is followed once, so the time is linear in the size of the
graph, and a chain of 100,000 ops needs no deeper Python stack than a chain of two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.autograd import anomaly
from minigrad.autograd.function import AccumulateGrad, Node, gradient_edge

observers: list[Callable[[Node, tuple, tuple], None]] = []
"""Functions called as ``observer(node, grads_in, grads_out)`` each time the engine runs a node.

``grads_in`` holds the gradient that arrived for each output of the node (after hooks),
``grads_out`` what the node sent along each of its ``next_functions`` (``()`` for a leaf's
``AccumulateGrad``), ``None`` where nothing flowed. ``minigrad.viz.trace_backward`` adds one for
the length of a ``with`` block. Empty by default, which costs one check per node.
"""


def _count_dependencies(roots: list[Node]) -> dict[Node, int]:
    dependencies: dict[Node, int] = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for edge in node.next_functions:
            if edge is None:
                continue
            child = edge[0]
            dependencies[child] = dependencies.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return dependencies


def _deliver(buffers: dict, node: Node, output_nr: int, grad: Any) -> None:
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * max(len(node._output_meta), 1)
    previous = slots[output_nr]
    slots[output_nr] = grad if previous is None else previous + grad


def _run_pre_hooks(node: Node, grads: list) -> None:
    for output_nr, hooks in node._pre_hooks.items():
        for hook in hooks:
            if grads[output_nr] is None:
                continue
            result = hook(grads[output_nr])
            if result is not None:
                grads[output_nr] = result


def _call_backward(node: Node, grads: list) -> tuple:
    """Run the node's Function.backward and check what it returns against its inputs."""
    from minigrad.tensor import Tensor, zeros_for

    if node.materialize_grads:
        grads = [g if g is not None else zeros_for(*meta) for g, meta in zip(grads, node._output_meta)]
    result = node._function.backward(node, *grads)
    if not isinstance(result, tuple):
        result = (result,)
    edges = node.next_functions
    if len(result) < len(edges) or (len(result) > len(edges) and any(r is not None for r in result[len(edges) :])):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(edges)}, got {len(result)})"
        )
    checked = []
    for i, (grad, edge) in enumerate(zip(result, edges)):
        if edge is None or grad is None:
            checked.append(None)
            continue
        if not isinstance(grad, Tensor):
            raise TypeError(f"function {node.name()} returned a gradient that is not a Tensor at index {i}")
        shape, dtype = node._input_meta[i]
        if grad._shape != shape:
            grad = grad._sum_to_shape(shape, node.name(), i)
        if grad.dtype is not dtype:
            grad = grad.to(dtype)
        checked.append(grad)
    return tuple(checked)


def _check_nan(node: Node, grads: tuple) -> None:
    for i, g in enumerate(grads):
        if g is not None and g.dtype.is_floating_point and any(v != v for v in g._flat_values()):
            where = f"\nThe node was created at:\n{node._trace}" if node._trace else ""
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{where}")


def _notify(node: Node, grads_in: list | None, grads_out: tuple) -> None:
    arrived = tuple(grads_in) if grads_in is not None else (None,) * len(node._output_meta)
    for observer in tuple(observers):
        observer(node, arrived, grads_out)


def run_backward(
    roots: list[tuple[Node, int, Any]],
    retain_graph: bool,
    capture: dict[tuple[Node, int], Any] | None = None,
) -> None:
    """Backpropagate from roots, each ``(node, output_nr, gradient)``.

    Without ``capture`` gradients accumulate into the leaves' ``.grad``. With ``capture`` (used
    by ``autograd.grad``) the gradient arriving at each captured edge is stored in the dict
    instead, and no leaf is touched.
    """
    root_nodes = []
    buffers: dict[Node, list] = {}
    for node, output_nr, grad in roots:
        _deliver(buffers, node, output_nr, grad)
        if node not in root_nodes:
            root_nodes.append(node)
    dependencies = _count_dependencies(root_nodes)
    ready = [n for n in reversed(root_nodes) if dependencies.get(n, 0) == 0]
    check_nan = anomaly.state.enabled
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None)
        if grads is not None and node._pre_hooks:
            _run_pre_hooks(node, grads)
        if capture is not None and grads is not None:
            for output_nr, g in enumerate(grads):
                if (node, output_nr) in capture and g is not None:
                    capture[(node, output_nr)] = g
        if isinstance(node, AccumulateGrad):
            if capture is None and grads is not None and grads[0] is not None:
                node.accumulate(grads[0])
            if observers:
                _notify(node, grads, ())
            continue
        if grads is None or all(g is None for g in grads):
            input_grads = (None,) * len(node.next_functions)
        else:
            input_grads = _call_backward(node, grads)
            if check_nan:
                _check_nan(node, input_grads)
        if observers:
            _notify(node, grads, input_grads)
        if not retain_graph:
            node._release()
        for edge, grad in zip(node.next_functions, input_grads):
            if edge is None:
                continue
            child, output_nr = edge
            if grad is not None:
                _deliver(buffers, child, output_nr, grad)
            dependencies[child] -= 1
            if dependencies[child] == 0:
                ready.append(child)


def _root_gradient(tensor: Any, gradient: Any, name: str) -> Any:
    from minigrad.tensor import Tensor, ones_like

    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if not tensor.dtype.is_floating_point:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {tensor.dtype}")
        return ones_like(tensor)
    if not isinstance(gradient, Tensor):
        raise TypeError(f"{name} must be a Tensor or None, but got {type(gradient).__name__}")
    if gradient._shape != tensor._shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and output[0] "
            f"has a shape of {tensor.shape}."
        )
    return gradient


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (torch.autograd.backward)."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"grad_tensors has {len(grads)} elements but tensors has {len(tensors)}")
    roots = []
    for t, g in zip(tensors, grads):
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        node, output_nr = gradient_edge(t)
        roots.append((node, output_nr, _root_gradient(t, g, "grad_tensors")))
    run_backward(roots, retain_graph=bool(retain_graph))


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """The gradients of outputs with respect to inputs, returned instead of accumulated."""
    if create_graph:
        raise NotImplementedError("minigrad does not build graphs of the backward pass (create_graph=True)")
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    roots = []
    for t, g in zip(outputs, grads):
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        node, output_nr = gradient_edge(t)
        roots.append((node, output_nr, _root_gradient(t, g, "grad_outputs")))
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not require grad")
    edges = [gradient_edge(x) for x in inputs]
    capture: dict = {edge: None for edge in edges}
    run_backward(roots, retain_graph=bool(retain_graph), capture=capture)
    result = tuple(capture[edge] for edge in edges)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (index {i}) appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior."
            )
    return result
