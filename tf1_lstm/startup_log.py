"""TensorFlow's C++ start-up log, held back from the CLI's stderr unless asked for.

Importing TensorFlow (and its first device probe) writes a few lines straight
to file descriptor 2 from C++: absl's ``All log messages before
absl::InitializeLog()`` notice, oneDNN's round-off notice, ``cudart_stub``'s
and ``cuInit``'s "no GPU" lines (tf-keras pulls in the CUDA build of
``tensorflow``), the CPU-feature banner. ``TF_CPP_MIN_LOG_LEVEL`` cannot
silence all of them, and users read them as errors.

:func:`held` points descriptor 2 at a temporary file for the duration of a
block, then writes back every line that is not such start-up noise
(:data:`NOISE`), so real errors are still shown. ``TF1_LSTM_TF_LOG=1`` (or
the CLI's ``--verbose``) lets everything through. Only the CLI uses this,
around its one TensorFlow import; library code leaves the process's
descriptors alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator

ENV = "TF1_LSTM_TF_LOG"
# One pattern per kind of start-up line TensorFlow prints on a machine without a GPU.
NOISE = tuple(re.compile(p) for p in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"^[IWE]\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on\.",
    r"^[IWE]\d{4} [\d:. ]+\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers",
    r"^[IWE]\d{4} [\d:. ]+\d+ cuda_platform\.cc:\d+\] failed call to cuInit",
    r"^[IWE]\d{4} [\d:. ]+\d+ cuda_(executor|diagnostics|dnn|fft|blas)\.cc:\d+\] ",
    r"^[IWE]\d{4} [\d:. ]+\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* rebuild TensorFlow with the appropriate "
    r"compiler flags\.$",
    r"^[IWE]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\] Unable to register cu(DNN|FFT|BLAS) factory",
    r"^[IWE]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\] TF-TRT Warning: Could not find TensorRT",
    r"^[IWE]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\] computation placer already registered",
))


def is_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's start-up lines (:data:`NOISE`)."""
    return any(p.search(line) for p in NOISE)


def wanted() -> bool:
    """Whether the user asked to see TensorFlow's start-up log (``TF1_LSTM_TF_LOG=1``)."""
    return os.environ.get(ENV, "") not in ("", "0")


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold descriptor 2 during the block; write back what is not start-up noise, in order."""
    if wanted():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (embedded, closed): nothing to hold
        yield
        return
    with tempfile.TemporaryFile() as held_file:
        os.dup2(held_file.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held_file.seek(0)
            text = held_file.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(keepends=True) if not is_noise(line.rstrip("\n"))]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
