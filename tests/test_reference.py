"""The NumPy oracle (tf1_lstm.reference): closed forms, gradients, contract.

NumPy only: nothing here imports TensorFlow. Agreement with TF itself is the
golden checks' job; these tests pin the oracle's own math: closed-form cases,
analytic gradients against central finite differences (float64), the result
keys, shapes and dtypes, and its errors.
"""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tf1_lstm import naming, reference
from tf1_lstm.spec import CaseSpec, CellSpec, HeadSpec

REPO = Path(__file__).resolve().parent.parent

LSTM = "LSTMCell"
BASIC_LSTM = "BasicLSTMCell"
GRU = "GRUCell"
RNN = "BasicRNNCell"


# Helpers ---------------------------------------------------------------------


def zero_weights(spec) -> Dict[str, np.ndarray]:
    """Every variable zero, biases included (explicit: a constant would leave GRU's gate bias at 1)."""
    return {name: np.zeros(info.shape) for name, info in naming.layout(spec).items()}


def make_spec(cells, *, batch=2, time=3, depth=2, seed=0, scale=0.5, random_state=True,
              dtype="float64", gradients=True, **fields) -> CaseSpec:
    """A case with seeded random inputs, weights and (optionally) initial state."""
    rng = np.random.default_rng(seed)
    driver = fields.get("driver", "dynamic_rnn")
    if driver == "call":
        shape = (batch, depth)
    elif fields.get("time_major"):
        shape = (time, batch, depth)
    else:
        shape = (batch, time, depth)
    spec = CaseSpec(name="case", cells=tuple(cells), inputs=rng.normal(size=shape), dtype=dtype,
                    gradients=gradients, **fields)
    weights = {name: rng.normal(scale=scale, size=info.shape)
               for name, info in naming.layout(spec).items()}
    initial = ({key: rng.normal(size=shape) for key, shape in spec.state_shapes().items()}
               if random_state else None)
    return spec.replace(weights=weights, initial_state=initial)


def loss_of(spec: CaseSpec, arrays: Dict[str, np.ndarray]) -> float:
    """spec.LOSS, written out again here (independent of the oracle's own loss code)."""
    loss = 0.5 * np.sum(arrays["outputs"] ** 2)
    loss += sum(np.sum(arrays[key]) for key in spec.state_keys())
    if spec.head is not None:
        loss += 0.5 * np.sum(arrays["logits"] ** 2)
    return float(loss)


def numeric_gradients(spec: CaseSpec, eps: float = 1e-6) -> Dict[str, np.ndarray]:
    """Central finite differences of the loss, keyed like the oracle's gradients."""
    forward = spec.replace(gradients=False)
    weights = dict(spec.weights)

    def central(array, evaluate):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + eps
            up = evaluate()
            array[index] = saved - eps
            down = evaluate()
            array[index] = saved
            grad[index] = (up - down) / (2 * eps)
        return grad

    grads = {}
    for name in weights:
        weights[name] = np.array(weights[name])
        grads[f"gradients/variables/{name}"] = central(
            weights[name], lambda: loss_of(spec, reference.run(forward, weights)))
    inputs = np.array(spec.inputs)
    grads["gradients/inputs"] = central(
        inputs, lambda: loss_of(spec, reference.run(forward.replace(inputs=inputs), weights)))
    if isinstance(spec.initial_state, dict):
        state = {k: np.array(v) for k, v in spec.initial_state.items()}
        for key in state:
            grads["gradients/initial_state" + key[len("state"):]] = central(
                state[key],
                lambda: loss_of(spec, reference.run(forward.replace(initial_state=state), weights)))
    return grads


def assert_gradients_match(spec: CaseSpec, analytic: Dict[str, np.ndarray]) -> None:
    __tracebackhide__ = True
    numeric = numeric_gradients(spec)
    for key, value in numeric.items():
        np.testing.assert_allclose(analytic[key], value, rtol=1e-6, atol=1e-8, err_msg=key)


def make_run(spec: CaseSpec) -> Dict[str, np.ndarray]:
    """Forward results only."""
    return reference.run(spec.replace(gradients=False))


