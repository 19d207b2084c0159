"""Engines run case specs and return the same named arrays.

Each engine module has ``run(spec, weights=None) -> dict[str, np.ndarray]``
(weights by TF variable name; the keys are those of :mod:`tf1_lstm.spec`).
An engine that cannot express an option of a spec raises
:class:`NotExpressible` naming the option and the engine; one whose
framework is not installed raises ``ImportError`` when it is loaded. ``tf`` builds the TF1
graph (:mod:`tf1_lstm.engines.tf1`); ``numpy`` is the independent oracle
(:mod:`tf1_lstm.reference`), which needs explicit or constant weights.
``keras`` (tf-keras), ``keras3``, ``torch`` and ``onnx`` run the spec in a
migration target from converted TF1 weights (:mod:`tf1_lstm.migrate`); torch
and onnx are optional extras. Engines are imported on demand so that asking for the oracle never imports
TensorFlow.
"""

from __future__ import annotations

import importlib

ENGINES = {
    "tf": "tf1_lstm.engines.tf1",
    "numpy": "tf1_lstm.reference",
    # Migration targets (tf1_lstm.migrate); torch and onnx are optional extras.
    "keras": "tf1_lstm.engines.keras2",
    "keras3": "tf1_lstm.engines.keras3",
    "torch": "tf1_lstm.engines.torch_engine",
    "onnx": "tf1_lstm.engines.onnx_engine",
}


class NotExpressible(ValueError):
    """The engine's framework has no equivalent of an option the spec uses."""

    def __init__(self, engine: str, option: str, detail: str = "") -> None:
        self.engine, self.option = engine, option
        super().__init__(f"{option} is not expressible in {engine}" + (f": {detail}" if detail else ""))


def get(name: str):
    """The engine module called ``name``.

    Raises:
      ValueError: an unknown engine name (the message lists the known ones).
    """
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    return importlib.import_module(ENGINES[name])
