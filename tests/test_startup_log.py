"""The CLI holds back TensorFlow's C++ start-up log and shows everything else."""

import os
import subprocess
import sys

import pytest

from tf1_lstm import startup_log

STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796362315.985046   20451 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results\n"
    "I0000 00:00:1796362315.985461   20451 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n"
    "E0000 00:00:1796362319.288080   20451 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
)


def test_start_up_lines_are_held_and_real_errors_kept_in_order(capfd, monkeypatch):
    monkeypatch.delenv(startup_log.ENV, raising=False)
    with startup_log.held():
        os.write(2, b"first real line\n" + STARTUP.encode() +
                 b"E0000 00:00:1.0 1 session.cc:9] a real kernel error\n")
    assert capfd.readouterr().err == ("first real line\n"
                                      "E0000 00:00:1.0 1 session.cc:9] a real kernel error\n")


def test_the_log_is_shown_when_asked_for(capfd, monkeypatch):
    monkeypatch.setenv(startup_log.ENV, "1")
    with startup_log.held():
        os.write(2, STARTUP.encode())
    assert capfd.readouterr().err == STARTUP


def test_stderr_is_restored_even_when_the_block_raises(capfd, monkeypatch):
    monkeypatch.delenv(startup_log.ENV, raising=False)
    with pytest.raises(RuntimeError):
        with startup_log.held():
            os.write(2, b"before the error\n")
            raise RuntimeError("boom")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before the error\nafter\n"


@pytest.mark.subprocess
def test_a_cli_command_prints_no_start_up_noise():
    env = {k: v for k, v in os.environ.items() if k not in (startup_log.ENV,
                                                             "TF_CPP_MIN_LOG_LEVEL")}
    done = subprocess.run([sys.executable, "-m", "tf1_lstm", "check", "single_cell"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "absl" not in done.stdout
    verbose = subprocess.run([sys.executable, "-m", "tf1_lstm", "--verbose", "check",
                              "single_cell"], capture_output=True, text=True, env=env,
                             timeout=300)
    assert "oneDNN" in verbose.stderr or "absl" in verbose.stderr
