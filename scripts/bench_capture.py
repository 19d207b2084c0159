#!/usr/bin/env python
"""Benchmark: `tf1-lstm run --capture` of a 1,000-step training loop, size and time.

Targets (issue 12, section 5, "Compact, cheap captures"), for a TF1 script
that trains an LSTM + dense layer for 1,000 steps, fetching ``[train_op,
loss]`` with a fed batch every step:

(a) the capture file is at most 200 KB beyond its arrays' own bytes (the
    sum of ``nbytes`` of the recorded values, read back call by call);
(b) the median over paired runs of capture / plain wall time, both as whole
    processes (``python -m tf1_lstm run``), is at most 1.1.

Pairs alternate their order so that page-cache and CPU frequency effects
fall on both sides; each capture writes a new file. Also prints the
recording overhead per ``Session.run`` call, measured in this process (see
:func:`overhead_per_call`).

Usage: .venv/bin/python scripts/bench_capture.py [--pairs N] [--steps N] [--keep DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import types
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
MAX_OVERHEAD_BYTES = 200_000
MAX_WALL_RATIO = 1.1

TRAIN = '''
    """LSTM + dense regression, trained the TF 1.x way: one sess.run([train_op, loss]) per step."""
    import argparse
    import numpy as np
    import tensorflow as tf

    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1000)
    a = p.parse_args()

    B, T, I, H = 16, 10, 8, 32
    x = tf.placeholder(tf.float32, [None, T, I], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    cell = tf.contrib.rnn.LSTMCell(H)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    pred = tf.layers.dense(state.h, 1)
    loss = tf.reduce_mean(tf.square(pred - y))
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)

    rng = np.random.RandomState(0)
    data = rng.randn(64, T, I).astype(np.float32)
    target = data.sum(axis=(1, 2))[:, None] / 10
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(a.steps):
            k = (step * B) % 64
            _, l = sess.run([train_op, loss], {x: data[k:k + B], y: target[k:k + B]})
        print("final loss %.4f" % l)
'''


def wall(cmd, env, cwd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                 f"{proc.stderr.decode()[-2000:]}")
    return elapsed


def sizes(capture: Path):
    """(file bytes, bytes of the recorded values, calls, arrays, metadata bytes) of a capture."""
    from tf1_lstm import capture as cap
    from tf1_lstm import golden

    gold = golden.load(capture)
    calls = cap.from_golden(gold)
    values = sum(f.value.nbytes for c in calls for f in c.fetches if f.value is not None)
    with zipfile.ZipFile(capture) as zf:
        meta = zf.getinfo(golden.META_KEY + ".npy").file_size
    return capture.stat().st_size, values, len(calls), len(gold.arrays), meta


def overhead_per_call(calls: int = 20_000, repeats: int = 7):
    """Microseconds that recording adds to one ``sess.run([train_op, loss], feed)``.

    Measured on a stand-in ``BaseSession`` whose ``run`` returns at once what
    TensorFlow returns for that call (fetching the real graph's op and tensor,
    feeding its real placeholders), so that only the recording is timed: a
    real session's step varies by more than the overhead on a shared machine.
    """
    import numpy as np

    from tf1_lstm import capture as cap
    from tf1_lstm import tfcompat

    tf = tfcompat.load()
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, [None, 10, 8], name="x")
        y = v1.placeholder(tf.float32, [None, 1], name="y")
        w = v1.get_variable("w", [8, 1])
        loss = tf.reduce_mean(tf.square(tf.reduce_sum(tf.tensordot(x, w, 1), 1) - y))
        train_op = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        fetches = [train_op, loss]
        feed = {x: np.zeros((16, 10, 8), np.float32), y: np.zeros((16, 1), np.float32)}
        result = [None, np.float32(0.25)]

        class BaseSession:  # what capture.recording wraps: BaseSession.run
            def __init__(self):
                pass

            def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
                return list(result)

        class Session(BaseSession):
            pass

        stand_in = types.SimpleNamespace(compat=types.SimpleNamespace(
            v1=types.SimpleNamespace(Session=Session)))
        sess = Session()

        def loop():
            start = time.perf_counter()
            for _ in range(calls):
                sess.run([train_op, loss], feed)
            return time.perf_counter() - start

        plain, recorded = [], []
        for _ in range(repeats):
            plain.append(loop())
            with cap.recording(stand_in) as rec:
                recorded.append(loop())
            assert len(rec.calls) == calls and rec.calls[-1].fetches[1].name == loss.name
    return (statistics.median(recorded) - statistics.median(plain)) / calls * 1e6, fetches


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # for this process's own TensorFlow
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the script and the capture here")
    args = parser.parse_args()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        script = work / "train_loop.py"
        script.write_text(textwrap.dedent(TRAIN).lstrip())
        capture = work / "train_loop.npz"
        run = [PY, "-m", "tf1_lstm", "run", script.name]
        captured = run + ["--capture", capture.name, "--", "--steps", str(args.steps)]
        plain = run + ["--", "--steps", str(args.steps)]

        def capture_once():
            capture.unlink(missing_ok=True)
            return wall(captured, env, work)

        print(f"python -m tf1_lstm run train_loop.py [--capture train_loop.npz] -- "
              f"--steps {args.steps}")
        wall(plain, env, work)  # warm the page cache once
        ratios, caps, plains = [], [], []
        for i in range(args.pairs):
            if i % 2:
                c, b = capture_once(), wall(plain, env, work)
            else:
                b, c = wall(plain, env, work), capture_once()
            caps.append(c)
            plains.append(b)
            ratios.append(c / b)
            print(f"pair {i + 1}: capture {c:.2f} s, plain {b:.2f} s, ratio {c / b:.3f}")
        ratio = statistics.median(ratios)

        size, values, n_calls, members, meta = sizes(capture)
        beyond = size - values
        print(f"capture file: {size} bytes, {n_calls} Session.run calls in {members} arrays "
              f"plus the metadata ({meta} bytes); recorded values {values} bytes")
        print(f"beyond the values: {beyond} bytes, {beyond / max(n_calls, 1):.1f} per call "
              f"(target <= {MAX_OVERHEAD_BYTES})")
        print(f"median: capture {statistics.median(caps):.2f} s, plain "
              f"{statistics.median(plains):.2f} s, ratio {ratio:.3f} "
              f"(target <= {MAX_WALL_RATIO})")
    extra, fetches = overhead_per_call()
    print(f"recording overhead: {extra:.1f} us per Session.run call "
          f"(sess.run({[f.name for f in fetches]}, feed of 2 arrays))")
    return 0 if beyond <= MAX_OVERHEAD_BYTES and ratio <= MAX_WALL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
