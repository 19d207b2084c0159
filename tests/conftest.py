"""Shared fixtures: a fresh graph and session per test, and scratch copies of the goldens."""

import os
import shutil
from pathlib import Path

import pytest

# Keep TensorFlow's C++ start-up chatter out of test output (test-only setting).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = REPO / "golden"


@pytest.fixture
def tf():
    """The ``tensorflow`` module, loaded the one way tf1_lstm loads it."""
    from tf1_lstm import tfcompat

    return tfcompat.load()


@pytest.fixture
def graph_session(tf):
    """A fresh ``tf.Graph`` as default graph and a ``Session`` on it."""
    graph = tf.Graph()
    with graph.as_default():
        sess = tf.compat.v1.Session(graph=graph)
        try:
            yield graph, sess
        finally:
            sess.close()


@pytest.fixture
def golden_copy(tmp_path):
    """A scratch copy of golden/ (tests may damage it; the real one stays untouched)."""
    target = tmp_path / "golden"
    target.mkdir()
    for path in GOLDEN_DIR.glob("*.npz"):
        if not path.name.endswith(".obtained.npz"):
            shutil.copy(path, target / path.name)
    return target
