"""What every target engine does around its framework: the spec's driver, in NumPy.

A target model (Keras, PyTorch, ONNX) is a stack of recurrent layers (LSTM,
GRU, simple RNN). The case spec adds the TF1 driver around it: one ``call``
step or ``dynamic_rnn`` over batch-major or time-major inputs,
``sequence_length``, the initial state and the result names. :func:`run`
does that once for all targets::

    inputs (spec layout) -> x (B, T, I), lengths (B,), initial [state per layer]
    target forward       -> outputs (B, T, O), final [state per layer], logits
    results              -> the named arrays of tf1_lstm.spec

A layer's state is a dict by part (:func:`state_parts`): ``{"c": (B, H),
"h": (B, R)}`` for an LSTM, ``{"h": (B, H)}`` for a GRU or RNN cell.

so a target module only provides ``Target`` (see :class:`Target`).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .. import naming
from ..engines import NotExpressible
from ..spec import CaseSpec
from . import convert
from .layouts import check_expressible

State = Dict[str, np.ndarray]  # one layer's state by part: "c", "h" (LSTM) or "h"


def state_parts(cell) -> Tuple[str, ...]:
    """The parts of a layer's state: ``("c", "h")`` for an LSTM, ``("h",)`` for GRU and RNN."""
    return ("c", "h") if cell.is_lstm else ("h",)


@dataclass
class Inputs:
    """A spec's inputs in the form every target takes.

    Attributes:
      x: ``(B, T, I)`` (``T`` = 1 for the ``call`` driver).
      lengths: ``(B,)`` int32, or ``None`` (every example runs all steps).
      initial: per layer the state by part (``c`` ``(B, H)``, ``h`` ``(B, R)``);
        ``None`` for the zero state.
    """

    x: np.ndarray
    lengths: Optional[np.ndarray]
    initial: Optional[List[State]]


@dataclass
class Outputs:
    """A target's forward pass: ``outputs`` ``(B, T, O)``, ``final`` per layer by part.

    With ``spec.gradients`` also the loss :data:`tf1_lstm.spec.LOSS` and its
    gradients: ``d_weights`` by the target's weight names, ``d_x``
    ``(B, T, I)`` and ``d_initial`` per layer by part.
    """

    outputs: np.ndarray
    final: List[State]
    logits: Optional[np.ndarray] = None
    loss: Optional[np.ndarray] = None
    d_weights: Optional[Dict[str, np.ndarray]] = None
    d_x: Optional[np.ndarray] = None
    d_initial: Optional[List[State]] = None


@dataclass
class Target:
    """A target engine's framework part.

    Attributes:
      name: the target (``keras``, ``keras3``, ``torch``, ``onnx``).
      build: ``(spec, target weights) -> model`` with the weights loaded.
      forward: ``(spec, model, Inputs) -> Outputs``.
      weights: ``model -> target weights by name`` (read back from the model).
    """

    name: str
    build: Callable[[CaseSpec, Mapping[str, np.ndarray]], Any]
    forward: Callable[[CaseSpec, Any, Inputs], Outputs]
    weights: Callable[[Any], Dict[str, np.ndarray]]


@contextlib.contextmanager
def random_state_kept() -> Iterator[None]:
    """Python's ``random`` and NumPy's global state are as they were after the block.

    Building a model runs the framework's initializers, which may draw from
    them (tf-keras and Keras 3 take op seeds from ``random``); the converted
    weights overwrite what they draw, so the draws would only shift the
    caller's random streams. Also a decorator (``@random_state_kept()``).
    """
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def resolve_weights(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]],
                    engine: str) -> Dict[str, np.ndarray]:
    """TF1 variables for ``spec``: ``weights``, else ``spec.weights`` (a mapping or a constant)."""
    if weights is None:
        weights = spec.weights
    if weights is None:
        raise ValueError(
            f"case {spec.name!r}: the {engine} engine needs explicit weights (it cannot "
            f"reproduce TF's seeded initializers); pass weights by TF name, e.g. a golden's "
            f"variables/... (tf1-lstm compute SPEC --weights golden/CASE.npz)")
    if not isinstance(weights, Mapping):
        weights = naming.constant_weights(spec, float(weights))
    return naming.check_weights(spec, weights)


def inputs(spec: CaseSpec) -> Inputs:
    """The spec's inputs, lengths and initial state in target form."""
    x = np.asarray(spec.inputs)
    if spec.driver == "call":
        x = x[:, None]                                                # (B, 1, I)
    elif spec.time_major:
        x = x.transpose(1, 0, 2)                                      # (B, T, I)
    lengths = None
    if spec.sequence_length is not None:
        lengths = np.asarray(spec.sequence_length, np.int32)         # (B,)
    initial = None
    if isinstance(spec.initial_state, Mapping):
        initial = from_tf1_states(spec, spec.initial_state)
    return Inputs(np.ascontiguousarray(x), lengths, initial)


