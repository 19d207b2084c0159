"""Loading TensorFlow one way, with errors that say what to do."""

import os
import subprocess
import sys

import pytest

from tf1_lstm import tfcompat


@pytest.mark.subprocess
def test_importing_the_package_imports_no_tensorflow_and_sets_nothing():
    code = ("import os, sys, tf1_lstm, tf1_lstm.cli, tf1_lstm.checker, tf1_lstm.golden, "
            "tf1_lstm.compare, tf1_lstm.cases, tf1_lstm.display, tf1_lstm.engines, "
            "tf1_lstm.engines.tf1; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
            "assert 'TF_USE_LEGACY_KERAS' not in os.environ, 'env changed'; print('clean')")
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "clean", proc.stderr[-2000:]


def _versions(tf, keras2):
    return {"tensorflow": tf, "tf-keras": keras2, "keras": None, "tf-slim": None, "numpy": None}


@pytest.mark.parametrize("tf_version, keras2, message", [
    (None, None, r"TensorFlow is not installed: pip install"),
    ("2.21.0", None, r"ships Keras 3.*pip install 'tf-keras==2\.21\.\*'"),
    ("2.21.0", "2.20.1", r"tf-keras 2\.20\.1 does not match TensorFlow 2\.21\.0.*tf-keras==2\.21\.\*"),
])
def test_setup_errors_say_what_to_install(monkeypatch, tf_version, keras2, message):
    monkeypatch.delenv(tfcompat.LEGACY_KERAS_ENV, raising=False)
    with pytest.raises(tfcompat.TensorFlowSetupError, match=message):
        tfcompat._prepare_environment(_versions(tf_version, keras2))


def test_tf_2_15_with_legacy_env_but_no_tf_keras_is_refused(monkeypatch):
    monkeypatch.setenv(tfcompat.LEGACY_KERAS_ENV, "1")
    with pytest.raises(tfcompat.TensorFlowSetupError, match="unset TF_USE_LEGACY_KERAS"):
        tfcompat._prepare_environment(_versions("2.15.1", None))


def test_tf_2_13_needs_nothing_set(monkeypatch):
    monkeypatch.delenv(tfcompat.LEGACY_KERAS_ENV, raising=False)
    tfcompat._prepare_environment(_versions("2.13.1", None))
    assert tfcompat.LEGACY_KERAS_ENV not in os.environ


def test_load_gives_tf1_cells(tf):
    assert tfcompat.load() is tf
    assert tf.compat.v1.nn.rnn_cell.LSTMCell.__name__ == "LSTMCell"
