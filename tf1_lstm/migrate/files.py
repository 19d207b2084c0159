"""``tf1-lstm convert``: a TF1 checkpoint -> the target's native file, reloaded and measured.

=======  ========================  =================================================
target   file                      reloaded with
=======  ========================  =================================================
keras    ``.weights.h5``/``.keras`` ``model.load_weights`` into the spec's model /
                                   ``tf.keras.models.load_model``
keras3   ``.weights.h5``/``.keras`` the same with Keras 3
torch    ``.pt`` (state dict)      ``module.load_state_dict(torch.load(path))``
onnx     ``.onnx``                 ``onnxruntime.InferenceSession(path)``
=======  ========================  =================================================

After writing, the file is read back the way a user would, run on the case
spec's inputs, and compared with the TF1 graph run on the checkpoint's
variables (:func:`tf1_lstm.compare.compare`, the spec's tolerances).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Dict, Optional

import numpy as np

from .. import compare as cmp
from .. import spec as spec_mod
from ..spec import CaseSpec
from . import checkpoint, convert, infer, inventory, runner, trained
from .layouts import TARGETS

SUFFIXES = {"keras": (".weights.h5", ".keras"), "keras3": (".weights.h5", ".keras"),
            "torch": (".pt",), "onnx": (".onnx",)}


@dataclass
class Conversion:
    """What :func:`convert_checkpoint` did: the model, the file written, the equivalence measured.

    Attributes:
      spec: the model converted (inferred, or the user's spec).
      inferred: the inference, when no spec was given (its notes say what was assumed).
      inventory: every checkpoint key: converted, training state, or left over.
    """

    target: str
    out: str
    comparison: cmp.Comparison
    spec: Optional[CaseSpec] = None
    inferred: Optional[infer.Inferred] = None
    inventory: Optional[inventory.Inventory] = None
    rounding: Optional["Rounding"] = None
    trained: Optional[cmp.Comparison] = None
    trained_note: str = ""

    @property
    def ok(self) -> bool:
        """The file computes what TF1 computes, and the model is the one that was trained.

        The file against the TF1 graph rebuilt from the spec: within tolerance,
        or within float32 rounding (:class:`Rounding`); that rebuild against the
        trained graph, when it ran (:mod:`tf1_lstm.migrate.trained`): within
        tolerance -- the same TF kernels on the same weights, so a difference
        is a model the spec does not describe, not rounding.
        """
        return ((self.comparison.ok or (self.rounding is not None and self.rounding.ok))
                and (self.trained is None or self.trained.ok))

    def report(self) -> str:
        lines = []
        if self.inferred is not None:
            form = {k: v for k, v in spec_mod.to_dict(self.spec).items() if k != "inputs"}
            lines.append(f"model inferred from the checkpoint (--write-spec keeps it): "
                         f"{json.dumps(form)}")
            lines += [f"  note: {n}" for n in self.inferred.notes]
        if self.inventory is not None:
            lines.append(self.inventory.summary())
        lines.append(f"wrote {self.out} ({self.target})")
        lines += _verdict(self.comparison, self.rounding)
        if self.trained is not None:
            lines.append(self.trained.report())
        elif self.trained_note:
            lines.append(f"  not run in the trained graph: {self.trained_note}")
        return "\n".join(lines)


def _verdict(comparison: cmp.Comparison, rounding: Optional["Rounding"]):
    if rounding is None:
        return [comparison.report()]
    # beyond the tolerance: the float64 computation decides
    return [comparison.report().replace(
        ": FAILED", ": beyond the tolerance, judged against the float64 computation", 1),
        rounding.report()]


# A converted float32 file that misses TF1's float32 result by more than the tolerance
# still agrees when it is as close to the exact (float64) computation as TF1's own
# float32 run, within this factor. Measured (scripts/bench_tf2onnx.py, B 32, T 50, two
# LSTMCell(64)): onnxruntime 1e-5 from TF1, 4.8e-6 from float64, TF1 itself 6.4e-6.
ROUNDING_FACTOR = 2.0


@dataclass
class Rounding:
    """Each mismatched array's max abs error against the float64 oracle: the file's and TF1's.

    float32 kernels sum in different orders, and over long sequences two
    correct float32 results drift apart by more than a fixed tolerance. The
    NumPy oracle in float64 (:mod:`tf1_lstm.reference`) is the exact
    computation both approximate: the file agrees when its error is at most
    :data:`ROUNDING_FACTOR` times TF1's. A conversion error (a wrong
    ``forget_bias``, a swapped gate) is orders of magnitude beyond rounding.
    """

    target: Dict[str, float]
    tf1: Dict[str, float]

    @property
    def ok(self) -> bool:
        return all(self.target[k] <= ROUNDING_FACTOR * self.tf1[k] for k in self.target)

    def report(self) -> str:
        verdict = "OK within float32 rounding" if self.ok else "beyond float32 rounding"
        parts = [f"{k}: file {self.target[k]:.2g}, TF1 {self.tf1[k]:.2g}" for k in self.target]
        return (f"  {verdict}: max abs error against the float64 computation "
                f"({'; '.join(parts)}; allowed: {ROUNDING_FACTOR:g}x TF1's)")


def float64_arbiter(spec: CaseSpec, variables, obtained, expected, names) -> Rounding:
    """:class:`Rounding` of arrays ``names``, from the oracle run in float64 on the same weights."""
    from .. import reference

    wide = spec.replace(dtype="float64", inputs=np.asarray(spec.inputs, np.float64))
    exact = reference.run(wide, {k: np.asarray(v, np.float64) for k, v in variables.items()})

    def error(arrays, name):
        return float(np.max(np.abs(np.asarray(arrays[name], np.float64) - exact[name])))

    return Rounding({n: error(obtained, n) for n in names}, {n: error(expected, n) for n in names})


def _module(target: str) -> ModuleType:
    if target in ("keras", "keras3"):
        from . import keras_model
        return keras_model
    if target == "torch":
        from . import torch_model
        return torch_model
    from . import onnx_model
    return onnx_model


def target_of(target: str) -> runner.Target:
    """The :class:`~tf1_lstm.migrate.runner.Target` called ``target``."""
    mod = _module(target)
    return mod.target(target) if target in ("keras", "keras3") else mod.TARGET


def save(spec: CaseSpec, variables, target: str, out: os.PathLike) -> None:
    """Convert TF1 ``variables`` for ``spec`` and write ``target``'s native file ``out``."""
    out = str(out)
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGETS)}")
    if not out.endswith(SUFFIXES[target]):
        raise ValueError(f"{out}: a {target} file ends in {' or '.join(SUFFIXES[target])}")
    runner.check_runnable(spec, target)
    mod = _module(target)
    model = target_of(target).build(spec, convert.to_target(spec, variables, target))
    mod.save(model, out)


