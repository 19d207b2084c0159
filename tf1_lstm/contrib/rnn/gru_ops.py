"""TF 1.x's ``tensorflow/contrib/rnn/python/ops/gru_ops.py``: the block GRU cells.

``GRUBlockCell`` and ``GRUBlockCellV2`` compute one GRU step (Cho et al.
2014), with gate order ``r, u`` (reset, update)::

    r, u = split(sigmoid(concat([x, h_prev]) @ w_ru + b_ru), 2)   # (B, H) each
    c = tanh(concat([x, r * h_prev]) @ w_c + b_c)                  # (B, H)
    h = u * h_prev + (1 - u) * c

the equations of TF's ``GRUBlockCell`` kernel and of
``tf.compat.v1.nn.rnn_cell.GRUCell``. They differ only in variable names,
under the scope ``gru_cell``:

- ``GRUBlockCell``: ``w_ru`` ``(I + H, 2H)``, ``b_ru`` ``(2H,)`` (ones),
  ``w_c`` ``(I + H, H)``, ``b_c`` ``(H,)`` (zeros);
- ``GRUBlockCellV2``: ``GRUCell``'s names, ``gates/kernel``, ``gates/bias``,
  ``candidate/kernel``, ``candidate/bias``, so ``GRUCell`` checkpoints restore.

How it runs: TensorFlow still ships the ``GRUBlockCell`` kernel
(``tf.raw_ops.GRUBlockCell``), but only TF 1.x's contrib registered its
gradient, and TensorFlow 2.x does not (``ops.gradient_registry`` has no
``GRUBlockCell`` entry). A cell that must train cannot use it, so the cells
compute the equations above with core ops (``matmul``, ``sigmoid``, ``tanh``),
whose gradients TensorFlow has. Should a TensorFlow register the kernel's
gradient again, :data:`USES_KERNEL` is true and the cells run the kernel. No
gradient is registered here: that would change the process for every graph.

Shapes: ``B`` batch, ``I`` input depth, ``H`` units (``num_units``).
"""

from __future__ import annotations

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1
LayerRNNCell = next(c for c in v1.nn.rnn_cell.LSTMCell.__mro__ if c.__name__ == "LayerRNNCell")


def _has_gradient(op_type: str) -> bool:
    """Whether TensorFlow (already loaded by ``tfcompat``) has a gradient for ``op_type``."""
    from tensorflow.python.framework import ops  # the registry has no public accessor

    try:
        ops.gradient_registry.lookup(op_type)
    except LookupError:
        return False
    return True


# Whether the cells run tf.raw_ops.GRUBlockCell (only if TensorFlow can differentiate it).
USES_KERNEL = hasattr(tf.raw_ops, "GRUBlockCell") and _has_gradient("GRUBlockCell")


def gru_block(x, h_prev, w_ru, w_c, b_ru, b_c):
    """One GRU step ``h`` ``(B, H)``, the equations of the module docstring, with core ops."""
    gates = tf.sigmoid(tf.nn.bias_add(tf.matmul(tf.concat([x, h_prev], 1), w_ru), b_ru))  # (B, 2H)
    r, u = tf.split(gates, 2, axis=1)
    c = tf.tanh(tf.nn.bias_add(tf.matmul(tf.concat([x, r * h_prev], 1), w_c), b_c))  # (B, H)
    return u * h_prev + (1 - u) * c


class GRUBlockCell(LayerRNNCell):
    """TF 1.x's ``tf.contrib.rnn.GRUBlockCell``: a GRU with ``w_ru``, ``b_ru``, ``w_c``, ``b_c``.

    See the module docstring for the equations and how they run.

    Args:
      num_units: ``H``.
      cell_size: the deprecated name of ``num_units``; give exactly one.
      reuse: reuse the variables of an existing scope.
      name: the layer's variable scope (default ``gru_cell``).

    The state and the output are ``h`` ``(B, H)``.

    Raises:
      ValueError: both or neither of ``num_units`` and ``cell_size``.
    """

    # Variable names: gate kernel, gate bias, candidate kernel, candidate bias.
    _NAMES = ("w_ru", "b_ru", "w_c", "b_c")

    def __init__(self, num_units=None, cell_size=None, reuse=None, name: str = "gru_cell"):
        super().__init__(_reuse=reuse, name=name)
        if (cell_size is None) == (num_units is None):
            raise ValueError("Exactly one of num_units or cell_size must be provided.")
        if num_units is None:
            num_units = cell_size
        self._cell_size = num_units
        self.input_spec = v1.layers.InputSpec(ndim=2)

    @property
    def state_size(self):
        return self._cell_size

    @property
    def output_size(self):
        return self._cell_size

    def build(self, input_shape):
        input_size = tf.compat.dimension_value(tf.TensorShape(input_shape)[1])
        if input_size is None:
            raise ValueError(f"Expecting input_size to be set: inputs have shape {input_shape}")
        units = self._cell_size
        w_ru, b_ru, w_c, b_c = self._NAMES
        self._w_ru = self.add_weight(w_ru, [input_size + units, 2 * units])
        self._b_ru = self.add_weight(b_ru, [2 * units], initializer=v1.constant_initializer(1.0))
        self._w_c = self.add_weight(w_c, [input_size + units, units])
        self._b_c = self.add_weight(b_c, [units], initializer=v1.constant_initializer(0.0))
        self.built = True

    def call(self, inputs, h_prev):
        cell_size = tf.compat.dimension_value(h_prev.get_shape().with_rank(2)[1])
        if cell_size != self._cell_size:
            raise ValueError(f"Shape of h_prev[1] incorrect: cell_size {self._cell_size} "
                             f"vs {cell_size}")
        if USES_KERNEL:
            _, _, _, h = tf.raw_ops.GRUBlockCell(x=inputs, h_prev=h_prev, w_ru=self._w_ru,
                                                 w_c=self._w_c, b_ru=self._b_ru, b_c=self._b_c)
        else:
            h = gru_block(inputs, h_prev, self._w_ru, self._w_c, self._b_ru, self._b_c)
        return h, h


class GRUBlockCellV2(GRUBlockCell):
    """TF 1.x's ``tf.contrib.rnn.GRUBlockCellV2``: ``GRUBlockCell`` with ``GRUCell``'s names.

    ``gates/kernel`` ``(I + H, 2H)``, ``gates/bias`` ``(2H,)``,
    ``candidate/kernel`` ``(I + H, H)``, ``candidate/bias`` ``(H,)``.
    """

    _NAMES = ("gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias")
