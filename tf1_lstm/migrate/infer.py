"""The model a TF1 checkpoint holds, read from its variables' names and shapes.

TF1 names a recurrent stack's variables by where they were built
(:mod:`tf1_lstm.naming`)::

    [<scope>/][rnn/][multi_rnn_cell/cell_<k>/]<cell name>/<variable>

``rnn/`` is the scope ``dynamic_rnn`` (and ``static_rnn``) opens; without it
the cell was called directly. The variables under a cell say its kind and
sizes:

===============================================  ====================================
variables under the cell                         cell
===============================================  ====================================
``gates/kernel [I+H, 2H]``, ``candidate/...``    ``GRUCell(H)``
``kernel [I+R, 4H]``, ``bias [4H]``              ``LSTMCell(H)`` (``basic_lstm_cell``:
                                                 ``BasicLSTMCell``); ``w_f_diag`` etc.:
                                                 peepholes; ``projection/kernel [H, P]``:
                                                 ``num_proj=P`` (then ``R = P``)
``kernel [I+H, H]``, ``bias [H]``                ``BasicRNNCell(H)``
===============================================  ====================================

A linear head after the stack is ``<name>/weights``, ``<name>/biases`` (tf-slim's
``fully_connected``) or ``<name>/kernel``, ``<name>/bias`` (``tf.layers.dense``)
whose input depth is the stack's output depth.

What the checkpoint does not store -- ``forget_bias``, the activation, the clips
-- comes from the ``.meta`` graph beside it when there is one
(:mod:`tf1_lstm.migrate.metagraph`), else TF1's defaults, and
:attr:`Inferred.notes` says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .. import naming
from ..spec import CaseSpec, CellSpec, HeadSpec
from .inventory import training_state

# Default cell names -> kind (TF1's snake-case class names).
KIND_OF_NAME = {name: kind for kind, name in naming.DEFAULT_CELL_NAMES.items()
                if kind != "LSTMBlockCell"}  # lstm_cell: LSTMCell, the same math
PEEPHOLES = ("w_f_diag", "w_i_diag", "w_o_diag")
_LAYER = re.compile(r"^cell_(\d+)$")
# The inputs the equivalence check feeds when the graph does not fix a shape.
BATCH, TIME = 3, 5


@dataclass
class Inferred:
    """A spec read from a checkpoint, the keys it covers and how each option was decided.

    Attributes:
      spec: the inferred case (inputs: deterministic values of the right shape).
      keys: TF variable name (``...:0``) -> checkpoint key, for every variable of ``spec``.
      notes: one line per decision the checkpoint alone does not make.
    """

    spec: CaseSpec
    keys: Dict[str, str]
    notes: List[str] = field(default_factory=list)


@dataclass
class _Cell:
    path: str            # the cell's scope in the checkpoint, e.g. enc/rnn/multi_rnn_cell/cell_0/lstm_cell
    stack: str           # the stack's scope: everything before multi_rnn_cell/ or the cell name
    layer: Optional[int]  # k of multi_rnn_cell/cell_k, None outside a MultiRNNCell
    name: str            # the cell's own scope name (lstm_cell, or its name=)
    roles: Dict[str, Tuple[int, ...]]   # by today's role names (canonical_role)
    keys: Dict[str, str] = field(default_factory=dict)  # role -> the checkpoint's key


def canonical_role(role: str) -> str:
    """A cell variable's role by today's name: TF 1.0-1.1 said ``weights``, ``biases``."""
    head, _, last = role.rpartition("/")
    last = naming.LEGACY_ROLES.get(last, last)
    return f"{head}/{last}" if head else last


def _cells(shapes: Mapping[str, Tuple[int, ...]]) -> List[_Cell]:
    """Every RNN cell in the checkpoint (its variables grouped under its scope)."""
    paths = set()
    for key in shapes:
        for role in ("gates/kernel", "kernel", "gates/weights", "weights"):
            if not key.endswith("/" + role):
                continue
            path = key[:-len(role) - 1]
            parts = path.split("/")
            if path.endswith(("/gates", "/candidate", "/projection")):
                continue
            in_rnn = "rnn" in parts[:-1] or (len(parts) >= 2 and bool(_LAYER.match(parts[-2])))
            biased = f"{path}/bias" in shapes or f"{path}/biases" in shapes
            if parts[-1] in KIND_OF_NAME or role.startswith("gates/") or (in_rnn and biased):
                paths.add(path)
    cells = []
    for path in sorted(paths):
        parts = path.split("/")
        name, layer, stack_parts = parts[-1], None, parts[:-1]
        if len(parts) >= 3 and parts[-3] == "multi_rnn_cell" and _LAYER.match(parts[-2]):
            layer, stack_parts = int(_LAYER.match(parts[-2]).group(1)), parts[:-3]
        keys = {canonical_role(key[len(path) + 1:]): key for key in shapes
                if key.startswith(path + "/")}
        roles = {role: tuple(shapes[key]) for role, key in keys.items()}
        cells.append(_Cell(path, "/".join(stack_parts), layer, name, roles, keys))
    return cells


def _cell_spec(cell: _Cell, where: str) -> Tuple[CellSpec, int]:
    """``(CellSpec, input depth I)`` from a cell's variables (``where``: the checkpoint)."""
    roles, where = cell.roles, f"{where}: {cell.path}"
    if "recurrent_kernel" in roles:
        raise ValueError(f"{where}: a Keras cell (kernel and recurrent_kernel, gates i, f, c, o) "
                         f"inside the TF1 graph, not a tf.nn.rnn_cell cell; tf1_lstm converts "
                         f"TF1's cells only")
    if "gates/kernel" in roles:
        units = roles["candidate/bias"][0]
        return CellSpec(kind="GRUCell", num_units=units, name=_own_name(cell, "GRUCell")), \
            roles["gates/kernel"][0] - units
    if "kernel" not in roles or "bias" not in roles:
        raise ValueError(f"{where}: a cell scope without kernel and bias (holds {sorted(roles)})")
    rows, cols = roles["kernel"]
    kind = KIND_OF_NAME.get(cell.name)
    if kind is None:
        if any(p in roles for p in PEEPHOLES) or "projection/kernel" in roles:
            kind = "LSTMCell"
        elif cols % 4 == 0 and rows <= cols:  # a BasicRNNCell's kernel has I + H > H rows
            kind = "LSTMCell"
        else:
            raise ValueError(
                f"{where}: a cell named {cell.name!r} (not a TF1 default name), so its kind "
                f"(LSTM or BasicRNN) does not follow from its kernel {[rows, cols]}; give "
                f"the model with --spec")
    if kind == "BasicRNNCell":
        return CellSpec(kind=kind, num_units=cols, name=_own_name(cell, kind)), rows - cols
    if kind == "GRUCell":
        raise ValueError(f"{where}: a GRUCell scope without gates/ and candidate/ variables")
    if cols % 4:
        raise ValueError(f"{where}: an LSTM kernel has 4 gate blocks; {[rows, cols]} has "
                         f"{cols} columns")
    units = cols // 4
    proj = roles.get("projection/kernel")
    peep = [p for p in PEEPHOLES if p in roles]
    if peep and len(peep) != 3:
        raise ValueError(f"{where}: peepholes need w_f_diag, w_i_diag and w_o_diag; found {peep}")
    if (proj or peep) and kind == "BasicLSTMCell":
        kind = "LSTMCell"
    spec = CellSpec(kind=kind, num_units=units, name=_own_name(cell, kind),
                    use_peepholes=bool(peep), num_proj=proj[1] if proj else None)
    return spec, rows - spec.output_size


