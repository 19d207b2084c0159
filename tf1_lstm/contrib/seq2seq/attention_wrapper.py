"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/attention_wrapper.py``: decoder attention.

An attention mechanism holds the ``memory`` (encoder outputs ``(B, M, D)``)
as ``values`` (zeroed past ``memory_sequence_length``) and ``keys =
memory_layer(values)`` ``(B, M, U)``, and turns a query (the decoder cell's
output ``(B, H)``) into alignments ``(B, M)``:

- Luong (multiplicative): ``score = g * (q @ keys^T)`` (``g`` only when ``scale``);
- Bahdanau (additive): ``score = sum(v * tanh(keys + query_layer(q)), -1)``; with
  ``normalize``, ``v`` is replaced by ``g * v / |v|`` and ``tanh`` gets ``+ b``;
- ``alignments = probability_fn(masked score)``, softmax by default; scores past
  ``memory_sequence_length`` are ``score_mask_value`` (``-inf``) first.
- The monotonic variants add ``attention_score_bias`` to the score and turn
  ``sigmoid(score)`` into alignments with :func:`monotonic_attention`.

:class:`AttentionWrapper` wraps a cell:

    cell_input = cell_input_fn(x, attention_{t-1})       # default concat([x, a], -1)
    h, cell_state = cell(cell_input, cell_state)
    alignments = mechanism(h, previous alignments)       # (B, M)
    context = alignments @ values                        # (B, D)
    attention = attention_layer(concat([h, context]))    # (B, A), or context without a layer
    output = attention if output_attention else h

Variables (TF 1.x's names; ``<w>`` is the wrapper's scope, ``attention_wrapper``
by default, inside ``decoder/`` under ``dynamic_decode``):

===========================================  ==========  =================================
variable                                     shape       when
===========================================  ==========  =================================
``memory_layer/kernel``                      ``(D, U)``  all but ``memory_layer=None``;
                                                         created where the mechanism is
``<w>/bahdanau_attention/query_layer/kernel`` ``(H, U)``  Bahdanau
``<w>/bahdanau_attention/attention_v``       ``(U,)``    Bahdanau
``<w>/bahdanau_attention/attention_g``, ``_b`` ``()``, ``(U,)``  Bahdanau with ``normalize``
``<w>/luong_attention/attention_g``          ``()``      Luong with ``scale``
``<w>/..._monotonic_attention/attention_score_bias``  ``()``  monotonic variants
``<w>/attention_layer/kernel``               ``(H+D, A)`` ``attention_layer_size=A``
``<w>/<cell>/...``                           the cell's
===========================================  ==========  =================================

