"""What a ``.meta`` graph says about a recurrent stack that its checkpoint does not.

``Saver.save`` writes ``<prefix>.meta`` beside the checkpoint: the
``MetaGraphDef`` of the graph that was trained. A checkpoint stores the
cells' variables; the constructor options that are not variables live only in
the graph's ops. This module reads them from the ops of each cell, by data
flow from the cell's gate ``Split`` (TF 1.x's ``LSTMCell``/``BasicLSTMCell``
``call``)::

    i, j, f, o = split(BiasAdd(MatMul(concat([x, h]), kernel), bias), 4)
    Add(f, Const forget_bias) -> Sigmoid          forget_bias
    <activation>(j)                               activation (Tanh, Relu, ...)
    Maximum(Minimum(c, Const cell_clip), ...)     cell_clip   (c not from a MatMul)
    Maximum(Minimum(MatMul(m, proj), Const ...))  proj_clip   (after the projection)

``GRUCell`` and ``BasicRNNCell`` show their activation on the candidate's
``BiasAdd_1`` / the ``BiasAdd``. ``dynamic_rnn`` is seen by its ``while``
loop under the stack's scope, batch-major inputs by its input ``transpose``.

TF 1.x's control flow keeps a loop's ops in the graph (``enc/rnn/while/...``);
TF 2's ``while_v2`` puts them in functions of the graph's library
(``enc_rnn_while_body_83``). Both are read. The file is parsed as a protocol
buffer only: nothing of the graph is imported or run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from .. import tfcompat

ACTIVATION_OPS = {"Tanh": "tanh", "Relu": "relu", "Sigmoid": "sigmoid", "Softsign": "softsign",
                  "Identity": "identity"}


@dataclass
class _Graph:
    """One graph of a MetaGraphDef (the main graph, or a library function)."""

    name: str
    nodes: Dict[str, object]                       # node name -> NodeDef
    consumers: Dict[Tuple[str, int], List[str]]   # (producer, output index) -> node names


def _source(name: str, in_function: bool) -> Optional[Tuple[str, int]]:
    """``(node, output index)`` of a NodeDef input (``a:2``; ``a:output:2`` in a function)."""
    if name.startswith("^"):
        return None
    parts = name.split(":")
    if in_function:
        return (parts[0], int(parts[2]) if len(parts) == 3 else 0)
    return (parts[0], int(parts[1]) if len(parts) == 2 else 0)


def _graph(name: str, node_defs: Iterable, in_function: bool) -> _Graph:
    nodes = {n.name: n for n in node_defs}
    consumers: Dict[Tuple[str, int], List[str]] = {}
    for node in nodes.values():
        for inp in node.input:
            src = _source(inp, in_function)
            if src is not None:
                consumers.setdefault(src, []).append(node.name)
    return _Graph(name, nodes, consumers)


class MetaGraph:
    """A parsed ``.meta`` file: its graphs, searchable by op name."""

    def __init__(self, path: str):
        tf = tfcompat.load()
        meta = tf.compat.v1.MetaGraphDef()
        try:
            with open(path, "rb") as fh:
                meta.ParseFromString(fh.read())
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the meta graph ({exc.strerror or exc})") from None
        except Exception as exc:  # google.protobuf.message.DecodeError
            raise ValueError(f"{path}: not a MetaGraphDef ({exc})") from None
        self.path = path
        self._make_ndarray = tf.make_ndarray
        self.graphs = [_graph("", meta.graph_def.node, False)]
        self.graphs += [_graph(f.signature.name, f.node_def, True)
                        for f in meta.graph_def.library.function]

    def const(self, graph: _Graph, name: str) -> Optional[float]:
        node = graph.nodes.get(name)
        if node is None or node.op != "Const":
            return None
        value = np.asarray(self._make_ndarray(node.attr["value"].tensor))
        return float(value) if value.size == 1 else None

    def cell_ops(self, stack: str, relative: str, op_name: str) -> List[Tuple[_Graph, object]]:
        """The ops of a cell (``relative``: its path below the stack) named ``op_name``.

        ``op_name`` is a regular expression for the name below the cell's
        scope. In the main graph an op's name starts with the stack's scope;
        in a ``while_v2`` function, the function's name does (``/`` as ``_``).
        """
        pattern = re.compile(rf"(^|/){re.escape(relative)}/{op_name}$")
        prefix = f"{stack}/" if stack else ""
        fn_prefix = stack.replace("/", "_") + "_" if stack else ""
        found = []
        for graph in self.graphs:
            if graph.name and fn_prefix and not graph.name.startswith(fn_prefix):
                continue
            for name, node in graph.nodes.items():
                if pattern.search(name) and (graph.name or name.startswith(prefix)):
                    found.append((graph, node))
        return found

    def has_ops(self, stack: str) -> bool:
        """Whether any op of the graph (or a while_v2 function) is under ``stack``."""
        fn_prefix = stack.replace("/", "_") + "_"
        return (any(n.startswith(f"{stack}/") for n in self.graphs[0].nodes)
                or any(g.name.startswith(fn_prefix) for g in self.graphs[1:]))

    def head_activation(self, scope: str) -> Optional[str]:
        """The op after a head's ``<scope>/BiasAdd`` when it is an activation (``Relu``...)."""
        graph = self.graphs[0]
        node = graph.nodes.get(f"{scope}/BiasAdd")
        if node is None:
            return None
        for consumer in _consumer_ops(graph, node.name, 0):
            if consumer.op in ACTIVATION_OPS or consumer.op in ("Elu", "Selu", "Relu6",
                                                                "LeakyRelu", "Softmax", "Softplus"):
                return consumer.op
        return None

    def has_loop(self, stack: str) -> bool:
        """Whether a ``while`` loop runs under ``stack`` (``dynamic_rnn``)."""
        fn_prefix = stack.replace("/", "_") + "_while"
        return (any(n.startswith(f"{stack}/while/") for n in self.graphs[0].nodes)
                or any(g.name.startswith(fn_prefix) for g in self.graphs[1:]))

    def input_dims(self, stack: str) -> Tuple[Optional[int], Optional[int]]:
        """``(B, T)`` a batch-major ``dynamic_rnn``'s input placeholder fixes (``None``: free)."""
        node = self.graphs[0].nodes.get(f"{stack}/transpose")
        if node is None or node.op != "Transpose":
            return None, None
        source = self.graphs[0].nodes.get(_source(node.input[0], False)[0])
        if source is None or source.op != "Placeholder" or source.attr["shape"].shape.unknown_rank:
            return None, None
        dims = [d.size if d.size >= 0 else None for d in source.attr["shape"].shape.dim]
        return (dims[0], dims[1]) if len(dims) == 3 else (None, None)

    def time_major(self, stack: str) -> Optional[bool]:
        """False when ``dynamic_rnn`` transposed batch-major inputs, True when it did not."""
        if not self.has_loop(stack):
            return None
        node = self.graphs[0].nodes.get(f"{stack}/transpose")
        return not (node is not None and node.op == "Transpose")


