"""Case specs: a TF1 recurrent computation described as data.

A case says which cells to build and with which options, how to drive them
(one ``cell(inputs, state)`` call or ``tf.nn.dynamic_rnn``), under which
variable scope, on which inputs, from which initial state, with which weights
(seeded, constant or explicit) and with which tolerances. Engines (the TF1
graph builder, the NumPy oracle) take a :class:`CaseSpec` and return the same
named arrays, so a case is added by adding data, not code.

Named result arrays (the keys every engine returns and every golden holds)::

    inputs                         the fed inputs            (B, T, I) or (T, B, I)
    outputs                        the cell / RNN output     (B, H|P) or (B, T, H|P)
    state/c, state/h               final state of one tuple-state LSTM
    state                          final state of a non-tuple cell
    state/<k>/c, state/<k>/h       final state of layer k of a MultiRNNCell
    state/<k>                      ... of a non-tuple layer k
    variables/<tf name>            every trainable variable, by its TF name
    logits                         the head (:class:`HeadSpec`), if any
    loss                           with ``gradients``: the scalar :data:`LOSS`
    gradients/variables/<tf name>  d loss / d variable
    gradients/inputs               d loss / d inputs
    gradients/initial_state/...    d loss / d initial state (same suffixes as state/...)
    jacobian_norms                 with ``jacobian``: |d outputs[b, T-1] / d inputs[b, t]|  (B, T)
    train/loss, train/variables/.. with ``train``: the loss curve and the trained weights

Shape legend used across the package: ``B`` batch, ``T`` time, ``I`` input
depth, ``H`` units, ``P`` projection (``num_proj``).

Specs are plain frozen dataclasses; :func:`to_dict` / :func:`from_dict` give
the JSON form stored in golden metadata and accepted by ``tf1-lstm compute``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import numpy as np

from .compare import is_tolerance

CELL_KINDS = ("LSTMCell", "BasicLSTMCell", "BasicRNNCell", "GRUCell", "LSTMBlockCell")
LSTM_KINDS = ("LSTMCell", "BasicLSTMCell", "LSTMBlockCell")
# LSTMCell options that tf.contrib.rnn.LSTMBlockCell (the fused kernel) also has.
BLOCK_OPTIONS = ("use_peepholes", "cell_clip")
# LSTMCell's own options and their values when off (TF1's defaults). An option
# is on whenever it is not that value: cell_clip=0.0 and proj_clip=0.0 clip to
# zero, as TF1's ``if self._cell_clip is not None`` does. Ask
# :meth:`CellSpec.uses`; never test them by truthiness or membership
# (``0.0 in (None, False)`` is True, because ``0.0 == False``).
LSTM_OPTIONS = {"use_peepholes": False, "cell_clip": None, "num_proj": None, "proj_clip": None}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "softsign", "identity")
DRIVERS = ("call", "dynamic_rnn", "static_rnn")
# The drivers that run a sequence (inputs (B, T, I), sequence_length, time_major).
SEQUENCE_DRIVERS = ("dynamic_rnn", "static_rnn")
FEEDS = ("constant", "placeholder")
DTYPES = ("float16", "float32", "float64")
# "zeros": the document's ``(tf.zeros([B, H]),) * 2``; None: the driver's own
# zero state (``dtype=`` for dynamic_rnn, ``cell.zero_state`` for a call).
INITIAL_STATE_MODES = ("zeros", None)


# The scalar loss of gradient cases, the same in every engine:
#   loss = 0.5 * sum(outputs ** 2) + sum over final state parts of sum(state)
#          (+ 0.5 * sum(logits ** 2) with a head)
# so d loss / d outputs = outputs and d loss / d state = 1: every path through
# the cell (output, c and h) carries gradient.
LOSS = "0.5*sum(outputs**2) + sum(final state parts) [+ 0.5*sum(logits**2)]"


# Options whose results come on top of the forward pass (field -> off), and
# the prefixes of those results.
EXTRAS = {"gradients": False, "jacobian": False, "train": None}
EXTRA_RESULTS = ("loss", "gradients/", "jacobian_norms", "train/")


def forward_results(arrays: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The forward-pass results of a result mapping (no ``EXTRA_RESULTS``)."""
    return {k: v for k, v in arrays.items() if not k.startswith(EXTRA_RESULTS)}


class SpecError(ValueError):
    """A case spec that cannot be built; the message names the field."""


