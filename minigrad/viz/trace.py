"""Recording the backward pass node by node, and printing it as a table.

::

    with minigrad.viz.trace_backward(params={"x": x, "w": w}) as trace:
        loss.backward()
    print(trace)

While the ``with`` block runs, the engine calls the trace once per node it runs (through
``minigrad.autograd.engine.observers``), handing over the gradients that arrived at the node and
the ones it sent to its inputs. The table lists the nodes in the order the engine ran them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minigrad.autograd import engine
from minigrad.autograd.function import Node
from minigrad.viz.graph import Params, gradient_summary, leaf_names, node_title


@dataclass(frozen=True)
class Step:
    """One node run by the engine: gradients in (one per output), gradients out (one per input)."""

    node: Node
    grads_in: tuple
    grads_out: tuple


class BackwardTrace:
    """The steps of the backward passes run inside its ``with`` block, in order."""

    def __init__(self, params: Params = None) -> None:
        self.steps: list[Step] = []
        self._names = leaf_names(params)
        self._latest: dict[Node, Step] = {}  # each node's last step, for the lookups below

    def __enter__(self) -> BackwardTrace:
        engine.observers.append(self._record)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        engine.observers.remove(self._record)

    def _record(self, node: Node, grads_in: tuple, grads_out: tuple) -> None:
        step = Step(node, grads_in, grads_out)
        self.steps.append(step)
        self._latest[node] = step

    def gradient_into(self, consumer: Node, index: int) -> Any:
        """The gradient ``consumer`` sent back through its input ``index`` (last pass wins)."""
        step = self._latest.get(consumer)
        return step.grads_out[index] if step is not None and index < len(step.grads_out) else None

    def gradient_arrived(self, node: Node, output_nr: int) -> Any:
        """The gradient that arrived for output ``output_nr`` of ``node`` (last pass wins)."""
        step = self._latest.get(node)
        return step.grads_in[output_nr] if step is not None else None

    def table(self) -> str:
        """One block of rows per step: the node, what arrived, and what went to each input."""
        numbers = {id(step.node): i for i, step in enumerate(self.steps, 1)}
        rows = [("step", "node", "grad in (shape norm)", "grad out (shape norm)", "to")]
        for i, step in enumerate(self.steps, 1):
            arrived = "; ".join(gradient_summary(g) for g in step.grads_in)
            sent = [
                (gradient_summary(grad), self._target(edge[0], numbers))
                for edge, grad in zip(step.node.next_functions, step.grads_out)
                if edge is not None
            ] or [("", "")]
            rows.append((str(i), node_title(step.node, self._names), arrived, *sent[0]))
            rows.extend(("", "", "", *more) for more in sent[1:])
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        return "\n".join(lines)

    __str__ = table

    def _target(self, node: Node, numbers: dict[int, int]) -> str:
        title = node_title(node, self._names)
        return f"#{numbers[id(node)]} {title}" if id(node) in numbers else title


def trace_backward(params: Params = None) -> BackwardTrace:
    """A context manager recording every backward pass run inside it (see ``BackwardTrace``).

    ``params`` names the leaves in the table, as for ``to_dot``.
    """
    return BackwardTrace(params)
