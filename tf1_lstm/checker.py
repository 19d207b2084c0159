"""Check cases against their goldens, and regenerate goldens on purpose.

Each case gets two checks, reported separately, so that initializer drift
can be told from math drift (TF's compatibility guide lets random streams
change between versions; the math must not):

- **math**: the golden's weights are loaded into the graph's variables and
  the case's outputs, states (and gradients) are compared with the golden.
- **init**: the seeded initialization is compared with the golden's weights.

Both come from one graph and one session per case. A third, informative
comparison runs the NumPy oracle on the golden's weights where it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import numpy as np

from . import compare as cmp
from . import engines, golden, naming, spec as spec_mod
from .envinfo import golden_environment
from .spec import CaseSpec

OK, MISMATCH, ERROR = "ok", "mismatch", "error"
EXIT_CODES = {OK: 0, MISMATCH: 1, ERROR: 2}
GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"


def regen_command(case: str) -> str:
    return f"tf1-lstm regen {case}"


def load_hint(case: str, path: Path, golden_dir: Path) -> str:
    """What makes the golden at ``path`` readable: create it, or replace a damaged one."""
    cmd = regen_command(case)
    if Path(golden_dir).resolve() != GOLDEN_DIR:
        cmd += f" --golden-dir {golden_dir}"
    if path.exists():
        return f"replace it with: {cmd} --force"
    return f"create it with: {cmd}"


def regen_hint(case: str, force: bool = True) -> str:
    cmd = regen_command(case) + (" --force" if force else "")
    return f"to regenerate on purpose: {cmd} (then review the diff it prints)"


def tolerances(spec: CaseSpec, arrays: Mapping[str, np.ndarray]) -> Dict[str, List[float]]:
    """Effective ``[rtol, atol]`` per array: the case's override, else the dtype default."""
    out = {}
    for name, array in sorted(arrays.items()):
        tol = spec.tolerance_for(name) or cmp.default_tolerance(array.dtype)
        out[name] = [float(tol[0]), float(tol[1])]
    return out


def metadata(spec: CaseSpec, arrays: Mapping[str, np.ndarray]) -> Dict[str, object]:
    """The JSON record stored in a golden."""
    meta: Dict[str, object] = {
        "schema_version": golden.SCHEMA_VERSION,
        "case": spec.name,
        "seed": spec.seed,
        "spec": spec_mod.to_dict(spec),
        "tolerances": tolerances(spec, arrays),
        "command": regen_command(spec.name),
    }
    meta.update(golden_environment())
    return meta


def _split(arrays: Mapping[str, np.ndarray]):
    """(variables, everything else) of a result mapping, both keyed by result name."""
    variables = {k: v for k, v in arrays.items() if k.startswith(naming.VARIABLES_PREFIX)}
    rest = {k: v for k, v in arrays.items() if k not in variables}
    return variables, rest


@dataclass
class CaseCheck:
    """The outcome of checking one case."""

    case: str
    path: Path
    status: str = OK
    error: Optional[str] = None
    math: Optional[cmp.Comparison] = None
    init: Optional[cmp.Comparison] = None
    oracle: Optional[cmp.Comparison] = None
    oracle_note: Optional[str] = None
    obtained_path: Optional[Path] = None
    obtained_error: Optional[str] = None  # why the obtained arrays could not be written

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def report(self) -> str:
        head = f"{self.case} ({self.path}): {self.status.upper()}"
        if self.status == ERROR:
            return f"{head}\n  {self.error}"
        lines = [head]
        hint = regen_hint(self.case)
        for comp in (self.math, self.init):
            if comp is not None:
                lines.append("  " + comp.report(hint).replace("\n", "\n  "))
        if self.oracle is not None:
            lines.append("  " + self.oracle.report().replace("\n", "\n  "))
        elif self.oracle_note:
            lines.append(f"  oracle: {self.oracle_note}")
        if self.obtained_path is not None:
            lines.append(f"  obtained arrays written to {self.obtained_path} for diffing")
        if self.obtained_error is not None:
            lines.append(f"  {self.obtained_error}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "case": self.case, "path": str(self.path), "status": self.status,
            "exit_code": self.exit_code, "error": self.error,
            "math": self.math.to_json() if self.math else None,
            "init": self.init.to_json() if self.init else None,
            "oracle": self.oracle.to_json() if self.oracle else None,
            "oracle_note": self.oracle_note,
            "obtained_path": str(self.obtained_path) if self.obtained_path else None,
            "obtained_error": self.obtained_error,
        }


