"""Property-based fuzzing of the command line's promise on hostile input (issue 10, "Keep it
from coming back").

Two fuzzers run the CLI in-process (``tf1_lstm.cli.main``) on damaged input:

(a) **golden files**: a real golden (``single_cell``, ``constant_init`` or ``stacked``) is copied
    into a fresh directory for each example and damaged: bytes flipped, truncated, inserted or
    overwritten (at random offsets or inside the zip's and the ``.npy`` headers); a member's
    ``.npy`` header rewritten (shape, dtype, fortran_order, version, text); members removed,
    duplicated, renamed, added (non-``.npy`` names, pickles) or replaced by other arrays; the
    zip's declared member sizes inflated (with the ``.npy`` shape grown to fit them); the
    archive deflated; the metadata record mutated (keys dropped, wrong types, big strings, deep
    nesting, malformed tolerances, ``"seed": 2**70``, not JSON, not an object, not a 0-d
    string). Then ``check CASE --golden-dir DIR`` (plain, ``--json``, ``--no-oracle``),
    ``regen CASE --golden-dir DIR`` or ``compute CASE --engine numpy --weights FILE --out OUT``.
(b) **spec JSON**: the JSON form of a case (explicit weights, so the NumPy engine runs it) is
    mutated: any field or array element replaced by a value of another kind, out-of-range
    numbers (``num_units`` 0, -1, ``10**6``, ``2**70``; NaN and infinity, which Python's JSON
    reads as ``NaN`` / ``Infinity``), booleans where numbers are, unknown fields, nested garbage,
    fields deleted, or set to values of their valid domain in new combinations; or the file's
    text itself damaged. Then ``compute spec.json --engine numpy --out out.npz``.
(c) the damaged goldens of (a) also go to ``checker.replacement_report`` (what ``regen`` and
    ``run --capture`` show before replacing a file, which reads the file's stored tolerances):
    it returns a text, never raises.

The promise asserted for every example (README, "Command line"):

- exit code 1 or 2 for a golden that reads differently; 0 only if what ``check`` reads, the
  arrays and the metadata's ``case`` and ``schema_version``, decodes unchanged (then the
  pristine golden's code; 0 or 1 if the arrays moved within the default tolerances). The
  other metadata fields (seed, spec, tolerances, versions) are the file's record, which
  ``check`` does not read (the case in ``tf1_lstm.cases`` is the truth: see
  ``tests/test_checker.py``'s stale weights), so damage there alone may exit 0. A spec exits
  0 (valid, computed) or 2;
- stderr is empty or exactly one line starting ``tf1-lstm: error:`` (a golden's error is a
  normal ``ERROR`` report on stdout); a Python warning counts as stderr output (Python's
  default filters print it there); ``check`` prints its report (``--json``: JSON, without
  ``NaN`` / ``Infinity``, with the same exit code); never ``Traceback (most recent call
  last)``, never ``internal error``;
- nothing changed on disk: every file of the directory byte-identical afterwards; the only new
  file may be ``<case>.obtained.npz`` (``check``, on a mismatch) or the ``--out`` file (exit 0);
- bounded memory: the peak of Python's and NumPy's allocations during the command, measured with
  ``tracemalloc``, stays under ``MEMORY_BOUND`` (32 MiB). NumPy registers every array buffer
  with tracemalloc, so an allocation sized by what a hostile file *declares* is counted
  whether or not its pages are touched (``RLIMIT_AS`` would also count TensorFlow's large
  virtual reservations and kill it). A spec may ask for more: the bound of a spec example is
  ``MEMORY_BOUND`` plus ``BYTES_PER_ELEMENT`` per element of the variables and activations
  the spec declares, and those are refused above ``spec.MAX_ELEMENTS`` before anything is
  allocated (the spec fuzzer draws ``num_units``, ``num_proj``, ``num_outputs`` up to
  ``2**70`` and runs only the NumPy engine, which is traced). TensorFlow's own C++
  allocations are not traced: what sizes them comes from a case, or a spec under that cap;
- bounded time: every command finishes within ``TIME_LIMIT`` seconds (a SIGALRM fails it).

The end of the module holds one focused test per bug the fuzzers found.

Running: ``python -m pytest -q -p no:xdist tests/test_fuzz.py`` runs ``EXAMPLES`` (80) examples
per fuzzer in well under 20 s. ``TF1_LSTM_FUZZ_EXAMPLES=2000`` runs that many per fuzzer;
``--hypothesis-show-statistics`` shows the outcome of each example kind (``event`` labels).
The examples are the same on every run (``derandomize=True``, no example database), so CI is
reproducible; ``TF1_LSTM_FUZZ_SEED=N`` draws a different, still reproducible, series.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import signal
import struct
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from tf1_lstm import cases, checker, golden
from tf1_lstm import compare as cmp
from tf1_lstm import spec as spec_mod
from tf1_lstm.cli import main

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
EXAMPLES = int(os.environ.get("TF1_LSTM_FUZZ_EXAMPLES", "80"))
FUZZ_SEED = os.environ.get("TF1_LSTM_FUZZ_SEED")
MEMORY_BOUND = 32 << 20
BYTES_PER_ELEMENT = 64  # float64 weights, their gradients, Adam's slots, temporaries
TIME_LIMIT = 30
GOLDEN_BASES = ("single_cell", "constant_init", "stacked")
SPEC_BASES = ("single_cell", "stacked", "peepholes", "projection", "cell_clip", "ragged",
              "time_major", "state_not_tuple", "initial_state", "basic_lstm", "three_layer",
              "gru", "basic_rnn", "slim_head", "constant_init", "stacked_gradients",
              "train_sgd", "train_adam")
PROBES: Counter = Counter()  # examples run, per fuzzer (reported at the end of the module)


def fuzz_settings(test):
    test = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    derandomize=FUZZ_SEED is None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])(test)
    return seed(int(FUZZ_SEED))(test) if FUZZ_SEED is not None else test


@pytest.fixture(scope="module", autouse=True)
def _report_probes(request):
    _warm_up()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and PROBES:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(PROBES.items()))
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ntest_fuzz: examples run ({EXAMPLES} per fuzzer asked): "
                                f"{counts}")


# Running one command -----------------------------------------------------------------------

class CommandTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds):
    def expired(signum, frame):
        raise CommandTimeout(f"the command ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _warm_up():
    """Import what the commands import (TensorFlow, the engines) before memory is measured."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (Path(tmp) / "single_cell.npz").write_bytes((GOLDEN_DIR / "single_cell.npz").read_bytes())
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["check", "single_cell", "--golden-dir", tmp])
            main(["compute", "constant_init", "--engine", "numpy"])


