"""The knowledge-propagating fusion network.

Patients' linked feature values enter the knowledge graph as node input channels (one value and
one presence channel per modality) and relational propagation spreads them over the ontology.
Every *concept* node (a GO term, pathway or phenotype that no feature links to) then gets one
activity score per patient, and a linear model over those scores gives the graph branch's logits:
the contribution of each term to a prediction is exact and additive. Per-modality heads score
the features directly (all of them, or only those not linked to the graph), and learned source
weights over the sources available to each patient fuse the logits for a classification or Cox
survival output (late fusion *on* the graph). Training adds each source's own loss to the fused
loss (deep supervision), so every source learns to predict on its own, as in late fusion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gnn._exceptions import InvalidParameterError, NoGraphBranchError
from gnn.propagation import RelationalPropagation
from gnn.relation_graph import RelationGraph

__all__ = ["FusionNetConfig", "KGFusionNet", "NodeInput", "NodeScoreReadout"]

Loss = Callable[[Tensor, Tensor], Tensor]

Inputs = Mapping[str, Tensor]


@dataclass(frozen=True)
class FusionNetConfig:
    """Hyper-parameters of :class:`KGFusionNet`.

    Parameters
    ----------
    hidden : int
        Channels per graph node (default: ``8``).
    embedding : int
        Hidden width of the per-modality heads when ``encoder="mlp"`` (default: ``32``).
    layers : int
        Propagation layers (default: ``2``).
    dropout : float
        Dropout on the concept scores and hidden layers (default: ``0.3``).
    input_dropout : float
        Dropout on the per-modality heads' input features (default: ``0.2``).
    direct : {"all", "unlinked", "none"}
        Which features the per-modality heads see (default: ``"all"``).
    encoder : {"linear", "mlp"}
        Per-modality heads: a linear model (strong on a few hundred patients) or a one-hidden-
        layer MLP (default: ``"linear"``).
    use_graph : bool
        Use the graph branch at all (``False`` gives late fusion of the modality heads)
        (default: ``True``).
    aux_weight : float
        Weight of the sources' own losses next to the fused loss in :meth:`KGFusionNet.objective`
        (default: ``1.0``).
    """

    hidden: int = 8
    embedding: int = 32
    layers: int = 2
    dropout: float = 0.3
    input_dropout: float = 0.2
    direct: Literal["all", "unlinked", "none"] = "all"
    encoder: Literal["linear", "mlp"] = "linear"
    use_graph: bool = True
    aux_weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-serialisable)."""
        return asdict(self)


class NodeInput(nn.Module):
    """Place each modality's linked feature values on their KG nodes.

    For modality ``m`` with feature → node map ``P_m`` (features linked to one node are averaged),
    node ``n`` of patient ``b`` gets the channels ``(value_m, observed_m)``: the mean of its
    observed linked values and whether any was observed. Unobserved entries contribute nothing.

    Shapes:
        - **input:** per modality values ``(B, F_m)`` (NaN-free) and observed masks ``(B, F_m)``
        - **output:** ``(N, B, 2 M)``
    """

    def __init__(self, num_nodes: int, feature_nodes: Mapping[str, Tensor]) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.modalities = list(feature_nodes)
        for i, nodes in enumerate(feature_nodes.values()):
            self.register_buffer(f"nodes_{i}", nodes.to(torch.long), persistent=False)

    def forward(self, values: Inputs, observed: Inputs) -> Tensor:
        channels = []
        for i, name in enumerate(self.modalities):
            nodes = getattr(self, f"nodes_{i}")
            linked = nodes >= 0
            o = observed[name][:, linked].to(values[name].dtype)
            x = values[name][:, linked] * o
            batch = x.shape[0]
            total = x.new_zeros(self.num_nodes, batch).index_add_(0, nodes[linked], x.T)
            count = x.new_zeros(self.num_nodes, batch).index_add_(0, nodes[linked], o.T)
            channels += [total / count.clamp(min=1.0), (count > 0).to(x.dtype)]
        return torch.stack(channels, dim=-1)


