"""Capture and replay of Session.run: what is recorded, how a replay compares, bad input."""

import collections
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import capture as cap
from tf1_lstm import golden
from tf1_lstm.cli import main
from tf1_lstm.runner import run_script

LEGACY = Path(__file__).resolve().parent / "legacy_scripts"
REPO = Path(__file__).resolve().parent.parent
SEED_DOC = REPO.parent / "shared" / "seeds" / "000_23d552f4c04f037b.txt"

# A small TF1 script whose arguments change what it computes, for the negative cases.
TOY = """
    import argparse
    import numpy as np
    import tensorflow as tf

    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=4)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--extra-call", action="store_true")
    p.add_argument("--nan", action="store_true")
    p.add_argument("--fail", action="store_true")
    a = p.parse_args()

    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w", [3, a.width])
    y = tf.matmul(x, w) * a.scale
    if a.nan:
        y = y + float("nan")
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    print(sess.run({"y": y, "w": w}, feed_dict={x: np.ones((2, 3))})["y"].shape)
    if a.extra_call:
        sess.run(w)
    if a.fail:
        raise RuntimeError("boom after the Session.run calls")
"""


@pytest.fixture
def toy(tmp_path) -> Path:
    path = tmp_path / "toy.py"
    path.write_text(textwrap.dedent(TOY).lstrip())
    return path


def run_cli(*argv) -> int:
    return main(["run", *map(str, argv)])


# ------------------------------------------------------------ recording


def test_to_fetch_records_arrays_strings_none_and_other_objects(tf):
    assert cap.to_fetch("", "init", None).kind == "none"
    scalar = cap.to_fetch("0", "loss:0", np.float32(0.5))
    assert scalar.kind == "array" and scalar.value.shape == () and scalar.dtype == "float32"
    text = cap.to_fetch("", "s:0", np.array([[b"ab", b"c\xff"]], dtype=object))
    assert text.kind == "string" and text.value.dtype.kind == "U"
    assert text.value.tolist() == [["ab", "c\\xff"]] and text.dtype == "object"
    assert cap.to_fetch("", "s:0", b"abc").value == np.array("abc")
    bf16 = cap.to_fetch("", "b:0", np.ones(2, tf.bfloat16.as_numpy_dtype))
    assert bf16.kind == "array" and bf16.value.dtype == np.float32 and bf16.dtype == "bfloat16"
    other = cap.to_fetch("", "h:0", {"not": "an array"})
    assert other.kind == "object" and other.type_name == "dict" and other.value is None


def test_fetch_structures_become_paths():
    Pair = collections.namedtuple("Pair", "c h")
    fetches = {"state": Pair("c:0", "h:0"), "out": ["o:0", "init"]}
    values = {"state": Pair(1, 2), "out": [3, None]}
    leaves = [(path, f, v) for path, f, v in cap._leaves(fetches, values)]
    assert leaves == [("state/c", "c:0", 1), ("state/h", "h:0", 2), ("out/0", "o:0", 3),
                      ("out/1", "init", None)]
    assert list(cap._leaves("t:0", 5)) == [("", "t:0", 5)]
    Sparse = collections.namedtuple("SparseTensorValue", "indices values dense_shape")
    assert [p for p, _, _ in cap._leaves("sp", Sparse(1, 2, 3))] == [
        "indices", "values", "dense_shape"]


def test_a_dict_keyed_by_objects_gets_the_same_paths_in_every_process():
    # MonitoredSession fetches {"caller": ..., hook: ...}: a hook's repr holds its address
    class StepCounterHook:
        pass

    hooks = [StepCounterHook(), StepCounterHook()]
    fetches = {"caller": "loss:0", hooks[0]: "step:0", hooks[1]: "step:0"}
    values = {"caller": 1.5, hooks[0]: 3, hooks[1]: 3}
    paths = [p for p, _, _ in cap._leaves(fetches, values)]
    assert paths == ["caller", "StepCounterHook#1", "StepCounterHook#2"]
    assert not any("0x" in p for p in paths)


