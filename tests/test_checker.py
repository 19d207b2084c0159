"""The checker fails when it should: nudged weights, damaged goldens, NaN."""

import numpy as np
import pytest

from tf1_lstm import cases, checker, golden


def _rewrite(path, change):
    """Load a golden, apply ``change(arrays)``, and save it back with its metadata."""
    gold = golden.load(path)
    change(gold.arrays)
    golden.save(path, gold.arrays, gold.meta)


KERNEL = "variables/rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0"


def test_weight_nudged_by_1e_3_is_reported(golden_copy):
    """A golden kernel element moved by 1e-3: math and init both fail, obtained arrays are written."""
    path = golden_copy / "stacked.npz"

    def nudge(arrays):
        arrays[KERNEL][3, 7] += np.float32(1e-3)

    _rewrite(path, nudge)
    before = path.read_bytes()
    result = checker.check_case(cases.get("stacked"), golden_copy)
    assert result.status == checker.MISMATCH and result.exit_code == 1
    assert not result.math.ok  # the golden's outputs no longer follow from its weights
    assert not result.init.ok
    [bad] = result.init.mismatches
    assert bad.name == KERNEL and bad.mismatched == 1 and bad.worst_index == (3, 7)
    text = result.report()
    assert "Mismatched elements: 1 / 160 (0.625%)" in text
    assert "tf1-lstm regen stacked --force" in text
    assert path.read_bytes() == before  # the golden is never touched
    obtained = golden.load(result.obtained_path)
    assert result.obtained_path == golden_copy / "stacked.obtained.npz"
    assert set(obtained.arrays) == set(golden.load(path).arrays)


def test_output_drift_fails_math_but_not_init(golden_copy):
    """Math drift and initializer drift are told apart."""
    path = golden_copy / "single_cell.npz"

    def drift(arrays):
        arrays["outputs"][0, 2] += np.float32(1e-3)

    _rewrite(path, drift)
    result = checker.check_case(cases.get("single_cell"), golden_copy, write_obtained=False)
    assert result.status == checker.MISMATCH
    assert result.init.ok and not result.math.ok
    [bad] = result.math.mismatches
    assert bad.name == "outputs" and bad.worst_index == (0, 2)
    assert result.obtained_path is None


def test_nan_weights_in_a_golden_are_an_error_naming_the_variable(golden_copy):
    path = golden_copy / "single_cell.npz"

    def poison(arrays):
        arrays["variables/LSTM_sample1/basic_lstm_cell/bias:0"][0] = np.nan

    _rewrite(path, poison)
    result = checker.check_case(cases.get("single_cell"), golden_copy, write_obtained=False)
    assert result.status == checker.ERROR
    assert (f"{path}: case 'single_cell': variable 'LSTM_sample1/basic_lstm_cell/bias:0' holds "
            f"NaN or infinity (nan at (0,))") in result.error


def test_nan_outputs_are_reported_as_mismatch(golden_copy, monkeypatch):
    from tf1_lstm import reference

    real = reference.run

    def poisoned(spec, weights=None):
        arrays = real(spec, weights)
        arrays["outputs"] = arrays["outputs"] + np.float32(np.nan)
        return arrays

    monkeypatch.setattr(reference, "run", poisoned)
    result = checker.check_case(cases.get("single_cell"), golden_copy, write_obtained=False)
    assert result.status == checker.MISMATCH
    assert not result.oracle.ok and "Obtained NaN or infinity in 4 element(s)" in result.report()


@pytest.mark.parametrize("change, message", [
    (lambda a: a.__setitem__("inputs", np.zeros((2, 3, 5), np.float32)),
     r"array 'inputs' has shape \(2, 3, 5\), expected \(2, 3, 6\)"),
    (lambda a: a.__setitem__(KERNEL, np.zeros((10, 15), np.float32)),
     r"variable 'rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0' has shape \(10, 16\), "
     r"the weights give shape \(10, 15\)"),
    (lambda a: a.__setitem__("outputs", a["outputs"].astype(np.float64)),
     r"array 'outputs' has dtype float64, expected float32"),
    (lambda a: a.__setitem__(KERNEL, a[KERNEL].astype(np.float64)),
     r"array 'variables/.*kernel:0' has dtype float64, expected float32"),
    (lambda a: a.pop("state/1/h"),
     r"arrays produced by the case but not in the golden: \[.state/1/h.\]"),
    (lambda a: a.pop(KERNEL), r"missing \['rnn/multi_rnn_cell/cell_0/lstm_cell/kernel:0'\]"),
])
def test_malformed_golden_is_a_golden_error(golden_copy, change, message):
    """Wrong shapes, dtypes or arrays in a golden: status error (exit 2) naming file and array."""
    path = golden_copy / "stacked.npz"
    _rewrite(path, change)
    before = path.read_bytes()
    result = checker.check_case(cases.get("stacked"), golden_copy)
    assert result.status == checker.ERROR and result.exit_code == 2
    assert str(path) in result.error
    import re
    assert re.search(message, result.error), result.error
    assert path.read_bytes() == before
    assert not (golden_copy / "stacked.obtained.npz").exists()


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.unlink(), "golden file is missing; create it with: tf1-lstm regen stacked"),
    (lambda p: p.write_bytes(p.read_bytes()[:500]), "not a readable .npz file"),
    (lambda p: p.write_bytes(b"not a zip at all"), "not a readable .npz file"),
])
def test_missing_or_corrupt_golden_is_an_error(golden_copy, damage, message):
    path = golden_copy / "stacked.npz"
    damage(path)
    result = checker.check_case(cases.get("stacked"), golden_copy)
    assert result.status == checker.ERROR
    assert message in result.error and str(path) in result.error
    # the hint is a command that works: regen refuses to replace an existing file without --force
    want = f"tf1-lstm regen stacked --golden-dir {golden_copy}"
    want += " --force" if path.exists() else ""
    assert result.error.endswith(want), result.error


