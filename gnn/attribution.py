"""Node-level attributions of :class:`~gnn.KGFusionNet` predictions, batched over patients.

The explained output is the probability of a class (softmax of the logits) for a classifier,
and the predicted log-risk itself for a model with one output (a Cox survival head, e.g. of
:class:`fusion.KGFusionSurvival`): a positive score is then evidence for a *higher* risk. Three
methods, each one call for a whole batch of patients (no per-patient loop), for
:class:`~gnn.KGFusionNet` and :class:`~gnn.HierarchyNet` alike:

* ``"contribution"``: the exact, additive contribution of each concept node to the explained
  class's logit (or to the log-risk) through the graph branch (:meth:`~gnn.NodeScoreReadout.contributions`, its
  standardised score times its readout weight, centred over classes) times the graph branch's
  fusion weight. The scores sum, per patient, to the graph branch's share of the centred fused
  logit (minus the readout bias); nodes outside the readout (linked input nodes) score 0.
* ``"ig"``: integrated gradients (Sundararajan et al., 2017, "Axiomatic Attribution for Deep
  Networks") on the *final node states* ``h_L`` that the readout scores, computed by
  :class:`captum.attr.IntegratedGradients` on the explained output ``f`` (the explained class's
  *probability*, or the log-risk). The baseline is the node states of the same patient with no
  feature observed:

  .. math::
      \\phi_{b,n} = \\sum_c (h_{n,b,c} - h'_{n,b,c}) \\int_0^1
          \\frac{\\partial f_{y_b}(h' + \\alpha (h - h'))}{\\partial h_{n,b,c}} \\, d\\alpha

  One forward pass records (through a forward pre-hook on ``model.readout``) the node states and
  their baseline; captum then integrates only through the readout and the fusion, the other
  sources' logits held fixed (:func:`_fused_outputs`): one propagation per patient instead
  of one per integration step.
* ``"ig_features"``: integrated gradients on the input feature values (zero baseline: no
  expression), through every branch (graph and modality heads); a node scores the sum of its
  linked features' attributions. Only input nodes get scores.

Unobserved features and the features of a modality a patient lacks (``present`` False) are no
inputs: they are masked out of the model's inputs before attribution, and score exactly 0 under
``"ig_features"``. The model is used unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal, get_args

import torch
from torch import Tensor, nn
from typing_extensions import Self

from gnn._exceptions import InvalidParameterError
from gnn.model import KGFusionNet

__all__ = ["ATTRIBUTION_METHODS", "AttributionMethod", "NodeAttribution", "attribute"]

AttributionMethod = Literal["contribution", "ig", "ig_features"]
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
        ``(B,)`` explained class of each patient (``0`` for a one-output model).
    probability : Tensor
        ``(B,)`` the explained output: the predicted probability of the explained class, or
        the predicted log-risk of a one-output (Cox survival) model.
    method : str
        The method used.
    feature_scores : dict of str to Tensor, optional
        Per modality ``(B, F_m)`` feature attributions (``"ig_features"`` only).

    Examples
    --------
    See :func:`attribute`, which returns one.
    """

    scores: Tensor
    node_ids: list[str]
    target: Tensor
    probability: Tensor
    method: str
    feature_scores: dict[str, Tensor] | None = None


@dataclass(frozen=True)
class _Request:
    """One attribution call: the model's inputs, the explained classes and the IG settings."""

    values: Inputs
    observed: Inputs
    present: Tensor
    target: Tensor
    n_steps: int
    batch_size: int


class _Hook:
    """A forward pre-hook on ``module`` that records its first input (while in a ``with``)."""

    def __init__(self, module: nn.Module) -> None:
        self.value: Tensor | None = None
        self.handle = module.register_forward_pre_hook(self)

    def __call__(self, module: nn.Module, args: tuple[Tensor, ...]) -> None:
        self.value = args[0]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()


