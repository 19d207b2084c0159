"""TF 1.x's ``tensorflow/contrib/rnn/python/ops/rnn_cell.py``: layer-norm LSTM, highway, attention, ...

Variables keep TF 1.x's names, so TF1 checkpoints restore. Shapes: ``B``
batch, ``I`` input depth, ``H`` units, ``L`` attention length (``attn_length``),
``D`` attention size (``attn_size``), ``V`` attention vector size
(``attn_vec_size``), ``S`` the wrapped cell's state depth (all its state parts
concatenated). ``sigmoid(z) = 1 / (1 + exp(-z))``; ``act`` is the cell
activation (``tanh`` unless given).

``LayerNormBasicLSTMCell`` (Ba et al. 2016, layer normalization; Semeniuta et
al. 2016, recurrent dropout), gate order ``i, j, f, o``::

    i, j, f, o = split(concat([x, h_prev]) @ kernel, 4)   # + bias only if not layer_norm
    i, j, f, o = LN_input(i), LN_transform(j), LN_forget(f), LN_output(o)
    g = dropout(act(j), dropout_keep_prob)                 # only if keep_prob < 1 or a tensor
    c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * g
    c = LN_state(c)
    h = act(c) * sigmoid(o)

  with ``LN_s(z) = gamma * (z - mean(z)) / sqrt(var(z) + eps) + beta`` over the
  units of each example (``eps = 1e-12``, ``1e-3`` for float16, as
  ``tf.contrib.layers.layer_norm``); the LN steps only with ``layer_norm``
  (default ``True``). Variables: ``kernel`` ``(I + H, 4H)``, ``bias`` ``(4H,)``
  only without layer norm, and ``{input,transform,forget,output,state}/gamma``
  (initialized to ``norm_gain``) and ``.../beta`` (``norm_shift``), each
  ``(H,)``. As in TF 1.x, ``kernel`` and ``bias`` have no initializer of their
  own: the variable scope's, else ``glorot_uniform`` (also for ``bias``).

``HighwayWrapper`` (Srivastava et al. 2015), for a cell whose output depth
equals its input depth ``I``::

    y, state = cell(x, state_prev)
    t_carry = sigmoid(x @ carry_w + carry_b)                   # carry_b = carry_bias_init
    t_transform = 1 - t_carry                                  # couple_carry_transform_gates
    t_transform = sigmoid(x @ transform_w + transform_b)       # otherwise; = -carry_bias_init
    out = x * t_carry + y * t_transform

  ``carry_w``, ``transform_w`` ``(I, I)``, ``carry_b``, ``transform_b``
  ``(I,)``, created in the scope the wrapper is called in (``rnn/carry_w``
  under ``dynamic_rnn``), beside the wrapped cell's own scope.

``AttentionCellWrapper`` (attention over the wrapper's own last ``L``
outputs). State ``(cell_state, attns (B, D), attn_states (B, L*D))``, or their
concatenation without ``state_is_tuple``::

    x = concat([x, attns_prev]) @ kernel + bias                  # (B, I'), I' = input_size or I
    y, cell_state = cell(x, cell_state_prev)                     # y (B, H)
    q = concat(flatten(cell_state))                              # (B, S)
    k = attn_states_prev @ attn_w[0, 0]                          # (B, L, V), a 1x1 convolution
    s = sum_v(attn_v * tanh(k + (q @ attention/kernel + attention/bias)[:, None]))  # (B, L)
    a = softmax(s)                                               # over the L slots
    attns = sum_l(a[:, :, None] * attn_states_prev)              # (B, D)
    out = concat([y, attns]) @ attn_output_projection/kernel + .../bias   # (B, D)
    attn_states = concat([attn_states_prev[:, 1:], out[:, None]], 1)      # drop oldest, add out

  Variables under the wrapper's scope ``attention_cell_wrapper``: ``kernel``
  ``(I + D, I')``, ``bias`` ``(I',)``, the wrapped cell's (e.g.
  ``lstm_cell/kernel``), ``attention/attn_w`` ``(1, 1, D, V)``,
  ``attention/attn_v`` ``(V,)``, ``attention/kernel`` ``(S, V)``,
  ``attention/bias`` ``(V,)``, ``attn_output_projection/kernel`` ``(H + D, D)``,
  ``attn_output_projection/bias`` ``(D,)``; the biases start at zero.

``CoupledInputForgetGateLSTMCell`` (Greff et al. 2015: the input gate is
``1 - f``), ``P`` = ``num_proj`` or ``H``::

    j, f, o = split(concat([x, m_prev]) @ W + B, 3)     # no B with layer_norm
    j, f, o = LN_transform(j), LN_forget(f), LN_output(o)   # only with layer_norm
    f = sigmoid(f + forget_bias + W_F_diag * c_prev)      # W_F_diag only with use_peepholes
    c = f * c_prev + (1 - f) * act(j)
    c = LN_state(c)
    m = sigmoid(o + W_O_diag * c) * act(c)
    m = clip(m @ W_P, -proj_clip, proj_clip)              # only with num_proj (and proj_clip)

  Variables ``W`` ``(I + P, 3H)`` and ``W_P`` ``(H, P)``, each stored as
  ``num_unit_shards`` / ``num_proj_shards`` row blocks ``W_0``, ``W_1``, ...
  (``W_0`` alone by default), ``B`` ``(3H,)`` (zeros), ``W_F_diag``,
  ``W_O_diag`` ``(H,)``, the layer-norm ``gamma``/``beta``. As in TF 1.x the
  ``initializer`` argument is stored but not used. State ``(c, m)``, or
  ``concat([c, m], 1)`` without ``state_is_tuple``.

``GLSTMCell`` (Kuchaiev & Ginsburg 2017, group LSTM), ``G`` groups, ``P`` =
``num_proj`` or ``H``; group ``k`` sees the ``k``-th slices of ``x`` (``I/G``)
and ``m_prev`` (``P/G``) and computes the ``k``-th slices of the gates::

    i_k, j_k, f_k, o_k = split(concat([x_k, m_prev_k]) @ group<k>/kernel, 4)   # (B, H/G) each
    i, j, f, o = concat_k(i_k) + bias_i, ..., concat_k(o_k) + bias_o
    c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * tanh(j)
    m = sigmoid(o) * act(c)
    m = m @ projection/kernel                             # only with num_proj

  Variables ``group<k>/kernel`` ``(I/G + P/G, 4H/G)``, ``bias_i``, ``bias_j``,
  ``bias_f``, ``bias_o`` ``(H,)`` (zeros), ``projection/kernel`` ``(H, P)``.

``IndyLSTMCell`` (Gonnet & Deselaers 2019): an LSTM whose recurrent weights
are diagonal::

    i, j, f, o = split(x @ kernel_w + tile(h_prev, 4) * kernel_u + bias, 4)
    c = c_prev * sigmoid(f + forget_bias) + sigmoid(i) * act(j)
    h = act(c) * sigmoid(o)

  Variables ``kernel_w`` ``(I, 4H)``, ``kernel_u`` ``(1, 4H)`` (``U(-1, 1)``),
  ``bias`` ``(4H,)`` (zeros), under the scope ``indy_lstm_cell``.

``UGRNNCell`` (Collins et al. 2017, update-gate RNN)::

    g, z = split(concat([x, h_prev]) @ kernel + bias, 2)
    g = sigmoid(g + forget_bias)
    h = g * h_prev + (1 - g) * act(z)                     # output = state = h

``IntersectionRNNCell`` (Collins et al. 2017, +RNN), input depth ``H`` (a
first layer projects ``x`` to ``H`` with ``num_in_proj``)::

    x = x @ in_projection/kernel + in_projection/bias     # only if I != H
    g_h, z_h, g_y, z_y = split(concat([x, h_prev]) @ kernel + bias, 4)
    g_h, g_y = sigmoid(g_h + forget_bias), sigmoid(g_y + forget_bias)
    h = g_h * h_prev + (1 - g_h) * tanh(z_h)              # the state, through time
    y = g_y * x + (1 - g_y) * y_activation(z_y)           # the output, through depth

  Variables: UGRNN ``kernel`` ``(I + H, 2H)``, ``bias`` ``(2H,)``; +RNN
  ``kernel`` ``(2H, 4H)``, ``bias`` ``(4H,)`` and, projecting,
  ``in_projection/kernel`` ``(I, H)``, ``in_projection/bias`` ``(H,)``. The
  biases start at zero; both cells apply ``initializer`` to their kernels.

Not provided (TF 1.x had them here too): ``TimeFreqLSTMCell``,
``GridLSTMCell``, ``BidirectionalGridLSTMCell``, ``NASCell``,
``PhasedLSTMCell``, ``ConvLSTMCell`` and its 1-3D variants,
``LayerNormBasicGRUCell``, ``LayerNormLSTMCell``, ``WeightNormLSTMCell``,
``IndRNNCell``, ``IndyGRUCell``, ``SRUCell``, ``NTMCell``, ``MinimalRNNCell``,
``CFNCell``, ``CompiledWrapper``.
"""

