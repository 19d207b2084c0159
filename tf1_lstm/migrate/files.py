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
from typing import Optional

from .. import compare as cmp
from .. import spec as spec_mod
from ..spec import CaseSpec
from . import checkpoint, convert, infer, inventory, runner
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
        lines.append(self.comparison.report())
        return "\n".join(lines)


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
        keys = checkpoint.checkpoint_names(spec, scope)
        if meta is not None:
            infer.check_against_meta(spec, keys, meta, where=prefix + ".meta")
    variables = checkpoint.read(prefix, spec, keys=keys)
    kept = inventory.classify(shapes, keys.values())
    if kept.left_over and not allow_partial:
        raise ValueError(f"{prefix}: the conversion would leave model variable(s) behind: "
                         + ", ".join(f"{k} {list(v)}" for k, v in kept.left_over.items())
                         + "; describe them in the spec, or --allow-partial to convert "
                           "the rest")
    save(spec, variables, target, out)
    if write_spec is not None:
        spec_mod.save_file(spec, write_spec)
    obtained = runner.run_model(spec, load(spec, target, out), target_of(target))
    expected = tf1.run(spec, variables)
    comparison = cmp.compare(obtained, expected, tolerances=spec.tolerances,
                             label=f"{target} file {out} vs TF1 checkpoint {prefix} [{spec.name}]")
    return Conversion(target, str(out), comparison, spec, inferred, kept)
