"""The one table of how each migration target lays out a TF1 cell's weights.

TF1's cells keep each kernel acting on ``concat([x, h])`` (rows ``:I`` for
the input, ``I:`` for the recurrent state; ``R`` = ``P`` with a projection,
else ``H``) and gate blocks of ``H`` columns. The converters see a cell as
one kernel and one bias, its TF1 variables side by side (:data:`TF1_VARIABLES`)::

    LSTMCell, BasicLSTMCell  kernel                          [I + R, 4H]  gates i j f o
    GRUCell                  gates/kernel | candidate/kernel [I + H, 3H]  gates r u c
    BasicRNNCell             kernel                          [I + H, H]   gate  h

``LSTMCell`` adds ``forget_bias`` to the forget gate *at run time* (it is not
in ``bias``). ``GRUCell``: ``r`` reset, ``u`` update, ``c`` candidate;
``h = u * h_prev + (1 - u) * c`` with the reset applied to ``h_prev``
*before* the candidate's matmul (``concat([x, r * h_prev]) @ candidate/kernel``).

Every target wants something else (``k`` is the layer; the target's own gate
letters in brackets)::

    keras, keras3 lstm (LSTM, LSTMCell)             gates i f j o   state [h, c]
        kernel           = kernel[:I]                   [I, 4H]     (i f c o)
        recurrent_kernel = kernel[I:]                   [R, 4H]
        bias             = bias + forget_bias on f      [4H]        one bias: folded
    keras, keras3 gru (GRU, GRUCell; reset_after=False)  gates u r c   state [h]
        kernel           = kernel[:I]                   [I, 3H]     (z r h)
        recurrent_kernel = kernel[I:]                   [H, 3H]
        bias             = bias                         [3H]
    keras, keras3 rnn (SimpleRNN, SimpleRNNCell)    gates h         state [h]
        kernel, recurrent_kernel, bias = kernel[:I], kernel[I:], bias
    torch lstm (torch.nn.LSTM)                      gates i f j o   state (h_0, c_0)
        weight_ih_l{k}   = kernel[:I].T                 [4H, I]     (i f g o)
        weight_hh_l{k}   = kernel[I:].T                 [4H, R]
        bias_ih_l{k}     = bias                         [4H]
        bias_hh_l{k}     = forget_bias on f, else 0     [4H]
        weight_hr_l{k}   = projection/kernel.T          [P, H]      proj_size = P
    torch rnn (torch.nn.RNN, nonlinearity tanh|relu) gates h        state (h_0,)
        weight_ih_l{k}, weight_hh_l{k} = kernel[:I].T, kernel[I:].T
        bias_ih_l{k}, bias_hh_l{k}     = bias, 0
    torch gru: not expressible (see NOT_EXPRESSIBLE["kind=GRUCell"])
    onnx lstm (LSTM node, one per layer)            gates i o f j   state Y_h, Y_c
        W_k              = kernel[:I].T[None]           [1, 4H, I]  (i o f c)
        R_k              = kernel[I:].T[None]           [1, 4H, H]
        B_k              = [bias, forget_bias on f]     [1, 8H]     W-bias, then R-bias
        P_k              = [w_i_diag, w_o_diag, w_f_diag]  [1, 3H]  peepholes
    onnx gru (GRU node, linear_before_reset=0)      gates u r c     state Y_h
        W_k, R_k         = kernel[:I].T[None], kernel[I:].T[None]   (z r h)
        B_k              = [bias, 0]                    [1, 6H]
    onnx rnn (RNN node)                             gates h         state Y_h
        W_k, R_k         = kernel[:I].T[None], kernel[I:].T[None]
        B_k              = [bias, 0]                    [1, 2H]

Gate blocks are ``H`` wide: Keras' columns, PyTorch's and ONNX's rows; only
their order and the transpose differ from TF1. Keras and ONNX call TF1's
update gate ``u`` ``z`` and the candidate ``h``, with the same convention
(``h = z * h_prev + (1 - z) * candidate``).

The second bias: PyTorch and ONNX have two bias vectors (input and
recurrent). The TF1 ``bias`` goes into the first and the constant part (an
LSTM's ``forget_bias``, else zeros) alone into the second, so the way back
(``bias_ih + (bias_hh - forget_bias)``) is exact. For the GRU candidate this
is also what makes it TF1's: ONNX adds the recurrent bias outside ``r * h``,
and it is zero. Keras has one bias, so an LSTM's forget slice holds
``bias_f + forget_bias`` rounded to the dtype; back to a cell with the same
``forget_bias`` that slice is recovered to within an ulp of
``bias_f + forget_bias``, exactly for a cell with ``forget_bias=0`` (and for
GRU and RNN cells, which have no ``forget_bias``).

Activations (``activation=``): the layout's ``activations`` maps the spec's
names to the target's; a name it lacks is not expressible there.

Options a target has no equivalent for are in :data:`NOT_EXPRESSIBLE`, with
the reason; :func:`check_expressible` raises
:class:`~tf1_lstm.engines.NotExpressible` naming the option and the target.
Nothing is dropped silently: an option is set whenever it is not its off value
(:meth:`~tf1_lstm.spec.CellSpec.uses`), so ``cell_clip=0.0``, which clips ``c``
to zero in TF1, is refused like any other clip.

Shape legend: ``B`` batch, ``T`` time, ``I`` input depth, ``H`` units, ``P``
projection, ``R`` recurrent depth (``P`` or ``H``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Tuple

import numpy as np

from ..engines import NotExpressible
from ..spec import LSTM_OPTIONS, CaseSpec, CellSpec

TARGETS = ("keras", "keras3", "torch", "onnx")
FAMILIES = ("lstm", "gru", "rnn")
# The cell family of each TF1 cell kind. BasicLSTMCell is LSTMCell without options.
FAMILY = {"LSTMCell": "lstm", "BasicLSTMCell": "lstm", "LSTMBlockCell": "lstm", "GRUCell": "gru",
          "BasicRNNCell": "rnn"}
# Per family, the TF1 variables the converters put side by side (columns):
# (kernel role, bias role, the gate blocks of their columns).
TF1_VARIABLES: Dict[str, Tuple[Tuple[str, str, Tuple[str, ...]], ...]] = {
    "lstm": (("kernel", "bias", ("i", "j", "f", "o")),),
    "gru": (("gates/kernel", "gates/bias", ("r", "u")),
            ("candidate/kernel", "candidate/bias", ("c",))),
    "rnn": (("kernel", "bias", ("h",)),),
}
TF1_GATES = TF1_VARIABLES["lstm"][0][2]


def tf1_gates(family: str) -> Tuple[str, ...]:
    """TF1's gate blocks of ``family``, in the order of its variables side by side."""
    return tuple(g for _, _, gates in TF1_VARIABLES[family] for g in gates)


