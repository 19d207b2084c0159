#!/usr/bin/env bash
# Regenerate goldens on purpose: scripts/regen.sh [NAME...] [--force]. Review the printed diff.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tf1-lstm regen "$@"
