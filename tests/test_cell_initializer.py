"""A cell's own initializer (``LSTMCell(initializer=...)``, ``GRUCell(kernel_initializer=...)``)."""

import json

import numpy as np
import pytest

from tf1_lstm import spec as spec_mod, tfcompat
from tf1_lstm.engines import tf1
from tf1_lstm.spec import CaseSpec, CellSpec


def two_cells(lstm_init, gru_init=None, peepholes=True, **fields):
    return CaseSpec(name="init", multi_rnn=True, inputs=np.ones((2, 3, 2)),
                    cells=(CellSpec(num_units=4, initializer=lstm_init, use_peepholes=peepholes),
                           CellSpec(kind="GRUCell", num_units=3, initializer=gru_init)),
                    **fields)


def seeded_weights(spec):
    return {k[len("variables/"):]: v for k, v in tf1.run(spec).items()
            if k.startswith("variables/")}


def test_the_cells_initializer_draws_the_kernel_as_tf1_would():
    spec = two_cells(("random_uniform", -0.01, 0.01), ("constant", 0.25))
    weights = seeded_weights(spec)
    lstm = "rnn/multi_rnn_cell/cell_0/lstm_cell/"
    gru = "rnn/multi_rnn_cell/cell_1/gru_cell/"
    for name in ("kernel", "w_f_diag", "w_i_diag", "w_o_diag"):
        assert np.abs(weights[lstm + name + ":0"]).max() <= 0.01, name
    np.testing.assert_array_equal(weights[lstm + "bias:0"], 0.0)  # biases keep their own
    np.testing.assert_array_equal(weights[gru + "gates/kernel:0"], 0.25)
    np.testing.assert_array_equal(weights[gru + "candidate/kernel:0"], 0.25)
    np.testing.assert_array_equal(weights[gru + "gates/bias:0"], 1.0)
    # the same TF1 graph built by hand draws the same numbers
    tf = tfcompat.load()
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.set_random_seed(spec.seed)
        cells = [v1.nn.rnn_cell.LSTMCell(4, initializer=v1.random_uniform_initializer(-0.01, 0.01),
                                         use_peepholes=True, state_is_tuple=True),
                 v1.nn.rnn_cell.GRUCell(3, kernel_initializer=v1.constant_initializer(0.25))]
        x = v1.placeholder(tf.float32, [None, None, 2])
        v1.nn.dynamic_rnn(v1.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            by_hand = dict(zip([v.name for v in v1.trainable_variables()],
                               sess.run(v1.trainable_variables())))
    assert sorted(by_hand) == sorted(weights)
    for name in by_hand:
        np.testing.assert_array_equal(by_hand[name], weights[name], err_msg=name)


def test_another_initializer_changes_the_seeded_weights_and_json_round_trips():
    # (orthogonal needs 2-d variables: TF1 refuses it on peepholes too)
    a = seeded_weights(two_cells(("orthogonal", 1.0), peepholes=False))
    b = seeded_weights(two_cells(None, peepholes=False))
    kernel = "rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0"
    assert not np.array_equal(a[kernel], b[kernel])
    spec = two_cells(("truncated_normal", 0.0, 0.1))
    data = spec_mod.to_dict(spec)
    assert data["cells"][0]["initializer"] == ["truncated_normal", 0.0, 0.1]
    assert "initializer" not in data["cells"][1]
    again = spec_mod.from_dict(json.loads(json.dumps(data)))
    assert again.cells[0].initializer == ("truncated_normal", 0.0, 0.1)


@pytest.mark.parametrize("cell,fields,message", [
    (CellSpec(initializer=("uniform", 1)), {}, r"cells\[0\]\.initializer: expected \[name"),
    (CellSpec(initializer=("random_uniform", 1)), {}, r"random_uniform takes \['minval', "),
    (CellSpec(initializer=("constant", True)), {}, r"constant takes \['value'\]"),
    (CellSpec(kind="BasicRNNCell", initializer=("glorot_uniform",)), {},
     r"BasicRNNCell has no initializer argument"),
    (CellSpec(initializer=("glorot_uniform",)), {"weights": 0.5},
     r"weights: a constant initializer on the scope does not reach cells \[0\]"),
])
def test_bad_initializers_are_named(cell, fields, message):
    with pytest.raises(spec_mod.SpecError, match=message):
        CaseSpec(name="bad", cells=(cell,), inputs=np.ones((2, 3, 2)), **fields)
