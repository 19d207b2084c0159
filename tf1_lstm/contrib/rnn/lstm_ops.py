"""TF 1.x's ``tensorflow/contrib/rnn/python/ops/lstm_ops.py``: LSTMs on TensorFlow's fused kernels.

``LSTMBlockCell`` (one step, a cell for ``dynamic_rnn``) and
``LSTMBlockFusedCell`` (the whole time-major sequence in one op) compute,
with gate order ``i, j, f, o`` (TF's kernels call ``j`` ``ci``)::

    i, j, f, o = split([x, h_prev] @ kernel + bias, 4)
    i = sigmoid(i + w_i_diag * c_prev)             # w_*_diag only with use_peephole
    f = sigmoid(f + forget_bias + w_f_diag * c_prev)
    c = i * tanh(j) + f * c_prev
    c = clip(c, -cell_clip, cell_clip)             # only when cell_clip > 0
    o = sigmoid(o + w_o_diag * c)
    h = o * tanh(c)

Both run ``tf.raw_ops.BlockLSTM`` (TensorFlow still ships it, with its
gradient); the single step runs it with one time step, which is the same
per-step kernel as TF 1.x's ``LSTMBlockCell`` op (whose gradient only
TF 1.x's contrib registered). The gradient kernel treats the clip as the
identity (straight through: ``d clip(c) / dc = 1`` even where it binds), in
TF 1.x as now; ``LSTMCell``'s ``clip_by_value`` has zero gradient there, so
with a binding ``cell_clip`` the two cells compute the same forward pass but
different gradients. Variables, as TF 1.x named them: ``kernel``
``(I + H, 4H)``, ``bias`` ``(4H,)`` (zeros), and with peepholes ``w_i_diag``,
``w_f_diag``, ``w_o_diag`` ``(H,)``, under ``lstm_cell`` (the
``LSTMCell``-compatible default) or ``lstm_fused_cell``.

Shapes: ``T`` time, ``B`` batch, ``I`` input depth, ``H`` units.
"""

from __future__ import annotations

import abc

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1
LSTMStateTuple = v1.nn.rnn_cell.LSTMStateTuple
LayerRNNCell = next(c for c in v1.nn.rnn_cell.LSTMCell.__mro__ if c.__name__ == "LayerRNNCell")
Layer = v1.layers.Layer
_NO_CLIP = -1.0


def _clip(cell_clip) -> float:
    return _NO_CLIP if cell_clip is None else float(cell_clip)


