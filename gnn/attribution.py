"""Node-level attributions of :class:`~gnn.KGFusionNet` predictions, batched over patients.

Three methods, each one call for a whole batch of patients (no per-patient loop):

* ``"ig"``: integrated gradients (Sundararajan et al., 2017, "Axiomatic Attribution for Deep
  Networks") on the *final node states* ``h_L`` that the attention readout pools, computed by
  :class:`captum.attr.IntegratedGradients`. The baseline is the node states of the same patient
  with no feature observed, so every node (genes, GO terms, pathways) gets a score:

  .. math::
      \\phi_{b,n} = \\sum_c (h_{n,b,c} - h'_{n,b,c}) \\int_0^1
          \\frac{\\partial p_{y_b}(h' + \\alpha (h - h'))}{\\partial h_{n,b,c}} \\, d\\alpha

  where ``p_y`` is the softmax probability of the explained class.
* ``"ig_features"``: integrated gradients on the input feature values (zero baseline: no
  expression), through every branch (graph and direct encoders); a node scores the sum of its
  linked features' attributions. Only input nodes get scores.
* ``"attention"``: the model's own weights: the readout attention ``a_{b,n}`` times the gate of
  the graph branch ``g_{b,graph}``.

The model is used unchanged. For ``"ig"``, one forward pass records (through forward pre-hooks on
``model.readout`` and ``model.gate``) the node states, their baseline and the direct encoders'
embeddings; captum then integrates only through readout, gate and head
(:func:`_fused_probabilities`), since the propagation does not depend on the node states being
integrated: one propagation per patient instead of one per integration step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import Tensor, nn
from typing_extensions import Self

from gnn.model import KGFusionNet

__all__ = ["ATTRIBUTION_METHODS", "AttributionMethod", "NodeAttribution", "attribute"]

AttributionMethod = Literal["ig", "ig_features", "attention"]
#: Every accepted ``method`` of :func:`attribute`.
ATTRIBUTION_METHODS: tuple[str, ...] = get_args(AttributionMethod)
Inputs = Mapping[str, Tensor]


@dataclass(frozen=True)
class NodeAttribution:
    """Attributions of a batch of predictions.

    Attributes
    ----------
    scores : Tensor
        ``(B, N)`` node scores, columns in :attr:`node_ids` order (larger: more evidence for the
        explained class).
    node_ids : list of str
        KG id of each node.
    target : Tensor
        ``(B,)`` explained class of each patient.
    probability : Tensor
        ``(B,)`` predicted probability of the explained class.
    method : str
        The method used.
    feature_scores : dict of str to Tensor, optional
        Per modality ``(B, F_m)`` feature attributions (``"ig_features"`` only).
    """

    scores: Tensor
    node_ids: list[str]
    target: Tensor
    probability: Tensor
    method: str
    feature_scores: dict[str, Tensor] | None = None


class _Hook:
    """A forward pre-hook on ``module`` that records its first input and, with ``replace``
    (batch first, ``(B, N, C)``), substitutes it transposed to the model's ``(N, B, C)``."""

    def __init__(self, module: nn.Module, replace: Tensor | None = None) -> None:
        self.replace = None if replace is None else replace.transpose(0, 1)
        self.value: Tensor | None = None
        self.handle = module.register_forward_pre_hook(self)

    def __call__(self, module: nn.Module, args: tuple[Tensor, ...]) -> tuple[Tensor, ...] | None:
        self.value = args[0]
        return None if self.replace is None else (self.replace, *args[1:])

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()