def test_regen_with_a_golden_dir_that_is_a_file_is_one_line(tmp_path, capsys):
    from tf1_lstm.cli import main

    not_a_dir = tmp_path / "goldens"
    not_a_dir.write_text("x")
    assert main(["regen", "single_cell", "--golden-dir", str(not_a_dir)]) == 2
    assert capsys.readouterr().err.strip() == (f"tf1-lstm: error: --golden-dir {not_a_dir}: "
                                               f"not a directory")
    assert not_a_dir.read_text() == "x"


def test_golden_of_another_case_is_an_error(golden_copy):
    (golden_copy / "stacked.npz").write_bytes((golden_copy / "single_cell.npz").read_bytes())
    result = checker.check_case(cases.get("stacked"), golden_copy)
    assert result.status == checker.ERROR
    assert "holds case 'single_cell', expected 'stacked'" in result.error


def test_regen_keeps_identical_golden_and_refuses_a_different_one(golden_copy):
    spec = cases.get("single_cell")
    path = golden_copy / "single_cell.npz"
    fresh = checker.regen_case(spec, golden_copy)
    assert fresh.action in ("unchanged", "differs")  # "differs" only on another TF/CPU
    golden.save(path, *_nudged(path))
    tampered = path.read_bytes()
    result = checker.regen_case(spec, golden_copy)
    assert result.action == "differs" and result.exit_code == 1
    assert "Mismatched elements" in result.message and "--force" in result.message
    assert path.read_bytes() == tampered
    forced = checker.regen_case(spec, golden_copy, force=True)
    assert forced.action == "replaced" and path.read_bytes() != tampered
    assert checker.regen_case(spec, golden_copy).action == "unchanged"


def _nudged(path):
    gold = golden.load(path)
    gold.arrays["outputs"] = gold.arrays["outputs"] + np.float32(0.01)
    return gold.arrays, gold.meta


def test_oracle_disagreement_is_a_mismatch(golden_copy, monkeypatch):
    """A golden the independent oracle does not reproduce fails check (exit 1)."""
    from tf1_lstm import reference

    real = reference.run

    def drifted(spec, weights=None):
        arrays = real(spec, weights)
        arrays["outputs"] = arrays["outputs"] + np.float32(1e-3)
        return arrays

    monkeypatch.setattr(reference, "run", drifted)
    result = checker.check_case(cases.get("stacked"), golden_copy, write_obtained=False)
    assert result.math.ok and result.init.ok and not result.oracle.ok
    assert result.status == checker.MISMATCH and result.exit_code == 1
    assert "oracle (NumPy) vs golden: FAILED" in result.report()


def test_stale_explicit_weights_are_caught(golden_copy):
    """A case whose explicit weights changed no longer matches the golden's weights."""
    spec = cases.with_random_weights(cases.get("peepholes"), seed=999)
    result = checker.check_case(spec, golden_copy, write_obtained=False)
    assert result.status == checker.MISMATCH
    assert result.math.ok  # the math still follows from the golden's own weights
    assert not result.init.ok and "weights given by the case" in result.init.label


def test_missing_framework_is_reported_not_installed_and_does_not_fail(golden_copy, monkeypatch):
    """Without PyTorch, `check --engines torch` says "not installed" and exits 0."""
    import builtins

    from tf1_lstm import engines

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "tf1_lstm.engines.torch_engine", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_torch)
    [result] = checker.check_engines(cases.get("stacked"), ["torch"], golden_copy)
    assert result.status == checker.NOT_INSTALLED and result.exit_code == 0
    assert "torch" in result.detail
    assert engines.ENGINES["torch"]  # the engine stays registered