def rename(arrays: Dict[str, np.ndarray], old: str, new: str) -> Dict[str, np.ndarray]:
    return {k.replace(old, new): v for k, v in arrays.items()}


# Closed forms ----------------------------------------------------------------


class TestClosedForm:
    """Cases whose results are known without running an RNN."""

    @pytest.mark.parametrize("kind", [LSTM, BASIC_LSTM])
    def test_zero_weights_halve_the_cell_state(self, kind):
        """Zero weights, forget_bias=0: c_t = 0.5 * c_{t-1} and h_t = 0.5 * tanh(c_t)."""
        spec = make_spec([CellSpec(kind=kind, num_units=3, forget_bias=0.0)], time=4)
        spec = spec.replace(weights=zero_weights(spec))
        out = reference.run(spec)
        c = spec.initial_state["state/c"]
        for t in range(4):
            c = 0.5 * c
            np.testing.assert_allclose(out["outputs"][:, t], 0.5 * np.tanh(c), rtol=1e-15)
        np.testing.assert_allclose(out["state/c"], c, rtol=1e-15)
        np.testing.assert_allclose(out["state/h"], 0.5 * np.tanh(c), rtol=1e-15)

    def test_zero_weights_gru_halves_the_state(self):
        """Zero weights: r = u = 0.5 and candidate 0, so h_t = 0.5 * h_{t-1}."""
        spec = make_spec([CellSpec(kind=GRU, num_units=3)], time=3)
        spec = spec.replace(weights=zero_weights(spec))
        out = reference.run(spec)
        h0 = spec.initial_state["state"]
        np.testing.assert_allclose(out["outputs"], h0[:, None] * 0.5 ** np.arange(1, 4)[None, :, None],
                                   rtol=1e-15)

    def test_constant_weights_basic_rnn(self):
        """Constant kernel w, bias 0 (the cell's own initializer): h_1 = tanh(w * (sum(x) + sum(h0)))."""
        spec = make_spec([CellSpec(kind=RNN, num_units=3)], driver="call").replace(weights=0.1)
        out = reference.run(spec)
        pre = 0.1 * (spec.inputs.sum(1) + spec.initial_state["state"].sum(1))
        np.testing.assert_allclose(out["outputs"], np.tanh(pre)[:, None].repeat(3, 1), rtol=1e-14)

    def test_cell_clip_zero_gives_zero_outputs(self):
        """cell_clip=0 clips c to 0, so h = o * tanh(0) = 0 at every step."""
        spec = make_spec([CellSpec(num_units=3, cell_clip=0.0, use_peepholes=True)], time=4)
        out = reference.run(spec)
        assert np.abs(make_run(spec.replace(cells=(CellSpec(num_units=3, use_peepholes=True),)))
                      ["outputs"]).max() > 0.1
        np.testing.assert_array_equal(out["outputs"], 0)
        np.testing.assert_array_equal(out["state/c"], 0)

    def test_clip_gradient_passes_at_the_boundary(self):
        """tf.clip_by_value passes gradient where -clip <= c <= clip (Minimum's x <= y).

        Zero weights and state give c = 0 exactly, on the boundary of cell_clip=0;
        then d loss / d c = 1 (state) + o * tanh'(0) * (h + 1) = 1.5 and
        d loss / d bias_j = 1.5 * sigmoid(0) * tanh'(0) = 0.75 per example.
        """
        spec = make_spec([CellSpec(num_units=2, cell_clip=0.0, forget_bias=0.0)], driver="call",
                         batch=3, random_state=False)
        spec = spec.replace(weights=zero_weights(spec))
        grad = reference.run(spec)["gradients/variables/lstm_cell/bias:0"]
        i, j, f, o = np.split(grad, 4)
        np.testing.assert_allclose(j, 0.75 * 3)
        np.testing.assert_allclose(o, 0)        # o multiplies tanh(c) = 0
        np.testing.assert_allclose(f, 0)        # f multiplies c_prev = 0

    def test_sequence_length_zero_returns_initial_state(self):
        """Length 0: outputs are zero and the final state is the initial state."""
        spec = make_spec([CellSpec(num_units=3, num_proj=2)], sequence_length=(0, 0), time=3)
        out = reference.run(spec)
        np.testing.assert_array_equal(out["outputs"], 0)
        for key in spec.state_keys():
            np.testing.assert_array_equal(out[key], spec.initial_state[key])
        # ... and the loss sees the initial state directly: d loss / d state0 = 1.
        np.testing.assert_array_equal(out["gradients/initial_state/c"], 1)
        np.testing.assert_array_equal(out["gradients/initial_state/h"], 1)
        np.testing.assert_array_equal(out["gradients/inputs"], 0)

    @pytest.mark.parametrize("kind", [LSTM, GRU, RNN])
    def test_sequence_length_stops_each_example(self, kind):
        """Example b runs exactly sequence_length[b] steps, then outputs zeros and keeps its state."""
        lengths = (3, 1, 0, 2)
        spec = make_spec([CellSpec(kind=kind, num_units=3)], batch=4, time=3, sequence_length=lengths)
        out = reference.run(spec)
        for b, n in enumerate(lengths):
            alone = make_run(spec.replace(
                inputs=spec.inputs[b:b + 1, :max(n, 1)], sequence_length=(n,),
                initial_state={k: v[b:b + 1] for k, v in spec.initial_state.items()}))
            np.testing.assert_allclose(out["outputs"][b, :n], alone["outputs"][0, :n], rtol=1e-14)
            np.testing.assert_array_equal(out["outputs"][b, n:], 0)
            for key in spec.state_keys():
                np.testing.assert_allclose(out[key][b], alone[key][0], rtol=1e-14)

    def test_head_reads_the_zero_padded_last_step(self):
        """logits = outputs[:, -1] @ weights + biases; short examples get just the biases."""
        spec = make_spec([CellSpec(num_units=3)], head=HeadSpec(num_outputs=2), sequence_length=(3, 1))
        out = reference.run(spec)
        w, b = spec.weights["logits/weights:0"], spec.weights["logits/biases:0"]
        np.testing.assert_allclose(out["logits"], out["outputs"][:, -1] @ w + b, rtol=1e-14)
        np.testing.assert_allclose(out["logits"][1], b, rtol=1e-15)

    def test_float32_math_is_float32(self):
        """A float32 case computes in float32: close to, but not the rounding of, float64."""
        spec = make_spec([CellSpec(num_units=8, use_peepholes=True)], batch=4, time=6, depth=5,
                         dtype="float32")
        out32 = reference.run(spec)
        out64 = reference.run(spec.replace(dtype="float64", weights=dict(spec.weights)))
        for key, value in out32.items():
            assert value.dtype == np.float32, key
        np.testing.assert_allclose(out32["outputs"], out64["outputs"], rtol=1e-5, atol=1e-6)
        assert np.any(out32["outputs"] != out64["outputs"].astype(np.float32))


