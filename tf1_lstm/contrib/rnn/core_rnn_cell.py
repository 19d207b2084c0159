"""TF 1.x's ``tensorflow/contrib/rnn/python/ops/core_rnn_cell.py``: wrappers that embed or project.

Each wraps a cell and keeps its state; the variables keep TF 1.x's names, so
TF1 checkpoints restore. Under ``dynamic_rnn`` with a wrapped ``LSTMCell``:

- ``EmbeddingWrapper``: ``rnn/embedding_wrapper/embedding`` ``(V, E)``, then
  ``rnn/embedding_wrapper/lstm_cell/...``; the inputs are ids ``(B, 1)`` or
  ``(B,)``.
- ``InputProjectionWrapper``: ``x' = act(x @ kernel + bias)``, variables
  ``rnn/input_projection_wrapper/{kernel,bias}``, ``kernel`` ``(I, P)``.
- ``OutputProjectionWrapper``: ``y = act(h @ kernel + bias)``, variables
  ``rnn/output_projection_wrapper/{kernel,bias}``, ``kernel`` ``(H, O)``;
  the state is the wrapped cell's, unprojected.

Shapes: ``B`` batch, ``I`` input depth, ``H`` the wrapped cell's output, ``P``
/ ``O`` the projection, ``V`` vocabulary, ``E`` embedding size.
"""

from __future__ import annotations

import math

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1
RNNCell = v1.nn.rnn_cell.RNNCell


def is_cell(cell) -> bool:
    """What TF 1.x accepted as a cell: anything with ``output_size``, ``state_size``, ``zero_state``."""
    return all(hasattr(cell, a) for a in ("output_size", "state_size", "zero_state")) and \
        callable(cell)


def linear(args, output_size: int, bias: bool, bias_initializer=None, kernel_initializer=None):
    """TF 1.x's ``_linear``: ``concat(args, 1) @ kernel (+ bias)`` in the current variable scope.

    Args:
      args: a 2-D tensor ``(B, n)`` or a list of them (concatenated on axis 1).
      output_size: the columns of ``kernel``.
      bias: whether to add ``bias`` (zeros unless ``bias_initializer``).

    Returns:
      ``(B, output_size)``. Variables ``kernel`` ``(sum n, output_size)`` and ``bias``.

    Raises:
      ValueError: an argument is not 2-D or its depth is unknown.
    """
    if args is None or (isinstance(args, (list, tuple)) and not args):
        raise ValueError("`args` must be specified")
    if not isinstance(args, (list, tuple)):
        args = [args]
    depth = 0
    for a in args:
        shape = a.get_shape()
        if shape.ndims != 2:
            raise ValueError(f"linear is expecting 2D arguments: {[x.get_shape() for x in args]}")
        if tf.compat.dimension_value(shape[1]) is None:
            raise ValueError(f"linear expects shape[1] to be provided for shape {shape}, but "
                             f"saw {shape[1]}")
        depth += tf.compat.dimension_value(shape[1])
    dtype = args[0].dtype
    scope = v1.get_variable_scope()
    with v1.variable_scope(scope) as outer:
        kernel = v1.get_variable("kernel", [depth, output_size], dtype=dtype,
                                 initializer=kernel_initializer)
        res = tf.matmul(args[0] if len(args) == 1 else tf.concat(args, 1), kernel)
        if not bias:
            return res
        with v1.variable_scope(outer) as inner:
            inner.set_partitioner(None)
            init = bias_initializer or v1.constant_initializer(0.0, dtype=dtype)
            biases = v1.get_variable("bias", [output_size], dtype=dtype, initializer=init)
        return tf.nn.bias_add(res, biases)


# TF 1.x's name for it in this module (custom cells of the time imported it).
_linear = linear


class _Wrapper(RNNCell):
    """A cell around ``cell`` whose state is ``cell``'s."""

    def __init__(self, cell, reuse=None) -> None:
        super().__init__(_reuse=reuse)
        if not is_cell(cell):
            raise TypeError("The parameter cell is not RNNCell.")
        self._cell = cell

    @property
    def state_size(self):
        return self._cell.state_size

    @property
    def output_size(self):
        return self._cell.output_size

    def zero_state(self, batch_size, dtype):
        with tf.name_scope(type(self).__name__ + "ZeroState"):
            return self._cell.zero_state(batch_size, dtype)


class EmbeddingWrapper(_Wrapper):
    """Embed integer inputs before ``cell``: ``cell(embedding[ids], state)``.

    The embedding ``(embedding_classes, embedding_size)`` is created on the
    CPU with ``initializer``, else the variable scope's initializer, else
    ``U(-sqrt 3, sqrt 3)`` (unit variance), in the state's dtype.
    """

    def __init__(self, cell, embedding_classes: int, embedding_size: int, initializer=None,
                 reuse=None) -> None:
        super().__init__(cell, reuse)
        if embedding_classes <= 0 or embedding_size <= 0:
            raise ValueError(f"Both embedding_classes and embedding_size must be > 0: "
                             f"{embedding_classes}, {embedding_size}.")
        self._embedding_classes = embedding_classes
        self._embedding_size = embedding_size
        self._initializer = initializer

    def call(self, inputs, state):
        with tf.device("/cpu:0"):
            initializer = (self._initializer or v1.get_variable_scope().initializer
                           or v1.random_uniform_initializer(-math.sqrt(3), math.sqrt(3)))
            dtype = state[0].dtype if isinstance(state, tuple) else state.dtype
            embedding = v1.get_variable("embedding",
                                        [self._embedding_classes, self._embedding_size],
                                        initializer=initializer, dtype=dtype)
            embedded = tf.nn.embedding_lookup(embedding, tf.reshape(inputs, [-1]))  # (B, E)
            return self._cell(embedded, state)  # on the CPU too, as TF 1.x placed it


class InputProjectionWrapper(_Wrapper):
    """Project the inputs before ``cell``: ``cell(act(x @ kernel + bias), state)``."""

    def __init__(self, cell, num_proj: int, activation=None, input_size=None,
                 reuse=None) -> None:
        super().__init__(cell, reuse)
        if input_size is not None:
            v1.logging.warn("%s: The input_size parameter is deprecated.", self)
        self._num_proj = num_proj
        self._activation = activation

    def call(self, inputs, state):
        projected = linear(inputs, self._num_proj, True)  # (B, P)
        if self._activation:
            projected = self._activation(projected)
        return self._cell(projected, state)


class OutputProjectionWrapper(_Wrapper):
    """Project ``cell``'s output: ``(act(h @ kernel + bias), state)``; the state stays as it is."""

    def __init__(self, cell, output_size: int, activation=None, reuse=None) -> None:
        super().__init__(cell, reuse)
        if output_size < 1:
            raise ValueError(f"Parameter output_size must be > 0: {output_size}.")
        self._output_size = output_size
        self._activation = activation

    @property
    def output_size(self):
        return self._output_size

    def call(self, inputs, state):
        output, new_state = self._cell(inputs, state)
        projected = linear(output, self._output_size, True)  # (B, O)
        if self._activation:
            projected = self._activation(projected)
        return projected, new_state
