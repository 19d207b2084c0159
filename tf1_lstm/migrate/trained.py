"""The trained graph itself, restored from its ``.meta`` and checkpoint, run on a spec's inputs.

A conversion rebuilds the model from a spec; what the spec does not say (a
wrapper whose variables look like a plain cell's, an op the inference cannot
see) would make the rebuild and the converted file agree with each other and
not with the model that was trained. So when the meta graph is there, the
graph that was trained is imported (``import_meta_graph``), the checkpoint
restored into it (``Saver.restore``), and the stack's input fed the spec's
inputs::

    dynamic_rnn, batch-major:  <stack>/transpose   (B, T, I) -> (T, B, I): its input is fed
                               <stack>/transpose_1 (T, B, H) -> (B, T, H): the outputs
    a head on the last output: <head scope>/BiasAdd (B, N): the logits

A graph this cannot run as such (a time-major stack, dropout in the stack,
placeholders besides the input) is not compared, and the reason is returned.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from .. import tfcompat
from ..spec import CaseSpec


def run(prefix: str, spec: CaseSpec, stack: str) -> Tuple[Optional[Dict[str, np.ndarray]], str]:
    """``(arrays, "")``: ``outputs`` (and ``logits``) of the trained graph; or ``(None, why not)``."""
    tf = tfcompat.load()
    v1 = tf.compat.v1
    if spec.driver != "dynamic_rnn" or spec.time_major:
        return None, "only batch-major dynamic_rnn stacks are run in their trained graph"
    graph = tf.Graph()
    with graph.as_default():
        try:
            saver = v1.train.import_meta_graph(prefix + ".meta", clear_devices=True)
        except Exception as exc:  # an op this TensorFlow lacks, a damaged file
            return None, f"its meta graph does not import here ({str(exc).splitlines()[0]})"
        if saver is None:
            return None, "its meta graph holds no variables to restore"
        names = {op.name: op for op in graph.get_operations()}
        first, last = names.get(f"{stack}/transpose"), names.get(f"{stack}/transpose_1")
        if first is None or last is None:
            return None, f"no {stack}/transpose around the loop (not dynamic_rnn's batch-major form)"
        if any("dropout" in name.lower() for name in names if name.startswith(stack + "/")):
            return None, "the trained graph applies dropout in the stack (a DropoutWrapper)"
        fetches = {"outputs": last.outputs[0]}
        head = names.get(f"{spec.head.scope}/BiasAdd") if spec.head is not None else None
        if head is not None:
            fetches["logits"] = head.outputs[0]
        config = v1.ConfigProto(inter_op_parallelism_threads=1)
        with v1.Session(graph=graph, config=config) as sess:
            try:
                saver.restore(sess, prefix)
                values = sess.run(fetches, {first.inputs[0]: np.asarray(spec.inputs)})
            except ValueError as exc:  # a fed shape the graph does not take
                return None, f"it does not take the spec's inputs ({str(exc).splitlines()[0]})"
            except tf.errors.OpError as exc:
                lines = [line.strip() for line in exc.message.splitlines() if line.strip()
                         and not line.startswith("Graph execution error")]
                why = next((line for line in lines if "feed" in line), lines[-1] if lines else "")
                return None, f"it does not run on the spec's inputs alone ({why[:200]})"
    out = {"outputs": values["outputs"]}
    if "logits" in values:  # a head on every step has other shapes: the comparison says so
        out["logits"] = values["logits"]
    return out, ""
