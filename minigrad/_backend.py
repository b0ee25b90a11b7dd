"""Choose the kernel module: the Cython core when it is built, else the pure-Python kernels.

Environment variables (read once, at import):
- ``MINIGRAD_NO_EXTENSIONS=1`` forces the pure-Python kernels (and every module runs as Python);
- ``MINIGRAD_REQUIRE_EXTENSIONS=1`` makes a missing or broken Cython core an ImportError;
- ``MINIGRAD_NO_COMPILED_MODULES=1`` keeps the Cython kernels but runs minigrad's own modules as
  the plain Python they are (to step through ``loss.backward()`` with pdb, or read tracebacks
  with a frame for each of minigrad's functions).

``name`` is ``"cython"`` or ``"python"``; ``fallback_reason`` says why the pure kernels were
chosen (``None`` when the Cython core is active).

The compiled modules. With the Cython core, the modules a training step runs (the tensor,
autograd, the ops, nn, optim: ``COMPILED_MODULES`` in ``setup.py``, each saying so in its first
line) are also imported from Cython builds of their unchanged source, which spend less time in
the interpreter's bookkeeping (a W1 training step about a quarter less). A build sits beside its
source under a name Python's own import never picks, ``_tensor.compiled.<EXT_SUFFIX>`` beside
``_tensor.py``; ``setup.py`` lists the builds in ``_compiled_modules.json`` (in this folder)
with the CRC-32 of the source each came from. ``CompiledModuleFinder``, an import hook placed
first on ``sys.meta_path``, loads a module from its build when the source is unchanged; a module
edited since the build runs as the Python it now is, with a warning to rebuild.
``compiled_modules()`` (also ``minigrad.compiled_modules()``) names the modules that came from a
build.
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

    ``builds`` maps a module name to its build's file (a path relative to ``directory``) and the
    CRC-32 of the source it was built from.
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


MANIFEST = "_compiled_modules.json"
"""The list of compiled modules that ``setup.py`` writes into this folder."""


def _install_compiled_modules() -> CompiledModuleFinder | None:
    """Put a finder for the compiled modules first on ``sys.meta_path``, if there are any."""
    try:
        with open(os.path.join(PACKAGE_DIR, MANIFEST), encoding="utf-8") as file:
            builds = json.load(file)["modules"]
    except (OSError, ValueError, KeyError):
        return None  # no build of minigrad's modules (an older build, or none was made)
    finder = CompiledModuleFinder(PACKAGE_DIR, builds)
    sys.meta_path.insert(0, finder)
    return finder


kernels, name, fallback_reason = _choose()
_finder = _install_compiled_modules() if name == "cython" and not _flag("MINIGRAD_NO_COMPILED_MODULES") else None


def compiled_modules() -> list[str]:
    """The minigrad modules imported so far from their Cython builds (none on the pure backend,
    nor with ``MINIGRAD_NO_COMPILED_MODULES=1``)."""
    return list(_finder.loaded) if _finder is not None else []