def results(spec: CaseSpec, out: Outputs, variables: Mapping[str, np.ndarray],
            target_name: str) -> Dict[str, np.ndarray]:
    """The named result arrays of :mod:`tf1_lstm.spec` from a target's outputs."""
    dtype = np.dtype(spec.dtype)
    arrays: Dict[str, np.ndarray] = {"inputs": np.array(spec.inputs)}
    outputs = np.asarray(out.outputs)                                 # (B, T, O)
    if spec.driver == "call":
        outputs = outputs[:, 0]                                       # (B, O)
    elif spec.time_major:
        outputs = outputs.transpose(1, 0, 2)                          # (T, B, O)
    arrays["outputs"] = outputs
    arrays.update(to_tf1_states(spec, out.final))
    if spec.head is not None:
        arrays["logits"] = out.logits
    arrays.update({naming.variable_key(n): v for n, v in variables.items()})
    if spec.gradients:
        arrays["loss"] = np.asarray(out.loss).reshape(())
        grads = convert.gradients_to_tf1(spec, out.d_weights, target_name)
        arrays.update({"gradients/" + naming.variable_key(n): v for n, v in grads.items()})
        d_x = np.asarray(out.d_x)                                     # (B, T, I)
        if spec.driver == "call":
            d_x = d_x[:, 0]
        elif spec.time_major:
            d_x = d_x.transpose(1, 0, 2)
        arrays["gradients/inputs"] = d_x
        arrays.update(to_tf1_states(spec, out.d_initial, "gradients/initial_state"))
    return {k: np.array(v, dtype=dtype, order="C") for k, v in arrays.items()}


# Spec extras the migration engines do not compute (they compute outputs, states,
# logits and, where the framework differentiates, the loss gradients).
NOT_COMPUTED = ("jacobian", "train")


def check_runnable(spec: CaseSpec, engine: str) -> None:
    """Raise :class:`NotExpressible` for what ``engine`` cannot compute of ``spec``."""
    check_expressible(spec, engine)
    for extra in NOT_COMPUTED:
        if getattr(spec, extra, None):
            raise NotExpressible(engine, extra, f"tf1_lstm's migration engines do not compute "
                                                f"{extra} results (not implemented)")


def state_inputs(spec: CaseSpec) -> bool:
    """Whether target models take the initial state as inputs (given, or differentiated)."""
    return isinstance(spec.initial_state, Mapping) or spec.gradients


def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]], target: Target
        ) -> Dict[str, np.ndarray]:
    """Convert the TF1 variables, build the target model, run the spec, name the results.

    ``variables/...`` in the results are read back from the target model and
    converted back to TF1 names: they show the round trip.
    """
    check_runnable(spec, target.name)
    variables = resolve_weights(spec, weights, target.name)
    model = target.build(spec, convert.to_target(spec, variables, target.name))
    return run_model(spec, model, target)


def run_model(spec: CaseSpec, model: Any, target: Target) -> Dict[str, np.ndarray]:
    """Run an already built (or loaded) target ``model`` on ``spec``'s inputs; named results."""
    check_runnable(spec, target.name)
    out = target.forward(spec, model, inputs(spec))
    back = convert.to_tf1(spec, target.weights(model), target.name)
    return results(spec, out, back, target.name)


def zero_initial(spec: CaseSpec, batch: int) -> List[State]:
    """The zero state per layer, by part."""
    return [{p: np.zeros((batch, c.output_size if p == "h" else c.num_units), spec.dtype)
             for p in state_parts(c)} for c in spec.cells]


def _layer_from_tf1(cell, value: np.ndarray) -> State:
    """One layer's state by part from its one TF1 tensor (``concat([c, h])`` for an LSTM)."""
    if cell.is_lstm:                                                  # (B, H + R)
        return {"c": value[:, :cell.num_units], "h": value[:, cell.num_units:]}
    return {"h": value}                                               # (B, H)


def _layer_to_tf1(cell, state: State) -> np.ndarray:
    """Inverse of :func:`_layer_from_tf1`."""
    return np.concatenate([state["c"], state["h"]], -1) if cell.is_lstm else state["h"]


def from_tf1_states(spec: CaseSpec, arrays: Mapping[str, Any], prefix: str = "state"
                    ) -> List[State]:
    """Per layer, the state by part from TF1's names (``state/c``, ``state/0``, ...).

    ``MultiRNNCell(state_is_tuple=False)`` keeps every layer in one ``state``
    array, side by side (:meth:`~tf1_lstm.spec.CaseSpec.layer_state_widths`).
    """
    if not spec.multi_state_is_tuple:
        concatenated = np.asarray(arrays[prefix])                     # (B, sum of widths)
        splits = np.cumsum(spec.layer_state_widths())[:-1]
        return [_layer_from_tf1(cell, part) for cell, part in
                zip(spec.cells, np.split(concatenated, splits, axis=-1))]
    out = []
    for k, cell in enumerate(spec.cells):
        if cell.state_parts == ("c", "h"):
            out.append({p: np.asarray(arrays[spec.state_key(k, p, prefix)]) for p in ("c", "h")})
        else:
            out.append(_layer_from_tf1(cell, np.asarray(arrays[spec.state_key(k, "", prefix)])))
    return out


def to_tf1_states(spec: CaseSpec, states: Sequence[State], prefix: str = "state"
                  ) -> Dict[str, np.ndarray]:
    """Inverse of :func:`from_tf1_states`: TF1's result names -> arrays."""
    if not spec.multi_state_is_tuple:
        return {prefix: np.concatenate([_layer_to_tf1(c, s) for c, s in zip(spec.cells, states)],
                                       axis=-1)}
    out = {}
    for k, (cell, state) in enumerate(zip(spec.cells, states)):
        if cell.state_parts == ("c", "h"):
            out.update({spec.state_key(k, p, prefix): state[p] for p in ("c", "h")})
        else:
            out[spec.state_key(k, "", prefix)] = _layer_to_tf1(cell, state)
    return out


def mask(lengths: np.ndarray, steps: int) -> np.ndarray:
    """``(B, T)`` bool: True where ``t < length`` (the steps TF1 runs)."""
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def layer_inputs(spec: CaseSpec) -> Sequence[int]:
    """Input depth of each layer."""
    return [spec.input_depth] + [c.output_size for c in spec.cells[:-1]]
