"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/helper.py``: how ``BasicDecoder`` samples.

A helper decides three things for :class:`~.basic_decoder.BasicDecoder`: the
first inputs and which entries start finished (``initialize``), the ids to
emit from a step's outputs (``sample``), and the next inputs and finished
flags (``next_inputs``).

- ``TrainingHelper``: ``sample_id = argmax(outputs)``; next input ``inputs[:, t + 1]``.
- ``GreedyEmbeddingHelper``: ``sample_id = argmax(outputs)``; next input ``embed(sample_id)``.
- ``SampleEmbeddingHelper``: ``sample_id`` drawn from ``softmax(outputs / temperature)``;
  next input ``embed(sample_id)``.
- ``ScheduledEmbeddingTrainingHelper``: with probability ``p`` per entry and step a drawn
  ``sample_id`` and ``embed(sample_id)`` as next input; otherwise -1 and ``inputs[:, t + 1]``.
- ``ScheduledOutputTrainingHelper``: with probability ``p`` (``sample_id`` True) the
  outputs, else ``inputs[:, t + 1]``, as next input.
- ``InferenceHelper``: ``sample_id = sample_fn(outputs)``; next input
  ``next_inputs_fn(sample_id)``.
- ``CustomHelper``: your ``initialize_fn``, ``sample_fn`` and ``next_inputs_fn``.

``TrainingHelper`` finishes entry ``b`` after ``sequence_length[b]`` steps;
the embedding helpers finish an entry when it emits ``end_token``. Once all
entries are finished the next inputs are placeholders (zeros, or the start
embedding), since ``dynamic_decode`` stops there anyway.

Random draws use ``tf.random.categorical`` (TF1's ``Categorical.sample``
called the same multinomial kernel) and ``tf.random.uniform`` with the
given seeds.

Shapes: ``B`` batch, ``T`` time, ``I`` input depth, ``V`` vocabulary.
"""

from __future__ import annotations

import abc

from ... import tfcompat
from .decoder import _is_layer, _transpose_batch_time

tf = tfcompat.load()
v1 = tf.compat.v1
nest = tf.nest

__all__ = ["Helper", "TrainingHelper", "GreedyEmbeddingHelper", "SampleEmbeddingHelper",
           "CustomHelper", "ScheduledEmbeddingTrainingHelper", "ScheduledOutputTrainingHelper",
           "InferenceHelper"]


def _unstack_ta(inp):
    """A TensorArray holding ``inp`` split along its first (time) axis."""
    return tf.TensorArray(dtype=inp.dtype, size=tf.shape(inp)[0],
                          element_shape=inp.get_shape()[1:]).unstack(inp)


def _embedding_fn(embedding):
    """``embedding`` if callable, else a lookup in it (the ``params`` of ``embedding_lookup``)."""
    if callable(embedding):
        return embedding
    return lambda ids: v1.nn.embedding_lookup(embedding, ids)


def _categorical_sample(logits, seed=None):
    """One id per row of ``logits`` ``(B, V)``, int32 ``(B,)``."""
    return tf.cast(v1.random.categorical(logits, 1, seed=seed)[:, 0], tf.int32)


def _check_sampling_probability(probability):
    probability = tf.convert_to_tensor(probability, name="sampling_probability")
    if probability.get_shape().ndims not in (0, 1):
        raise ValueError(f"sampling_probability must be either a scalar or a vector. saw shape: "
                         f"{probability.get_shape()}")
    return probability


class Helper(abc.ABC):
    """The sampling interface of :class:`~.basic_decoder.BasicDecoder`."""

    @property
    @abc.abstractmethod
    def batch_size(self):
        """The batch size of what ``sample`` returns, a scalar int32 tensor."""
        raise NotImplementedError("batch_size has not been implemented")

    @property
    @abc.abstractmethod
    def sample_ids_shape(self):
        """The shape of one entry's ``sample_id``, without the batch (a ``TensorShape``)."""
        raise NotImplementedError("sample_ids_shape has not been implemented")

    @property
    @abc.abstractmethod
    def sample_ids_dtype(self):
        """The dtype of ``sample_id``."""
        raise NotImplementedError("sample_ids_dtype has not been implemented")

    @abc.abstractmethod
    def initialize(self, name=None):
        """Returns ``(initial_finished, initial_inputs)``."""

    @abc.abstractmethod
    def sample(self, time, outputs, state, name=None):
        """Returns ``sample_ids``."""

    @abc.abstractmethod
    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        """Returns ``(finished, next_inputs, next_state)``."""