def run_cli(capsys, argv):
    """``(exit code, stdout, stderr, peak traced bytes)`` of ``tf1-lstm ARGV``."""
    capsys.readouterr()
    tracemalloc.start()
    try:
        with _time_limit(TIME_LIMIT), warnings.catch_warnings(record=True) as caught:
            # Python's default filters, as the tf1-lstm process has them: what is caught here
            # would be printed on its stderr (pytest would otherwise collect it out of sight)
            warnings.resetwarnings()
            warnings.simplefilter("default")
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                             ResourceWarning):
                warnings.filterwarnings("ignore", category=category)
            code = main(argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    out, err = capsys.readouterr()
    err += "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
                   for w in caught)
    return code, out, err, peak


def assert_promise(code, out, err, peak, allowed, memory_bound=MEMORY_BOUND):
    """The CLI's promise for any input (see the module docstring)."""
    both = out + err
    assert "Traceback (most recent call last)" not in both, both
    assert "internal error" not in err, err
    assert code in allowed, (code, out, err)
    lines = err.splitlines()
    assert lines == [] or (len(lines) == 1 and lines[0].startswith("tf1-lstm: error: ")), err
    assert peak < memory_bound, f"peak traced memory {peak} bytes (bound {memory_bound})"
    return lines


def strict_json(text):
    """``json.loads`` that refuses ``NaN`` and ``Infinity``, which JSON does not have."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def snapshot(directory: Path):
    return {p.name: (p.read_bytes() if p.is_file() else None) for p in directory.iterdir()}


def assert_unchanged(before, after, may_appear=()):
    """Every file as it was; only names in ``may_appear`` may be new."""
    for name, data in before.items():
        assert after.get(name) == data, f"{name} changed or vanished"
    new = set(after) - set(before)
    assert new <= set(may_appear), f"new files {sorted(new)}"
    return new


# (a) golden files ----------------------------------------------------------------------------

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def parse_archive(data: bytes):
    """``[[entry name, bytes], ...]`` of a zip, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [[info.filename, zf.read(info)] for info in zf.infolist()]


def build_archive(members, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip as :func:`tf1_lstm.golden.encode` writes one (duplicates allowed)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buf, "w", compression=compression) as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.create_system = 3
                info.external_attr = 0o644 << 16
                info.compress_type = compression
                zf.writestr(info, data)
    return buf.getvalue()


def npy(array, version=None) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), version=version, allow_pickle=False)
    return buf.getvalue()


def npy_with_header(header: str, payload: bytes, version=(1, 0)) -> bytes:
    """A ``.npy`` with the header text ``header``, verbatim, padded as NumPy pads it."""
    text = header.encode("utf8" if version >= (3, 0) else "latin1", "replace")
    prefix = 8 + (2 if version == (1, 0) else 4)
    pad = -(prefix + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    size = (struct.pack("<H", len(text) % 65536) if version == (1, 0)
            else struct.pack("<I", len(text)))
    return b"\x93NUMPY" + bytes(version) + size + text + payload


def npy_payload(data: bytes) -> bytes:
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    np.lib.format._read_array_header(stream, version)
    return data[stream.tell():]


class Base:
    """A pristine golden, parsed once."""

    def __init__(self, case):
        self.case = case
        self.path = GOLDEN_DIR / f"{case}.npz"
        self.data = self.path.read_bytes()
        self.members = parse_archive(self.data)
        gold = golden.load(self.path)
        self.arrays, self.meta = gold.arrays, gold.meta
        self.codes = {}  # command -> the pristine golden's exit code


_BASES = {}


def base(case) -> Base:
    if case not in _BASES:
        _BASES[case] = Base(case)
    return _BASES[case]


SHAPE_DIMS = [-(2 ** 63), -2, -1, 0, 1, 2, 3, 4, 6, 16, 2 ** 31, 2 ** 40, 2 ** 62, 2 ** 63, 2 ** 64]
DESCRS = ["<f4", "<f8", ">f4", "<f2", "<i4", "<i8", "|u1", "|b1", "<c8", "<U3", "|S5", "|O",
          "|V4", "<M8[s]", "<m8[D]", [("a", "<f4")], [("a", "|O")], [("a", "<f4", (3,))],
          [("a", "<f4", (2 ** 40,))], [("", "<f4")], "garbage", "", 5, None, ["<f4"]]
HEADER_TEXTS = ["", "{", "{}", "[1, 2]", "{'descr': '<f4'}", "{'descr': '<f4', 'fortran_order': "
                "False, 'shape': (4,), 'extra': 1}", "__import__('os')", "{'descr': '<f4', "
                "'fortran_order': False, 'shape': (1,) * 100}", "x" * 20000]
MEMBER_NAMES = ["extra.npy", "variables/x:0.npy", "outputs.npy", "__meta__.npy", "notes.txt",
                "dir/", "../escape.npy", "/abs.npy", "a/b/c.npy", ".npy", "npy", "OUTPUTS.npy",
                "\u00e9t\u00e9.npy", "x" * 200 + ".npy"]
INTERESTING_SIZES = [1, 2 ** 16, 2 ** 20, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 32 - 1]


def _json_garbage():
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 3),
        st.sampled_from([2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 70, -(2 ** 70), 10 ** 6,
                         2 ** 1100]),
        st.sampled_from([0.0, -0.0, 0.5, -1.0, 1e-320, 3.5e38, 1e300, 1.7e308, math.nan, math.inf,
                         -math.inf]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(["", "@x", "@", "@inputs", "NaN", "Infinity", "-1", "1e999", "true",
                         "null", "zeros", "LSTMCell", "GRUCell", "BasicRNNCell", "dynamic_rnn",
                         "call", "static_rnn", "float16", "float64", "placeholder", "constant",
                         "sgd", "adam", "dense", "tanh", "../x", "a/b", "\x00", "\u202e", " ",
                         "single_cell", "x" * 100_000]),
        st.sampled_from([[-1, "x"], [1, 2, 3], [math.nan, 0], [-1e-9, 0], [], {}, [[]], [None],
                         {"": None}, [True, False]]),
        st.integers(1, 200).map(lambda n: _nested(n)),
    )
    return st.recursive(leaves, lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(st.text(max_size=4), kids, max_size=3), max_leaves=6)


def _nested(depth):
    value = [1.0]
    for _ in range(depth):
        value = [value]
    return value


JSON_GARBAGE = _json_garbage().map(copy.deepcopy)  # never the sampled lists themselves