def test_feeds_record_names_and_shapes_even_for_nested_state_feeds():
    class T:
        def __init__(self, name):
            self.name = name

    state_key = ((T("c0:0"), T("h0:0")), (T("c1:0"), T("h1:0")))
    state_value = ((np.zeros((1, 4)),) * 2, (np.zeros((1, 5)),) * 2)
    feeds = cap.feeds_of({T("x:0"): [[1, 2, 3]], state_key: state_value, "lr:0": 0.1})
    assert feeds == [{"name": "c0:0", "shape": [1, 4]}, {"name": "c1:0", "shape": [1, 5]},
                     {"name": "h0:0", "shape": [1, 4]}, {"name": "h1:0", "shape": [1, 5]},
                     {"name": "lr:0", "shape": []}, {"name": "x:0", "shape": [1, 3]}]


def test_recording_captures_each_call_in_order_with_names_kinds_and_callers(tf, tf1_session,
                                                                            tmp_path):
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [None, 2], name="x")
    w = v1.get_variable("w", [2, 3])
    y = tf.matmul(x, w, name="y")
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
    base = tf.compat.v1.Session.__mro__[1]
    original = base.__dict__["run"]
    with cap.recording(tf) as rec:
        tf1_session.run(init)
        tf1_session.run({"y": y, "name": tf.constant("abc")}, {x: np.ones((4, 2))})
        line = sys._getframe().f_lineno + 1
        w.eval()
        saver.save(tf1_session, str(tmp_path / "ckpt"))  # checkpoint I/O: counted, not recorded
        worker = threading.Thread(target=lambda: tf1_session.run(w))
        worker.start()
        worker.join()
    assert base.__dict__["run"] is original
    assert [c.index for c in rec.calls] == [0, 1, 2]
    first, second, third = rec.calls
    assert [(f.path, f.name, f.kind) for f in first.fetches] == [("", "init", "none")]
    assert [(f.path, f.name, f.kind) for f in second.fetches] == [
        ("y", "y:0", "array"), ("name", "Const:0", "string")]
    assert second.fetches[0].shape == (4, 3) and second.fetches[1].value == np.array("abc")
    assert second.feeds == [{"name": "x:0", "shape": [4, 2]}]
    assert third.caller == f"test_capture.py:{line}"
    assert third.fetches[0].name == "w/Read/ReadVariableOp:0"  # what w.eval() fetches
    assert rec.skipped == {"checkpoint": 1, "other_threads": 1}


def test_recording_restores_session_run_when_the_block_raises(tf):
    base = tf.compat.v1.Session.__mro__[1]
    original = base.__dict__["run"]
    with pytest.raises(RuntimeError, match="inside"):
        with cap.recording(tf):
            assert base.__dict__["run"] is not original
            raise RuntimeError("inside")
    assert base.__dict__["run"] is original


def test_recorded_values_are_copies(tf, tf1_session):
    value = tf.compat.v1.get_variable("v", initializer=np.zeros(3, np.float32))
    tf1_session.run(value.initializer)
    with cap.recording(tf) as rec:
        result = tf1_session.run(value)
        result += 1  # legacy scripts update results in place
    np.testing.assert_array_equal(rec.calls[0].fetches[0].value, np.zeros(3))


# --------------------------------------------------------- the file format


def _calls(*arrays_per_call):
    return [cap.Call(k, f"s.py:{k}", [cap.to_fetch(str(j), f"t{j}:0", a)
                                      for j, a in enumerate(arrays)], [])
            for k, arrays in enumerate(arrays_per_call)]


