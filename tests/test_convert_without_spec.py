"""``tf1-lstm convert`` with no spec, on checkpoints a TF1 program trained and saved.

tests/legacy_scripts/train_and_save.py trains a few Adam steps under
``tf1-lstm run`` (TF 1.x behaviour: v1 control flow, reference variables),
saves with ``tf.train.Saver`` and writes what its own graph computes on a
probe batch. Each checkpoint is converted with no spec; the produced file is
loaded with the target framework's own public API and must give what the
trained TF1 graph gave. What a target cannot express, a partial conversion, a
spec that contradicts the meta graph and the errors of issue 9 are refused in
one line.
"""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tf1_lstm import cases, naming
from tf1_lstm import spec as spec_mod
from tf1_lstm.cli import main
from tf1_lstm.engines import NotExpressible
from tf1_lstm.migrate import checkpoint, files, infer
from tf1_lstm.spec import CellSpec

from test_migrate import engine

SCRIPT = Path(__file__).resolve().parent / "legacy_scripts" / "train_and_save.py"
# the files against the trained graphs' own outputs (float32, T = 7): measured 3e-8 .. 1.5e-7
# over keras, keras3, torch and onnx (2026-12-04); 1e-5 is the float32 golden tolerance's scale
ATOL = 1e-5

# name -> the training script's arguments
MODELS = {
    "lstm2_dense": ["--cell", "lstm", "--units", "6", "5", "--forget_bias", "0.5",
                    "--head", "dense", "--scope", "encoder"],
    "basic_slim_relu": ["--cell", "basic", "--units", "4", "--forget_bias", "0.0",
                        "--head", "slim", "--scope", "rnn_model", "--activation", "relu"],
    "gru_time_major": ["--cell", "gru", "--units", "5", "--head", "dense", "--time_major"],
    "basic_static": ["--cell", "basic", "--units", "4", "--driver", "static", "--head", "dense",
                     "--forget_bias", "0.25"],
    "lstm_own_scope": ["--cell", "lstm", "--units", "3", "2", "--rnn_scope", "encoder_rnn",
                       "--head", "slim", "--scope", "model"],
    "block_peepholes": ["--cell", "block", "--units", "4", "--forget_bias", "0.3", "--head",
                        "dense"],
    "slim_relu_head": ["--cell", "lstm", "--units", "4", "--head", "slim", "--head_relu"],
    "block_clip": ["--cell", "block", "--units", "3", "--cell_clip", "0.8", "--head", "none"],
    # variables exactly like a plain stack's: only the trained graph shows the residual
    "lstm2_residual": ["--cell", "lstm", "--units", "4", "4", "--head", "none", "--residual"],
}


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """name -> the directory holding the checkpoint, its .meta and probe.npz.

    Trained once per test session: under pytest-xdist the workers share the
    directory (beside their own temporary roots), the first to come trains,
    under a file lock, and the others read what it wrote. The models are
    only ever read.
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # basetemp is this session's popen-gwN
        base = base.parent
    root = base / "trained_checkpoints"
    root.mkdir(exist_ok=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with FileLock(str(root) + ".lock"):
        todo = {n: a for n, a in MODELS.items() if not (root / n / "probe.npz").exists()}
        if todo:
            # one TF1 process runs the script once per model, each in a graph of its own
            # (what running it once per model does, without paying TensorFlow's import each time)
            driver = root / "train_all.py"
            driver.write_text(TRAIN_ALL.format(script=str(SCRIPT), runs=json.dumps(
                [["--out_dir", n, *a] for n, a in todo.items()])))
            done = subprocess.run([sys.executable, "-m", "tf1_lstm", "run", str(driver),
                                   "--seed", "0"], cwd=root, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-3000:]
        out = {name: root / name for name in MODELS}
    return out


TRAIN_ALL = """
import runpy, sys
import tensorflow as tf
for argv in {runs}:
    sys.argv = ["train_and_save.py"] + argv
    with tf.Graph().as_default():
        runpy.run_path({script!r}, run_name="__main__")
