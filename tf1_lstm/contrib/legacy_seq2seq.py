"""TF 1.x's ``tf.contrib.legacy_seq2seq``, written over core ``tf.compat.v1``.

The models of the 2015 sequence-to-sequence tutorial: sequences are Python
lists with one tensor per time step, RNNs are unrolled statically, and every
public function keeps TF 1.15's signature, defaults, variable scopes and
variable names, so that TF1 checkpoints restore into graphs built here.

Shape legend: ``B`` batch, ``T`` time steps (the length of a list), ``I``
input depth, ``H`` cell output size, ``S`` flattened state size, ``A``
attention length, ``D`` attention size (the depth of ``attention_states``),
``V`` number of symbols, ``E`` embedding size, ``O`` output size,
``K`` number of attention heads.

Variables, for the default scopes (``<cell>`` is the cell's own scope, e.g.
``gru_cell/gates/kernel``; TF1 cell names are Keras' snake-case class names):

=============================  =================================================  ===============
function                       variable                                           shape
=============================  =================================================  ===============
rnn_decoder                    ``rnn_decoder/<cell>``
basic_rnn_seq2seq              ``basic_rnn_seq2seq/rnn/<cell>`` (encoder, a copy)
                               ``basic_rnn_seq2seq/rnn_decoder/<cell>``
tied_rnn_seq2seq               ``combined_tied_rnn_seq2seq/tied_rnn_seq2seq/<cell>``
embedding_rnn_decoder          ``embedding_rnn_decoder/embedding``                ``[V, E]``
                               ``embedding_rnn_decoder/rnn_decoder/<cell>``
embedding_rnn_seq2seq          ``.../rnn/embedding_wrapper/embedding``            ``[V_enc, E]``
                               ``.../rnn/embedding_wrapper/<cell>``
                               ``.../embedding_rnn_decoder/embedding``            ``[V_dec, E]``
                               ``.../rnn_decoder/output_projection_wrapper/``
                               ``<cell>``, ``kernel``, ``bias``                   ``[H, V]``,``[V]``
embedding_tied_rnn_seq2seq     ``embedding_tied_rnn_seq2seq/embedding``           ``[V, E]``
                               ``.../combined_tied_rnn_seq2seq/tied_rnn_seq2seq/``
                               ``output_projection_wrapper/...``
attention_decoder              ``attention_decoder/AttnW_<k>``                    ``[1, 1, D, D]``
                               ``attention_decoder/AttnV_<k>``                    ``[D]``
                               ``attention_decoder/kernel``, ``bias``             ``[I + K*D, I]``
                               ``attention_decoder/<cell>``
                               ``attention_decoder/Attention_<k>/kernel``,        ``[S, D]``
                               ``bias``                                           ``[D]``
                               ``attention_decoder/AttnOutputProjection/``        ``[H + K*D, O]``
                               ``kernel``, ``bias``                               ``[O]``
embedding_attention_seq2seq    ``.../rnn/embedding_wrapper/...`` (encoder),
                               ``.../embedding_attention_decoder/embedding``,
                               ``.../embedding_attention_decoder/``
                               ``attention_decoder/...``
one2many_rnn_seq2seq           ``.../rnn/embedding_wrapper/...`` (encoder),
                               ``.../one2many_decoder_<name>/``
                               ``embedding_rnn_decoder/...``
=============================  =================================================  ===============

TF1 took ``EmbeddingWrapper`` and ``OutputProjectionWrapper`` from
``tf.contrib.rnn`` and ``_linear`` from ``rnn_cell_impl``; so does this module
(:mod:`tf1_lstm.contrib.rnn.core_rnn_cell`: the same classes legacy scripts
get as ``tf.contrib.rnn.*``, and its ``linear``).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import tfcompat
from .rnn.core_rnn_cell import EmbeddingWrapper, OutputProjectionWrapper, is_cell, linear

tf = tfcompat.load()
v1 = tf.compat.v1
nest = tf.nest

__all__ = [
    "rnn_decoder",
    "basic_rnn_seq2seq",
    "tied_rnn_seq2seq",
    "embedding_rnn_decoder",
    "embedding_rnn_seq2seq",
    "embedding_tied_rnn_seq2seq",
    "attention_decoder",
    "embedding_attention_decoder",
    "embedding_attention_seq2seq",
    "one2many_rnn_seq2seq",
    "sequence_loss_by_example",
    "sequence_loss",
    "model_with_buckets",
]

LoopFunction = Callable[[Any, int], Any]


# --------------------------------------------------------------------------
# Private building blocks (TF1 took these from contrib.rnn / rnn_cell_impl).
# --------------------------------------------------------------------------

def _static_dim(shape, axis: int) -> Optional[int]:
    """``shape[axis]`` as an int or None, for V1 and V2 ``TensorShape`` alike."""
    return tf.compat.dimension_value(shape[axis])


def _extract_argmax_and_embed(embedding, output_projection=None,
                              update_embedding: bool = True) -> LoopFunction:
    """A loop function for greedy decoding: embed the most likely previous symbol.

    ``next = embedding[argmax(prev @ W + b)]`` (``W, b`` only when
    ``output_projection`` is given). No gradient flows through the argmax;
    with ``update_embedding=False`` none flows into ``embedding`` either.

    Args:
      embedding: the ``[V, E]`` embedding.
      output_projection: None or ``(W [H, V], b [V])``.
      update_embedding: whether gradients reach the embedding.

    Returns:
      ``loop_function(prev [B, H or V], i) -> [B, E]``.
    """

    def loop_function(prev, _):
        if output_projection is not None:
            prev = v1.nn.xw_plus_b(prev, output_projection[0], output_projection[1])  # (B, V)
        symbol = tf.argmax(prev, axis=1)  # (B,)
        embedded = v1.nn.embedding_lookup(embedding, symbol)  # (B, E)
        return embedded if update_embedding else tf.stop_gradient(embedded)

    return loop_function


def _check_output_projection(output_projection, num_symbols: int, dtype,
                             check_weights: bool = True) -> None:
    """Raises ``ValueError`` unless ``output_projection`` is ``(W [?, V], b [V])``."""
    if check_weights:
        weights = tf.convert_to_tensor(output_projection[0], dtype=dtype)
        if not weights.get_shape().is_compatible_with([None, num_symbols]):
            raise ValueError(f"output_projection[0] (W) must have shape [output_size, "
                             f"{num_symbols}], got {weights.get_shape()}")
    biases = tf.convert_to_tensor(output_projection[1], dtype=dtype)
    if not biases.get_shape().is_compatible_with([num_symbols]):
        raise ValueError(f"output_projection[1] (b) must have shape [{num_symbols}], "
                         f"got {biases.get_shape()}")


def _decoder_under_cond(feed_previous, build_decoder: Callable[[bool], Tuple[List, Any]],
                        num_steps: int, state_structure) -> Tuple[List, Any]:
    """Builds a decoder for both values of a boolean tensor and picks one by ``cond``.

    The ``True`` branch (feed previous outputs) creates the variables, the
    ``False`` branch reuses them, as TF1 did.

    Args:
      feed_previous: a scalar boolean tensor.
      build_decoder: ``build_decoder(feed_previous: bool) -> (outputs, state)``.
      num_steps: how many outputs the decoder returns.
      state_structure: a structure the decoder's state has (a state, or the
        cell's ``state_size``).

    Returns:
      ``(outputs, state)``: a list of ``num_steps`` tensors, and the state
      packed like ``state_structure``.
    """

    def branch(feed: bool) -> List:
        with v1.variable_scope(v1.get_variable_scope(), reuse=None if feed else True):
            outputs, state = build_decoder(feed)
            return list(outputs) + nest.flatten(state)

    flat = v1.cond(feed_previous, lambda: branch(True), lambda: branch(False))
    return list(flat[:num_steps]), nest.pack_sequence_as(state_structure, list(flat[num_steps:]))


# --------------------------------------------------------------------------
# Decoders and models without attention.
# --------------------------------------------------------------------------

def rnn_decoder(decoder_inputs: Sequence, initial_state, cell,
                loop_function: Optional[LoopFunction] = None, scope=None):
    """Runs ``cell`` over a list of inputs, starting from ``initial_state``.

    ``output_t, state_t = cell(x_t, state_{t-1})`` with ``state_{-1} =
    initial_state``. With ``loop_function``, only ``x_0`` is taken from
    ``decoder_inputs`` (the GO symbol); later inputs are
    ``x_t = loop_function(output_{t-1}, t)``, built in a ``loop_function``
    scope with ``reuse=True``. The cell's variables are created at ``t = 0``
    and reused after.

    Args:
      decoder_inputs: list of ``T`` tensors ``[B, I]``.
      initial_state: the cell's state (``[B, S]`` or a nested tuple of them).
      cell: an ``RNNCell``.
      loop_function: None or ``f(prev [B, H], t: int) -> next [B, I]``.
      scope: variable scope; defaults to ``"rnn_decoder"``.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors ``[B, H]`` and the state
      after the last step.
    """
    with v1.variable_scope(scope or "rnn_decoder"):
        state = initial_state
        outputs = []
        for t, x in enumerate(decoder_inputs):
            if loop_function is not None and outputs:
                with v1.variable_scope("loop_function", reuse=True):
                    x = loop_function(outputs[-1], t)
            if t > 0:
                v1.get_variable_scope().reuse_variables()
            output, state = cell(x, state)  # (B, H)
            outputs.append(output)
    return outputs, state


def basic_rnn_seq2seq(encoder_inputs: Sequence, decoder_inputs: Sequence, cell,
                      dtype=tf.float32, scope=None):
    """Encoder RNN, then decoder RNN started from the encoder's final state.

    The encoder runs a deep copy of ``cell`` (same type, its own variables,
    under ``rnn``); the decoder runs ``cell`` itself under ``rnn_decoder``.

    Args:
      encoder_inputs: list of tensors ``[B, I]``.
      decoder_inputs: list of ``T`` tensors ``[B, I]``.
      cell: an ``RNNCell``.
      dtype: dtype of the encoder's zero initial state.
      scope: variable scope; defaults to ``"basic_rnn_seq2seq"``.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors ``[B, H]`` and the
      decoder's final state.
    """
    with v1.variable_scope(scope or "basic_rnn_seq2seq"):
        _, encoder_state = v1.nn.static_rnn(copy.deepcopy(cell), encoder_inputs, dtype=dtype)
        return rnn_decoder(decoder_inputs, encoder_state, cell)


def tied_rnn_seq2seq(encoder_inputs: Sequence, decoder_inputs: Sequence, cell,
                     loop_function: Optional[LoopFunction] = None, dtype=tf.float32,
                     scope=None):
    """Like :func:`basic_rnn_seq2seq`, but encoder and decoder share one cell's variables.

    Both run under ``combined_tied_rnn_seq2seq/<scope>``; the decoder reuses
    the variables the encoder created.

    Args:
      encoder_inputs: list of tensors ``[B, I]``.
      decoder_inputs: list of ``T`` tensors ``[B, I]``.
      cell: an ``RNNCell``.
      loop_function: as in :func:`rnn_decoder`.
      dtype: dtype of the encoder's zero initial state.
      scope: inner variable scope; defaults to ``"tied_rnn_seq2seq"``.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors ``[B, H]`` and the
      decoder's final state.
    """
    with v1.variable_scope("combined_tied_rnn_seq2seq"):
        scope = scope or "tied_rnn_seq2seq"
        _, encoder_state = v1.nn.static_rnn(cell, encoder_inputs, dtype=dtype, scope=scope)
        v1.get_variable_scope().reuse_variables()
        return rnn_decoder(decoder_inputs, encoder_state, cell, loop_function=loop_function,
                           scope=scope)


def embedding_rnn_decoder(decoder_inputs: Sequence, initial_state, cell, num_symbols: int,
                          embedding_size: int, output_projection=None, feed_previous=False,
                          update_embedding_for_previous=True, scope=None):
    """:func:`rnn_decoder` over embedded symbols, optionally greedy.

    ``x_t = embedding[ids_t]`` with ``embedding`` ``[V, E]``. With
    ``feed_previous``, ``x_t = embedding[argmax(output_{t-1} @ W + b)]`` for
    ``t > 0`` (``W, b`` from ``output_projection`` if given).

    Args:
      decoder_inputs: list of ``T`` int tensors ``[B]``.
      initial_state: the cell's initial state.
      cell: an ``RNNCell``.
      num_symbols: ``V``.
      embedding_size: ``E``.
      output_projection: None or ``(W [H, V], b [V])``; used only to pick the
        previous symbol when ``feed_previous``.
      feed_previous: Python bool; greedy decoding from the GO symbol.
      update_embedding_for_previous: if False (with ``feed_previous``), no
        gradient reaches the embedding through the fed-back symbols.
      scope: variable scope; defaults to ``"embedding_rnn_decoder"``.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors ``[B, H]`` (``[B, V]``
      when ``cell`` projects to symbols) and the final state.

    Raises:
      ValueError: ``output_projection`` has the wrong shapes.
    """
    with v1.variable_scope(scope or "embedding_rnn_decoder") as varscope:
        if output_projection is not None:
            _check_output_projection(output_projection, num_symbols, varscope.dtype)
        embedding = v1.get_variable("embedding", [num_symbols, embedding_size])  # (V, E)
        loop_function = (_extract_argmax_and_embed(embedding, output_projection,
                                                   update_embedding_for_previous)
                         if feed_previous else None)
        embedded = [v1.nn.embedding_lookup(embedding, ids) for ids in decoder_inputs]  # T x (B, E)
        return rnn_decoder(embedded, initial_state, cell, loop_function=loop_function)


def embedding_rnn_seq2seq(encoder_inputs: Sequence, decoder_inputs: Sequence, cell,
                          num_encoder_symbols: int, num_decoder_symbols: int,
                          embedding_size: int, output_projection=None, feed_previous=False,
                          dtype=None, scope=None):
    """Embedding encoder RNN, then :func:`embedding_rnn_decoder` from its final state.

    The encoder is an embedding (``[V_enc, E]``) in front of a deep copy of
    ``cell``; the decoder has its own embedding (``[V_dec, E]``). Without
    ``output_projection`` the decoder cell is wrapped in an output projection
    to ``V_dec`` logits.

    Args:
      encoder_inputs: list of int tensors ``[B]``.
      decoder_inputs: list of ``T`` int tensors ``[B]``.
      cell: an ``RNNCell``.
      num_encoder_symbols: ``V_enc``.
      num_decoder_symbols: ``V_dec``.
      embedding_size: ``E``.
      output_projection: None or ``(W [H, V_dec], b [V_dec])``.
      feed_previous: Python bool, or a scalar bool tensor (then both decoders
        are built and ``tf.cond`` picks one).
      dtype: dtype of the initial states (default: the scope's, float32).
      scope: variable scope; defaults to ``"embedding_rnn_seq2seq"``.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors, ``[B, V_dec]`` without
      ``output_projection``, else ``[B, H]``; and the decoder's final state.
    """
    with v1.variable_scope(scope or "embedding_rnn_seq2seq") as varscope:
        if dtype is not None:
            varscope.set_dtype(dtype)
        else:
            dtype = varscope.dtype
        encoder_cell = EmbeddingWrapper(copy.deepcopy(cell), num_encoder_symbols,
                                         embedding_size)
        _, encoder_state = v1.nn.static_rnn(encoder_cell, encoder_inputs, dtype=dtype)
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols)

        def build_decoder(feed: bool, update_embedding: bool = True):
            return embedding_rnn_decoder(
                decoder_inputs, encoder_state, cell, num_decoder_symbols, embedding_size,
                output_projection=output_projection, feed_previous=feed,
                update_embedding_for_previous=update_embedding)

        if isinstance(feed_previous, bool):
            return build_decoder(feed_previous)
        return _decoder_under_cond(
            feed_previous, lambda feed: build_decoder(feed, update_embedding=False),
            len(decoder_inputs), encoder_state)


def embedding_tied_rnn_seq2seq(encoder_inputs: Sequence, decoder_inputs: Sequence, cell,
                               num_symbols: int, embedding_size: int,
                               num_decoder_symbols: Optional[int] = None,
                               output_projection=None, feed_previous=False, dtype=None,
                               scope=None):
    """:func:`tied_rnn_seq2seq` over one embedding shared by encoder and decoder.

    Both sides look their symbols up in one ``embedding`` ``[V, E]`` and run
    the same cell variables. Without ``output_projection`` the cell is
    wrapped in an output projection to ``num_decoder_symbols`` (default
    ``V``) logits.

    Args:
      encoder_inputs: list of int tensors ``[B]``.
      decoder_inputs: list of ``T`` int tensors ``[B]``.
      cell: an ``RNNCell``.
      num_symbols: ``V``.
      embedding_size: ``E``.
      num_decoder_symbols: number of output logits (default ``V``).
      output_projection: None or ``(W [H, V], b [V])``.
      feed_previous: Python bool or scalar bool tensor.
      dtype: dtype of variables and initial states (default: the scope's).
      scope: variable scope; defaults to ``"embedding_tied_rnn_seq2seq"``.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors, ``[B, num_decoder_symbols
      or V]`` without ``output_projection``, else ``[B, H]``; and the final
      state.

    Raises:
      ValueError: ``output_projection`` has the wrong shapes.
    """
    with v1.variable_scope(scope or "embedding_tied_rnn_seq2seq", dtype=dtype) as varscope:
        dtype = varscope.dtype
        if output_projection is not None:
            _check_output_projection(output_projection, num_symbols, dtype)
        embedding = v1.get_variable("embedding", [num_symbols, embedding_size],
                                    dtype=dtype)  # (V, E)
        encoder_embedded = [v1.nn.embedding_lookup(embedding, ids) for ids in encoder_inputs]
        decoder_embedded = [v1.nn.embedding_lookup(embedding, ids) for ids in decoder_inputs]
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols or num_symbols)

        def build_decoder(feed: bool, update_embedding: bool = True):
            loop_function = (_extract_argmax_and_embed(embedding, output_projection,
                                                       update_embedding)
                             if feed else None)
            return tied_rnn_seq2seq(encoder_embedded, decoder_embedded, cell,
                                    loop_function=loop_function, dtype=dtype)

        if isinstance(feed_previous, bool):
            return build_decoder(feed_previous)
        return _decoder_under_cond(
            feed_previous, lambda feed: build_decoder(feed, update_embedding=False),
            len(decoder_inputs), cell.state_size)


# --------------------------------------------------------------------------
# Attention (Vinyals et al. 2015, "Grammar as a Foreign Language").
# --------------------------------------------------------------------------

def attention_decoder(decoder_inputs: Sequence, initial_state, attention_states, cell,
                      output_size: Optional[int] = None, num_heads: int = 1,
                      loop_function: Optional[LoopFunction] = None, dtype=None, scope=None,
                      initial_state_attention: bool = False):
    """An RNN decoder that reads ``attention_states`` with ``K`` attention heads.

    With ``h_j`` the ``D``-vectors of ``attention_states`` (``j < A``), each
    head ``k`` has ``W_k`` (``AttnW_k``, ``[1, 1, D, D]``, a 1x1 convolution
    kernel in TF1) and ``v_k`` (``AttnV_k``, ``[D]``). One step is::

        x_t           = [x_t, a_{t-1,0..K-1}] @ kernel + bias          # (B, I), at this scope
        out_t, s_t    = cell(x_t, s_{t-1})
        u_{t,k,j}     = v_k . tanh(h_j @ W_k + (flat(s_t) @ U_k + c_k))  # Attention_k/kernel, bias
        alpha_{t,k}   = softmax_j(u_{t,k,j})                            # (B, A)
        a_{t,k}       = sum_j alpha_{t,k,j} h_j                         # (B, D)
        y_t           = [out_t, a_{t,0..K-1}] @ P + p                   # AttnOutputProjection

    ``flat(s_t)`` concatenates a nested state's parts. The initial reads
    ``a_{-1,k}`` are zeros, or computed from ``initial_state`` when
    ``initial_state_attention``. With ``loop_function``, ``x_t`` for ``t > 0``
    is ``loop_function(y_{t-1}, t)``. Inputs, reads and the cell output are
    cast to the scope's dtype, and the scores to float32 for the softmax (as
    TF 1.15 did for float16 models).

    Args:
      decoder_inputs: non-empty list of ``T`` tensors ``[B, I]`` with known
        ``I``.
      initial_state: the cell's initial state.
      attention_states: ``[B, A, D]`` with known ``D``.
      cell: an ``RNNCell``.
      output_size: ``O`` (default: ``cell.output_size``).
      num_heads: ``K``.
      loop_function: as in :func:`rnn_decoder`, applied to ``y_{t-1}``.
      dtype: dtype of the variables and the zero reads (default: the scope's).
      scope: variable scope; defaults to ``"attention_decoder"``.
      initial_state_attention: compute ``a_{-1}`` from ``initial_state``
        instead of zeros (to resume decoding).

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors ``[B, O]`` and the cell's
      final state.

    Raises:
      ValueError: no inputs, ``num_heads < 1``, unknown ``D``, an input of
        unknown depth, or a state part that is not 2-D.
    """
    if not decoder_inputs:
        raise ValueError("attention_decoder: decoder_inputs is empty; give at least one input "
                         "(the GO symbol)")
    if num_heads < 1:
        raise ValueError(f"attention_decoder: num_heads must be >= 1, got {num_heads}; "
                         f"without attention use rnn_decoder")
    states_shape = attention_states.get_shape().with_rank(3)
    attn_size = _static_dim(states_shape, 2)
    if attn_size is None:
        raise ValueError(f"attention_decoder: the depth (dimension 2) of attention_states "
                         f"must be known, got shape {attention_states.get_shape()}")
    if output_size is None:
        output_size = cell.output_size

    with v1.variable_scope(scope or "attention_decoder", dtype=dtype) as varscope:
        dtype = varscope.dtype
        batch_size = tf.shape(decoder_inputs[0])[0]
        attn_length = _static_dim(states_shape, 1)
        if attn_length is None:
            attn_length = tf.shape(attention_states)[1]

        head_v = []
        keys = []  # h_j @ W_k for each head: K x (B, A, D)
        for k in range(num_heads):
            w_k = v1.get_variable(f"AttnW_{k}", [1, 1, attn_size, attn_size])
            keys.append(tf.einsum("bjd,de->bje", attention_states, w_k[0, 0]))
            head_v.append(v1.get_variable(f"AttnV_{k}", [attn_size]))

        def attention(query) -> List:
            """The ``K`` reads ``a_k`` ``[B, D]`` of ``attention_states`` for ``query``."""
            if nest.is_nested(query):
                parts = nest.flatten(query)
                for part in parts:
                    ndims = part.get_shape().ndims
                    if ndims and ndims != 2:
                        raise ValueError(f"attention_decoder: every part of the state must be "
                                         f"2-D [B, S], got shape {part.get_shape()}")
                query = tf.concat(parts, 1)  # (B, S)
            reads = []
            for k in range(num_heads):
                with v1.variable_scope(f"Attention_{k}"):
                    q = tf.cast(linear(query, attn_size, True), dtype)  # (B, D)
                    scores = tf.reduce_sum(
                        head_v[k] * tf.tanh(keys[k] + q[:, None, :]), axis=2)  # (B, A)
                    alpha = tf.cast(tf.nn.softmax(tf.cast(scores, tf.float32)), dtype)  # (B, A)
                    reads.append(tf.reshape(
                        tf.reduce_sum(alpha[:, :, None] * attention_states, axis=1),
                        [-1, attn_size]))  # (B, D)
            return reads

        reads = []
        for _ in range(num_heads):
            zeros = tf.zeros(tf.stack([batch_size, attn_size]), dtype=dtype)  # (B, D)
            zeros.set_shape([None, attn_size])
            reads.append(zeros)
        if initial_state_attention:
            reads = attention(initial_state)

        state = initial_state
        outputs = []
        for t, x in enumerate(decoder_inputs):
            if t > 0:
                v1.get_variable_scope().reuse_variables()
            if loop_function is not None and outputs:
                with v1.variable_scope("loop_function", reuse=True):
                    x = loop_function(outputs[-1], t)
            input_size = _static_dim(x.get_shape().with_rank(2), 1)
            if input_size is None:
                raise ValueError(f"attention_decoder: could not infer the depth of input "
                                 f"{x.name} (shape {x.get_shape()})")
            x = linear([tf.cast(part, dtype) for part in [x] + reads], input_size, True)
            cell_output, state = cell(x, state)  # (B, H)
            if t == 0 and initial_state_attention:
                with v1.variable_scope(v1.get_variable_scope(), reuse=True):
                    reads = attention(state)
            else:
                reads = attention(state)
            with v1.variable_scope("AttnOutputProjection"):
                output = linear([tf.cast(cell_output, dtype)] + reads, output_size,
                                 True)  # (B, O)
            outputs.append(output)
    return outputs, state


def embedding_attention_decoder(decoder_inputs: Sequence, initial_state, attention_states,
                                cell, num_symbols: int, embedding_size: int,
                                num_heads: int = 1, output_size: Optional[int] = None,
                                output_projection=None, feed_previous=False,
                                update_embedding_for_previous=True, dtype=None, scope=None,
                                initial_state_attention: bool = False):
    """:func:`attention_decoder` over embedded symbols, optionally greedy.

    ``x_t = embedding[ids_t]`` with ``embedding`` ``[V, E]``; with
    ``feed_previous``, ``x_t = embedding[argmax(y_{t-1} @ W + b)]`` for
    ``t > 0``.

    Args:
      decoder_inputs: list of ``T`` int tensors ``[B]``.
      initial_state: the cell's initial state.
      attention_states: ``[B, A, D]``.
      cell: an ``RNNCell``.
      num_symbols: ``V``.
      embedding_size: ``E``.
      num_heads: ``K``.
      output_size: ``O`` (default: ``cell.output_size``).
      output_projection: None or ``(W [O, V], b [V])``.
      feed_previous: Python bool; greedy decoding from the GO symbol.
      update_embedding_for_previous: as in :func:`embedding_rnn_decoder`.
      dtype: dtype of the variables (default: the scope's).
      scope: variable scope; defaults to ``"embedding_attention_decoder"``.
      initial_state_attention: as in :func:`attention_decoder`.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors ``[B, O]`` and the final
      state.

    Raises:
      ValueError: ``output_projection[1]`` is not ``[V]``.
    """
    if output_size is None:
        output_size = cell.output_size
    if output_projection is not None:
        _check_output_projection(output_projection, num_symbols, dtype, check_weights=False)
    with v1.variable_scope(scope or "embedding_attention_decoder", dtype=dtype):
        embedding = v1.get_variable("embedding", [num_symbols, embedding_size])  # (V, E)
        loop_function = (_extract_argmax_and_embed(embedding, output_projection,
                                                   update_embedding_for_previous)
                         if feed_previous else None)
        embedded = [v1.nn.embedding_lookup(embedding, ids) for ids in decoder_inputs]
        return attention_decoder(embedded, initial_state, attention_states, cell,
                                 output_size=output_size, num_heads=num_heads,
                                 loop_function=loop_function,
                                 initial_state_attention=initial_state_attention)


def embedding_attention_seq2seq(encoder_inputs: Sequence, decoder_inputs: Sequence, cell,
                                num_encoder_symbols: int, num_decoder_symbols: int,
                                embedding_size: int, encoder_cell=None, num_heads: int = 1,
                                output_projection=None, feed_previous=False, dtype=None,
                                scope=None, initial_state_attention: bool = False):
    """Embedding encoder RNN, then :func:`embedding_attention_decoder` reading its outputs.

    The encoder (``encoder_cell``, default a deep copy of ``cell``, behind an
    embedding ``[V_enc, E]``) produces ``T_enc`` outputs ``[B, H]``, stacked
    into ``attention_states`` ``[B, T_enc, H]``; the decoder starts from the
    encoder's final state. Without ``output_projection`` the decoder cell is
    wrapped in an output projection to ``V_dec`` and ``O = V_dec``.

    Args:
      encoder_inputs: list of ``T_enc`` int tensors ``[B]``.
      decoder_inputs: list of ``T`` int tensors ``[B]``.
      cell: the decoder's ``RNNCell`` (its ``output_size`` is the attention size).
      num_encoder_symbols: ``V_enc``.
      num_decoder_symbols: ``V_dec``.
      embedding_size: ``E``.
      encoder_cell: the encoder's ``RNNCell`` (default: a deep copy of ``cell``).
      num_heads: ``K``.
      output_projection: None or ``(W [H, V_dec], b [V_dec])``.
      feed_previous: Python bool or scalar bool tensor.
      dtype: dtype of the variables and initial states (default: the scope's).
      scope: variable scope; defaults to ``"embedding_attention_seq2seq"``.
      initial_state_attention: as in :func:`attention_decoder`.

    Returns:
      ``(outputs, state)``: a list of ``T`` tensors, ``[B, V_dec]`` without
      ``output_projection``, else ``[B, H]``; and the decoder's final state.
    """
    with v1.variable_scope(scope or "embedding_attention_seq2seq", dtype=dtype) as varscope:
        dtype = varscope.dtype
        if encoder_cell is None:
            encoder_cell = copy.deepcopy(cell)
        encoder_cell = EmbeddingWrapper(encoder_cell, num_encoder_symbols, embedding_size)
        encoder_outputs, encoder_state = v1.nn.static_rnn(encoder_cell, encoder_inputs,
                                                          dtype=dtype)
        attention_states = tf.concat(
            [tf.reshape(e, [-1, 1, cell.output_size]) for e in encoder_outputs],
            1)  # (B, T_enc, H)
        output_size = None
        if output_projection is None:
            cell = OutputProjectionWrapper(cell, num_decoder_symbols)
            output_size = num_decoder_symbols

        def build_decoder(feed: bool, update_embedding: bool = True):
            return embedding_attention_decoder(
                decoder_inputs, encoder_state, attention_states, cell, num_decoder_symbols,
                embedding_size, num_heads=num_heads, output_size=output_size,
                output_projection=output_projection, feed_previous=feed,
                update_embedding_for_previous=update_embedding,
                initial_state_attention=initial_state_attention)

        if isinstance(feed_previous, bool):
            return build_decoder(feed_previous)
        return _decoder_under_cond(
            feed_previous, lambda feed: build_decoder(feed, update_embedding=False),
            len(decoder_inputs), encoder_state)


def one2many_rnn_seq2seq(encoder_inputs: Sequence, decoder_inputs_dict: Dict[Any, Sequence],
                         enc_cell, dec_cells_dict: Dict[Any, Any], num_encoder_symbols: int,
                         num_decoder_symbols_dict: Dict[Any, int], embedding_size: int,
                         feed_previous=False, dtype=None, scope=None):
    """One embedding encoder, several :func:`embedding_rnn_decoder` s (multi-task).

    Every decoder ``name`` starts from the encoder's final state, has its own
    embedding and cell, and projects to ``num_decoder_symbols_dict[name]``
    logits, under the scope ``one2many_decoder_<name>``.

    Args:
      encoder_inputs: list of int tensors ``[B]``.
      decoder_inputs_dict: name -> list of ``T_name`` int tensors ``[B]``.
      enc_cell: the encoder's ``RNNCell``.
      dec_cells_dict: name -> that decoder's ``RNNCell`` (same keys).
      num_encoder_symbols: ``V_enc``.
      num_decoder_symbols_dict: name -> ``V_name``.
      embedding_size: ``E`` (encoder and decoders).
      feed_previous: Python bool or scalar bool tensor.
      dtype: dtype of the variables and initial states (default: the scope's).
      scope: variable scope; defaults to ``"one2many_rnn_seq2seq"``.

    Returns:
      ``(outputs_dict, state_dict)``: name -> list of ``T_name`` tensors
      ``[B, V_name]``, and name -> that decoder's final state.

    Raises:
      TypeError: ``enc_cell`` or a decoder cell is not an RNN cell.
      ValueError: the keys of ``dec_cells_dict`` and ``decoder_inputs_dict``
        differ.
    """
    if not is_cell(enc_cell):
        raise TypeError(f"one2many_rnn_seq2seq: enc_cell must be an RNNCell, got {type(enc_cell)}")
    if set(dec_cells_dict) != set(decoder_inputs_dict):
        raise ValueError(f"one2many_rnn_seq2seq: dec_cells_dict and decoder_inputs_dict must "
                         f"have the same keys, got {sorted(map(str, dec_cells_dict))} and "
                         f"{sorted(map(str, decoder_inputs_dict))}")
    for name, dec_cell in dec_cells_dict.items():
        if not is_cell(dec_cell):
            raise TypeError(f"one2many_rnn_seq2seq: dec_cells_dict[{name!r}] must be an "
                            f"RNNCell, got {type(dec_cell)}")

    outputs_dict = {}
    state_dict = {}
    with v1.variable_scope(scope or "one2many_rnn_seq2seq", dtype=dtype) as varscope:
        dtype = varscope.dtype
        encoder_cell = EmbeddingWrapper(enc_cell, num_encoder_symbols, embedding_size)
        _, encoder_state = v1.nn.static_rnn(encoder_cell, encoder_inputs, dtype=dtype)
        for name, decoder_inputs in decoder_inputs_dict.items():
            num_decoder_symbols = num_decoder_symbols_dict[name]
            with v1.variable_scope(f"one2many_decoder_{name}"):
                dec_cell = OutputProjectionWrapper(dec_cells_dict[name], num_decoder_symbols)

                def build_decoder(feed: bool, decoder_inputs=decoder_inputs, dec_cell=dec_cell,
                                  num_decoder_symbols=num_decoder_symbols):
                    return embedding_rnn_decoder(decoder_inputs, encoder_state, dec_cell,
                                                 num_decoder_symbols, embedding_size,
                                                 feed_previous=feed)

                if isinstance(feed_previous, bool):
                    outputs, state = build_decoder(feed_previous)
                else:
                    outputs, state = _decoder_under_cond(feed_previous, build_decoder,
                                                         len(decoder_inputs), encoder_state)
            outputs_dict[name] = outputs
            state_dict[name] = state
    return outputs_dict, state_dict


# --------------------------------------------------------------------------
# Losses and bucketing.
# --------------------------------------------------------------------------

def sequence_loss_by_example(logits: Sequence, targets: Sequence, weights: Sequence,
                             average_across_timesteps: bool = True,
                             softmax_loss_function=None, name=None):
    """Weighted cross-entropy of a sequence, one value per example.

    ``loss_b = sum_t w_{t,b} * CE(logits_t[b], targets_t[b])``, divided by
    ``sum_t w_{t,b} + 1e-12`` when ``average_across_timesteps`` (the
    per-symbol log-perplexity). ``CE`` is sparse softmax cross-entropy, or
    ``softmax_loss_function(labels=..., logits=...)`` (called with keyword
    arguments).

    Args:
      logits: list of ``T`` tensors ``[B, V]``.
      targets: list of ``T`` int tensors ``[B]``.
      weights: list of ``T`` float tensors ``[B]``.
      average_across_timesteps: divide by the total weight of each example.
      softmax_loss_function: None or ``f(labels, logits) -> [B]``.
      name: name scope; defaults to ``"sequence_loss_by_example"``.

    Returns:
      A ``[B]`` tensor.

    Raises:
      ValueError: the three lists differ in length.
    """
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(f"sequence_loss_by_example: logits, targets and weights must have one "
                         f"entry per time step each, got {len(logits)} logits, "
                         f"{len(targets)} targets and {len(weights)} weights")
    with v1.name_scope(name, "sequence_loss_by_example",
                       list(logits) + list(targets) + list(weights)):
        weighted = []
        for step_logits, step_targets, step_weights in zip(logits, targets, weights):
            if softmax_loss_function is None:
                # Targets may come as [B, 1] (or scalars); TF1 flattened them.
                crossent = v1.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=tf.reshape(step_targets, [-1]), logits=step_logits)  # (B,)
            else:
                crossent = softmax_loss_function(labels=step_targets, logits=step_logits)
            weighted.append(crossent * step_weights)  # (B,)
        loss = tf.add_n(weighted)  # (B,)
        if average_across_timesteps:
            loss /= tf.add_n(list(weights)) + 1e-12  # all-zero weights give 0, not NaN
    return loss


def sequence_loss(logits: Sequence, targets: Sequence, weights: Sequence,
                  average_across_timesteps: bool = True, average_across_batch: bool = True,
                  softmax_loss_function=None, name=None):
    """Weighted cross-entropy of a sequence, summed (or averaged) over the batch.

    ``sum_b loss_b`` with ``loss_b`` from :func:`sequence_loss_by_example`,
    divided by ``B`` (the dynamic size of ``targets[0]``) when
    ``average_across_batch``.

    Args:
      logits: list of ``T`` tensors ``[B, V]``.
      targets: list of ``T`` int tensors ``[B]``.
      weights: list of ``T`` float tensors ``[B]``.
      average_across_timesteps: as in :func:`sequence_loss_by_example`.
      average_across_batch: divide by ``B``.
      softmax_loss_function: as in :func:`sequence_loss_by_example`.
      name: name scope; defaults to ``"sequence_loss"``.

    Returns:
      A scalar tensor.

    Raises:
      ValueError: the three lists differ in length.
    """
    with v1.name_scope(name, "sequence_loss", list(logits) + list(targets) + list(weights)):
        cost = tf.reduce_sum(sequence_loss_by_example(
            logits, targets, weights, average_across_timesteps=average_across_timesteps,
            softmax_loss_function=softmax_loss_function))
        if not average_across_batch:
            return cost
        batch_size = tf.shape(targets[0])[0]
        return cost / tf.cast(batch_size, cost.dtype)


def model_with_buckets(encoder_inputs: Sequence, decoder_inputs: Sequence, targets: Sequence,
                       weights: Sequence, buckets: Sequence[Tuple[int, int]], seq2seq,
                       softmax_loss_function=None, per_example_loss: bool = False, name=None):
    """One seq2seq model per bucket, sharing variables, each with its loss.

    Bucket ``j = (n_enc, n_dec)`` runs ``seq2seq(encoder_inputs[:n_enc],
    decoder_inputs[:n_dec])``; the first bucket creates the variables and the
    others reuse them. Its loss is :func:`sequence_loss` (or, with
    ``per_example_loss``, :func:`sequence_loss_by_example`) of the outputs
    against ``targets[:n_dec]`` weighted by ``weights[:n_dec]``.

    Args:
      encoder_inputs: list of at least ``buckets[-1][0]`` tensors.
      decoder_inputs: list of decoder input tensors.
      targets: list of at least ``buckets[-1][1]`` int tensors ``[B]``.
      weights: list of at least ``buckets[-1][1]`` float tensors ``[B]``.
      buckets: list of ``(n_enc, n_dec)`` pairs, the largest last.
      seq2seq: ``f(encoder_inputs, decoder_inputs) -> (outputs, state)``.
      softmax_loss_function: as in :func:`sequence_loss_by_example`.
      per_example_loss: return ``[B]`` losses instead of scalars.
      name: name scope; defaults to ``"model_with_buckets"``.

    Returns:
      ``(outputs, losses)``: per bucket, the list of output tensors, and the
      scalar (or ``[B]``) loss.

    Raises:
      ValueError: ``encoder_inputs``, ``targets`` or ``weights`` is shorter
        than the last bucket needs.
    """
    for what, given, needed in (("encoder_inputs", encoder_inputs, buckets[-1][0]),
                                ("targets", targets, buckets[-1][1]),
                                ("weights", weights, buckets[-1][1])):
        if len(given) < needed:
            raise ValueError(f"model_with_buckets: {what} has {len(given)} entries, but the "
                             f"last bucket {tuple(buckets[-1])} needs at least {needed}")
    all_inputs = list(encoder_inputs) + list(decoder_inputs) + list(targets) + list(weights)
    outputs = []
    losses = []
    with v1.name_scope(name, "model_with_buckets", all_inputs):
        for j, (encoder_length, decoder_length) in enumerate(buckets):
            with v1.variable_scope(v1.get_variable_scope(), reuse=True if j > 0 else None):
                bucket_outputs, _ = seq2seq(encoder_inputs[:encoder_length],
                                            decoder_inputs[:decoder_length])
                outputs.append(bucket_outputs)
                loss_fn = sequence_loss_by_example if per_example_loss else sequence_loss
                losses.append(loss_fn(bucket_outputs, targets[:decoder_length],
                                      weights[:decoder_length],
                                      softmax_loss_function=softmax_loss_function))
    return outputs, losses
