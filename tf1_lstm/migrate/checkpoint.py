"""TF1 checkpoints (``tf.compat.v1.train.Saver`` format), read and written by variable name.

A checkpoint stores each variable under its name without the ``:0`` suffix
(``rnn/multi_rnn_cell/cell_0/lstm_cell/kernel``). :func:`read` finds the
variables a case spec builds; the scope the cells were built under in the
checkpoint's graph may differ from the spec's (``scope=``), the rest of each
name (``rnn/``, ``multi_rnn_cell/cell_<k>/``, the cell name, the variable) is
what :mod:`tf1_lstm.naming` says. A tf-slim head is built outside that scope
(``logits/weights``), so ``scope=`` never renames it. Optimizer slots, ``global_step`` and other
variables in the checkpoint are ignored.
"""

from __future__ import annotations

import os
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


def read(path: os.PathLike, spec: CaseSpec, scope: Optional[str] = None) -> Dict[str, np.ndarray]:
    """The variables of ``spec`` from the checkpoint ``path`` (a prefix such as ``model.ckpt``).

    Returns:
      TF variable name -> array, checked against ``spec`` (:func:`naming.check_weights`).

    Raises:
      ValueError: no checkpoint there, or a variable missing or misshapen;
        the message names the checkpoint, the variable and what it holds.
    """
    tf = tfcompat.load()
    try:
        reader = tf.compat.v1.train.load_checkpoint(str(path))
    except (ValueError, tf.errors.OpError) as exc:
        raise ValueError(f"{path}: not a readable TF1 checkpoint ({str(exc).splitlines()[0]}); "
                         f"give the prefix Saver.save returned (e.g. model.ckpt, not "
                         f"model.ckpt.index), or the directory holding 'checkpoint'") from None
    shapes = reader.get_variable_to_shape_map()
    keys = checkpoint_names(spec, scope)
    missing = [key for key in keys.values() if key not in shapes]
    if missing:
        held = sorted(shapes)
        raise ValueError(f"{path}: checkpoint has no variable(s) {missing} for case {spec.name!r}; "
                         f"it holds {held[:20]}{' ...' if len(held) > 20 else ''}; choose the "
                         f"scope the cells were built under with scope= (--scope)")
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