def _oracle(spec: CaseSpec, weights: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray]):
    """The NumPy oracle's comparison with the golden, or a note why there is none."""
    try:
        reference = engines.get("numpy")
    except ImportError as exc:
        return None, f"not installed ({exc})"
    try:
        arrays = reference.run(spec, weights)
    except engines.NotExpressible as exc:
        return None, f"not expressible: {exc}"
    _, expected_rest = _split(expected)
    obtained = {k: v for k, v in arrays.items() if k in expected_rest}
    return cmp.compare(obtained, expected_rest, label="oracle (NumPy) vs golden",
                       tolerances=spec.tolerances), None


def check_case(spec: CaseSpec, golden_dir: Path = GOLDEN_DIR, *, oracle: bool = True,
               write_obtained: bool = True) -> CaseCheck:
    """Run both checks of one case against ``golden_dir/<case>.npz``.

    Never raises for bad goldens or bad weights: those become ``status ==
    "error"`` with a message naming the file and array. A mismatch leaves the
    obtained arrays beside the golden (``<case>.obtained.npz``); if that file
    cannot be written, the status stays ``mismatch`` and ``obtained_error``
    says which path and why.
    """
    path = golden.path_for(golden_dir, spec.name)
    result = CaseCheck(case=spec.name, path=path)
    try:
        gold = golden.load(path, regen_hint=load_hint(spec.name, path, golden_dir))
        if gold.meta.get("case") != spec.name:
            raise golden.GoldenError(f"{path}: holds case {gold.meta.get('case')!r}, "
                                     f"expected {spec.name!r}")
        gold_vars = naming.split_variables(gold.arrays)
        try:
            weights = naming.check_weights(spec, gold_vars)
        except ValueError as exc:
            raise golden.GoldenError(f"{path}: {exc}") from None
        for name, value in gold_vars.items():
            if value.dtype != np.dtype(spec.dtype):
                raise golden.GoldenError(f"{path}: array 'variables/{name}' has dtype "
                                         f"{value.dtype}, expected {spec.dtype}")
        run = engines.get("tf").execute(spec, weights)
    except (golden.GoldenError, spec_mod.SpecError, ValueError) as exc:
        result.status, result.error = ERROR, str(exc)
        return result
    except OSError as exc:  # an unreadable golden (permissions): this case's error, not the run's
        result.status, result.error = ERROR, f"{exc.filename or path}: {exc.strerror or exc}"
        return result

    gold_variables, gold_rest = _split(gold.arrays)
    _, obtained_rest = _split(run.arrays)
    structure = cmp.compare(gold_rest, obtained_rest, label="structure",
                            names=("in the golden", "produced by the case"))
    if structure.structural:
        result.status = ERROR
        result.error = f"{path}: " + "; ".join(structure.structural)
        return result
    result.math = cmp.compare(obtained_rest, gold_rest, label=f"math (golden weights) [{spec.name}]",
                              tolerances=spec.tolerances)
    if isinstance(spec.weights, Mapping):
        # The case gives its weights: the golden must hold exactly those.
        initial = {naming.variable_key(k): v
                   for k, v in naming.check_weights(spec, spec.weights).items()}
        label = f"init (weights given by the case) [{spec.name}]"
    else:
        initial = {naming.variable_key(k): v for k, v in run.initial_variables.items()}
        label = f"init (seed {spec.seed}) [{spec.name}]"
    result.init = cmp.compare(initial, gold_variables, label=label, tolerances=spec.tolerances)
    if oracle:
        result.oracle, result.oracle_note = _oracle(spec, weights, gold.arrays)

    # The oracle counts: a golden that only agrees with the TF run that made it proves little.
    failed = [c for c in (result.math, result.init, result.oracle) if c is not None and not c.ok]
    if failed:
        result.status = MISMATCH
        if write_obtained:
            obtained = dict(obtained_rest)
            obtained.update(initial)
            out = golden.obtained_path_for(golden_dir, spec.name)
            try:
                golden.save(out, obtained, {**metadata(spec, obtained), "obtained": True})
            except OSError as exc:  # one unwritable file must not cost the other cases' reports
                reason = exc.strerror or str(exc)
                result.obtained_error = f"obtained arrays not written: {out}: {reason}"
            else:
                result.obtained_path = out
    return result