def block_lstm(x, c_prev, h_prev, kernel, bias, peepholes, forget_bias: float,
               cell_clip: float, seq_len_max=None):
    """``BlockLSTM`` over time-major ``x`` ``(T, B, I)``; returns ``(c, h)``, each ``(T, B, H)``.

    ``peepholes`` is ``(w_i_diag, w_f_diag, w_o_diag)`` or ``None`` (zeros, not used).
    Steps at and beyond ``seq_len_max`` (default ``T``) are zeros, as the kernel leaves them.
    """
    use_peephole = peepholes is not None
    if peepholes is None:
        zeros = tf.zeros([tf.compat.dimension_value(bias.shape[0]) // 4], dtype=x.dtype)
        peepholes = (zeros, zeros, zeros)
    wci, wcf, wco = peepholes
    if seq_len_max is None:
        seq_len_max = tf.shape(x, out_type=tf.int64)[0]
    _, c, _, _, _, _, h = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(seq_len_max, tf.int64), x=x, cs_prev=c_prev, h_prev=h_prev, w=kernel,
        wci=wci, wcf=wcf, wco=wco, b=bias, forget_bias=float(forget_bias), cell_clip=cell_clip,
        use_peephole=use_peephole)
    return c, h


def _weights(layer, input_depth: int, units: int, use_peephole: bool) -> None:
    layer._kernel = layer.add_weight("kernel", [input_depth + units, 4 * units])
    layer._bias = layer.add_weight("bias", [4 * units],
                                   initializer=v1.constant_initializer(0.0))
    if use_peephole:
        layer._w_i_diag = layer.add_weight("w_i_diag", [units])
        layer._w_f_diag = layer.add_weight("w_f_diag", [units])
        layer._w_o_diag = layer.add_weight("w_o_diag", [units])


def _peepholes(layer, use_peephole: bool):
    return (layer._w_i_diag, layer._w_f_diag, layer._w_o_diag) if use_peephole else None


class LSTMBlockCell(LayerRNNCell):
    """TF 1.x's ``tf.contrib.rnn.LSTMBlockCell``: one LSTM step on the fused kernel.

    Args:
      num_units: ``H``.
      forget_bias: added to the forget gate's pre-activation (default 1).
      cell_clip: clip ``c`` to ``[-cell_clip, cell_clip]`` when positive;
        ``None`` (default), ``0`` or negative: no clipping. The fused kernel
        clips only for ``cell_clip > 0`` (in TF 1.x too), unlike
        ``LSTMCell``, where ``cell_clip=0.0`` clips ``c`` to zero.
      use_peephole: peephole connections ``w_i_diag``, ``w_f_diag``, ``w_o_diag``.
      name: the variable scope, ``lstm_cell`` by default so that
        ``LSTMCell`` checkpoints restore.

    The state is ``LSTMStateTuple(c, h)``, each ``(B, H)``; the output is ``h``.
    """

    def __init__(self, num_units: int, forget_bias: float = 1.0, cell_clip=None,
                 use_peephole: bool = False, dtype=None, reuse=None, name: str = "lstm_cell"):
        super().__init__(_reuse=reuse, dtype=dtype, name=name)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._use_peephole = use_peephole
        self._cell_clip = _clip(cell_clip)
        self.input_spec = v1.layers.InputSpec(ndim=2)

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = tf.compat.dimension_value(tf.TensorShape(inputs_shape)[1])
        if not depth:
            raise ValueError(f"Expecting inputs_shape[1] to be set: {inputs_shape}")
        _weights(self, depth, self._num_units, self._use_peephole)
        self.built = True

    def call(self, inputs, state):
        if len(state) != 2:
            raise ValueError("Expecting state to be a tuple with length 2.")
        c_prev, h_prev = state  # (B, H) each
        c, h = block_lstm(
            inputs[None], c_prev, h_prev, self._kernel, self._bias,
            _peepholes(self, self._use_peephole),
            self._forget_bias, self._cell_clip, seq_len_max=1)  # (1, B, H) each
        return h[0], LSTMStateTuple(c[0], h[0])


class LSTMBlockWrapper(Layer, metaclass=abc.ABCMeta):
    """A time-major LSTM layer: ``outputs, (c, h) = layer(inputs, initial_state, dtype, lengths)``.

    Subclasses give ``num_units`` and ``_call_cell``. With ``sequence_length``
    the outputs past each example's length are zeros and the final state is
    the state at ``length - 1`` (the initial state for length 0), as
    ``dynamic_rnn`` gives them.
    """

    @property
    @abc.abstractmethod
    def num_units(self) -> int:
        """``H``."""

    @abc.abstractmethod
    def _call_cell(self, inputs, initial_cell_state, initial_output, dtype, sequence_length):
        """``(c, h)``, each ``(T, B, H)``, for time-major ``inputs`` ``(T, B, I)``."""

    def call(self, inputs, initial_state=None, dtype=None, sequence_length=None):
        """Run the layer over ``inputs`` ``(T, B, I)`` (or a list of ``T`` tensors ``(B, I)``).

        Returns:
          ``(outputs, LSTMStateTuple(c, h))``: outputs ``(T, B, H)`` (a list if
          the inputs were), the final state ``(B, H)`` each.
        """
        is_list = isinstance(inputs, list)
        if is_list:
            inputs = tf.stack(inputs)
        shape = inputs.get_shape().with_rank(3)
        if not tf.compat.dimension_value(shape[2]):
            raise ValueError(f"Expecting inputs_shape[2] to be set: {shape}")
        batch = tf.compat.dimension_value(shape[1])
        if batch is None:
            batch = tf.shape(inputs)[1]
        time = tf.compat.dimension_value(shape[0])
        if time is None:
            time = tf.shape(inputs)[0]
        if initial_state is None:
            if dtype is None:
                raise ValueError("Either initial_state or dtype needs to be specified")
            zeros = tf.zeros(tf.stack([batch, self.num_units]), dtype=dtype)
            initial_state = (zeros, zeros)
        else:
            if len(initial_state) != 2:
                raise ValueError("Expecting initial_state to be a tuple with length 2 or None")
            if dtype is None:
                dtype = initial_state[0].dtype
        if sequence_length is not None:
            sequence_length = tf.convert_to_tensor(sequence_length)
        c0, h0 = initial_state
        c, h = self._call_cell(inputs, c0, h0, dtype, sequence_length)  # (T, B, H) each
        if sequence_length is None:
            final_c, final_h = c[-1], h[-1]
        else:
            mask = tf.transpose(tf.sequence_mask(sequence_length, time, dtype=dtype))  # (T, B)
            h = h * mask[:, :, None]
            index = tf.stack([tf.cast(sequence_length, tf.int32), tf.range(batch)], axis=1)
            final_c = tf.gather_nd(tf.concat([c0[None], c], 0), index)  # (B, H)
            final_h = tf.gather_nd(tf.concat([h0[None], h], 0), index)
        outputs = tf.unstack(h) if is_list else h
        return outputs, LSTMStateTuple(final_c, final_h)


class LSTMBlockFusedCell(LSTMBlockWrapper):
    """TF 1.x's ``tf.contrib.rnn.LSTMBlockFusedCell``: the whole sequence in one ``BlockLSTM``.

    Args: as :class:`LSTMBlockCell`; ``name`` defaults to ``lstm_fused_cell``.
    Called as ``cell(inputs, initial_state=None, dtype=None, sequence_length=None)``
    on time-major inputs (see :class:`LSTMBlockWrapper`).
    """

    def __init__(self, num_units: int, forget_bias: float = 1.0, cell_clip=None,
                 use_peephole: bool = False, reuse=None, dtype=None,
                 name: str = "lstm_fused_cell"):
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._cell_clip = _clip(cell_clip)
        self._use_peephole = use_peephole
        self.input_spec = v1.layers.InputSpec(ndim=3)

    @property
    def num_units(self) -> int:
        return self._num_units

    def build(self, input_shape):
        depth = tf.compat.dimension_value(tf.TensorShape(input_shape)[2])
        _weights(self, depth, self._num_units, self._use_peephole)
        self.built = True

    def _call_cell(self, inputs, initial_cell_state=None, initial_output=None, dtype=None,
                   sequence_length=None):
        seq_len_max = None if sequence_length is None else tf.reduce_max(sequence_length)
        return block_lstm(inputs, initial_cell_state, initial_output, self._kernel, self._bias,
                          _peepholes(self, self._use_peephole),
                          self._forget_bias, self._cell_clip, seq_len_max=seq_len_max)
