"""Capture and replay of ``Session.run``: what a TF1 script computed, call by call.

:func:`recording` wraps ``tf.compat.v1.Session.run`` (``BaseSession.run``,
so ``InteractiveSession``, ``Tensor.eval()`` and ``Operation.run()`` are
covered too) for the duration of a ``with`` block and records every call
made from the thread that entered it: the fetched values, the fetch names,
the call order, where in the script the call was made, and the shapes of the
fed values. Calls made by ``tf.train.Saver`` (checkpoint I/O, whose result
is a file path) and calls from other threads (queue runners) are counted but
not recorded.

A recording is stored as a golden (:mod:`tf1_lstm.golden`: same ``.npz``
format, same metadata fields). Array names::

    call/0003/fetch          sess.run(t)                   the 4th call, one fetch
    call/0003/fetch/0        sess.run([t, u])              by position
    call/0003/fetch/state/c  sess.run({"state": lstm_state}) by key / field

Metadata ``calls`` lists every call with its fetches (key, fetch name, kind,
dtype, shape) and feeds (name, shape). Fetches that are not arrays are
recorded in the metadata only: ``none`` (an op, whose value is ``None``) and
``object`` (anything else, by type name). String tensors become unicode
arrays (kind ``string``); bfloat16 and other non-NumPy floats become
float32 (their dtype stays in the metadata).

:func:`compare_runs` replays: call counts, then per call the fetch
structure and feed shapes (*structural*: the script did something else),
then the values with :func:`tf1_lstm.compare.compare` (*mismatch*).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from . import compare as cmp
from . import golden
from .envinfo import golden_environment

KIND = "session_run_capture"
OK, MISMATCH, ERROR = "ok", "mismatch", "error"
MAX_REPORTED = 5  # differences shown per kind; a long training loop can differ in every call
EXIT_CODES = {OK: 0, MISMATCH: 1, ERROR: 2}
# Modules whose Session.run calls are checkpoint I/O, not computation.
_CHECKPOINT_MODULES = ("tensorflow.python.training.saver",)
_LIBRARY_PREFIXES = ("tensorflow.", "tf_keras.", "tf_slim.", "tf1_lstm.", "keras.")


@dataclass
class Fetch:
    """One recorded fetch of one call.

    Attributes:
      path: position in the fetch structure (``""`` for a single fetch,
        ``"0"``, ``"state/c"``, ...).
      name: the fetch's tensor or op name (or the string the script passed).
      kind: ``array``, ``string``, ``none`` or ``object``.
      value: the array for kinds ``array`` and ``string``, else ``None``.
      dtype: the dtype TensorFlow returned (before any conversion).
      type_name: the Python type of an ``object`` value.
    """

    path: str
    name: str
    kind: str
    value: Optional[np.ndarray] = None
    dtype: Optional[str] = None
    type_name: Optional[str] = None

    @property
    def shape(self) -> Optional[Tuple[int, ...]]:
        return None if self.value is None else tuple(self.value.shape)


@dataclass
class Call:
    """One ``Session.run`` call: its fetches and the shapes of its feeds."""

    index: int
    caller: str
    fetches: List[Fetch]
    feeds: List[Dict[str, Any]]

    def key(self, fetch: Fetch, width: int = 4) -> str:
        base = f"call/{self.index:0{width}d}/fetch"
        return f"{base}/{fetch.path}" if fetch.path else base

    def label(self) -> str:
        names = [f.name for f in self.fetches]
        shown = names if len(names) <= 4 else names[:4] + [f"... {len(names) - 4} more"]
        return f"call {self.index} at {self.caller} fetching {shown}"


@dataclass
class Recording:
    """The calls recorded while :func:`recording` was active."""

    script: Optional[Path] = None
    calls: List[Call] = field(default_factory=list)
    skipped: Dict[str, int] = field(default_factory=lambda: {"checkpoint": 0, "other_threads": 0})


# ---------------------------------------------------------------- recording


def _fetch_name(fetch: Any) -> str:
    if isinstance(fetch, (str, bytes)):
        return fetch if isinstance(fetch, str) else fetch.decode("utf-8", "replace")
    name = getattr(fetch, "name", None)
    if isinstance(name, str):
        return name
    op = getattr(fetch, "op", None)
    if isinstance(getattr(op, "name", None), str):
        return op.name
    return type(fetch).__name__


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _leaves(fetch: Any, value: Any, path: Tuple[str, ...] = ()) -> Iterator[Tuple[str, Any, Any]]:
    """``(path, fetch, value)`` for each leaf of a fetch structure and its result."""
    if isinstance(fetch, Mapping) and isinstance(value, Mapping):
        for key in fetch:
            yield from _leaves(fetch[key], value[key], path + (str(key),))
    elif (isinstance(fetch, (list, tuple)) and isinstance(value, (list, tuple))
          and len(fetch) == len(value)):
        fields = getattr(fetch, "_fields", None)
        for k, (sub_fetch, sub_value) in enumerate(zip(fetch, value)):
            yield from _leaves(sub_fetch, sub_value, path + (fields[k] if fields else str(k),))
    elif _is_namedtuple(value):  # SparseTensorValue and the like: one entry per field
        for name, sub_value in zip(value._fields, value):
            yield "/".join(path + (name,)), fetch, sub_value
    else:
        yield "/".join(path), fetch, value


def _decode(items: Sequence[Any]) -> List[str]:
    return [x.decode("utf-8", "backslashreplace") if isinstance(x, bytes) else str(x)
            for x in items]


def to_fetch(path: str, name: str, value: Any) -> Fetch:
    """Record one fetched value (see the module docstring for the kinds)."""
    if value is None:
        return Fetch(path, name, "none")
    if isinstance(value, (bytes, str)):
        return Fetch(path, name, "string", np.array(_decode([value])[0]),
                     dtype=type(value).__name__)
    if not isinstance(value, (np.ndarray, np.generic, bool, int, float, complex)):
        return Fetch(path, name, "object", type_name=type(value).__name__)
    array = np.array(value, copy=True)  # the script may modify its result in place
    dtype = array.dtype.name
    if array.dtype.kind in "biufc":
        return Fetch(path, name, "array", array, dtype=dtype)
    if array.dtype.kind in "OSU" and all(isinstance(x, (bytes, str)) for x in array.flat):
        strings = np.array(_decode(list(array.flat)), dtype=str).reshape(array.shape)
        return Fetch(path, name, "string", strings, dtype=dtype)
    if array.dtype.kind == "V":  # bfloat16, float8 (ml_dtypes)
        try:
            return Fetch(path, name, "array", array.astype(np.float32), dtype=dtype)
        except (TypeError, ValueError):
            pass
    return Fetch(path, name, "object", dtype=dtype, type_name=type(value).__name__)


def _feed_items(key: Any, value: Any) -> Iterator[Tuple[Any, Any]]:
    if (isinstance(key, (list, tuple)) and isinstance(value, (list, tuple))
            and len(key) == len(value)):
        for sub_key, sub_value in zip(key, value):
            yield from _feed_items(sub_key, sub_value)
    else:
        yield key, value


def _shape(value: Any) -> Optional[List[int]]:
    try:
        return [int(d) for d in np.shape(value)]
    except (ValueError, TypeError):
        return None


def feeds_of(feed_dict: Optional[Mapping]) -> List[Dict[str, Any]]:
    """``[{"name", "shape"}]`` of the fed values, sorted by name."""
    entries = []
    for key, value in (feed_dict or {}).items():
        for sub_key, sub_value in _feed_items(key, value):
            entries.append({"name": _fetch_name(sub_key), "shape": _shape(sub_value)})
    return sorted(entries, key=lambda e: e["name"])


def _module_of(frame) -> str:
    return frame.f_globals.get("__name__", "") or ""


def _caller(frame) -> str:
    """``file:line`` of the innermost frame outside TensorFlow, tf-keras, tf-slim and tf1_lstm.

    For a script that is the line of the ``sess.run`` (or ``.eval()``) call;
    for code the script ``exec``-s (notebook cells) the cell's own name.
    """
    while frame is not None:
        if not _module_of(frame).startswith(_LIBRARY_PREFIXES):
            return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def _is_checkpoint_io(frame) -> bool:
    """Whether the library frames right above the call belong to ``tf.train.Saver``."""
    while frame is not None and _module_of(frame).startswith("tensorflow."):
        if _module_of(frame) in _CHECKPOINT_MODULES:
            return True
        frame = frame.f_back
    return False


def _session_base(tf) -> type:
    for cls in tf.compat.v1.Session.__mro__:
        if "run" in cls.__dict__ and "__init__" in cls.__dict__ and cls.__name__ == "BaseSession":
            return cls
    raise RuntimeError("tf.compat.v1.Session has no BaseSession.run to wrap; this TensorFlow "
                       "is not supported by tf1_lstm's capture")


@contextlib.contextmanager
def recording(tf, script: Optional[os.PathLike] = None) -> Iterator[Recording]:
    """Record every ``Session.run`` call made in this thread inside the block.

    Args:
      tf: the real ``tensorflow`` module.
      script: the script being run (kept in the recording).
    """
    base = _session_base(tf)
    original = base.__dict__["run"]
    rec = Recording(script=Path(script).resolve() if script is not None else None)
    owner = threading.get_ident()

    @functools.wraps(original)
    def run(sess, fetches, feed_dict=None, *args, **kwargs):
        result = original(sess, fetches, feed_dict, *args, **kwargs)
        caller_frame = sys._getframe(1)
        if threading.get_ident() != owner:
            rec.skipped["other_threads"] += 1
        elif _is_checkpoint_io(caller_frame):
            rec.skipped["checkpoint"] += 1
        else:
            recorded = [to_fetch(path, _fetch_name(f), value)
                        for path, f, value in _leaves(fetches, result)]
            rec.calls.append(Call(index=len(rec.calls), caller=_caller(caller_frame),
                                  fetches=recorded, feeds=feeds_of(feed_dict)))
        return result

    base.run = run
    try:
        yield rec
    finally:
        base.run = original


# ------------------------------------------------------- golden file format


def _width(n_calls: int) -> int:
    return max(4, len(str(max(n_calls - 1, 0))))


def nonfinite(calls: Sequence[Call]) -> List[str]:
    """One line per recorded float array holding NaN or infinity."""
    width = _width(len(calls))
    out = []
    for call in calls:
        for f in call.fetches:
            if f.kind == "array" and f.value.dtype.kind in "fc":
                bad = int(np.count_nonzero(~np.isfinite(f.value)))
                if bad:
                    out.append(f"{call.label()}: array {call.key(f, width)!r} holds NaN or "
                               f"infinity in {bad} of {f.value.size} element(s)")
    return out


def script_digest(script: os.PathLike) -> str:
    """SHA-256 of the script's bytes (stored, to tell a changed script in a check)."""
    return hashlib.sha256(Path(script).read_bytes()).hexdigest()