def _paths(value, prefix=(), depth=0):
    """Paths (tuples of keys / indices) into a JSON value, a sample of array elements only."""
    out = [prefix]
    if depth >= 6:
        return out
    if isinstance(value, dict):
        for key in value:
            out += _paths(value[key], prefix + (key,), depth + 1)
    elif isinstance(value, list) and value:
        for k in sorted({0, len(value) - 1}):
            out += _paths(value[k], prefix + (k,), depth + 1)
    return out


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _retyped(draw, value):
    """``value`` as another JSON kind that looks alike (1 -> 1.0, "1", true, [1])."""
    options = [[value], {"value": value}, None, str(value), json.dumps(value)[:50]]
    if isinstance(value, bool):
        options += [int(value), float(value), str(value).lower()]
    elif isinstance(value, (int, float)):
        options += [bool(value), -value, value * 10 ** 6]
        if abs(value) < 1e300:
            options.append(float(value))
        if isinstance(value, float) and math.isfinite(value) and value == int(value):
            options.append(int(value))
    elif isinstance(value, list):
        options += [dict(enumerate(value)), value[:-1], value + value[-1:], value * 2]
    elif isinstance(value, dict):
        options += [list(value.values()), list(value)]
    return copy.deepcopy(draw(st.sampled_from(options)))


def mutate_json(draw, doc, fields_by_level=None):
    """One JSON mutation of ``doc`` (in place where possible); returns (doc, label)."""
    ops = ["set", "set", "retype", "delete", "add_unknown"] + (["add_known"] * 2
                                                              if fields_by_level else [])
    op = draw(st.sampled_from(ops))
    if op in ("set", "retype"):
        path = draw(st.sampled_from(_paths(doc)))
        new = draw(JSON_GARBAGE) if op == "set" else _retyped(draw, _get(doc, path))
        return _set(doc, path, new), f"{op} {'.'.join(map(str, path[:2])) or '<doc>'}"
    if op == "delete":
        paths = [p for p in _paths(doc) if p and isinstance(_get(doc, p[:-1]), (dict, list))]
        if not paths:
            return doc, "delete nothing"
        path = draw(st.sampled_from(paths))
        del _get(doc, path[:-1])[path[-1]]
        return doc, f"delete {path[0]}"
    if op == "add_unknown":
        containers = [p for p in _paths(doc) if isinstance(_get(doc, p), dict)]
        if not containers:
            return doc, "add nothing"
        where = _get(doc, draw(st.sampled_from(containers)))
        where[draw(st.text(max_size=6))] = draw(JSON_GARBAGE)
        return doc, "add unknown field"
    level = draw(st.sampled_from(sorted(fields_by_level)))
    field_name = draw(st.sampled_from(sorted(fields_by_level[level])))
    if not isinstance(doc, dict):
        return doc, "add_known on a non-object"
    if level == "case":
        target = doc
    elif level == "cells":
        cells = doc.get("cells")
        if not isinstance(cells, list) or not cells or not isinstance(cells[0], dict):
            return doc, "add_known without cells"
        target = cells[draw(st.integers(0, len(cells) - 1))]
    else:
        if not isinstance(doc.get(level), dict):
            doc[level] = {}
        target = doc[level]
    special = st.sampled_from([0, -1, 1, 10 ** 6, 2 ** 31, 2 ** 70, 2 ** 1100, math.nan,
                               math.inf, -math.inf, 1e308, True, False, "1", None])
    target[field_name] = draw(st.one_of(special, JSON_GARBAGE))
    return doc, f"set {level}.{field_name}"


def _meta_fields():
    return {"case": {"schema_version", "case", "seed", "spec", "tolerances", "command",
                     "versions", "platform", "onednn", "obtained", "engine"},
            "spec": spec_mod._CASE_FIELDS}


