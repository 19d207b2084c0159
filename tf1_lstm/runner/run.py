"""Run one unmodified TF1 script as ``__main__``, optionally capturing or checking its results."""

from __future__ import annotations

import contextlib
import os
import runpy
import shlex
import sys
import tokenize
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .. import capture as cap
from .. import golden
from ..checker import replacement_report
from . import shim

# Exit codes of `tf1-lstm run`: those of `tf1-lstm check`, plus one for a failing script.
EXIT_OK, EXIT_MISMATCH, EXIT_ERROR, EXIT_SCRIPT_FAILED = 0, 1, 2, 3
DEFAULT_CAPTURE_SEED = 0


class ScriptError(ValueError):
    """The script cannot be run: missing, unreadable or not valid Python (exit code 2)."""


class ScriptFailed(Exception):
    """The script raised, or exited with a non-zero status (exit code 3).

    Attributes:
      script: the script's path.
      traceback_text: the script's traceback, without the runner's frames.
      exit_status: the status passed to ``sys.exit``, when the script exited.
    """

    def __init__(self, message: str, script: Path, traceback_text: str = "",
                 exit_status: object = None) -> None:
        super().__init__(message)
        self.script = script
        self.traceback_text = traceback_text
        self.exit_status = exit_status


@dataclass
class RunResult:
    """What one run did.

    Attributes:
      script: the script's path.
      calls: ``Session.run`` calls recorded (captures and checks record; plain runs do not).
      status: ``ok``, ``mismatch`` or ``error`` (see :data:`tf1_lstm.capture.EXIT_CODES`).
      message: the capture summary or the check report (empty for a plain run).
      written: the capture file written, if any.
      replay: the call-by-call comparison of a check.
    """

    script: Path
    calls: int = 0
    status: str = cap.OK
    message: str = ""
    written: Optional[Path] = None
    replay: Optional[cap.ReplayCheck] = None

    @property
    def exit_code(self) -> int:
        return cap.EXIT_CODES[self.status]


def compile_script(path: os.PathLike):
    """Read and compile ``path``; the code object the run will execute.

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
    try:
        return compile(source, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        where = f"{path}:{exc.lineno}" if getattr(exc, "lineno", None) else str(path)
        msg = getattr(exc, "msg", None) or str(exc)
        raise ScriptError(f"{where}: {type(exc).__name__}: {msg}; the script is not valid "
                          f"Python {sys.version_info[0]}.{sys.version_info[1]}") from None


@contextlib.contextmanager
def _as_main_program(path: Path, args: Sequence[str]) -> Iterator[None]:
    """``sys.argv`` and ``sys.path[0]`` as ``python SCRIPT args...`` sets them; restored after."""
    saved_argv = sys.argv
    script_dir = str(path.parent)
    sys.argv = [str(path), *args]
    sys.path.insert(0, script_dir)
    try:
        yield
    finally:
        sys.argv = saved_argv
        if script_dir in sys.path:
            sys.path.remove(script_dir)


def _script_traceback(exc: BaseException, path: Path) -> str:
    """The traceback from the script's first frame on (the runner's frames dropped)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(path):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def _execute(path: Path, args: Sequence[str], seed: Optional[int],
             record: bool) -> Optional[cap.Recording]:
    """Run the script in the TF1 environment; the recording if ``record``."""
    with shim.installed(seed) as runtime, _as_main_program(path, args):
        with (cap.recording(runtime.tf, path) if record else contextlib.nullcontext()) as rec:
            try:
                runpy.run_path(str(path), run_name="__main__")
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    raise ScriptFailed(f"{path.name} exited with status {exc.code!r}", path,
                                       exit_status=exc.code) from None
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # the user's code: report it, whatever it is
                raise ScriptFailed(f"{path.name} raised {type(exc).__name__}: {exc}", path,
                                   _script_traceback(exc, path)) from exc
    return rec


def capture_command(path: Path, args: Sequence[str], seed: int, capture: Path,
                    tolerance: Optional[Tuple[float, float]] = None) -> str:
    """The ``tf1-lstm run`` command line that (re)makes ``capture``."""
    parts = ["tf1-lstm", "run", path.name, "--seed", str(seed), "--capture", capture.name]
    if tolerance is not None:
        parts += ["--rtol", f"{tolerance[0]:g}", "--atol", f"{tolerance[1]:g}"]
    if args:
        parts += ["--", *args]
    return " ".join(shlex.quote(p) for p in parts)


