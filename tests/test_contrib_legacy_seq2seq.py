"""tf.contrib.legacy_seq2seq: TF 1.x's variable names, shapes and numbers, on today's TensorFlow.

The NumPy oracles below restate the cells' and the attention decoder's
equations (as in the module docstrings) and run on the weights read back from
the session. Shape legend: B batch, T steps, I input depth, H units, A
attention length, D attention size, V symbols, E embedding size.
"""

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def s2s(tf):
    """tf1_lstm.contrib.legacy_seq2seq (imported after TensorFlow is set up)."""
    from tf1_lstm.contrib import legacy_seq2seq

    return legacy_seq2seq


# ---------------------------------------------------------------- helpers


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_basic_lstm(x, state, w, scope, forget_bias=1.0):
    """BasicLSTMCell: gates i, j, f, o from concat([x, h]) @ kernel + bias."""
    c, h = state
    gates = np.concatenate([x, h], 1) @ w[f"{scope}/kernel:0"] + w[f"{scope}/bias:0"]  # (B, 4H)
    i, j, f, o = np.split(gates, 4, axis=-1)
    c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * _sigmoid(o)
    return h, (c, h)


def np_gru(x, h, w, scope):
    """GRUCell: r, u from the gates, then the candidate from concat([x, r * h])."""
    gates = _sigmoid(np.concatenate([x, h], 1) @ w[f"{scope}/gates/kernel:0"]
                     + w[f"{scope}/gates/bias:0"])  # (B, 2H)
    r, u = np.split(gates, 2, axis=-1)
    candidate = np.tanh(np.concatenate([x, r * h], 1) @ w[f"{scope}/candidate/kernel:0"]
                        + w[f"{scope}/candidate/bias:0"])  # (B, H)
    return u * h + (1 - u) * candidate


def np_crossent(logits, targets):
    """Sparse softmax cross-entropy, (B, V) and (B,) -> (B,)."""
    log_p = logits - logits.max(1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(1, keepdims=True))
    return -log_p[np.arange(len(targets)), targets]


def variable_shapes(tf):
    """TF name -> shape of every trainable variable of the default graph."""
    return {v.name: tuple(v.shape.as_list()) for v in tf.compat.v1.trainable_variables()}


def randomize(tf, sess, seed=0, scale=0.8):
    """Initializes, then assigns U(-scale, scale) to every trainable variable; name -> value."""
    v1 = tf.compat.v1
    rng = np.random.default_rng(seed)
    sess.run(v1.global_variables_initializer())
    values = {v.name: rng.uniform(-scale, scale, v.shape.as_list()).astype(np.float32)
              for v in v1.trainable_variables()}
    sess.run([v.assign(values[v.name]) for v in v1.trainable_variables()])
    return values


def lstm(tf, units):
    return tf.compat.v1.nn.rnn_cell.BasicLSTMCell(units)


def gru(tf, units):
    return tf.compat.v1.nn.rnn_cell.GRUCell(units)


def ids(tf, values):
    """One int32 [B] constant per step."""
    return [tf.constant(v, tf.int32) for v in values]


# ------------------------------------------------------ variable names and shapes

# name -> (builder(tf, s2s) -> (outputs, state), {variable: shape}, output shape per step).
# Sizes: B 2, I 3, H 4, V_enc 6, V_dec 7, E 5.
B, I, H, V_ENC, V_DEC, E = 2, 3, 4, 6, 7, 5


def _floats(tf, steps):
    return [tf.constant(np.full((B, I), 0.1 * (t + 1), np.float32)) for t in range(steps)]


GRU_VARS = {"gru_cell/gates/kernel:0": (I + H, 2 * H), "gru_cell/gates/bias:0": (2 * H,),
            "gru_cell/candidate/kernel:0": (I + H, H), "gru_cell/candidate/bias:0": (H,)}


def _under(prefix, table):
    return {f"{prefix}/{name}": shape for name, shape in table.items()}


def _rnnlm(tf, s2s):
    cell = tf.compat.v1.nn.rnn_cell.MultiRNNCell([lstm(tf, H), lstm(tf, H)])
    return s2s.rnn_decoder(_floats(tf, 3), cell.zero_state(B, tf.float32), cell, scope="rnnlm")


def _basic(tf, s2s):
    return s2s.basic_rnn_seq2seq(_floats(tf, 2), _floats(tf, 3), gru(tf, H))


def _tied(tf, s2s):
    return s2s.tied_rnn_seq2seq(_floats(tf, 2), _floats(tf, 3), gru(tf, H))


def _embedding_rnn(tf, s2s):
    return s2s.embedding_rnn_seq2seq(ids(tf, [[1, 2]] * 2), ids(tf, [[0, 3]] * 3), lstm(tf, H),
                                     V_ENC, V_DEC, E)