@dataclass
class RegenResult:
    case: str
    path: Path
    action: str  # "created", "unchanged", "replaced", "differs", "error"
    message: str = ""

    @property
    def exit_code(self) -> int:
        return {"differs": 1, "error": 2}.get(self.action, 0)


def golden_arrays(spec: CaseSpec) -> Dict[str, np.ndarray]:
    """The arrays a golden of ``spec`` holds: a seeded (or given-weights) TF run."""
    return engines.get("tf").run(spec)


def _stored_tolerances(stored) -> Dict[str, tuple]:
    """The well-formed ``name: [rtol, atol]`` entries of a file's record (a damaged entry, say
    ``[-1, "x"]`` or a 3-list, is left out: that array gets its dtype's default)."""
    return {name: (float(tol[0]), float(tol[1]))
            for name, tol in (stored.items() if isinstance(stored, dict) else ())
            if cmp.is_tolerance(tol)}


def replacement_report(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, object],
                       *, label: str, tolerances=None) -> str:
    """How new ``arrays`` and ``meta`` differ from the golden file at ``path`` (never raises).

    The comparison report, then the metadata fields that differ: what a
    reviewer reads before a golden (or a capture) is replaced.
    """
    try:
        old = golden.load(path)
    except golden.GoldenError as exc:
        return f"existing file unreadable: {exc}"
    if tolerances is None:
        tolerances = _stored_tolerances(old.meta.get("tolerances"))
    detail = cmp.compare(arrays, old.arrays, label=label, tolerances=tolerances,
                         names=("new", "existing")).report()
    changed = sorted(k for k in set(old.meta) | set(meta) if old.meta.get(k) != meta.get(k))
    if changed:
        detail += f"\n  metadata fields that differ: {changed}"
    return detail


def _refuse_nonfinite(spec: CaseSpec, arrays: Mapping[str, np.ndarray], path: Path) -> None:
    """Raise ``ValueError`` naming the case and every result array holding NaN or infinity."""
    bad = []
    for name, value in sorted(arrays.items()):
        value = np.asarray(value)
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            where = np.argwhere(~np.isfinite(value))
            first = tuple(int(i) for i in where[0])
            bad.append(f"{name!r} ({len(where)} of {value.size} element(s), first "
                       f"{value[first]} at {first})")
    if bad:
        raise ValueError(f"case {spec.name!r}: nothing written to {path}: results hold NaN or "
                         f"infinity: {'; '.join(bad)}; a golden holds finite values unless the "
                         f"case declares allow_nonfinite=True")


def regen_case(spec: CaseSpec, golden_dir: Path = GOLDEN_DIR, *, force: bool = False) -> RegenResult:
    """Generate ``spec``'s golden; replace a different existing one only with ``force``.

    An existing golden with identical bytes is left untouched. One that
    differs is compared with the new arrays and the comparison is returned
    in the message, whether or not it is replaced. Results holding NaN or
    infinity are refused (``error``, nothing written) unless the case
    declares ``allow_nonfinite``.
    """
    path = golden.path_for(golden_dir, spec.name)
    try:
        arrays = golden_arrays(spec)
        if not spec.allow_nonfinite:
            _refuse_nonfinite(spec, arrays, path)
        meta = metadata(spec, arrays)
        data = golden.encode(arrays, meta)
    except (spec_mod.SpecError, ValueError) as exc:
        return RegenResult(spec.name, path, "error", str(exc))
    if not path.exists():
        golden.write_atomic(path, data)
        return RegenResult(spec.name, path, "created")
    if path.read_bytes() == data:
        return RegenResult(spec.name, path, "unchanged")
    detail = replacement_report(path, arrays, meta, label=f"new vs existing [{spec.name}]",
                                tolerances=spec.tolerances)
    if not force:
        return RegenResult(spec.name, path, "differs",
                           f"{detail}\n  kept the existing golden; rerun with --force to replace it")
    golden.write_atomic(path, data)
    return RegenResult(spec.name, path, "replaced", detail)


