"""TF 1.x's ``tf.contrib.cudnn_rnn``: the CPU cells that compute cuDNN's RNN equations.

TF 1.x's ``CudnnLSTM``, ``CudnnGRU``, ``CudnnRNNTanh`` and ``CudnnRNNRelu``
ran NVIDIA cuDNN's fused kernels on a GPU, and saved their opaque parameter
buffer as "canonical" weights, which two CPU cells restore:
``CudnnCompatibleLSTMCell`` and ``CudnnCompatibleGRUCell``, provided here with
TF 1.x's equations and variable names. The cuDNN layers themselves, their
saveables and their parameter converters are GPU-only; constructing one
raises :class:`CudnnUnavailableError`, which names the cell to use instead.

cuDNN's LSTM, per layer and direction (``W_*`` act on the input ``(H, I)``,
``R_*`` on the recurrent state ``(H, H)``; cuDNN orders the gates ``i, f, c, o``)::

    i = sigmoid(x @ W_i.T + h_prev @ R_i.T + b_Wi + b_Ri)
    f = sigmoid(x @ W_f.T + h_prev @ R_f.T + b_Wf + b_Rf)
    j = tanh(x @ W_c.T + h_prev @ R_c.T + b_Wc + b_Rc)
    o = sigmoid(x @ W_o.T + h_prev @ R_o.T + b_Wo + b_Ro)
    c = f * c_prev + i * j
    h = o * tanh(c)

  ``CudnnCompatibleLSTMCell`` is ``LSTMBlockCell`` with ``forget_bias=0``, no
  clipping and no peepholes; its variables ``cudnn_compatible_lstm_cell/kernel``
  ``(I + H, 4H)`` and ``.../bias`` ``(4H,)`` hold, in TF's gate order
  ``i, j, f, o``, ``kernel = [[W_i.T, W_c.T, W_f.T, W_o.T], [R_i.T, R_c.T, R_f.T, R_o.T]]``
  (input rows first) and ``bias = [b_Wi + b_Ri, b_Wc + b_Rc, b_Wf + b_Rf, b_Wo + b_Ro]``
  (TF 1.x saved only the sums).

cuDNN's GRU (gates ``r`` reset, ``u`` update, ``h'`` new memory)::

    r = sigmoid(x @ W_r.T + h_prev @ R_r.T + b_Wr + b_Rr)
    u = sigmoid(x @ W_u.T + h_prev @ R_u.T + b_Wu + b_Ru)
    h' = tanh(x @ W_h.T + b_Wh + r * (h_prev @ R_h.T + b_Rh))
    h = (1 - u) * h' + u * h_prev

  which differs from ``GRUCell``'s ``tanh([x, r * h_prev] @ candidate/kernel + b)``:
  ``r`` multiplies the recurrent projection, which has its own bias. Variables
  of ``CudnnCompatibleGRUCell`` (scope ``cudnn_compatible_gru_cell``):
  ``gates/kernel`` ``(I + H, 2H)`` = ``[[W_r.T, W_u.T], [R_r.T, R_u.T]]``,
  ``gates/bias`` ``(2H,)`` = ``[b_Wr + b_Rr, b_Wu + b_Ru]`` (ones at
  initialization), ``candidate/input_projection/kernel`` ``(I, H)`` = ``W_h.T``,
  ``candidate/hidden_projection/kernel`` ``(H, H)`` = ``R_h.T``,
  ``candidate/input_projection/bias`` = ``b_Wh`` and
  ``candidate/hidden_projection/bias`` = ``b_Rh`` (zeros at initialization).

cuDNN's tanh / ReLU RNN, ``h = act(x @ W.T + h_prev @ R.T + b_W + b_R)``, is
``BasicRNNCell`` with ``kernel = [[W.T], [R.T]]`` and ``bias = b_W + b_R``.

TF 1.x's saveables wrote the canonical weights under the cuDNN layer's scope
with the names these cells get (``CudnnRNNTanh`` / ``CudnnRNNRelu``: those of
``BasicRNNCell``, ``basic_rnn_cell/kernel`` and ``.../bias``): layer ``k`` of
a unidirectional model as ``rnn/multi_rnn_cell/cell_<k>/<cell>/...``, which is
what ``dynamic_rnn`` over ``MultiRNNCell([CudnnCompatibleLSTMCell(H), ...])``
creates, and of a bidirectional one as
``stack_bidirectional_rnn/cell_<k>/bidirectional_rnn/{fw,bw}/<cell>/...``,
what ``tf.contrib.rnn.stack_bidirectional_dynamic_rnn`` creates. Building that
network in the layer's variable scope restores the checkpoint on CPU.

Shapes: ``B`` batch, ``I`` input depth, ``H`` units.
"""

from __future__ import annotations

from typing import Dict, List

from .. import tfcompat
from .rnn.lstm_ops import LSTMBlockCell

