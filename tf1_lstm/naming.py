"""TF1 variable names and shapes: the one mapping between TF names and arrays.

TF1 names a cell's variables ``<outer scopes>/<cell name>/<variable>:0``:

=============  ==========================================  =====================
cell           variable                                    shape
=============  ==========================================  =====================
LSTMCell       ``kernel``                                  ``[I + (P or H), 4H]``
               ``bias``                                    ``[4H]``
               ``w_f_diag``, ``w_i_diag``, ``w_o_diag``    ``[H]`` (peepholes)
               ``projection/kernel``                       ``[H, P]`` (num_proj)
BasicLSTMCell  ``kernel``, ``bias``                        ``[I + H, 4H]``, ``[4H]``
BasicRNNCell   ``kernel``, ``bias``                        ``[I + H, H]``, ``[H]``
GRUCell        ``gates/kernel``, ``gates/bias``            ``[I + H, 2H]``, ``[2H]``
               ``candidate/kernel``, ``candidate/bias``    ``[I + H, H]``, ``[H]``
head           ``<head scope>/weights``, ``.../biases``    ``[P or H, n]``, ``[n]``
               (``kernel``, ``bias`` for ``tf.layers.dense``)
=============  ==========================================  =====================

LSTM kernels act on ``concat([x, h])`` and their columns hold the gates in
the order ``i, j, f, o`` (input gate, new input, forget gate, output gate).

Outer scopes: ``dynamic_rnn`` and ``static_rnn`` open ``rnn`` (or their ``scope=``); a ``MultiRNNCell`` opens
``multi_rnn_cell/cell_<k>``; the case's ``scope`` comes first. The default
cell names are Keras' snake-case class names (``lstm_cell``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Tuple

import numpy as np

from .spec import CaseSpec, CellSpec

DEFAULT_CELL_NAMES = {
    "LSTMCell": "lstm_cell",
    "BasicLSTMCell": "basic_lstm_cell",
    "LSTMBlockCell": "lstm_cell",  # TF 1.x's own choice: LSTMCell checkpoints restore into it
    "BasicRNNCell": "basic_rnn_cell",
    "GRUCell": "gru_cell",
}

# A head's variables by role (``weights``, ``biases``), per HeadSpec.layer.
HEAD_VARIABLES = {
    "fully_connected": {"weights": "weights", "biases": "biases"},
    "dense": {"weights": "kernel", "biases": "bias"},
}

# TF 1.0 and 1.1 named a cell's variables before cells became layers (TF 1.2): weights
# for kernel, biases for bias (also under gates/, candidate/, projection/).
LEGACY_ROLES = {"weights": "kernel", "biases": "bias"}

VARIABLES_PREFIX = "variables/"


@dataclass(frozen=True)
class VariableInfo:
    """Where one TF variable belongs: ``layer`` (-1 for the head), ``role``, ``shape``."""

    name: str
    layer: int
    role: str
    shape: Tuple[int, ...]


def cell_scope(spec: CaseSpec, layer: int) -> str:
    """The variable-scope prefix of layer ``layer``'s variables (no trailing slash)."""
    cell = spec.cells[layer]
    parts: List[str] = []
    if spec.scope:
        parts.append(spec.scope)
    if spec.driver != "call":
        parts.append(spec.rnn_scope or "rnn")
    if spec.multi_rnn:
        parts += ["multi_rnn_cell", f"cell_{layer}"]
    parts.append(cell.name or DEFAULT_CELL_NAMES[cell.kind])
    return "/".join(parts)


def cell_variable_shapes(cell: CellSpec, input_depth: int) -> Dict[str, Tuple[int, ...]]:
    """Role -> shape of one cell's variables, in TF's creation order."""
    h = cell.num_units
    if cell.kind == "GRUCell":
        return {
            "gates/kernel": (input_depth + h, 2 * h),
            "gates/bias": (2 * h,),
            "candidate/kernel": (input_depth + h, h),
            "candidate/bias": (h,),
        }
    if cell.kind == "BasicRNNCell":
        return {"kernel": (input_depth + h, h), "bias": (h,)}
    recurrent = cell.output_size if cell.kind == "LSTMCell" else h
    shapes: Dict[str, Tuple[int, ...]] = {
        "kernel": (input_depth + recurrent, 4 * h),
        "bias": (4 * h,),
    }
    if cell.use_peepholes:  # LSTMCell creates them f, i, o; LSTMBlockCell i, f, o
        order = ("w_i_diag", "w_f_diag", "w_o_diag") if cell.kind == "LSTMBlockCell" else \
            ("w_f_diag", "w_i_diag", "w_o_diag")
        shapes.update({name: (h,) for name in order})
    if cell.num_proj is not None:
        shapes["projection/kernel"] = (h, cell.num_proj)
    return shapes


