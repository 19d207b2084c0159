"""pytest plugin for testing one's own TF1 graphs against goldens (entry point ``pytest11``).

Fixtures:

- ``tf1``: ``tf.compat.v1``, loaded through :func:`tf1_lstm.tfcompat.load`.
- ``tf1_graph``: a fresh ``tf.Graph``, the default graph for the test, with
  graph seed, Python's ``random`` and NumPy seeded (ini ``tf1_seed``,
  default 0; tf-keras' initializers draw their op seeds from ``random``).
  The random states are restored afterwards.
- ``tf1_session``: a ``tf.compat.v1.Session`` on ``tf1_graph``, also the
  default session (``tensor.eval()`` works); closed afterwards.
- ``tf1_golden``: ``tf1_golden.check(name, arrays, rtol=None, atol=None)``
  compares named arrays with the golden ``<dir>/<name>.npz`` (the format of
  :mod:`tf1_lstm.golden`) and reports like ``tf1-lstm check``.

Goldens live in ``--tf1-golden-dir`` (relative to the invocation directory),
else in the ini option ``tf1_golden_dir`` (relative to the ini file), else in
``goldens/`` beside the test module. A missing golden fails. With
``--tf1-golden-regen`` missing or differing goldens are written, and the
test still fails, so that a regeneration is never silent; a golden that
matches is left alone. A mismatch leaves ``<name>.obtained.npz`` beside the
golden for diffing.

pytest loads this module in every run: importing it imports neither
TensorFlow nor NumPy; the fixtures do, when used.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

import pytest

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
DEFAULT_DIR = "goldens"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tf1_lstm", "tf1_lstm goldens for TF1 graphs")
    group.addoption("--tf1-golden-regen", action="store_true", default=False,
                    help="write missing or differing tf1_golden files (those tests still fail)")
    group.addoption("--tf1-golden-dir", default=None, metavar="DIR",
                    help="directory of the tf1_golden files (overrides the ini option "
                         "tf1_golden_dir)")
    parser.addini("tf1_golden_dir", "directory of the tf1_golden files, relative to the ini "
                  f"file (default: {DEFAULT_DIR}/ beside each test module)", default="")
    parser.addini("tf1_seed", "seed of the tf1_graph fixture (graph, Python random, NumPy)",
                  default="0")


def golden_dir(config: pytest.Config, test_path: Path) -> Path:
    """Where ``tf1_golden`` reads and writes for a test in ``test_path``."""
    option = config.getoption("tf1_golden_dir")
    if option:
        path = Path(option)
        return path if path.is_absolute() else Path(config.invocation_params.dir) / path
    ini = config.getini("tf1_golden_dir")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / ini
    return test_path.parent / DEFAULT_DIR


class GoldenChecker:
    """What the ``tf1_golden`` fixture gives a test; see :meth:`check`."""

    def __init__(self, directory: Path, nodeid: str, regen: bool) -> None:
        self.directory = Path(directory)
        self.nodeid = nodeid
        self.regen = regen

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.npz"

    def _regen_command(self) -> str:
        return f"pytest --tf1-golden-regen {shlex.quote(self.nodeid)}"

    def check(self, name: str, arrays: Mapping[str, Any], *, rtol: Optional[float] = None,
              atol: Optional[float] = None):
        """Compare ``arrays`` with the golden ``name``; fail the test unless they match.

        Args:
          name: the golden's file name without ``.npz`` (letters, digits, ``_.-``).
          arrays: array name -> array-like; NumPy dtype kinds ``b i u f c U``.
          rtol, atol: tolerance for every array; each one left out is the
            per-dtype default of :func:`tf1_lstm.compare.default_tolerance`.

        Returns:
          The :class:`tf1_lstm.compare.Comparison` when the golden matches.

        Raises:
          TypeError, ValueError: a bad name or arrays that are not a mapping.
        """
        __tracebackhide__ = True
        import numpy as np

        from . import compare as cmp
        from . import golden
        from .envinfo import golden_environment

        if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(".obtained"):
            raise ValueError(f"tf1_golden.check: golden name {name!r} must be letters, digits, "
                             f"'_', '.' or '-' (it becomes {{name}}.npz)")
        if not isinstance(arrays, Mapping) or not arrays:
            raise TypeError(f"tf1_golden.check({name!r}, ...): arrays must be a non-empty "
                            f"mapping of name -> array, got {type(arrays).__name__}")
        obtained = {str(k): np.asarray(v) for k, v in arrays.items()}
        tolerances: Dict[str, Tuple[float, float]] = {}
        for key, value in obtained.items():
            default = cmp.default_tolerance(value.dtype)
            tolerances[key] = (default[0] if rtol is None else float(rtol),
                               default[1] if atol is None else float(atol))
        meta = {"schema_version": golden.SCHEMA_VERSION, "golden": name, "test": self.nodeid,
                "tolerances": {k: list(v) for k, v in sorted(tolerances.items())},
                "command": self._regen_command()}
        meta.update(golden_environment())
        path = self.path(name)

        def write(target: Path, extra: Optional[dict] = None) -> None:
            __tracebackhide__ = True
            bad = [k for k, v in obtained.items()
                   if v.dtype.kind in "fc" and not np.all(np.isfinite(v))]
            if bad and extra is None:
                pytest.fail(f"{path}: not written: arrays {bad} hold NaN or infinity, and a "
                            f"golden with them could never match", pytrace=False)
            try:
                golden.save(target, obtained, {**meta, **(extra or {})})
                return
            except golden.GoldenError as exc:
                message = f"{target}: {exc}"
            pytest.fail(message, pytrace=False)

        if not path.exists():
            if self.regen:
                write(path)
                pytest.fail(f"{path}: golden {name!r} created ({len(obtained)} arrays); review "
                            f"it, then rerun without --tf1-golden-regen", pytrace=False)
            pytest.fail(f"{path}: golden {name!r} is missing; create it with: "
                        f"{self._regen_command()} (then review and commit it)", pytrace=False)
        try:
            expected = golden.load(path).arrays
            unreadable = None
        except golden.GoldenError as exc:
            unreadable = str(exc)
        if unreadable is not None:
            if self.regen:
                write(path)
                pytest.fail(f"{unreadable}\n  golden {name!r} rewritten; review it, then rerun "
                            f"without --tf1-golden-regen", pytrace=False)
            pytest.fail(f"{unreadable}; to rewrite it on purpose: {self._regen_command()}",
                        pytrace=False)
        comparison = cmp.compare(obtained, expected, label=f"golden {name!r} [{self.nodeid}]",
                                 tolerances=tolerances)
        if comparison.ok:
            return comparison
        if self.regen:
            write(path)
            pytest.fail(comparison.report() + f"\n  golden {name!r} regenerated at {path}; "
                        f"review the diff, then rerun without --tf1-golden-regen", pytrace=False)
        out = golden.obtained_path_for(self.directory, name)
        write(out, {"obtained": True})
        hint = f"to regenerate on purpose: {self._regen_command()} (then review the diff)"
        pytest.fail(comparison.report(hint) + f"\n  obtained arrays written to {out} for diffing",
                    pytrace=False)


@pytest.fixture
def tf1_golden(request: pytest.FixtureRequest) -> GoldenChecker:
    """``tf1_golden.check(name, arrays, rtol=..., atol=...)`` against ``<dir>/<name>.npz``."""
    return GoldenChecker(golden_dir(request.config, Path(request.path)), request.node.nodeid,
                         bool(request.config.getoption("tf1_golden_regen")))


@pytest.fixture
def tf1():
    """``tf.compat.v1``, loaded the way tf1_lstm loads TensorFlow (``TF_USE_LEGACY_KERAS``)."""
    from . import tfcompat

    return tfcompat.load().compat.v1


@pytest.fixture
def tf1_graph(request: pytest.FixtureRequest):
    """A fresh, seeded ``tf.Graph`` as the default graph for the test."""
    from . import tfcompat
    from .engines.tf1 import seeded

    tf = tfcompat.load()
    raw = request.config.getini("tf1_seed")
    try:
        seed = int(raw)
    except ValueError:
        raise pytest.UsageError(f"ini option tf1_seed must be an integer, got {raw!r}") from None
    graph = tf.Graph()
    with graph.as_default(), seeded(seed):
        tf.compat.v1.set_random_seed(seed)
        yield graph


@pytest.fixture
def tf1_session(tf1_graph):
    """A ``tf.compat.v1.Session`` on ``tf1_graph``, the default session for the test."""
    from . import tfcompat

    with tfcompat.load().compat.v1.Session(graph=tf1_graph) as sess:
        yield sess
