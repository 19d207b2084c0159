"""Legacy-style TF1 programs of our own, each through run -> capture -> check in fresh processes.

Each program is written the way TF 1.x code was (tests/legacy_scripts/), and
runs as users run it: ``python -m tf1_lstm run`` in a process of its own
(TF 1.x behaviour for the process), once to capture with a seed and once to
check, with small step counts through its own flags. A check must hold with
max abs diff 0 (same machine, same settings), and the capture must record
the runner's settings.
"""

import gzip
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import golden

LEGACY = Path(__file__).resolve().parent / "legacy_scripts"
pytestmark = pytest.mark.subprocess


def tf1_run(*argv, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "tf1_lstm", "run", *map(str, argv)],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)


def write_idx(directory: Path, n_train: int = 40, n_test: int = 12) -> None:
    """The four MNIST IDX files, gzipped, with n random 28x28 images and labels."""
    rng = np.random.RandomState(3)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = rng.randint(0, 10, size=n).astype(np.uint8)
        with gzip.open(directory / f"{prefix}-images-idx3-ubyte.gz", "wb") as fh:
            fh.write(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        with gzip.open(directory / f"{prefix}-labels-idx1-ubyte.gz", "wb") as fh:
            fh.write(struct.pack(">II", 2049, n) + labels.tobytes())


def _prepare_mnist(tmp_path):
    (tmp_path / "MNIST_data").mkdir()
    write_idx(tmp_path / "MNIST_data")
    return ["--data_dir", "MNIST_data", "--steps", "3"]


# program, its arguments (a function of the work directory when it needs files),
# and what its output shows when it really ran
PROGRAMS = {
    "char_rnn_legacy": (["--save_dir", "save", "--num_steps", "3", "--sample_len", "6"],
                        r"2/3, train_loss = \d\.\d{3}\nsample: t\w*"),
    "word_lm_flags": (["--save_path", "lm", "--max_steps", "2"],
                      r"step 1: lr 0\.500 cost [\d.]+\nrestored step 2, test cost [\d.]+"),
    "seq2seq_decoder": (["--steps", "3"], r"step 2 loss [\d.]+\ngreedy ids \(6, \d\) lengths"),
    "mnist_rows": (_prepare_mnist, r"Step 3, Minibatch Loss= [\d.]+.*\nTesting Accuracy: "),
    "fc_sequence_loss": (["--epochs", "3"], r"2 loss: [\d.]+ Prediction: "),
    "dropout_lm": (["--steps", "3"], r"step 2 train loss [\d.]+\neval loss [\d.]+"),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_legacy_program_runs_captures_and_checks_exactly(name, tmp_path):
    # the capture and the check each run in a fresh work directory, as a CI job would:
    # a program that restores from what an earlier run saved takes another path
    first, second = tmp_path / "capture", tmp_path / "check"
    first.mkdir()
    second.mkdir()
    args, shows = PROGRAMS[name]
    if callable(args):  # prepares a work directory's data and returns the arguments
        args = args(first)
        assert args == PROGRAMS[name][0](second)
    script = LEGACY / f"{name}.py"
    capture = first / f"{name}.npz"
    made = tf1_run(script, "--seed", "0", "--capture", capture.name, "--", *args, cwd=first)
    assert made.returncode == 0, made.stderr[-3000:]
    assert re.search(shows, made.stdout), made.stdout
    assert f"{name}.py: captured " in made.stderr
    meta = golden.load(capture).meta
    assert meta["runner"] == {"mode": "tf1_process", "seed": 0, "python_hash_seed": "0",
                              "session_config": {"inter_op_parallelism_threads": 1}}
    (second / capture.name).write_bytes(capture.read_bytes())
    checked = tf1_run(script, "--check", capture.name, "--", *args, cwd=second)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert re.search(r": OK \(\d+ Session\.run calls, \d+ arrays, max abs diff 0\)",
                     checked.stderr), checked.stderr
    assert "note:" not in checked.stderr
    assert checked.stdout == made.stdout
