"""Relation-aware propagation over a knowledge graph with patients batched as channels.

:class:`RelationGraph` holds one row-normalised sparse adjacency per relation (reverse relations
included). :class:`RelationalPropagation` is an R-GCN layer (Schlichtkrull et al., 2018,
"Modeling Relational Data with Graph Convolutional Networks") whose node features carry a batch
axis: one sparse × dense product per relation and layer serves every patient of the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from kg import KnowledgeGraph

__all__ = ["RelationGraph", "RelationalPropagation", "mean_adjacency"]


def mean_adjacency(src: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
    """Sparse ``(N, N)`` matrix ``A`` with ``A[d, s] = 1 / in_degree(d)`` for each edge ``s → d``.

    ``A @ X`` averages, at every node, the features of the nodes that send it a message.

    .. math::
        (\\mathbf{A}\\mathbf{X})_i = \\frac{1}{|\\mathcal{N}(i)|} \\sum_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j

    Examples
    --------
    >>> A = mean_adjacency(torch.tensor([0, 1]), torch.tensor([2, 2]), 3)
    >>> (A @ torch.tensor([[2.0], [4.0], [0.0]])).squeeze(1).tolist()
    [0.0, 0.0, 3.0]
    """
    degree = torch.bincount(dst, minlength=num_nodes).clamp(min=1).to(torch.float32)
    values = 1.0 / degree[dst]
    indices = torch.stack([dst, src])
    return torch.sparse_coo_tensor(indices, values, (num_nodes, num_nodes)).coalesce().to_sparse_csr()


@dataclass
class RelationGraph:
    """A knowledge graph as one node index and one mean-adjacency per (directed) relation.

    Parameters
    ----------
    node_ids : list of str
        KG ids in index order.
    node_types : list of str
        Type of each node.
    relations : list of str
        Relation names, reverse relations (``rev_<name>``) included.
    adjacency : list of Tensor
        Sparse CSR ``(N, N)`` mean-aggregation matrix per relation.
    """

    node_ids: list[str]
    node_types: list[str]
    relations: list[str]
    adjacency: list[Tensor]

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph, *, reverse: bool = True) -> RelationGraph:
        """Index ``kg``'s nodes (sorted ids) and build one adjacency per relation.

        Messages flow along each edge (child → parent, gene → term) and, with ``reverse``, back
        along a separate ``rev_`` relation so leaves also receive information.
        """
        ids = sorted(kg.nodes.index)
        position = {node_id: i for i, node_id in enumerate(ids)}
        edges = kg.edges
        src_all = torch.from_numpy(edges["source"].map(position).to_numpy(np.int64))
        dst_all = torch.from_numpy(edges["target"].map(position).to_numpy(np.int64))
        relations, adjacency = [], []
        for relation in sorted(edges["relation"].unique()):
            mask = torch.from_numpy((edges["relation"] == relation).to_numpy())
            src, dst = src_all[mask], dst_all[mask]
            relations.append(relation)
            adjacency.append(mean_adjacency(src, dst, len(ids)))
            if reverse:
                relations.append(f"rev_{relation}")
                adjacency.append(mean_adjacency(dst, src, len(ids)))
        types = kg.nodes.loc[ids, "type"].tolist()
        return cls(ids, types, relations, adjacency)

    @property
    def num_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    def index_of(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of ``ids`` (``-1`` where absent)."""
        position = {node_id: i for i, node_id in enumerate(self.node_ids)}
        return np.array([position.get(i, -1) for i in ids], dtype=np.int64)

    def to(self, device: torch.device | str) -> RelationGraph:
        """Copy with the adjacency matrices on ``device``."""
        return RelationGraph(self.node_ids, self.node_types, self.relations, [a.to(device) for a in self.adjacency])

    def shuffled(self, seed: int = 0) -> RelationGraph:
        """Degree-preserving rewiring of every relation (targets permuted among its edges).

        Each node keeps its in- and out-degree per relation while who connects to whom is
        randomised: the ablation that shows whether the knowledge in the edges helps.
        """
        generator = torch.Generator().manual_seed(seed)
        shuffled = []
        for matrix in self.adjacency:
            coo = matrix.to_sparse_coo().coalesce()
            dst, src = coo.indices()
            perm = torch.randperm(len(src), generator=generator)
            shuffled.append(mean_adjacency(src[perm], dst, self.num_nodes))
        return RelationGraph(self.node_ids, self.node_types, self.relations, shuffled)


class RelationalPropagation(nn.Module):
    """R-GCN layer over batched node features.

    .. math::
        \\mathbf{H}'_b = \\sigma\\Big(\\mathbf{H}_b \\mathbf{W}_0 + \\sum_{r} \\mathbf{A}_r \\mathbf{H}_b \\mathbf{W}_r\\Big)

    for every patient ``b``; ``A_r`` is the mean adjacency of relation ``r``. All patients share
    each sparse product: ``H`` is viewed as ``(N, B * C)``.

    Args:
        channels (int): Input and output channels ``C``.
        num_relations (int): Number of relations ``R``.
        dropout (float): Dropout on the output (default: ``0.0``).

    Shapes:
        - **input:** node features ``(N, B, C)``, adjacency list of ``R`` sparse ``(N, N)``
        - **output:** ``(N, B, C)``
    """

    def __init__(self, channels: int, num_relations: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.channels = channels
        self.num_relations = num_relations
        self.root = nn.Linear(channels, channels)
        self.weight = nn.Parameter(torch.empty(num_relations, channels, channels))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights."""
        self.root.reset_parameters()
        bound = 1.0 / math.sqrt(self.channels * max(self.num_relations, 1))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, h: Tensor, adjacency: Sequence[Tensor]) -> Tensor:
        n, b, c = h.shape
        flat = h.reshape(n, b * c)
        out = self.root(h)
        for r, matrix in enumerate(adjacency):
            message = (matrix @ flat).reshape(n, b, c)
            out = out + message @ self.weight[r]
        return self.dropout(torch.relu(out))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, num_relations={self.num_relations})"
