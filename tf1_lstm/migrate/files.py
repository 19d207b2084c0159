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

import os
from dataclasses import dataclass
from types import ModuleType
from typing import Optional

from .. import compare as cmp
from ..spec import CaseSpec
from . import checkpoint, convert, runner
from .layouts import TARGETS

SUFFIXES = {"keras": (".weights.h5", ".keras"), "keras3": (".weights.h5", ".keras"),
            "torch": (".pt",), "onnx": (".onnx",)}


@dataclass
class Conversion:
    """What :func:`convert_checkpoint` did: the file written and the equivalence measured."""

    target: str
    out: str
    comparison: cmp.Comparison

    def report(self) -> str:
        return f"wrote {self.out} ({self.target})\n{self.comparison.report()}"


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


def convert_checkpoint(path: os.PathLike, spec: CaseSpec, target: str, out: os.PathLike,
                       scope: Optional[str] = None) -> Conversion:
    """Read a TF1 checkpoint, write ``target``'s file, reload it and compare with TF1.

    The comparison covers the forward pass (outputs, states, logits): what a
    converted model file is for; gradients, Jacobians and training are not
    part of a checkpoint's meaning.

    Raises:
      NotExpressible: ``spec`` uses an option ``target`` lacks.
      ValueError: unreadable checkpoint, missing variables, bad suffix (named).
    """
    from ..engines import tf1

    spec = spec.forward_only()
    variables = checkpoint.read(path, spec, scope)
    save(spec, variables, target, out)
    obtained = runner.run_model(spec, load(spec, target, out), target_of(target))
    expected = tf1.run(spec, variables)
    comparison = cmp.compare(obtained, expected, tolerances=spec.tolerances,
                             label=f"{target} file {out} vs TF1 checkpoint {path} [{spec.name}]")
    return Conversion(target, str(out), comparison)
