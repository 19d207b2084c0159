"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/decoder.py``: ``Decoder``, ``dynamic_decode``.

``dynamic_decode`` runs one ``tf.compat.v1.while_loop`` in the variable scope
``decoder`` (or ``scope``): ``decoder.initialize()`` once, then
``decoder.step(time, inputs, state)`` until every batch entry is finished or
``maximum_iterations`` steps ran; each step's outputs go into TensorArrays
that are stacked at the end, time major ``(T, B, ...)``, then transposed to
``(B, T, ...)`` unless ``output_time_major``. A cell called in ``step``
therefore owns ``decoder/<cell>/kernel`` and so on, as in TF 1.x.

``finished`` and the sequence lengths follow TF 1.15: an entry's length is the
step at which it first reported finished (counting that step), and entries
finished from the start have length 0. With ``impute_finished`` the outputs of
finished entries are zeros and their state is carried through unchanged.

Shapes: ``B`` batch, ``T`` decoded steps.
"""

from __future__ import annotations

import abc

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1
nest = tf.nest

__all__ = ["Decoder", "dynamic_decode"]


def _transpose_batch_time(x):
    """Swaps the first two axes of a tensor of rank >= 2; lower ranks pass through."""
    static = x.get_shape()
    if static.rank is not None and static.rank < 2:
        return x
    perm = tf.concat(([1, 0], tf.range(2, tf.rank(x))), axis=0)
    x_t = tf.transpose(x, perm)
    if static.rank is not None:
        x_t.set_shape(tf.TensorShape([static[1], static[0]]).concatenate(static[2:]))
    return x_t


def _as_shape(size):
    """An RNN ``output_size`` / ``state_size`` entry as a ``TensorShape``."""
    if isinstance(size, tf.Tensor):
        value = tf.get_static_value(size)
        if value is not None:
            return tf.TensorShape(value)
        return tf.TensorShape([None]) if size.shape.ndims == 0 else tf.TensorShape(None)
    return tf.TensorShape(size)


def _zero_state_tensors(size, batch_size, dtype):
    """Zeros shaped ``[batch_size] + s`` for every entry ``s`` of the (nested) ``size``."""
    static_batch = tf.get_static_value(batch_size)

    def zeros(s, d):
        shape = _as_shape(s)
        if shape.is_fully_defined():
            dims = tf.concat([tf.reshape(batch_size, [1]),
                              tf.constant(shape.as_list(), tf.int32)], 0)
        else:
            dims = tf.concat([tf.reshape(batch_size, [1]),
                              tf.reshape(tf.cast(s, tf.int32), [-1])], 0)
        out = tf.zeros(dims, dtype=d)
        out.set_shape(tf.TensorShape([static_batch]).concatenate(shape))
        return out

    if not nest.is_nested(dtype):
        dtype = nest.map_structure(lambda _: dtype, size)
    return nest.map_structure(zeros, size, dtype)


def _rows_where(condition, x, y):
    """``x`` where ``condition`` (over the leading axes) is true, else ``y``, per row."""
    extra = x.get_shape().rank - condition.get_shape().rank
    cond = tf.reshape(condition, tf.concat([tf.shape(condition), tf.ones([extra], tf.int32)], 0))
    return tf.where(cond, x, y)


def _is_layer(obj) -> bool:
    """What TF 1.x accepted as ``output_layer``: a (tf.compat.v1 or tf-keras) layer."""
    return isinstance(obj, tf.Module) and callable(obj) and hasattr(obj, "compute_output_shape")


def _check_cell(name, cell):
    """``TypeError`` unless ``cell`` looks like an RNN cell (TF 1.x's ``assert_like_rnncell``)."""
    problems = [f"'{attr}' property is missing" for attr in ("output_size", "state_size")
                if not hasattr(cell, attr)]
    if not (hasattr(cell, "zero_state") or hasattr(cell, "get_initial_state")):
        problems.append("either 'zero_state' or 'get_initial_state' method is required")
    if not callable(cell):
        problems.append("is not callable")
    if problems:
        raise TypeError(f"The argument {name!r} ({cell!r}) is not an RNNCell: "
                        + ", ".join(problems) + ".")


def _should_cache():
    """Whether to cache variable reads: graph mode and not inside a while loop (TF1's rule)."""
    if tf.executing_eagerly():
        return False
    from tensorflow.python.ops import control_flow_util, control_flow_util_v2

    graph = v1.get_default_graph()
    context = graph._get_control_flow_context()  # pylint: disable=protected-access
    in_v1_loop = control_flow_util.GetContainingWhileContext(context) is not None
    return not in_v1_loop and not control_flow_util_v2.in_while_loop_defun(graph)


def _in_xla_context():
    from tensorflow.python.ops import control_flow_util

    context = v1.get_default_graph()._get_control_flow_context()  # pylint: disable=protected-access
    return control_flow_util.GetContainingXLAContext(context) is not None


class Decoder(abc.ABC):
    """What ``dynamic_decode`` drives: ``initialize`` once, ``step`` per time step, ``finalize``.

    ``inputs`` are what the cell reads at a step, ``state`` what it carries,
    ``finished`` a ``(B,)`` bool tensor, and the outputs a structure matching
    ``output_size`` / ``output_dtype``.
    """

    @property
    def batch_size(self):
        """The batch size, a scalar int32 tensor or a Python int."""
        raise NotImplementedError

    @property
    def output_size(self):
        """A (nested) structure of ints or ``TensorShape``: one step's output, without ``B``."""
        raise NotImplementedError

    @property
    def output_dtype(self):
        """A (nested) structure of dtypes matching ``output_size``."""
        raise NotImplementedError

    @abc.abstractmethod
    def initialize(self, name=None):
        """Returns ``(finished, initial_inputs, initial_state)``."""
        raise NotImplementedError

    @abc.abstractmethod
    def step(self, time, inputs, state, name=None):
        """One step at ``time`` (scalar int32): ``(outputs, next_state, next_inputs, finished)``."""
        raise NotImplementedError

    def finalize(self, outputs, final_state, sequence_lengths):
        """Post-processes the stacked outputs; returns ``(final_outputs, final_state)``.

        The default raises ``NotImplementedError``, which ``dynamic_decode`` takes
        as "nothing to do".
        """
        raise NotImplementedError

    @property
    def tracks_own_finished(self):
        """``True`` if ``step``'s ``finished`` is final (beam search reorders entries).

        Otherwise ``dynamic_decode`` ORs it with the entries already finished.
        """
        return False


def dynamic_decode(decoder, output_time_major=False, impute_finished=False,
                   maximum_iterations=None, parallel_iterations=32, swap_memory=False,
                   scope=None):
    """Runs ``decoder`` in a while loop until all entries finish or ``maximum_iterations``.

    Args:
      decoder: a :class:`Decoder`.
      output_time_major: return outputs ``(T, B, ...)`` instead of ``(B, T, ...)``.
      impute_finished: zero the outputs of finished entries and carry their state through.
      maximum_iterations: scalar int32, the most steps to run; ``None`` runs until finished.
      parallel_iterations: passed to ``tf.compat.v1.while_loop``.
      swap_memory: passed to ``tf.compat.v1.while_loop``.
      scope: variable scope, default ``"decoder"``.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths)``; the lengths are
      int32 ``(B,)`` (``(B, beam_width)`` for beam search).

    Raises:
      TypeError: ``decoder`` is not a :class:`Decoder`.
      ValueError: ``maximum_iterations`` is not a scalar, or is missing under XLA.
    """
    if not isinstance(decoder, Decoder):
        raise TypeError(f"Expected decoder to be type Decoder, but saw: {type(decoder)}")

    with v1.variable_scope(scope, "decoder") as varscope:
        if _should_cache() and varscope.caching_device is None:
            varscope.set_caching_device(lambda op: op.device)
        is_xla = not tf.executing_eagerly() and _in_xla_context()

        if maximum_iterations is not None:
            maximum_iterations = tf.convert_to_tensor(maximum_iterations, dtype=tf.int32,
                                                      name="maximum_iterations")
            if maximum_iterations.get_shape().ndims != 0:
                raise ValueError(f"maximum_iterations must be a scalar, saw shape "
                                 f"{maximum_iterations.get_shape()}")
        elif is_xla:
            raise ValueError("maximum_iterations is required for XLA compilation.")

        initial_finished, initial_inputs, initial_state = decoder.initialize()
        zero_outputs = _zero_state_tensors(decoder.output_size, decoder.batch_size,
                                           decoder.output_dtype)
        if maximum_iterations is not None:
            initial_finished = tf.logical_or(initial_finished, 0 >= maximum_iterations)
        initial_sequence_lengths = tf.zeros_like(initial_finished, dtype=tf.int32)
        initial_time = tf.constant(0, dtype=tf.int32)
        static_batch = tf.get_static_value(tf.convert_to_tensor(decoder.batch_size))
        dynamic_size = maximum_iterations is None or not is_xla

        def element_shape(size):
            if not isinstance(size, tf.TensorShape) or size.ndims == 0:
                return tf.TensorShape(None)
            return tf.TensorShape([static_batch]).concatenate(size)

        def new_array(size, dtype):
            return tf.TensorArray(dtype=dtype, size=0 if dynamic_size else maximum_iterations,
                                  dynamic_size=dynamic_size, element_shape=element_shape(size))

        initial_outputs_ta = nest.map_structure(new_array, decoder.output_size,
                                                decoder.output_dtype)

        def condition(unused_time, unused_outputs_ta, unused_state, unused_inputs, finished,
                      unused_sequence_lengths):
            return tf.logical_not(tf.reduce_all(finished))

        def body(time, outputs_ta, state, inputs, finished, sequence_lengths):
            next_outputs, decoder_state, next_inputs, decoder_finished = decoder.step(
                time, inputs, state)
            lengths_from_state = None
            if decoder.tracks_own_finished:
                next_finished = decoder_finished
                lengths_from_state = getattr(decoder_state, "lengths", None)
            else:
                next_finished = tf.logical_or(decoder_finished, finished)
            if lengths_from_state is not None:
                next_sequence_lengths = tf.cast(lengths_from_state, tf.int32)
            else:
                next_sequence_lengths = tf.where(
                    tf.logical_not(finished), tf.fill(tf.shape(sequence_lengths), time + 1),
                    sequence_lengths)

            nest.assert_same_structure(state, decoder_state)
            nest.assert_same_structure(outputs_ta, next_outputs)
            nest.assert_same_structure(inputs, next_inputs)

            if impute_finished:
                emit = nest.map_structure(lambda out, zero: _rows_where(finished, zero, out),
                                          next_outputs, zero_outputs)

                def copy_finished(new, cur):
                    if isinstance(cur, tf.TensorArray):
                        return new
                    new.set_shape(cur.shape)
                    return new if new.shape.ndims == 0 else _rows_where(finished, cur, new)

                next_state = nest.map_structure(copy_finished, decoder_state, state)
            else:
                emit, next_state = next_outputs, decoder_state
            outputs_ta = nest.map_structure(lambda ta, out: ta.write(time, out), outputs_ta, emit)
            return (time + 1, outputs_ta, next_state, next_inputs, next_finished,
                    next_sequence_lengths)

        res = v1.while_loop(
            condition, body,
            loop_vars=(initial_time, initial_outputs_ta, initial_state, initial_inputs,
                       initial_finished, initial_sequence_lengths),
            parallel_iterations=parallel_iterations, maximum_iterations=maximum_iterations,
            swap_memory=swap_memory)
        final_outputs_ta, final_state, final_sequence_lengths = res[1], res[2], res[5]
        final_outputs = nest.map_structure(lambda ta: ta.stack(), final_outputs_ta)
        try:
            final_outputs, final_state = decoder.finalize(final_outputs, final_state,
                                                          final_sequence_lengths)
        except NotImplementedError:
            pass
        if not output_time_major:
            final_outputs = nest.map_structure(_transpose_batch_time, final_outputs)
    return final_outputs, final_state, final_sequence_lengths
