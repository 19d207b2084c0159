"""Run one unmodified TF1 program (script, module, notebook), optionally capturing or checking it."""

from __future__ import annotations

import contextlib
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import capture as cap
from .. import golden
from ..compare import is_tolerance
from ..checker import replacement_report
from . import notebook, numpy_compat, python2, shim
from .program import (MODULE, NOTEBOOK, Program, ScriptError, ScriptFailed,  # noqa: F401
                      compile_script, resolve)

# Exit codes of `tf1-lstm run`: those of `tf1-lstm check`, plus one for a failing script.
EXIT_OK, EXIT_MISMATCH, EXIT_ERROR, EXIT_SCRIPT_FAILED = 0, 1, 2, 3
DEFAULT_CAPTURE_SEED = 0


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


def _execute(program: Program, args: Sequence[str], seed: Optional[int], record: bool,
             process: bool, texts: Optional[Dict[int, str]] = None, numpy_aliases: bool = False
             ) -> Tuple[Optional[cap.Recording], Dict[str, Any]]:
    """Run the program in the TF1 environment; its recording (if ``record``) and the settings.

    Captures and checks (``record``) pin the session threads (see the shim).
    """
    with shim.installed(seed, process=process, pin_threads=record) as runtime, \
            (numpy_compat.aliases() if numpy_aliases else contextlib.nullcontext({})) as restored, \
            program.as_main(args):
        if numpy_aliases:
            runtime.settings["numpy_aliases"] = sorted(restored)
        with (cap.recording(runtime.tf, program.path) if record
              else contextlib.nullcontext()) as rec:
            try:
                program.execute(lambda p: notebook.run(p.cells, p.name, texts))
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    raise ScriptFailed(f"{program.name} exited with status {exc.code!r}",
                                       program.path, exit_status=exc.code) from None
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # the user's code: report it, whatever it is
                raise ScriptFailed(f"{program.name} raised {type(exc).__name__}: {exc}",
                                   program.path, program.traceback(exc),
                                   hint=numpy_compat.diagnosis(exc) or python2.diagnosis(exc)
                                   or "") from exc
    return rec, runtime.settings


def capture_command(program: Program, args: Sequence[str], seed: int, capture: Path,
                    tolerance: Optional[Tuple[float, float]] = None) -> str:
    """The ``tf1-lstm run`` command line that (re)makes ``capture``."""
    target = ["-m", program.name] if program.kind == MODULE else [program.name]
    parts = ["tf1-lstm", "run", *target, "--seed", str(seed), "--capture", capture.name]
    if tolerance is not None:
        parts += ["--rtol", f"{tolerance[0]:g}", "--atol", f"{tolerance[1]:g}"]
    if args:
        parts += ["--", *args]
    return " ".join(shlex.quote(p) for p in parts)


def _load_capture(check: Path, program: Program,
                  seed: Optional[int]) -> Tuple[golden.Golden, List[cap.Call], Optional[int]]:
    """The capture to check ``program`` against, its calls, and the seed to run with."""
    target = f"-m {program.name}" if program.kind == MODULE else program.name
    hint = f"make it with: tf1-lstm run {target} --seed N --capture {check.name}"
    gold = golden.load(check, regen_hint=hint)
    calls = cap.from_golden(gold)
    captured_from = gold.meta.get("script")
    if captured_from != program.name:
        raise golden.GoldenError(f"{check}: captured from {captured_from!r}, not "
                                 f"{program.name!r}; {hint}")
    stored = gold.meta.get("tolerances")
    if stored is not None:
        if not isinstance(stored, dict):
            raise golden.GoldenError(f"{check}: stored tolerances are {str(stored)[:60]}, not an "
                                     f"object of [rtol, atol] by array; the capture is damaged: "
                                     f"{hint}")
        for name, tol in stored.items():
            if not is_tolerance(tol):
                raise golden.GoldenError(f"{check}: stored tolerance for array {name!r} is "
                                         f"{str(tol)[:60]}, "
                                         f"not [rtol, atol] >= 0; the capture is damaged: {hint}")
    stored_seed = gold.meta.get("seed")
    if seed is not None and stored_seed is not None and seed != stored_seed:
        raise ValueError(f"{check} was captured with --seed {stored_seed}; check it with the "
                         f"same seed (or leave --seed out), not --seed {seed}")
    return gold, calls, seed if seed is not None else stored_seed


