"""A knowledge graph as per-relation edge lists, and the message rows a propagation layer reads.

:class:`RelationGraph` indexes a :class:`kg.KnowledgeGraph`'s nodes (sorted ids) and holds the
edges of each relation, reverse relations (named with :data:`kg.REVERSE_PREFIX`) included; its
:attr:`~RelationGraph.edge_index` and :attr:`~RelationGraph.edge_type` follow PyG's R-GCN
convention. :class:`MessageRows` is what :class:`~gnn.RelationalPropagation` consumes: the edges
grouped by the ``(relation, target node)`` row that receives them, once as a sparse CSR matrix
(the fused path) and once as an edge list (the per-edge path that explainers' edge masks need).
Long because it holds the graph and its message rows, whose transposed products are cached.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from gnn._exceptions import InvalidGraphError
from kg import REVERSE_PREFIX, KnowledgeGraph, NodeIndex

__all__ = ["MessageRows", "RelationGraph", "mean_adjacency", "stack_adjacency"]


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

    Examples
    --------
    >>> a = mean_adjacency(torch.tensor([0]), torch.tensor([1]), 2)
    >>> stack_adjacency([a, a], 2).shape
    torch.Size([4, 2])
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


def _csr(indices: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """A coalesced sparse CSR matrix (duplicate entries summed), without torch's beta warning."""
    coo = torch.sparse_coo_tensor(indices, values, shape, check_invariants=True).coalesce()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return coo.to_sparse_csr()


def _check_range(name: str, what: str, values: Tensor, bound: int) -> None:
    """Raise :class:`~gnn.InvalidGraphError` unless every entry of ``values`` is in ``[0, bound)``."""
    if values.numel() and not 0 <= int(values.min()) <= int(values.max()) < bound:
        got = f"[{int(values.min())}, {int(values.max())}]"
        msg = f"{name} must hold {what} in [0, {bound}); got entries in {got}."
        raise InvalidGraphError(msg)


