"""The autograd graph as Graphviz DOT text (no dependency: DOT is plain text).

Arrows follow the forward pass, from the node that produced a tensor to the node that used it,
the way torchviz draws them; gradients flow against the arrows. Shapes of boxes:

* grey box: an op's backward node (``MulBackward``), with the shapes it saved for backward;
* blue box: a leaf (its ``AccumulateGrad`` node), with its name, shape and whether ``.grad``
  is set;
* green box: an output tensor you asked to draw.

With a ``trace`` from ``trace_backward``, each arrow is labelled with the gradient that flowed
back along it: its shape and 2-norm. A backward pass frees the saved tensors (unless
``retain_graph=True``); the picture then says so instead of listing them.
"""

from __future__ import annotations

from minigrad._tensor import Tensor
from minigrad.autograd.function import AccumulateGrad, Node, gradient_edge
from minigrad.viz.graph import (
    Outputs,
    Params,
    format_shape,
    leaf_names,
    named_outputs,
    norm,
    saved_summary,
    walk,
)
from minigrad.viz.trace import BackwardTrace

FUNCTION_STYLE = 'shape=box, style="rounded,filled", fillcolor="#eeeeee"'
LEAF_STYLE = 'shape=box, style=filled, fillcolor="#cfe2ff"'
OUTPUT_STYLE = 'shape=box, style=filled, fillcolor="#d1e7dd"'
FREED_NOTE = "backward freed the saved tensors (draw before backward, or use retain_graph=True, to see them)"


def to_dot(
    outputs: Outputs,
    params: Params = None,
    trace: BackwardTrace | None = None,
    show_saved: bool = True,
) -> str:
    """DOT text of the graph behind ``outputs`` (a tensor, a sequence, or a name -> tensor dict).

    ``params`` names the leaves: a dict or (name, tensor) pairs such as
    ``model.named_parameters()``. ``trace`` labels each edge with the gradient that flowed
    through it during the traced backward pass.
    """
    names = leaf_names(params)
    outputs = named_outputs(outputs)
    roots = [gradient_edge(t) for _, t in outputs]
    nodes, edges = walk([node for node, _ in roots])
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    lines = [
        "digraph autograd {",
        "  node [fontname=monospace, fontsize=11];",
        "  edge [fontname=monospace, fontsize=9];",
    ]
    for node in nodes:
        if isinstance(node, AccumulateGrad):
            lines.append(f"  {ids[node]} [label={_quote(_leaf_label(node, names))}, {LEAF_STYLE}];")
        else:
            lines.append(f"  {ids[node]} [label={_quote(_function_label(node, show_saved))}, {FUNCTION_STYLE}];")
    for i, (name, tensor) in enumerate(outputs):
        label = f"{name}\n{format_shape(tensor.shape)}"
        lines.append(f"  out{i} [label={_quote(label)}, {OUTPUT_STYLE}];")
    for edge in edges:
        grad = trace.gradient_into(edge.consumer, edge.index) if trace else None
        label = _edge_label(edge.producer, edge.output_nr, grad)
        lines.append(f"  {ids[edge.producer]} -> {ids[edge.consumer]}{_attributes(label)};")
    for i, (node, output_nr) in enumerate(roots):
        grad = trace.gradient_arrived(node, output_nr) if trace else None
        label = _edge_label(node, output_nr, grad)
        lines.append(f"  {ids[node]} -> out{i}{_attributes(label)};")
    if any(node._released for node in nodes):
        lines.append(f"  label={_quote(FREED_NOTE)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _function_label(node: Node, show_saved: bool) -> str:
    saved = saved_summary(node) if show_saved else None
    return node.name() if saved is None else f"{node.name()}\n{saved}"


def _leaf_label(node: AccumulateGrad, names: dict[int, str]) -> str:
    leaf = node.variable
    shape = format_shape(leaf.shape)
    if leaf.dtype.name != "float32":
        shape += f" {leaf.dtype.name}"
    grad = "None" if leaf.grad is None else format_shape(leaf.grad.shape)
    return f"{names.get(id(leaf), 'leaf')}\n{shape}\n.grad: {grad}"


def _edge_label(producer: Node, output_nr: int, grad: Tensor | None) -> str:
    """Which output of a multi-output node the edge starts from, and the gradient along it."""
    parts = []
    if len(producer._output_meta) > 1:
        parts.append(f"output {output_nr}")
    if grad is not None:
        parts.append(f"grad {format_shape(grad.shape)}\nnorm {norm(grad):.4g}")
    return "\n".join(parts)


def _attributes(label: str) -> str:
    return f" [label={_quote(label)}]" if label else ""


def _quote(text: str) -> str:
    """A DOT string literal; newlines become centred line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
