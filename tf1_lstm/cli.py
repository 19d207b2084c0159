"""``tf1-lstm``: a thin command line over the library.

Subcommands: ``list``, ``reproduce``, ``check``, ``regen``, ``compute``, ``convert``, ``run``,
``env``.
Exit codes: 0 everything holds, 1 a mismatch, 2 usage or golden-file error; ``run`` also
3 when the script itself raised or exited non-zero.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ and Python logging out of the CLI's output."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=r".*is deprecated.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from . import startup_log, tfcompat

    with startup_log.held():  # TensorFlow's C++ start-up lines, unless TF1_LSTM_TF_LOG=1
        tf = tfcompat.load()
        tf.config.list_physical_devices()  # the device probe logs its "no GPU" lines now
    tf.get_logger().setLevel(logging.ERROR)


def _cmd_list(args) -> int:
    from . import cases

    width = max(len(n) for n in cases.names())
    for case in cases.CASES.values():
        print(f"{case.name:<{width}}  {case.description}")
    return EXIT_OK


def _cmd_reproduce(args) -> int:
    from . import cases, display
    from .engines import tf1

    specs = cases.select(args.names)
    _quiet_tensorflow()
    for k, spec in enumerate(specs):
        run = tf1.execute(spec, variable_table=True)
        if k:
            print()
        print(display.reproduction(spec, run.arrays, run.variable_table))
    return EXIT_OK


def _cmd_check(args) -> int:
    from . import cases, checker

    specs = cases.select(args.names)
    _quiet_tensorflow()
    results = [checker.check_case(s, Path(args.golden_dir), oracle=not args.no_oracle)
               for s in specs]
    engine_checks = [checker.check_engines(s, _engine_names(args.engines), Path(args.golden_dir))
                     if args.engines else [] for s in specs]
    code = max((r.exit_code for r in results), default=EXIT_OK)
    code = max([code] + [c.exit_code for checks in engine_checks for c in checks])
    if args.json:
        cases_json = [dict(r.to_json(), engines=[c.to_json() for c in checks])
                      for r, checks in zip(results, engine_checks)]
        print(json.dumps(_strict_json({"exit_code": code, "cases": cases_json}), indent=1,
                         allow_nan=False))
    else:
        for r, checks in zip(results, engine_checks):
            print(r.report())
            if checks:
                print(checker.engines_report(checks))
        counts = {s: sum(r.status == s for r in results) for s in (checker.OK, checker.MISMATCH,
                                                                   checker.ERROR)}
        print(f"{len(results)} cases: {counts[checker.OK]} ok, {counts[checker.MISMATCH]} "
              f"mismatched, {counts[checker.ERROR]} errors")
    return code


def _strict_json(value):
    """``value`` with NaN and infinities as the strings ``"nan"``, ``"inf"``, ``"-inf"``: JSON
    has no such numbers (``json.dumps`` would write ``NaN``, which JSON parsers refuse)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    return value


def _cmd_regen(args) -> int:
    from . import cases, checker

    specs = cases.select(args.names)
    if os.path.exists(args.golden_dir) and not os.path.isdir(args.golden_dir):
        raise ValueError(f"--golden-dir {args.golden_dir}: not a directory")
    _quiet_tensorflow()
    code = EXIT_OK
    for spec in specs:
        result = checker.regen_case(spec, Path(args.golden_dir), force=args.force)
        print(f"{result.case}: {result.action} ({result.path})")
        if result.message:
            print("  " + result.message.replace("\n", "\n  "))
        code = max(code, result.exit_code)
    return code


