"""Fixed seeds really are fixed: fresh processes give byte-identical goldens."""

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import cases
from tf1_lstm.engines import tf1


GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
# Two OpenBLAS kernels whose LAPACK results differ in the last bits on this workplace's CPUs
# (np.linalg.eigvals: 4 ulp between SkylakeX and Haswell; Sandybridge differs from both), and
# two thread counts for OpenBLAS and TensorFlow's intra-op pool.
MACHINES = ({"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1",
             "TF_NUM_INTRAOP_THREADS": "1", "PYTHONHASHSEED": "1"},
            {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "2",
             "TF_NUM_INTRAOP_THREADS": "2", "PYTHONHASHSEED": "2"})


@pytest.mark.subprocess
def test_goldens_are_the_same_bytes_whatever_the_blas_kernel_threads_and_hash_seed(tmp_path):
    """`tf1-lstm regen` in fresh interpreters under two OpenBLAS kernels, thread counts and
    hash seeds writes the committed goldens' bytes for every case."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_USE_LEGACY_KERAS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    dirs = [tmp_path / "a", tmp_path / "b"]
    procs = [subprocess.Popen([sys.executable, "-m", "tf1_lstm", "regen", "--golden-dir", str(d)],
                              env={**env, **machine},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for d, machine in zip(dirs, MACHINES)]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()[-2000:]
    names = sorted(p.name for p in dirs[0].iterdir())
    assert names == sorted(f"{n}.npz" for n in cases.names())
    for name in names:
        assert (dirs[0] / name).read_bytes() == (dirs[1] / name).read_bytes(), name
        assert _content(dirs[0] / name) == _content(GOLDEN_DIR / name), name


def _content(path):
    """A golden's array bytes and its metadata less the record of the machine that made it."""
    from tf1_lstm import golden

    gold = golden.load(path)
    meta = {k: v for k, v in gold.meta.items() if k not in ("platform", "versions", "onednn")}
    return {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in gold.arrays.items()}, meta


def test_seeded_weights_do_not_depend_on_prior_random_state():
    """tf-keras draws op seeds from Python's random; seeding it makes init independent of history."""
    spec = cases.get("single_cell")
    random.seed(1)
    np.random.seed(1)
    first = tf1.execute(spec).initial_variables
    random.seed(2)
    np.random.seed(2)
    random.random()
    second = tf1.execute(spec).initial_variables
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_seeded_restores_the_callers_random_streams():
    random.seed(7)
    np.random.seed(7)
    expected = (random.random(), np.random.rand())
    random.seed(7)
    np.random.seed(7)
    with tf1.seeded(123):
        random.random()
        np.random.rand()
    assert (random.random(), np.random.rand()) == expected


def test_graph_seed_alone_is_not_enough(tf):
    """The pitfall seeding guards against: same graph seed, other Python random state, other weights."""
    def kernel(py_seed):
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.set_random_seed(42)
            random.seed(py_seed)
            tf1.build(cases.get("single_cell"))
            with tf.compat.v1.Session(graph=graph) as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                return sess.run(tf.compat.v1.trainable_variables()[0])

    state = random.getstate()
    try:
        assert not np.array_equal(kernel(1), kernel(2))
    finally:
        random.setstate(state)


def test_different_seeds_give_different_weights():
    spec = cases.get("single_cell")
    a = tf1.execute(spec).initial_variables
    b = tf1.execute(spec.replace(seed=43)).initial_variables
    name = "LSTM_sample1/basic_lstm_cell/kernel:0"
    assert not np.array_equal(a[name], b[name])
