#!/usr/bin/env bash
# Check the committed goldens under other TensorFlow versions, each in its own venv.
#
#   bash scripts/version_matrix.sh                 # 2.12, 2.15, 2.18 (+ tf-keras 2.18), 2.21 (+ 2.21)
#   bash scripts/version_matrix.sh 2.13: 2.20:2.20 # TF[:tf-keras] pairs; empty tf-keras = none
#
# Each venv (under ${MATRIX_DIR:-/tmp/tf1_lstm_matrix}) gets that TensorFlow, tf-slim and
# tf1_lstm (editable, no deps); then `tf1-lstm check --json` runs on golden/ and one line per
# case shows the math, init and oracle results. Exit 1 if any case fails on any version.
set -u
cd "$(dirname "$0")/.."
repo=$(pwd)
root=${MATRIX_DIR:-/tmp/tf1_lstm_matrix}
mkdir -p "$root"
pairs=("$@")
[ ${#pairs[@]} -eq 0 ] && pairs=("2.12:" "2.15:" "2.18:2.18" "2.21:2.21")
status=0
for pair in "${pairs[@]}"; do
  tfv=${pair%%:*}; kv=${pair#*:}
  venv="$root/tf$tfv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    pkgs=("tensorflow==$tfv.*" tf-slim)
    [ -n "$kv" ] && pkgs+=("tf-keras==$kv.*")
    if ! "$venv/bin/pip" install -q "${pkgs[@]}" > "$venv.install.log" 2>&1; then
      echo "== TF $tfv: install failed (see $venv.install.log)"; status=1; continue
    fi
    "$venv/bin/pip" install -q --no-deps -e "$repo" >> "$venv.install.log" 2>&1
  fi
  echo "== TF $tfv, tf-keras ${kv:-none}: $("$venv/bin/python" -m tf1_lstm env --json 2>/dev/null \
    | "$venv/bin/python" -c 'import json,sys; v=json.load(sys.stdin)["versions"]; print(" ".join(f"{k} {v[k]}" for k in ("tensorflow","tf-keras","numpy")))')"
  (cd "$root" && TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" -m tf1_lstm check --golden-dir "$repo/golden" \
     --json > "$venv.check.json" 2> "$venv.check.err")
  code=$?
  "$venv/bin/python" - "$venv.check.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for case in report["cases"]:
    parts = [f"{k} {'ok' if case[k]['ok'] else 'FAILED'} (max abs {case[k]['max_abs']:.2g})"
             for k in ("math", "init", "oracle") if case.get(k)]
    print(f"  {case['case']:18s} {case['status']:8s} " + "; ".join(parts) + (case.get("error") or ""))
PY
  echo "  exit $code"
  [ $code -ne 0 ] && status=1
done
exit $status