def _cmd_compute(args) -> int:
    from . import engines, golden
    from . import spec as spec_mod

    if args.engine not in engines.ENGINES:  # before TensorFlow loads
        raise _UsageError(f"--engine: unknown engine {args.engine!r}; known engines: "
                          f"{', '.join(engines.ENGINES)}")
    if args.out:
        _check_output(Path(args.out), args.force, inputs=_compute_inputs(args))
    spec = _load_spec(args.spec, args.arrays)
    weights = None
    if args.weights:  # read and checked before TensorFlow loads; the message names the file
        from . import naming

        stored = golden.read_arrays(args.weights, what="weights file")
        stored.pop(golden.META_KEY, None)
        weights = naming.split_variables(stored) or stored
        try:
            naming.check_weights(spec, weights)
        except ValueError as exc:
            raise ValueError(f"{args.weights}: {exc}") from None
    if args.engine != "numpy":
        _quiet_tensorflow()
    try:
        engine = engines.get(args.engine)
    except ImportError as exc:
        raise ValueError(f"engine {args.engine!r} is not installed ({exc}); "
                         f"pip install 'tf1-lstm[{args.engine}]'") from None
    arrays = engine.run(spec, weights)
    if args.out:
        meta = {"schema_version": golden.SCHEMA_VERSION, "case": spec.name,
                "engine": args.engine, "spec": spec_mod.to_dict(spec)}
        golden.save(args.out, arrays, meta)
        print(f"{spec.name}: {len(arrays)} arrays from engine {args.engine!r} written to {args.out}")
    else:
        with np.printoptions(precision=8, suppress=False, threshold=200):
            for name, value in arrays.items():
                print(f"{name} {value.dtype} {value.shape}\n{value}")
    return EXIT_OK


def _compute_inputs(args):
    """``(path, what it is)`` for every file ``compute`` reads: explicit or by default."""
    inputs = []
    spec = Path(args.spec)
    if spec.exists():  # else a built-in case name (_load_spec), which reads no file
        inputs.append((spec, "the spec"))
        if not args.arrays:
            inputs.append((spec.with_suffix(".npz"), "the spec's sidecar arrays (read by "
                           "default: the spec's path with suffix .npz)"))
    if args.arrays:
        inputs.append((Path(args.arrays), "the spec's sidecar arrays (--arrays)"))
    if args.weights:
        inputs.append((Path(args.weights), "the weights file (--weights)"))
    return inputs


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: the same real path (symlinks, ``./``) or inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _check_output(out: Path, force: bool, inputs) -> None:
    """Refuse an output path that is a file the command reads (with or without --force), a
    directory, or any existing file without --force."""
    if not out.name.endswith(".npz"):
        raise _UsageError(f"--out {out}: the result file must end in .npz")
    for given, what in inputs:
        if given.exists() and _same_file(out, given):
            raise _UsageError(f"--out {out}: would overwrite {given}, {what}, which this "
                              f"command reads; refused even with --force (nothing written)")
    if out.is_dir():
        raise _UsageError(f"--out {out}: is a directory; give the path of an .npz file")
    if out.exists() and not force:
        raise _UsageError(f"--out {out}: exists; pass --force to replace it")


def _load_spec(arg: str, arrays: Optional[str]):
    """A spec from a JSON file, or the built-in case of that name."""
    from . import cases
    from . import spec as spec_mod

    path = Path(arg)
    if not path.is_file() and arg in cases.CASES:
        return cases.get(arg)
    return spec_mod.load_file(path, arrays)


def _engine_names(value: str):
    from .engines import ENGINES

    names = list(ENGINES) if value == "all" else [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise ValueError(f"--engines: unknown engine(s) {unknown}; known: {', '.join(ENGINES)}, all")
    return names


def _cmd_convert(args) -> int:
    from .migrate import files

    spec = _load_spec(args.spec, args.arrays) if args.spec is not None else None
    _quiet_tensorflow()
    try:
        result = files.convert_checkpoint(args.checkpoint, spec, args.to, args.out,
                                          scope=args.scope, force=args.force,
                                          allow_partial=args.allow_partial,
                                          write_spec=args.write_spec)
    except ImportError as exc:
        raise ValueError(f"target {args.to!r} is not installed ({exc}); "
                         f"pip install 'tf1-lstm[{args.to}]'") from None
    print(result.report())
    return EXIT_OK if result.ok else EXIT_MISMATCH


class _RunParser(_Parser):
    """``run``'s parser: the runner's options anywhere, the script's arguments after ``--``."""

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        script_args = []
        if "--" in args:
            split = args.index("--")
            args, script_args = args[:split], args[split + 1:]
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)} (arguments for the script "
                       f"go after --: tf1-lstm run SCRIPT.py [options] -- ARGS...)")
        namespace.script_args = script_args
        return namespace, []