# Values recorded from TF ------------------------------------------------------


def sin_weights(spec: CaseSpec) -> Dict[str, np.ndarray]:
    """Deterministic weights without an RNG: 0.5 * sin(arange + 1 + k) for the k-th variable."""
    return {name: 0.5 * np.sin(np.arange(np.prod(info.shape)) + 1.0 + k).reshape(info.shape)
            for k, (name, info) in enumerate(naming.layout(spec).items())}


PINNED_LSTM = CaseSpec(
    name="pinned_lstm",
    cells=(CellSpec(num_units=2, use_peepholes=True, cell_clip=0.5, num_proj=2, proj_clip=0.4,
                    forget_bias=0.7),),
    inputs=np.cos(np.arange(12)).reshape(2, 3, 2), sequence_length=(3, 2), dtype="float64",
    gradients=True,
    initial_state={"state/c": [[0.3, -0.2], [0.1, 0.4]], "state/h": [[-0.1, 0.2], [0.3, 0.0]]})
PINNED_STACK = CaseSpec(
    name="pinned_stack",
    cells=(CellSpec(kind=GRU, num_units=2), CellSpec(kind=RNN, num_units=2, activation="relu"),
           CellSpec(kind=BASIC_LSTM, num_units=2, forget_bias=0.3, state_is_tuple=False)),
    multi_rnn=True, driver="call", inputs=np.cos(np.arange(6)).reshape(2, 3), dtype="float64",
    gradients=True,
    initial_state={"state/0": [[0.5, -0.5], [0.2, 0.1]], "state/1": [[0.1, 0.2], [0.3, 0.4]],
                   "state/2": [[0.1, -0.1, 0.2, -0.2], [0.0, 0.3, -0.3, 0.1]]})

