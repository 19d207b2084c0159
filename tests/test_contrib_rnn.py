"""tf.contrib.rnn's fused LSTMs and wrappers, contrib.layers and contrib.framework, against TF1 math."""

import numpy as np
import pytest

from tf1_lstm import reference
from tf1_lstm.contrib import framework, layers
from tf1_lstm.contrib import rnn as contrib_rnn


def _names(tf):
    return sorted(v.name for v in tf.compat.v1.global_variables())


def _values(tf, sess):
    """Every global variable's value by name (resource variables are fetched as objects)."""
    return {v.name: sess.run(v) for v in tf.compat.v1.global_variables()}


def _uniform(rng, *shape):
    return rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)


def test_core_names_are_tf_compat_v1s_own_objects(tf):
    v1 = tf.compat.v1
    for name in ("LSTMCell", "BasicLSTMCell", "MultiRNNCell", "LSTMStateTuple", "GRUCell",
                 "DropoutWrapper", "ResidualWrapper"):
        assert getattr(contrib_rnn, name) is getattr(v1.nn.rnn_cell, name)
    assert contrib_rnn.static_rnn is v1.nn.static_rnn
    assert {"LSTMBlockCell", "OutputProjectionWrapper", "LSTMCell"} <= set(dir(contrib_rnn))
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchCell'"):
        contrib_rnn.NoSuchCell


@pytest.mark.parametrize("peepholes, cell_clip", [(False, None), (True, None), (True, 0.3),
                                                   (False, 0.0)])
def test_lstm_block_cell_computes_lstm_cell_math_with_tf1_names(tf, graph_session, peepholes,
                                                                cell_clip):
    """LSTMBlockCell through dynamic_rnn == LSTMCell with the same weights, gradients too.

    The fused kernel clips only for cell_clip > 0: clip 0 is LSTMCell without a clip.
    """
    _, sess = graph_session
    v1 = tf.compat.v1
    rng = np.random.RandomState(0)
    x = _uniform(rng, 2, 4, 3)
    cell = contrib_rnn.LSTMBlockCell(5, forget_bias=0.7, cell_clip=cell_clip,
                                     use_peephole=peepholes)
    outputs, state = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope="block")
    ref_cell = v1.nn.rnn_cell.LSTMCell(5, forget_bias=0.7, use_peepholes=peepholes,
                                       cell_clip=cell_clip or None)
    ref_out, ref_state = v1.nn.dynamic_rnn(ref_cell, x, dtype=tf.float32, scope="ref")
    names = ["block/lstm_cell/kernel:0", "block/lstm_cell/bias:0"]
    if peepholes:
        names += [f"block/lstm_cell/w_{g}_diag:0" for g in "ifo"]
    assert [v.name for v in v1.global_variables()][:len(names)] == names
    by_name = sorted(v1.trainable_variables(), key=lambda v: v.name)
    grads = tf.gradients(tf.reduce_sum(outputs), [v for v in by_name
                                                  if v.name.startswith("block/")])
    ref_grads = tf.gradients(tf.reduce_sum(ref_out), [v for v in by_name
                                                      if v.name.startswith("ref/")])
    sess.run(v1.global_variables_initializer())
    variables = {v.name: v for v in v1.global_variables()}
    for name in names:  # the same non-zero weights in both
        value = _uniform(rng, *variables[name].shape.as_list())
        variables[name].assign(value).eval(session=sess)
        variables[name.replace("block/", "ref/")].assign(value).eval(session=sess)
    got, want = sess.run([(outputs, state), (ref_out, ref_state)])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1].c, want[1].c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1].h, want[1].h, rtol=1e-5, atol=1e-6)
    if cell_clip:
        assert np.abs(got[1].c).max() <= cell_clip + 1e-7
    else:
        assert np.abs(got[1].c).max() > 0.05
    if cell_clip:  # a binding clip: see test_the_fused_kernels_gradient_passes_through_the_clip
        return
    for g, r in zip(sess.run(grads), sess.run(ref_grads)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-6)


