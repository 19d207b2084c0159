"""Keras targets: tf-keras (Keras 2, ``tf.keras``) and Keras 3 (``import keras``).

One functional model per spec, the same code for both Kerases::

    x    = Input((None, I))                          # batch-major, as dynamic_rnn's default
    mask = Input((None,), bool)                      # with sequence_length: t < length
    h0_k, c0_k = Input((R,)), Input((H,))            # with an explicit initial state (no c0_k
                                                     # for a GRU or RNN layer)
    one cell:    LSTM(H, ...) / GRU(H, reset_after=False, ...) / SimpleRNN(H, ...) with
                 return_sequences=True, return_state=True, zero_output_for_mask=True
    MultiRNNCell: RNN(StackedRNNCells([LSTMCell(H_0), GRUCell(H_1, reset_after=False),
                  SimpleRNNCell(H_2), ...]), same flags)   -- kinds may be mixed
    outputs: [outputs (B, T, H), h_0, c_0, h_1, ..., (logits)]   -- each layer's state
             parts in the layout's order ([h, c] for an LSTM, [h] otherwise)

TF1's ``tf.contrib.rnn.MultiRNNCell`` / ``tf.compat.v1.nn.rnn_cell.MultiRNNCell``
becomes ``StackedRNNCells``; ``LSTMStateTuple(c, h)`` becomes Keras' ``[h, c]``.
TF1's ``GRUCell`` is Keras' GRU with ``reset_after=False`` (the reset gate
multiplies ``h`` before the recurrent matmul); Keras' default,
``reset_after=True``, is another cell. ``BasicRNNCell`` is ``SimpleRNN``.
``sequence_length``: Keras masks. A masked step carries the state unchanged
(as TF1) but by default *repeats the previous output*; ``zero_output_for_mask=True``
makes it output zeros, as ``dynamic_rnn`` does.

tf-keras is ``tf.keras`` once :func:`tf1_lstm.tfcompat.load` has set
``TF_USE_LEGACY_KERAS=1``; Keras 3 is the ``keras`` package beside it, run
with the TensorFlow backend, eagerly (``KERAS_BACKEND`` is set for its first
import only, when unset). Building or loading a model leaves Python's and
NumPy's random state as it was (:func:`tf1_lstm.migrate.runner.random_state_kept`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Dict, Iterator, List, Mapping, Tuple

import numpy as np

from .. import tfcompat
from ..spec import CaseSpec
from . import runner
from .layouts import layout

KERAS3_BACKEND = "tensorflow"
# Sequences this long run in a tf.function (see forward); measured: 500 steps take
# 0.39 s eagerly and 0.07 s traced in Keras 3, 3 steps 0.03 s eagerly and 0.1 s traced.
TRACE_FROM = 64


@contextlib.contextmanager
def _backend_for_first_import() -> Iterator[None]:
    """``KERAS_BACKEND=tensorflow`` while Keras 3 is first imported, if the user left it unset.

    Keras 3 reads ``KERAS_BACKEND`` once, when it is imported
    (``keras/src/backend/config.py``), so the variable is set for that import
    only and removed again: the caller's environment is left as it was. A
    user's own setting is never changed (another backend is refused in
    :func:`module`).
    """
    if "keras" in sys.modules or "KERAS_BACKEND" in os.environ:
        yield
        return
    os.environ["KERAS_BACKEND"] = KERAS3_BACKEND
    try:
        yield
    finally:
        os.environ.pop("KERAS_BACKEND", None)


def module(target: str):
    """``tf.keras`` (tf-keras) for ``keras``; the Keras 3 package for ``keras3``.

    Raises:
      ImportError: Keras 3 is not installed, or was loaded with another backend.
    """
    tf = tfcompat.load()
    if target == "keras":
        return tf.keras
    with _backend_for_first_import():
        import keras  # Keras 3, beside tf-keras

    if not keras.__version__.startswith("3."):
        raise ImportError(f"the keras3 engine needs Keras 3; 'import keras' gives Keras "
                          f"{keras.__version__} (pip install 'keras>=3')")
    if keras.backend.backend() != KERAS3_BACKEND:
        raise ImportError(f"the keras3 engine runs Keras 3 with the TensorFlow backend; "
                          f"Keras was loaded with {keras.backend.backend()!r} "
                          f"(set KERAS_BACKEND=tensorflow)")
    return keras


# Keras classes of each cell family: (layer for one cell, cell for StackedRNNCells).
CLASSES = {"lstm": ("LSTM", "LSTMCell"), "gru": ("GRU", "GRUCell"),
           "rnn": ("SimpleRNN", "SimpleRNNCell")}
# Names of the recurrent layer in the model: one cell by family, or the stack.
LAYER_NAMES = {"lstm": "lstm", "gru": "gru", "rnn": "simple_rnn", "stack": "rnn"}


def _cell_kwargs(cell, target: str) -> Dict[str, Any]:
    lay = layout(target, cell)
    kwargs: Dict[str, Any] = {"activation": lay.activations[cell.activation or "tanh"]}
    if lay.family in ("lstm", "gru"):
        kwargs["recurrent_activation"] = "sigmoid"
    if lay.family == "gru":
        kwargs["reset_after"] = False  # TF1's GRUCell: r * h before the recurrent matmul
    return kwargs


@runner.random_state_kept()  # the initializers draw op seeds from Python's random
def build(spec: CaseSpec, weights: Mapping[str, np.ndarray], target: str = "keras"):
    """The functional Keras model of ``spec`` with ``weights`` (by :mod:`convert` names) loaded."""
    K = module(target)
    dtype = spec.dtype
    x = K.Input(shape=(None, spec.input_depth), dtype=dtype, name="inputs")
    inputs = [x]
    mask = None
    if spec.sequence_length is not None:
        mask = K.Input(shape=(None,), dtype="bool", name="mask")
        inputs.append(mask)
    initial = None
    if runner.state_inputs(spec):
        initial = []
        for k, cell in enumerate(spec.cells):
            parts = [K.Input(shape=(cell.output_size if part == "h" else cell.num_units,),
                             dtype=dtype, name=f"initial_{part}_{k}")
                     for part in layout(target, cell).state]
            inputs += parts
            initial.append(parts)
    flags = dict(return_sequences=True, return_state=True, zero_output_for_mask=True, dtype=dtype)
    families = [layout(target, c).family for c in spec.cells]
    if spec.multi_rnn:
        cells = [getattr(K.layers, CLASSES[f][1])(c.num_units, dtype=dtype,
                                                   **_cell_kwargs(c, target))
                 for f, c in zip(families, spec.cells)]
        layer = K.layers.RNN(K.layers.StackedRNNCells(cells, dtype=dtype),
                             name=LAYER_NAMES["stack"], **flags)
        if initial is not None:
            # One tensor for a one-part state: tf-keras refuses [h] for a GRU/RNN cell here.
            initial = [parts if len(parts) > 1 else parts[0] for parts in initial]
    else:
        cell, family = spec.cells[0], families[0]
        layer = getattr(K.layers, CLASSES[family][0])(
            cell.num_units, name=LAYER_NAMES[family], **flags, **_cell_kwargs(cell, target))
        if initial is not None:
            initial = initial[0]
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = mask
    if initial is not None:
        kwargs["initial_state"] = initial
    result = layer(x, **kwargs)
    outputs = [result[0]] + _flatten(result[1:])
    if spec.head is not None:
        last = outputs[0][:, -1]                                      # (B, O)
        dense = K.layers.Dense(spec.head.num_outputs, name="head", dtype=dtype)
        outputs.append(dense(last))
    model = K.Model(inputs=inputs, outputs=outputs, name="tf1_lstm_" + spec.name.replace("-", "_"))
    set_weights(model, weights)
    return model


def _flatten(items) -> List[Any]:
    out: List[Any] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out += _flatten(item)
        else:
            out.append(item)
    return out


def weight_names(model) -> List[str]:
    """:mod:`convert` names of ``model.get_weights()``, in order."""
    names = []
    cells = 0
    for layer in model.layers:
        if layer.name == "head":
            names += ["head/kernel", "head/bias"]
        elif layer.name in LAYER_NAMES.values():
            n = len(layer.get_weights()) // 3
            for k in range(cells, cells + n):
                names += [f"cell_{k}/kernel", f"cell_{k}/recurrent_kernel", f"cell_{k}/bias"]
            cells += n
    return names


def set_weights(model, weights: Mapping[str, np.ndarray]) -> None:
    """Load weights by :mod:`convert` names into ``model``."""
    names = weight_names(model)
    missing = [n for n in names if n not in weights]
    if missing or len(names) != len(weights):
        raise ValueError(f"Keras model {model.name!r} takes weights {names}, got {list(weights)}")
    model.set_weights([weights[n] for n in names])


def get_weights(model) -> Dict[str, np.ndarray]:
    """``model``'s weights by :mod:`convert` names."""
    return dict(zip(weight_names(model), model.get_weights()))


