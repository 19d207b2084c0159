"""``tf1-lstm``: a thin command line over the library.

Subcommands: ``list``, ``reproduce``, ``check``, ``regen``, ``compute``, ``env``.
Exit codes: 0 everything holds, 1 a mismatch, 2 usage or golden-file error.
"""

from __future__ import annotations

import argparse
import json
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
    from . import tfcompat

    tf = tfcompat.load()
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
    code = max((r.exit_code for r in results), default=EXIT_OK)
    if args.json:
        print(json.dumps({"exit_code": code, "cases": [r.to_json() for r in results]}, indent=1))
    else:
        for r in results:
            print(r.report())
        counts = {s: sum(r.status == s for r in results) for s in (checker.OK, checker.MISMATCH,
                                                                   checker.ERROR)}
        print(f"{len(results)} cases: {counts[checker.OK]} ok, {counts[checker.MISMATCH]} "
              f"mismatched, {counts[checker.ERROR]} errors")
    return code


def _cmd_regen(args) -> int:
    from . import cases, checker

    specs = cases.select(args.names)
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
    from . import cases, engines, golden
    from . import spec as spec_mod

    path = Path(args.spec)
    if not path.exists() and args.spec in cases.CASES:
        spec = cases.get(args.spec)
    else:
        spec = spec_mod.load_file(path, args.arrays)
    if args.engine == "tf":
        _quiet_tensorflow()
    weights = None
    if args.weights:
        from . import naming

        with np.load(args.weights, allow_pickle=False) as npz:
            stored = {k: npz[k] for k in npz.files if k != golden.META_KEY}
        weights = naming.split_variables(stored) or stored
    arrays = engines.get(args.engine).run(spec, weights)
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
    p.add_argument("--out", help="write the named arrays to this .npz")
    p.set_defaults(func=_cmd_compute)

    p = sub.add_parser("env", help="versions, oneDNN, seeds and determinism settings")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_env)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; return the exit code (never raises for user errors)."""
    from .golden import GoldenError
    from .spec import SpecError
    from .tfcompat import TensorFlowSetupError

    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        return args.func(args)
    except _UsageError as exc:
        print(f"tf1-lstm: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (GoldenError, SpecError, TensorFlowSetupError, ValueError, OSError) as exc:
        print(f"tf1-lstm: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _entry() -> None:  # console_scripts entry point
    sys.exit(main())
