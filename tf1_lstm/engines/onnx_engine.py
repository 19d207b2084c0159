"""The ONNX engine: a spec as an ONNX model with one ``LSTM`` node per layer, run by onnxruntime.

Optional extra ``tf1-lstm[onnx]``. The TF1 variables are converted with
:mod:`tf1_lstm.migrate.convert` into the model's initializers (see
:mod:`tf1_lstm.migrate.onnx_model`); ``variables/...`` in the results are
those initializers converted back to TF1 names. Loading this module raises
``ImportError`` when onnx or onnxruntime is not installed.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np

import onnx  # noqa: F401  (ImportError when not installed)
import onnxruntime  # noqa: F401  (the runtime; ImportError when not installed)

from ..migrate import onnx_model, runner
from ..spec import CaseSpec

ENGINE_NAME = "onnx"


def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None
        ) -> Dict[str, np.ndarray]:
    """The engine interface: ``spec``'s named result arrays, computed by onnxruntime."""
    return runner.run(spec, weights, onnx_model.TARGET)
