# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""The backward engine: Kahn's algorithm over the graph of ``Node`` objects.

1. Walk the graph once from the roots (an explicit stack, never recursion) and count, for each
   node, how many edges point at it: its dependencies.
2. Keep the gradients that have arrived for each node in a dict local to this pass. A node is
   ready when every edge into it has delivered; then its ``backward`` runs once, on the sum of
   what arrived, and it delivers to its own inputs. Among the ready nodes the newest runs first
   (a heap keyed by sequence number, as in torch), so hooks fire in torch's order.

What happens to the gradients is the mode's: ``Accumulate`` (``backward()``: leaves add them into
``.grad``) or ``Capture`` (``autograd.grad``: they are returned, and only the nodes that lead to
the inputs run). Observers (``minigrad.viz``) see each node as it runs.

Each node runs once and each edge is followed once, so the time is linear in the size of the
graph (times the log of the number of nodes ready at once), and a chain of 100,000 ops needs no
deeper Python stack than a chain of two. Backward runs with grad mode off: the gradients it
computes have no history of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from sys import getrefcount
from typing import Any

from minigrad.autograd import anomaly, grad_mode
from minigrad.autograd.function import AccumulateGrad, Node, gradient_edge
from minigrad.autograd.protocol import TensorLike, is_tensor_like

observers: list[Callable[[Node, tuple, tuple], None]] = []
"""Functions called as ``observer(node, grads_in, grads_out)`` each time the engine runs a node.

``grads_in`` holds the gradient that arrived for each output of the node (after hooks),
``grads_out`` what the node sent along each of its ``next_functions`` (``()`` for a leaf's
``AccumulateGrad``), ``None`` where nothing flowed. ``minigrad.viz.trace_backward`` adds one for
the length of a ``with`` block. Empty by default, which costs one check per node.
"""


class Accumulate:
    """The mode of ``backward()``: every node runs, and leaves add what reaches them into ``.grad``."""

    prunes = False  # whether the mode skips nodes (start, keeps, runs): the loop asks only if so

    def keeps(self, node: Node) -> bool:
        """Whether the gradients arriving at ``node`` are used (hooks, capture, backward)."""
        return True

    def runs(self, node: Node) -> bool:
        """Whether ``node``'s backward runs."""
        return True

    def receive(self, node: Node, grads: list) -> None:
        """The gradients that reached ``node``, after its hooks."""
        if type(node) is AccumulateGrad and grads[0] is not None:
            unshared = _references(grads) == _UNSHARED  # (counted before grads[0] is fetched for the call)
            node.accumulate(grads[0], unshared)


class Capture(Accumulate):
    """The mode of ``autograd.grad``: the gradient arriving at each chosen edge is kept in
    ``grads``, no leaf is touched, and only the nodes with a path to a chosen edge run."""

    prunes = True

    def __init__(self, edges: list[tuple[Node, int]]) -> None:
        self.grads: dict[tuple[Node, int], TensorLike | None] = dict.fromkeys(edges)
        self.targets = {node for node, _ in edges}
        self.leading: set[Node] = set()

    def start(self, roots: list[Node], dependencies: dict[Node, int]) -> None:
        """Called once the graph is counted, before any node runs."""
        self.leading = _nodes_leading_to(self.targets, roots, dependencies)

    def keeps(self, node: Node) -> bool:
        return node in self.leading or node in self.targets

    def runs(self, node: Node) -> bool:
        return node in self.leading

    def receive(self, node: Node, grads: list) -> None:
        for output_nr, grad in enumerate(grads):
            if (node, output_nr) in self.grads:
                self.grads[node, output_nr] = grad


_ACCUMULATE = Accumulate()