# Activation names of the spec -> each framework's.
_KERAS_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid",
                      "softsign": "softsign", "identity": "linear"}
_ONNX_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid",
                     "softsign": "Softsign", "identity": "Affine"}  # Affine: alpha 1, beta 0


@dataclass(frozen=True)
class Layout:
    """How one target stores one TF1 cell family.

    Attributes:
      target: ``keras`` (tf-keras, Keras 2), ``keras3``, ``torch`` or ``onnx``.
      family: ``lstm`` (``LSTMCell``, ``BasicLSTMCell``), ``gru`` or ``rnn``
        (``BasicRNNCell``).
      gates: TF1 gate names in the target's order (LSTM ``("i", "f", "j", "o")``
        means the target's second block is TF1's forget gate).
      gate_axis: the axis of the target's weight arrays that holds the gates
        (Keras: columns of ``[in, G]``; PyTorch and ONNX: rows of ``[G, in]``).
      forget_bias_in: ``"bias"`` (one bias vector: an LSTM's ``forget_bias``
        is added to it) or ``"second_bias"`` (a second bias vector holds the
        constant part alone: ``forget_bias`` on f, zeros elsewhere).
      state: the target's order of a layer's state parts.
      activations: spec activation name -> the target's name (absent: not
        expressible).
      peepholes: TF1 peephole names in the target's order (``()``: none).
    """

    target: str
    family: str
    gates: Tuple[str, ...]
    gate_axis: int
    forget_bias_in: str
    state: Tuple[str, ...]
    activations: Mapping[str, str] = field(default_factory=dict)
    peepholes: Tuple[str, ...] = ()

    @property
    def tf1_gates(self) -> Tuple[str, ...]:
        return tf1_gates(self.family)

    def to_target(self, array: np.ndarray, axis: int = -1) -> np.ndarray:
        """Reorder the gate blocks of ``array`` along ``axis``: TF1's order -> the target's."""
        blocks = dict(zip(self.tf1_gates, np.split(array, len(self.tf1_gates), axis=axis)))
        return np.concatenate([blocks[g] for g in self.gates], axis=axis)

    def to_tf1(self, array: np.ndarray, axis: int = -1) -> np.ndarray:
        """Inverse of :meth:`to_target`."""
        blocks = dict(zip(self.gates, np.split(array, len(self.gates), axis=axis)))
        return np.concatenate([blocks[g] for g in self.tf1_gates], axis=axis)

    def forget_bias_vector(self, units: int, forget_bias: float, dtype) -> np.ndarray:
        """``[G]`` in the target's order: ``forget_bias`` on the forget block, 0 elsewhere."""
        blocks = [np.full(units, forget_bias if g == "f" else 0.0, dtype) for g in self.gates]
        return np.concatenate(blocks)


_ALL = tuple(_KERAS_ACTIVATIONS)


def _keras(target: str) -> Dict[str, Layout]:
    act = {a: _KERAS_ACTIVATIONS[a] for a in _ALL}
    return {
        "lstm": Layout(target, "lstm", ("i", "f", "j", "o"), gate_axis=1, forget_bias_in="bias",
                       state=("h", "c"), activations=act),
        "gru": Layout(target, "gru", ("u", "r", "c"), gate_axis=1, forget_bias_in="bias",
                      state=("h",), activations=act),
        "rnn": Layout(target, "rnn", ("h",), gate_axis=1, forget_bias_in="bias", state=("h",),
                      activations=act),
    }


