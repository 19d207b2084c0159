#!/usr/bin/env bash
# The main job: set up, reproduce the document's two examples, check every golden.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/tf1-lstm reproduce single_cell stacked
.venv/bin/tf1-lstm check "$@"
