"""Options that are falsy but set (0, 0.0, all-zero lengths, an empty mapping) are set.

TF1 tests its clips with ``is not None``: ``LSTMCell(cell_clip=0.0)`` clips
``c`` to zero and ``proj_clip=0.0`` clips the projected ``h`` to zero, so the
outputs are exactly 0. Every engine either computes what the TF1 graph
computes (within the spec's tolerance) or refuses with ``NotExpressible``
naming the option. None may run without the clip, as the keras, keras3, torch
and onnx engines did when the check was ``value not in (None, False)``
(``0.0 == False``). The other falsy values that engines read are pinned the
same way (``forget_bias=0.0``, ``weights=0.0``, lengths all 0), and so are the
JSON form and the tolerance lookup. The falsy values a spec cannot mean
(``num_proj=0``, empty names and lists) are refused by name, never read as
"not given".
"""

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

import numpy as np
import pytest

from tf1_lstm import checker, compare, engines
from tf1_lstm import spec as spec_mod
from tf1_lstm.engines import NotExpressible
from tf1_lstm.migrate import files, layouts
from tf1_lstm.spec import CaseSpec, CellSpec, SpecError

from test_migrate import engine, random_weights, spec_of

TARGETS = layouts.TARGETS
ENGINES = [name for name in engines.ENGINES if name != "tf"]  # each measured against tf


@dataclass(frozen=True)
class Falsy:
    """A spec with a falsy-but-set option and what each engine must do with it.

    Attributes:
      spec: the case; its weights are random (scale 1) unless ``spec.weights`` is set.
      refused: engine -> the option its NotExpressible names; every other engine
        must match the TF1 graph.
      zero: result arrays the TF1 graph computes as exactly 0 (the clip's closed form).
    """

    spec: CaseSpec
    refused: Mapping[str, str] = field(default_factory=dict)
    zero: Tuple[str, ...] = ()


def _refused_by_all(option: str) -> Mapping[str, str]:
    return {target: option for target in TARGETS}


def _json_cell_clip_int_0() -> CaseSpec:
    """``"cell_clip": 0`` as a JSON spec gives it: the int 0 (also ``== False``)."""
    data = spec_mod.to_dict(spec_of("cell_clip_int_0", [CellSpec(num_units=3)], state=True))
    data["cells"][0]["cell_clip"] = 0
    return spec_mod.from_dict(json.loads(json.dumps(data)))


CASES = [
    # cell_clip=0.0: c_t = 0, so h_t = o * tanh(0) = 0 from any initial state.
    Falsy(spec_of("cell_clip_0", [CellSpec(num_units=3, cell_clip=0.0)], state=True,
                  gradients=True),
          _refused_by_all("cells[0].cell_clip"), ("outputs", "state/c", "state/h")),
    Falsy(_json_cell_clip_int_0(), _refused_by_all("cells[0].cell_clip"),
          ("outputs", "state/c", "state/h")),
    # The clipped layer on top of a stack, ragged: the refusal names layer 1.
    Falsy(spec_of("stacked_cell_clip_0", [CellSpec(num_units=3), CellSpec(num_units=2,
                                                                         cell_clip=0.0)],
                  sequence_length=(4, 2, 0)),
          _refused_by_all("cells[1].cell_clip"), ("outputs", "state/1/c", "state/1/h")),
    # proj_clip=0.0: the projected h is 0 (c is not). Only torch has a projection.
    Falsy(spec_of("proj_clip_0", [CellSpec(num_units=4, num_proj=2, proj_clip=0.0)],
                  state=True, gradients=True),
          {"keras": "cells[0].num_proj", "keras3": "cells[0].num_proj",
           "torch": "cells[0].proj_clip", "onnx": "cells[0].num_proj"}, ("outputs", "state/h")),
    # Same H and P in both layers: one multi-layer torch.nn.LSTM would hold the stack.
    Falsy(spec_of("stacked_proj_clip_0", [CellSpec(num_units=4, num_proj=2),
                                          CellSpec(num_units=4, num_proj=2, proj_clip=0.0)],
                  time_major=True, state=True),
          {"keras": "cells[0].num_proj", "keras3": "cells[0].num_proj",
           "torch": "cells[1].proj_clip", "onnx": "cells[0].num_proj"},
          ("outputs", "state/1/h")),
    # Falsy values every engine reads and expresses.
    Falsy(spec_of("forget_bias_0", [CellSpec(num_units=3, forget_bias=0.0)], state=True)),
    Falsy(spec_of("weights_0", [CellSpec(num_units=3, forget_bias=0.0)], weights=0.0,
                  state=True)),
    Falsy(spec_of("lengths_all_0", [CellSpec(num_units=3), CellSpec(kind="BasicRNNCell",
                                                                    num_units=2)],
                  sequence_length=(0, 0, 0), state=True), zero=("outputs",)),
]
CASE_IDS = [c.spec.name for c in CASES]


