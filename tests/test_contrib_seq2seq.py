"""tf.contrib.seq2seq: TF 1.15's semantics, variable names and numbers, on today's TensorFlow.

The NumPy oracles restate the equations of the module docstrings and run on
the weights read back from the session. Shape legend: B batch, T steps, I
input depth, H units, V vocabulary, E embedding size, M memory steps, D
memory depth, U attention units, K beam width.
"""

import itertools
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
    from tf1_lstm.contrib import seq2seq

    return seq2seq


# ---------------------------------------------------------------- oracles


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _log_softmax(x):
    z = x - x.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _softmax(x):
    return np.exp(_log_softmax(x))


def np_basic_lstm(x, state, w, scope):
    """BasicLSTMCell, forget_bias 1: gates i, j, f, o from concat([x, h]) @ kernel + bias."""
    c, h = state
    gates = np.concatenate([x, h], -1) @ w[f"{scope}/kernel:0"] + w[f"{scope}/bias:0"]  # (B, 4H)
    i, j, f, o = np.split(gates, 4, axis=-1)
    c = c * _sigmoid(f + 1.0) + _sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * _sigmoid(o)
    return h, (c, h)


def np_sequence_loss(logits, targets, weights, avg_t, avg_b, sum_t, sum_b):
    """TF 1.15's reductions (see the loss module's table)."""
    ce = -np.take_along_axis(_log_softmax(logits), targets[..., None], -1)[..., 0]  # (B, T)
    x = ce * weights
    nonzero = (weights != 0).astype(np.float64)

    def div(a, b):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))

    if avg_t and avg_b:
        return div(x.sum(), weights.sum())
    if sum_t and sum_b:
        return div(x.sum(), nonzero.sum())
    if avg_t or avg_b:
        axis = 0 if avg_b else 1
        return div(x.sum(axis), weights.sum(axis))
    if sum_t or sum_b:
        axis = 0 if sum_b else 1
        return div(x.sum(axis), nonzero.sum(axis))
    return x


def np_gather_tree(step_ids, parent_ids, max_sequence_lengths, end_token):
    """TF 1.15's GatherTree CPU kernel, loop for loop (without its invalid-parent error)."""
    max_time, batch_size, beam_width = step_ids.shape
    beams = np.full_like(step_ids, end_token)
    for b, j in itertools.product(range(batch_size), range(beam_width)):
        length = min(max_time, max_sequence_lengths[b])
        if length <= 0:
            continue
        beams[length - 1, b, j] = step_ids[length - 1, b, j]
        parent = parent_ids[length - 1, b, j]
        for level in range(length - 2, -1, -1):
            beams[level, b, j] = step_ids[level, b, parent]
            parent = parent_ids[level, b, parent]
        finished = False
        for t in range(length):
            if finished:
                beams[t, b, j] = end_token
            elif beams[t, b, j] == end_token:
                finished = True
    return beams


def randomize(tf, sess, seed=0, scale=0.8):
    """Initializes, then assigns U(-scale, scale) to every global variable; name -> value."""
    v1 = tf.compat.v1
    rng = np.random.default_rng(seed)
    sess.run(v1.global_variables_initializer())
    values = {v.name: rng.uniform(-scale, scale, v.shape.as_list()).astype(np.float32)
              for v in v1.global_variables()}
    sess.run([v.assign(values[v.name]) for v in v1.global_variables()])
    return values


def variable_shapes(tf):
    return {v.name: tuple(v.shape.as_list()) for v in tf.compat.v1.global_variables()}


# ---------------------------------------------------------------- public names


def test_public_names_are_tf115s(s2s):
    """Every name of TF 1.15's tf.contrib.seq2seq resolves; others fail naming what exists."""
    for name in s2s.__all__:
        assert getattr(s2s, name) is not None
    assert len(s2s.__all__) == 29
    with pytest.raises(AttributeError, match="has no attribute 'BasicDecoderV2'.*tfa.seq2seq"):
        s2s.BasicDecoderV2  # noqa: B018


# ---------------------------------------------------------------- sequence_loss

FLAGS = [f for f in itertools.product([False, True], repeat=4)
         if not (f[0] and f[2]) and not (f[1] and f[3])]


@pytest.mark.parametrize("avg_t,avg_b,sum_t,sum_b", FLAGS,
                         ids=["-".join(n for n, on in zip(("avg_t", "avg_b", "sum_t", "sum_b"), f)
                                       if on) or "none" for f in FLAGS])