"""


def probe(directory):
    with np.load(directory / "probe.npz") as data:
        return dict(data)


def run_loaded(target, path, x):
    """Run a converted file loaded with its framework's own API: ``{outputs, logits, ...}``."""
    if target == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(None, {"inputs": x})))
    from tf1_lstm import tfcompat

    tfcompat.load()
    import tf_keras

    model = tf_keras.models.load_model(str(path), compile=False)
    values = [np.asarray(v) for v in model(x)]
    return {"outputs": values[0], "logits": values[-1]}


def run_torch(path, spec, x):
    """The .pt state dict in modules built by hand, as a PyTorch user would."""
    import torch

    state = torch.load(str(path))
    depths = [spec.input_depth] + [c.num_units for c in spec.cells[:-1]]
    layers = torch.nn.ModuleList([torch.nn.LSTM(i, c.num_units, batch_first=True)
                                  for i, c in zip(depths, spec.cells)])
    if len(layers) == 1:
        layers[0].load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")})
    else:
        layers.load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")})
    head = torch.nn.Linear(spec.cells[-1].num_units, spec.head.num_outputs)
    head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})
    with torch.no_grad():
        h = torch.from_numpy(x)
        for layer in layers:
            h, _ = layer(h)
        return {"outputs": h.numpy(), "logits": head(h[:, -1]).numpy()}


@pytest.mark.subprocess
@pytest.mark.parametrize("name,target,suffix", [
    ("lstm2_dense", "keras", ".keras"),
    ("lstm2_dense", "torch", ".pt"),
    ("lstm2_dense", "onnx", ".onnx"),
    ("basic_slim_relu", "keras", ".keras"),
    ("gru_time_major", "onnx", ".onnx"),
    ("basic_static", "onnx", ".onnx"),
    ("lstm_own_scope", "keras", ".keras"),
    ("block_peepholes", "onnx", ".onnx"),
])
def test_a_trained_checkpoint_converts_with_no_spec_and_matches_its_graph(
        trained, tmp_path, name, target, suffix):
    engine(target)
    out = tmp_path / f"model{suffix}"
    conversion = files.convert_checkpoint(trained[name] / "model.ckpt", None, target, out)
    assert conversion.comparison.ok, conversion.comparison.report()
    assert conversion.inventory.left_over == {}
    assert not any("no .meta graph" in n for n in conversion.inferred.notes)
    want = probe(trained[name])
    if target == "torch":
        got = run_torch(out, conversion.spec, want["inputs"])
    else:
        got = run_loaded(target, out, want["inputs"])
    for key in ("outputs", "logits"):
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=ATOL, err_msg=key)


@pytest.mark.subprocess
def test_the_options_a_checkpoint_does_not_store_come_from_its_meta_graph(trained, tmp_path):
    spec = files.convert_checkpoint(trained["basic_slim_relu"] / "model.ckpt", None, "onnx",
                                    tmp_path / "m.onnx").spec
    assert [(c.kind, c.num_units, c.forget_bias, c.activation) for c in spec.cells] == [
        ("BasicLSTMCell", 4, 0.0, "relu")]
    assert (spec.scope, spec.head.layer, spec.head.scope) == ("rnn_model", "fully_connected",
                                                              "logits")
    gru = files.convert_checkpoint(trained["gru_time_major"] / "model.ckpt", None, "keras",
                                   tmp_path / "g.weights.h5").spec
    assert gru.time_major and gru.inputs.shape[1] == 3  # (T, B, I)


