"""The seed document's two examples: graph contract, numbers, and goldens."""

import numpy as np
import pytest

from tf1_lstm import cases, checker, naming
from tf1_lstm.engines import tf1

from conftest import GOLDEN_DIR

# The variables each example creates, as TF1 names them (tf-slim's
# testModelVariables style: every name and shape, written out).
DOC_VARIABLES = {
    "single_cell": {
        "LSTM_sample1/basic_lstm_cell/kernel:0": (10, 16),
        "LSTM_sample1/basic_lstm_cell/bias:0": (16,),
    },
    "stacked": {
        "rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0": (10, 16),
        "rnn/multi_rnn_cell/cell_0/lstm_cell/bias:0": (16,),
        "rnn/multi_rnn_cell/cell_1/lstm_cell/kernel:0": (9, 20),
        "rnn/multi_rnn_cell/cell_1/lstm_cell/bias:0": (20,),
    },
}


@pytest.mark.parametrize("name", sorted(DOC_VARIABLES))
def test_graph_creates_the_documents_variables(name, tf, graph_session):
    """The graph has exactly the TF1 variable names and shapes of the document."""
    tf1.build(cases.get(name))
    got = {v.name: tuple(v.shape.as_list()) for v in tf.compat.v1.trainable_variables()}
    assert got == DOC_VARIABLES[name]


@pytest.mark.parametrize("name", sorted(DOC_VARIABLES))
def test_naming_layout_agrees_with_the_document(name):
    """naming.layout predicts the same names and shapes without building a graph."""
    got = {n: info.shape for n, info in naming.layout(cases.get(name)).items()}
    assert got == DOC_VARIABLES[name]


def test_single_cell_state_is_an_lstm_state_tuple(tf, graph_session):
    """cell(input, (zeros, zeros)) returns LSTMStateTuple(c, h) of (1, 4); output is (1, 4)."""
    built = tf1.build(cases.get("single_cell"))
    assert isinstance(built.state, tf.compat.v1.nn.rnn_cell.LSTMStateTuple)
    assert built.state.c.shape.as_list() == [1, 4]
    assert built.state.h.shape.as_list() == [1, 4]
    assert built.output.shape.as_list() == [1, 4]
    # The document's state: one zeros tensor used twice, a plain tuple.
    assert type(built.initial_state) is tuple and built.initial_state[0] is built.initial_state[1]


def test_stacked_state_is_a_tuple_of_two_lstm_state_tuples(tf, graph_session):
    """dynamic_rnn over MultiRNNCell returns (LSTMStateTuple(4), LSTMStateTuple(5))."""
    built = tf1.build(cases.get("stacked"))
    assert isinstance(built.state, tuple) and len(built.state) == 2
    for layer, units in zip(built.state, (4, 5)):
        assert isinstance(layer, tf.compat.v1.nn.rnn_cell.LSTMStateTuple)
        assert layer.c.shape.as_list() == [None, units]
        assert layer.h.shape.as_list() == [None, units]
    assert built.output.shape.as_list() == [None, None, 5]
    assert built.inputs.shape.as_list() == [None, None, 6]


def test_single_cell_output_equals_h():
    arrays = tf1.run(cases.get("single_cell"))
    assert arrays["outputs"].shape == (1, 4)
    np.testing.assert_array_equal(arrays["outputs"], arrays["state/h"])


def test_stacked_output_shape_and_last_step_equals_top_h():
    arrays = tf1.run(cases.get("stacked"))
    assert arrays["outputs"].shape == (2, 3, 5)
    assert arrays["outputs"].dtype == np.float32
    np.testing.assert_array_equal(arrays["outputs"][:, -1], arrays["state/1/h"])
    assert {k: v.shape for k, v in arrays.items() if k.startswith("state/")} == {
        "state/0/c": (2, 4), "state/0/h": (2, 4), "state/1/c": (2, 5), "state/1/h": (2, 5)}


@pytest.mark.parametrize("name", ["single_cell", "stacked"])
def test_example_matches_its_golden(name):
    """Math (golden weights) and init (seeded weights) both hold, reported separately."""
    result = checker.check_case(cases.get(name), GOLDEN_DIR, write_obtained=False)
    assert result.status == checker.OK, result.report()
    assert result.math.ok and result.init.ok
    assert {a.name for a in result.math.arrays} >= {"outputs", "inputs"}
    assert {a.name for a in result.init.arrays} == {
        naming.variable_key(n) for n in DOC_VARIABLES[name]}


@pytest.mark.parametrize("name", ["single_cell", "stacked"])
def test_golden_records_seed_inputs_and_environment(name):
    from tf1_lstm import golden

    gold = golden.load(GOLDEN_DIR / f"{name}.npz")
    meta = gold.meta
    assert meta["case"] == name and meta["seed"] == cases.get(name).seed == 42
    assert meta["command"] == f"tf1-lstm regen {name}"
    assert {"tensorflow", "tf-keras", "numpy", "python"} <= set(meta["versions"])
    assert "onednn" in meta and "platform" in meta
    assert set(meta["tolerances"]) == set(gold.arrays)
    np.testing.assert_array_equal(gold.arrays["inputs"], cases.get(name).inputs)


def test_weights_change_the_outputs():
    """Loading other weights changes the numbers: the math check can see weights."""
    spec = cases.get("stacked")
    base = tf1.run(spec)
    weights = naming.split_variables(base)
    key = "rnn/multi_rnn_cell/cell_1/lstm_cell/kernel:0"
    weights[key] = weights[key] + np.float32(1e-3)
    moved = tf1.run(spec, weights)
    assert not np.allclose(moved["outputs"], base["outputs"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(moved["variables/" + key], weights[key])