def _existing_kind(capture: Path) -> Tuple[str, Optional[str]]:
    """What the file ``capture`` holds, for a refusal: (description, captured program or None)."""
    try:
        meta = golden.load(capture).meta
    except golden.GoldenError:
        return "a file that is not a tf1_lstm capture", None
    if meta.get("kind") == cap.KIND:
        return f"a capture of {meta.get('script')!r}", meta.get("script")
    if "case" in meta:
        return f"the golden of case {meta['case']!r}", None
    return "a file that is not a tf1_lstm capture", None


def check_capture_path(capture: os.PathLike, program: Union[Program, os.PathLike]) -> bool:
    """Refuse a capture path whose file a capture would destroy.

    A capture may create a new ``.npz`` file, or replace a capture of the
    same program (a re-capture: see :func:`run_script`). Anything else that
    exists is never overwritten, ``force`` or not: the program itself, a case
    golden, a capture of another program, any other file.

    Returns:
      Whether ``capture`` exists (a re-capture).

    Raises:
      ValueError: one line naming the file and what to do.
    """
    if not isinstance(program, Program):
        program = Program("script", Path(program).absolute(), Path(program).name)
    capture = Path(capture)
    name = f"{program.path.stem}{golden.SUFFIX}"
    if capture.is_dir():
        raise ValueError(f"{capture}: is a directory; give a capture file, such as "
                         f"{capture / name}")
    if not capture.name.endswith(golden.SUFFIX):
        raise ValueError(f"{capture}: a capture file ends in {golden.SUFFIX}; give a file name "
                         f"such as {name}")
    if not capture.exists():
        return False
    if capture.samefile(program.path):
        raise ValueError(f"{capture}: is the program {program.name} itself; refusing to "
                         f"overwrite it: choose another file, such as {name}")
    what, script = _existing_kind(capture)
    if script != program.name:
        raise ValueError(f"{capture}: refusing to overwrite {what} with a capture of "
                         f"{program.name}: choose another file, or remove this one first")
    return True


@dataclass
class Plan:
    """A run checked before TensorFlow loads: the program, and for a check its capture."""

    program: Program
    capture: Optional[Path] = None
    check: Optional[Path] = None
    gold: Optional[golden.Golden] = None
    expected: List[cap.Call] = field(default_factory=list)
    seed: Optional[int] = None


def preflight(target: os.PathLike, capture: Optional[os.PathLike] = None,
              check: Optional[os.PathLike] = None, seed: Optional[int] = None, *,
              module: bool = False) -> Plan:
    """Everything :func:`run_script` can reject before TensorFlow loads.

    Relative ``capture`` and ``check`` paths are made absolute here, against
    the directory the command started in, so a program that changes
    directory does not move them.

    Raises:
      ScriptError, GoldenError, ValueError: as :func:`run_script`.
    """
    if capture is not None and check is not None:
        raise ValueError("give --capture or --check, not both")
    program = resolve(target, module=module)
    plan = Plan(program, seed=seed)
    if capture is not None:
        plan.capture = Path(capture).absolute()
        check_capture_path(plan.capture, program)
    if check is not None:
        plan.check = Path(check).absolute()
        plan.gold, plan.expected, plan.seed = _load_capture(plan.check, program, seed)
    return plan


def _recapture_detail(capture: Path, arrays: Dict[str, np.ndarray],
                      meta: Dict[str, Any]) -> str:
    """How a new capture differs from the existing ``capture`` (as ``tf1-lstm regen`` shows it)."""
    return replacement_report(capture, arrays, meta,
                              label=f"new vs existing capture [{capture.name}]")


