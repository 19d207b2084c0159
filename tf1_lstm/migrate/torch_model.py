"""PyTorch target: ``torch.nn.LSTM`` (``proj_size`` for TF1's ``num_proj``) and ``nn.RNN``.

TF1's LSTM cells become ``nn.LSTM``, ``BasicRNNCell`` becomes ``nn.RNN``
(``nonlinearity`` ``tanh`` or ``relu``, the only two it has). ``GRUCell`` is
not expressible: ``nn.GRU`` applies the reset gate after the recurrent
matmul (see :data:`tf1_lstm.migrate.layouts.NOT_EXPRESSIBLE`).

One ``nn.LSTM(I, H, num_layers=n, batch_first=True, proj_size=P)`` (or
``nn.RNN(..., num_layers=n)``) when every layer has the same kind, ``H``,
``P`` and activation (what one module can hold); otherwise an
``nn.ModuleList`` of one-layer modules, layer ``k`` taking layer ``k - 1``'s
output (the document's ``MultiRNNCell([LSTMCell(4), LSTMCell(5)])`` is such a
stack, and so is a mix of LSTM and RNN cells). A tf-slim head becomes
``nn.Linear``.

PyTorch's LSTM with ``proj_size``: ``h = W_hr (o * tanh(c))``, TF1's
``h = (o * tanh(c)) @ projection/kernel`` with ``W_hr = projection/kernel.T``;
the state is ``(h_0, c_0)`` with ``h`` of depth ``P``.

``sequence_length``: the input is packed (``pack_padded_sequence(...,
enforce_sorted=False)``): steps past an example's length are not run, the
padded output is zero and ``h_n`` (``c_n``) are the state after its last step,
as in TF1. PyTorch refuses length 0; those examples are not run at all, and
get zero outputs and their initial state, which is what TF1 gives them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

import numpy as np

from ..spec import CaseSpec
from . import runner
from .convert import torch_single_module
from .layouts import layout


@dataclass
class TorchModel:
    """``rnn``: ``nn.LSTM``/``nn.RNN`` or a ``ModuleList`` of them; ``head``: ``nn.Linear``."""

    rnn: Any
    head: Optional[Any] = None

    def state_dict(self) -> Dict[str, Any]:
        out = dict(self.rnn.state_dict())
        if self.head is not None:
            out.update({"head." + k: v for k, v in self.head.state_dict().items()})
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.rnn.load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")})
        if self.head is not None:
            self.head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})


def _torch():
    import torch  # optional extra: pip install 'tf1-lstm[torch]'

    return torch


def _module(spec: CaseSpec, cell, input_size: int, num_layers: int = 1):
    """One ``nn.LSTM`` or ``nn.RNN`` for ``cell`` (and ``num_layers - 1`` more like it)."""
    torch = _torch()
    lay = layout("torch", cell)
    kwargs = dict(num_layers=num_layers, batch_first=True, dtype=getattr(torch, spec.dtype))
    if lay.family == "lstm":
        return torch.nn.LSTM(input_size, cell.num_units, proj_size=cell.num_proj or 0, **kwargs)
    return torch.nn.RNN(input_size, cell.num_units,
                        nonlinearity=lay.activations[cell.activation or "tanh"], **kwargs)


def build_empty(spec: CaseSpec) -> TorchModel:
    """The modules of ``spec`` with PyTorch's own initial weights.

    Drawing them leaves PyTorch's global (CPU) generator as it was: they are
    overwritten by the converted weights, so the draws would only shift the
    caller's random stream.
    """
    torch = _torch()
    depths = runner.layer_inputs(spec)
    with torch.random.fork_rng(devices=[]):
        if torch_single_module(spec):
            rnn = _module(spec, spec.cells[0], spec.input_depth, len(spec.cells))
        else:
            rnn = torch.nn.ModuleList([_module(spec, c, d) for d, c in zip(depths, spec.cells)])
        head = None
        if spec.head is not None:
            head = torch.nn.Linear(spec.cells[-1].output_size, spec.head.num_outputs,
                                   dtype=getattr(torch, spec.dtype))
    return TorchModel(rnn.eval(), head.eval() if head is not None else None)


def build(spec: CaseSpec, weights: Mapping[str, np.ndarray]) -> TorchModel:
    """The modules of ``spec`` with ``weights`` (:mod:`convert` torch names) loaded."""
    torch = _torch()
    model = build_empty(spec)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return model


def get_weights(model: TorchModel) -> Dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def _call(module, seq, state: Dict[str, Any]):
    """``module(seq, state)`` for an LSTM (``(h, c)``) or RNN (``h``); the new state by part."""
    if isinstance(module, _torch().nn.LSTM):
        seq, (h, c) = module(seq, (state["h"], state["c"]))
        return seq, {"h": h, "c": c}
    seq, h = module(seq, state["h"])
    return seq, {"h": h}


def _run_layers(spec: CaseSpec, model: TorchModel, x, lengths, initial):
    """Run the layers on ``x`` ``(B, T, I)``; ``initial``: per layer by part ``(B, .)``."""
    torch = _torch()
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    steps = x.shape[1]
    seq = x if lengths is None else pack_padded_sequence(
        x, torch.as_tensor(lengths, dtype=torch.int64), batch_first=True, enforce_sorted=False)
    with warnings.catch_warnings():
        # oneDNN has no projection kernel; PyTorch says so and uses its own: expected.
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
        if torch_single_module(spec):
            parts = initial[0].keys()
            seq, final = _call(model.rnn, seq, {p: torch.stack([s[p] for s in initial])
                                                for p in parts})
            finals = [{p: final[p][k] for p in parts} for k in range(len(spec.cells))]
        else:
            finals = []
            for module, state in zip(model.rnn, initial):
                seq, final = _call(module, seq, {p: v[None] for p, v in state.items()})
                finals.append({p: v[0] for p, v in final.items()})
    if lengths is not None:
        seq, _ = pad_packed_sequence(seq, batch_first=True, total_length=steps)
    return seq, finals


def forward(spec: CaseSpec, model: TorchModel, given: runner.Inputs) -> runner.Outputs:
    """Run ``model``; with ``spec.gradients`` also ``loss.backward()``."""
    torch = _torch()
    batch, steps = given.x.shape[:2]
    grad = spec.gradients
    initial = given.initial or runner.zero_initial(spec, batch)
    x = torch.tensor(given.x, requires_grad=grad)                                # (B, T, I)
    s0 = [{p: torch.tensor(v, requires_grad=grad) for p, v in s.items()}         # (B, .) each
          for s in initial]
    # Examples of length 0 are not run (PyTorch refuses them): zero outputs, initial state.
    run = np.arange(batch) if given.lengths is None else np.flatnonzero(given.lengths > 0)
    idx = torch.as_tensor(run, dtype=torch.int64)
    with torch.set_grad_enabled(grad):
        outputs = torch.zeros(batch, steps, spec.cells[-1].output_size, dtype=x.dtype)
        finals = [{p: v * 1 for p, v in s.items()} for s in s0]
        if run.size:
            lengths = None if given.lengths is None else given.lengths[run]
            seq, f_run = _run_layers(spec, model, x[idx], lengths,
                                     [{p: v[idx] for p, v in s.items()} for s in s0])
            outputs = outputs.index_put((idx,), seq)
            finals = [{p: v.index_put((idx,), r[p]) for p, v in s.items()}
                      for s, r in zip(finals, f_run)]
        logits = model.head(outputs[:, -1]) if model.head is not None else None  # (B, N)
        out = runner.Outputs(outputs.detach().numpy(),
                             [{p: v.detach().numpy() for p, v in s.items()} for s in finals],
                             None if logits is None else logits.detach().numpy())
        if grad:
            loss = 0.5 * (outputs ** 2).sum() + sum(v.sum() for s in finals for v in s.values())
            if logits is not None:
                loss = loss + 0.5 * (logits ** 2).sum()
            params = dict(model.rnn.named_parameters())
            if model.head is not None:
                params.update({"head." + k: v for k, v in model.head.named_parameters()})
            for p in params.values():
                p.grad = None
            loss.backward()
            out.loss = loss.detach().numpy()
            out.d_x = x.grad.numpy()
            out.d_initial = [{p: v.grad.numpy() for p, v in s.items()} for s in s0]
            out.d_weights = {k: (np.zeros(tuple(v.shape), spec.dtype) if v.grad is None
                                 else v.grad.numpy()) for k, v in params.items()}
    return out


TARGET = runner.Target("torch", build, forward, get_weights)


def save(model: TorchModel, path: str) -> None:
    """``torch.save`` of the state dict (``.pt``).

    Raises:
      ValueError: another suffix.
    """
    if not str(path).endswith(".pt"):
        raise ValueError(f"{path}: a PyTorch state dict file ends in '.pt'")
    _torch().save(model.state_dict(), str(path))


def load(spec: CaseSpec, path: str) -> TorchModel:
    """A state dict :func:`save` wrote, loaded into :func:`build_empty` ``(spec)``."""
    torch = _torch()
    model = build_empty(spec)
    model.load_state_dict(torch.load(str(path), weights_only=True))
    return model
