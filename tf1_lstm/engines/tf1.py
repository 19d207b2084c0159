"""The TF1 engine: builds a case's graph with the document's ``tf.compat.v1`` calls.

For the seed document's examples the graph is built with exactly its calls::

    lstm_cell = tf.nn.rnn_cell.LSTMCell(4, state_is_tuple=True, name="basic_lstm_cell")
    state = (tf.zeros([1, 4]),) * 2
    input_data = tf.constant([[1, 2, 3, 1, 2, 3]], dtype=tf.float32)
    with tf.variable_scope("LSTM_sample1"):
        output, state_new = lstm_cell(input_data, state)

    stacked_lstm = tf.nn.rnn_cell.MultiRNNCell([LSTMCell(4), LSTMCell(5)])
    data = tf.placeholder(tf.float32, [None, None, 6])
    output, state = tf.nn.dynamic_rnn(stacked_lstm, data, dtype=tf.float32)

in a fresh ``tf.Graph`` with its own ``Session``; eager execution is left as
it is (graph variables are then resource variables, so weights are loaded
with placeholder-fed ``assign`` ops, not ``Variable.load``).

Seeding: the graph seed (``tf.set_random_seed``) is not enough, because
tf-keras' default initializers draw their op seeds from Python's ``random``;
:func:`seeded` seeds Python's ``random`` and NumPy too, and restores both
afterwards so that the caller's random streams are left as they were.
"""

from __future__ import annotations

import contextlib
import io
import random
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import numpy as np

from .. import naming, tfcompat
from ..spec import CaseSpec

ENGINE_NAME = "tf"


@dataclass
class EngineRun:
    """What one run of a case produced.

    Attributes:
      arrays: the named result arrays (see :mod:`tf1_lstm.spec`).
      initial_variables: TF name -> value right after
        ``global_variables_initializer`` (before any weights were assigned).
      variable_table: tf-slim's model-analyzer table, when asked for.
    """

    arrays: Dict[str, np.ndarray]
    initial_variables: Dict[str, np.ndarray]
    variable_table: str = ""


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python's ``random`` and NumPy's global state; restore them on exit."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _activation(tf, name: Optional[str]):
    return {
        None: None,
        "tanh": tf.tanh,
        "relu": tf.nn.relu,
        "sigmoid": tf.sigmoid,
        "softsign": tf.nn.softsign,
        "identity": tf.identity,
    }[name]


def _initializer(tf, spec: Tuple[Any, ...]):
    """The ``tf.compat.v1`` initializer ``[name, *args]`` names (seeded by the graph seed)."""
    v1 = tf.compat.v1
    name, args = spec[0], spec[1:]
    return {
        "random_uniform": v1.random_uniform_initializer,
        "random_normal": v1.random_normal_initializer,
        "truncated_normal": v1.truncated_normal_initializer,
        "orthogonal": v1.orthogonal_initializer,
        "glorot_uniform": v1.glorot_uniform_initializer,
        "glorot_normal": v1.glorot_normal_initializer,
        "constant": v1.constant_initializer,
    }[name](*args)


def _make_cell(tf, cell) -> Any:
    """One ``tf.nn.rnn_cell`` object from a :class:`~tf1_lstm.spec.CellSpec`."""
    rnn_cell = tf.compat.v1.nn.rnn_cell
    kwargs: Dict[str, Any] = {}
    if cell.name is not None:
        kwargs["name"] = cell.name
    if cell.activation is not None:
        kwargs["activation"] = _activation(tf, cell.activation)
    if cell.initializer is not None:
        key = "initializer" if cell.kind == "LSTMCell" else "kernel_initializer"
        kwargs[key] = _initializer(tf, cell.initializer)
    if cell.kind == "LSTMCell":
        if cell.use_peepholes:
            kwargs["use_peepholes"] = True
        if cell.cell_clip is not None:
            kwargs["cell_clip"] = cell.cell_clip
        if cell.num_proj is not None:
            kwargs["num_proj"] = cell.num_proj
        if cell.proj_clip is not None:
            kwargs["proj_clip"] = cell.proj_clip
    if cell.kind == "LSTMBlockCell":
        from ..contrib.rnn.lstm_ops import LSTMBlockCell

        return LSTMBlockCell(cell.num_units, forget_bias=cell.forget_bias,
                             cell_clip=cell.cell_clip, use_peephole=cell.use_peepholes,
                             name=cell.name or "lstm_cell")
    if cell.is_lstm:
        if cell.forget_bias != 1.0:
            kwargs["forget_bias"] = cell.forget_bias
        # The document passes state_is_tuple=True explicitly; so do we.
        kwargs["state_is_tuple"] = cell.state_is_tuple
    return getattr(rnn_cell, cell.kind)(cell.num_units, **kwargs)


