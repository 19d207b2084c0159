"""tf.contrib.rnn's rnn_cell, gru_ops and rnn modules, and tf.contrib.cudnn_rnn, on today's TensorFlow.

Each cell is checked for TF 1.x's variable names and shapes, and for its
numbers against a NumPy restatement of its equations run on the weights read
back from the session (and, where TF 1.x's own tests published values, against
those). Shape legend: B batch, T steps, I input depth, H units, L attention
length, D attention size, V attention vector size.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
B, T, I, H = 2, 4, 3, 4
LENGTHS = np.array([4, 2])  # (B,) for the sequence_length cases


@pytest.fixture
def cells(tf):
    from tf1_lstm.contrib.rnn import gru_ops, rnn, rnn_cell

    return rnn_cell, gru_ops, rnn


@pytest.fixture
def cudnn(tf):
    from tf1_lstm.contrib import cudnn_rnn

    return cudnn_rnn


# ---------------------------------------------------------------- helpers


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def variables(tf):
    """``[(name, shape)]`` of the default graph's global variables, in creation order."""
    return [(v.name, tuple(v.shape.as_list())) for v in tf.compat.v1.global_variables()]


def randomize(tf, sess, seed=0, scale=0.6):
    """Initializes, then assigns U(-scale, scale) to every trainable variable; name -> value."""
    v1 = tf.compat.v1
    rng = np.random.default_rng(seed)
    sess.run(v1.global_variables_initializer())
    values = {v.name: rng.uniform(-scale, scale, v.shape.as_list()).astype(np.float32)
              for v in v1.trainable_variables()}
    load(tf, sess, values)
    return values


def load(tf, sess, values):
    """Assigns ``values`` (TF name -> array) to the graph's variables of those names."""
    by_name = {v.name: v for v in tf.compat.v1.global_variables()}
    ops = []
    for name, value in values.items():
        var = by_name[name]
        if tuple(var.shape.as_list()) != value.shape:
            raise ValueError(f"variable {name!r} has shape {tuple(var.shape.as_list())}, "
                             f"the value {value.shape}")
        ops.append(var.assign(value))
    sess.run(ops)


def read(tf, sess, name):
    """The value of the variable ``name`` (a resource variable's tensor name is its handle)."""
    (var,) = [v for v in tf.compat.v1.global_variables() if v.name == name]
    return sess.run(var)


def under(prefix, table):
    return [(f"{prefix}/{name}:0", shape) for name, shape in table]


def assert_oracle(obtained, oracle, weights, perturb):
    """``obtained`` equals ``oracle(weights)``, and differs once ``weights[perturb]`` moves by 0.1."""
    __tracebackhide__ = True
    tol = dict(rtol=1e-5, atol=2e-6)
    expected = oracle(weights)
    assert len(obtained) == len(expected)
    for got, want in zip(obtained, expected):
        np.testing.assert_allclose(got, want, **tol)
    moved = dict(weights, **{perturb: weights[perturb] + np.float32(0.1)})
    assert not all(np.allclose(g, w, **tol) for g, w in zip(obtained, oracle(moved))), \
        f"perturbing {perturb} did not change the oracle's result: the check cannot fail"


def _hold(alive, new, old):
    """``new`` where ``alive`` (B, 1), else ``old``, through nested tuples."""
    if isinstance(new, tuple):
        return tuple(_hold(alive, n, o) for n, o in zip(new, old))
    return np.where(alive, new, old)


def np_rnn(step, x, state, lengths=None):
    """``dynamic_rnn`` in NumPy: ``step(x_t, state) -> (y, state)``; finished rows give 0, keep state."""
    outputs = []
    for t in range(x.shape[1]):
        y, new = step(x[:, t], state)
        if lengths is not None:
            alive = (t < lengths)[:, None]
            y, new = np.where(alive, y, 0.0), _hold(alive, new, state)
        outputs.append(y)
        state = new
    return np.stack(outputs, 1), state


def np_lstm(x, state, kernel, bias, forget_bias=1.0):
    """LSTMCell without peepholes: gates i, j, f, o from concat([x, h]) @ kernel + bias."""
    c, h = state
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ kernel + bias, 4, axis=-1)
    c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * _sigmoid(o)
    return h, (c, h)


def np_gru(x, h, w_ru, b_ru, w_c, b_c):
    """GRU: r, u from concat([x, h]); candidate from concat([x, r * h]); h = u * h + (1 - u) * c."""
    r, u = np.split(_sigmoid(np.concatenate([x, h], 1) @ w_ru + b_ru), 2, axis=-1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ w_c + b_c)
    h = u * h + (1 - u) * c
    return h, h


def np_layer_norm(z, gamma, beta, eps=1e-12):
    """gamma * (z - mean) / sqrt(var + eps) + beta over the units of each row."""
    return gamma * (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + eps) + beta


def np_ln_lstm(x, state, w, scope, layer_norm=True, forget_bias=1.0):
    """LayerNormBasicLSTMCell: LN on i, j, f, o (no bias) and on the new c."""
    c, h = state
    gates = np.concatenate([x, h], 1) @ w[f"{scope}/kernel:0"]  # (B, 4H)
    if not layer_norm:
        gates = gates + w[f"{scope}/bias:0"]
    i, j, f, o = np.split(gates, 4, axis=-1)

    def ln(z, name):
        if not layer_norm:
            return z
        return np_layer_norm(z, w[f"{scope}/{name}/gamma:0"], w[f"{scope}/{name}/beta:0"])

    i, j, f, o = ln(i, "input"), ln(j, "transform"), ln(f, "forget"), ln(o, "output")
    c = ln(c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j), "state")
    h = np.tanh(c) * _sigmoid(o)
    return h, (c, h)


def _x(seed=1, steps=T, depth=I):
    return np.random.default_rng(seed).uniform(-1, 1, (B, steps, depth)).astype(np.float32)


# ------------------------------------------------------------ LayerNormBasicLSTMCell

LN_TABLE = [("kernel", (I + H, 4 * H))] + [
    (f"{gate}/{param}", (H,)) for gate in ("input", "transform", "forget", "output", "state")
    for param in ("gamma", "beta")]


@pytest.mark.parametrize("layer_norm", [True, False], ids=["layer_norm", "no_norm"])
def test_layer_norm_lstm_variables(tf, graph_session, cells, layer_norm):
    """kernel, then gamma/beta per gate and for the state; bias only without layer norm."""
    rnn_cell = cells[0]
    cell = rnn_cell.LayerNormBasicLSTMCell(H, layer_norm=layer_norm)
    tf.compat.v1.nn.dynamic_rnn(cell, tf.constant(_x()), dtype=tf.float32)
    table = LN_TABLE if layer_norm else [("kernel", (I + H, 4 * H)), ("bias", (4 * H,))]
    assert variables(tf) == under("rnn/layer_norm_basic_lstm_cell", table)


@pytest.mark.parametrize("norm_gain,norm_shift", [(1.0, 0.0), (0.7, 0.2)])
def test_layer_norm_lstm_initial_gamma_beta(tf, graph_session, cells, norm_gain, norm_shift):
    """Every gamma starts at norm_gain, every beta at norm_shift."""
    _, sess = graph_session
    cell = cells[0].LayerNormBasicLSTMCell(H, norm_gain=norm_gain, norm_shift=norm_shift)
    tf.compat.v1.nn.dynamic_rnn(cell, tf.constant(_x()), dtype=tf.float32)
    sess.run(tf.compat.v1.global_variables_initializer())
    for var in tf.compat.v1.global_variables():
        if var.name.endswith(("gamma:0", "beta:0")):
            want = norm_gain if var.name.endswith("gamma:0") else norm_shift
            np.testing.assert_allclose(sess.run(var), np.full(H, want, np.float32))