tf = tfcompat.load()
v1 = tf.compat.v1

# TF 1.x's string constants for the layers' arguments.
CUDNN_RNN_UNIDIRECTION = "unidirectional"
CUDNN_RNN_BIDIRECTION = "bidirectional"
CUDNN_LSTM = "lstm"
CUDNN_GRU = "gru"
CUDNN_RNN_RELU = "rnn_relu"
CUDNN_RNN_TANH = "rnn_tanh"
CUDNN_INPUT_LINEAR_MODE = "linear_input"
CUDNN_INPUT_SKIP_MODE = "skip_input"
CUDNN_INPUT_AUTO_MODE = "auto_select"


class CudnnCompatibleLSTMCell(LSTMBlockCell):
    """TF 1.x's ``tf.contrib.cudnn_rnn.CudnnCompatibleLSTMCell``: cuDNN's LSTM as a CPU cell.

    ``LSTMBlockCell(num_units, forget_bias=0)`` in the scope
    ``cudnn_compatible_lstm_cell``; see the module docstring for the
    equations and how cuDNN's canonical weights map to ``kernel`` and ``bias``.

    Args:
      num_units: ``H``.
      reuse: reuse the variables of an existing scope.
    """

    def __init__(self, num_units: int, reuse=None):
        super().__init__(num_units, forget_bias=0.0, cell_clip=None, use_peephole=False,
                         reuse=reuse, name="cudnn_compatible_lstm_cell")


class CudnnCompatibleGRUCell(v1.nn.rnn_cell.GRUCell):
    """TF 1.x's ``tf.contrib.cudnn_rnn.CudnnCompatibleGRUCell``: cuDNN's GRU as a CPU cell.

    See the module docstring for the equations (the reset gate acts on the
    recurrent projection) and the variables.

    Args:
      num_units: ``H``.
      reuse: reuse the variables of an existing scope.
      kernel_initializer: for the three kernels (default: the scope's).

    The state and the output are ``h`` ``(B, H)``.
    """

    def __init__(self, num_units: int, reuse=None, kernel_initializer=None):
        super().__init__(num_units, activation=None, reuse=reuse,
                         kernel_initializer=kernel_initializer)

    def build(self, inputs_shape):
        input_depth = tf.compat.dimension_value(tf.TensorShape(inputs_shape)[1])
        if input_depth is None:
            raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {inputs_shape}")
        units = self._num_units

        def bias_init(value: float):
            if self._bias_initializer is not None:
                return self._bias_initializer
            return v1.constant_initializer(value)

        self._gate_kernel = self.add_weight("gates/kernel", [input_depth + units, 2 * units],
                                            initializer=self._kernel_initializer)
        self._gate_bias = self.add_weight("gates/bias", [2 * units], initializer=bias_init(1.0))
        self._candidate_input_kernel = self.add_weight(
            "candidate/input_projection/kernel", [input_depth, units],
            initializer=self._kernel_initializer)
        self._candidate_hidden_kernel = self.add_weight(
            "candidate/hidden_projection/kernel", [units, units],
            initializer=self._kernel_initializer)
        self._candidate_input_bias = self.add_weight(
            "candidate/input_projection/bias", [units], initializer=bias_init(0.0))
        self._candidate_hidden_bias = self.add_weight(
            "candidate/hidden_projection/bias", [units], initializer=bias_init(0.0))
        self.built = True

    def call(self, inputs, state):
        gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, state], 1), self._gate_kernel),
                               self._gate_bias)  # (B, 2H)
        r, u = tf.split(tf.sigmoid(gates), 2, axis=1)
        x_h = tf.nn.bias_add(tf.matmul(inputs, self._candidate_input_kernel),
                             self._candidate_input_bias)  # (B, H)
        h_h = tf.nn.bias_add(tf.matmul(state, self._candidate_hidden_kernel),
                             self._candidate_hidden_bias)  # (B, H)
        candidate = self._activation(x_h + r * h_h)
        h = (1 - u) * candidate + u * state
        return h, h


class CudnnUnavailableError(RuntimeError):
    """A GPU-only class of ``tf.contrib.cudnn_rnn`` was constructed; the message names the CPU cell."""


def _gpu_visible() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def unavailable_message(name: str, instead: str) -> str:
    """Why ``tf.contrib.cudnn_rnn.<name>`` cannot be built here, and ``instead``: what to use."""
    if _gpu_visible():
        return (f"tf.contrib.cudnn_rnn.{name} is not provided by tf1_lstm: it implements only "
                f"the CPU-compatible cells of tf.contrib.cudnn_rnn, not TF 1.x's cuDNN layers "
                f"(even though TensorFlow sees a GPU); use {instead}, or rewrite the model with "
                f"tf.compat.v1.keras.layers.CuDNNLSTM / CuDNNGRU (other variable names)")
    return (f"tf.contrib.cudnn_rnn.{name} needs a CUDA GPU, which this TensorFlow does not see "
            f"(tf.config.list_physical_devices('GPU') is empty); on CPU use {instead}")