def to_golden(rec: Recording, *, script: Path, args: Sequence[str], seed: Optional[int],
              tolerance: Optional[Tuple[float, float]] = None,
              command: str = "") -> Tuple[Dict[str, np.ndarray], Dict[str, Any]]:
    """The arrays and metadata of a capture file for ``rec``.

    Args:
      tolerance: ``(rtol, atol)`` for every array; default: per dtype
        (:func:`tf1_lstm.compare.default_tolerance`). Stored per array and
        used when the file is checked.
    """
    width = _width(len(rec.calls))
    arrays: Dict[str, np.ndarray] = {}
    tolerances: Dict[str, List[float]] = {}
    calls_meta = []
    for call in rec.calls:
        fetches_meta = []
        for f in call.fetches:
            key = call.key(f, width)
            entry: Dict[str, Any] = {"key": key, "path": f.path, "name": f.name, "kind": f.kind}
            if f.dtype is not None:
                entry["dtype"] = f.dtype
            if f.type_name is not None:
                entry["type"] = f.type_name
            if f.value is not None:
                if key in arrays:
                    raise ValueError(f"{call.label()}: two fetches map to the array name {key!r}")
                arrays[key] = f.value
                entry["shape"] = list(f.value.shape)
                rtol, atol = tolerance or cmp.default_tolerance(f.value.dtype)
                tolerances[key] = [float(rtol), float(atol)]
            fetches_meta.append(entry)
        calls_meta.append({"call": call.index, "caller": call.caller, "fetches": fetches_meta,
                           "feeds": call.feeds})
    meta: Dict[str, Any] = {
        "schema_version": golden.SCHEMA_VERSION,
        "kind": KIND,
        "script": script.name,
        "script_sha256": script_digest(script),
        "args": list(args),
        "seed": seed,
        "calls": calls_meta,
        "skipped_calls": dict(rec.skipped),
        "tolerances": tolerances,
        "command": command,
    }
    meta.update(golden_environment())
    return arrays, meta


