"""Choose the kernel module: the Cython core when it is built, else the pure-Python kernels.

Environment variables (read once, at import):
- ``MINIGRAD_NO_EXTENSIONS=1`` forces the pure-Python kernels;
- ``MINIGRAD_REQUIRE_EXTENSIONS=1`` makes a missing or broken Cython core an ImportError.

``name`` is ``"cython"`` or ``"python"``; ``fallback_reason`` says why the pure kernels were
chosen (``None`` when the Cython core is active).

With the Cython core, minigrad's own hot modules (the tensor, autograd, the ops, nn, optim) are
imported from their Cython builds too: ``setup.py`` compiles their unchanged source into
``minigrad_c/_compiled`` (Python code compiled to C runs its interpreter bookkeeping faster) and
records each source file's CRC-32 in ``manifest.json`` there. A module whose source has changed
since the build runs as the Python it now is, with a warning to rebuild. ``compiled_modules``
names the modules that came from a build.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
import zlib
from importlib.machinery import ExtensionFileLoader, ModuleSpec
from types import ModuleType

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
"""The folder of minigrad's sources (whichever build of them runs)."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _choose() -> tuple[ModuleType, str, str | None]:
    if _flag("MINIGRAD_NO_EXTENSIONS"):
        if _flag("MINIGRAD_REQUIRE_EXTENSIONS"):
            raise ImportError("MINIGRAD_NO_EXTENSIONS and MINIGRAD_REQUIRE_EXTENSIONS are both set")
        from minigrad import _kernels as pure

        return pure, "python", "MINIGRAD_NO_EXTENSIONS is set"
    try:
        from minigrad_c import _kernels as compiled
    except ImportError as exc:
        if _flag("MINIGRAD_REQUIRE_EXTENSIONS"):
            raise ImportError(
                "MINIGRAD_REQUIRE_EXTENSIONS is set but the Cython core minigrad_c._kernels "
                f"could not be imported ({exc}); build it with `pip install -e .` and a C compiler"
            ) from exc
        from minigrad import _kernels as pure

        return pure, "python", f"the Cython core is not built ({exc})"
    return compiled, "cython", None


def source_checksum(path: str) -> int:
    """The CRC-32 of a file's bytes: how the manifest tells a build from an edited source."""
    with open(path, "rb") as file:
        return zlib.crc32(file.read())


class CompiledModuleFinder:
    """An import hook (a meta path finder) that loads ``minigrad.*`` modules from their builds.

    ``builds`` maps a module name to its build's file name (in ``directory``) and the CRC-32 of
    the source it was built from.
    """

    def __init__(self, directory: str, builds: dict[str, dict]) -> None:
        self.directory = directory
        self.builds = builds
        self.loaded: list[str] = []

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        build = self.builds.get(fullname)
        if build is None:
            return None
        source = os.path.join(PACKAGE_DIR, *fullname.split(".")[1:]) + ".py"  # minigrad.x.y -> x/y.py
        location = os.path.join(self.directory, build["file"])
        if not os.path.exists(location):
            return None
        if source_checksum(source) != build["crc32"]:
            warnings.warn(
                f"{source} changed since the Cython core was built, so it runs as plain Python; "
                "rebuild with `pip install -e .` to compile it again",
                stacklevel=2,
            )
            return None
        spec = ModuleSpec(fullname, ExtensionFileLoader(fullname, location), origin=location)
        spec.has_location = True
        self.loaded.append(fullname)
        return spec


def _install_compiled_modules(core: ModuleType) -> CompiledModuleFinder | None:
    """Put a finder for the compiled modules first on ``sys.meta_path``, if there are any."""
    directory = os.path.join(os.path.dirname(core.__file__), "_compiled")
    try:
        with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as file:
            builds = json.load(file)["modules"]
    except (OSError, ValueError, KeyError):
        return None  # no build of minigrad's modules (an older build, or none was made)
    finder = CompiledModuleFinder(directory, builds)
    sys.meta_path.insert(0, finder)
    return finder


kernels, name, fallback_reason = _choose()
_finder = _install_compiled_modules(kernels) if name == "cython" else None


def compiled_modules() -> list[str]:
    """The minigrad modules imported so far from their Cython builds (none on the pure backend)."""
    return list(_finder.loaded) if _finder is not None else []