def _unflat(
    model: KGFusionNet, flat: tuple[Tensor, ...]
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    m = len(model.modalities)
    return dict(zip(model.modalities, flat[:m])), dict(zip(model.modalities, flat[m : 2 * m]))


def _probabilities(model: KGFusionNet, values: Inputs, observed: Inputs, present: Tensor) -> Tensor:
    return torch.softmax(model(values, observed, present), dim=-1)


def _direct_sources(
    model: KGFusionNet, values: Inputs, observed: Inputs, present: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One forward pass: final node states ``(B, N, C)``, their no-feature baseline, the direct
    encoders' embeddings ``(B, S - 1, E)`` (the gate's input bar the graph source) and the
    ``(B, S)`` mask of the sources available to each patient."""
    unobserved = {m: torch.zeros_like(observed[m]) for m in model.modalities}
    with torch.no_grad():
        with _Hook(model.readout) as baseline:
            model.embed(values, unobserved, present)
        with _Hook(model.readout) as states, _Hook(model.gate) as gate:
            model.embed(values, observed, present)
    direct = [i for i in range(len(model.modalities)) if str(i) in model.encoders]
    available = torch.cat([present.any(dim=1, keepdim=True), present[:, direct]], dim=1)
    return (
        states.value.transpose(0, 1).contiguous(),
        baseline.value.transpose(0, 1).contiguous(),
        gate.value[:, 1:].contiguous(),
        available,
    )


def _fused_probabilities(
    model: KGFusionNet, h: Tensor, direct: Tensor, available: Tensor
) -> Tensor:
    """Class probabilities from final node states ``h`` ``(B, N, C)`` and fixed direct-encoder
    embeddings: the readout, gate and head of :meth:`KGFusionNet.embed` / ``forward``, without
    re-running the propagation (which does not depend on ``h``)."""
    pooled, _ = model.readout(h.transpose(0, 1))
    stacked = torch.cat([model.graph_projection(pooled)[:, None, :], direct], dim=1)
    logits = model.gate(stacked).squeeze(-1).masked_fill(~available, float("-inf"))
    gates = torch.softmax(logits, dim=1).nan_to_num(0.0)
    return torch.softmax(model.head(torch.einsum("bs,bse->be", gates, stacked)), dim=-1)


def _node_state_ig(
    model: KGFusionNet,
    values: Inputs,
    observed: Inputs,
    present: Tensor,
    target: Tensor,
    n_steps: int,
    batch_size: int,
) -> tuple[Tensor, None]:
    from captum.attr import IntegratedGradients

    if not model.config.use_graph:
        msg = (
            "method='ig' attributes node states; this model has no graph branch (use_graph=False)."
        )
        raise ValueError(msg)
    states, baseline, direct, available = _direct_sources(model, values, observed, present)

    def forward(h: Tensor, direct: Tensor, available: Tensor) -> Tensor:
        return _fused_probabilities(model, h, direct, available)

    attributions = IntegratedGradients(forward).attribute(
        states,
        baselines=baseline,
        target=target,
        additional_forward_args=(direct, available),
        n_steps=n_steps,
        internal_batch_size=batch_size * n_steps,
    )
    return attributions.sum(dim=-1), None


def _feature_ig(
    model: KGFusionNet,
    values: Inputs,
    observed: Inputs,
    present: Tensor,
    target: Tensor,
    n_steps: int,
    batch_size: int,
) -> tuple[Tensor, dict[str, Tensor]]:
    from captum.attr import IntegratedGradients

    def forward(*flat: Tensor) -> Tensor:
        v, o = _unflat(model, flat[:-1])
        return _probabilities(model, v, o, flat[-1])

    inputs = tuple(values[name] for name in model.modalities)
    attributions = IntegratedGradients(forward).attribute(
        inputs,
        baselines=tuple(torch.zeros_like(x) for x in inputs),
        target=target,
        additional_forward_args=(*(observed[name] for name in model.modalities), present),
        n_steps=n_steps,
        internal_batch_size=batch_size * n_steps,
    )
    batch = present.shape[0]
    scores = inputs[0].new_zeros(batch, model.graph.num_nodes)
    for i, attribution in enumerate(attributions):
        nodes = getattr(model.node_input, f"nodes_{i}")
        linked = nodes >= 0
        scores.index_add_(1, nodes[linked], attribution[:, linked])
    return scores, dict(zip(model.modalities, attributions))


def _attention(
    model: KGFusionNet,
    values: Inputs,
    observed: Inputs,
    present: Tensor,
    target: Tensor,
    n_steps: int,
    batch_size: int,
) -> tuple[Tensor, None]:
    with torch.no_grad():
        _, attention, gates = model.embed(values, observed, present)
    graph_gate = gates[:, :1] if model.config.use_graph else torch.zeros_like(gates[:, :1])
    return attention * graph_gate, None


_METHODS: dict[str, Callable[..., tuple[Tensor, dict[str, Tensor] | None]]] = {
    "ig": _node_state_ig,
    "ig_features": _feature_ig,
    "attention": _attention,
}


def attribute(
    model: KGFusionNet,
    values: Inputs,
    observed: Inputs | None = None,
    present: Tensor | None = None,
    *,
    method: AttributionMethod = "ig",
    target: Tensor | None = None,
    n_steps: int = 32,
    batch_size: int = 64,
) -> NodeAttribution:
    """Node attributions of ``model``'s predictions for a batch of patients.

    Args:
        model (KGFusionNet): A classification model; put in eval mode for the call.
        values (Mapping[str, Tensor]): Per modality ``(B, F_m)`` feature values (NaN-free).
        observed (Mapping[str, Tensor], optional): Per modality ``(B, F_m)`` bool masks
            (default: all observed).
        present (Tensor, optional): ``(B, M)`` bool, modality present (default: all).
        method (str): One of :data:`ATTRIBUTION_METHODS` (default: ``"ig"``).
        target (Tensor, optional): ``(B,)`` class to explain (default: the predicted class).
        n_steps (int): Integral approximation steps for the IG methods (default: ``32``).
        batch_size (int): Patients per internal IG batch (memory bound) (default: ``64``).

    Returns:
        NodeAttribution: ``scores`` ``(B, N)``.

    Raises:
        ValueError: If ``method`` is unknown or ``n_steps``/``batch_size`` is not positive.
    """
    if method not in _METHODS:
        msg = f"The 'method' parameter of attribute must be one of {ATTRIBUTION_METHODS}. Got {method!r} instead."
        raise ValueError(msg)
    if n_steps < 1 or batch_size < 1:
        msg = f"n_steps and batch_size must be positive; got {n_steps} and {batch_size}."
        raise ValueError(msg)
    if observed is None:
        observed = {m: torch.ones_like(values[m], dtype=torch.bool) for m in model.modalities}
    if present is None:
        first = values[model.modalities[0]]
        present = torch.ones(
            first.shape[0], len(model.modalities), dtype=torch.bool, device=first.device
        )
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            probability = _probabilities(model, values, observed, present)
        target = probability.argmax(dim=-1) if target is None else target.to(torch.long)
        scores, features = _METHODS[method](
            model, values, observed, present, target, n_steps, batch_size
        )
    finally:
        model.train(training)
    chosen = probability.gather(1, target[:, None]).squeeze(1)
    return NodeAttribution(
        scores.detach(), list(model.graph.node_ids), target, chosen, method, features
    )
