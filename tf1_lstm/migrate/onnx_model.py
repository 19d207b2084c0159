"""ONNX target: one ``LSTM``, ``GRU`` or ``RNN`` node per layer, run with onnxruntime.

The graph (opset :data:`OPSET`), batch-major like ``dynamic_rnn``'s default::

    inputs (B, T, I) -> Transpose -> X_0 (T, B, I)
    LSTM_k(X_k, W_k, R_k, B_k, sequence_length, initial_h_k, initial_c_k, P_k)
        -> Y (T, 1, B, H) -> Squeeze -> X_{k+1};  Y_h, Y_c (1, B, H) -> state_h_k, state_c_k
    GRU_k / RNN_k(X_k, W_k, R_k, B_k, sequence_length, initial_h_k)
        -> Y -> Squeeze -> X_{k+1};  Y_h -> state_h_k
    X_n -> Transpose -> outputs (B, T, H);  outputs[:, -1] @ head/W + head/b -> logits

Layers of different kinds stack as nodes do (a ``MultiRNNCell`` of an
``LSTMCell`` and a ``GRUCell`` is an ``LSTM`` node and a ``GRU`` node).
TF1's ``GRUCell`` is a ``GRU`` node with ``linear_before_reset=0`` (the
reset gate multiplies ``h`` before the recurrent matmul, the default);
``BasicRNNCell`` is an ``RNN`` node; ``activation=`` is the node's
``activations`` (``Affine`` with alpha 1, beta 0 for identity).

Graph inputs: ``inputs`` (float32 ``[B, T, I]``), ``sequence_length``
(int32 ``[B]``, with a ``sequence_length`` spec) and ``initial_h_k`` /
``initial_c_k`` (``[B, H]``, with an explicit initial state; no ``c`` for a
GRU or RNN layer). Graph outputs: ``outputs``, ``state_c_k``, ``state_h_k``
and ``logits`` (with a head).

``sequence_length`` becomes ONNX's ``sequence_lens``: onnxruntime zeroes
``Y`` past each length and returns the state after the last step, as TF1.
For length 0 it returns a *zero* state where TF1 returns the initial state,
so with an explicit initial state each ``Y_h``/``Y_c`` goes through
``Where(sequence_length > 0, Y_h, initial_h)``.

onnxruntime cannot run ``layout=1`` (batch-major) LSTM, GRU or RNN nodes,
hence the Transposes; nor double ones (float64 is not expressible here).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

import numpy as np

from ..spec import CaseSpec
from . import runner
from .layouts import layout

OPSET = 17
IR_VERSION = 8  # what onnxruntime >= 1.14 reads


def _onnx():
    import onnx  # optional extra: pip install 'tf1-lstm[onnx]'

    return onnx


def build(spec: CaseSpec, weights: Mapping[str, np.ndarray]):
    """The ``onnx.ModelProto`` of ``spec``, ``weights`` (:mod:`convert` names) as initializers."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    f32 = TensorProto.FLOAT
    nodes: List[Any] = []
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in weights.items()]
    inits += [numpy_helper.from_array(np.array([0], np.int64), "axes_0"),
              numpy_helper.from_array(np.array([1], np.int64), "axes_1")]
    graph_inputs = [helper.make_tensor_value_info("inputs", f32, ["B", "T", spec.input_depth])]
    graph_outputs = []
    lengths = ""
    if spec.sequence_length is not None:
        lengths = "sequence_length"
        graph_inputs.append(helper.make_tensor_value_info(lengths, TensorProto.INT32, ["B"]))
        nodes += [helper.make_node("Greater", [lengths, "zero_i32"], ["ran"]),
                  helper.make_node("Unsqueeze", ["ran", "axes_1"], ["ran_b1"])]
        inits.append(numpy_helper.from_array(np.array(0, np.int32), "zero_i32"))
    nodes.append(helper.make_node("Transpose", ["inputs"], ["X_0"], perm=[1, 0, 2]))
    explicit = isinstance(spec.initial_state, Mapping)
    for k, cell in enumerate(spec.cells):
        h = cell.num_units
        lay = layout("onnx", cell)
        parts = lay.state                                                # ("h", "c") or ("h",)
        init = {p: "" for p in parts}
        if explicit:
            for part in parts:
                name = f"initial_{part}_{k}"
                graph_inputs.append(helper.make_tensor_value_info(name, f32, ["B", h]))
                nodes.append(helper.make_node("Unsqueeze", [name, "axes_0"], [name + "_3d"]))
                init[part] = name + "_3d"
        attrs: Dict[str, Any] = {"hidden_size": h, "direction": "forward"}
        act = lay.activations[cell.activation or "tanh"]
        if lay.family == "lstm":
            op = "LSTM"
            peep = f"P_{k}" if cell.use_peepholes else ""
            node_inputs = [init["h"], init["c"], peep]
            activations = ["Sigmoid", act, act]
        else:
            op = "GRU" if lay.family == "gru" else "RNN"
            node_inputs = [init["h"]]
            activations = ["Sigmoid", act] if lay.family == "gru" else [act]
            if lay.family == "gru":
                attrs["linear_before_reset"] = 0  # TF1's GRUCell: r * h before the matmul
        if act != "Tanh":
            attrs["activations"] = activations
            if act == "Affine":  # Affine(x) = alpha * x + beta, once per Affine
                n_affine = activations.count("Affine")
                attrs["activation_alpha"] = [1.0] * n_affine
                attrs["activation_beta"] = [0.0] * n_affine
        node_outputs = [f"Y_{k}"] + [f"Y_{p}_{k}" for p in parts]
        nodes.append(helper.make_node(
            op, [f"X_{k}", f"W_{k}", f"R_{k}", f"B_{k}", lengths] + node_inputs,
            node_outputs, name=f"{op.lower()}_{k}", **attrs))
        nodes.append(helper.make_node("Squeeze", [f"Y_{k}", "axes_1"], [f"X_{k + 1}"]))
        for part in sorted(parts):                                       # c, then h
            state = f"state_{part}_{k}"
            if explicit and lengths:
                ran = state + "_run"
                nodes += [helper.make_node("Squeeze", [f"Y_{part}_{k}", "axes_0"], [ran]),
                          helper.make_node("Where", ["ran_b1", ran, f"initial_{part}_{k}"], [state])]
            else:
                nodes.append(helper.make_node("Squeeze", [f"Y_{part}_{k}", "axes_0"], [state]))
            graph_outputs.append(helper.make_tensor_value_info(state, f32, ["B", h]))
    n = len(spec.cells)
    out_depth = spec.cells[-1].output_size
    nodes.append(helper.make_node("Transpose", [f"X_{n}"], ["outputs"], perm=[1, 0, 2]))
    graph_outputs.insert(0, helper.make_tensor_value_info("outputs", f32, ["B", "T", out_depth]))
    if spec.head is not None:
        inits.append(numpy_helper.from_array(np.array(-1, np.int64), "last"))
        nodes += [helper.make_node("Gather", ["outputs", "last"], ["last_output"], axis=1),
                  helper.make_node("MatMul", ["last_output", "head/W"], ["head_mm"]),
                  helper.make_node("Add", ["head_mm", "head/b"], ["logits"])]
        graph_outputs.append(helper.make_tensor_value_info("logits", f32,
                                                           ["B", spec.head.num_outputs]))
    graph = helper.make_graph(nodes, "tf1_lstm_" + spec.name, graph_inputs, graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tf1_lstm")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def get_weights(model) -> Dict[str, np.ndarray]:
    """The initializers that hold weights (``W_k``, ``R_k``, ``B_k``, ``P_k``, ``head/...``)."""
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer
            if t.name.split("_")[0] in ("W", "R", "B", "P") or t.name.startswith("head/")}