@dataclass(frozen=True)
class CellSpec:
    """One TF1 RNN cell and its constructor options.

    Attributes:
      kind: ``LSTMCell``, ``BasicLSTMCell``, ``BasicRNNCell``, ``GRUCell`` or
        ``LSTMBlockCell`` (``tf.contrib.rnn.LSTMBlockCell``: LSTMCell's equations on
        TensorFlow's fused ``BlockLSTM`` kernel; peepholes and ``cell_clip > 0`` only).
      num_units: ``H``, the number of units.
      name: the cell's ``name=`` argument (``None``: TF's default name).
      use_peepholes: LSTMCell only; adds ``w_i_diag``, ``w_f_diag``, ``w_o_diag``.
      cell_clip: LSTMCell only; clip ``c`` to ``[-cell_clip, cell_clip]``.
      num_proj: LSTMCell only; ``P``, projects ``h`` with a ``[H, P]`` kernel.
      proj_clip: LSTMCell only; clip the projected ``h``.
      forget_bias: LSTM kinds; added to the forget gate pre-activation at run time.
      state_is_tuple: LSTM kinds; ``LSTMStateTuple(c, h)`` or ``concat([c, h])``.
      activation: the cell activation by name (``None``: the cell's default, tanh).
      initializer: the cell's own initializer, ``[name, *args]`` of a
        :data:`INITIALIZERS` entry (``["random_uniform", -0.1, 0.1]``,
        ``["orthogonal", 1.0]``): ``LSTMCell(initializer=...)`` (the kernel,
        peepholes and projection) or ``GRUCell(kernel_initializer=...)`` (both
        kernels), seeded by the graph seed (the other cells have no such argument). It sets only
        the seeded initial weights (the init check).
    """

    kind: str = "LSTMCell"
    num_units: int = 4
    name: Optional[str] = None
    use_peepholes: bool = False
    cell_clip: Optional[float] = None
    num_proj: Optional[int] = None
    proj_clip: Optional[float] = None
    forget_bias: float = 1.0
    state_is_tuple: bool = True
    activation: Optional[str] = None
    initializer: Optional[Tuple[Any, ...]] = None

    def __post_init__(self) -> None:
        if isinstance(self.initializer, list):  # from JSON
            object.__setattr__(self, "initializer", tuple(self.initializer))

    @property
    def is_lstm(self) -> bool:
        return self.kind in LSTM_KINDS

    def uses(self, option: str) -> bool:
        """Whether the LSTMCell option ``option`` (a key of :data:`LSTM_OPTIONS`) is on.

        It is on when it is not its off value (compared by identity): ``cell_clip=0.0``
        is on, and clips ``c`` to zero.
        """
        return getattr(self, option) is not LSTM_OPTIONS[option]

    @property
    def output_size(self) -> int:
        """Depth of the cell's output: ``P`` with a projection, else ``H``."""
        return self.num_proj if self.num_proj is not None else self.num_units

    @property
    def state_parts(self) -> Tuple[str, ...]:
        """Suffixes of this cell's state arrays: ``("c", "h")`` or ``("",)``."""
        return ("c", "h") if self.is_lstm and self.state_is_tuple else ("",)

    def state_shapes(self, batch: int) -> Dict[str, Tuple[int, int]]:
        """Shape of each state part for a batch of ``batch``."""
        if not self.is_lstm:
            return {"": (batch, self.num_units)}
        c, h = self.num_units, self.output_size
        if self.state_is_tuple:
            return {"c": (batch, c), "h": (batch, h)}
        return {"": (batch, c + h)}


@dataclass(frozen=True)
class HeadSpec:
    """A linear layer on the RNN output (legacy classifiers): ``logits = last @ W + b``.

    ``last`` is ``outputs[:, -1]`` (``outputs`` for the ``call`` driver).
    ``layer`` says which TF1 call built it, which fixes the variables' names:

    ===================  ==================================================  ==================
    layer                TF1 call                                            variables
    ===================  ==================================================  ==================
    ``fully_connected``  ``tf.contrib.layers.fully_connected`` / tf-slim's,  ``<scope>/weights``,
                         ``activation_fn=None, scope=scope``                 ``<scope>/biases``
    ``dense``            ``tf.layers.dense(last, n, name=scope)`` (also      ``<scope>/kernel``,
                         ``tf.keras.layers.Dense(n, name=scope)`` in a graph) ``<scope>/bias``
    ===================  ==================================================  ==================
    """

    num_outputs: int = 3
    scope: str = "logits"
    layer: str = "fully_connected"


HEAD_LAYERS = ("fully_connected", "dense")
# A cell's own initializer: tf.compat.v1 initializer -> its positional arguments.
INITIALIZERS = {
    "random_uniform": ("minval", "maxval"),
    "random_normal": ("mean", "stddev"),
    "truncated_normal": ("mean", "stddev"),
    "orthogonal": ("gain",),
    "glorot_uniform": (),
    "glorot_normal": (),
    "constant": ("value",),
}
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True, eq=False)
class TrainSpec:
    """A few steps of ``tf.compat.v1.train`` on the head's logits.

    ``loss = mean((logits - targets) ** 2)``, minimized with
    ``GradientDescentOptimizer(learning_rate)`` (``"sgd"``) or
    ``AdamOptimizer(learning_rate)`` (``"adam"``, TF1 defaults beta1 0.9,
    beta2 0.999, epsilon 1e-8) for ``steps`` steps on the case's inputs.

    Results: ``train/loss`` (steps + 1,), the loss before each step and after
    the last; ``train/variables/<tf name>``, the weights after the last step.
    """

    optimizer: str = "sgd"
    learning_rate: float = 0.1
    steps: int = 10
    targets: Any = None  # (B, N) array

    def __post_init__(self) -> None:
        if self.targets is not None:
            why = _not_a_number(self.targets, "train.targets")
            if why:
                raise SpecError(why)
            targets = np.array(self.targets, dtype=np.float64)
            targets.setflags(write=False)
            object.__setattr__(self, "targets", targets)


Weights = Union[None, float, Mapping[str, np.ndarray]]


