"""What ``tf1-lstm run`` runs: a script, a module (``-m``), or a notebook, as Python would.

:func:`resolve` checks the program before TensorFlow loads (missing file, not
valid Python, a module that cannot be found, a notebook that is not one) and
returns a :class:`Program`; :meth:`Program.execute` runs it as ``__main__``
the way ``python SCRIPT.py``, ``python -m MODULE`` or a notebook kernel
(cells in order, in one namespace) would, with ``sys.argv`` and
``sys.path[0]`` set as Python sets them.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import runpy
import sys
import tokenize
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence

SCRIPT, MODULE, NOTEBOOK = "script", "module", "notebook"
_RUNNER_DIR = str(Path(__file__).resolve().parent) + os.sep  # frames a traceback leaves out
NOTEBOOK_SUFFIX = ".ipynb"


class ScriptError(ValueError):
    """The program cannot be run: missing, unreadable or not valid Python (exit code 2)."""


class ScriptFailed(Exception):
    """The program raised, or exited with a non-zero status (exit code 3).

    Attributes:
      script: the program's file.
      traceback_text: the program's traceback, without the runner's frames.
      exit_status: the status passed to ``sys.exit``, when the program exited.
      hint: one line on why it failed and what to do, when the runner can tell
        (a NumPy alias that today's NumPy removed).
    """

    def __init__(self, message: str, script: Path, traceback_text: str = "",
                 exit_status: object = None, hint: str = "") -> None:
        super().__init__(message)
        self.script = script
        self.traceback_text = traceback_text
        self.exit_status = exit_status
        self.hint = hint


def compile_script(path: os.PathLike):
    """Read and compile the script ``path``; the code object the run will execute.

    Raises:
      ScriptError: missing, not a file, unreadable, or a syntax error (with
        file and line).
    """
    path = Path(path)
    if not path.exists():
        raise ScriptError(f"{path}: no such script")
    if not path.is_file():
        raise ScriptError(f"{path}: not a file; give the path of a Python script")
    try:
        with tokenize.open(path) as fh:  # honours a PEP 263 coding line
            source = fh.read()
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: cannot read the script ({exc})") from None
    return compile_source(source, str(path))


def compile_source(source: str, filename: str, what: str = "the script"):
    """``compile(source, filename, 'exec')``, a syntax error as one :class:`ScriptError` line."""
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        where = f"{filename}:{exc.lineno}" if getattr(exc, "lineno", None) else filename
        msg = getattr(exc, "msg", None) or str(exc)
        from .python2 import diagnosis

        python2 = diagnosis(exc) if isinstance(exc, SyntaxError) else None
        raise ScriptError(f"{where}: {type(exc).__name__}: {msg}; {what} is not valid "
                          f"Python {sys.version_info[0]}.{sys.version_info[1]}"
                          + (f" ({python2})" if python2 else "")) from None


def module_file(name: str, search_path: Sequence[str]) -> Path:
    """The file ``python -m name`` would run, found without importing anything.

    A package runs its ``__main__`` submodule, as ``python -m`` does.

    Raises:
      ScriptError: not a dotted module name, or no such module on ``search_path``.
    """
    parts = name.split(".")
    if not all(p.isidentifier() for p in parts):
        raise ScriptError(f"-m {name}: not a module name (dotted Python identifiers, as "
                          f"`python -m` takes)")
    path: Optional[List[str]] = list(search_path)
    spec = None
    for k, part in enumerate(parts):
        spec = importlib.machinery.PathFinder.find_spec(part, path)
        if spec is None:
            raise ScriptError(f"-m {name}: no module named {'.'.join(parts[:k + 1])!r} (looked "
                              f"in {', '.join(path[:3])}{', ...' if len(path) > 3 else ''})")
        path = list(spec.submodule_search_locations or []) or None
        if path is None and k < len(parts) - 1:
            raise ScriptError(f"-m {name}: {'.'.join(parts[:k + 1])!r} is not a package")
    if spec.submodule_search_locations:  # a package: its __main__
        main = importlib.machinery.PathFinder.find_spec("__main__",
                                                        list(spec.submodule_search_locations))
        if main is None or not main.origin:
            raise ScriptError(f"-m {name}: {name!r} is a package and cannot be directly "
                              f"executed (no __main__.py)")
        return Path(main.origin)
    if not spec.origin or not spec.has_location or not spec.origin.endswith(".py"):
        raise ScriptError(f"-m {name}: {spec.origin} is not a Python source file")
    return Path(spec.origin)


@dataclass(frozen=True)
class Program:
    """A script, module or notebook to run as ``__main__``.

    Attributes:
      kind: :data:`SCRIPT`, :data:`MODULE` or :data:`NOTEBOOK`.
      path: its file (a module's ``.py`` file).
      name: how captures name it: the file name, or the dotted module name.
      cells: a notebook's code cells (:class:`tf1_lstm.runner.notebook.Cell`).
    """

    kind: str
    path: Path
    name: str
    cells: Sequence[Any] = field(default=(), compare=False, repr=False)

    def owns(self, filename: str) -> bool:
        """Whether a traceback frame's file belongs to the program."""
        if self.kind == NOTEBOOK:
            return filename.startswith(f"{self.name} [cell ")
        return filename == str(self.path)

    @contextlib.contextmanager
    def as_main(self, args: Sequence[str]) -> Iterator[None]:
        """``sys.argv`` and ``sys.path[0]`` as Python sets them for this program; restored after."""
        saved_argv, saved_path = sys.argv, list(sys.path)
        if self.kind == MODULE:
            sys.argv = [str(self.path), *args]
            sys.path.insert(0, os.getcwd())
        else:
            sys.argv = [str(self.path), *args]
            sys.path.insert(0, str(self.path.parent))
        try:
            yield
        finally:
            sys.argv = saved_argv
            sys.path[:] = saved_path

    def execute(self, notebook_run=None) -> None:
        """Run the program as ``__main__`` (``notebook_run`` runs a notebook's cells)."""
        if self.kind == SCRIPT:
            runpy.run_path(str(self.path), run_name="__main__")
        elif self.kind == MODULE:
            runpy.run_module(self.name, run_name="__main__", alter_sys=True)
        else:
            notebook_run(self)

    def traceback(self, exc: BaseException) -> str:
        """The traceback from the program's first frame on, without the runner's own frames."""
        tb = exc.__traceback__
        while tb is not None and not self.owns(tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        frames = [f for f in traceback.extract_tb(tb or exc.__traceback__)
                  if not f.filename.startswith(_RUNNER_DIR)]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
        return "".join(lines + traceback.format_exception_only(type(exc), exc))


def resolve(target: os.PathLike, module: bool = False) -> Program:
    """The program ``target`` names: a ``.py`` script, an ``.ipynb`` notebook, or (``module``) a module.

    Raises:
      ScriptError: as :func:`compile_script`, :func:`module_file` and
        :func:`tf1_lstm.runner.notebook.load` say.
    """
    if module:
        name = str(target)
        path = module_file(name, [os.getcwd(), *sys.path[1:]])
        compile_script(path)
        return Program(MODULE, path.absolute(), name)
    path = Path(target).absolute()
    if path.suffix == NOTEBOOK_SUFFIX:
        from . import notebook

        return Program(NOTEBOOK, path, path.name, notebook.load(path))
    compile_script(path)
    return Program(SCRIPT, path, path.name)