@st.composite
def golden_mutations(draw):
    """``(case, mutated bytes, labels)``."""
    case = draw(st.sampled_from(GOLDEN_BASES))
    b = base(case)
    members = [list(m) for m in b.members]
    compression = zipfile.ZIP_STORED
    labels = []
    post = []  # operations on the built bytes
    n_model = draw(st.integers(0, 2))
    n_bytes = draw(st.integers(0 if n_model else 1, 2))
    for _ in range(n_model):
        op = draw(st.sampled_from(["header", "header", "remove", "duplicate", "rename", "add",
                                   "replace_array", "retype_array", "meta", "meta", "meta",
                                   "meta_raw", "meta_array", "deflate", "sizes"]))
        labels.append(op)
        if not members and op not in ("add", "deflate", "sizes"):
            continue
        k = draw(st.integers(0, max(len(members) - 1, 0)))
        if op == "header":
            name, data = members[k]
            try:
                payload = npy_payload(data)
            except Exception:  # noqa: BLE001  (already damaged by an earlier op)
                payload = data[64:]
            if draw(st.integers(0, 4)) == 0:
                header = draw(st.one_of(st.sampled_from(HEADER_TEXTS), st.text(max_size=40)))
            else:
                shape = draw(st.one_of(
                    st.lists(st.sampled_from(SHAPE_DIMS), max_size=4).map(tuple),
                    st.sampled_from([[1, 4], 4, None, "(1, 4)", (1.5,), (True,), (-0.0,)])))
                descr = draw(st.sampled_from(DESCRS))
                fortran = draw(st.sampled_from([False, True, 0, 1, "yes", None]))
                header = repr({"descr": descr, "fortran_order": fortran, "shape": shape})
                how = draw(st.sampled_from(["keep", "fit", "fit", "truncate", "extend"]))
                if how == "fit":
                    size = -1
                    if isinstance(shape, tuple) and all(type(d) is int for d in shape):
                        try:
                            size = int(np.dtype(descr).itemsize) * math.prod(shape)
                        except Exception:  # noqa: BLE001  (not a dtype NumPy builds)
                            pass
                    if 0 <= size <= 4096:
                        payload = draw(st.binary(min_size=size, max_size=size))
                elif how == "truncate":
                    payload = payload[:draw(st.integers(0, max(len(payload) - 1, 0)))]
                elif how == "extend":
                    payload = payload + draw(st.binary(min_size=1, max_size=64))
            version = draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (1, 0)]))
            members[k][1] = npy_with_header(header, payload, version)
        elif op == "remove":
            del members[k]
        elif op == "duplicate":
            copy = list(members[k])
            if draw(st.booleans()):
                copy[1] = members[draw(st.integers(0, len(members) - 1))][1]
            members.append(copy)
        elif op == "rename":
            old = members[k][0]
            members[k][0] = draw(st.sampled_from(MEMBER_NAMES + [old[:-4], old + ".npy",
                                                                 "../" + old, old.upper()]))
        elif op == "add":
            name = draw(st.sampled_from(MEMBER_NAMES))
            kind = draw(st.sampled_from(["array", "raw", "pickle"]))
            if kind == "array":
                data = npy(draw(st.sampled_from([np.zeros((1, 4), np.float32), np.arange(3),
                                                 np.array(True), np.array("x"),
                                                 np.zeros((0, 2), np.float64)])))
            elif kind == "raw":
                data = draw(st.binary(max_size=64))
            else:
                buf = io.BytesIO()
                np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
                data = buf.getvalue()
            members.append([name, data])
        elif op in ("replace_array", "retype_array"):
            arrays = [i for i, (n, _) in enumerate(members) if n != "__meta__.npy"]
            if not arrays:
                continue
            k = draw(st.sampled_from(arrays))
            try:
                array = np.load(io.BytesIO(members[k][1]), allow_pickle=False)
            except Exception:  # noqa: BLE001
                continue
            if op == "replace_array":
                how = draw(st.sampled_from(["value", "nan", "inf", "big", "nudge", "fortran"]))
                array = np.array(array)
                if array.size and array.dtype.kind == "f":
                    i = draw(st.integers(0, array.size - 1))
                    flat = array.reshape(-1)
                    flat[i] = {"value": draw(st.floats(-10, 10, width=32)), "nan": np.nan,
                               "inf": -np.inf, "big": 3e38, "nudge": flat[i] + 1e-3,
                               "fortran": flat[i]}[how]
                if how == "fortran":
                    array = np.asfortranarray(array)
                labels[-1] += f":{how}"
            else:
                target = draw(st.sampled_from(["<f8", "<f2", ">f4", "<i4", "|b1", "<c8", "<U3",
                                               "reshape", "transpose", "0d", "empty"]))
                labels[-1] += f":{target}"
                if target == "reshape":
                    array = array.reshape(-1)
                elif target == "transpose":
                    array = array.T
                elif target == "0d":
                    array = np.array(array.reshape(-1)[:1].sum() if array.size else 0)
                elif target == "empty":
                    array = array[:0]
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            array = array.astype(target)
                        except (TypeError, ValueError):  # the metadata's text, renamed
                            continue
            members[k][1] = npy(array)
        elif op in ("meta", "meta_raw", "meta_array"):
            metas = [i for i, (n, _) in enumerate(members) if n == "__meta__.npy"]
            if not metas:
                continue
            k = metas[0]
            if op == "meta":
                meta = json.loads(json.dumps(b.meta))
                for _ in range(draw(st.integers(1, 3))):
                    meta, label = mutate_json(draw, meta, _meta_fields())
                    labels.append("meta " + label)
                text = json.dumps(meta, sort_keys=isinstance(meta, dict) and all(
                    isinstance(x, str) for x in meta), indent=1)
                members[k][1] = npy(np.array(text))
            elif op == "meta_raw":
                text = draw(st.one_of(
                    st.sampled_from(["", "{", "null", "[]", "1", '"x"', "NaN", "{\"case\": ",
                                     "[" * 100_000 + "]" * 100_000,
                                     "{\"a\":" * 50_000 + "1" + "}" * 50_000,
                                     json.dumps({"schema_version": 1, "case": case}),
                                     json.dumps({"schema_version": True, "case": case}),
                                     json.dumps({"schema_version": 1.0, "case": case}),
                                     json.dumps(b.meta)[:-1]]),
                    st.text(max_size=30)))
                members[k][1] = npy(np.array(text))
            else:
                text = json.dumps(b.meta)
                members[k][1] = npy(draw(st.sampled_from([
                    np.array([text]), np.array(text.encode()), np.array(1.0), np.array([]),
                    np.array([text, text]), np.array(text, dtype="<U100000"),
                    np.zeros((2, 2), np.float32)])))
        elif op == "deflate":
            compression = zipfile.ZIP_DEFLATED
        elif op == "sizes":
            post.append(("sizes", k, draw(st.sampled_from(INTERESTING_SIZES)),
                         draw(st.sampled_from(["central", "local", "both"])),
                         draw(st.booleans())))
    for _ in range(n_bytes):
        post.append((draw(st.sampled_from(["flip", "flip", "truncate", "insert", "overwrite"])),
                     draw))
    data = build_archive(members, compression)
    for item in post:
        data, label = _post(item, data, members)
        labels.append(label)
    return case, data, labels


def _structure_offsets(data: bytes):
    """Offsets of the zip's headers and the ``.npy`` headers inside its members."""
    out = []
    start = 0
    for sig, size in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46), (b"PK\x05\x06", 22)):
        start = 0
        while True:
            i = data.find(sig, start)
            if i < 0:
                break
            out += range(i, min(i + size + (128 if sig == b"PK\x03\x04" else 0), len(data)))
            start = i + 1
    return sorted(set(out)) or [0]


def _zip_records(data: bytes):
    """``[(central directory offset, local header offset)]`` per entry, by parsing the zip."""
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        return []
    count, _, offset = struct.unpack("<HII", data[end + 10:end + 20])
    records = []
    for _ in range(count):
        if data[offset:offset + 4] != b"PK\x01\x02":
            break
        n, m, c = struct.unpack("<HHH", data[offset + 28:offset + 34])
        local = struct.unpack("<I", data[offset + 42:offset + 46])[0]
        records.append((offset, local))
        offset += 46 + n + m + c
    return records


def _post(item, data: bytes, members):
    kind = item[0]
    if kind == "sizes":
        _, k, size, where, grow = item
        records = _zip_records(data)
        if not records:
            return data, "sizes: no records"
        central, local = records[k % len(records)]
        data = bytearray(data)
        if grow and data[local:local + 4] == b"PK\x03\x04":
            # grow the member's .npy shape to fill the declared size (the amplification attack)
            n, m = struct.unpack("<HH", bytes(data[local + 26:local + 30]))
            body = local + 30 + n + m
            if bytes(data[body:body + 6]) == b"\x93NUMPY":
                hlen = struct.unpack("<H", bytes(data[body + 8:body + 10]))[0]
                count = max((size - 10 - hlen) // 8, 0)
                header = repr({"descr": "<f8", "fortran_order": False, "shape": (count,)})
                new = npy_with_header(header, b"")[10:]
                if len(new) == hlen:
                    data[body + 10:body + 10 + hlen] = new
        for offset, at in (("central", central + 20), ("local", local + 18)):
            if where in (offset, "both"):
                data[at:at + 8] = struct.pack("<II", size, size)
        return bytes(data), f"sizes {size} {where}{' grown' if grow else ''}"
    draw = item[1]
    offsets = st.one_of(st.integers(0, max(len(data) - 1, 0)),
                        st.sampled_from(_structure_offsets(data)))
    if not data:
        return data, f"{kind} on nothing"
    at = min(draw(offsets), len(data) - 1)
    if kind == "flip":
        data = bytearray(data)
        data[at] ^= 1 << draw(st.integers(0, 7))
        return bytes(data), "flip"
    if kind == "truncate":
        return data[:at], "truncate"
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=32)) + data[at:], "insert"
    chunk = draw(st.binary(min_size=1, max_size=32))
    return data[:at] + chunk + data[at + len(chunk):], "overwrite"