def test_sequence_loss_reductions_match_numpy(tf, graph_session, s2s, avg_t, avg_b, sum_t, sum_b):
    """Each valid flag combination reduces as TF 1.15 did (sum_over: by the non-zero weights)."""
    _, sess = graph_session
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 4, 5)).astype(np.float32)  # (B, T, C)
    targets = rng.integers(0, 5, size=(3, 4)).astype(np.int32)
    weights = np.array([[1, 0.5, 2, 0], [1, 1, 0, 0], [0, 0, 0, 0]], np.float32)
    loss = s2s.sequence_loss(tf.constant(logits), tf.constant(targets), tf.constant(weights),
                             average_across_timesteps=avg_t, average_across_batch=avg_b,
                             sum_over_timesteps=sum_t, sum_over_batch=sum_b)
    expected = np_sequence_loss(logits, targets, weights, avg_t, avg_b, sum_t, sum_b)
    got = sess.run(loss)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_sequence_loss_softmax_loss_function_and_errors(tf, graph_session, s2s):
    """A custom loss is called with labels=/logits= keywords; bad ranks and flags raise."""
    _, sess = graph_session
    logits, targets = tf.zeros([2, 3, 4]), tf.zeros([2, 3], tf.int32)
    seen = {}

    def twice_ce(labels, logits):
        seen["shapes"] = (labels.shape.as_list(), logits.shape.as_list())
        return 2.0 * tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    loss = s2s.sequence_loss(logits, targets, tf.ones([2, 3]), softmax_loss_function=twice_ce)
    assert seen["shapes"][0] == [6]  # flattened (B*T,)
    np.testing.assert_allclose(sess.run(loss), 2 * np.log(4), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Logits must be a \[batch_size x sequence_length x "):
        s2s.sequence_loss(tf.zeros([2, 3]), targets, tf.ones([2, 3]))
    with pytest.raises(ValueError, match="Weights must be a"):
        s2s.sequence_loss(logits, targets, tf.ones([2]))
    with pytest.raises(ValueError, match="average_across_timesteps and sum_over_timesteps"):
        s2s.sequence_loss(logits, targets, tf.ones([2, 3]), sum_over_timesteps=True)
    with pytest.raises(ValueError, match="average_across_batch and sum_over_batch"):
        s2s.sequence_loss(logits, targets, tf.ones([2, 3]), average_across_timesteps=False,
                          sum_over_batch=True)


# ---------------------------------------------------------------- BasicDecoder + TrainingHelper

B, T, I, H, V = 2, 5, 3, 4, 6


@pytest.mark.parametrize("impute_finished", [True, False])
def test_training_decoder_equals_dynamic_rnn_plus_dense(tf, graph_session, s2s, impute_finished):
    """TrainingHelper + BasicDecoder == dynamic_rnn + Dense on the same weights and lengths."""
    _, sess = graph_session
    v1 = tf.compat.v1
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(B, T, I)).astype(np.float32))
    lengths = np.array([T, 3], np.int32)
    cell = v1.nn.rnn_cell.BasicLSTMCell(H)
    layer = v1.layers.Dense(V)
    decoder = s2s.BasicDecoder(cell, s2s.TrainingHelper(x, lengths),
                               cell.zero_state(B, tf.float32), output_layer=layer)
    out, state, out_lengths = s2s.dynamic_decode(decoder, impute_finished=impute_finished)
    out_tm, _, _ = s2s.dynamic_decode(decoder, output_time_major=True, scope="decoder",
                                      impute_finished=impute_finished)

    rnn_cell = v1.nn.rnn_cell.BasicLSTMCell(H)
    rnn_out, rnn_state = v1.nn.dynamic_rnn(rnn_cell, x, sequence_length=lengths,
                                           dtype=tf.float32)
    with v1.variable_scope("reference"):
        rnn_logits = v1.layers.Dense(V)(rnn_out)

    assert variable_shapes(tf) == {
        "decoder/basic_lstm_cell/kernel:0": (I + H, 4 * H),
        "decoder/basic_lstm_cell/bias:0": (4 * H,),
        "decoder/dense/kernel:0": (H, V), "decoder/dense/bias:0": (V,),
        "rnn/basic_lstm_cell/kernel:0": (I + H, 4 * H), "rnn/basic_lstm_cell/bias:0": (4 * H,),
        "reference/dense/kernel:0": (H, V), "reference/dense/bias:0": (V,)}
    w = randomize(tf, sess)
    pairs = [("decoder/basic_lstm_cell", "rnn/basic_lstm_cell"),
             ("decoder/dense", "reference/dense")]
    by_name = {v.name: v for v in v1.global_variables()}
    sess.run([by_name[f"{a}/{p}:0"].assign(w[f"{b}/{p}:0"])
              for a, b in pairs for p in ("kernel", "bias")])

    got, got_tm, got_state, got_lengths, want, want_state = sess.run(
        [out, out_tm, state, out_lengths, rnn_logits, rnn_state])
    assert got.rnn_output.shape == (B, T, V) and got_tm.rnn_output.shape == (T, B, V)
    np.testing.assert_allclose(got_tm.rnn_output.transpose(1, 0, 2), got.rnn_output)
    np.testing.assert_array_equal(got_lengths, lengths)
    np.testing.assert_array_equal(got.sample_id, got.rnn_output.argmax(-1))
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(got.rnn_output[b, :n], want[b, :n], rtol=1e-5, atol=1e-6)
    if impute_finished:  # outputs past the length are zeros, the state is carried through
        assert not got.rnn_output[1, 3:].any()
        np.testing.assert_allclose(got_state.c, want_state.c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_state.h, want_state.h, rtol=1e-5, atol=1e-6)
    else:  # the short entry keeps stepping on the padding: only the long one's state agrees
        np.testing.assert_allclose(got_state.h[0], want_state.h[0], rtol=1e-5, atol=1e-6)
        assert not np.allclose(got_state.h[1], want_state.h[1])