# Recorded with TF 2.21 (tf.compat.v1.nn.rnn_cell, dynamic_rnn, tf.gradients) on
# the cases above with sin_weights; the oracle agreed to 1.1e-16.
TF_VALUES = {
    "pinned_lstm": {
        "outputs": [[[-0.1402873187, -0.1057931945], [-0.1052136732, -0.0624069712],
                     [-0.0783823194, -0.1229189647]],
                    [[0.0172048433, -0.0891692327], [-0.0236048442, -0.0520671296], [0.0, 0.0]]],
        "state/c": [[-0.3771841386, -0.5], [-0.1962998741, -0.1405141834]],
        "state/h": [[-0.0783823194, -0.1229189647], [-0.0236048442, -0.0520671296]],
        "loss": -1.451668718,
        "gradients/inputs": [[[-0.019465842, -0.1662694574], [0.0443205166, -0.2470598383],
                              [-0.0598226048, -0.2531476604]],
                             [[-0.2273450291, -0.1519628133], [-0.230593394, -0.5290235624],
                              [0.0, 0.0]]],
    },
    "pinned_stack": {
        "outputs": [[-0.1045758659, -0.1568461226], [-0.1194300282, -0.0919752066]],
        "state/0": [[0.0863085922, -0.7148828814], [0.0391580309, 0.0892154997]],
        "state/1": [[0.0, 0.0], [0.0, 0.1782379139]],
        "state/2": [[-0.1700515244, -0.293861262, -0.1045758659, -0.1568461226],
                    [-0.1846493556, -0.1495751394, -0.1194300282, -0.0919752066]],
        "loss": -1.5637974552,
        "gradients/inputs": [[-0.0595039765, -0.1056194132, 0.0979199019],
                             [-0.2333974991, -0.386407179, 0.5445838783]],
    },
}


@pytest.mark.parametrize("spec", [PINNED_LSTM, PINNED_STACK], ids=lambda s: s.name)
def test_matches_values_recorded_from_tf(spec):
    """TF's gate order, forget_bias, peepholes, clips, projection, GRU, relu, concat state."""
    out = reference.run(spec.replace(weights=sin_weights(spec)))
    for key, value in TF_VALUES[spec.name].items():
        np.testing.assert_allclose(out[key], value, rtol=0, atol=1e-9, err_msg=key)


# Equivalences between drivers and layouts --------------------------------------


