"""The compact capture index: signatures once, calls as a sequence, values stacked per group."""

import collections
import json
import re
import textwrap

import numpy as np
import pytest

from tf1_lstm import capture as cap
from tf1_lstm import golden
from tf1_lstm.cli import main

Pair = collections.namedtuple("Pair", "c h")


def _save(tmp_path, calls, name="c.npz", **kwargs):
    """Write ``calls`` as a capture of a script ``s.py``; return the path and what was written."""
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    arrays, meta = cap.to_golden(cap.Recording(calls=calls), script=script, args=[], seed=0,
                                 **kwargs)
    path = tmp_path / name
    golden.save(path, arrays, meta)
    return path, arrays, meta


def _call(k, fetches, caller="s.py:7", feeds=()):
    """A call fetching ``[(path, name, value), ...]``, recorded as :func:`cap.recording` would."""
    return cap.Call(k, caller, [cap.to_fetch(p, n, v) for p, n, v in fetches],
                    [{"name": n, "shape": list(s)} for n, s in feeds])


def _same(got, want):
    """Assert two lists of calls hold the same things, dtypes and shapes included."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert (a.index, a.caller, a.feeds) == (b.index, b.caller, b.feeds)
        assert [(f.path, f.name, f.kind, f.dtype, f.type_name) for f in a.fetches] == \
            [(f.path, f.name, f.kind, f.dtype, f.type_name) for f in b.fetches]
        for f, g in zip(a.fetches, b.fetches):
            if g.value is None:
                assert f.value is None
            else:
                assert (f.value.dtype, f.value.shape) == (g.value.dtype, g.value.shape)
                np.testing.assert_array_equal(f.value, g.value)


# ------------------------------------------------------------- round trip


def test_a_recording_of_mixed_calls_round_trips_call_by_call(tf, tf1_session, tmp_path):
    """Repeated, shape-varying, string, op, dict and namedtuple fetches all come back exactly."""
    v1 = tf.compat.v1
    x = v1.placeholder(tf.float32, [None, 3], name="x")
    w = v1.get_variable("w", initializer=np.arange(6, dtype=np.float32).reshape(3, 2))
    y = tf.matmul(x, w, name="y")
    loss = tf.reduce_sum(y, name="loss")
    step = v1.assign_add(w, tf.ones_like(w) * 0.5).op
    word = v1.placeholder(tf.string, [], name="word")
    state = Pair(tf.identity(y, name="c"), tf.cast(y, tf.float64, name="h"))
    seven = tf.constant(7)
    with cap.recording(tf) as rec:
        tf1_session.run(w.initializer)
        for k in range(6):                          # a loop: one group, stacked
            tf1_session.run([step, loss], {x: np.full((2, 3), k, np.float32)})
        for n in (1, 4, 1):                         # the same call with other shapes
            tf1_session.run({"state": state, "y": y}, {x: np.ones((n, 3))})
        for text in (b"ab", b"abc", b"ab"):         # strings of other lengths
            tf1_session.run((word, seven), {word: text})
        tf1_session.run(w.initializer)
    assert len(rec.calls) == 14
    path, arrays, meta = _save(tmp_path, rec.calls)
    index = meta["index"]
    # init; the loop; feeds of 1 and 4 rows (two signatures); "ab" and "abc" (one signature,
    # two groups: the dtypes differ); init again, from another line
    assert index["sequence"] == "0,1*6,2,3,2,4,5,4,6"
    assert [g["calls"] for g in index["groups"]] == [1, 6, 2, 1, 2, 1, 1]
    assert [g["signature"] for g in index["groups"]] == [0, 1, 2, 3, 4, 4, 5]
    assert sorted(arrays)[:5] == ["call/0008/fetch/state/c", "call/0008/fetch/state/h",
                                  "call/0008/fetch/y", "call/0011/fetch/0", "call/0011/fetch/1"]
    assert arrays["stack/0001/fetch/1"].shape == (6,)                  # the loop's losses
    assert arrays["stack/0002/fetch/state/h"].shape == (2, 1, 2)      # calls 7 and 9
    assert arrays["stack/0002/fetch/state/h"].dtype == np.float64
    assert arrays["stack/0004/fetch/0"].dtype == np.dtype("<U2")      # "ab" twice
    calls = cap.from_golden(golden.load(path))
    _same(calls, rec.calls)
    assert calls[9].fetches[0].stored == "stack/0002/fetch/state/c" and calls[9].fetches[0].row == 1
    assert calls[8].fetches[0].stored == "call/0008/fetch/state/c" and calls[8].fetches[0].row is None
    assert calls[11].fetches[0].value.dtype == np.dtype("<U3")
    assert cap.compare_runs(rec.calls, calls, script="s.py", path=path,
                            tolerances=meta["tolerances"]).status == "ok"


def test_values_that_are_not_arrays_and_odd_structures_round_trip(tmp_path):
    class Opaque:
        pass

    calls = [
        _call(0, [("", "init", None)]),
        *[_call(k, [("a", "a:0", np.float32(k)), ("b/c", "c:0", np.array([k, k], np.int64)),
                    ("b/d", "d", Opaque()), ("e", "e:0", np.ones((0, 2)))], caller="s.py:9",
                feeds=[("x:0", (2, 3)), ("lr:0", ())])
          for k in range(1, 4)],
        _call(4, [("", "t:0", True)], feeds=[("x:0", (2, 3))]),
        _call(5, [("", "t:0", False)], feeds=[("x:0", (5, 3))]),  # other feed shape
        *[_call(6 + k, [("", "v:0", np.ones(n))]) for k, n in enumerate((2, 3, 2))],
    ]
    calls[5].feeds[0]["shape"] = None  # a feed whose shape could not be taken
    path, arrays, meta = _save(tmp_path, calls)
    assert meta["index"]["sequence"] == "0,1*3,2,3,4,5,4"
    assert arrays["stack/0004/fetch"].shape == (2, 2) and arrays["call/0007/fetch"].shape == (3,)
    assert arrays["stack/0001/fetch/e"].shape == (3, 0, 2)
    _same(cap.from_golden(golden.load(path)), calls)


def test_the_bytes_are_deterministic_and_old_captures_still_load(tmp_path):
    """A capture written before the compact index (a ``calls`` list) loads and checks as before."""
    calls = [_call(k, [("0", "loss:0", np.float32(k))]) for k in range(3)]
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    first = golden.encode(*cap.to_golden(cap.Recording(calls=calls), script=script, args=[],
                                         seed=0))
    again = golden.encode(*cap.to_golden(cap.Recording(calls=calls), script=script, args=[],
                                         seed=0))
    assert first == again
    old_meta = {"schema_version": golden.SCHEMA_VERSION, "kind": cap.KIND, "script": "s.py",
                "calls": [{"call": k, "caller": "s.py:7", "feeds": [],
                           "fetches": [{"key": f"call/{k:04d}/fetch/0", "path": "0",
                                        "name": "loss:0", "kind": "array", "dtype": "float32",
                                        "shape": []}]} for k in range(3)],
                "tolerances": {f"call/{k:04d}/fetch/0": [0.5, 0] for k in range(3)}}
    old = tmp_path / "old.npz"
    golden.save(old, {f"call/{k:04d}/fetch/0": np.float32(k) for k in range(3)}, old_meta)
    loaded = cap.from_golden(golden.load(old))
    _same(loaded, calls)
    nudged = [_call(k, [("0", "loss:0", np.float32(k * 1.2))]) for k in range(3)]
    result = cap.compare_runs(nudged, loaded, script="s.py", path=old,
                              tolerances=old_meta["tolerances"])
    assert result.status == "ok"  # the stored per-call tolerances hold (rtol 0.5)


# ------------------------------------------------------- tolerances, reports


def test_a_stack_keeps_one_tolerance_for_each_of_its_rows(tmp_path):
    calls = [_call(k, [("0", "loss:0", np.float32(1 + k)), ("1", "p:0", np.ones(2) * k)])
             for k in range(5)]
    path, _, meta = _save(tmp_path, calls, tolerance=(0.01, 0))
    assert meta["tolerances"] == {"stack/0000/fetch/0": [0.01, 0.0],
                                  "stack/0000/fetch/1": [0.01, 0.0]}
    expected = cap.from_golden(golden.load(path))

    def replay(scale, tolerances=meta["tolerances"], **kwargs):
        got = [_call(k, [("0", "loss:0", np.float32((1 + k) * (1 + scale * (k == 3)))),
                         ("1", "p:0", np.ones(2) * k)]) for k in range(5)]
        return cap.compare_runs(got, expected, script="s.py", path=path,
                                tolerances=tolerances, **kwargs)

    assert replay(0.005).status == "ok"
    result = replay(0.05)
    assert result.status == "mismatch"
    report = result.report()
    assert report.count("FAILED") == 1
    assert "call 3 at s.py:7 fetching ['loss:0', 'p:0']: FAILED" in report
    assert "array 'call/0003/fetch/0' (rtol=0.01, atol=0)" in report
    assert replay(0.05, tolerance=(0.1, 0)).status == "ok"
    assert replay(0.005, tolerances=None).status == "mismatch"  # float32's default: rtol 1e-5


def test_default_tolerances_are_stored_per_stack_by_dtype(tmp_path):
    calls = [_call(k, [("0", "a:0", np.float32(k)), ("1", "b:0", np.float64(k)),
                       ("2", "n:0", np.int32(k))]) for k in range(3)]
    _, _, meta = _save(tmp_path, calls)
    assert meta["tolerances"] == {"stack/0000/fetch/0": [1e-5, 1e-6],
                                  "stack/0000/fetch/1": [1e-11, 1e-12],
                                  "stack/0000/fetch/2": [0.0, 0.0]}


# -------------------------------------------------------------- compactness


def _index_bytes(tmp_path, calls):
    """Bytes of the capture file beyond the recorded values (index, zip and .npy headers)."""
    path, _, _ = _save(tmp_path, calls)
    values = sum(f.value.nbytes for c in calls for f in c.fetches if f.value is not None)
    return path.stat().st_size - values


def _loop(steps, evaluate=lambda step: False):
    """A training loop's calls: init, then [train_op, loss] per step, an eval call after some."""
    calls = [_call(0, [("", "init", None)], caller="train.py:30")]
    for step in range(steps):
        calls.append(_call(len(calls), [("0", "Adam", None), ("1", "Mean:0", np.float32(step))],
                           caller="train.py:40", feeds=[("x:0", (32, 10, 8)), ("y:0", (32, 1))]))
        if evaluate(step):
            calls.append(_call(len(calls), [("", "acc:0", np.float32(step))],
                               caller="train.py:44", feeds=[("x:0", (100, 10, 8))]))
    return calls