@pytest.mark.subprocess
def test_the_cli_prints_the_model_and_writes_it_as_a_spec_that_converts_again(
        trained, tmp_path, capsys):
    engine("keras")
    prefix = str(trained["lstm2_dense"] / "model.ckpt")
    written = tmp_path / "model.json"
    assert main(["convert", prefix, "--to", "keras", "--out", str(tmp_path / "a.weights.h5"),
                 "--write-spec", str(written)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("model inferred from the checkpoint")
    shown = json.loads(out[0].split(": ", 1)[1])
    assert [c["forget_bias"] for c in shown["cells"]] == [0.5, 0.5]
    assert out[1] == ("checkpoint: 6 variable(s) converted; 12 Adam slot; 1 global_step; "
                      "2 optimizer scalar")
    assert ": OK (" in out[-1]
    assert json.loads(written.read_text())["cells"] == shown["cells"]
    assert main(["convert", prefix, "--spec", str(written), "--to", "keras",
                 "--out", str(tmp_path / "b.weights.h5")]) == 0, capsys.readouterr().err
    assert ": OK (" in capsys.readouterr().out


@pytest.mark.subprocess
def test_a_spec_that_contradicts_the_meta_graph_is_refused(trained, tmp_path, capsys):
    prefix = str(trained["lstm2_dense"] / "model.ckpt")
    spec = files.convert_checkpoint(prefix, None, "onnx", tmp_path / "m.onnx").spec
    wrong = spec.replace(cells=tuple(dataclasses.replace(c, forget_bias=1.0) for c in spec.cells))
    with pytest.raises(ValueError, match=r"cells\[0\]\.forget_bias: the spec says 1\.0, "
                                         r".*model\.ckpt\.meta shows 0\.5"):
        files.convert_checkpoint(prefix, wrong, "onnx", tmp_path / "w.onnx")
    assert not (tmp_path / "w.onnx").exists()


@pytest.mark.subprocess
def test_a_partial_conversion_is_refused_unless_allowed(trained, tmp_path, capsys):
    prefix = str(trained["lstm2_dense"] / "model.ckpt")
    full = files.convert_checkpoint(prefix, None, "onnx", tmp_path / "m.onnx").spec
    one_layer = full.replace(cells=full.cells[:1], multi_rnn=True, head=None,
                             inputs=full.inputs)
    out = tmp_path / "one.onnx"
    args = ["convert", prefix, "--spec", str(tmp_path / "one.json"), "--to", "onnx",
            "--out", str(out)]
    spec_mod.save_file(one_layer, tmp_path / "one.json")
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "would leave model variable(s) behind: dense/bias [3], " \
                             "dense/kernel [5, 3], encoder/rnn/multi_rnn_cell/cell_1/" in err[0]
    assert not out.exists()
    assert main(args + ["--allow-partial"]) == 0
    printed = capsys.readouterr().out
    assert "model variable(s) left over: dense/bias [3]" in printed and ": OK (" in printed
    assert "not run in the trained graph: a partial conversion" in printed


def test_convert_refuses_to_overwrite_and_names_the_prefix(tmp_path, capsys):
    spec = cases.get("single_cell")
    prefix = checkpoint.write(tmp_path / "model.ckpt", spec,
                              {n: np.full(i.shape, 0.1, np.float32)
                               for n, i in naming.layout(spec).items()})
    existing = tmp_path / "m.onnx"
    existing.write_bytes(b"keep me")
    assert main(["convert", prefix, "--spec", "single_cell", "--to", "onnx",
                 "--out", str(existing)]) == 2
    assert "m.onnx: exists; choose a new file, or --force" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    assert main(["convert", prefix + ".index", "--to", "onnx", "--out", str(tmp_path / "n.onnx")]) == 2
    err = capsys.readouterr().err
    assert f"one of a checkpoint's files (.index); give its prefix, {prefix}" in err
    assert main(["convert", str(tmp_path), "--spec", "single_cell", "--to", "onnx",
                 "--out", str(tmp_path / "d.onnx")]) == 0, capsys.readouterr().err


def test_a_misshapen_variable_names_the_spec_field_and_scope_hints_only_when_they_help(tmp_path):
    spec = cases.get("single_cell")
    weights = {n: np.full(i.shape, 0.1, np.float32)
               for n, i in naming.layout(spec).items()}
    prefix = checkpoint.write(tmp_path / "model.ckpt", spec, weights)
    bigger = spec.replace(cells=(dataclasses.replace(spec.cells[0], num_units=5),))
    with pytest.raises(ValueError, match=r"checkpoint variable 'LSTM_sample1/basic_lstm_cell/"
                                         r"kernel' has shape \[10, 16\]; the spec 'single_cell' "
                                         r"builds it with shape \[11, 20\] \(set by cells\[0\]"
                                         r"\.num_units"):
        checkpoint.read(prefix, bigger)
    gru = spec.replace(cells=(CellSpec(kind="GRUCell", num_units=4),), initial_state=None)
    with pytest.raises(ValueError) as refused:
        checkpoint.read(prefix, gru)
    assert "--scope" not in str(refused.value)
    with pytest.raises(ValueError, match="--scope"):
        checkpoint.read(prefix, spec.replace(scope="other"))


def test_not_expressible_targets_are_refused_before_writing(tmp_path):
    spec = cases.get("single_cell").replace(cells=(CellSpec(num_units=4, cell_clip=0.0),))
    weights = {n: np.full(i.shape, 0.1, np.float32)
               for n, i in naming.layout(spec).items()}
    prefix = checkpoint.write(tmp_path / "model.ckpt", spec, weights)
    with pytest.raises(NotExpressible, match="cell_clip is not expressible in torch"):
        files.convert_checkpoint(prefix, spec, "torch", tmp_path / "c.pt")
    assert not (tmp_path / "c.pt").exists()


def test_a_long_sequence_is_judged_against_float64_when_float32_kernels_drift(tmp_path):
    """B 32, T 50, two LSTMCell(64): onnxruntime and TF1 drift ~1e-5 apart, both near float64."""
    engine("onnx")
    doc = cases.get("stacked")
    x = np.random.default_rng(0).normal(0.0, 1.0, (32, 50, 32))
    spec = cases.with_random_weights(doc.replace(
        name="long", inputs=x, cells=(CellSpec(num_units=64), CellSpec(num_units=64)),
        placeholder_shape=(None, None, 32)), seed=2)
    weights = {k: np.asarray(v, np.float32) for k, v in spec.weights.items()}
    prefix = checkpoint.write(tmp_path / "model.ckpt", spec, weights)
    conversion = files.convert_checkpoint(prefix, spec, "onnx", tmp_path / "long.onnx")
    assert conversion.ok, conversion.report()
    from tf1_lstm.engines import tf1

    expected = tf1.run(spec.forward_only(), weights)
    names = ["outputs", "state/1/c", "state/1/h"]
    good = files.float64_arbiter(spec, weights, expected, expected, names)
    assert good.ok and all(good.target[n] == good.tf1[n] > 0 for n in names)
    # a conversion error: the file computed with forget_bias 1.5 instead of 1.0
    wrong_spec = spec.replace(cells=tuple(dataclasses.replace(c, forget_bias=1.5)
                                          for c in spec.cells))
    wrong = tf1.run(wrong_spec.forward_only(), weights)
    bad = files.float64_arbiter(spec, weights, wrong, expected, names)
    assert not bad.ok and "beyond float32 rounding" in bad.report()
    assert min(bad.target.values()) > 100 * max(bad.tf1.values())


@pytest.mark.subprocess
def test_the_file_is_checked_against_the_trained_graph_which_catches_what_names_do_not_show(
        trained, tmp_path, capsys):
    engine("onnx")
    good = files.convert_checkpoint(trained["lstm2_dense"] / "model.ckpt", None, "onnx",
                                    tmp_path / "good.onnx")
    assert good.trained is not None and good.trained.ok and good.ok
    assert sorted(a.name for a in good.trained.arrays) == ["logits", "outputs"]
    assert good.spec.inputs.shape == (infer.BATCH, 7, 3)  # T fixed by the script's placeholder
    # a ResidualWrapper adds the layer's input to its output and has no variables of its own
    prefix = str(trained["lstm2_residual"] / "model.ckpt")
    out = tmp_path / "residual.onnx"
    assert main(["convert", prefix, "--to", "onnx", "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert f"vs TF1 checkpoint {prefix} [checkpoint_encoder_rnn]: OK" in report
    assert f"TF1 rebuilt from the spec vs the trained graph {prefix}.meta: FAILED" in report
    # where the trained graph cannot run as such, the report says why
    gru = files.convert_checkpoint(trained["gru_time_major"] / "model.ckpt", None, "onnx",
                                   tmp_path / "gru.onnx")
    assert gru.trained is None and gru.ok
    assert "not run in the trained graph: only batch-major dynamic_rnn" in gru.report()


def test_a_checkpoint_with_tf_1_0_names_converts_with_and_without_a_spec(tmp_path, capsys):
    """Before TF 1.2 a cell's variables were weights/biases; Saver(var_list=...) writes them so."""
    from tf1_lstm import tfcompat
    from tf1_lstm.engines import tf1

    engine("onnx")
    tf = tfcompat.load()
    spec = cases.with_random_weights(cases.get("stacked"), seed=3)
    weights = {k: np.asarray(v, np.float32) for k, v in spec.weights.items()}
    with tf.Graph().as_default():
        tf1.build(spec)
        variables = tf.compat.v1.trainable_variables()
        old = {v.name[:-2].replace("/kernel", "/weights").replace("/bias", "/biases"): v
               for v in variables}
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for v in variables:
                sess.run(v.assign(weights[v.name]))
            prefix = tf.compat.v1.train.Saver(old).save(sess, str(tmp_path / "old.ckpt"))
    inferred = files.convert_checkpoint(prefix, None, "onnx", tmp_path / "a.onnx")
    assert inferred.ok and inferred.inventory.left_over == {}, inferred.report()
    assert sorted(inferred.inventory.used) == sorted(old)
    given = files.convert_checkpoint(prefix, spec, "onnx", tmp_path / "b.onnx")
    assert given.ok and given.inventory.left_over == {}, given.report()


@pytest.mark.subprocess
def test_static_rnn_and_a_drivers_own_scope_are_read_from_the_meta_graph(trained, tmp_path):
    static = files.convert_checkpoint(trained["basic_static"] / "model.ckpt", None, "onnx",
                                      tmp_path / "s.onnx")
    assert static.spec.driver == "static_rnn" and static.spec.cells[0].forget_bias == 0.25
    assert "not run in the trained graph: only batch-major dynamic_rnn" in static.report()
    scoped = files.convert_checkpoint(trained["lstm_own_scope"] / "model.ckpt", None, "onnx",
                                      tmp_path / "o.onnx")
    assert (scoped.spec.driver, scoped.spec.scope, scoped.spec.rnn_scope) == (
        "dynamic_rnn", "model", "encoder_rnn")
    assert scoped.trained is not None and scoped.trained.ok, scoped.report()


@pytest.mark.subprocess
def test_a_fused_lstm_block_cell_is_read_from_its_kernels_attributes(trained, tmp_path):
    conversion = files.convert_checkpoint(trained["block_peepholes"] / "model.ckpt", None, "onnx",
                                          tmp_path / "b.onnx")
    (cell,) = conversion.spec.cells
    assert (cell.kind, cell.forget_bias, cell.cell_clip, cell.use_peepholes) == (
        "LSTMBlockCell", pytest.approx(0.3), None, True)
    assert conversion.trained is not None and conversion.trained.ok, conversion.report()
    # peepholes and a clip: torch refuses the cell, read with both from the kernel's attributes
    with pytest.raises(NotExpressible,
                       match=r"cells\[0\]\.(use_peepholes|cell_clip) is not expressible"):
        files.convert_checkpoint(trained["block_clip"] / "model.ckpt", None, "torch",
                                 tmp_path / "c.pt")
    prefix = str(trained["block_clip"] / "model.ckpt")
    reader = checkpoint.open_reader(prefix)[1]
    from tf1_lstm.migrate import metagraph

    got = infer.infer(reader.get_variable_to_shape_map(),
                      {k: v.name for k, v in reader.get_variable_to_dtype_map().items()},
                      meta=metagraph.MetaGraph(prefix + ".meta"))
    assert got.spec.cells[0].cell_clip == pytest.approx(0.8)


@pytest.mark.subprocess
def test_a_head_with_an_activation_is_not_taken_for_a_linear_one(trained, tmp_path, capsys):
    """fully_connected's default activation_fn is relu; tf1_lstm's heads are linear."""
    prefix = str(trained["slim_relu_head"] / "model.ckpt")
    out = tmp_path / "h.onnx"
    assert main(["convert", prefix, "--to", "onnx", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "leave model variable(s) behind: logits/biases [3], logits/weights [4, 3] (the head " \
           "'logits' applies Relu after its BiasAdd" in err and not out.exists()
    assert main(["convert", prefix, "--to", "onnx", "--out", str(out), "--allow-partial"]) == 0
    assert ": OK (" in capsys.readouterr().out