def _state_order(spec: CaseSpec, target: str) -> List[Tuple[int, str]]:
    """``(layer, part)`` of the model's state inputs and outputs, in order."""
    return [(k, part) for k, cell in enumerate(spec.cells) for part in layout(target, cell).state]


def feeds(spec: CaseSpec, given: runner.Inputs, target: str = "keras") -> List[np.ndarray]:
    """The model's input list for ``given`` (see :func:`build`)."""
    out = [given.x]
    if spec.sequence_length is not None:
        out.append(runner.mask(given.lengths, given.x.shape[1]))
    if runner.state_inputs(spec):
        initial = given.initial or runner.zero_initial(spec, given.x.shape[0])
        out += [initial[k][part] for k, part in _state_order(spec, target)]
    return out


def forward(spec: CaseSpec, model, given: runner.Inputs, target: str = "keras"
            ) -> runner.Outputs:
    """Run ``model``; with ``spec.gradients`` under a ``tf.GradientTape``.

    Eagerly for short sequences; in a ``tf.function`` from :data:`TRACE_FROM`
    steps on, where stepping through the time loop op by op (Keras 3 is
    several times slower there) costs more than tracing it once.
    """
    tf = tfcompat.load()
    order = _state_order(spec, target)
    n = len(order)                                                   # state parts, all layers
    inputs = [tf.constant(a) for a in feeds(spec, given, target)]
    floats = [k for k, t in enumerate(inputs) if t.dtype.is_floating]  # x, then the states
    weights = list(model.trainable_weights)

    def compute(inputs):
        watched = [inputs[k] for k in floats]
        with tf.GradientTape() as tape:
            tape.watch(watched)
            values = list(model(inputs, training=False))
            if not spec.gradients:
                return values, None, None
            loss = 0.5 * tf.reduce_sum(tf.square(values[0]))
            loss += tf.add_n([tf.reduce_sum(v) for v in values[1:1 + n]])
            if spec.head is not None:
                loss += 0.5 * tf.reduce_sum(tf.square(values[1 + n]))
        grads = tape.gradient(loss, watched + weights)
        grads = [tf.zeros_like(t) if g is None else g for t, g in zip(watched + weights, grads)]
        return values, loss, grads

    if given.x.shape[1] >= TRACE_FROM:
        compute = tf.function(compute, autograph=False)
    values, loss, grads = compute(inputs)
    arrays = [np.asarray(v) for v in values]

    def by_layer(parts):
        out: List[runner.State] = [{} for _ in spec.cells]
        for (k, part), value in zip(order, parts):
            out[k][part] = value
        return out

    out = runner.Outputs(arrays[0], by_layer(arrays[1:1 + n]),
                         arrays[1 + n] if spec.head is not None else None)
    if spec.gradients:
        grads = [np.asarray(g) for g in grads]
        out.loss = np.asarray(loss)
        out.d_x = grads[0]
        out.d_initial = by_layer(grads[1:len(floats)])
        out.d_weights = dict(zip(weight_names(model), grads[len(floats):]))
    return out


