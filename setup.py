"""Build minigrad; compile the optional Cython core (minigrad_c) when Cython and a C compiler exist.

Without them the install still succeeds and minigrad runs on its pure-Python kernels. Set
MINIGRAD_REQUIRE_EXTENSIONS=1 to make a failed build of the core an error instead, or
MINIGRAD_NO_EXTENSIONS=1 to skip it.

The kernels are compiled for the building machine's CPU (-march=native, when the compiler
accepts it): its wider vectors make the LSTM's matrix products several times faster, with the
same results bit for bit (no fused multiply-add either way). Set MINIGRAD_PORTABLE_BUILD=1 to
build for any CPU of the architecture instead, e.g. for a wheel that other machines install.
"""

import os
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


REQUIRED = _flag("MINIGRAD_REQUIRE_EXTENSIONS")


class OptionalBuildExt(build_ext):
    """Build the core if possible; if not, warn and install the pure-Python package."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, ...
            self._give_up(exc)

    def build_extensions(self) -> None:
        if not _flag("MINIGRAD_PORTABLE_BUILD") and self._accepts("-march=native"):
            for ext in self.extensions:
                # only where C arithmetic cannot be contracted to fused multiply-adds
                if "-ffp-contract=off" in ext.extra_compile_args:
                    ext.extra_compile_args.append("-march=native")
        super().build_extensions()

    def _accepts(self, flag: str) -> bool:
        """Whether the compiler builds a trivial C file with ``flag``."""
        with tempfile.TemporaryDirectory() as folder:
            source = os.path.join(folder, "flag_test.c")
            with open(source, "w", encoding="utf-8") as file:
                file.write("int main(void) { return 0; }\n")
            try:
                self.compiler.compile([source], output_dir=folder, extra_postargs=[flag])
            except Exception:  # CompileError, or a compiler that does not run at all
                return False
        return True

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        if REQUIRED:
            raise exc
        print(f"warning: minigrad_c was not built ({exc}); minigrad will use its pure-Python kernels", file=sys.stderr)


def extensions() -> list:
    if _flag("MINIGRAD_NO_EXTENSIONS"):
        return []
    sources = [os.path.join("minigrad_c", name) for name in sorted(os.listdir("minigrad_c")) if name.endswith(".pyx")]
    if not sources:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRED:
            raise
        print("warning: Cython is not installed; minigrad will use its pure-Python kernels", file=sys.stderr)
        return []
    # -ffp-contract=off: no fused multiply-add, so that C computes a*b + c exactly as Python does
    # (the kernels promise the pure kernels' results bit for bit).
    flags = ["-O3", "-ffp-contract=off"]
    modules = [
        Extension(f"minigrad_c.{os.path.splitext(os.path.basename(src))[0]}", [src], extra_compile_args=flags)
        for src in sources
    ]
    try:
        return cythonize(modules, language_level=3, quiet=True)
    except Exception as exc:  # a Cython too old or too new for the sources
        if REQUIRED:
            raise
        print(
            f"warning: minigrad_c could not be cythonized ({exc}); minigrad will use its pure-Python kernels",
            file=sys.stderr,
        )
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
