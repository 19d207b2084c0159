"""Compare named arrays against expected ones and report like ``numpy.testing``.

Comparison order: key set, dtype, shape, values. Differences in the first
three are *structural* (the two sets of arrays do not describe the same
computation); differences in values are *mismatches*, reported as
``assert_allclose`` does: mismatched count, max absolute and relative
difference, the worst index with obtained vs expected.

Floating-point (and complex) elements:

- where the expected value is finite, an element matches when the obtained
  value is finite and ``|obtained - expected| <= atol + rtol * |expected|``;
  a NaN or infinity obtained there never matches (counted as ``nonfinite``);
- where the expected value is not finite, it compares by position and kind,
  exactly, whatever the tolerance: an expected ``+inf`` matches only ``+inf``
  obtained at the same index, ``-inf`` only ``-inf``, NaN only NaN (a complex
  value with a non-finite part: both parts exactly, NaN where NaN). Anything
  else obtained there (a finite value, the other infinity, NaN for an
  infinity) is a mismatch (counted as ``expected_nonfinite``).

Each non-finite mismatch is reported by what differed, e.g. ``expected inf at
(0, 2), obtained 3.5`` (the first :data:`NONFINITE_SHOWN` of them). Other
dtypes (ints, bools, strings) compare exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

# Default tolerances per dtype, the one place they are defined. Why these:
# - float32: the same case, same weights, differs across TF 2.12-2.21
#   (Eigen's sigmoid changed in 2.17, tanh in 2.20), with oneDNN on or off
#   and across CPU instruction sets, in the last bits: outputs move ~1e-7
#   relative, gradients up to ~1e-6 relative. Measured here (TF 2.21): the
#   NumPy oracle vs TF on every golden uses at most 0.33 of this budget
#   (three_layer's kernel gradient); Grappler off vs on moved results by at
#   most 1.4e-6 absolute. rtol 1e-5 still catches a weight nudged by 1e-3
#   (tests/test_checker.py); atol 1e-6 covers values that cross zero.
# - float64: measured oracle vs TF differences are <= 4e-13 relative
#   (gradients of T=100, H=128 cases) and ~1e-15 on the goldens; rtol 1e-11
#   leaves > 20x headroom.
# - float16 (forward only): TF's half-precision kernels against the oracle's float32
#   math on the same float16 values, rounded once (reference._widened): measured on 14
#   golden cases' graphs with random weights, max abs 9.8e-4 (one ulp at 1.0 is 9.8e-4),
#   at |value| < 1; rtol 5e-3, atol 2e-3 leaves >= 4x headroom.
# - everything else (ints, bools, strings): exact.
DEFAULT_TOLERANCES: Dict[str, Tuple[float, float]] = {
    "float16": (5e-3, 2e-3),
    "float32": (1e-5, 1e-6),
    "float64": (1e-11, 1e-12),
}
EXACT = (0.0, 0.0)
# How many non-finite differences a report spells out, one line each.
NONFINITE_SHOWN = 5


def is_tolerance(value) -> bool:
    """Whether ``value`` is an ``(rtol, atol)`` pair: two finite real numbers >= 0, not booleans.

    The one test of a tolerance, for specs and for the tolerances stored in goldens and
    captures (which may be damaged).
    """
    def number(t) -> bool:
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            return False
        try:
            return 0 <= float(t) < float("inf")
        except OverflowError:  # an integer beyond float's range (2**1100)
            return False

    return isinstance(value, (list, tuple)) and len(value) == 2 and all(map(number, value))


def default_tolerance(dtype: np.dtype) -> Tuple[float, float]:
    """``(rtol, atol)`` for arrays of ``dtype``."""
    return DEFAULT_TOLERANCES.get(np.dtype(dtype).name, EXACT)


def _fmt(value) -> str:
    return np.array2string(np.asarray(value), precision=9, floatmode="maxprec")


@dataclass
class ArrayReport:
    """How one array compared."""

    name: str
    rtol: float
    atol: float
    size: int = 0
    mismatched: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    worst_index: Optional[Tuple[int, ...]] = None
    obtained_value: Optional[float] = None
    expected_value: Optional[float] = None
    nonfinite: int = 0  # obtained NaN or infinity where a finite value was expected
    expected_nonfinite: int = 0  # expected NaN or infinity not obtained as the same kind
    nonfinite_diffs: List[str] = field(default_factory=list)  # the first NONFINITE_SHOWN

    @property
    def ok(self) -> bool:
        return self.mismatched == 0

    def lines(self) -> List[str]:
        pct = 100.0 * self.mismatched / max(self.size, 1)
        out = [f"array {self.name!r} (rtol={self.rtol:g}, atol={self.atol:g})",
               f"Mismatched elements: {self.mismatched} / {self.size} ({pct:.3g}%)"]
        if self.nonfinite:
            out.append(f"Obtained NaN or infinity in {self.nonfinite} element(s)")
        if self.expected_nonfinite:
            out.append(f"Expected NaN or infinity not obtained in {self.expected_nonfinite} "
                       f"element(s)")
        shown = self.nonfinite + self.expected_nonfinite
        out += self.nonfinite_diffs
        if shown > len(self.nonfinite_diffs):
            out.append(f"... and {shown - len(self.nonfinite_diffs)} more non-finite difference(s)")
        out += [f"Max absolute difference: {self.max_abs:.9g}",
                f"Max relative difference: {self.max_rel:.9g}"]
        if self.worst_index is not None:
            out.append(f"Worst index {self.worst_index}: obtained {_fmt(self.obtained_value)}, "
                       f"expected {_fmt(self.expected_value)}")
        return out

    def to_json(self) -> dict:
        return {k: _json_value(v) for k, v in self.__dict__.items()}


def _json_value(value):
    """NumPy scalars as Python numbers (complex ones as text), for ``json.dumps``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, complex):
        return _fmt(value)
    return value


