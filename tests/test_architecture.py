"""ARCHITECTURE.md's layers hold: every import in the package runs down the table, never up.

The test parses each module of ``minigrad`` with ``ast`` (imports at any depth, including those
inside functions, which run later but are arrows all the same), maps every module to its layer
with ``LAYERS`` (the table of ARCHITECTURE.md, bottom first) and fails on an import of a module
in a higher layer, except the one declared two-way link: the tensor and its operations.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "minigrad"

LAYERS = [  # (layer, module prefixes), bottom first: as ARCHITECTURE.md's table
    ("torch's last bits", ["minigrad._float32", "minigrad._sleef", "minigrad._vec"]),
    ("kernels", ["minigrad._kernels"]),
    ("backend", ["minigrad._backend"]),
    ("basics", ["minigrad._dtype", "minigrad._device", "minigrad._alloc", "minigrad._overlap", "minigrad._shape",
                "minigrad.random", "minigrad._printing",
                "minigrad._atomic", "minigrad._safetensors", "minigrad._threads"]),  # fmt: skip
    ("autograd", ["minigrad.autograd"]),
    ("tensor", ["minigrad._tensor"]),
    ("operations", ["minigrad._functions", "minigrad._creation", "minigrad._legacy"]),
    ("library", ["minigrad.nn", "minigrad.optim", "minigrad.data", "minigrad.serialization", "minigrad.utils"]),
    ("api", ["minigrad"]),  # minigrad/__init__.py: gathers torch's names from everything below
    ("study kit", ["minigrad.viz", "minigrad.testing"]),
]

DECLARED_LINKS = {("tensor", "operations")}
"""Upward arrows allowed: the tensor's methods are doors into its operations (bound at the end of
``_tensor.py``, as teenygrad's tensor and mlops), and the operations make tensors."""


def layer_of(module: str) -> int:
    """The index in LAYERS of the longest prefix naming ``module`` or a package holding it."""
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and to ARCHITECTURE.md")
    return best


def package_modules() -> dict[str, pathlib.Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = package_modules()


def imports_of(module: str, path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, imported minigrad module) for every import statement of the file, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"  # from minigrad import _creation: the module
                found.append((node.lineno, submodule if submodule in MODULES else base))
    return [(line, name) for line, name in found if name == "minigrad" or name.startswith("minigrad.")]


def upward_imports() -> list[str]:
    problems = []
    for module, path in MODULES.items():
        here = layer_of(module)
        for line, target in imports_of(module, path):
            if target not in MODULES:
                problems.append(f"{path.name}:{line} imports {target}, which is not a module of minigrad")
                continue
            there = layer_of(target)
            if there > here and (LAYERS[here][0], LAYERS[there][0]) not in DECLARED_LINKS:
                names = f"{module} ({LAYERS[here][0]}) imports {target} ({LAYERS[there][0]})"
                problems.append(f"{names} at line {line}: an upward arrow")
    return problems


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_no_import_runs_upward_except_the_declared_link():
    assert upward_imports() == []


def test_the_checker_sees_an_upward_import_inside_a_function(tmp_path, monkeypatch):
    engine = tmp_path / "engine.py"
    engine.write_text("def f():\n    from minigrad._tensor import Tensor\n    return Tensor\n")
    monkeypatch.setitem(MODULES, "minigrad.autograd.engine", engine)
    assert upward_imports() == [
        "minigrad.autograd.engine (autograd) imports minigrad._tensor (tensor) at line 2: an upward arrow"
    ]


def test_the_checker_resolves_relative_imports_and_names_unknown_modules(tmp_path, monkeypatch):
    function = tmp_path / "function.py"
    function.write_text("from .. import _backend\nfrom ..nn import module\nimport minigrad.tensor_module_that_is_not\n")
    monkeypatch.setitem(MODULES, "minigrad.autograd.function", function)
    assert upward_imports() == [
        "minigrad.autograd.function (autograd) imports minigrad.nn.module (library) at line 2: an upward arrow",
        "function.py:3 imports minigrad.tensor_module_that_is_not, which is not a module of minigrad",
    ]


def test_the_declared_link_is_the_only_exception():
    assert DECLARED_LINKS == {("tensor", "operations")}
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("elsewhere.module")


def test_architecture_md_lists_the_same_layers_in_the_same_order():
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert [name for name in rows if name != "layer"] == [name for name, _ in LAYERS]


def test_each_kernel_family_has_its_cython_twin_with_the_same_kernels():
    """minigrad/_kernels/<family>.py and minigrad_c/<family>.pxi define the same public kernels
    (the parity tests then compare their signatures and results through the one module K)."""
    pure_dir, cython_dir = PACKAGE / "_kernels", PACKAGE.parent / "minigrad_c"
    families = sorted(p.stem for p in pure_dir.glob("*.py") if p.stem not in ("__init__", "common"))
    assert families == sorted(p.stem for p in cython_dir.glob("*.pxi") if p.stem != "common")
    for family in families:
        tree = ast.parse((pure_dir / f"{family}.py").read_text(encoding="utf-8"))
        pure = {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}
        text = (cython_dir / f"{family}.pxi").read_text(encoding="utf-8")
        cython = set(re.findall(r"^def ([a-z]\w*)\(", text, flags=re.MULTILINE))
        assert pure == cython, family
        included = (cython_dir / "_kernels.pyx").read_text(encoding="utf-8")
        assert f'include "{family}.pxi"' in included
