"""Engines run case specs and return the same named arrays.

Each engine module has ``run(spec, weights=None)``. ``tf`` builds the TF1
graph (:mod:`tf1_lstm.engines.tf1`); ``numpy`` is the independent oracle
(:mod:`tf1_lstm.reference`), which needs explicit or constant weights.
Engines are imported on demand so that asking for the oracle never imports
TensorFlow.
"""

from __future__ import annotations

import importlib

ENGINES = {
    "tf": "tf1_lstm.engines.tf1",
    "numpy": "tf1_lstm.reference",
}


def get(name: str):
    """The engine module called ``name``.

    Raises:
      ValueError: an unknown engine name (the message lists the known ones).
    """
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    return importlib.import_module(ENGINES[name])
