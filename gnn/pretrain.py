"""Self-supervised pre-training of the graph encoder: masked node-value reconstruction.

The encoder is :class:`~gnn.KGFusionNet`'s graph branch (input projection, node-type embedding,
propagation layers), so that its weights load into a classifier or survival network unchanged
(:mod:`gnn.transfer`). :class:`MaskedNodeModel` hides a share of each patient's observed node
values, propagates what is left over the knowledge graph and predicts the hidden values from the
propagated neighbourhood with a linear decoder; :func:`pretrain_encoder` fits it with
:func:`~gnn.train_model`, early-stopping on held-out patients.

A node value is what :class:`~gnn.NodeInput` places on a node for one modality: the mean of the
patient's observed features linked to it. Hiding node ``n`` of modality ``m`` for patient ``b``
marks every feature of ``m`` linked to ``n`` unobserved (and zeroes it), so the hidden value is
in no input channel; the other modalities' values on the same node stay visible (predicting a
gene's expression from its methylation is part of the task).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from gnn._exceptions import InvalidParameterError, ShapeError
from gnn.model import FusionNetConfig, KGFusionNet
from gnn.relation_graph import RelationGraph
from gnn.training import FusionBatch, TrainConfig, TrainResult, train_model

__all__ = [
    "ENCODER_PREFIXES",
    "MaskedNodeModel",
    "PretrainConfig",
    "masked_node_loss",
    "pretrain_encoder",
]

Inputs = Mapping[str, Tensor]

#: Parameter-name prefixes of :class:`~gnn.KGFusionNet`'s graph encoder (what pre-training
#: learns and fine-tuning loads).
ENCODER_PREFIXES = ("input.", "type_embedding.", "layers.")


@dataclass(frozen=True)
class PretrainConfig:
    """Settings of the masked node-value objective.

    Parameters
    ----------
    mask_rate : float
        Probability that each observed node value of a patient is hidden, drawn afresh at every
        training step and once (seeded) for the held-out patients (default: ``0.15``).

    Examples
    --------
    >>> PretrainConfig(mask_rate=0.3).to_dict()
    {'mask_rate': 0.3}
    """

    mask_rate: float = 0.15

    def __post_init__(self) -> None:
        if not 0.0 < self.mask_rate < 1.0:
            msg = f"PretrainConfig: mask_rate must be in (0, 1); got {self.mask_rate}."
            raise InvalidParameterError(msg)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


def masked_node_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error over the hidden node values only.

    Args:
        prediction (Tensor): Predicted node values ``(B, L, M)``.
        target (Tensor): ``(B, L, M, 2)``: the true value and a ``1`` where it was hidden.

    Returns:
        Tensor: A scalar; ``0`` when nothing was hidden.

    Examples
    --------
    >>> target = torch.tensor([[[[1.0, 1.0]], [[5.0, 0.0]]]])  # node 0 hidden, node 1 not
    >>> masked_node_loss(torch.tensor([[[3.0], [0.0]]]), target).item()
    4.0
    """
    value, hidden = target[..., 0], target[..., 1]
    return ((prediction - value) ** 2 * hidden).sum() / hidden.sum().clamp(min=1.0)