def _initial_state(tf, spec: CaseSpec, cell_obj, dtype):
    """The initial state tensor structure, or ``None`` for dynamic_rnn's ``dtype=``."""
    v1 = tf.compat.v1
    if spec.initial_state == "zeros":
        # The document's `state = (tf.zeros([1, LSTM_CELL_SIZE]),) * 2`.
        return (v1.zeros([spec.batch_size, spec.cells[0].num_units], dtype=dtype),) * 2
    if spec.initial_state is None:
        if spec.driver != "call" and not spec.gradients:
            return None
        return cell_obj.zero_state(spec.batch_size, dtype)
    if not spec.multi_state_is_tuple:
        return v1.constant(spec.initial_state["state"], dtype=dtype)
    parts = []
    for k, cell in enumerate(spec.cells):
        tensors = [v1.constant(spec.initial_state[spec.state_key(k, part)], dtype=dtype)
                   for part in cell.state_parts]
        if cell.is_lstm and cell.state_is_tuple:
            parts.append(v1.nn.rnn_cell.LSTMStateTuple(*tensors))
        else:
            parts.append(tensors[0])
    return tuple(parts) if spec.multi_rnn else parts[0]


def _flatten_state(spec: CaseSpec, state, prefix: str = "state") -> Dict[str, Any]:
    """State structure -> result name -> tensor, in :meth:`CaseSpec.state_keys` order."""
    if not spec.multi_state_is_tuple:
        return {prefix: state}
    layers = list(state) if spec.multi_rnn else [state]
    flat: Dict[str, Any] = {}
    for k, (cell, layer_state) in enumerate(zip(spec.cells, layers)):
        values = layer_state if cell.is_lstm and cell.state_is_tuple else (layer_state,)
        for part, value in zip(cell.state_parts, values):
            flat[spec.state_key(k, part, prefix)] = value
    return flat


def _check_graph_variables(spec: CaseSpec, variables) -> None:
    want = {name: info.shape for name, info in naming.layout(spec).items()}
    got = {v.name: tuple(v.shape.as_list()) for v in variables}
    if want != got:
        raise RuntimeError(
            f"case {spec.name!r}: the graph's variables {got} differ from the TF1 layout "
            f"tf1_lstm expects {want}; TensorFlow changed how the cells name or shape "
            f"their variables")


def _assign(sess, variables, weights: Mapping[str, np.ndarray]) -> None:
    """Load ``weights`` into graph variables with placeholder-fed assign ops."""
    tf = tfcompat.load()
    feeds, ops = {}, []
    for var in variables:
        value = weights[var.name]
        ph = tf.compat.v1.placeholder(var.dtype.base_dtype, shape=value.shape)
        ops.append(var.assign(ph))
        feeds[ph] = value
    sess.run(ops, feed_dict=feeds)


def run(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None) -> Dict[str, np.ndarray]:
    """The engine interface: ``spec``'s named result arrays (see :func:`execute`)."""
    return execute(spec, weights).arrays


