#!/usr/bin/env bash
# The README's second command: set up what is missing (.venv, the pinned stack; mmcv is compiled
# only once per machine) and run the default test suite (markers `slow` and `gpu` excluded).
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -m slow` or `... tests/test_ops`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
