"""The knowledge-propagating fusion network.

Patients' linked feature values enter the knowledge graph as node input channels (one value and
one presence channel per modality), relational propagation spreads them over the ontology, and
attention pooling over nodes gives a graph embedding per patient. Per-modality encoders embed the
features directly (all of them, or only those not linked to the graph), and a gate over the
available sources fuses the embeddings for a classification or Cox survival head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from gnn.propagation import RelationGraph, RelationalPropagation

__all__ = ["FusionNetConfig", "KGFusionNet", "NodeInput", "AttentionReadout"]


@dataclass(frozen=True)
class FusionNetConfig:
    """Hyper-parameters of :class:`KGFusionNet`.

    Parameters
    ----------
    hidden : int
        Channels per node and embedding size (default: ``16``).
    layers : int
        Propagation layers (default: ``2``).
    dropout : float
        Dropout on embeddings and encoders (default: ``0.3``).
    direct : {"all", "unlinked", "none"}
        Which features the per-modality encoders see (default: ``"all"``).
    use_graph : bool
        Use the graph branch at all (``False`` gives a late-fusion MLP) (default: ``True``).
    """

    hidden: int = 16
    layers: int = 2
    dropout: float = 0.3
    direct: Literal["all", "unlinked", "none"] = "all"
    use_graph: bool = True


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
        for name, nodes in feature_nodes.items():
            self.register_buffer(f"nodes_{name}", nodes.to(torch.long), persistent=False)

    def forward(self, values: Mapping[str, Tensor], observed: Mapping[str, Tensor]) -> Tensor:
        channels = []
        for name in self.modalities:
            nodes = getattr(self, f"nodes_{name}")
            linked = nodes >= 0
            x = (values[name] * observed[name])[:, linked]
            o = observed[name][:, linked].to(x.dtype)
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

    Args:
        graph (RelationGraph): The (pruned) knowledge graph.
        feature_nodes (Mapping[str, Tensor]): Per modality, the node index of each feature
            (``-1`` for unlinked features).
        out_channels (int): Classes, or ``1`` for a Cox survival head.
        config (FusionNetConfig): Hyper-parameters.

    Shapes:
        - **input:** ``values``/``observed`` per modality ``(B, F_m)``, ``present`` ``(B, M)``
        - **output:** logits or log-risk ``(B, out_channels)``
    """

    def __init__(
        self,
        graph: RelationGraph,
        feature_nodes: Mapping[str, Tensor],
        out_channels: int,
        config: FusionNetConfig = FusionNetConfig(),
    ) -> None:
        super().__init__()
        self.config = config
        self.modalities: Sequence[str] = list(feature_nodes)
        self.graph = graph
        c = config.hidden
        self.node_input = NodeInput(graph.num_nodes, feature_nodes)
        self.input = nn.Linear(2 * len(self.modalities), c)
        types = sorted(set(graph.node_types))
        self.register_buffer("node_type", torch.tensor([types.index(t) for t in graph.node_types]), persistent=False)
        self.type_embedding = nn.Embedding(len(types), c)
        self.layers = nn.ModuleList(
            RelationalPropagation(c, len(graph.relations), config.dropout) for _ in range(config.layers)
        )
        self.readout = AttentionReadout(c)
        self.encoders = nn.ModuleDict()
        for name, nodes in feature_nodes.items():
            width = len(nodes) if config.direct == "all" else int((nodes < 0).sum())
            if config.direct != "none" and width > 0:
                self.encoders[name] = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(width, c), nn.ReLU())
                self.register_buffer(f"direct_{name}", (nodes < 0) | (config.direct == "all"), persistent=False)
        self.gate = nn.Linear(c, 1)
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(c, out_channels))

    def embed(
        self, values: Mapping[str, Tensor], observed: Mapping[str, Tensor], present: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Fused embedding ``(B, C)``, node attention ``(B, N)`` and source gates ``(B, S)``."""
        batch = present.shape[0]
        sources, available = [], []
        attention = present.new_zeros(batch, self.graph.num_nodes, dtype=torch.float32)
        if self.config.use_graph:
            h = self.input(self.node_input(values, observed)) + self.type_embedding(self.node_type)[:, None, :]
            h = torch.relu(h)
            for layer in self.layers:
                h = h + layer(h, self.graph.adjacency)
            pooled, attention = self.readout(h)
            sources.append(pooled)
            available.append(present.any(dim=1))
        for m, name in enumerate(self.modalities):
            if name in self.encoders:
                keep = getattr(self, f"direct_{name}")
                x = (values[name] * observed[name])[:, keep]
                sources.append(self.encoders[name](x))
                available.append(present[:, m])
        stacked = torch.stack(sources, dim=1)  # (B, S, C)
        logits = self.gate(stacked).squeeze(-1).masked_fill(~torch.stack(available, dim=1), float("-inf"))
        gates = torch.softmax(logits, dim=1)
        return torch.einsum("bs,bsc->bc", gates, stacked), attention, gates

    def forward(self, values: Mapping[str, Tensor], observed: Mapping[str, Tensor], present: Tensor) -> Tensor:
        fused, _, _ = self.embed(values, observed, present)
        return self.head(fused)
