"""Install the TF1 facade for the duration of a run, and put everything back afterwards.

:func:`installed` is a context manager. On entry it

1. loads the real TensorFlow through :func:`tf1_lstm.tfcompat.load` (which
   also imports tf-keras, so tf-keras holds the real module before the swap),
2. puts the facade (:mod:`tf1_lstm.runner.facade`) into ``sys.modules`` as
   ``tensorflow``, ``tensorflow.contrib``, ``tensorflow.contrib.rnn`` (and
   stand-ins for removed contrib submodules), and a finder on
   ``sys.meta_path`` that names the replacement of removed modules,
3. makes a fresh ``tf.Graph`` the default graph (graph mode, see below),
4. with a seed: seeds Python's ``random`` and NumPy, and gives every graph
   without a graph-level seed that seed (``tf.Graph.seed``), so that
   unseeded scripts and the graphs they create themselves are reproducible.

On exit it closes the sessions the script left open, leaves the graph, and
restores ``sys.modules``, ``sys.meta_path``, ``tf.Graph.seed`` and the random
states; it raises :class:`ShimError` if the thread is not back in the eager
mode and on the default graph it started with.

Graph mode without touching the process: ``tf.compat.v1.disable_eager_execution()``
is process-wide and cannot be undone once graphs exist, which would break
every later TF2 user in the process (tf-keras, other tests). The script runs
inside ``with graph.as_default():`` instead, where TF builds graphs exactly as
TF1 did (``tf.executing_eagerly()`` is ``False``, ``tf.Session()`` runs the
default graph). ``tf.reset_default_graph()`` would refuse inside that
context ("nested graphs"), so the facade's version leaves the runner's graph
and enters a fresh one; like TF1 it refuses while the script has its own
graph or a ``with tf.Session()`` open. The script's
``tf.disable_eager_execution()`` and ``tf.disable_v2_behavior()`` are
no-ops; ``tf.enable_eager_execution()`` is refused. What differs from TF 1.x:
variables are resource variables and ``tf.while_loop`` is control flow v2
(TF2's defaults, which compute the same functions), and the default graph
belongs to the thread running the script (TF's default-graph stack is
thread-local), so threads the script starts see eager mode.

Because nothing process-wide changes, scripts can run in-process (tests,
the pytest plugin) as well as one per process (the CLI). One limit of
in-process runs: a script that defines absl flags (``tf.app.flags``) runs
once per process, since absl's flag registry is global.
"""

from __future__ import annotations

import contextlib
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


@dataclass
class Runtime:
    """What :func:`installed` set up: the real ``tf``, the facade modules, the graph."""

    tf: Any
    modules: Dict[str, Any]
    graphs: DefaultGraph
    seed: Optional[int]


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


@contextlib.contextmanager
def _tracked_sessions(tf) -> Iterator[List[weakref.ref]]:
    """Record the sessions created meanwhile, and close those still open on exit."""
    base = next(c for c in tf.compat.v1.Session.__mro__ if c.__name__ == "BaseSession")
    original = base.__dict__["__init__"]
    created: List[weakref.ref] = []
    owner = threading.get_ident()

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
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
        for name, module in saved.items():
            if module is _MISSING:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@contextlib.contextmanager
def installed(seed: Optional[int] = None) -> Iterator[Runtime]:
    """The TF1 environment for one script run; see the module docstring.

    Args:
      seed: seed Python, NumPy and every graph without its own seed; ``None``
        leaves them alone.

    Raises:
      ShimError: the facade is already installed (runs do not nest), or the
        thread's eager mode or default graph could not be restored afterwards.
    """
    tf = tfcompat.load()
    if isinstance(sys.modules.get("tensorflow"), facade.TF1Module):
        raise ShimError("the TF1 runner is already active; runs do not nest")
    eager_before = tf.executing_eagerly()
    graph_before = tf.compat.v1.get_default_graph()
    graphs = DefaultGraph(tf)
    modules = facade.build(tf, graphs.reset)
    finder = facade.ContribFinder(modules, tf.__version__)
    with contextlib.ExitStack() as stack:
        if seed is not None:
            stack.enter_context(seeded(seed))
            stack.enter_context(_graph_seed(tf, seed))
        stack.enter_context(_swapped_modules(modules, finder))
        stack.callback(_check_restored, tf, eager_before, graph_before)
        stack.callback(graphs.exit)
        stack.enter_context(_tracked_sessions(tf))
        graphs.enter()
        yield Runtime(tf=tf, modules=modules, graphs=graphs, seed=seed)


def _check_restored(tf, eager_before: bool, graph_before) -> None:
    if (tf.executing_eagerly() != eager_before
            or tf.compat.v1.get_default_graph() is not graph_before):
        raise ShimError("the script left a graph context open (a `Graph.as_default()` or "
                        "`Session.as_default()` entered and never exited); TensorFlow's "
                        "thread state could not be restored")
