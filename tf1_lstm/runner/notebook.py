"""Notebooks as programs: a ``.ipynb`` file's code cells run in order, in one namespace.

:func:`load` reads the notebook with ``nbformat`` (as nbclient and nbval do)
and turns each code cell into a :class:`Cell`: its Python source, with
IPython's shell syntax handled where it has a plain meaning and skipped
otherwise (each skip is a note on stderr), and the text of the outputs the
notebook stored.

- ``%matplotlib``, ``%load_ext``, ``%pylab``, ``%config``, ``%time``-less line
  magics and ``!shell`` lines are skipped (``x = !ls`` too); ``%time STMT`` and
  ``%timeit STMT`` run ``STMT`` once.
- cell magics: ``%%time``/``%%timeit``/``%%capture`` run the body;
  ``%%writefile [-a] FILE`` writes the body to ``FILE`` as IPython does;
  any other cell magic (``%%bash``, ``%%html``, ...) skips the cell.
- ``obj?`` / ``?obj`` help lines are skipped.

:func:`run` executes the cells as a kernel would: ``__name__`` is
``__main__``, and a cell whose last statement is an expression shows its
value's ``repr`` on stdout, as IPython's ``Out[n]`` does (``None`` shows
nothing, nor does a trailing ``;``). Frames of a cell are named
``NAME.ipynb [cell N]`` (``N``: the cell's position among the code cells,
from 1), so tracebacks and captures name the cell of each call.

:func:`compare_outputs` goes beyond nbval's text comparison: it compares the
numbers a cell printed now with the numbers in the outputs the notebook
stored, count and values, within a tolerance.
"""

from __future__ import annotations

import ast
import io
import linecache
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .program import ScriptError, compile_source

_SKIPPED_LINE_MAGIC = ("matplotlib", "load_ext", "reload_ext", "pylab", "config", "autoreload",
                       "env", "cd", "pwd", "ls", "pip", "conda", "who", "whos", "reset",
                       "precision", "pprint", "xmode", "notebook", "store", "run", "sx",
                       "system", "history")
_RUN_BODY_CELL_MAGIC = ("time", "timeit", "capture", "prun")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)\b")


@dataclass
class Cell:
    """One code cell of a notebook.

    Attributes:
      number: its position among the notebook's code cells, from 1.
      execution_count: the ``In [n]`` it was stored with, if any.
      source: the Python source to run (shell syntax handled, see the module docstring).
      notes: what was skipped or changed, one line each.
      stored_text: the text of its stored outputs (streams, ``text/plain`` results, errors).
      writefile: ``(path, append, body)`` for a ``%%writefile`` cell.
    """

    number: int
    execution_count: Optional[int]
    source: str
    notes: List[str] = field(default_factory=list)
    stored_text: str = ""
    writefile: Optional[Tuple[str, bool, str]] = None
    code: Any = None

    def filename(self, notebook: str) -> str:
        return f"{notebook} [cell {self.number}]"