def _own_name(cell: _Cell, kind: str) -> Optional[str]:
    return None if naming.DEFAULT_CELL_NAMES[kind] == cell.name else cell.name


def _stacks(cells: Sequence[_Cell]) -> Dict[str, List[_Cell]]:
    out: Dict[str, List[_Cell]] = {}
    for cell in cells:
        out.setdefault(cell.stack, []).append(cell)
    return out


def _describe(stack: str, cells: Sequence[_Cell]) -> str:
    return f"{stack or '(top level)'!r} ({len(cells)} cell(s): {cells[0].path}, ...)"


def infer(shapes: Mapping[str, Sequence[int]], dtypes: Mapping[str, str], *,
          scope: Optional[str] = None, where: str = "checkpoint", meta=None) -> Inferred:
    """The spec of the one RNN stack in a checkpoint (or the one under ``scope``).

    Args:
      shapes, dtypes: the checkpoint's variable-to-shape and -dtype maps.
      scope: the stack's variable scope (``""`` for the top level), to choose
        one of several stacks.
      where: the checkpoint's path, for messages.
      meta: the checkpoint's :class:`~tf1_lstm.migrate.metagraph.MetaGraph`,
        or ``None`` without a ``.meta``.

    Raises:
      ValueError: no stack, several stacks and no ``scope``, layers that do
        not chain, a dtype the spec cannot hold; the message names the keys.
    """
    shapes = {k: tuple(v) for k, v in shapes.items()}
    model = {k: v for k, v in shapes.items() if k not in training_state(shapes)}
    stacks = _stacks(_cells(model))
    if not stacks:
        raise ValueError(f"{where}: no RNN cell variables in it (no .../kernel with its bias "
                         f"under a cell scope); it holds {sorted(model)[:12]}")
    for stack, stack_cells in stacks.items():
        if scope is None or stack == _stack_of_scope({stack: stack_cells}, scope.strip("/")):
            _refuse_unsupported(where, stack, stack_cells)
    if scope is not None:
        wanted = _stack_of_scope(stacks, scope.strip("/"))
        if wanted is None:
            raise ValueError(f"{where}: no RNN stack under scope {scope!r}; stacks: "
                             + "; ".join(_describe(s, c) for s, c in stacks.items()))
    elif len(stacks) > 1:
        raise ValueError(f"{where}: holds {len(stacks)} RNN stacks: "
                         + "; ".join(_describe(s, c) for s, c in stacks.items())
                         + "; choose one with --scope (the others are then left over: "
                           "--allow-partial)")
    else:
        wanted = next(iter(stacks))
    cells = stacks[wanted]
    multi = cells[0].layer is not None
    if multi:
        layers = sorted(c.layer for c in cells)
        if layers != list(range(len(cells))):
            raise ValueError(f"{where}: MultiRNNCell layers {layers} under {wanted!r}; "
                             f"expected cell_0 ... cell_{len(cells) - 1}")
        cells = sorted(cells, key=lambda c: c.layer)
    elif len(cells) > 1:
        raise ValueError(f"{where}: {len(cells)} cells side by side under {wanted!r} "
                         f"({', '.join(c.name for c in cells)}), not a MultiRNNCell; give "
                         f"the model with --spec")
    specs, depth, input_depth = [], None, None
    for k, cell in enumerate(cells):
        cell_spec, in_depth = _cell_spec(cell, where)
        if in_depth < 1:
            raise ValueError(f"{where}: {cell.path}'s kernel {list(cell.roles.get('kernel', ()))} "
                             f"leaves no room for its inputs; not a TF1 cell tf1_lstm knows")
        if depth is not None and in_depth != depth:
            raise ValueError(f"{where}: layer {k} ({cell.path}) takes inputs of depth {in_depth}"
                             f"; layer {k - 1} gives {depth}")
        input_depth = in_depth if input_depth is None else input_depth
        specs.append(cell_spec)
        depth = cell_spec.output_size
    dtype_names = {str(dtypes[k]) for k in model if k.startswith(tuple(c.path + "/" for c in cells))}
    if len(dtype_names) != 1 or next(iter(dtype_names)) not in ("float32", "float64"):
        raise ValueError(f"{where}: the cells' variables are {sorted(dtype_names)}; tf1_lstm "
                         f"converts float32 and float64 models")
    dtype = next(iter(dtype_names))

    notes: List[str] = []
    parts = wanted.split("/") if wanted else []
    time_major, batch, time = False, BATCH, TIME
    if meta is None:
        notes.append("no .meta graph beside the checkpoint: forget_bias, activation and clips are "
                     "TF1's defaults (forget_bias=1.0, tanh, no clip), not read; check them or "
                     "give the model with --spec")
        looped = bool(parts) and parts[-1] == "rnn"
    else:
        if not meta.has_ops(wanted):
            raise ValueError(f"{where}: its .meta graph has no ops under {wanted!r} (were the "
                             f"variables renamed by Saver(var_list={{...}})?), so forget_bias, "
                             f"the activation and the clips cannot be read; give the model with "
                             f"--spec")
        options = meta_options(meta, wanted, cells, specs, notes)
        specs = list(with_options(specs, options["cells"]))
        looped = options["loop"]
        time_major = bool(options["time_major"])
        fixed_batch, fixed_time = meta.input_dims(wanted)
        batch, time = fixed_batch or batch, fixed_time or time
    named_rnn = bool(parts) and parts[-1] == "rnn"
    if looped:
        driver = "dynamic_rnn"
    elif named_rnn:  # no loop in the graph: the cells were unrolled by static_rnn
        driver = "static_rnn" if meta is not None else "dynamic_rnn"
    else:
        driver = "call"
    rnn_scope = None
    if driver == "call":
        spec_scope = wanted or None
    else:
        spec_scope = "/".join(parts[:-1]) or None
        if not named_rnn:  # dynamic_rnn(scope=...): its own scope in place of rnn/
            rnn_scope = parts[-1]
    head = _head(model, cells, depth)
    if head is not None and meta is not None:
        activation = meta.head_activation(head.scope)
        if activation is not None:
            notes.append(f"the head {head.scope!r} applies {activation} after its BiasAdd "
                         f"(tf.contrib.layers.fully_connected's default is relu); tf1_lstm's "
                         f"heads are linear, so it is left over")
            head = None
    elif head is not None and head.layer == "fully_connected":
        notes.append(f"no .meta graph: the head {head.scope!r} is taken as linear "
                     f"(fully_connected(..., activation_fn=None)); its default was relu")
    rng = np.random.default_rng(0)
    shape = ((batch, input_depth) if driver == "call" else
             (time, batch, input_depth) if time_major else (batch, time, input_depth))
    spec = CaseSpec(name=_case_name(wanted), cells=tuple(specs), multi_rnn=multi, driver=driver,
                    scope=spec_scope, rnn_scope=rnn_scope, dtype=dtype, head=head, time_major=time_major,
                    inputs=np.round(rng.uniform(-1.0, 1.0, shape), 3).astype(dtype),
                    description=f"inferred from {where}")
    keys = {}
    for name, info in naming.layout(spec).items():
        keys[name] = cells[info.layer].keys[info.role] if info.layer >= 0 else name[:-2]
    return Inferred(spec, keys, notes)


