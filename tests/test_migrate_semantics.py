"""What each target does with sequence_length, clip and projection, pinned by running it.

These are the claims the converters rely on (docs/migration.md states them):
Keras masking repeats the previous output unless ``zero_output_for_mask``;
PyTorch's packed sequences give zeros and the last real state but refuse
length 0; onnxruntime's ``sequence_lens`` gives zeros and the last real state
but a zero state for length 0 (LSTM, GRU and RNN nodes alike); ONNX's ``clip``
is not TF1's ``cell_clip``; PyTorch's GRU is not TF1's GRUCell.
"""

import numpy as np
import pytest

from tf1_lstm import engines, naming, reference
from tf1_lstm.migrate import convert, keras_model
from tf1_lstm.spec import CaseSpec, CellSpec

from test_migrate import engine, random_weights

RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 4, 3)).astype(np.float32)                # (B, T, I)


@pytest.mark.parametrize("target", ["keras", "keras3"])
def test_keras_masking_repeats_the_output_unless_told(target):
    K = keras_model.module(target)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    keep = K.layers.LSTM(3, return_sequences=True, return_state=True)
    out, h, c = (np.asarray(a) for a in keep(X, mask=mask))
    np.testing.assert_array_equal(out[0, 2], out[0, 1])            # repeated, not TF1's zeros
    np.testing.assert_array_equal(h[0], out[0, 1])                 # state carried, as TF1
    zero = K.layers.LSTM(3, return_sequences=True, return_state=True, zero_output_for_mask=True)
    zero.build(X.shape)
    zero.set_weights(keep.get_weights())
    out0, h0, _ = (np.asarray(a) for a in zero(X, mask=mask))
    np.testing.assert_array_equal(out0[0, 2:], 0)
    np.testing.assert_array_equal(h0, h)


def test_torch_packed_sequences():
    torch = pytest.importorskip("torch",
                                reason="torch not installed (pip install 'tf1-lstm[torch]')")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = torch.nn.LSTM(3, 2, batch_first=True)
    x = torch.from_numpy(X)
    with torch.no_grad():
        packed = pack_padded_sequence(x, torch.tensor([2, 4]), batch_first=True,
                                      enforce_sorted=False)
        seq, (h, _) = lstm(packed)
        out, _ = pad_packed_sequence(seq, batch_first=True, total_length=4)
        full, _ = lstm(x[:1, :2])
    assert torch.all(out[0, 2:] == 0)                              # zeros past the length
    torch.testing.assert_close(h[0, 0], full[0, 1])                # state of the last real step
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, torch.tensor([0, 4]), batch_first=True, enforce_sorted=False)


ONNX_OPS = {"LSTMCell": "LSTM", "GRUCell": "GRU", "BasicRNNCell": "RNN"}