# TF 1.x's rnn_cell_test.py (LayerNormBasicLSTMCellTest), every variable 0.5:
# (layer_norm, input depth, two layers?) -> (h, c) of the last layer.
TF1_PUBLISHED = {
    "ln_multi": (True, 2, True, [[-0.38079708, 0.38079708]], [[-1.0, 1.0]]),
    "ln_input3": (True, 3, False, [[-0.38079708, 0.38079708]], [[-1.0, 1.0]]),
    "no_norm_multi": (False, 2, True, [[0.70230919, 0.72581059]], [[1.17500675, 1.26892781]]),
    "no_norm_input3": (False, 3, False, [[0.64121795, 0.68166804]], [[0.88477188, 0.98103917]]),
}


@pytest.mark.parametrize("case", sorted(TF1_PUBLISHED))
def test_layer_norm_lstm_tf1_published_values(tf, graph_session, cells, case):
    """The values TF 1.x's own test pinned for LayerNormBasicLSTMCell (constant 0.5 weights)."""
    v1 = tf.compat.v1
    _, sess = graph_session
    layer_norm, depth, multi, want_h, want_c = TF1_PUBLISHED[case]
    rnn_cell = cells[0]
    with v1.variable_scope("root", initializer=v1.constant_initializer(0.5)):
        x = tf.constant(np.ones((1, depth), np.float32))
        state0 = v1.nn.rnn_cell.LSTMStateTuple(tf.constant([[0.0, 0.1]]), tf.constant([[0.2, 0.3]]))
        if multi:
            state1 = v1.nn.rnn_cell.LSTMStateTuple(tf.constant([[0.4, 0.5]]),
                                                   tf.constant([[0.6, 0.7]]))
            cell = v1.nn.rnn_cell.MultiRNNCell(
                [rnn_cell.LayerNormBasicLSTMCell(2, layer_norm=layer_norm) for _ in range(2)])
            h, (_, last) = cell(x, (state0, state1))
        else:
            h, last = rnn_cell.LayerNormBasicLSTMCell(2, layer_norm=layer_norm)(x, state0)
    sess.run(v1.global_variables_initializer())
    h, last = sess.run([h, last])
    np.testing.assert_allclose(h, want_h, rtol=1e-5)
    np.testing.assert_allclose(last.h, want_h, rtol=1e-5)
    np.testing.assert_allclose(last.c, want_c, rtol=1e-5)


@pytest.mark.parametrize("layer_norm", [True, False], ids=["layer_norm", "no_norm"])
def test_layer_norm_lstm_one_step_matches_numpy(tf, graph_session, cells, layer_norm):
    """One call of the cell on random weights and state equals the NumPy equations."""
    v1 = tf.compat.v1
    _, sess = graph_session
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (B, I)).astype(np.float32)
    c0, h0 = rng.uniform(-1, 1, (2, B, H)).astype(np.float32)
    cell = cells[0].LayerNormBasicLSTMCell(H, layer_norm=layer_norm, forget_bias=0.5)
    h, state = cell(tf.constant(x), v1.nn.rnn_cell.LSTMStateTuple(tf.constant(c0), tf.constant(h0)))
    w = randomize(tf, sess)
    h, state = sess.run([h, state])
    scope = "layer_norm_basic_lstm_cell"
    perturb = f"{scope}/{'state/gamma' if layer_norm else 'bias'}:0"

    def oracle(w):
        h, (c, _) = np_ln_lstm(x, (c0, h0), w, scope, layer_norm, forget_bias=0.5)
        return [h, c]

    assert_oracle([h, state.c], oracle, w, perturb)


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "sequence_length"])
def test_layer_norm_lstm_dynamic_rnn_matches_numpy(tf, graph_session, cells, with_lengths):
    """dynamic_rnn over T steps (with sequence_length: zeros and a held state past the end)."""
    _, sess = graph_session
    x = _x()
    lengths = LENGTHS if with_lengths else None
    cell = cells[0].LayerNormBasicLSTMCell(H)
    outputs, state = tf.compat.v1.nn.dynamic_rnn(cell, tf.constant(x), dtype=tf.float32,
                                                 sequence_length=lengths)
    w = randomize(tf, sess)
    outputs, state = sess.run([outputs, state])
    scope = "rnn/layer_norm_basic_lstm_cell"
    zeros = (np.zeros((B, H)), np.zeros((B, H)))

    def oracle(w):
        ys, (c, _) = np_rnn(lambda xt, s: np_ln_lstm(xt, s, w, scope), x, zeros, lengths)
        return [ys, c]

    assert_oracle([outputs, state.c], oracle, w, f"{scope}/forget/beta:0")
    if with_lengths:
        assert not outputs[1, 2:].any()


def test_layer_norm_lstm_recurrent_dropout(tf, graph_session, cells):
    """keep_prob 0.5 drops act(j) per unit (scaling kept ones by 2); a tensor 1.0 keeps all."""
    v1 = tf.compat.v1
    _, sess = graph_session
    ones = tf.constant(np.ones((1, 8), np.float32))
    state = v1.nn.rnn_cell.LSTMStateTuple(ones, ones)
    with v1.variable_scope("drop", initializer=v1.constant_initializer(1.0)):
        cell = cells[0].LayerNormBasicLSTMCell(8, layer_norm=False, dropout_keep_prob=0.5,
                                               dropout_prob_seed=7)
        _, dropped = cell(ones, state)
    with v1.variable_scope("keep", initializer=v1.constant_initializer(1.0)):
        cell = cells[0].LayerNormBasicLSTMCell(8, layer_norm=False,
                                               dropout_keep_prob=tf.constant(1.0))
        _, kept = cell(ones, state)
    v1.set_random_seed(1)
    sess.run(v1.global_variables_initializer())
    dropped, kept = sess.run([dropped.c[0], kept.c[0]])
    # Every pre-activation is 8 + 8 + 1 = 17 (bias 1): c = sigmoid(18) + sigmoid(17) * g.
    gate = _sigmoid(17.0)
    np.testing.assert_allclose(kept, _sigmoid(18.0) + gate * np.tanh(17.0), rtol=1e-6)
    low, high = _sigmoid(18.0), _sigmoid(18.0) + gate * 2 * np.tanh(17.0)
    assert all(np.isclose(v, low, rtol=1e-6) or np.isclose(v, high, rtol=1e-6) for v in dropped)
    assert 0 < int(np.isclose(dropped, low, rtol=1e-6).sum()) < 8


# --------------------------------------------------------------------- HighwayWrapper


