"""Looking at autograd: the graph behind a tensor as a picture, and the backward pass as a table.

* ``to_dot(outputs, params=None, trace=None)``: Graphviz DOT text (no dependency);
* ``render(outputs, "graph.svg")`` / ``to_svg(outputs)``: a picture, when Graphviz's ``dot`` is
  installed (``GraphvizNotFoundError`` otherwise);
* ``to_html(outputs, params=None, trace=None)`` / ``render(outputs, "graph.html")``: one
  self-contained interactive page (no Graphviz, no network) that replays a traced backward
  pass step by step; ``record_forward()`` lets it show each op's forward value too;
  ``python -m minigrad.viz SCRIPT.py --html out.html`` makes it for a script's last backward;
* ``trace_backward(params=None)``: a ``with`` block that records what every node of a backward
  pass received and sent; ``print(trace)`` shows it as a table, and ``to_dot(..., trace=trace)``
  writes the gradients on the picture's edges.
"""

from minigrad.viz.dot import to_dot
from minigrad.viz.forward import ForwardRecord, record_forward
from minigrad.viz.html import to_html, write_html
from minigrad.viz.render import GraphvizNotFoundError, render, run_dot, to_svg
from minigrad.viz.trace import BackwardTrace, Step, trace_backward

__all__ = [
    "BackwardTrace",
    "ForwardRecord",
    "GraphvizNotFoundError",
    "Step",
    "record_forward",
    "render",
    "run_dot",
    "to_dot",
    "to_html",
    "to_svg",
    "trace_backward",
    "write_html",
]
