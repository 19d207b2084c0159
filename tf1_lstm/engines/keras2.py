"""The tf-keras (Keras 2) engine: a spec run by ``tf.keras.layers.LSTM`` / ``RNN(StackedRNNCells)``.

The TF1 variables are converted with :mod:`tf1_lstm.migrate.convert` and run
eagerly (see :mod:`tf1_lstm.migrate.keras_model`); ``variables/...`` in the
results are the model's weights converted back to TF1 names.
:mod:`tf1_lstm.engines.keras3` is the same engine on Keras 3.
"""

from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional

import numpy as np

from ..migrate import keras_model, runner
from ..spec import CaseSpec

ENGINE_NAME = "keras"

Run = Callable[[CaseSpec, Optional[Mapping[str, np.ndarray]]], Dict[str, np.ndarray]]


def engine(name: str) -> Run:
    """The engine interface ``run(spec, weights=None)`` for Keras target ``name``."""
    def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None
            ) -> Dict[str, np.ndarray]:
        """``spec``'s named result arrays, computed by this Keras."""
        return runner.run(spec, weights, keras_model.target(name))
    return run


run = engine(ENGINE_NAME)