@pytest.mark.parametrize("coupled", [True, False], ids=["coupled", "separate"])
def test_highway_wrapper_variables_and_numbers(tf, graph_session, cells, coupled):
    """carry_w/carry_b (and transform_w/transform_b) in the calling scope; out = x*t_c + y*t_t."""
    v1 = tf.compat.v1
    _, sess = graph_session
    x = _x(steps=1)[:, 0]
    h0 = np.random.default_rng(4).uniform(-1, 1, (B, I)).astype(np.float32)
    cell = cells[0].HighwayWrapper(v1.nn.rnn_cell.GRUCell(I), couple_carry_transform_gates=coupled,
                                   carry_bias_init=0.5)
    with v1.variable_scope("hw"):
        out, state = cell(tf.constant(x), tf.constant(h0))
    table = [("gru_cell/gates/kernel", (2 * I, 2 * I)), ("gru_cell/gates/bias", (2 * I,)),
             ("gru_cell/candidate/kernel", (2 * I, I)), ("gru_cell/candidate/bias", (I,)),
             ("carry_w", (I, I)), ("carry_b", (I,))]
    if not coupled:
        table += [("transform_w", (I, I)), ("transform_b", (I,))]
    assert variables(tf) == under("hw", table)
    sess.run(v1.global_variables_initializer())
    np.testing.assert_allclose(read(tf, sess, "hw/carry_b:0"), np.full(I, 0.5, np.float32))
    if not coupled:
        np.testing.assert_allclose(read(tf, sess, "hw/transform_b:0"), np.full(I, -0.5, np.float32))
    w = randomize(tf, sess)
    out, state = sess.run([out, state])

    def oracle(w):
        y, h = np_gru(x, h0, *(w[f"hw/gru_cell/{n}:0"] for n in (
            "gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias")))
        carry = _sigmoid(x @ w["hw/carry_w:0"] + w["hw/carry_b:0"])
        transform = (1 - carry if coupled else
                     _sigmoid(x @ w["hw/transform_w:0"] + w["hw/transform_b:0"]))
        return [x * carry + y * transform, h]

    assert_oracle([out, state], oracle, w, "hw/carry_b:0" if coupled else "hw/transform_b:0")


# ---------------------------------------------------------------- AttentionCellWrapper

L, D = 3, 4  # attention length, size (= the wrapped cell's output H)


def np_attention_step(x, state, w, prefix, cell_step, state_is_tuple=True, cell_depth=None):
    """AttentionCellWrapper: project [x, attns], run the cell, attend over attn_states, project."""
    if state_is_tuple:
        cell_state, attns, attn_states = state
    else:
        cell_state, attns, attn_states = np.split(state, [cell_depth, cell_depth + D], axis=1)
    window = attn_states.reshape(B, L, D)
    cell_in = np.concatenate([x, attns], 1) @ w[f"{prefix}/kernel:0"] + w[f"{prefix}/bias:0"]
    y, new_cell_state = cell_step(cell_in, cell_state)  # (B, H)
    query = np.concatenate(new_cell_state, 1) if state_is_tuple else new_cell_state  # (B, S)
    features = window @ w[f"{prefix}/attention/attn_w:0"][0, 0]  # (B, L, V)
    y_q = query @ w[f"{prefix}/attention/kernel:0"] + w[f"{prefix}/attention/bias:0"]  # (B, V)
    scores = (w[f"{prefix}/attention/attn_v:0"] * np.tanh(features + y_q[:, None])).sum(-1)
    a = _softmax(scores, axis=1)  # (B, L)
    new_attns = (a[:, :, None] * window).sum(1)  # (B, D)
    out = (np.concatenate([y, new_attns], 1) @ w[f"{prefix}/attn_output_projection/kernel:0"]
           + w[f"{prefix}/attn_output_projection/bias:0"])  # (B, D)
    new_window = np.concatenate([window[:, 1:], out[:, None]], 1).reshape(B, L * D)
    new_state = (new_cell_state, new_attns, new_window)
    return out, new_state if state_is_tuple else np.concatenate(new_state, 1)


ATTN_TABLE = [("kernel", (I + D, I)), ("bias", (I,)),
              ("lstm_cell/kernel", (I + H, 4 * H)), ("lstm_cell/bias", (4 * H,)),
              ("attention/attn_w", (1, 1, D, D)), ("attention/attn_v", (D,)),
              ("attention/kernel", (2 * H, D)), ("attention/bias", (D,)),
              ("attn_output_projection/kernel", (H + D, D)),
              ("attn_output_projection/bias", (D,))]


def test_attention_wrapper_variables_shapes_and_zero_biases(tf, graph_session, cells):
    """TF 1.x's scopes under attention_cell_wrapper; state (cell_state, attns, attn_states); biases 0."""
    v1 = tf.compat.v1
    _, sess = graph_session
    cell = cells[0].AttentionCellWrapper(v1.nn.rnn_cell.LSTMCell(H), L)
    assert cell.output_size == D
    assert cell.state_size == (v1.nn.rnn_cell.LSTMStateTuple(H, H), D, L * D)
    outputs, (cell_state, attns, attn_states) = v1.nn.dynamic_rnn(cell, tf.constant(_x()),
                                                                 dtype=tf.float32)
    assert variables(tf) == under("rnn/attention_cell_wrapper", ATTN_TABLE)
    assert outputs.shape.as_list() == [B, T, D]
    assert [t.shape.as_list() for t in (cell_state.c, cell_state.h, attns, attn_states)] == \
        [[B, H], [B, H], [B, D], [B, L * D]]
    sess.run(v1.global_variables_initializer())
    for var in v1.global_variables():
        if var.name.endswith("bias:0") and "lstm_cell" not in var.name:
            assert not sess.run(var).any(), var.name


def test_attention_wrapper_dynamic_rnn_matches_numpy(tf, graph_session, cells):
    """Over T steps from a random state: the window shifts and takes each step's output."""
    v1 = tf.compat.v1
    _, sess = graph_session
    rng = np.random.default_rng(5)
    x = _x()
    c0, h0, attns0 = rng.uniform(-1, 1, (3, B, H)).astype(np.float32)
    window0 = rng.uniform(-1, 1, (B, L * D)).astype(np.float32)
    cell = cells[0].AttentionCellWrapper(v1.nn.rnn_cell.LSTMCell(H), L)
    init = (v1.nn.rnn_cell.LSTMStateTuple(tf.constant(c0), tf.constant(h0)), tf.constant(attns0),
            tf.constant(window0))
    outputs, state = v1.nn.dynamic_rnn(cell, tf.constant(x), initial_state=init)
    w = randomize(tf, sess)
    outputs, state = sess.run([outputs, state])
    prefix = "rnn/attention_cell_wrapper"

    def oracle(w):
        def lstm(xt, s):
            return np_lstm(xt, s, w[f"{prefix}/lstm_cell/kernel:0"],
                           w[f"{prefix}/lstm_cell/bias:0"])

        ys, (_, attns, window) = np_rnn(
            lambda xt, s: np_attention_step(xt, s, w, prefix, lstm), x, ((c0, h0), attns0, window0))
        return [ys, attns, window]

    assert_oracle([outputs, state[1], state[2]], oracle, w, f"{prefix}/attention/attn_v:0")


def test_attention_wrapper_concatenated_state(tf, graph_session, cells):
    """state_is_tuple=False: one (B, S + D + L*D) state, sliced and re-concatenated each step."""
    v1 = tf.compat.v1
    _, sess = graph_session
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, (B, I)).astype(np.float32)
    state0 = rng.uniform(-1, 1, (B, H + D + L * D)).astype(np.float32)
    cell = cells[0].AttentionCellWrapper(v1.nn.rnn_cell.GRUCell(H), L, state_is_tuple=False)
    assert cell.state_size == H + D + L * D
    out, state = cell(tf.constant(x), tf.constant(state0))
    w = randomize(tf, sess)
    out, state = sess.run([out, state])
    prefix = "attention_cell_wrapper"

    def oracle(w):
        def gru(xt, h):
            return np_gru(xt, h, *(w[f"{prefix}/gru_cell/{n}:0"] for n in (
                "gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias")))

        return list(np_attention_step(x, state0, w, prefix, gru, state_is_tuple=False,
                                      cell_depth=H))

    assert_oracle([out, state], oracle, w, f"{prefix}/attention/attn_w:0")


