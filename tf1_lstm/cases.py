"""The built-in cases, as data.

``single_cell`` and ``stacked`` are the seed document's two examples, built
with exactly its calls. Further cases pin one option each; their names say
what they pin (onnx's node-test naming).
"""

from __future__ import annotations

from typing import Dict, List

from .spec import CaseSpec, CellSpec

SEED = 42

# The document's inputs, verbatim.
DOC_SINGLE_INPUT = [[1, 2, 3, 1, 2, 3]]
DOC_STACKED_INPUT = [[[1, 2, 3, 4, 5, 6], [1, 2, 3, 5, 6, 4], [1, 2, 1, 2, 5, 6]],
                     [[1, 2, 3, 4, 1, 2], [1, 1, 2, 2, 3, 4], [4, 5, 6, 1, 2, 3]]]

_CASES: List[CaseSpec] = [
    CaseSpec(
        name="single_cell",
        description="the document's one LSTMCell(4) step under variable_scope('LSTM_sample1')",
        cells=(CellSpec(num_units=4, name="basic_lstm_cell"),),
        driver="call",
        scope="LSTM_sample1",
        feed="constant",
        initial_state="zeros",
        inputs=DOC_SINGLE_INPUT,
        seed=SEED,
    ),
    CaseSpec(
        name="stacked",
        description="the document's MultiRNNCell([LSTMCell(4), LSTMCell(5)]) through dynamic_rnn",
        cells=(CellSpec(num_units=4), CellSpec(num_units=5)),
        multi_rnn=True,
        driver="dynamic_rnn",
        feed="placeholder",
        placeholder_shape=(None, None, 6),
        inputs=DOC_STACKED_INPUT,
        seed=SEED,
    ),
]

CASES: Dict[str, CaseSpec] = {case.name: case for case in _CASES}


def names() -> List[str]:
    return list(CASES)


def get(name: str) -> CaseSpec:
    """The built-in case ``name``.

    Raises:
      ValueError: an unknown name; the message lists the known ones.
    """
    try:
        return CASES[name]
    except KeyError:
        raise ValueError(f"unknown case {name!r}; known cases: {', '.join(CASES)}") from None


def select(selected: List[str]) -> List[CaseSpec]:
    """Cases by name (``all`` or nothing: every case), in registry order."""
    if not selected or selected == ["all"]:
        return list(CASES.values())
    return [get(name) for name in selected]