def test_capture_files_are_goldens_with_a_call_index(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    rec = cap.Recording(calls=_calls([np.ones((2, 4), np.float32), None], [np.arange(3)]))
    arrays, meta = cap.to_golden(rec, script=script, args=["--x"], seed=3)
    assert sorted(arrays) == ["call/0000/fetch/0", "call/0001/fetch/0"]
    assert meta["kind"] == "session_run_capture" and meta["script"] == "s.py"
    assert meta["seed"] == 3 and meta["args"] == ["--x"]
    index = meta["index"]
    assert index["signatures"][0]["fetches"] == [
        {"path": "0", "name": "t0:0", "kind": "array", "dtype": "float32"},
        {"path": "1", "name": "t1:0", "kind": "none"}]
    assert index["groups"][0] == {"signature": 0, "calls": 1, "shapes": [[2, 4], None],
                                  "arrays": ["call/0000/fetch/0", None]}
    assert index["sequence"] == "0,1"
    assert meta["tolerances"] == {"call/0000/fetch/0": [1e-5, 1e-6], "call/0001/fetch/0": [0, 0]}
    assert "versions" in meta and "platform" in meta
    path = tmp_path / "c.npz"
    data = golden.save(path, arrays, meta)
    assert golden.encode(arrays, meta) == data  # deterministic bytes
    calls = cap.from_golden(golden.load(path))
    assert [[(f.path, f.kind) for f in c.fetches] for c in calls] == [
        [("0", "array"), ("1", "none")], [("0", "array")]]


def test_a_case_golden_is_not_a_capture(tmp_path):
    path = tmp_path / "stacked.npz"
    golden.save(path, {"outputs": np.zeros(2)}, {"schema_version": 1, "case": "stacked"})
    with pytest.raises(golden.GoldenError, match=r"stacked\.npz: not a Session.run capture "
                                                 r"\(the golden of case 'stacked'\)"):
        cap.from_golden(golden.load(path))


def test_an_index_that_disagrees_with_the_arrays_is_refused(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    arrays, meta = cap.to_golden(cap.Recording(calls=_calls([np.ones(2)])), script=script,
                                 args=[], seed=0)
    path = tmp_path / "c.npz"
    golden.save(path, {"call/0000/fetch/9": np.ones(2)}, meta)
    with pytest.raises(golden.GoldenError, match=r"'call/0000/fetch/0' is listed in the index but "
                                                 r"missing"):
        cap.from_golden(golden.load(path))
    golden.save(path, {**arrays, "stray": np.ones(1)}, meta)
    with pytest.raises(golden.GoldenError, match=r"arrays not in the call index: \['stray'\]"):
        cap.from_golden(golden.load(path))
    golden.save(path, arrays, {**meta, "index": {**meta["index"], "groups": [{"calls": "bad"}]}})
    with pytest.raises(golden.GoldenError, match="malformed call index"):
        cap.from_golden(golden.load(path))


# ---------------------------------------------------------------- replay


def _replay(obtained, expected, **kwargs):
    return cap.compare_runs(obtained, expected, script="s.py", path=Path("c.npz"), **kwargs)


def test_an_identical_replay_is_ok():
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    result = _replay(_calls([a, None]), _calls([a.copy(), None]))
    assert result.status == "ok" and result.exit_code == 0
    assert result.report() == ("s.py (c.npz): OK (1 Session.run calls, 1 arrays, "
                               "max abs diff 0)")


def test_a_changed_value_is_a_mismatch_reported_like_check():
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    b = a.copy()
    b[1, 2] += 1e-3
    result = _replay(_calls([b]), _calls([a]))
    assert result.status == "mismatch" and result.exit_code == 1
    report = result.report()
    assert "call 0 at s.py:0 fetching ['t0:0']: FAILED" in report
    assert "array 'call/0000/fetch/0' (rtol=1e-05, atol=1e-06)" in report
    assert "Mismatched elements: 1 / 8 (12.5%)" in report
    assert "Worst index (1, 2): obtained 6.001, expected 6" in report
    assert _replay(_calls([b]), _calls([a]), tolerance=(1e-3, 0)).status == "ok"


def test_nan_on_replay_is_a_mismatch_that_says_so():
    a = np.ones(3, np.float32)
    result = _replay(_calls([np.array([1, np.nan, 1], np.float32)]), _calls([a]))
    assert result.status == "mismatch"
    assert "Obtained NaN or infinity in 1 element(s)" in result.report()


@pytest.mark.parametrize("obtained, expected, message", [
    (_calls([np.ones((2, 5))]), _calls([np.ones((2, 4))]),
     r"call 0 at s\.py:0 fetching \['t0:0'\]: array 'call/0000/fetch/0' has shape \(2, 5\), "
     r"expected \(2, 4\)"),
    (_calls([np.ones(2, np.float64)]), _calls([np.ones(2, np.float32)]),
     r"has dtype float64, expected float32"),
    (_calls([np.ones(2)], [np.ones(2)], [np.ones(2)]), _calls([np.ones(2)], [np.ones(2)]),
     r"s\.py made 3 Session\.run calls; c\.npz holds 2; the first 2 calls agree; this run goes "
     r"on with call 2 at s\.py:2"),
    (_calls([np.ones(2)]), _calls([np.ones(2)], [np.ones(2)]),
     r"made 1 Session\.run calls; c\.npz holds 2; .*the capture goes on with call 1"),
    (_calls([None]), _calls([np.ones(2)]),
     r"fetch structure \[\('0', 'none', None\)\] differs from the captured "
     r"\[\('0', 'array', None\)\]"),
])
def test_structural_differences_are_errors(obtained, expected, message):
    result = _replay(obtained, expected)
    assert result.status == "error" and result.exit_code == 2
    assert any(re.search(message, s) for s in result.structural), result.structural


def test_feed_shapes_and_renamed_fetches():
    got, want = _calls([np.ones(2)]), _calls([np.ones(2)])
    got[0].feeds = [{"name": "x:0", "shape": [4, 3]}]
    want[0].feeds = [{"name": "x:0", "shape": [2, 3]}]
    result = _replay(got, want)
    assert result.status == "error"
    assert "feeds {'x:0': [4, 3]} differ from the captured {'x:0': [2, 3]}" in result.report()
    renamed = _calls([np.ones(2)])
    renamed[0].fetches[0].name = "rnn/transpose_2:0"
    result = _replay(renamed, _calls([np.ones(2)]))
    assert result.status == "ok"
    assert "1 call(s) fetch tensors under other names than captured" in result.report()


def test_long_reports_show_the_first_differences_only():
    want = _calls(*[[np.zeros(2)] for _ in range(9)])
    got = _calls(*[[np.ones(2)] for _ in range(9)])
    report = _replay(got, want).report()
    assert report.count("FAILED") == cap.MAX_REPORTED
    assert "... and 4 more differing calls not shown" in report


# ---------------------------------------------- scripts: capture and check


def test_capture_then_check_passes_and_writes_nothing_else(toy, tmp_path, capsys):
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture) == 0
    assert "toy.py: captured 2 Session.run calls (2 arrays, seed 0)" in capsys.readouterr().err
    gold = golden.load(capture)
    assert gold.meta["command"] == "tf1-lstm run toy.py --seed 0 --capture toy.npz"
    assert cap.from_golden(gold)[1].feeds == [{"name": "x:0", "shape": [2, 3]}]
    assert run_cli(toy, "--check", capture) == 0
    captured = capsys.readouterr()
    assert captured.out == "(2, 4)\n"  # the script's own output, on stdout
    assert "toy.py (" in captured.err and "OK (2 Session.run calls, 2 arrays" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.npz", "toy.py"]


@pytest.mark.parametrize("check_args, code, message", [
    (["--", "--scale", "1.001"], 1, r"MISMATCH\n  call 1 at toy\.py:\d+ fetching \['mul:0', 'w:0'\]"
                                    r": FAILED\n.*Mismatched elements: 8 / 8"),
    (["--", "--nan"], 1, r"Obtained NaN or infinity in 8 element\(s\)"),
    (["--", "--width", "5"], 2, r"ERROR\n.*array 'call/0001/fetch/w' has shape \(3, 5\), "
                                r"expected \(3, 4\)"),
    (["--", "--extra-call"], 2, r"toy\.py made 3 Session\.run calls; toy\.npz holds 2"),
])
def test_check_reports_differences_with_exit_codes(toy, tmp_path, capsys, check_args, code,
                                                   message):
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture) == 0
    before = capture.read_bytes()
    assert run_cli(toy, "--check", capture, *check_args) == code
    err = capsys.readouterr().err
    assert re.search(message, err, re.S), err
    assert "to re-capture on purpose: tf1-lstm run toy.py --seed 0 --capture toy.npz" in err
    assert f"obtained arrays written to {tmp_path / 'toy.obtained.npz'}" in err
    assert golden.load(tmp_path / "toy.obtained.npz").meta["obtained"] is True
    assert capture.read_bytes() == before