def _load_capture(check: Path, path: Path,
                  seed: Optional[int]) -> Tuple[golden.Golden, List[cap.Call], Optional[int]]:
    """The capture to check ``path`` against, its calls, and the seed to run with."""
    hint = f"make it with: tf1-lstm run {path.name} --seed N --capture {check.name}"
    gold = golden.load(check, regen_hint=hint)
    calls = cap.from_golden(gold)
    captured_from = gold.meta.get("script")
    if captured_from != path.name:
        raise golden.GoldenError(f"{check}: captured from script {captured_from!r}, not "
                                 f"{path.name!r}; {hint}")
    stored_seed = gold.meta.get("seed")
    if seed is not None and stored_seed is not None and seed != stored_seed:
        raise ValueError(f"{check} was captured with --seed {stored_seed}; check it with the "
                         f"same seed (or leave --seed out), not --seed {seed}")
    return gold, calls, seed if seed is not None else stored_seed


def _existing_kind(capture: Path) -> Tuple[str, Optional[str]]:
    """What the file ``capture`` holds, for a refusal: (description, captured script or None)."""
    try:
        meta = golden.load(capture).meta
    except golden.GoldenError:
        return "a file that is not a tf1_lstm capture", None
    if meta.get("kind") == cap.KIND:
        return f"a capture of {meta.get('script')!r}", meta.get("script")
    if "case" in meta:
        return f"the golden of case {meta['case']!r}", None
    return "a file that is not a tf1_lstm capture", None


def check_capture_path(capture: os.PathLike, path: os.PathLike) -> bool:
    """Refuse a capture path whose file a capture would destroy.

    A capture may create a new ``.npz`` file, or replace a capture of the
    same script (a re-capture: see :func:`run_script`). Anything else that
    exists is never overwritten, ``force`` or not: the script itself, a case
    golden, a capture of another script, any other file.

    Returns:
      Whether ``capture`` exists (a re-capture).

    Raises:
      ValueError: one line naming the file and what to do.
    """
    capture, path = Path(capture), Path(path)
    name = f"{path.stem}{golden.SUFFIX}"
    if capture.is_dir():
        raise ValueError(f"{capture}: is a directory; give a capture file, such as "
                         f"{capture / name}")
    if not capture.name.endswith(golden.SUFFIX):
        raise ValueError(f"{capture}: a capture file ends in {golden.SUFFIX}; give a file name "
                         f"such as {name}")
    if not capture.exists():
        return False
    if capture.samefile(path):
        raise ValueError(f"{capture}: is the script {path.name} itself; refusing to overwrite "
                         f"it: choose another file, such as {name}")
    what, script = _existing_kind(capture)
    if script != path.name:
        raise ValueError(f"{capture}: refusing to overwrite {what} with a capture of "
                         f"{path.name}: choose another file, or remove this one first")
    return True


def preflight(path: os.PathLike, capture: Optional[os.PathLike] = None,
              check: Optional[os.PathLike] = None, seed: Optional[int] = None):
    """Everything :func:`run_script` can reject before TensorFlow loads.

    Returns:
      ``None``, or for a check ``(golden, captured calls, seed to use)``.

    Raises:
      ScriptError, GoldenError, ValueError: as :func:`run_script`.
    """
    path = Path(path).absolute()
    if capture is not None and check is not None:
        raise ValueError("give --capture or --check, not both")
    compile_script(path)
    if capture is not None:
        check_capture_path(capture, path)
    if check is None:
        return None
    return _load_capture(Path(check), path, seed)


def _recapture_detail(capture: Path, arrays: Dict[str, np.ndarray],
                      meta: Dict[str, Any]) -> str:
    """How a new capture differs from the existing ``capture`` (as ``tf1-lstm regen`` shows it)."""
    return replacement_report(capture, arrays, meta,
                              label=f"new vs existing capture [{capture.name}]")


