#!/usr/bin/env python
"""Benchmark: the NumPy oracle's forward pass vs TF's dynamic_rnn on the same case.

Issue 3's target: at batch 64, time 100, input 128, units 256 (float32), the
oracle's forward runs within 1.2x of TF's dynamic_rnn on the same machine.
Both sides run the same spec and weights; TF's graph is built once with the
TF1 engine's builder and only Session.run is timed; the oracle is timed per
call of reference.run. Medians over repeated runs after two warm-ups.

NumPy's speed depends on which OpenBLAS kernel runs: this workplace sets
OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for old OpenBLAS builds, which pins
current OpenBLAS to its Haswell kernels. Run once as is and once with
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` to see both.

Usage: .venv/bin/python scripts/bench_oracle.py [--kind LSTMCell] [--repeats N]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tf1_lstm import naming, reference, tfcompat  # noqa: E402
from tf1_lstm.engines import tf1  # noqa: E402
from tf1_lstm.spec import CaseSpec, CellSpec  # noqa: E402

GATES = {"LSTMCell": 4, "BasicLSTMCell": 4, "GRUCell": 3, "BasicRNNCell": 1}


def timed(fn, repeats):
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="LSTMCell", choices=sorted(GATES))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=100)
    parser.add_argument("--input", type=int, default=128)
    parser.add_argument("--units", type=int, default=256)
    args = parser.parse_args()
    b, t, i, h = args.batch, args.time, args.input, args.units
    rng = np.random.default_rng(0)
    spec = CaseSpec(name="bench", cells=(CellSpec(kind=args.kind, num_units=h),),
                    inputs=rng.normal(size=(b, t, i)))
    weights = {n: rng.normal(0, 0.05, info.shape).astype(np.float32)
               for n, info in naming.layout(spec).items()}
    flops = 2 * b * t * (i + h) * GATES[args.kind] * h  # the matrix products

    oracle = timed(lambda: reference.run(spec, weights), args.repeats)

    tf = tfcompat.load()
    graph = tf.Graph()
    with graph.as_default():
        built = tf1.build(spec)
        variables = tf.compat.v1.trainable_variables()
        assigns = [v.assign(weights[v.name]) for v in variables]
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(assigns)
    tf_time = timed(lambda: sess.run(built.fetches, built.feed), args.repeats)
    diff = np.max(np.abs(sess.run(built.output, built.feed) - reference.run(spec, weights)["outputs"]))

    print(f"{args.kind} B={b} T={t} I={i} H={h} float32, {flops / 1e9:.2f} GFLOP of matmul")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"TF dynamic_rnn : {tf_time * 1e3:7.1f} ms  {flops / tf_time / 1e9:6.1f} GFLOP/s")
    print(f"NumPy oracle   : {oracle * 1e3:7.1f} ms  {flops / oracle / 1e9:6.1f} GFLOP/s")
    print(f"ratio oracle / TF: {oracle / tf_time:.2f} (target <= 1.20); max |diff| {diff:.2e}")
    return 0 if oracle / tf_time <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