class TestEquivalence:
    """Options that change only the packaging give the same numbers."""

    def test_time_major_is_a_transpose(self):
        spec = make_spec([CellSpec(kind=GRU, num_units=3)], batch=3, time=4, sequence_length=(4, 2, 0))
        batch_major = reference.run(spec)
        time_major = reference.run(spec.replace(inputs=spec.inputs.transpose(1, 0, 2), time_major=True))
        for key, value in batch_major.items():
            if key in ("inputs", "outputs", "gradients/inputs"):
                value = value.transpose(1, 0, 2)
            np.testing.assert_allclose(time_major[key], value, rtol=1e-14, atol=1e-15, err_msg=key)

    @pytest.mark.parametrize("cell", [CellSpec(num_units=3, num_proj=2, use_peepholes=True),
                                      CellSpec(kind=BASIC_LSTM, num_units=3)])
    def test_non_tuple_state_is_the_concatenation(self, cell):
        spec = make_spec([cell])
        tuple_out = reference.run(spec)
        concat = {"state": np.concatenate([spec.initial_state["state/c"],
                                           spec.initial_state["state/h"]], axis=1)}
        flat_cell = dataclasses.replace(cell, state_is_tuple=False)
        flat_out = reference.run(spec.replace(cells=(flat_cell,), initial_state=concat))
        np.testing.assert_allclose(flat_out["state"],
                                   np.concatenate([tuple_out["state/c"], tuple_out["state/h"]], 1))
        np.testing.assert_allclose(
            flat_out["gradients/initial_state"],
            np.concatenate([tuple_out["gradients/initial_state/c"],
                            tuple_out["gradients/initial_state/h"]], 1))
        np.testing.assert_allclose(flat_out["outputs"], tuple_out["outputs"])

    def test_multi_rnn_of_one_cell_is_the_cell(self):
        spec = make_spec([CellSpec(num_units=3, use_peepholes=True)])
        single = reference.run(spec)
        multi_spec = spec.replace(
            multi_rnn=True,
            weights=rename(spec.weights, "rnn/", "rnn/multi_rnn_cell/cell_0/"),
            initial_state=rename(spec.initial_state, "state/", "state/0/"))
        multi = rename(rename(reference.run(multi_spec), "multi_rnn_cell/cell_0/", ""), "/0/", "/")
        assert set(multi) == set(single)
        for key, value in single.items():
            np.testing.assert_array_equal(multi[key], value, err_msg=key)

    def test_call_is_one_dynamic_rnn_step(self):
        spec = make_spec([CellSpec(num_units=3, num_proj=2)], driver="call", head=HeadSpec(2))
        call = reference.run(spec)
        step = reference.run(spec.replace(
            driver="dynamic_rnn", inputs=spec.inputs[:, None],
            weights=rename(spec.weights, "lstm_cell/", "rnn/lstm_cell/")))
        step = rename(step, "rnn/lstm_cell/", "lstm_cell/")
        for key, value in call.items():
            np.testing.assert_allclose(step[key].reshape(value.shape), value, rtol=1e-15, err_msg=key)

    def test_stacked_layers_feed_each_other(self):
        """Layer 1 of a MultiRNNCell sees layer 0's outputs as its inputs."""
        cells = (CellSpec(num_units=3, num_proj=2), CellSpec(kind=GRU, num_units=4))
        spec = make_spec(cells, multi_rnn=True)
        out = reference.run(spec)
        first = {k: v for k, v in spec.weights.items() if "cell_0" in k}
        layer0 = reference.run(
            spec.replace(cells=cells[:1], gradients=False, initial_state={
                k: v for k, v in spec.initial_state.items() if k.startswith("state/0/")}), first)
        second = {k: v for k, v in spec.weights.items() if "cell_1" in k}
        layer1 = reference.run(
            spec.replace(cells=cells[1:], gradients=False, inputs=layer0["outputs"],
                         initial_state={"state/0": spec.initial_state["state/1"]}),
            rename(second, "cell_1", "cell_0"))
        np.testing.assert_allclose(out["state/0/c"], layer0["state/0/c"], rtol=1e-15)
        np.testing.assert_allclose(out["outputs"], layer1["outputs"], rtol=1e-15)
        np.testing.assert_allclose(out["state/1"], layer1["state/0"], rtol=1e-15)


# Gradients -------------------------------------------------------------------