def _onnx_lstm(weights, *, clip=None, lengths=False, initial=False, op="LSTM"):
    """A bare one-node ONNX LSTM (GRU, RNN) without tf1_lstm's fix-ups, in an onnxruntime session.

    Node attributes are ONNX's defaults (a GRU's ``linear_before_reset=0``).
    """
    pytest.importorskip("onnx", reason="onnx not installed (pip install 'tf1-lstm[onnx]')")
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install "
                                              "'tf1-lstm[onnx]')")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    f = TensorProto.FLOAT
    hidden = weights["R_0"].shape[-1]
    inputs = [helper.make_tensor_value_info("X", f, ["T", "B", X.shape[-1]])]
    parts = ("H0", "C0") if op == "LSTM" else ("H0",)
    names = ["X", "W_0", "R_0", "B_0", ""] + [""] * len(parts)
    if lengths:
        inputs.append(helper.make_tensor_value_info("L", TensorProto.INT32, ["B"]))
        names[4] = "L"
    if initial:
        for name in parts:
            inputs.append(helper.make_tensor_value_info(name, f, [1, "B", hidden]))
        names[5:] = parts
    attrs = {"hidden_size": hidden} if clip is None else {"hidden_size": hidden, "clip": clip}
    results = ("Y", "Y_h", "Y_c")[:len(parts) + 1]
    node = helper.make_node(op, names, list(results), **attrs)
    outputs = [helper.make_tensor_value_info(n, f, None) for n in results]
    inits = [numpy_helper.from_array(weights[k], k) for k in ("W_0", "R_0", "B_0")]
    graph = helper.make_graph([node], "bare", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _spec(**cell):
    return CaseSpec(name="s", cells=(CellSpec(num_units=3, **cell),), inputs=X)


@pytest.mark.parametrize("kind", list(ONNX_OPS))
def test_onnx_sequence_lens_and_length_zero(kind):
    spec = _spec(kind=kind)
    lstm = kind == "LSTMCell"
    variables = random_weights(spec)
    session = _onnx_lstm(convert.to_target(spec, variables, "onnx"), lengths=True, initial=True,
                         op=ONNX_OPS[kind])
    h0 = np.full((1, 2, 3), 0.5, np.float32)
    c0 = np.full((1, 2, 3), -0.5, np.float32)
    feeds = {"X": X.transpose(1, 0, 2), "L": np.array([0, 2], np.int32), "H0": h0}
    state = {"state": h0[0]}
    if lstm:
        feeds["C0"], state = c0, {"state/c": c0[0], "state/h": h0[0]}
    y, y_h = session.run(None, feeds)[:2]
    h_key = "state/h" if lstm else "state"
    ragged = spec.replace(sequence_length=(0, 2), initial_state=state)
    tf1 = reference.run(ragged, variables)
    np.testing.assert_array_equal(y[2:, 0, 1], 0)                   # zeros past the length
    np.testing.assert_allclose(y_h[0, 1], tf1[h_key][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y_h[0, 0], 0)                     # length 0: a zero state ...
    assert not np.allclose(tf1[h_key][0], 0)                        # ... where TF1 keeps h0
    np.testing.assert_array_equal(tf1[h_key][0], h0[0, 0])
    # tf1_lstm's ONNX model adds the Where that gives TF1's answer.
    ours = engine("onnx").run(ragged, variables)
    np.testing.assert_array_equal(ours[h_key][0], h0[0, 0])


def test_onnx_clip_is_not_tf1_cell_clip():
    """ONNX clips the gate pre-activations too: with TF1's cell_clip it computes something else."""
    spec = _spec()
    variables = {k: 3 * v for k, v in random_weights(spec).items()}  # pre-activations beyond 0.5
    session = _onnx_lstm(convert.to_target(spec, variables, "onnx"), clip=0.5)
    y, _, y_c = session.run(None, {"X": X.transpose(1, 0, 2)})
    clipped = reference.run(_spec(cell_clip=0.5), variables)
    assert np.abs(y.transpose(2, 0, 1, 3)[:, :, 0] - clipped["outputs"]).max() > 1e-2
    # Without the clip the same node matches TF1 exactly: the difference is the clip alone.
    y, _, _ = _onnx_lstm(convert.to_target(spec, variables, "onnx")).run(
        None, {"X": X.transpose(1, 0, 2)})
    np.testing.assert_allclose(y.transpose(2, 0, 1, 3)[:, :, 0], reference.run(spec, variables)[
        "outputs"], rtol=1e-5, atol=1e-5)


def test_torch_projection_is_tf1_num_proj():
    """proj_size: h = W_hr (o * tanh(c)) is TF1's num_proj with W_hr = projection/kernel.T."""
    spec = _spec(num_proj=2)
    variables = random_weights(spec)
    weights = convert.to_target(spec, variables, "torch")
    np.testing.assert_array_equal(weights["weight_hr_l0"],
                                  variables["rnn/lstm_cell/projection/kernel:0"].T)
    obtained = engine("torch").run(spec, variables)
    np.testing.assert_allclose(obtained["outputs"], reference.run(spec, variables)["outputs"],
                               rtol=1e-5, atol=1e-6)
    assert naming.layout(spec)["rnn/lstm_cell/kernel:0"].shape == (3 + 2, 12)


def test_torch_gru_is_not_tf1_gru():
    """nn.GRU resets after the recurrent matmul: given TF1 GRUCell weights it is another cell.

    The nearest mapping (nn.GRU's rows r, z, n = TF1's r, u, c; ``bias_ih`` = TF1's
    biases, ``bias_hh`` = 0) misses TF1 by far; with the reset gate held open
    (r = 1) the same mapping agrees, so where the reset is applied is the whole
    difference (``r * (W_hn h)`` against ``(r * h) @ W``).
    """
    torch = pytest.importorskip("torch",
                                reason="torch not installed (pip install 'tf1-lstm[torch]')")
    spec = _spec(kind="GRUCell")
    variables = {k: 3 * v for k, v in random_weights(spec).items()}

    def nn_gru(v):
        p = "rnn/gru_cell/"
        kernel = np.concatenate([v[p + "gates/kernel:0"], v[p + "candidate/kernel:0"]], 1)  # r u c
        bias = np.concatenate([v[p + "gates/bias:0"], v[p + "candidate/bias:0"]])          # (3H,)
        gru = torch.nn.GRU(3, 3, batch_first=True)
        gru.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in {
            "weight_ih_l0": kernel[:3].T, "weight_hh_l0": kernel[3:].T,
            "bias_ih_l0": bias, "bias_hh_l0": np.zeros_like(bias)}.items()})
        with torch.no_grad():
            return gru(torch.from_numpy(X))[0].numpy()                # (B, T, H)

    gap = np.abs(nn_gru(variables) - reference.run(spec, variables)["outputs"]).max()
    assert gap > 1e-2, gap
    with pytest.raises(engines.NotExpressible, match="kind=GRUCell is not expressible in torch"):
        engine("torch").run(spec, variables)
    opened = dict(variables)
    bias = opened["rnn/gru_cell/gates/bias:0"].copy()
    bias[:3] = 100.0                                                  # r = sigmoid(100 + ...) = 1
    opened["rnn/gru_cell/gates/bias:0"] = bias
    np.testing.assert_allclose(nn_gru(opened), reference.run(spec, opened)["outputs"],
                               rtol=1e-5, atol=1e-5)
