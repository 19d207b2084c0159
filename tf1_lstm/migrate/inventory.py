"""What a TF1 checkpoint holds, variable by variable: model, training state, or left over.

A ``Saver`` checkpoint of a trained model holds more than the model:

* optimizer slots: ``<variable>/<slot>`` with the variable's shape
  (``Adam``'s ``m`` and ``v`` are ``<variable>/Adam`` and ``<variable>/Adam_1``,
  ``Momentum``'s accumulator ``<variable>/Momentum``, RMSProp's
  ``<variable>/RMSProp``, ``RMSProp_1``, ...; a named optimizer uses its name);
* the optimizer's own scalars: Adam's ``beta1_power``, ``beta2_power``;
* ``global_step`` (under any scope: ``Model/global_step``);
* exponential moving averages, ``<variable>/ExponentialMovingAverage``.

:func:`classify` sorts every key into what a conversion used, what it may
leave behind (the training state above, each named as such), and the model
variables it left over -- which :func:`tf1_lstm.migrate.files.convert_checkpoint`
refuses unless the user allows a partial conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

# Scalars an optimizer keeps beside its slots (TF 1.x: Adam's beta powers,
# also numbered when several Adam optimizers share a graph).
_OPTIMIZER_SCALARS = re.compile(r"(^|/)beta[12]_power(_\d+)?$")
_GLOBAL_STEP = re.compile(r"(^|/)global_step$")


@dataclass
class Inventory:
    """Every key of a checkpoint, sorted.

    Attributes:
      used: keys the conversion read.
      training: key -> what it is (``"Adam slot of rnn/lstm_cell/kernel"``,
        ``"global_step"``, ...): expected in a trained checkpoint, never converted.
      left_over: model variables the conversion did not read, with their shapes.
    """

    used: List[str] = field(default_factory=list)
    training: Dict[str, str] = field(default_factory=dict)
    left_over: Dict[str, Tuple[int, ...]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: how many keys were converted and what was not, by kind."""
        kinds: Dict[str, int] = {}
        for what in self.training.values():
            kind = what.split(" of ", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        parts = [f"{len(self.used)} variable(s) converted"]
        parts += [f"{n} {kind}" for kind, n in sorted(kinds.items())]
        if self.left_over:
            parts.append(f"{len(self.left_over)} model variable(s) left over: "
                         + ", ".join(f"{k} {list(s)}" for k, s in self.left_over.items()))
        return "checkpoint: " + "; ".join(parts)


def training_state(shapes: Mapping[str, Sequence[int]]) -> Dict[str, str]:
    """Key -> what it is, for the checkpoint's optimizer slots, scalars and global step.

    A slot is recognised by its place, not by a list of optimizer names: it
    is ``<variable>/<name>`` for another key ``<variable>`` of the same
    shape, so a slot of a renamed optimizer is found as well.
    """
    out: Dict[str, str] = {}
    for key in sorted(shapes):
        if _GLOBAL_STEP.search(key):
            out[key] = "global_step"
        elif _OPTIMIZER_SCALARS.search(key):
            out[key] = "optimizer scalar"
        else:
            owner, _, slot = key.rpartition("/")
            while owner:
                if owner in shapes and list(shapes[owner]) == list(shapes[key]):
                    name = re.sub(r"_\d+$", "", slot.split("/")[0])
                    kind = ("moving average" if name == "ExponentialMovingAverage"
                            else f"{name} slot")
                    out[key] = f"{kind} of {owner}"
                    break
                owner, _, rest = owner.rpartition("/")
                slot = f"{rest}/{slot}"
    return out


def classify(shapes: Mapping[str, Sequence[int]], used: Iterable[str]) -> Inventory:
    """Sort every key of ``shapes`` (a checkpoint's variable-to-shape map)."""
    used = list(used)
    training = {k: v for k, v in training_state(shapes).items() if k not in used}
    left = {k: tuple(shapes[k]) for k in sorted(shapes) if k not in used and k not in training}
    return Inventory(used=used, training=training, left_over=left)
