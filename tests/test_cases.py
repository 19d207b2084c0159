"""The golden cases pin what their names say, and the NumPy oracle agrees with every one."""

import numpy as np
import pytest

from tf1_lstm import cases, compare, golden, naming, reference

from conftest import GOLDEN_DIR

# LSTM cases with non-uniform weights (constant_init is uniform on purpose, as in TF's tests).
LSTM_CASES = [n for n, c in cases.CASES.items()
              if all(cell.is_lstm for cell in c.cells) and not isinstance(c.weights, float)]


def _golden(name):
    return golden.load(GOLDEN_DIR / f"{name}.npz").arrays


@pytest.mark.parametrize("name", cases.names())
def test_oracle_reproduces_every_golden(name):
    """The independent NumPy oracle, fed the golden's weights, gives the golden's arrays."""
    gold = _golden(name)
    spec = cases.get(name)
    obtained = reference.run(spec, naming.split_variables(gold))
    assert set(obtained) == set(gold)
    result = compare.compare(obtained, gold, label=f"oracle [{name}]", tolerances=spec.tolerances)
    assert result.ok, result.report()


def _mutated(spec, weights, mutate):
    weights = {k: v.copy() for k, v in weights.items()}
    for name, info in naming.layout(spec).items():
        if info.layer >= 0 and info.role in ("kernel", "bias") and spec.cells[info.layer].is_lstm:
            i, j, f, o = np.split(weights[name], 4, axis=-1)
            weights[name] = np.concatenate(mutate(i, j, f, o, spec.cells[info.layer].forget_bias,
                                                  info.role), axis=-1)
    return weights


def _swap_i_f(i, j, f, o, forget_bias, role):
    return [f, j, i, o]


def _forget_bias_on_i(i, j, f, o, forget_bias, role):
    """As if forget_bias were added to the input gate instead of the forget gate."""
    if role == "bias":
        return [i + forget_bias, j, f - forget_bias, o]
    return [i, j, f, o]


@pytest.mark.parametrize("mutation", [_swap_i_f, _forget_bias_on_i])
@pytest.mark.parametrize("name", LSTM_CASES)
def test_a_swapped_gate_or_misplaced_forget_bias_shows(name, mutation):
    """The case's weights are non-uniform enough that gate-order slips change the numbers."""
    spec = cases.get(name)
    if mutation is _forget_bias_on_i and all(c.forget_bias == 0 for c in spec.cells):
        pytest.skip("forget_bias 0: nothing to misplace")
    gold = _golden(name)
    obtained = reference.run(spec, _mutated(spec, naming.split_variables(gold), mutation))
    rest = {k: v for k, v in gold.items() if not k.startswith("variables/")}
    result = compare.compare({k: obtained[k] for k in rest}, rest, label=name)
    assert not result.ok


def test_cell_clip_binds():
    spec, gold = cases.get("cell_clip"), _golden("cell_clip")
    clip = spec.cells[0].cell_clip
    assert np.max(np.abs(gold["state/c"])) == pytest.approx(clip)
    unclipped = reference.run(spec.replace(cells=(spec.cells[0].__class__(num_units=4),)),
                              naming.split_variables(gold))
    assert np.max(np.abs(unclipped["state/c"])) > 1.5 * clip


def test_proj_clip_binds():
    spec, gold = cases.get("projection"), _golden("projection")
    assert np.sum(np.isclose(np.abs(gold["outputs"]), spec.cells[0].proj_clip)) >= 3


def test_ragged_outputs_are_zero_past_each_length_and_state_is_carried():
    spec, gold = cases.get("ragged"), _golden("ragged")
    outputs = gold["outputs"]                                         # (B, T, H)
    for b, length in enumerate(spec.sequence_length):
        assert np.all(outputs[b, length:] == 0)
        if length:
            assert np.all(outputs[b, length - 1] != 0)
            np.testing.assert_array_equal(gold["state/1/h"][b], outputs[b, length - 1])
    # length 0: the final state is the (zero) initial state
    for key in ("state/0/c", "state/0/h", "state/1/c", "state/1/h"):
        assert np.all(gold[key][2] == 0)


def test_time_major_outputs_are_time_major():
    spec, gold = cases.get("time_major"), _golden("time_major")
    assert gold["outputs"].shape == (4, 3, 4) == spec.inputs.shape[:2] + (4,)
    np.testing.assert_array_equal(gold["outputs"][-1], gold["state/h"])


def test_state_not_tuple_is_concat_c_h():
    gold = _golden("state_not_tuple")
    assert gold["state"].shape == (3, 8)
    np.testing.assert_array_equal(gold["state"][:, 4:], gold["outputs"][:, -1])


def test_constant_init_follows_tf_tests():
    """constant_initializer(0.5) on the scope: kernels 0.5, the cells' own bias init untouched."""
    spec, gold = cases.get("constant_init"), _golden("constant_init")
    expected = naming.constant_weights(spec, 0.5)
    assert set(expected) == set(naming.split_variables(gold))
    for name, value in naming.split_variables(gold).items():
        np.testing.assert_array_equal(value, expected[name])
    assert np.all(gold["variables/root/multi_rnn_cell/cell_0/lstm_cell/bias:0"] == 0)


def test_float64_cases_are_float64():
    for name in ("stacked_float64", "peepholes_float64"):
        gold = _golden(name)
        assert {v.dtype for v in gold.values()} == {np.dtype(np.float64)}


def test_gradient_cases_hold_every_gradient():
    spec, gold = cases.get("stacked_gradients"), _golden("stacked_gradients")
    want = {f"gradients/variables/{n}" for n in naming.layout(spec)}
    want |= {"gradients/inputs", "loss"} | {
        "gradients/initial_state" + k[len("state"):] for k in spec.state_keys()}
    assert want <= set(gold)
    assert gold["gradients/inputs"].shape == (2, 3, 6)