def test_maximum_iterations_and_type_errors(tf, graph_session, s2s):
    """maximum_iterations cuts decoding (lengths too); wrong types and shapes raise."""
    _, sess = graph_session
    v1 = tf.compat.v1
    cell = v1.nn.rnn_cell.GRUCell(H)
    helper = s2s.TrainingHelper(tf.ones([B, T, I]), [T, 3])
    decoder = s2s.BasicDecoder(cell, helper, cell.zero_state(B, tf.float32))
    out, _, lengths = s2s.dynamic_decode(decoder, maximum_iterations=2)
    sess.run(v1.global_variables_initializer())
    got, got_lengths = sess.run([out.rnn_output, lengths])
    assert got.shape == (B, 2, H)
    np.testing.assert_array_equal(got_lengths, [2, 2])
    with pytest.raises(TypeError, match="Expected decoder to be type Decoder"):
        s2s.dynamic_decode(object())
    with pytest.raises(ValueError, match="maximum_iterations must be a scalar"):
        s2s.dynamic_decode(decoder, maximum_iterations=[2, 3])
    with pytest.raises(TypeError, match="helper must be a Helper"):
        s2s.BasicDecoder(cell, object(), cell.zero_state(B, tf.float32))
    with pytest.raises(TypeError, match="output_layer must be a Layer"):
        s2s.BasicDecoder(cell, helper, cell.zero_state(B, tf.float32), output_layer=lambda x: x)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        s2s.BasicDecoder(object(), helper, None)
    with pytest.raises(ValueError, match="Expected sequence_length to be a vector"):
        s2s.TrainingHelper(tf.ones([B, T, I]), [[T]])
    with pytest.raises(ValueError, match="start_tokens must be a vector"):
        s2s.GreedyEmbeddingHelper(tf.ones([V, 3]), [[0]], 1)


# ---------------------------------------------------------------- greedy decoding


def _greedy_graph(tf, s2s, end_token, max_iter, beam_width=None):
    """Greedy (or beam) decoding with an LSTM and a Dense layer over an embedding."""
    v1 = tf.compat.v1
    embedding = v1.get_variable("embedding", [V, 3])
    cell = v1.nn.rnn_cell.BasicLSTMCell(H)
    layer = v1.layers.Dense(V)
    start = tf.constant([0, 1, 2])
    greedy = s2s.BasicDecoder(cell, s2s.GreedyEmbeddingHelper(embedding, start, end_token),
                              cell.zero_state(3, tf.float32), output_layer=layer)
    outputs = {"greedy": s2s.dynamic_decode(greedy, maximum_iterations=max_iter, scope="dec")}
    if beam_width:
        beam = s2s.BeamSearchDecoder(cell, embedding, start, end_token,
                                     s2s.tile_batch(cell.zero_state(3, tf.float32), beam_width),
                                     beam_width, output_layer=layer)
        outputs["beam"] = s2s.dynamic_decode(beam, maximum_iterations=max_iter, scope="dec")
    return outputs


def np_greedy(w, start, steps):
    """Greedy rollout: x = embed(id), (h, c) = lstm, id = argmax(h @ W + b); ids and logits."""
    x = w["embedding:0"][start]
    state = (np.zeros((len(start), H)), np.zeros((len(start), H)))
    ids, logits = [], []
    for _ in range(steps):
        h, state = np_basic_lstm(x, state, w, "dec/basic_lstm_cell")
        logits.append(h @ w["dec/dense/kernel:0"] + w["dec/dense/bias:0"])
        ids.append(logits[-1].argmax(-1))
        x = w["embedding:0"][ids[-1]]
    return np.stack(ids, 1), np.stack(logits, 1)  # (B, T), (B, T, V)


def test_greedy_embedding_helper_stops_at_end_token(tf, graph_session, s2s):
    """Greedy ids follow a NumPy argmax rollout; entries stop at end_token or maximum_iterations."""
    _, sess = graph_session
    end_token = tf.compat.v1.placeholder(tf.int32, [])
    out, _, lengths = _greedy_graph(tf, s2s, end_token, max_iter=6)["greedy"]
    w = randomize(tf, sess, seed=3, scale=1.5)
    expected, _ = np_greedy(w, np.array([0, 1, 2]), 6)

    ids, got_lengths = sess.run([out.sample_id, lengths], {end_token: -1})
    np.testing.assert_array_equal(ids, expected)  # never ends: maximum_iterations
    np.testing.assert_array_equal(got_lengths, [6, 6, 6])

    token = expected[0, 1]  # what entry 0 emits at step 1
    hits = [np.flatnonzero(row == token) for row in expected]
    want_lengths = [hit[0] + 1 if hit.size else 6 for hit in hits]
    ids, got_lengths = sess.run([out.sample_id, lengths], {end_token: token})
    np.testing.assert_array_equal(got_lengths, want_lengths)
    assert ids.shape == (3, max(want_lengths))
    for b, n in enumerate(want_lengths):
        np.testing.assert_array_equal(ids[b, :n], expected[b, :n])


