"""Print results the way the seed notebook shows them.

``print(sess.run(state_new))`` in the notebook shows
``LSTMStateTuple(c=array([[...]], dtype=float32), h=array(...))``; a
``MultiRNNCell`` state is a tuple of those; an output is a NumPy array. The
same reprs are rebuilt here from named arrays, without TensorFlow.
"""

from __future__ import annotations

from typing import List, Mapping

import numpy as np

from .spec import CaseSpec


def state_repr(spec: CaseSpec, arrays: Mapping[str, np.ndarray], prefix: str = "state") -> str:
    """The repr TF1 prints for the final state (``LSTMStateTuple`` per tuple-state layer)."""
    if not spec.multi_state_is_tuple:  # one concatenated tensor
        return repr(arrays[prefix])
    parts = []
    for k, cell in enumerate(spec.cells):
        if cell.is_lstm and cell.state_is_tuple:
            c, h = (arrays[spec.state_key(k, part, prefix)] for part in ("c", "h"))
            parts.append(f"LSTMStateTuple(c={c!r}, h={h!r})")
        else:
            parts.append(repr(arrays[spec.state_key(k, "", prefix)]))
    if not spec.multi_rnn:
        return parts[0]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def reproduction(spec: CaseSpec, arrays: Mapping[str, np.ndarray], variable_table: str = "") -> str:
    """The notebook-style transcript of one case."""
    out: List[str] = [f"== {spec.name}: {spec.description}" if spec.description else f"== {spec.name}"]
    outputs = arrays["outputs"]
    if spec.driver == "call":
        out.append(">>> print(sess.run(state_new))")
        out.append(state_repr(spec, arrays))
        out.append(">>> print(sess.run(output))")
        out.append(str(outputs))
    else:
        feed = ", feed_dict={data: input_data}" if spec.feed == "placeholder" else ""
        out.append(f">>> sess.run(output{feed})")
        out.append(repr(outputs))
        out.append(f">>> sess.run(state{feed})")
        out.append(state_repr(spec, arrays))
    out.append(f"output shape: {outputs.shape}")
    last = spec.cells[-1]
    if last.is_lstm and last.state_is_tuple and spec.sequence_length is None:
        h_key = spec.state_key(len(spec.cells) - 1, "h")
        final = outputs if spec.driver == "call" else (
            outputs[-1] if spec.time_major else outputs[:, -1])
        out.append(f"output equals h: {bool(np.array_equal(final, arrays[h_key]))}")
    if "logits" in arrays:
        out.append(f"logits: {arrays['logits']!r}")
    if variable_table:
        out.append(variable_table.rstrip("\n"))
    return "\n".join(out)