@pytest.mark.parametrize("evaluate, per_call", [
    (lambda step: False, 0.1),         # one call repeated: the index does not grow
    (lambda step: step % 3 == 0, 0.1),  # an eval call every third step: a repeated block
    (lambda step: True, 0.1),          # alternating every step: a repeated block
    (lambda step: (step * 7919) % 13 < 5, 10),  # no pattern: a few bytes per call
], ids=["one call", "every third", "alternating", "irregular"])
def test_the_index_grows_by_a_small_constant_per_call(tmp_path, evaluate, per_call):
    """Bytes of the file beyond the values, measured for 200 and 2,200 steps."""
    small, large = _loop(200, evaluate), _loop(2200, evaluate)
    growth = _index_bytes(tmp_path, large) - _index_bytes(tmp_path, small)
    assert growth / (len(large) - len(small)) <= per_call, growth
    assert _index_bytes(tmp_path, small) < 40_000  # environment, signatures, a few zip members


# --------------------------------------------------------- corrupt indexes


def _corruptions():
    def seq(text):
        return lambda index: index.update(sequence=text)

    def group(**entry):
        return lambda index: index["groups"][1].update(entry)

    return [
        ("sequence token", seq("0,1*x"), r"sequence is malformed at character 3 \('\*x'\)"),
        ("sequence block", seq("0,(1,1*0)*2"), r"sequence entry '1\*0' is not GROUP or "
                                               r"GROUP\*COUNT"),
        ("sequence group", seq("0,9*4"), r"sequence entry '9\*4' .* GROUP below 2"),
        ("sequence count", seq("0,1*3"), r"group 1 holds 4 calls; the sequence names it 3 times"),
        ("sequence length", seq("0,1*99999999999"), r"sequence names more calls than the groups "
                                                   r"hold \(5\)"),
        ("sequence type", seq([0, 1, 1, 1, 1]), r"sequence is list, expected a string"),
        ("calls", group(calls=-1), r"calls -1 is not a non-negative integer"),
        ("signature", group(signature=7), r"IndexError"),
        ("shapes", group(shapes=[None, [3]]), r"array 'stack/0001/fetch/1' has shape \(4,\) .* "
                                              r"the index says \(4, 3\)"),
        ("arrays", group(arrays=[None, "stack/0009/fetch/1"]),
         r"array 'stack/0009/fetch/1' is listed in the index but missing from the file"),
        ("no value", group(arrays=["stack/0001/fetch/1", "stack/0001/fetch/1"]),
         r"fetch '0' of kind 'none' has array"),
        ("version", lambda index: index.update(version=99), r"index version 99, this tf1_lstm "
                                                             r"reads version 2"),
        ("signatures", lambda index: index.update(signatures="?"), r"TypeError"),
        ("kind", lambda index: index["signatures"][1]["fetches"][0].update(kind="tensor"),
         r"fetch kind 'tensor'"),
    ]


