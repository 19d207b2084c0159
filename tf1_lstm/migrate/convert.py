"""Converters between TF1 variables and each target's weights, in NumPy only.

``to_target(spec, variables, target)`` takes TF1 variables by name (as
:func:`tf1_lstm.naming.layout` names them, a golden's ``variables/...`` or a
checkpoint read with :mod:`tf1_lstm.migrate.checkpoint`) and returns the
target's weights by the target's own names; ``to_tf1(spec, weights, target)``
goes back. Both read gate order, bias handling and which TF1 variables make a
cell's kernel from :mod:`tf1_lstm.migrate.layouts` (``LAYOUTS``,
``TF1_VARIABLES``) and nothing else, and both refuse a spec the target cannot
express (:func:`~tf1_lstm.migrate.layouts.check_expressible`).

The target's names (``k`` = layer), the same for LSTM, GRU and RNN layers::

    keras, keras3  cell_{k}/kernel, cell_{k}/recurrent_kernel, cell_{k}/bias,
                   head/kernel, head/bias  -- in ``Model.get_weights()`` order
                   of :func:`tf1_lstm.migrate.keras_model.build`
    torch          one torch.nn.LSTM / nn.RNN(num_layers=n) when every layer has
                   the same kind, H, P and activation: weight_ih_l{k},
                   weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, weight_hr_l{k};
                   otherwise a ModuleList of one-layer modules:
                   {k}.weight_ih_l0, ...; head.weight, head.bias
    onnx           initializers W_{k}, R_{k}, B_{k}, P_{k}, head/W, head/b

Nothing here imports a framework.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Tuple

import numpy as np

from .. import naming
from ..spec import CaseSpec
from .layouts import FAMILY, LAYOUTS, TF1_VARIABLES, check_expressible, layout

Arrays = Dict[str, np.ndarray]


def _layers(spec: CaseSpec, variables: Mapping[str, np.ndarray]):
    layers, head = naming.params_by_layer(spec, variables)
    depths = [spec.input_depth] + [c.output_size for c in spec.cells[:-1]]
    return list(zip(spec.cells, layers, depths)), head


def joined(family: str, params: Mapping[str, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """A cell's TF1 kernels and biases side by side: ``(kernel (I + R, G), bias (G,))``.

    Gate blocks in TF1's order of ``family`` (:func:`~tf1_lstm.migrate.layouts.tf1_gates`):
    an LSTM's ``kernel`` as it is, a GRU's ``gates/kernel | candidate/kernel``.
    """
    parts = TF1_VARIABLES[family]
    return (np.concatenate([params[k] for k, _, _ in parts], axis=1),
            np.concatenate([params[b] for _, b, _ in parts]))


def split(family: str, kernel: np.ndarray, bias: np.ndarray) -> Arrays:
    """Inverse of :func:`joined`: TF1 role -> array."""
    parts = TF1_VARIABLES[family]
    units = bias.shape[0] // sum(len(gates) for _, _, gates in parts)      # H
    edges = np.cumsum([len(gates) * units for _, _, gates in parts])[:-1]
    out: Arrays = {}
    for (k, b, _), w, v in zip(parts, np.split(kernel, edges, axis=1), np.split(bias, edges)):
        out[k], out[b] = w, v
    return out


def torch_single_module(spec: CaseSpec) -> bool:
    """True when one multi-layer ``nn.LSTM`` / ``nn.RNN`` holds every layer.

    That needs the same kind of module, ``H``, ``P`` and activation in every layer.
    """
    first = spec.cells[0]
    return all(FAMILY[c.kind] == FAMILY[first.kind] and c.num_units == first.num_units
               and c.num_proj == first.num_proj
               and (c.activation or "tanh") == (first.activation or "tanh")
               for c in spec.cells)


def torch_prefix(spec: CaseSpec, layer: int) -> Tuple[str, int]:
    """``(key prefix, module layer index)`` of ``layer`` in the torch state dict."""
    if torch_single_module(spec):
        return "", layer
    return f"{layer}.", 0


def to_target(spec: CaseSpec, variables: Mapping[str, np.ndarray], target: str) -> Arrays:
    """TF1 variables -> ``target``'s weights by name (see the module docstring).

    Raises:
      NotExpressible: an option of ``spec`` that ``target`` lacks.
      ValueError: variables that do not fit ``spec`` (named), an unknown target.
    """
    check_expressible(spec, target)
    layers, head = _layers(spec, variables)
    out: Arrays = {}
    for k, (cell, p, depth) in enumerate(layers):
        lay = layout(target, cell)
        kernel, tf1_bias = joined(lay.family, p)                      # (I + R, G), (G,)
        h, dtype = cell.num_units, kernel.dtype
        w_x, w_h = kernel[:depth], kernel[depth:]                     # (I, G), (R, G)
        fb = lay.forget_bias_vector(h, cell.forget_bias, dtype)       # (G,) target order
        bias = lay.to_target(tf1_bias)                                # (G,) target order
        if target in ("keras", "keras3"):
            out[f"cell_{k}/kernel"] = lay.to_target(w_x, axis=1)      # (I, G)
            out[f"cell_{k}/recurrent_kernel"] = lay.to_target(w_h, axis=1)  # (R, G)
            out[f"cell_{k}/bias"] = bias + fb                         # (G,)
        elif target == "torch":
            pre, n = torch_prefix(spec, k)
            out[f"{pre}weight_ih_l{n}"] = lay.to_target(w_x.T, axis=0)  # (G, I)
            out[f"{pre}weight_hh_l{n}"] = lay.to_target(w_h.T, axis=0)  # (G, R)
            out[f"{pre}bias_ih_l{n}"] = bias                          # (G,)
            out[f"{pre}bias_hh_l{n}"] = fb                            # (G,)
            if cell.num_proj is not None:
                out[f"{pre}weight_hr_l{n}"] = p["projection/kernel"].T  # (P, H)
        else:  # onnx
            out[f"W_{k}"] = lay.to_target(w_x.T, axis=0)[None]        # (1, G, I)
            out[f"R_{k}"] = lay.to_target(w_h.T, axis=0)[None]        # (1, G, H)
            out[f"B_{k}"] = np.concatenate([bias, fb])[None]          # (1, 2G)
            if cell.use_peepholes:
                out[f"P_{k}"] = np.concatenate([p[n] for n in lay.peepholes])[None]  # (1, 3H)
    if head:
        if target == "torch":
            out["head.weight"], out["head.bias"] = head["weights"].T, head["biases"]
        elif target == "onnx":
            out["head/W"], out["head/b"] = head["weights"], head["biases"]
        else:
            out["head/kernel"], out["head/bias"] = head["weights"], head["biases"]
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def expected_names(spec: CaseSpec, target: str) -> Dict[str, Tuple[int, ...]]:
    """The names and shapes :func:`to_target` gives for ``spec``."""
    zeros = {name: np.zeros(info.shape, spec.dtype) for name, info in naming.layout(spec).items()}
    return {k: v.shape for k, v in to_target(spec, zeros, target).items()}


def _check(spec: CaseSpec, weights: Mapping[str, np.ndarray], target: str) -> Arrays:
    want = expected_names(spec, target)
    missing = [n for n in want if n not in weights]
    unknown = [n for n in weights if n not in want]
    if missing or unknown:
        raise ValueError(f"case {spec.name!r}: {target} weights do not match: missing {missing}, "
                         f"unknown {unknown} (expected {list(want)})")
    out = {}
    for name, shape in want.items():
        value = np.asarray(weights[name])
        if value.shape != shape:
            raise ValueError(f"case {spec.name!r}: {target} weight {name!r} has shape "
                             f"{value.shape}, expected {shape}")
        out[name] = value.astype(spec.dtype, copy=False)
    return out


def to_tf1(spec: CaseSpec, weights: Mapping[str, np.ndarray], target: str, *,
           unfold_forget_bias: bool = True) -> Arrays:
    """``target``'s weights -> TF1 variables by TF name (``rnn/.../kernel:0``).

    Args:
      spec: the TF1 computation the variables are for.
      weights: by the target's names (see the module docstring).
      target: ``keras``, ``keras3``, ``torch`` or ``onnx``.
      unfold_forget_bias: take each LSTM cell's ``forget_bias`` back out of
        the bias, giving variables for cells built with that ``forget_bias``
        (False: variables for cells built with ``forget_bias=0``).

    Raises:
      NotExpressible: an option of ``spec`` that ``target`` lacks.
      ValueError: names or shapes that do not fit (named).
    """
    check_expressible(spec, target)
    w = _check(spec, weights, target)
    out: Arrays = {}
    by_layer: List[Dict[str, str]] = [
        {info.role: name for name, info in naming.layout(spec).items() if info.layer == k}
        for k in range(len(spec.cells))]
    for k, cell in enumerate(spec.cells):
        lay = layout(target, cell)
        names = by_layer[k]
        h, dtype = cell.num_units, np.dtype(spec.dtype)
        fb = lay.forget_bias_vector(h, cell.forget_bias if unfold_forget_bias else 0.0, dtype)
        if target in ("keras", "keras3"):
            w_x = lay.to_tf1(w[f"cell_{k}/kernel"], axis=1)
            w_h = lay.to_tf1(w[f"cell_{k}/recurrent_kernel"], axis=1)
            bias = lay.to_tf1(w[f"cell_{k}/bias"] - fb)
        elif target == "torch":
            pre, n = torch_prefix(spec, k)
            w_x = lay.to_tf1(w[f"{pre}weight_ih_l{n}"], axis=0).T
            w_h = lay.to_tf1(w[f"{pre}weight_hh_l{n}"], axis=0).T
            # (bias_hh - forget_bias) first: exactly 0 for weights this module wrote.
            bias = lay.to_tf1(w[f"{pre}bias_ih_l{n}"] + (w[f"{pre}bias_hh_l{n}"] - fb))
            if cell.num_proj is not None:
                out[names["projection/kernel"]] = w[f"{pre}weight_hr_l{n}"].T
        else:  # onnx
            w_x = lay.to_tf1(w[f"W_{k}"][0], axis=0).T
            w_h = lay.to_tf1(w[f"R_{k}"][0], axis=0).T
            b_w, b_r = np.split(w[f"B_{k}"][0], 2)
            bias = lay.to_tf1(b_w + (b_r - fb))
            if cell.use_peepholes:
                for name, value in zip(lay.peepholes, np.split(w[f"P_{k}"][0], 3)):
                    out[names[name]] = value
        for role, value in split(lay.family, np.concatenate([w_x, w_h], axis=0), bias).items():
            out[names[role]] = value
    if spec.head is not None:
        head = {info.role: name for name, info in naming.layout(spec).items() if info.layer < 0}
        if target == "torch":
            out[head["weights"]], out[head["biases"]] = w["head.weight"].T, w["head.bias"]
        elif target == "onnx":
            out[head["weights"]], out[head["biases"]] = w["head/W"], w["head/b"]
        else:
            out[head["weights"]], out[head["biases"]] = w["head/kernel"], w["head/bias"]
    order = list(naming.layout(spec))
    return {name: np.ascontiguousarray(out[name], dtype=spec.dtype) for name in order}


def gradients_to_tf1(spec: CaseSpec, grads: Mapping[str, np.ndarray], target: str) -> Arrays:
    """d loss / d target weights -> d loss / d TF1 variables (the adjoint of :func:`to_target`).

    :func:`to_target` is a permutation and transposes of the TF1 arrays plus
    a constant (``forget_bias`` or zeros). Its adjoint is the inverse
    permutation, and a second bias that holds only that constant (PyTorch's
    ``bias_hh``, ONNX's R-bias) does not depend on any TF1 variable, so its
    gradient is dropped rather than added.
    """
    grads = dict(grads)
    if any(lay.forget_bias_in == "second_bias" for lay in LAYOUTS[target].values()):
        for name, value in grads.items():
            if target == "torch" and "bias_hh_l" in name:
                grads[name] = np.zeros_like(value)
            elif target == "onnx" and name.startswith("B_"):
                value = np.array(value)
                value[..., value.shape[-1] // 2:] = 0
                grads[name] = value
    return to_tf1(spec, grads, target, unfold_forget_bias=False)
