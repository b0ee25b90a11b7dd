"""Choosing the kernels: the Cython core when built, the pure kernels when asked or when it is not.

Each choice is made once, at import, from ``MINIGRAD_NO_EXTENSIONS`` and
``MINIGRAD_REQUIRE_EXTENSIONS``, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import minigrad
from minigrad import _backend

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import json, minigrad, minigrad._backend as b; "
    "print(json.dumps([minigrad.backend, b.fallback_reason, b.kernels.__name__]))"
)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def core_is_built() -> bool:
    try:
        import minigrad_c._kernels  # noqa: F401
    except ImportError:
        return False
    return True


def probe(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True)


def test_this_session_uses_the_backend_the_environment_asks_for():
    if _flag("MINIGRAD_REQUIRE_EXTENSIONS"):
        assert minigrad.backend == "cython"
        assert _backend.fallback_reason is None
    if _flag("MINIGRAD_NO_EXTENSIONS"):
        assert minigrad.backend == "python"
    assert minigrad.backend in ("cython", "python")
    modules = {"cython": "minigrad_c._kernels", "python": "minigrad._kernels"}
    assert _backend.kernels.__name__ == modules[minigrad.backend]


def test_no_extensions_forces_the_pure_kernels():
    proc = probe(MINIGRAD_NO_EXTENSIONS="1")
    assert proc.returncode == 0, proc.stderr
    name, reason, module = json.loads(proc.stdout)
    assert (name, module) == ("python", "minigrad._kernels")
    assert "MINIGRAD_NO_EXTENSIONS" in reason


def test_no_extensions_set_to_zero_does_not_count():
    proc = probe(MINIGRAD_NO_EXTENSIONS="0")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0] == ("cython" if core_is_built() else "python")


def test_require_extensions_gives_the_core_or_an_import_error():
    proc = probe(MINIGRAD_REQUIRE_EXTENSIONS="1")
    if core_is_built():
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == ["cython", None, "minigrad_c._kernels"]
    else:
        assert proc.returncode != 0
        assert "ImportError" in proc.stderr and "MINIGRAD_REQUIRE_EXTENSIONS" in proc.stderr


def test_without_flags_the_core_is_used_when_built():
    proc = probe()
    assert proc.returncode == 0, proc.stderr
    name, reason, _ = json.loads(proc.stdout)
    if core_is_built():
        assert (name, reason) == ("cython", None)
    else:
        assert name == "python" and "not built" in reason


def test_both_flags_is_an_error():
    proc = probe(MINIGRAD_NO_EXTENSIONS="1", MINIGRAD_REQUIRE_EXTENSIONS="1")
    assert proc.returncode != 0
    assert "MINIGRAD_NO_EXTENSIONS and MINIGRAD_REQUIRE_EXTENSIONS are both set" in proc.stderr


# -- minigrad's own modules, compiled by the Cython core --------------------------------------


def modules_setup_compiles() -> set[str]:
    """COMPILED_MODULES as setup.py lists it (read from its source: setup.py is not importable)."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED_MODULES":
            return set(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no COMPILED_MODULES list")


def test_compiled_modules_are_imported_from_their_builds_with_the_core_and_never_without():
    loaded = _backend.compiled_modules()
    for name in loaded:
        assert sys.modules[name].__file__.endswith(sysconfig.get_config_var("EXT_SUFFIX")), name
    if minigrad.backend == "python":
        assert loaded == []
        assert minigrad.autograd.engine.__file__.endswith(".py")
    if _flag("MINIGRAD_REQUIRE_EXTENSIONS"):
        # every module setup.py compiles was built, and the ones imported so far came from it
        imported = {name for name in modules_setup_compiles() if name in sys.modules}
        assert "minigrad._tensor" in imported and "minigrad.autograd.engine" in imported
        assert set(loaded) == imported


def test_the_finder_loads_a_build_whose_source_is_unchanged(tmp_path):
    build = tmp_path / "minigrad._dtype.so"
    build.write_bytes(b"")
    source = os.path.join(_backend.PACKAGE_DIR, "_dtype.py")
    finder = _backend.CompiledModuleFinder(
        str(tmp_path), {"minigrad._dtype": {"file": build.name, "crc32": _backend.source_checksum(source)}}
    )
    spec = finder.find_spec("minigrad._dtype")
    assert spec is not None and spec.origin == str(build) and spec.has_location
    assert spec.loader.path == str(build)
    assert finder.loaded == ["minigrad._dtype"]
    assert finder.find_spec("minigrad._shape") is None  # not in its builds: the usual import


def test_the_finder_runs_an_edited_module_as_python_and_says_so(tmp_path):
    build = tmp_path / "minigrad._dtype.so"
    build.write_bytes(b"")
    source = os.path.join(_backend.PACKAGE_DIR, "_dtype.py")
    stale = (_backend.source_checksum(source) + 1) % 2**32
    finder = _backend.CompiledModuleFinder(str(tmp_path), {"minigrad._dtype": {"file": build.name, "crc32": stale}})
    with pytest.warns(UserWarning, match=r"_dtype\.py changed since the Cython core was built"):
        assert finder.find_spec("minigrad._dtype") is None
    assert finder.loaded == []


def test_the_finder_skips_a_build_that_is_missing(tmp_path):
    source = os.path.join(_backend.PACKAGE_DIR, "_dtype.py")
    builds = {"minigrad._dtype": {"file": "absent.so", "crc32": _backend.source_checksum(source)}}
    assert _backend.CompiledModuleFinder(str(tmp_path), builds).find_spec("minigrad._dtype") is None


def test_no_compiled_modules_keeps_the_core_and_runs_every_module_as_python():
    code = (
        "import json, minigrad, minigrad._tensor as t, minigrad.autograd.engine as e; "
        "print(json.dumps([minigrad.backend, minigrad.compiled_modules(), t.__file__, e.__file__]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env = {**clean, "MINIGRAD_NO_COMPILED_MODULES": "1"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    name, loaded, tensor_file, engine_file = json.loads(proc.stdout)
    assert name == ("cython" if core_is_built() else "python")
    assert loaded == []
    assert tensor_file.endswith("_tensor.py") and engine_file.endswith("engine.py")


def test_minigrad_compiled_modules_is_the_backends_list():
    assert minigrad.compiled_modules() == _backend.compiled_modules()
    if _flag("MINIGRAD_NO_COMPILED_MODULES") or minigrad.backend == "python":
        assert minigrad.compiled_modules() == []


def test_each_compiled_modules_source_says_so_in_its_first_line():
    for name in sorted(modules_setup_compiles()):
        source = ROOT.joinpath(*name.split(".")).with_suffix(".py")
        first = source.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# With the Cython core this module also runs compiled"), name


def test_a_build_sits_beside_its_source_under_a_name_plain_imports_never_pick():
    if not _flag("MINIGRAD_REQUIRE_EXTENSIONS") or _flag("MINIGRAD_NO_COMPILED_MODULES"):
        pytest.skip("needs the Cython core with its compiled modules")
    for name in _backend.compiled_modules():
        build = Path(sys.modules[name].__file__)
        source = ROOT.joinpath(*name.split(".")).with_suffix(".py")
        assert build.parent == source.parent, name
        assert build.name == source.stem + ".compiled" + sysconfig.get_config_var("EXT_SUFFIX")