def target(name: str) -> runner.Target:
    """The :class:`~tf1_lstm.migrate.runner.Target` for ``keras`` or ``keras3``."""
    return runner.Target(name, lambda spec, w: build(spec, w, name),
                         lambda spec, model, given: forward(spec, model, given, name), get_weights)


def save(model, path: str) -> None:
    """Write ``model`` as ``.keras`` (whole model) or ``.weights.h5`` (weights).

    Raises:
      ValueError: another suffix.
    """
    path = str(path)
    if path.endswith(".weights.h5"):
        model.save_weights(path)
    elif path.endswith(".keras"):
        model.save(path)
    else:
        raise ValueError(f"{path}: a Keras file ends in '.keras' (whole model) or "
                         f"'.weights.h5' (weights only)")


@runner.random_state_kept()  # load_model runs the initializers too
def load(spec: CaseSpec, path: str, target: str):
    """Read a file :func:`save` wrote: a ``.keras`` model, or weights into ``build(spec)``."""
    path = str(path)
    K = module(target)
    if path.endswith(".keras"):
        return K.models.load_model(path, compile=False)
    from . import convert

    zeros = {n: np.zeros(s, spec.dtype) for n, s in convert.expected_names(spec, target).items()}
    model = build(spec, zeros, target)
    model.load_weights(path)
    return model
