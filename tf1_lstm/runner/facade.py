"""The ``tensorflow`` module a TF1 script sees: ``tf.compat.v1`` plus ``tf.contrib.rnn``.

:func:`build` returns the module objects installed in ``sys.modules`` by
:mod:`tf1_lstm.runner.shim` for the duration of a run only:

- ``tensorflow``: every attribute comes from ``tf.compat.v1`` (``tf.Session``,
  ``tf.placeholder``, ``tf.variable_scope``, ``tf.nn.rnn_cell``,
  ``tf.nn.dynamic_rnn``, ...), except a few the runner controls
  (:data:`RUNNER_CONTROLLED`): ``compat`` is the real ``tf.compat`` (so
  ``import tensorflow.compat.v2`` keeps working), ``contrib`` is ours, and
  ``reset_default_graph`` replaces the runner's graph (see the shim).
- ``tensorflow.contrib``: ``rnn`` (below) and ``slim``, which is the tf-slim
  package (tf-slim *is* ``tf.contrib.slim``, moved out of TensorFlow). The
  other well-known submodules (``layers``, ``learn``, ``seq2seq``, ...,
  :data:`CONTRIB_STUBS`) are stand-ins whose every attribute raises.
- ``tensorflow.contrib.rnn``: the names TF 1.x's ``tf.contrib.rnn`` re-exported
  from core (:data:`CONTRIB_RNN`): the same classes and functions as
  ``tf.compat.v1.nn.rnn_cell`` and ``tf.compat.v1.nn``, not copies.

A symbol we cannot provide raises :class:`TF1SymbolError` (an
``AttributeError``, so ``hasattr`` still answers ``False``) or, through
``import``/``from ... import``, :class:`TF1ImportError`; both name the
symbol and its TF2 replacement where one exists (:data:`REPLACEMENTS`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import types
from typing import Callable, Dict, List, Optional, Sequence

# Names TF 1.x's tf.contrib.rnn re-exported from core -> where core keeps them.
CONTRIB_RNN: Dict[str, str] = {
    **{name: "nn.rnn_cell" for name in (
        "RNNCell", "LSTMCell", "BasicLSTMCell", "MultiRNNCell", "LSTMStateTuple", "GRUCell",
        "BasicRNNCell", "DropoutWrapper", "ResidualWrapper", "DeviceWrapper")},
    **{name: "nn" for name in (
        "static_rnn", "static_bidirectional_rnn", "static_state_saving_rnn")},
}

_NO_CORE = "none in TensorFlow core"
_ADDONS = "TensorFlow Addons (end of life, no releases for TF >= 2.16)"
# "tf.<name>" -> its TF2 replacement, or why there is none. Checked most
# specific first: "contrib.rnn.X", then "contrib.rnn", then "contrib".
REPLACEMENTS: Dict[str, str] = {
    "contrib.rnn.LayerNormBasicLSTMCell": f"{_NO_CORE} (the closest was tfa.rnn.LayerNormLSTMCell "
                                          f"in {_ADDONS})",
    "contrib.rnn.LayerNormLSTMCell": f"{_NO_CORE} (tfa.rnn.LayerNormLSTMCell in {_ADDONS})",
    "contrib.rnn.LSTMBlockCell": "tf.compat.v1.nn.rnn_cell.LSTMCell (the same equations without "
                                 "the fused kernel; check variable names when restoring "
                                 "checkpoints)",
    "contrib.rnn.LSTMBlockFusedCell": "tf.compat.v1.nn.rnn_cell.LSTMCell with "
                                      "tf.compat.v1.nn.dynamic_rnn, or tf.keras.layers.LSTM",
    "contrib.rnn.GRUBlockCell": "tf.compat.v1.nn.rnn_cell.GRUCell",
    "contrib.rnn.GRUBlockCellV2": "tf.compat.v1.nn.rnn_cell.GRUCell",
    "contrib.rnn.ConvLSTMCell": "tf.keras.layers.ConvLSTM2D",
    "contrib.rnn.Conv2DLSTMCell": "tf.keras.layers.ConvLSTM2D",
    "contrib.rnn.NASCell": f"{_NO_CORE} (tfa.rnn.NASCell in {_ADDONS})",
    "contrib.rnn.AttentionCellWrapper": _NO_CORE,
    "contrib.rnn.EmbeddingWrapper": f"{_NO_CORE}; apply tf.nn.embedding_lookup before the cell",
    "contrib.rnn.InputProjectionWrapper": f"{_NO_CORE}; project the inputs with a dense layer "
                                          "before the cell",
    "contrib.rnn.OutputProjectionWrapper": f"{_NO_CORE}; project the outputs with a dense layer "
                                           "after the cell",
    "contrib.rnn.stack_bidirectional_dynamic_rnn": f"{_NO_CORE}; chain "
                                                   "tf.compat.v1.nn.bidirectional_dynamic_rnn "
                                                   "per layer",
    "contrib.rnn.stack_bidirectional_rnn": f"{_NO_CORE}; chain "
                                           "tf.compat.v1.nn.static_bidirectional_rnn per layer",
    "contrib.rnn": f"{_NO_CORE} for the cells TF 1.x kept only in contrib",
    "contrib.layers": "tf_slim (tf-slim carries tf.contrib.layers on) or tf.compat.v1.layers",
    "contrib.framework": "tf_slim (arg_scope, get_variables, ...) or tf.compat.v1",
    "contrib.learn": f"{_NO_CORE} (tf.contrib.learn was removed; use tf.keras)",
    "contrib.seq2seq": f"{_NO_CORE} (tfa.seq2seq in {_ADDONS})",
    "contrib.legacy_seq2seq": _NO_CORE,
    "contrib.cudnn_rnn": "tf.keras.layers.LSTM / tf.keras.layers.GRU (cuDNN kernels on GPU)",
    "contrib.crf": f"{_NO_CORE} (tfa.text.crf in {_ADDONS})",
    "contrib.opt": f"{_NO_CORE} (tfa.optimizers in {_ADDONS})",
    "contrib.distributions": "tensorflow_probability.distributions",
    "contrib.keras": "tf.keras",
    "contrib.data": "tf.data",
    "contrib.losses": "tf.compat.v1.losses",
    "contrib.metrics": "tf.compat.v1.metrics",
    "contrib.lookup": "tf.lookup",
    "contrib.eager": "TF2's eager execution (no runner needed)",
    "contrib": _NO_CORE,
    "estimator": f"{_NO_CORE} (tf.estimator was removed in TensorFlow 2.16; use tf.keras)",
    "examples": "tf.keras.datasets (e.g. tf.keras.datasets.mnist.load_data() for "
                "tensorflow.examples.tutorials.mnist)",
    "enable_eager_execution": "running the script without the runner: TF2 executes eagerly",
    "enable_v2_behavior": "running the script without the runner",
}

# Removed tf.contrib submodules that exist as stand-ins, so that the error comes
# at the symbol (tf.contrib.layers.fully_connected) and names its replacement.
CONTRIB_STUBS = tuple(sorted(key.split(".")[1] for key in REPLACEMENTS
                             if key.count(".") == 1 and key.startswith("contrib.")
                             and key != "contrib.rnn"))

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
    """The TF2 replacement text for ``symbol`` (dotted, without ``tf.``), or ``None``.

    The most specific entry of :data:`REPLACEMENTS` wins; a ``contrib.layers``
    or ``contrib.framework`` symbol that tf-slim provides is named exactly.
    """
    parts = symbol.split(".")
    if parts[0] == "contrib" and len(parts) == 3 and parts[1] in ("layers", "framework"):
        try:
            import tf_slim
        except ImportError:
            tf_slim = None
        if tf_slim is not None and hasattr(tf_slim, parts[2]):
            return f"tf_slim.{parts[2]} (pip install tf-slim; `import tf_slim as slim`)"
    for k in range(len(parts), 0, -1):
        hint = REPLACEMENTS.get(".".join(parts[:k]))
        if hint is not None:
            return hint
    return None


def unavailable_message(symbol: str, tf_version: str) -> str:
    """One line: ``tf.<symbol>`` is not available, and what replaces it."""
    if symbol.startswith("contrib"):
        why = ("tf.contrib was removed in TensorFlow 2.0; the runner provides tf.contrib.rnn's "
               "core cells and tf.contrib.slim")
    elif symbol in BLOCKED:
        why = "the runner runs TF1 scripts in graph mode"
    else:
        why = f"tf.compat.v1 of TensorFlow {tf_version} has no {symbol.split('.')[0]!r}"
    hint = replacement(symbol)
    tail = f"TF2 replacement: {hint}" if hint else "no known TF2 replacement"
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


def build(tf, reset_default_graph: Callable[[], None]) -> Dict[str, types.ModuleType]:
    """The facade modules, keyed by the ``sys.modules`` name they stand in for.

    Args:
      tf: the real ``tensorflow`` module (from :func:`tf1_lstm.tfcompat.load`).
      reset_default_graph: what ``tf.reset_default_graph()`` does in the script.
    """
    v1 = tf.compat.v1
    version = tf.__version__

    def resolve_rnn(name: str):
        where = CONTRIB_RNN.get(name)
        if where is None:
            raise AttributeError(name)
        module = v1
        for part in where.split("."):
            module = getattr(module, part)
        return getattr(module, name)

    rnn = TF1Module("tensorflow.contrib.rnn", "contrib.rnn.", resolve_rnn,
                    lambda: list(CONTRIB_RNN), version,
                    "TF 1.x tf.contrib.rnn: the RNN cells and functions it re-exported from core.")
    rnn.__path__ = []  # a package, so that `from tensorflow.contrib.rnn import X` asks our finder

    def resolve_contrib(name: str):
        if name == "slim":
            try:
                return importlib.import_module("tf_slim")
            except ImportError:
                raise TF1ImportError("tf.contrib.slim needs the tf-slim package: "
                                     "pip install tf-slim") from None
        raise AttributeError(name)

    contrib = TF1Module("tensorflow.contrib", "contrib.", resolve_contrib,
                        lambda: ["rnn", "slim"], version,
                        "TF 1.x tf.contrib, as far as tf1_lstm's runner provides it.")
    contrib.__path__ = []
    contrib.rnn = rnn
    modules = {"tensorflow.contrib": contrib, "tensorflow.contrib.rnn": rnn}
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
    top.reset_default_graph = reset_default_graph

    def _already_graph_mode() -> None:
        """No-op: the script already runs in graph mode, and the process stays as it is."""

    top.disable_eager_execution = _already_graph_mode
    top.disable_v2_behavior = _already_graph_mode
    return {"tensorflow": top, **modules}


class ContribFinder(importlib.abc.MetaPathFinder):
    """Turns ``import tensorflow.<removed>`` into :class:`TF1ImportError` with the replacement.

    Covers ``tensorflow.contrib.*`` below what the facade provides and the
    top-level names of :data:`REPLACEMENTS` (``tensorflow.examples``, ...).
    Raising a plain ``ImportError`` (not ``ModuleNotFoundError``) keeps
    ``from tensorflow.contrib.layers import fully_connected`` from hiding our message.
    """

    def __init__(self, modules: Dict[str, types.ModuleType], tf_version: str) -> None:
        self._modules = modules
        self._version = tf_version

    def find_spec(self, fullname: str, path=None, target=None):
        if not fullname.startswith("tensorflow.") or fullname in self._modules:
            return None
        symbol = fullname[len("tensorflow."):]
        if symbol.startswith("contrib.") or symbol.split(".")[0] in REPLACEMENTS:
            raise TF1ImportError(unavailable_message(symbol, self._version), name=fullname)
        return None