def test_tile_batch_is_np_repeat(tf, graph_session, s2s):
    """tile_batch repeats each entry in place, for every tensor of a structure."""
    _, sess = graph_session
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    b = np.array([5, 7], np.int32)
    tiled = s2s.tile_batch((tf.constant(a), {"len": tf.constant(b)}), 3)
    assert tiled[0].shape.as_list() == [6, 3, 4]
    got = sess.run(tiled)
    np.testing.assert_array_equal(got[0], np.repeat(a, 3, axis=0))
    np.testing.assert_array_equal(got[1]["len"], np.repeat(b, 3))
    with pytest.raises(ValueError, match="statically known rank"):
        s2s.tile_batch(tf.constant(1.0), 2)


def test_sampling_helpers_limits(tf, graph_session, s2s):
    """Sampling at temperature -> 0 is greedy; scheduled sampling at p = 0 is teacher forcing."""
    _, sess = graph_session
    v1 = tf.compat.v1
    embedding = v1.get_variable("embedding", [V, I])
    cell = v1.nn.rnn_cell.BasicLSTMCell(H)
    layer = v1.layers.Dense(V)
    start = tf.constant([0, 1])

    def decode(helper, **kwargs):
        decoder = s2s.BasicDecoder(cell, helper, cell.zero_state(B, tf.float32), layer)
        return s2s.dynamic_decode(decoder, **kwargs)[0]

    greedy = decode(s2s.GreedyEmbeddingHelper(embedding, start, -1), maximum_iterations=4)
    cold = decode(s2s.SampleEmbeddingHelper(embedding, start, -1, softmax_temperature=1e-4,
                                            seed=1), maximum_iterations=4)
    inputs = tf.constant(np.random.default_rng(9).normal(size=(B, T, I)).astype(np.float32))
    teacher = decode(s2s.TrainingHelper(inputs, [T, 3]))
    never = decode(s2s.ScheduledEmbeddingTrainingHelper(inputs, [T, 3], embedding, 0.0, seed=2))
    always = decode(s2s.ScheduledEmbeddingTrainingHelper(inputs, [T, 3], embedding, 1.0, seed=2))
    never_out = decode(s2s.ScheduledOutputTrainingHelper(inputs, [T, 3], 0.0,
                                                         next_input_layer=v1.layers.Dense(I)))
    randomize(tf, sess, seed=10, scale=1.5)
    g, c, t, n, a, no = sess.run([greedy, cold, teacher, never, always, never_out])
    np.testing.assert_array_equal(c.sample_id, g.sample_id)
    np.testing.assert_allclose(n.rnn_output, t.rnn_output, rtol=1e-6)
    np.testing.assert_allclose(no.rnn_output, t.rnn_output, rtol=1e-6)
    assert (n.sample_id == -1).all() and (a.sample_id >= 0).all() and not no.sample_id.any()
    assert not np.allclose(a.rnn_output[:, 1:], t.rnn_output[:, 1:])


