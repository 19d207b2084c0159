"""docs/migration.md cannot rot: every code block in it runs, in order, and must pass.

Python blocks run in one namespace (the guide is one story) in a scratch
directory; ``tf1-lstm ...`` lines of bash blocks run through the CLI's
``main`` in-process and must exit 0. ``text`` blocks are shown, not run
(the tf2onnx benchmark's command and output: slow, and tf2onnx is optional).
A block whose first line is ``# requires: torch`` (or ``onnx, onnxruntime``)
is skipped when that package is not installed, and the test then reports the
skip with that reason.
"""

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from tf1_lstm.cli import main

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "migration.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks():
    """``(language, code, required modules)`` of each fenced block, in order."""
    out = []
    for lang, code in BLOCK.findall(GUIDE.read_text()):
        first = code.splitlines()[0] if code.strip() else ""
        needs = []
        if first.startswith("# requires:"):
            needs = [m.strip() for m in first.split(":", 1)[1].split(",")]
        out.append((lang, code, needs))
    return out


def test_guide_has_both_examples_in_every_target():
    text = GUIDE.read_text()
    for heading in ("## Example 1", "## Example 2", "**Keras 2**", "**Keras 3**", "**PyTorch**",
                    "**ONNX**", "MultiRNNCell", "StackedRNNCells"):
        assert heading in text, heading
    languages = {lang for lang, _, _ in blocks()}
    assert languages <= {"python", "bash", "text"}, languages


def test_guide_documents_interfaces_and_the_tf2onnx_comparison():
    text = GUIDE.read_text()
    for heading in ("## Interfaces of the converted files", "## Compared with tf2onnx"):
        assert heading in text, heading
    shown = "".join(code for lang, code, _ in blocks() if lang == "text")
    bench = "scripts/bench_tf2onnx.py"
    assert bench in shown, "the benchmark's command is shown in a text block"
    assert (GUIDE.parent.parent / bench).is_file(), bench


def test_every_code_block_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "migration_guide"}
    skipped = []
    for number, (lang, code, needs) in enumerate(blocks(), 1):
        missing = [m for m in needs if importlib.util.find_spec(m) is None]
        if missing:
            skipped.append(f"block {number} ({', '.join(missing)} not installed)")
            continue
        if lang == "text":
            continue
        if lang == "python":
            exec(compile(code, f"{GUIDE}:block{number}", "exec"), namespace)
            continue
        for line in code.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            args = shlex.split(line)
            assert args[0] == "tf1-lstm", f"block {number}: only tf1-lstm commands run: {line}"
            code_ = main(args[1:])
            captured = capsys.readouterr()
            out = captured.out
            assert code_ == 0, f"block {number}: {line!r} exited {code_}\n{out}{captured.err}"
            assert ": OK" in out, out
    if skipped:
        pytest.skip("not installed: " + "; ".join(skipped))
