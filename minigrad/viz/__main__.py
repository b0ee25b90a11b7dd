"""``python -m minigrad.viz SCRIPT.py --html out.html``: the page of a script's last backward pass.

The script runs unchanged (as ``__main__``, with the arguments given after ``--``). Every
``backward()`` it makes is traced, each time replacing the previous one, and every op records
its forward value; when the script ends, the page shows the graph of the last ``backward()``
with the replay of that pass. Leaves get the names they have in the script: a module stored in a
global names its parameters (``model.lstm.weight_ih_l0``), a leaf tensor in a global its own.

``--tensor NAME`` draws the global ``NAME`` of the script instead (the hook for a tensor that
was never backpropagated, or not last); the replay is kept when the last ``backward()`` was
started from that very tensor. ``--no-values`` skips recording forward values, which costs a
pass over every op's output.
"""

from __future__ import annotations

import argparse
import contextlib
import runpy
import sys
from pathlib import Path
from typing import Any

from minigrad import autograd
from minigrad._tensor import Tensor
from minigrad.autograd import engine
from minigrad.nn import Module
from minigrad.viz.forward import ForwardRecord, record_forward
from minigrad.viz.html import write_html
from minigrad.viz.trace import BackwardTrace


class LastBackward:
    """While active, traces every ``backward()`` call and keeps the last one's roots and trace."""

    def __init__(self) -> None:
        self.tensors: tuple = ()
        self.trace: BackwardTrace | None = None
        self._backward: Any = None

    def __enter__(self) -> LastBackward:
        self._backward = engine.backward
        engine.backward = autograd.backward = self._traced_backward
        return self

    def __exit__(self, *exc_info: Any) -> None:
        engine.backward = autograd.backward = self._backward

    def _traced_backward(self, tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None) -> None:
        trace = BackwardTrace()
        with trace:
            self._backward(tensors, grad_tensors, retain_graph)
        self.tensors = engine._as_tuple(tensors)
        self.trace = trace


def run_script(script: Path, args: list[str], values: bool = True) -> tuple[dict, LastBackward, ForwardRecord | None]:
    """Run ``script`` as ``__main__``: its globals at the end, its last backward, forward values."""
    argv, path = sys.argv, sys.path[:]
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))
    namespace: dict = {}
    try:
        with LastBackward() as last, record_forward() if values else contextlib.nullcontext() as forward:
            try:
                namespace = runpy.run_path(str(script), run_name="__main__")
            except SystemExit as stop:
                if stop.code not in (None, 0):
                    raise
    finally:
        sys.argv, sys.path[:] = argv, path
    return namespace, last, forward


def names_in(namespace: dict) -> dict[str, Tensor]:
    """Leaf names from a script's globals: modules' parameters, then leaf tensors themselves
    (each tensor under the first name found)."""
    pairs = []
    for name, value in namespace.items():
        if isinstance(value, Module) and not name.startswith("_"):
            pairs += [(f"{name}.{parameter_name}", p) for parameter_name, p in value.named_parameters()]
    for name, value in namespace.items():
        if isinstance(value, Tensor) and value.grad_fn is None and value.requires_grad and not name.startswith("_"):
            pairs.append((name, value))
    names: dict[str, Tensor] = {}
    seen: set[int] = set()
    for name, tensor in pairs:
        if id(tensor) not in seen:
            seen.add(id(tensor))
            names[name] = tensor
    return names


def _output_name(tensor: Tensor, namespace: dict, default: str) -> str:
    for name, value in namespace.items():
        if value is tensor and not name.startswith("_"):
            return name
    return default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.viz",
        description="Run a script and write an interactive page of the graph of its last backward().",
    )
    parser.add_argument("script", type=Path, help="the Python script to run")
    parser.add_argument("--html", type=Path, required=True, help="where to write the page")
    parser.add_argument("--tensor", metavar="NAME", help="draw the script's global NAME instead of the last backward")
    parser.add_argument("--no-values", action="store_true", help="do not record the forward value of every op")
    parser.epilog = "Arguments after -- are passed to the script."
    argv = sys.argv[1:] if argv is None else argv
    script_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    options = parser.parse_args(argv[: len(argv) - len(script_args) - ("--" in argv)])
    options.args = script_args

    if not options.script.is_file():
        parser.error(f"no such script: {options.script}")
    namespace, last, forward = run_script(options.script, options.args, values=not options.no_values)
    trace = last.trace
    if options.tensor is not None:
        tensor = namespace.get(options.tensor)
        if not isinstance(tensor, Tensor):
            parser.error(f"{options.script} has no global tensor named {options.tensor!r}")
        if not any(t is tensor for t in last.tensors):
            trace = None
        outputs = {options.tensor: tensor}
    elif last.tensors:
        outputs = {_output_name(t, namespace, f"output {i}"): t for i, t in enumerate(last.tensors)}
    else:
        parser.error(f"{options.script} made no backward() call: name a tensor to draw with --tensor NAME")
    title = f"{options.script.name}: " + ("the last backward()" if trace is not None else ", ".join(outputs))
    write_html(outputs, options.html, params=names_in(namespace), trace=trace, forward=forward, title=title)
    steps = f", {len(trace.steps)} steps of backward" if trace is not None else ""
    print(f"wrote {options.html}{steps}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