def _unflat(
    model: KGFusionNet, flat: tuple[Tensor, ...]
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    m = len(model.modalities)
    return dict(zip(model.modalities, flat[:m])), dict(zip(model.modalities, flat[m : 2 * m]))


def _explained(output: Tensor) -> Tensor:
    """The explained outputs ``(B, O)`` of the network's ``(B, O)`` output: class
    probabilities, or (one output, a Cox head) the log-risk unchanged."""
    return output if output.shape[-1] == 1 else torch.softmax(output, dim=-1)


def _outputs(model: KGFusionNet, values: Inputs, observed: Inputs, present: Tensor) -> Tensor:
    return _explained(model(values, observed, present))


def _fused_outputs(model: KGFusionNet, h: Tensor, others: Tensor, available: Tensor) -> Tensor:
    """Explained outputs from final node states ``h`` ``(B, N, C)`` and the other sources'
    fixed logits ``(B, S - 1, O)``: the readout and fusion of :meth:`KGFusionNet.forward`,
    without re-running the propagation (which does not depend on ``h``)."""
    graph_logits, _ = model.readout(h.transpose(0, 1))
    logits = torch.cat([graph_logits[:, None, :], others], dim=1)
    return _explained(model.fuse(logits, available)[0])


def _node_state_ig(model: KGFusionNet, r: _Request) -> tuple[Tensor, None]:
    from captum.attr import IntegratedGradients

    model.require_graph("method='ig'")
    unobserved = {m: torch.zeros_like(r.observed[m]) for m in model.modalities}
    with torch.no_grad():
        with _Hook(model.readout) as baseline:
            model.sources(r.values, unobserved, r.present)
        with _Hook(model.readout) as states:
            logits, available, _ = model.sources(r.values, r.observed, r.present)
    attributions = IntegratedGradients(partial(_fused_outputs, model)).attribute(
        states.value.transpose(0, 1).contiguous(),
        baselines=baseline.value.transpose(0, 1).contiguous(),
        target=r.target,
        additional_forward_args=(logits[:, 1:].contiguous(), available),
        n_steps=r.n_steps,
        internal_batch_size=r.batch_size * r.n_steps,
    )
    return attributions.sum(dim=-1), None


def _feature_ig(model: KGFusionNet, r: _Request) -> tuple[Tensor, dict[str, Tensor]]:
    from captum.attr import IntegratedGradients

    def forward(*flat: Tensor) -> Tensor:
        v, o = _unflat(model, flat[:-1])
        return _outputs(model, v, o, flat[-1])

    inputs = tuple(r.values[name] for name in model.modalities)
    attributions = IntegratedGradients(forward).attribute(
        inputs,
        baselines=tuple(torch.zeros_like(x) for x in inputs),
        target=r.target,
        additional_forward_args=(*(r.observed[name] for name in model.modalities), r.present),
        n_steps=r.n_steps,
        internal_batch_size=r.batch_size * r.n_steps,
    )
    batch = r.present.shape[0]
    scores = inputs[0].new_zeros(batch, model.graph.num_nodes)
    for i, attribution in enumerate(attributions):
        nodes = getattr(model.node_input, f"nodes_{i}")
        linked = nodes >= 0
        scores.index_add_(1, nodes[linked], attribution[:, linked])
    return scores, dict(zip(model.modalities, attributions))


def _contribution(model: KGFusionNet, r: _Request) -> tuple[Tensor, None]:
    model.require_graph("method='contribution'")
    with torch.no_grad():
        logits, available, concept = model.sources(r.values, r.observed, r.present)
        _, gates = model.fuse(logits, available)
        share = model.readout.contributions(concept, r.target) * gates[:, :1]
    scores = share.new_zeros(share.shape[0], model.graph.num_nodes)
    scores[:, model.readout.nodes] = share
    return scores, None


_METHODS: dict[str, Callable[[KGFusionNet, _Request], tuple[Tensor, dict[str, Tensor] | None]]] = {
    "contribution": _contribution,
    "ig": _node_state_ig,
    "ig_features": _feature_ig,
}


def attribute(
    model: KGFusionNet,
    values: Inputs,
    observed: Inputs | None = None,
    present: Tensor | None = None,
    *,
    method: AttributionMethod = "contribution",
    target: Tensor | None = None,
    n_steps: int = 32,
    batch_size: int = 64,
) -> NodeAttribution:
    """Node attributions of ``model``'s predictions for a batch of patients.

    Args:
        model (KGFusionNet): A classification or one-output (Cox survival) model, a
            :class:`~gnn.KGFusionNet` or :class:`~gnn.HierarchyNet`; put in eval mode for the
            call.
        values (Mapping[str, Tensor]): Per modality ``(B, F_m)`` feature values (NaN-free).
        observed (Mapping[str, Tensor], optional): Per modality ``(B, F_m)`` bool masks
            (default: all observed).
        present (Tensor, optional): ``(B, M)`` bool, modality present (default: all); an
            absent modality's features count as unobserved.
        method (str): One of :data:`ATTRIBUTION_METHODS` (default: ``"contribution"``).
        target (Tensor, optional): ``(B,)`` class to explain (default: the predicted class;
            always ``0``, the log-risk, for a one-output model).
        n_steps (int): Integral approximation steps for the IG methods (default: ``32``).
        batch_size (int): Patients per internal IG batch (memory bound) (default: ``64``).

    Returns:
        NodeAttribution: ``scores`` ``(B, N)``.

    Examples
    --------
    >>> from gnn import KGFusionNet, RelationGraph
    >>> graph = RelationGraph(["g1", "g2", "T"], ["gene", "gene", "go_term"], ["r"],
    ...                       [torch.tensor([[0, 1], [2, 2]])])
    >>> net = KGFusionNet(graph, {"mRNA": torch.tensor([0, 1])}, out_channels=2)
    >>> result = attribute(net, {"mRNA": torch.randn(4, 2)})
    >>> result.scores.shape, result.node_ids, result.method  # only the concept node T scores
    (torch.Size([4, 3]), ['g1', 'g2', 'T'], 'contribution')

    Raises:
        InvalidParameterError: If ``method`` is unknown, ``n_steps``/``batch_size`` is not
            positive, or a ``target`` is not an output of the model (a :class:`ValueError`).
        NoGraphBranchError: If ``method`` needs the graph branch and the model has none.
    """
    if method not in _METHODS:
        msg = f"The 'method' parameter of attribute must be one of {ATTRIBUTION_METHODS}. Got {method!r} instead."
        raise InvalidParameterError(msg)
    if n_steps < 1 or batch_size < 1:
        msg = f"n_steps and batch_size must be positive; got {n_steps} and {batch_size}."
        raise InvalidParameterError(msg)
    observed, present = model.complete_inputs(values, observed, present)
    observed = {m: observed[m] & present[:, i, None] for i, m in enumerate(model.modalities)}
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = _outputs(model, values, observed, present)
        target = outputs.argmax(dim=-1) if target is None else _checked_target(target, outputs)
        request = _Request(values, observed, present, target, n_steps, batch_size)
        scores, features = _METHODS[method](model, request)
    finally:
        model.train(training)
    chosen = outputs.gather(1, target[:, None]).squeeze(1)
    return NodeAttribution(
        scores.detach(), list(model.graph.node_ids), target, chosen, method, features
    )


def _checked_target(target: Tensor, outputs: Tensor) -> Tensor:
    """``target`` as longs, when it gives one output position of ``outputs`` ``(B, O)`` per
    patient."""
    target = target.to(torch.long)
    batch, width = outputs.shape
    if target.shape != (batch,) or bool(((target < 0) | (target >= width)).any()):
        msg = (
            f"attribute: target must give one output position in [0, {width}) per patient "
            f"({batch}); got shape {tuple(target.shape)}, values "
            f"{sorted(set(target.flatten().tolist()))[:5]}."
        )
        raise InvalidParameterError(msg)
    return target
