"""float16 cases: TF computes them in half precision; the oracle widens (see reference._widened)."""

import dataclasses

import numpy as np
import pytest

from tf1_lstm import cases, compare, reference, spec as spec_mod
from tf1_lstm.engines import NotExpressible, tf1
from tf1_lstm.migrate import layouts

NAMES = ["stacked", "peepholes", "gru", "basic_rnn", "ragged", "projection", "time_major",
         "block_lstm", "dense_head"]


def half(name, seed=4):
    spec = cases.get(name).replace(dtype="float16", weights=None, gradients=False)
    return cases.with_random_weights(spec, seed=seed)


@pytest.mark.parametrize("name", NAMES)
def test_tf_in_float16_and_the_widened_oracle_agree_within_the_float16_tolerance(name):
    spec = half(name)
    obtained, expected = tf1.run(spec), reference.run(spec)
    assert obtained["outputs"].dtype == expected["outputs"].dtype == np.float16
    result = compare.compare(obtained, expected, label=name)
    assert result.ok, result.report()
    assert compare.default_tolerance(np.float16) == (5e-3, 2e-3)


def test_the_float16_tolerance_still_catches_a_misplaced_forget_bias():
    spec = half("stacked")
    moved = spec.replace(cells=tuple(dataclasses.replace(c, forget_bias=1.5) for c in spec.cells))
    result = compare.compare(tf1.run(moved), reference.run(spec), label="moved")
    assert not result.ok


@pytest.mark.parametrize("extra", ["gradients", "jacobian"])
def test_float16_cases_are_forward_only(extra):
    with pytest.raises(spec_mod.SpecError, match=rf"{extra}: not with dtype float16"):
        cases.get("stacked").replace(dtype="float16", **{extra: True})


@pytest.mark.parametrize("target", layouts.TARGETS)
def test_no_migration_target_claims_float16(target):
    with pytest.raises(NotExpressible, match=r"dtype=float16 is not expressible in "):
        layouts.check_expressible(half("stacked"), target)
