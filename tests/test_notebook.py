"""`tf1-lstm run NOTEBOOK.ipynb`: code cells in order, IPython syntax handled, stored outputs compared."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tf1_lstm import capture as cap
from tf1_lstm import golden
from tf1_lstm.cli import main
from tf1_lstm.runner import ScriptError, ScriptFailed, notebook, run_script

REPO = Path(__file__).resolve().parent.parent
SEED_DOC = REPO.parent / "shared" / "seeds" / "000_23d552f4c04f037b.txt"


def write_notebook(path: Path, cells) -> Path:
    """cells: (source, stored_text) pairs, or markdown strings starting with '# '."""
    nb = nbformat.v4.new_notebook()
    count = 0
    for cell in cells:
        if isinstance(cell, str):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell))
            continue
        source, stored = cell
        count += 1
        code = nbformat.v4.new_code_cell(source, execution_count=count)
        if stored:
            code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
        nb.cells.append(code)
    nbformat.write(nb, str(path))
    return path


def test_ipython_syntax_is_run_or_skipped_with_a_note():
    cell = notebook.translate("%matplotlib inline\n!pip install tensorflow==1.15\n"
                              "files = !ls\n%time x = 1\nx?\n  y = 2  # fine\n", 4)
    assert cell.source.splitlines() == [
        "pass  # tf1-lstm: skipped magic", "pass  # tf1-lstm: skipped shell line",
        "pass  # tf1-lstm: skipped shell line", "x = 1", "pass  # tf1-lstm: skipped help",
        "  y = 2  # fine"]
    assert cell.notes == ["cell 4 line 1: skipped line magic %matplotlib",
                          "cell 4 line 2: skipped shell command '!pip install tensorflow==1.15'",
                          "cell 4 line 3: skipped shell command 'files = !ls'",
                          "cell 4 line 4: %time: ran the statement once",
                          "cell 4 line 5: skipped help 'x?'"]
    assert notebook.translate("%%bash\necho hi\n", 2).source == ""
    assert notebook.translate("%%time\nz = 3\n", 2).source == "z = 3\n"
    assert notebook.translate("%%writefile -a out.txt\nline\n", 1).writefile == (
        "out.txt", True, "line\n")
    assert notebook.translate("a = b != c\n", 1).source == "a = b != c\n"


def test_numbers_are_read_from_text_as_printed():
    text = "loss 0.25, step 3\n[[ 1.5e-03 -2.  ]\n [ nan inf]] array(-7.)"
    np.testing.assert_array_equal(notebook.numbers(text),
                                  [0.25, 3, 1.5e-3, -2, np.nan, np.inf, -7])


def test_cells_run_in_order_and_show_the_last_expression(tmp_path, capsys):
    path = write_notebook(tmp_path / "nb.ipynb", [
        "# A TF1 notebook",
        ("%matplotlib inline\nimport numpy as np\nimport tensorflow as tf\nsess = tf.Session()", ""),
        ("x = tf.constant([1.0, 2.0])\nsess.run(x * 2)", ""),
        ("print('printed', sess.run(tf.reduce_sum(x)))\nNone", ""),
        ("sess.run(x);", ""),
        ("%%writefile params.txt\nunits=4\n", ""),
        ("open('params.txt').read()", ""),
    ])
    os.chdir(tmp_path)
    assert run_script(path).exit_code == 0
    captured = capsys.readouterr()
    assert captured.out == ("array([2., 4.], dtype=float32)\nprinted 3.0\nWriting params.txt\n"
                            "'units=4\\n'\n")
    assert "tf1-lstm: nb.ipynb: cell 1 line 1: skipped line magic %matplotlib" in captured.err


def test_a_failing_cell_is_named_in_the_traceback(tmp_path):
    path = write_notebook(tmp_path / "bad.ipynb", [("a = 1", ""), ("def f():\n    return 1 / 0\nf()", "")])
    with pytest.raises(ScriptFailed) as info:
        run_script(path)
    text = info.value.traceback_text
    assert text.startswith("Traceback (most recent call last):\n  File \"bad.ipynb [cell 2]\", "
                           "line 3, in <module>\n    f()\n")
    assert "return 1 / 0" in text and text.endswith("ZeroDivisionError: division by zero\n")


def test_bad_notebooks_are_refused_before_tensorflow_runs(tmp_path):
    with pytest.raises(ScriptError, match="no such notebook"):
        run_script(tmp_path / "none.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(ScriptError, match=r"broken\.ipynb: not a readable notebook"):
        run_script(tmp_path / "broken.ipynb")
    with pytest.raises(ScriptError, match=r"cell 2 of syntax\.ipynb is not valid Python"):
        run_script(write_notebook(tmp_path / "syntax.ipynb", [("a = 1", ""), ("def (:", "")]))
    with pytest.raises(ScriptError, match="has no code cells"):
        run_script(write_notebook(tmp_path / "empty.ipynb", ["# only prose"]))


STORED_CELLS = [
    ("import numpy as np\nimport tensorflow as tf\n"
     "cell = tf.nn.rnn_cell.LSTMCell(3, initializer=tf.constant_initializer(0.1))\n"
     "x = tf.constant(np.ones((1, 2, 4), np.float32))\n"
     "out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)\nsess = tf.Session()\n"
     "sess.run(tf.global_variables_initializer())", ""),
    ("print(sess.run(state.h))", None),
]


def _lstm_h() -> np.ndarray:
    """The notebook's h, computed independently: constant weights 0.1, zero bias, forget_bias 1."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    c = h = np.zeros(3)
    for _ in range(2):
        z = np.concatenate([np.ones(4), h]) @ np.full((7, 12), 0.1)
        i, j, f, o = np.split(z, 4)
        c = sigmoid(f + 1.0) * c + sigmoid(i) * np.tanh(j)
        h = sigmoid(o) * np.tanh(c)
    return h