def _embedding_tied(tf, s2s):
    return s2s.embedding_tied_rnn_seq2seq(ids(tf, [[1, 2]] * 2), ids(tf, [[0, 3]] * 3),
                                          lstm(tf, H), V_DEC, E, num_decoder_symbols=V_ENC)


def _attention_two_heads(tf, s2s):
    states = tf.constant(np.ones((B, 5, 6), np.float32))  # (B, A, D)
    return s2s.attention_decoder(_floats(tf, 3), tf.zeros([B, H]), states, gru(tf, H),
                                 output_size=V_DEC, num_heads=2)


def _embedding_attention(tf, s2s):
    return s2s.embedding_attention_seq2seq(ids(tf, [[1, 2]] * 2), ids(tf, [[0, 3]] * 3),
                                           gru(tf, H), V_ENC, V_DEC, E)


def _one2many(tf, s2s):
    outputs, states = s2s.one2many_rnn_seq2seq(
        ids(tf, [[1, 2]] * 2), {"0": ids(tf, [[0, 3]] * 3)}, lstm(tf, H), {"0": lstm(tf, H)},
        V_ENC, {"0": V_DEC}, E)
    return outputs["0"], states["0"]


ELSTM = {"basic_lstm_cell/kernel:0": (E + H, 4 * H), "basic_lstm_cell/bias:0": (4 * H,)}
EGRU = {"gru_cell/gates/kernel:0": (E + H, 2 * H), "gru_cell/gates/bias:0": (2 * H,),
        "gru_cell/candidate/kernel:0": (E + H, H), "gru_cell/candidate/bias:0": (H,)}

# The translate tutorial's model: attention over the encoder outputs (D = H), decoder
# outputs projected to V_DEC logits by the output projection wrapper.
EAS = "embedding_attention_seq2seq"
EAS_DEC = f"{EAS}/embedding_attention_decoder/attention_decoder"
EAS_VARS = {
    f"{EAS}/rnn/embedding_wrapper/embedding:0": (V_ENC, E),
    **_under(f"{EAS}/rnn/embedding_wrapper", EGRU),
    f"{EAS}/embedding_attention_decoder/embedding:0": (V_DEC, E),
    f"{EAS_DEC}/AttnW_0:0": (1, 1, H, H),
    f"{EAS_DEC}/AttnV_0:0": (H,),
    f"{EAS_DEC}/kernel:0": (E + H, E),
    f"{EAS_DEC}/bias:0": (E,),
    **_under(f"{EAS_DEC}/output_projection_wrapper", EGRU),
    f"{EAS_DEC}/output_projection_wrapper/kernel:0": (H, V_DEC),
    f"{EAS_DEC}/output_projection_wrapper/bias:0": (V_DEC,),
    f"{EAS_DEC}/Attention_0/kernel:0": (H, H),  # the query is the state, depth H
    f"{EAS_DEC}/Attention_0/bias:0": (H,),
    f"{EAS_DEC}/AttnOutputProjection/kernel:0": (V_DEC + H, V_DEC),
    f"{EAS_DEC}/AttnOutputProjection/bias:0": (V_DEC,),
}

ERS = "embedding_rnn_seq2seq"
ERS_DEC = f"{ERS}/embedding_rnn_decoder/rnn_decoder/output_projection_wrapper"
ETS = "embedding_tied_rnn_seq2seq"
ETS_CELL = f"{ETS}/combined_tied_rnn_seq2seq/tied_rnn_seq2seq/output_projection_wrapper"
ONE = "one2many_rnn_seq2seq"