@pytest.mark.parametrize("name, corrupt, message", _corruptions(), ids=[c[0] for c in
                                                                       _corruptions()])
def test_a_corrupt_index_is_refused_in_one_line_naming_the_file(tmp_path, name, corrupt,
                                                                message):
    path, arrays, meta = _save(tmp_path, _loop(4))
    bad = json.loads(json.dumps(meta))
    corrupt(bad["index"])
    golden.save(path, arrays, bad)
    with pytest.raises(golden.GoldenError) as info:
        cap.from_golden(golden.load(path))
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}: ")
    assert re.search(message, text), text


def test_a_corrupt_index_fails_the_check_before_the_script_runs(tmp_path, capsys):
    script = tmp_path / "s.py"
    script.write_text("print('ran')\n")
    path, arrays, meta = _save(tmp_path, _loop(4), name="s.npz")
    golden.save(path, arrays, {**meta, "index": {**meta["index"], "sequence": "0,1*3,0"}})
    assert main(["run", str(script), "--check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and f"{path}: malformed call index in the metadata" in lines[0]
    assert "group 0 holds 1 calls; the sequence names it 2 times" in lines[0]


# ------------------------------------------------------------- recording


@pytest.mark.parametrize("fetches, values", [
    ("t:0", 1),
    (["a:0", "b:0"], [1, 2]),
    (("a:0", "b:0"), (1, 2)),
    (["a:0", ["b:0", "c:0"]], [1, [2, 3]]),
    ({"s": Pair("c:0", "h:0"), "o": ["o:0", "init"]}, {"s": Pair(1, 2), "o": [3, None]}),
    (Pair("c:0", "h:0"), Pair(1, 2)),
    (["sp:0", "t:0"], [Pair(1, 2), 3]),          # a SparseTensorValue-like result
    ("sp:0", Pair(1, 2)),
    (list("abcdefghijklmnopqrstuvwxyz" * 3), list(range(78))),  # longer than the fast path
])
def test_the_fast_leaf_walk_matches_the_general_one(fetches, values):
    assert cap._flat_leaves(fetches, values) == list(cap._leaves(fetches, values))


LOOP = """
    import sys
    import numpy as np
    import tensorflow as tf

    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w", [3, 2])
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w))) * float(sys.argv[1])
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(12):
            _, l = sess.run([train_op, loss], {x: np.ones((4, 3)) * step / 10})
            if step % 4 == 0:
                print(step, sess.run(w).sum())
"""


def test_a_training_loop_captures_compactly_and_checks_call_by_call(tmp_path, capsys):
    script = tmp_path / "loop.py"
    script.write_text(textwrap.dedent(LOOP).lstrip())
    capture = tmp_path / "loop.npz"
    assert main(["run", str(script), "--capture", str(capture), "--", "1"]) == 0
    gold = golden.load(capture)
    assert sorted(gold.arrays) == ["stack/0001/fetch/1", "stack/0002/fetch"]
    assert gold.meta["index"]["sequence"] == "0,1,(2,1*4)*2,2,1*3"
    assert gold.arrays["stack/0001/fetch/1"].shape == (12,)
    assert main(["run", str(script), "--check", str(capture), "--", "1"]) == 0
    assert "OK (16 Session.run calls, 15 arrays" in capsys.readouterr().err
    assert main(["run", str(script), "--check", str(capture), "--", "1.001"]) == 1
    err = capsys.readouterr().err
    # step 0 feeds zeros (loss 0 either way); step 1 is call 3, the loop's third row
    assert re.search(r"MISMATCH\n  call 3 at loop\.py:\d+ fetching \['GradientDescent', 'mul:0'\]: "
                     r"FAILED\n    array 'call/0003/fetch/1' \(rtol=1e-05, atol=1e-06\)", err), err
    obtained = golden.load(tmp_path / "loop.obtained.npz")
    assert obtained.meta["index"]["sequence"] == gold.meta["index"]["sequence"]
