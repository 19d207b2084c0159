"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/beam_search_decoder.py``: beam search.

:class:`BeamSearchDecoder` keeps ``K`` hypotheses per batch entry. The cell
runs on ``B * K`` rows (the initial state, and an attention mechanism's
memory, must be tiled with :func:`tile_batch`); inside the decoder everything
is shaped ``(B, K, ...)``. One step, as TF 1.15:

    log_p = log_softmax(logits)                      # (B, K, V)
    log_p[finished] = [min, ..., 0 at end_token, ..., min]
    total = log_probs[..., None] + log_p             # (B, K, V)
    lengths' = lengths + (not finished and id != end_token)
    score = total / ((5 + lengths') / 6) ** length_penalty_weight
            (+ coverage_penalty_weight * sum(log(min(attention so far, 1))) for finished beams)
    top K of score over K * V  ->  next ids (mod V), parent beams (div V)

At step 0 only beam 0 is live (the others start finished with
``log_probs = -inf``), so the K hypotheses differ. ``lengths`` grows by one
per step until a beam emits ``end_token`` (counted). ``finalize`` follows the
parent pointers with :func:`~.beam_search_ops.gather_tree`; TensorArrays in the
cell state (attention ``alignment_history``) are reordered the same way
when ``reorder_tensor_arrays``.

Shapes: ``B`` batch, ``K`` beam width, ``V`` vocabulary, ``T`` time.
"""

from __future__ import annotations

import collections
import logging

import numpy as np

from ... import tfcompat
from . import decoder
from .decoder import _as_shape, _check_cell, _is_layer
from .attention_wrapper import AttentionWrapperState
from .beam_search_ops import gather_tree

tf = tfcompat.load()
v1 = tf.compat.v1
nest = tf.nest

__all__ = ["BeamSearchDecoderOutput", "BeamSearchDecoderState", "BeamSearchDecoder",
           "FinalBeamSearchDecoderOutput", "tile_batch"]

_LOG = logging.getLogger(__name__)


class BeamSearchDecoderState(collections.namedtuple(
        "BeamSearchDecoderState",
        ("cell_state", "log_probs", "finished", "lengths", "accumulated_attention_probs"))):
    """``cell_state`` ``(B, K, ...)``, ``log_probs`` ``(B, K)``, ``finished`` ``(B, K)``, int64
    ``lengths`` ``(B, K)``, ``accumulated_attention_probs`` (``()`` without coverage penalty)."""


class BeamSearchDecoderOutput(collections.namedtuple(
        "BeamSearchDecoderOutput", ("scores", "predicted_ids", "parent_ids"))):
    """One step's ``scores``, ``predicted_ids`` and ``parent_ids``, each ``(B, K)``."""


class FinalBeamSearchDecoderOutput(collections.namedtuple(
        "FinalBeamDecoderOutput", ["predicted_ids", "beam_search_decoder_output"])):
    """``predicted_ids`` ``(B, T, K)`` (or time major): full paths, best beam first;
    ``beam_search_decoder_output``: the per-step :class:`BeamSearchDecoderOutput`."""


def _tile_batch(t, multiplier):
    t = tf.convert_to_tensor(t, name="t")
    if t.shape.ndims is None or t.shape.ndims < 1:
        raise ValueError(f"t must have statically known rank, saw shape {t.shape}")
    shape_t = tf.shape(t)
    tiling = [1] * (t.shape.ndims + 1)
    tiling[1] = multiplier
    static_batch = tf.compat.dimension_value(t.shape[0])
    tiled = tf.tile(tf.expand_dims(t, 1), tiling)  # (B, multiplier, ...)
    tiled = tf.reshape(tiled, tf.concat(([shape_t[0] * multiplier], shape_t[1:]), 0))
    tiled.set_shape(tf.TensorShape([None if static_batch is None else static_batch * multiplier])
                    .concatenate(t.shape[1:]))
    return tiled


def tile_batch(t, multiplier, name=None):
    """Repeats each batch entry ``multiplier`` times in place: ``t[0], t[0], ..., t[1], t[1], ...``.

    The same as ``np.repeat(t, multiplier, axis=0)``, for every tensor of a
    nested structure; use it on the encoder outputs, state and lengths before
    beam search.

    Args:
      t: a (nested) tensor ``(B, ...)``.
      multiplier: Python int.
      name: name scope, default ``"tile_batch"``.

    Returns:
      The same structure, each tensor ``(B * multiplier, ...)``.

    Raises:
      ValueError: a tensor has unknown rank or rank 0.
    """
    flat = nest.flatten(t)
    with v1.name_scope(name, "tile_batch", flat + [multiplier]):
        return nest.map_structure(lambda t_: _tile_batch(t_, multiplier), t)


def gather_tree_from_array(t, parent_ids, sequence_length):
    """Reorders a stacked TensorArray ``(T, B * K, ...)`` along the beams' final paths.

    Args:
      t: ``(T, B * K, ...)``.
      parent_ids: ``(T, B, K)``.
      sequence_length: ``(B, K)``.

    Returns:
      ``t`` with each step's beams in the order of the final hypotheses; steps past a
      beam's length keep their beam.
    """
    max_time = tf.compat.dimension_value(parent_ids.shape[0]) or tf.shape(parent_ids)[0]
    batch_size = tf.compat.dimension_value(parent_ids.shape[1]) or tf.shape(parent_ids)[1]
    beam_width = tf.compat.dimension_value(parent_ids.shape[2]) or tf.shape(parent_ids)[2]
    beam_ids = tf.tile(tf.range(beam_width)[None, None, :], [max_time, batch_size, 1])
    max_sequence_lengths = tf.cast(tf.reduce_max(sequence_length, axis=1), tf.int32)
    sorted_beam_ids = gather_tree(beam_ids, parent_ids, max_sequence_lengths,
                                  end_token=beam_width + 1)
    in_bound = tf.transpose(tf.sequence_mask(sequence_length, maxlen=max_time), perm=[2, 0, 1])
    sorted_beam_ids = tf.where(in_bound, sorted_beam_ids, beam_ids)  # (T, B, K)
    final_shape = tf.shape(t)
    gather_from = tf.reshape(t, [max_time, batch_size, beam_width, -1])
    ordered = tf.gather(gather_from, sorted_beam_ids, axis=2, batch_dims=2)
    return tf.reshape(ordered, final_shape)


def _check_rank_known(t):
    if t.shape.ndims is None:
        raise ValueError(f"Expected tensor ({t}) to have known rank, but ndims == None.")


def _gather_beams(t, beam_ids):
    """``t[b, beam_ids[b, k], ...]`` for ``t`` ``(B, K, ...)`` and ``beam_ids`` ``(B, K)``."""
    gathered = tf.gather(t, beam_ids, axis=1, batch_dims=1)
    gathered.set_shape(t.shape)
    return gathered


def _maybe_gather_beams(t, beam_ids):
    if isinstance(t, tf.TensorArray):
        return t
    _check_rank_known(t)
    return _gather_beams(t, beam_ids) if t.shape.ndims >= 2 else t


def _length_penalty(sequence_lengths, penalty_factor):
    """GNMT's ``((5 + length) / 6) ** penalty_factor``; 1 when the factor is statically 0."""
    penalty_factor = tf.convert_to_tensor(penalty_factor, name="penalty_factor")
    penalty_factor.set_shape(())
    static = tf.get_static_value(penalty_factor)
    if static is not None and static == 0:
        return 1.0
    return tf.math.divide((5.0 + tf.cast(sequence_lengths, tf.float32)) ** penalty_factor,
                          (5.0 + 1.0) ** penalty_factor)


def _attention_probs_from_state(state):
    """``state.alignments``, averaged over the mechanisms when there are several."""
    probs = state.alignments
    if isinstance(probs, tuple):
        probs = tf.reduce_mean(tf.stack(probs, -1), -1)
    return probs


def get_attention_probs(next_cell_state, coverage_penalty_weight):
    """The alignments ``(B, K, M)`` of the attentional cell(s) for the coverage penalty.

    Returns ``None`` when the penalty is off.

    Raises:
      ValueError: the penalty is on but no state is an ``AttentionWrapperState``.
    """
    if coverage_penalty_weight == 0.0:
        return None
    per_layer = []
    if isinstance(next_cell_state, AttentionWrapperState):
        per_layer = [_attention_probs_from_state(next_cell_state)]
    elif isinstance(next_cell_state, tuple):
        per_layer = [_attention_probs_from_state(s) for s in next_cell_state
                     if isinstance(s, AttentionWrapperState)]
    if not per_layer:
        raise ValueError("coverage_penalty_weight must be 0.0 if no cell is attentional.")
    if len(per_layer) == 1:
        return per_layer[0]
    return tf.reduce_mean(tf.stack(per_layer, -1), -1)


def _get_scores(log_probs, sequence_lengths, length_penalty_weight, coverage_penalty_weight,
                finished, accumulated_attention_probs):
    """Beam scores ``(B, K, V)``: length-normalized log probabilities (+ coverage penalty)."""
    length_penalty = tf.cast(_length_penalty(sequence_lengths, length_penalty_weight),
                             log_probs.dtype)
    scores = log_probs / length_penalty
    coverage_penalty_weight = tf.convert_to_tensor(coverage_penalty_weight,
                                                   name="coverage_penalty_weight")
    if coverage_penalty_weight.shape.ndims != 0:
        raise ValueError(f"coverage_penalty_weight should be a scalar, but saw shape: "
                         f"{coverage_penalty_weight.shape}")
    if tf.get_static_value(coverage_penalty_weight) == 0.0:
        return scores
    if accumulated_attention_probs is None:
        raise ValueError("accumulated_attention_probs can be None only if coverage penalty is "
                         "disabled.")
    # Memory steps never attended (e.g. padding) count as fully covered.
    accumulated = tf.where(tf.equal(accumulated_attention_probs, 0.0),
                           tf.ones_like(accumulated_attention_probs), accumulated_attention_probs)
    coverage_penalty = tf.reduce_sum(tf.math.log(tf.minimum(accumulated, 1.0)), 2)  # (B, K)
    coverage_penalty *= tf.cast(finished, tf.float32)  # only finished hypotheses
    return scores + tf.expand_dims(coverage_penalty * coverage_penalty_weight, 2)


def _mask_probs(probs, eos_token, finished):
    """Finished beams get log probability 0 on ``eos_token`` and the dtype's minimum elsewhere."""
    vocab_size = tf.shape(probs)[2]
    finished_row = tf.one_hot(eos_token, vocab_size, dtype=probs.dtype,
                              on_value=tf.convert_to_tensor(0.0, dtype=probs.dtype),
                              off_value=probs.dtype.min)
    finished_probs = tf.tile(tf.reshape(finished_row, [1, 1, -1]),
                             tf.concat([tf.shape(finished), [1]], 0))
    finished_mask = tf.tile(tf.expand_dims(finished, 2), [1, 1, vocab_size])
    return tf.where(finished_mask, finished_probs, probs)


def _beam_search_step(time, logits, next_cell_state, beam_state, batch_size, beam_width,
                      end_token, length_penalty_weight, coverage_penalty_weight):
    """One beam search step: ``(BeamSearchDecoderOutput, BeamSearchDecoderState)``."""
    static_batch_size = tf.get_static_value(batch_size)
    previously_finished = beam_state.finished  # (B, K)
    not_finished = tf.logical_not(previously_finished)

    step_log_probs = _mask_probs(tf.nn.log_softmax(logits), end_token, previously_finished)
    total_probs = tf.expand_dims(beam_state.log_probs, 2) + step_log_probs  # (B, K, V)

    vocab_size = tf.compat.dimension_value(logits.shape[-1]) or tf.shape(logits)[-1]
    lengths_to_add = tf.one_hot(tf.fill([batch_size, beam_width], end_token), depth=vocab_size,
                                on_value=np.int64(0), off_value=np.int64(1), dtype=tf.int64)
    lengths_to_add *= tf.expand_dims(tf.cast(not_finished, tf.int64), 2)
    new_prediction_lengths = lengths_to_add + tf.expand_dims(beam_state.lengths, 2)  # (B, K, V)

    accumulated_attention_probs = None
    attention_probs = get_attention_probs(next_cell_state, coverage_penalty_weight)
    if attention_probs is not None:
        attention_probs *= tf.expand_dims(tf.cast(not_finished, tf.float32), 2)
        accumulated_attention_probs = beam_state.accumulated_attention_probs + attention_probs

    scores = _get_scores(total_probs, new_prediction_lengths, length_penalty_weight,
                         coverage_penalty_weight, previously_finished,
                         accumulated_attention_probs)
    scores_flat = tf.reshape(scores, [batch_size, -1])  # (B, K*V)
    next_beam_scores, word_indices = tf.nn.top_k(scores_flat, k=beam_width)
    next_beam_scores.set_shape([static_batch_size, beam_width])
    word_indices.set_shape([static_batch_size, beam_width])

    next_beam_probs = tf.gather(tf.reshape(total_probs, [batch_size, -1]), word_indices,
                                batch_dims=1)  # (B, K)
    next_beam_probs.set_shape([static_batch_size, beam_width])
    next_word_ids = tf.cast(tf.math.floormod(word_indices, vocab_size), tf.int32,
                            name="next_beam_word_ids")
    next_beam_ids = tf.cast(word_indices // vocab_size, tf.int32, name="next_beam_parent_ids")

    previously_finished = _gather_beams(previously_finished, next_beam_ids)
    next_finished = tf.logical_or(previously_finished, tf.equal(next_word_ids, end_token),
                                  name="next_beam_finished")
    # Finished beams keep their length; the others grow by one (the end token counts).
    next_prediction_len = (_gather_beams(beam_state.lengths, next_beam_ids)
                           + tf.cast(tf.logical_not(previously_finished), tf.int64))
    next_accumulated_attention_probs = ()
    if accumulated_attention_probs is not None:
        next_accumulated_attention_probs = _gather_beams(accumulated_attention_probs,
                                                         next_beam_ids)
    next_cell_state = nest.map_structure(lambda s: _maybe_gather_beams(s, next_beam_ids),
                                         next_cell_state)
    next_state = BeamSearchDecoderState(
        cell_state=next_cell_state, log_probs=next_beam_probs, lengths=next_prediction_len,
        finished=next_finished, accumulated_attention_probs=next_accumulated_attention_probs)
    output = BeamSearchDecoderOutput(scores=next_beam_scores, predicted_ids=next_word_ids,
                                     parent_ids=next_beam_ids)
    return output, next_state


class BeamSearchDecoder(decoder.Decoder):
    """Beam search over a cell's outputs, for :func:`~.decoder.dynamic_decode`.

    Args:
      cell: an RNN cell; its state and any attention memory tiled to ``B * K`` rows.
      embedding: a callable ``ids -> embeddings`` or the ``params`` of ``embedding_lookup``.
      start_tokens: int32 ``(B,)``.
      end_token: int32 scalar.
      initial_state: the cell's initial state, ``(B * K, ...)`` tensors.
      beam_width: Python int ``K``.
      output_layer: optional layer on the cell's output (to vocabulary logits).
      length_penalty_weight: GNMT's length penalty ``alpha``; 0 disables it.
      coverage_penalty_weight: GNMT's coverage penalty ``beta``; 0 disables it.
      reorder_tensor_arrays: reorder TensorArrays in the final cell state by the final beams.

    Raises:
      TypeError: ``cell`` or ``output_layer`` has the wrong type.
      ValueError: ``start_tokens`` is not a vector or ``end_token`` not a scalar.
    """

    def __init__(self, cell, embedding, start_tokens, end_token, initial_state, beam_width,
                 output_layer=None, length_penalty_weight=0.0, coverage_penalty_weight=0.0,
                 reorder_tensor_arrays=True):
        _check_cell("cell", cell)
        if output_layer is not None and not _is_layer(output_layer):
            raise TypeError(f"output_layer must be a Layer, received: {type(output_layer)}")
        self._cell = cell
        self._output_layer = output_layer
        self._reorder_tensor_arrays = reorder_tensor_arrays
        if callable(embedding):
            self._embedding_fn = embedding
        else:
            self._embedding_fn = lambda ids: v1.nn.embedding_lookup(embedding, ids)
        self._start_tokens = tf.convert_to_tensor(start_tokens, dtype=tf.int32,
                                                  name="start_tokens")
        if self._start_tokens.get_shape().ndims != 1:
            raise ValueError(f"start_tokens must be a vector, saw shape "
                             f"{self._start_tokens.get_shape()}")
        self._end_token = tf.convert_to_tensor(end_token, dtype=tf.int32, name="end_token")
        if self._end_token.get_shape().ndims != 0:
            raise ValueError(f"end_token must be a scalar, saw shape {self._end_token.get_shape()}")
        self._batch_size = tf.size(start_tokens)
        self._beam_width = beam_width
        self._length_penalty_weight = length_penalty_weight
        self._coverage_penalty_weight = coverage_penalty_weight
        self._initial_cell_state = nest.map_structure(self._maybe_split_batch_beams,
                                                      initial_state, self._cell.state_size)
        self._start_tokens = tf.tile(tf.expand_dims(self._start_tokens, 1), [1, beam_width])
        self._start_inputs = self._embedding_fn(self._start_tokens)  # (B, K, E)
        # Only beam 0 is live at the start.
        self._finished = tf.one_hot(tf.zeros([self._batch_size], dtype=tf.int32),
                                    depth=beam_width, on_value=False, off_value=True,
                                    dtype=tf.bool)

    @property
    def batch_size(self):
        return self._batch_size

    def _rnn_output_size(self):
        size = self._cell.output_size
        if self._output_layer is None:
            return size
        with_batch = nest.map_structure(lambda s: tf.TensorShape([None]).concatenate(s), size)
        layer_shape = self._output_layer.compute_output_shape(with_batch)
        return nest.map_structure(lambda s: tf.TensorShape(s)[1:], layer_shape)

    @property
    def tracks_own_finished(self):
        """Beams are reordered every step, so the decoder keeps its own ``finished``."""
        return True

    @property
    def output_size(self):
        shape = tf.TensorShape([self._beam_width])
        return BeamSearchDecoderOutput(scores=shape, predicted_ids=shape, parent_ids=shape)

    @property
    def output_dtype(self):
        dtype = nest.flatten(self._initial_cell_state)[0].dtype
        return BeamSearchDecoderOutput(scores=dtype, predicted_ids=tf.int32,
                                       parent_ids=tf.int32)

    def initialize(self, name=None):
        """Returns ``(finished, start_inputs, initial BeamSearchDecoderState)``."""
        finished, start_inputs = self._finished, self._start_inputs
        dtype = nest.flatten(self._initial_cell_state)[0].dtype
        log_probs = tf.one_hot(tf.zeros([self._batch_size], dtype=tf.int32),
                               depth=self._beam_width,
                               on_value=tf.convert_to_tensor(0.0, dtype=dtype),
                               off_value=tf.convert_to_tensor(-np.inf, dtype=dtype),
                               dtype=dtype)  # (B, K)
        attention_probs = get_attention_probs(self._initial_cell_state,
                                              self._coverage_penalty_weight)
        initial_state = BeamSearchDecoderState(
            cell_state=self._initial_cell_state, log_probs=log_probs, finished=finished,
            lengths=tf.zeros([self._batch_size, self._beam_width], dtype=tf.int64),
            accumulated_attention_probs=() if attention_probs is None else attention_probs)
        return finished, start_inputs, initial_state

    def finalize(self, outputs, final_state, sequence_lengths):
        """Follows the parent ids back: :class:`FinalBeamSearchDecoderOutput` and the state."""
        del sequence_lengths  # the state's lengths are the beams'
        max_sequence_lengths = tf.cast(tf.reduce_max(final_state.lengths, axis=1), tf.int32)
        predicted_ids = gather_tree(outputs.predicted_ids, outputs.parent_ids,
                                    max_sequence_lengths=max_sequence_lengths,
                                    end_token=self._end_token)
        if self._reorder_tensor_arrays:
            final_state = final_state._replace(cell_state=nest.map_structure(
                lambda t: self._maybe_sort_array_beams(t, outputs.parent_ids,
                                                       final_state.lengths),
                final_state.cell_state))
        return (FinalBeamSearchDecoderOutput(beam_search_decoder_output=outputs,
                                             predicted_ids=predicted_ids), final_state)

    def _merge_batch_beams(self, t, s=None):
        """``(B, K, ...)`` -> ``(B * K, ...)``."""
        s = _as_shape(s)
        static_batch = tf.get_static_value(self._batch_size)
        merged = tf.reshape(t, tf.concat(([self._batch_size * self._beam_width],
                                          tf.shape(t)[2:]), 0))
        merged.set_shape(tf.TensorShape([None if static_batch is None
                                         else static_batch * self._beam_width]).concatenate(s))
        return merged

    def _split_batch_beams(self, t, s=None):
        """``(B * K, ...)`` -> ``(B, K, ...)``.

        Raises:
          ValueError: the result cannot be ``(B, K, s)`` (statically).
        """
        s = _as_shape(s)
        split = tf.reshape(t, tf.concat(([self._batch_size, self._beam_width], tf.shape(t)[1:]),
                                        0))
        expected = tf.TensorShape([tf.get_static_value(self._batch_size),
                                   self._beam_width]).concatenate(s)
        if not split.shape.is_compatible_with(expected):
            raise ValueError(
                f"Unexpected behavior when reshaping between beam width and batch size.  The "
                f"reshaped tensor has shape: {split.shape}.  We expected it to have shape "
                f"(batch_size, beam_width, depth) == {expected}.  Perhaps you forgot to create a "
                f"zero_state with batch_size=encoder_batch_size * beam_width?")
        split.set_shape(expected)
        return split

    def _maybe_split_batch_beams(self, t, s):
        if isinstance(t, tf.TensorArray):
            return t
        _check_rank_known(t)
        return self._split_batch_beams(t, s) if t.shape.ndims >= 1 else t

    def _maybe_merge_batch_beams(self, t, s):
        if isinstance(t, tf.TensorArray):
            return t
        _check_rank_known(t)
        return self._merge_batch_beams(t, s) if t.shape.ndims >= 2 else t

    def _maybe_sort_array_beams(self, t, parent_ids, sequence_length):
        """A TensorArray ``(T, B * K, ...)`` of the state, stacked, reordered by the final beams."""
        if not isinstance(t, tf.TensorArray):
            return t
        element_shape = t.element_shape
        if element_shape.ndims is None or element_shape.ndims < 1:
            _LOG.warning("The TensorArray %s in the cell state is not amenable to sorting based "
                         "on the beam search result. For a TensorArray to be sorted, its "
                         "elements shape must be defined and have at least a rank of 1, but saw "
                         "shape: %s", getattr(t.handle, "name", t), element_shape)
            return t
        static_batch = tf.get_static_value(self._batch_size)
        first = tf.compat.dimension_value(element_shape[0])
        if None not in (static_batch, first) and first != static_batch * self._beam_width:
            _LOG.warning("TensorArray reordering expects elements to have batch_size * "
                         "beam_width rows, saw shape %s; it is left unsorted.", element_shape)
            return t
        stacked = t.stack()
        check = tf.debugging.Assert(
            tf.equal(tf.shape(stacked)[1], self._batch_size * self._beam_width),
            ["TensorArray reordering expects elements to be reshapable to [batch_size, "
             "beam_size, -1] which is incompatible with the dynamic shape of", tf.shape(stacked),
             "elements. Consider setting reorder_tensor_arrays to False to disable "
             "TensorArray reordering during the beam search."])
        with tf.control_dependencies([check]):
            return gather_tree_from_array(stacked, parent_ids, sequence_length)

    def step(self, time, inputs, state, name=None):
        """One step: ``(BeamSearchDecoderOutput, BeamSearchDecoderState, next_inputs, done)``."""
        with v1.name_scope(name, "BeamSearchDecoderStep", (time, inputs, state)):
            cell_state = state.cell_state
            inputs = nest.map_structure(lambda inp: self._merge_batch_beams(inp, s=inp.shape[2:]),
                                        inputs)
            cell_state = nest.map_structure(self._maybe_merge_batch_beams, cell_state,
                                            self._cell.state_size)
            cell_outputs, next_cell_state = self._cell(inputs, cell_state)
            cell_outputs = nest.map_structure(lambda out: self._split_batch_beams(out,
                                                                                  out.shape[1:]),
                                              cell_outputs)
            next_cell_state = nest.pack_sequence_as(cell_state, nest.flatten(next_cell_state))
            next_cell_state = nest.map_structure(self._maybe_split_batch_beams, next_cell_state,
                                                 self._cell.state_size)
            if self._output_layer is not None:
                cell_outputs = self._output_layer(cell_outputs)
            beam_search_output, beam_search_state = _beam_search_step(
                time=time, logits=cell_outputs, next_cell_state=next_cell_state,
                beam_state=state, batch_size=self._batch_size, beam_width=self._beam_width,
                end_token=self._end_token, length_penalty_weight=self._length_penalty_weight,
                coverage_penalty_weight=self._coverage_penalty_weight)
            finished = beam_search_state.finished
            sample_ids = beam_search_output.predicted_ids
            next_inputs = tf.cond(tf.reduce_all(finished), lambda: self._start_inputs,
                                  lambda: self._embedding_fn(sample_ids))
        return beam_search_output, beam_search_state, next_inputs, finished