Shapes: ``B`` batch, ``M`` memory time, ``D`` memory depth, ``U`` num_units,
``H`` cell output, ``A`` attention layer size.
"""

from __future__ import annotations

import collections
import functools
import math

import numpy as np

from ... import tfcompat
from .decoder import _check_cell, _is_layer, _zero_state_tensors

tf = tfcompat.load()
v1 = tf.compat.v1
nest = tf.nest

__all__ = ["AttentionMechanism", "AttentionWrapper", "AttentionWrapperState", "LuongAttention",
           "BahdanauAttention", "hardmax", "safe_cumprod", "monotonic_attention",
           "BahdanauMonotonicAttention", "LuongMonotonicAttention"]

RNNCell = v1.nn.rnn_cell.RNNCell


def _static_or_dynamic(tensor, axis):
    """``tensor.shape[axis]`` when known, else ``tf.shape(tensor)[axis]``."""
    return tf.compat.dimension_value(tensor.shape[axis]) or tf.shape(tensor)[axis]


class AttentionMechanism:
    """Base class of attention mechanisms (what :class:`AttentionWrapper` accepts)."""

    @property
    def alignments_size(self):
        raise NotImplementedError

    @property
    def state_size(self):
        raise NotImplementedError


def _prepare_memory(memory, memory_sequence_length, check_inner_dims_defined):
    """``memory`` as tensors, zeroed at time steps at or past ``memory_sequence_length``."""
    memory = nest.map_structure(lambda m: tf.convert_to_tensor(m, name="memory"), memory)
    if memory_sequence_length is not None:
        memory_sequence_length = tf.convert_to_tensor(memory_sequence_length,
                                                      name="sequence_length")
    if check_inner_dims_defined:
        for m in nest.flatten(memory):
            if not m.get_shape()[2:].is_fully_defined():
                raise ValueError(f"Expected memory {m.name} to have fully defined inner dims, "
                                 f"but saw shape: {m.get_shape()}")
    if memory_sequence_length is None:
        return memory
    first = nest.flatten(memory)[0]
    mask = tf.sequence_mask(memory_sequence_length, maxlen=tf.shape(first)[1],
                            dtype=first.dtype)  # (B, M)
    lengths_batch = _static_or_dynamic(memory_sequence_length, 0)

    def apply_mask(m):
        rank = m.get_shape().ndims
        rank = rank if rank is not None else tf.rank(m)
        check = tf.debugging.assert_equal(
            lengths_batch, _static_or_dynamic(m, 0),
            message="memory_sequence_length and memory tensor batch sizes do not match.")
        with tf.control_dependencies([check]):
            m_mask = tf.reshape(mask, tf.concat((tf.shape(mask), tf.ones(rank - 2, tf.int32)), 0))
            return m * m_mask

    return nest.map_structure(apply_mask, memory)


def _maybe_mask_score(score, memory_sequence_length, score_mask_value):
    """``score`` with ``score_mask_value`` at memory steps past ``memory_sequence_length``."""
    if memory_sequence_length is None:
        return score
    check = tf.debugging.assert_positive(
        memory_sequence_length,
        message="All values in memory_sequence_length must greater than zero.")
    with tf.control_dependencies([check]):
        score_mask = tf.sequence_mask(memory_sequence_length, maxlen=tf.shape(score)[1])
        return tf.where(score_mask, score, score_mask_value * tf.ones_like(score))


class _BaseAttentionMechanism(AttentionMechanism):
    """Keeps ``values`` and ``keys``, masks scores, and gives the initial alignments (zeros).

    Args:
      query_layer: optional layer applied to the query.
      memory: ``(B, M, D)``.
      probability_fn: ``(score, previous_alignments) -> alignments``.
      memory_sequence_length: optional ``(B,)``.
      memory_layer: optional layer making the keys from the values.
      check_inner_dims_defined: require ``memory.shape[2:]`` to be static.
      score_mask_value: the masked score, default ``-inf``.
      custom_key_value_fn: optional ``(keys, values) -> (keys, values)``.
      name: name scope.
    """

    def __init__(self, query_layer, memory, probability_fn, memory_sequence_length=None,
                 memory_layer=None, check_inner_dims_defined=True, score_mask_value=None,
                 custom_key_value_fn=None, name=None):
        for label, layer in (("query_layer", query_layer), ("memory_layer", memory_layer)):
            if layer is not None and not _is_layer(layer):
                raise TypeError(f"{label} is not a Layer: {type(layer).__name__}")
        if not callable(probability_fn):
            raise TypeError(f"probability_fn must be callable, saw type: "
                            f"{type(probability_fn).__name__}")
        self._query_layer = query_layer
        self._memory_layer = memory_layer
        first_memory = nest.flatten(memory)[0]
        self.dtype = tf.as_dtype(memory_layer.dtype if memory_layer is not None
                                 else getattr(first_memory, "dtype", tf.float32))
        if score_mask_value is None:
            score_mask_value = self.dtype.as_numpy_dtype(-np.inf)
        self._probability_fn = lambda score, prev: probability_fn(
            _maybe_mask_score(score, memory_sequence_length, score_mask_value), prev)
        with v1.name_scope(name, "BaseAttentionMechanismInit", nest.flatten(memory)):
            self._values = _prepare_memory(memory, memory_sequence_length,
                                           check_inner_dims_defined)  # (B, M, D)
            self._keys = (self._memory_layer(self._values) if self._memory_layer is not None
                          else self._values)  # (B, M, U)
            if custom_key_value_fn is not None:
                self._keys, self._values = custom_key_value_fn(self._keys, self._values)
            self._batch_size = _static_or_dynamic(self._keys, 0)
            self._alignments_size = _static_or_dynamic(self._keys, 1)

    @property
    def memory_layer(self):
        return self._memory_layer

    @property
    def query_layer(self):
        return self._query_layer

    @property
    def values(self):
        return self._values

    @property
    def keys(self):
        return self._keys

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def alignments_size(self):
        return self._alignments_size

    @property
    def state_size(self):
        return self._alignments_size

    def initial_alignments(self, batch_size, dtype):
        """Zeros ``(batch_size, M)``."""
        return _zero_state_tensors(self._alignments_size, batch_size, dtype)

    def initial_state(self, batch_size, dtype):
        """The mechanism's state before the first step: its initial alignments."""
        return self.initial_alignments(batch_size, dtype)


