"""The autograd graph as one self-contained HTML page: inline SVG, CSS and JavaScript.

The layout is computed here (``minigrad.viz.layout``) and the graph is written as SVG, so the
page shows the graph even with scripts off. ``page.js`` adds pan and zoom, the details of the
node you click, and, when the page has a trace, the replay of the backward pass step by step.

Arrows follow the forward pass as on the Graphviz pictures: leaves at the top, outputs at the
bottom; gradients flow upwards. The data the script needs is one JSON object:

* ``nodes``: for each node its kind (``op``, ``leaf`` or ``output``), title, docstring, saved
  tensors, forward value, ``next`` (one ``[node, output_nr]`` or ``null`` per input), the
  number of edges into it (the engine's dependency count) and its rank in creation order;
* ``edges``: ``[producer, consumer, input index, output_nr]``;
* ``steps``: the traced backward pass in the engine's order, each with the gradients that
  arrived at the node (``in``, one per output) and those it sent (``out``, one per input).

Tensors appear as summaries: shape, dtype, first elements and 2-norm.
"""

from __future__ import annotations

import html
import inspect
import json
from pathlib import Path
from typing import Any

from minigrad._tensor import Tensor
from minigrad.autograd.function import AccumulateGrad, Node, gradient_edge
from minigrad.viz.forward import ForwardRecord
from minigrad.viz.graph import (
    Edge,
    Outputs,
    Params,
    format_shape,
    leaf_names,
    named_outputs,
    node_title,
    tensor_summary,
    walk,
)
from minigrad.viz.layout import NODE_GAP, Box, layered_layout
from minigrad.viz.trace import BackwardTrace, Step

HERE = Path(__file__).resolve().parent
CHAR_WIDTH = 7.0  # of the 11px monospace font, to size the boxes
LINE_HEIGHT = 14.0
PADDING = 8.0
BADGE_CHARS = 18
TRACE_NODE_GAP = 56.0
FREED = "freed by backward (draw before backward, or use retain_graph=True, to see them)"


def to_html(
    outputs: Outputs,
    params: Params = None,
    trace: BackwardTrace | None = None,
    forward: ForwardRecord | None = None,
    title: str = "minigrad: the autograd graph",
) -> str:
    """A self-contained HTML page of the graph behind ``outputs`` (no network, no Graphviz).

    ``params`` names the leaves (a dict, or pairs such as ``model.named_parameters()``). With a
    ``trace`` from ``trace_backward`` the page replays its last backward pass step by step; with
    a ``forward`` record from ``record_forward`` each node shows the value it computed.
    """
    named = named_outputs(outputs)
    roots = [gradient_edge(t) for _, t in named]
    nodes, edges = walk([node for node, _ in roots])
    index = {node: i for i, node in enumerate(nodes)}
    data_nodes = _nodes_data(nodes, edges, index, leaf_names(params), forward)
    for (node, output_nr), (_, tensor) in zip(roots, named):  # the outputs' values are known
        value = data_nodes[index[node]].setdefault("value", [None] * len(node._output_meta))
        value[output_nr] = tensor_summary(tensor)
    for name, tensor in named:
        data_nodes.append({"kind": "output", "title": name, "lines": [name, format_shape(tensor.shape)]})
    data_edges = [[index[e.producer], index[e.consumer], e.index, e.output_nr] for e in edges]
    data_edges += [[index[node], len(nodes) + j, 0, output_nr] for j, (node, output_nr) in enumerate(roots)]

    badge = trace is not None  # a line in each box for its state during the replay
    sizes = [_box_size(node["lines"], badge and node["kind"] != "output") for node in data_nodes]
    gap = TRACE_NODE_GAP if trace is not None else NODE_GAP  # edge labels need the room
    layout = layered_layout(sizes, [(tail, head) for tail, head, _, _ in data_edges], gap)
    data = {
        "nodes": data_nodes,
        "edges": data_edges,
        "steps": _steps(trace, index) if trace is not None else None,
        "width": round(layout.width, 1),
        "height": round(layout.height, 1),
    }
    svg = _svg(data_nodes, data_edges, layout.boxes, layout.routes, layout.width, layout.height)
    return _page(title, svg, data)


def write_html(outputs: Outputs, path: str | Path, **options: Any) -> Path:
    """Write ``to_html(outputs, **options)`` into ``path``."""
    path = Path(path)
    path.write_text(to_html(outputs, **options), encoding="utf-8")
    return path


# -- the data ---------------------------------------------------------------------------------


