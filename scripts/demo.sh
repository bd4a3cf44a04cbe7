#!/usr/bin/env bash
# One command: set up, then train on emulated boards and print the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec microlearn demo "$@"
