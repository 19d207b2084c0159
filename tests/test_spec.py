"""Case specs: validation names the field; the JSON form round-trips."""

import json

import numpy as np
import pytest

from tf1_lstm import cases, spec as S


@pytest.mark.parametrize("name", cases.names())
def test_json_round_trip(name):
    case = cases.get(name)
    data = json.loads(json.dumps(S.to_dict(case)))
    again = S.from_dict(data)
    assert S.to_dict(again) == S.to_dict(case)
    assert again.inputs.dtype == np.dtype(case.dtype)


def test_sidecar_arrays(tmp_path):
    data = S.to_dict(cases.get("stacked"))
    data["inputs"] = "@x"
    (tmp_path / "s.json").write_text(json.dumps(data))
    np.savez(tmp_path / "s.npz", x=np.asarray(cases.get("stacked").inputs))
    loaded = S.load_file(tmp_path / "s.json")
    np.testing.assert_array_equal(loaded.inputs, cases.get("stacked").inputs)
    data["inputs"] = "@y"
    (tmp_path / "s.json").write_text(json.dumps(data))
    with pytest.raises(S.SpecError, match=r"inputs: '@y' names no array in the sidecar \(has \['x'\]\)"):
        S.load_file(tmp_path / "s.json")


def _stacked(**changes):
    return S.to_dict(cases.get("stacked")) | changes


@pytest.mark.parametrize("data, message", [
    (_stacked(colour="red"), r"unknown field\(s\) \['colour'\]"),
    (_stacked(cells=[{"num_units": 4, "peepholes": True}]), r"cells\[0\]: unknown option\(s\) \['peepholes'\]"),
    (_stacked(cells=[{"kind": "GRUCell", "num_units": 3, "use_peepholes": True}], multi_rnn=False),
     r"cells\[0\]\.use_peepholes: GRUCell has no use_peepholes"),
    (_stacked(cells=[{"num_units": 4}, {"num_units": 5}], multi_rnn=False),
     r"2 cells need multi_rnn=True"),
    (_stacked(cells=[{"num_units": 0}]), r"cells\[0\]\.num_units: expected a positive integer"),
    (_stacked(sequence_length=[3, -1]), r"sequence_length\[1\]: -1 is negative"),
    (_stacked(sequence_length=[3, 4]), r"sequence_length\[1\]: 4 is longer than the time axis \(3\)"),
    (_stacked(sequence_length=[3]), r"sequence_length: 1 lengths for a batch of 2"),
    (_stacked(inputs=np.ones((2, 3, 5)).tolist()),
     r"inputs: shape \(2, 3, 5\) does not fit placeholder_shape \[None, None, 6\]"),
    (_stacked(initial_state={"state/0/c": [[0.0] * 4] * 2}), r"initial_state: expected keys"),
    (_stacked(driver="static"), r"driver: expected one of"),
    (_stacked(dtype="bfloat16"), r"dtype: expected one of"),
    (_stacked(cells=[{"num_units": 4, "proj_clip": 1.0}], multi_rnn=False), r"proj_clip: needs num_proj"),
    (_stacked(gradients=True, feed="constant"), r"gradients: need feed 'placeholder'"),
    ({"name": "x", "cells": []}, r"missing required field 'inputs'"),
])
def test_bad_specs_name_the_field(data, message):
    with pytest.raises(S.SpecError, match=message):
        S.from_dict(data)


def test_state_shapes_follow_projection_and_tuple_options():
    case = S.CaseSpec(name="p", inputs=np.zeros((2, 3, 4)), multi_rnn=True,
                      cells=(S.CellSpec(num_units=5, num_proj=3),
                             S.CellSpec(num_units=2, state_is_tuple=False),
                             S.CellSpec(kind="GRUCell", num_units=6)))
    assert case.state_shapes() == {"state/0/c": (2, 5), "state/0/h": (2, 3),
                                   "state/1": (2, 4), "state/2": (2, 6)}


def test_a_spec_file_nested_too_deeply_is_one_message(tmp_path):
    from tf1_lstm import spec as spec_mod

    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(spec_mod.SpecError, match=r"deep\.json: JSON nested too deeply"):
        spec_mod.load_file(path)