def test_inference_helper_feeds_outputs_back(tf, graph_session, s2s):
    """InferenceHelper without next_inputs_fn feeds each output back; equals a static unroll."""
    _, sess = graph_session
    cell = tf.compat.v1.nn.rnn_cell.GRUCell(H)
    layer = tf.compat.v1.layers.Dense(I)
    start = tf.constant(np.ones((B, I), np.float32))
    helper = s2s.InferenceHelper(sample_fn=lambda outputs: outputs, sample_shape=[I],
                                 sample_dtype=tf.float32, start_inputs=start,
                                 end_fn=lambda sample_ids: tf.zeros([B], tf.bool))
    out, _, _ = s2s.dynamic_decode(s2s.BasicDecoder(cell, helper, cell.zero_state(B, tf.float32),
                                                    layer), maximum_iterations=3)
    x, state, unrolled = start, cell.zero_state(B, tf.float32), []
    for _ in range(3):
        h, state = cell(x, state)
        x = layer(h)
        unrolled.append(x)
    randomize(tf, sess, seed=11)
    got, want = sess.run([out, tf.stack(unrolled, 1)])
    np.testing.assert_allclose(got.rnn_output, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sample_id, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- attention

M, D = 4, 6


def _attention_graph(tf, s2s, kind):
    v1 = tf.compat.v1
    rng = np.random.default_rng(4)
    memory = rng.normal(size=(B, M, D)).astype(np.float32)
    inputs = rng.normal(size=(B, 3, I)).astype(np.float32)
    memory_lengths = np.array([M, 2], np.int32)
    if kind == "luong":
        mechanism = s2s.LuongAttention(H, memory, memory_sequence_length=memory_lengths,
                                       scale=True)
    else:
        mechanism = s2s.BahdanauAttention(5, memory, memory_sequence_length=memory_lengths,
                                          normalize=kind == "bahdanau_normed")
    cell = s2s.AttentionWrapper(v1.nn.rnn_cell.BasicLSTMCell(H), mechanism,
                                attention_layer_size=3, alignment_history=True)
    decoder = s2s.BasicDecoder(cell, s2s.TrainingHelper(inputs, [3, 3]),
                               cell.zero_state(B, tf.float32))
    out, state, _ = s2s.dynamic_decode(decoder)
    return (memory, inputs, memory_lengths), (out.rnn_output, state.alignments,
                                              state.alignment_history.stack(), mechanism.values)


def np_attention(kind, w, memory, inputs, memory_lengths):
    """AttentionWrapper over BasicLSTMCell with attention_layer_size, step by step."""
    scope = "decoder/attention_wrapper"
    mask = np.arange(M)[None, :] < memory_lengths[:, None]  # (B, M)
    values = memory * mask[..., None]  # (B, M, D)
    keys = values @ w["memory_layer/kernel:0"]  # (B, M, U)
    state = (np.zeros((B, H)), np.zeros((B, H)))
    attention = np.zeros((B, 3))
    outputs, history = [], []
    for t in range(inputs.shape[1]):
        h, state = np_basic_lstm(np.concatenate([inputs[:, t], attention], -1), state, w,
                                 f"{scope}/basic_lstm_cell")
        if kind == "luong":
            score = w[f"{scope}/luong_attention/attention_g:0"] * np.einsum("bu,bmu->bm", h, keys)
        else:
            a = f"{scope}/bahdanau_attention"
            q = h @ w[f"{a}/query_layer/kernel:0"]  # (B, U)
            v = w[f"{a}/attention_v:0"]
            if kind == "bahdanau_normed":
                v = w[f"{a}/attention_g:0"] * v / np.linalg.norm(v)
                score = (v * np.tanh(keys + q[:, None] + w[f"{a}/attention_b:0"])).sum(-1)
            else:
                score = (v * np.tanh(keys + q[:, None])).sum(-1)
        alignments = _softmax(np.where(mask, score, -np.inf))  # (B, M)
        context = np.einsum("bm,bmd->bd", alignments, values)  # (B, D)
        attention = np.concatenate([h, context], -1) @ w[f"{scope}/attention_layer/kernel:0"]
        outputs.append(attention)
        history.append(alignments)
    return np.stack(outputs, 1), alignments, np.stack(history)


ATTENTION_VARIABLES = {
    "luong": {"luong_attention/attention_g:0": ()},
    "bahdanau": {"bahdanau_attention/query_layer/kernel:0": (H, 5),
                 "bahdanau_attention/attention_v:0": (5,)},
    "bahdanau_normed": {"bahdanau_attention/query_layer/kernel:0": (H, 5),
                        "bahdanau_attention/attention_v:0": (5,),
                        "bahdanau_attention/attention_g:0": (),
                        "bahdanau_attention/attention_b:0": (5,)},
}


@pytest.mark.parametrize("kind", ["luong", "bahdanau", "bahdanau_normed"])
def test_attention_wrapper_names_and_numbers(tf, graph_session, s2s, kind):
    """TF 1.x's variable names; outputs and alignments (masked past memory length) match NumPy."""
    _, sess = graph_session
    (memory, inputs, memory_lengths), fetches = _attention_graph(tf, s2s, kind)
    units = H if kind == "luong" else 5
    scope = "decoder/attention_wrapper"
    expected_names = {
        "memory_layer/kernel:0": (D, units),
        f"{scope}/basic_lstm_cell/kernel:0": (I + 3 + H, 4 * H),
        f"{scope}/basic_lstm_cell/bias:0": (4 * H,),
        f"{scope}/attention_layer/kernel:0": (H + D, 3),
        **{f"{scope}/{k}": s for k, s in ATTENTION_VARIABLES[kind].items()}}
    assert variable_shapes(tf) == expected_names
    w = randomize(tf, sess, seed=5)
    outputs, alignments, history, values = sess.run(fetches)
    in_memory = np.arange(M)[None, :, None] < memory_lengths[:, None, None]  # (B, M, 1)
    np.testing.assert_array_equal(values, memory * in_memory)
    want = np_attention(kind, w, memory, inputs, memory_lengths)
    for got, expected in zip((outputs, alignments, history), want):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert not alignments[1, 2:].any()  # masked memory steps get no attention
    # The comparison can fail: a perturbed memory layer no longer matches.
    w["memory_layer/kernel:0"] = w["memory_layer/kernel:0"] + 0.1
    assert not np.allclose(outputs, np_attention(kind, w, memory, inputs, memory_lengths)[0],
                           rtol=1e-4, atol=1e-5)


def np_monotonic(p, previous):
    """q_i = (1 - p_{i-1}) q_{i-1} + a_prev_i, a_i = p_i q_i (Raffel et al., 2017)."""
    q, out = np.zeros(p.shape[0]), []
    for i in range(p.shape[1]):
        q = (1 - p[:, i - 1]) * q + previous[:, i] if i else previous[:, 0]
        out.append(p[:, i] * q)
    return np.stack(out, 1)


def test_monotonic_attention(tf, graph_session, s2s):
    """Recursive and parallel modes solve the recurrence; hard mode picks the next chosen step."""
    _, sess = graph_session
    rng = np.random.default_rng(12)
    p = rng.uniform(0.1, 0.9, size=(B, M)).astype(np.float32)
    previous = _softmax(rng.normal(size=(B, M))).astype(np.float32)
    expected = np_monotonic(p, previous)
    for mode in ("recursive", "parallel"):
        got = sess.run(s2s.monotonic_attention(p, previous, mode))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    hard = sess.run(s2s.monotonic_attention(np.array([[0, 1, 1, 0], [1, 0, 0, 1]], np.float32),
                                            np.array([[0, 0, 1, 0], [0, 1, 0, 0]], np.float32),
                                            "hard"))
    np.testing.assert_array_equal(hard, [[0, 0, 1, 0], [0, 0, 0, 1]])
    with pytest.raises(ValueError, match="mode must be 'recursive', 'parallel', or 'hard'"):
        s2s.monotonic_attention(p, previous, "soft")
    for kind in (s2s.LuongMonotonicAttention, s2s.BahdanauMonotonicAttention):
        # As in TF 1.x, wrappers called outside a decoder need scopes of their own.
        with tf.compat.v1.variable_scope(kind.__name__):
            mechanism = kind(H, tf.ones([B, M, D]), score_bias_init=-1.0)
            cell = s2s.AttentionWrapper(tf.compat.v1.nn.rnn_cell.GRUCell(H), mechanism)
            cell(tf.ones([B, I]), cell.zero_state(B, tf.float32))
    assert {v.name: v.shape.as_list() for v in tf.compat.v1.global_variables()
            if "score_bias" in v.name} == {
        "LuongMonotonicAttention/attention_wrapper/luong_monotonic_attention/"
        "attention_score_bias:0": [],
        "BahdanauMonotonicAttention/attention_wrapper/bahdanau_monotonic_attention/"
        "attention_score_bias:0": []}


def test_hardmax_and_attention_errors(tf, graph_session, s2s):
    """hardmax is a one-hot argmax; wrong mechanisms and mismatched sizes raise."""
    _, sess = graph_session
    logits = np.array([[1.0, 3.0, 2.0], [5.0, 0.0, 5.0]], np.float32)
    np.testing.assert_array_equal(sess.run(s2s.hardmax(logits)), [[0, 1, 0], [1, 0, 0]])
    cell = tf.compat.v1.nn.rnn_cell.GRUCell(H)
    with pytest.raises(TypeError, match="must be an AttentionMechanism"):
        s2s.AttentionWrapper(cell, object())
    mechanism = s2s.LuongAttention(H, tf.ones([B, M, D]))
    with pytest.raises(ValueError, match="exactly one integer per attention_mechanism"):
        s2s.AttentionWrapper(cell, mechanism, attention_layer_size=[3, 4])
    with pytest.raises(ValueError, match="Only one of attention_layer_size and attention_layer"):
        s2s.AttentionWrapper(cell, mechanism, attention_layer_size=3,
                             attention_layer=tf.compat.v1.layers.Dense(3))
    wrapper = s2s.AttentionWrapper(s2s.AttentionWrapper(cell, mechanism), mechanism)
    with pytest.raises(TypeError, match="Expected state to be instance of AttentionWrapperState"):
        wrapper(tf.ones([B, I]), tf.zeros([B, H]))


# ---------------------------------------------------------------- beam search


def test_gather_tree_matches_tf1_kernel(tf, graph_session, s2s):
    """TF 1.15's test case, a NumPy transcription of the kernel on random trees, and bad parents."""
    _, sess = graph_session

    def tbt(x):
        return np.transpose(np.array(x), [1, 0, 2]).astype(np.int32)

    steps = tbt([[[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, -1, -1]]])
    got = sess.run(s2s.gather_tree(steps, tbt([[[0, 0, 0], [0, 1, 1], [2, 1, 2], [-1, -1, -1]]]),
                                   [3], 10))
    np.testing.assert_array_equal(got, tbt([[[2, 2, 2], [6, 5, 6], [7, 8, 9], [10, 10, 10]]]))

    rng = np.random.default_rng(6)
    step_ids = rng.integers(0, 6, size=(8, 10, 5)).astype(np.int32)
    parent_ids = rng.integers(0, 5, size=(8, 10, 5)).astype(np.int32)
    lengths = np.array([0, 1, 2, 4, 7, 8, 9, 10, 11, 0], np.int32)
    got = sess.run(s2s.gather_tree(step_ids, parent_ids, lengths, 5))
    np.testing.assert_array_equal(got, np_gather_tree(step_ids, parent_ids, lengths, 5))

    bad = s2s.gather_tree(steps, tbt([[[0, 0, 0], [0, -1, 1], [2, 1, 2], [-1, -1, -1]]]), [3], 10)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Saw invalid parent id\] \[-1\].*\[\[0 0 1\]\]"):
        sess.run(bad)