def layout(spec: CaseSpec) -> Dict[str, VariableInfo]:
    """TF variable name -> :class:`VariableInfo` for every variable ``spec`` creates."""
    out: Dict[str, VariableInfo] = {}
    depth = spec.input_depth
    for k, cell in enumerate(spec.cells):
        scope = cell_scope(spec, k)
        for role, shape in cell_variable_shapes(cell, depth).items():
            name = f"{scope}/{role}:0"
            out[name] = VariableInfo(name, k, role, shape)
        depth = cell.output_size
    if spec.head is not None:
        n = spec.head.num_outputs
        for role, shape in (("weights", (depth, n)), ("biases", (n,))):
            name = f"{spec.head.scope}/{HEAD_VARIABLES[spec.head.layer][role]}:0"
            out[name] = VariableInfo(name, -1, role, shape)
    return out


# What a cell's biases start at when the case's weights are a constant: TF's
# tests put ``initializer=constant_initializer(value)`` on the variable scope,
# which reaches every variable built without an initializer of its own
# (kernels, peepholes, the projection) but not the biases, which the cells
# initialize themselves (GRUCell's gate bias at 1.0, every other bias at 0).
OWN_BIAS_INIT = {"bias": 0.0, "gates/bias": 1.0, "candidate/bias": 0.0}


def constant_weights(spec: CaseSpec, value: float) -> Dict[str, np.ndarray]:
    """The variables a ``variable_scope(initializer=constant_initializer(value))`` builds."""
    return {name: np.full(info.shape, OWN_BIAS_INIT.get(info.role, value), dtype=spec.dtype)
            for name, info in layout(spec).items()}


def check_weights(spec: CaseSpec, weights: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Validate a TF-name -> array mapping against ``spec``; return it as ``spec.dtype`` arrays.

    Raises:
      ValueError: a missing or unknown variable, a shape that does not fit
        (the message names the variable and both shapes), an array that is
        not floating-point (ints, bools: never cast silently; names the
        variable and its dtype), or one holding NaN or infinity (names the
        variable and the first such index).
    """
    want = layout(spec)
    missing = [n for n in want if n not in weights]
    unknown = [n for n in weights if n not in want]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unknown:
            parts.append(f"unknown {unknown}")
        raise ValueError(f"case {spec.name!r}: weights do not match the graph's variables: "
                         + "; ".join(parts) + f" (expected {list(want)})")
    out = {}
    for name, info in want.items():
        value = np.asarray(weights[name])
        if value.shape != info.shape:
            raise ValueError(f"case {spec.name!r}: variable {name!r} has shape {info.shape}, "
                             f"the weights give shape {value.shape}")
        if value.dtype.kind != "f":
            raise ValueError(f"case {spec.name!r}: variable {name!r} has dtype {value.dtype}; "
                             f"weights must be floating-point ({spec.dtype})")
        if not np.all(np.isfinite(value)):
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
            raise ValueError(f"case {spec.name!r}: variable {name!r} holds NaN or infinity "
                             f"({value[first]} at {first}); weights must be finite")
        out[name] = value.astype(spec.dtype, copy=False)
    return out


def params_by_layer(spec: CaseSpec, weights: Mapping[str, np.ndarray]
                    ) -> Tuple[List[Dict[str, np.ndarray]], Dict[str, np.ndarray]]:
    """Split checked weights into per-layer ``role -> array`` dicts and the head's.

    Returns:
      ``(layers, head)``: ``layers[k]["kernel"]`` etc.; ``head`` holds
      ``weights`` and ``biases`` (empty without a head).
    """
    checked = check_weights(spec, weights)
    layers: List[Dict[str, np.ndarray]] = [{} for _ in spec.cells]
    head: Dict[str, np.ndarray] = {}
    for name, info in layout(spec).items():
        (head if info.layer < 0 else layers[info.layer])[info.role] = checked[name]
    return layers, head


def variable_key(name: str) -> str:
    """Result-array key of a TF variable: ``variables/<tf name>``."""
    return VARIABLES_PREFIX + name


def split_variables(arrays: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """TF name -> array for the ``variables/...`` entries of a result mapping."""
    n = len(VARIABLES_PREFIX)
    return {k[n:]: v for k, v in arrays.items() if k.startswith(VARIABLES_PREFIX)}