NAME_CASES = {
    # char-rnn's decoder: rnn_decoder(..., scope="rnnlm") over a MultiRNNCell.
    "rnn_decoder_rnnlm": (_rnnlm, {
        "rnnlm/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0": (I + H, 4 * H),
        "rnnlm/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0": (4 * H,),
        "rnnlm/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0": (2 * H, 4 * H),
        "rnnlm/multi_rnn_cell/cell_1/basic_lstm_cell/bias:0": (4 * H,)}, (B, H)),
    "basic_rnn_seq2seq": (_basic, {**_under("basic_rnn_seq2seq/rnn", GRU_VARS),
                                   **_under("basic_rnn_seq2seq/rnn_decoder", GRU_VARS)}, (B, H)),
    "tied_rnn_seq2seq": (_tied, _under("combined_tied_rnn_seq2seq/tied_rnn_seq2seq", GRU_VARS),
                         (B, H)),
    "embedding_rnn_seq2seq": (_embedding_rnn, {
        f"{ERS}/rnn/embedding_wrapper/embedding:0": (V_ENC, E),
        **_under(f"{ERS}/rnn/embedding_wrapper", ELSTM),
        f"{ERS}/embedding_rnn_decoder/embedding:0": (V_DEC, E),
        **_under(ERS_DEC, ELSTM),
        f"{ERS_DEC}/kernel:0": (H, V_DEC), f"{ERS_DEC}/bias:0": (V_DEC,)}, (B, V_DEC)),
    "embedding_tied_rnn_seq2seq": (_embedding_tied, {
        f"{ETS}/embedding:0": (V_DEC, E), **_under(ETS_CELL, ELSTM),
        f"{ETS_CELL}/kernel:0": (H, V_ENC), f"{ETS_CELL}/bias:0": (V_ENC,)}, (B, V_ENC)),
    "attention_decoder_two_heads": (_attention_two_heads, {
        "attention_decoder/AttnW_0:0": (1, 1, 6, 6), "attention_decoder/AttnV_0:0": (6,),
        "attention_decoder/AttnW_1:0": (1, 1, 6, 6), "attention_decoder/AttnV_1:0": (6,),
        "attention_decoder/kernel:0": (I + 2 * 6, I), "attention_decoder/bias:0": (I,),
        **_under("attention_decoder", GRU_VARS),
        "attention_decoder/Attention_0/kernel:0": (H, 6),
        "attention_decoder/Attention_0/bias:0": (6,),
        "attention_decoder/Attention_1/kernel:0": (H, 6),
        "attention_decoder/Attention_1/bias:0": (6,),
        "attention_decoder/AttnOutputProjection/kernel:0": (H + 2 * 6, V_DEC),
        "attention_decoder/AttnOutputProjection/bias:0": (V_DEC,)}, (B, V_DEC)),
    "embedding_attention_seq2seq": (_embedding_attention, EAS_VARS, (B, V_DEC)),
    "one2many_rnn_seq2seq": (_one2many, {
        f"{ONE}/rnn/embedding_wrapper/embedding:0": (V_ENC, E),
        **_under(f"{ONE}/rnn/embedding_wrapper", ELSTM),
        f"{ONE}/one2many_decoder_0/embedding_rnn_decoder/embedding:0": (V_DEC, E),
        **_under(f"{ONE}/one2many_decoder_0/embedding_rnn_decoder/rnn_decoder/"
                 f"output_projection_wrapper", {**ELSTM, "kernel:0": (H, V_DEC),
                                                "bias:0": (V_DEC,)})}, (B, V_DEC)),
}


# TF 1.15's parameters and defaults ("F32" stands for tf.float32).
SIGNATURES = {
    "rnn_decoder": "decoder_inputs initial_state cell loop_function=None scope=None",
    "basic_rnn_seq2seq": "encoder_inputs decoder_inputs cell dtype=F32 scope=None",
    "tied_rnn_seq2seq": "encoder_inputs decoder_inputs cell loop_function=None dtype=F32 "
                        "scope=None",
    "embedding_rnn_decoder": "decoder_inputs initial_state cell num_symbols embedding_size "
                             "output_projection=None feed_previous=False "
                             "update_embedding_for_previous=True scope=None",
    "embedding_rnn_seq2seq": "encoder_inputs decoder_inputs cell num_encoder_symbols "
                             "num_decoder_symbols embedding_size output_projection=None "
                             "feed_previous=False dtype=None scope=None",
    "embedding_tied_rnn_seq2seq": "encoder_inputs decoder_inputs cell num_symbols embedding_size "
                                  "num_decoder_symbols=None output_projection=None "
                                  "feed_previous=False dtype=None scope=None",
    "attention_decoder": "decoder_inputs initial_state attention_states cell output_size=None "
                         "num_heads=1 loop_function=None dtype=None scope=None "
                         "initial_state_attention=False",
    "embedding_attention_decoder": "decoder_inputs initial_state attention_states cell "
                                   "num_symbols embedding_size num_heads=1 output_size=None "
                                   "output_projection=None feed_previous=False "
                                   "update_embedding_for_previous=True dtype=None scope=None "
                                   "initial_state_attention=False",
    "embedding_attention_seq2seq": "encoder_inputs decoder_inputs cell num_encoder_symbols "
                                   "num_decoder_symbols embedding_size encoder_cell=None "
                                   "num_heads=1 output_projection=None feed_previous=False "
                                   "dtype=None scope=None initial_state_attention=False",
    "one2many_rnn_seq2seq": "encoder_inputs decoder_inputs_dict enc_cell dec_cells_dict "
                            "num_encoder_symbols num_decoder_symbols_dict embedding_size "
                            "feed_previous=False dtype=None scope=None",
    "sequence_loss_by_example": "logits targets weights average_across_timesteps=True "
                                "softmax_loss_function=None name=None",
    "sequence_loss": "logits targets weights average_across_timesteps=True "
                     "average_across_batch=True softmax_loss_function=None name=None",
    "model_with_buckets": "encoder_inputs decoder_inputs targets weights buckets seq2seq "
                          "softmax_loss_function=None per_example_loss=False name=None",
}