def _consumer_ops(graph: _Graph, node: str, index: int) -> List[object]:
    return [graph.nodes[n] for n in graph.consumers.get((node, index), [])]


def _agreed(values: List, what: str, where: str, notes: List[str]):
    values = [v for v in values if v is not None]
    if not values:
        return None
    if any(v != values[0] for v in values):
        notes.append(f"{where}: the meta graph shows several {what} values {sorted(set(values))}; "
                     f"none taken")
        return None
    return values[0]


# The fused LSTM kernels (tf.contrib.rnn.LSTMBlockCell in TF 1.x: LSTMBlockCell; ours and
# LSTMBlockFusedCell: BlockLSTM) carry their options as attributes.
FUSED_OPS = ("LSTMBlockCell", "BlockLSTM", "BlockLSTMV2")


def fused_options(meta: MetaGraph, stack: str, relative: str, notes: List[str]
                  ) -> Optional[Dict[str, object]]:
    """``kind=LSTMBlockCell`` and its ``forget_bias``, ``cell_clip`` when a fused op runs the cell."""
    where = f"{stack}/{relative}" if stack else relative
    forget, clip = [], []
    for _, node in meta.cell_ops(stack, relative, r"(LSTMBlockCell|BlockLSTM|BlockLSTMV2)(_\d+)?"):
        if node.op in FUSED_OPS:
            forget.append(float(node.attr["forget_bias"].f))
            clip.append(float(node.attr["cell_clip"].f))
    if not forget:
        return None
    out: Dict[str, object] = {"kind": "LSTMBlockCell"}
    value = _agreed(forget, "forget_bias", where, notes)
    if value is not None:
        out["forget_bias"] = value
    bound = _agreed(clip, "cell_clip", where, notes)
    if bound is not None and bound > 0:  # the kernels clip only for cell_clip > 0
        out["cell_clip"] = bound
    return out


def lstm_options(meta: MetaGraph, stack: str, relative: str, notes: List[str]) -> Dict[str, object]:
    """``forget_bias``, ``activation``, ``cell_clip``, ``proj_clip`` of one LSTM cell."""
    fused = fused_options(meta, stack, relative, notes)
    if fused is not None:
        return fused
    where = f"{stack}/{relative}" if stack else relative
    forget, activation, cell_clip, proj_clip = [], [], [], []
    for graph, split in meta.cell_ops(stack, relative, r"split(_\d+)?"):
        if split.op != "Split":
            continue
        for node in _consumer_ops(graph, split.name, 2):             # f
            if node.op in ("Add", "AddV2"):
                other = [_source(i, bool(graph.name)) for i in node.input]
                forget += [meta.const(graph, s[0]) for s in other if s and s[0] != split.name]
        for node in _consumer_ops(graph, split.name, 1):             # j
            if node.op in ACTIVATION_OPS:
                activation.append(ACTIVATION_OPS[node.op])
    for graph, minimum in meta.cell_ops(stack, relative,
                                         r"clip_by_value(_\d+)?/Minimum(_\d+)?"):
        inputs = [_source(i, bool(graph.name)) for i in minimum.input]
        producer = graph.nodes.get(inputs[0][0]) if inputs[0] else None
        bound = meta.const(graph, inputs[1][0]) if len(inputs) > 1 and inputs[1] else None
        (proj_clip if producer is not None and producer.op == "MatMul" else cell_clip).append(bound)
    out: Dict[str, object] = {}
    for field, values in (("forget_bias", forget), ("activation", activation),
                          ("cell_clip", cell_clip), ("proj_clip", proj_clip)):
        value = _agreed(values, field, where, notes)
        if value is not None:
            out[field] = value
    if out.get("activation") == "tanh":
        del out["activation"]  # the default, as a spec writes it
    return out


def simple_options(meta: MetaGraph, stack: str, relative: str, bias_add: str,
                   notes: List[str]) -> Dict[str, object]:
    """The activation of a ``GRUCell`` (``BiasAdd_1``) or ``BasicRNNCell`` (``BiasAdd``)."""
    where = f"{stack}/{relative}" if stack else relative
    found = []
    for graph, node in meta.cell_ops(stack, relative, bias_add):
        found += [ACTIVATION_OPS[n.op] for n in _consumer_ops(graph, node.name, 0)
                  if n.op in ACTIVATION_OPS]
    value = _agreed(found, "activation", where, notes)
    return {} if value in (None, "tanh") else {"activation": value}