# Engines against the golden (tf1-lstm check --engines) ------------------------

NOT_INSTALLED, NOT_EXPRESSIBLE = "not installed", "not expressible"


@dataclass
class EngineCheck:
    """One engine's run of a case on the golden's weights, compared with the golden.

    ``status``: ``ok``, ``mismatch``, ``error``, ``not installed`` or
    ``not expressible`` (the last two are not failures: the engine's framework
    is missing, or has no equivalent of an option the case uses).
    """

    engine: str
    status: str
    detail: str = ""
    comparison: Optional[cmp.Comparison] = None

    @property
    def max_abs(self) -> Optional[float]:
        return self.comparison.max_abs if self.comparison is not None else None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 0)

    def line(self) -> str:
        if self.comparison is not None:
            text = f"max abs error {self.max_abs:.3g} ({self.status})"
            if self.detail:
                text += f"; {self.detail}"
            if not self.comparison.ok:
                text += "\n" + self.comparison.report()
            return text
        return f"{self.status}: {self.detail}" if self.detail else self.status

    def to_json(self) -> dict:
        return {"engine": self.engine, "status": self.status, "detail": self.detail,
                "max_abs": self.max_abs,
                "comparison": self.comparison.to_json() if self.comparison else None}


def check_engines(spec: CaseSpec, names: List[str], golden_dir: Path = GOLDEN_DIR
                  ) -> List[EngineCheck]:
    """Run each engine in ``names`` on the golden's weights; compare every array with the golden.

    Never raises for a missing framework or an option an engine lacks: those
    become ``not installed`` / ``not expressible``; a bad golden or weights
    become ``error`` for every engine.
    """
    path = golden.path_for(golden_dir, spec.name)
    try:
        gold = golden.load(path, regen_hint=load_hint(spec.name, path, golden_dir))
        try:
            weights = naming.check_weights(spec, naming.split_variables(gold.arrays))
        except ValueError as exc:
            raise golden.GoldenError(f"{path}: {exc}") from None
    except (golden.GoldenError, ValueError) as exc:
        return [EngineCheck(name, ERROR, str(exc)) for name in names]
    except OSError as exc:  # an unreadable golden: this case's error, not the whole run's
        return [EngineCheck(name, ERROR, f"{exc.filename or path}: {exc.strerror or exc}")
                for name in names]
    out = []
    for name in names:
        try:
            module = engines.get(name)
        except ImportError as exc:
            out.append(EngineCheck(name, NOT_INSTALLED, str(exc)))
            continue
        expected, detail = gold.arrays, ""
        try:
            try:
                arrays = module.run(spec, weights)
            except engines.NotExpressible as exc:
                if exc.option not in spec_mod.EXTRAS:
                    raise
                # The forward pass is still worth checking: compare what the engine can compute.
                detail = f"forward only ({exc})"
                expected = spec_mod.forward_results(gold.arrays)
                arrays = module.run(spec.forward_only(), weights)
        except engines.NotExpressible as exc:
            out.append(EngineCheck(name, NOT_EXPRESSIBLE, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001  (a framework's own error is this engine's error)
            out.append(EngineCheck(name, ERROR, f"{type(exc).__name__}: {exc}"))
            continue
        comparison = cmp.compare(arrays, expected, label=f"engine {name} vs golden [{spec.name}]",
                                 tolerances=spec.tolerances)
        status = OK if comparison.ok else (ERROR if comparison.structural else MISMATCH)
        out.append(EngineCheck(name, status, detail, comparison=comparison))
    return out


def engines_report(checks: List[EngineCheck]) -> str:
    """The per-engine lines of one case, indented under its report."""
    width = max((len(c.engine) for c in checks), default=0)
    lines = ["  engines vs golden:"]
    for c in checks:
        text = c.line().replace("\n", "\n      ")
        lines.append(f"    {c.engine:<{width}}  {text}")
    return "\n".join(lines)
