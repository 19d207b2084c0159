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
format, same metadata fields). Each fetched value has a key, which reports
use::

    call/0003/fetch          sess.run(t)                   the 4th call, one fetch
    call/0003/fetch/0        sess.run([t, u])              by position
    call/0003/fetch/state/c  sess.run({"state": lstm_state}) by key / field

The metadata ``index`` says what each call did, compactly, so that a long
training loop costs a few bytes per call beyond its values:

- ``signatures``: what calls did apart from their values, each written once:
  the caller (``file:line``), the fetches (path, fetch name, kind, dtype)
  and the feeds (name, shape);
- ``groups``: the calls of one signature whose values have the same shapes
  and dtypes: the ``signature``, the number of ``calls``, the ``shapes`` and
  the ``arrays`` holding each fetch's values (``null`` for fetches without
  a value). A group of one call stores its values under the call's keys
  above; a group of several stacks the values of each fetch into one array,
  ``stack/0001/fetch/0`` (group 1, fetch ``0``), whose row ``r`` is the
  group's ``r``-th call;
- ``sequence``: the group of each call in call order, run-length encoded:
  ``"0,1*1000,2"`` is a call of group 0, 1000 of group 1, one of group 2;
  ``"0,(1*9,2)*100"`` repeats nine calls of group 1 and one of group 2 a
  hundred times.

