"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/loss.py``: ``sequence_loss``.

Shapes: ``B`` batch, ``T`` time steps, ``C`` classes.

The loss is the per-target cross-entropy ``x[b, t] = w[b, t] * CE(logits[b, t], y[b, t])``,
reduced as TF 1.15 did; the flags pick the axes and the divisor:

======================================  ======================  ==============================
flags set                               result                  divisor
======================================  ======================  ==============================
average_across_timesteps and _batch     scalar                  ``sum(w)``
sum_over_timesteps and sum_over_batch   scalar                  ``count_nonzero(w)``
average_across_batch (only)             ``(T,)``                ``sum(w, axis=0)``
average_across_timesteps (only)         ``(B,)``                ``sum(w, axis=1)``
sum_over_batch (only)                   ``(T,)``                ``count_nonzero(w, axis=0)``
sum_over_timesteps (only)               ``(B,)``                ``count_nonzero(w, axis=1)``
none                                    ``(B, T)``              none
======================================  ======================  ==============================

So TF1's "sum_over" flags average over the non-zero weights, and a divisor of
0 gives 0 (``div_no_nan``). When an ``average_across`` flag meets the other
axis's ``sum_over`` flag, TF 1.15 applied only the ``average_across`` one; so
does this module.
"""

from __future__ import annotations

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1

__all__ = ["sequence_loss"]


def sequence_loss(logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True, sum_over_timesteps=False, sum_over_batch=False,
                  softmax_loss_function=None, name=None):
    """Weighted cross-entropy of a batch of logit sequences, reduced as the flags say.

    Args:
      logits: ``(B, T, C)`` float tensor.
      targets: ``(B, T)`` int tensor of class ids.
      weights: ``(B, T)`` float tensor; 1 for real steps, 0 for padding when used as a mask.
      average_across_timesteps: sum over ``T`` and divide by the weights' sum over ``T``.
      average_across_batch: sum over ``B`` and divide by the weights' sum over ``B``.
      sum_over_timesteps: sum over ``T`` and divide by the number of non-zero weights.
      sum_over_batch: sum over ``B`` and divide by the number of non-zero weights.
      softmax_loss_function: ``f(labels=(B*T,), logits=(B*T, C)) -> (B*T,)``, called with
        keyword arguments, instead of sparse softmax cross-entropy.
      name: name scope, default ``"sequence_loss"``.

    Returns:
      A float tensor of rank 0, 1 or 2 (see the module docstring).

    Raises:
      ValueError: a tensor has the wrong rank, or an ``average_across`` flag and the
        ``sum_over`` flag of the same axis are both set.
    """
    for label, tensor, rank, shape in (
            ("Logits", logits, 3, "[batch_size x sequence_length x logits]"),
            ("Targets", targets, 2, "[batch_size x sequence_length]"),
            ("Weights", weights, 2, "[batch_size x sequence_length]")):
        if len(tensor.get_shape()) != rank:
            raise ValueError(f"{label} must be a {shape} tensor, saw shape {tensor.get_shape()}")
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError("average_across_timesteps and sum_over_timesteps cannot be set to True "
                         "at same time.")
    if average_across_batch and sum_over_batch:
        raise ValueError("average_across_batch and sum_over_batch cannot be set to True at "
                         "same time.")
    with v1.name_scope(name, "sequence_loss", [logits, targets, weights]):
        num_classes = tf.shape(logits)[2]
        logits_flat = tf.reshape(logits, [-1, num_classes])  # (B*T, C)
        targets_flat = tf.reshape(targets, [-1])  # (B*T,)
        if softmax_loss_function is None:
            crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=targets_flat, logits=logits_flat)
        else:
            crossent = softmax_loss_function(labels=targets_flat, logits=logits_flat)
        crossent *= tf.reshape(weights, [-1])  # (B*T,)

        def nonzero(axis=None):
            return tf.cast(tf.math.count_nonzero(weights, axis=axis), crossent.dtype)

        if average_across_timesteps and average_across_batch:
            return tf.math.divide_no_nan(tf.reduce_sum(crossent), tf.reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            return tf.math.divide_no_nan(tf.reduce_sum(crossent), nonzero())
        crossent = tf.reshape(crossent, tf.shape(logits)[0:2])  # (B, T)
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis=axis),
                                         tf.reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis=axis), nonzero(axis))
        return crossent