def _reads_as(path: Path, b: Base):
    """How a mutated golden reads to ``check``: "same" (arrays bit-identical, same case and
    schema version), "close" (within the default tolerances), or None (it reads differently, or
    the project's reader refuses it)."""
    try:
        gold = golden.load(path)
    except golden.GoldenError:
        return None
    version = gold.meta.get("schema_version")
    if gold.meta.get("case") != b.case or set(gold.arrays) != set(b.arrays) or \
            type(version) is not int or version != golden.SCHEMA_VERSION:
        return None
    same = all(gold.arrays[k].dtype == v.dtype and gold.arrays[k].shape == v.shape
               and gold.arrays[k].tobytes() == v.tobytes() for k, v in b.arrays.items())
    if same:
        return "same"
    return "close" if cmp.compare(gold.arrays, b.arrays, label="").ok else None


def _command(draw_choice, case, directory: Path):
    if draw_choice == "compute --weights":
        return ["compute", case, "--engine", "numpy", "--weights",
                str(directory / f"{case}.npz"), "--out", str(directory / "out.npz")]
    words = draw_choice.split()
    return words[:1] + [case, "--golden-dir", str(directory)] + words[1:]


COMMANDS = ["check", "check", "check --json", "check --no-oracle", "regen", "compute --weights"]


def _pristine_code(capsys, b: Base, choice):
    if choice not in b.codes:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            (directory / f"{b.case}.npz").write_bytes(b.data)
            b.codes[choice] = run_cli(capsys, _command(choice, b.case, directory))[0]
    return b.codes[choice]


def test_golden_archives_rebuild_byte_identical():
    """The fuzzer's zip writer is the golden writer: unmutated, it gives the golden's bytes."""
    for case in GOLDEN_BASES:
        b = base(case)
        assert build_archive(b.members) == b.data


@fuzz_settings
@given(mutation=golden_mutations(), choice=st.sampled_from(COMMANDS))
def test_damaged_goldens_keep_the_promise(capsys, mutation, choice):
    case, data, labels = mutation
    b = base(case)
    if data == b.data:
        event("no-op mutation (skipped)")
        return
    PROBES["golden"] += 1
    for label in labels:
        event(f"golden op: {label.split(':')[0].split(' ')[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / f"{case}.npz"
        path.write_bytes(data)
        before = snapshot(directory)
        argv = _command(choice, case, directory)
        code, out, err, peak = run_cli(capsys, argv)
        event(f"golden {choice}: exit {code}")
        if choice == "compute --weights":
            # weights files may legitimately hold other values: valid ones compute
            lines = assert_promise(code, out, err, peak, {0, 2})
            new = assert_unchanged(before, snapshot(directory), {"out.npz"} if code == 0 else ())
            assert (code == 0) == bool(new)
            if code == 0:
                assert golden.load(directory / "out.npz").meta["engine"] == "numpy"
            else:
                assert lines and out == ""
            return
        reads = _reads_as(path, b)
        if choice == "regen":
            allowed = {1, 2}  # the bytes differ: "differs" (1), never replaced without --force
        elif reads == "same":
            allowed = {_pristine_code(capsys, b, choice)}
        elif reads == "close":
            allowed = {0, 1}
        else:
            allowed = {1, 2}
        lines = assert_promise(code, out, err, peak, allowed)
        may = {f"{case}.obtained.npz"} if choice.startswith("check") else ()
        new = assert_unchanged(before, snapshot(directory), may)
        if new:
            assert code == 1, "an obtained file without a mismatch"
            assert golden.load(directory / f"{case}.obtained.npz").meta["obtained"] is True
        if choice.startswith("check") and not lines:
            if "--json" in choice:
                assert strict_json(out)["exit_code"] == code
            else:
                assert out.rstrip().splitlines()[-1].startswith("1 cases: "), out
                if code == 2:
                    assert f"{case} ({path}): ERROR" in out, out
        if choice == "regen":
            assert out.startswith(f"{case}: differs ({path})") or lines, out


@fuzz_settings
@given(mutation=golden_mutations())
def test_replacement_report_never_raises_on_damaged_files(mutation):
    """What ``regen`` and ``run --capture`` show before replacing a file: a text, whatever the
    existing file holds (its stored tolerances are read: ``[-1, "x"]``, a 3-list, ``2**1100``)."""
    case, data, labels = mutation
    b = base(case)
    PROBES["replacement_report"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{case}.npz"
        path.write_bytes(data)
        tracemalloc.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a warning would be printed by the CLI
                text = checker.replacement_report(path, b.arrays, b.meta, label="new vs existing")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert isinstance(text, str) and peak < MEMORY_BOUND
        assert path.read_bytes() == data


# (b) spec JSON ------------------------------------------------------------------------------

_SPEC_BASES = {}


def spec_base(name):
    """The JSON form of case ``name``, with explicit weights (the NumPy engine needs them)."""
    if name not in _SPEC_BASES:
        spec = cases.get(name)
        if spec.weights is None:
            spec = cases.with_random_weights(spec, seed=7)
        _SPEC_BASES[name] = json.dumps(spec_mod.to_dict(spec))
    return json.loads(_SPEC_BASES[name])


SPEC_FIELDS = {"case": spec_mod._CASE_FIELDS, "cells": spec_mod._CELL_FIELDS,
               "head": spec_mod._HEAD_FIELDS, "train": spec_mod._TRAIN_FIELDS}


# Values each field takes in valid specs (and a few just outside): a "tweak" sets one, so
# that mutated specs also reach the engines in combinations no case has.
_TARGETS = [[0.5, -0.5, 1.0]] * 3
TWEAKS = {
    "case": {
        "driver": ["call", "dynamic_rnn", "static_rnn", "Dynamic_rnn"],
        "feed": ["constant", "placeholder"], "dtype": ["float32", "float64", "float16"],
        "multi_rnn": [True, False], "multi_state_is_tuple": [True, False],
        "time_major": [True, False], "gradients": [True, False], "jacobian": [True, False],
        "allow_nonfinite": [True, False], "initial_state": ["zeros", None],
        "seed": [0, 1, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, -1, 2 ** 70],
        "scope": [None, "a", "LSTM_sample1", "x/y", "_bad"], "rnn_scope": [None, "encoder"],
        "sequence_length": [None, [1], [0, 1], [4, 2, 0], [2, 2, 2], [-1, 0, 0]],
        "placeholder_shape": [None, [None, None, 3], [None, 6], [3, 4, 3], [None, 4, None]],
        "tolerances": [{}, {"outputs": [0.1, 0.1]}, {"outputs": [0.0, 0.0]}],
        "weights": [0.5, None, 0.0, -0.25, 1e300, 2 ** 1100], "name": ["x", "single_cell", "a-b_c"],
        "head": [None, {"num_outputs": 2}, {"num_outputs": 3, "scope": "dense", "layer": "dense"}],
        "train": [None, {"optimizer": "sgd", "steps": 2, "targets": _TARGETS},
                  {"optimizer": "adam", "learning_rate": 0.01, "steps": 1, "targets": _TARGETS}],
    },
    "cells": {
        "kind": list(spec_mod.CELL_KINDS), "num_units": [1, 2, 3, 5, 0, -1, 10 ** 6, 2 ** 70],
        "use_peepholes": [True, False], "cell_clip": [None, 0.0, 0.5, 3.0],
        "num_proj": [None, 1, 2, 3, 0, 10 ** 6], "proj_clip": [None, 0.0, 0.1],
        "forget_bias": [0.0, 1.0, 0.5, -1.0, math.nan, math.inf, 1e300],
        "state_is_tuple": [True, False],
        "activation": list(spec_mod.ACTIVATIONS) + [None], "name": [None, "cell", "my_cell"],
    },
    "head": {"num_outputs": [1, 2, 3, 0, 10 ** 6], "scope": ["logits", "dense"],
             "layer": ["fully_connected", "dense"]},
    "train": {"optimizer": ["sgd", "adam"], "learning_rate": [0.1, 1e-3, math.inf],
              "steps": [1, 2, 3, 0, 10 ** 9, 2 ** 70],
              "targets": [_TARGETS, [[0.0] * 3] * 2]},
}


def tweak(draw, doc):
    """Set one field to a value from its valid domain (weights to a constant first, sometimes,
    so that a structural change stays computable)."""
    if not isinstance(doc, dict):
        return doc, "tweak a non-object"
    if draw(st.booleans()):
        doc["weights"] = 0.5
        doc.pop("head", None) if draw(st.booleans()) else None
    level = draw(st.sampled_from(sorted(TWEAKS)))
    field_name = draw(st.sampled_from(sorted(TWEAKS[level])))
    value = draw(st.sampled_from(TWEAKS[level][field_name]))
    if level == "case":
        target = doc
    elif level == "cells":
        cells = doc.get("cells")
        if not isinstance(cells, list) or not cells or not isinstance(cells[0], dict):
            return doc, "tweak without cells"
        if draw(st.integers(0, 3)) == 0:  # one more layer
            cells.append(dict(cells[-1]))
            doc["multi_rnn"] = True
        target = cells[draw(st.integers(0, len(cells) - 1))]
    else:
        if not isinstance(doc.get(level), dict):
            doc[level] = {"num_outputs": 3} if level == "head" else {}
        target = doc[level]
    target[field_name] = json.loads(json.dumps(value))
    return doc, f"tweak {level}.{field_name}"


def spec_memory_bound(path: Path) -> int:
    """What computing the spec at ``path`` may allocate: ``MEMORY_BOUND``, plus
    ``BYTES_PER_ELEMENT`` for each element of the variables and activations it declares (which
    ``spec.MAX_ELEMENTS`` caps); a spec that does not read declares nothing."""
    from tf1_lstm import naming

    try:
        spec = spec_mod.load_file(path)
    except spec_mod.SpecError:
        return MEMORY_BOUND
    weights = sum(math.prod(info.shape) for info in naming.layout(spec).values())
    steps = spec.batch_size * (spec.max_time or 1)
    activations = steps * sum(4 * cell.num_units + cell.output_size for cell in spec.cells)
    return MEMORY_BOUND + BYTES_PER_ELEMENT * (weights + activations)


@st.composite
def spec_mutations(draw):
    """``(base name, file bytes, labels)``."""
    name = draw(st.sampled_from(SPEC_BASES))
    doc = spec_base(name)
    labels = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 4)) < 2:
            doc, label = tweak(draw, doc)
        else:
            doc, label = mutate_json(draw, doc, SPEC_FIELDS)
        labels.append(label)
    try:
        text = json.dumps(doc)
    except (ValueError, TypeError, RecursionError):
        text = "{}"
    data = text.encode()
    if draw(st.sampled_from([False] * 9 + [True])):
        how = draw(st.sampled_from(["truncate", "insert", "bom", "latin1", "deep", "empty",
                                    "nul"]))
        labels.append(f"text {how}")
        if how == "truncate":
            data = data[:draw(st.integers(0, max(len(data) - 1, 0)))]
        elif how == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif how == "bom":
            data = b"\xef\xbb\xbf" + data
        elif how == "latin1":
            data = data.replace(b"}", b"\xe9}", 1)
        elif how == "deep":
            data = b"[" * 100_000 + b"]" * 100_000
        elif how == "empty":
            data = b""
        else:
            data = data[:1] + b"\x00" + data[1:]
    return name, data, labels


