"""The seed's exploding / vanishing argument, checked on the measured goldens."""

import numpy as np
import pytest

from tf1_lstm import cases, golden

from conftest import GOLDEN_DIR


def _norms(name):
    """|d h_T / d x_t| for t = 0 .. T-1 of the case's only example."""
    return golden.load(GOLDEN_DIR / f"{name}.npz").arrays["jacobian_norms"][0]


def _at_lag(norms, lag):
    return norms[len(norms) - 1 - lag]


@pytest.mark.parametrize("name, weight, printed", [
    ("explode_1_01", 1.01, "144.77"),
    ("vanish_0_99", 0.99, "0.00657"),
])
def test_the_documents_arithmetic_measured_through_tf(name, weight, printed):
    """(1.01)^500 = 144.77 and (0.99)^500 = 0.00657, as d h_500 / d x_0 of a linear RNN."""
    norms = _norms(name)
    assert len(norms) == 501
    assert norms[0] == pytest.approx(weight ** 500, rel=1e-12)
    assert f"{norms[0]:.{len(printed.split('.')[1])}f}".rstrip("0") == printed.rstrip("0") or \
        f"{norms[0]:.3g}" == printed
    np.testing.assert_allclose(norms, weight ** np.arange(500, -1, -1.0), rtol=1e-12)


def test_lstm_gradient_decays_far_slower_than_the_plain_rnns():
    """Same weight scale, same inputs: the LSTM keeps orders of magnitude more gradient."""
    rnn, lstm = _norms("rnn_vanishing"), _norms("lstm_vanishing")
    assert len(rnn) == len(lstm) == cases.GRADIENT_FLOW_T
    for lag in (50, 100, 200):
        rnn_kept = _at_lag(rnn, lag) / _at_lag(rnn, 0)
        lstm_kept = _at_lag(lstm, lag) / _at_lag(lstm, 0)
        assert rnn_kept < 1e-6, "the plain RNN's gradient should vanish"
        assert lstm_kept > 1e6 * rnn_kept
    # decay per step, fitted over lags 10..100 (log-linear)
    lags = np.arange(10, 101)
    rnn_rate = np.polyfit(lags, np.log([_at_lag(rnn, k) for k in lags]), 1)[0]
    lstm_rate = np.polyfit(lags, np.log([_at_lag(lstm, k) for k in lags]), 1)[0]
    assert rnn_rate < 2 * lstm_rate < 0


def test_linear_rnn_explodes_where_the_lstm_stays_bounded():
    rnn, lstm = _norms("rnn_exploding"), _norms("lstm_exploding")
    assert _at_lag(rnn, 499) > 1e3 * _at_lag(rnn, 0)
    assert np.max(lstm) < 10 * _at_lag(lstm, 0)