def _luong_score(query, keys, scale):
    """``scale * (q @ keys^T)``: query ``(B, U)``, keys ``(B, M, U)`` -> ``(B, M)``."""
    depth = query.get_shape()[-1]
    key_units = keys.get_shape()[-1]
    if depth != key_units:
        raise ValueError(
            f"Incompatible or unknown inner dimensions between query and keys.  Query "
            f"({query}) has units: {depth}.  Keys ({keys}) have units: {key_units}.  Perhaps "
            f"you need to set num_units to the keys' dimension ({key_units})?")
    score = tf.squeeze(tf.matmul(tf.expand_dims(query, 1), keys, transpose_b=True), [1])
    if scale is not None:
        score = scale * score
    return score


def _bahdanau_score(processed_query, keys, normalize):
    """``sum(v * tanh(keys + q), -1)``; with ``normalize``, a normalized ``v`` and a bias ``b``."""
    dtype = processed_query.dtype
    num_units = _static_or_dynamic(keys, 2)
    processed_query = tf.expand_dims(processed_query, 1)  # (B, 1, U)
    v = v1.get_variable("attention_v", [num_units], dtype=dtype)
    if normalize:
        g = v1.get_variable("attention_g", dtype=dtype, shape=(),
                            initializer=v1.constant_initializer(math.sqrt(1.0 / num_units)))
        b = v1.get_variable("attention_b", [num_units], dtype=dtype,
                            initializer=v1.zeros_initializer())
        normed_v = g * v * tf.math.rsqrt(tf.reduce_sum(tf.square(v)))
        return tf.reduce_sum(normed_v * tf.tanh(keys + processed_query + b), [2])
    return tf.reduce_sum(v * tf.tanh(keys + processed_query), [2])


class LuongAttention(_BaseAttentionMechanism):
    """Multiplicative attention (Luong et al., 2015): ``score = g * (q @ memory_layer(memory)^T)``.

    Args:
      num_units: ``U``, the keys' depth; must equal the query's depth.
      memory: ``(B, M, D)``.
      memory_sequence_length: optional ``(B,)``.
      scale: learn a scalar ``attention_g`` (initialized to 1) multiplying the score.
      probability_fn: ``score -> alignments``, default softmax.
      score_mask_value: the masked score, default ``-inf``.
      dtype: of the memory layer, default float32.
      custom_key_value_fn: optional ``(keys, values) -> (keys, values)``.
      name: name scope.
    """

    def __init__(self, num_units, memory, memory_sequence_length=None, scale=False,
                 probability_fn=None, score_mask_value=None, dtype=None,
                 custom_key_value_fn=None, name="LuongAttention"):
        probability_fn = tf.nn.softmax if probability_fn is None else probability_fn
        dtype = tf.float32 if dtype is None else dtype
        super().__init__(
            query_layer=None,
            memory_layer=v1.layers.Dense(num_units, name="memory_layer", use_bias=False,
                                         dtype=dtype),
            memory=memory, probability_fn=lambda score, _: probability_fn(score),
            memory_sequence_length=memory_sequence_length, score_mask_value=score_mask_value,
            custom_key_value_fn=custom_key_value_fn, name=name)
        self._num_units = num_units
        self._scale = scale
        self._name = name

    def __call__(self, query, state):
        """``(alignments, next_state)``, both ``(B, M)``; ``state`` is the previous alignments."""
        with v1.variable_scope(None, "luong_attention", [query]):
            attention_g = None
            if self._scale:
                attention_g = v1.get_variable("attention_g", dtype=query.dtype, shape=(),
                                              initializer=v1.ones_initializer())
            score = _luong_score(query, self._keys, attention_g)
        alignments = self._probability_fn(score, state)
        return alignments, alignments


