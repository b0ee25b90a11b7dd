"""Pictures of the autograd graph: DOT text handed to Graphviz's ``dot`` program, or (for
``.html``) minigrad's own interactive page, which needs no Graphviz."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from minigrad.viz.dot import to_dot
from minigrad.viz.graph import Outputs
from minigrad.viz.html import write_html


class GraphvizNotFoundError(RuntimeError):
    """Raised when a picture is asked for but Graphviz's ``dot`` program is not installed."""


def run_dot(dot_text: str, format: str) -> bytes:
    """``dot -T<format>`` on ``dot_text``: the picture's bytes (svg, png, pdf, ...)."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFoundError(
            f"Graphviz's `dot` program is not on PATH, so minigrad.viz cannot make a {format} picture. "
            "Install Graphviz (for example `apt-get install graphviz` or `brew install graphviz`), "
            "or take the DOT text from minigrad.viz.to_dot(...) and render it elsewhere."
        )
    result = subprocess.run([program, f"-T{format}"], input=dot_text.encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"dot -T{format} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def to_svg(outputs: Outputs, **options: Any) -> str:
    """The graph as SVG text (e.g. for ``IPython.display.SVG``); options as for ``to_dot``."""
    return run_dot(to_dot(outputs, **options), "svg").decode()


def render(outputs: Outputs, path: str | Path, format: str | None = None, **options: Any) -> Path:
    """Draw the graph into ``path``; the format comes from its suffix unless given.

    ``html`` writes ``to_html``'s interactive page (options ``params``, ``trace``, ``forward``,
    ``title``); any other format is Graphviz's, with the options of ``to_dot`` (``params``,
    ``trace``, ``show_saved``).
    """
    path = Path(path)
    format = format or path.suffix.lstrip(".")
    if not format:
        raise ValueError(f"cannot tell the picture format of {str(path)!r}: give it a suffix such as .svg or .png")
    if format.lower() in ("html", "htm"):
        return write_html(outputs, path, **options)
    path.write_bytes(run_dot(to_dot(outputs, **options), format))
    return path
