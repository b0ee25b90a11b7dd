#!/usr/bin/env bash
# The whole check, as CI runs it: lint, then the test suite on each backend.
set -euo pipefail
cd "$(dirname "$0")"
ruff check .
echo "== test suite, Cython core required =="
MINIGRAD_REQUIRE_EXTENSIONS=1 python -m pytest -q -p no:cacheprovider
echo "== test suite, pure-Python kernels =="
MINIGRAD_NO_EXTENSIONS=1 python -m pytest -q -p no:cacheprovider