def from_golden(gold: golden.Golden) -> List[Call]:
    """The calls stored in a capture file.

    Raises:
      GoldenError: not a capture file, or its index and arrays disagree.
    """
    path = gold.path
    if gold.meta.get("kind") != KIND or not isinstance(gold.meta.get("calls"), list):
        what = (f"the golden of case {gold.meta['case']!r}" if "case" in gold.meta
                else f"kind {gold.meta.get('kind')!r}")
        raise golden.GoldenError(f"{path}: not a Session.run capture ({what}); make one with "
                                 f"tf1-lstm run SCRIPT.py --capture {path.name}")
    calls, listed = [], set()
    try:
        for entry in gold.meta["calls"]:
            fetches = []
            for f in entry["fetches"]:
                value = None
                if f["kind"] in ("array", "string"):
                    if f["key"] not in gold.arrays:
                        raise golden.GoldenError(f"{path}: array {f['key']!r} is listed in the "
                                                 f"index but missing from the file")
                    value = gold.arrays[f["key"]]
                    listed.add(f["key"])
                fetches.append(Fetch(f["path"], f["name"], f["kind"], value, f.get("dtype"),
                                     f.get("type")))
            calls.append(Call(int(entry["call"]), str(entry["caller"]), fetches,
                              list(entry.get("feeds", []))))
    except (KeyError, TypeError, ValueError) as exc:
        raise golden.GoldenError(f"{path}: malformed call index in the metadata "
                                 f"({type(exc).__name__}: {exc})") from None
    extra = sorted(set(gold.arrays) - listed)
    if extra:
        raise golden.GoldenError(f"{path}: arrays not in the call index: {extra[:5]}")
    return calls