@dataclass(frozen=True, eq=False)
class CaseSpec:
    """A complete, runnable description of one TF1 recurrent computation.

    Attributes:
      name: case name; what the case pins (``single_cell``, ``peepholes``...).
      cells: the cells, outermost first.
      inputs: the input array, ``(B, I)`` for ``call``; ``(B, T, I)`` (or
        ``(T, B, I)`` with ``time_major``) for ``dynamic_rnn``.
      description: one line for ``tf1-lstm list``.
      multi_rnn: wrap ``cells`` in ``MultiRNNCell`` (also for one cell).
      multi_state_is_tuple: ``MultiRNNCell(state_is_tuple=...)``; False (TF
        0.x's default) concatenates the layers' one-tensor states into one
        ``state`` array, which needs every cell to have a one-tensor state.
      driver: ``"call"`` (``output, state = cell(inputs, state)``),
        ``"dynamic_rnn"`` or ``"static_rnn"`` (``tf.nn.static_rnn`` on the
        inputs unstacked along time; the outputs stacked back): the same
        variables and results.
      rnn_scope: the driver's own ``scope=`` argument (``dynamic_rnn(cell, x,
        scope="encoder")``): its variables are ``<scope>/<rnn_scope>/...``
        where TF's default is ``<scope>/rnn/...``.
      scope: ``tf.variable_scope`` name around the call (``None``: none).
      feed: ``"constant"`` (``tf.constant(inputs)``) or ``"placeholder"``.
      placeholder_shape: the placeholder's static shape, ``None`` entries for
        unknown dims (default: all dims unknown but the last).
      dtype: ``"float32"`` or ``"float64"``.
      initial_state: ``"zeros"`` (the document's ``(tf.zeros([B, H]),) * 2``),
        ``None`` (the driver's zero state), or explicit arrays keyed like the
        state results (``state/c``, ``state/0/h``, ...).
      sequence_length: per-example lengths for ``dynamic_rnn``.
      time_major: ``dynamic_rnn(time_major=True)``.
      weights: ``None`` (seeded default initializers), a float (every variable
        built by ``tf.constant_initializer(value)``, as TF's own tests do), or a
        mapping from TF variable name to array.
      seed: seeds the graph, Python's ``random`` and NumPy before building.
      head: an optional linear head (:class:`HeadSpec`).
      gradients: also compute ``loss`` and its gradients (see :data:`LOSS`).
      jacobian: also compute ``jacobian_norms`` (B, T): the Frobenius norm of
        ``d outputs[b, T-1] / d inputs[b, t]`` for every step ``t`` (how much
        the last output still feels each input: the exploding / vanishing
        gradient measure).
      train: train the weights for a few steps (see :class:`TrainSpec`).
      tolerances: per-array ``(rtol, atol)`` overrides, by result name.
      allow_nonfinite: the case expects NaN or infinity among its results;
        without it ``tf1-lstm regen`` refuses to write a golden holding them
        (they compare by position and kind, see :mod:`tf1_lstm.compare`).
    """

    name: str
    cells: Tuple[CellSpec, ...]
    inputs: np.ndarray
    description: str = ""
    multi_rnn: bool = False
    multi_state_is_tuple: bool = True
    driver: str = "dynamic_rnn"
    rnn_scope: Optional[str] = None
    scope: Optional[str] = None
    feed: str = "placeholder"
    placeholder_shape: Optional[Tuple[Optional[int], ...]] = None
    dtype: str = "float32"
    initial_state: Union[None, str, Mapping[str, np.ndarray]] = None
    sequence_length: Optional[Tuple[int, ...]] = None
    time_major: bool = False
    weights: Weights = None
    seed: int = 42
    head: Optional[HeadSpec] = None
    gradients: bool = False
    jacobian: bool = False
    train: Optional[TrainSpec] = None
    tolerances: Mapping[str, Tuple[float, float]] = field(default_factory=dict)
    allow_nonfinite: bool = False

    def __post_init__(self) -> None:
        _check_types(self)
        object.__setattr__(self, "cells", tuple(self.cells))
        object.__setattr__(self, "inputs", _frozen_array(self.inputs, self.dtype, "inputs"))
        if isinstance(self.initial_state, Mapping):
            object.__setattr__(self, "initial_state", {
                k: _frozen_array(v, self.dtype, f"initial_state[{k!r}]")
                for k, v in self.initial_state.items()})
        if isinstance(self.weights, Mapping):
            object.__setattr__(self, "weights", {
                k: _frozen_array(v, self.dtype, f"weights[{k!r}]")
                for k, v in self.weights.items()})
        if self.sequence_length is not None:
            object.__setattr__(self, "sequence_length", tuple(int(n) for n in self.sequence_length))
        object.__setattr__(self, "tolerances", {k: tuple(v) for k, v in self.tolerances.items()})
        if self.placeholder_shape is not None:
            object.__setattr__(self, "placeholder_shape", tuple(self.placeholder_shape))
        if self.train is not None and self.train.targets is not None:
            object.__setattr__(self, "train", dataclasses.replace(
                self.train, targets=_frozen_array(self.train.targets, self.dtype, "train.targets")))
        validate(self)

    # Derived sizes -------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return int(self.inputs.shape[1 if self.time_major else 0])

    @property
    def max_time(self) -> Optional[int]:
        if self.driver == "call":
            return None
        return int(self.inputs.shape[0 if self.time_major else 1])

    @property
    def input_depth(self) -> int:
        return int(self.inputs.shape[-1])

    def state_keys(self) -> Tuple[str, ...]:
        """Result names of the final state, in TF's nesting order."""
        return tuple(key for key, _ in self.state_shapes().items())

    def state_key(self, layer: int, part: str = "", prefix: str = "state") -> str:
        """Result name of one state part: the one place that spells them.

        ``state/c`` and ``state/h`` for one tuple-state cell, ``state/<layer>/c``
        in a ``MultiRNNCell``, ``state`` (``state/<layer>``) for a one-tensor
        state (``part == ""``); ``prefix`` gives the same names elsewhere
        (``gradients/initial_state/...``).
        """
        base = f"{prefix}/{layer}" if self.multi_rnn and self.multi_state_is_tuple else prefix
        return f"{base}/{part}" if part else base

    def state_shapes(self) -> Dict[str, Tuple[int, int]]:
        """Result name -> shape of every state part, in TF's nesting order."""
        if not self.multi_state_is_tuple:
            return {"state": (self.batch_size, sum(self.layer_state_widths()))}
        shapes: Dict[str, Tuple[int, int]] = {}
        for k, cell in enumerate(self.cells):
            for part, shape in cell.state_shapes(self.batch_size).items():
                shapes[self.state_key(k, part)] = shape
        return shapes

    def layer_state_widths(self) -> Tuple[int, ...]:
        """Columns of each layer in a concatenated ``MultiRNNCell`` state (one-tensor states)."""
        return tuple(sum(s[1] for s in cell.state_shapes(self.batch_size).values())
                     for cell in self.cells)

    def forward_only(self) -> "CaseSpec":
        """This spec without the results computed on top of the forward pass.

        Drops ``gradients``, ``jacobian`` and ``train`` (see :data:`EXTRAS`).
        """
        return dataclasses.replace(self, **EXTRAS)

    def tolerance_for(self, name: str) -> Optional[Tuple[float, float]]:
        return self.tolerances.get(name)

    def replace(self, **changes: Any) -> "CaseSpec":
        return dataclasses.replace(self, **changes)


