"""TF 1.x's ``tensorflow/contrib/rnn/python/ops/rnn.py``: stacked bidirectional RNNs.

As in Graves et al. 2013, layer ``k`` runs a forward and a backward cell over
the whole sequence, and its depth-concatenated outputs are layer ``k + 1``'s
input::

    y_0 = x
    y_fw, y_bw = fw_k(y_k), bw_k(y_k)        # bw_k reads each sequence backwards
    y_{k+1} = concat([y_fw, y_bw], -1)       # (B, T, H_fw + H_bw) of layer k

The result is ``(outputs, states_fw, states_bw)``: the last layer's
concatenated outputs, and tuples of each layer's final forward and backward
states (only the final ones; the layers' outputs in between are not returned).

Variable scopes, as TF 1.x named them (``<scope>`` defaults to
``stack_bidirectional_rnn``):

- ``stack_bidirectional_dynamic_rnn``: ``<scope>/cell_<k>/bidirectional_rnn/{fw,bw}/<cell>/...``
  (``tf.compat.v1.nn.bidirectional_dynamic_rnn`` per layer);
- ``stack_bidirectional_rnn``: ``<scope>/cell_<k>/{fw,bw}/<cell>/...``
  (``tf.compat.v1.nn.static_bidirectional_rnn`` per layer, given the layer's scope).

Shapes: ``B`` batch, ``T`` time, ``H`` a cell's output depth.
"""

from __future__ import annotations

from ... import tfcompat

tf = tfcompat.load()
v1 = tf.compat.v1


def _check(cells_fw, cells_bw, initial_states_fw, initial_states_bw) -> None:
    """TF 1.x's argument checks, with its messages."""
    if not cells_fw:
        raise ValueError("Must specify at least one fw cell for BidirectionalRNN.")
    if not cells_bw:
        raise ValueError("Must specify at least one bw cell for BidirectionalRNN.")
    if not isinstance(cells_fw, list):
        raise ValueError("cells_fw must be a list of RNNCells (one per layer).")
    if not isinstance(cells_bw, list):
        raise ValueError("cells_bw must be a list of RNNCells (one per layer).")
    if len(cells_fw) != len(cells_bw):
        raise ValueError(f"Forward and Backward cells must have the same depth: "
                         f"{len(cells_fw)} fw, {len(cells_bw)} bw.")
    for direction, states in (("fw", initial_states_fw), ("bw", initial_states_bw)):
        if states is not None and (not isinstance(states, list) or len(states) != len(cells_fw)):
            raise ValueError(f"initial_states_{direction} must be a list of state tensors "
                             f"(one per layer).")


def _initial(states, k: int):
    return states[k] if states else None


def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                            initial_states_bw=None, dtype=None, sequence_length=None,
                            scope=None):
    """Stacked bidirectional RNN over ``T`` inputs ``(B, I)``: ``static_bidirectional_rnn`` per layer.

    Args:
      cells_fw, cells_bw: lists of cells, one per layer and direction.
      inputs: a list of ``T`` tensors ``(B, I)`` (or nested tuples of them).
      initial_states_fw, initial_states_bw: optional lists of initial states, one per layer.
      dtype: the dtype of the zero initial states (needed without initial states).
      sequence_length: optional ``(B,)`` int lengths.
      scope: the variable scope (default ``stack_bidirectional_rnn``).

    Returns:
      ``(outputs, states_fw, states_bw)``: a list of ``T`` tensors
      ``(B, H_fw + H_bw)`` of the last layer, and tuples of the final
      forward and backward states, one per layer.

    Raises:
      ValueError: empty or non-list cells, different depths, or initial
        states that are not one per layer.
    """
    _check(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
    states_fw, states_bw = [], []
    layer = inputs
    with v1.variable_scope(scope or "stack_bidirectional_rnn"):
        for k, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            with v1.variable_scope(f"cell_{k}") as cell_scope:
                layer, state_fw, state_bw = v1.nn.static_bidirectional_rnn(
                    cell_fw, cell_bw, layer,
                    initial_state_fw=_initial(initial_states_fw, k),
                    initial_state_bw=_initial(initial_states_bw, k),
                    dtype=dtype, sequence_length=sequence_length, scope=cell_scope)
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return layer, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                                    initial_states_bw=None, dtype=None, sequence_length=None,
                                    parallel_iterations=None, time_major=False, scope=None,
                                    swap_memory=False):
    """Stacked bidirectional RNN over ``(B, T, I)``: ``bidirectional_dynamic_rnn`` per layer.

    Args:
      cells_fw, cells_bw: lists of cells, one per layer and direction.
      inputs: ``(B, T, I)``, or ``(T, B, I)`` with ``time_major``.
      initial_states_fw, initial_states_bw: optional lists of initial states, one per layer.
      dtype: the dtype of the zero initial states (needed without initial states).
      sequence_length: optional ``(B,)`` int lengths; steps at and after a
        sequence's length output zeros and keep its state.
      parallel_iterations, swap_memory, time_major: as for ``dynamic_rnn``.
      scope: the variable scope (default ``stack_bidirectional_rnn``).

    Returns:
      ``(outputs, states_fw, states_bw)``: ``(B, T, H_fw + H_bw)`` (time-major
      with ``time_major``) of the last layer, and tuples of the final forward
      and backward states, one per layer.

    Raises:
      ValueError: empty or non-list cells, different depths, or initial
        states that are not one per layer.
    """
    _check(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
    states_fw, states_bw = [], []
    layer = inputs
    with v1.variable_scope(scope or "stack_bidirectional_rnn"):
        for k, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            with v1.variable_scope(f"cell_{k}"):
                (out_fw, out_bw), (state_fw, state_bw) = v1.nn.bidirectional_dynamic_rnn(
                    cell_fw, cell_bw, layer,
                    initial_state_fw=_initial(initial_states_fw, k),
                    initial_state_bw=_initial(initial_states_bw, k),
                    sequence_length=sequence_length, parallel_iterations=parallel_iterations,
                    dtype=dtype, swap_memory=swap_memory, time_major=time_major)
                layer = tf.concat([out_fw, out_bw], 2)
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return layer, tuple(states_fw), tuple(states_bw)
