"""``python -m minigrad.testing run [--atol A] [--rtol R] SCRIPT.py [ARGS...]``.

Runs a PyTorch script on torch and on minigrad (torch imports swapped) and reports the first
output line whose numbers differ. Exit status 0 when they agree, 1 when minigrad differs or
fails, 2 when the torch run itself fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from minigrad.testing.script_run import run_both


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigrad.testing", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="compare a PyTorch script's printed numbers on torch and on minigrad")
    run.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance (default 1e-4: 4 printed decimals)")
    run.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default 0)")
    run.add_argument("--timeout", type=float, default=None, help="seconds allowed for each run")
    run.add_argument("script", help="the PyTorch script")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    options = parser.parse_args(argv)
    try:
        result = run_both(options.script, options.args, atol=options.atol, rtol=options.rtol, timeout=options.timeout)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as error:
        parser.exit(2, f"{parser.prog} run: {error}\n")
    print(result.report())
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
