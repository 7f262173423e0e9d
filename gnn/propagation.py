"""Relation-aware propagation over a knowledge graph with patients batched as channels.

:class:`RelationalPropagation` is an R-GCN layer (Schlichtkrull et al., 2018, "Modeling
Relational Data with Graph Convolutional Networks") written as a PyG
:class:`~torch_geometric.nn.conv.MessagePassing` layer whose node features carry a batch axis:
one sparse × dense product per layer serves every relation and every patient of the batch.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing

from gnn._exceptions import ShapeError
from gnn.relation_graph import MessageRows

__all__ = ["RelationalPropagation"]


class RelationalPropagation(MessagePassing):
    """R-GCN layer over batched node features, as a PyG ``MessagePassing`` layer.

    .. math::
        \\mathbf{H}'_b = \\sigma\\Big(\\mathbf{H}_b \\mathbf{W}_0 + \\mathbf{b}_0 +
        \\sum_{r} \\mathbf{A}_r \\mathbf{H}_b \\mathbf{W}_r\\Big)

    for every patient ``b``; ``A_r`` is the mean adjacency of relation ``r``
    (``A_r[i, j] = 1 / |N_r(i)|`` for an edge ``j → i``), ``σ`` a ReLU followed by dropout.
    Messages are aggregated into the ``K`` non-empty ``(relation, target)`` rows of
    :class:`~gnn.MessageRows`, with ``H`` viewed as ``(N, B C)``; each row's relation weight
    follows as one batched product, and the rows are summed into their target nodes.

    Two paths compute the same aggregation: the fused one (:meth:`message_and_aggregate`, a
    sparse CSR × dense product; used in training and inference) and the per-edge one
    (:meth:`message` then a sum; used when ``explain`` is set, so that the edge masks of
    :mod:`torch_geometric.explain` weight each edge of :attr:`MessageRows.edge_index`, which
    follows the order of the ``edge_index`` the rows were built from).

    Args:
        channels (int): Input and output channels ``C``.
        num_relations (int): Number of relations ``R``.
        dropout (float): Dropout on the output (default: ``0.0``).

    Shapes:
        - **input:** node features ``(N, B, C)``; :class:`~gnn.MessageRows`, or an
          ``edge_index`` ``(2, E)`` with ``edge_type`` ``(E,)``
        - **output:** ``(N, B, C)``

    Examples
    --------
    >>> from gnn import RelationGraph
    >>> graph = RelationGraph(["a", "b"], ["gene", "go_term"], ["r"], [torch.tensor([[0], [1]])])
    >>> layer = RelationalPropagation(4, num_relations=len(graph.relations))
    >>> layer(torch.randn(2, 3, 4), graph.rows).shape  # 2 nodes, 3 patients, 4 channels
    torch.Size([2, 3, 4])
    >>> layer(torch.randn(2, 3, 4), graph.edge_index, graph.edge_type).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, channels: int, num_relations: int, dropout: float = 0.0) -> None:
        super().__init__(aggr="add", node_dim=0)
        self.channels = channels
        self.num_relations = num_relations
        self.root = nn.Linear(channels, channels)
        self.weight = nn.Parameter(torch.empty(num_relations, channels, channels))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights."""
        super().reset_parameters()
        self.root.reset_parameters()
        bound = 1.0 / math.sqrt(self.channels * max(self.num_relations, 1))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(
        self, x: Tensor, edge_index: MessageRows | Tensor, edge_type: Tensor | None = None
    ) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.channels:
            msg = f"x must have shape (N, B, {self.channels}); got {tuple(x.shape)}."
            raise ShapeError(msg)
        n = x.shape[0]
        if isinstance(edge_index, MessageRows):
            rows = edge_index
        else:
            if edge_type is None:
                msg = "edge_type is required with an edge_index tensor (one relation per edge)."
                raise ShapeError(msg)
            rows = MessageRows.from_edges(edge_index, edge_type, n, self.num_relations)
        k = rows.relation.shape[0]
        if self.explain:
            messages = self.propagate(
                rows.edge_index, x=x, edge_weight=rows.edge_weight, size=(n, k)
            )
        else:
            messages = self.propagate(rows.adjacency, x=x, edge_weight=None)
        transformed = torch.bmm(messages, self.weight[rows.relation])
        out = self.root(x).index_add(0, rows.target, transformed)
        return self.dropout(torch.relu(out))

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:  # noqa: UP045
        # (E, B, C) messages, each weighted 1 / in-degree of its row
        return x_j if edge_weight is None else x_j * edge_weight.view(-1, 1, 1)

    def message_and_aggregate(self, edge_index: Tensor, x: Tensor) -> Tensor:
        # edge_index is the (K, N) sparse CSR adjacency of the message rows
        n, b, c = x.shape
        return torch.sparse.mm(edge_index, x.reshape(n, b * c)).view(-1, b, c)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, num_relations={self.num_relations})"
