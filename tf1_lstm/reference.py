"""NumPy oracle of TF1's RNN cells, ``dynamic_rnn`` and their gradients.

An engine independent of TensorFlow: :func:`run` takes a
:class:`~tf1_lstm.spec.CaseSpec` and explicit weights and returns the same
named arrays as the TF1 graph engine (see :mod:`tf1_lstm.spec`), computed in
the case's dtype (float32 math for float32 cases, as TF does). Importing this
module does not import TensorFlow.

The cells are those of ``tf.compat.v1.nn.rnn_cell`` (implemented in
``tf_keras/src/layers/rnn/legacy_cells.py``); ``act`` is the cell activation
(default ``tanh``), ``sigmoid(z) = 1 / (1 + exp(-z))``.

``LSTMCell`` and ``BasicLSTMCell`` (one step function serves both; the basic
cell is the full cell without peepholes, clipping or projection)::

    i, j, f, o = split(concat([x, h_prev]) @ kernel + bias, 4)
    i = sigmoid(i + w_i_diag * c_prev)                    # input gate
    f = sigmoid(f + forget_bias + w_f_diag * c_prev)      # forget gate
    c = f * c_prev + i * act(j)
    c = clip(c, -cell_clip, cell_clip)
    o = sigmoid(o + w_o_diag * c)                         # output gate (new c)
    h = o * act(c)
    h = clip(h @ projection_kernel, -proj_clip, proj_clip)

  The peephole terms are present with ``use_peepholes`` only, each clip only
  when its option is set, the projection only with ``num_proj``. The output is
  ``h``; the state is ``(c, h)``, or ``concat([c, h], 1)`` when
  ``state_is_tuple`` is False.

``GRUCell``::

    r, u = split(sigmoid(concat([x, h_prev]) @ gates_kernel + gates_bias), 2)
    c = act(concat([x, r * h_prev]) @ candidate_kernel + candidate_bias)
    h = u * h_prev + (1 - u) * c

``BasicRNNCell``::

    h = act(concat([x, h_prev]) @ kernel + bias)

Weight layout: every kernel acts on ``concat([x, h_prev])``, so its first
``I`` rows multiply the input and the remaining rows the recurrent state;
LSTM kernel and bias columns hold the gates in the order ``i, j, f, o``
(input gate, new input, forget gate, output gate), GRU gate columns ``r, u``.
``forget_bias`` is not stored in ``bias``: it is added to ``f`` at run time.
The input rows are applied to all time steps in one matrix product ("hoisted"
out of the time loop); the bias is added there too.

Drivers: ``call`` is one step from the initial state. ``dynamic_rnn`` steps
over time; with ``sequence_length`` a finished example (``t >= length``)
outputs zeros and carries its state through unchanged, so its final state is
the state after step ``length - 1`` (the initial state for length 0).
``MultiRNNCell`` feeds layer ``k - 1``'s output to layer ``k``; here each
layer is run over the whole sequence before the next one (the same values:
layer ``k`` at time ``t`` needs only layer ``k - 1`` at ``t``).

Head (tf-slim ``fully_connected`` without activation)::

    logits = last @ weights + biases

where ``last`` is the output at the last time step (``outputs[:, -1]``, or
``outputs[-1]`` time-major), or the output itself for ``call``. With
``sequence_length`` that last step is zero for examples shorter than the time
axis, so their logits are ``biases``: this is what the legacy classifiers did
and what the oracle reproduces.

Gradients are an analytic backward pass through time of the loss
:data:`tf1_lstm.spec.LOSS`. Clips pass gradient where
``-clip <= value <= clip`` (inclusive, as the ``Minimum``/``Maximum``
gradients of ``tf.clip_by_value`` do) and zero strictly outside.

Numerics: float32 cases compute in float32, so they agree with TF to
rounding, not bit for bit: the oracle sums ``x @ w_x + bias + h @ w_h`` where
TF multiplies ``concat([x, h]) @ kernel`` and adds the bias, and NumPy's
``tanh`` and the ``sigmoid`` here are not Eigen's. Against TF 2.21 on CPU
(lengths up to 100, up to 128 units) the oracle agreed within
``rtol=1e-5, atol=1e-5`` in float32 (gradients included) and to about
``1e-15`` (forward) and ``1e-12`` (gradients) in float64.

Shape legend: ``B`` batch, ``T`` time, ``I`` input depth, ``H`` units, ``P``
projection (``num_proj``), ``O`` output depth (``P`` or ``H``), ``G`` gate
columns of a kernel (``4H`` LSTM, ``2H`` GRU gates, ``H`` otherwise), ``N``
head outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import naming
from .spec import CaseSpec, CellSpec

__all__ = ["ACTIVATIONS", "Activation", "run"]

State = Tuple[np.ndarray, ...]


# Activations -----------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed as ``0.5 * tanh(0.5 * x) + 0.5`` (no overflow)."""
    y = np.multiply(x, 0.5)
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