# ------------------------------------------------------------------ replay


@dataclass
class ReplayCheck:
    """How a replay compared with a capture file."""

    script: str
    path: Path
    status: str = OK
    calls: int = 0
    structural: List[str] = field(default_factory=list)
    comparisons: List[cmp.Comparison] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    hint: str = ""
    obtained_path: Optional[Path] = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    @property
    def arrays(self) -> int:
        return sum(len(c.arrays) for c in self.comparisons)

    def report(self) -> str:
        head = f"{self.script} ({self.path}): {self.status.upper()}"
        if self.status == OK:
            max_abs = max((c.max_abs for c in self.comparisons), default=0.0)
            lines = [f"{head} ({self.calls} Session.run calls, {self.arrays} arrays, "
                     f"max abs diff {max_abs:.3g})"]
        else:
            lines = [head] + [f"  {s}" for s in self.structural[:MAX_REPORTED]]
            failed = [c for c in self.comparisons if not c.ok and not c.structural]
            for comp in failed[:MAX_REPORTED]:
                lines.append("  " + comp.report().replace("\n", "\n  "))
            more = max(len(self.structural) - MAX_REPORTED, 0) + max(len(failed) - MAX_REPORTED, 0)
            if more:
                lines.append(f"  ... and {more} more differing calls not shown")
            if self.hint:
                lines.append(f"  {self.hint}")
        lines += [f"  note: {n}" for n in self.notes]
        if self.obtained_path is not None:
            lines.append(f"  obtained arrays written to {self.obtained_path} for diffing")
        return "\n".join(lines)


