"""`tf1-lstm run`: unmodified TF1 scripts on today's TensorFlow, the real module left intact."""

import ast
import importlib.util
import random
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import golden
from tf1_lstm.cli import main
from tf1_lstm.runner import ScriptError, ScriptFailed, facade, run_script

REPO = Path(__file__).resolve().parent.parent
SEED_DOC = REPO.parent / "shared" / "seeds" / "000_23d552f4c04f037b.txt"
LEGACY = Path(__file__).resolve().parent / "legacy_scripts"


def write_script(directory: Path, source: str, name: str = "script.py") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def _load_extractor():
    spec = importlib.util.spec_from_file_location("extract_seed_cells",
                                                  REPO / "scripts" / "extract_seed_cells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seed_doc() -> str:
    if not SEED_DOC.exists():
        pytest.skip(f"the seed document {SEED_DOC} is not checked out beside the repository")
    return SEED_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_cells(seed_doc, tmp_path_factory) -> Path:
    """The seed document's code cells as a script, written by scripts/extract_seed_cells.py."""
    out = tmp_path_factory.mktemp("seed") / "seed_cells.py"
    assert _load_extractor().main([str(SEED_DOC), "-o", str(out)]) == 0
    return out


# ------------------------------------------------------------ extraction


def test_extraction_keeps_every_code_cell_and_no_output(seed_doc):
    """Cells 24-36, 38, 40 verbatim; multi-paragraph cells whole; outputs and prose left out."""
    cells = dict(_load_extractor().extract_cells(seed_doc))
    assert sorted(cells) == list(range(24, 37)) + [38, 40]
    assert cells[26].startswith("LSTM_CELL_SIZE = 4 # output dimension\n\nlstm_cell = ")
    assert cells[26].endswith("state = (tf.zeros([1,LSTM_CELL_SIZE]),) * 2\nstate\n")
    assert cells[28].startswith('with tf.variable_scope("LSTM_sample1"):\n')
    assert cells[28].endswith("print (sess.run(state_new))\n")
    assert cells[35] == "stacked_lstm = tf.contrib.rnn.MultiRNNCell(cells)\n"
    code = "".join(cells.values())
    for output in ("LSTMStateTuple(c=", "dtype=float32)", "<tf.Tensor", "Now for input"):
        assert output not in code


def test_extraction_rejects_documents_without_valid_cells(tmp_path, capsys):
    extractor = _load_extractor()
    with pytest.raises(ValueError, match=r"no 'In \[NN\]:' code cells"):
        extractor.extract_cells("# just prose\n")
    with pytest.raises(ValueError, match=r"line 1: cell In \[3\] is not valid Python"):
        extractor.extract_cells("In [3]:\n%matplotlib inline\n")
    doc = tmp_path / "doc.txt"
    doc.write_text("nothing here\n")
    assert extractor.main([str(doc)]) == 2
    assert "no 'In [NN]:' code cells" in capsys.readouterr().err


def _float_block(pattern: str, text: str) -> np.ndarray:
    match = re.search(pattern, text, re.S)
    assert match, f"{pattern!r} not found in:\n{text}"
    return np.array(ast.literal_eval(match.group(1)))


STATE_TUPLE = (r"LSTMStateTuple\(c=array\((\[\[.*?\]\]),\s*dtype=float32\), "
               r"h=array\((\[\[.*?\]\]),\s*dtype=float32\)\)")
STACKED_OUTPUT = r"array\((\[\[\[.*?\]\]\]),\s*dtype=float32\)"


def test_seed_cells_run_unmodified_and_print_what_the_notebook_shows(seed_doc, seed_cells,
                                                                    capsys, tf):
    """`tf1-lstm run` on the extracted cells: the notebook's displays, today's random numbers.

    (A fresh process runs `python -m tf1_lstm run` in test_capture.py's classifier test.)
    """
    assert main(["run", str(seed_cells)]) == 0
    out = capsys.readouterr().out
    assert sys.modules["tensorflow"] is tf and tf.executing_eagerly()
    # Graph structure and constants print exactly as in the notebook.
    notebook_state = re.search(r"^\(<tf\.Tensor[^\n]*\n <tf\.Tensor[^\n]*\)$", seed_doc, re.M)
    assert out.startswith(notebook_state.group(0) + "\n[[1. 2. 3. 1. 2. 3.]]\n")
    assert "\n[[1. 2. 3. 1. 2. 3.]]\n" in seed_doc
    # The state tuple: an LSTMStateTuple of two (1, 4) arrays, as in the notebook.
    for text in (seed_doc, out):
        match = re.search(STATE_TUPLE, text, re.S)
        assert match, text
        c, h = (np.array(ast.literal_eval(g)) for g in match.groups())
        assert c.shape == h.shape == (1, 4)
    # `print(sess.run(output))` right after it shows h again.
    after = out[match.end():].split("\n", 2)[1]
    np.testing.assert_allclose(np.array(re.findall(r"-?\d\.\d+(?:e-?\d+)?", after), float),
                               h[0], rtol=1e-6)
    # The stacked LSTM's output: (2, 3, 5), in the notebook and here.
    assert _float_block(STACKED_OUTPUT, seed_doc).shape == (2, 3, 5)
    assert _float_block(STACKED_OUTPUT, out).shape == (2, 3, 5)
    assert out.rstrip().endswith("dtype=float32)")


# ------------------------------------------------------------- the facade


def test_the_tf1_api_is_tf_compat_v1_and_contrib_rnn_its_core_cells(tmp_path):
    script = write_script(tmp_path, """
        import tensorflow as tf
        import tensorflow.compat.v1 as v1
        from tensorflow.contrib import rnn

        for name in ("Session", "placeholder", "reset_default_graph", "variable_scope",
                     "global_variables_initializer", "get_variable", "train", "losses"):
            assert hasattr(tf, name), name
        assert tf.Session is v1.Session and tf.placeholder is v1.placeholder
        assert tf.nn.rnn_cell.LSTMCell is v1.nn.rnn_cell.LSTMCell
        assert tf.nn.dynamic_rnn is v1.nn.dynamic_rnn
        for name in ("LSTMCell", "BasicLSTMCell", "MultiRNNCell", "LSTMStateTuple", "GRUCell",
                     "BasicRNNCell", "DropoutWrapper"):
            assert getattr(tf.contrib.rnn, name) is getattr(v1.nn.rnn_cell, name), name
            assert getattr(rnn, name) is getattr(v1.nn.rnn_cell, name), name
        assert rnn.static_rnn is v1.nn.static_rnn
        import tf_slim
        assert tf.contrib.slim is tf_slim
        assert "contrib" in dir(tf) and "Session" in tf.__all__
    """)
    assert run_script(script).exit_code == 0


def test_scripts_run_in_graph_mode_with_tf1_reset_semantics(tmp_path, capsys):
    script = write_script(tmp_path, """
        import tensorflow as tf

        assert not tf.executing_eagerly()
        first = tf.get_default_graph()
        tf.constant(1.0)
        tf.reset_default_graph()
        assert tf.get_default_graph() is not first
        assert tf.get_default_graph().get_operations() == []
        tf.disable_eager_execution()  # a no-op: already graph mode, and the process stays as it is
        assert not tf.executing_eagerly()
        with tf.Session() as sess:
            try:
                tf.reset_default_graph()
            except AssertionError as exc:
                print("refused:", exc)
        with tf.Graph().as_default():
            try:
                tf.reset_default_graph()
            except AssertionError:
                print("refused in own graph")
        tf.reset_default_graph()
        print("value", tf.Session().run(tf.constant(2.0) * 3))
    """)
    assert run_script(script).exit_code == 0
    out = capsys.readouterr().out
    assert "refused: Do not use tf.reset_default_graph() to clear nested graphs" in out
    assert "refused in own graph" in out and "value 6.0" in out


@pytest.mark.parametrize("statement, error", [
    ("from tensorflow.contrib.rnn import NASCell",
     r"raised TF1ImportError: tf\.contrib\.rnn\.NASCell is not available .*TF 1\.x's "
     r"tf\.contrib\.rnn had it; .*nothing replaces it in TensorFlow 2 \(tfa\.rnn\.NASCell"),
    ("tf.contrib.rnn.NASCell(4)",
     r"raised TF1SymbolError: tf\.contrib\.rnn\.NASCell .*nothing replaces it"),
    ("tf.contrib.layers.no_such_layer",
     r"TF1SymbolError: tf\.contrib\.layers\.no_such_layer is not available .*tf\.contrib\.layers "
     r"had it; tf1_lstm does not provide it yet"),
    ("from tensorflow.contrib.learn import Estimator",
     r"TF1ImportError: tf\.contrib\.learn\.Estimator .*tf\.contrib\.learn was removed"),
    ("tf.contrib.crf.crf_log_likelihood", r"tf\.contrib\.crf\.crf_log_likelihood .*tfa\.text"),
    ("import tensorflow.contrib.no_such_module",
     r"tf\.contrib\.no_such_module .*tf1_lstm provides tf\.contrib\.\{cudnn_rnn, framework, "),
    ("tf.estimator.Estimator", r"tf\.estimator is not available .*removed in TensorFlow 2\.16"),
    ("tf.enable_eager_execution()", r"tf\.enable_eager_execution .*runs TF1 scripts in graph mode"),
    ("tf.no_such_symbol", r"tf\.no_such_symbol is not available .*no replacement known"),
    ("tf.pack([1, 2])", r"tf\.pack is not available .*TF 1\.0 renamed it tf\.stack; the script "
                        r"was written for TensorFlow 0\.x"),
    ("tf.merge_all_summaries()", r"TF 1\.0 renamed it tf\.summary\.merge_all"),
])
def test_unavailable_symbols_fail_naming_the_symbol_and_its_replacement(tmp_path, statement,
                                                                        error):
    script = write_script(tmp_path, f"import tensorflow as tf\n{statement}\n")
    with pytest.raises(ScriptFailed, match=error):
        run_script(script)


def test_contribs_files_import_by_their_paths_in_tf1s_source_tree(tmp_path):
    """TF1 code imported contrib files: tensorflow/contrib/rnn/python/ops/rnn_cell.py, ..."""
    script = write_script(tmp_path, """
        import tensorflow as tf
        from tensorflow.contrib.rnn.python.ops import rnn_cell, core_rnn_cell
        from tensorflow.contrib.rnn.python.ops.core_rnn_cell import _linear
        from tensorflow.contrib.legacy_seq2seq.python.ops import seq2seq
        from tensorflow.contrib.seq2seq.python.ops import helper, attention_wrapper
        from tensorflow.contrib.layers.python.layers import initializers, layers
        import tensorflow.contrib.rnn.python.ops.lstm_ops as lstm_ops

        assert rnn_cell.LayerNormBasicLSTMCell is tf.contrib.rnn.LayerNormBasicLSTMCell
        assert core_rnn_cell.OutputProjectionWrapper is tf.contrib.rnn.OutputProjectionWrapper
        assert seq2seq.rnn_decoder is tf.contrib.legacy_seq2seq.rnn_decoder
        assert helper.TrainingHelper is tf.contrib.seq2seq.TrainingHelper
        assert attention_wrapper.AttentionWrapper is tf.contrib.seq2seq.AttentionWrapper
        assert initializers.xavier_initializer is tf.contrib.layers.xavier_initializer
        assert layers.fully_connected is tf.contrib.layers.fully_connected
        assert lstm_ops.LSTMBlockCell is tf.contrib.rnn.LSTMBlockCell
        with tf.variable_scope("lin"):
            y = _linear([tf.zeros([2, 3]), tf.zeros([2, 4])], 5, bias=True)
        assert y.shape.as_list() == [2, 5]
        assert sorted(v.name for v in tf.global_variables()) == ["lin/bias:0", "lin/kernel:0"]
        from tensorflow.contrib.rnn.python.ops import no_such_file
    """)
    with pytest.raises(ScriptFailed, match=r"TF1ImportError: tf\.contrib\.rnn\.python\.ops\."
                                           r"no_such_file is not available"):
        run_script(script)


def test_hasattr_still_answers_false_for_missing_symbols(tmp_path):
    script = write_script(tmp_path, """
        import tensorflow as tf
        assert not hasattr(tf, "no_such_symbol")
        assert not hasattr(tf.contrib.rnn, "NASCell")
        assert hasattr(tf, "contrib")  # TF1 scripts test this to detect TF1
    """)
    assert run_script(script).exit_code == 0


def test_replacement_table_is_most_specific_first():
    assert facade.replacement("contrib.rnn.ConvLSTMCell").startswith("tf.keras.layers.ConvLSTM2D")
    assert facade.replacement("contrib.rnn.SomeCell").startswith("nothing replaces it in core")
    assert facade.replacement("contrib.nothing").startswith("nothing replaces it in TensorFlow "
                                                            "2; tf1_lstm provides tf.contrib.{")
    assert facade.replacement("no_such_symbol") is None


# ------------------------------------------------------------ the shim


def _process_state(tf):
    base = tf.compat.v1.Session.__mro__[1]
    return {
        "modules": {k: v for k, v in sys.modules.items() if k.split(".")[0] == "tensorflow"},
        "meta_path": list(sys.meta_path),
        "argv": list(sys.argv),
        "path": list(sys.path),
        "random": random.getstate(),
        "numpy": np.random.get_state()[1].copy(),
        "graph_seed_property": tf.Graph.__dict__["seed"],
        "session_run": base.__dict__["run"],
        "session_init": base.__dict__["__init__"],
        "eager": tf.executing_eagerly(),
        "default_graph": tf.compat.v1.get_default_graph(),
    }


LEAVES_THINGS_OPEN = """
    import random
    import sys
    import numpy as np
    import tensorflow as tf

    random.random(); np.random.rand()
    sess = tf.InteractiveSession()   # pushes its graph and itself as defaults, never closed
    tf.constant(1.0).eval()
    sys.tf1_lstm_test_kept = [sess, tf.Session()]  # outlive the script: nobody closes them
    if "--fail" in sys.argv:
        raise RuntimeError("boom")
"""


@pytest.mark.parametrize("args, seed", [([], None), ([], 3), (["--fail"], 5)])
def test_everything_is_restored_after_a_run_even_a_failing_one(tmp_path, tf, args, seed):
    """sys.modules, meta_path, argv, path, random states, Graph.seed, Session, eager mode."""
    script = write_script(tmp_path, LEAVES_THINGS_OPEN)
    before = _process_state(tf)
    try:
        if args:
            with pytest.raises(ScriptFailed, match="raised RuntimeError: boom"):
                run_script(script, args, seed=seed)
        else:
            run_script(script, args, seed=seed)
        kept = sys.tf1_lstm_test_kept
    finally:
        vars(sys).pop("tf1_lstm_test_kept", None)
    assert all(sess._closed for sess in kept)  # the runner closed what the script left open
    after = _process_state(tf)
    numpy_before, numpy_after = before.pop("numpy"), after.pop("numpy")
    if seed is None:  # unseeded, the script's own draws move the streams, as any code's would
        del before["random"], after["random"]
    else:
        np.testing.assert_array_equal(numpy_after, numpy_before)
    assert after == before
    assert sys.modules["tensorflow"] is tf
    assert not any(k.startswith("tensorflow.contrib") for k in sys.modules)


def test_tf_keras_keeps_the_real_tensorflow_after_a_run(tmp_path, tf):
    script = write_script(tmp_path, "import tensorflow as tf\ntf.Session().run(tf.constant(1))\n")
    run_script(script)
    import tf_keras

    layer = tf_keras.layers.Dense(2)
    assert tuple(layer(np.ones((1, 3), np.float32)).shape) == (1, 2)  # eager, TF2
    assert float(tf.constant(1.0) + 1.0) == 2.0


def test_runs_do_not_nest(tmp_path):
    inner = write_script(tmp_path, "print('inner')\n", "inner.py")
    outer = write_script(tmp_path, f"""
        from tf1_lstm.runner import run_script
        run_script({str(inner)!r})
    """, "outer.py")
    with pytest.raises(ScriptFailed, match="ShimError: the TF1 runner is already active"):
        run_script(outer)


def test_script_runs_as_main_with_its_arguments_and_directory(tmp_path, capsys):
    write_script(tmp_path, "VALUE = 42\n", "helper_module_for_runner_test.py")
    script = write_script(tmp_path, """
        import sys
        import helper_module_for_runner_test as helper
        print(__name__, sys.argv[1:], helper.VALUE)
    """)
    try:
        run_script(script, ["--steps", "3", "x y"])
    finally:
        sys.modules.pop("helper_module_for_runner_test", None)
    assert capsys.readouterr().out == "__main__ ['--steps', '3', 'x y'] 42\n"


# ------------------------------------------------------------- seeding


UNSEEDED = """
    import random
    import numpy as np
    import tensorflow as tf

    cell = tf.nn.rnn_cell.LSTMCell(3)        # tf-keras initializers: op seeds from `random`
    inputs = tf.constant(np.random.rand(1, 2).astype(np.float32))
    out, state = cell(inputs, cell.zero_state(1, tf.float32))
    noise = tf.random_normal([2]) * random.random()
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run([out, noise])
    print("graph seed", tf.get_default_graph().seed)
"""


def test_the_same_seed_gives_identical_captures_whatever_the_callers_random_state(tmp_path,
                                                                                 capsys):
    script = write_script(tmp_path, UNSEEDED)
    first, second = tmp_path / "a" / "capture.npz", tmp_path / "b" / "capture.npz"
    run_script(script, seed=7, capture=first)
    random.seed(12345)  # the initializer pitfall: op seeds come from Python's random
    np.random.seed(999)
    run_script(script, seed=7, capture=second)
    assert first.read_bytes() == second.read_bytes()
    assert "graph seed 7" in capsys.readouterr().out


def test_another_seed_changes_the_numbers(tmp_path, capsys):
    script = write_script(tmp_path, UNSEEDED)
    assert main(["run", str(script), "--seed", "1", "--capture", str(tmp_path / "a.npz")]) == 0
    assert main(["run", str(script), "--seed", "2", "--capture", str(tmp_path / "b.npz")]) == 0
    a, b = golden.load(tmp_path / "a.npz"), golden.load(tmp_path / "b.npz")
    assert set(a.arrays) == set(b.arrays)
    assert not np.allclose(a.arrays["call/0001/fetch/0"], b.arrays["call/0001/fetch/0"])
    capsys.readouterr()


def test_a_plain_run_seeds_nothing(tmp_path, capsys):
    script = write_script(tmp_path, UNSEEDED)
    run_script(script)
    assert "graph seed None" in capsys.readouterr().out


def test_the_scripts_own_graph_seed_wins_and_its_own_graphs_are_seeded(tmp_path, capsys):
    script = write_script(tmp_path, """
        import tensorflow as tf

        tf.set_random_seed(11)
        print("explicit", tf.Session().run(tf.random_normal([3])))
        with tf.Graph().as_default() as own:
            print("own_seed", own.seed)
            print("own", tf.Session().run(tf.random_uniform([3])))
    """)

    def lines(seed):
        run_script(script, seed=seed)
        return dict(line.split(" ", 1) for line in capsys.readouterr().out.splitlines())

    first, again, other = lines(0), lines(0), lines(1)
    assert again == first and first["own_seed"] == "0"
    assert other["explicit"] == first["explicit"]  # tf.set_random_seed(11) decides
    assert other["own"] != first["own"]            # the unseeded own graph follows the runner


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize("source, argv, code, message", [
    (None, [], 2, r"no_such_script\.py: no such script"),
    ("x = 1\ndef broken(:\n", [], 2, r"script\.py:2: SyntaxError: .*not valid Python"),
    ("import tensorflow as tf\nraise ValueError('boom')\n", [], 3,
     r"ValueError: boom\ntf1-lstm: error: script\.py raised \(traceback above\)\n$"),
    ("import sys\nsys.exit(4)\n", [], 3, r"script\.py exited with status 4"),
    ("import sys\nsys.exit(0)\n", [], 0, None),
    ("print('hi')\n", ["--steps", "3"], 2, r"unrecognized arguments: --steps 3 \(arguments for "
                                           r"the script go after --"),
    ("print('hi')\n", ["--capture", "a.npz", "--check", "b.npz"], 2, r"not allowed with"),
    ("print('hi')\n", ["--rtol", "0.1"], 2, r"give --rtol and --atol together"),
    ('print "hi"\n', [], 2, r"script\.py:1: SyntaxError: .*not valid Python 3\.\d+ \(the script "
                           r"is Python 2 code, .*the print statement is Python 2's"),
    ("import tensorflow as tf\nfor i in xrange(2):\n    pass\n", [], 3,
     r"raised \(traceback above\)\ntf1-lstm: the script is Python 2 code, not a TensorFlow "
     r"failure: xrange is Python 2's \(range in Python 3\); .*restores nothing of Python 2"),
    ("d = {}\nd.iteritems()\n", [], 3, r"dict\.iteritems is Python 2's \(items in Python 3\)"),
    ("x = undefined_name\n", [], 3, r"NameError: name 'undefined_name' is not defined\ntf1-lstm: "
                                    r"error: script\.py raised \(traceback above\)\n$"),
])
def test_cli_run_exit_codes_and_messages(tmp_path, capsys, source, argv, code, message):
    path = tmp_path / ("no_such_script.py" if source is None else "script.py")
    if source is not None:
        path.write_text(source)
    assert main(["run", str(path), *argv]) == code
    err = capsys.readouterr().err
    if message is None:
        assert "error" not in err
    else:
        assert re.search(message, err), err
    assert not list(tmp_path.glob("*.npz"))


def test_cli_prints_the_scripts_traceback_from_its_own_frames(tmp_path, capsys):
    script = write_script(tmp_path, """
        def train():
            raise KeyError("missing feature")

        train()
    """)
    assert main(["run", str(script)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n  File \"" + str(script))
    assert 'line 2, in train' in err and "KeyError: 'missing feature'" in err
    assert "runpy" not in err and "tf1_lstm" not in err.split("tf1-lstm: error")[0]


def test_cli_passes_arguments_after_the_double_dash(tmp_path, capsys):
    script = write_script(tmp_path, "import sys\nprint(sys.argv[1:])\n")
    assert main(["run", str(script), "--seed", "3", "--", "--steps", "3", "--", "x"]) == 0
    assert capsys.readouterr().out == "['--steps', '3', '--', 'x']\n"


def test_missing_script_is_refused_before_tensorflow_loads(tmp_path):
    with pytest.raises(ScriptError, match=r"nope\.py: no such script"):
        run_script(tmp_path / "nope.py")
    with pytest.raises(ScriptError, match="not a file"):
        run_script(tmp_path)