EXIT_INTERRUPTED = 130  # a shell's code for SIGINT
# PYTHONHASHSEED for captures: it orders set(str) iteration, hence list(set(text)) vocabularies.
CAPTURE_HASH_SEED = "0"
_RESTARTED = "TF1_LSTM_RESTARTED_WITH_HASH_SEED"


def _with_hash_seed(plan, argv) -> None:
    """Restart this command with the capture's ``PYTHONHASHSEED`` if this process has another.

    A capture fixes ``CAPTURE_HASH_SEED`` unless ``PYTHONHASHSEED`` is already set; a check
    uses the seed its capture recorded. Python reads the variable only at start-up, so the
    command runs again (before TensorFlow loads, once) in a process that has it.
    """
    from .runner import shim

    if os.environ.pop(_RESTARTED, None):  # this is the restarted command: never loop
        return
    if plan.check is not None:
        want = (plan.gold.meta.get("runner") or {}).get("python_hash_seed")
        if not isinstance(want, str) or want == "random":
            return
    else:
        want = os.environ.get("PYTHONHASHSEED") or CAPTURE_HASH_SEED
        if want == "random":
            return
    if shim.python_hash_seed() == want:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    env = dict(os.environ, PYTHONHASHSEED=want, **{_RESTARTED: "1"})
    os.execve(sys.executable, [sys.executable, "-m", "tf1_lstm", *argv], env)


