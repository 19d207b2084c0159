"""PyTorch target: ``torch.nn.LSTM`` (``proj_size`` for TF1's ``num_proj``).

One ``nn.LSTM(I, H, num_layers=n, batch_first=True, proj_size=P)`` when every
layer has the same ``H`` and ``P`` (what ``nn.LSTM`` can hold); otherwise an
``nn.ModuleList`` of one-layer LSTMs, layer ``k`` taking layer ``k - 1``'s
output (the document's ``MultiRNNCell([LSTMCell(4), LSTMCell(5)])`` is such a
stack). A tf-slim head becomes ``nn.Linear``.

PyTorch's LSTM with ``proj_size``: ``h = W_hr (o * tanh(c))``, TF1's
``h = (o * tanh(c)) @ projection/kernel`` with ``W_hr = projection/kernel.T``;
the state is ``(h_0, c_0)`` with ``h`` of depth ``P``.

``sequence_length``: the input is packed (``pack_padded_sequence(...,
enforce_sorted=False)``): steps past an example's length are not run, the
padded output is zero and ``h_n``/``c_n`` are the state after its last step,
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


@dataclass
class TorchModel:
    """``rnn``: ``nn.LSTM`` or ``nn.ModuleList`` of them; ``head``: ``nn.Linear`` or ``None``."""

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


def build_empty(spec: CaseSpec) -> TorchModel:
    """The modules of ``spec`` with PyTorch's own initial weights."""
    torch = _torch()
    nn = torch.nn
    dtype = getattr(torch, spec.dtype)
    depths = runner.layer_inputs(spec)
    if torch_single_module(spec):
        c = spec.cells[0]
        rnn = nn.LSTM(spec.input_depth, c.num_units, num_layers=len(spec.cells), batch_first=True,
                      proj_size=c.num_proj or 0, dtype=dtype)
    else:
        rnn = nn.ModuleList([nn.LSTM(d, c.num_units, batch_first=True, proj_size=c.num_proj or 0,
                                     dtype=dtype) for d, c in zip(depths, spec.cells)])
    head = None
    if spec.head is not None:
        head = nn.Linear(spec.cells[-1].output_size, spec.head.num_outputs, dtype=dtype)
    return TorchModel(rnn.eval(), head.eval() if head is not None else None)


def build(spec: CaseSpec, weights: Mapping[str, np.ndarray]) -> TorchModel:
    """The modules of ``spec`` with ``weights`` (:mod:`convert` torch names) loaded."""
    torch = _torch()
    model = build_empty(spec)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return model


def get_weights(model: TorchModel) -> Dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def _run_layers(spec: CaseSpec, model: TorchModel, x, lengths, h0, c0):
    """Run the LSTM layers on ``x`` ``(B, T, I)``; ``h0``, ``c0``: per layer ``(B, .)``."""
    torch = _torch()
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    steps = x.shape[1]
    seq = x if lengths is None else pack_padded_sequence(
        x, torch.as_tensor(lengths, dtype=torch.int64), batch_first=True, enforce_sorted=False)
    with warnings.catch_warnings():
        # oneDNN has no projection kernel; PyTorch says so and uses its own: expected.
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
        if torch_single_module(spec):
            seq, (h, c) = model.rnn(seq, (torch.stack(h0), torch.stack(c0)))
            hs, cs = list(h), list(c)
        else:
            hs, cs = [], []
            for lstm, h_k, c_k in zip(model.rnn, h0, c0):
                seq, (h, c) = lstm(seq, (h_k[None], c_k[None]))
                hs.append(h[0])
                cs.append(c[0])
    if lengths is not None:
        seq, _ = pad_packed_sequence(seq, batch_first=True, total_length=steps)
    return seq, hs, cs


def forward(spec: CaseSpec, model: TorchModel, given: runner.Inputs) -> runner.Outputs:
    """Run ``model``; with ``spec.gradients`` also ``loss.backward()``."""
    torch = _torch()
    batch, steps = given.x.shape[:2]
    grad = spec.gradients
    initial = given.initial or runner.zero_initial(spec, batch)
    x = torch.tensor(given.x, requires_grad=grad)                                # (B, T, I)
    c0 = [torch.tensor(c, requires_grad=grad) for c, _ in initial]               # (B, H) each
    h0 = [torch.tensor(h, requires_grad=grad) for _, h in initial]               # (B, R) each
    # Examples of length 0 are not run (PyTorch refuses them): zero outputs, initial state.
    run = np.arange(batch) if given.lengths is None else np.flatnonzero(given.lengths > 0)
    idx = torch.as_tensor(run, dtype=torch.int64)
    with torch.set_grad_enabled(grad):
        outputs = torch.zeros(batch, steps, spec.cells[-1].output_size, dtype=x.dtype)
        cs, hs = [c * 1 for c in c0], [h * 1 for h in h0]
        if run.size:
            lengths = None if given.lengths is None else given.lengths[run]
            seq, h_run, c_run = _run_layers(spec, model, x[idx], lengths,
                                            [h[idx] for h in h0], [c[idx] for c in c0])
            outputs = outputs.index_put((idx,), seq)
            cs = [c.index_put((idx,), r) for c, r in zip(cs, c_run)]
            hs = [h.index_put((idx,), r) for h, r in zip(hs, h_run)]
        logits = model.head(outputs[:, -1]) if model.head is not None else None  # (B, N)
        out = runner.Outputs(outputs.detach().numpy(),
                             [(c.detach().numpy(), h.detach().numpy()) for c, h in zip(cs, hs)],
                             None if logits is None else logits.detach().numpy())
        if grad:
            loss = 0.5 * (outputs ** 2).sum() + sum(t.sum() for t in cs + hs)
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
            out.d_initial = [(c.grad.numpy(), h.grad.numpy()) for c, h in zip(c0, h0)]
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
