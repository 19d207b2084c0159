"""Nothing lost, nothing silently passed: inputs never overwritten, non-finite values compared
by kind, one unwritable file costs one line, values of the wrong kind refused by name."""

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import cases, checker, golden, naming
from tf1_lstm import compare as cmp
from tf1_lstm import spec as spec_mod
from tf1_lstm.cli import main

inf, nan = np.inf, np.nan


def _one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _single_cell_dict(**changes):
    data = spec_mod.to_dict(cases.get("single_cell"))
    data.update(changes)
    return data


# 1. compute never writes over a file it reads ------------------------------------------------

@pytest.fixture
def spec_with_sidecar(tmp_path):
    """X.json whose inputs are '@x' in its default sidecar X.npz."""
    spec = tmp_path / "X.json"
    spec.write_text(json.dumps(_single_cell_dict(inputs="@x", weights=0.5)))
    sidecar = tmp_path / "X.npz"
    np.savez(sidecar, x=np.array([[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]]))
    return spec, sidecar


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
@pytest.mark.parametrize("how", ["same", "dot_slash", "symlink", "hardlink"])
def test_compute_refuses_to_overwrite_the_default_sidecar(capsys, tmp_path, monkeypatch,
                                                          spec_with_sidecar, how, force):
    spec, sidecar = spec_with_sidecar
    before = sidecar.read_bytes()
    monkeypatch.chdir(tmp_path)
    out = {"same": str(sidecar), "dot_slash": "./X.npz", "symlink": str(tmp_path / "link.npz"),
           "hardlink": str(tmp_path / "hard.npz")}[how]
    if how == "symlink":
        os.symlink(sidecar, out)
    if how == "hardlink":
        os.link(sidecar, out)
    assert main(["compute", str(spec), "--engine", "numpy", "--out", out] + force) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == (f"tf1-lstm: error: --out {Path(out)}: would overwrite {sidecar}, the spec's "
                    f"sidecar arrays (read by default: the spec's path with suffix .npz), which "
                    f"this command reads; refused even with --force (nothing written)")
    assert sidecar.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []
    # the spec still reads its arrays
    assert main(["compute", str(spec), "--engine", "numpy"]) == 0


@pytest.mark.parametrize("which", ["arrays", "weights"])
def test_compute_refuses_to_overwrite_explicit_inputs_even_with_force(capsys, tmp_path, which):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(_single_cell_dict(inputs="@x")))
    arrays = tmp_path / "a.npz"
    np.savez(arrays, x=np.array([[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]]))
    weights = tmp_path / "w.npz"
    np.savez(weights, **naming.constant_weights(cases.get("single_cell"), 0.5))
    arrays_before, weights_before = arrays.read_bytes(), weights.read_bytes()
    target = {"arrays": arrays, "weights": weights}[which]
    argv = ["compute", str(spec), "--engine", "numpy", "--arrays", str(arrays),
            "--weights", str(weights), "--out", str(target), "--force"]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    what = {"arrays": "the spec's sidecar arrays (--arrays)",
            "weights": "the weights file (--weights)"}[which]
    assert f"--out {target}: would overwrite {target}, {what}, which this command reads" in line
    assert arrays.read_bytes() == arrays_before and weights.read_bytes() == weights_before


def test_compute_refuses_a_directory_as_out(capsys, tmp_path):
    out = tmp_path / "r.npz"
    out.mkdir()
    assert main(["compute", "single_cell", "--engine", "numpy", "--out", str(out),
                 "--force"]) == 2
    assert "is a directory" in _one_error_line(capsys.readouterr().err)


def test_compute_may_write_beside_a_spec_without_a_sidecar(capsys, tmp_path):
    """The default sidecar is an input only when it is read (it exists)."""
    spec = tmp_path / "Y.json"
    spec.write_text(json.dumps(_single_cell_dict(weights=0.5)))
    assert main(["compute", str(spec), "--engine", "numpy", "--out",
                 str(tmp_path / "Y.npz")]) == 0
    assert golden.load(tmp_path / "Y.npz").arrays["outputs"].shape == (1, 4)


# 3. non-finite values compare by position and kind -------------------------------------------