def test_the_fused_kernels_gradient_passes_through_the_clip(tf, graph_session):
    """BlockLSTM's gradient kernel treats cell_clip as the identity (straight through).

    Forward, c is clipped; backward, d clip(c)/dc = 1 even where the clip binds
    (TensorFlow's BlockLSTMGrad kernel, which TF 1.x's LSTMBlockCell also used),
    unlike LSTMCell, whose clip_by_value has zero gradient there.
    """
    _, sess = graph_session
    from tf1_lstm.contrib.rnn import lstm_ops

    rng = np.random.RandomState(4)
    x = tf.constant(rng.uniform(-1, 1, (3, 2, 3)).astype(np.float32))  # (T, B, I)
    c0, h0 = (tf.constant(rng.uniform(-1, 1, (2, 4)).astype(np.float32)) for _ in range(2))
    kernel = tf.constant(rng.uniform(-1, 1, (7, 16)).astype(np.float32))
    bias = tf.constant(rng.uniform(-1, 1, (16,)).astype(np.float32))
    _, h = lstm_ops.block_lstm(x, c0, h0, kernel, bias, None, 0.5, 0.2)

    def reference(clip):
        c, hh, total = c0, h0, 0.0
        for t in range(3):
            i, j, f, o = tf.split(tf.matmul(tf.concat([x[t], hh], 1), kernel) + bias, 4, 1)
            c = clip(tf.sigmoid(f + 0.5) * c + tf.sigmoid(i) * tf.tanh(j))
            hh = tf.sigmoid(o) * tf.tanh(c)
            total += tf.reduce_sum(hh)
        return total

    straight = reference(lambda c: c + tf.stop_gradient(tf.clip_by_value(c, -0.2, 0.2) - c))
    clipped = reference(lambda c: tf.clip_by_value(c, -0.2, 0.2))
    wrt = [x, c0, h0, kernel, bias]
    fused, want, lstm_cell = sess.run([tf.gradients(tf.reduce_sum(h), wrt),
                                       tf.gradients(straight, wrt), tf.gradients(clipped, wrt)])
    np.testing.assert_allclose(sess.run(tf.reduce_sum(h)), sess.run(clipped), rtol=1e-6)
    for got, ref, other in zip(fused, want, lstm_cell):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)
    assert np.abs(fused[4] - lstm_cell[4]).max() > 0.1  # the clip binds: the gradients differ