class CustomHelper(Helper):
    """A helper made of three functions.

    Args:
      initialize_fn: ``() -> (finished, next_inputs)`` for the first step.
      sample_fn: ``(time, outputs, state) -> sample_ids``, called with keywords.
      next_inputs_fn: ``(time, outputs, state, sample_ids) -> (finished, next_inputs,
        next_state)``, called with keywords.
      sample_ids_shape: the shape of one ``sample_id``; default scalar.
      sample_ids_dtype: default int32.
    """

    def __init__(self, initialize_fn, sample_fn, next_inputs_fn, sample_ids_shape=None,
                 sample_ids_dtype=None):
        self._initialize_fn = initialize_fn
        self._sample_fn = sample_fn
        self._next_inputs_fn = next_inputs_fn
        self._batch_size = None
        self._sample_ids_shape = tf.TensorShape(sample_ids_shape or [])
        self._sample_ids_dtype = sample_ids_dtype or tf.int32

    @property
    def batch_size(self):
        if self._batch_size is None:
            raise ValueError("batch_size accessed before initialize was called")
        return self._batch_size

    @property
    def sample_ids_shape(self):
        return self._sample_ids_shape

    @property
    def sample_ids_dtype(self):
        return self._sample_ids_dtype

    def initialize(self, name=None):
        with v1.name_scope(name, f"{type(self).__name__}Initialize"):
            finished, next_inputs = self._initialize_fn()
            if self._batch_size is None:
                self._batch_size = tf.size(finished)
        return finished, next_inputs

    def sample(self, time, outputs, state, name=None):
        with v1.name_scope(name, f"{type(self).__name__}Sample", (time, outputs, state)):
            return self._sample_fn(time=time, outputs=outputs, state=state)

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        with v1.name_scope(name, f"{type(self).__name__}NextInputs", (time, outputs, state)):
            return self._next_inputs_fn(time=time, outputs=outputs, state=state,
                                        sample_ids=sample_ids)


class TrainingHelper(Helper):
    """Teacher forcing: step ``t`` reads ``inputs[:, t]``; entry ``b`` runs ``sequence_length[b]``.

    ``sample_id`` is the argmax of the outputs (int32), for inspection only.

    Args:
      inputs: a (nested) tensor ``(B, T, ...)``, or ``(T, B, ...)`` with ``time_major``.
      sequence_length: int32 ``(B,)``.
      time_major: whether ``inputs`` are time major.
      name: name scope, default ``"TrainingHelper"``.

    Raises:
      ValueError: ``sequence_length`` is not a vector.
    """

    def __init__(self, inputs, sequence_length, time_major=False, name=None):
        with v1.name_scope(name, "TrainingHelper", [inputs, sequence_length]):
            inputs = nest.map_structure(lambda inp: tf.convert_to_tensor(inp, name="inputs"),
                                        inputs)
            if not time_major:
                inputs = nest.map_structure(_transpose_batch_time, inputs)  # (T, B, ...)
            self._input_tas = nest.map_structure(_unstack_ta, inputs)
            self._sequence_length = tf.convert_to_tensor(sequence_length, name="sequence_length")
            if self._sequence_length.get_shape().ndims != 1:
                raise ValueError(f"Expected sequence_length to be a vector, but received shape: "
                                 f"{self._sequence_length.get_shape()}")
            self._zero_inputs = nest.map_structure(lambda inp: tf.zeros_like(inp[0, :]), inputs)
            self._batch_size = tf.size(sequence_length)

    @property
    def inputs(self):
        return self._input_tas

    @property
    def sequence_length(self):
        return self._sequence_length

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def sample_ids_shape(self):
        return tf.TensorShape([])

    @property
    def sample_ids_dtype(self):
        return tf.int32

    def _read(self, time, finished):
        return tf.cond(tf.reduce_all(finished), lambda: self._zero_inputs,
                       lambda: nest.map_structure(lambda ta: ta.read(time), self._input_tas))

    def initialize(self, name=None):
        with v1.name_scope(name, "TrainingHelperInitialize"):
            finished = tf.equal(0, self._sequence_length)
            return finished, self._read(0, finished)

    def sample(self, time, outputs, name=None, **unused_kwargs):
        with v1.name_scope(name, "TrainingHelperSample", [time, outputs]):
            return tf.cast(tf.argmax(outputs, axis=-1), tf.int32)

    def next_inputs(self, time, outputs, state, name=None, **unused_kwargs):
        with v1.name_scope(name, "TrainingHelperNextInputs", [time, outputs, state]):
            next_time = time + 1
            finished = next_time >= self._sequence_length
            return finished, self._read(next_time, finished), state