class MaskedNodeModel(nn.Module):
    """The graph encoder of :class:`~gnn.KGFusionNet` with a decoder of hidden node values.

    The decoder is linear on the last propagated state: ``\\hat v_{n,b,m} = d_m^\\top h_{n,b}
    + e_m`` for every node ``n`` that some feature links to (the ``L`` linked nodes).

    Args:
        graph (RelationGraph): The (pruned) knowledge graph.
        feature_nodes (Mapping[str, Tensor]): Per modality, the node of each feature (``-1``
            unlinked); its keys fix the modality order.
        net_config (FusionNetConfig): The encoder's ``hidden``, ``layers`` and ``dropout`` (the
            other fields do not apply: the network is built with ``direct="none"``).
        config (PretrainConfig): The masking (default: ``PretrainConfig()``).

    Shapes:
        - **input:** ``values`` and ``observed`` per modality ``(B, F_m)``
        - **output:** predicted node values ``(B, L, M)``

    Examples
    --------
    >>> graph = RelationGraph(["g1", "g2", "T"], ["gene", "gene", "go_term"], ["r"],
    ...                       [torch.tensor([[0, 1], [2, 2]])])
    >>> model = MaskedNodeModel(graph, {"mRNA": torch.tensor([0, 1])}, FusionNetConfig())
    >>> model(*FusionBatch({"mRNA": torch.randn(5, 2)}, {"mRNA": torch.ones(5, 2, dtype=torch.bool)},
    ...                    torch.ones(5, 1, dtype=torch.bool)).inputs()).shape
    torch.Size([5, 2, 1])
    """

    def __init__(
        self,
        graph: RelationGraph,
        feature_nodes: Mapping[str, Tensor],
        net_config: FusionNetConfig,
        config: PretrainConfig | None = None,
    ) -> None:
        super().__init__()
        self.config = config or PretrainConfig()
        encoder = replace(net_config, direct="none", use_graph=True)
        self.net = KGFusionNet(graph, feature_nodes, out_channels=1, config=encoder)
        linked = torch.zeros(graph.num_nodes, dtype=torch.bool)
        for nodes in feature_nodes.values():
            linked[nodes[nodes >= 0]] = True
        if not bool(linked.any()):
            msg = "MaskedNodeModel: no feature links to a graph node; nothing to reconstruct."
            raise ShapeError(msg)
        self.register_buffer("linked", torch.nonzero(linked).squeeze(1), persistent=False)
        self.decoder = nn.Linear(net_config.hidden, len(feature_nodes))

    @property
    def modalities(self) -> list[str]:
        """The modalities, in channel order."""
        return self.net.modalities

    def encoder_state(self) -> dict[str, Tensor]:
        """The encoder's weights under :class:`~gnn.KGFusionNet`'s parameter names (copies)."""
        return {
            name: tensor.detach().clone()
            for name, tensor in self.net.state_dict().items()
            if name.startswith(ENCODER_PREFIXES)
        }

    def mask(
        self, values: Inputs, observed: Inputs, generator: torch.Generator | None = None
    ) -> tuple[Inputs, Inputs, Tensor]:
        """Hide each observed linked node value with probability
        :attr:`PretrainConfig.mask_rate` (drawn from ``generator``, else the global RNG).

        Returns the masked ``values`` and ``observed`` (every feature of a hidden ``(node,
        modality)`` unobserved and zeroed) and the target ``(B, L, M, 2)``: the true node
        values and a ``1`` where hidden (see :func:`masked_node_loss`).
        """
        channels = self.net.node_channels(values, observed)
        seen = channels.observed[self.linked]  # (L, B, M)
        draw = torch.rand(seen.shape, generator=generator).to(seen.device)
        hidden = seen & (draw < self.config.mask_rate)
        on_nodes = torch.zeros_like(channels.observed)
        on_nodes[self.linked] = hidden
        out_values, out_observed = {}, {}
        for i, name in enumerate(self.modalities):
            nodes = self.net.node_input.get_buffer(f"nodes_{i}")
            features = torch.zeros_like(observed[name])
            features[:, nodes >= 0] = on_nodes[nodes[nodes >= 0], :, i].T
            out_observed[name] = observed[name] & ~features
            out_values[name] = values[name] * out_observed[name].to(values[name].dtype)
        value = channels.value[self.linked].transpose(0, 1)
        target = torch.stack([value, hidden.transpose(0, 1).to(value.dtype)], dim=-1)
        return out_values, out_observed, target

    def forward(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> Tensor:
        states = self.net.propagate(values, observed)[-1]
        return self.decoder(states[self.linked]).transpose(0, 1)

    def objective(
        self,
        values: Inputs,
        observed: Inputs | None,
        present: Tensor | None,
        target: Tensor,
        loss_fn: Any,
    ) -> Tensor:
        """The training loss: hide a fresh draw of node values, reconstruct them (``target`` is
        ignored: the targets are the hidden values)."""
        observed, _ = self.net.complete_inputs(values, observed, present)
        masked_values, masked_observed, hidden = self.mask(values, observed)
        return loss_fn(self(masked_values, masked_observed), hidden)

    def masked(self, batch: FusionBatch, seed: int) -> tuple[FusionBatch, Tensor]:
        """One fixed, seeded masking of ``batch``: the masked inputs and their targets (the
        held-out patients' validation set)."""
        generator = torch.Generator().manual_seed(seed)
        values, observed, target = self.mask(batch.values, batch.observed, generator)
        return FusionBatch(dict(values), dict(observed), batch.present), target


def pretrain_encoder(
    model: MaskedNodeModel,
    train: FusionBatch,
    val: FusionBatch,
    config: TrainConfig,
    *,
    seed: int = 0,
    progress: bool = False,
) -> TrainResult:
    """Fit ``model`` on the unlabelled patients of ``train``, early-stopping on ``val``.

    Each training step hides a fresh draw of node values (the global RNG, which
    :func:`~gnn.train_model` seeds with ``seed``); the validation loss is that of one masking
    of ``val`` drawn with ``seed``, the same at every epoch. On return ``model`` holds the
    weights of the best validation loss, in eval mode.

    Raises:
        ShapeError: If ``train`` or ``val`` holds no patient.

    Examples
    --------
    >>> graph = RelationGraph(["g1", "g2", "T"], ["gene", "gene", "go_term"], ["r"],
    ...                       [torch.tensor([[0, 1], [2, 2]])])
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = MaskedNodeModel(graph, {"mRNA": torch.tensor([0, 1])}, FusionNetConfig())
    >>> x = torch.randn(40, 2)
    >>> batch = FusionBatch({"mRNA": x}, {"mRNA": torch.ones(40, 2, dtype=torch.bool)},
    ...                     torch.ones(40, 1, dtype=torch.bool))
    >>> result = pretrain_encoder(model, batch[torch.arange(30)], batch[torch.arange(30, 40)],
    ...                           TrainConfig(max_epochs=3))
    >>> len(result.val_loss), model.training
    (3, False)
    """
    for name, part in (("train", train), ("val", val)):
        if len(part) == 0:
            msg = f"pretrain_encoder: the {name} part holds no patient."
            raise ShapeError(msg)
    val_inputs, val_target = model.masked(val, seed)
    unused = torch.zeros(len(train), device=train.present.device)
    return train_model(
        model,
        (train, unused),
        (val_inputs, val_target),
        masked_node_loss,
        config,
        seed=seed,
        progress=progress,
        desc="pre-training",
    )
