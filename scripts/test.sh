#!/usr/bin/env bash
# One command: set up, then run the test suite (the default run excludes the slow emulator matrices;
# add `-m slow` or `-m "slow or not slow"` to run them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m pytest -n 2 -q "$@"