def test_tolerances_are_stored_with_the_capture_and_can_be_overridden(toy, tmp_path, capsys):
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture) == 0
    assert run_cli(toy, "--check", capture, "--rtol", "0.01", "--atol", "0",
                   "--", "--scale", "1.001") == 0
    assert run_cli(toy, "--capture", capture, "--rtol", "0.01", "--atol", "0") == 2
    assert run_cli(toy, "--capture", capture, "--rtol", "0.01", "--atol", "0", "--force") == 0
    assert golden.load(capture).meta["tolerances"]["call/0001/fetch/y"] == [0.01, 0.0]
    assert run_cli(toy, "--check", capture, "--", "--scale", "1.001") == 0
    assert run_cli(toy, "--check", capture, "--", "--scale", "1.1") == 1
    capsys.readouterr()


def test_nan_is_captured_as_it_is_and_checked_exactly(toy, tmp_path, capsys):
    """A diverging script: the check wants NaN where the capture has NaN, and only there."""
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture, "--", "--nan") == 0
    err = capsys.readouterr().err
    assert "note: NaN or infinity captured; a check requires the same non-finite" in err
    assert "array 'call/0001/fetch/y' holds NaN or infinity in 8 of 8 element(s)" in err
    assert run_cli(toy, "--check", capture, "--", "--nan") == 0
    assert run_cli(toy, "--check", capture) == 1
    assert re.search(r"expected nan at \(0, 0\), obtained -?\d", capsys.readouterr().err)