def run_script(path: os.PathLike, argv: Sequence[str] = (), seed: Optional[int] = None,
               capture: Optional[os.PathLike] = None, check: Optional[os.PathLike] = None, *,
               tolerance: Optional[Tuple[float, float]] = None, force: bool = False) -> RunResult:
    """Run an unmodified TF1 script; capture its ``Session.run`` results or check them.

    Args:
      path: the script; it runs as ``__main__`` with ``sys.argv = [path, *argv]``.
      argv: the script's arguments.
      seed: seed Python, NumPy and every graph without its own seed. A
        capture without a seed uses :data:`DEFAULT_CAPTURE_SEED`; a check
        uses the seed stored in the capture file.
      capture: write every ``Session.run`` result to this ``.npz`` file (a
        golden). An existing file is replaced only by a capture of the same
        script: kept when the new bytes are identical, otherwise kept with
        the comparison in ``message`` (status ``error``) unless ``force``.
      check: compare every ``Session.run`` result with this capture file;
        on a difference the obtained arrays go beside it (``.obtained.npz``).
      tolerance: ``(rtol, atol)`` for every array: stored by a capture,
        overriding the stored ones in a check.
      force: replace an existing capture of this script that differs.

    Returns:
      A :class:`RunResult`; ``status`` says whether a check held.

    Raises:
      ScriptError: the script is missing or not valid Python.
      GoldenError: the capture file to check is missing, unreadable, not a
        capture, or from another script.
      ValueError: ``capture`` and ``check`` together, a seed that contradicts
        the capture file, or a ``capture`` path that is not ``.npz``, is the
        script, or holds anything but a capture of this script
        (:func:`check_capture_path`).
      ScriptFailed: the script raised or exited non-zero; nothing was written.
    """
    path = Path(path).absolute()
    loaded = preflight(path, capture, check, seed)
    args = [str(a) for a in argv]
    if check is not None:
        check = Path(check)
        gold, expected, seed = loaded
        rec = _execute(path, args, seed, record=True)
        stored = gold.meta.get("tolerances")
        replay = cap.compare_runs(
            rec.calls, expected, script=path.name, path=check,
            tolerances=stored if isinstance(stored, dict) else None, tolerance=tolerance)
        notes = []
        if gold.meta.get("args", args) != args:
            notes.append(f"captured with script arguments {gold.meta.get('args')}, run with {args}")
        sha = cap.script_digest(path)
        if gold.meta.get("script_sha256") not in (None, sha):
            notes.append(f"{path.name} changed since the capture")
        replay.notes += notes
        replay.hint = (f"to re-capture on purpose: {capture_command(path, args, seed, check)} "
                       f"(then review the diff)")
        if replay.status != cap.OK:
            arrays, meta = cap.to_golden(rec, script=path, args=args, seed=seed,
                                         tolerance=tolerance)
            stem = check.name[:-len(golden.SUFFIX)] if check.name.endswith(golden.SUFFIX) \
                else check.name
            out = golden.obtained_path_for(check.parent, stem)
            golden.save(out, arrays, {**meta, "obtained": True})
            replay.obtained_path = out
        return RunResult(path, len(rec.calls), replay.status, replay.report(), replay=replay)
    if capture is not None:
        capture = Path(capture)
        seed = DEFAULT_CAPTURE_SEED if seed is None else seed
        rec = _execute(path, args, seed, record=True)
        bad = cap.nonfinite(rec.calls)
        if bad:
            lines = "\n  ".join(bad)
            return RunResult(path, len(rec.calls), cap.ERROR,
                             f"{path.name}: nothing written to {capture}: a capture with NaN or "
                             f"infinity could never be checked (they never compare equal):"
                             f"\n  {lines}")
        command = capture_command(path, args, seed, capture, tolerance)
        arrays, meta = cap.to_golden(rec, script=path, args=args, seed=seed, tolerance=tolerance,
                                     command=command)
        data = golden.encode(arrays, meta)
        summary = (f"{path.name}: captured {len(rec.calls)} Session.run calls "
                   f"({len(arrays)} arrays, seed {seed})")
        if not check_capture_path(capture, path):
            golden.write_atomic(capture, data)
            return RunResult(path, len(rec.calls), cap.OK, f"{summary} to {capture}",
                             written=capture)
        if capture.read_bytes() == data:
            return RunResult(path, len(rec.calls), cap.OK,
                             f"{summary}; unchanged: identical to {capture}, kept it")
        detail = "  " + _recapture_detail(capture, arrays, meta).replace("\n", "\n  ")
        if not force:
            return RunResult(path, len(rec.calls), cap.ERROR,
                             f"{path.name}: kept {capture}: the new capture differs from it; "
                             f"rerun with --force to replace it\n{detail}")
        golden.write_atomic(capture, data)
        return RunResult(path, len(rec.calls), cap.OK,
                         f"{summary}; replaced {capture}, which differed:\n{detail}",
                         written=capture)
    _execute(path, args, seed, record=False)
    return RunResult(path)
