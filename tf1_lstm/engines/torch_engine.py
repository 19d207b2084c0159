"""The PyTorch engine: a spec run by ``torch.nn.LSTM`` (optional extra ``tf1-lstm[torch]``).

The TF1 variables are converted with :mod:`tf1_lstm.migrate.convert` and run
by :mod:`tf1_lstm.migrate.torch_model`; ``variables/...`` in the results are
the module's state dict converted back to TF1 names. Loading this module
raises ``ImportError`` when PyTorch is not installed.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np

import torch  # noqa: F401  (the engine's framework; ImportError when not installed)

from ..migrate import runner, torch_model
from ..spec import CaseSpec

ENGINE_NAME = "torch"


def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None
        ) -> Dict[str, np.ndarray]:
    """The engine interface: ``spec``'s named result arrays, computed by PyTorch."""
    return runner.run(spec, weights, torch_model.TARGET)