def _refuse_unsupported(where: str, stack: str, cells: Sequence[_Cell]) -> None:
    """Refuse a stack that is one part of a model tf1_lstm cannot convert whole."""
    parts = [part for part in ("bidirectional_rnn", "attention_wrapper")
             if any(part in c.path.split("/") for c in cells)]
    if parts or stack.split("/")[-1:] in (["fw"], ["bw"]):
        what = parts[0] if parts else stack.split("/")[-1]
        built_by = "an AttentionWrapper" if what == "attention_wrapper" else \
            "bidirectional_dynamic_rnn"
        raise ValueError(f"{where}: the stack {stack!r} is part of {built_by} ({what}/...), "
                         f"which tf1_lstm does not convert yet; converting its cells alone "
                         f"would compute another model")


def _stack_of_scope(stacks: Mapping[str, List[_Cell]], scope: str) -> Optional[str]:
    for stack in stacks:
        if stack == scope or stack == (f"{scope}/rnn" if scope else "rnn"):
            return stack
    return None


def _case_name(stack: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stack).strip("_")
    return f"checkpoint_{name}" if name else "checkpoint"


def _head(model: Mapping[str, Tuple[int, ...]], cells: Sequence[_Cell], depth: int
          ) -> Optional[HeadSpec]:
    """The one linear layer whose input depth is the stack's output depth, if exactly one."""
    inside = tuple(c.path + "/" for c in cells)
    found = []
    for key, shape in model.items():
        if key.startswith(inside) or len(shape) != 2 or shape[0] != depth:
            continue
        for layer, names in naming.HEAD_VARIABLES.items():
            suffix = "/" + names["weights"]
            if key.endswith(suffix):
                scope = key[:-len(suffix)]
                if model.get(f"{scope}/{names['biases']}") == (shape[1],):
                    found.append(HeadSpec(num_outputs=shape[1], scope=scope, layer=layer))
    return found[0] if len(found) == 1 else None