class BahdanauAttention(_BaseAttentionMechanism):
    """Additive attention (Bahdanau et al., 2015): ``score = sum(v * tanh(keys + query_layer(q)))``.

    Args:
      num_units: ``U``, the depth of keys and processed query.
      memory: ``(B, M, D)``.
      memory_sequence_length: optional ``(B,)``.
      normalize: weight normalization of ``v`` (Salimans and Kingma, 2016).
      probability_fn: ``score -> alignments``, default softmax.
      score_mask_value: the masked score, default ``-inf``.
      dtype: of the layers, default float32.
      custom_key_value_fn: optional ``(keys, values) -> (keys, values)``.
      name: name scope.
    """

    def __init__(self, num_units, memory, memory_sequence_length=None, normalize=False,
                 probability_fn=None, score_mask_value=None, dtype=None,
                 custom_key_value_fn=None, name="BahdanauAttention"):
        probability_fn = tf.nn.softmax if probability_fn is None else probability_fn
        dtype = tf.float32 if dtype is None else dtype
        super().__init__(
            query_layer=v1.layers.Dense(num_units, name="query_layer", use_bias=False,
                                        dtype=dtype),
            memory_layer=v1.layers.Dense(num_units, name="memory_layer", use_bias=False,
                                         dtype=dtype),
            memory=memory, probability_fn=lambda score, _: probability_fn(score),
            memory_sequence_length=memory_sequence_length, score_mask_value=score_mask_value,
            custom_key_value_fn=custom_key_value_fn, name=name)
        self._num_units = num_units
        self._normalize = normalize
        self._name = name

    def __call__(self, query, state):
        """``(alignments, next_state)``, both ``(B, M)``; ``state`` is the previous alignments."""
        with v1.variable_scope(None, "bahdanau_attention", [query]):
            processed_query = self.query_layer(query) if self.query_layer else query
            score = _bahdanau_score(processed_query, self._keys, self._normalize)
        alignments = self._probability_fn(score, state)
        return alignments, alignments


def safe_cumprod(x, *args, **kwargs):
    """``cumprod`` as ``exp(cumsum(log(clip(x, tiny, 1))))``; arguments as ``tf.cumsum``."""
    with v1.name_scope(None, "SafeCumprod", [x]):
        x = tf.convert_to_tensor(x, name="x")
        tiny = np.finfo(x.dtype.as_numpy_dtype).tiny
        return tf.exp(tf.cumsum(tf.math.log(tf.clip_by_value(x, tiny, 1)), *args, **kwargs))


def monotonic_attention(p_choose_i, previous_attention, mode):
    """Expected monotonic alignments from choosing probabilities (Raffel et al., 2017).

    With ``q_i = (1 - p_{i-1}) q_{i-1} + a^{prev}_i`` the attention is ``a_i = p_i q_i``:

    - ``"recursive"``: the recurrence with ``tf.scan`` (exact, slow);
    - ``"parallel"``: its closed form with cumprod/cumsum (may lose precision);
    - ``"hard"``: for 0/1 ``p_choose_i`` and one-hot ``previous_attention``, the first
      chosen index at or after the previous one.

    Args:
      p_choose_i: ``(B, M)`` probabilities in ``[0, 1]``.
      previous_attention: ``(B, M)``.
      mode: ``"recursive"``, ``"parallel"`` or ``"hard"``.

    Returns:
      ``(B, M)``.

    Raises:
      ValueError: ``mode`` is none of the three.
    """
    p_choose_i = tf.convert_to_tensor(p_choose_i, name="p_choose_i")
    previous_attention = tf.convert_to_tensor(previous_attention, name="previous_attention")
    if mode == "recursive":
        batch_size = _static_or_dynamic(p_choose_i, 0)
        shifted_1mp = tf.concat([tf.ones((batch_size, 1), p_choose_i.dtype),
                                 1 - p_choose_i[:, :-1]], 1)  # (B, M)
        q = tf.scan(lambda x, yz: tf.reshape(yz[0] * x + yz[1], (batch_size,)),
                    [tf.transpose(shifted_1mp), tf.transpose(previous_attention)],
                    tf.zeros((batch_size,), p_choose_i.dtype))  # (M, B)
        return p_choose_i * tf.transpose(q)
    if mode == "parallel":
        cumprod_1mp = safe_cumprod(1 - p_choose_i, axis=1, exclusive=True)
        return p_choose_i * cumprod_1mp * tf.cumsum(
            previous_attention / tf.clip_by_value(cumprod_1mp, 1e-10, 1.0), axis=1)
    if mode == "hard":
        p_choose_i = p_choose_i * tf.cumsum(previous_attention, axis=1)
        return p_choose_i * tf.math.cumprod(1 - p_choose_i, axis=1, exclusive=True)
    raise ValueError(f"mode must be 'recursive', 'parallel', or 'hard', saw {mode!r}.")


