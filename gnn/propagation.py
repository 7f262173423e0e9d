"""Relation-aware propagation over a knowledge graph with patients batched as channels.

:class:`RelationGraph` holds the edges of each relation and one row-normalised sparse adjacency
per relation, reverse relations included. :class:`RelationalPropagation` is an R-GCN layer
(Schlichtkrull et al., 2018, "Modeling Relational Data with Graph Convolutional Networks") whose
node features carry a batch axis: one sparse × dense product per relation and layer serves every
patient of the batch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from kg import KnowledgeGraph

__all__ = [
    "MessageRows",
    "RelationGraph",
    "RelationalPropagation",
    "mean_adjacency",
    "stack_adjacency",
]


def mean_adjacency(src: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
    """Sparse COO ``(N, N)`` matrix ``A`` with ``A[d, s] = 1 / in_degree(d)`` for each edge ``s → d``.

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
    return torch.sparse_coo_tensor(
        indices, values, (num_nodes, num_nodes), check_invariants=True
    ).coalesce()


def stack_adjacency(matrices: Sequence[Tensor], num_nodes: int) -> Tensor:
    """Stack ``R`` sparse ``(N, N)`` matrices into one sparse COO ``(R N, N)`` matrix.

    ``(stacked @ X).view(R, N, -1)[r]`` equals ``matrices[r] @ X``: one sparse product serves
    every relation.
    """
    if not matrices:
        empty = torch.zeros(2, 0, dtype=torch.long)
        return torch.sparse_coo_tensor(empty, torch.zeros(0), (0, num_nodes), check_invariants=True)
    parts = [m.coalesce() for m in matrices]
    indices = torch.cat(
        [p.indices() + torch.tensor([[r * num_nodes], [0]]) for r, p in enumerate(parts)], dim=1
    )
    values = torch.cat([p.values() for p in parts])
    shape = (len(parts) * num_nodes, num_nodes)
    return torch.sparse_coo_tensor(indices, values, shape, check_invariants=True).coalesce()