def meta_options(meta, stack: str, cells: Sequence[_Cell], specs: Sequence[CellSpec],
                 notes: List[str]) -> Dict[str, object]:
    """What the meta graph says: ``{"cells": [fields per layer], "time_major", "loop"}``."""
    from . import metagraph

    per_layer = []
    for cell, spec in zip(cells, specs):
        relative = cell.path[len(stack) + 1:] if stack else cell.path
        if spec.is_lstm:
            found = metagraph.lstm_options(meta, stack, relative, notes)
            if "forget_bias" not in found:
                notes.append(f"{cell.path}: the meta graph shows no forget_bias for this cell; "
                             f"TF1's default 1.0 assumed")
        else:
            bias_add = "BiasAdd_1" if spec.kind == "GRUCell" else "BiasAdd"
            found = metagraph.simple_options(meta, stack, relative, bias_add, notes)
        per_layer.append(found)
    return {"cells": per_layer, "time_major": meta.time_major(stack), "loop": meta.has_loop(stack)}


def with_options(specs: Sequence[CellSpec], per_layer: Sequence[Mapping[str, object]]
                 ) -> Tuple[CellSpec, ...]:
    """The cells with the options the meta graph showed (CellSpec fields by layer)."""
    import dataclasses

    return tuple(dataclasses.replace(cell, **fields) for cell, fields in zip(specs, per_layer))


