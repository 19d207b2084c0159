#!/usr/bin/env bash
# The main job: set up, reproduce the document's examples, check every golden.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/tf1-lstm reproduce all
.venv/bin/tf1-lstm check "$@"