GRADIENT_CASES = {
    "lstm": dict(cells=[CellSpec(num_units=3)]),
    "lstm_zero_state": dict(cells=[CellSpec(num_units=3)], random_state=False),
    "peepholes": dict(cells=[CellSpec(num_units=3, use_peepholes=True)]),
    "projection": dict(cells=[CellSpec(num_units=3, num_proj=2)]),
    "cell_clip": dict(cells=[CellSpec(num_units=3, use_peepholes=True, cell_clip=0.35)], scale=1.0),
    "proj_clip": dict(cells=[CellSpec(num_units=3, num_proj=2, proj_clip=0.15)], scale=1.0),
    "sequence_length": dict(cells=[CellSpec(num_units=3, num_proj=2)], batch=3,
                            sequence_length=(3, 1, 0)),
    "time_major": dict(cells=[CellSpec(num_units=3)], time_major=True, sequence_length=(2, 3)),
    "non_tuple": dict(cells=[CellSpec(num_units=3, num_proj=2, state_is_tuple=False)]),
    "basic_lstm": dict(cells=[CellSpec(kind=BASIC_LSTM, num_units=3, forget_bias=0.5)]),
    "basic_lstm_non_tuple": dict(cells=[CellSpec(kind=BASIC_LSTM, num_units=3, state_is_tuple=False)]),
    "gru": dict(cells=[CellSpec(kind=GRU, num_units=3)]),
    "basic_rnn": dict(cells=[CellSpec(kind=RNN, num_units=3)]),
    "relu": dict(cells=[CellSpec(kind=RNN, num_units=3, activation="relu")]),
    "activations": dict(cells=[CellSpec(num_units=2, activation="softsign"),
                               CellSpec(kind=GRU, num_units=2, activation="sigmoid"),
                               CellSpec(kind=BASIC_LSTM, num_units=2, activation="identity")],
                        multi_rnn=True),
    "multi_layer": dict(cells=[CellSpec(num_units=3, num_proj=2, use_peepholes=True),
                               CellSpec(kind=GRU, num_units=2),
                               CellSpec(kind=BASIC_LSTM, num_units=2, state_is_tuple=False)],
                        multi_rnn=True, sequence_length=(3, 2)),
    "head": dict(cells=[CellSpec(num_units=3)], head=HeadSpec(2), sequence_length=(3, 2)),
    "call": dict(cells=[CellSpec(num_units=3, num_proj=2, use_peepholes=True)], driver="call",
                 head=HeadSpec(2)),
    "call_multi": dict(cells=[CellSpec(kind=GRU, num_units=2), CellSpec(kind=RNN, num_units=2)],
                       driver="call", multi_rnn=True),
}


class TestGradients:
    """Analytic gradients agree with central finite differences (float64)."""

    @pytest.mark.parametrize("case", list(GRADIENT_CASES))
    def test_matches_finite_differences(self, case):
        spec = make_spec(**GRADIENT_CASES[case])
        out = reference.run(spec)
        assert float(out["loss"]) == pytest.approx(loss_of(spec, out), rel=1e-14)
        assert_gradients_match(spec, out)

    @pytest.mark.parametrize("case, option", [("cell_clip", "cell_clip"), ("proj_clip", "proj_clip")])
    def test_clip_cases_bind(self, case, option):
        """The clip cases above clip some values (else they would not test the clip's gradient)."""
        spec = make_spec(**GRADIENT_CASES[case])
        unclipped = spec.replace(cells=tuple(dataclasses.replace(c, **{option: None})
                                             for c in spec.cells))
        assert not np.allclose(reference.run(spec)["outputs"], reference.run(unclipped)["outputs"])

    def test_a_wrong_gradient_is_caught(self):
        """The finite-difference check fails on a gradient off by 1e-4 in one element."""
        spec = make_spec(**GRADIENT_CASES["peepholes"])
        out = reference.run(spec)
        out["gradients/variables/rnn/lstm_cell/w_f_diag:0"][1] += 1e-4
        with pytest.raises(AssertionError, match="w_f_diag"):
            assert_gradients_match(spec, out)

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(data=st.data())
    def test_random_configurations(self, data):
        """Gradient vs finite differences over random small configurations."""
        n_layers = data.draw(st.integers(1, 2), label="layers")
        cells = []
        for _ in range(n_layers):
            kind = data.draw(st.sampled_from([LSTM, BASIC_LSTM, GRU, RNN]))
            options = dict(kind=kind, num_units=data.draw(st.integers(1, 3)),
                           activation=data.draw(st.sampled_from([None, "relu", "softsign"])))
            if kind in (LSTM, BASIC_LSTM):
                options["forget_bias"] = data.draw(st.sampled_from([0.0, 1.0]))
                options["state_is_tuple"] = data.draw(st.booleans())
            if kind == LSTM:
                options["use_peepholes"] = data.draw(st.booleans())
                options["cell_clip"] = data.draw(st.sampled_from([None, 0.4]))
                options["num_proj"] = data.draw(st.sampled_from([None, 1, 2]))
                if options["num_proj"]:
                    options["proj_clip"] = data.draw(st.sampled_from([None, 0.2]))
            cells.append(CellSpec(**options))
        driver = data.draw(st.sampled_from(["call", "dynamic_rnn"]))
        batch, time = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
        fields = dict(driver=driver, multi_rnn=n_layers > 1 or data.draw(st.booleans()))
        if driver == "dynamic_rnn":
            fields["time_major"] = data.draw(st.booleans())
            if data.draw(st.booleans()):
                fields["sequence_length"] = tuple(
                    data.draw(st.lists(st.integers(0, time), min_size=batch, max_size=batch)))
        if data.draw(st.booleans()):
            fields["head"] = HeadSpec(num_outputs=data.draw(st.integers(1, 2)))
        spec = make_spec(cells, batch=batch, time=time, depth=data.draw(st.integers(1, 3)),
                         seed=data.draw(st.integers(0, 2 ** 16)), scale=0.8,
                         random_state=data.draw(st.booleans()), **fields)
        assert_gradients_match(spec, reference.run(spec))