def execute(spec: CaseSpec, weights: Optional[Mapping[str, np.ndarray]] = None, *,
            variable_table: bool = False) -> EngineRun:
    """Build ``spec``'s graph in a fresh ``tf.Graph``, run it and return the named arrays.

    Args:
      spec: the case.
      weights: TF variable name -> array, loaded into the variables after
        initialization (overrides ``spec.weights``). ``None``: use
        ``spec.weights`` (a mapping is loaded the same way; a float becomes a
        ``tf.constant_initializer`` on the enclosing variable scope, as TF's
        own tests do) or the seeded default initializers.
      variable_table: also return tf-slim's model-analyzer table.

    Returns:
      An :class:`EngineRun`.

    Raises:
      ValueError: weights that do not fit the graph's variables (named).
      SpecError: inputs that do not fit the placeholder.
    """
    tf = tfcompat.load()
    v1 = tf.compat.v1
    if weights is None and isinstance(spec.weights, Mapping):
        weights = spec.weights
    if weights is not None:
        weights = naming.check_weights(spec, weights)

    graph = tf.Graph()
    with graph.as_default(), seeded(spec.seed):
        v1.set_random_seed(spec.seed)
        constant_scope = contextlib.nullcontext()
        if isinstance(spec.weights, (int, float)):
            # TF's own rnn tests: variable_scope(..., initializer=constant_initializer(0.5)).
            constant_scope = v1.variable_scope(
                v1.get_variable_scope(), initializer=v1.constant_initializer(spec.weights))
        with constant_scope:
            built = build(spec)
        variables = v1.trainable_variables()
        _check_graph_variables(spec, variables)
        fetches = dict(built.fetches)
        if spec.gradients:
            fetches.update(_gradients(tf, spec, built, variables))
        if spec.jacobian:
            fetches["jacobian_norms"] = _jacobian_norms(tf, spec, built)
        train_ops = _training(tf, spec, built, variables) if spec.train else None
        init = v1.global_variables_initializer()

        table = ""
        if variable_table:
            from tf_slim import model_analyzer  # tf-slim: the TF1 users' variable table

            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                model_analyzer.analyze_vars(variables, print_info=True)
            table = buf.getvalue()

        with v1.Session(graph=graph) as sess:
            sess.run(init)
            initial = dict(zip([v.name for v in variables], sess.run(variables)))
            if weights is not None:
                _assign(sess, variables, weights)
            values = sess.run(fetches, feed_dict=built.feed)
            current = dict(zip([v.name for v in variables], sess.run(variables)))
            if train_ops is not None:
                values.update(_train(sess, spec, built, variables, *train_ops))

    arrays: Dict[str, np.ndarray] = {"inputs": np.array(spec.inputs)}
    arrays.update({k: np.asarray(v) for k, v in values.items()})
    arrays.update({naming.variable_key(name): value for name, value in current.items()})
    return EngineRun(arrays=arrays, initial_variables=initial, variable_table=table)


@dataclass
class Built:
    """Tensors of one case in the current graph.

    Attributes:
      output, state: what the cell call or ``dynamic_rnn`` returned (TF's own
        structures: ``LSTMStateTuple``, tuples over layers).
      initial_state: the structure passed in (``None`` for ``dtype=``).
      inputs: the placeholder or constant fed to the cells.
      fetches: result name -> tensor (outputs, state parts, logits).
      feed: the feed dict for ``Session.run``.
    """

    output: Any
    state: Any
    initial_state: Any
    inputs: Any
    fetches: Dict[str, Any]
    feed: Dict[Any, np.ndarray]


def build(spec: CaseSpec) -> Built:
    """Create ``spec``'s cells and tensors in the current default graph, with the document's calls."""
    tf = tfcompat.load()
    v1 = tf.compat.v1
    dtype = tf.as_dtype(spec.dtype)
    cells = [_make_cell(tf, c) for c in spec.cells]
    if not spec.multi_rnn:
        cell_obj = cells[0]
    elif spec.multi_state_is_tuple:
        cell_obj = v1.nn.rnn_cell.MultiRNNCell(cells)
    else:
        cell_obj = v1.nn.rnn_cell.MultiRNNCell(cells, state_is_tuple=False)

    feed: Dict[Any, np.ndarray] = {}
    if spec.feed == "placeholder":
        shape = spec.placeholder_shape or (None,) * (spec.inputs.ndim - 1) + (spec.input_depth,)
        if spec.driver == "static_rnn":  # static_rnn unstacks along time: T must be known
            axis = 0 if spec.time_major else 1
            shape = tuple(spec.inputs.shape[axis] if k == axis else d for k, d in enumerate(shape))
        inputs = v1.placeholder(dtype, list(shape))
        feed[inputs] = spec.inputs
    else:
        inputs = v1.constant(spec.inputs.tolist(), dtype=dtype)

    state0 = _initial_state(tf, spec, cell_obj, dtype)
    scope = v1.variable_scope(spec.scope) if spec.scope else contextlib.nullcontext()
    with scope:
        if spec.driver == "call":
            output, state = cell_obj(inputs, state0)
        else:
            kwargs: Dict[str, Any] = {"dtype": dtype}
            if state0 is not None:
                kwargs["initial_state"] = state0
            if spec.sequence_length is not None:
                kwargs["sequence_length"] = v1.constant(list(spec.sequence_length), dtype=tf.int32)
            if spec.rnn_scope is not None:
                kwargs["scope"] = spec.rnn_scope
            if spec.driver == "static_rnn":
                axis = 0 if spec.time_major else 1
                steps, state = v1.nn.static_rnn(cell_obj, tf.unstack(inputs, axis=axis), **kwargs)
                output = tf.stack(steps, axis=axis)
            else:
                if spec.time_major:
                    kwargs["time_major"] = True
                output, state = v1.nn.dynamic_rnn(cell_obj, inputs, **kwargs)

    fetches: Dict[str, Any] = {"outputs": output}
    fetches.update(_flatten_state(spec, state))
    if spec.head is not None:
        if spec.driver == "call":
            last = output
        else:
            last = output[-1] if spec.time_major else output[:, -1]
        if spec.head.layer == "dense":
            fetches["logits"] = v1.layers.dense(last, spec.head.num_outputs,
                                                name=spec.head.scope)
        else:
            import tf_slim as slim

            fetches["logits"] = slim.fully_connected(last, spec.head.num_outputs,
                                                     activation_fn=None, scope=spec.head.scope)
    return Built(output=output, state=state, initial_state=state0, inputs=inputs,
                 fetches=fetches, feed=feed)