class ScheduledEmbeddingTrainingHelper(TrainingHelper):
    """Teacher forcing, except that with probability ``sampling_probability`` per entry and step
    the next input is the embedding of an id drawn from ``softmax(outputs)``.

    ``sample_id`` is the drawn id where a draw was taken and -1 elsewhere.

    Args:
      inputs, sequence_length, time_major: as for :class:`TrainingHelper`.
      embedding: a callable ``ids -> embeddings`` or the ``params`` of ``embedding_lookup``.
      sampling_probability: float scalar or ``(B,)``.
      seed: seed of the id draw.
      scheduling_seed: seed of the decision to draw.
      name: name scope.

    Raises:
      ValueError: ``sampling_probability`` is neither a scalar nor a vector.
    """

    def __init__(self, inputs, sequence_length, embedding, sampling_probability,
                 time_major=False, seed=None, scheduling_seed=None, name=None):
        with v1.name_scope(name, "ScheduledEmbeddingSamplingWrapper",
                           [embedding, sampling_probability]):
            self._embedding_fn = _embedding_fn(embedding)
            self._sampling_probability = _check_sampling_probability(sampling_probability)
            self._seed = seed
            self._scheduling_seed = scheduling_seed
            super().__init__(inputs=inputs, sequence_length=sequence_length,
                             time_major=time_major, name=name)

    def sample(self, time, outputs, state, name=None):
        with v1.name_scope(name, "ScheduledEmbeddingTrainingHelperSample",
                           [time, outputs, state]):
            noise = v1.random_uniform([self.batch_size], seed=self._scheduling_seed,
                                      dtype=self._sampling_probability.dtype)
            select = noise < self._sampling_probability  # (B,)
            return tf.where(select, _categorical_sample(outputs, seed=self._seed),
                            tf.fill([self.batch_size], -1))

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        with v1.name_scope(name, "ScheduledEmbeddingTrainingHelperNextInputs",
                           [time, outputs, state, sample_ids]):
            finished, base_next_inputs, state = super().next_inputs(
                time=time, outputs=outputs, state=state, sample_ids=sample_ids, name=name)

            def maybe_sample():
                where_sampling = tf.cast(tf.where(sample_ids > -1), tf.int32)  # (n, 1)
                where_not_sampling = tf.cast(tf.where(sample_ids <= -1), tf.int32)
                sampled_inputs = self._embedding_fn(tf.gather_nd(sample_ids, where_sampling))
                kept_inputs = tf.gather_nd(base_next_inputs, where_not_sampling)
                shape = tf.shape(base_next_inputs)
                return (tf.scatter_nd(where_sampling, sampled_inputs, shape)
                        + tf.scatter_nd(where_not_sampling, kept_inputs, shape))

            next_inputs = tf.cond(tf.reduce_all(finished), lambda: base_next_inputs,
                                  maybe_sample)
            return finished, next_inputs, state