def _nodes_data(
    nodes: list[Node], edges: list[Edge], index: dict[Node, int], names: dict[int, str], forward: ForwardRecord | None
) -> list[dict]:
    """What the page shows of each node, with its dependency count and rank in creation order."""
    data = [_node_data(node, index, names, forward) for node in nodes]
    for item in data:
        item["deps"] = 0
    for edge in edges:
        data[index[edge.producer]]["deps"] += 1
    for rank, i in enumerate(sorted(range(len(nodes)), key=lambda i: nodes[i]._sequence_nr)):
        # ranks, not the sequence numbers themselves, so that a page does not depend on what else
        # the process made before; the engine runs the ready node of highest rank first
        data[i]["seq"] = rank
    return data


def _node_data(node: Node, index: dict[Node, int], names: dict[int, str], forward: ForwardRecord | None) -> dict:
    shapes = ", ".join(format_shape(meta[0]) if meta else "-" for meta in node._output_meta)
    data: dict[str, Any] = {"title": node_title(node, names), "next": _next(node, index)}
    data["outputs"] = len(node._output_meta)
    if isinstance(node, AccumulateGrad):
        leaf = node.variable
        dtype = "" if leaf.dtype.name == "float32" else f" {leaf.dtype.name}"
        data.update(
            kind="leaf",
            lines=[names.get(id(leaf), "leaf"), shapes + dtype],
            doc=inspect.cleandoc(AccumulateGrad.__doc__ or ""),
            value=[tensor_summary(leaf)],
            grad=tensor_summary(leaf.grad) if leaf.grad is not None else None,
        )
        return data
    data.update(kind="op", lines=[node.name(), shapes], doc=_docstring(node))
    data["saved"] = FREED if node._released else [_saved(value) for value, _ in node._saved or ()]
    recorded = forward.outputs(node) if forward is not None else None
    if recorded is not None:
        data["value"] = recorded
    return data


def _next(node: Node, index: dict[Node, int]) -> list:
    return [None if edge is None else [index[edge[0]], edge[1]] for edge in node.next_functions]


def _docstring(node: Node) -> str:
    """The docstring of the Function whose backward the node runs (it states the derivative)."""
    doc = node._function.__doc__ if node._function is not None else None  # its own, not Function's
    return inspect.cleandoc(doc) if doc else f"{node.name()[: -len('Backward')]} has no docstring."


def _saved(value: Any) -> Any:
    """A saved value as the page shows it: a tensor's summary, else its repr."""
    return tensor_summary(value) if isinstance(value, Tensor) else {"repr": repr(value)}


def _steps(trace: BackwardTrace, index: dict[Node, int]) -> list[dict]:
    """The trace's last backward pass over the drawn nodes, in the engine's order."""
    steps = []
    for step in _last_pass(trace.steps):
        if step.node in index:
            steps.append(
                {
                    "node": index[step.node],
                    "in": [_grad(g) for g in step.grads_in],
                    "out": [_grad(g) for g in step.grads_out],
                }
            )
    return steps


def _last_pass(steps: list[Step]) -> list[Step]:
    """The steps after the last time a node ran twice: one pass runs each node once."""
    seen: set[Node] = set()
    for i in range(len(steps) - 1, -1, -1):
        if steps[i].node in seen:
            return steps[i + 1 :]
        seen.add(steps[i].node)
    return steps


def _grad(grad: Any) -> dict | None:
    return tensor_summary(grad) if grad is not None else None


# -- the SVG ----------------------------------------------------------------------------------


def _box_size(lines: list[str], badge: bool) -> tuple[float, float]:
    """Room for the lines, and for the replay's badge line ("waits for 2 (1 in)") if asked."""
    chars = max([len(line) for line in lines] + [BADGE_CHARS] * badge)
    return chars * CHAR_WIDTH + 2 * PADDING, (len(lines) + badge) * LINE_HEIGHT + PADDING


