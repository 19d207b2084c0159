"""TF1 checkpoints (``tf.compat.v1.train.Saver`` format), read and written by variable name.

A checkpoint stores each variable under its name without the ``:0`` suffix
(``rnn/multi_rnn_cell/cell_0/lstm_cell/kernel``). :func:`read` finds the
variables a case spec builds; the scope the cells were built under in the
checkpoint's graph may differ from the spec's (``scope=``), the rest of each
name (``rnn/``, ``multi_rnn_cell/cell_<k>/``, the cell name, the variable) is
what :mod:`tf1_lstm.naming` says. A tf-slim head is built outside that scope
(``logits/weights``), so ``scope=`` never renames it. What else the checkpoint holds is
sorted by :mod:`tf1_lstm.migrate.inventory`.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Mapping, Optional

import numpy as np

from .. import naming, tfcompat
from ..spec import CaseSpec


def checkpoint_names(spec: CaseSpec, scope: Optional[str] = None) -> Dict[str, str]:
    """TF variable name (``...:0``) -> checkpoint key, with ``scope`` in place of ``spec.scope``.

    ``scope=None`` keeps the spec's scope; ``""`` means no scope. Only the
    cells' variables move: they are the ones built under ``spec.scope``; a
    tf-slim head is built after it, outside, and keeps its name
    (``logits/weights``) whatever the scope.
    """
    out = {}
    new_scope = None if scope is None else scope.strip("/")
    old_prefix = f"{spec.scope}/" if spec.scope else ""
    for name, info in naming.layout(spec).items():
        key = name[:-2] if name.endswith(":0") else name
        if new_scope is not None and info.layer >= 0:  # a cell's variable, under spec.scope
            rest = key[len(old_prefix):]
            key = f"{new_scope}/{rest}" if new_scope else rest
        out[name] = key
    return out


def with_legacy_names(keys: Mapping[str, str], held: Mapping[str, object]) -> Dict[str, str]:
    """``keys`` with TF 1.0-1.1's names where the checkpoint holds those instead.

    Cells became layers in TF 1.2, which renamed their variables ``weights`` ->
    ``kernel`` and ``biases`` -> ``bias``; checkpoints written before hold the old
    names (:data:`tf1_lstm.naming.LEGACY_ROLES`).
    """
    out = dict(keys)
    for name, key in keys.items():
        head, _, last = key.rpartition("/")
        old = [f"{head}/{legacy}" for legacy, now in naming.LEGACY_ROLES.items() if now == last]
        if key not in held and old and old[0] in held:
            out[name] = old[0]
    return out


# Files of a checkpoint; its prefix is the name without these suffixes.
_PARTS = re.compile(r"\.(index|meta|data-\d{5}-of-\d{5})$")


def open_reader(path: os.PathLike):
    """``(prefix, reader)`` of the checkpoint at ``path`` (a prefix or its directory).

    Raises:
      ValueError: one of the checkpoint's files rather than its prefix, or no
        checkpoint there; the message says what to give.
    """
    tf = tfcompat.load()
    text = str(path)
    part = _PARTS.search(text)
    if part:
        raise ValueError(f"{text}: one of a checkpoint's files (.{part.group(1)}); give its "
                         f"prefix, {text[:part.start()]}, as Saver.save returned it")
    if os.path.isdir(text):
        latest = tf.compat.v1.train.latest_checkpoint(text)
        if latest is None:
            raise ValueError(f"{text}: a directory without a 'checkpoint' file naming a "
                             f"checkpoint; give the checkpoint's prefix (e.g. {text}/model.ckpt)")
        text = latest
    try:
        return text, tf.compat.v1.train.load_checkpoint(text)
    except (ValueError, tf.errors.OpError) as exc:
        raise ValueError(f"{text}: not a readable TF1 checkpoint ({str(exc).splitlines()[0]}); "
                         f"give the prefix Saver.save returned (e.g. model.ckpt), or the "
                         f"directory holding 'checkpoint'") from None


def _field_hint(spec: CaseSpec, name: str) -> str:
    """The spec fields that set the shape of variable ``name``."""
    info = naming.layout(spec)[name]
    if info.layer < 0:
        return "head.num_outputs and the last cell's num_units / num_proj"
    k, depth = info.layer, ("the inputs' last axis" if info.layer == 0 else
                            f"cells[{info.layer - 1}].num_units / num_proj")
    if info.role.endswith("kernel") and info.role != "projection/kernel":
        return f"cells[{k}].num_units (columns), {depth} and cells[{k}].num_proj (rows)"
    if info.role == "projection/kernel":
        return f"cells[{k}].num_units and cells[{k}].num_proj"
    return f"cells[{k}].num_units"


def read(path: os.PathLike, spec: CaseSpec, scope: Optional[str] = None,
         keys: Optional[Mapping[str, str]] = None) -> Dict[str, np.ndarray]:
    """The variables of ``spec`` from the checkpoint ``path`` (a prefix such as ``model.ckpt``).

    Args:
      keys: TF variable name -> checkpoint key (default: :func:`checkpoint_names`
        of ``spec`` and ``scope``).

    Returns:
      TF variable name -> array, checked against ``spec`` (:func:`naming.check_weights`).

    Raises:
      ValueError: no checkpoint there, or a variable missing or misshapen;
        the message names the checkpoint, the variable and the spec field.
    """
    path, reader = open_reader(path)
    shapes = reader.get_variable_to_shape_map()
    keys = dict(keys) if keys is not None else checkpoint_names(spec, scope)
    missing = [key for key in keys.values() if key not in shapes]
    if missing:
        held = sorted(shapes)
        hint = ""
        tails = {key.split("/", 1)[-1] for key in missing}
        if any(k.endswith(tuple("/" + t for t in tails)) or k in tails for k in held):
            hint = ("; the names differ in their scope: choose the scope the cells were built "
                    "under with --scope")
        raise ValueError(f"{path}: checkpoint has no variable(s) {missing} for case {spec.name!r}; "
                         f"it holds {held[:20]}{' ...' if len(held) > 20 else ''}{hint}")
    for name, key in keys.items():
        want = tuple(naming.layout(spec)[name].shape)
        got = tuple(shapes[key])
        if got != want:
            raise ValueError(f"{path}: checkpoint variable {key!r} has shape {list(got)}; the spec "
                             f"{spec.name!r} builds it with shape {list(want)} (set by "
                             f"{_field_hint(spec, name)})")
    values = {name: reader.get_tensor(key) for name, key in keys.items()}
    try:
        return naming.check_weights(spec, values)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write(path: os.PathLike, spec: CaseSpec, weights: Mapping[str, np.ndarray]) -> str:
    """Build ``spec``'s TF1 graph, load ``weights`` and ``Saver().save`` it to ``path``.

    Returns:
      The checkpoint prefix ``Saver.save`` returned.
    """
    from ..engines import tf1

    tf = tfcompat.load()
    v1 = tf.compat.v1
    weights = naming.check_weights(spec, weights)
    graph = tf.Graph()
    with graph.as_default():
        tf1.build(spec)
        variables = v1.trainable_variables()
        saver = v1.train.Saver(variables)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            tf1._assign(sess, variables, weights)
            return saver.save(sess, str(path))