def _settings_notes(stored: Any, current: Dict[str, Any]) -> List[str]:
    """Notes for a check run under other settings than its capture (mode, session config)."""
    if not isinstance(stored, dict):
        return ["the capture records no runner settings (made by an older tf1_lstm); this "
                f"check ran with {current}"]
    notes = []
    for key in ("mode", "session_config", "numpy_aliases", "python_hash_seed"):
        if stored.get(key) != current.get(key):
            notes.append(f"captured with runner {key} {stored.get(key)!r}, checked with "
                         f"{current.get(key)!r}: numbers may differ for that reason alone")
    return notes


def _output_report(program: Program, texts: Dict[int, str],
                   tolerance: Optional[Tuple[float, float]]) -> Tuple[bool, str]:
    rtol, atol = tolerance or (1e-5, 1e-6)
    results = notebook.compare_outputs(program.cells, texts, rtol, atol)
    ok = all(r.ok for r in results)
    head = (f"{program.name}: stored outputs: {sum(r.ok for r in results)} of {len(results)} "
            f"cells with output agree within rtol={rtol:g}, atol={atol:g}")
    return ok, "\n  ".join([head] + [r.detail for r in results if not r.ok or len(results) < 20])


def run_script(target: os.PathLike, argv: Sequence[str] = (), seed: Optional[int] = None,
               capture: Optional[os.PathLike] = None, check: Optional[os.PathLike] = None, *,
               tolerance: Optional[Tuple[float, float]] = None, force: bool = False,
               module: bool = False, process: bool = False,
               compare_outputs: bool = False, numpy_aliases: bool = False) -> RunResult:
    """Run an unmodified TF1 program; capture its ``Session.run`` results or check them.

    Args:
      target: the script or notebook (``.ipynb``), or with ``module`` a dotted
        module name; it runs as ``__main__`` with ``sys.argv = [file, *argv]``.
      argv: the program's arguments.
      seed: seed Python, NumPy and every graph without its own seed. A
        capture without a seed uses :data:`DEFAULT_CAPTURE_SEED`; a check
        uses the seed stored in the capture file.
      capture: write every ``Session.run`` result to this ``.npz`` file (a
        golden). An existing file is replaced only by a capture of the same
        program: kept when the new bytes are identical, otherwise kept with
        the comparison in ``message`` (status ``error``) unless ``force``.
      check: compare every ``Session.run`` result with this capture file;
        on a difference the obtained arrays go beside it (``.obtained.npz``).
      tolerance: ``(rtol, atol)`` for every array: stored by a capture,
        overriding the stored ones in a check.
      force: replace an existing capture of this program that differs.
      module: ``target`` is a module name, run as ``python -m`` runs it.
      process: TF 1.x behaviour for this whole process (``tf1-lstm run``
        owns its process); otherwise graph-context mode (see the shim).
      compare_outputs: for a notebook, also compare the numbers each cell
        prints with those in the notebook's stored outputs.
      numpy_aliases: restore the NumPy names legacy code used that today's
        NumPy removed (``np.float``, ...), for this run only
        (:mod:`tf1_lstm.runner.numpy_compat`).

    Returns:
      A :class:`RunResult`; ``status`` says whether a check held.

    Raises:
      ScriptError: the program is missing or not valid Python.
      GoldenError: the capture file to check is missing, unreadable, not a
        capture, or from another program.
      ValueError: ``capture`` and ``check`` together, a seed that contradicts
        the capture file, or a ``capture`` path that is not ``.npz``, is the
        program, or holds anything but a capture of this program
        (:func:`check_capture_path`).
      ScriptFailed: the program raised or exited non-zero; nothing was written.
    """
    plan = preflight(target, capture, check, seed, module=module)
    program = plan.program
    if compare_outputs and program.kind != NOTEBOOK:
        raise ValueError(f"{program.name}: --compare-outputs compares a notebook's stored "
                         f"outputs; this is a {program.kind}")
    args = [str(a) for a in argv]
    texts: Optional[Dict[int, str]] = {} if compare_outputs else None
    if plan.check is not None:
        check, seed = plan.check, plan.seed
        rec, settings = _execute(program, args, seed, True, process, texts, numpy_aliases)
        stored = plan.gold.meta.get("tolerances")
        replay = cap.compare_runs(
            rec.calls, plan.expected, script=program.name, path=check,
            tolerances=stored if isinstance(stored, dict) else None, tolerance=tolerance)
        notes = _settings_notes(plan.gold.meta.get("runner"), settings)
        if plan.gold.meta.get("args", args) != args:
            notes.append(f"captured with arguments {plan.gold.meta.get('args')}, run with {args}")
        sha = cap.script_digest(program.path)
        if plan.gold.meta.get("script_sha256") not in (None, sha):
            notes.append(f"{program.name} changed since the capture")
        replay.notes += notes
        replay.hint = (f"to re-capture on purpose: "
                       f"{capture_command(program, args, seed, check)} (then review the diff)")
        if replay.status != cap.OK:
            arrays, meta = cap.to_golden(rec, script=program.path, args=args, seed=seed,
                                         tolerance=tolerance)
            meta.update(script=program.name, runner=settings)
            stem = check.name[:-len(golden.SUFFIX)] if check.name.endswith(golden.SUFFIX) \
                else check.name
            out = golden.obtained_path_for(check.parent, stem)
            golden.save(out, arrays, {**meta, "obtained": True})
            replay.obtained_path = out
        result = RunResult(program.path, len(rec.calls), replay.status, replay.report(),
                           replay=replay)
    elif plan.capture is not None:
        result = _capture(plan, args, DEFAULT_CAPTURE_SEED if seed is None else seed,
                          tolerance, force, process, texts, numpy_aliases)
    else:
        _execute(program, args, seed, False, process, texts, numpy_aliases)
        result = RunResult(program.path)
    if compare_outputs:
        ok, report = _output_report(program, texts, tolerance)
        result.message = "\n".join(m for m in (result.message, report) if m)
        if not ok and result.status == cap.OK:
            result.status = cap.MISMATCH
    return result


