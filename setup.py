"""Build minigrad; compile the optional Cython core (minigrad_c) when Cython and a C compiler exist.

The core is the kernels (minigrad_c/_kernels.pyx) and, compiled unchanged from their Python
source, the modules a training step runs (COMPILED_MODULES): each build sits beside its source
as <name>.compiled<EXT_SUFFIX>, a name Python's own import never picks, listed with its source's
CRC-32 in minigrad/_compiled_modules.json; minigrad/_backend.py loads them (unless
MINIGRAD_NO_COMPILED_MODULES=1) while their sources are unchanged. Without Cython or a compiler the install still
succeeds and minigrad runs as pure Python. Set MINIGRAD_REQUIRE_EXTENSIONS=1 to make a failed
build of the kernels an error instead, or MINIGRAD_NO_EXTENSIONS=1 to skip the core.

The core is compiled for the building machine's CPU (-march=native, when the compiler accepts
it): its wider vectors and fused multiply-adds make the matrix products several times faster.
Double sums give the same results bit for bit either way; the LSTM's float32 sums (fused
multiply-adds where the CPU has them) may differ in the last bits between the two builds. Set
MINIGRAD_PORTABLE_BUILD=1 to build for any CPU of the architecture instead, e.g. for a wheel
that other machines install.
"""

import json
import os
import sys
import tempfile
import zlib

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


REQUIRED = _flag("MINIGRAD_REQUIRE_EXTENSIONS")

COMPILED_MODULES = [
    "minigrad._alloc",
    "minigrad._creation",
    "minigrad._dtype",
    "minigrad._functions.indexing",
    "minigrad._functions.linalg",
    "minigrad._functions.pointwise",
    "minigrad._functions.reduction",
    "minigrad._functions.recurrent",
    "minigrad._functions.softmax_loss",
    "minigrad._functions.views",
    "minigrad._overlap",
    "minigrad._shape",
    "minigrad._tensor",
    "minigrad.autograd.engine",
    "minigrad.autograd.function",
    "minigrad.autograd.grad_mode",
    "minigrad.nn.functional",
    "minigrad.nn.linear",
    "minigrad.nn.loss",
    "minigrad.nn.module",
    "minigrad.nn.rnn",
    "minigrad.nn.sparse",
    "minigrad.nn.utils.rnn",
    "minigrad.optim.adam",
    "minigrad.optim.optimizer",
    "minigrad.optim.sgd",
]
"""minigrad's own modules that the core also holds compiled: those a training step runs."""

OPTIMIZED_MODULES = {
    "minigrad._functions.pointwise",
    "minigrad._shape",
    "minigrad._tensor",
    "minigrad.autograd.engine",
    "minigrad.autograd.function",
}
"""The compiled modules every op runs through: built with -O2 rather than -O1 (a tiny op then
runs about 4% fewer instructions, for a few more seconds of compiling)."""


MANIFEST = os.path.join("minigrad", "_compiled_modules.json")


def _source(module: str) -> str:
    return os.path.join(*module.split(".")) + ".py"


