"""Looking at autograd: the graph behind a tensor as a picture, and the backward pass as a table.

* ``to_dot(outputs, params=None, trace=None)``: Graphviz DOT text (no dependency);
* ``render(outputs, "graph.svg")`` / ``to_svg(outputs)``: a picture, when Graphviz's ``dot`` is
  installed (``GraphvizNotFoundError`` otherwise);
* ``trace_backward(params=None)``: a ``with`` block that records what every node of a backward
  pass received and sent; ``print(trace)`` shows it as a table, and ``to_dot(..., trace=trace)``
  writes the gradients on the picture's edges.
"""

from minigrad.viz.dot import to_dot
from minigrad.viz.render import GraphvizNotFoundError, render, run_dot, to_svg
from minigrad.viz.trace import BackwardTrace, Step, trace_backward

__all__ = [
    "BackwardTrace",
    "GraphvizNotFoundError",
    "Step",
    "render",
    "run_dot",
    "to_dot",
    "to_svg",
    "trace_backward",
]
