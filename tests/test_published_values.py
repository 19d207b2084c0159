"""Values published by TensorFlow's own TF1 cell tests, reproduced by both engines.

The expected numbers are those asserted in TensorFlow's ``rnn_cell_test.py``
(``testMultiRNNCell``, ``testMultiRNNCellWithStateTuple``,
``testGRUCell``-style multi-cell test): constant 0.5 initializer on a
variable scope, input ``[[1, 1]]``, initial state ``0.1``. They were computed
by TensorFlow, not by tf1_lstm, so they check our semantics from outside.
"""

import numpy as np
import pytest

from tf1_lstm import reference
from tf1_lstm.engines import tf1
from tf1_lstm.spec import CaseSpec, CellSpec

ENGINES = {"tf": tf1.run, "numpy": reference.run}
# TF's tests use assertAllClose's defaults.
RTOL, ATOL = 1e-6, 1e-6

MEM0 = [[0.68967271, 0.68967271, 0.44848421, 0.44848421]]
MEM1 = [[0.39897051, 0.39897051, 0.24024698, 0.24024698]]


def _basic_lstm_pair(**multi):
    state = ({"state": 0.1 * np.ones((1, 8))} if multi.get("multi_state_is_tuple") is False
             else {"state/0": 0.1 * np.ones((1, 4)), "state/1": 0.1 * np.ones((1, 4))})
    return CaseSpec(name="tf_multi_rnn_cell", driver="call", scope="root", inputs=[[1.0, 1.0]],
                    cells=(CellSpec(kind="BasicLSTMCell", num_units=2, state_is_tuple=False),) * 2,
                    multi_rnn=True, weights=0.5, initial_state=state, **multi)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_multi_rnn_cell_of_basic_lstm_cells_with_state_tuple(engine):
    out = ENGINES[engine](_basic_lstm_pair())
    np.testing.assert_allclose(out["outputs"], [[0.24024698, 0.24024698]], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out["state/0"], MEM0, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out["state/1"], MEM1, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_multi_rnn_cell_with_concatenated_state(engine):
    """MultiRNNCell(state_is_tuple=False): one (1, 8) state, the layers side by side."""
    out = ENGINES[engine](_basic_lstm_pair(multi_state_is_tuple=False))
    np.testing.assert_allclose(out["outputs"], [[0.24024698, 0.24024698]], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out["state"], np.concatenate([MEM0, MEM1], axis=1),
                               rtol=RTOL, atol=ATOL)
    assert set(k for k in out if k.startswith("state")) == {"state"}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_multi_rnn_cell_of_gru_cells(engine):
    spec = CaseSpec(name="tf_multi_gru", driver="call", scope="root", inputs=[[1.0, 1.0]],
                    cells=(CellSpec(kind="GRUCell", num_units=2),) * 2, multi_rnn=True,
                    weights=0.5, initial_state={"state/0": [[0.1, 0.1]], "state/1": [[0.1, 0.1]]})
    out = ENGINES[engine](spec)
    np.testing.assert_allclose(out["state/0"], [[0.175991, 0.175991]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["state/1"], [[0.13248, 0.13248]], rtol=1e-5, atol=1e-6)


def test_concatenated_state_gradients_agree():
    """d loss / d the concatenated initial state, through both engines."""
    spec = _basic_lstm_pair(multi_state_is_tuple=False).replace(
        driver="dynamic_rnn", inputs=np.ones((1, 3, 2)), gradients=True, scope=None)
    ours, theirs = reference.run(spec), tf1.run(spec)
    assert ours["gradients/initial_state"].shape == (1, 8)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_concatenated_state_refuses_tuple_cells():
    from tf1_lstm.spec import SpecError

    with pytest.raises(SpecError, match=r"cells \[0, 1\] have tuple states"):
        CaseSpec(name="x", inputs=np.ones((1, 2, 2)), multi_rnn=True, multi_state_is_tuple=False,
                 cells=(CellSpec(num_units=2), CellSpec(num_units=2)))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_float64_training_uses_tf1s_float32_hyperparameters(optimizer):
    """TF1 optimizers hold lr, betas and beta powers as float32; the oracle follows in float64."""
    from tf1_lstm import cases

    base = cases.get(f"train_{optimizer}")
    spec = cases.with_random_weights(base.replace(dtype="float64", name="train64"), seed=3)
    spec = spec.replace(train=base.train.__class__(optimizer=optimizer, learning_rate=0.1, steps=5,
                                                   targets=base.train.targets))
    ours, theirs = reference.run(spec), tf1.run(spec)
    for key in ("train/loss", *[k for k in theirs if k.startswith("train/variables/")]):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-11, atol=1e-12, err_msg=key)


def test_jacobian_with_a_head_in_both_engines():
    from tf1_lstm import cases

    spec = cases.get("slim_head").replace(jacobian=True, gradients=False)
    weights = {k: v for k, v in tf1.run(spec).items()}
    ours = reference.run(spec, {k[len("variables/"):]: v for k, v in weights.items()
                                if k.startswith("variables/")})
    np.testing.assert_allclose(ours["jacobian_norms"], weights["jacobian_norms"], rtol=1e-5,
                               atol=1e-6)
