"""TF 1.x's ``tensorflow.examples.tutorials.mnist.mnist``: the tutorial's two-layer MNIST model.

The inference / loss / training / evaluation helpers that
``fully_connected_feed.py`` and scripts modelled on it imported, building the
same graph as TF 1.x (r1.15), with ``tf.compat.v1``:

- :func:`inference`: ``hidden1 = relu(images @ W1 + b1)``,
  ``hidden2 = relu(hidden1 @ W2 + b2)``, ``logits = hidden2 @ W3 + b3``, in
  name scopes ``hidden1``, ``hidden2``, ``softmax_linear``, each with
  variables ``weights`` (truncated normal, stddev ``1/sqrt(fan_in)``) and
  ``biases`` (zeros);
- :func:`loss`: sparse softmax cross entropy, mean over the batch;
- :func:`training`: a ``loss`` scalar summary, gradient descent, and a
  ``global_step`` variable it increments;
- :func:`evaluation`: how many labels are the top logit.

Shapes: ``B`` batch, ``H1``/``H2`` hidden units; images ``(B, 784)``, logits
``(B, 10)``, labels ``(B,)`` integer class ids.
"""

from __future__ import annotations

import math

from .... import tfcompat

NUM_CLASSES = 10
IMAGE_SIZE = 28
IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE


def _layer(inputs, fan_in: int, units: int):
    """``inputs @ weights + biases`` with the tutorial's initial values."""
    tf = tfcompat.v1()
    weights = tf.Variable(tf.truncated_normal([fan_in, units], stddev=1.0 / math.sqrt(float(fan_in))),
                          name="weights")  # (fan_in, units)
    biases = tf.Variable(tf.zeros([units]), name="biases")  # (units,)
    return tf.matmul(inputs, weights) + biases


def inference(images, hidden1_units: int, hidden2_units: int):
    """Logits ``(B, 10)`` of the two-hidden-layer network for images ``(B, 784)``."""
    tf = tfcompat.v1()
    with tf.name_scope("hidden1"):
        hidden1 = tf.nn.relu(_layer(images, IMAGE_PIXELS, hidden1_units))  # (B, H1)
    with tf.name_scope("hidden2"):
        hidden2 = tf.nn.relu(_layer(hidden1, hidden1_units, hidden2_units))  # (B, H2)
    with tf.name_scope("softmax_linear"):
        return _layer(hidden2, hidden2_units, NUM_CLASSES)  # (B, 10)


def loss(logits, labels):
    """Mean sparse softmax cross entropy of ``logits`` ``(B, 10)`` against class ids ``(B,)``."""
    tf = tfcompat.v1()
    return tf.losses.sparse_softmax_cross_entropy(labels=tf.cast(labels, tf.int64), logits=logits)


def training(loss, learning_rate: float):
    """The op that takes one gradient-descent step on ``loss`` and increments ``global_step``."""
    tf = tfcompat.v1()
    tf.summary.scalar("loss", loss)
    optimizer = tf.train.GradientDescentOptimizer(learning_rate)
    global_step = tf.Variable(0, name="global_step", trainable=False)
    return optimizer.minimize(loss, global_step=global_step)


def evaluation(logits, labels):
    """Scalar ``int32``: how many of the ``B`` examples have their label as the top logit."""
    tf = tfcompat.v1()
    correct = tf.nn.in_top_k(logits, labels, 1)  # (B,) bool
    return tf.reduce_sum(tf.cast(correct, tf.int32))