# TF's rule for variable scope names (ops.py's _VALID_SCOPE_NAME_REGEX, plus a
# first character that may not be '_', '-', '/' or '>'); cell names take no '/'.
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_CELL_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\->]*$")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_types(spec: "CaseSpec") -> None:
    """Refuse values of the wrong kind before anything reads them (``"false"`` is not False)."""
    where = f"case {spec.name!r}: " if isinstance(spec.name, str) else ""

    def need(ok: bool, field_name: str, what: str, value: Any) -> None:
        if not ok:
            raise SpecError(f"{where}{field_name}: expected {what}, got {value!r} "
                            f"({type(value).__name__})")

    need(isinstance(spec.name, str), "name", "a string", spec.name)
    for name in ("description", "driver", "feed", "dtype"):
        need(isinstance(getattr(spec, name), str), name, "a string", getattr(spec, name))
    for name in ("multi_rnn", "multi_state_is_tuple", "time_major", "gradients", "jacobian",
                 "allow_nonfinite"):
        need(isinstance(getattr(spec, name), bool), name, "true or false", getattr(spec, name))
    need(_is_int(spec.seed), "seed", "an integer", spec.seed)
    for name in ("scope", "rnn_scope"):
        value = getattr(spec, name)
        if value is not None:
            need(isinstance(value, str) and bool(_SCOPE_NAME.match(value)), name,
                 "a TF variable scope name (letters, digits, '.', '_', '-', '/')", value)
    need(isinstance(spec.cells, (list, tuple)) and len(spec.cells) > 0
         and all(isinstance(c, CellSpec) for c in spec.cells), "cells", "a non-empty list of cells",
         spec.cells)
    for k, cell in enumerate(spec.cells):
        at = f"cells[{k}]"
        need(isinstance(cell.kind, str), f"{at}.kind", "a string", cell.kind)
        need(_is_int(cell.num_units), f"{at}.num_units", "an integer", cell.num_units)
        if cell.name is not None:
            need(isinstance(cell.name, str) and bool(_CELL_NAME.match(cell.name)), f"{at}.name",
                 "a TF name (letters, digits, '.', '_', '-')", cell.name)
        for name in ("use_peepholes", "state_is_tuple"):
            need(isinstance(getattr(cell, name), bool), f"{at}.{name}", "true or false",
                 getattr(cell, name))
        need(_is_number(cell.forget_bias), f"{at}.forget_bias", "a number", cell.forget_bias)
        for name in ("cell_clip", "proj_clip"):
            value = getattr(cell, name)
            need(value is None or _is_number(value), f"{at}.{name}", "null or a number", value)
        need(cell.num_proj is None or _is_int(cell.num_proj), f"{at}.num_proj",
             "null or an integer", cell.num_proj)
        need(cell.activation is None or isinstance(cell.activation, str), f"{at}.activation",
             "null or a name", cell.activation)
    if spec.sequence_length is not None:
        need(isinstance(spec.sequence_length, (list, tuple, np.ndarray))
             and all(_is_int(n) for n in spec.sequence_length), "sequence_length",
             "a list of integers", spec.sequence_length)
    if spec.placeholder_shape is not None:
        need(isinstance(spec.placeholder_shape, (list, tuple))
             and all(d is None or _is_int(d) for d in spec.placeholder_shape),
             "placeholder_shape", "a list of integers or nulls", spec.placeholder_shape)
    need(isinstance(spec.tolerances, Mapping) and all(
        isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_number(t) for t in v)
        for v in spec.tolerances.values()), "tolerances",
        "an object of array name -> [rtol, atol]", spec.tolerances)
    need(spec.head is None or isinstance(spec.head, HeadSpec), "head", "null or a head", spec.head)
    if spec.head is not None:
        need(_is_int(spec.head.num_outputs), "head.num_outputs", "an integer",
             spec.head.num_outputs)
        need(isinstance(spec.head.scope, str) and bool(_SCOPE_NAME.match(spec.head.scope)),
             "head.scope", "a TF variable scope name", spec.head.scope)
        need(spec.head.layer in HEAD_LAYERS, "head.layer", f"one of {', '.join(HEAD_LAYERS)}",
             spec.head.layer)
    need(spec.train is None or isinstance(spec.train, TrainSpec), "train", "null or a train spec",
         spec.train)
    if spec.train is not None:
        need(isinstance(spec.train.optimizer, str), "train.optimizer", "a string",
             spec.train.optimizer)
        need(_is_int(spec.train.steps), "train.steps", "an integer", spec.train.steps)
        need(_is_number(spec.train.learning_rate), "train.learning_rate", "a number",
             spec.train.learning_rate)
    need(spec.initial_state is None or isinstance(spec.initial_state, (str, Mapping)),
         "initial_state", "'zeros', null or an object of arrays", spec.initial_state)
    need(spec.weights is None or _is_number(spec.weights) or isinstance(spec.weights, Mapping),
         "weights", "null, a number or an object of arrays", spec.weights)