def run_backward(
    roots: list[tuple[Node, int, TensorLike]], retain_graph: bool, mode: Accumulate | None = None
) -> None:
    """Backpropagate from roots, each ``(node, output_nr, gradient)``, in the given mode
    (``Accumulate()`` by default, or a ``Capture``).

    Kahn's algorithm: a node is ready when every edge into it has delivered; among the ready
    nodes the newest runs first. A ready node's gradients pass its tensor hooks, go to the mode,
    then (if the mode runs it) through its backward, and on along its edges.
    """
    mode = mode or _ACCUMULATE
    prunes, receive = mode.prunes, mode.receive
    buffers: dict[Node, list] = {}  # node -> the gradient arrived so far for each of its outputs
    for node, output_nr, grad in roots:
        _deliver(buffers, node, output_nr, grad)
    root_nodes = list(buffers)
    dependencies = _count_dependencies(root_nodes)
    if prunes:
        mode.start(root_nodes, dependencies)
    call_backward = _call_backward_detecting_anomaly if anomaly.state.enabled else _call_backward
    ready = [(-node._sequence_nr, node) for node in root_nodes if node not in dependencies]
    heapify(ready)  # the newest ready node first

    enabled = grad_mode.state.enabled
    grad_mode.state.enabled = False
    try:
        while ready:
            node = heappop(ready)[1]
            grads = buffers.pop(node, None)  # None: no gradient reached this node
            if prunes and grads is not None and not mode.keeps(node):
                grads = None
            if grads is not None:
                if node._pre_hooks or node._retained:
                    _run_tensor_hooks(node, grads)
                receive(node, grads)
            edges = node.next_functions  # () for a leaf's AccumulateGrad
            if grads is None or not edges or (prunes and not mode.runs(node)):
                input_grads = (None,) * len(edges)
            else:
                input_grads = call_backward(node, grads)
                if not retain_graph:
                    node._release()
            if observers:
                _notify(node, grads, input_grads)
            for edge, grad in zip(edges, input_grads):
                if edge is None:
                    continue
                child, output_nr = edge
                if grad is not None:
                    _deliver(buffers, child, output_nr, grad)
                waiting = dependencies[child] - 1
                dependencies[child] = waiting
                if waiting == 0:
                    heappush(ready, (-child._sequence_nr, child))
            input_grads = grad = None  # the gradients sent are held only where they were delivered
    finally:
        grad_mode.state.enabled = enabled


# -- the steps of the loop ---------------------------------------------------------------------


def _count_dependencies(roots: list[Node]) -> dict[Node, int]:
    """For every node reachable from roots, the number of edges pointing at it."""
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


def _nodes_leading_to(targets: set[Node], roots: list[Node], dependencies: dict[Node, int]) -> set[Node]:
    """The nodes with a path to one of ``targets``: the only ones ``autograd.grad`` runs."""
    remaining = dict(dependencies)
    order = []
    stack = [node for node in roots if node not in remaining]
    while stack:  # Kahn's algorithm again, to get a topological order
        node = stack.pop()
        order.append(node)
        for edge in node.next_functions:
            if edge is not None:
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    stack.append(edge[0])
    leading: set[Node] = set()
    for node in reversed(order):  # every node after the nodes it points at
        for edge in node.next_functions:
            if edge is not None and (edge[0] in targets or edge[0] in leading):
                leading.add(node)
                break
    return leading


def _deliver(buffers: dict, node: Node, output_nr: int, grad: TensorLike) -> None:
    """Add ``grad`` to what has arrived for output ``output_nr`` of ``node``."""
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * len(node._output_meta)
    previous = slots[output_nr]
    slots[output_nr] = grad if previous is None else previous + grad


def _references(slots: list) -> int:
    """The reference count of the gradient in ``slots[0]``."""
    return getrefcount(slots[0])


_UNSHARED = _references([object()])
"""``_references`` of a gradient held only by the engine's list of what arrived at a node: then a
leaf may take it over as its ``.grad`` (``AccumulateGrad.accumulate``). Measured, not written
down: the count includes the measuring code's own reference, which differs between this module
compiled and interpreted. Any other holder (a hook, another edge the same tensor was sent along,
the caller's gradient passed to ``backward``, an observer that kept what the sender sent) makes it
higher. Tensors sharing its storage do not count, as in torch (whose test is the same: no other
reference to the tensor)."""


def _run_tensor_hooks(node: Node, grads: list) -> None:
    """Hooks registered on the node's output tensors, in registration order, may replace their
    gradients; then tensors that called ``retain_grad()`` keep the final value in ``.grad``."""
    if node._pre_hooks:
        for output_nr, hooks in node._pre_hooks.items():
            for hook in tuple(hooks):
                if grads[output_nr] is not None:
                    result = hook(grads[output_nr])
                    if result is not None:
                        grads[output_nr] = result
    if node._retained:
        for output_nr, ref in node._retained.items():
            tensor, grad = ref(), grads[output_nr]
            # (an in-place op since retain_grad() gave the tensor a newer node: that one keeps it)
            if tensor is not None and grad is not None and tensor.grad_fn is node:
                tensor.grad = grad.clone() if tensor.grad is None else tensor.grad + grad