@pytest.mark.parametrize("name", SPEC_BASES)
def test_every_spec_base_computes(capsys, tmp_path, name):
    """The spec fuzzer's starting points are valid: each computes (exit 0)."""
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec_base(name)))
    code, out, err, peak = run_cli(capsys, ["compute", str(path), "--engine", "numpy",
                                            "--out", str(tmp_path / "out.npz")])
    assert (code, err) == (0, ""), err
    assert peak < MEMORY_BOUND


@fuzz_settings
@given(mutation=spec_mutations())
def test_mutated_specs_compute_or_are_refused_in_one_line(capsys, mutation):
    name, data, labels = mutation
    PROBES["spec"] += 1
    for label in labels:
        event(f"spec op: {label.split(' ')[0]}")
        if label.startswith("tweak"):
            event(f"spec {label}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "spec.json"
        path.write_bytes(data)
        out_path = directory / "out.npz"
        before = snapshot(directory)
        start = time.monotonic()
        code, out, err, peak = run_cli(capsys, ["compute", str(path), "--engine", "numpy",
                                                "--out", str(out_path)])
        elapsed = time.monotonic() - start
        event(f"spec: exit {code}")
        lines = assert_promise(code, out, err, peak, {0, 2}, spec_memory_bound(path))
        new = assert_unchanged(before, snapshot(directory), {"out.npz"} if code == 0 else ())
        if code == 0:
            assert new == {"out.npz"} and err == ""
            result = golden.load(out_path)
            assert out == (f"{result.meta['case']}: {len(result.arrays)} arrays from engine "
                           f"'numpy' written to {out_path}\n"), out
            # what compute records is a spec that reads back to itself
            again = spec_mod.to_dict(spec_mod.from_dict(result.meta["spec"]))
            assert json.loads(json.dumps(again)) == result.meta["spec"]
        else:
            assert not new and out == "" and len(lines) == 1
            assert str(path) in lines[0] or "case " in lines[0], lines[0]
        assert elapsed < TIME_LIMIT


# Regressions: what the fuzzers found, one focused test each ---------------------------------

def _golden_dir_with(tmp_path, data, case="single_cell"):
    directory = tmp_path / "g"
    directory.mkdir()
    (directory / f"{case}.npz").write_bytes(data)
    return directory


def _patched(data: bytes, member: str, *, central=None, local=None) -> bytes:
    """``data`` with bytes of ``member``'s central directory / local header replaced:
    ``{offset in the record: bytes}``."""
    data = bytearray(data)
    names = [name for name, _ in parse_archive(bytes(data))]
    cd, lh = _zip_records(bytes(data))[names.index(member)]
    for base_offset, changes in ((cd, central or {}), (lh, local or {})):
        for at, value in changes.items():
            data[base_offset + at:base_offset + at + len(value)] = value
    return bytes(data)


def _check_error(capsys, directory, case="single_cell"):
    """``check`` on a damaged golden: exit 2, the case's ERROR report, nothing on stderr."""
    code, out, err, peak = run_cli(capsys, ["check", case, "--golden-dir", str(directory)])
    assert_promise(code, out, err, peak, {2})
    assert err == "" and f"{case} ({directory / (case + '.npz')}): ERROR" in out, out
    return out


def _stored():
    return base("single_cell").members


def test_a_corrupt_deflate_stream_is_a_golden_error(capsys, tmp_path):
    """zlib.error (not an OSError) escaped the reader: an internal error."""
    data = build_archive(_stored(), zipfile.ZIP_DEFLATED)
    names = [name for name, _ in _stored()]
    _, local = _zip_records(data)[names.index("outputs.npy")]
    n, m = struct.unpack("<HH", data[local + 26:local + 30])
    body = local + 30 + n + m
    data = data[:body] + b"\xff" + data[body + 1:]  # deflate block type 3: invalid
    out = _check_error(capsys, _golden_dir_with(tmp_path, data))
    assert "'outputs.npy' is not a readable .npy array (error: Error -3 while decompressing" in out


@pytest.mark.parametrize("patch, message", [
    ({"central": {10: struct.pack("<H", 99)}, "local": {8: struct.pack("<H", 99)}},
     "member 'outputs.npy' uses compression method 99; an .npz is stored or deflated"),
    ({"central": {8: struct.pack("<H", 1)}}, "member 'outputs.npy' is encrypted"),
    ({"central": {6: struct.pack("<H", 64)}},
     "not a readable .npz file (NotImplementedError: zip file version 6.4)"),
], ids=["method", "encrypted", "version"])
def test_zip_features_numpy_cannot_read_are_golden_errors(capsys, tmp_path, patch, message):
    """zipfile's NotImplementedError / RuntimeError escaped the reader."""
    data = _patched(build_archive(_stored()), "outputs.npy", **patch)
    out = _check_error(capsys, _golden_dir_with(tmp_path, data))
    assert message in out, out


@pytest.mark.parametrize("header, message", [
    ("{'descr': '<f4', 'fortran_order': False, 'sha\x00\x00'",
     "member 'outputs.npy' is not a readable .npy array (TokenError"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (-9223372036854775808, "
     "9223372036854775808), }", "member 'outputs.npy' declares shape (-9223372036854775808, "
     "9223372036854775808), a dimension no readable array has"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 0), }",
     "member 'outputs.npy' declares shape (4611686018427387904, 0), a dimension no readable "
     "array has"),
    ("{'descr': '<f4', 'fortran_order': True, 'shape': (True,), }",
     "member 'outputs.npy' declares shape (True,), a dimension no readable array has"),
], ids=["nul", "negative", "huge-empty", "boolean"])
def test_hostile_npy_headers_are_one_error_without_warnings(capsys, tmp_path, header, message):
    """A NUL in a header raised tokenize.TokenError; a negative dimension passed the size check
    (the product was negative) and NumPy printed a RuntimeWarning before failing; a boolean
    dimension of a Fortran-order array raised TypeError in NumPy's reshape."""
    members = [[n, npy_with_header(header, d[-16:]) if n == "outputs.npy" else d]
               for n, d in _stored()]
    out = _check_error(capsys, _golden_dir_with(tmp_path, build_archive(members)))
    assert message in out, out


