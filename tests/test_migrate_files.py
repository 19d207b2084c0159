"""Goldens, checkpoints and the CLI for the migration targets.

Every golden case a target can express is reproduced by it within the
golden's tolerance, from converted weights (``check --engines``) and from a
checkpoint of the case's graph converted to the target's file and reloaded
(``convert``).
"""

import sys

import numpy as np
import pytest

from tf1_lstm.spec import forward_results
from tf1_lstm import cases, checker, compare, engines, golden, naming, reference
from tf1_lstm.cli import main
from tf1_lstm.migrate import checkpoint, files, layouts, runner
from tf1_lstm.spec import CellSpec

from test_migrate import OPTIONAL, engine

GOLDEN_CASES = [name for name in cases.names()
                if golden.path_for(checker.GOLDEN_DIR, name).exists()]


# The golden cases with GRU or BasicRNN cells -> the targets that must reproduce them;
# the others say why not (the reason the test checks is in brackets).
NON_LSTM = {
    "gru": {"keras", "keras3", "onnx"},                  # torch: nn.GRU resets after the matmul
    "basic_rnn": {"keras", "keras3", "torch", "onnx"},
    "rnn_vanishing": {"keras", "keras3", "torch"},       # onnx: float64
    "rnn_exploding": {"keras", "keras3"},                # torch: identity; onnx: float64
    "explode_1_01": {"keras", "keras3"},                 # torch: identity; onnx: float64
    "vanish_0_99": {"keras", "keras3"},                  # torch: identity; onnx: float64
    "static_rnn_scoped": {"keras", "keras3", "onnx"},    # torch: its GRUCell layer
    "stacked_float16": set(),                            # float16: no target
    "cell_initializer": {"keras", "keras3", "onnx"},     # torch: its GRUCell layer
}


def golden_weights(case):
    return naming.split_variables(golden.load(golden.path_for(checker.GOLDEN_DIR, case)).arrays)


class TestGoldens:
    """Each target reproduces each golden case it can express; what it cannot is named (one table)."""

    @pytest.mark.parametrize("target", layouts.TARGETS)
    @pytest.mark.parametrize("case", GOLDEN_CASES)
    def test_golden(self, case, target):
        engine(target)
        spec = cases.get(case)
        (check,) = checker.check_engines(spec, [target])
        assert check.status in (checker.OK, checker.NOT_EXPRESSIBLE), check.line()
        if case in NON_LSTM:
            assert (check.status == checker.OK) == (target in NON_LSTM[case]), check.line()
        if check.status == checker.NOT_EXPRESSIBLE:
            reasons = [r[target] for r in layouts.NOT_EXPRESSIBLE.values() if target in r]
            assert any(r in check.detail for r in reasons), check.detail
        elif check.detail:  # gradients not expressible: the forward arrays were compared
            assert check.detail.startswith("forward only ("), check.detail
            assert " is not expressible in " in check.detail

    def test_every_gru_and_rnn_golden_is_listed(self):
        """A new golden with GRU or BasicRNN cells must say which targets reproduce it."""
        non_lstm = {c for c in GOLDEN_CASES if not all(x.is_lstm for x in cases.get(c).cells)}
        assert non_lstm == set(NON_LSTM)

    @pytest.mark.parametrize("case", ["rnn_vanishing", "rnn_exploding", "explode_1_01",
                                      "vanish_0_99"])
    def test_long_rnn_goldens_in_onnx_float32(self, case):
        """No double RNN kernel in onnxruntime; in float32 ONNX runs the T=500 cases as the oracle.

        ``atol`` is the float32 default scaled to the array's magnitude (the
        linear cases reach 1e4, where float32 rounding differences grow with
        the values).
        """
        engine("onnx")
        spec = cases.get(case).replace(dtype="float32", jacobian=False)
        weights = {k: v.astype(np.float32) for k, v in golden_weights(case).items()}
        expected = reference.run(spec, weights)
        obtained = engine("onnx").run(spec, weights)
        rtol, atol = compare.default_tolerance(np.float32)
        tolerances = {k: (rtol, atol * max(1.0, float(np.abs(v).max())))
                      for k, v in expected.items()}
        result = compare.compare(obtained, expected, label=f"onnx float32 vs oracle [{case}]",
                                 tolerances=tolerances)
        assert result.ok, result.report()

    @pytest.mark.parametrize("target", layouts.TARGETS)
    def test_the_document_examples_in_every_target(self, target):
        engine(target)
        for case in ("single_cell", "stacked"):
            (check,) = checker.check_engines(cases.get(case), [target])
            assert check.status == checker.OK and not check.detail, check.line()

    def test_a_perturbed_golden_fails(self, golden_copy):
        """The check can fail: nudge one golden output and every engine reports a mismatch."""
        path = golden.path_for(golden_copy, "stacked")
        gold = golden.load(path)
        arrays = dict(gold.arrays)
        arrays["outputs"] = arrays["outputs"] + np.float32(1e-3)
        golden.save(path, arrays, gold.meta)
        checks = checker.check_engines(cases.get("stacked"), ["keras", "numpy"], golden_copy)
        assert [c.status for c in checks] == [checker.MISMATCH] * 2
        assert "Mismatched elements" in checks[0].line()