from __future__ import annotations

from ... import tfcompat
from .core_rnn_cell import is_cell, linear

tf = tfcompat.load()
v1 = tf.compat.v1
RNNCell = v1.nn.rnn_cell.RNNCell
LayerRNNCell = next(c for c in v1.nn.rnn_cell.LSTMCell.__mro__ if c.__name__ == "LayerRNNCell")
LSTMStateTuple = v1.nn.rnn_cell.LSTMStateTuple

# TF 1.x's tf.contrib.layers.layer_norm adds this to the variance (float16: 1e-3).
LAYER_NORM_EPSILON = 1e-12
LAYER_NORM_EPSILON_FLOAT16 = 1e-3


def _depth(tensor, what: str) -> int:
    depth = tf.compat.dimension_value(tensor.get_shape().with_rank(2)[1])
    if depth is None:
        raise ValueError(f"{what}: the last dimension of {tensor.name} must be known, "
                         f"saw shape {tensor.get_shape()}")
    return depth


def layer_norm(z, scope: str, gain: float, shift: float):
    """``gamma * (z - mean) / sqrt(var + eps) + beta`` over the last axis of ``z`` ``(B, H)``.

    Creates (or, under reuse, finds) ``<scope>/gamma`` (initialized to
    ``gain``) and ``<scope>/beta`` (``shift``), each ``(H,)``, in the current
    variable scope: the variables and the math of TF 1.x's
    ``LayerNormBasicLSTMCell._norm`` (``tf.contrib.layers.layer_norm``).
    """
    depth = z.get_shape()[-1:]
    dtype = z.dtype
    with v1.variable_scope(scope):
        gamma = v1.get_variable("gamma", shape=depth, dtype=dtype,
                                initializer=v1.constant_initializer(gain))
        beta = v1.get_variable("beta", shape=depth, dtype=dtype,
                               initializer=v1.constant_initializer(shift))
        mean, variance = tf.nn.moments(z, axes=[1], keepdims=True)  # (B, 1) each
        eps = LAYER_NORM_EPSILON_FLOAT16 if dtype == tf.float16 else LAYER_NORM_EPSILON
        return tf.nn.batch_normalization(z, mean, variance, offset=beta, scale=gamma,
                                         variance_epsilon=eps)


