"""Run unmodified TF 1.x scripts on today's TensorFlow, and capture or check what they compute.

``run_script(path, argv, seed=None, capture=None, check=None)`` executes a
script as ``__main__`` in which ``import tensorflow as tf`` gives the TF1
API (:mod:`tf1_lstm.runner.facade`: ``tf.compat.v1`` plus the RNN part of
``tf.contrib``), installed only for the run (:mod:`tf1_lstm.runner.shim`:
the real ``tensorflow`` module is back in ``sys.modules`` afterwards, and
the process is never switched out of eager mode; the script runs inside a
graph context instead). With ``capture`` it records every ``Session.run``
result into a golden file (a new ``.npz``, or a re-capture of the same
script, never any other file); with ``check`` it compares them with one
(:mod:`tf1_lstm.capture`).

Importing this package imports neither TensorFlow nor the facade; the run does.
"""

from .program import Program, ScriptError, ScriptFailed, compile_script, resolve  # noqa: F401
from .run import (DEFAULT_CAPTURE_SEED, EXIT_ERROR, EXIT_MISMATCH, EXIT_OK,  # noqa: F401
                  EXIT_SCRIPT_FAILED, RunResult, preflight, run_script)