_ONNX_ACT = {a: _ONNX_ACTIVATIONS[a] for a in _ALL}

# The table: target -> cell family -> Layout. Every converter reads gate order,
# bias handling and activations from here; a family absent for a target is not
# expressible there (the reason is in NOT_EXPRESSIBLE["kind=<cell kind>"]).
LAYOUTS: Dict[str, Dict[str, Layout]] = {
    "keras": _keras("keras"),
    "keras3": _keras("keras3"),
    "torch": {
        "lstm": Layout("torch", "lstm", ("i", "f", "j", "o"), gate_axis=0,
                       forget_bias_in="second_bias", state=("h", "c"),
                       activations={"tanh": "tanh"}),
        "rnn": Layout("torch", "rnn", ("h",), gate_axis=0, forget_bias_in="second_bias",
                      state=("h",), activations={"tanh": "tanh", "relu": "relu"}),
    },
    "onnx": {
        "lstm": Layout("onnx", "lstm", ("i", "o", "f", "j"), gate_axis=0,
                       forget_bias_in="second_bias", state=("h", "c"), activations=_ONNX_ACT,
                       peepholes=("w_i_diag", "w_o_diag", "w_f_diag")),
        "gru": Layout("onnx", "gru", ("u", "r", "c"), gate_axis=0, forget_bias_in="second_bias",
                      state=("h",), activations=_ONNX_ACT),
        "rnn": Layout("onnx", "rnn", ("h",), gate_axis=0, forget_bias_in="second_bias",
                      state=("h",), activations=_ONNX_ACT),
    },
}

_KERAS = "Keras' LSTMCell"
# option -> target -> why the target cannot express it. Absent: expressible.
# "activation of <cell kind>" gives the reason for that kind where it differs.
NOT_EXPRESSIBLE: Dict[str, Dict[str, str]] = {
    "kind=GRUCell": {
        "torch": "torch.nn.GRU applies the reset gate after the recurrent matmul, "
                 "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); TF1's GRUCell applies it "
                 "before, c = act(concat([x, r * h]) @ candidate/kernel + candidate/bias); "
                 "they differ whenever r != 1 (Keras' GRU(reset_after=False) and ONNX's GRU "
                 "with linear_before_reset=0 are TF1's GRUCell)",
    },
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
    # A BasicRNNCell becomes torch.nn.RNN, which has two nonlinearities.
    "activation of BasicRNNCell": {
        "torch": "torch.nn.RNN's nonlinearity is 'tanh' or 'relu'",
    },
    "gradients": {
        "onnx": "onnxruntime runs the forward pass only (no autodiff of an InferenceSession)",
    },
    "dtype=float16": {
        target: "tf1_lstm's migration engines run float32 and float64 (a float16 model "
                "converts as float32: tf1-lstm compute with dtype float32)"
        for target in ("keras", "keras3", "torch", "onnx")
    },
    "dtype=float64": {
        "onnx": "onnxruntime's CPU LSTM, GRU and RNN kernels run float32 only ('LSTM operator "
                "does not support double yet', 'GRU operator does not support double yet', "
                "no double RNN kernel); the ONNX standard allows double",
    },
}


def layout(target: str, cell: CellSpec) -> Layout:
    """The :class:`Layout` of ``cell``'s family in ``target``.

    Raises:
      NotExpressible: the family is not in the table for ``target`` (``kind=...``).
      ValueError: an unknown target.
    """
    if target not in LAYOUTS:
        raise ValueError(f"unknown migration target {target!r}; known: {', '.join(TARGETS)}")
    family = FAMILY[cell.kind]
    if family not in LAYOUTS[target]:
        option = f"kind={cell.kind}"
        raise NotExpressible(target, option, NOT_EXPRESSIBLE[option][target])
    return LAYOUTS[target][family]


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
    for dtype in ("float16", "float64"):
        if spec.dtype == dtype and f"dtype={dtype}" in reasons:
            raise NotExpressible(target, f"dtype={dtype}", reasons[f"dtype={dtype}"])
    for k, cell in enumerate(spec.cells):
        where = f"cells[{k}]"
        try:
            lay = layout(target, cell)
        except NotExpressible as exc:
            raise NotExpressible(target, f"{where}.{exc.option}",
                                 reasons[exc.option]) from None
        for option in LSTM_OPTIONS:  # set when not off: cell_clip=0.0 clips to zero
            if cell.uses(option) and option in reasons:
                raise NotExpressible(target, f"{where}.{option}", reasons[option])
        activation = cell.activation or "tanh"
        if activation not in lay.activations:
            raise NotExpressible(target, f"{where}.activation={activation}",
                                 reasons.get(f"activation of {cell.kind}",
                                             reasons["activation"]))
    if spec.gradients and "gradients" in reasons:
        raise NotExpressible(target, "gradients", reasons["gradients"])
