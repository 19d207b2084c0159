"""``static_rnn`` beside ``dynamic_rnn``, and either driver's own ``scope=``.

``tf.nn.static_rnn`` runs the same cells on the inputs unstacked along time;
its variables, outputs and states are ``dynamic_rnn``'s, ``sequence_length``
included (zero outputs past a length, the state carried). ``scope=`` of
either driver replaces the ``rnn`` scope it opens by default.
"""

import numpy as np
import pytest

from tf1_lstm import compare, naming, reference, spec as spec_mod, tfcompat
from tf1_lstm.engines import tf1
from tf1_lstm.spec import CaseSpec, CellSpec

from test_migrate import engine, random_weights


def make(driver, *, time_major=False, lengths=None, rnn_scope=None, scope=None, cells=None,
         state=False):
    rng = np.random.default_rng(5)
    cells = cells or (CellSpec(num_units=3), CellSpec(kind="GRUCell", num_units=2))
    shape = (4, 3, 2) if time_major else (3, 4, 2)
    spec = CaseSpec(name=f"{driver}_case", cells=cells, multi_rnn=len(cells) > 1,
                    driver=driver, time_major=time_major, sequence_length=lengths,
                    rnn_scope=rnn_scope, scope=scope, inputs=rng.standard_normal(shape))
    if state:
        spec = spec.replace(initial_state={k: rng.standard_normal(s)
                                           for k, s in spec.state_shapes().items()})
    return spec


VARIANTS = [
    dict(),
    dict(time_major=True),
    dict(lengths=(4, 2, 0), state=True),
    dict(rnn_scope="encoder", scope="model"),
    dict(cells=(CellSpec(num_units=3, use_peepholes=True, num_proj=2, cell_clip=0.5),)),
]


@pytest.mark.parametrize("fields", VARIANTS, ids=lambda f: "-".join(map(str, f)) or "plain")
def test_static_rnn_gives_what_dynamic_rnn_gives_and_the_oracle_agrees(fields):
    static, dynamic = make("static_rnn", **fields), make("dynamic_rnn", **fields)
    weights = random_weights(static)
    got, same, oracle = tf1.run(static, weights), tf1.run(dynamic, weights), \
        reference.run(static, weights)
    for label, other in (("dynamic_rnn", same), ("oracle", oracle)):
        result = compare.compare(got, other, label=f"static_rnn vs {label}")
        assert result.ok, result.report()


@pytest.mark.parametrize("driver", spec_mod.SEQUENCE_DRIVERS)
def test_the_drivers_scope_replaces_rnn_in_the_variable_names(driver):
    spec = make(driver, rnn_scope="encoder", scope="model")
    tf = tfcompat.load()
    with tf.Graph().as_default():
        tf1.build(spec)
        built = sorted(v.name for v in tf.compat.v1.trainable_variables())
    assert built == sorted(naming.layout(spec))
    assert built[0].startswith("model/encoder/multi_rnn_cell/cell_0/lstm_cell/")


def test_static_rnn_with_gradients_matches_the_oracles_bptt():
    spec = make("static_rnn", lengths=(4, 1, 3), state=True).replace(gradients=True)
    weights = random_weights(spec)
    result = compare.compare(tf1.run(spec, weights), reference.run(spec, weights), label="bptt")
    assert result.ok, result.report()


@pytest.mark.parametrize("target", ["keras", "torch", "onnx"])
def test_the_targets_run_a_static_rnn_case(target):
    spec = make("static_rnn", lengths=(4, 2, 1), cells=(CellSpec(num_units=3),
                                                        CellSpec(num_units=2)))
    weights = random_weights(spec)
    result = compare.compare(engine(target).run(spec, weights), reference.run(spec, weights),
                             label=target)
    assert result.ok, result.report()


def test_rnn_scope_is_refused_for_a_cell_call_and_kept_out_of_json_when_unset():
    with pytest.raises(spec_mod.SpecError, match=r"rnn_scope: is the scope= of dynamic_rnn"):
        CaseSpec(name="c", cells=(CellSpec(),), driver="call", rnn_scope="x",
                 inputs=np.zeros((1, 2)))
    assert "rnn_scope" not in spec_mod.to_dict(make("dynamic_rnn"))
    scoped = make("static_rnn", rnn_scope="enc")
    assert spec_mod.from_dict(spec_mod.to_dict(scoped)).rnn_scope == "enc"
