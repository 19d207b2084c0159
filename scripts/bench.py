#!/usr/bin/env python
"""Benchmark: `tf1-lstm check` as a whole process vs a bare `import tensorflow`.

Target (issue 2, set when the goldens were the document's two examples): the
median over paired runs of check / bare-import wall time is at most 1.3.
Pairs alternate their order so that page-cache and CPU frequency effects fall
on both sides. By default the check covers the document's two cases
(`check single_cell stacked`); --all times `check` over every golden. With
--suite, also times the test suite (`pytest -n auto`), whose target is 60 s
on 2 cores.

Usage: .venv/bin/python scripts/bench.py [--pairs N] [--all] [--suite]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
CHECK = [PY, "-m", "tf1_lstm", "check"]
DOCUMENT_CASES = ["single_cell", "stacked"]
BARE = [PY, "-c", "import tensorflow"]


def wall(cmd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--all", action="store_true", help="check every golden, not only the "
                        "document's two examples")
    parser.add_argument("--suite", action="store_true", help="also time pytest -n auto")
    args = parser.parse_args()
    check = CHECK if args.all else CHECK + DOCUMENT_CASES
    print(" ".join(["tf1-lstm"] + check[3:]))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    wall(BARE, env)  # warm the page cache once
    ratios, checks, bares = [], [], []
    for i in range(args.pairs):
        if i % 2:
            c, b = wall(check, env), wall(BARE, env)
        else:
            b, c = wall(BARE, env), wall(check, env)
        checks.append(c)
        bares.append(b)
        ratios.append(c / b)
        print(f"pair {i + 1}: check {c:.2f} s, bare import {b:.2f} s, ratio {c / b:.2f}")
    median = statistics.median(ratios)
    print(f"median: check {statistics.median(checks):.2f} s, bare import "
          f"{statistics.median(bares):.2f} s, ratio {median:.2f} (target <= 1.30)")
    status = 0 if median <= 1.3 else 1
    if args.suite:
        start = time.perf_counter()
        proc = subprocess.run([PY, "-m", "pytest", "-n", "auto", "-q"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        print(f"test suite: {elapsed:.1f} s on {os.cpu_count()} cores, exit {proc.returncode} "
              f"(target < 60 s on 2 cores)")
        status = status or int(proc.returncode != 0 or elapsed >= 60)
    return status


if __name__ == "__main__":
    sys.exit(main())