@pytest.mark.parametrize("obtained, expected, line", [
    ([[1.0, 2.0, 3.5]], [[1.0, 2.0, inf]], "expected inf at (0, 2), obtained 3.5"),
    ([1.0, -inf], [1.0, inf], "expected inf at (1,), obtained -inf"),
    ([1.0, inf], [1.0, -inf], "expected -inf at (1,), obtained inf"),
    ([1.0, nan], [1.0, inf], "expected inf at (1,), obtained nan"),
    ([1.0, 2.0], [1.0, nan], "expected nan at (1,), obtained 2."),
    ([1.0, inf], [1.0, nan], "expected nan at (1,), obtained inf"),
    ([1.0, nan], [1.0, 2.0], "obtained nan at (1,), expected 2."),
    ([inf, 2.0], [1.0, 2.0], "obtained inf at (0,), expected 1."),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_values_must_match_in_kind_and_position(obtained, expected, line, dtype):
    rtol, atol = cmp.default_tolerance(dtype)
    report = cmp.compare_array("h", np.array(obtained, dtype), np.array(expected, dtype),
                               rtol, atol)
    assert not report.ok and report.mismatched == 1
    assert line in report.lines()
    # even a huge tolerance does not let them pass
    assert not cmp.compare_array("h", np.array(obtained, dtype), np.array(expected, dtype),
                                 1e30, 1e30).ok


def test_the_same_non_finite_values_at_the_same_places_match():
    values = np.array([[1.0, inf, -inf], [nan, 0.0, -2.5]], np.float32)
    report = cmp.compare_array("h", values.copy(), values, 1e-5, 1e-6)
    assert report.ok and report.max_abs == 0.0 and report.max_rel == 0.0
    assert cmp.compare({"h": values.copy()}, {"h": values}, label="x").ok
    shifted = np.array([[inf, 1.0, -inf], [nan, 0.0, -2.5]], np.float32)
    report = cmp.compare_array("h", shifted, values, 1e-5, 1e-6)
    assert report.mismatched == 2 and report.nonfinite == 1 and report.expected_nonfinite == 1


def test_finite_positions_still_use_the_tolerance_next_to_non_finite_ones():
    expected = np.array([inf, 2.0, nan], np.float64)
    rtol, atol = cmp.default_tolerance(np.float64)
    assert cmp.compare_array("x", np.array([inf, 2.0 + 1e-12, nan]), expected, rtol, atol).ok
    report = cmp.compare_array("x", np.array([inf, 2.1, nan]), expected, rtol, atol)
    assert report.mismatched == 1 and report.worst_index == (1,)
    assert report.max_abs == pytest.approx(0.1)


def test_complex_non_finite_values_compare_exactly():
    expected = np.array([1 + 1j, complex(inf, 1)], np.complex64)
    assert cmp.compare_array("c", expected.copy(), expected, 1e-5, 1e-6).ok
    report = cmp.compare_array("c", np.array([1 + 1j, complex(inf, 1.5)], np.complex64),
                               expected, 1e-5, 1e-6)
    assert report.mismatched == 1 and report.expected_nonfinite == 1


def test_many_non_finite_differences_are_counted_and_the_first_ones_shown():
    report = cmp.compare_array("h", np.full(8, 1.0), np.full(8, inf), 1e-5, 1e-6)
    text = report.lines()
    assert "Expected NaN or infinity not obtained in 8 element(s)" in text
    assert sum(line.startswith("expected inf at") for line in text) == cmp.NONFINITE_SHOWN
    assert f"... and {8 - cmp.NONFINITE_SHOWN} more non-finite difference(s)" in text


def test_check_fails_on_an_inf_in_a_golden(capsys, golden_copy):
    """A golden's inf used to match any obtained value (rtol * inf is infinite)."""
    path = golden_copy / "single_cell.npz"
    gold = golden.load(path)
    got = float(gold.arrays["outputs"][0, 2])
    gold.arrays["outputs"][0, 2] = np.float32(inf)
    golden.save(path, gold.arrays, gold.meta)
    assert main(["check", "single_cell", "--golden-dir", str(golden_copy)]) == 1
    out = capsys.readouterr().out
    assert "single_cell" in out and "MISMATCH" in out
    assert f"expected inf at (0, 2), obtained {cmp._fmt(np.float32(got))}" in out


def test_check_json_with_a_mismatch_is_valid_json(capsys, golden_copy):
    """The report's values were NumPy scalars, which json.dumps refused (an internal error)."""
    path = golden_copy / "single_cell.npz"
    gold = golden.load(path)
    gold.arrays["outputs"][0, 1] = np.float32(nan)
    golden.save(path, gold.arrays, gold.meta)
    assert main(["check", "single_cell", "--json", "--golden-dir", str(golden_copy)]) == 1
    report = json.loads(capsys.readouterr().out)
    [case] = report["cases"]
    [bad] = [a for a in case["math"]["arrays"] if a["mismatched"]]
    assert bad["name"] == "outputs" and bad["expected_nonfinite"] == 1
    assert bad["nonfinite_diffs"][0].startswith("expected nan at (0, 1), obtained ")


def _poisoned(monkeypatch, value):
    real = checker.golden_arrays

    def poisoned(spec):
        arrays = real(spec)
        arrays["state/c"] = arrays["state/c"].copy()
        arrays["state/c"][0, 3] = value
        return arrays

    monkeypatch.setattr(checker, "golden_arrays", poisoned)


@pytest.mark.parametrize("value", [nan, inf, -inf])
def test_regen_refuses_non_finite_results_unless_the_case_allows_them(capsys, tmp_path,
                                                                     monkeypatch, value):
    _poisoned(monkeypatch, value)
    target = tmp_path / "g"
    result = checker.regen_case(cases.get("single_cell"), target)
    assert result.action == "error" and result.exit_code == 2
    assert "case 'single_cell'" in result.message and "'state/c'" in result.message
    assert f"{value} at (0, 3)" in result.message and "allow_nonfinite" in result.message
    assert not (target / "single_cell.npz").exists()
    # on the command line: exit 2, the case and the array named, nothing written
    assert main(["regen", "single_cell", "--golden-dir", str(target)]) == 2
    out = capsys.readouterr().out
    assert "single_cell: error" in out and "'state/c'" in out
    assert not target.exists() or not any(target.iterdir())
    # a case that declares it expects them gets its golden, and it checks exactly
    allowed = cases.get("single_cell").replace(allow_nonfinite=True)
    assert checker.regen_case(allowed, target).action == "created"
    assert not np.isfinite(golden.load(target / "single_cell.npz").arrays["state/c"][0, 3])


def test_allow_nonfinite_stays_out_of_the_spec_json_at_its_default():
    spec = cases.get("single_cell")
    assert "allow_nonfinite" not in spec_mod.to_dict(spec)
    data = spec_mod.to_dict(spec.replace(allow_nonfinite=True))
    assert data["allow_nonfinite"] is True
    assert spec_mod.from_dict(data).allow_nonfinite is True
    with pytest.raises(spec_mod.SpecError, match="allow_nonfinite: expected true or false"):
        spec_mod.from_dict(dict(data, allow_nonfinite="yes"))


# 6. one unwritable obtained file costs one line, not the other cases' reports ----------------

def _nudge(path, key):
    gold = golden.load(path)
    gold.arrays[key] = gold.arrays[key].copy()
    gold.arrays[key].flat[0] += gold.arrays[key].dtype.type(1e-3)
    golden.save(path, gold.arrays, gold.meta)


def test_check_reports_every_case_when_an_obtained_file_cannot_be_written(capsys, golden_copy):
    _nudge(golden_copy / "single_cell.npz", "outputs")
    _nudge(golden_copy / "stacked.npz", "outputs")
    blocked = golden_copy / "single_cell.obtained.npz"
    blocked.mkdir()  # fails even for root, unlike a read-only directory
    os.chmod(golden_copy, 0o555)
    try:
        code = main(["check", "single_cell", "stacked", "peepholes",
                     "--golden-dir", str(golden_copy)])
    finally:
        os.chmod(golden_copy, 0o755)
    captured = capsys.readouterr()
    assert code == 1, captured
    out = captured.out
    assert "Traceback" not in out + captured.err and "Errno" not in out + captured.err
    assert f"single_cell ({golden_copy / 'single_cell.npz'}): MISMATCH" in out
    assert f"obtained arrays not written: {blocked}: Is a directory" in out
    assert f"stacked ({golden_copy / 'stacked.npz'}): MISMATCH" in out
    assert f"peepholes ({golden_copy / 'peepholes.npz'}): OK" in out
    assert "3 cases: 1 ok, 2 mismatched, 0 errors" in out
    assert blocked.is_dir() and not any(blocked.iterdir())


def test_a_read_only_file_system_is_one_line_of_the_case(golden_copy, monkeypatch):
    _nudge(golden_copy / "single_cell.npz", "outputs")

    def read_only(path, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(golden, "write_atomic", read_only)
    result = checker.check_case(cases.get("single_cell"), golden_copy)
    assert result.status == checker.MISMATCH and result.exit_code == 1
    out = golden_copy / "single_cell.obtained.npz"
    assert result.obtained_path is None
    assert result.obtained_error == f"obtained arrays not written: {out}: Read-only file system"
    assert result.report().splitlines()[-1] == f"  {result.obtained_error}"
    assert result.to_json()["obtained_error"] == result.obtained_error


# 9. values of the wrong kind are refused by name --------------------------------------------

def _write_spec(tmp_path, data, name="s.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("changes, message", [
    ({"inputs": [[1, 2, 3, 1, 2, True]]},
     "inputs[0][5]: expected a number, got true (booleans are not numbers)"),
    ({"inputs": [[1, 2, 3, 1, 2, "3"]]}, "inputs[0][5]: expected a number, got '3' (str)"),
    ({"inputs": [[1, 2, 3, 1, 2, None]]}, "inputs[0][5]: expected a number, got None"),
    ({"initial_state": {"state/c": [[0, 0, 0, False]], "state/h": [[0, 0, 0, 0]]}},
     "initial_state['state/c'][0][3]: expected a number, got false (booleans are not numbers)"),
])
def test_spec_arrays_of_booleans_or_text_are_refused(capsys, tmp_path, changes, message):
    path = _write_spec(tmp_path, _single_cell_dict(weights=0.5, **changes))
    assert main(["compute", str(path), "--engine", "numpy"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"tf1-lstm: error: {path}: {message}" or (
        line.startswith(f"tf1-lstm: error: {path}: ") and message in line), line


def test_train_targets_of_booleans_are_refused():
    spec = cases.get("train_sgd")
    data = spec_mod.to_dict(spec)
    data["train"]["targets"] = [[True] * len(row) for row in data["train"]["targets"]]
    with pytest.raises(spec_mod.SpecError, match=r"train.targets\[0\]\[0\]: expected a number, "
                                                 r"got true \(booleans are not numbers\)"):
        spec_mod.from_dict(data)


def test_a_boolean_sidecar_array_is_refused(capsys, tmp_path):
    path = _write_spec(tmp_path, _single_cell_dict(inputs="@x", weights=0.5))
    np.savez(tmp_path / "s.npz", x=np.ones((1, 6), bool))
    assert main(["compute", str(path), "--engine", "numpy"]) == 2
    assert "inputs: expected an array of numbers, got dtype bool (booleans are not numbers)" in (
        _one_error_line(capsys.readouterr().err))


KERNEL = "LSTM_sample1/basic_lstm_cell/kernel:0"


@pytest.mark.parametrize("value", [nan, inf, -inf])
def test_non_finite_spec_weights_are_refused_naming_the_variable(capsys, tmp_path, value):
    weights = naming.constant_weights(cases.get("single_cell"), 0.5)
    weights[KERNEL][2, 5] = value
    path = _write_spec(tmp_path, _single_cell_dict(weights={k: f"@{i}" for i, k in
                                                            enumerate(weights)}))
    np.savez(tmp_path / "s.npz", **{str(i): v for i, v in enumerate(weights.values())})
    assert main(["compute", str(path), "--engine", "numpy"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"weights['{KERNEL}']: contains NaN or infinity ({value} at (2, 5))" in line


@pytest.mark.parametrize("engine", ["numpy", "tf"])
@pytest.mark.parametrize("value", [nan, inf])
def test_non_finite_weights_files_are_refused_naming_file_and_variable(capsys, tmp_path,
                                                                       engine, value):
    weights = naming.constant_weights(cases.get("single_cell"), 0.5)
    weights[KERNEL][1, 0] = value
    path = tmp_path / "w.npz"
    np.savez(path, **weights)
    assert main(["compute", "single_cell", "--engine", engine, "--weights", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"tf1-lstm: error: {path}: case 'single_cell': variable '{KERNEL}' "
                           f"holds NaN or infinity ({value} at (1, 0))"), line


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_weights_files_of_integers_are_refused_naming_variable_and_dtype(capsys, tmp_path,
                                                                         dtype):
    weights = {k: np.ones(v.shape, dtype) for k, v in
               naming.constant_weights(cases.get("single_cell"), 0.5).items()}
    path = tmp_path / "w.npz"
    np.savez(path, **weights)
    assert main(["compute", "single_cell", "--engine", "numpy", "--weights", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"{path}: case 'single_cell': variable '{KERNEL}' has dtype " \
           f"{np.dtype(dtype).name}; weights must be floating-point (float32)" in line, line


def test_nan_in_a_golden_weight_is_an_error_naming_file_and_variable(golden_copy):
    path = golden_copy / "single_cell.npz"
    gold = golden.load(path)
    gold.arrays[f"variables/{KERNEL}"][0, 0] = np.nan
    golden.save(path, gold.arrays, gold.meta)
    result = checker.check_case(cases.get("single_cell"), golden_copy)
    assert result.status == checker.ERROR and result.exit_code == 2
    assert result.error.startswith(f"{path}: case 'single_cell': variable '{KERNEL}' holds NaN")
    assert not (golden_copy / "single_cell.obtained.npz").exists()
    [engine] = checker.check_engines(cases.get("single_cell"), ["numpy"], golden_copy)
    assert engine.status == checker.ERROR and engine.detail.startswith(f"{path}: ")
