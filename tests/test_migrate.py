"""Migration converters and target engines (tf1_lstm.migrate): layouts, round trips, equivalence.

Every target engine is compared with the NumPy oracle on small specs with
explicit weights (LSTM, GRU and BasicRNN cells, mixed stacks); what a target
cannot express must raise NotExpressible naming the option and the target; a
swapped gate (LSTM i/f, GRU z/r) or a forgotten forget_bias in the layout
table must make these tests fail (the mutation tests).
"""

import dataclasses
import os
import pickle
import random
import sys

import numpy as np
import pytest

from tf1_lstm import compare, engines, naming, reference
from tf1_lstm.engines import NotExpressible
from tf1_lstm.migrate import convert, layouts
from tf1_lstm.spec import CaseSpec, CellSpec, HeadSpec

TARGETS = layouts.TARGETS
OPTIONAL = {"torch": ("torch",), "onnx": ("onnx", "onnxruntime")}


def engine(name):
    """The engine module; skipped with 'not installed' when its extra is missing."""
    for module in OPTIONAL.get(name, ()):
        pytest.importorskip(module, reason=f"{module} not installed (pip install "
                                           f"'tf1-lstm[{name}]')")
    return engines.get(name)


def random_weights(spec, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return {name: (scale * rng.standard_normal(info.shape)).astype(spec.dtype)
            for name, info in naming.layout(spec).items()}


def spec_of(name, cells, *, batch=3, time=4, depth=2, seed=1, state=False, **fields):
    """A small case with random inputs (and a random initial state with ``state``)."""
    rng = np.random.default_rng(seed)
    multi = len(cells) > 1 or fields.pop("multi_rnn", False)
    shape = (batch, depth) if fields.get("driver") == "call" else (
        (time, batch, depth) if fields.get("time_major") else (batch, time, depth))
    spec = CaseSpec(name=name, cells=tuple(cells), multi_rnn=multi,
                    inputs=rng.standard_normal(shape), **fields)
    if state:
        spec = spec.replace(initial_state={k: rng.standard_normal(s)
                                           for k, s in spec.state_shapes().items()})
    return spec


GRU, RNN = "GRUCell", "BasicRNNCell"
# Specs every target can express (LSTM cells without peepholes, clipping or
# projection; BasicRNN cells with tanh or relu), mixed stacks included.
COMMON = [
    spec_of("one_cell", [CellSpec(num_units=3)]),
    spec_of("call_driver", [CellSpec(num_units=3, forget_bias=0.5)], driver="call", state=True),
    spec_of("stacked_ragged", [CellSpec(num_units=3), CellSpec(num_units=2, forget_bias=0.0)],
            sequence_length=(4, 2, 0), state=True),
    spec_of("time_major_not_tuple", [CellSpec(kind="BasicLSTMCell", num_units=2,
                                              state_is_tuple=False)] * 2,
            time_major=True, state=True),
    spec_of("head_gradients", [CellSpec(num_units=3)], head=HeadSpec(num_outputs=2),
            gradients=True, sequence_length=(4, 1, 3)),
    spec_of("stacked_float64_gradients", [CellSpec(num_units=2), CellSpec(num_units=2)],
            dtype="float64", gradients=True, state=True),
    spec_of("rnn_ragged_gradients", [CellSpec(kind=RNN, num_units=3)], sequence_length=(4, 2, 0),
            state=True, gradients=True),
    spec_of("rnn_relu_two_layers_head", [CellSpec(kind=RNN, num_units=2, activation="relu")] * 2,
            time_major=True, state=True, head=HeadSpec(num_outputs=2)),
    spec_of("lstm_rnn_float64_gradients", [CellSpec(num_units=3), CellSpec(kind=RNN, num_units=2)],
            dtype="float64", gradients=True, state=True, sequence_length=(4, 1, 0)),
    spec_of("multi_state_not_tuple", [CellSpec(num_units=2, state_is_tuple=False),
                                      CellSpec(kind=RNN, num_units=3)],
            multi_state_is_tuple=False, state=True, gradients=True, sequence_length=(4, 2, 0)),
    spec_of("dense_head", [CellSpec(num_units=3), CellSpec(num_units=2)],
            head=HeadSpec(num_outputs=2, scope="dense", layer="dense")),
]
# What only some targets express: (spec, targets that express it).
PARTIAL = [
    (spec_of("peepholes_identity", [CellSpec(num_units=3, use_peepholes=True,
                                             activation="identity")], sequence_length=(4, 2, 0),
             state=True), {"onnx"}),
    (spec_of("relu", [CellSpec(num_units=3, activation="relu")]), {"keras", "keras3", "onnx"}),
    (spec_of("projection", [CellSpec(num_units=4, num_proj=2), CellSpec(num_units=4, num_proj=2)],
             sequence_length=(4, 0, 2), state=True), {"torch"}),
    (spec_of("projection_uneven", [CellSpec(num_units=4, num_proj=2), CellSpec(num_units=3)],
             gradients=True), {"torch"}),
    (spec_of("gru_ragged_gradients", [CellSpec(kind=GRU, num_units=3)], sequence_length=(4, 2, 0),
             state=True, gradients=True), {"keras", "keras3", "onnx"}),
    (spec_of("gru_float64_call", [CellSpec(kind=GRU, num_units=3)], driver="call", dtype="float64",
             state=True, gradients=True), {"keras", "keras3", "onnx"}),
    (spec_of("lstm_gru_rnn_stack", [CellSpec(num_units=3, forget_bias=0.5),
                                    CellSpec(kind=GRU, num_units=2, activation="softsign"),
                                    CellSpec(kind=RNN, num_units=2)],
             sequence_length=(4, 2, 0), state=True, gradients=True, head=HeadSpec(num_outputs=2)),
     {"keras", "keras3", "onnx"}),
    (spec_of("rnn_sigmoid_identity", [CellSpec(kind=RNN, num_units=3, activation="sigmoid"),
                                      CellSpec(kind=RNN, num_units=2, activation="identity")],
             state=True), {"keras", "keras3", "onnx"}),
]


def assert_matches_oracle(spec, name, weights):
    __tracebackhide__ = True
    expected = reference.run(spec, weights)
    obtained = engine(name).run(spec, weights)
    result = compare.compare(obtained, expected, label=f"{name} vs oracle [{spec.name}]",
                             tolerances=spec.tolerances)
    assert result.ok, result.report()


class TestEnginesMatchOracle:
    """Each target, fed converted TF1 weights, computes what TF1 computes (the oracle's arrays)."""

    @staticmethod
    def _what_onnx_runs(spec, name):
        """onnx refuses gradients and float64 (named); the rest of the spec is still checked."""
        if name == "onnx" and (spec.gradients or spec.dtype == "float64"):
            with pytest.raises(NotExpressible, match="not expressible in onnx"):
                engine(name).run(spec, random_weights(spec))
            spec = spec.replace(gradients=False, dtype="float32")
        return spec

    @pytest.mark.parametrize("name", TARGETS)
    @pytest.mark.parametrize("spec", COMMON, ids=lambda s: s.name)
    def test_common(self, spec, name):
        spec = self._what_onnx_runs(spec, name)
        assert_matches_oracle(spec, name, random_weights(spec))

    @pytest.mark.parametrize("name", TARGETS)
    @pytest.mark.parametrize("spec,able", PARTIAL, ids=lambda s: getattr(s, "name", ""))
    def test_partial(self, spec, able, name):
        if name in able:
            spec = self._what_onnx_runs(spec, name)
            assert_matches_oracle(spec, name, random_weights(spec))
        else:
            pattern = f"cells\\[\\d\\]\\..* is not expressible in {name}: "
            with pytest.raises(NotExpressible, match=pattern):
                engine(name).run(spec, random_weights(spec))


# One cell using each cell option of the NOT_EXPRESSIBLE table.
OPTION_CELLS = {
    "use_peepholes": CellSpec(use_peepholes=True),
    "cell_clip": CellSpec(cell_clip=1.0),
    "num_proj": CellSpec(num_proj=2),
    "proj_clip": CellSpec(num_proj=2, proj_clip=1.0),
    "activation": CellSpec(activation="relu"),
    "kind=GRUCell": CellSpec(kind=GRU),
}


class TestNotExpressible:
    """Options a target lacks raise NotExpressible naming the option and the target (one table)."""

    @pytest.mark.parametrize("option,by_target", [
        (o, t) for o, t in layouts.NOT_EXPRESSIBLE.items() if o in OPTION_CELLS])
    def test_every_row_of_the_table(self, option, by_target):
        spec = spec_of("x", [OPTION_CELLS[option]])
        for target in TARGETS:
            if target in by_target:
                named = "(num_proj|proj_clip)" if option == "proj_clip" else option
                with pytest.raises(NotExpressible, match=f"{named}.* is not expressible in "
                                                          f"{target}: "):
                    convert.to_target(spec, random_weights(spec), target)
            elif option != "proj_clip":  # proj_clip also has num_proj, which some lack
                convert.to_target(spec, random_weights(spec), target)

    def test_error_names_the_layer(self):
        spec = spec_of("x", [CellSpec(num_units=2), CellSpec(num_units=2, use_peepholes=True)])
        with pytest.raises(NotExpressible, match=r"^cells\[1\]\.use_peepholes is not expressible "
                                                 r"in keras: .*peephole") as info:
            convert.to_target(spec, random_weights(spec), "keras")
        assert (info.value.engine, info.value.option) == ("keras", "cells[1].use_peepholes")

    def test_gru_in_torch_names_the_reset_gate(self):
        spec = spec_of("x", [CellSpec(num_units=2), CellSpec(kind=GRU, num_units=2)])
        with pytest.raises(NotExpressible, match=r"^cells\[1\]\.kind=GRUCell is not expressible "
                                                 r"in torch: torch.nn.GRU applies the reset gate "
                                                 r"after the recurrent matmul") as info:
            convert.to_target(spec, random_weights(spec), "torch")
        assert (info.value.engine, info.value.option) == ("torch", "cells[1].kind=GRUCell")

    @pytest.mark.parametrize("activation", ["sigmoid", "softsign", "identity"])
    def test_torch_rnn_has_tanh_and_relu_only(self, activation):
        """A BasicRNNCell becomes nn.RNN: the reason names nn.RNN's nonlinearities, not nn.LSTM."""
        spec = spec_of("x", [CellSpec(num_units=2),
                             CellSpec(kind=RNN, num_units=2, activation=activation)])
        with pytest.raises(NotExpressible, match=rf"^cells\[1\]\.activation={activation} is not "
                                                 rf"expressible in torch: torch\.nn\.RNN's "
                                                 rf"nonlinearity is 'tanh' or 'relu'$"):
            convert.to_target(spec, random_weights(spec), "torch")

    def test_torch_lstm_has_tanh_only(self):
        spec = spec_of("x", [CellSpec(num_units=2, activation="relu")])
        with pytest.raises(NotExpressible, match=r"^cells\[0\]\.activation=relu is not "
                                                 r"expressible in torch: torch\.nn\.LSTM always "
                                                 r"uses tanh$"):
            convert.to_target(spec, random_weights(spec), "torch")

    def test_onnx_float64_and_gradients(self):
        spec = spec_of("x", [CellSpec(num_units=2)], dtype="float64")
        with pytest.raises(NotExpressible, match=r"dtype=float64 .* onnx: onnxruntime"):
            convert.to_target(spec, random_weights(spec), "onnx")
        spec = spec_of("x", [CellSpec(num_units=2)], gradients=True)
        with pytest.raises(NotExpressible, match=r"gradients is not expressible in onnx"):
            engine("onnx").run(spec, random_weights(spec))

    def test_unknown_target(self):
        spec = spec_of("x", [CellSpec(num_units=2)])
        with pytest.raises(ValueError, match="unknown migration target 'jax'"):
            convert.to_target(spec, random_weights(spec), "jax")


class TestGlobalState:
    """An engine run leaves the caller's random streams and environment variables as they were.

    tf-keras' and Keras 3's initializers draw op seeds from Python's ``random``;
    Keras 3 reads ``KERAS_BACKEND`` when it is first imported.
    """

    @pytest.mark.parametrize("name", list(engines.ENGINES))
    def test_random_streams_and_environment_are_unchanged(self, name, monkeypatch, tf):
        monkeypatch.delenv("KERAS_BACKEND", raising=False)  # a user who never set it
        module = engine(name)
        spec = spec_of("global_state", [CellSpec(num_units=3), CellSpec(num_units=2)],
                       head=HeadSpec(num_outputs=2))
        weights = random_weights(spec)
        random.seed(1234)
        np.random.seed(1234)
        streams = {"random": random.getstate, "numpy": lambda: pickle.dumps(np.random.get_state())}
        if "torch" in sys.modules:
            import torch

            streams["torch"] = lambda: torch.random.get_rng_state().numpy().tobytes()
        before = {k: get() for k, get in streams.items()}
        environ = dict(os.environ)
        for _ in range(2):  # the first run may import the framework
            module.run(spec, weights)
            assert {k: get() for k, get in streams.items()} == before
            assert dict(os.environ) == environ
        assert random.random() == random.Random(1234).random()


class TestRoundTrip:
    """TF1 -> target -> TF1 gives the variables back; bit-exact where forget_bias is kept apart."""

    SPEC = spec_of("rt", [CellSpec(num_units=3, forget_bias=1.0),
                          CellSpec(num_units=3, forget_bias=0.7)], head=HeadSpec(num_outputs=2))

    @pytest.mark.parametrize("target", ["torch", "onnx"])
    def test_two_bias_targets_are_exact(self, target):
        weights = random_weights(self.SPEC)
        back = convert.to_tf1(self.SPEC, convert.to_target(self.SPEC, weights, target), target)
        assert list(back) == list(weights)
        for name in weights:
            np.testing.assert_array_equal(back[name], weights[name], err_msg=name)

    @pytest.mark.parametrize("target", ["keras", "keras3"])
    def test_keras_folds_forget_bias_into_its_one_bias(self, target):
        weights = random_weights(self.SPEC)
        converted = convert.to_target(self.SPEC, weights, target)
        back = convert.to_tf1(self.SPEC, converted, target)
        for name in weights:
            if name.endswith("/bias:0"):
                # The forget slice was rounded once in b_f + forget_bias: half an ulp of that sum.
                ulp = np.spacing(np.abs(weights[name]) + 1.0).astype(np.float32)
                assert np.all(np.abs(back[name] - weights[name]) <= ulp), name
            else:
                np.testing.assert_array_equal(back[name], weights[name], err_msg=name)
        # To cells built with forget_bias=0 the way back is exact.
        unfolded = convert.to_tf1(self.SPEC, converted, target, unfold_forget_bias=False)
        h = 3
        bias = unfolded["rnn/multi_rnn_cell/cell_1/lstm_cell/bias:0"]
        expected = weights["rnn/multi_rnn_cell/cell_1/lstm_cell/bias:0"].copy()
        expected[2 * h:3 * h] += np.float32(0.7)
        np.testing.assert_array_equal(bias, expected)

    @pytest.mark.parametrize("target", TARGETS)
    def test_gru_and_rnn_are_exact_in_every_target(self, target):
        """No forget_bias to fold: GRU and RNN weights come back bit for bit, Keras included."""
        cells = ([CellSpec(kind=GRU, num_units=3), CellSpec(kind=RNN, num_units=2)]
                 if target != "torch" else
                 [CellSpec(kind=RNN, num_units=3), CellSpec(kind=RNN, num_units=2,
                                                            activation="relu")])
        specs = [spec_of("rt", cells, head=HeadSpec(num_outputs=2))]
        if target != "onnx":  # onnxruntime: float32 only
            specs.append(spec_of("rt64", cells[:1] * 2, dtype="float64"))
        for spec in specs:
            weights = random_weights(spec)
            back = convert.to_tf1(spec, convert.to_target(spec, weights, target), target)
            assert list(back) == list(weights)
            for name in weights:
                np.testing.assert_array_equal(back[name], weights[name], err_msg=name)

    def test_peepholes_and_projection_round_trip(self):
        for spec, target in [(spec_of("p", [CellSpec(num_units=2, use_peepholes=True)]), "onnx"),
                             (spec_of("q", [CellSpec(num_units=3, num_proj=2)] * 2), "torch"),
                             (spec_of("r", [CellSpec(num_units=3, num_proj=2),
                                            CellSpec(num_units=2)]), "torch")]:
            weights = random_weights(spec)
            back = convert.to_tf1(spec, convert.to_target(spec, weights, target), target)
            for name in weights:
                np.testing.assert_array_equal(back[name], weights[name], err_msg=name)

    def test_target_names_and_shapes(self):
        spec = spec_of("n", [CellSpec(num_units=4), CellSpec(num_units=5)], depth=6)
        assert convert.expected_names(spec, "torch") == {
            "0.weight_ih_l0": (16, 6), "0.weight_hh_l0": (16, 4), "0.bias_ih_l0": (16,),
            "0.bias_hh_l0": (16,), "1.weight_ih_l0": (20, 4), "1.weight_hh_l0": (20, 5),
            "1.bias_ih_l0": (20,), "1.bias_hh_l0": (20,)}
        assert convert.expected_names(spec, "keras") == {
            "cell_0/kernel": (6, 16), "cell_0/recurrent_kernel": (4, 16), "cell_0/bias": (16,),
            "cell_1/kernel": (4, 20), "cell_1/recurrent_kernel": (5, 20), "cell_1/bias": (20,)}
        assert convert.expected_names(spec, "onnx") == {
            "W_0": (1, 16, 6), "R_0": (1, 16, 4), "B_0": (1, 32),
            "W_1": (1, 20, 4), "R_1": (1, 20, 5), "B_1": (1, 40)}
        gru = spec_of("g", [CellSpec(kind=GRU, num_units=4), CellSpec(kind=RNN, num_units=5)],
                      depth=6)
        assert convert.expected_names(gru, "keras") == {
            "cell_0/kernel": (6, 12), "cell_0/recurrent_kernel": (4, 12), "cell_0/bias": (12,),
            "cell_1/kernel": (4, 5), "cell_1/recurrent_kernel": (5, 5), "cell_1/bias": (5,)}
        assert convert.expected_names(gru, "onnx") == {
            "W_0": (1, 12, 6), "R_0": (1, 12, 4), "B_0": (1, 24),
            "W_1": (1, 5, 4), "R_1": (1, 5, 5), "B_1": (1, 10)}
        rnn = spec_of("r", [CellSpec(kind=RNN, num_units=4)] * 2, depth=6)
        assert convert.expected_names(rnn, "torch") == {
            "weight_ih_l0": (4, 6), "weight_hh_l0": (4, 4), "bias_ih_l0": (4,),
            "bias_hh_l0": (4,), "weight_ih_l1": (4, 4), "weight_hh_l1": (4, 4),
            "bias_ih_l1": (4,), "bias_hh_l1": (4,)}
        uniform = spec_of("u", [CellSpec(num_units=3, num_proj=2)] * 2)
        assert list(convert.expected_names(uniform, "torch")) == [
            f"{w}_l{k}" for k in (0, 1)
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")]

    def test_wrong_target_weights_are_named(self):
        spec = spec_of("w", [CellSpec(num_units=3)])
        weights = convert.to_target(spec, random_weights(spec), "torch")
        weights["weight_hh_l0"] = weights["weight_hh_l0"][:, :2]
        with pytest.raises(ValueError, match=r"torch weight 'weight_hh_l0' has shape \(12, 2\), "
                                             r"expected \(12, 3\)"):
            convert.to_tf1(spec, weights, "torch")


class TestLayoutTable:
    """The table is the one place gate orders live; its docstring shows each of them."""

    def test_gate_orders(self):
        assert layouts.TF1_GATES == ("i", "j", "f", "o")
        assert {f: layouts.tf1_gates(f) for f in layouts.FAMILIES} == {
            "lstm": ("i", "j", "f", "o"), "gru": ("r", "u", "c"), "rnn": ("h",)}
        keras = {"lstm": ("i", "f", "j", "o"), "gru": ("u", "r", "c"), "rnn": ("h",)}
        assert {t: {f: lay.gates for f, lay in layouts.LAYOUTS[t].items()} for t in TARGETS} == {
            "keras": keras, "keras3": keras,
            "torch": {"lstm": ("i", "f", "j", "o"), "rnn": ("h",)},
            "onnx": {"lstm": ("i", "o", "f", "j"), "gru": ("u", "r", "c"), "rnn": ("h",)}}
        assert layouts.LAYOUTS["onnx"]["lstm"].peepholes == ("w_i_diag", "w_o_diag", "w_f_diag")
        # A family missing from the table is one NOT_EXPRESSIBLE names, with its reason.
        for target in TARGETS:
            for kind, family in layouts.FAMILY.items():
                if family not in layouts.LAYOUTS[target]:
                    assert target in layouts.NOT_EXPRESSIBLE[f"kind={kind}"], (target, kind)

    def test_docstring_shows_every_order(self):
        doc = layouts.__doc__
        for target in TARGETS:
            for family, lay in layouts.LAYOUTS[target].items():
                order = "gates " + " ".join(lay.gates)
                assert any(target in line and f" {family} " in line and order in line
                           for line in doc.splitlines()), (target, family)
        assert "[w_i_diag, w_o_diag, w_f_diag]" in doc

    def test_reorder_is_a_permutation(self):
        for target in TARGETS:
            for lay in layouts.LAYOUTS[target].values():
                n = len(lay.gates)
                assert sorted(lay.gates) == sorted(lay.tf1_gates)
                blocks = np.repeat(np.arange(n), 2)                  # gate k -> value k
                moved = lay.to_target(blocks)
                assert [int(moved[2 * k]) for k in range(n)] == [
                    lay.tf1_gates.index(g) for g in lay.gates]
                np.testing.assert_array_equal(lay.to_tf1(moved), blocks)

    @pytest.mark.parametrize("target", ["keras", "onnx"])
    def test_gru_by_hand(self, target):
        """Keras' and ONNX's GRU blocks z, r, h are TF1's update gate, reset gate, candidate."""
        spec = spec_of("g", [CellSpec(kind=GRU, num_units=2)], depth=3)
        v = random_weights(spec)
        gates, gates_b = v["rnn/gru_cell/gates/kernel:0"], v["rnn/gru_cell/gates/bias:0"]
        cand, cand_b = v["rnn/gru_cell/candidate/kernel:0"], v["rnn/gru_cell/candidate/bias:0"]
        r, u = np.split(gates, 2, axis=1)                             # (I + H, H) each
        b_r, b_u = np.split(gates_b, 2)
        kernel = np.concatenate([u, r, cand], axis=1)                 # z, r, h: (I + H, 3H)
        bias = np.concatenate([b_u, b_r, cand_b])                     # (3H,)
        w = convert.to_target(spec, v, target)
        if target == "keras":
            np.testing.assert_array_equal(w["cell_0/kernel"], kernel[:3])
            np.testing.assert_array_equal(w["cell_0/recurrent_kernel"], kernel[3:])
            np.testing.assert_array_equal(w["cell_0/bias"], bias)
        else:
            np.testing.assert_array_equal(w["W_0"][0], kernel[:3].T)
            np.testing.assert_array_equal(w["R_0"][0], kernel[3:].T)
            np.testing.assert_array_equal(w["B_0"][0], np.concatenate([bias, np.zeros(6)]))


# The layouts with more than one gate block, and a spec of that family to run them on.
MUTANT_SPECS = {
    "lstm": spec_of("mutant", [CellSpec(num_units=3), CellSpec(num_units=2)], state=True),
    "gru": spec_of("mutant_gru", [CellSpec(kind=GRU, num_units=3), CellSpec(kind=GRU, num_units=2)],
                   state=True),
}
MUTANTS = [(t, f) for t in TARGETS for f in MUTANT_SPECS if f in layouts.LAYOUTS[t]]


class TestMutations:
    """A converter with a swapped gate (LSTM i/f, GRU z/r) or a forgotten forget_bias fails."""

    def _fails(self, name, spec=MUTANT_SPECS["lstm"]):
        weights = random_weights(spec)
        expected = reference.run(spec, weights)
        obtained = engine(name).run(spec, weights)
        keys = ["outputs"] + list(spec.state_keys())
        result = compare.compare({k: obtained[k] for k in keys}, {k: expected[k] for k in keys},
                                 label=f"mutant {name}")
        return not result.ok

    @pytest.mark.parametrize("name,family", MUTANTS)
    def test_swapped_gates(self, monkeypatch, name, family):
        lay = layouts.LAYOUTS[name][family]
        g = list(lay.gates)
        g[0], g[1] = g[1], g[0]                                       # LSTM i/f, GRU z/r
        monkeypatch.setitem(layouts.LAYOUTS[name], family, dataclasses.replace(lay, gates=tuple(g)))
        assert self._fails(name, MUTANT_SPECS[family])

    @pytest.mark.parametrize("name", TARGETS)
    def test_forgotten_forget_bias(self, monkeypatch, name):
        monkeypatch.setattr(layouts.Layout, "forget_bias_vector",
                            lambda self, units, fb, dtype: np.zeros(len(self.gates) * units, dtype))
        assert self._fails(name)

    @pytest.mark.parametrize("family", MUTANT_SPECS)
    def test_unmutated_passes(self, family):
        assert not self._fails("keras3", MUTANT_SPECS[family])