def _svg(nodes: list[dict], edges: list, boxes: list[Box], routes: list, width: float, height: float) -> str:
    parts = []
    fan_out, fan_in = [0] * len(nodes), [0] * len(nodes)
    for tail, head, _, _ in edges:
        fan_out[tail] += 1
        fan_in[head] += 1
    for e, ((tail, head, input_nr, output_nr), route) in enumerate(zip(edges, routes)):
        points = list(route)
        points[0] = (_port(boxes[tail], output_nr, nodes[tail].get("outputs", 1)), points[0][1])
        points[-1] = (_port(boxes[head], input_nr, len(nodes[head].get("next", ()))), points[-1][1])
        path = _path(points)
        if len(points) > 2:
            mid = points[len(points) // 2]
        else:  # away from where edges meet: near the tail of edges converging on a head, and so on
            where = 0.25 if fan_in[head] > 1 >= fan_out[tail] else 0.75 if fan_out[tail] > 1 >= fan_in[head] else 0.5
            mid = _on_curve(points[0], points[1], where)
        parts.append(
            f'<g class="edge" data-edge="{e}" data-from="{tail}" data-to="{head}">'
            f"<title>{html.escape(_edge_title(nodes, tail, head, input_nr))}</title>"
            f'<path d="{path}"/><text class="glabel" x="{mid[0] + 6:.1f}" y="{mid[1]:.1f}"></text></g>'
        )
    for i, (node, box) in enumerate(zip(nodes, boxes)):
        baseline = [box.top + PADDING / 2 + LINE_HEIGHT * (k + 0.8) for k in range(len(node["lines"]) + 1)]
        text = "".join(
            f'<text x="{box.x:.1f}" y="{y:.1f}">{html.escape(line)}</text>' for y, line in zip(baseline, node["lines"])
        )
        parts.append(
            f'<g class="node {node["kind"]}" data-node="{i}" tabindex="-1">'
            f'<rect x="{box.left:.1f}" y="{box.top:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="5"/>'
            f'{text}<text class="badge" x="{box.x:.1f}" y="{baseline[-1]:.1f}"></text></g>'
        )
    return (
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" data-width="{width:.1f}" data-height="{height:.1f}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'markerUnits="userSpaceOnUse" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        f'<g id="viewport">{"".join(parts)}</g></svg>'
    )


def _edge_title(nodes: list[dict], tail: int, head: int, input_nr: int) -> str:
    """The tooltip of an edge: where it goes (the page adds the gradient along it)."""
    into = f" (input {input_nr})" if len(nodes[head].get("next", ())) > 1 else ""
    return f"{nodes[tail]['title']} \u2192 {nodes[head]['title']}{into}"


def _port(box: Box, k: int, count: int) -> float:
    """Where the k-th of ``count`` edges meets the box's side: spread so parallel edges show."""
    return box.x if count <= 1 else box.left + box.width * (k + 1) / (count + 1)


def _on_curve(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    """The point at parameter t of the curve ``_path`` draws from a to b."""
    bend = (b[1] - a[1]) / 2
    ys = (a[1], a[1] + bend, b[1] - bend, b[1])
    xs = (a[0], a[0], b[0], b[0])
    weights = ((1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3)
    return sum(w * x for w, x in zip(weights, xs)), sum(w * y for w, y in zip(weights, ys))


def _path(points: list[tuple[float, float]]) -> str:
    """An SVG path through the points: vertical tangents at each, so long edges bend smoothly."""
    (x, y), rest = points[0], points[1:]
    d = [f"M{x:.1f},{y:.1f}"]
    for nx, ny in rest:
        bend = (ny - y) / 2
        d.append(f"C{x:.1f},{y + bend:.1f} {nx:.1f},{ny - bend:.1f} {nx:.1f},{ny:.1f}")
        x, y = nx, ny
    return " ".join(d)


def _page(title: str, svg: str, data: dict) -> str:
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    css = (HERE / "page.css").read_text(encoding="utf-8")
    script = (HERE / "page.js").read_text(encoding="utf-8")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
{css}</style>
</head>
<body>
<header>
  <h1>{html.escape(title)}</h1>
  <div id="controls" hidden>
    <button id="first" title="back to the start (Home)">|&#x25c0;</button>
    <button id="back" title="one step back (&#x2190;)">&#x25c0;</button>
    <button id="forward" title="one step forward (&#x2192; or space)">&#x25b6;</button>
    <button id="last" title="to the end (End)">&#x25b6;|</button>
    <span id="status"></span>
  </div>
  <div id="zoom">
    <button id="zoom-out" title="zoom out (-)">&#x2212;</button>
    <button id="zoom-in" title="zoom in (+)">+</button>
    <button id="fit" title="fit the graph in the window (0)">fit</button>
  </div>
</header>
<main>
{svg}
<aside id="panel"><p class="hint">Click a node to see its backward function, saved tensors and values.
Drag to pan, wheel to zoom.</p></aside>
</main>
<script type="application/json" id="graph-data">{payload}</script>
<script>
{script}</script>
</body>
</html>
"""