class TestCheckCommand:
    """``check --engines`` shows each engine per case: max error, not expressible, not installed."""

    def test_all_engines(self, capsys):
        names = ["single_cell"] + (["cell_clip"] if "cell_clip" in GOLDEN_CASES else [])
        assert main(["check", *names, "--engines", "all", "--no-oracle"]) == 0
        out = capsys.readouterr().out
        assert "engines vs golden:" in out
        for name in engines.ENGINES:
            assert f"\n    {name} " in out, name
        assert "max abs error" in out
        if "cell_clip" in names:
            assert "not expressible: cells[0].cell_clip is not expressible in onnx" in out

    def test_not_installed(self, monkeypatch, capsys):
        monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
        monkeypatch.delitem(sys.modules, "tf1_lstm.engines.torch_engine", raising=False)
        assert main(["check", "single_cell", "--engines", "torch,numpy", "--json"]) == 0
        import json

        report = json.loads(capsys.readouterr().out)
        torch_check, numpy_check = report["cases"][0]["engines"]
        assert torch_check["status"] == "not installed" and "torch" in torch_check["detail"]
        assert numpy_check["status"] == "ok" and numpy_check["max_abs"] < 1e-6

    def test_unknown_engine(self, capsys):
        assert main(["check", "single_cell", "--engines", "jax"]) == 2
        assert "--engines: unknown engine(s) ['jax']" in capsys.readouterr().err

    def test_compute_with_a_target_engine(self, tmp_path, capsys):
        engine("onnx")
        out = tmp_path / "stacked.onnx.npz"
        gold = str(golden.path_for(checker.GOLDEN_DIR, "stacked"))
        assert main(["compute", "stacked", "--engine", "onnx", "--weights", gold,
                     "--out", str(out)]) == 0
        arrays = golden.load(out).arrays
        expected = golden.load(gold).arrays
        result = compare.compare(arrays, expected, label="compute onnx")
        assert result.ok, result.report()

    def test_compute_says_not_expressible(self, capsys):
        if "peepholes" not in GOLDEN_CASES:
            pytest.skip("no peepholes golden")
        gold = str(golden.path_for(checker.GOLDEN_DIR, "peepholes"))
        assert main(["compute", "peepholes", "--engine", "keras", "--weights", gold]) == 2
        assert "use_peepholes is not expressible in keras" in capsys.readouterr().err


