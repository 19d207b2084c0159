#!/usr/bin/env python
"""Benchmark: tf1_lstm's ONNX converter vs tf2onnx on the same TF1 graph and checkpoint.

The graph is the seed document's second example, ``MultiRNNCell([LSTMCell, LSTMCell])``
through ``tf.compat.v1.nn.dynamic_rnn`` (case ``stacked``, built by
``tf1_lstm.engines.tf1.build`` with the document's calls), at two sizes:

    document   B=2,  T=3,  I=6,  LSTMCell(4), LSTMCell(5)   (the document's inputs)
    realistic  B=32, T=50, I=32, LSTMCell(64), LSTMCell(64) (normal(0, 1) inputs)

Random weights (uniform in [-0.5, 0.5], biases included:
``cases.with_random_weights``) go into one ``tf.compat.v1.train.Saver``
checkpoint per size. That checkpoint is converted three times:

    tf1_lstm        tf1_lstm.migrate.files.convert_checkpoint(ckpt, spec, "onnx", out)
    tf2onnx (TF2)   tf2onnx.convert.from_graph_def on the graph rebuilt with the
                    document's calls, checkpoint restored and frozen, as TF 2 builds it
                    by default (control flow v2: While and TensorList ops)
    tf2onnx (v1)    the same after tf.compat.v1.disable_v2_behavior() (TF1 control flow:
                    Enter/Exit/TensorArray, what TF 1.x built)

disable_v2_behavior changes process-wide state, so each conversion runs in its
own subprocess. Measured, per ONNX file:

    nodes      graph nodes: top level / including subgraphs (a Scan's or Loop's body)
    loads      whether onnxruntime can create a CPU InferenceSession for it
    vs TF1     the largest absolute difference of any output (outputs, each layer's
               c and h) from TF1's float32 Session.run on the same inputs and checkpoint
    vs f64     the same against TF1's graph built in float64 on the same (float32)
               weights and inputs: how far each float32 result is from exact
    median ms  median wall time of one InferenceSession.run over --runs runs after
               --warmup runs, one thread (intra_op and inter_op), same inputs
    convert s  wall time of the conversion call (TensorFlow already imported; ours
               includes convert_checkpoint's reload and check against TF1)

plus each file's op types. The "TF1 Session" row is TF1's own graph, timed the
same way (Session.run, one thread). ONNX opset 17 for both converters.

Usage: .venv/bin/python scripts/bench_tf2onnx.py [--runs 200] [--warmup 20] [--keep DIR]
Needs tf2onnx, which is not a tf1_lstm dependency: pip install 'tf2onnx==1.17.*'
(exits 2 without it).
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tf1_lstm import cases  # noqa: E402  (TensorFlow-free)
from tf1_lstm.spec import CellSpec  # noqa: E402

OPSET = 17
MODES = ("default", "v1")           # tf2onnx's two runs: TF 2 graph mode, disable_v2_behavior
LABELS = {"ours": "tf1_lstm", "default": "tf2onnx (TF2)", "v1": "tf2onnx (v1)"}


def specs():
    """The benchmarked sizes of the document's stacked graph, with random weights."""
    doc = cases.get("stacked")
    x = np.random.default_rng(0).normal(0.0, 1.0, (32, 50, 32))
    realistic = doc.replace(name="stacked_realistic", inputs=x,
                            cells=(CellSpec(num_units=64), CellSpec(num_units=64)),
                            placeholder_shape=(None, None, 32))
    return {"document": cases.with_random_weights(doc, seed=1),
            "realistic": cases.with_random_weights(realistic, seed=2)}


