"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/beam_search_ops.py``: ``gather_tree``.

TF 1.x ran a C++ kernel, ``GatherTree``, that TensorFlow 2 no longer ships
(``tf.raw_ops`` has no ``GatherTree``), so this is the same computation in
graph ops: one backward ``tf.compat.v1.while_loop`` over time, vectorized over
batch and beams.

For entry ``b``, beam ``j`` and ``L = min(T, max_sequence_lengths[b])``:

    out[L-1, b, j] = step_ids[L-1, b, j];   p = parent_ids[L-1, b, j]
    for t = L-2 .. 0:  out[t, b, j] = step_ids[t, b, p];   p = parent_ids[t, b, p]
    out[t >= L] = end_token
    after the first end_token in out[:L], every later step is end_token too

A parent id outside ``[0, beam_width)`` fails at run time with ``Saw invalid
parent id``, as TF 1.15's CPU kernel did (which also let ``beam_width``
itself through and read past the beam).

Shapes: ``T`` time, ``B`` batch, ``K`` beam width.
"""

from __future__ import annotations

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1

__all__ = ["gather_tree"]


def gather_tree(step_ids, parent_ids, max_sequence_lengths, end_token, name=None):
    """Follows the parent pointers of a beam search back from the end: the full beam paths.

    Args:
      step_ids: int32 ``(T, B, K)``, the id each beam chose at each step.
      parent_ids: int32 ``(T, B, K)``, the beam each choice extended.
      max_sequence_lengths: int32 ``(B,)``, the steps to follow for each entry.
      end_token: int32 scalar.
      name: name scope, default ``"GatherTree"``.

    Returns:
      int32 ``(T, B, K)``: ``out[:, b, j]`` is beam ``j``'s path.

    Raises:
      ValueError: statically wrong ranks or mismatched shapes.
    """
    with v1.name_scope(name, "GatherTree",
                       [step_ids, parent_ids, max_sequence_lengths, end_token]):
        step_ids = tf.convert_to_tensor(step_ids, dtype=tf.int32, name="step_ids")
        parent_ids = tf.convert_to_tensor(parent_ids, dtype=tf.int32, name="parent_ids")
        max_sequence_lengths = tf.convert_to_tensor(max_sequence_lengths, dtype=tf.int32,
                                                    name="max_sequence_lengths")
        end_token = tf.convert_to_tensor(end_token, dtype=tf.int32, name="end_token")
        if step_ids.shape.ndims is not None and step_ids.shape.ndims != 3:
            raise ValueError(f"step_ids must be a 3-tensor, saw shape: {step_ids.shape}")
        if not step_ids.shape.is_compatible_with(parent_ids.shape):
            raise ValueError(f"step_ids.shape must match parent_ids.shape.  but shapes are: "
                             f"{step_ids.shape} and {parent_ids.shape}")
        if max_sequence_lengths.shape.ndims not in (None, 1):
            raise ValueError(f"max_sequence_lengths must be a vector, saw shape: "
                             f"{max_sequence_lengths.shape}")
        if end_token.shape.ndims not in (None, 0):
            raise ValueError(f"end_token must be a scalar, saw shape: {end_token.shape}")

        shape = tf.shape(step_ids)
        max_time, batch_size, beam_width = shape[0], shape[1], shape[2]
        lengths = tf.minimum(max_sequence_lengths, max_time)[:, None]  # (B, 1)
        own_beam = tf.tile(tf.range(beam_width)[None, :], [batch_size, 1])  # (B, K)
        element_shape = step_ids.shape[1:]

        def body(t, parent, ids_ta, index_ta):
            index = tf.where(tf.equal(t, lengths - 1), own_beam, parent)  # (B, K)
            safe = tf.clip_by_value(index, 0, beam_width - 1)  # bad ones fail below
            ids = tf.gather(step_ids[t], safe, batch_dims=1)  # (B, K)
            ids = tf.where(t < lengths, ids, tf.fill(tf.shape(ids), end_token))
            parent = tf.gather(parent_ids[t], safe, batch_dims=1)
            return t - 1, parent, ids_ta.write(t, ids), index_ta.write(t, index)

        _, _, ids_ta, index_ta = v1.while_loop(
            lambda t, *_: t >= 0, body,
            (max_time - 1, own_beam,
             tf.TensorArray(tf.int32, size=max_time, element_shape=element_shape),
             tf.TensorArray(tf.int32, size=max_time, element_shape=element_shape)))
        beams = ids_ta.stack()  # (T, B, K)
        index = index_ta.stack()  # (T, B, K): the beam read at each step
        followed = tf.range(max_time)[:, None, None] < lengths[None] - 1  # (T, B, 1)
        bad = tf.logical_and(followed, tf.logical_or(index < 0, index >= beam_width))
        ended_before = tf.cumsum(tf.cast(tf.equal(beams, end_token), tf.int32), axis=0,
                                 exclusive=True) > 0
        beams = tf.where(ended_before, tf.fill(tf.shape(beams), end_token), beams)
        where_bad = tf.where(bad)[:1]  # (<=1, 3): time, batch, beam
        check = tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(bad)),
            ["Saw invalid parent id", tf.gather_nd(index, where_bad),
             "at (time, batch, beam) ==", where_bad])
        with tf.control_dependencies([check]):
            beams = tf.identity(beams)
        beams.set_shape(step_ids.shape)
        return beams
