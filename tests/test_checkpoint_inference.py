"""Reading the model from a checkpoint's names and shapes, and sorting what else it holds.

Pure tests on variable-to-shape maps (no TensorFlow): the stack, each cell's
kind and sizes, the head, and every other key named as training state or left
over. tests/test_convert_without_spec.py runs the same on real checkpoints.
"""

import pytest

from tf1_lstm.migrate import infer, inventory
from tf1_lstm.spec import CellSpec, HeadSpec

F32 = "float32"


def lstm(path, depth, units, proj=None, peepholes=False):
    out = {f"{path}/kernel": (depth + (proj or units), 4 * units), f"{path}/bias": (4 * units,)}
    if proj:
        out[f"{path}/projection/kernel"] = (units, proj)
    if peepholes:
        out.update({f"{path}/{p}": (units,) for p in infer.PEEPHOLES})
    return out


def gru(path, depth, units):
    return {f"{path}/gates/kernel": (depth + units, 2 * units), f"{path}/gates/bias": (2 * units,),
            f"{path}/candidate/kernel": (depth + units, units), f"{path}/candidate/bias": (units,)}


def with_adam(shapes):
    out = dict(shapes)
    for key, shape in shapes.items():
        out[f"{key}/Adam"] = out[f"{key}/Adam_1"] = shape
    out.update({"beta1_power": (), "beta2_power": (), "global_step": ()})
    return out


def run(shapes, **kwargs):
    return infer.infer(shapes, {k: F32 for k in shapes}, **kwargs)


def test_a_stacked_lstm_with_a_dense_head_under_a_scope():
    shapes = with_adam({**lstm("enc/rnn/multi_rnn_cell/cell_0/lstm_cell", 3, 6),
                        **lstm("enc/rnn/multi_rnn_cell/cell_1/lstm_cell", 6, 5, proj=2),
                        "dense/kernel": (2, 4), "dense/bias": (4,)})
    got = run(shapes)
    spec = got.spec
    assert spec.cells == (CellSpec(num_units=6), CellSpec(num_units=5, num_proj=2))
    assert (spec.multi_rnn, spec.driver, spec.scope) == (True, "dynamic_rnn", "enc")
    assert spec.head == HeadSpec(num_outputs=4, scope="dense", layer="dense")
    assert spec.inputs.shape == (infer.BATCH, infer.TIME, 3)
    assert set(got.keys.values()) == {k for k in shapes if "Adam" not in k
                                      and k not in ("beta1_power", "beta2_power", "global_step")}
    assert any("no .meta graph" in n for n in got.notes)


def test_kinds_from_default_names_and_options_from_variables():
    shapes = {**lstm("rnn/multi_rnn_cell/cell_0/basic_lstm_cell", 2, 3),
              **gru("rnn/multi_rnn_cell/cell_1/gru_cell", 3, 4),
              "rnn/multi_rnn_cell/cell_2/basic_rnn_cell/kernel": (4 + 2, 2),
              "rnn/multi_rnn_cell/cell_2/basic_rnn_cell/bias": (2,),
              **lstm("rnn/multi_rnn_cell/cell_3/lstm_cell", 2, 3, peepholes=True),
              "logits/weights": (3, 2), "logits/biases": (2,)}
    spec = run(shapes).spec
    assert [c.kind for c in spec.cells] == ["BasicLSTMCell", "GRUCell", "BasicRNNCell", "LSTMCell"]
    assert [c.num_units for c in spec.cells] == [3, 4, 2, 3]
    assert spec.cells[3].use_peepholes and spec.input_depth == 2
    assert spec.head == HeadSpec(num_outputs=2, scope="logits", layer="fully_connected")


def test_a_cell_called_directly_has_no_rnn_scope():
    spec = run(lstm("LSTM_sample1/basic_lstm_cell", 6, 4)).spec
    assert (spec.driver, spec.scope, spec.multi_rnn) == ("call", "LSTM_sample1", False)
    assert spec.inputs.shape == (infer.BATCH, 6)


def test_several_stacks_need_a_scope_and_the_others_are_left_over():
    shapes = {**lstm("encoder/rnn/lstm_cell", 3, 4), **gru("decoder/rnn/gru_cell", 4, 4)}
    with pytest.raises(ValueError, match=r"holds 2 RNN stacks: 'decoder/rnn' .*'encoder/rnn' .*"
                                         r"--scope .*--allow-partial"):
        run(shapes)
    got = run(shapes, scope="decoder")
    assert got.spec.cells == (CellSpec(kind="GRUCell", num_units=4),)
    left = inventory.classify(shapes, got.keys.values()).left_over
    assert sorted(left) == sorted(lstm("encoder/rnn/lstm_cell", 3, 4))
    with pytest.raises(ValueError, match=r"no RNN stack under scope 'dec'; stacks: "):
        run(shapes, scope="dec")