def median_ms(run, runs: int, warmup: int) -> float:
    """Median wall time of ``run()`` in milliseconds over ``runs`` calls after ``warmup``."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


# --- workers (each in its own process) -------------------------------------------------------

def tf1_worker(mode: str, work: Path, runs: int, warmup: int) -> None:
    """Build the TF1 graph (``mode``), restore the checkpoint, run it, convert with tf2onnx.

    In ``default`` mode the checkpoint is written first (``checkpoint.write``:
    the same graph built with the document's calls and ``Saver.save``).
    """
    from tf1_lstm import tfcompat
    from tf1_lstm.engines import tf1
    from tf1_lstm.migrate import checkpoint

    tf = tfcompat.load()                # before tf2onnx imports TensorFlow: sets tf-keras up
    v1 = tf.compat.v1
    if mode == "v1":
        v1.disable_v2_behavior()
    import tf2onnx

    for size, spec in specs().items():
        folder = work / size
        folder.mkdir(exist_ok=True)
        ckpt = folder / "model.ckpt"
        if mode == "default":
            checkpoint.write(ckpt, spec, spec.weights)
            np.savez(folder / "tf1_float64.npz", **float64_reference(spec))
        graph = tf.Graph()
        with graph.as_default():
            built = tf1.build(spec)
            names = list(built.fetches)                     # outputs, state/0/c, state/0/h, ...
            tensors = [built.fetches[n] for n in names]
            saver = v1.train.Saver(v1.trainable_variables())
            config = v1.ConfigProto(intra_op_parallelism_threads=1,
                                    inter_op_parallelism_threads=1)
            with v1.Session(graph=graph, config=config) as sess:
                saver.restore(sess, str(ckpt))
                values = sess.run(tensors, built.feed)
                tf1_ms = median_ms(lambda: sess.run(tensors, built.feed), runs, warmup)
                frozen = v1.graph_util.convert_variables_to_constants(
                    sess, graph.as_graph_def(), [t.op.name for t in tensors])
        np.savez(folder / f"tf1_{mode}.npz", **dict(zip(names, values)))
        out = folder / f"tf2onnx_{mode}.onnx"
        out.unlink(missing_ok=True)                     # from an earlier run into --keep
        start = time.perf_counter()
        error = ""
        try:
            tf2onnx.convert.from_graph_def(frozen, input_names=[built.inputs.name],
                                           output_names=[t.name for t in tensors],
                                           opset=OPSET, output_path=str(out))
        except Exception as exc:  # noqa: BLE001  (a failed conversion is a result)
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        info = {"input": built.inputs.name, "outputs": dict(zip(names, [t.name for t in tensors])),
                "tf1_ms": tf1_ms, "convert_s": time.perf_counter() - start, "error": error}
        (folder / f"tf2onnx_{mode}.json").write_text(json.dumps(info))


def float64_reference(spec):
    """TF1's graph in float64 on the checkpoint's (float32) weights and inputs.

    TF1's float32 graph and the two float32 files round differently; their
    distances from this float64 answer say which is closer to the arithmetic
    they all approximate.
    """
    from tf1_lstm.engines import tf1

    def f32(a):
        return np.asarray(a, np.float32).astype(np.float64)

    exact = spec.replace(dtype="float64", inputs=f32(spec.inputs))
    arrays = tf1.run(exact, {k: f32(v) for k, v in spec.weights.items()})
    return {k: arrays[k] for k in ["outputs", *spec.state_keys()]}


def ours_worker(work: Path) -> None:
    """Convert each checkpoint with ``tf1_lstm.migrate.files.convert_checkpoint``."""
    from tf1_lstm import tfcompat
    from tf1_lstm.migrate import files

    tfcompat.load()
    for size, spec in specs().items():
        folder = work / size
        out = folder / "ours.onnx"
        out.unlink(missing_ok=True)                     # from an earlier run into --keep
        start = time.perf_counter()
        conversion = files.convert_checkpoint(folder / "model.ckpt", spec, "onnx", out)
        check = conversion.comparison
        info = {"convert_s": time.perf_counter() - start, "ok": check.ok,
                "max_abs": check.max_abs, "mismatched": [a.name for a in check.mismatches],
                "tolerance": sorted({(a.rtol, a.atol) for a in check.arrays})}
        (folder / "ours.json").write_text(json.dumps(info))


def run_worker(args, work: Path) -> None:
    """Run this script as a worker subprocess; stop with its log on failure."""
    cmd = [sys.executable, __file__, "--worker", *args, "--dir", str(work)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = work / f"worker_{args[0]}.log"
    with open(log, "w") as stream:
        proc = subprocess.run(cmd, stdout=stream, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}); last lines of {log}:\n"
                 + "\n".join(log.read_text().splitlines()[-20:]))


# --- measuring the files (this process: onnx and onnxruntime only) --------------------------

def count_nodes(graph):
    """``(top-level nodes, nodes including subgraphs, op type counts of all of them)``."""
    ops = collections.Counter()
    total = 0
    stack = [graph]
    while stack:
        g = stack.pop()
        for node in g.node:
            total += 1
            ops[node.op_type] += 1
            for attr in node.attribute:
                stack += ([attr.g] if attr.HasField("g") else []) + list(attr.graphs)
    return len(graph.node), total, ops


def max_abs(got, want) -> str:
    """The largest absolute difference over every output array, formatted."""
    return "%.2g" % max(float(np.max(np.abs(got[k] - want[k]))) for k in want)


def measure(path: Path, feed_name: str, output_names, references, x, runs: int, warmup: int):
    """Nodes, op types, whether onnxruntime loads ``path``, max abs diffs and median time.

    ``references``: label -> {result name: array}; ``output_names``: result
    name -> the file's output name.
    """
    import onnx
    import onnxruntime as ort

    top, total, ops = count_nodes(onnx.load(str(path)).graph)
    row = {"nodes": f"{top} / {total}", "ops": ops, "loads": "no", "ms": "-",
           "not_onnx": sorted(op for op in ops if not onnx.defs.has(op))}
    row.update({label: "-" for label in references})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001  (not loading is the result)
        row["why"] = str(exc).splitlines()[0].split("failed:")[-1][:160]
        return row
    keys = list(next(iter(references.values())))
    names = [output_names[key] for key in keys]
    feeds = {feed_name: x}
    got = dict(zip(keys, session.run(names, feeds)))
    row.update({label: max_abs(got, want) for label, want in references.items()})
    row["loads"] = "yes"
    row["ms"] = "%.3f" % median_ms(lambda: session.run(names, feeds), runs, warmup)
    return row


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker[0] == "ours":
            ours_worker(args.dir)
        else:
            tf1_worker(args.worker[0], args.dir, args.runs, args.warmup)
        return 0

    missing = [m for m in ("tf2onnx", "onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"{', '.join(missing)} not installed: .venv/bin/pip install 'tf2onnx==1.17.*' "
              f"onnx onnxruntime (tf2onnx is not a tf1_lstm dependency)")
        return 2

    print(f"tensorflow {version('tensorflow')}, tf2onnx {version('tf2onnx')}, "
          f"onnx {version('onnx')}, onnxruntime {version('onnxruntime')}; opset {OPSET}; "
          f"median of {args.runs} runs after {args.warmup}, one thread")
    tmp = None
    if args.keep:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_tf2onnx_")
        work = Path(tmp.name)
    started = time.perf_counter()
    timing = ["--runs", str(args.runs), "--warmup", str(args.warmup)]
    for mode in MODES:                                  # "default" writes the checkpoints
        run_worker([mode, *timing], work)
    run_worker(["ours"], work)

    columns = ("size", "converter", "nodes", "loads", "vs TF1", "vs f64", "median ms",
               "convert s")
    widths = (9, 14, 8, 5, 7, 7, 9, 9)
    rows, notes = [columns], []
    for size, spec in specs().items():
        folder = work / size
        x = spec.inputs.astype(np.float32)
        tf1_f32 = dict(np.load(folder / "tf1_default.npz"))
        references = {"vs TF1": tf1_f32, "vs f64": dict(np.load(folder / "tf1_float64.npz"))}
        infos = {m: json.loads((folder / f"tf2onnx_{m}.json").read_text()) for m in MODES}
        ours = json.loads((folder / "ours.json").read_text())
        ours_names = {"outputs": "outputs"}
        ours_names.update({spec.state_key(k, p): f"state_{p}_{k}"
                           for k in range(len(spec.cells)) for p in ("c", "h")})
        files = [("ours", folder / "ours.onnx", "inputs", ours_names, ours["convert_s"])]
        files += [(m, folder / f"tf2onnx_{m}.onnx", infos[m]["input"], infos[m]["outputs"],
                   infos[m]["convert_s"]) for m in MODES]
        rows.append((size, "TF1 Session", "-", "-", "0", max_abs(tf1_f32, references["vs f64"]),
                     "%.3f" % infos["default"]["tf1_ms"], "-"))
        v1_graph = max_abs(dict(np.load(folder / "tf1_v1.npz")), tf1_f32)
        notes.append(f"{size}: B, T, I = {', '.join(map(str, spec.inputs.shape))}; units "
                     f"{', '.join(str(c.num_units) for c in spec.cells)}")
        verdict = "OK" if ours["ok"] else "FAILED on " + ", ".join(ours["mismatched"])
        tolerance = "; ".join(f"rtol {r:g}, atol {a:g}" for r, a in ours["tolerance"])
        notes.append(f"  tf1_lstm's own check of its file (convert_checkpoint, {tolerance}): "
                     f"{verdict}, max abs diff {ours['max_abs']:.2g}")
        notes.append(f"  TF1 Session.run after disable_v2_behavior: "
                     f"{infos['v1']['tf1_ms']:.3f} ms, outputs differ by {v1_graph}")
        for mode, path, feed, names, seconds in files:
            if not path.exists():
                rows.append((size, LABELS[mode], "no file", "-", "-", "-", "-", "%.2f" % seconds))
                notes.append(f"  {LABELS[mode]}: {infos[mode]['error']}")
                continue
            row = measure(path, feed, names, references, x, args.runs, args.warmup)
            rows.append((size, LABELS[mode], row["nodes"], row["loads"], row["vs TF1"],
                         row["vs f64"], row["ms"], "%.2f" % seconds))
            ops = ", ".join(f"{op} {n}" for op, n in sorted(row["ops"].items(),
                                                          key=lambda item: (-item[1], item[0])))
            notes.append(f"  {LABELS[mode]} ops: {ops}")
            if row["not_onnx"]:
                notes.append(f"  {LABELS[mode]} ops that are not ONNX ops (left unconverted): "
                             f"{', '.join(row['not_onnx'])}")
            if "why" in row:
                notes.append(f"  {LABELS[mode]} does not load: {row['why']}")
    lines = [" ".join(f"{cell:<{w}}" if k < 2 else f"{cell:>{w}}"
                      for k, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    print("\n".join(lines))
    print("\n".join(notes))
    kept = f"; files in {work}" if args.keep else ""
    print(f"total {time.perf_counter() - started:.0f} s{kept}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
