"""The command line, called in-process through main(argv)."""

import json

import numpy as np
import pytest

from tf1_lstm import golden
from tf1_lstm.cli import main


def test_list_names_every_case(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("single_cell ") and "\nstacked " in out


def test_reproduce_single_cell_prints_like_the_notebook(capsys):
    assert main(["reproduce", "single_cell"]) == 0
    out = capsys.readouterr().out
    assert ">>> print(sess.run(state_new))\nLSTMStateTuple(c=array([[" in out
    assert "dtype=float32), h=array([[" in out
    assert "output shape: (1, 4)" in out and "output equals h: True" in out
    # tf-slim's model analyzer table
    assert "LSTM_sample1/basic_lstm_cell/kernel:0 (float32 10x16) [160, bytes: 640]" in out
    assert "Total size of variables: 176" in out


def test_reproduce_prints_the_stacked_output(capsys):
    assert main(["reproduce", "stacked"]) == 0
    out = capsys.readouterr().out
    assert "== stacked:" in out and "output shape: (2, 3, 5)" in out
    assert "(LSTMStateTuple(c=array(" in out
    assert "rnn/multi_rnn_cell/cell_1/lstm_cell/kernel:0 (float32 9x20)" in out


def test_check_passes_on_the_goldens(capsys, golden_copy):
    assert main(["check", "single_cell", "--golden-dir", str(golden_copy)]) == 0
    out = capsys.readouterr().out
    assert "single_cell" in out and "1 cases: 1 ok, 0 mismatched, 0 errors" in out


def test_check_json_reports_both_checks(capsys, golden_copy):
    argv = ["check", "single_cell", "stacked", "peepholes", "--json"]
    assert main(argv + ["--golden-dir", str(golden_copy)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == 0
    single, stacked, peepholes = report["cases"]
    for case in (single, stacked):
        assert case["status"] == "ok" and case["math"]["ok"] and case["init"]["ok"]
        assert case["oracle"]["ok"]
    # explicit weights: the golden holds exactly the case's weights
    assert peepholes["init"]["ok"] and "weights given by the case" in peepholes["init"]["label"]


def test_check_exit_1_on_a_nudged_weight(capsys, golden_copy):
    path = golden_copy / "single_cell.npz"
    gold = golden.load(path)
    gold.arrays["variables/LSTM_sample1/basic_lstm_cell/kernel:0"][0, 0] += np.float32(1e-3)
    golden.save(path, gold.arrays, gold.meta)
    assert main(["check", "single_cell", "--golden-dir", str(golden_copy)]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "Mismatched elements: 1 / 160" in out


def test_check_exit_2_on_a_corrupt_golden_without_traceback(capsys, golden_copy):
    (golden_copy / "stacked.npz").write_bytes(b"PK\x03\x04garbage")
    assert main(["check", "single_cell", "stacked", "--golden-dir", str(golden_copy)]) == 2
    captured = capsys.readouterr()
    assert "stacked.npz: not a readable .npz file" in captured.out
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("argv", [["check", "nope"], ["reproduce", "nope"], ["regen", "nope"]])
def test_unknown_case_lists_the_known_ones(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown case 'nope'; known cases: single_cell, stacked, peepholes" in err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["check", "--bogus"]])
def test_usage_errors_exit_2(capsys, argv):
    assert main(argv) == 2
    assert "tf1-lstm: error:" in capsys.readouterr().err


def test_regen_creates_then_leaves_unchanged_then_needs_force(capsys, tmp_path):
    target = tmp_path / "g"
    assert main(["regen", "single_cell", "--golden-dir", str(target)]) == 0
    assert "single_cell: created" in capsys.readouterr().out
    first = (target / "single_cell.npz").read_bytes()
    assert main(["regen", "single_cell", "--golden-dir", str(target)]) == 0
    assert "single_cell: unchanged" in capsys.readouterr().out
    assert (target / "single_cell.npz").read_bytes() == first

    gold = golden.load(target / "single_cell.npz")
    gold.arrays["state/c"] = gold.arrays["state/c"] * np.float32(2)
    golden.save(target / "single_cell.npz", gold.arrays, gold.meta)
    tampered = (target / "single_cell.npz").read_bytes()
    assert main(["regen", "single_cell", "--golden-dir", str(target)]) == 1
    out = capsys.readouterr().out
    assert "single_cell: differs" in out and "array 'state/c'" in out and "--force" in out
    assert (target / "single_cell.npz").read_bytes() == tampered
    assert main(["regen", "single_cell", "--force", "--golden-dir", str(target)]) == 0
    assert "single_cell: replaced" in capsys.readouterr().out
    assert (target / "single_cell.npz").read_bytes() == first


def test_env_reports_versions_and_settings(capsys):
    assert main(["env", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["versions"]["tensorflow"].startswith("2.")
    assert info["case_seeds"]["single_cell"] == info["case_seeds"]["stacked"] == 42
    assert "TF_ENABLE_ONEDNN_OPTS" in info["environment"]


def test_compute_writes_named_arrays(capsys, tmp_path):
    out = tmp_path / "stacked.npz"
    assert main(["compute", "stacked", "--engine", "tf", "--out", str(out)]) == 0
    arrays = golden.load(out).arrays
    assert arrays["outputs"].shape == (2, 3, 5)


def test_compute_rejects_inputs_that_do_not_fit_the_placeholder(capsys, tmp_path):
    """The stacked graph fed a [2, 3, 5] input: one clear line, exit 2."""
    from tf1_lstm import cases, spec

    data = spec.to_dict(cases.get("stacked"))
    data["inputs"] = np.ones((2, 3, 5)).tolist()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["compute", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"tf1-lstm: error: {path}: case 'stacked': inputs: shape (2, 3, 5) does not fit "
        f"placeholder_shape [None, None, 6] (dimension 2 is 5, expected 6)")


def test_the_readme_spec_example_runs_in_both_engines(tmp_path, capsys):
    """README's JSON spec with a sidecar .npz: tf and numpy agree through `compute`."""
    import re

    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    [block] = re.findall(r"```json\n(.*?)```", readme, flags=re.S)
    (tmp_path / "my_lstm.json").write_text(block)
    np.savez(tmp_path / "my_lstm.npz", x=np.random.default_rng(0).normal(size=(2, 4, 5)))
    results = {}
    for engine in ("tf", "numpy"):
        out = tmp_path / f"{engine}.npz"
        assert main(["compute", str(tmp_path / "my_lstm.json"), "--engine", engine,
                     "--out", str(out)]) == 0
        results[engine] = golden.load(out).arrays
    assert results["tf"]["outputs"].shape == (2, 4, 3)
    assert np.all(results["tf"]["outputs"][1] == 0)  # sequence_length 0
    from tf1_lstm import compare

    assert compare.compare(results["numpy"], results["tf"], label="readme").ok


def _spec_file(tmp_path, **changes):
    from tf1_lstm import cases, spec

    data = spec.to_dict(cases.get("single_cell"))
    data.update(changes)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("changes, message", [
    ({"time_major": "false"}, "time_major: expected true or false, got 'false'"),
    ({"cells": [{"kind": "LSTMCell", "num_units": 4, "forget_bias": "0.5"}]},
     r"cells\[0\].forget_bias: expected a number, got '0.5'"),
    ({"tolerances": {"outputs": 5}}, "tolerances: expected an object of array name"),
    ({"sequence_length": 3}, "sequence_length: expected a list of integers"),
    ({"scope": "my scope!"}, "scope: expected a TF variable scope name"),
])
def test_spec_values_of_the_wrong_kind_exit_2(capsys, tmp_path, changes, message):
    import re

    assert main(["compute", str(_spec_file(tmp_path, **changes)), "--engine", "numpy"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("make", [lambda p: p.write_bytes(b"PK\x03\x04garbage"),
                                  lambda p: p.write_text("not an archive")])
def test_unreadable_weights_or_sidecar_name_the_file(capsys, tmp_path, make):
    bad = tmp_path / "w.npz"
    make(bad)
    assert main(["compute", "stacked", "--engine", "numpy", "--weights", str(bad)]) == 2
    assert f"{bad}: not a readable .npz file" in capsys.readouterr().err
    spec = _spec_file(tmp_path)
    assert main(["compute", str(spec), "--engine", "numpy", "--arrays", str(bad)]) == 2
    assert f"{bad}: not a readable .npz file" in capsys.readouterr().err


def test_compute_never_overwrites_its_inputs_or_an_existing_file(capsys, tmp_path):
    spec = _spec_file(tmp_path, weights=0.5)
    before = spec.read_bytes()
    assert main(["compute", str(spec), "--engine", "numpy", "--out", str(spec)]) == 2
    assert "must end in .npz" in capsys.readouterr().err
    out = tmp_path / "r.npz"
    out.write_bytes(b"keep me")
    assert main(["compute", str(spec), "--engine", "numpy", "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me" and spec.read_bytes() == before
    assert main(["compute", str(spec), "--engine", "numpy", "--out", str(out), "--force"]) == 0
    assert golden.load(out).arrays["outputs"].shape == (1, 4)


def test_unknown_engine_is_refused_before_tensorflow_loads(capsys):
    assert main(["compute", "stacked", "--engine", "bogus"]) == 2
    assert "unknown engine 'bogus'; known engines: tf, numpy" in capsys.readouterr().err