def cells_of(spec: CaseSpec, keys: Mapping[str, str]) -> List[_Cell]:
    """Where ``spec``'s cells are in a checkpoint, by the keys of their kernels."""
    layout = naming.layout(spec)
    cells = []
    for k, cell in enumerate(spec.cells):
        kernel = next(n for n, info in layout.items()
                      if info.layer == k and info.role in ("kernel", "gates/kernel"))
        path = keys[kernel][:-len(layout[kernel].role) - 1]
        relative = path.split("/")[-3 if spec.multi_rnn else -1:]
        stack = path[:-len("/".join(relative))].rstrip("/")
        cells.append(_Cell(path, stack, k if spec.multi_rnn else None, relative[-1], {}, {}))
    return cells


# The cell options a meta graph shows and a spec states, with TF1's values when unset.
META_FIELDS = {"forget_bias": 1.0, "activation": None, "cell_clip": None, "proj_clip": None}


def check_against_meta(spec: CaseSpec, keys: Mapping[str, str], meta, where: str) -> None:
    """Refuse a spec whose cell options contradict what the meta graph shows.

    Raises:
      ValueError: naming the field, the spec's value and the graph's.
    """
    cells = cells_of(spec, keys)
    notes: List[str] = []
    shown = meta_options(meta, cells[0].stack, cells, spec.cells, notes)["cells"]
    for k, (cell, found) in enumerate(zip(spec.cells, shown)):
        for name, value in found.items():
            if name == "kind":  # LSTMCell and LSTMBlockCell compute the same
                continue
            ours = getattr(cell, name)
            if name == "activation" and ours == "tanh":
                ours = None
            if ours != value:
                raise ValueError(f"cells[{k}].{name}: the spec says {ours!r}, {where} shows "
                                 f"{value!r} (the graph the checkpoint was trained in); fix "
                                 f"the spec, or leave --spec out to take the graph's")