Per-array ``tolerances`` are keyed by the arrays in the file (one entry per
stack). Fetches that are not arrays are recorded in the index only:
``none`` (an op, whose value is ``None``) and ``object`` (anything else, by
type name). String tensors become unicode arrays (kind ``string``);
bfloat16 and other non-NumPy floats become float32 (their dtype stays in
the index). Captures made before the compact index (one ``calls`` entry per
call, every value under its call's key) still load.

:func:`compare_runs` replays: call counts, then per call the fetch
structure and feed shapes (*structural*: the script did something else),
then the values with :func:`tf1_lstm.compare.compare` (*mismatch*).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
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
INDEX_VERSION = 2  # of the metadata ``index``; version 1 was the per-call ``calls`` list
VALUE_KINDS = ("array", "string")
FETCH_KINDS = VALUE_KINDS + ("none", "object")
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
      stored: for a value read from a capture file, the file's array that
        holds it (the call's key, or a stack); ``None`` for a recording.
      row: the value's row in the ``stored`` stack (``None``: not stacked).
    """

    path: str
    name: str
    kind: str
    value: Optional[np.ndarray] = None
    dtype: Optional[str] = None
    type_name: Optional[str] = None
    stored: Optional[str] = None
    row: Optional[int] = None

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

# Recording costs a few microseconds per Session.run (scripts/bench_capture.py). Measured:
# NumPy computes ``dtype.name`` in Python (~4 us, once the largest cost of a fetch), so
# it is looked up once per dtype; paths of flat fetch lists are made once; a call site's
# "file:line" is found once; equal feeds are recorded once (see recording).
_DTYPE_NAMES: Dict[np.dtype, str] = {}
_POSITIONS = tuple(str(k) for k in range(64))
_CONTAINERS = (Mapping, list, tuple)
# The index's sequence: runs GROUP*COUNT, blocks of runs (RUN,RUN,...)*COUNT.
_RUN = re.compile(r"([0-9]+)(?:\*([1-9][0-9]*))?")
_BLOCK = re.compile(r"\((?P<block>[0-9*,]+)\)\*(?P<reps>[1-9][0-9]*)|[0-9]+(?:\*[1-9][0-9]*)?")
_MAX_PERIOD = 8  # runs in a repeated block


def _dtype_name(dtype: np.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = dtype.name
    return name


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


def _key_name(key: Any, position: int) -> str:
    """A fetch dict's key as a path part, the same in every process.

    A key without a ``__str__`` or ``__repr__`` of its own (the hooks that
    ``MonitoredSession`` fetches for) would print its address: it is named by
    its class and its position in the dict instead.
    """
    kind = type(key)
    if kind.__str__ is object.__str__ and kind.__repr__ is object.__repr__:
        return f"{kind.__name__}#{position}"
    return str(key)


def _leaves(fetch: Any, value: Any, path: Tuple[str, ...] = ()) -> Iterator[Tuple[str, Any, Any]]:
    """``(path, fetch, value)`` for each leaf of a fetch structure and its result."""
    if isinstance(fetch, Mapping) and isinstance(value, Mapping):
        for position, key in enumerate(fetch):
            yield from _leaves(fetch[key], value[key], path + (_key_name(key, position),))
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


def _flat_leaves(fetch: Any, value: Any) -> List[Tuple[str, Any, Any]]:
    """:func:`_leaves` as a list, without its recursion for the usual structures.

    ``sess.run(t)`` and ``sess.run([t, u, ...])`` of graph elements take the
    fast path; anything nested (or a namedtuple result) takes :func:`_leaves`.
    """
    kind = type(fetch)
    if kind is list or kind is tuple:
        if (type(value) is list or type(value) is tuple) and len(value) == len(fetch) \
                <= len(_POSITIONS):
            for sub_fetch, sub_value in zip(fetch, value):
                if isinstance(sub_fetch, _CONTAINERS) or _is_namedtuple(sub_value):
                    break
            else:
                return list(zip(_POSITIONS, fetch, value))
    elif not isinstance(fetch, _CONTAINERS) and not _is_namedtuple(value):
        return [("", fetch, value)]
    return list(_leaves(fetch, value))


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
    array = np.array(value)  # a copy: the script may modify its result in place
    if array.dtype.kind in "biufc":
        return Fetch(path, name, "array", array, dtype=_dtype_name(array.dtype))
    dtype = array.dtype.name
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


def _shape(value: Any) -> Optional[Tuple[int, ...]]:
    if isinstance(value, np.ndarray):
        return value.shape
    try:
        return tuple(int(d) for d in np.shape(value))
    except (ValueError, TypeError):
        return None


def _feed_key(feed_dict: Optional[Mapping]) -> Tuple[Tuple[str, Optional[Tuple[int, ...]]], ...]:
    """``((name, shape), ...)`` of the fed values, sorted by name (stable)."""
    entries = []
    for key, value in (feed_dict or {}).items():
        if isinstance(key, (list, tuple)):
            for sub_key, sub_value in _feed_items(key, value):
                entries.append((_fetch_name(sub_key), _shape(sub_value)))
        else:
            entries.append((_fetch_name(key), _shape(value)))
    entries.sort(key=_first)
    return tuple(entries)


def _first(item: tuple) -> Any:
    return item[0]


def _feed_entries(key: Tuple[Tuple[str, Optional[Tuple[int, ...]]], ...]) -> List[Dict[str, Any]]:
    return [{"name": name, "shape": None if shape is None else list(shape)}
            for name, shape in key]


def feeds_of(feed_dict: Optional[Mapping]) -> List[Dict[str, Any]]:
    """``[{"name", "shape"}]`` of the fed values, sorted by name."""
    return _feed_entries(_feed_key(feed_dict))


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
    # (code, line) of a calling frame outside the libraries -> its "file:line"; for the
    # usual call straight from the script's loop, one dictionary look-up per call.
    sites: Dict[Tuple[Any, int], str] = {}
    # Calls with the same feed names and shapes share one (read-only) feeds list: a long
    # loop then adds no feed objects per call, which the garbage collector would walk
    # again and again (measured: that made recording 3x slower at 20,000 calls).
    feed_lists: Dict[tuple, List[Dict[str, Any]]] = {}

    @functools.wraps(original)
    def run(sess, fetches, feed_dict=None, *args, **kwargs):
        result = original(sess, fetches, feed_dict, *args, **kwargs)
        frame = sys._getframe(1)
        if threading.get_ident() != owner:
            rec.skipped["other_threads"] += 1
            return result
        site = (frame.f_code, frame.f_lineno)
        caller = sites.get(site)
        if caller is None:
            if _is_checkpoint_io(frame):
                rec.skipped["checkpoint"] += 1
                return result
            caller = _caller(frame)
            if not _module_of(frame).startswith(_LIBRARY_PREFIXES):
                sites[site] = caller
        recorded = [to_fetch(path, _fetch_name(f), value)
                    for path, f, value in _flat_leaves(fetches, result)]
        key = _feed_key(feed_dict)
        feeds = feed_lists.get(key)
        if feeds is None:
            feeds = feed_lists[key] = _feed_entries(key)
        rec.calls.append(Call(len(rec.calls), caller, recorded, feeds))
        return result

    base.run = run
    try:
        yield rec
    finally:
        base.run = original


# ------------------------------------------------------- golden file format


def _width(n: int) -> int:
    return max(4, len(str(max(n - 1, 0))))


def nonfinite(calls: Sequence[Call]) -> List[str]:
    """One line per recorded float array holding NaN or infinity."""
    width = _width(len(calls))
    out = []
    for call in calls:
        for f in call.fetches:
            if f.kind == "array" and f.value.dtype.kind in "fc" and not np.isfinite(f.value).all():
                bad = int(np.count_nonzero(~np.isfinite(f.value)))
                out.append(f"{call.label()}: array {call.key(f, width)!r} holds NaN or "
                           f"infinity in {bad} of {f.value.size} element(s)")
    return out


def script_digest(script: os.PathLike) -> str:
    """SHA-256 of the script's bytes (stored, to tell a changed script in a check)."""
    return hashlib.sha256(Path(script).read_bytes()).hexdigest()


def _runs(sequence: Sequence[int]) -> str:
    """``[0, 1, 1, 1, 2, 1, 2, 1, 2]`` -> ``"0,1*3,(2,1)*2,2"``: runs, and repeated blocks of runs.

    A block of up to :data:`_MAX_PERIOD` runs that repeats is written once
    with its count, so that a loop alternating between calls (train, then
    evaluate) costs no more than one that repeats a single call.
    """
    runs: List[List[int]] = []  # [group, count]
    for g in sequence:
        if runs and runs[-1][0] == g:
            runs[-1][1] += 1
        else:
            runs.append([g, 1])
    words = [str(g) if n == 1 else f"{g}*{n}" for g, n in runs]
    out, i = [], 0
    while i < len(words):
        period, reps = 1, 1
        for p in range(2, _MAX_PERIOD + 1):
            block, r = words[i:i + p], 1
            while words[i + r * p:i + (r + 1) * p] == block:
                r += 1
            if r > 1 and p * r > period * reps:
                period, reps = p, r
        if reps > 1:
            out.append(f"({','.join(words[i:i + period])})*{reps}")
        else:
            out.append(words[i])
        i += period * reps
    return ",".join(out)


def _unruns(text: Any, groups: int, total: int) -> List[int]:
    """The inverse of :func:`_runs`, for ``groups`` groups holding ``total`` calls.

    Raises:
      ValueError: anything :func:`_runs` does not write, or more calls than ``total``.
    """
    if not isinstance(text, str):
        raise ValueError(f"sequence is {type(text).__name__}, expected a string such as "
                         f"'0,1*3,(2,1)*2'")
    out: List[int] = []
    pos = 0
    while pos < len(text):
        match = _BLOCK.match(text, pos)
        if not match:
            raise ValueError(f"sequence is malformed at character {pos} "
                             f"({text[pos:pos + 20]!r})")
        words = match["block"].split(",") if match["block"] is not None else [match[0]]
        runs = []
        for word in words:
            run = _RUN.fullmatch(word)
            if not run or int(run[1]) >= groups:
                raise ValueError(f"sequence entry {word!r} is not GROUP or GROUP*COUNT with "
                                 f"GROUP below {groups} and COUNT at least 1")
            runs.append((int(run[1]), int(run[2] or 1)))
        reps = int(match["reps"] or 1)
        if len(out) + sum(n for _, n in runs) * reps > total:  # before making the list
            raise ValueError(f"sequence names more calls than the groups hold ({total})")
        out += [g for g, n in runs for _ in range(n)] * reps
        pos = match.end()
        if pos < len(text):
            if text[pos] != "," or pos + 1 == len(text):
                raise ValueError(f"sequence is malformed at character {pos} "
                                 f"({text[pos:pos + 20]!r})")
            pos += 1
    return out


def _stack_key(group: int, width: int, path: str) -> str:
    base = f"stack/{group:0{width}d}/fetch"
    return f"{base}/{path}" if path else base


def _signature_of(call: Call) -> tuple:
    """What identifies a call's signature: caller, fetches without values, feeds."""
    return (call.caller,
            tuple((f.path, f.name, f.kind, f.dtype, f.type_name) for f in call.fetches),
            tuple((e.get("name"), None if e.get("shape") is None else tuple(e["shape"]))
                  for e in call.feeds))


def _signature_entry(call: Call) -> Dict[str, Any]:
    fetches = []
    for f in call.fetches:
        entry: Dict[str, Any] = {"path": f.path, "name": f.name, "kind": f.kind}
        if f.dtype is not None:
            entry["dtype"] = f.dtype
        if f.type_name is not None:
            entry["type"] = f.type_name
        fetches.append(entry)
    return {"caller": call.caller, "fetches": fetches, "feeds": [dict(e) for e in call.feeds]}


def to_golden(rec: Recording, *, script: Path, args: Sequence[str], seed: Optional[int],
              tolerance: Optional[Tuple[float, float]] = None,
              command: str = "") -> Tuple[Dict[str, np.ndarray], Dict[str, Any]]:
    """The arrays and metadata of a capture file for ``rec`` (see the module docstring).

    Args:
      tolerance: ``(rtol, atol)`` for every array; default: per dtype
        (:func:`tf1_lstm.compare.default_tolerance`). Stored per array of the
        file and used when the file is checked.

    Raises:
      ValueError: two fetches of a call map to the same key, or the calls
        are not numbered in order.
    """
    call_width = _width(len(rec.calls))
    signatures: Dict[tuple, int] = {}
    signature_entries: List[Dict[str, Any]] = []
    groups: Dict[tuple, int] = {}
    members: List[List[Call]] = []  # the calls of each group
    sequence: List[int] = []
    for position, call in enumerate(rec.calls):
        if call.index != position:
            raise ValueError(f"{call.label()}: recorded as call {position}; calls are stored in "
                             f"order, numbered from 0")
        sig = _signature_of(call)
        s = signatures.get(sig)
        if s is None:
            s = signatures[sig] = len(signature_entries)
            signature_entries.append(_signature_entry(call))
            paths = [f.path for f in call.fetches if f.kind in VALUE_KINDS]
            if len(set(paths)) < len(paths):
                twice = sorted({p for p in paths if paths.count(p) > 1})
                raise ValueError(f"{call.label()}: two fetches map to the array name "
                                 f"{call.key(Fetch(twice[0], '', ''), call_width)!r}")
        layout = (s,) + tuple(None if f.value is None else (f.value.shape, f.value.dtype.str)
                              for f in call.fetches)
        g = groups.get(layout)
        if g is None:
            g = groups[layout] = len(members)
            members.append([])
        members[g].append(call)
        sequence.append(g)

    group_width = _width(len(members))
    arrays: Dict[str, np.ndarray] = {}
    tolerances: Dict[str, List[float]] = {}
    group_entries = []
    for g, (layout, calls) in enumerate(zip(groups, members)):
        first = calls[0]
        stored: List[Optional[str]] = []
        for j, f in enumerate(first.fetches):
            if f.value is None:
                stored.append(None)
                continue
            if len(calls) == 1:
                key, value = first.key(f, call_width), f.value
            else:
                key = _stack_key(g, group_width, f.path)
                value = np.stack([c.fetches[j].value for c in calls])  # (calls, *shape)
            arrays[key] = value
            rtol, atol = tolerance or cmp.default_tolerance(value.dtype)
            tolerances[key] = [float(rtol), float(atol)]
            stored.append(key)
        group_entries.append({
            "signature": layout[0], "calls": len(calls), "arrays": stored,
            "shapes": [None if f.value is None else list(f.value.shape) for f in first.fetches]})
    meta: Dict[str, Any] = {
        "schema_version": golden.SCHEMA_VERSION,
        "kind": KIND,
        "script": script.name,
        "script_sha256": script_digest(script),
        "args": list(args),
        "seed": seed,
        "index": {"version": INDEX_VERSION, "signatures": signature_entries,
                  "groups": group_entries, "sequence": _runs(sequence)},
        "skipped_calls": dict(rec.skipped),
        "tolerances": tolerances,
        "command": command,
    }
    meta.update(golden_environment())
    return arrays, meta


def from_golden(gold: golden.Golden) -> List[Call]:
    """The calls stored in a capture file, each value a view of its array in the file.

    Reads the compact ``index`` and the per-call ``calls`` list of older captures.

    Raises:
      GoldenError: not a capture file, or its index and arrays disagree (one
        line naming the file).
    """
    path, meta = gold.path, gold.meta
    compact = isinstance(meta.get("index"), dict)
    if meta.get("kind") != KIND or not (compact or isinstance(meta.get("calls"), list)):
        what = (f"the golden of case {meta['case']!r}" if "case" in meta
                else f"kind {meta.get('kind')!r}")
        raise golden.GoldenError(f"{path}: not a Session.run capture ({what}); make one with "
                                 f"tf1-lstm run SCRIPT.py --capture {path.name}")
    listed: set = set()
    try:
        calls = (_compact_calls if compact else _listed_calls)(gold, listed)
    except golden.GoldenError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        detail = str(exc).replace("\n", " ")
        raise golden.GoldenError(f"{path}: malformed call index in the metadata "
                                 f"({type(exc).__name__}: {detail}); re-capture it") from None
    extra = sorted(set(gold.arrays) - listed)
    if extra:
        raise golden.GoldenError(f"{path}: arrays not in the call index: {extra[:5]}")
    return calls


def _member(gold: golden.Golden, key: Any, listed: set) -> np.ndarray:
    if not isinstance(key, str) or key not in gold.arrays:
        raise golden.GoldenError(f"{gold.path}: array {key!r} is listed in the index but "
                                 f"missing from the file")
    if key in listed:
        raise golden.GoldenError(f"{gold.path}: array {key!r} is listed twice in the index")
    listed.add(key)
    return gold.arrays[key]


def _listed_calls(gold: golden.Golden, listed: set) -> List[Call]:
    """The calls of a capture made before the compact index: one ``calls`` entry per call."""
    calls = []
    for entry in gold.meta["calls"]:
        fetches = []
        for f in entry["fetches"]:
            value = stored = None
            if f["kind"] in VALUE_KINDS:
                stored = f["key"]
                value = _member(gold, stored, listed)
            fetches.append(Fetch(f["path"], f["name"], f["kind"], value, f.get("dtype"),
                                 f.get("type"), stored))
        calls.append(Call(int(entry["call"]), str(entry["caller"]), fetches,
                          list(entry.get("feeds", []))))
    return calls


def _compact_calls(gold: golden.Golden, listed: set) -> List[Call]:
    """The calls of a capture with the compact ``index`` (see the module docstring)."""
    index = gold.meta["index"]
    if index.get("version") != INDEX_VERSION:
        raise ValueError(f"index version {index.get('version')!r}, this tf1_lstm reads "
                         f"version {INDEX_VERSION}")
    signatures = []
    for s in index["signatures"]:
        fetches = [(str(f["path"]), str(f["name"]), f["kind"], f.get("dtype"), f.get("type"))
                   for f in s["fetches"]]
        bad = [f[2] for f in fetches if f[2] not in FETCH_KINDS]
        if bad:
            raise ValueError(f"fetch kind {bad[0]!r}, expected one of {list(FETCH_KINDS)}")
        feeds = [{"name": str(e["name"]), "shape": e["shape"]} for e in s["feeds"]]
        signatures.append((str(s["caller"]), fetches, feeds))
    groups = []  # per group: its signature, and per fetch the array and whether it is stacked
    for g, entry in enumerate(index["groups"]):
        caller, fetches, feeds = signatures[_count(entry["signature"], "signature")]
        n = _count(entry["calls"], "calls")
        stored, shapes = list(entry["arrays"]), list(entry["shapes"])
        if not n or len(stored) != len(fetches) or len(shapes) != len(fetches):
            raise ValueError(f"group {g}: {n} calls, {len(stored)} arrays and {len(shapes)} "
                             f"shapes for {len(fetches)} fetches")
        values = []
        for (fpath, _, kind, _, _), key, shape in zip(fetches, stored, shapes):
            if kind not in VALUE_KINDS:
                if key is not None:
                    raise ValueError(f"group {g}: fetch {fpath!r} of kind {kind!r} has array "
                                     f"{key!r}")
                values.append(None)
                continue
            array = _member(gold, key, listed)
            want = (n,) * (n > 1) + tuple(_count(d, "shape") for d in shape)
            if array.shape != want or (array.dtype.kind == "U") != (kind == "string"):
                raise ValueError(f"array {key!r} has shape {array.shape} and dtype "
                                 f"{array.dtype}; the index says {want} for a {kind} fetch")
            values.append((key, array, n > 1))
        groups.append((caller, fetches, feeds, values, n))
    sequence = _unruns(index["sequence"], len(groups), sum(g[-1] for g in groups))
    counts = [0] * len(groups)
    for g in sequence:
        counts[g] += 1
    for g, (*_, n) in enumerate(groups):
        if counts[g] != n:
            raise ValueError(f"group {g} holds {n} calls; the sequence names it {counts[g]} "
                             f"times")
    calls, rows = [], [0] * len(groups)
    for k, g in enumerate(sequence):
        caller, fetches, feeds, values, _ = groups[g]
        row, rows[g] = rows[g], rows[g] + 1
        out = []
        for (fpath, name, kind, dtype, type_name), value in zip(fetches, values):
            if value is None:
                out.append(Fetch(fpath, name, kind, None, dtype, type_name))
            elif value[2]:
                out.append(Fetch(fpath, name, kind, value[1][row, ...], dtype, type_name,
                                 value[0], row))
            else:
                out.append(Fetch(fpath, name, kind, value[1], dtype, type_name, value[0]))
        calls.append(Call(k, caller, out, [dict(e) for e in feeds]))
    return calls


def _count(value: Any, what: str) -> int:
    """A non-negative JSON integer (not a bool) from the index; ``ValueError`` otherwise."""
    if type(value) is not int or value < 0:
        raise ValueError(f"{what} {value!r} is not a non-negative integer")
    return value


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
      tolerances: per-array ``[rtol, atol]`` stored in the capture, keyed by
        the file's arrays (a stack's entry holds for each of its rows; see
        :attr:`Fetch.stored`) or, for a recording, by the calls' keys.
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
        tols = {}
        for f in want.fetches:
            if f.value is not None:
                stored = None if tolerance else (tolerances or {}).get(
                    f.stored or want.key(f, width))
                tols[want.key(f, width)] = tuple(
                    tolerance or (stored if stored is not None
                                  else cmp.default_tolerance(f.value.dtype)))
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
