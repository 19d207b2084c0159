"""``tf.contrib.rnn.LSTMBlockCell`` as a case spec cell: the fused kernel, TF1's names, LSTM math."""

import numpy as np
import pytest

from tf1_lstm import compare, naming, reference, spec as spec_mod, tfcompat
from tf1_lstm.engines import tf1
from tf1_lstm.spec import CaseSpec, CellSpec

from test_migrate import engine, random_weights


def block_spec(*cells, **fields):
    rng = np.random.default_rng(9)
    return CaseSpec(name="block", cells=cells, multi_rnn=len(cells) > 1,
                    inputs=rng.standard_normal((3, 5, 2)), **fields)


SPECS = {
    "plain": block_spec(CellSpec(kind="LSTMBlockCell", num_units=3)),
    "peepholes_clip_forget": block_spec(CellSpec(kind="LSTMBlockCell", num_units=3,
                                                 use_peepholes=True, cell_clip=0.4,
                                                 forget_bias=0.3)),
    "stacked_ragged_gradients": block_spec(CellSpec(kind="LSTMBlockCell", num_units=3),
                                           CellSpec(kind="LSTMBlockCell", num_units=2),
                                           sequence_length=(5, 2, 1), gradients=True),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_fused_cell_computes_lstm_math(name):
    spec = SPECS[name]
    weights = random_weights(spec)
    result = compare.compare(tf1.run(spec, weights), reference.run(spec, weights), label=name)
    assert result.ok, result.report()


def test_variables_are_named_as_tf1s_lstm_block_cell_names_them():
    spec = SPECS["peepholes_clip_forget"]
    tf = tfcompat.load()
    with tf.Graph().as_default():
        tf1.build(spec)
        built = [v.name for v in tf.compat.v1.trainable_variables()]
    assert built == list(naming.layout(spec)) == [
        "rnn/lstm_cell/kernel:0", "rnn/lstm_cell/bias:0", "rnn/lstm_cell/w_i_diag:0",
        "rnn/lstm_cell/w_f_diag:0", "rnn/lstm_cell/w_o_diag:0"]


@pytest.mark.parametrize("target", ["keras", "torch", "onnx"])
def test_the_targets_take_a_block_cell_as_an_lstm(target):
    spec = SPECS["plain"]
    weights = random_weights(spec)
    result = compare.compare(engine(target).run(spec, weights), reference.run(spec, weights),
                             label=target)
    assert result.ok, result.report()


@pytest.mark.parametrize("cell,fields,message", [
    (dict(cell_clip=0.0), {}, r"clips only for cell_clip > 0"),
    (dict(num_proj=2), {}, r"num_proj: LSTMBlockCell has no num_proj"),
    (dict(activation="relu"), {}, r"tanh only"),
    (dict(state_is_tuple=False), {}, r"always LSTMStateTuple"),
    ({}, dict(dtype="float64"), r"no float64 kernel \(float16 and float32 only\)"),
])
def test_what_the_fused_kernel_lacks_is_refused(cell, fields, message):
    with pytest.raises(spec_mod.SpecError, match=message):
        block_spec(CellSpec(kind="LSTMBlockCell", num_units=3, **cell), **fields)