# Contract --------------------------------------------------------------------


class TestContract:
    """Keys, shapes and dtypes are those every engine returns."""

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_keys_shapes_and_dtypes(self, dtype):
        cells = (CellSpec(num_units=4, num_proj=3, use_peepholes=True), CellSpec(kind=GRU, num_units=2))
        spec = make_spec(cells, batch=2, time=5, depth=3, dtype=dtype, multi_rnn=True, scope="enc",
                         head=HeadSpec(3, scope="clf"))
        out = reference.run(spec)
        names = [
            "enc/rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0",
            "enc/rnn/multi_rnn_cell/cell_0/lstm_cell/bias:0",
            "enc/rnn/multi_rnn_cell/cell_0/lstm_cell/w_f_diag:0",
            "enc/rnn/multi_rnn_cell/cell_0/lstm_cell/w_i_diag:0",
            "enc/rnn/multi_rnn_cell/cell_0/lstm_cell/w_o_diag:0",
            "enc/rnn/multi_rnn_cell/cell_0/lstm_cell/projection/kernel:0",
            "enc/rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel:0",
            "enc/rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias:0",
            "enc/rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0",
            "enc/rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias:0",
            "clf/weights:0", "clf/biases:0",
        ]
        shapes = {
            "inputs": (2, 5, 3), "outputs": (2, 5, 2), "logits": (2, 3), "loss": (),
            "state/0/c": (2, 4), "state/0/h": (2, 3), "state/1": (2, 2),
            "gradients/inputs": (2, 5, 3), "gradients/initial_state/0/c": (2, 4),
            "gradients/initial_state/0/h": (2, 3), "gradients/initial_state/1": (2, 2),
        }
        for name in names:
            shapes[f"variables/{name}"] = spec.weights[name].shape
            shapes[f"gradients/variables/{name}"] = spec.weights[name].shape
        assert sorted(out) == sorted(shapes)
        for key, shape in shapes.items():
            assert out[key].shape == shape, key
            assert out[key].dtype == np.dtype(dtype), key
        np.testing.assert_array_equal(out["inputs"], spec.inputs)
        for name in names:
            np.testing.assert_array_equal(out[f"variables/{name}"], spec.weights[name])

    def test_forward_only_has_no_gradients(self):
        spec = make_spec([CellSpec(num_units=2)], gradients=False, random_state=False)
        assert sorted(reference.run(spec)) == [
            "inputs", "outputs", "state/c", "state/h",
            "variables/rnn/lstm_cell/bias:0", "variables/rnn/lstm_cell/kernel:0"]

    def test_call_with_zeros_state(self):
        """initial_state 'zeros' (the document's tuple of zeros) is the zero state."""
        spec = make_spec([CellSpec(num_units=3)], driver="call", gradients=False, random_state=False)
        zeros = reference.run(spec.replace(initial_state="zeros"))
        explicit = reference.run(spec.replace(initial_state={"state/c": np.zeros((2, 3)),
                                                             "state/h": np.zeros((2, 3))}))
        assert zeros.keys() == explicit.keys()
        for key, value in zeros.items():
            np.testing.assert_array_equal(value, explicit[key], err_msg=key)

    def test_constant_weights_fill_every_variable_but_the_cells_biases(self):
        """As variable_scope(initializer=constant_initializer(0.25)): biases keep their own init."""
        spec = make_spec([CellSpec(num_units=2, use_peepholes=True, num_proj=1)]).replace(weights=0.25)
        out = reference.run(spec)
        for name, info in naming.layout(spec).items():
            want = 0.0 if info.role == "bias" else 0.25
            np.testing.assert_array_equal(out[f"variables/{name}"], np.full(info.shape, want))

    def test_constant_weights_leave_gru_gate_bias_at_one(self):
        spec = make_spec([CellSpec(kind=GRU, num_units=2)]).replace(weights=0.25)
        out = reference.run(spec)
        np.testing.assert_array_equal(out["variables/rnn/gru_cell/gates/bias:0"], np.ones(4))
        np.testing.assert_array_equal(out["variables/rnn/gru_cell/candidate/bias:0"], np.zeros(2))

    def test_weights_argument_overrides_the_spec(self):
        spec = make_spec([CellSpec(num_units=2)])
        other = {k: v + 0.1 for k, v in spec.weights.items()}
        out = reference.run(spec, other)
        np.testing.assert_array_equal(out["variables/rnn/lstm_cell/bias:0"],
                                      other["rnn/lstm_cell/bias:0"])
        assert not np.allclose(out["outputs"], reference.run(spec)["outputs"])