def _monotonic_probability_fn(score, previous_alignments, sigmoid_noise, mode, seed=None):
    """Noisy sigmoid (``"hard"`` mode: a step) of the score, then :func:`monotonic_attention`."""
    if sigmoid_noise > 0:
        score += sigmoid_noise * v1.random_normal(tf.shape(score), dtype=score.dtype, seed=seed)
    if mode == "hard":
        p_choose_i = tf.cast(score > 0, score.dtype)
    else:
        p_choose_i = tf.sigmoid(score)
    return monotonic_attention(p_choose_i, previous_alignments, mode)


class _BaseMonotonicAttentionMechanism(_BaseAttentionMechanism):
    """Monotonic mechanisms start with all attention on the first memory step."""

    def initial_alignments(self, batch_size, dtype):
        """One-hot ``(batch_size, M)`` on memory step 0."""
        return tf.one_hot(tf.zeros((batch_size,), dtype=tf.int32), self._alignments_size,
                          dtype=dtype)


class BahdanauMonotonicAttention(_BaseMonotonicAttentionMechanism):
    """Bahdanau scores plus ``attention_score_bias``, made monotonic (:func:`monotonic_attention`).

    Args are those of :class:`BahdanauAttention` (without ``probability_fn``), plus
    ``sigmoid_noise`` (std of the pre-sigmoid noise), ``sigmoid_noise_seed``,
    ``score_bias_init`` (initial ``attention_score_bias``) and ``mode``.
    """

    def __init__(self, num_units, memory, memory_sequence_length=None, normalize=False,
                 score_mask_value=None, sigmoid_noise=0.0, sigmoid_noise_seed=None,
                 score_bias_init=0.0, mode="parallel", dtype=None,
                 name="BahdanauMonotonicAttention"):
        dtype = tf.float32 if dtype is None else dtype
        super().__init__(
            query_layer=v1.layers.Dense(num_units, name="query_layer", use_bias=False,
                                        dtype=dtype),
            memory_layer=v1.layers.Dense(num_units, name="memory_layer", use_bias=False,
                                         dtype=dtype),
            memory=memory,
            probability_fn=functools.partial(_monotonic_probability_fn,
                                             sigmoid_noise=sigmoid_noise, mode=mode,
                                             seed=sigmoid_noise_seed),
            memory_sequence_length=memory_sequence_length, score_mask_value=score_mask_value,
            name=name)
        self._num_units = num_units
        self._normalize = normalize
        self._name = name
        self._score_bias_init = score_bias_init

    def __call__(self, query, state):
        with v1.variable_scope(None, "bahdanau_monotonic_attention", [query]):
            processed_query = self.query_layer(query) if self.query_layer else query
            score = _bahdanau_score(processed_query, self._keys, self._normalize)
            score += v1.get_variable("attention_score_bias", dtype=processed_query.dtype,
                                     initializer=float(self._score_bias_init))
        alignments = self._probability_fn(score, state)
        return alignments, alignments


class LuongMonotonicAttention(_BaseMonotonicAttentionMechanism):
    """Luong scores plus ``attention_score_bias``, made monotonic (:func:`monotonic_attention`).

    Args are those of :class:`LuongAttention` (without ``probability_fn``), plus
    ``sigmoid_noise``, ``sigmoid_noise_seed``, ``score_bias_init`` and ``mode``.
    """

    def __init__(self, num_units, memory, memory_sequence_length=None, scale=False,
                 score_mask_value=None, sigmoid_noise=0.0, sigmoid_noise_seed=None,
                 score_bias_init=0.0, mode="parallel", dtype=None,
                 name="LuongMonotonicAttention"):
        dtype = tf.float32 if dtype is None else dtype
        super().__init__(
            query_layer=None,
            memory_layer=v1.layers.Dense(num_units, name="memory_layer", use_bias=False,
                                         dtype=dtype),
            memory=memory,
            probability_fn=functools.partial(_monotonic_probability_fn,
                                             sigmoid_noise=sigmoid_noise, mode=mode,
                                             seed=sigmoid_noise_seed),
            memory_sequence_length=memory_sequence_length, score_mask_value=score_mask_value,
            name=name)
        self._num_units = num_units
        self._scale = scale
        self._score_bias_init = score_bias_init
        self._name = name

    def __call__(self, query, state):
        with v1.variable_scope(None, "luong_monotonic_attention", [query]):
            attention_g = None
            if self._scale:
                attention_g = v1.get_variable("attention_g", dtype=query.dtype, shape=(),
                                              initializer=v1.ones_initializer())
            score = _luong_score(query, self._keys, attention_g)
            score += v1.get_variable("attention_score_bias", dtype=query.dtype,
                                     initializer=float(self._score_bias_init))
        alignments = self._probability_fn(score, state)
        return alignments, alignments