def test_public_names_and_tf1_signatures(tf, s2s):
    """The module exports TF 1.x's thirteen functions with TF 1.15's parameters and defaults."""
    assert sorted(s2s.__all__) == sorted(SIGNATURES)
    for name, expected in SIGNATURES.items():
        params = inspect.signature(getattr(s2s, name)).parameters.values()
        shown = {p.name: "F32" if p.default is tf.float32 else repr(p.default)
                 for p in params if p.default is not p.empty}
        got = " ".join(f"{p.name}={shown[p.name]}" if p.name in shown else p.name
                       for p in params)
        assert got == expected, name


@pytest.mark.parametrize("case", sorted(NAME_CASES))
def test_variable_names_and_output_shapes(tf, graph_session, s2s, case):
    """Each model creates TF1's variables (names and shapes) and outputs one [B, O] per step."""
    build, expected, step_shape = NAME_CASES[case]
    _, sess = graph_session
    outputs, state = build(tf, s2s)
    assert variable_shapes(tf) == expected
    sess.run(tf.compat.v1.global_variables_initializer())
    values = sess.run(outputs)
    assert [v.shape for v in values] == [step_shape] * 3
    assert all(np.isfinite(v).all() for v in values)
    flat_state = tf.nest.flatten(sess.run(state))
    assert all(part.shape[0] == B for part in flat_state)


# ------------------------------------------------------ numbers against NumPy


