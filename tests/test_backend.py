"""Choosing the kernels: the Cython core when built, the pure kernels when asked or when it is not.

Each choice is made once, at import, from ``MINIGRAD_NO_EXTENSIONS`` and
``MINIGRAD_REQUIRE_EXTENSIONS``, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import minigrad
from minigrad import _backend

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
