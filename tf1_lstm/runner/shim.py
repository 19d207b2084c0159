"""Install the TF1 environment for the duration of a run, and put everything back afterwards.

:func:`installed` is a context manager with two modes.

**Process mode** (``process=True``; what ``tf1-lstm run`` uses, since the run
owns its process): TF 1.x semantics, through TensorFlow's own compatibility
recipe ``tf.compat.v1.disable_v2_behavior()`` before the script runs. The
script then gets what TF 1.x gave it: graph mode everywhere (threads the
script starts, queue runners, ``tf.train.Supervisor``), reference variables
(``Variable.load``, variables in custom collections survive
``export_meta_graph`` -> ``import_meta_graph``), v1 control flow and
``TensorShape`` with ``Dimension`` objects, one process-wide default graph,
and TensorFlow's own ``tf.reset_default_graph()`` (also reached as
``tensorflow.python.framework.ops.reset_default_graph``). This cannot be
undone in the process; nothing is checked on exit beyond the modules.

**Graph-context mode** (``process=False``; in-process runs: the pytest plugin
and tests): ``tf.compat.v1.disable_eager_execution()`` is process-wide and
cannot be undone once graphs exist, which would break every later TF2 user in
the process (tf-keras, other tests). The script runs inside
``with graph.as_default():`` instead, where TF builds graphs as TF1 did
(``tf.executing_eagerly()`` is ``False``, ``tf.Session()`` runs the default
graph). ``tf.reset_default_graph()`` would refuse inside that context ("nested
graphs"), so the facade's version leaves the runner's graph and enters a fresh
one; like TF1 it refuses while the script has its own graph or a
``with tf.Session()`` open; TensorFlow's internal
``ops.reset_default_graph`` is redirected to it for the run. The script's
``tf.disable_eager_execution()`` and ``tf.disable_v2_behavior()`` are
no-ops. What differs from TF 1.x here: variables are resource variables and
``tf.while_loop`` is control flow v2 (TF2's defaults, which compute the same
functions, but ``Variable.load`` fails and a variable in a custom collection
comes back from a meta-graph round trip as a ``resource`` tensor), and the
default graph belongs to the thread running the script (TF's default-graph
stack is thread-local), so threads the script starts see eager mode.
Afterwards the thread must be back in eager mode on its previous default
graph (:class:`ShimError` otherwise). One more limit of in-process runs: a
script that defines absl flags (``tf.app.flags``) runs once per process,
since absl's flag registry is global.

In both modes, on entry it

1. loads the real TensorFlow through :func:`tf1_lstm.tfcompat.load` (which
   also imports tf-keras, so tf-keras holds the real module before the swap),
2. puts the facade (:mod:`tf1_lstm.runner.facade`) into ``sys.modules`` as
   ``tensorflow``, ``tensorflow.contrib`` and its submodules, and a finder on
   ``sys.meta_path`` that serves TF1 modules TensorFlow no longer ships
   (``tensorflow.examples.tutorials.mnist``) and names the replacement of
   those we do not provide,
3. with a seed: seeds Python's ``random`` and NumPy, and gives every graph
   without a graph-level seed that seed (``tf.Graph.seed``), so that
   unseeded scripts and the graphs they create themselves are reproducible,
4. with ``pin_threads``: runs every session with one inter-op thread
   (:data:`PINNED_SESSION_CONFIG`), which is what makes random ops inside
   ``tf.while_loop`` (``DropoutWrapper`` in ``dynamic_rnn``) draw in the same
   order on every run; a script's own ``ConfigProto`` is kept otherwise.

The settings are recorded (:attr:`Runtime.settings`), with the process's
``PYTHONHASHSEED``, which orders ``list(set(text))``, the classic way TF1
scripts built their vocabularies (``tf1-lstm run`` fixes it for captures and
checks by starting the program's process with it).

On exit it closes the sessions the script left open and restores
``sys.modules``, ``sys.meta_path``, ``tf.Graph.seed``, ``Session`` and the
random states.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional

from .. import tfcompat
from ..engines.tf1 import seeded
from . import facade

_MISSING = object()


class ShimError(RuntimeError):
    """The TF1 environment could not be set up or torn down cleanly."""


class DefaultGraph:
    """The runner's default graph, replaced by the script's ``tf.reset_default_graph()``."""

    _NESTED = ("Do not use tf.reset_default_graph() to clear nested graphs. If you need a "
               "cleared graph, exit the nesting and create a new graph.")

    def __init__(self, tf) -> None:
        self._tf = tf
        self._context = None
        self.graph = None
        self._depth = 0
        self.resets = 0

    def _stack(self) -> Optional[List[Any]]:
        # The one private TF detail the runner reads: the thread's default-graph
        # stack, to refuse a reset inside `with tf.Session()` as TF1 did.
        ops = sys.modules.get("tensorflow.python.framework.ops")
        stack = getattr(getattr(ops, "_default_graph_stack", None), "stack", None)
        return stack if isinstance(stack, list) else None

    def enter(self) -> None:
        self.graph = self._tf.Graph()
        self._context = self.graph.as_default()
        self._context.__enter__()
        stack = self._stack()
        self._depth = len(stack) if stack is not None else 0

    def exit(self) -> None:
        if self._context is not None:
            context, self._context = self._context, None
            context.__exit__(None, None, None)

    def reset(self) -> None:
        """``tf.reset_default_graph()`` for the script: a fresh default graph."""
        stack = self._stack()
        nested = (self._tf.compat.v1.get_default_graph() is not self.graph
                  or (stack is not None and len(stack) != self._depth))
        if nested:
            raise AssertionError(self._NESTED)
        self.exit()
        self.enter()
        self.resets += 1


# Session settings under which a seeded script computes the same numbers on every run:
# with several inter-op threads, random ops inside a while loop draw in a
# run-dependent order (measured: DropoutWrapper in dynamic_rnn differs between
# runs; with one inter-op thread capture and check agree exactly).
PINNED_SESSION_CONFIG = {"inter_op_parallelism_threads": 1}


@dataclass
class Runtime:
    """What :func:`installed` set up: the real ``tf``, the facade modules, the mode.

    Attributes:
      settings: what the run pinned, recorded in captures (``mode``, ``seed``,
        ``session_config``).
    """

    tf: Any
    modules: Dict[str, Any]
    graphs: Optional[DefaultGraph]
    seed: Optional[int]
    settings: Dict[str, Any]


@contextlib.contextmanager
def _graph_seed(tf, seed: int) -> Iterator[None]:
    """Graphs without a graph-level seed report ``seed`` (an explicit seed still wins)."""
    graph_cls = tf.Graph
    original = graph_cls.__dict__["seed"]

    def fget(graph):
        value = original.fget(graph)
        return seed if value is None else value

    graph_cls.seed = property(fget, original.fset, original.fdel, original.__doc__)
    try:
        yield
    finally:
        graph_cls.seed = original


def _base_session(tf) -> type:
    return next(c for c in tf.compat.v1.Session.__mro__ if c.__name__ == "BaseSession")


@contextlib.contextmanager
def _tracked_sessions(tf, pinned: Optional[Dict[str, int]]) -> Iterator[List[weakref.ref]]:
    """Record the sessions created meanwhile (closed on exit); apply ``pinned`` to each config."""
    base = _base_session(tf)
    original = base.__dict__["__init__"]
    created: List[weakref.ref] = []
    owner = threading.get_ident()

    def __init__(self, target="", graph=None, config=None):
        if pinned:
            config = _pinned_config(tf, config, pinned)
        original(self, target, graph, config)
        if threading.get_ident() == owner:
            created.append(weakref.ref(self))

    base.__init__ = __init__
    try:
        yield created
    finally:
        base.__init__ = original
        for ref in reversed(created):
            sess = ref()
            if sess is not None:
                sess.close()


def _pinned_config(tf, config, pinned: Dict[str, int]):
    """A copy of the session's ``ConfigProto`` (TF's default when ``None``) with ``pinned`` set."""
    from tensorflow.python.eager import context  # the default TF2 gives a session

    pinned_config = tf.compat.v1.ConfigProto()
    pinned_config.CopyFrom(config if config is not None else context.context().config)
    for name, value in pinned.items():
        setattr(pinned_config, name, value)
    return pinned_config


@contextlib.contextmanager
def _swapped_modules(modules: Dict[str, Any], finder) -> Iterator[None]:
    saved = {name: sys.modules.get(name, _MISSING) for name in modules}
    sys.modules.update(modules)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for name in list(sys.modules):  # modules the finder served during the run
            if finder.served(name) and name not in saved:
                sys.modules.pop(name, None)
        for name, module in saved.items():
            if module is _MISSING:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@contextlib.contextmanager
def _patched(owner, name: str, value) -> Iterator[None]:
    original = owner.__dict__[name]
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def python_hash_seed() -> str:
    """This process's ``PYTHONHASHSEED``: the order of ``set(str)`` iteration depends on it.

    ``"random"`` when hash randomization is on without a fixed seed.
    """
    value = os.environ.get("PYTHONHASHSEED", "random")
    return "0" if not sys.flags.hash_randomization else value


def tf1_behavior(tf) -> None:
    """Switch this process to TF 1.x behaviour (``disable_v2_behavior``), once.

    Raises:
      ShimError: the process already runs TensorFlow eagerly with graphs or
        ops created, where TensorFlow can no longer switch.
    """
    if not tf.executing_eagerly() and not tf.compat.v1.resource_variables_enabled():
        return
    try:
        tf.compat.v1.disable_v2_behavior()
    except (ValueError, RuntimeError) as exc:
        raise ShimError(f"cannot switch this process to TF 1.x behaviour ({exc}); run the "
                        f"script with `tf1-lstm run`, which starts from a fresh process") from None


@contextlib.contextmanager
def installed(seed: Optional[int] = None, *, process: bool = False,
              pin_threads: bool = False) -> Iterator[Runtime]:
    """The TF1 environment for one script run; see the module docstring.

    Args:
      seed: seed Python, NumPy and every graph without its own seed; ``None``
        leaves them alone.
      process: process mode (TF 1.x behaviour for the whole process, for
        good) instead of graph-context mode.
      pin_threads: run every session with :data:`PINNED_SESSION_CONFIG`.

    Raises:
      ShimError: the facade is already installed (runs do not nest), the
        process cannot switch to TF 1.x behaviour, or (graph-context mode) the
        thread's eager mode or default graph could not be restored afterwards.
    """
    tf = tfcompat.load()
    if isinstance(sys.modules.get("tensorflow"), facade.TF1Module):
        raise ShimError("the TF1 runner is already active; runs do not nest")
    pinned = dict(PINNED_SESSION_CONFIG) if pin_threads else None
    settings = {"mode": "tf1_process" if process else "graph_context", "seed": seed,
                "session_config": pinned or {}, "python_hash_seed": python_hash_seed()}
    with contextlib.ExitStack() as stack:
        if process:
            tf1_behavior(tf)
            graphs = None
            modules = facade.build(tf)
        else:
            eager_before = tf.executing_eagerly()
            graph_before = tf.compat.v1.get_default_graph()
            graphs = DefaultGraph(tf)
            modules = facade.build(tf, graphs.reset)
        finder = facade.ModuleFinder(modules, tf.__version__)
        if seed is not None:
            stack.enter_context(seeded(seed))
            stack.enter_context(_graph_seed(tf, seed))
        stack.enter_context(_swapped_modules(modules, finder))
        if graphs is not None:
            from tensorflow.python.framework import ops

            stack.callback(_check_restored, tf, eager_before, graph_before)
            stack.callback(graphs.exit)
            stack.enter_context(_patched(ops, "reset_default_graph", graphs.reset))
        stack.enter_context(_tracked_sessions(tf, pinned))
        if graphs is not None:
            graphs.enter()
        yield Runtime(tf=tf, modules=modules, graphs=graphs, seed=seed, settings=settings)


def _check_restored(tf, eager_before: bool, graph_before) -> None:
    if (tf.executing_eagerly() != eager_before
            or tf.compat.v1.get_default_graph() is not graph_before):
        raise ShimError("the script left a graph context open (a `Graph.as_default()` or "
                        "`Session.as_default()` entered and never exited); TensorFlow's "
                        "thread state could not be restored")