def test_declared_sizes_beyond_the_file_are_refused_before_numpy_allocates(tmp_path):
    """A 7 KB golden declaring a 1 GiB member (zip directory and .npy shape agreeing) made
    np.load allocate 1 GiB before finding the data missing."""
    names = [name for name, _ in _stored()]
    data, _ = _post(("sizes", names.index("outputs.npy"), 2 ** 30 - 1, "both", True),
                    build_archive(_stored()), _stored())
    path = tmp_path / "single_cell.npz"
    path.write_bytes(data)
    assert len(data) < 8192
    tracemalloc.start()
    try:
        with pytest.raises(golden.GoldenError, match=r"member 'outputs.npy' declares 1073741823 "
                                                     r"bytes from 1073741823 stored, which the "
                                                     r"\d+-byte file cannot hold"):
            golden.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_a_deflated_member_may_not_declare_more_than_deflate_expands(tmp_path):
    data = build_archive(_stored(), zipfile.ZIP_DEFLATED)
    data = _patched(data, "outputs.npy", central={24: struct.pack("<I", 10 ** 7)})
    path = tmp_path / "single_cell.npz"
    path.write_bytes(data)
    with pytest.raises(golden.GoldenError, match=r"'outputs.npy' declares 10000000 bytes from "
                                                 r"\d+ stored"):
        golden.load(path)
    # np.savez_compressed's own files, however well they compress, still read
    np.savez_compressed(path, outputs=np.zeros(1 << 20, np.uint8), __meta__=np.array("{}"))
    assert golden.read_arrays(path)["outputs"].shape == (1 << 20,)


def test_a_member_stored_twice_is_refused(tmp_path):
    """Two members of one name: NumPy reads the last, other zip readers the first."""
    members = _stored() + [["outputs.npy", npy(np.zeros((1, 4), np.float32))]]
    path = tmp_path / "single_cell.npz"
    path.write_bytes(build_archive(members))
    with pytest.raises(golden.GoldenError, match="member 'outputs.npy' appears twice"):
        golden.load(path)


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_a_schema_version_of_another_type_is_refused(tmp_path, version):
    """JSON true and 1.0 compare equal to 1 in Python: they passed as schema version 1."""
    gold = golden.load(GOLDEN_DIR / "single_cell.npz")
    path = tmp_path / "single_cell.npz"
    golden.save(path, gold.arrays, {**gold.meta, "schema_version": version})
    with pytest.raises(golden.GoldenError, match=r"schema version .*, this tf1_lstm reads "
                                                 r"version 1"):
        golden.load(path)