def test_beam_width_one_is_greedy(tf, graph_session, s2s):
    """With beam_width 1 beam search emits the greedy ids, lengths and summed log-probabilities."""
    _, sess = graph_session
    end_token = tf.compat.v1.placeholder(tf.int32, [])
    outs = _greedy_graph(tf, s2s, end_token, max_iter=6, beam_width=1)
    (greedy, _, greedy_lengths), (beam, beam_state, beam_lengths) = outs["greedy"], outs["beam"]
    assert sorted(variable_shapes(tf)) == ["dec/basic_lstm_cell/bias:0",
                                           "dec/basic_lstm_cell/kernel:0", "dec/dense/bias:0",
                                           "dec/dense/kernel:0", "embedding:0"]
    w = randomize(tf, sess, seed=3, scale=1.5)
    expected, _ = np_greedy(w, np.array([0, 1, 2]), 6)
    token = expected[0, 1]
    g, gl, b, bl, bs = sess.run([greedy, greedy_lengths, beam, beam_lengths, beam_state],
                                {end_token: token})
    np.testing.assert_array_equal(bl[:, 0], gl)
    np.testing.assert_array_equal(bs.lengths[:, 0], gl)
    for i, n in enumerate(gl):
        np.testing.assert_array_equal(b.predicted_ids[i, :n, 0], g.sample_id[i, :n])
        log_p = np.take_along_axis(_log_softmax(g.rnn_output[i, :n]),
                                   g.sample_id[i, :n, None], -1).sum()
        np.testing.assert_allclose(bs.log_probs[i, 0], log_p, rtol=1e-5)