def _stored_text(outputs: Sequence[Any]) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(_joined(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            parts.append(_joined(out.get("data", {}).get("text/plain", "")) + "\n")
    return "".join(parts)


def _joined(text) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def translate(source: str, number: int) -> Cell:
    """A cell's IPython source as plain Python, with a note for each line handled or skipped."""
    cell = Cell(number, None, "")
    lines = source.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic, _, rest = first[2:].partition(" ")
        body = "\n".join(lines[1:]) + ("\n" if len(lines) > 1 else "")
        if magic == "writefile":
            words = rest.split()
            append = "-a" in words or "--append" in words
            names = [w for w in words if not w.startswith("-")]
            if len(names) != 1:
                raise ScriptError(f"cell {number}: %%writefile needs one file name, got {rest!r}")
            cell.writefile = (names[0], append, body)
            cell.notes.append(f"cell {number}: %%writefile {names[0]}: written as IPython does")
            return cell
        if magic not in _RUN_BODY_CELL_MAGIC:
            cell.notes.append(f"cell {number}: skipped (cell magic %%{magic} is not Python)")
            return cell
        cell.notes.append(f"cell {number}: %%{magic}: ran the body once")
        lines = lines[1:]
    out = []
    for k, line in enumerate(lines, start=1):
        stripped = line.strip()
        indent = line[:len(line) - len(line.lstrip())]
        assigned = re.match(r"^\s*[\w., ]+=\s*[!%]", line)
        if stripped.startswith("!") or assigned and "!" in line.split("=", 1)[1][:2]:
            out.append(f"{indent}pass  # tf1-lstm: skipped shell line")
            cell.notes.append(f"cell {number} line {k}: skipped shell command {stripped!r}")
        elif stripped.startswith("%"):
            magic, _, rest = stripped[1:].partition(" ")
            if magic in ("time", "timeit") and rest.strip():
                out.append(indent + rest.strip())
                cell.notes.append(f"cell {number} line {k}: %{magic}: ran the statement once")
            else:
                out.append(f"{indent}pass  # tf1-lstm: skipped magic")
                cell.notes.append(f"cell {number} line {k}: skipped line magic %{magic}")
        elif stripped.startswith("?") or (stripped.endswith("?") and not stripped.startswith("#")
                                           and re.fullmatch(r"[\w.]+\?\??", stripped)):
            out.append(f"{indent}pass  # tf1-lstm: skipped help")
            cell.notes.append(f"cell {number} line {k}: skipped help {stripped!r}")
        else:
            out.append(line)
    cell.source = "\n".join(out) + "\n"
    return cell


def load(path: Path) -> List[Cell]:
    """The code cells of the notebook ``path``, translated and compiled.

    Raises:
      ScriptError: missing, unreadable, not a notebook, or a cell that is not
        valid Python once its shell syntax is handled (naming the cell).
    """
    try:
        import nbformat
    except ImportError:
        raise ScriptError(f"{path}: running notebooks needs nbformat: pip install nbformat") \
            from None
    if not path.is_file():
        raise ScriptError(f"{path}: no such notebook" if not path.exists()
                          else f"{path}: not a file; give the path of a notebook")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001  (nbformat raises many kinds for a bad file)
        raise ScriptError(f"{path}: not a readable notebook ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        c = translate(_joined(cell.get("source", "")), len(cells) + 1)
        c.execution_count = cell.get("execution_count")
        c.stored_text = _stored_text(cell.get("outputs", []))
        if c.source.strip():
            c.code = _compile_cell(c, path.name)
        cells.append(c)
    if not cells:
        raise ScriptError(f"{path}: the notebook has no code cells")
    return cells


def _compile_cell(cell: Cell, notebook: str):
    """``(body, last)`` code objects: ``last`` evaluates a final expression to show, or ``None``."""
    filename = cell.filename(notebook)
    what = f"cell {cell.number} of {notebook}"
    compile_source(cell.source, filename, what)  # one line naming the cell on a syntax error
    lines = cell.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(cell.source), None, lines, filename)  # for tracebacks
    tree = ast.parse(cell.source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and \
            not cell.source.rstrip().endswith(";"):
        last = compile(ast.Expression(tree.body.pop().value), filename, "eval")
    body = compile(tree, filename, "exec")
    return body, last


class _Tee(io.TextIOBase):
    """Writes to ``stream`` and keeps a copy."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False


def run(cells: Sequence[Cell], notebook: str, texts: Optional[Dict[int, str]] = None) -> None:
    """Run ``cells`` in order in one ``__main__`` namespace, as a kernel would.

    Args:
      texts: if given, receives what each cell printed (stdout and shown
        values), by cell number.
    """
    main = type(sys)("__main__")
    saved_main = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    namespace = main.__dict__
    namespace.update({"__name__": "__main__", "__file__": notebook})
    try:
        for cell in cells:
            for note in cell.notes:
                print(f"tf1-lstm: {notebook}: {note}", file=sys.stderr)
            tee = _Tee(sys.stdout)
            saved = sys.stdout
            sys.stdout = tee
            try:
                if cell.writefile is not None:
                    name, append, body = cell.writefile
                    with open(name, "a" if append else "w", encoding="utf-8") as fh:
                        fh.write(body)
                    print(f"{'Appending to' if append else 'Writing'} {name}")
                elif cell.code is not None:
                    body, last = cell.code
                    exec(body, namespace)
                    if last is not None:
                        value = eval(last, namespace)
                        if value is not None:
                            namespace["_"] = value
                            print(repr(value))
            finally:
                sys.stdout = saved
                if texts is not None:
                    texts[cell.number] = tee.copy.getvalue()
    finally:
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


def numbers(text: str) -> np.ndarray:
    """The numbers in ``text``, in order (``nan`` and ``inf`` included), as float64."""
    return np.array([float(m) for m in _NUMBER.findall(text)], dtype=np.float64)


@dataclass
class OutputComparison:
    """How one cell's printed numbers compare with the notebook's stored outputs."""

    cell: Cell
    ok: bool
    detail: str


def compare_outputs(cells: Sequence[Cell], texts: Dict[int, str], rtol: float,
                    atol: float) -> List[OutputComparison]:
    """Per cell with stored outputs: the numbers printed now against the stored ones.

    The numbers must be as many, and each within ``atol + rtol * |stored|``;
    NaN matches NaN and infinities match by sign. Cells without stored
    output text are not compared.
    """
    results = []
    for cell in cells:
        if not cell.stored_text.strip() or cell.number not in texts:
            continue
        want, got = numbers(cell.stored_text), numbers(texts[cell.number])
        label = f"cell {cell.number}" + (f" (In [{cell.execution_count}])"
                                         if cell.execution_count else "")
        if want.shape != got.shape:
            results.append(OutputComparison(cell, False, f"{label}: printed {got.size} numbers, "
                                                         f"the notebook stored {want.size}"))
            continue
        both_nan = np.isnan(want) & np.isnan(got)
        close = np.isclose(got, want, rtol=rtol, atol=atol) | both_nan
        if close.all():
            worst = float(np.max(np.abs(got - want)[~both_nan], initial=0.0))
            results.append(OutputComparison(cell, True, f"{label}: {want.size} numbers agree "
                                                        f"(max abs diff {worst:.3g})"))
        else:
            k = int(np.argmax(~close))
            results.append(OutputComparison(
                cell, False, f"{label}: {int((~close).sum())} of {want.size} numbers differ "
                             f"beyond rtol={rtol:g}, atol={atol:g}; first: number {k + 1}, "
                             f"printed {got[k]!r}, stored {want[k]!r}"))
    return results