# One format per target for every golden case (test_every_golden_case), the other Keras
# format through the CLI (test_convert_reload_compare): every format and every target's
# CLI conversion once. Measured with -n 2 (2 cores): the sweep's 108 tests take 8 s summed,
# 4 s of wall time: tf-keras 0.15-0.3 s a case (two model builds, an .h5 write and read),
# Keras 3 about 0.07 s, torch and onnx 0.01 s after their first import, a checkpoint 0.06 s
# (written once per case and worker). The six T=500 cases cost 0.2-0.45 s each in tf-keras
# (traced from keras_model.TRACE_FROM steps on), under 1 s of wall time together: they stay,
# being the cases where a layout slip compounds over 500 steps.
CASE_FORMATS = {"keras": "weights.h5", "keras3": "keras", "torch": "pt", "onnx": "onnx"}
CLI_FORMATS = {"keras": "keras", "keras3": "weights.h5", "torch": "pt", "onnx": "onnx"}


def reloaded_matches_golden(case: str, target: str, out) -> None:
    """The target file ``out``, reloaded on its own, reproduces the golden's forward pass."""
    __tracebackhide__ = True
    spec = cases.get(case).forward_only()
    obtained = runner.run_model(spec, files.load(spec, target, out), files.target_of(target))
    expected = forward_results(golden.load(golden.path_for(checker.GOLDEN_DIR, case)).arrays)
    result = compare.compare(obtained, expected, label=f"{target} {out.name} vs golden [{case}]",
                             tolerances=spec.tolerances)
    assert result.ok, result.report()