class AttentionWrapperState(collections.namedtuple(
        "AttentionWrapperState",
        ("cell_state", "attention", "time", "alignments", "alignment_history",
         "attention_state"))):
    """The state of :class:`AttentionWrapper`.

    Fields: ``cell_state`` (the wrapped cell's), ``attention`` ``(B, A)`` (the last
    attention output), ``time`` (int32 scalar), ``alignments`` ``(B, M)`` per
    mechanism, ``alignment_history`` (a TensorArray of alignments per mechanism
    when ``alignment_history=True``, else ``()``), ``attention_state`` per mechanism.
    With several mechanisms the per-mechanism fields are tuples.
    """

    def clone(self, **kwargs):
        """A copy with ``kwargs`` replaced; replacing tensors keep the old tensors' static shapes.

        E.g. ``zero_state(...).clone(cell_state=encoder_state)``.
        """
        def same_shape(old, new):
            if isinstance(old, tf.Tensor) and isinstance(new, tf.Tensor):
                if not tf.executing_eagerly():
                    new.set_shape(old.shape)
                return new
            return new

        return nest.map_structure(same_shape, self, self._replace(**kwargs))


def hardmax(logits, name=None):
    """One-hot of ``argmax(logits, -1)``, in the logits' dtype (ties: the first index).

    Args:
      logits: ``(..., C)``.
      name: name scope, default ``"Hardmax"``.
    """
    with v1.name_scope(name, "Hardmax", [logits]):
        logits = tf.convert_to_tensor(logits, name="logits")
        depth = tf.compat.dimension_value(logits.get_shape()[-1])
        depth = depth if depth is not None else tf.shape(logits)[-1]
        return tf.one_hot(tf.argmax(logits, -1), depth, dtype=logits.dtype)


def _compute_attention(attention_mechanism, cell_output, attention_state, attention_layer):
    """One mechanism's ``(attention, alignments, next_attention_state)`` for ``cell_output``."""
    alignments, next_attention_state = attention_mechanism(cell_output, state=attention_state)
    context = tf.squeeze(tf.matmul(tf.expand_dims(alignments, 1), attention_mechanism.values),
                         [1])  # (B, D)
    attention = (attention_layer(tf.concat([cell_output, context], 1))
                 if attention_layer is not None else context)
    return attention, alignments, next_attention_state