@pytest.mark.parametrize("stored", [{"outputs": [-1, "x"]}, {"outputs": [1e-5, 1e-6, 0]},
                                    {"outputs": 5}, {"outputs": [2 ** 1100, 0]}, [1, 2],
                                    {"outputs": [math.nan, 0]}])
def test_replacement_report_reads_damaged_stored_tolerances(tmp_path, stored):
    """``run --capture`` of an existing capture read its tolerances unchecked (TypeError,
    ValueError, OverflowError): an internal error instead of the comparison."""
    gold = golden.load(GOLDEN_DIR / "single_cell.npz")
    path = tmp_path / "single_cell.npz"
    golden.save(path, gold.arrays, {**gold.meta, "tolerances": stored})
    arrays = dict(gold.arrays, outputs=gold.arrays["outputs"] + np.float32(1e-3))
    text = checker.replacement_report(path, arrays, gold.meta, label="new vs existing")
    assert "new vs existing: FAILED" in text and "array 'outputs' (rtol=1e-05, atol=1e-06)" in text


def test_check_json_is_json_when_a_golden_holds_infinity(capsys, tmp_path):
    """``--json`` wrote ``Infinity`` (max_abs of a non-finite mismatch), which JSON lacks."""
    gold = golden.load(GOLDEN_DIR / "single_cell.npz")
    directory = tmp_path / "g"
    gold.arrays["outputs"][0, 0] = np.inf
    golden.save(directory / "single_cell.npz", gold.arrays, gold.meta)
    code, out, err, peak = run_cli(capsys, ["check", "single_cell", "--json", "--golden-dir",
                                            str(directory)])
    assert code == 1 and err == ""
    report = strict_json(out)
    [outputs] = [a for a in report["cases"][0]["math"]["arrays"] if a["name"] == "outputs"]
    assert outputs["max_abs"] == "inf" and outputs["expected_nonfinite"] == 1


def _spec_file(tmp_path, name="single_cell", **changes):
    data = spec_base(name)
    if name == "single_cell":
        data["weights"] = 0.5
    data.update(changes)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    return path


def _compute_error(capsys, path):
    out_path = path.parent / "out.npz"
    start = time.monotonic()
    code, out, err, peak = run_cli(capsys, ["compute", str(path), "--engine", "numpy",
                                            "--out", str(out_path)])
    [line] = assert_promise(code, out, err, peak, {2})
    assert out == "" and not out_path.exists() and time.monotonic() - start < 1.0
    assert line.startswith(f"tf1-lstm: error: {path}: "), line
    return line


@pytest.mark.parametrize("cells, message", [
    ([{"kind": "LSTMCell", "num_units": 10 ** 6}],
     "cells[0].num_units: 1000000 gives cells[0] 4000028000000 weight elements, more than the "
     "268435456 a spec may ask for"),
    ([{"kind": "LSTMCell", "num_units": 2 ** 70}], "cells[0].num_units: 1180591620717411303424"),
    ([{"kind": "GRUCell", "num_units": 2 ** 15}], "cells[0].num_units: 32768 gives cells[0]"),
], ids=["1e6", "2**70", "gru"])
def test_huge_declared_sizes_are_refused_before_allocating(capsys, tmp_path, cells, message):
    """num_units 10**6 with constant weights: a MemoryError for 14.6 TiB (an internal error),
    or with 10**4 units a real 1.6 GB allocation."""
    line = _compute_error(capsys, _spec_file(tmp_path, cells=cells, initial_state=None))
    assert message in line, line


def test_a_huge_projection_or_head_names_its_field():
    data = spec_mod.to_dict(cases.get("stacked"))
    data["cells"][0]["num_proj"] = 10 ** 8
    with pytest.raises(spec_mod.SpecError,
                       match=r"cells\[0\].num_proj: 100000000 gives cells\[1\]"):
        spec_mod.from_dict(data)
    data = spec_mod.to_dict(cases.get("slim_head"))
    data["head"]["num_outputs"] = 10 ** 8
    with pytest.raises(spec_mod.SpecError, match=r"head.num_outputs: 100000000 gives the head"):
        spec_mod.from_dict(data)


@pytest.mark.parametrize("changes, message", [
    ({"seed": 2 ** 70}, "seed: must be in [0, 2**32 - 1] (NumPy's seed range), got "
                        "1180591620717411303424"),
    ({"seed": -1}, "seed: must be in [0, 2**32 - 1]"),
    ({"cells": [{"kind": "LSTMCell", "num_units": 4, "forget_bias": math.nan}]},
     "cells[0].forget_bias: must be finite and within float32's range, got nan"),
    ({"cells": [{"kind": "LSTMCell", "num_units": 4, "cell_clip": 1e308}], "initial_state": None},
     "cells[0].cell_clip: must be finite and within float32's range, got 1e+308"),
    ({"weights": 2 ** 1100}, "weights: the constant must be finite and within float32's range"),
    ({"inputs": [[2 ** 1100, 1, 1, 1, 1, 1]]}, "inputs: holds a number beyond float32's range"),
    ({"inputs": [[1e300, 1, 1, 1, 1, 1]]}, "inputs: holds a number beyond float32's range"),
    ({"initial_state": {"state/c": [[3.5e38, 0, 0, 0]], "state/h": [[0, 0, 0, 0]]}},
     "initial_state['state/c']: holds a number beyond float32's range"),
    ({"tolerances": {"outputs": [2 ** 1100, 0]}}, "tolerances['outputs']: expected (rtol, atol)"),
], ids=["seed-2**70", "seed-1", "forget-nan", "clip-1e308", "weights-2**1100", "inputs-2**1100",
        "inputs-1e300", "state-3.5e38", "tolerance-2**1100"])
def test_numbers_out_of_range_are_refused_by_name(capsys, tmp_path, changes, message):
    """Computed silently (NaN forget_bias, a seed NumPy refuses with a message naming nothing),
    printed a RuntimeWarning ("overflow encountered in cast") or an internal OverflowError."""
    line = _compute_error(capsys, _spec_file(tmp_path, **changes))
    assert message in line, line


@pytest.mark.parametrize("train, message", [
    ({"steps": 2 ** 70}, "train.steps: 1180591620717411303424 steps, more than the 100000"),
    ({"learning_rate": math.inf}, "train.learning_rate: must be finite"),
    ({"targets": [[0.5], [0.5, 1.0], [0.5]]}, "train.targets: cannot be read as an array"),
], ids=["steps", "learning-rate", "ragged-targets"])
def test_training_options_out_of_range_are_refused_by_name(capsys, tmp_path, train, message):
    """steps 2**70 ran (practically) forever; ragged targets were a ValueError naming nothing."""
    data = spec_base("train_sgd")
    data["train"].update(train)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    line = _compute_error(capsys, path)
    assert message in line, line