def _cmd_run(args) -> int:
    from .runner import EXIT_SCRIPT_FAILED, ScriptFailed, preflight, run_script

    if (args.rtol is None) != (args.atol is None):
        raise _UsageError("give --rtol and --atol together")
    if args.force and args.capture is None:
        raise _UsageError("--force goes with --capture (it replaces a differing capture of the "
                          "same script)")
    if (args.script is None) == (args.module is None):
        raise _UsageError("give a SCRIPT.py or NOTEBOOK.ipynb, or -m MODULE (not both)")
    target = args.module if args.module is not None else args.script
    module = args.module is not None
    tolerance = None if args.rtol is None else (args.rtol, args.atol)
    plan = preflight(target, args.capture, args.check, args.seed, module=module)  # before TF
    if args.owns_process and (plan.capture or plan.check):
        _with_hash_seed(plan, args.argv)  # may start this command again, in a process with the seed
    name = plan.program.name
    asked = plan.capture or plan.check
    unwritten = f"; nothing was written to {asked}" if asked else ""
    _quiet_tensorflow()
    try:
        result = run_script(target, args.script_args, seed=args.seed, capture=args.capture,
                            check=args.check, tolerance=tolerance, force=args.force,
                            module=module, process=args.owns_process,
                            compare_outputs=args.compare_outputs,
                            numpy_aliases=args.numpy_aliases)
    except ScriptFailed as exc:
        sys.stderr.write(exc.traceback_text)
        what = (f"exited with status {exc.exit_status!r}" if exc.exit_status is not None
                else "raised (traceback above)")
        print(f"tf1-lstm: error: {name} {what}{unwritten}", file=sys.stderr)
        if exc.hint:
            print(f"tf1-lstm: {exc.hint}", file=sys.stderr)
        return EXIT_SCRIPT_FAILED
    except KeyboardInterrupt:
        print(f"tf1-lstm: interrupted: {name} stopped by KeyboardInterrupt{unwritten}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.message:  # the script owns stdout; the runner reports on stderr
        print(result.message, file=sys.stderr)
    return result.exit_code


def _cmd_env(args) -> int:
    from . import envinfo

    info = envinfo.report()
    if args.json:
        print(json.dumps(info, indent=1, sort_keys=True))
    else:
        for key, value in info.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for k, v in value.items():
                    print(f"  {k}: {v}")
            else:
                print(f"{key}: {value}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from .checker import GOLDEN_DIR
    from .engines import ENGINES

    parser = _Parser(prog="tf1-lstm", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's C++ start-up "
                        "log (oneDNN, CUDA probing), which is held back by default; also "
                        "TF1_LSTM_TF_LOG=1")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="list the cases")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("reproduce", help="run cases and print them as the notebook does")
    p.add_argument("names", nargs="+", metavar="NAME", help="case names, or 'all'")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("check", help="check cases against their goldens")
    p.add_argument("names", nargs="*", metavar="NAME", help="case names (default: all)")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.add_argument("--no-oracle", action="store_true", help="skip the NumPy oracle comparison")
    p.add_argument("--golden-dir", default=str(GOLDEN_DIR), help="where the goldens are")
    p.add_argument("--engines", metavar="LIST", help="also run these engines (comma-separated, "
                   "or 'all') on each golden's weights and show their max error against it")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("regen", help="regenerate goldens (a changed one only with --force)")
    p.add_argument("names", nargs="*", metavar="NAME", help="case names (default: all)")
    p.add_argument("--force", action="store_true", help="replace goldens that differ")
    p.add_argument("--golden-dir", default=str(GOLDEN_DIR), help="where the goldens are")
    p.set_defaults(func=_cmd_regen)

    p = sub.add_parser("compute", help="run a spec (JSON file or case name) with an engine")
    p.add_argument("spec", metavar="SPEC", help="spec JSON file (arrays inline or '@name' from "
                   "a sidecar .npz), or a built-in case name")
    p.add_argument("--engine", default="tf", help="engine: " + ", ".join(ENGINES))
    p.add_argument("--arrays", help="sidecar .npz (default: SPEC with suffix .npz, if present)")
    p.add_argument("--weights", help="an .npz of weights by TF variable name (a golden works: "
                   "its 'variables/...' arrays are used)")
    p.add_argument("--out", help="write the named arrays to this .npz (a new file, or --force)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_cmd_compute)

    p = sub.add_parser("convert", help="convert a TF1 checkpoint to keras|keras3|torch|onnx "
                       "and measure the converted file against TF1")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a tf.compat.v1.train.Saver "
                   "checkpoint prefix (model.ckpt) or its directory")
    p.add_argument("--to", required=True, choices=("keras", "keras3", "torch", "onnx"),
                   help="the target framework")
    p.add_argument("--out", required=True, help="the file to write: .weights.h5 or .keras "
                   "(keras, keras3), .pt (torch), .onnx (onnx)")
    p.add_argument("--spec", metavar="SPEC", help="the case the checkpoint's graph was built "
                   "as: a built-in case name or a spec JSON file; its inputs are used for the "
                   "equivalence check (default: read the model from the checkpoint and its "
                   ".meta graph, and print it)")
    p.add_argument("--arrays", help="sidecar .npz of the spec JSON")
    p.add_argument("--scope", help="the variable scope the cells were built under in the "
                   "checkpoint's graph: chooses one of several stacks (default: the spec's "
                   "scope, or the checkpoint's only stack; '' for none)")
    p.add_argument("--allow-partial", action="store_true", help="convert although model "
                   "variables of the checkpoint are left over (listed)")
    p.add_argument("--write-spec", metavar="SPEC.json", help="also write the model converted "
                   "as a spec JSON, to review, keep and pass as --spec")
    p.add_argument("--force", action="store_true", help="replace an existing --out "
                   "(and --write-spec) file")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("run", help="run an unmodified TF1 script (tf.Session, tf.contrib.rnn); "
                       "capture or check its Session.run results",
                       usage="tf1-lstm run SCRIPT.py|NOTEBOOK.ipynb|-m MODULE [--seed N] "
                       "[--capture FILE.npz [--force] | --check FILE.npz] [--compare-outputs] "
                       "[--rtol R --atol A] [-- ARGS...]",
                       epilog="Exit codes: 0 ok, 1 a checked value differs, 2 usage, missing or "
                       "invalid script, bad capture file, a capture path that would overwrite "
                       "anything but a capture of the same script (or a differing one without "
                       "--force), or the script made other calls or "
                       "shapes than captured, 3 the script raised (its traceback is printed; "
                       "nothing is written), 130 interrupted. Run from the command line, the "
                       "script gets TF 1.x behaviour for the whole process "
                       "(tf.compat.v1.disable_v2_behavior()). The script's output goes to stdout, the "
                       "runner's report to stderr.")
    p.__class__ = _RunParser  # add_parser makes every subparser a _Parser
    p.add_argument("script", metavar="SCRIPT.py", nargs="?", help="the TF1 script or "
                   "notebook (.ipynb: its code cells in order), run as __main__")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a module as `python -m "
                   "MODULE` does (a package runs its __main__)")
    p.add_argument("--numpy-aliases", action="store_true", help="restore the NumPy names "
                   "legacy code used and today's NumPy removed (np.float, np.int, np.bool, "
                   "np.asscalar, np.float_, ...) for this run only; recorded in the capture")
    p.add_argument("--compare-outputs", action="store_true", help="notebooks: also compare "
                   "the numbers each cell prints with the notebook's stored outputs (per cell, "
                   "within --rtol/--atol, default 1e-5/1e-6)")
    p.add_argument("--seed", type=int, help="seed Python, NumPy and every graph without its "
                   "own seed (default: none; 0 with --capture; the stored seed with --check)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--capture", metavar="FILE.npz", help="record every Session.run result "
                      "into this golden file: a new .npz, or a capture of the same script "
                      "(kept if identical; if it differs, the difference is shown and the file "
                      "kept unless --force)")
    mode.add_argument("--check", metavar="FILE.npz", help="compare every Session.run result "
                      "with this capture, call by call")
    p.add_argument("--force", action="store_true", help="with --capture: replace a capture of "
                   "the same script that differs (never any other file)")
    p.add_argument("--rtol", type=float, help="relative tolerance for every array (with --atol; "
                   "default: per dtype, stored in the capture)")
    p.add_argument("--atol", type=float, help="absolute tolerance for every array (with --rtol)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("env", help="versions, oneDNN, seeds and determinism settings")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_env)
    return parser


def main(argv: Optional[Sequence[str]] = None, *, owns_process: bool = False) -> int:
    """Run the CLI; return the exit code (never raises for user errors).

    Args:
      owns_process: the command is the whole process (``tf1-lstm``, ``python
        -m tf1_lstm``), so ``run`` may give the script TF 1.x behaviour for
        the process; in-process callers (tests) get graph-context mode.
    """
    from .golden import GoldenError
    from .spec import SpecError
    from .tfcompat import TensorFlowSetupError

    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        args.owns_process = owns_process
        if args.verbose:
            from . import startup_log

            os.environ[startup_log.ENV] = "1"
        args.argv = list(argv) if argv is not None else sys.argv[1:]
        return args.func(args)
    except _UsageError as exc:
        print(f"tf1-lstm: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (GoldenError, SpecError, TensorFlowSetupError, ValueError, OSError) as exc:
        print(f"tf1-lstm: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001  (one line, never a traceback, unless asked for)
        if os.environ.get("TF1_LSTM_TRACEBACK"):
            raise
        print(f"tf1-lstm: internal error: {type(exc).__name__}: {exc} (set TF1_LSTM_TRACEBACK=1 "
              f"for the traceback, and please report it)", file=sys.stderr)
        return EXIT_ERROR


def _entry() -> None:  # console_scripts entry point
    sys.exit(main(owns_process=True))