def _capture(plan: Plan, args: List[str], seed: int, tolerance, force: bool, process: bool,
             texts, numpy_aliases: bool) -> RunResult:
    program, capture = plan.program, plan.capture
    rec, settings = _execute(program, args, seed, True, process, texts, numpy_aliases)
    bad = cap.nonfinite(rec.calls)
    command = capture_command(program, args, seed, capture, tolerance)
    arrays, meta = cap.to_golden(rec, script=program.path, args=args, seed=seed,
                                 tolerance=tolerance, command=command)
    meta.update(script=program.name, runner=settings)
    data = golden.encode(arrays, meta)
    summary = (f"{program.name}: captured {len(rec.calls)} Session.run calls "
               f"({len(arrays)} arrays, seed {seed})")
    if bad:  # a diverging script is captured as it is: a check wants the same NaN and inf
        summary += ("\n  note: NaN or infinity captured; a check requires the same non-finite "
                    "values at the same places:\n  " + "\n  ".join(bad[:10])
                    + (f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""))
    if not check_capture_path(capture, program):
        golden.write_atomic(capture, data)
        return RunResult(program.path, len(rec.calls), cap.OK, f"{summary} to {capture}",
                         written=capture)
    if capture.read_bytes() == data:
        return RunResult(program.path, len(rec.calls), cap.OK,
                         f"{summary}; unchanged: identical to {capture}, kept it")
    detail = "  " + _recapture_detail(capture, arrays, meta).replace("\n", "\n  ")
    if not force:
        return RunResult(program.path, len(rec.calls), cap.ERROR,
                         f"{program.name}: kept {capture}: the new capture differs from it; "
                         f"rerun with --force to replace it\n{detail}")
    golden.write_atomic(capture, data)
    return RunResult(program.path, len(rec.calls), cap.OK,
                     f"{summary}; replaced {capture}, which differed:\n{detail}",
                     written=capture)
