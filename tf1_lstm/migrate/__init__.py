"""Migration of TF1 RNN weights and checkpoints to Keras 2, Keras 3, PyTorch and ONNX.

LSTM cells (``LSTMCell``, ``BasicLSTMCell``), ``GRUCell`` and ``BasicRNNCell``,
alone or stacked (mixed kinds too) in a ``MultiRNNCell``.

- :mod:`.layouts`: the one table of gate order, layout and bias handling per
  target and cell family, and the options each target cannot express.
- :mod:`.convert`: TF1 variables <-> each target's weights, in NumPy.
- :mod:`.checkpoint`: TF1 ``Saver`` checkpoints read by variable name.
- :mod:`.keras_model`, :mod:`.torch_model`, :mod:`.onnx_model`: the target
  models built from a case spec, run, saved and loaded (each imports its
  framework only when called).
- :mod:`.runner`: the TF1 driver (``call`` / ``dynamic_rnn``, lengths,
  initial state, result names) around any target.
- :mod:`.files`: ``tf1-lstm convert``: checkpoint -> the target's native file,
  reloaded and measured against TF1.

``docs/migration.md`` is the guide; its code blocks are run by the tests.
"""

from .convert import to_target, to_tf1
from .layouts import LAYOUTS, NOT_EXPRESSIBLE, TARGETS, check_expressible

__all__ = ["LAYOUTS", "NOT_EXPRESSIBLE", "TARGETS", "check_expressible", "to_target", "to_tf1"]