@dataclass
class Comparison:
    """Result of comparing obtained arrays to expected ones."""

    label: str
    structural: List[str] = field(default_factory=list)
    arrays: List[ArrayReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.structural and all(a.ok for a in self.arrays)

    @property
    def mismatches(self) -> List[ArrayReport]:
        return [a for a in self.arrays if not a.ok]

    @property
    def max_abs(self) -> float:
        return max((a.max_abs for a in self.arrays), default=0.0)

    def report(self, hint: str = "") -> str:
        """Text report: header, structural problems, then each mismatched array."""
        if self.ok:
            return f"{self.label}: OK ({len(self.arrays)} arrays, max abs diff {self.max_abs:.3g})"
        lines = [f"{self.label}: FAILED"]
        lines += [f"  {p}" for p in self.structural]
        for array in self.mismatches:
            lines += ["  " + line for line in array.lines()]
        if hint:
            lines.append(f"  {hint}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"label": self.label, "ok": self.ok, "structural": self.structural,
                "max_abs": self.max_abs, "arrays": [a.to_json() for a in self.arrays]}


def compare_array(name: str, obtained: np.ndarray, expected: np.ndarray,
                  rtol: float, atol: float) -> ArrayReport:
    """Compare two arrays of equal shape elementwise; see the module docstring."""
    report = ArrayReport(name=name, rtol=rtol, atol=atol, size=int(expected.size))
    if expected.size == 0:
        return report
    if expected.dtype.kind not in "fc":
        bad = obtained != expected
        report.mismatched = int(np.count_nonzero(bad))
        if report.mismatched:
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            report.worst_index = idx
            report.obtained_value, report.expected_value = obtained[idx], expected[idx]
        return report
    # complex values compare by the modulus of their difference (no imaginary part dropped)
    wide = np.complex128 if expected.dtype.kind == "c" else np.float64
    obt = obtained.astype(wide)
    exp = expected.astype(wide)
    exp_finite = np.isfinite(exp)
    obt_finite = np.isfinite(obt)
    both = exp_finite & obt_finite
    # Non-finite expected values: the same kind at the same index, exactly (NaN where NaN).
    same_kind = _same_exactly(obt, exp)
    unexpected = exp_finite & ~obt_finite
    missed = ~exp_finite & ~same_kind
    report.nonfinite = int(np.count_nonzero(unexpected))
    report.expected_nonfinite = int(np.count_nonzero(missed))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        allowed = atol + rtol * np.abs(np.where(exp_finite, exp, 0))
        abs_err = np.where(both, np.abs(obt - exp), np.where(unexpected | missed, np.inf, 0.0))
        nonzero = both & (exp != 0)
        rel_err = np.where(nonzero, abs_err / np.abs(np.where(nonzero, exp, 1)),
                           np.where(abs_err == 0, 0.0, np.inf))
        bad = np.where(both, ~(abs_err <= allowed), unexpected | missed)
    report.mismatched = int(np.count_nonzero(bad))
    report.max_abs = float(np.max(abs_err))
    report.max_rel = float(np.max(rel_err))
    for idx in np.argwhere(unexpected | missed)[:NONFINITE_SHOWN]:
        idx = tuple(int(i) for i in idx)
        o, e = _fmt(obtained[idx]), _fmt(expected[idx])
        report.nonfinite_diffs.append(f"expected {e} at {idx}, obtained {o}" if missed[idx]
                                      else f"obtained {o} at {idx}, expected {e}")
    # The worst element: the largest excess over the allowed error (non-finite ones first).
    excess = np.where(both, abs_err - allowed, np.where(bad, np.inf, -np.inf))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), exp.shape))
    if report.mismatched:
        report.worst_index = idx
        report.obtained_value, report.expected_value = obtained[idx], expected[idx]
    return report


def _same_exactly(obtained: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Elementwise: equal, or NaN where NaN (each part of complex values)."""
    if expected.dtype.kind == "c":
        return (_same_exactly(obtained.real, expected.real)
                & _same_exactly(obtained.imag, expected.imag))
    return (obtained == expected) | (np.isnan(obtained) & np.isnan(expected))


def compare(obtained: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray], *,
            label: str, tolerances: Optional[Mapping[str, Tuple[float, float]]] = None,
            names: Tuple[str, str] = ("obtained", "expected")) -> Comparison:
    """Compare ``obtained`` to ``expected`` in the order key set, dtype, shape, values.

    Args:
      obtained, expected: name -> array.
      label: header of the report (names the case and the check).
      tolerances: per-array ``(rtol, atol)`` overrides; other arrays use
        :func:`default_tolerance` of the expected dtype.
      names: what to call the two sides in structural messages.
    """
    obt_name, exp_name = names
    tolerances = tolerances or {}
    result = Comparison(label=label)
    missing = sorted(set(expected) - set(obtained))
    extra = sorted(set(obtained) - set(expected))
    if missing:
        result.structural.append(f"arrays {exp_name} but not {obt_name}: {missing}")
    if extra:
        result.structural.append(f"arrays {obt_name} but not {exp_name}: {extra}")
    for name in sorted(set(expected) & set(obtained)):
        obt, exp = np.asarray(obtained[name]), np.asarray(expected[name])
        if obt.dtype != exp.dtype:
            result.structural.append(f"array {name!r} has dtype {obt.dtype}, expected {exp.dtype}")
            continue
        if obt.shape != exp.shape:
            result.structural.append(f"array {name!r} has shape {obt.shape}, expected {exp.shape}")
            continue
        rtol, atol = tolerances.get(name, default_tolerance(exp.dtype))
        result.arrays.append(compare_array(name, obt, exp, rtol, atol))
    return result