def _call_backward(node: Node, grads: list) -> tuple:
    """Run the node's Function.backward and fit what it returns to its inputs.

    A gradient returned in a broadcast shape is summed back to the input's shape; one of another
    dtype is cast to the input's dtype.
    """
    if len(grads) > 1 and node.materialize_grads and any(g is None for g in grads):
        present = next(g for g in grads if g is not None)
        grads = [
            present._new_full(*meta, 0) if g is None and meta is not None else g
            for g, meta in zip(grads, node._output_meta)
        ]
    result = node._function.backward(node, *grads)
    if not isinstance(result, tuple):
        result = (result,)
    edges = node.next_functions
    if len(result) != len(edges):
        if len(result) < len(edges) or any(r is not None for r in result[len(edges) :]):
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients "
                f"(expected {len(edges)}, got {len(result)})"
            )
    fitted = [None] * len(edges)
    input_meta = node._input_meta
    for i in range(len(edges)):
        grad = result[i]
        if edges[i] is None or grad is None:
            continue
        if not hasattr(grad, "_sum_to_shape"):  # protocol.is_tensor_like, inlined: once per gradient
            raise TypeError(
                f"function {node.name()} returned a gradient that is not a Tensor at index {i} "
                f"(got {type(grad).__name__})"
            )
        shape, dtype = input_meta[i]
        if grad._shape != shape:
            grad = grad._sum_to_shape(shape, node.name(), i)
        if grad.dtype is not dtype:
            grad = grad.to(dtype)
        fitted[i] = grad
    return tuple(fitted)


def _call_backward_detecting_anomaly(node: Node, grads: list) -> tuple:
    """``_call_backward`` that stops at NaN gradients and names where the failing node was made."""
    where = f"\nThe node was created at:\n{node._trace}" if node._trace else ""
    try:
        result = _call_backward(node, grads)
    except RuntimeError as error:
        raise RuntimeError(f"{error}\nThe error was raised in the backward of {node.name()}.{where}") from error
    for i, g in enumerate(result):
        if anomaly.state.check_nan and g is not None and any(v != v for v in g._values()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{where}")
    return result


def _notify(node: Node, grads_in: list | None, grads_out: tuple) -> None:
    arrived = tuple(grads_in) if grads_in is not None else (None,) * len(node._output_meta)
    for observer in tuple(observers):
        observer(node, arrived, grads_out)


def _root_gradient(tensor: TensorLike, gradient: Any, index: int, name: str) -> TensorLike:
    """The gradient a backward pass starts from: ``gradient``, or 1 for a scalar output."""
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if not tensor.dtype.is_floating_point:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {tensor.dtype}")
        return tensor._new_full(tensor._shape, tensor.dtype, 1)
    if not is_tensor_like(gradient):
        raise TypeError(f"{name} must be a Tensor or None, but got {type(gradient).__name__}")
    if gradient._shape != tensor._shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{index}] has a shape of {gradient.shape} and output[{index}] "
            f"has a shape of {tensor.shape}."
        )
    return gradient.detach()


def _roots(tensors: tuple, gradients: tuple, name: str) -> list[tuple[Node, int, TensorLike]]:
    if not gradients:
        gradients = (None,) * len(tensors)
    if len(gradients) != len(tensors):
        raise RuntimeError(f"{name} has {len(gradients)} elements but tensors has {len(tensors)}")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, gradients)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        node, output_nr = gradient_edge(t)
        roots.append((node, output_nr, _root_gradient(t, g, i, name)))
    return roots


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (torch.autograd.backward).

    ``grad_tensors`` are the gradients to start from (needed for non-scalar tensors: the result
    is then the vector-Jacobian product). The graph's saved tensors are freed unless
    ``retain_graph=True``.
    """
    roots = _roots(_as_tuple(tensors), _as_tuple(grad_tensors), "grad_tensors")
    run_backward(roots, retain_graph=bool(retain_graph))


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of outputs with respect to inputs, returned instead of accumulated.

    An input the outputs do not depend on raises, unless ``allow_unused`` (its gradient is then
    None) or ``materialize_grads`` (zeros).
    """
    if create_graph:
        raise NotImplementedError("minigrad does not build graphs of the backward pass (create_graph=True)")
    inputs = _as_tuple(inputs)
    roots = _roots(_as_tuple(outputs), _as_tuple(grad_outputs), "grad_outputs")
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    edges = [gradient_edge(x) for x in inputs]
    capture = Capture(edges)
    run_backward(roots, retain_graph=bool(retain_graph), mode=capture)
    result = []
    for index, (x, edge) in enumerate(zip(inputs, edges)):
        g = capture.grads[edge]
        if g is None and materialize_grads:
            g = x._new_full(x._shape, x.dtype, 0)
        elif g is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {index} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        result.append(g)
    return tuple(result)