class ScheduledOutputTrainingHelper(TrainingHelper):
    """Teacher forcing, except that with probability ``sampling_probability`` per entry and step
    the next input is the step's output (through ``next_input_layer`` if given).

    ``sample_id`` is bool: where the output was used.

    Args:
      inputs, sequence_length, time_major: as for :class:`TrainingHelper`.
      sampling_probability: float scalar or ``(B,)``.
      seed: seed of the decision.
      next_input_layer: an optional layer applied to the outputs to make inputs.
      auxiliary_inputs: optional tensors ``(B, T, A)`` concatenated to every next input.
      name: name scope.

    Raises:
      ValueError: ``sampling_probability`` is neither a scalar nor a vector.
      TypeError: ``next_input_layer`` is not a layer.
    """

    def __init__(self, inputs, sequence_length, sampling_probability, time_major=False,
                 seed=None, next_input_layer=None, auxiliary_inputs=None, name=None):
        with v1.name_scope(name, "ScheduledOutputTrainingHelper",
                           [inputs, auxiliary_inputs, sampling_probability]):
            self._sampling_probability = _check_sampling_probability(sampling_probability)
            if auxiliary_inputs is None:
                maybe_concatenated = inputs
            else:
                inputs = tf.convert_to_tensor(inputs, name="inputs")
                auxiliary_inputs = tf.convert_to_tensor(auxiliary_inputs, name="auxiliary_inputs")
                maybe_concatenated = nest.map_structure(lambda x, y: tf.concat((x, y), -1),
                                                        inputs, auxiliary_inputs)
                if not time_major:
                    auxiliary_inputs = nest.map_structure(_transpose_batch_time, auxiliary_inputs)
            self._auxiliary_input_tas = (None if auxiliary_inputs is None
                                         else nest.map_structure(_unstack_ta, auxiliary_inputs))
            self._seed = seed
            if next_input_layer is not None and not _is_layer(next_input_layer):
                raise TypeError(f"next_input_layer must be a Layer, received: "
                                f"{type(next_input_layer)}")
            self._next_input_layer = next_input_layer
            super().__init__(inputs=maybe_concatenated, sequence_length=sequence_length,
                             time_major=time_major, name=name)

    @property
    def sample_ids_shape(self):
        return tf.TensorShape([])

    @property
    def sample_ids_dtype(self):
        return tf.bool

    def sample(self, time, outputs, state, name=None):
        with v1.name_scope(name, "ScheduledOutputTrainingHelperSample", [time, outputs, state]):
            noise = v1.random_uniform([self.batch_size], seed=self._seed,
                                      dtype=self._sampling_probability.dtype)
            return noise < self._sampling_probability

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        with v1.name_scope(name, "ScheduledOutputTrainingHelperNextInputs",
                           [time, outputs, state, sample_ids]):
            finished, base_next_inputs, state = super().next_inputs(
                time=time, outputs=outputs, state=state, sample_ids=sample_ids, name=name)
            sample_ids = tf.cast(sample_ids, tf.bool)

            def maybe_sample():
                def with_auxiliary(outputs_, indices=None):
                    if self._auxiliary_input_tas is None:
                        return outputs_
                    auxiliary = nest.map_structure(lambda ta: ta.read(time + 1),
                                                   self._auxiliary_input_tas)
                    if indices is not None:
                        auxiliary = tf.gather_nd(auxiliary, indices)
                    return nest.map_structure(lambda x, y: tf.concat((x, y), -1),
                                              outputs_, auxiliary)

                if self._next_input_layer is None:
                    return v1.where(sample_ids, with_auxiliary(outputs), base_next_inputs)
                # The layer sees only the rows that sample, as in TF 1.x.
                where_sampling = tf.cast(tf.where(sample_ids), tf.int32)  # (n, 1)
                where_not_sampling = tf.cast(tf.where(tf.logical_not(sample_ids)), tf.int32)
                sampled = with_auxiliary(
                    self._next_input_layer(tf.gather_nd(outputs, where_sampling)), where_sampling)
                kept = tf.gather_nd(base_next_inputs, where_not_sampling)
                shape = tf.shape(base_next_inputs)
                return (tf.scatter_nd(where_sampling, sampled, shape)
                        + tf.scatter_nd(where_not_sampling, kept, shape))

            next_inputs = tf.cond(
                tf.logical_or(tf.reduce_all(finished), tf.logical_not(tf.reduce_any(sample_ids))),
                lambda: base_next_inputs, maybe_sample)
            return finished, next_inputs, state