class AttentionWrapper(RNNCell):
    """A cell wrapped with one or more attention mechanisms (see the module docstring).

    Args:
      cell: the RNN cell to wrap.
      attention_mechanism: an :class:`AttentionMechanism` or a list/tuple of them.
      attention_layer_size: an int (or one per mechanism): add a bias-free Dense
        ``attention_layer`` on ``concat([h, context])``; ``None`` uses the context.
      alignment_history: keep every step's alignments in a TensorArray in the state.
      cell_input_fn: ``(inputs, attention) -> cell_inputs``, default concatenation.
      output_attention: output the attention (Luong style) rather than the cell output.
      initial_cell_state: the cell state ``zero_state`` returns, default the cell's zeros.
      name: the layer's name, default ``attention_wrapper``.
      attention_layer: instead of ``attention_layer_size``, your own layer(s).
      attention_fn: ``(mechanism, cell_output, attention_state, attention_layer) ->
        (attention, alignments, next_attention_state)``.

    Raises:
      TypeError: wrong types of ``attention_mechanism`` or ``cell_input_fn``.
      ValueError: both ``attention_layer_size`` and ``attention_layer``, or counts that
        do not match the mechanisms.
    """

    def __init__(self, cell, attention_mechanism, attention_layer_size=None,
                 alignment_history=False, cell_input_fn=None, output_attention=True,
                 initial_cell_state=None, name=None, attention_layer=None, attention_fn=None):
        super().__init__(name=name)
        _check_cell("cell", cell)
        if isinstance(attention_mechanism, (list, tuple)):
            self._is_multi = True
            attention_mechanisms = tuple(attention_mechanism)
            for mechanism in attention_mechanisms:
                if not isinstance(mechanism, AttentionMechanism):
                    raise TypeError(f"attention_mechanism must contain only instances of "
                                    f"AttentionMechanism, saw type: {type(mechanism).__name__}")
        else:
            self._is_multi = False
            if not isinstance(attention_mechanism, AttentionMechanism):
                raise TypeError(f"attention_mechanism must be an AttentionMechanism or list of "
                                f"multiple AttentionMechanism instances, saw type: "
                                f"{type(attention_mechanism).__name__}")
            attention_mechanisms = (attention_mechanism,)

        if cell_input_fn is None:
            def cell_input_fn(inputs, attention):
                return tf.concat([inputs, attention], -1)
        elif not callable(cell_input_fn):
            raise TypeError(f"cell_input_fn must be callable, saw type: "
                            f"{type(cell_input_fn).__name__}")

        if attention_layer_size is not None and attention_layer is not None:
            raise ValueError("Only one of attention_layer_size and attention_layer should be set")
        if attention_layer_size is not None:
            sizes = tuple(attention_layer_size if isinstance(attention_layer_size, (list, tuple))
                          else (attention_layer_size,))
            if len(sizes) != len(attention_mechanisms):
                raise ValueError(f"If provided, attention_layer_size must contain exactly one "
                                 f"integer per attention_mechanism, saw: {len(sizes)} vs "
                                 f"{len(attention_mechanisms)}")
            self._attention_layers = tuple(
                v1.layers.Dense(size, name="attention_layer", use_bias=False,
                                dtype=attention_mechanisms[i].dtype)
                for i, size in enumerate(sizes))
            self._attention_layer_size = sum(sizes)
        elif attention_layer is not None:
            self._attention_layers = tuple(attention_layer if isinstance(attention_layer,
                                                                         (list, tuple))
                                           else (attention_layer,))
            if len(self._attention_layers) != len(attention_mechanisms):
                raise ValueError(f"If provided, attention_layer must contain exactly one layer "
                                 f"per attention_mechanism, saw: {len(self._attention_layers)} "
                                 f"vs {len(attention_mechanisms)}")
            self._attention_layer_size = sum(
                tf.compat.dimension_value(layer.compute_output_shape(
                    [None, cell.output_size
                     + tf.compat.dimension_value(mechanism.values.shape[-1])])[-1])
                for layer, mechanism in zip(self._attention_layers, attention_mechanisms))
        else:
            self._attention_layers = None
            self._attention_layer_size = sum(
                tf.compat.dimension_value(mechanism.values.get_shape()[-1])
                for mechanism in attention_mechanisms)

        self._cell = cell
        self._attention_mechanisms = attention_mechanisms
        self._cell_input_fn = cell_input_fn
        self._output_attention = output_attention
        self._alignment_history = alignment_history
        self._attention_fn = _compute_attention if attention_fn is None else attention_fn
        with v1.name_scope(name, "AttentionWrapperInit"):
            if initial_cell_state is None:
                self._initial_cell_state = None
            else:
                last = nest.flatten(initial_cell_state)[-1]
                message = (
                    f"When constructing AttentionWrapper {self._base_name}: Non-matching batch "
                    f"sizes between the memory (encoder output) and initial_cell_state.  Are "
                    f"you using the BeamSearchDecoder?  You may need to tile your initial state "
                    f"via the tf.contrib.seq2seq.tile_batch function with argument "
                    f"multiple=beam_width.")
                with tf.control_dependencies(
                        self._batch_size_checks(_static_or_dynamic(last, 0), message)):
                    self._initial_cell_state = nest.map_structure(
                        lambda s: tf.identity(s, name="check_initial_cell_state"),
                        initial_cell_state)

    def _batch_size_checks(self, batch_size, error_message):
        return [tf.debugging.assert_equal(batch_size, mechanism.batch_size, message=error_message)
                for mechanism in self._attention_mechanisms]

    def _item_or_tuple(self, seq):
        """A tuple with several mechanisms, the single item with one."""
        t = tuple(seq)
        return t if self._is_multi else t[0]

    @property
    def output_size(self):
        return self._attention_layer_size if self._output_attention else self._cell.output_size

    @property
    def state_size(self):
        """An :class:`AttentionWrapperState` of sizes (``time``: ``TensorShape([])``)."""
        return AttentionWrapperState(
            cell_state=self._cell.state_size,
            time=tf.TensorShape([]),
            attention=self._attention_layer_size,
            alignments=self._item_or_tuple(m.alignments_size
                                           for m in self._attention_mechanisms),
            attention_state=self._item_or_tuple(m.state_size
                                                for m in self._attention_mechanisms),
            alignment_history=self._item_or_tuple(
                m.alignments_size if self._alignment_history else ()
                for m in self._attention_mechanisms))

    def zero_state(self, batch_size, dtype):
        """The initial :class:`AttentionWrapperState` for ``batch_size`` entries.

        Under beam search ``batch_size`` is ``batch * beam_width`` and the memory must
        have been tiled with :func:`~.beam_search_decoder.tile_batch`; a mismatch fails
        at run time with a message saying so.
        """
        with v1.name_scope(f"{type(self).__name__}ZeroState", values=[batch_size]):
            if self._initial_cell_state is not None:
                cell_state = self._initial_cell_state
            else:
                cell_state = self._cell.zero_state(batch_size, dtype)
            message = (
                f"When calling zero_state of AttentionWrapper {self._base_name}: Non-matching "
                f"batch sizes between the memory (encoder output) and the requested batch size.  "
                f"Are you using the BeamSearchDecoder?  If so, make sure your encoder output has "
                f"been tiled to beam_width via tf.contrib.seq2seq.tile_batch, and the batch_size= "
                f"argument passed to zero_state is batch_size * beam_width.")
            with tf.control_dependencies(self._batch_size_checks(batch_size, message)):
                cell_state = nest.map_structure(
                    lambda s: tf.identity(s, name="checked_cell_state"), cell_state)
            initial_alignments = [m.initial_alignments(batch_size, dtype)
                                  for m in self._attention_mechanisms]
            return AttentionWrapperState(
                cell_state=cell_state,
                time=tf.zeros([], dtype=tf.int32),
                attention=_zero_state_tensors(self._attention_layer_size, batch_size, dtype),
                alignments=self._item_or_tuple(initial_alignments),
                attention_state=self._item_or_tuple(m.initial_state(batch_size, dtype)
                                                    for m in self._attention_mechanisms),
                alignment_history=self._item_or_tuple(
                    tf.TensorArray(dtype, size=0, dynamic_size=True,
                                   element_shape=alignment.shape)
                    if self._alignment_history else ()
                    for alignment in initial_alignments))

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            batch_size = _static_or_dynamic(inputs, 0)
            dtype = inputs.dtype
        return self.zero_state(batch_size, dtype)

    def call(self, inputs, state):
        """One step: returns ``(output, next AttentionWrapperState)``.

        Raises:
          TypeError: ``state`` is not an :class:`AttentionWrapperState`.
        """
        if not isinstance(state, AttentionWrapperState):
            raise TypeError(f"Expected state to be instance of AttentionWrapperState. Received "
                            f"type {type(state)} instead.")
        cell_inputs = self._cell_input_fn(inputs, state.attention)
        cell_output, next_cell_state = self._cell(cell_inputs, state.cell_state)
        message = (
            f"When applying AttentionWrapper {self.name}: Non-matching batch sizes between the "
            f"memory (encoder output) and the query (decoder output).  Are you using the "
            f"BeamSearchDecoder?  You may need to tile your memory input via the "
            f"tf.contrib.seq2seq.tile_batch function with argument multiple=beam_width.")
        with tf.control_dependencies(
                self._batch_size_checks(_static_or_dynamic(cell_output, 0), message)):
            cell_output = tf.identity(cell_output, name="checked_cell_output")

        if self._is_multi:
            previous_attention_state = state.attention_state
            previous_alignment_history = state.alignment_history
        else:
            previous_attention_state = [state.attention_state]
            previous_alignment_history = [state.alignment_history]
        all_alignments, all_attentions, all_attention_states, all_histories = [], [], [], []
        for i, mechanism in enumerate(self._attention_mechanisms):
            attention, alignments, next_attention_state = self._attention_fn(
                mechanism, cell_output, previous_attention_state[i],
                self._attention_layers[i] if self._attention_layers else None)
            history = (previous_alignment_history[i].write(state.time, alignments)
                       if self._alignment_history else ())
            all_attention_states.append(next_attention_state)
            all_alignments.append(alignments)
            all_histories.append(history)
            all_attentions.append(attention)

        attention = tf.concat(all_attentions, 1)
        next_state = AttentionWrapperState(
            time=state.time + 1, cell_state=next_cell_state, attention=attention,
            attention_state=self._item_or_tuple(all_attention_states),
            alignments=self._item_or_tuple(all_alignments),
            alignment_history=self._item_or_tuple(all_histories))
        return (attention if self._output_attention else cell_output), next_state
