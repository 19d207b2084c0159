"""The pytest plugin: fresh seeded graphs per test, and goldens that never pass silently."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import golden

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _keep_library_modules(monkeypatch):
    """Keep modules first imported inside an in-process pytester run.

    pytester restores ``sys.modules`` after each inner run, dropping what the
    run imported; TensorFlow imported a second time re-registers its C++ ops
    and aborts the process. Only the inner test modules need dropping.
    """
    import _pytest.pytester

    class Snapshot(_pytest.pytester.SysModulesSnapshot):
        def __init__(self, preserve=None):
            super().__init__(preserve=lambda name: not name.startswith(("test_", "conftest")))

    monkeypatch.setattr(_pytest.pytester, "SysModulesSnapshot", Snapshot)

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Legacy scripts and the pytest plugin"

LSTM_TEST = """
    import numpy as np

    def test_lstm(tf1, tf1_session, tf1_golden):
        cell = tf1.nn.rnn_cell.LSTMCell(4)
        inputs = tf1.placeholder(tf1.float32, [None, None, 6])
        outputs, state = tf1.nn.dynamic_rnn(cell, inputs, dtype=tf1.float32)
        tf1_session.run(tf1.global_variables_initializer())
        out, st = tf1_session.run([outputs, state], {inputs: np.ones((2, 3, 6))})
        tf1_golden.check("lstm", {"outputs": out, "c": st.c, "h": st.h}{tolerance})
"""


def test_the_readme_example_works_as_documented(pytester):
    """The README's ten lines: fail without a golden, fail on --tf1-golden-regen, then pass."""
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(example.strip().splitlines()) <= 11
    pytester.makepyfile(test_readme=example)
    pytester.runpytest().assert_outcomes(failed=1)
    pytester.runpytest("--tf1-golden-regen").assert_outcomes(failed=1)
    assert goldens(pytester) == ["my_lstm.npz"]
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.fixture
def lstm_test(pytester):
    def make(tolerance=""):
        return pytester.makepyfile(test_lstm=LSTM_TEST.replace("{tolerance}", tolerance))
    return make


def goldens(pytester):
    return sorted(p.name for p in (pytester.path / "goldens").glob("*.npz"))


def test_the_plugin_is_registered_through_pytest11(pytester):
    points = importlib.metadata.entry_points(group="pytest11")
    assert any(p.name == "tf1_lstm" and p.value == "tf1_lstm.pytest_plugin" for p in points)
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--tf1-golden-regen" in help_text and "tf1_golden_dir" in help_text


def test_importing_the_plugin_loads_neither_tensorflow_nor_numpy():
    code = ("import sys, tf1_lstm.pytest_plugin; "
            "print(sorted(m for m in ('tensorflow', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_a_missing_golden_fails_and_writes_nothing(pytester, lstm_test):
    lstm_test()
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*goldens/lstm.npz: golden 'lstm' is missing; create it with: "
                                 "pytest --tf1-golden-regen test_lstm.py::test_lstm*"])
    assert goldens(pytester) == []


def test_regeneration_writes_and_still_fails_then_the_golden_passes(pytester, lstm_test):
    lstm_test()
    result = pytester.runpytest("--tf1-golden-regen")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*golden 'lstm' created (3 arrays); review it, then rerun "
                                 "without --tf1-golden-regen*"])
    gold = golden.load(pytester.path / "goldens" / "lstm.npz")
    assert sorted(gold.arrays) == ["c", "h", "outputs"]
    assert gold.arrays["outputs"].shape == (2, 3, 4)
    assert gold.meta["test"] == "test_lstm.py::test_lstm"
    pytester.runpytest().assert_outcomes(passed=1)
    before = (pytester.path / "goldens" / "lstm.npz").read_bytes()
    pytester.runpytest("--tf1-golden-regen").assert_outcomes(passed=1)  # matches: left alone
    assert (pytester.path / "goldens" / "lstm.npz").read_bytes() == before


def test_a_mismatch_reports_like_check_and_leaves_the_obtained_arrays(pytester, lstm_test):
    lstm_test()
    pytester.runpytest("--tf1-golden-regen")
    path = pytester.path / "goldens" / "lstm.npz"
    gold = golden.load(path)
    gold.arrays["h"][0, 1] *= np.float32(1.001)
    golden.save(path, gold.arrays, gold.meta)

    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*golden 'lstm' [[]test_lstm.py::test_lstm[]]: FAILED",
        "*array 'h' (rtol=1e-05, atol=1e-06)",
        "*Mismatched elements: 1 / 8 (12.5%)",
        "*Worst index (0, 1): obtained *",
        "*to regenerate on purpose: pytest --tf1-golden-regen test_lstm.py::test_lstm*",
        "*obtained arrays written to *lstm.obtained.npz for diffing",
    ])
    assert goldens(pytester) == ["lstm.npz", "lstm.obtained.npz"]
    assert "Traceback" not in result.stdout.str()

    result = pytester.runpytest("--tf1-golden-regen")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*golden 'lstm' regenerated at *lstm.npz; review the diff*"])
    pytester.runpytest().assert_outcomes(passed=1)