def test_a_failing_script_writes_nothing(toy, tmp_path, capsys):
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture, "--", "--fail") == 3
    assert not capture.exists()
    assert run_cli(toy, "--capture", capture) == 0
    before = capture.read_bytes()
    assert run_cli(toy, "--check", capture, "--", "--fail") == 3
    err = capsys.readouterr().err
    assert "RuntimeError: boom after the Session.run calls" in err
    assert "toy.py raised (traceback above); nothing was written to" in err
    assert capture.read_bytes() == before
    assert not (tmp_path / "toy.obtained.npz").exists()


def test_bad_capture_files_are_refused_before_the_script_runs(toy, tmp_path, capsys):
    other = tmp_path / "other.py"
    other.write_text(toy.read_text())
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture) == 0
    capsys.readouterr()
    cases = [
        ([other, "--check", capture], r"toy\.npz: captured from 'toy\.py', not 'other\.py'"),
        ([toy, "--check", tmp_path / "missing.npz"], r"missing\.npz: golden file is missing; "
                                                     r"make it with: tf1-lstm run toy\.py"),
        ([toy, "--check", capture, "--seed", "1"], r"captured with --seed 0; check it with the "
                                                   r"same seed"),
    ]
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip")
    cases.append(([toy, "--check", corrupt], r"corrupt\.npz: not a readable \.npz file"))
    case_golden = tmp_path / "single_cell.npz"
    golden.save(case_golden, {"outputs": np.zeros(2)}, {"schema_version": 1,
                                                        "case": "single_cell"})
    cases.append(([toy, "--check", case_golden], r"not a Session\.run capture \(the golden of "
                                                 r"case 'single_cell'\)"))
    for argv, message in cases:
        assert run_cli(*argv) == 2, argv
        captured = capsys.readouterr()
        assert re.search(message, captured.err), captured.err
        assert captured.out == ""  # refused before the script ran


# ------------------------------------------ what a capture may overwrite