def _not_a_number(value: Any, where: str) -> Optional[str]:
    """Why ``value`` (a number, an array or nested lists of them) is not all numbers, or None.

    ``np.array(True, dtype=float)`` is 1.0 and ``np.array("2", dtype=float)`` is 2.0: JSON
    ``true`` or ``"2"`` must be refused before the cast, naming where they are.
    """
    if isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            why = _not_a_number(item, f"{where}[{k}]")
            if why:
                return why
        return None
    if isinstance(value, float) or _is_int(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return (f"{where}: expected a number, got {str(bool(value)).lower()} "
                f"(booleans are not numbers)")
    kind = np.asarray(value).dtype.kind
    if kind in "iuf":
        return None
    if isinstance(value, np.ndarray):
        extra = " (booleans are not numbers)" if kind == "b" else ""
        return f"{where}: expected an array of numbers, got dtype {value.dtype}{extra}"
    return f"{where}: expected a number, got {value!r} ({type(value).__name__})"


def _frozen_array(value: Any, dtype: str, what: str) -> np.ndarray:
    why = _not_a_number(value, what)
    if why:
        raise SpecError(why)
    try:
        with np.errstate(over="raise"):  # 1e300 in float32 is no value of the spec's dtype
            array = np.array(value, dtype=dtype if dtype in DTYPES else None)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{what}: cannot be read as a {dtype} array ({exc})") from None
    except (OverflowError, FloatingPointError):
        raise SpecError(f"{what}: holds a number beyond {dtype}'s range") from None
    if array.dtype.kind not in "f":
        raise SpecError(f"{what}: expected a floating-point array, got dtype {array.dtype}")
    array.setflags(write=False)
    return array


def validate(spec: CaseSpec) -> None:
    """Check that ``spec`` is consistent; raise :class:`SpecError` naming the field."""
    name = spec.name or "<unnamed>"

    def fail(msg: str) -> None:
        raise SpecError(f"case {name!r}: {msg}")

    if not spec.name or not all(ch.isalnum() or ch in "_-" for ch in spec.name):
        fail("name: must be non-empty letters, digits, '_' or '-'")
    if spec.driver not in DRIVERS:
        fail(f"driver: expected one of {DRIVERS}, got {spec.driver!r}")
    if spec.feed not in FEEDS:
        fail(f"feed: expected one of {FEEDS}, got {spec.feed!r}")
    if spec.dtype not in DTYPES:
        fail(f"dtype: expected one of {DTYPES}, got {spec.dtype!r}")
    if not spec.cells:
        fail("cells: at least one cell is needed")
    if len(spec.cells) > 1 and not spec.multi_rnn:
        fail(f"cells: {len(spec.cells)} cells need multi_rnn=True (MultiRNNCell)")
    if not spec.multi_state_is_tuple:
        if not spec.multi_rnn:
            fail("multi_state_is_tuple: is an option of MultiRNNCell; needs multi_rnn=True")
        tuples = [k for k, c in enumerate(spec.cells) if len(c.state_parts) > 1]
        if tuples:
            fail(f"multi_state_is_tuple: False concatenates one-tensor states, but cells {tuples} "
                 f"have tuple states (give them state_is_tuple=False)")
    if spec.dtype == "float16":
        for extra in ("gradients", "jacobian", "train"):
            if getattr(spec, extra):
                fail(f"{extra}: not with dtype float16: TF accumulates half-precision gradients "
                     f"in float16, which the oracle cannot follow (measured: 2.5 abs on a bias "
                     f"gradient); float16 cases are forward only")
    for k, cell in enumerate(spec.cells):
        _validate_cell(cell, f"cells[{k}]", fail)
        if cell.kind == "LSTMBlockCell" and spec.dtype == "float64":
            fail(f"cells[{k}].kind: LSTMBlockCell's fused kernel (BlockLSTM) has no "
                 f"float64 kernel (float16 and float32 only)")

    want_ndim = 2 if spec.driver == "call" else 3
    if spec.inputs.ndim == want_ndim and 0 in spec.inputs.shape:
        fail(f"inputs: every dimension must be at least 1, got shape {spec.inputs.shape}")
    if spec.inputs.ndim != want_ndim:
        layout = "(B, I)" if want_ndim == 2 else ("(T, B, I)" if spec.time_major else "(B, T, I)")
        fail(f"inputs: driver {spec.driver!r} takes a {want_ndim}-d array {layout}, "
             f"got shape {spec.inputs.shape}")
    if not np.all(np.isfinite(spec.inputs)):
        fail("inputs: contains NaN or infinity")
    arrays = {}
    if isinstance(spec.initial_state, Mapping):
        arrays.update({f"initial_state[{k!r}]": v for k, v in spec.initial_state.items()})
    if isinstance(spec.weights, Mapping):
        arrays.update({f"weights[{k!r}]": v for k, v in spec.weights.items()})
    if spec.train is not None and spec.train.targets is not None:
        arrays["train.targets"] = spec.train.targets
    for where, array in arrays.items():
        if not np.all(np.isfinite(array)):
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            fail(f"{where}: contains NaN or infinity ({array[first]} at {first})")
    if spec.placeholder_shape is not None:
        ps = spec.placeholder_shape
        if len(ps) != spec.inputs.ndim:
            fail(f"placeholder_shape: {ps} has rank {len(ps)}, inputs have rank {spec.inputs.ndim}")
        for dim, (want, got) in enumerate(zip(ps, spec.inputs.shape)):
            if want is not None and want != got:
                fail(f"inputs: shape {spec.inputs.shape} does not fit placeholder_shape "
                     f"{_shape_str(ps)} (dimension {dim} is {got}, expected {want})")
    if spec.driver == "call":
        if spec.sequence_length is not None:
            fail("sequence_length: only dynamic_rnn and static_rnn take sequence lengths")
        if spec.time_major:
            fail("time_major: only dynamic_rnn and static_rnn have a time axis")
        if spec.rnn_scope is not None:
            fail("rnn_scope: is the scope= of dynamic_rnn or static_rnn; a cell call has none "
                 "(use scope)")
    if spec.initial_state == "zeros" and spec.driver != "call":
        fail("initial_state: 'zeros' is the document's plain tuple (tf.zeros([B, H]),) * 2 for "
             "one cell call; dynamic_rnn needs the cell's own state structure: use null "
             "(dtype=) or explicit arrays")
    if spec.initial_state == "zeros":
        cell = spec.cells[0]
        if spec.multi_rnn or not (cell.is_lstm and cell.state_is_tuple) or cell.uses("num_proj"):
            fail("initial_state: 'zeros' is the document's (tf.zeros([B, H]),) * 2 and "
                 "needs one tuple-state LSTM cell without projection")
    elif isinstance(spec.initial_state, Mapping):
        want = spec.state_shapes()
        got = set(spec.initial_state)
        if got != set(want):
            fail(f"initial_state: expected keys {sorted(want)}, got {sorted(got)}")
        for key, shape in want.items():
            if spec.initial_state[key].shape != shape:
                fail(f"initial_state[{key!r}]: expected shape {shape}, "
                     f"got {spec.initial_state[key].shape}")
    elif spec.initial_state is not None:
        fail(f"initial_state: expected 'zeros', null or a mapping of arrays, "
             f"got {spec.initial_state!r}")
    if spec.sequence_length is not None:
        lengths = spec.sequence_length
        if len(lengths) != spec.batch_size:
            fail(f"sequence_length: {len(lengths)} lengths for a batch of {spec.batch_size}")
        for b, n in enumerate(lengths):
            if n < 0:
                fail(f"sequence_length[{b}]: {n} is negative")
            if n > spec.max_time:
                fail(f"sequence_length[{b}]: {n} is longer than the time axis ({spec.max_time})")
    if spec.weights is not None and not isinstance(spec.weights, Mapping):
        if isinstance(spec.weights, bool) or not isinstance(spec.weights, (int, float)):
            fail(f"weights: expected null, a number or a mapping of arrays, got {spec.weights!r}")
        if not _within(spec.weights, spec.dtype):
            fail(f"weights: the constant must be finite and within {spec.dtype}'s range, got "
                 f"{_short(spec.weights)}")
        own = [k for k, c in enumerate(spec.cells) if c.initializer is not None]
        if own:
            fail(f"weights: a constant initializer on the scope does not reach cells {own}, "
                 f"which have an initializer of their own; give a seed (weights null) or "
                 f"explicit weights")
    if spec.gradients and spec.initial_state == "zeros":
        fail("gradients: initial_state 'zeros' is one tensor used for both c and h "
             "(the document's (tf.zeros(...),) * 2), so d loss / d c0 and d h0 cannot be "
             "told apart; use initial_state null or explicit arrays")
    if spec.gradients and spec.feed != "placeholder":
        fail("gradients: need feed 'placeholder' (d loss / d inputs of a constant is not defined)")
    if spec.jacobian:
        if spec.driver != "dynamic_rnn" or spec.time_major:
            fail("jacobian: needs a batch-major dynamic_rnn (d outputs[:, T-1] / d inputs[:, t])")
        if spec.feed != "placeholder":
            fail("jacobian: needs feed 'placeholder'")
    if spec.train is not None:
        train = spec.train
        if spec.head is None:
            fail("train: needs a head (the loss is mean((logits - targets) ** 2))")
        if train.optimizer not in OPTIMIZERS:
            fail(f"train.optimizer: expected one of {OPTIMIZERS}, got {train.optimizer!r}")
        if isinstance(train.steps, bool) or not isinstance(train.steps, int) or train.steps < 1:
            fail(f"train.steps: expected a positive integer, got {train.steps!r}")
        if train.steps > MAX_TRAIN_STEPS:
            fail(f"train.steps: {_short(train.steps)} steps, more than the {MAX_TRAIN_STEPS} a "
                 f"spec may ask for")
        if not (train.learning_rate > 0):
            fail(f"train.learning_rate: must be > 0, got {train.learning_rate!r}")
        want = (spec.batch_size, spec.head.num_outputs)
        if train.targets is None or train.targets.shape != want:
            got = None if train.targets is None else train.targets.shape
            fail(f"train.targets: expected shape {want} (batch, head outputs), got {got}")
    if spec.head is not None:
        if isinstance(spec.weights, (int, float)):
            fail(f"weights: a constant initializer does not give the head's variables "
                 f"(tf-slim's fully_connected has its own xavier initializer, tf.layers.dense "
                 f"its zero bias); give explicit weights instead")
        if spec.head.num_outputs < 1:
            fail(f"head.num_outputs: must be >= 1, got {spec.head.num_outputs}")
    for key, tol in spec.tolerances.items():
        if not is_tolerance(tol):
            fail(f"tolerances[{key!r}]: expected (rtol, atol) >= 0, got {_short(tol)}")
    if not 0 <= spec.seed < 2 ** 32:
        fail(f"seed: must be in [0, 2**32 - 1] (NumPy's seed range), got {_short(spec.seed)}")
    for k, cell in enumerate(spec.cells):
        for option in ("forget_bias", "cell_clip", "proj_clip"):
            value = getattr(cell, option)
            if value is not None and not _within(value, spec.dtype):
                fail(f"cells[{k}].{option}: must be finite and within {spec.dtype}'s range, "
                     f"got {_short(value)}")
    if spec.train is not None and not _within(spec.train.learning_rate, spec.dtype):
        fail(f"train.learning_rate: must be finite and within {spec.dtype}'s range, got "
             f"{_short(spec.train.learning_rate)}")
    _check_sizes(spec, fail)


# What a spec may ask the engines to allocate, checked before anything is: elements of all
# its variables, and of one step's activations over batch x time (float32: 1 GiB each).
MAX_ELEMENTS = 1 << 28
MAX_TRAIN_STEPS = 100_000


def _as_float(value: Any) -> Optional[float]:
    """``value`` as a float, or None for an integer beyond float's range (``2**1100``)."""
    try:
        return float(value)
    except OverflowError:
        return None


def _within(value: Any, dtype: str) -> bool:
    """Whether the number ``value`` is finite and within ``dtype``'s range (NumPy would make
    it infinity, with a warning, or fail on an integer too big for a float)."""
    number = _as_float(value)
    return number is not None and math.isfinite(number) and \
        abs(number) <= float(np.finfo(dtype).max)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def _check_sizes(spec: CaseSpec, fail) -> None:
    """Refuse a spec whose variables or activations would exceed :data:`MAX_ELEMENTS`."""
    from . import naming  # naming imports this module

    per_layer: Dict[int, int] = {}
    for info in naming.layout(spec).values():
        per_layer[info.layer] = per_layer.get(info.layer, 0) + math.prod(info.shape)
    total = sum(per_layer.values())
    if total > MAX_ELEMENTS:
        layer = max(per_layer, key=per_layer.get)  # the biggest layer, and its biggest size
        k = len(spec.cells) if layer < 0 else layer  # the head takes the last cell's output
        if k == 0:
            below = {"inputs": spec.input_depth}
        else:
            cell = spec.cells[k - 1]
            option = "num_units" if cell.num_proj is None else "num_proj"
            below = {f"cells[{k - 1}].{option}": cell.output_size}
        if layer < 0:
            sizes = {"head.num_outputs": spec.head.num_outputs, **below}
        else:
            cell = spec.cells[layer]
            sizes = {f"cells[{layer}].num_units": cell.num_units, **below,
                     f"cells[{layer}].num_proj": cell.num_proj or 0}
        where = max(sizes, key=sizes.get)
        what = "the head" if layer < 0 else f"cells[{layer}]"
        in_all = f" ({total} in all)" if total != per_layer[layer] else ""
        fail(f"{where}: {_short(sizes[where])} gives {what} {per_layer[layer]} weight "
             f"elements{in_all}, more than the {MAX_ELEMENTS} a spec may ask for")
    steps = spec.batch_size * (spec.max_time or 1)
    width = sum(4 * cell.num_units + cell.output_size for cell in spec.cells)
    if steps * width > MAX_ELEMENTS:
        fail(f"inputs: {steps} (batch x time) steps through cells of {width} gate and output "
             f"units make {steps * width} activation elements, more than the {MAX_ELEMENTS} a "
             f"spec may ask for")


def _validate_cell(cell: CellSpec, where: str, fail) -> None:
    init = cell.initializer
    if init is not None:
        if not isinstance(init, tuple) or not init or init[0] not in INITIALIZERS:
            fail(f"{where}.initializer: expected [name, *args] with name one of "
                 f"{sorted(INITIALIZERS)}, got {init!r}")
        params = INITIALIZERS[init[0]]
        if len(init) - 1 != len(params) or not all(
                isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a)
                for a in init[1:]):
            fail(f"{where}.initializer: {init[0]} takes {list(params) or 'no arguments'} "
                 f"(finite numbers), got {list(init[1:])}")
        if cell.kind not in ("LSTMCell", "GRUCell"):
            fail(f"{where}.initializer: {cell.kind} has no initializer argument (LSTMCell's "
                 f"initializer=, GRUCell's kernel_initializer=)")
    if cell.kind not in CELL_KINDS:
        fail(f"{where}.kind: expected one of {CELL_KINDS}, got {cell.kind!r}")
    if isinstance(cell.num_units, bool) or not isinstance(cell.num_units, int) or cell.num_units < 1:
        fail(f"{where}.num_units: expected a positive integer, got {cell.num_units!r}")
    if cell.activation is not None and cell.activation not in ACTIVATIONS:
        fail(f"{where}.activation: expected one of {ACTIVATIONS}, got {cell.activation!r}")
    if cell.kind != "LSTMCell":
        for option in LSTM_OPTIONS:
            if cell.uses(option) and not (cell.kind == "LSTMBlockCell" and option in BLOCK_OPTIONS):
                fail(f"{where}.{option}: {cell.kind} has no {option} (LSTMCell only)")
    if cell.kind == "LSTMBlockCell":
        if cell.cell_clip is not None and not (cell.cell_clip > 0):
            fail(f"{where}.cell_clip: LSTMBlockCell's fused kernel clips only for cell_clip > 0 "
                 f"(cell_clip={cell.cell_clip!r} does not clip, in TF 1.x too); leave it null")
        if cell.activation is not None and cell.activation != "tanh":
            fail(f"{where}.activation: LSTMBlockCell's fused kernel uses tanh only")
        if not cell.state_is_tuple:
            fail(f"{where}.state_is_tuple: LSTMBlockCell's state is always LSTMStateTuple(c, h)")
    if not cell.is_lstm:
        if cell.forget_bias != 1.0:
            fail(f"{where}.forget_bias: {cell.kind} has no forget gate")
        if not cell.state_is_tuple:
            fail(f"{where}.state_is_tuple: {cell.kind} has a single state tensor")
    if cell.num_proj is not None and (not isinstance(cell.num_proj, int) or cell.num_proj < 1):
        fail(f"{where}.num_proj: expected a positive integer, got {cell.num_proj!r}")
    if cell.proj_clip is not None and cell.num_proj is None:
        fail(f"{where}.proj_clip: needs num_proj")
    for option in ("cell_clip", "proj_clip"):
        value = getattr(cell, option)
        if value is not None and not (value >= 0):
            fail(f"{where}.{option}: must be >= 0, got {value!r}")