def test_tolerances_given_to_check_decide(pytester, lstm_test):
    lstm_test()
    pytester.runpytest("--tf1-golden-regen")
    path = pytester.path / "goldens" / "lstm.npz"
    gold = golden.load(path)
    gold.arrays["outputs"] *= np.float32(1.001)
    golden.save(path, gold.arrays, gold.meta)
    pytester.runpytest().assert_outcomes(failed=1)
    lstm_test(", rtol=1e-2")
    pytester.runpytest().assert_outcomes(passed=1)
    lstm_test(", rtol=0, atol=1e-9")
    pytester.runpytest().assert_outcomes(failed=1)


def test_the_golden_directory_comes_from_the_option_or_the_ini_file(pytester, lstm_test):
    lstm_test()
    pytester.makeini("[pytest]\ntf1_golden_dir = snapshots/tf1\n")
    pytester.runpytest("--tf1-golden-regen")
    assert (pytester.path / "snapshots" / "tf1" / "lstm.npz").exists()
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--tf1-golden-dir", "elsewhere").assert_outcomes(failed=1)
    pytester.runpytest("--tf1-golden-dir", "elsewhere", "--tf1-golden-regen")
    assert (pytester.path / "elsewhere" / "lstm.npz").exists()
    assert goldens(pytester) == []


def test_each_test_gets_a_fresh_seeded_graph_and_a_default_session(pytester):
    pytester.makepyfile(test_graphs="""
        import random
        import numpy as np
        import pytest

        SEEN = []

        @pytest.mark.parametrize("run", [1, 2])
        def test_fresh(tf1, tf1_graph, tf1_session, run):
            assert tf1.get_default_graph() is tf1_graph is tf1_session.graph
            assert tf1_graph.get_operations() == []
            assert tf1_graph.seed == 0
            v = tf1.get_variable("v", [3])            # would clash in a shared graph
            tf1_session.run(v.initializer)
            SEEN.append((v.eval().tolist(), random.random(), np.random.rand()))
            if run == 2:
                assert SEEN[0] == SEEN[1]

        def test_eager_again_outside(tf1):
            import tf1_lstm.tfcompat as t
            assert t.load().executing_eagerly()
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_the_seed_is_configurable(pytester):
    pytester.makeini("[pytest]\ntf1_seed = 7\n")
    pytester.makepyfile("def test_seed(tf1_graph):\n    assert tf1_graph.seed == 7\n")
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makeini("[pytest]\ntf1_seed = seven\n")
    result = pytester.runpytest()
    assert "ini option tf1_seed must be an integer, got 'seven'" in result.stderr.str() + \
        result.stdout.str()


def test_nan_is_never_stored_and_bad_arguments_are_named(pytester):
    pytester.makepyfile(test_bad="""
        import numpy as np
        import pytest

        def test_nan(tf1_golden):
            tf1_golden.check("nan", {"loss": np.array([1.0, np.nan])})

        def test_bad_name(tf1_golden):
            with pytest.raises(ValueError, match="golden name '../x' must be"):
                tf1_golden.check("../x", {"a": np.ones(1)})

        def test_not_a_mapping(tf1_golden):
            with pytest.raises(TypeError, match="arrays must be a non-empty mapping"):
                tf1_golden.check("x", np.ones(1))

        def test_object_arrays(tf1_golden):
            tf1_golden.check("objects", {"a": np.array([{}], dtype=object)})
    """)
    result = pytester.runpytest("--tf1-golden-regen")
    result.assert_outcomes(failed=2, passed=2)
    out = result.stdout.str()
    assert "nan.npz: not written: arrays ['loss'] hold NaN or infinity" in out
    assert "objects.npz: encode: array 'a' has dtype object (kind 'O')" in out
    assert "During handling" not in out
    assert goldens(pytester) == []


def test_an_unreadable_golden_fails_naming_it(pytester, lstm_test):
    lstm_test()
    (pytester.path / "goldens").mkdir()
    (pytester.path / "goldens" / "lstm.npz").write_bytes(b"PK\x03\x04 torn")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "lstm.npz: not a readable .npz file" in out
    assert "to rewrite it on purpose: pytest --tf1-golden-regen test_lstm.py::test_lstm" in out
    pytester.runpytest("--tf1-golden-regen").assert_outcomes(failed=1)
    pytester.runpytest().assert_outcomes(passed=1)