class TestErrors:
    """Bad weights fail with a ValueError that names the variable."""

    def test_no_weights(self):
        spec = make_spec([CellSpec(num_units=2)]).replace(weights=None)
        with pytest.raises(ValueError, match="needs explicit weights"):
            reference.run(spec)

    def test_wrong_shape_names_the_variable(self):
        spec = make_spec([CellSpec(num_units=2)])
        weights = dict(spec.weights, **{"rnn/lstm_cell/kernel:0": np.zeros((3, 3))})
        with pytest.raises(ValueError, match=r"'rnn/lstm_cell/kernel:0' has shape \(4, 8\).*\(3, 3\)"):
            reference.run(spec, weights)

    def test_missing_variable(self):
        spec = make_spec([CellSpec(num_units=2)])
        weights = {k: v for k, v in spec.weights.items() if not k.endswith("bias:0")}
        with pytest.raises(ValueError, match=r"missing \['rnn/lstm_cell/bias:0'\]"):
            reference.run(spec, weights)

    def test_unknown_variable(self):
        spec = make_spec([CellSpec(num_units=2)])
        weights = dict(spec.weights, **{"rnn/lstm_cell/w_f_diag:0": np.zeros(2)})
        with pytest.raises(ValueError, match=r"unknown \['rnn/lstm_cell/w_f_diag:0'\]"):
            reference.run(spec, weights)

    def test_weights_of_the_wrong_type(self):
        spec = make_spec([CellSpec(num_units=2)])
        with pytest.raises(TypeError, match="mapping from TF variable name"):
            reference.run(spec, "rnn/lstm_cell/kernel:0")


@pytest.mark.subprocess
def test_import_does_not_load_tensorflow():
    """Importing the oracle (and running it) never imports TensorFlow."""
    code = ("import sys, numpy as np\n"
            "from tf1_lstm import reference\n"
            "from tf1_lstm.spec import CaseSpec, CellSpec\n"
            "reference.run(CaseSpec(name='c', cells=(CellSpec(),), inputs=np.ones((1, 2, 3)),"
            " weights=0.1, gradients=True))\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in"
            " ('tensorflow', 'tf_keras', 'keras', 'tf_slim'))\n"
            "print(loaded)\n"
            "sys.exit(1 if loaded else 0)\n")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