def weights_for(spec: CaseSpec) -> Optional[Mapping[str, np.ndarray]]:
    """Random weights (scale 1, so the clip binds hard), or None: the spec's own constant."""
    return None if spec.weights is not None else random_weights(spec, seed=3, scale=1.0)


@functools.lru_cache(maxsize=None)
def tf1_results(index: int):
    """The TF1 graph's arrays for ``CASES[index]`` (computed once)."""
    spec = CASES[index].spec
    return engines.get("tf").run(spec, weights_for(spec))


class TestTF1ClipsToZero:
    """The TF1 graph takes clip 0 as a clip: the closed form's arrays are exactly 0."""

    @pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c.zero],
                             ids=[c.spec.name for c in CASES if c.zero])
    def test_closed_form(self, index):
        case = CASES[index]
        arrays = tf1_results(index)
        for name in case.zero:
            np.testing.assert_array_equal(arrays[name], 0, err_msg=f"{case.spec.name}: {name}")

    def test_zero_weights_halve_c(self):
        """weights=0.0 with forget_bias=0: c_t = 0.5 * c_{t-1}, h_t = 0.5 * tanh(c_t)."""
        index = CASE_IDS.index("weights_0")
        spec, arrays = CASES[index].spec, tf1_results(index)
        steps = spec.max_time
        c = 0.5 ** steps * spec.initial_state["state/c"]
        np.testing.assert_allclose(arrays["state/c"], c, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(arrays["state/h"], 0.5 * np.tanh(c), rtol=1e-5, atol=1e-7)


class TestEveryEngine:
    """Each engine matches the TF1 graph or refuses by name; none drops a falsy option."""

    @pytest.mark.parametrize("name", ENGINES)
    @pytest.mark.parametrize("index", range(len(CASES)), ids=CASE_IDS)
    def test_matches_tf1_or_refuses(self, index, name):
        case = CASES[index]
        spec = case.spec
        module = engine(name)
        if name in case.refused:
            option = case.refused[name]
            with pytest.raises(NotExpressible, match=rf"^{re.escape(option)} is not expressible "
                                                     rf"in {name}: ") as info:
                obtained = module.run(spec, weights_for(spec))
                # Not refused: how far the run without the option is from TF1.
                expected = tf1_results(index)
                worst = max(float(np.max(np.abs(obtained[k] - expected[k])))
                            for k in spec.state_keys() + ("outputs",))
                pytest.fail(f"{name} ran {spec.name} instead of refusing {option}; "
                            f"max abs error vs TF1 in outputs and state {worst:.3g}")
            assert (info.value.engine, info.value.option) == (name, option)
        else:
            obtained = module.run(spec, weights_for(spec))
            result = compare.compare(obtained, tf1_results(index), tolerances=spec.tolerances,
                                     label=f"{name} vs tf [{spec.name}]")
            assert result.ok, result.report()

    @pytest.mark.parametrize("target", TARGETS)
    @pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c.refused],
                             ids=[c.spec.name for c in CASES if c.refused])
    def test_convert_refuses_and_writes_nothing(self, index, target, tmp_path):
        """``tf1-lstm convert`` refuses the same option before it writes a file."""
        case = CASES[index]
        out = tmp_path / ("model" + files.SUFFIXES[target][0])
        with pytest.raises(NotExpressible, match=rf"^{re.escape(case.refused[target])} "):
            files.save(case.spec, weights_for(case.spec), target, out)
        assert not out.exists()


