"""The :class:`KnowledgeGraph`: one typed, multi-relational graph with provenance.

A knowledge graph is held as two aligned tables (their columns and builders are in
:mod:`kg.schema`): ``nodes`` indexed by CURIE ``id``, and ``edges``, one row per
``(source, relation, target)`` triple. Edges run subject → object as in the source (child →
parent for ``is_a``, gene → term for annotations). The tables make building, merging, caching
and tensor export vectorised; the :attr:`KnowledgeGraph.graph` property materialises the same
content once as a :class:`networkx.MultiDiGraph` (relation as edge key) for the graph
algorithms of :mod:`kg.query`. Graphs from many sources are merged by :func:`kg.merge.compose`.

Long because :class:`KnowledgeGraph` is one class (about 320 lines) whose table accessors,
networkx view, reachability and compact pickling share its private tables and cached edge row
numbers; the table contracts and merging already live in :mod:`kg.schema` and :mod:`kg.merge`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from kg._exceptions import (
    ConflictingDefinitionError,
    DanglingReferenceError,
    UnknownNodeError,
    UnknownNodeTypeError,
)
from kg.schema import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    NODE_TYPES,
    decode,
    make_edges,
    make_nodes,
    resolve_dangling,
)

__all__ = [
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_TYPES",
    "KGInfo",
    "KnowledgeGraph",
    "decode",
    "make_edges",
    "make_nodes",
    "resolve_dangling",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KGInfo:
    """Summary statistics of a :class:`KnowledgeGraph` (see :meth:`KnowledgeGraph.info`)."""

    number_of_nodes: int
    number_of_edges: int
    node_types: dict[str, int]
    relations: dict[str, int]
    edge_types: dict[tuple[str, str, str], int]
    provenance: dict[str, int] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Edge-type counts as a tidy table: ``src_type, relation, dst_type, edges``."""
        rows = [(*key, count) for key, count in self.edge_types.items()]
        return pd.DataFrame(rows, columns=["src_type", "relation", "dst_type", "edges"])

    def __str__(self) -> str:
        lines = [f"KnowledgeGraph: {self.number_of_nodes:,} nodes, {self.number_of_edges:,} edges"]
        lines += ["node types:"] + [f"  {k:<16}{v:>10,}" for k, v in self.node_types.items()]
        lines += ["edge types:"] + [
            f"  {s:>12} --{r}--> {d:<14}{n:>10,}" for (s, r, d), n in self.edge_types.items()
        ]
        lines += ["sources:"] + [f"  {k}: {v:,} edges" for k, v in self.provenance.items()]
        return "\n".join(lines)