def test_attention_wrapper_rejects_bad_arguments(tf, graph_session, cells):
    """TF 1.x's errors: not a cell, attn_length <= 0, a tuple-state cell with state_is_tuple=False."""
    v1 = tf.compat.v1
    wrapper = cells[0].AttentionCellWrapper
    with pytest.raises(TypeError, match="The parameter cell is not RNNCell"):
        wrapper(None, 4)
    for length in (0, -1):
        with pytest.raises(ValueError, match=f"attn_length should be greater than zero, got "
                                             f"{length}"):
            wrapper(v1.nn.rnn_cell.GRUCell(H), length)
    with pytest.raises(ValueError, match="Cell returns tuple of states, but the flag "
                                         "state_is_tuple is not set"):
        wrapper(v1.nn.rnn_cell.LSTMCell(H), 4, state_is_tuple=False)


# ------------------------------------------------------------------------ GRUBlockCell

GRU_BLOCK_NAMES = {"GRUBlockCell": ("w_ru", "b_ru", "w_c", "b_c"),
                   "GRUBlockCellV2": ("gates/kernel", "gates/bias", "candidate/kernel",
                                      "candidate/bias")}


@pytest.mark.parametrize("name", sorted(GRU_BLOCK_NAMES))
def test_gru_block_cell_variables_and_initial_biases(tf, graph_session, cells, name):
    """Scope gru_cell; V1 names w_ru, b_ru, w_c, b_c; V2 GRUCell's; gate bias 1, candidate bias 0."""
    _, sess = graph_session
    cell = getattr(cells[1], name)(H)
    tf.compat.v1.nn.dynamic_rnn(cell, tf.constant(_x()), dtype=tf.float32)
    w_ru, b_ru, w_c, b_c = GRU_BLOCK_NAMES[name]
    assert variables(tf) == under("rnn/gru_cell", [(w_ru, (I + H, 2 * H)), (b_ru, (2 * H,)),
                                                   (w_c, (I + H, H)), (b_c, (H,))])
    sess.run(tf.compat.v1.global_variables_initializer())
    np.testing.assert_array_equal(read(tf, sess, f"rnn/gru_cell/{b_ru}:0"), np.ones(2 * H))
    np.testing.assert_array_equal(read(tf, sess, f"rnn/gru_cell/{b_c}:0"), np.zeros(H))


@pytest.mark.parametrize("name", sorted(GRU_BLOCK_NAMES))
def test_gru_block_cell_dynamic_rnn_matches_numpy(tf, graph_session, cells, name):
    """dynamic_rnn with sequence_length equals the NumPy GRU; the gradient reaches every weight."""
    _, sess = graph_session
    x = _x()
    outputs, state = tf.compat.v1.nn.dynamic_rnn(getattr(cells[1], name)(H), tf.constant(x),
                                                 dtype=tf.float32, sequence_length=LENGTHS)
    grads = tf.gradients(tf.reduce_sum(outputs), tf.compat.v1.trainable_variables())
    assert all(g is not None for g in grads)
    w = randomize(tf, sess)
    outputs, state = sess.run([outputs, state])
    names = [f"rnn/gru_cell/{n}:0" for n in GRU_BLOCK_NAMES[name]]

    def oracle(w):
        ys, h = np_rnn(lambda xt, h: np_gru(xt, h, *(w[n] for n in names)), x,
                       np.zeros((B, H)), LENGTHS)
        return [ys, h]

    assert_oracle([outputs, state], oracle, w, names[1])


def test_gru_block_cell_equals_tensorflows_kernel(tf, graph_session, cells):
    """The core-ops step equals TF's own kernel tf.raw_ops.GRUBlockCell (which has no gradient)."""
    from tensorflow.python.framework import ops

    _, sess = graph_session
    gru_ops = cells[1]
    with pytest.raises(LookupError):
        ops.gradient_registry.lookup("GRUBlockCell")
    assert gru_ops.USES_KERNEL is False
    rng = np.random.default_rng(8)
    x, h = rng.uniform(-1, 1, (B, I)).astype(np.float32), rng.uniform(-1, 1, (B, H)).astype(
        np.float32)
    w_ru = rng.uniform(-1, 1, (I + H, 2 * H)).astype(np.float32)
    w_c = rng.uniform(-1, 1, (I + H, H)).astype(np.float32)
    b_ru = rng.uniform(-1, 1, 2 * H).astype(np.float32)
    b_c = rng.uniform(-1, 1, H).astype(np.float32)
    ours = gru_ops.gru_block(x, h, w_ru, w_c, b_ru, b_c)
    _, _, _, kernel = tf.raw_ops.GRUBlockCell(x=x, h_prev=h, w_ru=w_ru, w_c=w_c, b_ru=b_ru, b_c=b_c)
    ours, kernel = sess.run([ours, kernel])
    np.testing.assert_allclose(ours, kernel, rtol=1e-5, atol=1e-6)


def test_gru_block_cell_num_units_or_cell_size(tf, graph_session, cells):
    """Exactly one of num_units and the deprecated cell_size."""
    gru_ops = cells[1]
    assert gru_ops.GRUBlockCell(cell_size=5).output_size == 5
    for kwargs in ({}, {"num_units": 3, "cell_size": 3}):
        with pytest.raises(ValueError, match="Exactly one of num_units or cell_size"):
            gru_ops.GRUBlockCell(**kwargs)


# ------------------------------- CIFG, GLSTM, IndyLSTM, UGRNN, IntersectionRNN cells

P = 2  # projection depth


def _shards(prefix, name, rows, cols, n):
    size, extra = divmod(rows, n)
    return [(f"{prefix}/{name}_{k}:0", (size + (k < extra), cols)) for k in range(n)]


OTHER_CELLS = {
    # name -> (builder(rnn_cell), variables in creation order)
    "cifg_peepholes_proj_ln": (
        lambda rc: rc.CoupledInputForgetGateLSTMCell(H, use_peepholes=True, num_proj=P,
                                                     num_unit_shards=2, num_proj_shards=2,
                                                     layer_norm=True),
        _shards("coupled_input_forget_gate_lstm_cell", "W", 4 + P, 3 * H, 2)
        + under("coupled_input_forget_gate_lstm_cell",
                [("B", (3 * H,))]
                + [(f"{g}/{p}", (H,)) for g in ("transform", "forget", "output")
                   for p in ("gamma", "beta")]
                + [("W_F_diag", (H,)), ("W_O_diag", (H,)), ("state/gamma", (H,)),
                   ("state/beta", (H,))])
        + _shards("coupled_input_forget_gate_lstm_cell", "W_P", H, P, 2)),
    "glstm_groups_proj": (
        lambda rc: rc.GLSTMCell(H, num_proj=P, number_of_groups=2),
        under("glstm_cell", [("group0/kernel", (2 + 1, 2 * H)), ("group1/kernel", (2 + 1, 2 * H)),
                             ("bias_i", (H,)), ("bias_j", (H,)), ("bias_f", (H,)),
                             ("bias_o", (H,)), ("projection/kernel", (H, P))])),
    "indy_lstm": (
        lambda rc: rc.IndyLSTMCell(H),
        under("indy_lstm_cell", [("kernel_w", (4, 4 * H)), ("kernel_u", (1, 4 * H)),
                                 ("bias", (4 * H,))])),
    "ugrnn": (
        lambda rc: rc.UGRNNCell(H),
        under("ugrnn_cell", [("kernel", (4 + H, 2 * H)), ("bias", (2 * H,))])),
    "intersection_in_proj": (
        lambda rc: rc.IntersectionRNNCell(H + 1, num_in_proj=H + 1),
        under("intersection_rnn_cell", [("in_projection/kernel", (4, H + 1)),
                                        ("in_projection/bias", (H + 1,)),
                                        ("kernel", (2 * H + 2, 4 * H + 4)),
                                        ("bias", (4 * H + 4,))])),
}