def np_beam_search(w, start, beam_width, steps, end_token, alpha):
    """TF 1.15's beam search (see beam_search_decoder's docstring) over the LSTM + Dense model."""
    batch = len(start)
    emb = w["embedding:0"]
    x = np.repeat(emb[start], beam_width, 0)  # (B*K, E)
    state = (np.zeros((batch * beam_width, H)), np.zeros((batch * beam_width, H)))
    log_probs = np.where(np.arange(beam_width) == 0, 0.0, -np.inf) * np.ones((batch, 1))
    finished = np.arange(beam_width)[None].repeat(batch, 0) != 0
    lengths = np.zeros((batch, beam_width), np.int64)
    ids, parents, scores = [], [], []
    for _ in range(steps):
        h, state = np_basic_lstm(x, state, w, "dec/basic_lstm_cell")
        step = _log_softmax(h @ w["dec/dense/kernel:0"] + w["dec/dense/bias:0"])
        step = step.reshape(batch, beam_width, V)
        eos_row = np.where(np.arange(V) == end_token, 0.0, np.finfo(np.float32).min)
        step = np.where(finished[..., None], eos_row, step)
        total = log_probs[..., None] + step  # (B, K, V)
        grow = (~finished)[..., None] & (np.arange(V) != end_token)
        new_lengths = lengths[..., None] + grow
        score = total / ((5.0 + new_lengths) / 6.0) ** alpha if alpha else total
        flat = score.reshape(batch, -1)
        top = np.argsort(-flat, axis=1, kind="stable")[:, :beam_width]  # (B, K)
        parent, word = top // V, top % V
        log_probs = np.take_along_axis(total.reshape(batch, -1), top, 1)
        prev_finished = np.take_along_axis(finished, parent, 1)
        lengths = np.take_along_axis(lengths, parent, 1) + ~prev_finished
        finished = prev_finished | (word == end_token)
        rows = (parent + np.arange(batch)[:, None] * beam_width).reshape(-1)
        state = (state[0][rows], state[1][rows])
        x = emb[word.reshape(-1)]
        ids.append(word), parents.append(parent), scores.append(np.take_along_axis(flat, top, 1))
        if finished.all():
            break
    predicted = np_gather_tree(np.stack(ids), np.stack(parents), lengths.max(1), end_token)
    return predicted.transpose(1, 0, 2), np.stack(scores, 1), lengths


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_beam_search_matches_numpy(tf, graph_session, s2s, alpha):
    """K = 3 beam search (with and without length penalty) equals a NumPy beam search."""
    _, sess = graph_session
    v1 = tf.compat.v1
    embedding = v1.get_variable("embedding", [V, 3])
    cell = v1.nn.rnn_cell.BasicLSTMCell(H)
    decoder = s2s.BeamSearchDecoder(cell, embedding, tf.constant([0, 1]), 2,
                                    cell.zero_state(2 * 3, tf.float32), 3,
                                    output_layer=v1.layers.Dense(V), length_penalty_weight=alpha)
    out, state, lengths = s2s.dynamic_decode(decoder, maximum_iterations=5, scope="dec")
    w = randomize(tf, sess, seed=7, scale=1.5)
    got, got_state, got_lengths = sess.run([out, state, lengths])
    predicted, scores, want_lengths = np_beam_search(w, np.array([0, 1]), 3, 5, 2, alpha)
    np.testing.assert_array_equal(got.predicted_ids, predicted)
    np.testing.assert_allclose(got.beam_search_decoder_output.scores, scores, rtol=1e-4)
    np.testing.assert_array_equal(got_state.lengths, want_lengths)
    np.testing.assert_array_equal(got_lengths, want_lengths)


