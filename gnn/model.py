"""The knowledge-propagating fusion network.

Patients' linked feature values enter the knowledge graph as node input channels (one value and
one presence channel per modality), relational propagation spreads them over the ontology, and
attention pooling over nodes gives a graph embedding per patient. Per-modality encoders embed the
features directly (all of them, or only those not linked to the graph), and a gate over the
available sources fuses the embeddings for a classification or Cox survival head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gnn.propagation import RelationalPropagation, RelationGraph

__all__ = ["AttentionReadout", "FusionNetConfig", "KGFusionNet", "NodeInput"]

Inputs = Mapping[str, Tensor]


@dataclass(frozen=True)
class FusionNetConfig:
    """Hyper-parameters of :class:`KGFusionNet`.

    Parameters
    ----------
    hidden : int
        Channels per graph node (default: ``8``).
    embedding : int
        Size of each source embedding and of the fused embedding (default: ``32``).
    layers : int
        Propagation layers (default: ``2``).
    dropout : float
        Dropout on node states and embeddings (default: ``0.3``).
    input_dropout : float
        Dropout on the direct encoders' input features (default: ``0.2``).
    direct : {"all", "unlinked", "none"}
        Which features the per-modality encoders see (default: ``"all"``).
    encoder : {"linear", "mlp"}
        Per-modality encoders: one linear map (a regularised linear model, strong on a few
        hundred patients) or linear + ReLU (default: ``"linear"``).
    use_graph : bool
        Use the graph branch at all (``False`` gives a gated late-fusion MLP) (default: ``True``).
    """

    hidden: int = 8
    embedding: int = 32
    layers: int = 2
    dropout: float = 0.3
    input_dropout: float = 0.2
    direct: Literal["all", "unlinked", "none"] = "all"
    encoder: Literal["linear", "mlp"] = "linear"
    use_graph: bool = True

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


class AttentionReadout(nn.Module):
    """Attention pooling over nodes: ``g_b = Σ_n softmax_n(w·tanh(V h_{n,b})) h_{n,b}``.

    Shapes:
        - **input:** ``(N, B, C)``
        - **output:** embedding ``(B, C)`` and attention ``(B, N)``
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(channels, channels), nn.Tanh(), nn.Linear(channels, 1))

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        attention = torch.softmax(self.score(h).squeeze(-1), dim=0)  # (N, B)
        return torch.einsum("nb,nbc->bc", attention, h), attention.T


class KGFusionNet(nn.Module):
    """Knowledge-graph fusion network for classification or survival.

    Sources are the graph branch (linked features propagated over the KG, pooled by attention)
    and one direct encoder per modality. A softmax gate over the sources available to each
    patient (a modality encoder only when the patient has that modality) gives the fused
    embedding, and a linear head the logits or the Cox log-risk.

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
        c, e = config.hidden, config.embedding
        self.node_input = NodeInput(graph.num_nodes, feature_nodes)
        self.input = nn.Linear(2 * len(self.modalities), c)
        types = sorted(set(graph.node_types))
        node_type = torch.tensor([types.index(t) for t in graph.node_types], dtype=torch.long)
        self.register_buffer("node_type", node_type, persistent=False)
        self.type_embedding = nn.Embedding(max(len(types), 1), c)
        self.layers = nn.ModuleList(
            RelationalPropagation(c, len(graph.relations), config.dropout)
            for _ in range(config.layers)
        )
        self.readout = AttentionReadout(c)
        self.graph_projection = nn.Sequential(nn.Linear(c, e), nn.ReLU())
        self.encoders = nn.ModuleDict()
        for i, (name, nodes) in enumerate(feature_nodes.items()):
            keep = torch.ones_like(nodes, dtype=torch.bool) if config.direct == "all" else nodes < 0
            if config.direct != "none" and int(keep.sum()) > 0:
                activation = nn.ReLU() if config.encoder == "mlp" else nn.Identity()
                self.encoders[str(i)] = nn.Sequential(
                    nn.Dropout(config.input_dropout), nn.Linear(int(keep.sum()), e), activation
                )
            self.register_buffer(f"direct_{i}", keep, persistent=False)
        if not config.use_graph and not len(self.encoders):
            msg = "KGFusionNet needs a source: use_graph=False and no direct encoder (direct='none' or no unlinked feature)."
            raise ValueError(msg)
        self.gate = nn.Linear(e, 1)
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(e, out_channels))

    @property
    def num_sources(self) -> int:
        """Number of fused sources (graph branch first, then the direct encoders)."""
        return int(self.config.use_graph) + len(self.encoders)

    def _defaults(
        self, values: Inputs, observed: Inputs | None, present: Tensor | None
    ) -> tuple[Inputs, Tensor]:
        if observed is None:
            observed = {m: torch.ones_like(values[m], dtype=torch.bool) for m in self.modalities}
        if present is None:
            batch = values[self.modalities[0]].shape[0]
            device = values[self.modalities[0]].device
            present = torch.ones(batch, len(self.modalities), dtype=torch.bool, device=device)
        return observed, present

    def propagate(self, values: Inputs, observed: Inputs | None = None) -> list[Tensor]:
        """Node states ``(N, B, C)``: the input state, then the state after each layer."""
        observed, _ = self._defaults(values, observed, None)
        h = (
            self.input(self.node_input(values, observed))
            + self.type_embedding(self.node_type)[:, None, :]
        )
        states = [torch.relu(h)]
        for layer in self.layers:
            states.append(states[-1] + layer(states[-1], self.graph.adjacency))
        return states

    def embed(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Fused embedding ``(B, E)``, node attention ``(B, N)`` and source gates ``(B, S)``.

        ``observed`` (per modality ``(B, F_m)`` bool) defaults to all observed and ``present``
        (``(B, M)`` bool, a patient has the modality) to all present. Values of unobserved
        entries and of absent modalities are ignored.
        """
        observed, present = self._defaults(values, observed, present)
        batch = present.shape[0]
        sources, available = [], []
        attention = present.new_zeros(batch, self.graph.num_nodes, dtype=torch.float32)
        if self.config.use_graph:
            pooled, attention = self.readout(self.propagate(values, observed)[-1])
            sources.append(self.graph_projection(pooled))
            available.append(present.any(dim=1))
        for i, name in enumerate(self.modalities):
            if str(i) in self.encoders:
                keep = getattr(self, f"direct_{i}")
                x = (values[name] * observed[name].to(values[name].dtype))[:, keep]
                sources.append(self.encoders[str(i)](x))
                available.append(present[:, i])
        stacked = torch.stack(sources, dim=1)  # (B, S, E)
        mask = torch.stack(available, dim=1)
        logits = self.gate(stacked).squeeze(-1).masked_fill(~mask, float("-inf"))
        gates = torch.softmax(logits, dim=1).nan_to_num(0.0)  # a patient with no source: zeros
        return torch.einsum("bs,bse->be", gates, stacked), attention, gates

    def forward(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> Tensor:
        fused, _, _ = self.embed(values, observed, present)
        return self.head(fused)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(nodes={self.graph.num_nodes}, relations={len(self.graph.relations)}, "
            f"modalities={self.modalities}, sources={self.num_sources}, config={self.config})"
        )