@pytest.mark.parametrize("case", sorted(OTHER_CELLS))
def test_other_cells_variables(tf, graph_session, cells, case):
    """TF 1.x's names: W_<k> shards, B, W_F_diag; group<k>/kernel, bias_i..o; kernel_w/kernel_u; ..."""
    build, table = OTHER_CELLS[case]
    cell = build(cells[0])
    x = tf.constant(_x(steps=1, depth=4)[:, 0])  # (B, 4): divisible into two groups
    cell(x, cell.zero_state(B, tf.float32))
    assert variables(tf) == table


# TF 1.x's rnn_cell_test.py: every variable 0.5, inputs [[1]*4, [2]*4, [3]*4], state 0.1.
TF1_OTHER_PUBLISHED = {
    "cifg_concatenated_state": (
        lambda rc: rc.CoupledInputForgetGateLSTMCell(2, forget_bias=1.0, state_is_tuple=False), 4,
        [[0.121753, 0.121753], [0.103349, 0.103349], [0.100178, 0.100178]],
        [[0.137523, 0.137523, 0.121753, 0.121753], [0.105450, 0.105450, 0.103349, 0.103349],
         [0.100742, 0.100742, 0.100178, 0.100178]]),
    "ugrnn": (
        lambda rc: rc.UGRNNCell(2), 2,
        [[0.13752282, 0.13752282], [0.10545051, 0.10545051], [0.10074195, 0.10074195]],
        [[0.13752282, 0.13752282], [0.10545051, 0.10545051], [0.10074195, 0.10074195]]),
    "intersection": (
        lambda rc: rc.IntersectionRNNCell(2, num_in_proj=2), 2,
        [[2.00431061, 2.00431061], [4.00060606, 4.00060606], [6.00008249, 6.00008249]],
        [[0.13752282, 0.13752282], [0.10545051, 0.10545051], [0.10074195, 0.10074195]]),
}


@pytest.mark.parametrize("case", sorted(TF1_OTHER_PUBLISHED))
def test_other_cells_tf1_published_values(tf, graph_session, cells, case):
    """The values TF 1.x's own tests pinned for these cells."""
    v1 = tf.compat.v1
    _, sess = graph_session
    build, state_depth, want_output, want_state = TF1_OTHER_PUBLISHED[case]
    with v1.variable_scope("root", initializer=v1.constant_initializer(0.5)):
        x = tf.constant(np.repeat([[1.0], [2.0], [3.0]], 4, axis=1).astype(np.float32))
        output, state = build(cells[0])(x, tf.constant(np.full((3, state_depth), 0.1, np.float32)))
    sess.run(v1.global_variables_initializer())
    output, state = sess.run([output, state])
    np.testing.assert_allclose(output, want_output, rtol=1e-5)
    np.testing.assert_allclose(state, want_state, rtol=1e-5)


def test_glstm_with_one_group_is_lstm_cell(tf, graph_session, cells):
    """TF 1.x's check: one group, constant weights: LSTMCell's outputs and state."""
    v1 = tf.compat.v1
    _, sess = graph_session
    with v1.variable_scope("root", initializer=v1.constant_initializer(0.5)):
        x = tf.ones([B, H])
        state = v1.nn.rnn_cell.LSTMStateTuple(tf.fill([B, H], 0.2), tf.fill([B, H], -0.3))
        glstm = cells[0].GLSTMCell(H, number_of_groups=1)(x, state)
        lstm = v1.nn.rnn_cell.LSTMCell(H)(x, state)
    sess.run(v1.global_variables_initializer())
    for got, want in zip(tf.nest.flatten(sess.run(glstm)), tf.nest.flatten(sess.run(lstm))):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def np_cifg(x, state, w, s, forget_bias=1.0):
    """CIFG with peepholes, a projection and layer norm; W and W_P in two row blocks each."""
    c, m = state

    def ln(z, name):
        return np_layer_norm(z, w[f"{s}/{name}/gamma:0"], w[f"{s}/{name}/beta:0"])

    kernel = np.concatenate([w[f"{s}/W_0:0"], w[f"{s}/W_1:0"]], 0)
    j, f, o = np.split(np.concatenate([x, m], 1) @ kernel, 3, axis=-1)
    j, f, o = ln(j, "transform"), ln(f, "forget"), ln(o, "output")
    f = _sigmoid(f + forget_bias + w[f"{s}/W_F_diag:0"] * c)
    c = ln(f * c + (1 - f) * np.tanh(j), "state")
    m = _sigmoid(o + w[f"{s}/W_O_diag:0"] * c) * np.tanh(c)
    m = m @ np.concatenate([w[f"{s}/W_P_0:0"], w[f"{s}/W_P_1:0"]], 0)
    return m, (c, m)


def np_glstm(x, state, w, s, groups=2, forget_bias=1.0):
    """G-LSTM: group k maps the k-th slices of x and m to the k-th slices of i, j, f, o."""
    c, m = state
    parts = [np.split(np.concatenate([x_k, m_k], 1) @ w[f"{s}/group{k}/kernel:0"], 4, axis=-1)
             for k, (x_k, m_k) in enumerate(zip(np.split(x, groups, 1), np.split(m, groups, 1)))]
    i, j, f, o = (np.concatenate([p[n] for p in parts], 1) + w[f"{s}/bias_{g}:0"]
                  for n, g in enumerate("ijfo"))
    c = _sigmoid(f + forget_bias) * c + _sigmoid(i) * np.tanh(j)
    m = (_sigmoid(o) * np.tanh(c)) @ w[f"{s}/projection/kernel:0"]
    return m, (c, m)


def np_indy_lstm(x, state, w, s, forget_bias=1.0):
    """IndyLSTM: x @ kernel_w plus the diagonal recurrence tile(h, 4) * kernel_u."""
    c, h = state
    gates = x @ w[f"{s}/kernel_w:0"] + np.tile(h, 4) * w[f"{s}/kernel_u:0"] + w[f"{s}/bias:0"]
    i, j, f, o = np.split(gates, 4, axis=-1)
    c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * _sigmoid(o)
    return h, (c, h)


ONE_STEP = {  # name -> (case in OTHER_CELLS, oracle, weight to perturb)
    "cifg_peepholes_proj_ln": (np_cifg, "W_O_diag"),
    "glstm_groups_proj": (np_glstm, "bias_f"),
    "indy_lstm": (np_indy_lstm, "kernel_u"),
}