def _shape_str(shape) -> str:
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


# JSON form ----------------------------------------------------------------

_CASE_FIELDS = {f.name for f in dataclasses.fields(CaseSpec)}
_CELL_FIELDS = {f.name for f in dataclasses.fields(CellSpec)}
_HEAD_FIELDS = {f.name for f in dataclasses.fields(HeadSpec)}
_TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainSpec)}


def _non_default(obj, keep=()) -> Dict[str, Any]:
    """A dataclass's fields that differ from their defaults (and those in ``keep``)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
            if f.name in keep or f.default is dataclasses.MISSING
            or getattr(obj, f.name) != f.default}


def to_dict(spec: CaseSpec) -> Dict[str, Any]:
    """The JSON-ready form of ``spec`` (arrays as nested lists).

    Fields at their defaults are left out (cells' options too), so the form
    stays short and a new option with a default does not change the form of
    existing specs (nor the metadata of existing goldens).
    """
    out: Dict[str, Any] = {}
    for f in dataclasses.fields(CaseSpec):
        value = getattr(spec, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if f.name == "tolerances" and not value:
            continue
        if f.name not in ("name", "cells", "inputs") and not isinstance(value, (np.ndarray, Mapping)) \
                and value == default:
            continue
        if f.name == "cells":
            value = [{k: list(v) if isinstance(v, tuple) else v
                      for k, v in _non_default(c, keep=("kind", "num_units")).items()}
                     for c in value]
        elif f.name == "head" and value is not None:
            value = _non_default(value, keep=("num_outputs", "scope"))
        elif f.name == "train" and value is not None:
            value = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                     for k, v in dataclasses.asdict(value).items()}
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, Mapping):
            value = {k: (v.tolist() if isinstance(v, np.ndarray) else list(v))
                     for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def from_dict(data: Mapping[str, Any], arrays: Optional[Mapping[str, np.ndarray]] = None) -> CaseSpec:
    """Build a :class:`CaseSpec` from its JSON form.

    Array-valued fields may be given inline (nested lists) or as the string
    ``"@name"``, naming an array in ``arrays`` (a sidecar ``.npz``).

    Raises:
      SpecError: unknown or missing fields, bad values; the message names the field.
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"spec: expected a JSON object, got {type(data).__name__}")
    unknown = set(data) - _CASE_FIELDS
    if unknown:
        raise SpecError(f"spec: unknown field(s) {sorted(unknown)}; known: {sorted(_CASE_FIELDS)}")
    for required in ("name", "cells", "inputs"):
        if required not in data:
            raise SpecError(f"spec: missing required field {required!r}")
    arrays = arrays or {}

    def resolve(value: Any, where: str) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            key = value[1:]
            if key not in arrays:
                raise SpecError(f"{where}: {value!r} names no array in the sidecar "
                                f"(has {sorted(arrays)})")
            return arrays[key]
        return value

    kwargs = dict(data)
    cells = kwargs["cells"]
    if not isinstance(cells, list) or not cells:
        raise SpecError("spec: cells must be a non-empty list of cell objects")
    parsed_cells = []
    for k, cell in enumerate(cells):
        if not isinstance(cell, Mapping):
            raise SpecError(f"cells[{k}]: expected an object, got {cell!r}")
        bad = set(cell) - _CELL_FIELDS
        if bad:
            raise SpecError(f"cells[{k}]: unknown option(s) {sorted(bad)}; known: {sorted(_CELL_FIELDS)}")
        parsed_cells.append(CellSpec(**cell))
    kwargs["cells"] = tuple(parsed_cells)
    kwargs["inputs"] = resolve(kwargs["inputs"], "inputs")
    if isinstance(kwargs.get("initial_state"), Mapping):
        kwargs["initial_state"] = {k: resolve(v, f"initial_state[{k!r}]")
                                   for k, v in kwargs["initial_state"].items()}
    if isinstance(kwargs.get("weights"), Mapping):
        kwargs["weights"] = {k: resolve(v, f"weights[{k!r}]") for k, v in kwargs["weights"].items()}
    if kwargs.get("head") is not None:
        head = kwargs["head"]
        if not isinstance(head, Mapping) or set(head) - _HEAD_FIELDS:
            raise SpecError(f"head: expected an object with fields {sorted(_HEAD_FIELDS)}, got {head!r}")
        kwargs["head"] = HeadSpec(**head)
    if kwargs.get("train") is not None:
        train = kwargs["train"]
        if not isinstance(train, Mapping) or set(train) - _TRAIN_FIELDS:
            raise SpecError(f"train: expected an object with fields {sorted(_TRAIN_FIELDS)}, "
                            f"got {train!r}")
        train = dict(train)
        if "targets" in train:
            train["targets"] = resolve(train["targets"], "train.targets")
        try:
            kwargs["train"] = TrainSpec(**train)
        except (ValueError, OverflowError) as exc:  # targets NumPy cannot read (ragged lists)
            if isinstance(exc, SpecError):
                raise
            raise SpecError(f"train.targets: cannot be read as an array ({exc})") from None
    if kwargs.get("tolerances") is None:
        kwargs.pop("tolerances", None)
    try:
        return CaseSpec(**kwargs)
    except TypeError as exc:  # a field of the wrong kind
        raise SpecError(f"spec: {exc}") from None