def _gradients(tf, spec: CaseSpec, built: Built, variables) -> Dict[str, Any]:
    """``loss`` (see :data:`tf1_lstm.spec.LOSS`) and ``tf.gradients`` of it."""
    v1 = tf.compat.v1
    fetches = built.fetches
    loss = 0.5 * tf.reduce_sum(tf.square(fetches["outputs"]))
    for key in spec.state_keys():
        loss += tf.reduce_sum(fetches[key])
    if "logits" in fetches:
        loss += 0.5 * tf.reduce_sum(tf.square(fetches["logits"]))
    targets = {naming.variable_key(v.name): v for v in variables}
    targets["inputs"] = built.inputs
    if built.initial_state is not None:
        targets.update(_flatten_state(spec, built.initial_state, prefix="initial_state"))
    grads = v1.gradients(loss, list(targets.values()))
    out = {"loss": loss}
    for key, grad, target in zip(targets, grads, targets.values()):
        out["gradients/" + key] = grad if grad is not None else tf.zeros_like(target)
    return out


def _jacobian_norms(tf, spec: CaseSpec, built: Built):
    """(B, T): ``|d outputs[b, T-1] / d inputs[b, t]|_F``, one ``tf.gradients`` per output unit.

    Examples of a batch do not interact, so the gradient of ``sum_b
    outputs[b, T-1, k]`` w.r.t. ``inputs[b]`` is row ``k`` of example ``b``'s
    Jacobian.
    """
    last = built.output[:, -1]                                        # (B, O)
    rows = [tf.compat.v1.gradients(last[:, k], built.inputs)[0]       # (B, T, I) each
            for k in range(spec.cells[-1].output_size)]
    jac = tf.stack(rows)                                              # (O, B, T, I)
    return tf.sqrt(tf.reduce_sum(tf.square(jac), axis=[0, 3]))        # (B, T)


def _training(tf, spec: CaseSpec, built: Built, variables):
    """The loss and train op of ``spec.train`` (see :class:`tf1_lstm.spec.TrainSpec`)."""
    v1 = tf.compat.v1
    train = spec.train
    targets = v1.constant(train.targets, dtype=tf.as_dtype(spec.dtype))
    loss = tf.reduce_mean(tf.square(built.fetches["logits"] - targets))
    if train.optimizer == "sgd":
        optimizer = v1.train.GradientDescentOptimizer(train.learning_rate)
    else:
        optimizer = v1.train.AdamOptimizer(train.learning_rate)
    return loss, optimizer.minimize(loss, var_list=variables)


def _train(sess, spec: CaseSpec, built: Built, variables, loss, train_op) -> Dict[str, np.ndarray]:
    """Run the training steps; the loss before each step and after the last, and the weights."""
    losses = [sess.run([loss, train_op], feed_dict=built.feed)[0] for _ in range(spec.train.steps)]
    losses.append(sess.run(loss, feed_dict=built.feed))
    out = {"train/loss": np.array(losses, dtype=spec.dtype)}
    for var, value in zip(variables, sess.run(variables)):
        out["train/" + naming.variable_key(var.name)] = value
    return out