class TestSpecKeepsFalsyValues:
    """The JSON form (golden metadata, ``compute SPEC``) keeps falsy-but-set values."""

    @pytest.mark.parametrize("spec", [c.spec for c in CASES] + [
        spec_of("seed_0", [CellSpec(num_units=2)], seed=0),
        spec_of("exact", [CellSpec(num_units=2)], tolerances={"outputs": (0.0, 0.0)}),
    ], ids=lambda s: s.name)
    def test_json_round_trip(self, spec):
        form = spec_mod.to_dict(spec)
        again = spec_mod.from_dict(json.loads(json.dumps(form)))
        assert spec_mod.to_dict(again) == form
        assert again.cells == spec.cells
        for field_name in ("seed", "weights", "sequence_length", "tolerances"):
            assert getattr(again, field_name) == getattr(spec, field_name), field_name

    def test_clip_0_is_in_the_form(self):
        cells = spec_mod.to_dict(CASES[0].spec)["cells"]
        assert cells == [{"kind": "LSTMCell", "num_units": 3, "cell_clip": 0.0}]

    def test_uses(self):
        """An LSTMCell option is on when it is not its off value: 0.0 and 0 are clips."""
        for value in (0.0, 0, 0.5):
            assert CellSpec(cell_clip=value).uses("cell_clip")
        assert CellSpec(num_proj=2, proj_clip=0.0).uses("proj_clip")
        off = CellSpec()
        assert not any(off.uses(option) for option in spec_mod.LSTM_OPTIONS)

    def test_exact_tolerance_is_kept(self):
        """A case's (0, 0) is exact, not the dtype default: one ulp is a mismatch."""
        spec = spec_of("exact", [CellSpec(num_units=2)], tolerances={"outputs": (0.0, 0.0)})
        a = np.ones(3, np.float32)
        assert checker.tolerances(spec, {"outputs": a})["outputs"] == [0.0, 0.0]
        result = compare.compare({"outputs": np.nextafter(a, 2)}, {"outputs": a},
                                 label="exact", tolerances=spec.tolerances)
        assert not result.ok

    @pytest.mark.parametrize("kind", ["BasicLSTMCell", "GRUCell", "BasicRNNCell"])
    @pytest.mark.parametrize("option", ["cell_clip", "proj_clip"])
    def test_clip_0_on_a_cell_without_clips_is_refused(self, kind, option):
        cell = CellSpec(kind=kind, num_units=2, **{option: 0.0})
        with pytest.raises(SpecError, match=rf"cells\[0\]\.{option}: {kind} has no {option}"):
            spec_of("x", [cell])


class TestFalsyValuesASpecCannotMean:
    """Falsy values with no TF1 meaning are refused by name, never taken as "not given"."""

    @pytest.mark.parametrize("cell,fields,match", [
        ({"num_proj": 0}, {}, r"cells\[0\]\.num_proj: expected a positive integer, got 0"),
        ({"name": ""}, {}, r"cells\[0\]\.name: expected a TF name"),
        ({}, {"scope": ""}, r"scope: expected a TF variable scope name"),
        ({}, {"sequence_length": ()}, r"sequence_length: 0 lengths for a batch of 3"),
        ({}, {"placeholder_shape": ()}, r"placeholder_shape: \(\) has rank 0"),
        ({}, {"initial_state": {}}, r"initial_state: expected keys \['state/c', 'state/h'\]"),
    ], ids=["num_proj_0", "cell_name_empty", "scope_empty", "lengths_empty",
            "placeholder_shape_empty", "initial_state_empty"])
    def test_spec_error(self, cell, fields, match):
        with pytest.raises(SpecError, match=match):
            spec_of("x", [CellSpec(num_units=2, **cell)], **fields)

    @pytest.mark.parametrize("name", list(engines.ENGINES))
    def test_empty_weights_are_not_seeded(self, name):
        """``weights={}`` names every missing variable; no engine falls back to seeding."""
        spec = spec_of("x", [CellSpec(num_units=2)], weights={})
        with pytest.raises(ValueError, match=r"missing \['rnn/lstm_cell/kernel:0', "
                                             r"'rnn/lstm_cell/bias:0'\]"):
            engine(name).run(spec)