@pytest.mark.parametrize("case", sorted(ONE_STEP))
def test_other_cells_one_step_matches_numpy(tf, graph_session, cells, case):
    """One call on random weights and a random state equals the NumPy equations."""
    _, sess = graph_session
    oracle_fn, perturb = ONE_STEP[case]
    cell = OTHER_CELLS[case][0](cells[0])
    rng = np.random.default_rng(9)
    x = rng.uniform(-1, 1, (B, 4)).astype(np.float32)
    state = tuple(rng.uniform(-1, 1, (B, n)).astype(np.float32) for n in cell.state_size)
    output, new_state = cell(tf.constant(x), type(cell.state_size)(*map(tf.constant, state)))
    w = randomize(tf, sess)
    output, new_state = sess.run([output, new_state])
    scope = OTHER_CELLS[case][1][0][0].split("/")[0]

    def oracle(w):
        y, (c, _) = oracle_fn(x, state, w, scope)
        return [y, c]

    assert_oracle([output, new_state[0]], oracle, w, f"{scope}/{perturb}:0")


def test_other_cells_reject_bad_arguments(tf, graph_session, cells):
    """TF 1.x's errors: IntersectionRNN needs num_in_proj for another input depth; GLSTM divisibility."""
    rnn_cell = cells[0]
    x = tf.ones([B, 3])
    with pytest.raises(ValueError, match="Must have input size == output size for Intersection "
                                         "RNN. To fix, num_in_proj should be set to num_units at "
                                         "cell init"):
        rnn_cell.IntersectionRNNCell(2)(x, tf.zeros([B, 2]))
    with pytest.raises(ValueError, match="num_units must be divisible by number_of_groups"):
        rnn_cell.GLSTMCell(5, number_of_groups=2)
    with pytest.raises(ValueError, match="num_proj must be divisible by number_of_groups"):
        rnn_cell.GLSTMCell(4, num_proj=3, number_of_groups=2)
    cell = rnn_cell.GLSTMCell(4, number_of_groups=2)
    with pytest.raises(ValueError, match=r"input size \(3\) must be divisible by "
                                         r"number_of_groups \(2\)"):
        cell(x, cell.zero_state(B, tf.float32))


# ------------------------------------------------------------- stacked bidirectional RNNs

LAYERS = (3, 2)  # units of layer 0 and layer 1


def _lstm_table(depth, units):
    return [("lstm_cell/kernel", (depth + units, 4 * units)), ("lstm_cell/bias", (4 * units,))]


def _stack_names(inner):
    """The variables of a 2-layer stack of LSTMCells; ``inner`` between cell_k and fw/bw."""
    names = []
    depth = I
    for k, units in enumerate(LAYERS):
        for direction in ("fw", "bw"):
            names += under(f"stack_bidirectional_rnn/cell_{k}/{inner}{direction}",
                           _lstm_table(depth, units))
        depth = 2 * units
    return names


def _stack_cells(tf):
    lstm = tf.compat.v1.nn.rnn_cell.LSTMCell
    return [lstm(u) for u in LAYERS], [lstm(u) for u in LAYERS]


def test_stack_bidirectional_dynamic_rnn_equals_chained_layers(tf, graph_session, cells):
    """Variables cell_k/bidirectional_rnn/{fw,bw}; equal to the layers chained by hand (with lengths)."""
    v1 = tf.compat.v1
    _, sess = graph_session
    x = tf.constant(_x())
    lengths = LENGTHS
    outputs, states_fw, states_bw = cells[2].stack_bidirectional_dynamic_rnn(
        *_stack_cells(tf), x, dtype=tf.float32, sequence_length=lengths)
    assert variables(tf) == _stack_names("bidirectional_rnn/")
    assert isinstance(states_fw, tuple) and isinstance(states_bw, tuple)
    assert len(states_fw) == len(states_bw) == len(LAYERS)
    assert outputs.shape.as_list() == [B, T, 2 * LAYERS[-1]]

    layer, by_hand_fw, by_hand_bw = x, [], []
    with v1.variable_scope("by_hand"):
        for k, (fw, bw) in enumerate(zip(*_stack_cells(tf))):
            with v1.variable_scope(f"cell_{k}"):
                (y_fw, y_bw), (s_fw, s_bw) = v1.nn.bidirectional_dynamic_rnn(
                    fw, bw, layer, dtype=tf.float32, sequence_length=lengths)
            layer = tf.concat([y_fw, y_bw], 2)
            by_hand_fw.append(s_fw)
            by_hand_bw.append(s_bw)
    w = randomize(tf, sess)
    stack = "stack_bidirectional_rnn/"
    load(tf, sess, {f"by_hand/{n[len(stack):]}": value for n, value in w.items()
                    if n.startswith(stack)})
    got, want = sess.run([(outputs, states_fw, states_bw), (layer, by_hand_fw, by_hand_bw)])
    for g, e in zip(tf.nest.flatten(got), tf.nest.flatten(want)):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)
    # The comparison can fail: move one weight of layer 1 on the hand-built side.
    name = "by_hand/cell_1/bidirectional_rnn/bw/lstm_cell/bias:0"
    load(tf, sess, {name: w[name.replace("by_hand", "stack_bidirectional_rnn")] + 0.1})
    assert not np.allclose(sess.run(outputs), sess.run(layer), atol=1e-4)


def test_stack_bidirectional_rnn_static_equals_dynamic(tf, graph_session, cells):
    """The static stack (variables cell_k/{fw,bw}, lists of T outputs) equals the dynamic one."""
    v1 = tf.compat.v1
    _, sess = graph_session
    x = _x()
    with v1.variable_scope("static"):
        outputs, states_fw, states_bw = cells[2].stack_bidirectional_rnn(
            *_stack_cells(tf), [tf.constant(x[:, t]) for t in range(T)], dtype=tf.float32)
    assert variables(tf) == [(f"static/{n}", s) for n, s in _stack_names("")]
    assert isinstance(outputs, list) and len(outputs) == T
    with v1.variable_scope("dynamic"):
        dyn_outputs, dyn_fw, dyn_bw = cells[2].stack_bidirectional_dynamic_rnn(
            *_stack_cells(tf), tf.constant(x), dtype=tf.float32)
    w = randomize(tf, sess)
    load(tf, sess, {n.replace("static/", "dynamic/").replace("/fw/", "/bidirectional_rnn/fw/")
                    .replace("/bw/", "/bidirectional_rnn/bw/"): value
                    for n, value in w.items() if n.startswith("static/")})
    got, want = sess.run([(outputs, states_fw, states_bw), (dyn_outputs, dyn_fw, dyn_bw)])
    np.testing.assert_allclose(np.stack(got[0], 1), want[0], rtol=1e-6, atol=1e-7)
    for g, e in zip(tf.nest.flatten(got[1:]), tf.nest.flatten(want[1:])):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)
    name = "dynamic/stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/lstm_cell/kernel:0"
    load(tf, sess, {name: w[name.replace("dynamic/", "static/").replace("bidirectional_rnn/fw",
                                                                          "fw")] + 0.1})
    assert not np.allclose(np.stack(sess.run(outputs), 1), sess.run(dyn_outputs), atol=1e-4)