class NodeScoreReadout(nn.Module):
    """A linear model over one activity score per readout node.

    Each readout node ``n`` gets the score ``a_{b,n} = u · h_{n,b}`` for patient ``b``, standardised
    over patients (batch statistics in training, running ones in eval mode), and the logits are
    ``Σ_n z_{b,n} W_{:,n} + c``. A node's contribution to a logit is therefore exactly
    ``z_{b,n} W_{k,n}`` (see :meth:`contributions`).

    Args:
        channels (int): Node state channels ``C``.
        nodes (Tensor): Positions of the ``K`` readout nodes.
        out_channels (int): Output logits ``O``.
        dropout (float): Dropout on the scores (default: ``0.0``).

    Shapes:
        - **input:** node states ``(N, B, C)``
        - **output:** logits ``(B, O)`` and standardised scores ``(B, K)``
    """

    def __init__(
        self, channels: int, nodes: Tensor, out_channels: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.register_buffer("nodes", nodes.to(torch.long), persistent=False)
        self.score = nn.Linear(channels, 1)
        self.norm = nn.BatchNorm1d(len(nodes), affine=False)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(len(nodes), out_channels)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        z = self.norm(self.score(h[self.nodes]).squeeze(-1).T)
        return self.linear(self.dropout(z)), z

    def contributions(self, z: Tensor, target: Tensor) -> Tensor:
        """``(B, K)`` contribution of each node to the logit of class ``target[b]`` relative to
        the mean logit (for one output, a Cox log-risk, to that output): additive and exact,
        they sum to the centred logit minus the bias.
        """
        weight = self.linear.weight  # (O, K)
        if weight.shape[0] == 1:
            return z * weight[0]
        return z * (weight - weight.mean(dim=0))[target]


class KGFusionNet(nn.Module):
    """Knowledge-graph fusion network for classification or survival.

    Sources are the graph branch (linked features propagated over the KG, read out by a linear
    model over concept-node scores, :class:`NodeScoreReadout`) and one head per modality. The
    fused output is a weighted sum of the source logits, with learned weights renormalised over
    the sources available to each patient (a modality head only when the patient has that
    modality).

    Args:
        graph (RelationGraph): The (pruned) knowledge graph.
        feature_nodes (Mapping[str, Tensor]): Per modality, the node index of each feature
            (``-1`` for unlinked features); its keys fix the modality order.
        out_channels (int): Classes, or ``1`` for a Cox survival head.
        config (FusionNetConfig): Hyper-parameters (default: ``FusionNetConfig()``).

    Shapes:
        - **input:** ``values`` and ``observed`` per modality ``(B, F_m)``, ``present`` ``(B, M)``
        - **output:** logits or log-risk ``(B, out_channels)``
    """

    def __init__(
        self,
        graph: RelationGraph,
        feature_nodes: Mapping[str, Tensor],
        out_channels: int,
        config: FusionNetConfig | None = None,
    ) -> None:
        super().__init__()
        self.config = config = config or FusionNetConfig()
        self.modalities = list(feature_nodes)
        self.graph = graph
        self.node_input = NodeInput(graph.num_nodes, feature_nodes)
        if config.use_graph:
            self._build_graph_branch(feature_nodes, out_channels)
        self.heads = nn.ModuleDict()
        for i, (name, nodes) in enumerate(feature_nodes.items()):
            keep = torch.ones_like(nodes, dtype=torch.bool) if config.direct == "all" else nodes < 0
            if config.direct != "none" and int(keep.sum()) > 0:
                self.heads[str(i)] = self._head(int(keep.sum()), out_channels)
            self.register_buffer(f"direct_{i}", keep, persistent=False)
        if not self.num_sources:
            msg = "KGFusionNet needs a source: use_graph=False and no direct head (direct='none' or no unlinked feature)."
            raise InvalidParameterError(msg)
        self.source_weight = nn.Parameter(torch.zeros(self.num_sources))

    def _build_graph_branch(self, feature_nodes: Mapping[str, Tensor], out_channels: int) -> None:
        """Input projection, node-type embedding, propagation layers and concept readout."""
        c, graph = self.config.hidden, self.graph
        self.input = nn.Linear(2 * len(self.modalities), c)
        types = sorted(set(graph.node_types))
        node_type = torch.tensor([types.index(t) for t in graph.node_types], dtype=torch.long)
        self.register_buffer("node_type", node_type, persistent=False)
        self.type_embedding = nn.Embedding(max(len(types), 1), c)
        self.layers = nn.ModuleList(
            RelationalPropagation(c, len(graph.relations), self.config.dropout)
            for _ in range(self.config.layers)
        )
        readout_nodes = self._readout_nodes(feature_nodes)
        self.readout = NodeScoreReadout(c, readout_nodes, out_channels, self.config.dropout)

    def _readout_nodes(self, feature_nodes: Mapping[str, Tensor]) -> Tensor:
        """Concept nodes (no feature links to them); every node when all are linked."""
        linked = torch.zeros(self.graph.num_nodes, dtype=torch.bool)
        for nodes in feature_nodes.values():
            linked[nodes[nodes >= 0]] = True
        concept = torch.nonzero(~linked).squeeze(1)
        return concept if len(concept) else torch.arange(self.graph.num_nodes)

    def _head(self, in_features: int, out_channels: int) -> nn.Sequential:
        config = self.config
        if config.encoder == "linear":
            return nn.Sequential(
                nn.Dropout(config.input_dropout), nn.Linear(in_features, out_channels)
            )
        return nn.Sequential(
            nn.Dropout(config.input_dropout),
            nn.Linear(in_features, config.embedding),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.embedding, out_channels),
        )

    @property
    def num_sources(self) -> int:
        """Number of fused sources (graph branch first, then the modality heads)."""
        return int(self.config.use_graph) + len(self.heads)

    @property
    def readout_ids(self) -> list[str]:
        """KG ids of the readout nodes, in the column order of the concept scores (none
        without a graph branch)."""
        if not self.config.use_graph:
            return []
        return [self.graph.node_ids[i] for i in self.readout.nodes.tolist()]

    def complete_inputs(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> tuple[Inputs, Tensor]:
        """``(observed, present)`` with the defaults filled in: every value observed, every
        modality present."""
        if observed is None:
            observed = {m: torch.ones_like(values[m], dtype=torch.bool) for m in self.modalities}
        if present is None:
            batch = values[self.modalities[0]].shape[0]
            device = values[self.modalities[0]].device
            present = torch.ones(batch, len(self.modalities), dtype=torch.bool, device=device)
        return observed, present

    def require_graph(self, what: str) -> None:
        """Raise a :class:`~gnn.NoGraphBranchError` (a :class:`ValueError`) naming ``what`` when
        the model has no graph branch."""
        if not self.config.use_graph:
            msg = f"{what}: this model has no graph branch (use_graph=False)."
            raise NoGraphBranchError(msg)

    def propagate(self, values: Inputs, observed: Inputs | None = None) -> list[Tensor]:
        """Node states ``(N, B, C)``: the input state, then the state after each layer.

        Raises:
            NoGraphBranchError: If the model has no graph branch (``use_graph=False``).
        """
        self.require_graph("propagate")
        observed, _ = self.complete_inputs(values, observed, None)
        h = (
            self.input(self.node_input(values, observed))
            + self.type_embedding(self.node_type)[:, None, :]
        )
        states = [torch.relu(h)]
        for layer in self.layers:
            states.append(states[-1] + layer(states[-1], self.graph.rows))
        return states

    def sources(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Each source's logits ``(B, S, O)``, the ``(B, S)`` mask of the sources available to
        each patient, and the standardised concept scores ``(B, K)`` (``None`` without graph).

        ``observed`` (per modality ``(B, F_m)`` bool) defaults to all observed and ``present``
        (``(B, M)`` bool, a patient has the modality) to all present. Values of unobserved
        entries and of absent modalities are ignored.
        """
        observed, present = self.complete_inputs(values, observed, present)
        logits, available, scores = [], [], None
        if self.config.use_graph:
            graph_logits, scores = self.readout(self.propagate(values, observed)[-1])
            logits.append(graph_logits)
            available.append(present.any(dim=1))
        for i, name in enumerate(self.modalities):
            if str(i) in self.heads:
                keep = getattr(self, f"direct_{i}")
                x = (values[name] * observed[name].to(values[name].dtype))[:, keep]
                logits.append(self.heads[str(i)](x))
                available.append(present[:, i])
        return torch.stack(logits, dim=1), torch.stack(available, dim=1), scores

    def fuse(self, logits: Tensor, available: Tensor) -> tuple[Tensor, Tensor]:
        """Fused output ``(B, O)`` and source weights ``(B, S)`` (zero for unavailable sources;
        all zero, and a zero output, for a patient with no source)."""
        weights = self.source_weight.expand_as(available).masked_fill(~available, float("-inf"))
        gates = torch.softmax(weights, dim=1).nan_to_num(0.0)
        return torch.einsum("bs,bso->bo", gates, logits), gates

    def forward(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> Tensor:
        logits, available, _ = self.sources(values, observed, present)
        return self.fuse(logits, available)[0]

    def objective(
        self,
        values: Inputs,
        observed: Inputs | None,
        present: Tensor | None,
        target: Tensor,
        loss_fn: Loss,
    ) -> Tensor:
        """Training loss: ``loss_fn`` of the fused output plus ``aux_weight`` times the mean of
        each source's own loss over the patients for whom it is available."""
        logits, available, _ = self.sources(values, observed, present)
        loss = loss_fn(self.fuse(logits, available)[0], target)
        if self.config.aux_weight == 0 or self.num_sources == 1:
            return loss
        own = [
            loss_fn(logits[mask, s], target[mask])
            for s, mask in enumerate(available.T)
            if int(mask.sum()) > 1
        ]
        return loss + self.config.aux_weight * torch.stack(own).mean() if own else loss

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(nodes={self.graph.num_nodes}, relations={len(self.graph.relations)}, "
            f"modalities={self.modalities}, sources={self.num_sources}, config={self.config})"
        )