class LayerNormBasicLSTMCell(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.LayerNormBasicLSTMCell``: LSTM with layer norm, recurrent dropout.

    See the module docstring for the equations and variables.

    Args:
      num_units: ``H``.
      forget_bias: added to the forget gate's pre-activation (after its layer norm).
      input_size: deprecated and unused (TF 1.x only warned).
      activation: ``act``, for the new input and the output (default ``tanh``).
      layer_norm: normalize the four gates and the new cell state (default
        ``True``); without it the gates get a ``bias`` instead.
      norm_gain: initial ``gamma`` of each layer norm.
      norm_shift: initial ``beta`` of each layer norm.
      dropout_keep_prob: keep probability of the dropout on ``act(j)`` (a
        float or a scalar tensor); a float ``1.0`` (default) means no dropout.
      dropout_prob_seed: the dropout's op seed.
      reuse: reuse the variables of an existing scope.

    The state is ``LSTMStateTuple(c, h)``, each ``(B, H)``; the output is ``h``.
    """

    def __init__(self, num_units: int, forget_bias: float = 1.0, input_size=None,
                 activation=tf.tanh, layer_norm: bool = True, norm_gain: float = 1.0,
                 norm_shift: float = 0.0, dropout_keep_prob=1.0, dropout_prob_seed=None,
                 reuse=None):
        super().__init__(_reuse=reuse)
        if input_size is not None:
            tf.get_logger().warning("%s: The input_size parameter is deprecated.", self)
        self._num_units = num_units
        self._activation = activation
        self._forget_bias = forget_bias
        self._keep_prob = dropout_keep_prob
        self._seed = dropout_prob_seed
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self):
        return self._num_units

    def _norm(self, z, scope: str):
        return layer_norm(z, scope, self._norm_gain, self._norm_shift)

    def call(self, inputs, state):
        c_prev, h_prev = state
        args = tf.concat([inputs, h_prev], 1)  # (B, I + H)
        dtype = args.dtype
        width = 4 * self._num_units
        kernel = v1.get_variable("kernel", [_depth(args, "LayerNormBasicLSTMCell"), width],
                                 dtype=dtype)
        gates = tf.matmul(args, kernel)  # (B, 4H)
        if not self._layer_norm:
            gates = tf.nn.bias_add(gates, v1.get_variable("bias", [width], dtype=dtype))
        i, j, f, o = tf.split(gates, 4, axis=1)
        if self._layer_norm:
            i = self._norm(i, "input")
            j = self._norm(j, "transform")
            f = self._norm(f, "forget")
            o = self._norm(o, "output")
        g = self._activation(j)
        if not isinstance(self._keep_prob, float) or self._keep_prob < 1:
            g = tf.nn.dropout(g, rate=1.0 - self._keep_prob, seed=self._seed)
        c = c_prev * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * g
        if self._layer_norm:
            c = self._norm(c, "state")
        h = self._activation(c) * tf.sigmoid(o)
        return h, LSTMStateTuple(c, h)


class HighwayWrapper(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.HighwayWrapper``: a highway from a cell's input to its output.

    See the module docstring for the equations and variables. The state is the
    wrapped cell's, untouched.

    Args:
      cell: the wrapped cell; its output must have its input's structure and shapes.
      couple_carry_transform_gates: ``t_transform = 1 - t_carry`` (default);
        otherwise a second gate with its own ``transform_w``, ``transform_b``.
      carry_bias_init: initial ``carry_b`` (and ``-carry_bias_init`` for ``transform_b``).
    """

    def __init__(self, cell, couple_carry_transform_gates: bool = True,
                 carry_bias_init: float = 1.0):
        super().__init__()
        self._cell = cell
        self._couple_carry_transform_gates = couple_carry_transform_gates
        self._carry_bias_init = carry_bias_init

    @property
    def state_size(self):
        return self._cell.state_size

    @property
    def output_size(self):
        return self._cell.output_size

    def zero_state(self, batch_size, dtype):
        with tf.name_scope(type(self).__name__ + "ZeroState"):
            return self._cell.zero_state(batch_size, dtype)

    def _highway(self, x, y):
        depth = _depth(x, "HighwayWrapper")
        carry_w = v1.get_variable("carry_w", [depth, depth])
        carry_b = v1.get_variable("carry_b", [depth],
                                  initializer=v1.constant_initializer(self._carry_bias_init))
        t_carry = tf.sigmoid(v1.nn.xw_plus_b(x, carry_w, carry_b))  # (B, I)
        if self._couple_carry_transform_gates:
            t_transform = 1 - t_carry
        else:
            transform_w = v1.get_variable("transform_w", [depth, depth])
            transform_b = v1.get_variable(
                "transform_b", [depth], initializer=v1.constant_initializer(-self._carry_bias_init))
            t_transform = tf.sigmoid(v1.nn.xw_plus_b(x, transform_w, transform_b))
        return x * t_carry + y * t_transform

    def __call__(self, inputs, state, scope=None):
        """Runs the wrapped cell, then mixes its inputs into its outputs.

        Raises:
          TypeError, ValueError: the cell's outputs differ from its inputs in
            structure or shape.
        """
        outputs, new_state = self._cell(inputs, state, scope=scope)
        tf.nest.assert_same_structure(inputs, outputs)
        tf.nest.map_structure(lambda x, y: x.get_shape().assert_is_compatible_with(y.get_shape()),
                              inputs, outputs)
        return tf.nest.map_structure(self._highway, inputs, outputs), new_state


class AttentionCellWrapper(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.AttentionCellWrapper``: attention over the last ``L`` outputs.

    See the module docstring for the equations, the state and the variables.

    Args:
      cell: the wrapped cell.
      attn_length: ``L``, the number of past outputs kept (> 0).
      attn_size: ``D``, the output depth (default: the cell's output size).
      attn_vec_size: ``V``, the depth of the attention features (default ``D``).
      input_size: ``I'``, the depth of the projected input fed to the cell
        (default: the input's depth ``I``).
      state_is_tuple: the state is ``(cell_state, attns, attn_states)``
        (default); otherwise their concatenation ``(B, S + D + L*D)``, which
        needs a cell with a non-tuple state.
      reuse: reuse the variables of an existing scope.

    Raises:
      TypeError: ``cell`` is not a cell.
      ValueError: ``attn_length <= 0``, or a tuple-state cell without ``state_is_tuple``.
    """

    def __init__(self, cell, attn_length: int, attn_size=None, attn_vec_size=None,
                 input_size=None, state_is_tuple: bool = True, reuse=None):
        super().__init__(_reuse=reuse)
        if not is_cell(cell):
            raise TypeError(f"The parameter cell is not RNNCell: {cell!r} needs output_size, "
                            f"state_size, zero_state and to be callable")
        if tf.nest.is_nested(cell.state_size) and not state_is_tuple:
            raise ValueError("Cell returns tuple of states, but the flag state_is_tuple is not "
                             f"set. State size is: {cell.state_size}")
        if attn_length <= 0:
            raise ValueError(f"attn_length should be greater than zero, got {attn_length}")
        if not state_is_tuple:
            tf.get_logger().warning("%s: Using a concatenated state is slower and will soon be "
                                    "deprecated.  Use state_is_tuple=True.", self)
        if attn_size is None:
            attn_size = cell.output_size
        if attn_vec_size is None:
            attn_vec_size = attn_size
        self._cell = cell
        self._attn_length = attn_length
        self._attn_size = attn_size
        self._attn_vec_size = attn_vec_size
        self._input_size = input_size
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self):
        size = (self._cell.state_size, self._attn_size, self._attn_size * self._attn_length)
        return size if self._state_is_tuple else sum(size)

    @property
    def output_size(self):
        return self._attn_size

    def _split_state(self, state):
        if self._state_is_tuple:
            return state
        s, d = self._cell.state_size, self._attn_size
        return (tf.slice(state, [0, 0], [-1, s]),  # (B, S)
                tf.slice(state, [0, s], [-1, d]),  # (B, D)
                tf.slice(state, [0, s + d], [-1, d * self._attn_length]))  # (B, L*D)

    def call(self, inputs, state):
        cell_state, attns, attn_states = self._split_state(state)
        attn_states = tf.reshape(attn_states, [-1, self._attn_length, self._attn_size])  # (B, L, D)
        input_size = self._input_size
        if input_size is None:
            input_size = inputs.get_shape().as_list()[1]
        cell_inputs = linear([inputs, attns], input_size, True)  # (B, I')
        cell_output, new_cell_state = self._cell(cell_inputs, cell_state)  # (B, H)
        query = (tf.concat(tf.nest.flatten(new_cell_state), 1) if self._state_is_tuple
                 else new_cell_state)  # (B, S)
        new_attns, kept_states = self._attention(query, attn_states)
        with v1.variable_scope("attn_output_projection"):
            output = linear([cell_output, new_attns], self._attn_size, True)  # (B, D)
        new_attn_states = tf.concat([kept_states, tf.expand_dims(output, 1)], 1)  # (B, L, D)
        new_attn_states = tf.reshape(new_attn_states, [-1, self._attn_length * self._attn_size])
        new_state = (new_cell_state, new_attns, new_attn_states)
        if not self._state_is_tuple:
            new_state = tf.concat(list(new_state), 1)
        return output, new_state

    def _attention(self, query, attn_states):
        """``(attns (B, D), attn_states[:, 1:] (B, L - 1, D))`` for ``query`` (B, S)."""
        length, size, vec = self._attn_length, self._attn_size, self._attn_vec_size
        with v1.variable_scope("attention"):
            attn_w = v1.get_variable("attn_w", [1, 1, size, vec])
            attn_v = v1.get_variable("attn_v", [vec])
            hidden = tf.reshape(attn_states, [-1, length, 1, size])  # (B, L, 1, D)
            features = tf.nn.conv2d(hidden, attn_w, [1, 1, 1, 1], "SAME")  # (B, L, 1, V)
            y = tf.reshape(linear(query, vec, True), [-1, 1, 1, vec])  # (B, 1, 1, V)
            scores = tf.reduce_sum(attn_v * tf.tanh(features + y), [2, 3])  # (B, L)
            a = tf.nn.softmax(scores)  # (B, L)
            attns = tf.reduce_sum(tf.reshape(a, [-1, length, 1, 1]) * hidden, [1, 2])  # (B, D)
            return tf.reshape(attns, [-1, size]), tf.slice(attn_states, [0, 1, 0], [-1, -1, -1])


def _sharded(name: str, shape, dtype, num_shards: int):
    """A ``shape`` variable stored as ``num_shards`` row blocks ``<name>_0``, ``<name>_1``, ...

    TF 1.x's ``_get_concat_variable``: the first ``rows % num_shards`` blocks
    have one row more; one block is returned as the variable itself.
    """
    rows = shape[0]
    if num_shards > rows:
        raise ValueError(f"Too many shards: shape={shape}, num_shards={num_shards}")
    size, extra = divmod(rows, num_shards)
    shards = [v1.get_variable(f"{name}_{k}", [size + (k < extra)] + list(shape[1:]), dtype=dtype)
              for k in range(num_shards)]
    return shards[0] if num_shards == 1 else tf.concat(shards, 0, name=f"{name}/concat")


class CoupledInputForgetGateLSTMCell(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.CoupledInputForgetGateLSTMCell``: input gate ``1 - f``.

    See the module docstring for the equations and variables.

    Args:
      num_units: ``H``.
      use_peepholes: the diagonal connections ``W_F_diag``, ``W_O_diag``.
      initializer: accepted and, as in TF 1.x, not used (the scope's initializer applies).
      num_proj: ``P``, project ``m`` to ``P`` with ``W_P`` (default: no projection).
      proj_clip: clip the projected ``m`` to ``[-proj_clip, proj_clip]``.
      num_unit_shards, num_proj_shards: row blocks of ``W`` and ``W_P``.
      forget_bias: added to the forget gate's pre-activation.
      state_is_tuple: state ``LSTMStateTuple(c, m)`` (default), else ``concat([c, m], 1)``.
      activation: ``act`` (default ``tanh``).
      reuse: reuse the variables of an existing scope.
      layer_norm, norm_gain, norm_shift: layer norm on ``j``, ``f``, ``o`` and ``c``.
    """

    def __init__(self, num_units: int, use_peepholes: bool = False, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards: int = 1,
                 num_proj_shards: int = 1, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation=tf.tanh, reuse=None, layer_norm: bool = False,
                 norm_gain: float = 1.0, norm_shift: float = 0.0):
        super().__init__(_reuse=reuse)
        if not state_is_tuple:
            tf.get_logger().warning("%s: Using a concatenated state is slower and will soon be "
                                    "deprecated.  Use state_is_tuple=True.", self)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift
        out = num_proj or num_units
        self._state_size = (LSTMStateTuple(num_units, out) if state_is_tuple
                            else num_units + out)
        self._output_size = out

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size

    def _norm(self, z, scope: str):
        return layer_norm(z, scope, self._norm_gain, self._norm_shift)

    def call(self, inputs, state):
        units = self._num_units
        proj = self._num_proj if self._num_proj is not None else units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = tf.slice(state, [0, 0], [-1, units])  # (B, H)
            m_prev = tf.slice(state, [0, units], [-1, proj])  # (B, P)
        dtype = inputs.dtype
        depth = _depth(inputs, "CoupledInputForgetGateLSTMCell")
        w = _sharded("W", [depth + proj, 3 * units], dtype, self._num_unit_shards)
        b = v1.get_variable("B", [3 * units], dtype=dtype, initializer=tf.zeros_initializer())
        gates = tf.matmul(tf.concat([inputs, m_prev], 1), w)  # (B, 3H)
        if not self._layer_norm:
            gates = tf.nn.bias_add(gates, b)
        j, f, o = tf.split(gates, 3, axis=1)
        if self._layer_norm:
            j, f, o = self._norm(j, "transform"), self._norm(f, "forget"), self._norm(o, "output")
        if self._use_peepholes:
            w_f_diag = v1.get_variable("W_F_diag", [units], dtype=dtype)
            w_o_diag = v1.get_variable("W_O_diag", [units], dtype=dtype)
            f = tf.sigmoid(f + self._forget_bias + w_f_diag * c_prev)
        else:
            f = tf.sigmoid(f + self._forget_bias)
        c = f * c_prev + (1 - f) * self._activation(j)
        if self._layer_norm:
            c = self._norm(c, "state")
        m = tf.sigmoid(o + w_o_diag * c if self._use_peepholes else o) * self._activation(c)
        if self._num_proj is not None:
            m = tf.matmul(m, _sharded("W_P", [units, self._num_proj], dtype,
                                      self._num_proj_shards))  # (B, P)
            if self._proj_clip is not None:
                m = tf.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else tf.concat([c, m], 1)
        return m, new_state


class GLSTMCell(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.GLSTMCell``: an LSTM of ``number_of_groups`` independent blocks.

    See the module docstring for the equations and variables; with one group
    it computes ``LSTMCell``'s equations.

    Args:
      num_units: ``H``, divisible by ``number_of_groups``.
      initializer: for the group kernels (default: the scope's; as in TF 1.x
        not for ``projection/kernel``).
      num_proj: ``P``, divisible by ``number_of_groups`` (default: no projection).
      number_of_groups: ``G``.
      forget_bias: added to the forget gate's pre-activation.
      activation: ``act`` on the new ``c`` (the new input always uses ``tanh``, as in TF 1.x).
      reuse: reuse the variables of an existing scope.

    Raises:
      ValueError: ``num_units`` or ``num_proj`` not divisible by ``number_of_groups``.
    """

    def __init__(self, num_units: int, initializer=None, num_proj=None,
                 number_of_groups: int = 1, forget_bias: float = 1.0, activation=tf.tanh,
                 reuse=None):
        super().__init__(_reuse=reuse)
        if num_units % number_of_groups != 0:
            raise ValueError(f"num_units must be divisible by number_of_groups: {num_units} "
                             f"units, {number_of_groups} groups")
        if num_proj and num_proj % number_of_groups != 0:
            raise ValueError(f"num_proj must be divisible by number_of_groups: {num_proj} "
                             f"projections, {number_of_groups} groups")
        self._num_units = num_units
        self._initializer = initializer
        self._num_proj = num_proj
        self._number_of_groups = number_of_groups
        self._forget_bias = forget_bias
        self._activation = activation
        self._output_size = num_proj or num_units
        self._state_size = LSTMStateTuple(num_units, self._output_size)

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size

    def call(self, inputs, state):
        c_prev, m_prev = state
        groups = self._number_of_groups
        input_size = tf.compat.dimension_value(inputs.shape[1])
        if input_size is None:
            raise ValueError("input size must be statically known")
        if input_size % groups != 0:
            raise ValueError(f"input size ({input_size}) must be divisible by number_of_groups "
                             f"({groups})")
        x_size, m_size = input_size // groups, self._output_size // groups
        dtype = inputs.dtype
        parts = []  # per group: (i_k, j_k, f_k, o_k), each (B, H/G)
        with v1.variable_scope(v1.get_variable_scope(), initializer=self._initializer):
            for k in range(groups):
                with v1.variable_scope(f"group{k}"):
                    x_k = tf.concat([inputs[:, k * x_size:(k + 1) * x_size],
                                     m_prev[:, k * m_size:(k + 1) * m_size]], axis=1)
                    parts.append(tf.split(linear(x_k, 4 * self._num_units // groups, False), 4, 1))
            gates = []
            for g, gate_parts in zip("ijfo", zip(*parts)):
                bias = v1.get_variable(f"bias_{g}", [self._num_units], dtype=dtype,
                                       initializer=v1.constant_initializer(0.0))
                gates.append(tf.nn.bias_add(tf.concat(gate_parts, axis=1), bias))  # (B, H)
            i, j, f, o = gates
        c = tf.sigmoid(f + self._forget_bias) * c_prev + tf.sigmoid(i) * tf.tanh(j)
        m = tf.sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            with v1.variable_scope("projection"):  # outside `initializer`, as in TF 1.x
                m = linear(m, self._num_proj, False)  # (B, P)
        return m, LSTMStateTuple(c, m)


class IndyLSTMCell(LayerRNNCell):
    """TF 1.x's ``tf.contrib.rnn.IndyLSTMCell``: an LSTM with diagonal recurrent weights.

    See the module docstring for the equations and variables.

    Args:
      num_units: ``H``.
      forget_bias: added to the forget gate's pre-activation.
      activation: ``act`` (default ``tanh``).
      reuse: reuse the variables of an existing scope.
      kernel_initializer: for ``kernel_w`` (default: the scope's).
      bias_initializer: for ``bias`` (default zeros).
      name: the layer's variable scope (default ``indy_lstm_cell``).
      dtype: the layer's dtype (default: the first input's).
    """

    def __init__(self, num_units: int, forget_bias: float = 1.0, activation=None, reuse=None,
                 kernel_initializer=None, bias_initializer=None, name=None, dtype=None):
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self.input_spec = v1.layers.InputSpec(ndim=2)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._activation = activation or tf.tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = tf.compat.dimension_value(tf.TensorShape(inputs_shape)[1])
        if depth is None:
            raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {inputs_shape}")
        width = 4 * self._num_units
        self._kernel_w = self.add_weight("kernel_w", [depth, width],
                                         initializer=self._kernel_initializer)
        self._kernel_u = self.add_weight("kernel_u", [1, width],
                                         initializer=v1.random_uniform_initializer(-1, 1))
        self._bias = self.add_weight("bias", [width],
                                     initializer=self._bias_initializer or tf.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        c_prev, h_prev = state
        gates = (tf.matmul(inputs, self._kernel_w) + tf.tile(h_prev, [1, 4]) * self._kernel_u)
        i, j, f, o = tf.split(tf.nn.bias_add(gates, self._bias), 4, axis=1)  # (B, H) each
        c = c_prev * tf.sigmoid(f + self._forget_bias) + tf.sigmoid(i) * self._activation(j)
        h = self._activation(c) * tf.sigmoid(o)
        return h, LSTMStateTuple(c, h)


class UGRNNCell(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.UGRNNCell``: one gate between the old state and a candidate.

    See the module docstring for the equations and variables.

    Args:
      num_units: ``H``.
      initializer: for ``kernel`` (default: the scope's).
      forget_bias: added to the gate's pre-activation.
      activation: ``act`` of the candidate (default ``tanh``).
      reuse: reuse the variables of an existing scope.
    """

    def __init__(self, num_units: int, initializer=None, forget_bias: float = 1.0,
                 activation=tf.tanh, reuse=None):
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._initializer = initializer
        self._forget_bias = forget_bias
        self._activation = activation

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def call(self, inputs, state):
        _depth(inputs, "UGRNNCell")
        with v1.variable_scope(v1.get_variable_scope(), initializer=self._initializer):
            g, z = tf.split(linear([inputs, state], 2 * self._num_units, True), 2, axis=1)
            g = tf.sigmoid(g + self._forget_bias)
            h = g * state + (1.0 - g) * self._activation(z)
        return h, h


class IntersectionRNNCell(RNNCell):
    """TF 1.x's ``tf.contrib.rnn.IntersectionRNNCell``: gated paths through time and depth.

    See the module docstring for the equations and variables. Inputs must
    have depth ``H``, unless ``num_in_proj`` is set (a stack's first layer).

    Args:
      num_units: ``H``.
      num_in_proj: project inputs of another depth to ``H`` (set it to ``num_units``).
      initializer: for the kernels (default: the scope's).
      forget_bias: added to both gates' pre-activations.
      y_activation: the activation of the depth candidate (default ``relu``).
      reuse: reuse the variables of an existing scope.

    Raises:
      ValueError (when called): inputs of depth other than ``H`` without ``num_in_proj``.
    """

    def __init__(self, num_units: int, num_in_proj=None, initializer=None,
                 forget_bias: float = 1.0, y_activation=tf.nn.relu, reuse=None):
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._num_in_proj = num_in_proj
        self._initializer = initializer
        self._forget_bias = forget_bias
        self._y_activation = y_activation

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def call(self, inputs, state):
        units = self._num_units
        depth = _depth(inputs, "IntersectionRNNCell")
        with v1.variable_scope(v1.get_variable_scope(), initializer=self._initializer):
            if depth != units:
                if not self._num_in_proj:
                    raise ValueError("Must have input size == output size for Intersection RNN. "
                                     "To fix, num_in_proj should be set to num_units at cell "
                                     f"init (inputs have depth {depth}, num_units is {units}).")
                with v1.variable_scope("in_projection"):
                    inputs = linear(inputs, units, True)  # (B, H)
            g_h, z_h, g_y, z_y = tf.split(linear([inputs, state], 4 * units, True), 4, axis=1)
            g_h = tf.sigmoid(g_h + self._forget_bias)
            g_y = tf.sigmoid(g_y + self._forget_bias)
            h = g_h * state + (1.0 - g_h) * tf.tanh(z_h)
            y = g_y * inputs + (1.0 - g_y) * self._y_activation(z_y)
        return y, h