class TestCheckpoints:
    """A checkpoint of each golden case's graph, converted to a target's file, gives the golden."""

    @pytest.fixture(scope="class")
    def saved(self, tmp_path_factory):
        """``case -> checkpoint prefix`` with the golden's weights, each written once, on demand."""
        root = tmp_path_factory.mktemp("ckpt")
        written = {}

        def prefix(case: str) -> str:
            if case not in written:
                written[case] = checkpoint.write(root / case / "model.ckpt", cases.get(case),
                                                 golden_weights(case))
            return written[case]

        return prefix

    @pytest.mark.parametrize("target", layouts.TARGETS)
    @pytest.mark.parametrize("case", cases.names())
    def test_every_golden_case(self, saved, tmp_path, case, target):
        """Checkpoint -> target file -> reloaded -> the golden; skipped where the target cannot.

        gradients, jacobian and train are not part of a checkpoint's meaning:
        the forward pass is compared (so onnx converts the cases that ask for
        gradients all the same).
        """
        engine(target)
        spec = cases.get(case).forward_only()
        try:
            runner.check_runnable(spec, target)
        except engines.NotExpressible as exc:
            assert target not in NON_LSTM.get(case, ()), f"{case} must convert to {target}: {exc}"
            pytest.skip(str(exc))
        out = tmp_path / f"{case}.{CASE_FORMATS[target]}"
        files.save(spec, checkpoint.read(saved(case), spec), target, out)
        reloaded_matches_golden(case, target, out)

    @pytest.mark.parametrize("target", layouts.TARGETS)
    def test_convert_reload_compare(self, saved, tmp_path, capsys, target):
        """``tf1-lstm convert`` writes the target's file; reloaded, it reproduces the golden."""
        engine(target)
        out = tmp_path / f"stacked.{CLI_FORMATS[target]}"
        assert main(["convert", saved("stacked"), "--spec", "stacked", "--to", target,
                     "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert f"wrote {out} ({target})" in printed and ": OK (" in printed
        reloaded_matches_golden("stacked", target, out)

    def test_read_by_name(self, saved):
        variables = checkpoint.read(saved("stacked"), cases.get("stacked"))
        assert sorted(variables) == sorted(naming.layout(cases.get("stacked")))
        for name, value in golden_weights("stacked").items():
            np.testing.assert_array_equal(variables[name], value)

    def test_scope_is_selectable(self, tmp_path):
        spec = cases.get("single_cell")
        moved = spec.replace(scope="model/encoder")
        prefix = checkpoint.write(tmp_path / "model.ckpt", moved,
                                  {n.replace("LSTM_sample1", "model/encoder"): v
                                   for n, v in golden_weights("single_cell").items()})
        with pytest.raises(ValueError, match=r"checkpoint has no variable\(s\) \['LSTM_sample1/"
                                             r"basic_lstm_cell/kernel'.*model/encoder/"
                                             r"basic_lstm_cell/bias.*--scope"):
            checkpoint.read(prefix, spec)
        variables = checkpoint.read(prefix, spec, scope="model/encoder")
        assert sorted(variables) == sorted(golden_weights("single_cell"))

    @pytest.mark.parametrize("spec_scope", [None, "enc"])
    def test_scope_moves_the_cells_not_the_head(self, tmp_path, spec_scope):
        """``scope=`` renames the cells' variables only: a tf-slim head is built outside it."""
        spec = cases.get("slim_head").replace(scope=spec_scope)
        assert checkpoint.checkpoint_names(spec, "enc") == {
            f"{spec_scope + '/' if spec_scope else ''}rnn/lstm_cell/{v}:0": f"enc/rnn/lstm_cell/{v}"
            for v in ("kernel", "bias")} | {f"logits/{v}:0": f"logits/{v}"
                                           for v in ("weights", "biases")}
        assert set(checkpoint.checkpoint_names(spec, "").values()) == {
            "rnn/lstm_cell/kernel", "rnn/lstm_cell/bias", "logits/weights", "logits/biases"}
        weights = golden_weights("slim_head")
        prefix = checkpoint.write(tmp_path / "model.ckpt", spec.replace(scope="enc"),
                                  {n.replace("rnn/", "enc/rnn/"): v for n, v in weights.items()})
        variables = checkpoint.read(prefix, spec, scope="enc")
        assert sorted(variables) == sorted(naming.layout(spec))
        np.testing.assert_array_equal(variables["logits/weights:0"], weights["logits/weights:0"])

    def test_convert_with_a_scope_keeps_the_head(self, tmp_path, capsys):
        """The review's repro: slim_head's graph built under 'enc', converted with --scope enc."""
        engine("keras")
        spec = cases.get("slim_head")
        prefix = checkpoint.write(tmp_path / "model.ckpt", spec.replace(scope="enc"),
                                  {n.replace("rnn/", "enc/rnn/"): v
                                   for n, v in golden_weights("slim_head").items()})
        out = tmp_path / "head.weights.h5"
        assert main(["convert", prefix, "--spec", "slim_head", "--to", "keras", "--out", str(out),
                     "--scope", "enc"]) == 0, capsys.readouterr().err
        assert ": OK (" in capsys.readouterr().out

    def test_not_a_checkpoint(self, tmp_path):
        with pytest.raises(ValueError, match="not a readable TF1 checkpoint"):
            checkpoint.read(tmp_path / "nothing.ckpt", cases.get("single_cell"))

    def test_bad_suffix(self, saved, tmp_path, capsys):
        assert main(["convert", saved("stacked"), "--spec", "stacked", "--to", "keras",
                     "--out", str(tmp_path / "x.h5")]) == 2
        assert "a keras file ends in .weights.h5 or .keras" in capsys.readouterr().err

    def test_not_expressible_target(self, saved, tmp_path, capsys):
        spec = cases.get("stacked").replace(cells=(CellSpec(num_units=4, use_peepholes=True),
                                                   CellSpec(num_units=5)))
        weights = naming.constant_weights(spec, 0.1)
        prefix = checkpoint.write(tmp_path / "p.ckpt", spec, weights)
        with pytest.raises(engines.NotExpressible,
                           match="use_peepholes is not expressible in torch"):
            files.convert_checkpoint(prefix, spec, "torch", tmp_path / "p.pt")
        assert not (tmp_path / "p.pt").exists()


def test_optional_extras_are_listed():
    """The engines that need an extra are exactly the ones the skip helper knows."""
    assert set(OPTIONAL) == {"torch", "onnx"}