_LSTM_CELL = ("tf.contrib.cudnn_rnn.CudnnCompatibleLSTMCell (cuDNN's LSTM equations; restores "
              "CudnnLSTM's canonical checkpoints)")
_GRU_CELL = ("tf.contrib.cudnn_rnn.CudnnCompatibleGRUCell (cuDNN's GRU equations; restores "
             "CudnnGRU's canonical checkpoints)")
_TANH_CELL = ("tf.compat.v1.nn.rnn_cell.BasicRNNCell(num_units) (cuDNN's equations; restores "
              "CudnnRNNTanh's canonical checkpoints)")
_RELU_CELL = ("tf.compat.v1.nn.rnn_cell.BasicRNNCell(num_units, activation=tf.nn.relu) (cuDNN's "
              "equations; restores CudnnRNNRelu's canonical checkpoints)")
_ANY_CELL = ("tf.contrib.cudnn_rnn.CudnnCompatibleLSTMCell or CudnnCompatibleGRUCell, whose "
             "variables a tf.train.Saver saves and restores directly")


# TF 1.x's GPU-only names -> what to use instead on CPU.
CUDNN_ONLY: Dict[str, str] = {
    "CudnnLSTM": _LSTM_CELL,
    "CudnnGRU": _GRU_CELL,
    "CudnnRNNTanh": _TANH_CELL,
    "CudnnRNNRelu": _RELU_CELL,
    "CudnnLSTMSaveable": _LSTM_CELL,
    "CudnnGRUSaveable": _GRU_CELL,
    "CudnnRNNTanhSaveable": _TANH_CELL,
    "CudnnRNNReluSaveable": _RELU_CELL,
    "CudnnOpaqueParamsSaveable": _ANY_CELL,
    "RNNParamsSaveable": _ANY_CELL,  # TF <= 1.3's name
    "CudnnParamsFormatConverterLSTM": _LSTM_CELL,
    "CudnnParamsFormatConverterGRU": _GRU_CELL,
    "CudnnParamsFormatConverterTanh": _TANH_CELL,
    "CudnnParamsFormatConverterRelu": _RELU_CELL,
}


def _cudnn_only(name: str) -> type:
    """A stand-in for TF 1.x's GPU-only ``name``, raising :class:`CudnnUnavailableError` when built."""
    instead = CUDNN_ONLY[name]

    def __init__(self, *args, **kwargs):
        raise CudnnUnavailableError(unavailable_message(name, instead))

    doc = (f"TF 1.x's ``tf.contrib.cudnn_rnn.{name}``, which needs cuDNN on a GPU; not "
           f"provided. Constructing it raises :class:`CudnnUnavailableError`; instead: {instead}.")
    return type(name, (), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


CudnnLSTM = _cudnn_only("CudnnLSTM")
CudnnGRU = _cudnn_only("CudnnGRU")
CudnnRNNTanh = _cudnn_only("CudnnRNNTanh")
CudnnRNNRelu = _cudnn_only("CudnnRNNRelu")
CudnnLSTMSaveable = _cudnn_only("CudnnLSTMSaveable")
CudnnGRUSaveable = _cudnn_only("CudnnGRUSaveable")
CudnnRNNTanhSaveable = _cudnn_only("CudnnRNNTanhSaveable")
CudnnRNNReluSaveable = _cudnn_only("CudnnRNNReluSaveable")
CudnnOpaqueParamsSaveable = _cudnn_only("CudnnOpaqueParamsSaveable")
RNNParamsSaveable = _cudnn_only("RNNParamsSaveable")
CudnnParamsFormatConverterLSTM = _cudnn_only("CudnnParamsFormatConverterLSTM")
CudnnParamsFormatConverterGRU = _cudnn_only("CudnnParamsFormatConverterGRU")
CudnnParamsFormatConverterTanh = _cudnn_only("CudnnParamsFormatConverterTanh")
CudnnParamsFormatConverterRelu = _cudnn_only("CudnnParamsFormatConverterRelu")


def __getattr__(name: str):
    raise AttributeError(f"module {__name__!r} (TF 1.x's tf.contrib.cudnn_rnn) has no attribute "
                         f"{name!r}; it provides CudnnCompatibleLSTMCell, CudnnCompatibleGRUCell "
                         f"and GPU-only stand-ins for {', '.join(sorted(CUDNN_ONLY))}")


# What TF 1.x's tf.contrib.cudnn_rnn offered (and the constants of its layers' arguments).
PUBLIC = ("CudnnCompatibleLSTMCell", "CudnnCompatibleGRUCell", *CUDNN_ONLY,
          *(name for name in globals() if name.startswith("CUDNN_") and name != "CUDNN_ONLY"))


def __dir__() -> List[str]:
    return sorted(PUBLIC)