class GreedyEmbeddingHelper(Helper):
    """Greedy decoding: the next input is the embedding of ``argmax(outputs)``.

    An entry finishes when it emits ``end_token``.

    Args:
      embedding: a callable ``ids -> embeddings`` or the ``params`` of ``embedding_lookup``.
      start_tokens: int32 ``(B,)``, the first ids.
      end_token: int32 scalar.

    Raises:
      ValueError: ``start_tokens`` is not a vector or ``end_token`` not a scalar.
    """

    def __init__(self, embedding, start_tokens, end_token):
        self._embedding_fn = _embedding_fn(embedding)
        self._start_tokens = tf.convert_to_tensor(start_tokens, dtype=tf.int32,
                                                  name="start_tokens")
        self._end_token = tf.convert_to_tensor(end_token, dtype=tf.int32, name="end_token")
        if self._start_tokens.get_shape().ndims != 1:
            raise ValueError(f"start_tokens must be a vector, saw shape "
                             f"{self._start_tokens.get_shape()}")
        self._batch_size = tf.size(start_tokens)
        if self._end_token.get_shape().ndims != 0:
            raise ValueError(f"end_token must be a scalar, saw shape {self._end_token.get_shape()}")
        self._start_inputs = self._embedding_fn(self._start_tokens)

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def sample_ids_shape(self):
        return tf.TensorShape([])

    @property
    def sample_ids_dtype(self):
        return tf.int32

    def initialize(self, name=None):
        return tf.tile([False], [self._batch_size]), self._start_inputs

    def sample(self, time, outputs, state, name=None):
        del time, state  # unused
        if not isinstance(outputs, tf.Tensor):
            raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")
        return tf.cast(tf.argmax(outputs, axis=-1), tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        del time, outputs  # unused
        finished = tf.equal(sample_ids, self._end_token)
        next_inputs = tf.cond(tf.reduce_all(finished), lambda: self._start_inputs,
                              lambda: self._embedding_fn(sample_ids))
        return finished, next_inputs, state


class SampleEmbeddingHelper(GreedyEmbeddingHelper):
    """Sampled decoding: the next input embeds an id drawn from ``softmax(outputs / temperature)``.

    Args:
      embedding, start_tokens, end_token: as for :class:`GreedyEmbeddingHelper`.
      softmax_temperature: float scalar, default 1; below 1 sharpens, above 1 flattens.
      seed: the draw's seed.
    """

    def __init__(self, embedding, start_tokens, end_token, softmax_temperature=None, seed=None):
        super().__init__(embedding, start_tokens, end_token)
        self._softmax_temperature = softmax_temperature
        self._seed = seed

    def sample(self, time, outputs, state, name=None):
        del time, state  # unused
        if not isinstance(outputs, tf.Tensor):
            raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")
        logits = outputs if self._softmax_temperature is None else (
            outputs / self._softmax_temperature)
        return _categorical_sample(logits, seed=self._seed)


class InferenceHelper(Helper):
    """Inference without embeddings: ``sample_fn`` picks, ``next_inputs_fn`` makes the input.

    Args:
      sample_fn: ``outputs -> sample_ids``.
      sample_shape: the shape of one ``sample_id``.
      sample_dtype: the dtype of ``sample_id``.
      start_inputs: ``(B, I)``, the first inputs.
      end_fn: ``sample_ids -> finished`` (bool ``(B,)``).
      next_inputs_fn: ``sample_ids -> next_inputs``; default the ``sample_ids`` themselves.
    """

    def __init__(self, sample_fn, sample_shape, sample_dtype, start_inputs, end_fn,
                 next_inputs_fn=None):
        self._sample_fn = sample_fn
        self._end_fn = end_fn
        self._sample_shape = tf.TensorShape(sample_shape)
        self._sample_dtype = sample_dtype
        self._next_inputs_fn = next_inputs_fn
        self._batch_size = tf.shape(start_inputs)[0]
        self._start_inputs = tf.convert_to_tensor(start_inputs, name="start_inputs")

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def sample_ids_shape(self):
        return self._sample_shape

    @property
    def sample_ids_dtype(self):
        return self._sample_dtype

    def initialize(self, name=None):
        return tf.tile([False], [self._batch_size]), self._start_inputs

    def sample(self, time, outputs, state, name=None):
        del time, state  # unused
        return self._sample_fn(outputs)

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        del time, outputs  # unused
        next_inputs = sample_ids if self._next_inputs_fn is None else (
            self._next_inputs_fn(sample_ids))
        return self._end_fn(sample_ids), next_inputs, state
