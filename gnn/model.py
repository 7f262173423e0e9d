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
from gnn.node_input import NodeChannels, NodeInput
from gnn.propagation import RelationalPropagation
from gnn.readout import NodeScoreReadout
from gnn.relation_graph import RelationGraph

__all__ = ["FusionNetConfig", "KGFusionNet"]

Loss = Callable[[Tensor, Tensor], Tensor]

Inputs = Mapping[str, Tensor]


@dataclass(frozen=True)
class FusionNetConfig:
    """Hyper-parameters of :class:`KGFusionNet`.

    Parameters
    ----------
    hidden : int
        Channels per graph node (default: ``4``, as :class:`fusion.models.KGFusionClassifier`).
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

    Examples
    --------
    >>> config = FusionNetConfig(hidden=4, direct="unlinked")
    >>> config.hidden, config.to_dict()["direct"]
    (4, 'unlinked')
    """

    hidden: int = 4
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

    Examples
    --------
    Two genes annotated to one GO term; the mRNA modality's third feature links to no node:

    >>> edges = torch.tensor([[0, 1], [2, 2]])
    >>> ids, types = ["g1", "g2", "GO:1"], ["gene", "gene", "go_term"]
    >>> graph = RelationGraph(ids, types, ["involved_in"], [edges])
    >>> net = KGFusionNet(graph, {"mRNA": torch.tensor([0, 1, -1])}, out_channels=2)
    >>> values = {"mRNA": torch.randn(4, 3)}  # 4 patients
    >>> net(values).shape
    torch.Size([4, 2])
    >>> net.readout_ids, net.num_sources  # the concept node; graph branch + mRNA head
    (['GO:1'], 2)
    >>> net.node_channels(values).any_observed().shape  # (N, B)
    torch.Size([3, 4])
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
            # None: the head reads every feature (no column selection to copy per batch)
            selected = None if bool(keep.all()) else keep
            self.register_buffer(f"direct_{i}", selected, persistent=False)
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

    def node_channels(self, values: Inputs, observed: Inputs | None = None) -> NodeChannels:
        """The linked feature values as they enter the graph, per node, patient and modality.

        ``observed`` defaults to all observed. Returns a :class:`~gnn.NodeChannels` with
        ``value`` ``(N, B, M)`` (mean observed linked value) and ``observed`` ``(N, B, M)``
        (bool); ``.any_observed()`` ``(N, B)`` marks the nodes with an observed linked
        feature. Available with or without a graph branch.
        """
        observed, _ = self.complete_inputs(values, observed, None)
        return self.node_input.channels(values, observed)

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
                x = values[name] * observed[name].to(values[name].dtype)
                logits.append(self.heads[str(i)](x if keep is None else x[:, keep]))
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
        return self.source_loss(logits, available, target, loss_fn)

    def source_loss(
        self, logits: Tensor, available: Tensor, target: Tensor, loss_fn: Loss
    ) -> Tensor:
        """:meth:`objective` from the sources' logits ``(B, S, O)`` and availability ``(B, S)``."""
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
