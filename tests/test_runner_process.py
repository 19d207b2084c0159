"""`tf1-lstm run` as its own process: TF 1.x semantics, -m modules, NumPy aliases, clean exits."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tf1_lstm import golden

pytestmark = pytest.mark.subprocess


def tf1_run(*argv, cwd: Path, timeout: int = 300, env=None,
            **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "tf1_lstm", "run", *map(str, argv)],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd,
                          **kwargs)


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


TF1_SEMANTICS = """
    import threading
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework import ops

    # 1. reference variables, v1 shapes, graph mode
    v = tf.Variable(0.0, trainable=False, name="lr")
    x = tf.placeholder(tf.float32, [None, 3])
    print("variable", type(v).__name__, v.dtype.name, "eager", tf.executing_eagerly())
    print("dimension", type(x.get_shape()[1]).__name__, x.get_shape()[1].value)

    # 2. a variable in a custom collection survives the meta-graph round trip
    tf.add_to_collection("lr", v)
    meta = tf.train.export_meta_graph()
    tf.reset_default_graph()
    tf.train.import_meta_graph(meta)
    lr = tf.get_collection_ref("lr")[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        print("after import", isinstance(lr, tf.Tensor), lr.dtype.name, sess.run(lr))

    # 3. the internal module's reset empties the one default graph
    ops.reset_default_graph()
    print("after ops.reset_default_graph", len(tf.get_default_graph().get_operations()))

    # 4. a thread the script starts is in graph mode; as TF 1.x documented, the default
    #    graph is a property of the thread, so it enters the script's graph to build on it
    seen = {}
    g = tf.get_default_graph()
    def build():
        seen["eager"] = tf.executing_eagerly()
        seen["own"] = tf.get_default_graph() is g
        with g.as_default():
            seen["op"] = tf.constant(2.0, name="from_thread")
    t = threading.Thread(target=build)
    t.start(); t.join()
    print("thread eager", seen["eager"], "own default graph", not seen["own"],
          "built on the script's", seen["op"].graph is g)

    # 5. a queue-runner input pipeline with a Coordinator
    queue = tf.train.range_input_producer(5, shuffle=False)
    batch = tf.train.batch([queue.dequeue()], batch_size=3)
    w = tf.get_variable("w", [], initializer=tf.constant_initializer(1.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w.load(3.0, sess)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        print("batches", sess.run(batch).tolist(), sess.run(batch).tolist(), "w", sess.run(w))
        coord.request_stop()
        coord.join(threads)
"""


def test_a_script_gets_tf1_semantics_for_its_whole_process(tmp_path):
    script = write(tmp_path, "tf1_semantics.py", TF1_SEMANTICS)
    done = tf1_run(script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        "variable RefVariable float32_ref eager False",
        "dimension Dimension 3",
        "after import True float32_ref 0.0",
        "after ops.reset_default_graph 0",
        "thread eager False own default graph True built on the script's True",
        "batches [0, 1, 2] [3, 4, 0] w 3.0",
    ]
    capture = tmp_path / "sem.npz"
    assert tf1_run(script, "--capture", capture, cwd=tmp_path).returncode == 0
    checked = tf1_run(script, "--check", capture, cwd=tmp_path)
    assert checked.returncode == 0 and "max abs diff 0)" in checked.stderr, checked.stderr


def test_a_module_runs_as_python_m_runs_it(tmp_path):
    write(tmp_path, "proj/__init__.py", "")
    write(tmp_path, "proj/helpers.py", """
        import tensorflow as tf
        def scale():
            return tf.constant(2.0)
    """)
    write(tmp_path, "proj/train.py", """
        import sys
        import tensorflow as tf
        from proj.helpers import scale
        x = tf.placeholder(tf.float32, [])
        with tf.Session() as sess:
            print(__name__, sys.argv[1:], sess.run(x * scale(), {x: float(sys.argv[2])}))
    """)
    write(tmp_path, "proj/__main__.py", "print('package main', __name__)\n")
    capture = tmp_path / "train.npz"
    made = tf1_run("-m", "proj.train", "--capture", capture, "--", "--x", "4", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout == "__main__ ['--x', '4'] 8.0\n"
    meta = golden.load(capture).meta
    assert meta["script"] == "proj.train"
    assert "tf1-lstm run -m proj.train --seed 0 --capture train.npz -- --x 4" == meta["command"]
    checked = tf1_run("-m", "proj.train", "--check", capture, "--", "--x", "5", cwd=tmp_path)
    assert checked.returncode == 1 and "MISMATCH" in checked.stderr
    assert tf1_run("-m", "proj", cwd=tmp_path).stdout == "package main __main__\n"
    missing = tf1_run("-m", "proj.nope", cwd=tmp_path)
    assert missing.returncode == 2
    assert "tf1-lstm: error: -m proj.nope: no module named 'proj.nope'" in missing.stderr


def test_interrupt_failure_and_directory_changes(tmp_path):
    interrupted = write(tmp_path, "stop.py", "raise KeyboardInterrupt\n")
    done = tf1_run(interrupted, "--capture", "stop.npz", cwd=tmp_path)
    assert done.returncode == 130
    assert done.stderr.strip().splitlines()[-1] == (
        f"tf1-lstm: interrupted: stop.py stopped by KeyboardInterrupt; nothing was written to "
        f"{tmp_path / 'stop.npz'}")
    assert "Traceback" not in done.stderr
    failing = write(tmp_path, "fail.py", """
        import tensorflow as tf
        tf.contrib.rnn.LSTMCell(3)(tf.zeros([2, 4]), "not a state")
    """)
    done = tf1_run(failing, cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr.count("Traceback (most recent call last)") == 1
    assert "tf1_lstm/runner" not in done.stderr and "runpy" not in done.stderr
    assert done.stderr.rstrip().endswith("tf1-lstm: error: fail.py raised (traceback above)")
    mover = write(tmp_path, "mover.py", """
        import os
        import tensorflow as tf
        os.makedirs("elsewhere", exist_ok=True)
        os.chdir("elsewhere")
        with tf.Session() as sess:
            print(sess.run(tf.constant(1.5)))
    """)
    (tmp_path / "run_here").mkdir()
    done = tf1_run(mover, "--capture", "rel.npz", cwd=tmp_path / "run_here")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run_here" / "rel.npz").is_file()
    assert not (tmp_path / "run_here" / "elsewhere" / "rel.npz").exists()


def test_numpy_failures_are_named_and_the_removed_aliases_can_be_restored(tmp_path):
    script = write(tmp_path, "old_numpy.py", """
        import numpy as np
        import tensorflow as tf
        x = np.zeros(3, dtype=np.float)
        with tf.Session() as sess:
            print(sess.run(tf.constant(x) + np.asscalar(np.array([2.0]))))
    """)
    done = tf1_run(script, cwd=tmp_path)
    assert done.returncode == 3
    assert re.search(r"tf1-lstm: the script failed on NumPy, not TensorFlow: np\.float was "
                     r"removed in NumPy 1\.24 .*--numpy-aliases", done.stderr), done.stderr
    done = tf1_run(script, "--numpy-aliases", "--capture", "np.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[2. 2. 2.]\n"
    runner = golden.load(tmp_path / "np.npz").meta["runner"]
    assert {"float", "asscalar"} <= set(runner["numpy_aliases"])
    import numpy as np
    assert "float" not in np.__dict__  # this process's NumPy is untouched
    checked = tf1_run(script, "--check", "np.npz", cwd=tmp_path)  # aliases not restored
    assert checked.returncode == 3


def test_captures_fix_the_hash_seed_that_orders_set_vocabularies(tmp_path):
    """`list(set(text))` vocabularies: a capture runs with PYTHONHASHSEED 0, a check with the
    capture's, whatever the calling shell has."""
    script = write(tmp_path, "vocab.py", """
        import tensorflow as tf
        chars = list(set("the quick brown fox jumps over the lazy dog"))
        ids = tf.constant([chars.index(c) for c in "hello"])
        with tf.Session() as sess:
            print(sess.run(ids))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    made = tf1_run(script, "--capture", "vocab.npz", cwd=tmp_path, env=dict(env))
    assert made.returncode == 0, made.stderr
    assert golden.load(tmp_path / "vocab.npz").meta["runner"]["python_hash_seed"] == "0"
    for other in ("1", "random"):
        checked = tf1_run(script, "--check", "vocab.npz", cwd=tmp_path,
                          env=dict(env, PYTHONHASHSEED=other))
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout == made.stdout
    # a plain run is plain Python: the order is the process's own (hash seeds 1 and 2 order
    # this set differently in CPython 3.11)
    plain = {tf1_run(script, cwd=tmp_path, env=dict(env, PYTHONHASHSEED=s)).stdout
             for s in ("1", "2")}
    assert len(plain) == 2