class KnowledgeGraph:
    """A typed, multi-relational knowledge graph with per-node and per-edge provenance.

    Parameters
    ----------
    nodes : pandas.DataFrame
        Indexed by unique CURIE ids with (at least) a ``type`` column; other columns of
        :data:`NODE_COLUMNS` are added empty when missing.
    edges : pandas.DataFrame
        Columns ``source, relation, target`` (and optionally ``provenance``); both endpoints
        must be nodes.
    metadata : mapping, optional
        Free-form description (sources, releases, build options), kept through caching.
    validate : bool
        Check unique ids and edge endpoints (default: ``True``).

    Examples
    --------
    >>> nodes = make_nodes(["GO:1", "GO:2"], "go_term", "mini", name=["root", "child"])
    >>> kg = KnowledgeGraph(nodes, make_edges(["GO:2"], "is_a", ["GO:1"], "mini"))
    >>> kg
    KnowledgeGraph(nodes=2, edges=1, node_types=['go_term'], relations=['is_a'])
    >>> sorted(kg.graph.edges(keys=True))
    [('GO:2', 'GO:1', 'is_a')]
    """

    def __init__(
        self,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        metadata: Mapping[str, Any] | None = None,
        *,
        validate: bool = True,
    ) -> None:
        nodes = nodes.copy(deep=False)
        for column in NODE_COLUMNS:
            if column not in nodes.columns:
                nodes[column] = False if column == "obsolete" else None
            elif column != "obsolete":
                nodes[column] = _objects(nodes[column])
        # object dtype and None for missing values throughout (pandas 3 infers its str dtype
        # and NaN from concatenations), so that tables built, merged, sent or loaded agree
        nodes.index = nodes.index.astype(object).rename("id")
        edges = edges.reset_index(drop=True)
        if "provenance" not in edges.columns:
            edges["provenance"] = None
        self._nodes = nodes
        self._edges = edges[list(EDGE_COLUMNS)].apply(_objects)
        self._edge_rows: tuple[np.ndarray, np.ndarray] | None = None
        self.metadata: dict[str, Any] = dict(metadata or {})
        if validate:
            self.validate()

    @classmethod
    def from_rows(
        cls,
        nodes: pd.DataFrame,
        source: np.ndarray,
        relation: Iterable[str],
        target: np.ndarray,
        provenance: Iterable[str | None] | str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> KnowledgeGraph:
        """Build from edges whose ends are given as row numbers of ``nodes`` (as saved graphs
        store them); :attr:`edge_rows` is then known without looking ids up.

        Raises
        ------
        DanglingReferenceError
            If a row number is outside ``nodes``.

        Examples
        --------
        >>> nodes = make_nodes(["GO:1", "GO:2"], "go_term", "mini")
        >>> KnowledgeGraph.from_rows(nodes, np.array([1]), ["is_a"], np.array([0])).edges.iloc[0].tolist()
        ['GO:2', 'is_a', 'GO:1', None]
        """
        source, target = np.asarray(source, dtype=np.int64), np.asarray(target, dtype=np.int64)
        for end, rows in (("source", source), ("target", target)):
            if len(rows) and (rows.min() < 0 or rows.max() >= len(nodes)):
                msg = f"edge {end} row numbers must lie in [0, {len(nodes)}); got {rows.min()}..{rows.max()}"
                raise DanglingReferenceError(msg)
        ids = nodes.index.to_numpy(dtype=object)
        columns = {
            "source": ids[source],
            "relation": relation,
            "target": ids[target],
            "provenance": provenance,
        }
        kg = cls(
            nodes,
            pd.DataFrame(columns, index=pd.RangeIndex(len(source)), dtype=object),
            metadata,
            validate=False,
        )
        kg._edge_rows = (source, target)
        return kg

    # ------------------------------------------------------------------ tables
    @property
    def nodes(self) -> pd.DataFrame:
        """Node table indexed by id (treat as read-only)."""
        return self._nodes

    @property
    def edges(self) -> pd.DataFrame:
        """Edge table ``source, relation, target, provenance`` (treat as read-only)."""
        return self._edges

    def validate(self) -> None:
        """Check that ids are unique and every edge endpoint is a node.

        Raises
        ------
        ConflictingDefinitionError
            If an id occurs twice in the node table.
        DanglingReferenceError
            If an edge names a node that is not in the node table.
        """
        duplicated = self._nodes.index[self._nodes.index.duplicated()]
        if len(duplicated):
            msg = f"node ids must be unique; duplicated: {list(duplicated[:5])}"
            raise ConflictingDefinitionError(msg)
        for end in ("source", "target"):
            missing = ~self._edges[end].isin(self._nodes.index)
            if missing.any():
                row = self._edges[missing].iloc[0]
                msg = (
                    f"edge {row['source']} --{row['relation']}--> {row['target']} "
                    f"(from {row['provenance']}) names {end} {row[end]!r}, which is not a node; "
                    f"{int(missing.sum())} edge(s) dangle in all"
                )
                raise DanglingReferenceError(msg)

    # --------------------------------------------------------------- accessors
    def number_of_nodes(self) -> int:
        """Number of nodes."""
        return len(self._nodes)

    def number_of_edges(self) -> int:
        """Number of edges."""
        return len(self._edges)

    def __len__(self) -> int:
        return self.number_of_nodes()

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes.index

    @property
    def node_types(self) -> list[str]:
        """Sorted node types present."""
        return sorted(self._nodes["type"].dropna().unique().tolist())

    @property
    def relations(self) -> list[str]:
        """Sorted relation names present."""
        return sorted(self._edges["relation"].unique().tolist())

    def node(self, node_id: str) -> dict[str, Any]:
        """Attributes of one node.

        Raises
        ------
        UnknownNodeError
            If ``node_id`` is not a node.
        """
        self.check_nodes([node_id])
        return self._nodes.loc[node_id].to_dict()

    def check_nodes(self, node_ids: Iterable[str]) -> list[str]:
        """Return ``node_ids`` as a list, raising :class:`UnknownNodeError` for any unknown id."""
        node_ids = list(node_ids)
        missing = [n for n in node_ids if n not in self._nodes.index]
        if missing:
            msg = f"{len(missing)} id(s) not in the knowledge graph, e.g. {missing[:5]}"
            raise UnknownNodeError(msg)
        return node_ids

    def check_types(self, types: Iterable[str]) -> list[str]:
        """Return ``types`` as a list, raising :class:`UnknownNodeTypeError` for absent types."""
        types = list(types)
        unknown = sorted(set(types) - set(self.node_types))
        if unknown:
            msg = f"unknown node type(s) {unknown}; this graph has {self.node_types}"
            raise UnknownNodeTypeError(msg)
        return types

    def nodes_of_type(self, *types: str) -> pd.Index:
        """Ids of the nodes whose type is one of ``types``."""
        self.check_types(types)
        return self._nodes.index[self._nodes["type"].isin(types)]

    @property
    def edge_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers in :attr:`nodes` of every edge's source and target (``-1`` for an id that
        is not a node), looked up once and then reused (export, saving, statistics)."""
        if self._edge_rows is None:
            index = self._nodes.index
            self._edge_rows = (
                index.get_indexer(self._edges["source"]),
                index.get_indexer(self._edges["target"]),
            )
        return self._edge_rows

    def edge_types(self) -> pd.DataFrame:
        """Edges with the endpoint types added: ``source, relation, target, src_type, dst_type``."""
        types = np.append(self._nodes["type"].to_numpy(dtype=object), None)  # row -1 → None
        src, dst = self.edge_rows
        return self._edges.assign(src_type=types[src], dst_type=types[dst])

    def info(self) -> KGInfo:
        """Counts of nodes per type, edges per relation and per ``(src, rel, dst)`` type."""
        typed = self.edge_types()
        edge_counts = typed.groupby(["src_type", "relation", "dst_type"], sort=True).size()
        return KGInfo(
            number_of_nodes=self.number_of_nodes(),
            number_of_edges=self.number_of_edges(),
            node_types=self._nodes["type"].value_counts().sort_index().to_dict(),
            relations=self._edges["relation"].value_counts().sort_index().to_dict(),
            edge_types={tuple(k): int(v) for k, v in edge_counts.items()},
            provenance=self._edges["provenance"].value_counts().sort_index().to_dict(),
        )

    # ----------------------------------------------------------------- views
    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The graph as a :class:`networkx.MultiDiGraph` (built once, then cached).

        Node attributes are the non-empty node columns; edges are keyed by relation and carry
        ``provenance``. Treat it as read-only: edits do not flow back into the tables.
        """
        graph = nx.MultiDiGraph(**self.metadata)
        columns = list(self._nodes.columns)
        graph.add_nodes_from(
            (node_id, {c: v for c, v in zip(columns, row) if _present(v)})
            for node_id, row in zip(self._nodes.index, self._nodes.itertuples(index=False))
        )
        e = self._edges
        graph.add_edges_from(
            (s, t, r, {"provenance": p})
            for s, r, t, p in zip(e["source"], e["relation"], e["target"], e["provenance"])
        )
        return graph

    @classmethod
    def from_networkx(
        cls, graph: nx.MultiDiGraph, default_type: str = "ontology_class"
    ) -> KnowledgeGraph:
        """Build from a ``MultiDiGraph`` whose edge keys are relations (obonet's convention)."""
        records = {n: {c: d.get(c) for c in NODE_COLUMNS} for n, d in graph.nodes(data=True)}
        nodes = pd.DataFrame.from_dict(records, orient="index", columns=list(NODE_COLUMNS))
        nodes = nodes.astype(object)
        nodes["type"] = nodes["type"].fillna(default_type)
        nodes["obsolete"] = nodes["obsolete"].fillna(False).astype(bool)
        edges = pd.DataFrame(
            [(u, k, v, d.get("provenance")) for u, v, k, d in graph.edges(keys=True, data=True)],
            columns=list(EDGE_COLUMNS),
            dtype=object,
        )
        return cls(nodes, edges, metadata=dict(graph.graph))

    def subgraph(self, node_ids: Iterable[str]) -> KnowledgeGraph:
        """The subgraph induced by ``node_ids`` (unknown ids raise :class:`UnknownNodeError`)."""
        keep = pd.Index(self.check_nodes(node_ids)).unique()
        e = self._edges
        mask = e["source"].isin(keep) & e["target"].isin(keep)
        nodes = self._nodes.loc[self._nodes.index.isin(keep)]
        return KnowledgeGraph(nodes, e[mask], self.metadata, validate=False)

    def reachable(self, seeds: Iterable[str], relations: Iterable[str] | None = None) -> pd.Index:
        """Ids reachable from ``seeds`` following edges forward (seeds included).

        With the child → parent convention this is the *superterm* closure: the annotated
        terms of a gene, their parents, and so on up to the roots. ``relations`` restricts which
        edges are followed (default: all).
        """
        from scipy.sparse.csgraph import breadth_first_order

        from kg.adjacency import adjacency_matrix

        seeds = self.check_nodes(seeds)
        index = self._nodes.index
        n = len(index)
        src, dst = self.edge_rows
        if relations is not None:
            followed = self._edges["relation"].isin(list(relations)).to_numpy()
            src, dst = src[followed], dst[followed]
        root = np.full(len(seeds), n)  # one virtual root pointing at every seed
        rows = np.concatenate([src, root])
        cols = np.concatenate([dst, index.get_indexer(seeds)])
        adjacency = adjacency_matrix(rows, cols, n + 1)
        order = breadth_first_order(adjacency, n, directed=True, return_predecessors=False)
        return index[np.sort(order[order < n])]

    def prune(self, seeds: Iterable[str], relations: Iterable[str] | None = None) -> KnowledgeGraph:
        """Keep the seeds and everything reachable from them (see :meth:`reachable`).

        Typical use: seed with a cohort's linked genes to keep their annotated GO terms and
        pathways with all superterms, dropping the rest of the ontology.
        """
        return self.subgraph(self.reachable(seeds, relations))

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled (e.g. sent back by a build worker process) with the edge columns and the
        # repetitive node columns as categoricals: each distinct string is pickled once
        edges = {c: _encode(self._edges[c]) for c in EDGE_COLUMNS}
        nodes = {c: _encode(self._nodes[c]) for c in _REPETITIVE_NODE_COLUMNS}
        rest = self._nodes.drop(columns=list(_REPETITIVE_NODE_COLUMNS))
        return _unpickle, (rest, nodes, edges, self.metadata)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(nodes={self.number_of_nodes()}, "
            f"edges={self.number_of_edges()}, node_types={self.node_types}, "
            f"relations={self.relations})"
        )


def _objects(column: pd.Series) -> pd.Series:
    """``column`` as object dtype with ``None`` (not NaN) for missing values."""
    column = column.astype(object)
    return column.where(column.notna(), None) if column.hasnans else column


def _encode(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(column.to_numpy(dtype=object))
    return codes.astype(np.int32), uniques


#: Node columns with few distinct values, pickled factorized.
_REPETITIVE_NODE_COLUMNS = ("type", "namespace", "provenance")


def _unpickle(
    rest: pd.DataFrame,
    nodes: Mapping[str, tuple[np.ndarray, np.ndarray]],
    edges: Mapping[str, tuple[np.ndarray, np.ndarray]],
    metadata: dict[str, Any],
) -> KnowledgeGraph:
    rest = rest.assign(**{c: decode(*nodes[c]) for c in _REPETITIVE_NODE_COLUMNS})[
        list(NODE_COLUMNS)
    ]
    edges_frame = pd.DataFrame({c: decode(*edges[c]) for c in EDGE_COLUMNS}, dtype=object)
    return KnowledgeGraph(rest, edges_frame, metadata, validate=False)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return not (isinstance(value, (list, tuple, np.ndarray)) and len(value) == 0)