def test_lstm_block_fused_cell_matches_dynamic_rnn_with_sequence_lengths(tf, graph_session):
    """Time-major fused LSTM: zero outputs past each length, the state at length - 1."""
    _, sess = graph_session
    v1 = tf.compat.v1
    rng = np.random.RandomState(1)
    x = _uniform(rng, 5, 3, 2)  # (T, B, I)
    lengths = np.array([5, 2, 0], np.int32)
    c0, h0 = _uniform(rng, 3, 4), _uniform(rng, 3, 4)
    fused = contrib_rnn.LSTMBlockFusedCell(4, forget_bias=0.0)
    outputs, state = fused(x, initial_state=(c0, h0), sequence_length=lengths)
    assert [v.name for v in v1.global_variables()] == ["lstm_fused_cell/kernel:0",
                                                        "lstm_fused_cell/bias:0"]
    sess.run(v1.global_variables_initializer())
    kernel = _uniform(rng, 6, 16)
    bias = _uniform(rng, 16)
    for var, value in zip(v1.global_variables(), (kernel, bias)):
        var.assign(value).eval(session=sess)
    out, (c, h) = sess.run([outputs, state])
    assert out.shape == (5, 3, 4)
    # the oracle, batch-major, with the same weights and initial state
    spec_out, spec_c, spec_h = _oracle_lstm(x.transpose(1, 0, 2), lengths, kernel, bias, c0, h0)
    np.testing.assert_allclose(out.transpose(1, 0, 2), spec_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, spec_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, spec_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(h[2], h0[2])  # length 0 keeps the initial state
    assert not out[2:, 1].any() and not out[:, 2].any()


def _oracle_lstm(x, lengths, kernel, bias, c0, h0, forget_bias=0.0):
    """Independent NumPy LSTM (gate order i, j, f, o), batch-major x (B, T, I)."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    B, T, _ = x.shape
    c, h = c0.astype(np.float64), h0.astype(np.float64)
    outs = np.zeros((B, T, h0.shape[1]))
    for t in range(T):
        gates = np.concatenate([x[:, t], h], 1) @ kernel + bias
        i, j, f, o = np.split(gates, 4, axis=1)
        new_c = sigmoid(f + forget_bias) * c + sigmoid(i) * np.tanh(j)
        new_h = sigmoid(o) * np.tanh(new_c)
        live = (t < lengths)[:, None]
        c, h = np.where(live, new_c, c), np.where(live, new_h, h)
        outs[:, t] = np.where(live, new_h, 0.0)
    return outs, c, h


def test_projection_wrappers_keep_tf1_names_and_math(tf, graph_session):
    """act(x @ kernel + bias) before the cell, (h @ kernel + bias) after it, state unprojected."""
    _, sess = graph_session
    v1 = tf.compat.v1
    rng = np.random.RandomState(2)
    x = _uniform(rng, 2, 6)
    inner = v1.nn.rnn_cell.BasicRNNCell(3)
    cell = contrib_rnn.OutputProjectionWrapper(
        contrib_rnn.InputProjectionWrapper(inner, 4, activation=tf.tanh), 2)
    out, new_state = cell(tf.constant(x), cell.zero_state(2, tf.float32))
    prefix = "output_projection_wrapper/"
    assert _names(tf) == [prefix + n for n in (
        "bias:0", "input_projection_wrapper/basic_rnn_cell/bias:0",
        "input_projection_wrapper/basic_rnn_cell/kernel:0", "input_projection_wrapper/bias:0",
        "input_projection_wrapper/kernel:0", "kernel:0")]
    sess.run(v1.global_variables_initializer())
    w = {v.name[len(prefix):-2]: sess.run(v) for v in v1.global_variables()}
    got_out, got_state = sess.run([out, new_state])
    projected = np.tanh(x @ w["input_projection_wrapper/kernel"] + w["input_projection_wrapper/bias"])
    h = np.tanh(np.concatenate([projected, np.zeros((2, 3))], 1)
                @ w["input_projection_wrapper/basic_rnn_cell/kernel"]
                + w["input_projection_wrapper/basic_rnn_cell/bias"])
    np.testing.assert_allclose(got_state, h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_out, h @ w["kernel"] + w["bias"], rtol=1e-5, atol=1e-6)
    assert cell.output_size == 2 and cell.state_size == 3
    with pytest.raises(ValueError, match="output_size must be > 0"):
        contrib_rnn.OutputProjectionWrapper(v1.nn.rnn_cell.BasicRNNCell(3), 0)
    with pytest.raises(TypeError, match="not RNNCell"):
        contrib_rnn.InputProjectionWrapper("cell", 3)


def test_embedding_wrapper_embeds_ids_before_the_cell(tf, graph_session):
    _, sess = graph_session
    v1 = tf.compat.v1
    inner = v1.nn.rnn_cell.BasicRNNCell(2)
    cell = contrib_rnn.EmbeddingWrapper(inner, embedding_classes=4, embedding_size=3)
    out, _ = cell(tf.constant([[2], [0]]), inner.zero_state(2, tf.float32))
    sess.run(v1.global_variables_initializer())
    w = _values(tf, sess)
    emb, kernel, bias = (w[f"embedding_wrapper/{n}:0"] for n in (
        "embedding", "basic_rnn_cell/kernel", "basic_rnn_cell/bias"))
    got = sess.run(out)
    x = emb[[2, 0]]
    np.testing.assert_allclose(got, np.tanh(np.concatenate([x, np.zeros((2, 2))], 1) @ kernel
                                            + bias), rtol=1e-5, atol=1e-6)
    assert np.abs(emb).max() <= np.sqrt(3)


def test_contrib_layers_is_tf_slim_plus_embed_sequence(tf, graph_session):
    import tf_slim

    _, sess = graph_session
    v1 = tf.compat.v1
    assert layers.fully_connected is tf_slim.layers.fully_connected
    assert layers.xavier_initializer is tf_slim.xavier_initializer
    assert layers.l2_regularizer is tf_slim.l2_regularizer
    assert layers.optimize_loss is tf_slim.optimize_loss
    assert {"embed_sequence", "fully_connected", "layer_norm"} <= set(dir(layers))
    with pytest.raises(AttributeError, match="no attribute 'no_such_layer'"):
        layers.no_such_layer
    ids = tf.constant([[0, 2, 2], [1, 0, 3]])
    embedded = layers.embed_sequence(ids, vocab_size=4, embed_dim=5)
    unique = layers.embed_sequence(ids, unique=True, scope="EmbedSequence", reuse=True)
    assert _names(tf) == ["EmbedSequence/embeddings:0"]
    assert v1.get_collection(v1.GraphKeys.MODEL_VARIABLES)[0].name == "EmbedSequence/embeddings:0"
    sess.run(v1.global_variables_initializer())
    table = _values(tf, sess)["EmbedSequence/embeddings:0"]
    got, got_unique = sess.run([embedded, unique])
    np.testing.assert_array_equal(got, table[[[0, 2, 2], [1, 0, 3]]])
    np.testing.assert_array_equal(got_unique, got)
    with pytest.raises(ValueError, match="Must specify vocab size and embedding dimension"):
        layers.embed_sequence(ids, scope="other")


def test_contrib_framework_serves_tf_slims_variables_and_nest(tf, graph_session):
    import tf_slim
    from tensorflow.python.util import nest

    assert framework.nest is nest
    assert framework.arg_scope is tf_slim.arg_scope
    assert framework.get_or_create_global_step is tf_slim.get_or_create_global_step
    assert framework.is_tensor(tf.constant(1)) and not framework.is_tensor(1)
    assert framework.nest.flatten({"a": (1, 2), "b": 3}) == [1, 2, 3]
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        framework.nothing_here