@dataclass(frozen=True)
class MessageRows:
    """The non-empty rows of a stacked ``(R N, N)`` adjacency: where messages arrive.

    Most ``(relation, node)`` pairs receive no message (a gene has no ``is_a`` parent, a GO term
    no ``has_phenotype`` edge), so a layer only computes the ``K`` rows that do.

    Attributes
    ----------
    adjacency : Tensor
        Sparse COO ``(K, N)``: the stacked adjacency's non-empty rows, in order.
    relation : Tensor
        ``(K,)`` relation of each row.
    target : Tensor
        ``(K,)`` node that receives each row's message.

    Examples
    --------
    >>> a = stack_adjacency([mean_adjacency(torch.tensor([0]), torch.tensor([1]), 2)] * 2, 2)
    >>> rows = MessageRows.from_stacked(a, 2)
    >>> rows.relation.tolist(), rows.target.tolist()
    ([0, 1], [1, 1])
    """

    adjacency: Tensor
    relation: Tensor
    target: Tensor

    @classmethod
    def from_stacked(cls, adjacency: Tensor, num_nodes: int) -> MessageRows:
        """Keep the non-empty rows of a stacked adjacency (see :func:`stack_adjacency`)."""
        adjacency = adjacency.coalesce()
        index = adjacency.indices()
        rows, position = torch.unique(index[0], return_inverse=True)
        compact = torch.sparse_coo_tensor(
            torch.stack([position, index[1]]),
            adjacency.values(),
            (len(rows), num_nodes),
            check_invariants=True,
        )
        return cls(compact.coalesce(), rows // num_nodes, rows % num_nodes)

    def to(self, device: torch.device | str) -> MessageRows:
        """Copy on ``device``."""
        return MessageRows(
            self.adjacency.to(device), self.relation.to(device), self.target.to(device)
        )


@dataclass
class RelationGraph:
    """A knowledge graph as a node index and the edges of each base relation.

    The :attr:`adjacency` stacks one mean-aggregation matrix per relation, then one per reverse
    relation ``rev_<name>`` when ``reverse``, into a sparse ``(R N, N)`` matrix (see
    :func:`stack_adjacency`). Only its non-empty rows, :attr:`rows`, are kept (computed on
    construction) for :class:`RelationalPropagation`; the full matrix is rebuilt on request.

    Parameters
    ----------
    node_ids : list of str
        KG ids in index order.
    node_types : list of str
        Type of each node.
    base_relations : list of str
        Names of the (forward) relations.
    edges : list of Tensor
        Per base relation, a ``(2, E_r)`` long tensor of ``(source, target)`` positions.
    reverse : bool
        Add a reverse relation per base relation (default: ``True``), so that messages also
        flow from terms back to genes.

    Examples
    --------
    >>> g = RelationGraph(["a", "b"], ["gene", "go_term"], ["is_a"], [torch.tensor([[0], [1]])])
    >>> g.relations, g.num_nodes
    (['is_a', 'rev_is_a'], 2)
    """

    node_ids: list[str]
    node_types: list[str]
    base_relations: list[str]
    edges: list[Tensor]
    reverse: bool = True
    rows: MessageRows = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rows = MessageRows.from_stacked(self.adjacency, self.num_nodes)

    @property
    def adjacency(self) -> Tensor:
        """The stacked ``(R N, N)`` sparse adjacency, built from :attr:`edges` (on the CPU)."""
        pairs = [(e[0], e[1]) for e in self.edges]
        if self.reverse:
            pairs += [(e[1], e[0]) for e in self.edges]
        return stack_adjacency(
            [mean_adjacency(s, d, self.num_nodes) for s, d in pairs], self.num_nodes
        )

    @classmethod
    def from_kg(
        cls,
        kg: KnowledgeGraph,
        *,
        reverse: bool = True,
        group: Literal["relation", "type"] = "relation",
    ) -> RelationGraph:
        """Index ``kg``'s nodes (sorted ids) and collect the edges of each relation.

        Parameters
        ----------
        kg : KnowledgeGraph
            The (pruned) graph.
        reverse : bool
            Add reverse relations (default: ``True``).
        group : {"relation", "type"}
            ``"relation"``: one relation per edge key (``is_a``, ``involved_in``...);
            ``"type"``: one per ``(source type, target type)`` pair (``gene->go_term``...),
            fewer relations and so a cheaper layer (default: ``"relation"``).
        """
        ids = sorted(kg.nodes.index)
        position = {node_id: i for i, node_id in enumerate(ids)}
        edges = kg.edges
        if group == "type":
            types = kg.nodes["type"]
            names = edges["source"].map(types) + "->" + edges["target"].map(types)
        else:
            names = edges["relation"]
        src_all = edges["source"].map(position).to_numpy(np.int64)
        dst_all = edges["target"].map(position).to_numpy(np.int64)
        relations = sorted(names.unique())
        per_relation = []
        for relation in relations:
            mask = (names == relation).to_numpy()
            per_relation.append(torch.from_numpy(np.stack([src_all[mask], dst_all[mask]])))
        types = kg.nodes.loc[ids, "type"].astype(str).tolist()
        return cls(ids, types, relations, per_relation, reverse)

    @property
    def num_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def relations(self) -> list[str]:
        """Relation names in adjacency order (reverse relations last)."""
        reverse = [f"rev_{r}" for r in self.base_relations] if self.reverse else []
        return self.base_relations + reverse

    def index_of(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of ``ids`` (``-1`` where absent).

        Examples
        --------
        >>> g = RelationGraph(["a", "b"], ["gene", "gene"], [], [])
        >>> g.index_of(["b", "z"]).tolist()
        [1, -1]
        """
        position = {node_id: i for i, node_id in enumerate(self.node_ids)}
        return np.array([position.get(i, -1) for i in ids], dtype=np.int64)

    def to(self, device: torch.device | str) -> RelationGraph:
        """Shallow copy with the message rows on ``device`` (the edge lists stay where they
        are); nothing is recomputed."""
        out = copy.copy(self)
        out.rows = self.rows.to(device)
        return out

    def degrees(self) -> list[tuple[Tensor, Tensor]]:
        """Per base relation, ``(out_degree, in_degree)`` of every node."""
        n = self.num_nodes
        return [
            (torch.bincount(e[0], minlength=n), torch.bincount(e[1], minlength=n))
            for e in self.edges
        ]

    def shuffled(self, seed: int = 0) -> RelationGraph:
        """Degree-preserving rewiring of every base relation (sources permuted among its edges).

        Each node keeps its in- and out-degree per relation (and so its node type's place in
        the relation) while who connects to whom is randomised: the ablation that shows whether
        the knowledge in the edges helps. Reverse relations are the reverses of the shuffled
        edges.

        Examples
        --------
        >>> e = torch.tensor([[0, 1, 2], [3, 3, 4]])
        >>> g = RelationGraph(list("abcde"), ["gene"] * 5, ["r"], [e])
        >>> s = g.shuffled(seed=1)
        >>> [torch.equal(x, y) for x, y in zip(g.degrees()[0], s.degrees()[0])]
        [True, True]
        """
        generator = torch.Generator().manual_seed(seed)
        edges = []
        for e in self.edges:
            perm = torch.randperm(e.shape[1], generator=generator)
            edges.append(torch.stack([e[0][perm], e[1]]))
        return RelationGraph(
            self.node_ids, self.node_types, self.base_relations, edges, self.reverse
        )


class RelationalPropagation(nn.Module):
    """R-GCN layer over batched node features.

    .. math::
        \\mathbf{H}'_b = \\sigma\\Big(\\mathbf{H}_b \\mathbf{W}_0 + \\sum_{r} \\mathbf{A}_r \\mathbf{H}_b \\mathbf{W}_r\\Big)

    for every patient ``b``; ``A_r`` is the mean adjacency of relation ``r``. All patients and
    all relations share one sparse product: ``H`` is viewed as ``(N, B * C)`` and multiplied by
    the non-empty rows of the stacked ``(R N, N)`` adjacency (:class:`MessageRows`); each row's
    relation weight follows as one batched product, and the rows are summed into their nodes.

    Args:
        channels (int): Input and output channels ``C``.
        num_relations (int): Number of relations ``R``.
        dropout (float): Dropout on the output (default: ``0.0``).

    Shapes:
        - **input:** node features ``(N, B, C)``, :class:`MessageRows` of the stacked adjacency
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

    def forward(self, h: Tensor, rows: MessageRows) -> Tensor:
        n, b, c = h.shape
        messages = torch.sparse.mm(rows.adjacency, h.reshape(n, b * c)).view(-1, b, c)
        transformed = torch.bmm(messages, self.weight[rows.relation])
        out = self.root(h).index_add(0, rows.target, transformed)
        return self.dropout(torch.relu(out))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, num_relations={self.num_relations})"
