"""The one table of how each migration target lays out a TF1 LSTM cell's weights.

TF1's ``LSTMCell`` keeps one ``kernel`` ``[I + R, 4H]`` acting on
``concat([x, h])`` (``R`` = ``P`` with a projection, else ``H``), one
``bias`` ``[4H]``, gate columns in the order ``i, j, f, o``, and adds
``forget_bias`` to the forget gate *at run time* (it is not in ``bias``).
Every target wants something else (``k`` is the layer)::

    keras, keras3 (tf-keras; Keras 3)             gates i f j o   state [h, c]
        kernel           = kernel[:I]                  [I, 4H]
        recurrent_kernel = kernel[I:]                  [R, 4H]
        bias             = bias + forget_bias on f     [4H]     one bias: folded
    torch (torch.nn.LSTM)                         gates i f j o   state (h_0, c_0)
        weight_ih_l{k}   = kernel[:I].T                [4H, I]
        weight_hh_l{k}   = kernel[I:].T                [4H, R]
        bias_ih_l{k}     = bias                        [4H]
        bias_hh_l{k}     = forget_bias on f, else 0    [4H]
        weight_hr_l{k}   = projection/kernel.T         [P, H]   proj_size = P
    onnx (LSTM node, one per layer)               gates i o f j   state Y_h, Y_c
        W_k              = kernel[:I].T[None]          [1, 4H, I]
        R_k              = kernel[I:].T[None]          [1, 4H, H]
        B_k              = [bias, forget_bias on f]    [1, 8H]  W-bias, then R-bias
        P_k              = [w_i_diag, w_o_diag, w_f_diag]  [1, 3H]  peepholes

Gate blocks are ``H`` wide: Keras' columns, PyTorch's and ONNX's rows; only
their order and the transpose differ from TF1.
(``j`` is TF's "new input"; Keras and ONNX call it ``c``, PyTorch ``g``.)

``forget_bias`` goes where the target can hold it apart from ``bias``: PyTorch
and ONNX have two bias vectors, so the TF1 ``bias`` goes into the first and
``forget_bias`` alone into the second, and the way back
(``bias_ih + (bias_hh - forget_bias)``) is exact. Keras has one bias, so the
forget slice holds ``bias_f + forget_bias`` rounded to the dtype; back to a
cell with the same ``forget_bias`` that slice is recovered to within an
ulp of ``bias_f + forget_bias``, exactly for a cell with ``forget_bias=0``.

Options a target has no equivalent for are in :data:`NOT_EXPRESSIBLE`, with
the reason; :func:`check_expressible` raises
:class:`~tf1_lstm.engines.NotExpressible` naming the option and the target.
Nothing is dropped silently.

Shape legend: ``B`` batch, ``T`` time, ``I`` input depth, ``H`` units, ``P``
projection, ``R`` recurrent depth (``P`` or ``H``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from ..engines import NotExpressible
from ..spec import CaseSpec

TF1_GATES = ("i", "j", "f", "o")
TARGETS = ("keras", "keras3", "torch", "onnx")


@dataclass(frozen=True)
class Layout:
    """How one target stores a TF1 LSTM cell.

    Attributes:
      target: ``keras`` (tf-keras, Keras 2), ``keras3``, ``torch`` or ``onnx``.
      gates: TF1 gate names in the target's order (``("i", "f", "j", "o")``
        means the target's second block is TF1's forget gate).
      gate_axis: the axis of the target's weight arrays that holds the gates
        (Keras: columns of ``[in, 4H]``; PyTorch and ONNX: rows of ``[4H, in]``).
      forget_bias_in: ``"bias"`` (added to the one bias vector) or
        ``"second_bias"`` (stored alone in the target's second bias).
      state: the target's order of an LSTM layer's state parts.
      peepholes: TF1 peephole names in the target's order (``()``: none).
    """

    target: str
    gates: Tuple[str, ...]
    gate_axis: int
    forget_bias_in: str
    state: Tuple[str, ...]
    peepholes: Tuple[str, ...] = ()

    def to_target(self, array: np.ndarray, axis: int = -1) -> np.ndarray:
        """Reorder the four gate blocks of ``array`` along ``axis``: TF1's order -> the target's."""
        blocks = dict(zip(TF1_GATES, np.split(array, 4, axis=axis)))
        return np.concatenate([blocks[g] for g in self.gates], axis=axis)

    def to_tf1(self, array: np.ndarray, axis: int = -1) -> np.ndarray:
        """Inverse of :meth:`to_target`."""
        blocks = dict(zip(self.gates, np.split(array, 4, axis=axis)))
        return np.concatenate([blocks[g] for g in TF1_GATES], axis=axis)

    def forget_bias_vector(self, units: int, forget_bias: float, dtype) -> np.ndarray:
        """``[4H]`` in the target's order: ``forget_bias`` on the forget block, 0 elsewhere."""
        blocks = [np.full(units, forget_bias if g == "f" else 0.0, dtype) for g in self.gates]
        return np.concatenate(blocks)


# The table. Every converter reads its gate order and bias handling from here.
LAYOUTS: Dict[str, Layout] = {
    "keras": Layout("keras", ("i", "f", "j", "o"), gate_axis=1, forget_bias_in="bias",
                    state=("h", "c")),
    "keras3": Layout("keras3", ("i", "f", "j", "o"), gate_axis=1, forget_bias_in="bias",
                     state=("h", "c")),
    "torch": Layout("torch", ("i", "f", "j", "o"), gate_axis=0, forget_bias_in="second_bias",
                    state=("h", "c")),
    "onnx": Layout("onnx", ("i", "o", "f", "j"), gate_axis=0, forget_bias_in="second_bias",
                   state=("h", "c"), peepholes=("w_i_diag", "w_o_diag", "w_f_diag")),
}

_KERAS = "Keras' LSTMCell"
# option -> target -> why the target cannot express it. Absent: expressible.
NOT_EXPRESSIBLE: Dict[str, Dict[str, str]] = {
    "use_peepholes": {
        "keras": f"{_KERAS} has no peephole connections (tf-keras dropped PeepholeLSTMCell)",
        "keras3": f"{_KERAS} has no peephole connections",
        "torch": "torch.nn.LSTM has no peephole connections",
    },
    "cell_clip": {
        "keras": f"{_KERAS} does not clip the cell state",
        "keras3": f"{_KERAS} does not clip the cell state",
        "torch": "torch.nn.LSTM does not clip the cell state",
        "onnx": "ONNX LSTM's clip bounds every activation input (the gate pre-activations "
                "too), TF1's cell_clip bounds only c; they differ whenever a gate "
                "pre-activation exceeds the clip",
    },
    "num_proj": {
        "keras": f"{_KERAS} has no output projection",
        "keras3": f"{_KERAS} has no output projection",
        "onnx": "ONNX LSTM has no output projection (the recurrence uses the projected h, "
                "so a MatMul after the node is not the same)",
    },
    "proj_clip": {
        "keras": f"{_KERAS} has no output projection",
        "keras3": f"{_KERAS} has no output projection",
        "torch": "torch.nn.LSTM's proj_size projection is not clipped",
        "onnx": "ONNX LSTM has no output projection",
    },
    "activation": {
        "torch": "torch.nn.LSTM always uses tanh",
    },
    "gradients": {
        "onnx": "onnxruntime runs the forward pass only (no autodiff of an InferenceSession)",
    },
    "dtype=float64": {
        "onnx": "onnxruntime's CPU LSTM kernel runs float32 only ('LSTM operator does not "
                "support double yet'); the ONNX standard allows double",
    },
}

# Activation names of the spec -> Keras / ONNX names (PyTorch: tanh only).
KERAS_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid",
                     "softsign": "softsign", "identity": "linear"}
