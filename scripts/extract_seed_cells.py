#!/usr/bin/env python3
"""Extract the ``In [NN]:`` code cells of a notebook text into one runnable Python script.

The seed document is a Jupyter notebook saved as text: each code cell starts
with a line ``In [NN]:``, its code follows, then (after an empty line) the
cell's output if any, then prose up to the next cell (see
:func:`extract_cells`). The generated script holds every cell's code
verbatim (trailing spaces dropped), in order, and runs each cell as Jupyter
does: the value of a final expression statement is displayed (``pprint``,
which lays out tuples like IPython does) unless it is ``None``.

Usage::

    python scripts/extract_seed_cells.py ../shared/seeds/000_23d552f4c04f037b.txt -o cells.py
    tf1-lstm run cells.py

The cell code is not changed: ``tf.Session``, ``tf.contrib.rnn`` and all are
left for ``tf1-lstm run`` to provide.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

CELL = re.compile(r"^In \[(\d+)\]:\s*$")

PRELUDE = '''\
"""Code cells of {source}, extracted by scripts/extract_seed_cells.py (do not edit).

Run with: tf1-lstm run {name}
"""

import ast as _ast
import pprint as _pprint


def _cell(number, source):
    """Run one cell in this module's namespace; display a final expression like Jupyter."""
    tree = _ast.parse(source, filename=f"<In [{{number}}]>")
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], _ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    exec(compile(_ast.Module(body=body, type_ignores=[]), f"<In [{{number}}]>", "exec"), globals())
    if last is not None:
        value = eval(compile(_ast.Expression(last.value), f"<In [{{number}}]>", "eval"), globals())
        if value is not None:
            print(_pprint.pformat(value))

'''


def _paragraphs(lines: Sequence[str]) -> List[List[str]]:
    """Runs of lines separated by empty lines (a line of spaces is not empty)."""
    out: List[List[str]] = [[]]
    for line in lines:
        if line == "":
            if out[-1]:
                out.append([])
        else:
            out[-1].append(line.rstrip())
    return [p for p in out if p]


def _has_statement(paragraph: Sequence[str]) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in paragraph)


def extract_cells(text: str) -> List[Tuple[int, str]]:
    """``(number, code)`` of each ``In [NN]:`` cell, in document order.

    After its marker a cell holds paragraphs (runs of lines between empty
    lines): its code, then its output, then prose, up to the next marker.
    The code is the first paragraph plus each following one that keeps the
    whole valid Python and holds a statement, up to the first paragraph that
    ends in an expression statement: what follows that is the cell's output
    (``state``, ``print(...)``, ``sess.run(...)`` all show something), and an
    output such as ``array([...], dtype=float32)`` would parse too.

    Raises:
      ValueError: no cells, or a cell whose code is not valid Python (named).
    """
    lines = text.splitlines()
    markers = [k for k, line in enumerate(lines) if CELL.match(line)]
    if not markers:
        raise ValueError("no 'In [NN]:' code cells found")
    cells = []
    for n, start in enumerate(markers):
        stop = markers[n + 1] if n + 1 < len(markers) else len(lines)
        number = int(CELL.match(lines[start]).group(1))
        code: List[List[str]] = []
        for paragraph in _paragraphs(lines[start + 1:stop]):
            if code and not _has_statement(paragraph):
                break
            source = "\n\n".join("\n".join(p) for p in code + [paragraph]) + "\n"
            try:
                tree = ast.parse(source)
            except SyntaxError as exc:
                if not code:
                    raise ValueError(f"line {start + 1}: cell In [{number}] is not valid Python "
                                     f"({exc.msg}, cell line {exc.lineno})") from None
                break
            code.append(paragraph)
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                break
        if not code:
            raise ValueError(f"line {start + 1}: cell In [{number}] has no code")
        cells.append((number, "\n\n".join("\n".join(p) for p in code) + "\n"))
    return cells


def _literal(code: str) -> str:
    if "'''" not in code and "\\" not in code:
        return "'''\\\n" + code + "'''"
    return repr(code)


def render(cells: Sequence[Tuple[int, str]], source: str, name: str) -> str:
    """The script text: the prelude, then one ``_cell(NN, '''...''')`` per cell."""
    out = [PRELUDE.format(source=source, name=name)]
    for number, code in cells:
        out.append(f"_cell({number}, {_literal(code)})\n")
    return "\n".join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", help="the notebook text (e.g. a seeds/*.txt file)")
    parser.add_argument("-o", "--output", help="write the script here (default: stdout)")
    args = parser.parse_args(argv)
    doc = Path(args.document)
    try:
        cells = extract_cells(doc.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"extract_seed_cells: {doc}: {exc}", file=sys.stderr)
        return 2
    name = Path(args.output).name if args.output else "cells.py"
    script = render(cells, doc.name, name)
    if args.output:
        Path(args.output).write_text(script, encoding="utf-8")
    else:
        sys.stdout.write(script)
    return 0


if __name__ == "__main__":
    sys.exit(main())
