"""What the environment is: versions, oneDNN, determinism settings.

Recorded in every golden's metadata and printed by ``tf1-lstm env``, so that
a difference between two runs can be traced to what changed. Only facts that
are the same on every run on one machine go into goldens (no time stamps, no
host names), so that regeneration is byte-identical.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Any, Dict

from . import __version__, tfcompat

# Environment variables that change numbers or their reproducibility.
DETERMINISM_ENV = (
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_USE_LEGACY_KERAS",
    "TF_DETERMINISTIC_OPS",
    "TF_CUDNN_DETERMINISTIC",
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
)


def versions() -> Dict[str, Any]:
    """Package versions (read from distribution metadata, no imports)."""
    out: Dict[str, Any] = {"tf1_lstm": __version__}
    out.update(tfcompat.installed_versions())
    out["python"] = platform.python_version()
    return out


def platform_tag() -> str:
    """``<system> <machine>``: stable on one kind of machine, unlike the kernel release."""
    return f"{platform.system()} {platform.machine()}"


def golden_environment() -> Dict[str, Any]:
    """The environment part of golden metadata."""
    return {
        "versions": versions(),
        "platform": platform_tag(),
        "onednn": tfcompat.onednn_setting(),
    }


def report() -> Dict[str, Any]:
    """Everything ``tf1-lstm env`` prints."""
    from . import cases

    info = golden_environment()
    info["python_executable"] = sys.executable
    info["platform_detail"] = platform.platform()
    info["environment"] = {name: os.environ.get(name) for name in DETERMINISM_ENV}
    info["onednn_note"] = ("'default' means TF_ENABLE_ONEDNN_OPTS is unset: TensorFlow then uses "
                           "its oneDNN custom ops on x86-64 Linux (it logs 'oneDNN custom "
                           "operations are on'); set it to 0 or 1 to pin the choice")
    info["case_seeds"] = {name: case.seed for name, case in cases.CASES.items()}
    info["seeding"] = ("per case: tf.compat.v1.set_random_seed(seed), random.seed(seed), "
                       "numpy.random.seed(seed) right before building the graph; Python's and "
                       "NumPy's states are restored afterwards")
    return info