def load_file(path, arrays_path=None) -> CaseSpec:
    """Read a spec from a JSON file.

    ``"@name"`` values name arrays in a sidecar ``.npz``: ``arrays_path``, or
    by default the file beside the JSON with the same stem (``spec.json`` ->
    ``spec.npz``).

    Raises:
      SpecError: unreadable file, invalid JSON, or a bad spec (named field).
    """
    import json
    from pathlib import Path

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc.strerror or exc})") from None
    except RecursionError:
        raise SpecError(f"{path}: JSON nested too deeply to be a spec") from None
    except ValueError as exc:
        raise SpecError(f"{path}: not valid JSON ({exc})") from None
    from .golden import GoldenError, read_arrays

    sidecar = Path(arrays_path) if arrays_path else path.with_suffix(".npz")
    arrays = {}
    if arrays_path or sidecar.exists():
        try:
            arrays = read_arrays(sidecar, what="sidecar .npz")
        except GoldenError as exc:
            raise SpecError(f"cannot read the spec's sidecar arrays: {exc}") from None
    try:
        return from_dict(data, arrays)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def save_file(spec: CaseSpec, path) -> None:
    """Write ``spec`` as a JSON file :func:`load_file` reads back (arrays inline)."""
    import json
    from pathlib import Path

    Path(path).write_text(json.dumps(to_dict(spec), indent=1) + "\n")