@dataclass(frozen=True)
class MessageRows:
    """The edges of a graph grouped by the ``(relation, target)`` row that receives them.

    Most ``(relation, node)`` pairs receive no message (a gene has no ``is_a`` parent, a GO term
    no ``has_phenotype`` edge), so a layer only computes the ``K`` rows that do. Edge ``e``
    carries ``edge_weight[e] = 1 / in_degree_r(target)``, so a row is the mean of its messages.

    Attributes
    ----------
    adjacency : Tensor
        Sparse CSR ``(K, N)``: row ``k`` holds the weights of the edges into row ``k``
        (duplicate edges summed).
    relation : Tensor
        ``(K,)`` relation of each row.
    target : Tensor
        ``(K,)`` node that receives each row's message.
    edge_index : Tensor
        ``(2, E)`` ``(source node, row)`` of every edge, in the order the edges were given.
    edge_weight : Tensor
        ``(E,)`` weight of every edge.

    Examples
    --------
    >>> edge_index, edge_type = torch.tensor([[0, 0], [1, 1]]), torch.tensor([0, 1])
    >>> rows = MessageRows.from_edges(edge_index, edge_type, num_nodes=2)
    >>> rows.relation.tolist(), rows.target.tolist(), rows.edge_index.tolist()
    ([0, 1], [1, 1], [[0, 0], [0, 1]])
    """

    adjacency: Tensor
    relation: Tensor
    target: Tensor
    edge_index: Tensor
    edge_weight: Tensor

    @classmethod
    def _from_keys(cls, key: Tensor, source: Tensor, weight: Tensor, num_nodes: int) -> MessageRows:
        """Group edges by ``key = relation * N + target`` (rows sorted by key)."""
        rows, position = torch.unique(key, return_inverse=True)
        adjacency = _csr(torch.stack([position, source]), weight, (len(rows), num_nodes))
        edge_index = torch.stack([source, position])
        return cls(adjacency, rows // num_nodes, rows % num_nodes, edge_index, weight)

    @classmethod
    def from_stacked(cls, adjacency: Tensor, num_nodes: int) -> MessageRows:
        """Keep the non-empty rows of a stacked adjacency (see :func:`stack_adjacency`).

        Examples
        --------
        >>> a = stack_adjacency([mean_adjacency(torch.tensor([0]), torch.tensor([1]), 2)] * 2, 2)
        >>> rows = MessageRows.from_stacked(a, 2)
        >>> rows.relation.tolist(), rows.target.tolist()
        ([0, 1], [1, 1])
        """
        adjacency = adjacency.coalesce()
        index = adjacency.indices()
        return cls._from_keys(index[0], index[1], adjacency.values(), num_nodes)

    @classmethod
    def from_edges(
        cls,
        edge_index: Tensor,
        edge_type: Tensor,
        num_nodes: int,
        num_relations: int | None = None,
    ) -> MessageRows:
        """Group a typed edge list ``(2, E)`` ``(source, target)`` with ``(E,)`` relations.

        Raises :class:`~gnn.InvalidGraphError` if the shapes disagree or a position is out of
        range (``[0, num_nodes)``, ``[0, num_relations)`` when given).
        """
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            msg = f"edge_index must have shape (2, E); got {tuple(edge_index.shape)}."
            raise InvalidGraphError(msg)
        if edge_type.shape != (edge_index.shape[1],):
            msg = (
                f"edge_type must have shape ({edge_index.shape[1]},), one relation per edge; "
                f"got {tuple(edge_type.shape)}."
            )
            raise InvalidGraphError(msg)
        edge_index, edge_type = edge_index.to(torch.long), edge_type.to(torch.long)
        _check_range("edge_index", "node positions", edge_index, num_nodes)
        if num_relations is not None:
            _check_range("edge_type", "relations", edge_type, num_relations)
        key = edge_type * num_nodes + edge_index[1]
        degree = torch.bincount(key)
        weight = 1.0 / degree[key].to(torch.float32)
        return cls._from_keys(key, edge_index[0], weight, num_nodes)

    @cached_property
    def transposed(self) -> Tensor:
        """Sparse CSR ``(N, K)``: :attr:`adjacency` transposed, built once (backward passes)."""
        return _csr(self.edge_index, self.edge_weight, self.adjacency.shape[::-1])

    @cached_property
    def scatter(self) -> Tensor:
        """Sparse CSR ``(N, K)`` of ones, built once: ``scatter @ M`` sums row ``k`` into ``target[k]``."""
        rows = torch.arange(len(self.target), device=self.target.device)
        return _csr(
            torch.stack([self.target, rows]), torch.ones(len(rows)), self.adjacency.shape[::-1]
        )

    def to(self, device: torch.device | str) -> MessageRows:
        """Copy on ``device``."""
        return MessageRows(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


@dataclass
class RelationGraph:
    """A knowledge graph as a node index and the edges of each base relation.

    Relations are the base relations, then one reverse relation ``rev_<name>``
    (:data:`kg.REVERSE_PREFIX`) per base relation when ``reverse``. :attr:`edge_index` and
    :attr:`edge_type` list every edge of every relation (PyG's R-GCN convention);
    :attr:`rows` groups them for :class:`~gnn.RelationalPropagation` (computed on construction);
    :attr:`adjacency` stacks one mean-aggregation matrix per relation (rebuilt on request).

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

    Raises
    ------
    InvalidGraphError
        If the lists disagree in length or an edge is not a pair of node positions.

    Examples
    --------
    >>> g = RelationGraph(["a", "b"], ["gene", "go_term"], ["is_a"], [torch.tensor([[0], [1]])])
    >>> g.relations, g.num_nodes
    (['is_a', 'rev_is_a'], 2)
    >>> g.edge_index.tolist(), g.edge_type.tolist()
    ([[0, 1], [1, 0]], [0, 1])
    """

    node_ids: list[str]
    node_types: list[str]
    base_relations: list[str]
    edges: list[Tensor]
    reverse: bool = True
    rows: MessageRows = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._validate()
        self.rows = MessageRows.from_edges(
            self.edge_index, self.edge_type, self.num_nodes, len(self.relations)
        )

    def _validate(self) -> None:
        n = self.num_nodes
        if len(self.node_types) != n:
            msg = f"node_types must give one type per node ({n}); got {len(self.node_types)}."
            raise InvalidGraphError(msg)
        if len(self.edges) != len(self.base_relations):
            msg = (
                f"edges must give one (2, E) tensor per base relation "
                f"({len(self.base_relations)}); got {len(self.edges)}."
            )
            raise InvalidGraphError(msg)
        for name, e in zip(self.base_relations, self.edges):
            if e.dim() != 2 or e.shape[0] != 2 or e.dtype not in (torch.int32, torch.int64):
                got = f"{e.dtype} {tuple(e.shape)}"
                msg = f"edges of relation {name!r} must be an integer (2, E) tensor; got {got}."
                raise InvalidGraphError(msg)
            _check_range(f"edges of relation {name!r}", "node positions", e, n)

    @property
    def adjacency(self) -> Tensor:
        """The stacked ``(R N, N)`` sparse adjacency, built from :attr:`edges` (on the CPU)."""
        pairs = [(e[0], e[1]) for e in self.edges]
        if self.reverse:
            pairs += [(e[1], e[0]) for e in self.edges]
        return stack_adjacency(
            [mean_adjacency(s, d, self.num_nodes) for s, d in pairs], self.num_nodes
        )

    @property
    def edge_index(self) -> Tensor:
        """``(2, E)`` ``(source, target)`` of every edge, relation by relation (:attr:`relations`
        order: base relations, then their reverses)."""
        parts = [e.to(torch.long) for e in self.edges]
        if self.reverse:
            parts += [e.to(torch.long).flip(0) for e in self.edges]
        return torch.cat(parts, dim=1) if parts else torch.zeros(2, 0, dtype=torch.long)

    @property
    def edge_type(self) -> Tensor:
        """``(E,)`` relation (position in :attr:`relations`) of every edge of :attr:`edge_index`."""
        sizes = [e.shape[1] for e in self.edges] * (2 if self.reverse else 1)
        return torch.repeat_interleave(
            torch.arange(len(sizes)), torch.tensor(sizes, dtype=torch.long)
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

        Examples
        --------
        >>> import kg
        >>> g = RelationGraph.from_kg(kg.read_obo("tests/data/mini.obo"))
        >>> g.relations[:2], g.num_nodes
        (['is_a', 'part_of'], 3)
        """
        ids = pd.Index(sorted(kg.nodes.index), dtype=object)
        edges = kg.edges
        if group == "type":
            types = kg.nodes["type"]
            names = edges["source"].map(types) + "->" + edges["target"].map(types)
        else:
            names = edges["relation"]
        src_all = ids.get_indexer(edges["source"]).astype(np.int64)
        dst_all = ids.get_indexer(edges["target"]).astype(np.int64)
        relations = sorted(names.unique())
        per_relation = []
        for relation in relations:
            mask = (names == relation).to_numpy()
            per_relation.append(torch.from_numpy(np.stack([src_all[mask], dst_all[mask]])))
        types = kg.nodes.loc[ids, "type"].astype(str).tolist()
        return cls(ids.tolist(), types, relations, per_relation, reverse)

    @property
    def num_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def relations(self) -> list[str]:
        """Relation names in adjacency order (reverse relations last)."""
        reverse = [REVERSE_PREFIX + r for r in self.base_relations] if self.reverse else []
        return self.base_relations + reverse

    @property
    def node_index(self) -> NodeIndex:
        """The per-type :class:`kg.NodeIndex` of these nodes: the index that
        :func:`kg.to_hetero_data` of the same graph uses (positions within each type)."""
        frame = pd.DataFrame({"id": self.node_ids, "type": self.node_types})
        by_type = frame.groupby("type", sort=True)["id"]
        return NodeIndex({t: pd.Index(sorted(ids), dtype=object) for t, ids in by_type})

    def index_of(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of ``ids`` (``-1`` where absent).

        Examples
        --------
        >>> g = RelationGraph(["a", "b"], ["gene", "gene"], [], [])
        >>> g.index_of(["b", "z"]).tolist()
        [1, -1]
        """
        return pd.Index(self.node_ids, dtype=object).get_indexer(list(ids)).astype(np.int64)

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
