"""Comparison order and reports, in numpy.testing's words."""

import numpy as np
import pytest

from tf1_lstm import compare as cmp


def test_report_names_count_errors_and_worst_index():
    expected = {"outputs": np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)}
    obtained = {"outputs": np.array([[1.0, 2.0], [3.0, 4.5]], np.float32)}
    result = cmp.compare(obtained, expected, label="math [demo]")
    assert not result.ok
    [bad] = result.mismatches
    assert (bad.mismatched, bad.size, bad.worst_index) == (1, 4, (1, 1))
    assert bad.max_abs == pytest.approx(0.5) and bad.max_rel == pytest.approx(0.125)
    text = result.report("to regenerate: x")
    assert text.splitlines()[0] == "math [demo]: FAILED"
    assert "array 'outputs' (rtol=1e-05, atol=1e-06)" in text
    assert "Mismatched elements: 1 / 4 (25%)" in text
    assert "Worst index (1, 1): obtained 4.5, expected 4." in text
    assert text.splitlines()[-1].strip() == "to regenerate: x"


def test_structure_is_checked_key_set_then_dtype_then_shape():
    expected = {"a": np.zeros(2, np.float32), "b": np.zeros(2, np.float32),
                "c": np.zeros(2, np.float32), "gone": np.zeros(1)}
    obtained = {"a": np.zeros(2, np.float64), "b": np.zeros(3, np.float32),
                "c": np.zeros(2, np.float32), "new": np.zeros(1)}
    result = cmp.compare(obtained, expected, label="x")
    assert result.structural == [
        "arrays expected but not obtained: ['gone']",
        "arrays obtained but not expected: ['new']",
        "array 'a' has dtype float64, expected float32",
        "array 'b' has shape (3,), expected (2,)",
    ]
    assert [a.name for a in result.arrays] == ["c"]  # values only where the structure agrees
    assert not result.ok


def test_tolerance_boundary():
    rtol, atol = cmp.default_tolerance(np.float64)
    expected = np.array([2.0])
    inside = expected + (atol + rtol * 2.0) * 0.5
    outside = expected + (atol + rtol * 2.0) * 2.0
    assert cmp.compare_array("x", inside, expected, rtol, atol).ok
    assert not cmp.compare_array("x", outside, expected, rtol, atol).ok


def test_nan_and_inf_never_match():
    expected = np.array([1.0, 2.0, 3.0], np.float32)
    obtained = np.array([1.0, np.nan, np.inf], np.float32)
    report = cmp.compare_array("h", obtained, expected, 1e-5, 1e-6)
    assert report.mismatched == 2 and report.nonfinite == 2
    assert "Obtained NaN or infinity in 2 element(s)" in "\n".join(report.lines())


def test_per_array_override_and_exact_integers():
    expected = {"x": np.array([1.0], np.float32), "n": np.array([3], np.int32)}
    obtained = {"x": np.array([1.01], np.float32), "n": np.array([4], np.int32)}
    result = cmp.compare(obtained, expected, label="t", tolerances={"x": (0.1, 0.0)})
    assert [a.name for a in result.mismatches] == ["n"]


def test_float32_default_catches_a_1e_3_change_of_an_order_one_value():
    rtol, atol = cmp.default_tolerance(np.float32)
    assert not cmp.compare_array("x", np.float32([0.501]), np.float32([0.5]), rtol, atol).ok


def test_complex_values_compare_both_parts():
    expected = {"x": np.array([1 + 1j, 2 + 2j], np.complex64)}
    assert not cmp.compare({"x": np.array([1 + 5j, 2 - 7j], np.complex64)}, expected, label="c").ok
    assert cmp.compare({"x": expected["x"].copy()}, expected, label="c").ok
    report = cmp.compare_array("x", np.array([1 + 1j, 2 + 3j]), np.array([1 + 1j, 2 + 2j]), 1e-5, 0)
    assert report.mismatched == 1 and report.worst_index == (1,)
    assert report.max_abs == pytest.approx(1.0)
