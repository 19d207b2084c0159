"""Fixed seeds really are fixed: fresh processes give byte-identical goldens."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest

from tf1_lstm import cases
from tf1_lstm.engines import tf1


@pytest.mark.subprocess
def test_two_fresh_processes_generate_byte_identical_goldens(tmp_path):
    """`tf1-lstm regen` in two fresh interpreters writes the same bytes for every case."""
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # Different hash seeds: nothing may depend on set iteration order.
    dirs = [tmp_path / "a", tmp_path / "b"]
    procs = [subprocess.Popen([sys.executable, "-m", "tf1_lstm", "regen", "--golden-dir", str(d)],
                              env={**env, "PYTHONHASHSEED": str(seed)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for d, seed in zip(dirs, (1, 2))]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    names = sorted(p.name for p in dirs[0].iterdir())
    assert names == sorted(f"{n}.npz" for n in cases.names())
    for name in names:
        assert (dirs[0] / name).read_bytes() == (dirs[1] / name).read_bytes(), name


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