@pytest.mark.parametrize("looped", [False, True], ids=["given_inputs", "loop_function"])
def test_rnn_decoder_matches_numpy(tf, graph_session, s2s, looped):
    """outputs_t, state_t = cell(x_t, state_{t-1}); with loop_function x_t = f(output_{t-1}, t)."""
    _, sess = graph_session
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((B, I)).astype(np.float32) for _ in range(4)]
    c0, h0 = (rng.standard_normal((B, H)).astype(np.float32) for _ in range(2))
    back = rng.standard_normal((H, I)).astype(np.float32)  # loop_function's map (B, H) -> (B, I)
    steps_seen = []

    def loop_function(prev, t):
        steps_seen.append(t)
        return tf.matmul(prev, tf.constant(back))

    cell = lstm(tf, H)
    initial = tf.compat.v1.nn.rnn_cell.LSTMStateTuple(tf.constant(c0), tf.constant(h0))
    outputs, state = s2s.rnn_decoder([tf.constant(x) for x in xs], initial, cell,
                                     loop_function=loop_function if looped else None,
                                     scope="rnnlm")
    w = randomize(tf, sess)
    got_outputs, got_state = sess.run([outputs, state])

    expected, np_state = [], (c0, h0)
    for t, x in enumerate(xs):
        if looped and t > 0:
            x = expected[-1] @ back
        out, np_state = np_basic_lstm(x, np_state, w, "rnnlm/basic_lstm_cell")
        expected.append(out)
    assert steps_seen == ([1, 2, 3] if looped else [])
    np.testing.assert_allclose(np.stack(got_outputs), np.stack(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_state.c, np_state[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_state.h, np_state[1], rtol=1e-5, atol=1e-6)


def test_embedding_rnn_decoder_feed_previous_is_greedy(tf, graph_session, s2s):
    """feed_previous: x_t = embedding[argmax(output_{t-1} @ W + b)]; later inputs are ignored."""
    v1 = tf.compat.v1
    _, sess = graph_session
    rng = np.random.default_rng(2)
    proj_w = rng.standard_normal((H, V_DEC)).astype(np.float32)
    proj_b = rng.standard_normal(V_DEC).astype(np.float32)
    go = np.array([1, 4], np.int32)
    inputs = ids(tf, [go, [6, 6], [5, 5]])  # after GO: symbols a greedy decoder never reads
    outputs, _ = s2s.embedding_rnn_decoder(
        inputs, lstm(tf, H).zero_state(B, tf.float32), lstm(tf, H), V_DEC, E,
        output_projection=(tf.constant(proj_w), tf.constant(proj_b)), feed_previous=True)
    assert sorted(variable_shapes(tf)) == [
        "embedding_rnn_decoder/embedding:0",
        "embedding_rnn_decoder/rnn_decoder/basic_lstm_cell/bias:0",
        "embedding_rnn_decoder/rnn_decoder/basic_lstm_cell/kernel:0"]
    w = randomize(tf, sess)
    got = sess.run(outputs)

    embedding = w["embedding_rnn_decoder/embedding:0"]
    state = (np.zeros((B, H), np.float32),) * 2
    symbols, expected = go, []
    for _ in range(3):
        out, state = np_basic_lstm(embedding[symbols], state, w,
                                   "embedding_rnn_decoder/rnn_decoder/basic_lstm_cell")
        expected.append(out)
        symbols = np.argmax(out @ proj_w + proj_b, axis=1)
    np.testing.assert_allclose(np.stack(got), np.stack(expected), rtol=1e-5, atol=1e-6)
    assert v1.get_variable_scope().reuse is False


def _np_attention_decoder(w, xs, h0, states, initial_state_attention, scope="attention_decoder"):
    """One head over a GRU cell, as attention_decoder's docstring states it."""
    keys = states @ w[f"{scope}/AttnW_0:0"][0, 0]  # (B, A, D)
    v = w[f"{scope}/AttnV_0:0"]  # (D,)

    def attend(h):
        q = h @ w[f"{scope}/Attention_0/kernel:0"] + w[f"{scope}/Attention_0/bias:0"]  # (B, D)
        alpha = _softmax((v * np.tanh(keys + q[:, None, :])).sum(-1))  # (B, A)
        return (alpha[:, :, None] * states).sum(1)  # (B, D)

    read = attend(h0) if initial_state_attention else np.zeros(states[:, 0].shape, np.float32)
    h, outputs = h0, []
    for x in xs:
        x = np.concatenate([x, read], 1) @ w[f"{scope}/kernel:0"] + w[f"{scope}/bias:0"]
        h = np_gru(x, h, w, f"{scope}/gru_cell")
        read = attend(h)
        outputs.append(np.concatenate([h, read], 1) @ w[f"{scope}/AttnOutputProjection/kernel:0"]
                       + w[f"{scope}/AttnOutputProjection/bias:0"])
    return outputs, h


@pytest.mark.parametrize("initial_state_attention", [False, True])
def test_attention_decoder_matches_numpy(tf, graph_session, s2s, initial_state_attention):
    """One head: u_j = v . tanh(h_j W + s U + c), a = softmax(u), read = sum_j a_j h_j."""
    _, sess = graph_session
    rng = np.random.default_rng(3)
    A, D, O = 3, 2, 3  # noqa: N806 (the legend's names)
    xs = [rng.standard_normal((B, I)).astype(np.float32) for _ in range(3)]
    h0 = rng.standard_normal((B, H)).astype(np.float32)
    states = rng.standard_normal((B, A, D)).astype(np.float32)
    outputs, state = s2s.attention_decoder(
        [tf.constant(x) for x in xs], tf.constant(h0), tf.constant(states), gru(tf, H),
        output_size=O, initial_state_attention=initial_state_attention)
    w = randomize(tf, sess)
    got_outputs, got_state = sess.run([outputs, state])

    expected, h = _np_attention_decoder(w, xs, h0, states, initial_state_attention)
    np.testing.assert_allclose(np.stack(got_outputs), np.stack(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_state, h, rtol=1e-5, atol=1e-6)
    # The check can fail: the same oracle with one attention weight perturbed disagrees.
    w["attention_decoder/AttnV_0:0"] = w["attention_decoder/AttnV_0:0"] + 0.5
    perturbed, _ = _np_attention_decoder(w, xs, h0, states, initial_state_attention)
    assert not np.allclose(np.stack(got_outputs), np.stack(perturbed), rtol=1e-5, atol=1e-6)


def _loss_inputs(tf, rng):
    T, V = 3, 5  # noqa: N806
    logits = rng.standard_normal((T, B, V)).astype(np.float32)
    targets = rng.integers(0, V, (T, B)).astype(np.int32)
    weights = np.array([[1.0, 0.5], [0.0, 2.0], [1.0, 0.0]], np.float32)  # (T, B)
    as_list = lambda a: [tf.constant(x) for x in a]  # noqa: E731
    return (logits, targets, weights), (as_list(logits), as_list(targets), as_list(weights))


@pytest.mark.parametrize("average_across_timesteps", [True, False])
@pytest.mark.parametrize("custom_loss", [False, True], ids=["sparse_softmax", "custom"])
def test_sequence_losses_match_numpy(tf, graph_session, s2s, average_across_timesteps,
                                     custom_loss):
    """loss_b = sum_t w_tb CE_tb [/ (sum_t w_tb + 1e-12)]; sequence_loss sums over b [/ B]."""
    _, sess = graph_session
    (logits, targets, weights), tensors = _loss_inputs(tf, np.random.default_rng(4))
    calls = []

    def squared_error(*, labels, logits):  # keyword-only, as TF1 documented
        calls.append(labels)
        return tf.reduce_sum(tf.square(logits - tf.one_hot(labels, 5)), axis=1)

    loss_fn = squared_error if custom_loss else None
    by_example = s2s.sequence_loss_by_example(*tensors, average_across_timesteps,
                                              softmax_loss_function=loss_fn)
    losses = {across_batch: s2s.sequence_loss(*tensors, average_across_timesteps, across_batch,
                                              softmax_loss_function=loss_fn)
              for across_batch in (True, False)}
    got_by_example, got = sess.run([by_example, losses])
    assert len(calls) == (9 if custom_loss else 0)  # per step, for each of 3 losses

    if custom_loss:
        per_step = ((logits - np.eye(5, dtype=np.float32)[targets]) ** 2).sum(-1)  # (T, B)
    else:
        per_step = np.stack([np_crossent(lg, tg) for lg, tg in zip(logits, targets)])
    expected = (per_step * weights).sum(0)  # (B,)
    if average_across_timesteps:
        expected = expected / (weights.sum(0) + 1e-12)
    np.testing.assert_allclose(got_by_example, expected, rtol=1e-5)
    np.testing.assert_allclose(got[False], expected.sum(), rtol=1e-5)
    np.testing.assert_allclose(got[True], expected.sum() / B, rtol=1e-5)


def test_sequence_loss_reproduces_tf1_published_values(tf, graph_session, s2s):
    """TF 1.x's own test: logits i + 0.5 everywhere over 5 classes give log(5) per symbol."""
    _, sess = graph_session
    logits = [tf.constant(i + 0.5, shape=[2, 5]) for i in range(3)]
    targets = [tf.constant(i, tf.int32, shape=[2]) for i in range(3)]
    weights = [tf.constant(1.0, shape=[2]) for _ in range(3)]
    got = sess.run([
        s2s.sequence_loss(logits, targets, weights),
        s2s.sequence_loss(logits, targets, weights, average_across_timesteps=False),
        s2s.sequence_loss(logits, targets, weights, False, False),
        s2s.sequence_loss_by_example(logits, targets, weights),
        s2s.sequence_loss_by_example(logits, targets, weights, average_across_timesteps=False)])
    np.testing.assert_allclose(got[:3], [1.60944, 4.828314, 9.656628], rtol=1e-5)
    np.testing.assert_allclose(got[3], [1.609438] * 2, rtol=1e-5)
    np.testing.assert_allclose(got[4], [4.828314] * 2, rtol=1e-5)


def test_all_zero_weights_give_zero_loss_not_nan(tf, graph_session, s2s):
    """The 1e-12 in the denominator: a sequence with no weight contributes 0."""
    _, sess = graph_session
    logits = [tf.ones([2, 3])] * 2
    loss = s2s.sequence_loss_by_example(logits, ids(tf, [[0, 1]] * 2), [tf.zeros([2])] * 2)
    np.testing.assert_array_equal(sess.run(loss), [0.0, 0.0])


# ------------------------------------------------------ feed_previous, buckets, gradients


@pytest.mark.parametrize("model", ["embedding_rnn_seq2seq", "embedding_tied_rnn_seq2seq",
                                   "embedding_attention_seq2seq"])
def test_feed_previous_tensor_equals_bool(tf, graph_session, s2s, model):
    """A bool tensor builds both decoders on one set of variables and picks the bool's one."""
    v1 = tf.compat.v1
    fn = getattr(s2s, model)
    enc = ids(tf, [[1, 2], [3, 1]])
    dec = ids(tf, [[0, 0], [2, 3], [4, 1]])
    dec_zeros = ids(tf, [[0, 0]] * 3)
    symbols = (V_DEC, E) if model == "embedding_tied_rnn_seq2seq" else (V_ENC, V_DEC, E)
    flag = v1.placeholder(tf.bool, [])
    built = {}
    with v1.variable_scope("root"):
        for name, inputs, feed in (("cond", dec_zeros, flag), ("greedy", dec, True),
                                   ("teacher", dec, False)):
            with v1.variable_scope(name):
                built[name], _ = fn(enc, inputs, gru(tf, H), *symbols, feed_previous=feed)
    graph, sess = graph_session
    assert any(op.type in ("If", "StatelessIf") for op in graph.get_operations())  # cond v2
    models = {name: {v.name.split("/", 2)[2]: v for v in v1.trainable_variables(f"root/{name}/")}
              for name in built}
    grads = v1.gradients(tf.add_n([tf.reduce_sum(o) for o in built["cond"]]),
                         list(models["cond"].values()))
    assert None not in grads  # gradients flow through both branches to every variable
    assert all(sorted(m) == sorted(models["cond"]) for m in models.values())
    if model == "embedding_attention_seq2seq":
        assert {k: tuple(v.shape.as_list()) for k, v in models["cond"].items()} == EAS_VARS
    randomize(tf, sess)
    for name in ("greedy", "teacher"):  # give every model the cond model's weights
        sess.run([models[name][k].assign(v) for k, v in models["cond"].items()])

    greedy, cond_greedy = sess.run([built["greedy"], built["cond"]], {flag: True})
    cond_teacher, teacher_on_zeros = sess.run([built["cond"], built["teacher"]],
                                              {flag: False, dec[1]: [0, 0], dec[2]: [0, 0]})
    # Greedy decoding reads only the GO symbol: cond on zeros == greedy on other inputs.
    np.testing.assert_allclose(cond_greedy, greedy, rtol=1e-6)
    np.testing.assert_allclose(cond_teacher, teacher_on_zeros, rtol=1e-6)
    assert not np.allclose(cond_teacher, cond_greedy)  # the flag does switch decoders


@pytest.mark.parametrize("update", [False, True])
def test_update_embedding_for_previous(tf, graph_session, s2s, update):
    """Greedy decoding: with update_embedding_for_previous=False only the GO row gets gradient."""
    _, sess = graph_session
    go = ids(tf, [[2, 2]])[0]
    outputs, _ = s2s.embedding_rnn_decoder(
        [go] * 4, lstm(tf, V_DEC).zero_state(B, tf.float32), lstm(tf, V_DEC), V_DEC, E,
        feed_previous=True, update_embedding_for_previous=update)
    embedding = tf.compat.v1.trainable_variables("embedding_rnn_decoder/embedding")[0]
    grad = tf.compat.v1.gradients(tf.add_n([tf.reduce_sum(o) for o in outputs]), embedding)[0]
    randomize(tf, sess, seed=6)
    rows = np.abs(sess.run(tf.convert_to_tensor(grad))).sum(1)  # (V,)
    assert rows[2] > 0
    if update:
        assert np.count_nonzero(rows) > 1  # the fed-back symbols' rows learn too
    else:
        assert np.count_nonzero(rows) == 1


def test_model_with_buckets_shares_variables(tf, graph_session, s2s):
    """Buckets (2, 2) and (3, 3) build two models on one set of variables, each with its loss."""
    v1 = tf.compat.v1
    _, sess = graph_session
    enc = ids(tf, [[1, 2], [3, 1], [2, 2]])
    dec = ids(tf, [[0, 0], [2, 3], [4, 1]])
    targets = ids(tf, [[2, 3], [4, 1], [1, 1]])
    weights = [tf.constant([1.0, 0.5])] * 3

    def seq2seq(encoder_inputs, decoder_inputs):
        return s2s.embedding_attention_seq2seq(encoder_inputs, decoder_inputs, gru(tf, H),
                                               V_ENC, V_DEC, E)

    outputs, losses = s2s.model_with_buckets(enc, dec, targets, weights, [(2, 2), (3, 3)],
                                             seq2seq)
    with v1.variable_scope(v1.get_variable_scope(), reuse=True):  # as TF1, reuse is explicit
        _, per_example = s2s.model_with_buckets(enc, dec, targets, weights, [(3, 3)], seq2seq,
                                                per_example_loss=True, name="again")
    assert v1.get_variable_scope().reuse is False
    assert variable_shapes(tf) == EAS_VARS
    assert [len(o) for o in outputs] == [2, 3]
    assert losses[0].shape.as_list() == [] and per_example[0].shape.as_list() == [B]
    randomize(tf, sess)
    got_outputs, got_losses, got_per_example, t, wt = sess.run(
        [outputs, losses, per_example, targets, weights])
    for logits, loss, n in zip(got_outputs, got_losses, (2, 3)):
        per_step = np.stack([np_crossent(lg, tg) for lg, tg in zip(logits, t[:n])])  # (n, B)
        by_example = (per_step * wt[:n]).sum(0) / (np.sum(wt[:n], 0) + 1e-12)  # (B,)
        np.testing.assert_allclose(loss, by_example.sum() / B, rtol=1e-5)
    # The second call reused the variables, so its (3, 3) model is the first call's.
    np.testing.assert_allclose(got_per_example[0].sum() / B, got_losses[1], rtol=1e-5)


# ------------------------------------------------------ errors


def test_errors_say_what_was_expected(tf, graph_session, s2s):
    """Bad arguments raise ValueError / TypeError naming the parameter."""
    v1 = tf.compat.v1
    states = tf.zeros([B, 3, 2])
    x = [tf.zeros([B, I])]
    with pytest.raises(ValueError, match="decoder_inputs is empty"):
        s2s.attention_decoder([], tf.zeros([B, H]), states, gru(tf, H))
    with pytest.raises(ValueError, match="num_heads must be >= 1, got 0"):
        s2s.attention_decoder(x, tf.zeros([B, H]), states, gru(tf, H), num_heads=0)
    with pytest.raises(ValueError, match=r"depth \(dimension 2\) of attention_states"):
        s2s.attention_decoder(x, tf.zeros([B, H]), v1.placeholder(tf.float32, [B, 3, None]),
                              gru(tf, H))
    with pytest.raises(ValueError, match="could not infer the depth of input"):
        s2s.attention_decoder([v1.placeholder(tf.float32, [B, None])], tf.zeros([B, H]), states,
                              gru(tf, H))
    with pytest.raises(ValueError, match="got 2 logits, 1 targets and 2 weights"):
        s2s.sequence_loss_by_example([tf.zeros([B, 3])] * 2, ids(tf, [[0, 0]]),
                                     [tf.ones([B])] * 2)
    with pytest.raises(ValueError, match=r"targets has 2 entries, but the last bucket \(3, 3\)"):
        s2s.model_with_buckets(x * 3, x * 3, ids(tf, [[0, 0]] * 2), [tf.ones([B])] * 3,
                               [(3, 3)], None)
    with pytest.raises(ValueError, match=r"output_projection\[1\] \(b\) must have shape \[7\]"):
        s2s.embedding_rnn_decoder(ids(tf, [[0, 0]]), tf.zeros([B, H]), gru(tf, H), V_DEC, E,
                                  output_projection=(tf.zeros([H, V_DEC]), tf.zeros([V_DEC + 1])))
    with pytest.raises(ValueError, match="must have the same keys"):
        s2s.one2many_rnn_seq2seq(ids(tf, [[0, 0]]), {"a": []}, gru(tf, H), {"b": gru(tf, H)},
                                 V_ENC, {"a": V_DEC}, E)
    with pytest.raises(TypeError, match="enc_cell must be an RNNCell"):
        s2s.one2many_rnn_seq2seq(ids(tf, [[0, 0]]), {}, object(), {}, V_ENC, {}, E)


# ------------------------------------------------------ mode (b): TF1 behaviour switched on

MODE_B_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from tf1_lstm import tfcompat
    tf = tfcompat.load()
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
    from tf1_lstm.contrib import legacy_seq2seq

    v1.set_random_seed(0)
    B, T, V, E, H = 2, 3, 5, 4, 6
    words = [v1.placeholder(tf.int32, [B]) for _ in range(T + 1)]
    with v1.variable_scope("rnnlm"):
        embedding = v1.get_variable("embedding", [V, E])
        softmax_w = v1.get_variable("softmax_w", [H, V])
        softmax_b = v1.get_variable("softmax_b", [V])
    cell = v1.nn.rnn_cell.BasicLSTMCell(H)
    inputs = [v1.nn.embedding_lookup(embedding, w) for w in words[:T]]
    outputs, _ = legacy_seq2seq.rnn_decoder(inputs, cell.zero_state(B, tf.float32), cell,
                                            scope="rnnlm")
    logits = [tf.matmul(o, softmax_w) + softmax_b for o in outputs]
    loss = legacy_seq2seq.sequence_loss_by_example(logits, words[1:], [tf.ones([B])] * T)
    cost = tf.reduce_sum(loss) / B
    train = v1.train.GradientDescentOptimizer(0.5).minimize(cost)

    flag = v1.placeholder_with_default(False, [])
    attn, _ = legacy_seq2seq.embedding_attention_seq2seq(
        words[:2], words[:T], v1.nn.rnn_cell.GRUCell(3), V, V, E, feed_previous=flag)

    feed = {w: np.array([t % V, (t + 2) % V]) for t, w in enumerate(words)}
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        costs = [float(sess.run([cost, train], feed)[0]) for _ in range(4)]
        greedy = sess.run(attn, {**feed, flag: True})
        teacher = sess.run(attn, feed)
    print(json.dumps({
        "eager": tf.executing_eagerly(),
        "costs": costs,
        "variable_ops": sorted({v.op.type for v in v1.global_variables()}),
        "names": sorted(v.name for v in v1.trainable_variables("rnnlm")),
        "attention_shapes": [list(a.shape) for a in greedy],
        "switches": bool(not np.allclose(greedy, teacher)),
    }))
""")


@pytest.mark.subprocess
def test_after_disable_v2_behavior_trains(tmp_path):
    """After disable_v2_behavior (ref variables, control flow v1) rnn_decoder + loss + SGD train."""
    script = tmp_path / "mode_b.py"
    script.write_text(MODE_B_SCRIPT, encoding="utf-8")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["eager"] is False
    assert report["variable_ops"] == ["VariableV2"]  # TF1 ref variables, not resource handles
    assert report["names"] == ["rnnlm/basic_lstm_cell/bias:0", "rnnlm/basic_lstm_cell/kernel:0",
                               "rnnlm/embedding:0", "rnnlm/softmax_b:0", "rnnlm/softmax_w:0"]
    costs = report["costs"]
    assert all(later < earlier for earlier, later in zip(costs, costs[1:])), costs
    assert report["attention_shapes"] == [[2, 5]] * 3
    assert report["switches"] is True
