#!/usr/bin/env bash
# Create .venv (if needed) and install tf1_lstm with its test, tf-keras and migration-target
# (torch CPU, onnx + onnxruntime) extras.
# Idempotent: skips pip when setup.cfg has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.tf1_lstm-setup
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[keras2,test,torch,onnx]'
  echo "$want" > "$stamp"
fi