def _sigmoid_grad(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dy * sigmoid'(x)`` from the output ``y``, as TF's ``SigmoidGrad``."""
    return dy * y * (1 - y)


@dataclass(frozen=True)
class Activation:
    """A cell activation and its gradient.

    Attributes:
      forward: ``x -> y``.
      grad: ``(dy, x, y) -> dx``; written as TF's gradient kernels
        (``TanhGrad`` and ``SigmoidGrad`` use ``y``, ``ReluGrad`` and
        ``SoftsignGrad`` use ``x``).
    """

    forward: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


ACTIVATIONS: Dict[str, Activation] = {
    "tanh": Activation(np.tanh, lambda dy, x, y: dy * (1 - y * y)),
    "sigmoid": Activation(_sigmoid, lambda dy, x, y: _sigmoid_grad(dy, y)),
    "relu": Activation(lambda x: np.maximum(x, 0), lambda dy, x, y: np.where(x > 0, dy, 0)),
    "softsign": Activation(lambda x: x / (1 + np.abs(x)),
                           lambda dy, x, y: dy / np.square(np.abs(x) + 1)),
    "identity": Activation(lambda x: x, lambda dy, x, y: dy),
}


def _matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` for ``x`` of shape ``(T, B, K)`` as one matrix product.

    The result has ``x``'s memory order: a time-major view of batch-major
    data is multiplied without a copy and gives a time-major view again.
    """
    swap = not x.flags.c_contiguous and x.transpose(1, 0, 2).flags.c_contiguous
    rows = x.transpose(1, 0, 2) if swap else x                    # (T, B, K) or (B, T, K)
    y = rows.reshape(-1, rows.shape[-1]) @ w                      # (T*B, N)
    y = y.reshape(rows.shape[:2] + (w.shape[-1],))
    return y.transpose(1, 0, 2) if swap else y


def _clip(x: np.ndarray, limit: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``tf.clip_by_value(x, -limit, limit)`` and where its gradient passes."""
    passes = (x >= -limit) & (x <= limit)
    return np.maximum(np.minimum(x, limit), -limit), passes


# Cells -----------------------------------------------------------------------


class _Cell:
    """One layer: its parameters, its step and the step's backward pass.

    Subclasses define ``step`` and ``step_backward`` and list their input
    projections in ``projections``: ``(kernel role, bias role)`` pairs whose
    kernels act on ``concat([x, h_prev])``. Gradients accumulate in ``grads``
    (role -> array, the variables' shapes).
    """

    projections: Tuple[Tuple[str, str], ...] = (("kernel", "bias"),)

    def __init__(self, cell: CellSpec, params: Mapping[str, np.ndarray], input_depth: int):
        self.cell = cell
        self.params = params
        self.input_depth = input_depth
        self.act = ACTIVATIONS[cell.activation or "tanh"]
        self.grads: Dict[str, np.ndarray] = {}
        i = input_depth
        # Row blocks of each kernel: w_x for the input, w_h for the recurrent state.
        self.w_x = {k: params[k][:i] for k, _ in self.projections}   # (I, G)
        self.w_h = {k: params[k][i:] for k, _ in self.projections}   # (H|P, G)

    @property
    def output_size(self) -> int:
        return self.cell.output_size

    def zero_grads(self) -> None:
        self.grads = {role: np.zeros_like(value) for role, value in self.params.items()}

    def zero_state(self, batch: int, dtype: np.dtype) -> State:
        raise NotImplementedError

    def project(self, x: np.ndarray) -> Tuple[np.ndarray, ...]:
        """Input part of every projection for all steps: ``x @ w_x + bias``, ``(T, B, G)`` each."""
        out = []
        for k, bias in self.projections:
            xw = _matmul(x, self.w_x[k])                              # (T, B, G)
            xw += self.params[bias]
            out.append(xw)
        return tuple(out)

    def project_backward(self, x: np.ndarray, d_xw: Sequence[np.ndarray]) -> np.ndarray:
        """Backward of :meth:`project`: accumulate kernel input rows and bias, return ``d x``."""
        d_x = np.zeros(x.shape, x.dtype)                              # (T, B, I)
        for (k, bias), d in zip(self.projections, d_xw):             # d: (T, B, G)
            self.grads[k][:self.input_depth] += np.tensordot(x, d, axes=([0, 1], [0, 1]))
            self.grads[bias] += d.sum(axis=(0, 1))
            d_x += _matmul(d, self.w_x[k].T)
        return d_x

    def step(self, xw: Sequence[np.ndarray], state: State) -> Tuple[np.ndarray, State, tuple]:
        """One step: ``(output, new state, cache for step_backward)``."""
        raise NotImplementedError

    def step_backward(self, cache: tuple, d_output: np.ndarray, d_state: State
                      ) -> Tuple[Tuple[np.ndarray, ...], State]:
        """Backward of one step: ``(d xw, d previous state)``; accumulates ``grads``."""
        raise NotImplementedError

    # State as the results show it: a tuple (c, h) or one array.
    def join_state(self, state: State) -> Dict[str, np.ndarray]:
        """Part suffix (``"c"``, ``"h"`` or ``""``) -> array, as ``CellSpec.state_parts``."""
        if len(self.cell.state_parts) == len(state):
            return dict(zip(self.cell.state_parts, state))
        return {"": np.concatenate(state, axis=-1)}

    def split_state(self, parts: Mapping[str, np.ndarray]) -> State:
        """Inverse of :meth:`join_state`."""
        return tuple(parts[p] for p in self.cell.state_parts)


class _LSTM(_Cell):
    """``LSTMCell`` and ``BasicLSTMCell`` (the module docstring has the equations)."""

    def __init__(self, cell: CellSpec, params: Mapping[str, np.ndarray], input_depth: int):
        super().__init__(cell, params, input_depth)
        dtype = params["kernel"].dtype
        self.units = cell.num_units
        self.forget_bias = dtype.type(cell.forget_bias)
        self.cell_clip = None if cell.cell_clip is None else dtype.type(cell.cell_clip)
        self.proj_clip = None if cell.proj_clip is None else dtype.type(cell.proj_clip)
        self.peepholes = cell.use_peepholes
        self.projection = params.get("projection/kernel")             # (H, P)

    def zero_state(self, batch: int, dtype: np.dtype) -> State:
        return (np.zeros((batch, self.units), dtype), np.zeros((batch, self.output_size), dtype))

    def split_state(self, parts: Mapping[str, np.ndarray]) -> State:
        if self.cell.state_is_tuple:
            return (parts["c"], parts["h"])
        return (parts[""][:, :self.units], parts[""][:, self.units:])

    def step(self, xw, state):
        (x_gates,) = xw
        c_prev, h_prev = state                                        # (B, H), (B, O)
        act = self.act.forward
        gates = h_prev @ self.w_h["kernel"]                           # (B, 4H)
        gates += x_gates
        i, j, f, o = np.split(gates, 4, axis=-1)                      # (B, H) each
        if self.peepholes:
            i = _sigmoid(i + self.params["w_i_diag"] * c_prev)            # input gate
            f = _sigmoid(f + self.forget_bias + self.params["w_f_diag"] * c_prev)  # forget gate
        else:
            i = _sigmoid(i)
            f = _sigmoid(f + self.forget_bias)
        g = act(j)                                                    # (B, H) new input
        c = f * c_prev + i * g                                        # (B, H)
        c_passes = None
        if self.cell_clip is not None:
            c, c_passes = _clip(c, self.cell_clip)
        if self.peepholes:
            o = _sigmoid(o + self.params["w_o_diag"] * c)                 # output gate (new c)
        else:
            o = _sigmoid(o)
        a = act(c)                                                    # (B, H)
        h = o * a                                                     # (B, H)
        h_unprojected, h_passes = h, None
        if self.projection is not None:
            h = h @ self.projection                                   # (B, P)
            if self.proj_clip is not None:
                h, h_passes = _clip(h, self.proj_clip)
        cache = (c_prev, h_prev, i, j, f, o, g, c, c_passes, a, h_unprojected, h_passes)
        return h, (c, h), cache

    def step_backward(self, cache, d_output, d_state):
        c_prev, h_prev, i, j, f, o, g, c, c_passes, a, h_unprojected, h_passes = cache
        d_c, d_h = d_state
        d_h = d_output + d_h                                          # h is output and state
        if self.projection is not None:
            if h_passes is not None:
                d_h = np.where(h_passes, d_h, 0)
            self.grads["projection/kernel"] += h_unprojected.T @ d_h  # (H, P)
            d_h = d_h @ self.projection.T                             # (B, H)
        d_o = _sigmoid_grad(d_h * a, o)
        d_c = d_c + self.act.grad(d_h * o, c, a)
        if self.peepholes:
            self.grads["w_o_diag"] += (d_o * c).sum(axis=0)
            d_c = d_c + d_o * self.params["w_o_diag"]
        if c_passes is not None:
            d_c = np.where(c_passes, d_c, 0)
        d_i = _sigmoid_grad(d_c * g, i)
        d_j = self.act.grad(d_c * i, j, g)
        d_f = _sigmoid_grad(d_c * c_prev, f)
        d_c_prev = d_c * f
        if self.peepholes:
            self.grads["w_i_diag"] += (d_i * c_prev).sum(axis=0)
            self.grads["w_f_diag"] += (d_f * c_prev).sum(axis=0)
            d_c_prev = d_c_prev + d_i * self.params["w_i_diag"] + d_f * self.params["w_f_diag"]
        d_gates = np.concatenate([d_i, d_j, d_f, d_o], axis=-1)       # (B, 4H)
        self.grads["kernel"][self.input_depth:] += h_prev.T @ d_gates
        d_h_prev = d_gates @ self.w_h["kernel"].T                      # (B, O)
        return (d_gates,), (d_c_prev, d_h_prev)


class _GRU(_Cell):
    """``GRUCell`` (the module docstring has the equations)."""

    projections = (("gates/kernel", "gates/bias"), ("candidate/kernel", "candidate/bias"))

    def zero_state(self, batch: int, dtype: np.dtype) -> State:
        return (np.zeros((batch, self.cell.num_units), dtype),)

    def step(self, xw, state):
        x_gates, x_candidate = xw
        (h_prev,) = state                                             # (B, H)
        gates = _sigmoid(x_gates + h_prev @ self.w_h["gates/kernel"])  # (B, 2H)
        r, u = np.split(gates, 2, axis=-1)                            # (B, H) each
        r_h = r * h_prev                                              # (B, H)
        candidate = x_candidate + r_h @ self.w_h["candidate/kernel"]  # (B, H)
        c = self.act.forward(candidate)                               # (B, H)
        h = u * h_prev + (1 - u) * c                                  # (B, H)
        return h, (h,), (h_prev, r, u, r_h, candidate, c)

    def step_backward(self, cache, d_output, d_state):
        h_prev, r, u, r_h, candidate, c = cache
        (d_h,) = d_state
        d_h = d_output + d_h
        d_u = d_h * (h_prev - c)
        d_candidate = self.act.grad(d_h * (1 - u), candidate, c)      # (B, H)
        self.grads["candidate/kernel"][self.input_depth:] += r_h.T @ d_candidate
        d_r_h = d_candidate @ self.w_h["candidate/kernel"].T
        d_gates = np.concatenate(
            [_sigmoid_grad(d_r_h * h_prev, r), _sigmoid_grad(d_u, u)], axis=-1)  # (B, 2H)
        self.grads["gates/kernel"][self.input_depth:] += h_prev.T @ d_gates
        d_h_prev = d_h * u + d_r_h * r + d_gates @ self.w_h["gates/kernel"].T
        return (d_gates, d_candidate), (d_h_prev,)


class _BasicRNN(_Cell):
    """``BasicRNNCell``: ``h = act(concat([x, h_prev]) @ kernel + bias)``."""

    def zero_state(self, batch: int, dtype: np.dtype) -> State:
        return (np.zeros((batch, self.cell.num_units), dtype),)

    def step(self, xw, state):
        (x_pre,) = xw
        (h_prev,) = state                                             # (B, H)
        pre = x_pre + h_prev @ self.w_h["kernel"]                     # (B, H)
        h = self.act.forward(pre)
        return h, (h,), (h_prev, pre, h)

    def step_backward(self, cache, d_output, d_state):
        h_prev, pre, h = cache
        (d_h,) = d_state
        d_pre = self.act.grad(d_output + d_h, pre, h)                 # (B, H)
        self.grads["kernel"][self.input_depth:] += h_prev.T @ d_pre
        return (d_pre,), (d_pre @ self.w_h["kernel"].T,)


# LSTMBlockCell is LSTMCell's math on a fused kernel (its spec allows only the options
# both share, with cell_clip > 0), so the same equations serve it.
_CELLS = {"LSTMCell": _LSTM, "BasicLSTMCell": _LSTM, "LSTMBlockCell": _LSTM, "GRUCell": _GRU,
          "BasicRNNCell": _BasicRNN}


# Time loop -------------------------------------------------------------------


@dataclass
class _Tape:
    """What one layer's forward pass keeps for its backward pass."""

    x: np.ndarray                     # (T, B, I)
    xw: Tuple[np.ndarray, ...]        # (T, B, G) each
    caches: List[tuple]
    alive: List[Optional[np.ndarray]]  # per step: (B, 1) bool, None when every example runs


def _alive(t: int, lengths: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """``(B, 1)`` mask of examples still running at step ``t``; None when all are."""
    if lengths is None or np.all(t < lengths):
        return None
    return (t < lengths)[:, None]


def _forward_layer(cell: _Cell, x: np.ndarray, state: State, lengths: Optional[np.ndarray],
                   keep: bool) -> Tuple[np.ndarray, State, Optional[_Tape]]:
    """Run ``cell`` over ``x`` ``(T, B, I)``; return outputs ``(T, B, O)``, final state, tape."""
    steps, batch = x.shape[:2]
    xw = cell.project(x)
    outputs = np.empty_like(x, shape=(steps, batch, cell.output_size))  # (T, B, O), x's order
    tape = _Tape(x, xw, [], []) if keep else None
    for t in range(steps):
        output, new_state, cache = cell.step([a[t] for a in xw], state)
        alive = _alive(t, lengths)
        if alive is not None:                                         # dynamic_rnn's _rnn_step
            output = np.where(alive, output, 0)
            new_state = tuple(np.where(alive, new, old) for new, old in zip(new_state, state))
        outputs[t] = output
        state = new_state
        if tape is not None:
            tape.caches.append(cache)
            tape.alive.append(alive)
    return outputs, state, tape


def _backward_layer(cell: _Cell, tape: _Tape, d_outputs: np.ndarray, d_state: State
                    ) -> Tuple[np.ndarray, State]:
    """Backward of :func:`_forward_layer`: ``(d x, d initial state)``; accumulates ``cell.grads``."""
    d_xw = tuple(np.empty_like(a) for a in tape.xw)                   # (T, B, G) each
    for t in reversed(range(len(tape.caches))):
        d_output, alive = d_outputs[t], tape.alive[t]
        if alive is not None:
            carried = tuple(np.where(alive, 0, d) for d in d_state)
            d_output = np.where(alive, d_output, 0)
            d_state = tuple(np.where(alive, d, 0) for d in d_state)
        d_xw_t, d_state = cell.step_backward(tape.caches[t], d_output, d_state)
        if alive is not None:
            d_state = tuple(d + c for d, c in zip(d_state, carried))
        for a, d in zip(d_xw, d_xw_t):
            a[t] = d
    return cell.project_backward(tape.x, d_xw), d_state


# Driver ----------------------------------------------------------------------


def _resolve_weights(spec: CaseSpec, weights) -> Mapping[str, np.ndarray]:
    """The weights to use by TF name: ``weights``, else ``spec.weights`` (a mapping or a constant)."""
    if weights is None:
        weights = spec.weights
    if weights is None:
        raise ValueError(
            f"case {spec.name!r}: the NumPy oracle needs explicit weights: it cannot reproduce "
            f"TF's seeded initializers; pass weights= (TF name -> array, e.g. a golden's "
            f"variables/...) or give the spec a constant or a mapping as weights")
    if isinstance(weights, Mapping):
        return weights
    if isinstance(weights, bool) or not isinstance(weights, (int, float, np.floating)):
        raise TypeError(f"case {spec.name!r}: weights must be a mapping from TF variable name "
                        f"to array or a number, got {type(weights).__name__}")
    # variable_scope(initializer=constant_initializer(value)): the cells' biases keep their own.
    return naming.constant_weights(spec, float(weights))


def _initial_states(spec: CaseSpec, cells: Sequence[_Cell]) -> List[State]:
    """Per layer, the initial state as a tuple of arrays."""
    dtype = np.dtype(spec.dtype)
    states = []
    if isinstance(spec.initial_state, Mapping) and not spec.multi_state_is_tuple:
        concatenated = np.asarray(spec.initial_state["state"])       # (B, sum of widths)
        splits = np.cumsum(spec.layer_state_widths())[:-1]
        return [cell.split_state({"": part})
                for cell, part in zip(cells, np.split(concatenated, splits, axis=-1))]
    for k, cell in enumerate(cells):
        if isinstance(spec.initial_state, Mapping):
            parts = {p: np.asarray(spec.initial_state[spec.state_key(k, p)])
                     for p in cell.cell.state_parts}
            states.append(cell.split_state(parts))
        else:  # "zeros" and None are both the zero state
            states.append(cell.zero_state(spec.batch_size, dtype))
    return states


@dataclass
class _Forward:
    """One forward pass: cells with their tapes, states, outputs and logits."""

    cells: List[_Cell]
    tapes: List[Optional[_Tape]]
    initial: List[State]
    finals: List[State]
    outputs_tm: np.ndarray                  # (T, B, O)
    head: Mapping[str, np.ndarray]
    logits: Optional[np.ndarray]            # (B, N)


def _forward(spec: CaseSpec, variables: Mapping[str, np.ndarray], keep: bool) -> _Forward:
    """Run ``spec`` forward with checked ``variables``; keep tapes for a backward pass if asked."""
    layer_params, head = naming.params_by_layer(spec, variables)
    cells: List[_Cell] = []
    depth = spec.input_depth
    for cell_spec, params in zip(spec.cells, layer_params):
        cells.append(_CELLS[cell_spec.kind](cell_spec, params, depth))
        depth = cell_spec.output_size

    inputs = np.asarray(spec.inputs)
    if spec.driver == "call":
        x = inputs[None]                                              # (1, B, I)
    else:
        x = inputs if spec.time_major else inputs.transpose(1, 0, 2)  # (T, B, I)
    lengths = None if spec.sequence_length is None else np.asarray(spec.sequence_length)
    initial = _initial_states(spec, cells)

    # Layer by layer over the whole sequence.
    tapes: List[Optional[_Tape]] = []
    finals: List[State] = []
    h = x
    for cell, state in zip(cells, initial):
        h, final, tape = _forward_layer(cell, h, state, lengths, keep=keep)
        tapes.append(tape)
        finals.append(final)
    logits = None
    if spec.head is not None:
        logits = h[-1] @ head["weights"] + head["biases"]             # (B, N)
    return _Forward(cells, tapes, initial, finals, h, head, logits)


def _backward(spec: CaseSpec, fwd: _Forward, d_outputs_tm: np.ndarray,
              d_finals: Sequence[State], d_logits: Optional[np.ndarray]
              ) -> Tuple[Dict[str, np.ndarray], np.ndarray, List[State]]:
    """Gradients of ``sum(d_outputs * outputs) + sum(d_finals * finals) + sum(d_logits * logits)``.

    Args:
      d_outputs_tm: upstream gradient of the outputs, time-major ``(T, B, O)``.
      d_finals: per layer, upstream gradient of the final state parts.
      d_logits: upstream gradient of the head's logits ``(B, N)``, or None.

    Returns:
      ``(variable gradients by TF name, d inputs in the spec's layout, d initial
      state per layer)``.
    """
    d_outputs = d_outputs_tm.copy()
    head_grads = {role: np.zeros_like(value) for role, value in fwd.head.items()}
    if d_logits is not None:
        last = fwd.outputs_tm[-1]                                     # (B, O)
        head_grads = {"weights": last.T @ d_logits, "biases": d_logits.sum(axis=0)}
        d_outputs[-1] += d_logits @ fwd.head["weights"].T

    d_initial: List[State] = [()] * len(fwd.cells)
    d = d_outputs
    for k in reversed(range(len(fwd.cells))):
        cell = fwd.cells[k]
        cell.zero_grads()
        d, d_initial[k] = _backward_layer(cell, fwd.tapes[k], d, tuple(d_finals[k]))

    grads = {}
    for name, info in naming.layout(spec).items():
        source = head_grads if info.layer < 0 else fwd.cells[info.layer].grads
        grads[name] = source[info.role]
    d_inputs = d[0] if spec.driver == "call" else (
        d if spec.time_major else np.ascontiguousarray(d.transpose(1, 0, 2)))
    return grads, d_inputs, d_initial


def _outputs(spec: CaseSpec, outputs_tm: np.ndarray) -> np.ndarray:
    """Outputs in the spec's layout: ``(B, O)`` for call, else ``(B, T, O)`` or ``(T, B, O)``."""
    if spec.driver == "call":
        return outputs_tm[0]                                          # (B, O)
    if spec.time_major:
        return outputs_tm                                             # (T, B, O)
    return np.ascontiguousarray(outputs_tm.transpose(1, 0, 2))        # (B, T, O)


def _state_results(spec: CaseSpec, cells: Sequence[_Cell], states: Sequence[State],
                   prefix: str = "state") -> Dict[str, np.ndarray]:
    if not spec.multi_state_is_tuple:  # MultiRNNCell(state_is_tuple=False): concat the layers
        return {prefix: np.concatenate([cell.join_state(state)[""]
                                        for cell, state in zip(cells, states)], axis=-1)}
    out: Dict[str, np.ndarray] = {}
    for k, (cell, state) in enumerate(zip(cells, states)):
        for part, value in cell.join_state(state).items():
            out[spec.state_key(k, part, prefix)] = value
    return out


def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None) -> Dict[str, np.ndarray]:
    """Compute ``spec`` with NumPy; return the named result arrays of :mod:`tf1_lstm.spec`.

    Args:
      spec: the case.
      weights: TF variable name (``rnn/lstm_cell/kernel:0``...) -> array, or a
        number (what ``variable_scope(initializer=constant_initializer(v))``
        builds, see :func:`tf1_lstm.naming.constant_weights`); by default
        ``spec.weights``.

    Returns:
      ``inputs``, ``outputs``, the state keys of ``spec.state_keys()``,
      ``variables/<tf name>``, ``logits`` with a head; with ``spec.gradients``
      ``loss`` (0-d), ``gradients/variables/<tf name>``, ``gradients/inputs``
      and ``gradients/initial_state[/<suffix>]``; with ``spec.jacobian``
      ``jacobian_norms``; with ``spec.train`` ``train/loss`` and
      ``train/variables/<tf name>``. Every array has dtype ``spec.dtype``.

    Raises:
      ValueError: no weights (neither ``weights`` nor ``spec.weights``), or
        weights that do not match the variables (the message names the variable).
      TypeError: weights that are neither a mapping nor a number.
    """
    dtype = np.dtype(spec.dtype)
    variables = naming.check_weights(spec, _resolve_weights(spec, weights))
    if dtype == np.float16:
        return _widened(spec, variables)
    fwd = _forward(spec, variables, keep=spec.gradients or spec.jacobian)

    results: Dict[str, np.ndarray] = {"inputs": np.array(spec.inputs),
                                      "outputs": _outputs(spec, fwd.outputs_tm)}
    state_results = _state_results(spec, fwd.cells, fwd.finals)
    results.update(state_results)
    results.update({naming.variable_key(name): value.copy() for name, value in variables.items()})
    if fwd.logits is not None:
        results["logits"] = fwd.logits
    if spec.gradients:
        results.update(_loss_gradients(spec, fwd, state_results))
    if spec.jacobian:
        results["jacobian_norms"] = _jacobian_norms(spec, fwd)
    if spec.train is not None:
        results.update(_train(spec, variables))
    return {key: np.asarray(value, dtype) for key, value in results.items()}


def _widened(spec: CaseSpec, variables: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """A float16 case: the float32 math on the float16 values, the results rounded to float16.

    TF computes float16 cases with half-precision kernels whose internal
    precision (Eigen converts half to float for most element-wise ops and
    accumulates matmuls in float) and rounding points NumPy cannot follow:
    NumPy's float16 matmul rounds differently again, and has no BLAS. So the
    oracle widens: inputs, weights and initial state are the float16 values TF
    sees, every operation runs in float32, and each result is rounded to
    float16 once. Its distance to TF is TF's half-precision rounding, which
    the float16 tolerance (:data:`tf1_lstm.compare.DEFAULT_TOLERANCES`) covers.
    """
    def half(value):
        return np.asarray(value, np.float16).astype(np.float32)

    initial = spec.initial_state
    if isinstance(initial, Mapping):
        initial = {k: half(v) for k, v in initial.items()}
    wide = spec.replace(dtype="float32", inputs=half(spec.inputs), initial_state=initial,
                        weights=None)
    results = run(wide, {name: half(value) for name, value in variables.items()})
    return {key: np.asarray(value, np.float16) for key, value in results.items()}


def _loss_gradients(spec: CaseSpec, fwd: _Forward, state_results: Mapping[str, np.ndarray]
                    ) -> Dict[str, np.ndarray]:
    """``loss`` (:data:`tf1_lstm.spec.LOSS`) and its gradients, by result name.

    d loss / d outputs = outputs, d loss / d state = 1, d loss / d logits = logits.
    """
    loss = 0.5 * np.sum(np.square(fwd.outputs_tm)) + sum(np.sum(s) for s in state_results.values())
    if fwd.logits is not None:
        loss = loss + 0.5 * np.sum(np.square(fwd.logits))
    d_finals = [tuple(np.ones_like(s) for s in state) for state in fwd.initial]
    grads, d_inputs, d_initial = _backward(spec, fwd, fwd.outputs_tm, d_finals, fwd.logits)
    out: Dict[str, np.ndarray] = {"loss": np.asarray(loss), "gradients/inputs": d_inputs}
    out.update({f"gradients/{naming.variable_key(name)}": g for name, g in grads.items()})
    out.update(_state_results(spec, fwd.cells, d_initial, prefix="gradients/initial_state"))
    return out


def _jacobian_norms(spec: CaseSpec, fwd: _Forward) -> np.ndarray:
    """``(B, T)``: ``|d outputs[b, T-1] / d inputs[b, t]|_F``, one backward pass per output unit."""
    steps, batch, depth = fwd.outputs_tm.shape
    zero_finals = [tuple(np.zeros_like(s) for s in state) for state in fwd.initial]
    squares = np.zeros((batch, steps), fwd.outputs_tm.dtype)          # (B, T)
    for k in range(depth):
        d_outputs = np.zeros_like(fwd.outputs_tm)                     # (T, B, O)
        d_outputs[-1, :, k] = 1
        _, d_inputs, _ = _backward(spec, fwd, d_outputs, zero_finals, None)  # (B, T, I)
        squares += np.sum(np.square(d_inputs), axis=-1)
    return np.sqrt(squares)


# TF1's AdamOptimizer defaults.
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8


def _train(spec: CaseSpec, variables: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """``spec.train``'s steps: loss ``mean((logits - targets) ** 2)``, SGD or TF1 Adam.

    SGD: ``w -= lr * g``. Adam, as TF1's ``ApplyAdam`` kernel, with ``t`` the step from 1::

        lr_t = lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        m += (g - m) * (1 - beta1)
        v += (g * g - v) * (1 - beta2)
        w -= lr_t * m / (sqrt(v) + epsilon)

    As in TF1, the hyperparameters are float32 tensors cast to the variables'
    dtype, and ``beta1 ** t``, ``beta2 ** t`` are float32 variables updated by
    multiplication (so a float64 run sees ``float32(0.1)``, not ``0.1``).
    """
    train, dtype = spec.train, np.dtype(spec.dtype)
    w = {name: value.copy() for name, value in variables.items()}
    m = {name: np.zeros_like(value) for name, value in w.items()}
    v = {name: np.zeros_like(value) for name, value in w.items()}
    lr, beta1, beta2, eps = (np.float32(x).astype(dtype) for x in
                             (train.learning_rate, ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON))
    beta1_power, beta2_power = np.float32(ADAM_BETA1), np.float32(ADAM_BETA2)  # float32 variables
    losses = []
    for _ in range(train.steps + 1):
        fwd = _forward(spec, w, keep=True)
        error = fwd.logits - train.targets                            # (B, N)
        losses.append(np.mean(np.square(error)))
        if len(losses) > train.steps:
            break
        d_logits = (2 * error / error.size).astype(dtype)
        zeros = [tuple(np.zeros_like(s) for s in state) for state in fwd.initial]
        grads, _, _ = _backward(spec, fwd, np.zeros_like(fwd.outputs_tm), zeros, d_logits)
        if train.optimizer == "sgd":
            for name in w:
                w[name] = w[name] - lr * grads[name]
            continue
        b1p, b2p = beta1_power.astype(dtype), beta2_power.astype(dtype)
        lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
        for name, g in grads.items():
            m[name] += (g - m[name]) * (1 - beta1)
            v[name] += (g * g - v[name]) * (1 - beta2)
            w[name] = w[name] - lr_t * m[name] / (np.sqrt(v[name]) + eps)
        beta1_power = beta1_power * np.float32(ADAM_BETA1)
        beta2_power = beta2_power * np.float32(ADAM_BETA2)
    out = {"train/loss": np.array(losses, dtype)}
    out.update({"train/" + naming.variable_key(name): value for name, value in w.items()})
    return out
