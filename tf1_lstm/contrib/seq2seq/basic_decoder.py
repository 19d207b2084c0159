"""TF 1.x's ``tensorflow/contrib/seq2seq/python/ops/basic_decoder.py``: ``BasicDecoder``.

One step is ``cell`` (then ``output_layer``, if any) on the helper's inputs;
the helper samples from the result and picks the next inputs:

    rnn_output, state = cell(inputs, state)       # (B, H)
    rnn_output = output_layer(rnn_output)         # (B, V), when given
    sample_id = helper.sample(t, rnn_output, state)

Under ``dynamic_decode`` the variables are ``decoder/<cell>/...`` and, for a
``tf.compat.v1.layers.Dense`` output layer, ``decoder/dense/kernel`` and
``decoder/dense/bias`` (``H, V`` and ``V``).
"""

from __future__ import annotations

import collections

from ... import tfcompat
from . import decoder
from .decoder import _check_cell, _is_layer
from .helper import Helper

tf = tfcompat.load()
v1 = tf.compat.v1
nest = tf.nest

__all__ = ["BasicDecoderOutput", "BasicDecoder"]


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput",
                                                ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') ``rnn_output`` and ``sample_id``."""


class BasicDecoder(decoder.Decoder):
    """Runs a cell step by step, sampling through a :class:`~.helper.Helper`.

    Args:
      cell: an RNN cell.
      helper: a :class:`~.helper.Helper`.
      initial_state: the cell's initial state (nested tensors).
      output_layer: optional layer applied to the cell's output before sampling,
        e.g. ``tf.compat.v1.layers.Dense(V)``.

    Raises:
      TypeError: ``cell``, ``helper`` or ``output_layer`` has the wrong type.
    """

    def __init__(self, cell, helper, initial_state, output_layer=None):
        _check_cell("cell", cell)
        if not isinstance(helper, Helper):
            raise TypeError(f"helper must be a Helper, received: {type(helper)}")
        if output_layer is not None and not _is_layer(output_layer):
            raise TypeError(f"output_layer must be a Layer, received: {type(output_layer)}")
        self._cell = cell
        self._helper = helper
        self._initial_state = initial_state
        self._output_layer = output_layer

    @property
    def batch_size(self):
        return self._helper.batch_size

    def _rnn_output_size(self):
        size = self._cell.output_size
        if self._output_layer is None:
            return size
        # The layer's output shape for the cell's output with an unknown batch, minus the batch.
        with_batch = nest.map_structure(lambda s: tf.TensorShape([None]).concatenate(s), size)
        layer_shape = self._output_layer.compute_output_shape(with_batch)
        return nest.map_structure(lambda s: tf.TensorShape(s)[1:], layer_shape)

    @property
    def output_size(self):
        return BasicDecoderOutput(rnn_output=self._rnn_output_size(),
                                  sample_id=self._helper.sample_ids_shape)

    @property
    def output_dtype(self):
        # The rnn output has the dtype of the initial state's first tensor, as in TF 1.x.
        dtype = nest.flatten(self._initial_state)[0].dtype
        return BasicDecoderOutput(nest.map_structure(lambda _: dtype, self._rnn_output_size()),
                                  self._helper.sample_ids_dtype)

    def initialize(self, name=None):
        """Returns ``(finished, first_inputs, initial_state)``."""
        return self._helper.initialize() + (self._initial_state,)

    def step(self, time, inputs, state, name=None):
        """Returns ``(BasicDecoderOutput, next_state, next_inputs, finished)``."""
        with v1.name_scope(name, "BasicDecoderStep", (time, inputs, state)):
            cell_outputs, cell_state = self._cell(inputs, state)
            if self._output_layer is not None:
                cell_outputs = self._output_layer(cell_outputs)
            sample_ids = self._helper.sample(time=time, outputs=cell_outputs, state=cell_state)
            finished, next_inputs, next_state = self._helper.next_inputs(
                time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids)
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished
