"""Running a PyTorch script on minigrad: its torch imports rewritten, nothing else touched.

``python -m minigrad.testing.swap SCRIPT.py [ARGS...]`` runs SCRIPT as ``__main__`` after
rewriting, line by line (so tracebacks keep their line numbers)::

    import torch                          ->  import minigrad as torch
    import torch.nn as nn                 ->  import minigrad.nn as nn
    import torch.nn.functional as F       ->  import minigrad.nn.functional as F
    import torch.nn                       ->  import minigrad.nn; import minigrad as torch
    from torch import nn, optim           ->  from minigrad import nn, optim
    from torch.nn import functional as F  ->  from minigrad.nn import functional as F
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

IMPORT = re.compile(r"^(?P<indent>\s*)import\s+(?P<names>[^#]+?)\s*(?P<comment>#.*)?$")
FROM_TORCH = re.compile(r"^(?P<indent>\s*)from\s+torch(?P<rest>(?:\.\w+)*\s+import\b)")


def rewrite_torch_imports(source: str) -> str:
    """``source`` with every import of torch or its submodules pointed at minigrad."""
    return "".join(_rewrite_line(line) for line in source.splitlines(keepends=True))


def _rewrite_line(line: str) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    if m := FROM_TORCH.match(body):
        return f"{m['indent']}from minigrad{m['rest']}{body[m.end() :]}{ending}"
    m = IMPORT.match(body)
    if m is None:
        return line
    statements = [_rewrite_import(item.strip()) for item in m["names"].split(",")]
    if all(new is None for new in statements):
        return line
    merged = "; ".join(new or f"import {item.strip()}" for new, item in zip(statements, m["names"].split(",")))
    comment = f"  {m['comment']}" if m["comment"] else ""
    return f"{m['indent']}{merged}{comment}{ending}"


def _rewrite_import(item: str) -> str | None:
    """One ``module [as alias]`` of an import statement, or None when it is not torch's."""
    module, _, alias = (part.strip() for part in item.partition(" as "))
    if module != "torch" and not module.startswith("torch."):
        return None
    target = "minigrad" + module[len("torch") :]
    if alias:
        return f"import {target} as {alias}"
    if module == "torch":
        return "import minigrad as torch"
    return f"import {target}; import minigrad as torch"  # `import torch.nn` binds the name torch


def run(path: str | Path, args: list[str]) -> None:
    """Execute the rewritten script as ``__main__``, as ``python SCRIPT ARGS`` would."""
    path = Path(path)
    code = compile(rewrite_torch_imports(path.read_text()), str(path), "exec")
    sys.argv = [str(path), *args]
    sys.path[0] = str(path.resolve().parent)  # where `python SCRIPT` looks for its imports
    exec(code, {"__name__": "__main__", "__file__": str(path), "__builtins__": __builtins__})


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m minigrad.testing.swap SCRIPT.py [ARGS...]")
    run(sys.argv[1], sys.argv[2:])
