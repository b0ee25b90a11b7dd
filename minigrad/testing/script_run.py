"""``python -m minigrad.testing run SCRIPT.py``: one PyTorch script, run on torch and on minigrad,
and the first line of output where their numbers differ.

Both runs are subprocesses of the same Python. The minigrad run is the script with its torch
imports rewritten (see ``swap``). Each output line is reduced to the numbers in it, read as
decimals exactly as printed; text around them (such as ``grad_fn=<...>`` names) is ignored.
Line by line, the numbers must agree within ``atol + rtol * |torch's number|``. A script that
imports minigrad rather than torch is refused (it would only be compared with itself).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import minigrad

# A number standing on its own: not part of a name such as ``Backward0`` or of a longer number.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan)(?![\w.])")


def numbers_in(line: str) -> list[Decimal]:
    """The numbers printed on a line, exactly as decimals: ``tensor([-0.0187, 1e-05])`` -> two."""
    return [Decimal(text) for text in NUMBER.findall(line)]


def close(candidate: Decimal, reference: Decimal, atol: Decimal, rtol: Decimal) -> bool:
    if reference.is_nan() or candidate.is_nan():
        return reference.is_nan() and candidate.is_nan()
    if reference.is_infinite() or candidate.is_infinite():
        return reference == candidate
    return abs(candidate - reference) <= atol + rtol * abs(reference)


@dataclass(frozen=True)
class Difference:
    """The first line (1-based) where the outputs' numbers disagree, and how."""

    line: int
    reference: str | None
    candidate: str | None
    detail: str


def first_difference(reference: list[str], candidate: list[str], atol: float, rtol: float) -> Difference | None:
    """Compare two outputs line by line; None when every line's numbers agree."""
    atol_d, rtol_d = Decimal(str(atol)), Decimal(str(rtol))
    for i in range(max(len(reference), len(candidate))):
        ref = reference[i] if i < len(reference) else None
        cand = candidate[i] if i < len(candidate) else None
        if ref is None or cand is None:
            side = "minigrad's" if cand is None else "torch's"
            return Difference(i + 1, ref, cand, f"{side} output ends before this line")
        ref_numbers, cand_numbers = numbers_in(ref), numbers_in(cand)
        if len(ref_numbers) != len(cand_numbers):
            return Difference(
                i + 1, ref, cand, f"torch printed {len(ref_numbers)} numbers here, minigrad {len(cand_numbers)}"
            )
        for k, (r, c) in enumerate(zip(ref_numbers, cand_numbers), 1):
            if not close(c, r, atol_d, rtol_d):
                allowed = (atol_d + rtol_d * abs(r)).normalize() if r.is_finite() else Decimal(0)
                detail = f"number {k}: torch {r}, minigrad {c}, difference {abs(c - r)} > {allowed} allowed"
                return Difference(i + 1, ref, cand, detail)
    return None


@dataclass(frozen=True)
class RunResult:
    """What ``run_both`` found; ``report()`` says it in words, ``exit_code`` for the shell."""

    script: str
    reference: subprocess.CompletedProcess
    candidate: subprocess.CompletedProcess
    difference: Difference | None
    atol: float
    rtol: float

    @property
    def ok(self) -> bool:
        return self.reference.returncode == 0 and self.candidate.returncode == 0 and self.difference is None

    @property
    def exit_code(self) -> int:
        """0: same numbers; 1: minigrad differs or fails; 2: the torch run itself failed."""
        if self.reference.returncode != 0:
            return 2
        return 0 if self.ok else 1

    def report(self) -> str:
        tolerance = f"atol={self.atol}, rtol={self.rtol}"
        if self.reference.returncode != 0:
            return f"the reference run on torch failed (exit {self.reference.returncode}):\n{_tail(self.reference)}"
        lines = []
        if self.difference is not None:
            d = self.difference
            lines += [
                f"{self.script}: first difference at line {d.line} of the output ({tolerance}):",
                f"  torch:    {d.reference if d.reference is not None else '(no line)'}",
                f"  minigrad: {d.candidate if d.candidate is not None else '(no line)'}",
                f"  {d.detail}",
            ]
        if self.candidate.returncode != 0:
            printed = len(self.candidate.stdout.splitlines())
            lines.append(f"the minigrad run failed (exit {self.candidate.returncode}) after {printed} lines of output:")
            lines.append(_tail(self.candidate))
        if not lines:
            out = self.reference.stdout.splitlines()
            count = sum(len(numbers_in(line)) for line in out)
            summary = f"{len(out)} lines, {count} numbers, {tolerance}"
            lines.append(f"{self.script}: same numbers on torch and minigrad ({summary})")
        return "\n".join(lines)


def _tail(process: subprocess.CompletedProcess, lines: int = 15) -> str:
    return "\n".join("  " + line for line in process.stderr.splitlines()[-lines:])


def run_both(
    script: str | Path,
    args: list[str] | None = None,
    atol: float = 1e-4,
    rtol: float = 0.0,
    timeout: float | None = None,
) -> RunResult:
    """Run ``script`` on torch, then on minigrad, and compare their standard outputs."""
    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"no such script: {str(script)!r}")
    if importlib.util.find_spec("torch") is None:
        raise RuntimeError(f"the reference run needs PyTorch, which is not installed for {sys.executable}")
    _check_imports_torch(script)
    args = list(args or [])
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same set and dict orders in both runs
    reference = _run([sys.executable, str(script), *args], env, timeout)
    minigrad_root = str(Path(minigrad.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [minigrad_root, env.get("PYTHONPATH")]))
    candidate = _run([sys.executable, "-m", "minigrad.testing.swap", str(script), *args], env, timeout)
    difference = None
    if reference.returncode == 0:
        difference = first_difference(reference.stdout.splitlines(), candidate.stdout.splitlines(), atol, rtol)
        if difference is not None and candidate.returncode != 0 and difference.candidate is None:
            difference = None  # the output stopped because the run failed: the failure says it better
    return RunResult(str(script), reference, candidate, difference, atol, rtol)


def _check_imports_torch(script: Path) -> None:
    """A script that imports minigrad and not torch would run on minigrad twice and always agree
    with itself: refuse it, saying what to write instead."""
    try:
        tree = ast.parse(script.read_bytes(), filename=str(script))
    except (SyntaxError, ValueError):
        return  # the runs report it
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    if "minigrad" in imported and "torch" not in imported:
        raise ValueError(
            f"{script} imports minigrad, not torch: both runs would run minigrad and agree with themselves. "
            "Write the script with torch's imports (import torch, torch.nn, ...): the minigrad run swaps them"
        )


def _run(command: list[str], env: dict[str, str], timeout: float | None) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