def test_a_capture_never_overwrites_the_script_or_another_file(toy, tmp_path, capsys,
                                                               golden_copy):
    """Refused before the script runs, exit 2, one line naming the file; the file is untouched."""
    data = tmp_path / "data.npz"
    np.savez(data, x=np.arange(3))
    other = tmp_path / "other.py"
    other.write_text(toy.read_text())
    other_capture = tmp_path / "other.npz"
    assert run_cli(other, "--capture", other_capture) == 0
    toy_alias = tmp_path / "toy.npz"
    toy_alias.symlink_to(toy)
    capsys.readouterr()
    cases = [
        (toy, r"toy\.py: a capture file ends in \.npz"),
        (tmp_path / "notes.txt", r"notes\.txt: a capture file ends in \.npz"),
        (toy_alias, r"toy\.npz: is the program toy\.py itself"),
        (golden_copy / "stacked.npz", r"stacked\.npz: refusing to overwrite the golden of case "
                                      r"'stacked' with a capture of toy\.py"),
        (data, r"data\.npz: refusing to overwrite a file that is not a tf1_lstm capture"),
        (other_capture, r"other\.npz: refusing to overwrite a capture of 'other\.py' with a "
                        r"capture of toy\.py"),
        (tmp_path, r"is a directory; give a capture file, such as .*toy\.npz"),
    ]
    for target, message in cases:
        before = target.read_bytes() if target.is_file() else None
        for force in ([], ["--force"]):
            assert run_cli(toy, "--capture", target, *force) == 2, target
            captured = capsys.readouterr()
            assert captured.out == ""  # refused before the script ran
            lines = captured.err.splitlines()
            assert len(lines) == 1 and re.search(message, lines[0]), captured.err
            if before is not None:
                assert target.read_bytes() == before
    assert (tmp_path / "notes.txt").exists() is False
    with pytest.raises(ValueError, match=r"toy\.py: a capture file ends in \.npz"):
        run_script(toy, capture=toy)


def test_a_recapture_keeps_an_identical_file_and_replaces_a_different_one_only_with_force(
        toy, tmp_path, capsys):
    """Like ``tf1-lstm regen``: unchanged is kept; a difference is shown, replaced on --force."""
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture) == 0
    before = capture.read_bytes()
    mtime = capture.stat().st_mtime_ns
    capsys.readouterr()
    assert run_cli(toy, "--capture", capture) == 0
    assert re.search(r"toy\.py: captured 2 Session\.run calls \(2 arrays, seed 0\); unchanged: "
                     r"identical to .*toy\.npz, kept it", capsys.readouterr().err)
    assert capture.read_bytes() == before and capture.stat().st_mtime_ns == mtime

    assert run_cli(toy, "--capture", capture, "--", "--scale", "2") == 2
    captured = capsys.readouterr()
    assert captured.out == "(2, 4)\n"  # a re-capture runs the script
    lines = captured.err.splitlines()
    assert re.fullmatch(rf"toy\.py: kept {re.escape(str(capture))}: the new capture differs "
                        rf"from it; rerun with --force to replace it", lines[0]), captured.err
    assert "new vs existing capture" in captured.err
    assert "Mismatched elements: 8 / 8" in captured.err
    assert "metadata fields that differ: ['args', 'command']" in captured.err
    assert capture.read_bytes() == before

    assert run_cli(toy, "--capture", capture, "--force", "--", "--scale", "2") == 0
    err = capsys.readouterr().err
    assert f"replaced {capture}" in err and "Mismatched elements: 8 / 8" in err
    assert golden.load(capture).meta["args"] == ["--scale", "2"]


def test_force_goes_with_capture_only(toy, tmp_path, capsys):
    assert run_cli(toy, "--force") == 2
    assert "--force goes with --capture" in capsys.readouterr().err


def test_the_seed_cells_capture_six_calls(tmp_path, capsys):
    if not SEED_DOC.exists():
        pytest.skip(f"the seed document {SEED_DOC} is not checked out beside the repository")
    spec = importlib.util.spec_from_file_location("extract_seed_cells",
                                                  REPO / "scripts" / "extract_seed_cells.py")
    extractor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extractor)
    cells = tmp_path / "seed_cells.py"
    assert extractor.main([str(SEED_DOC), "-o", str(cells)]) == 0
    capture = tmp_path / "seed.npz"
    assert run_script(cells, seed=0, capture=capture).calls == 6
    calls = cap.from_golden(golden.load(capture))
    kinds = [[(f.path, f.kind, f.shape) for f in c.fetches] for c in calls]
    assert kinds == [
        [("", "array", (1, 6))],                          # print(sess.run(input_data))
        [("", "none", None)],                             # sess.run(global_variables_initializer())
        [("c", "array", (1, 4)), ("h", "array", (1, 4))],  # print(sess.run(state_new))
        [("", "array", (1, 4))],                          # print(sess.run(output))
        [("", "none", None)],
        [("", "array", (2, 3, 5))],                       # sess.run(output, feed_dict=...)
    ]
    assert calls[5].feeds == [{"name": "Placeholder:0", "shape": [2, 3, 6]}]
    assert calls[2].caller == "<In [28]>:5"
    np.testing.assert_array_equal(calls[2].fetches[1].value, calls[3].fetches[0].value)
    assert run_script(cells, check=capture).status == "ok"
    capsys.readouterr()


