"""What every target engine does around its framework: the spec's driver, in NumPy.

A target model (Keras, PyTorch, ONNX) is a stack of LSTM layers. The case
spec adds the TF1 driver around it: one ``call`` step or ``dynamic_rnn``
over batch-major or time-major inputs, ``sequence_length``, the initial state
and the result names. :func:`run` does that once for all targets::

    inputs (spec layout) -> x (B, T, I), lengths (B,), initial [(c, h) per layer]
    target forward       -> outputs (B, T, O), final [(c, h) per layer], logits
    results              -> the named arrays of tf1_lstm.spec

so a target module only provides ``Target`` (see :class:`Target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .. import naming
from ..engines import NotExpressible
from ..spec import CaseSpec
from . import convert
from .layouts import check_expressible

State = Tuple[np.ndarray, np.ndarray]  # (c, h), TF1's LSTMStateTuple order


@dataclass
class Inputs:
    """A spec's inputs in the form every target takes.

    Attributes:
      x: ``(B, T, I)`` (``T`` = 1 for the ``call`` driver).
      lengths: ``(B,)`` int32, or ``None`` (every example runs all steps).
      initial: per layer ``(c, h)`` of shapes ``(B, H)``, ``(B, R)``; ``None``
        for the zero state.
    """

    x: np.ndarray
    lengths: Optional[np.ndarray]
    initial: Optional[List[State]]


@dataclass
class Outputs:
    """A target's forward pass: ``outputs`` ``(B, T, O)``, ``final`` per layer ``(c, h)``.

    With ``spec.gradients`` also the loss :data:`tf1_lstm.spec.LOSS` and its
    gradients: ``d_weights`` by the target's weight names, ``d_x``
    ``(B, T, I)`` and ``d_initial`` per layer ``(d c, d h)``.
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
        initial = []
        for k, cell in enumerate(spec.cells):
            prefix = f"state/{k}" if spec.multi_rnn else "state"
            if cell.state_is_tuple:
                c, h = spec.initial_state[prefix + "/c"], spec.initial_state[prefix + "/h"]
            else:
                both = spec.initial_state[prefix]                     # (B, H + R)
                c, h = both[:, :cell.num_units], both[:, cell.num_units:]
            initial.append((np.asarray(c), np.asarray(h)))
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
    for k, (cell, (c, h)) in enumerate(zip(spec.cells, out.final)):
        prefix = f"state/{k}" if spec.multi_rnn else "state"
        if cell.state_is_tuple:
            arrays[prefix + "/c"], arrays[prefix + "/h"] = c, h
        else:
            arrays[prefix] = np.concatenate([c, h], axis=-1)
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
        for k, (cell, (dc, dh)) in enumerate(zip(spec.cells, out.d_initial)):
            prefix = f"gradients/initial_state/{k}" if spec.multi_rnn else "gradients/initial_state"
            if cell.state_is_tuple:
                arrays[prefix + "/c"], arrays[prefix + "/h"] = dc, dh
            else:
                arrays[prefix] = np.concatenate([dc, dh], axis=-1)
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
    """The zero state per layer, ``(c, h)``."""
    return [(np.zeros((batch, c.num_units), spec.dtype),
             np.zeros((batch, c.output_size), spec.dtype)) for c in spec.cells]


def mask(lengths: np.ndarray, steps: int) -> np.ndarray:
    """``(B, T)`` bool: True where ``t < length`` (the steps TF1 runs)."""
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def layer_inputs(spec: CaseSpec) -> Sequence[int]:
    """Input depth of each layer."""
    return [spec.input_depth] + [c.output_size for c in spec.cells[:-1]]
