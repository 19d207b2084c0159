"""The built-in cases, as data.

``single_cell`` and ``stacked`` are the seed document's two examples, built
with exactly its calls. Further cases pin one option each; their names say
what they pin (onnx's node-test naming).
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from . import naming
from .spec import CaseSpec, CellSpec, HeadSpec, TrainSpec

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



def _inputs(shape, seed: int, scale: float = 1.0) -> np.ndarray:
    """Non-uniform inputs, rounded to 3 decimals so that they read well in JSON."""
    return np.round(np.random.default_rng(seed).normal(0.0, scale, shape), 3)


def with_random_weights(spec: CaseSpec, seed: int, scale: float = 0.5) -> CaseSpec:
    """``spec`` with explicit weights drawn uniformly from ``[-scale, scale]``, biases included.

    Non-zero, non-uniform biases and peepholes make a swapped gate or a
    misplaced ``forget_bias`` change the numbers.
    """
    rng = np.random.default_rng(seed)
    weights = {name: rng.uniform(-scale, scale, info.shape)
               for name, info in naming.layout(spec).items()}
    return spec.replace(weights=weights)


def _state(spec: CaseSpec, seed: int, scale: float = 0.5) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {key: rng.uniform(-scale, scale, shape) for key, shape in spec.state_shapes().items()}


def _option_cases() -> List[CaseSpec]:
    """Cases that pin one option each (small shapes: B=3, T=4, I=3 unless said)."""
    x = _inputs((3, 4, 3), seed=1)
    lstm = CellSpec(num_units=4)
    explicit = [
        CaseSpec(name="peepholes", description="LSTMCell(4, use_peepholes=True) with gradients",
                 cells=(CellSpec(num_units=4, use_peepholes=True),), inputs=x, gradients=True),
        CaseSpec(name="projection", description="LSTMCell(5, num_proj=3, proj_clip=0.1) that binds",
                 cells=(CellSpec(num_units=5, num_proj=3, proj_clip=0.1),), inputs=x,
                 gradients=True),
        CaseSpec(name="cell_clip", description="LSTMCell(4, cell_clip=0.2) that binds",
                 cells=(CellSpec(num_units=4, cell_clip=0.2),), inputs=_inputs((3, 4, 3), 2, 2.0)),
        CaseSpec(name="forget_bias_0", description="LSTMCell(4, forget_bias=0.0)",
                 cells=(CellSpec(num_units=4, forget_bias=0.0),), inputs=x),
        CaseSpec(name="ragged", description="two layers, sequence_length [4, 2, 0]: zero outputs, "
                 "carried state", cells=(lstm, CellSpec(num_units=3)), multi_rnn=True, inputs=x,
                 sequence_length=(4, 2, 0), gradients=True),
        CaseSpec(name="time_major", description="dynamic_rnn(time_major=True) on (T, B, I) inputs",
                 cells=(lstm,), inputs=_inputs((4, 3, 3), seed=3), time_major=True,
                 gradients=True),
        CaseSpec(name="state_not_tuple", description="LSTMCell(4, state_is_tuple=False): "
                 "state is concat([c, h])", cells=(CellSpec(num_units=4, state_is_tuple=False),),
                 inputs=x),
        CaseSpec(name="peepholes_float64", description="peepholes, projection and cell_clip in "
                 "float64, ragged, with gradients",
                 cells=(CellSpec(num_units=4, use_peepholes=True, num_proj=3, cell_clip=0.5),),
                 inputs=x, dtype="float64", sequence_length=(4, 1, 3), gradients=True),
        CaseSpec(name="block_lstm", description="tf.contrib.rnn.LSTMBlockCell(4, "
                 "use_peephole=True, cell_clip=0.5, forget_bias=0.5) on the fused BlockLSTM "
                 "kernel, ragged, with gradients",
                 cells=(CellSpec(kind="LSTMBlockCell", num_units=4, use_peepholes=True,
                                 cell_clip=0.5, forget_bias=0.5),),
                 inputs=x, sequence_length=(4, 1, 3), gradients=True),
        CaseSpec(name="static_rnn_scoped", description="static_rnn(scope='encoder') of two "
                 "layers under variable_scope('model'), ragged: model/encoder/... variables",
                 cells=(lstm, CellSpec(kind="GRUCell", num_units=3)), multi_rnn=True, inputs=x,
                 driver="static_rnn", scope="model", rnn_scope="encoder",
                 sequence_length=(4, 2, 1), gradients=True),
        CaseSpec(name="dense_head", description="LSTMCell(5) with a tf.layers.dense(3) head "
                 "(dense/kernel, dense/bias) on the last output",
                 cells=(CellSpec(num_units=5),), inputs=x,
                 head=HeadSpec(num_outputs=3, scope="dense", layer="dense"), gradients=True),
        CaseSpec(name="stacked_float16", description="two layers (LSTMCell(4), GRUCell(3)) in "
                 "float16, ragged: TF's half-precision kernels (forward only)",
                 cells=(lstm, CellSpec(kind="GRUCell", num_units=3)), multi_rnn=True, inputs=x,
                 dtype="float16", sequence_length=(4, 2, 1)),
    ]
    explicit = [with_random_weights(c, seed=100 + k) for k, c in enumerate(explicit)]
    stacked = CaseSpec(name="initial_state", description="two layers from a non-zero initial "
                       "state", cells=(lstm, CellSpec(num_units=3)), multi_rnn=True, inputs=x,
                       gradients=True)
    explicit.append(with_random_weights(stacked.replace(initial_state=_state(stacked, 7)), 120))

    seeded = [
        CaseSpec(name="stacked_gradients", description="the document's stacked graph: "
                 "gradients of the loss w.r.t. every variable, the inputs and the initial state",
                 cells=(lstm, CellSpec(num_units=5)), multi_rnn=True,
                 placeholder_shape=(None, None, 6), inputs=DOC_STACKED_INPUT, gradients=True),
        CaseSpec(name="stacked_float64", description="the document's stacked graph in float64",
                 cells=(lstm, CellSpec(num_units=5)), multi_rnn=True,
                 placeholder_shape=(None, None, 6), inputs=DOC_STACKED_INPUT, dtype="float64",
                 gradients=True),
        CaseSpec(name="basic_lstm", description="BasicLSTMCell(4)",
                 cells=(CellSpec(kind="BasicLSTMCell", num_units=4),), inputs=x, gradients=True),
        CaseSpec(name="three_layer", description="MultiRNNCell of LSTMCell(3), (4), (2)",
                 cells=(CellSpec(num_units=3), lstm, CellSpec(num_units=2)), multi_rnn=True,
                 inputs=x, gradients=True),
        CaseSpec(name="gru", description="GRUCell(4) (gates/ and candidate/ variables)",
                 cells=(CellSpec(kind="GRUCell", num_units=4),), inputs=x, gradients=True),
        CaseSpec(name="basic_rnn", description="BasicRNNCell(4)",
                 cells=(CellSpec(kind="BasicRNNCell", num_units=4),), inputs=x, gradients=True),
        CaseSpec(name="slim_head", description="LSTMCell(6) with a tf-slim fully_connected(3) "
                 "head on the last output, as legacy sequence classifiers were written",
                 cells=(CellSpec(num_units=6),), inputs=x, head=HeadSpec(num_outputs=3),
                 gradients=True),
        CaseSpec(name="cell_initializer", description="LSTMCell(4, initializer="
                 "random_uniform_initializer(-0.1, 0.1)) and GRUCell(3, kernel_initializer="
                 "orthogonal_initializer()): the cells' own seeded initializers",
                 cells=(CellSpec(num_units=4, initializer=("random_uniform", -0.1, 0.1)),
                        CellSpec(kind="GRUCell", num_units=3, initializer=("orthogonal", 1.0))),
                 multi_rnn=True, inputs=x, gradients=True),
        CaseSpec(name="constant_init", description="two LSTMCell(2) under "
                 "variable_scope(initializer=constant_initializer(0.5)), as TF's own tests do",
                 cells=(CellSpec(num_units=2), CellSpec(num_units=2)), multi_rnn=True,
                 driver="call", scope="root", inputs=[[0.1, 0.2], [0.3, 0.4]], weights=0.5),
    ]
    return explicit + seeded


# Significant digits kept of a rescaling factor computed with LAPACK: np.linalg.eigvals'
# last bits depend on the OpenBLAS kernel (measured: 4 ulp between SkylakeX and Haswell),
# and goldens must be the same bytes on every machine.
_FACTOR_DIGITS = 9


def _with_recurrent_radius(spec: CaseSpec, radius: float) -> CaseSpec:
    """Rescale each recurrent block of every kernel (rows ``I:``) to spectral radius ``radius``.

    The factor ``radius / rho(block)`` is rounded to :data:`_FACTOR_DIGITS`
    significant digits, so the weights do not depend on which BLAS kernel
    computed the eigenvalues (the radius is then ``radius`` to 1e-9).
    """
    weights = dict(spec.weights)
    for name, info in naming.layout(spec).items():
        if info.role.endswith("kernel") and info.layer >= 0 and "projection" not in info.role:
            kernel = weights[name].copy()
            depth = info.shape[0] - spec.cells[info.layer].num_units
            for block in np.split(kernel[depth:], info.shape[1] // (info.shape[0] - depth), axis=1):
                rho = float(np.max(np.abs(np.linalg.eigvals(block))))
                block *= float(f"{radius / rho:.{_FACTOR_DIGITS}g}")
            weights[name] = kernel
    return spec.replace(weights=weights)


GRADIENT_FLOW_T = 500


def _gradient_flow_cases() -> List[CaseSpec]:
    """The seed's exploding / vanishing argument, measured: ``|d h_T / d x_t|`` for every t.

    ``explode_1_01`` and ``vanish_0_99`` are the document's arithmetic as a
    network: a one-unit linear RNN whose recurrent weight is 1.01 (0.99), so
    ``d h_500 / d x_0 = 1.01 ** 500 = 144.77`` (``0.99 ** 500 = 0.00657``).
    The others compare a plain RNN with an LSTM at T = 500 on the same seeded
    inputs, in float64 so that tiny norms do not underflow.
    """
    def scalar(name, weight, words):
        return CaseSpec(
            name=name, description=f"linear BasicRNNCell(1), recurrent weight {weight}: "
            f"d h_500 / d x_0 = {weight}**500 ({words})",
            cells=(CellSpec(kind="BasicRNNCell", num_units=1, activation="identity"),),
            inputs=np.ones((1, GRADIENT_FLOW_T + 1, 1)), dtype="float64", jacobian=True,
            weights={"rnn/basic_rnn_cell/kernel:0": [[1.0], [weight]],
                     "rnn/basic_rnn_cell/bias:0": [0.0]})

    x = _inputs((1, GRADIENT_FLOW_T, 1), seed=5)
    rnn, lstm = CellSpec(kind="BasicRNNCell", num_units=4), CellSpec(num_units=4)
    linear = CellSpec(kind="BasicRNNCell", num_units=4, activation="identity")

    def measured(name, cell, words, radius=None):
        spec = CaseSpec(name=name, description=f"{cell.kind}(4), T={GRADIENT_FLOW_T}: {words}",
                        cells=(cell,), inputs=x, dtype="float64", jacobian=True)
        spec = with_random_weights(spec, seed=11, scale=0.5)
        return _with_recurrent_radius(spec, radius) if radius else spec

    return [
        scalar("explode_1_01", 1.01, "exploding"),
        scalar("vanish_0_99", 0.99, "vanishing"),
        measured("rnn_vanishing", rnn, "tanh, weights in [-0.5, 0.5]: the gradient vanishes"),
        measured("lstm_vanishing", lstm, "the same weight scale: the gradient decays far slower"),
        measured("rnn_exploding", linear, "linear, recurrent spectral radius 1.02: the "
                 "gradient explodes", radius=1.02),
        measured("lstm_exploding", lstm, "recurrent blocks of spectral radius 1.02: the gates "
                 "keep the gradient bounded", radius=1.02),
    ]


def _training_cases() -> List[CaseSpec]:
    """Next-step prediction of the seed's repeating 1, 2, 3 pattern, a few optimizer steps."""
    pattern = np.array(DOC_SINGLE_INPUT[0] * 2, dtype=float)       # 1 2 3 1 2 3 1 2 3 1 2 3
    windows = np.stack([pattern[k:k + 4] for k in range(3)])[..., None]   # (3, 4, 1)
    targets = np.stack([pattern[k + 4:k + 5] for k in range(3)])          # (3, 1)
    out = []
    for optimizer, rate in (("sgd", 0.05), ("adam", 0.05)):
        out.append(CaseSpec(
            name=f"train_{optimizer}",
            description=f"LSTMCell(4) + fully_connected(1) trained 20 steps with "
                        f"{'GradientDescent' if optimizer == 'sgd' else 'Adam'}Optimizer({rate}) "
                        f"to predict the next value of 1, 2, 3, 1, ...",
            cells=(CellSpec(num_units=4),), inputs=windows, head=HeadSpec(num_outputs=1),
            train=TrainSpec(optimizer=optimizer, learning_rate=rate, steps=20, targets=targets)))
    return out


_CASES += _option_cases() + _gradient_flow_cases() + _training_cases()
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