class OptionalBuildExt(build_ext):
    """Build the core if possible; if not, warn and install the pure-Python package.

    Each compiled module goes beside its source under a name that no plain import picks
    (``get_ext_filename``), so it never hides the source from a pure-Python run; the manifest
    lists them with the CRC-32 of the source each was built from. One that fails to build is left
    out, and minigrad runs its source instead. Only public build_ext methods are overridden.
    """

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1
        self._built_modules: dict[str, dict] = {}

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, ...
            self._give_up(exc)
        self._write_manifest()

    def build_extensions(self) -> None:
        kernels = [ext for ext in self.extensions if ext.name not in COMPILED_MODULES]
        if not _flag("MINIGRAD_PORTABLE_BUILD") and self._accepts("-march=native"):
            # GCC tunes for 256-bit vectors even where the CPU has 512-bit ones. The loops it
            # vectorizes by itself are elementwise (it reorders no sum), so wider lanes change no
            # bit; the LSTM's double gates (a fifth of a step at hidden 64, batch 64) get twice
            # the lanes on an AVX-512 CPU: that step 7% faster on an Intel Xeon
            native = ["-march=native"]
            if self._accepts("-mprefer-vector-width=512"):
                native.append("-mprefer-vector-width=512")
            for ext in kernels:
                # the kernels only (the compiled modules have no loops to vectorize), and only where
                # C arithmetic cannot be contracted to fused multiply-adds
                if "-ffp-contract=off" in ext.extra_compile_args:
                    ext.extra_compile_args.extend(native)
        if self._accepts("-fopenmp"):  # threads for the matrix products (minigrad.set_num_threads)
            for ext in kernels:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
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
            if ext.name in COMPILED_MODULES:
                print(f"warning: {ext.name} was not compiled ({exc}); it will run as Python", file=sys.stderr)
                return
            self._give_up(exc)
            return
        if ext.name in COMPILED_MODULES:
            with open(_source(ext.name), "rb") as file:
                checksum = zlib.crc32(file.read())
            filename = os.path.relpath(self.get_ext_filename(ext.name), "minigrad")
            self._built_modules[ext.name] = {"file": filename, "crc32": checksum}

    def get_ext_filename(self, fullname: str) -> str:
        """minigrad/_tensor.compiled.<EXT_SUFFIX> for the compiled module minigrad._tensor: beside
        its source, named so that a plain ``import minigrad._tensor`` still finds the .py."""
        filename = super().get_ext_filename(fullname)
        if fullname not in COMPILED_MODULES:
            return filename
        stem = os.path.join(*fullname.split("."))
        return stem + ".compiled" + filename[len(stem) :]

    def get_ext_fullpath(self, ext_name: str) -> str:
        """Where the build writes an extension: for a compiled module, its get_ext_filename in the
        build folder (the base method would name it after its last component only)."""
        if ext_name not in COMPILED_MODULES:
            return super().get_ext_fullpath(ext_name)
        return os.path.join(self.build_lib, self.get_ext_filename(ext_name))

    def _write_manifest(self) -> None:
        """minigrad/_compiled_modules.json, in the build and (in place, as an editable install
        builds) in the source tree."""
        if not self._built_modules:
            return
        for path in [os.path.join(self.build_lib, MANIFEST)] + ([MANIFEST] if self.inplace else []):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as file:
                json.dump({"modules": self._built_modules}, file, indent=1, sort_keys=True)

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
    # (the kernels promise the pure kernels' results bit for bit). -fno-trapping-math (as torch
    # builds its kernels): no floating-point traps, so the compiler may evaluate both arms of a
    # select and run loops with them on vector lanes (SLEEF's exp in the sigmoid); values are the same.
    # -fno-math-errno: sqrt need not set errno, so it is one instruction that runs on vector lanes
    # too (Adam's step); no kernel reads errno.
    flags = ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-fno-math-errno"]
    modules = [
        Extension(f"minigrad_c.{os.path.splitext(os.path.basename(src))[0]}", [src], extra_compile_args=flags)
        for src in sources
    ]
    # -O1: the C that Cython writes for Python code is calls into the interpreter, which -O3
    # makes no faster, only slower to compile (-O2 pays off only on the hottest modules).
    for name in COMPILED_MODULES:
        level = "-O2" if name in OPTIMIZED_MODULES else "-O1"
        modules.append(Extension(name, [_source(name)], extra_compile_args=[level, "-ffp-contract=off"]))
    try:
        return cythonize(
            modules,
            language_level=3,
            quiet=True,
            build_dir=os.path.join("build", "cython"),
            # Python semantics throughout: type hints stay hints, functions stay introspectable.
            compiler_directives={"annotation_typing": False, "binding": True},
        )
    except Exception as exc:  # a Cython too old or too new for the sources
        if REQUIRED:
            raise
        print(
            f"warning: minigrad_c could not be cythonized ({exc}); minigrad will use its pure-Python kernels",
            file=sys.stderr,
        )
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