@pytest.mark.parametrize("stored_h, code, report", [
    (lambda h: h, 0, "1 of 1 cells with output agree"),
    (lambda h: h + [0, 1e-3, 0], 1, "cell 2 (In [2]): 1 of 3 numbers differ beyond rtol=1e-05, "
                                    "atol=1e-06; first: number 2"),
    (lambda h: h[:2], 1, "cell 2 (In [2]): printed 3 numbers, the notebook stored 2"),
])
def test_compare_outputs_checks_the_numbers_the_notebook_stored(tmp_path, capsys, stored_h, code,
                                                                 report):
    stored = "[[" + " ".join(f"{v:.8f}" for v in stored_h(_lstm_h())) + "]]\n"
    cells = [STORED_CELLS[0], (STORED_CELLS[1][0], stored)]
    path = write_notebook(tmp_path / "stored.ipynb", cells)
    assert main(["run", str(path), "--compare-outputs"]) == code
    assert report in capsys.readouterr().err
    with pytest.raises(ValueError, match="compares a notebook's stored outputs; this is a script"):
        run_script(REPO / "tests" / "legacy_scripts" / "dropout_lm.py", compare_outputs=True)


@pytest.mark.subprocess
def test_the_seed_document_runs_as_a_notebook_and_captures_by_cell(tmp_path):
    """The seed's cells as an .ipynb, in a process of its own: run, capture, check."""
    if not SEED_DOC.exists():
        pytest.skip(f"the seed document {SEED_DOC} is not checked out beside the repository")
    import importlib.util

    spec = importlib.util.spec_from_file_location("extract", REPO / "scripts" /
                                                  "extract_seed_cells.py")
    extract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extract)
    cells = extract.extract_cells(SEED_DOC.read_text(encoding="utf-8"))
    path = write_notebook(tmp_path / "seed.ipynb", [(src, "") for _, src in cells])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    run = lambda *a: subprocess.run([sys.executable, "-m", "tf1_lstm", "run", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=tmp_path, env=env,
                                    timeout=300)
    made = run("seed.ipynb", "--capture", "seed.npz")
    assert made.returncode == 0, made.stderr
    assert "LSTMStateTuple(c=array([[" in made.stdout and "dtype=float32)" in made.stdout
    gold = golden.load(tmp_path / "seed.npz")
    assert gold.meta["script"] == "seed.ipynb"
    callers = [c.caller for c in cap.from_golden(gold)]
    assert callers and all(c.startswith("seed.ipynb [cell ") for c in callers), callers
    checked = run("seed.ipynb", "--check", "seed.npz")
    assert checked.returncode == 0 and "max abs diff 0)" in checked.stderr, checked.stderr