def test_stack_bidirectional_rejects_bad_arguments(tf, graph_session, cells):
    """TF 1.x's checks: non-empty lists of equal depth, initial states one per layer."""
    rnn = cells[2]
    fw, bw = _stack_cells(tf)
    x = tf.constant(_x())
    for fn in (rnn.stack_bidirectional_dynamic_rnn, rnn.stack_bidirectional_rnn):
        with pytest.raises(ValueError, match="at least one fw cell"):
            fn([], bw, x)
        with pytest.raises(ValueError, match="cells_bw must be a list"):
            fn(fw, tuple(bw), x)
        with pytest.raises(ValueError, match="same depth"):
            fn(fw, bw[:1], x)
        with pytest.raises(ValueError, match="initial_states_fw must be a list"):
            fn(fw, bw, x, initial_states_fw=[None])


# ------------------------------------------------------------------- tf.contrib.cudnn_rnn


def np_cudnn_lstm(x, state, p):
    """cuDNN's LSTM on canonical weights: W_g (H, I), R_g (H, H), b_W g, b_R g, gates i, f, c, o."""
    c, h = state

    def pre(g):
        return x @ p[f"W_{g}"].T + h @ p[f"R_{g}"].T + p[f"bW_{g}"] + p[f"bR_{g}"]

    i, f, j, o = _sigmoid(pre("i")), _sigmoid(pre("f")), np.tanh(pre("c")), _sigmoid(pre("o"))
    c = f * c + i * j
    h = o * np.tanh(c)
    return h, (c, h)


def np_cudnn_gru(x, h, p):
    """cuDNN's GRU on canonical weights: gates r, u; the reset gate scales h @ R_h.T + b_R h."""
    r = _sigmoid(x @ p["W_r"].T + h @ p["R_r"].T + p["bW_r"] + p["bR_r"])
    u = _sigmoid(x @ p["W_u"].T + h @ p["R_u"].T + p["bW_u"] + p["bR_u"])
    h_new = np.tanh(x @ p["W_h"].T + p["bW_h"] + r * (h @ p["R_h"].T + p["bR_h"]))
    h = (1 - u) * h_new + u * h
    return h, h


def canonical(gates, depth, seed):
    """Random cuDNN canonical weights for ``gates``: W_g (H, depth), R_g (H, H), bW_g, bR_g (H,)."""
    rng = np.random.default_rng(seed)
    p = {}
    for g in gates:
        p[f"W_{g}"] = rng.uniform(-0.7, 0.7, (H, depth))
        p[f"R_{g}"] = rng.uniform(-0.7, 0.7, (H, H))
        p[f"bW_{g}"], p[f"bR_{g}"] = rng.uniform(-0.7, 0.7, (2, H))
    return {k: v.astype(np.float32) for k, v in p.items()}


def lstm_from_canonical(p, prefix):
    """TF 1.x's conversion: kernel rows [input; recurrent], columns i, c, f, o; biases summed."""
    order = ("i", "c", "f", "o")
    kernel = np.concatenate([np.concatenate([p[f"W_{g}"], p[f"R_{g}"]], 1) for g in order], 0).T
    bias = np.concatenate([p[f"bW_{g}"] + p[f"bR_{g}"] for g in order])
    return {f"{prefix}/kernel:0": kernel, f"{prefix}/bias:0": bias}


def gru_from_canonical(p, prefix):
    """TF 1.x's conversion: gates/kernel columns r, u; the candidate's two projections apart."""
    gates = np.concatenate([np.concatenate([p[f"W_{g}"], p[f"R_{g}"]], 1) for g in "ru"], 0).T
    return {f"{prefix}/gates/kernel:0": gates,
            f"{prefix}/gates/bias:0": np.concatenate([p[f"bW_{g}"] + p[f"bR_{g}"] for g in "ru"]),
            f"{prefix}/candidate/input_projection/kernel:0": p["W_h"].T,
            f"{prefix}/candidate/hidden_projection/kernel:0": p["R_h"].T,
            f"{prefix}/candidate/input_projection/bias:0": p["bW_h"],
            f"{prefix}/candidate/hidden_projection/bias:0": p["bR_h"]}


def test_cudnn_compatible_lstm_cell_restores_canonical_weights(tf, graph_session, cudnn):
    """Two layers under TF 1.x's canonical names; cuDNN's equations on the converted weights."""
    v1 = tf.compat.v1
    _, sess = graph_session
    x = _x()
    cell = v1.nn.rnn_cell.MultiRNNCell([cudnn.CudnnCompatibleLSTMCell(H) for _ in range(2)])
    with v1.variable_scope("cudnn_lstm"):
        outputs, state = v1.nn.dynamic_rnn(cell, tf.constant(x), dtype=tf.float32)
    prefix = "cudnn_lstm/rnn/multi_rnn_cell/cell_{}/cudnn_compatible_lstm_cell"
    assert variables(tf) == [
        (f"{prefix.format(k)}/{name}:0", shape) for k, depth in enumerate((I, H))
        for name, shape in (("kernel", (depth + H, 4 * H)), ("bias", (4 * H,)))]
    params = [canonical("ifco", I, seed=10), canonical("ifco", H, seed=11)]
    sess.run(v1.global_variables_initializer())
    load(tf, sess, {**lstm_from_canonical(params[0], prefix.format(0)),
                    **lstm_from_canonical(params[1], prefix.format(1))})
    outputs = sess.run(outputs)

    def oracle(p0):
        zeros = (np.zeros((B, H)), np.zeros((B, H)))
        ys, _ = np_rnn(lambda xt, s: np_cudnn_lstm(xt, s, p0), x, zeros)
        ys, _ = np_rnn(lambda xt, s: np_cudnn_lstm(xt, s, params[1]), ys, zeros)
        return [ys]

    assert_oracle([outputs], oracle, params[0], "bW_f")  # forget_bias 0: no +1 on f


def test_cudnn_compatible_gru_cell_restores_canonical_weights(tf, graph_session, cudnn):
    """TF 1.x's names and initial biases; cuDNN's GRU equations on the converted weights."""
    v1 = tf.compat.v1
    _, sess = graph_session
    x = _x()
    outputs, state = v1.nn.dynamic_rnn(cudnn.CudnnCompatibleGRUCell(H), tf.constant(x),
                                       dtype=tf.float32, sequence_length=LENGTHS)
    prefix = "rnn/cudnn_compatible_gru_cell"
    assert variables(tf) == under(prefix, [
        ("gates/kernel", (I + H, 2 * H)), ("gates/bias", (2 * H,)),
        ("candidate/input_projection/kernel", (I, H)),
        ("candidate/hidden_projection/kernel", (H, H)),
        ("candidate/input_projection/bias", (H,)), ("candidate/hidden_projection/bias", (H,))])
    sess.run(v1.global_variables_initializer())
    np.testing.assert_array_equal(read(tf, sess, f"{prefix}/gates/bias:0"), np.ones(2 * H))
    assert not read(tf, sess, f"{prefix}/candidate/hidden_projection/bias:0").any()
    params = canonical("ruh", I, seed=12)
    load(tf, sess, gru_from_canonical(params, prefix))
    outputs, state = sess.run([outputs, state])

    def oracle(p):
        ys, h = np_rnn(lambda xt, h: np_cudnn_gru(xt, h, p), x, np.zeros((B, H)), LENGTHS)
        return [ys, h]

    # bR_h sits inside r * (...): GRUCell's equations would not see it move this way.
    assert_oracle([outputs, state], oracle, params, "bR_h")


