"""The one module that imports TensorFlow.

TF >= 2.16 ships Keras 3, which has no TF1 RNN cells:
``tf.compat.v1.nn.rnn_cell.LSTMCell`` only resolves when the ``tf-keras``
package (same minor version as TensorFlow) is installed and
``TF_USE_LEGACY_KERAS=1`` is set before TensorFlow is first imported. On
TF 2.12-2.15 the cells live in TF's own Keras 2, and setting the variable
without tf-keras installed breaks them. :func:`load` sets what the installed
version needs, imports TensorFlow, checks that the TF1 cells resolve, and
otherwise raises :class:`TensorFlowSetupError` saying what to do.

Nothing happens at import time; the first :func:`load` call does the work.
Everything else in tf1_lstm asks this module for ``tf``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from types import ModuleType
from typing import Dict, Optional, Tuple

LEGACY_KERAS_ENV = "TF_USE_LEGACY_KERAS"
# First TF minor whose bundled Keras is Keras 3 (no TF1 cells without tf-keras).
KERAS3_SINCE = (2, 16)
SUPPORTED = ((2, 12), (2, 21))

_TF: Optional[ModuleType] = None


class TensorFlowSetupError(RuntimeError):
    """TensorFlow cannot provide the TF1 RNN cells; the message says how to fix it."""


def _dist_version(*names: str) -> Optional[str]:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _minor(version: str) -> Tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def installed_versions() -> Dict[str, Optional[str]]:
    """Versions of the packages tf1_lstm depends on, read without importing them."""
    return {
        "tensorflow": _dist_version("tensorflow", "tensorflow-cpu", "tf-nightly"),
        "tf-keras": _dist_version("tf-keras", "tf_keras"),
        "keras": _dist_version("keras"),
        "tf-slim": _dist_version("tf-slim", "tf_slim"),
        "numpy": _dist_version("numpy"),
    }


def _prepare_environment(versions: Dict[str, Optional[str]]) -> None:
    """Set ``TF_USE_LEGACY_KERAS`` where the installed TensorFlow needs it."""
    tf_version = versions["tensorflow"]
    if tf_version is None:
        raise TensorFlowSetupError(
            "TensorFlow is not installed: pip install 'tensorflow>=2.12,<2.22' "
            "(and on TF >= 2.16 the matching tf-keras), or run scripts/setup.sh")
    tf_minor = _minor(tf_version)
    keras2 = versions["tf-keras"]
    if tf_minor >= KERAS3_SINCE:
        if keras2 is None:
            raise TensorFlowSetupError(
                f"TensorFlow {tf_version} ships Keras 3, which has no TF1 RNN cells; "
                f"install the matching tf-keras: pip install 'tf-keras=={tf_minor[0]}.{tf_minor[1]}.*'")
        if _minor(keras2) != tf_minor:
            raise TensorFlowSetupError(
                f"tf-keras {keras2} does not match TensorFlow {tf_version}; "
                f"install the same minor version: pip install 'tf-keras=={tf_minor[0]}.{tf_minor[1]}.*'")
        if "tensorflow" not in sys.modules:
            os.environ[LEGACY_KERAS_ENV] = "1"
    elif os.environ.get(LEGACY_KERAS_ENV) in ("1", "true", "True") and keras2 is None:
        raise TensorFlowSetupError(
            f"{LEGACY_KERAS_ENV} is set but TensorFlow {tf_version} has no tf-keras installed, "
            f"which breaks LSTMCell; unset {LEGACY_KERAS_ENV} (TF < 2.16 needs no tf-keras)")


def load() -> ModuleType:
    """Import and return the ``tensorflow`` module, ready for the TF1 RNN cells.

    Raises:
      TensorFlowSetupError: TensorFlow or tf-keras missing or mismatched, or
        TensorFlow imported earlier without ``TF_USE_LEGACY_KERAS=1``.
    """
    global _TF
    if _TF is not None:
        return _TF
    versions = installed_versions()
    imported_before = "tensorflow" in sys.modules
    _prepare_environment(versions)
    import tensorflow as tf  # noqa: E402  (the one import of TensorFlow)

    try:
        tf.compat.v1.nn.rnn_cell.LSTMCell  # noqa: B018  (resolves the lazy Keras loader)
    except (AttributeError, ImportError, ValueError) as exc:
        hint = (f"tensorflow was imported before tf1_lstm could set {LEGACY_KERAS_ENV}=1; "
                f"import tf1_lstm first or export {LEGACY_KERAS_ENV}=1"
                if imported_before else "check the tensorflow / tf-keras installation")
        raise TensorFlowSetupError(
            f"tf.compat.v1.nn.rnn_cell.LSTMCell does not resolve on TensorFlow "
            f"{versions['tensorflow']} ({exc}); {hint}") from None
    _TF = tf
    return tf


def v1() -> ModuleType:
    """``tf.compat.v1``, after :func:`load`."""
    return load().compat.v1


def onednn_setting() -> str:
    """``TF_ENABLE_ONEDNN_OPTS`` as set in the environment (``"default"`` when unset)."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