def load(spec: CaseSpec, target: str, path: os.PathLike):
    """Read a file :func:`save` wrote back into a runnable model."""
    mod = _module(target)
    if target in ("keras", "keras3"):
        return mod.load(spec, str(path), target)
    return mod.load(spec, str(path))


def convert_checkpoint(path: os.PathLike, spec: Optional[CaseSpec], target: str,
                       out: os.PathLike, scope: Optional[str] = None, *, force: bool = False,
                       allow_partial: bool = False, write_spec: Optional[os.PathLike] = None
                       ) -> Conversion:
    """Read a TF1 checkpoint, write ``target``'s file, reload it and compare with TF1.

    Args:
      spec: the model; ``None`` reads it from the checkpoint and its ``.meta``
        graph (:mod:`tf1_lstm.migrate.infer`). A spec that contradicts the
        meta graph (``forget_bias``, activation, clips) is refused.
      scope: the variable scope the cells were built under in the checkpoint.
      force: replace an existing ``out`` (and ``write_spec``).
      allow_partial: convert although model variables are left over.
      write_spec: also write the model converted as a spec JSON there.

    The comparison covers the forward pass (outputs, states, logits): what a
    converted model file is for; gradients, Jacobians and training are not
    part of a checkpoint's meaning.

    Raises:
      NotExpressible: the model uses an option ``target`` lacks.
      ValueError: unreadable checkpoint, missing variables, left-over model
        variables, a contradiction, an existing file, a bad suffix (named).
    """
    from ..engines import tf1
    from . import metagraph

    prefix, reader = checkpoint.open_reader(path)
    shapes = {k: tuple(v) for k, v in reader.get_variable_to_shape_map().items()}
    meta = metagraph.MetaGraph(prefix + ".meta") if os.path.isfile(prefix + ".meta") else None
    for file in (out, write_spec):
        if file is not None and os.path.exists(file) and not force:
            raise ValueError(f"{file}: exists; choose a new file, or --force to replace it")
    inferred = None
    if spec is None:
        dtypes = {k: v.name for k, v in reader.get_variable_to_dtype_map().items()}
        inferred = infer.infer(shapes, dtypes, scope=scope, where=prefix, meta=meta)
        spec, keys = inferred.spec, inferred.keys
    else:
        spec = spec.forward_only()
        keys = checkpoint.with_legacy_names(checkpoint.checkpoint_names(spec, scope), shapes)
        if meta is not None:
            infer.check_against_meta(spec, keys, meta, where=prefix + ".meta")
    variables = checkpoint.read(prefix, spec, keys=keys)
    kept = inventory.classify(shapes, keys.values())
    if kept.left_over and not allow_partial:
        why = [n for n in (inferred.notes if inferred else []) if "left over" in n]
        raise ValueError(f"{prefix}: the conversion would leave model variable(s) behind: "
                         + ", ".join(f"{k} {list(v)}" for k, v in kept.left_over.items())
                         + "".join(f" ({n})" for n in why)
                         + "; describe them in the spec, or --allow-partial to convert "
                           "the rest")
    save(spec, variables, target, out)
    if write_spec is not None:
        spec_mod.save_file(spec, write_spec)
    obtained = runner.run_model(spec, load(spec, target, out), target_of(target))
    expected = tf1.run(spec, variables)
    comparison, rounding = _judge(spec, variables, obtained, expected,
                                  f"{target} file {out} vs TF1 checkpoint {prefix} [{spec.name}]")
    conversion = Conversion(target, str(out), comparison, spec, inferred, kept, rounding)
    if meta is None:
        conversion.trained_note = "no .meta graph beside the checkpoint"
    elif kept.left_over:
        conversion.trained_note = "a partial conversion is not the trained graph's whole model"
    else:
        arrays, conversion.trained_note = trained.run(prefix, spec,
                                                      infer.cells_of(spec, keys)[0].stack)
        if arrays is not None:
            conversion.trained = cmp.compare(
                {k: expected[k] for k in arrays}, arrays, tolerances=spec.tolerances,
                label=f"TF1 rebuilt from the spec vs the trained graph {prefix}.meta")
    return conversion


def _judge(spec: CaseSpec, variables, obtained, expected, label: str):
    """``(comparison, rounding)``: the arrays compared; the float64 arbiter when beyond it."""
    comparison = cmp.compare(obtained, expected, tolerances=spec.tolerances, label=label)
    rounding = None
    if not comparison.ok and not comparison.structural and spec.dtype == "float32":
        rounding = float64_arbiter(spec, variables, obtained, expected,
                                   [a.name for a in comparison.mismatches])
    return comparison, rounding
