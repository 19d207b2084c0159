"""Property: over random configurations, the TF1 graph and the NumPy oracle agree."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tf1_lstm import cases, compare, naming, reference
from tf1_lstm.engines import tf1
from tf1_lstm.spec import CaseSpec, CellSpec


@st.composite
def cells(draw):
    kind = draw(st.sampled_from(["LSTMCell", "LSTMCell", "BasicLSTMCell", "GRUCell",
                                 "BasicRNNCell"]))
    options = {"kind": kind, "num_units": draw(st.integers(1, 5)),
               "activation": draw(st.sampled_from([None, None, "relu", "sigmoid", "softsign"]))}
    if kind == "LSTMCell":
        options["use_peepholes"] = draw(st.booleans())
        if draw(st.booleans()):
            options["num_proj"] = draw(st.integers(1, 4))
            if draw(st.booleans()):
                options["proj_clip"] = draw(st.sampled_from([0.05, 0.3, 1.0]))
        if draw(st.booleans()):
            options["cell_clip"] = draw(st.sampled_from([0.1, 0.5, 2.0]))
    if kind in ("LSTMCell", "BasicLSTMCell"):
        options["forget_bias"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
        options["state_is_tuple"] = draw(st.booleans())
    return CellSpec(**options)


@st.composite
def specs(draw):
    layers = draw(st.lists(cells(), min_size=1, max_size=3))
    batch, time, depth = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
    time_major = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    shape = (time, batch, depth) if time_major else (batch, time, depth)
    lengths = None
    if draw(st.booleans()):
        lengths = tuple(draw(st.lists(st.integers(0, time), min_size=batch, max_size=batch)))
    spec = CaseSpec(name="prop", cells=tuple(layers), multi_rnn=len(layers) > 1 or draw(st.booleans()),
                    inputs=rng.normal(size=shape), time_major=time_major, sequence_length=lengths,
                    dtype=draw(st.sampled_from(["float32", "float64"])),
                    gradients=draw(st.booleans()))
    if spec.multi_rnn and all(len(c.state_parts) == 1 for c in layers) and draw(st.booleans()):
        spec = spec.replace(multi_state_is_tuple=False)  # MultiRNNCell(state_is_tuple=False)
    if draw(st.booleans()):
        spec = spec.replace(initial_state={k: rng.uniform(-1, 1, s)
                                           for k, s in spec.state_shapes().items()})
    return cases.with_random_weights(spec, seed=seed, scale=0.7)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_tf_and_the_oracle_agree(spec):
    obtained = reference.run(spec)
    expected = tf1.run(spec)
    result = compare.compare(obtained, expected, label="oracle vs TF")
    assert result.ok, f"{spec.cells}\n{result.report()}"


def test_bad_weights_get_the_same_message_from_both_engines():
    spec = cases.get("peepholes")
    weights = dict(spec.weights)
    weights["rnn/lstm_cell/w_f_diag:0"] = np.zeros(5)
    messages = []
    for run in (tf1.run, reference.run):
        with pytest.raises(ValueError) as info:
            run(spec, weights)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "variable 'rnn/lstm_cell/w_f_diag:0' has shape (4,), the weights give shape (5,)" in messages[0]


def test_unknown_variable_gets_the_same_message_from_both_engines():
    spec = cases.get("gru")
    weights = naming.constant_weights(spec, 0.1)
    weights["rnn/gru_cell/kernel:0"] = np.zeros((7, 4))
    messages = []
    for run in (tf1.run, reference.run):
        with pytest.raises(ValueError, match=r"unknown \['rnn/gru_cell/kernel:0'\]") as info:
            run(spec, weights)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
