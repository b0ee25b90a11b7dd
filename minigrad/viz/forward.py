"""Recording what each op computed in the forward pass, for the HTML page's node details.

A node of the graph does not keep its output (that would be a reference cycle), so the page
cannot show it after the fact. Inside ``with record_forward() as forward:`` every op that joins
the graph has a summary of its outputs (shape, dtype, first elements, norm) stored against its
node; ``to_html(..., forward=forward)`` shows them. The summaries are held by weak reference to
the node, so recording keeps no graph alive; it does cost a pass over each output.

The record wraps ``minigrad.autograd.function._link``, the one place where every op's node and
outputs meet, for the length of the ``with`` block.
"""

from __future__ import annotations

import weakref
from typing import Any

from minigrad._tensor import Tensor
from minigrad.autograd import function
from minigrad.autograd.function import Node
from minigrad.viz.graph import tensor_summary


class ForwardRecord:
    """Summaries of the outputs of the nodes made inside its ``with`` block."""

    def __init__(self) -> None:
        self._outputs: weakref.WeakKeyDictionary[Node, list] = weakref.WeakKeyDictionary()
        self._link: Any = None

    def __enter__(self) -> ForwardRecord:
        self._link = function._link
        function._link = self._recording_link
        return self

    def __exit__(self, *exc_info: Any) -> None:
        function._link = self._link

    def _recording_link(self, ctx: Node, args: tuple, needs: tuple, outputs: Any) -> Any:
        result = self._link(ctx, args, needs, outputs)
        outs = result if isinstance(result, tuple) else (result,)
        self._outputs[ctx] = [tensor_summary(out) if isinstance(out, Tensor) else None for out in outs]
        return result

    def outputs(self, node: Node) -> list | None:
        """The summaries of ``node``'s outputs (``None`` for a node made outside the block)."""
        return self._outputs.get(node)


def record_forward() -> ForwardRecord:
    """A context manager recording a summary of every op's outputs (see ``ForwardRecord``)."""
    return ForwardRecord()
