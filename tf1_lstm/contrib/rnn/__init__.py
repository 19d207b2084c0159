"""TF 1.x's ``tf.contrib.rnn``: the core cells it re-exported, and the cells only contrib had.

Names resolve on first use (PEP 562), each from the one module that defines it:

- the cells and functions TF 1.x's ``tf.contrib.rnn`` re-exported from core
  (:data:`CORE`): the very objects of ``tf.compat.v1.nn.rnn_cell`` and
  ``tf.compat.v1.nn``, not copies;
- the cells TF 1.x kept in ``tensorflow/contrib/rnn/python/ops/``, in modules
  of the same names (:data:`CONTRIB`): ``core_rnn_cell`` (embedding and
  projection wrappers), ``lstm_ops`` (the fused ``BlockLSTM`` cells),
  ``gru_ops``, ``rnn_cell`` (layer-norm, highway, attention cells) and
  ``rnn`` (stacked bidirectional RNNs).
"""

from __future__ import annotations

import importlib
from typing import Dict, List

# Names TF 1.x's tf.contrib.rnn re-exported from core -> where tf.compat.v1 keeps them.
CORE: Dict[str, str] = {
    **{name: "nn.rnn_cell" for name in (
        "RNNCell", "LSTMCell", "BasicLSTMCell", "MultiRNNCell", "LSTMStateTuple", "GRUCell",
        "BasicRNNCell", "DropoutWrapper", "ResidualWrapper", "DeviceWrapper")},
    **{name: "nn" for name in (
        "static_rnn", "static_bidirectional_rnn", "static_state_saving_rnn")},
}
# Names only TF 1.x's contrib had -> our module of the same name as TF1's.
CONTRIB: Dict[str, str] = {
    **{name: "core_rnn_cell" for name in (
        "EmbeddingWrapper", "InputProjectionWrapper", "OutputProjectionWrapper")},
    **{name: "lstm_ops" for name in (
        "LSTMBlockCell", "LSTMBlockFusedCell", "LSTMBlockWrapper")},
    **{name: "gru_ops" for name in ("GRUBlockCell", "GRUBlockCellV2")},
    **{name: "rnn_cell" for name in (
        "LayerNormBasicLSTMCell", "HighwayWrapper", "AttentionCellWrapper",
        "CoupledInputForgetGateLSTMCell", "GLSTMCell", "IndyLSTMCell", "UGRNNCell",
        "IntersectionRNNCell")},
    **{name: "rnn" for name in ("stack_bidirectional_rnn", "stack_bidirectional_dynamic_rnn")},
}


def __getattr__(name: str):
    if name in CORE:
        from ... import tfcompat

        module = tfcompat.load().compat.v1
        for part in CORE[name].split("."):
            module = getattr(module, part)
        return getattr(module, name)
    if name in CONTRIB:
        module_name = f"{__name__}.{CONTRIB[name]}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            module = None
        value = getattr(module, name, None)
        if value is not None:
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(CORE) | set(CONTRIB) | set(globals()))
