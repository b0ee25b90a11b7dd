"""Choose the kernel module: the Cython core when it is built, else the pure-Python kernels.

Environment variables (read once, at import):
- ``MINIGRAD_NO_EXTENSIONS=1`` forces the pure-Python kernels;
- ``MINIGRAD_REQUIRE_EXTENSIONS=1`` makes a missing or broken Cython core an ImportError.

``name`` is ``"cython"`` or ``"python"``; ``fallback_reason`` says why the pure kernels were
chosen (``None`` when the Cython core is active).
"""

from __future__ import annotations

import os
from types import ModuleType


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


kernels, name, fallback_reason = _choose()