def test_beam_search_with_attention_reorders_alignment_history(tf, graph_session, s2s):
    """Attention + coverage penalty decode; alignment history comes back stacked per final beam."""
    _, sess = graph_session
    v1 = tf.compat.v1
    memory = s2s.tile_batch(tf.ones([B, M, D]), 3)
    mechanism = s2s.BahdanauAttention(5, memory, memory_sequence_length=s2s.tile_batch(
        tf.constant([M, 2]), 3))
    cell = s2s.AttentionWrapper(v1.nn.rnn_cell.GRUCell(H), mechanism, attention_layer_size=H,
                                alignment_history=True)
    decoder = s2s.BeamSearchDecoder(cell, v1.get_variable("embedding", [V, 3]),
                                    tf.constant([0, 1]), 2, cell.zero_state(B * 3, tf.float32),
                                    3, output_layer=v1.layers.Dense(V),
                                    coverage_penalty_weight=0.4)
    out, state, _ = s2s.dynamic_decode(decoder, maximum_iterations=4)
    randomize(tf, sess, seed=8)
    ids, history = sess.run([out.predicted_ids, state.cell_state.alignment_history])
    assert ids.shape[0] == B and ids.shape[2] == 3
    assert history.shape == (ids.shape[1], B * 3, M)
    np.testing.assert_allclose(history.sum(-1), 1.0, rtol=1e-5)
    assert not history.reshape(-1, B, 3, M)[:, 1, :, 2:].any()
    with pytest.raises(ValueError, match="coverage_penalty_weight must be 0.0 if no cell"):
        plain = v1.nn.rnn_cell.GRUCell(H)
        s2s.BeamSearchDecoder(plain, tf.ones([V, 3]), tf.constant([0, 1]), 2,
                              plain.zero_state(B * 3, tf.float32), 3,
                              coverage_penalty_weight=0.4).initialize()


# ---------------------------------------------------------------- mode (b): TF1 behaviour on

MODE_B_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from tf1_lstm import tfcompat
    tf = tfcompat.load()
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
    from tf1_lstm.contrib import seq2seq

    v1.set_random_seed(0)
    B, T, V, E, H, M = 2, 4, 6, 3, 5, 3
    rng = np.random.RandomState(0)
    source = tf.constant(rng.randn(B, M, E).astype(np.float32))
    targets = tf.constant(rng.randint(0, V, size=(B, T)).astype(np.int32))
    lengths = tf.constant([T, 2])
    embedding = v1.get_variable("embedding", [V, E])
    mechanism = seq2seq.LuongAttention(H, source, memory_sequence_length=[M, 2])
    cell = seq2seq.AttentionWrapper(v1.nn.rnn_cell.LSTMCell(H), mechanism, attention_layer_size=H)
    layer = v1.layers.Dense(V)
    helper = seq2seq.TrainingHelper(v1.nn.embedding_lookup(embedding, targets), lengths)
    decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(B, tf.float32), layer)
    out, _, _ = seq2seq.dynamic_decode(decoder, impute_finished=True)
    mask = tf.sequence_mask(lengths, T, dtype=tf.float32)
    loss = seq2seq.sequence_loss(out.rnn_output, targets, mask)
    train = v1.train.GradientDescentOptimizer(0.5).minimize(loss)
    greedy = seq2seq.BasicDecoder(
        cell, seq2seq.GreedyEmbeddingHelper(embedding, tf.zeros([B], tf.int32), V + 1),
        cell.zero_state(B, tf.float32), layer)
    greedy_out, _, _ = seq2seq.dynamic_decode(greedy, maximum_iterations=3)
    with v1.variable_scope("beam"):
        beam_cell = v1.nn.rnn_cell.GRUCell(H)
        beam = seq2seq.BeamSearchDecoder(
            beam_cell, embedding, tf.zeros([B], tf.int32), 1,
            seq2seq.tile_batch(beam_cell.zero_state(B, tf.float32), 2), 2,
            output_layer=v1.layers.Dense(V), length_penalty_weight=0.5)
        beam_out, _, _ = seq2seq.dynamic_decode(beam, maximum_iterations=3)
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        losses = [float(sess.run([loss, train])[0]) for _ in range(4)]
        ids, beam_ids = sess.run([greedy_out.sample_id, beam_out.predicted_ids])
    print(json.dumps({
        "eager": tf.executing_eagerly(),
        "losses": losses,
        "variable_ops": sorted({v.op.type for v in v1.global_variables()}),
        "names": sorted(v.name for v in v1.trainable_variables() if "beam" not in v.name),
        "greedy_shape": list(ids.shape),
        "beam_shape": [beam_ids.shape[0], beam_ids.shape[2]],
    }))
""")


@pytest.mark.subprocess
def test_after_disable_v2_behavior_trains(tmp_path):
    """After disable_v2_behavior (ref variables, control flow v1) attention trains, beams run."""
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
    assert report["names"] == [
        "decoder/attention_wrapper/attention_layer/kernel:0",
        "decoder/attention_wrapper/lstm_cell/bias:0",
        "decoder/attention_wrapper/lstm_cell/kernel:0",
        "decoder/dense/bias:0", "decoder/dense/kernel:0", "embedding:0", "memory_layer/kernel:0"]
    losses = report["losses"]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert report["greedy_shape"] == [2, 3]
    assert report["beam_shape"] == [2, 2]  # (B, K); T depends on when the beams end