def session(model):
    """An onnxruntime CPU session for ``model``, one thread (the cases are small)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def forward(spec: CaseSpec, model, given: runner.Inputs) -> runner.Outputs:
    sess = session(model)
    feeds: Dict[str, np.ndarray] = {"inputs": given.x.astype(np.float32)}
    if spec.sequence_length is not None:
        feeds["sequence_length"] = given.lengths.astype(np.int32)
    if isinstance(spec.initial_state, Mapping):
        for k, state in enumerate(given.initial):
            feeds.update({f"initial_{p}_{k}": v.astype(np.float32) for p, v in state.items()})
    names = [o.name for o in sess.get_outputs()]
    values = dict(zip(names, sess.run(names, feeds)))
    final = [{p: values[f"state_{p}_{k}"] for p in runner.state_parts(cell)}
             for k, cell in enumerate(spec.cells)]
    return runner.Outputs(values["outputs"], final, values.get("logits"))


TARGET = runner.Target("onnx", build, forward, get_weights)


def save(model, path: str) -> None:
    """``onnx.save`` (``.onnx``). Raises ``ValueError`` for another suffix."""
    if not str(path).endswith(".onnx"):
        raise ValueError(f"{path}: an ONNX model file ends in '.onnx'")
    _onnx().save(model, str(path))


def load(spec: CaseSpec, path: str):
    """The model a ``.onnx`` file holds (``spec`` is not needed; kept for a uniform interface)."""
    return _onnx().load(str(path))