def test_char_lstm_sampling_loop_replays_call_by_call(tmp_path, capsys):
    script = LEGACY / "char_lstm_sample.py"
    capture = tmp_path / "char.npz"
    assert run_cli(script, "--seed", "5", "--capture", capture, "--", "--length", "8") == 0
    calls = cap.from_golden(golden.load(capture))
    # init, 3 training steps, zero state, 4 prime characters, 8 samples
    assert len(calls) == 1 + 3 + 1 + 4 + 8
    last = calls[-1]
    assert [f.path for f in last.fetches] == ["0", "1/0/c", "1/0/h", "1/1/c", "1/1/h"]
    assert {f["name"] for f in last.feeds} >= {"model_1/Placeholder:0"}
    assert run_cli(script, "--check", capture, "--", "--length", "8") == 0
    text = capsys.readouterr().out
    assert run_cli(script, "--check", capture, "--", "--length", "9") == 2
    assert "made 18 Session.run calls; char.npz holds 17" in capsys.readouterr().err
    assert text.count("step ") == 6


@pytest.mark.subprocess
def test_the_classifier_captured_here_replays_in_a_fresh_process(tmp_path, capsys):
    """Seeding, Saver and tf-slim: a capture made in one process holds in a fresh one."""
    script = LEGACY / "lstm_classifier.py"
    capture = tmp_path / "clf.npz"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    captured = subprocess.run(
        [sys.executable, "-m", "tf1_lstm", "run", str(script), "--seed", "2", "--capture",
         str(capture), "--", "--steps", "3", "--logdir", str(tmp_path / "first")],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert captured.returncode == 0, captured.stderr
    made = captured.stdout
    checked = subprocess.run(
        [sys.executable, "-m", "tf1_lstm", "run", str(script), "--check", str(capture), "--",
         "--steps", "3", "--logdir", str(tmp_path / "second")],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == made and "step 2: loss" in made
    assert "OK (6 Session.run calls" in checked.stderr
    gold = golden.load(capture)
    # Saver: the global step and the save op for save(), the restore op for restore()
    assert gold.meta["skipped_calls"] == {"checkpoint": 3, "other_threads": 0}
    assert gold.meta["seed"] == 2
    train_op = cap.from_golden(gold)[1].fetches[0]
    assert (train_op.path, train_op.name, train_op.kind) == ("0", "Adam", "none")
    assert (tmp_path / "second").is_dir()
    # The same capture in this process, with another model size: every value differs.
    assert main(["run", str(script), "--check", str(capture), "--", "--steps", "3",
                 "--units", "9", "--logdir", str(tmp_path / "third")]) == 1


@pytest.mark.parametrize("tolerances", [{"call/0001/fetch/y": [-1, "x"]},
                                        {"call/0001/fetch/y": [1e-5]}, [1e-5, 1e-6]])
def test_a_capture_with_damaged_stored_tolerances_is_refused_before_the_script_runs(
        toy, tmp_path, capsys, tolerances):
    capture = tmp_path / "toy.npz"
    assert run_cli(toy, "--capture", capture) == 0
    saved = golden.load(capture)
    golden.save(capture, saved.arrays, {**saved.meta, "tolerances": tolerances})
    before = capture.read_bytes()
    capsys.readouterr()
    assert run_cli(toy, "--check", capture) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # the script did not run
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "stored tolerance" in lines[0] and "the capture is damaged" \
        in lines[0], captured.err
    assert capture.read_bytes() == before
