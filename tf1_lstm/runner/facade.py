"""The ``tensorflow`` module a TF1 script sees: ``tf.compat.v1`` plus the ``tf.contrib`` RNN code used.

:func:`build` returns the module objects installed in ``sys.modules`` by
:mod:`tf1_lstm.runner.shim` for the duration of a run only:

- ``tensorflow``: every attribute comes from ``tf.compat.v1`` (``tf.Session``,
  ``tf.placeholder``, ``tf.variable_scope``, ``tf.nn.rnn_cell``,
  ``tf.nn.dynamic_rnn``, ``tf.app``, ``tf.flags``, ...), except a few the
  runner controls (:data:`RUNNER_CONTROLLED`): ``compat`` is the real
  ``tf.compat`` (so ``import tensorflow.compat.v2`` keeps working) and
  ``contrib`` is ours; in graph-context mode also ``reset_default_graph``
  and the no-op ``disable_v2_behavior`` (see the shim).
- ``tensorflow.contrib.<name>``: the TF 1.x contrib modules that RNN code
  used, one table entry each (:data:`CONTRIB_MODULES`), served by
  ``tf1_lstm.contrib.<name>`` (which mirrors TF1's layout) or, for
  ``slim``, by the tf-slim package (tf-slim *is* ``tf.contrib.slim``). They
  load on first use. Other well-known contrib modules (``learn``, ``crf``,
  ...; :data:`CONTRIB_STUBS`) are stand-ins whose every attribute raises,
  naming what replaces them.
- TF1 modules outside contrib that TensorFlow no longer ships
  (:data:`SERVED_PACKAGES`: ``tensorflow.examples`` ->
  ``tf1_lstm.examples``), served by :class:`ModuleFinder` on import.

A symbol we cannot provide raises :class:`TF1SymbolError` (an
``AttributeError``, so ``hasattr`` still answers ``False``) or, through
``import``/``from ... import``, :class:`TF1ImportError`; both name the
symbol and what to do instead, or say plainly that nothing replaces it
(:data:`REPLACEMENTS`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import types
from typing import Callable, Dict, List, Optional, Sequence

# tf.contrib.<name> -> the module that serves it (imported on first use).
CONTRIB_MODULES: Dict[str, str] = {
    "rnn": "tf1_lstm.contrib.rnn",
    "legacy_seq2seq": "tf1_lstm.contrib.legacy_seq2seq",
    "seq2seq": "tf1_lstm.contrib.seq2seq",
    "layers": "tf1_lstm.contrib.layers",
    "framework": "tf1_lstm.contrib.framework",
    "training": "tf1_lstm.contrib.training",
    "cudnn_rnn": "tf1_lstm.contrib.cudnn_rnn",
    "slim": "tf_slim",
}
# Packages under tensorflow.* that TF 2 dropped -> the package that serves them.
SERVED_PACKAGES: Dict[str, str] = {
    "tensorflow.examples": "tf1_lstm.examples",
}

_NO_REPLACEMENT = "nothing replaces it in TensorFlow 2"
_ADDONS = "TensorFlow Addons (end of life, no releases for TF >= 2.16)"
# "tf.<name>" -> what to do instead, or why nothing can. Checked most specific
# first: "contrib.rnn.X", then "contrib.rnn", then "contrib".
REPLACEMENTS: Dict[str, str] = {
    "contrib.rnn.ConvLSTMCell": "tf.keras.layers.ConvLSTM2D (other variable names; edit the "
                                "script)",
    "contrib.rnn.Conv2DLSTMCell": "tf.keras.layers.ConvLSTM2D (other variable names; edit the "
                                  "script)",
    "contrib.rnn.NASCell": f"{_NO_REPLACEMENT} (tfa.rnn.NASCell in {_ADDONS})",
    "contrib.rnn": "nothing replaces it in core; tf1_lstm provides the cells listed in "
                   "dir(tf.contrib.rnn)",
    "contrib.learn": f"{_NO_REPLACEMENT} (tf.contrib.learn was removed; tf.keras replaces it)",
    "contrib.crf": f"{_NO_REPLACEMENT} (tfa.text.crf in {_ADDONS})",
    "contrib.opt": f"{_NO_REPLACEMENT} (tfa.optimizers in {_ADDONS})",
    "contrib.distributions": "tensorflow_probability.distributions (edit the script)",
    "contrib.keras": "tf.keras (edit the script)",
    "contrib.data": "tf.data (edit the script)",
    "contrib.losses": "tf.compat.v1.losses (edit the script)",
    "contrib.metrics": "tf.compat.v1.metrics (edit the script)",
    "contrib.lookup": "tf.lookup (edit the script)",
    "contrib.eager": "TF2's eager execution: run the script with plain python, not tf1-lstm",
    "contrib": f"{_NO_REPLACEMENT}; tf1_lstm provides tf.contrib."
               f"{{{', '.join(sorted(CONTRIB_MODULES))}}}",
    "estimator": f"{_NO_REPLACEMENT} (tf.estimator was removed in TensorFlow 2.16; an "
                 f"environment with TensorFlow <= 2.15 still has it)",
    "enable_eager_execution": "run the script with plain python: TF2 executes eagerly",
    "enable_v2_behavior": "run the script with plain python: TF2 behaviour is the default",
}

# TensorFlow 0.x names that TF 1.0 renamed (its release notes): TF 1.x scripts never had
# them, so they stay missing, and the message says what the script was written for.
PRE_1_0_RENAMES: Dict[str, str] = {
    "mul": "multiply", "sub": "subtract", "neg": "negative", "pack": "stack",
    "unpack": "unstack", "concat_v2": "concat", "select": "where", "batch_matmul": "matmul",
    "merge_all_summaries": "summary.merge_all", "merge_summary": "summary.merge",
    "scalar_summary": "summary.scalar", "histogram_summary": "summary.histogram",
    "image_summary": "summary.image", "audio_summary": "summary.audio",
}
for _old, _new in PRE_1_0_RENAMES.items():
    REPLACEMENTS[_old] = (f"TF 1.0 renamed it tf.{_new}; the script was written for TensorFlow "
                          f"0.x, which tf1_lstm does not emulate (edit the script)")

# Removed tf.contrib submodules that exist as stand-ins, so that the error comes
# at the symbol (tf.contrib.learn.Estimator) and names its replacement.
CONTRIB_STUBS = tuple(sorted(key.split(".")[1] for key in REPLACEMENTS
                             if key.count(".") == 1 and key.startswith("contrib.")
                             and key.split(".")[1] not in CONTRIB_MODULES))

# tf.<name> that the runner provides itself instead of tf.compat.v1's.
RUNNER_CONTROLLED = ("compat", "contrib", "reset_default_graph", "disable_eager_execution",
                     "disable_v2_behavior")
# tf.compat.v1 names a script under the runner may not call: they would switch
# the whole process to eager mode under the script's graph.
BLOCKED = ("enable_eager_execution", "enable_v2_behavior")


class TF1SymbolError(AttributeError):
    """``tf.<symbol>`` that the TF1 facade cannot provide; the message names the replacement."""


class TF1ImportError(ImportError):
    """``import tensorflow.<symbol>`` that the TF1 facade cannot provide."""


def replacement(symbol: str) -> Optional[str]:
    """What replaces ``symbol`` (dotted, without ``tf.``), or ``None``: the most specific entry."""
    parts = symbol.split(".")
    for k in range(len(parts), 0, -1):
        hint = REPLACEMENTS.get(".".join(parts[:k]))
        if hint is not None:
            return hint
    return None


def unavailable_message(symbol: str, tf_version: str) -> str:
    """One line: ``tf.<symbol>`` is not available, and what to do instead."""
    if symbol.startswith("contrib"):
        why = "tf.contrib was removed in TensorFlow 2.0"
        module = symbol.split(".")[1] if "." in symbol else ""
        if module in CONTRIB_MODULES:
            why = f"TF 1.x's tf.contrib.{module} had it; tf1_lstm does not provide it yet"
    elif symbol in BLOCKED:
        why = "the runner runs TF1 scripts in graph mode"
    else:
        why = f"tf.compat.v1 of TensorFlow {tf_version} has no {symbol.split('.')[0]!r}"
    hint = replacement(symbol)
    tail = f"instead: {hint}" if hint else "no replacement known to tf1_lstm"
    return f"tf.{symbol} is not available in tf1_lstm's TF1 runner ({why}); {tail}"


class TF1Module(types.ModuleType):
    """A module whose missing attributes come from ``resolve`` or raise :class:`TF1SymbolError`."""

    def __init__(self, name: str, dotted: str, resolve: Callable[[str], object],
                 public: Callable[[], Sequence[str]], tf_version: str, doc: str) -> None:
        super().__init__(name, doc)
        self._tf1_dotted = dotted  # "" for tensorflow, "contrib." for tensorflow.contrib, ...
        self._tf1_resolve = resolve
        self._tf1_public = public
        self._tf1_version = tf_version

    def __getattr__(self, name: str):
        if name.startswith("_tf1_"):
            raise AttributeError(name)
        if name == "__all__":
            return sorted(set(self._tf1_public()))
        try:
            return self._tf1_resolve(name)
        except AttributeError:
            if name.startswith("__"):
                raise
            raise TF1SymbolError(unavailable_message(self._tf1_dotted + name,
                                                     self._tf1_version)) from None

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._tf1_public()))


def _nothing(name: str):
    raise AttributeError(name)


def _public(module) -> List[str]:
    return [n for n in dir(module) if not n.startswith("_")]


def _served(target: str, contrib_name: str) -> Callable[[str], object]:
    """``resolve`` for a facade module served by the module ``target`` (imported on first use)."""

    def resolve(name: str):
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise TF1ImportError(f"tf.contrib.{contrib_name} is served by {target}, which "
                                 f"cannot be imported ({exc})") from None
        return getattr(module, name)

    return resolve


def _public_of(target: str) -> Callable[[], List[str]]:
    def public() -> List[str]:
        try:
            return _public(importlib.import_module(target))
        except ImportError:
            return []

    return public


def build(tf, reset_default_graph: Optional[Callable[[], None]] = None
          ) -> Dict[str, types.ModuleType]:
    """The facade modules, keyed by the ``sys.modules`` name they stand in for.

    Args:
      tf: the real ``tensorflow`` module (from :func:`tf1_lstm.tfcompat.load`).
      reset_default_graph: what ``tf.reset_default_graph()`` does in the script
        (graph-context mode); ``None`` keeps TensorFlow's own, and its own
        ``disable_v2_behavior`` (process mode).
    """
    v1 = tf.compat.v1
    version = tf.__version__

    def resolve_contrib(name: str):
        if name == "slim":  # tf-slim is tf.contrib.slim itself, served as the package
            try:
                return importlib.import_module(CONTRIB_MODULES["slim"])
            except ImportError:
                raise TF1ImportError("tf.contrib.slim needs the tf-slim package: "
                                     "pip install tf-slim") from None
        raise AttributeError(name)

    contrib = TF1Module("tensorflow.contrib", "contrib.", resolve_contrib,
                        lambda: sorted(CONTRIB_MODULES), version,
                        "TF 1.x tf.contrib, as far as tf1_lstm's runner provides it.")
    contrib.__path__ = []
    modules: Dict[str, types.ModuleType] = {"tensorflow.contrib": contrib}
    for sub, target in CONTRIB_MODULES.items():
        if sub == "slim":
            continue
        module = TF1Module(f"tensorflow.contrib.{sub}", f"contrib.{sub}.", _served(target, sub),
                           _public_of(target), version,
                           f"TF 1.x tf.contrib.{sub}, served by {target}.")
        module.__path__ = []  # a package: `from tensorflow.contrib.rnn import X` asks our finder
        setattr(contrib, sub, module)
        modules[module.__name__] = module
    for sub in CONTRIB_STUBS:
        stub = TF1Module(f"tensorflow.contrib.{sub}", f"contrib.{sub}.", _nothing, list, version,
                         f"Stand-in for the removed tf.contrib.{sub}: every attribute raises "
                         f"TF1SymbolError naming its replacement.")
        stub.__path__ = []
        setattr(contrib, sub, stub)
        modules[stub.__name__] = stub

    def resolve_top(name: str):
        if name in BLOCKED:
            raise AttributeError(name)
        return getattr(v1, name)

    top = TF1Module("tensorflow", "", resolve_top, lambda: _public(v1) + ["contrib"], version,
                    "TF 1.x API served from tf.compat.v1 by tf1_lstm's runner.")
    for attr in ("__file__", "__path__", "__version__"):
        if hasattr(tf, attr):
            setattr(top, attr, getattr(tf, attr))
    top.__spec__ = getattr(tf, "__spec__", None)
    top.compat = tf.compat
    top.contrib = contrib
    if reset_default_graph is not None:
        top.reset_default_graph = reset_default_graph

        def _already_graph_mode() -> None:
            """No-op: the script already runs in graph mode, and the process stays as it is."""

        top.disable_eager_execution = _already_graph_mode
        top.disable_v2_behavior = _already_graph_mode
    return {"tensorflow": top, **modules}


# The levels of TF 1.x's source tree between a contrib module and its files
# (tensorflow/contrib/rnn/python/ops/rnn_cell.py, contrib/layers/python/layers/layers.py):
# tf1_lstm.contrib mirrors the files, not these levels.
_SOURCE_LEVELS = (("python", "ops"), ("python", "layers"), ("python",))


def internal_module(serving: str, rest: Sequence[str]) -> str:
    """The module serving ``tensorflow.contrib.<m>.<rest>`` when ``serving`` serves ``<m>``.

    TF1 code imported contrib's files by their paths in TF's source tree:
    ``tensorflow.contrib.rnn.python.ops.rnn_cell`` is ``tf1_lstm.contrib.rnn.rnn_cell``
    (a file we do not have is refused); where one module of ours serves the
    whole contrib module, every file is that module
    (``legacy_seq2seq.python.ops.seq2seq`` *is* ``tf.contrib.legacy_seq2seq``); the
    source levels alone (``tensorflow.contrib.rnn.python.ops``) are the contrib module.
    """
    rest = list(rest)
    for levels in _SOURCE_LEVELS:
        if tuple(rest[:len(levels)]) == levels:
            files = rest[len(levels):]
            if not files:
                return serving
            top = importlib.util.find_spec(serving)
            if top is not None and top.submodule_search_locations is not None:
                return ".".join([serving, *files])  # a package: its file, or nothing
            return serving
    return ".".join([serving, *rest])


class _AliasLoader(importlib.abc.Loader):
    """Loads ``tensorflow.<x>`` as the already importable module that serves it."""

    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec):
        module = importlib.import_module(self._target)
        if not spec.name.endswith(tuple("." + ".".join(levels) for levels in _SOURCE_LEVELS)):
            return module
        # tensorflow.contrib.<m>.python.ops: a package view of the module serving <m>, so
        # that `from tensorflow.contrib.<m>.python.ops import <file>` asks this finder
        # for tensorflow.contrib.<m>.python.ops.<file> (and a file we lack is named).
        view = types.ModuleType(spec.name, module.__doc__)
        view.__path__ = []
        view.__getattr__ = lambda name: getattr(module, name)
        return view

    def exec_module(self, module) -> None:
        """Nothing: the serving module ran when it was imported."""


class ModuleFinder(importlib.abc.MetaPathFinder):
    """Serves TF1 modules TensorFlow no longer ships, and refuses the rest with the replacement.

    ``tensorflow.examples.tutorials.mnist.input_data`` and the other
    :data:`SERVED_PACKAGES` (and ``tensorflow.contrib.<name>.<sub>`` of the
    served contrib modules, where those have submodules) import as the module
    of ours that serves them. ``tensorflow.contrib.*`` below what the facade
    provides and the top-level names of :data:`REPLACEMENTS` raise
    :class:`TF1ImportError`: a plain ``ImportError`` (not
    ``ModuleNotFoundError``), which keeps ``from tensorflow.contrib.learn
    import X`` from hiding our message.
    """

    def __init__(self, modules: Dict[str, types.ModuleType], tf_version: str) -> None:
        self._modules = modules
        self._version = tf_version
        self._served: Dict[str, str] = {}

    def served(self, fullname: str) -> bool:
        """Whether this finder put ``fullname`` into ``sys.modules``."""
        return fullname in self._served

    def _target(self, fullname: str) -> Optional[str]:
        for prefix, target in SERVED_PACKAGES.items():
            if fullname == prefix or fullname.startswith(prefix + "."):
                return target + fullname[len(prefix):]
        parts = fullname.split(".")
        if parts[1:3] == ["contrib", "slim"] or (
                len(parts) > 3 and parts[1] == "contrib" and parts[2] in CONTRIB_MODULES):
            return internal_module(CONTRIB_MODULES[parts[2]], parts[3:])
        return None

    def find_spec(self, fullname: str, path=None, target=None):
        if not fullname.startswith("tensorflow.") or fullname in self._modules:
            return None
        serving = self._target(fullname)
        symbol = fullname[len("tensorflow."):]
        if serving is not None:
            if importlib.util.find_spec(serving) is None:
                raise TF1ImportError(unavailable_message(symbol, self._version), name=fullname)
            self._served[fullname] = serving
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(serving),
                                                  is_package=True)
        if symbol.startswith("contrib.") or symbol.split(".")[0] in REPLACEMENTS:
            raise TF1ImportError(unavailable_message(symbol, self._version), name=fullname)
        return None