@pytest.mark.parametrize("shapes,message", [
    ({"dense/kernel": (3, 2), "dense/bias": (2,)}, r"no RNN cell variables in it"),
    ({**lstm("rnn/multi_rnn_cell/cell_0/lstm_cell", 3, 4),
      **lstm("rnn/multi_rnn_cell/cell_1/lstm_cell", 5, 2)},
     r"layer 1 \(rnn/multi_rnn_cell/cell_1/lstm_cell\) takes inputs of depth 5; layer 0 gives 4"),
    ({**lstm("rnn/multi_rnn_cell/cell_0/lstm_cell", 3, 4),
      **lstm("rnn/multi_rnn_cell/cell_2/lstm_cell", 4, 2)}, r"MultiRNNCell layers \[0, 2\]"),
    ({"rnn/my_cell/kernel": (7, 4), "rnn/my_cell/bias": (4,)},
     r"a cell named 'my_cell' \(not a TF1 default name\).*--spec"),
    ({"rnn/my_cell/kernel": (9, 8), "rnn/my_cell/bias": (8,)},   # LSTM(2) or BasicRNN(8)
     r"a cell named 'my_cell' \(not a TF1 default name\).*--spec"),
    ({"rnn/lstm_cell/kernel": (7, 6), "rnn/lstm_cell/bias": (6,)}, r"4 gate blocks"),
])
def test_what_cannot_be_read_is_named(shapes, message):
    with pytest.raises(ValueError, match=message):
        run(shapes)


def test_float16_is_refused_by_name():
    shapes = lstm("rnn/lstm_cell", 2, 3)
    with pytest.raises(ValueError, match=r"variables are \['float16'\]"):
        infer.infer(shapes, {k: "float16" for k in shapes})


def test_a_head_is_taken_only_when_exactly_one_fits():
    base = lstm("rnn/lstm_cell", 2, 3)
    two = {**base, "dense/kernel": (3, 2), "dense/bias": (2,),
           "out/weights": (3, 5), "out/biases": (5,)}
    assert run(two).spec.head is None  # two candidates: none taken, both left over
    wrong_depth = {**base, "dense/kernel": (4, 2), "dense/bias": (2,)}
    assert run(wrong_depth).spec.head is None


def test_training_state_is_recognised_by_place_not_by_optimizer_name():
    shapes = {"w": (3, 4), "w/Adam": (3, 4), "w/Adam_1": (3, 4), "w/MyOpt": (3, 4),
              "w/ExponentialMovingAverage": (3, 4), "beta1_power": (), "beta2_power_1": (),
              "Model/global_step": (), "embedding": (10, 3), "embedding/Momentum": (10, 3),
              "w/not_a_slot": (2,)}
    got = inventory.training_state(shapes)
    assert got == {"w/Adam": "Adam slot of w", "w/Adam_1": "Adam slot of w",
                   "w/MyOpt": "MyOpt slot of w",
                   "w/ExponentialMovingAverage": "moving average of w",
                   "beta1_power": "optimizer scalar", "beta2_power_1": "optimizer scalar",
                   "Model/global_step": "global_step", "embedding/Momentum": "Momentum slot of embedding"}
    kept = inventory.classify(shapes, ["w"])
    assert kept.left_over == {"embedding": (10, 3), "w/not_a_slot": (2,)}
    summary = kept.summary()
    assert summary.startswith("checkpoint: 1 variable(s) converted; 2 Adam slot; ")
    assert "model variable(s) left over: embedding [10, 3], w/not_a_slot [2]" in summary


def test_tf_1_0_names_weights_and_biases_are_read_as_kernel_and_bias():
    shapes = {"rnn/multi_rnn_cell/cell_0/basic_lstm_cell/weights": (3 + 4, 16),
              "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/biases": (16,),
              "rnn/multi_rnn_cell/cell_1/gru_cell/gates/weights": (4 + 2, 4),
              "rnn/multi_rnn_cell/cell_1/gru_cell/gates/biases": (4,),
              "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/weights": (4 + 2, 2),
              "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/biases": (2,),
              "logits/weights": (2, 3), "logits/biases": (3,)}
    got = run(shapes)
    assert [(c.kind, c.num_units) for c in got.spec.cells] == [("BasicLSTMCell", 4), ("GRUCell", 2)]
    assert got.spec.head == HeadSpec(num_outputs=3, scope="logits", layer="fully_connected")
    assert got.keys["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0"] == \
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/weights"
    assert got.keys["rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias:0"] == \
        "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/biases"
    assert sorted(got.keys.values()) == sorted(shapes)


@pytest.mark.parametrize("shapes,message", [
    ({**lstm("bidirectional_rnn/fw/lstm_cell", 3, 4),
      **lstm("bidirectional_rnn/bw/lstm_cell", 3, 4)},
     r"part of bidirectional_dynamic_rnn .*does not convert yet"),
    (lstm("rnn/attention_wrapper/lstm_cell", 5, 4), r"part of an AttentionWrapper"),
    ({"rnn/lstm_cell/kernel": (3, 16), "rnn/lstm_cell/recurrent_kernel": (4, 16),
      "rnn/lstm_cell/bias": (16,)}, r"a Keras cell \(kernel and recurrent_kernel"),
])
def test_models_that_cannot_be_converted_whole_are_refused(shapes, message):
    with pytest.raises(ValueError, match=message):
        run(shapes)
    with pytest.raises(ValueError, match=message):
        run(shapes, scope=sorted({k.rsplit("/", 2)[0] for k in shapes})[0])


def test_a_custom_named_lstm_is_told_from_a_basic_rnn_by_its_kernel():
    # BasicLSTMCell(4, name="my_lstm"): kernel [3 + 4, 16]; a BasicRNNCell(16) would have -9 inputs
    spec = run(lstm("rnn/my_lstm", 3, 4)).spec
    assert (spec.cells[0].kind, spec.cells[0].num_units, spec.cells[0].name) == (
        "LSTMCell", 4, "my_lstm")