def _first_divergence(obtained: Sequence[Call], expected: Sequence[Call]) -> str:
    for a, b in zip(obtained, expected):
        if [f.name for f in a.fetches] != [f.name for f in b.fetches] or a.caller != b.caller:
            return (f"first difference at call {a.index}: {a.label()}; captured: "
                    f"{b.label()}")
    shorter, longer = sorted((obtained, expected), key=len)
    which = "this run" if longer is obtained else "the capture"
    return (f"the first {len(shorter)} calls agree; {which} goes on with "
            f"{longer[len(shorter)].label()}")


def _structure(call: Call) -> List[Tuple[str, str, Optional[str]]]:
    return [(f.path, f.kind, f.type_name if f.kind == "object" else None) for f in call.fetches]


def compare_runs(obtained: Sequence[Call], expected: Sequence[Call], *, script: str, path: Path,
                 tolerances: Optional[Mapping[str, Sequence[float]]] = None,
                 tolerance: Optional[Tuple[float, float]] = None) -> ReplayCheck:
    """Compare a replay's calls with a capture's, call by call.

    Args:
      tolerances: per-array ``[rtol, atol]`` stored in the capture.
      tolerance: ``(rtol, atol)`` for every array, overriding ``tolerances``.
    """
    result = ReplayCheck(script=script, path=path, calls=len(obtained))
    if len(obtained) != len(expected):
        result.status = ERROR
        result.structural.append(
            f"{script} made {len(obtained)} Session.run calls; {path.name} holds "
            f"{len(expected)}; {_first_divergence(obtained, expected)}")
        return result
    width = _width(len(expected))
    renamed = 0
    for got, want in zip(obtained, expected):
        if _structure(got) != _structure(want):
            result.structural.append(
                f"{got.label()}: fetch structure {_structure(got)} differs from the "
                f"captured {_structure(want)} ({want.label()})")
            continue
        got_feeds = {f["name"]: f["shape"] for f in got.feeds}
        want_feeds = {f["name"]: f["shape"] for f in want.feeds}
        if sorted(got_feeds.values(), key=str) != sorted(want_feeds.values(), key=str):
            result.structural.append(f"{got.label()}: feeds {got_feeds} differ from the "
                                     f"captured {want_feeds}")
            continue
        if [f.name for f in got.fetches] != [f.name for f in want.fetches]:
            renamed += 1
        obtained_arrays = {got.key(f, width): f.value for f in got.fetches
                           if f.value is not None}
        expected_arrays = {want.key(f, width): f.value for f in want.fetches
                           if f.value is not None}
        tols = {k: tuple(tolerance) if tolerance else tuple((tolerances or {}).get(
            k, cmp.default_tolerance(v.dtype))) for k, v in expected_arrays.items()}
        comparison = cmp.compare(obtained_arrays, expected_arrays, label=got.label(),
                                 tolerances=tols)
        result.structural += [f"{got.label()}: {s}" for s in comparison.structural]
        result.comparisons.append(comparison)
    if renamed:
        result.notes.append(f"{renamed} call(s) fetch tensors under other names than captured "
                            f"(TensorFlow may name ops differently); compared by position")
    if result.structural:
        result.status = ERROR
    elif any(not c.ok for c in result.comparisons):
        result.status = MISMATCH
    return result