ONNX_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid",
                    "softsign": "Softsign", "identity": "Affine"}

# Cell kinds the converters handle. BasicLSTMCell is LSTMCell without options.
CONVERTED_KINDS = ("LSTMCell", "BasicLSTMCell")


def check_expressible(spec: CaseSpec, target: str) -> None:
    """Raise :class:`~tf1_lstm.engines.NotExpressible` for the first option ``target`` lacks.

    Raises:
      NotExpressible: names the option (``cells[1].use_peepholes``...) and the target.
      ValueError: an unknown target.
    """
    if target not in LAYOUTS:
        raise ValueError(f"unknown migration target {target!r}; known: {', '.join(TARGETS)}")
    reasons = {option: by_target[target] for option, by_target in NOT_EXPRESSIBLE.items()
               if target in by_target}
    if spec.dtype == "float64" and "dtype=float64" in reasons:
        raise NotExpressible(target, "dtype=float64", reasons["dtype=float64"])
    for k, cell in enumerate(spec.cells):
        where = f"cells[{k}]"
        if cell.kind not in CONVERTED_KINDS:
            raise NotExpressible(
                target, f"{where}.kind={cell.kind}",
                f"tf1_lstm converts LSTM cells only ({', '.join(CONVERTED_KINDS)})")
        for option in ("use_peepholes", "cell_clip", "num_proj", "proj_clip"):
            if getattr(cell, option) not in (None, False) and option in reasons:
                raise NotExpressible(target, f"{where}.{option}", reasons[option])
        if cell.activation not in (None, "tanh") and "activation" in reasons:
            raise NotExpressible(target, f"{where}.activation={cell.activation}",
                                 reasons["activation"])
    if spec.gradients and "gradients" in reasons:
        raise NotExpressible(target, "gradients", reasons["gradients"])
