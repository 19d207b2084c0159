"""The linear head in both TF1 forms: tf-slim's ``fully_connected`` and ``tf.layers.dense``.

Both compute ``logits = last @ W + b``; they differ in the variables' names
(``weights``/``biases`` against ``kernel``/``bias``), which is what a
checkpoint holds, so the spec says which one built the head.
"""

import numpy as np
import pytest

from tf1_lstm import compare, naming, reference, spec as spec_mod, tfcompat
from tf1_lstm.engines import tf1
from tf1_lstm.spec import CaseSpec, CellSpec, HeadSpec


def two_layer(head):
    rng = np.random.default_rng(4)
    spec = CaseSpec(name="head", cells=(CellSpec(num_units=3), CellSpec(num_units=2)),
                    multi_rnn=True, inputs=rng.standard_normal((2, 4, 3)), head=head)
    weights = {name: (0.5 * rng.standard_normal(info.shape)).astype(np.float32)
               for name, info in naming.layout(spec).items()}
    return spec, weights


@pytest.mark.parametrize("layer,names", [
    ("fully_connected", ["logits/weights:0", "logits/biases:0"]),
    ("dense", ["logits/kernel:0", "logits/bias:0"]),
])
def test_the_graph_names_the_head_as_the_tf1_call_does(layer, names):
    spec, _ = two_layer(HeadSpec(num_outputs=5, layer=layer))
    tf = tfcompat.load()
    with tf.Graph().as_default():
        tf1.build(spec)
        built = {v.name: tuple(v.shape) for v in tf.compat.v1.trainable_variables()}
    head = {n: s for n, s in built.items() if n.startswith("logits/")}
    assert head == {names[0]: (2, 5), names[1]: (5,)}
    assert built == {n: info.shape for n, info in naming.layout(spec).items()}


@pytest.mark.parametrize("layer", spec_mod.HEAD_LAYERS)
def test_tf1_and_the_oracle_agree_on_each_head(layer):
    spec, weights = two_layer(HeadSpec(num_outputs=4, scope="out", layer=layer))
    obtained, expected = tf1.run(spec, weights), reference.run(spec, weights)
    assert obtained["logits"].shape == (2, 4)
    result = compare.compare(obtained, expected, label=layer)
    assert result.ok, result.report()


def test_a_dense_head_round_trips_through_json_and_a_bad_layer_is_named():
    spec, _ = two_layer(HeadSpec(num_outputs=4, layer="dense"))
    again = spec_mod.from_dict(spec_mod.to_dict(spec))
    assert again.head == HeadSpec(num_outputs=4, layer="dense")
    data = spec_mod.to_dict(spec)
    data["head"]["layer"] = "conv"
    with pytest.raises(spec_mod.SpecError, match=r"head\.layer: .*fully_connected, dense.*'conv'"):
        spec_mod.from_dict(data)
