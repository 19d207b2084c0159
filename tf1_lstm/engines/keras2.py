"""The tf-keras (Keras 2) engine: a spec run by ``tf.keras.layers.LSTM`` / ``RNN(StackedRNNCells)``.

The TF1 variables are converted with :mod:`tf1_lstm.migrate.convert` and run
eagerly (see :mod:`tf1_lstm.migrate.keras_model`); ``variables/...`` in the
results are the model's weights converted back to TF1 names.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np

from ..migrate import keras_model, runner
from ..spec import CaseSpec

ENGINE_NAME = "keras"


def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None
        ) -> Dict[str, np.ndarray]:
    """The engine interface: ``spec``'s named result arrays, computed by tf-keras."""
    return runner.run(spec, weights, keras_model.target(ENGINE_NAME))