@pytest.mark.parametrize("name", ["CudnnLSTM", "CudnnGRU", "CudnnRNNTanh", "CudnnRNNRelu",
                                  "CudnnLSTMSaveable", "RNNParamsSaveable",
                                  "CudnnParamsFormatConverterGRU"])
def test_cudnn_layers_need_a_gpu(tf, cudnn, name):
    """Building a cuDNN layer says it needs a GPU this TensorFlow does not see; names the CPU cell."""
    instead = {"CudnnGRU": "CudnnCompatibleGRUCell", "CudnnRNNTanh": "BasicRNNCell",
               "CudnnRNNRelu": "activation=tf.nn.relu",
               "CudnnParamsFormatConverterGRU": "CudnnCompatibleGRUCell"}.get(
        name, "CudnnCompatibleLSTMCell")
    assert tf.config.list_physical_devices("GPU") == []
    with pytest.raises(cudnn.CudnnUnavailableError) as info:
        getattr(cudnn, name)(num_layers=1, num_units=4)
    message = str(info.value)
    assert message.startswith(f"tf.contrib.cudnn_rnn.{name} needs a CUDA GPU, which this "
                              f"TensorFlow does not see "
                              f"(tf.config.list_physical_devices('GPU') is empty); on CPU use ")
    assert instead in message


def test_cudnn_layers_with_a_gpu_say_tf1_lstm_lacks_them(tf, cudnn, monkeypatch):
    """With a GPU visible the message says plainly that tf1_lstm does not provide the layer."""
    monkeypatch.setattr(cudnn, "_gpu_visible", lambda: True)
    with pytest.raises(cudnn.CudnnUnavailableError,
                       match=r"tf\.contrib\.cudnn_rnn\.CudnnLSTM is not provided by tf1_lstm.*"
                             r"CudnnCompatibleLSTMCell"):
        cudnn.CudnnLSTM(1, 4)


def test_cudnn_module_names(tf, cudnn):
    """dir() lists TF 1.x's public names; an unknown name raises AttributeError naming the module."""
    assert {"CudnnCompatibleLSTMCell", "CudnnCompatibleGRUCell", "CudnnLSTM", "CudnnGRU",
            "CudnnRNNTanh", "CudnnRNNRelu", "CudnnLSTMSaveable", "RNNParamsSaveable",
            "CUDNN_RNN_BIDIRECTION"} <= set(dir(cudnn))
    assert "tf" not in dir(cudnn)
    with pytest.raises(AttributeError, match=r"module 'tf1_lstm\.contrib\.cudnn_rnn' .* has no "
                                             r"attribute 'CudnnNothing'"):
        cudnn.CudnnNothing  # noqa: B018


def test_contrib_rnn_serves_these_cells(tf, cells):
    """tf.contrib.rnn (the package facade) hands out these very objects."""
    from tf1_lstm.contrib import rnn as contrib_rnn

    rnn_cell, gru_ops, rnn = cells
    for module, names in ((rnn_cell, ["LayerNormBasicLSTMCell", "HighwayWrapper",
                                      "AttentionCellWrapper", "CoupledInputForgetGateLSTMCell",
                                      "GLSTMCell", "IndyLSTMCell", "UGRNNCell",
                                      "IntersectionRNNCell"]),
                          (gru_ops, ["GRUBlockCell", "GRUBlockCellV2"]),
                          (rnn, ["stack_bidirectional_rnn", "stack_bidirectional_dynamic_rnn"])):
        for name in names:
            assert getattr(contrib_rnn, name) is getattr(module, name)


# --------------------------------------------------------------- after disable_v2_behavior

MODE_B_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from tf1_lstm import tfcompat

    tf = tfcompat.load()
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
    from tf1_lstm.contrib import cudnn_rnn
    from tf1_lstm.contrib.rnn import gru_ops, rnn, rnn_cell

    v1.set_random_seed(0)
    B, T, I, H = 2, 3, 4, 4
    x = v1.placeholder(tf.float32, [B, T, I])
    lengths = v1.placeholder(tf.int32, [B])
    lstm = v1.nn.rnn_cell.LSTMCell
    cells = {
        "ln": rnn_cell.LayerNormBasicLSTMCell(H),
        "highway": rnn_cell.HighwayWrapper(v1.nn.rnn_cell.GRUCell(I)),
        "attention": rnn_cell.AttentionCellWrapper(lstm(H), 2),
        "cifg": rnn_cell.CoupledInputForgetGateLSTMCell(H, use_peepholes=True, num_proj=2,
                                                        layer_norm=True),
        "glstm": rnn_cell.GLSTMCell(H, number_of_groups=2),
        "indy": rnn_cell.IndyLSTMCell(H),
        "ugrnn": rnn_cell.UGRNNCell(H),
        "intersection": rnn_cell.IntersectionRNNCell(H),
        "gru_block": gru_ops.GRUBlockCell(H),
        "cudnn_gru": cudnn_rnn.CudnnCompatibleGRUCell(H),
    }
    outputs = {}
    for name, cell in cells.items():
        with v1.variable_scope(name):
            outputs[name] = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32,
                                              sequence_length=lengths)[0]
    with v1.variable_scope("stack"):
        outputs["stack"] = rnn.stack_bidirectional_dynamic_rnn(
            [lstm(H), lstm(2)], [lstm(H), lstm(2)], x, dtype=tf.float32,
            sequence_length=lengths)[0]
    # Every output pulled towards 0.5: one loss over all the cells.
    cost = tf.add_n([tf.reduce_mean(tf.square(y - 0.5)) for y in outputs.values()])
    sgd = v1.train.GradientDescentOptimizer(0.5)
    grads_and_vars = sgd.compute_gradients(cost)
    train = sgd.apply_gradients([(g, v) for g, v in grads_and_vars if g is not None])
    feed = {x: np.random.default_rng(0).uniform(-1, 1, (B, T, I)), lengths: [3, 2]}
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        costs = [float(sess.run(cost, feed))]
        for _ in range(3):
            sess.run(train, feed)
            costs.append(float(sess.run(cost, feed)))
    print(json.dumps({
        "eager": tf.executing_eagerly(),
        "variable_ops": sorted({v.op.type for v in v1.global_variables()}),
        "missing_gradients": [v.name for g, v in grads_and_vars if g is None],
        "ln_names": [v.name for v in v1.global_variables() if v.name.startswith("ln/")],
        "costs": costs,
    }))
""")


@pytest.mark.subprocess
def test_after_disable_v2_behavior_the_cells_train(tmp_path):
    """After disable_v2_behavior (ref variables, control flow v1) every cell here trains."""
    script = tmp_path / "mode_b.py"
    script.write_text(MODE_B_SCRIPT, encoding="utf-8")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["eager"] is False
    assert report["variable_ops"] == ["VariableV2"]  # TF1 ref variables, not resource handles
    # As in TF 1.x, CIFG with layer_norm creates its bias B but does not use it.
    assert report["missing_gradients"] == ["cifg/rnn/coupled_input_forget_gate_lstm_cell/B:0"]
    assert report["ln_names"] == [name for name, _ in under("ln/rnn/layer_norm_basic_lstm_cell", [
        ("kernel", None)] + [(f"{g}/{p}", None) for g in ("input", "transform", "forget", "output",
                                                          "state") for p in ("gamma", "beta")])]
    costs = report["costs"]
    assert all(later < earlier for earlier, later in zip(costs, costs[1:])), costs
