"""A compact, read-only adjacency index of a knowledge graph, for fast queries on saved graphs.

:class:`GraphIndex` holds node ids, types and names and the edge list as integer arrays (CSR
neighbour lists per direction), read straight from a saved graph's Parquet files. The queries of
:mod:`kg.query` accept it in place of a :class:`~kg.graph.KnowledgeGraph` and answer exactly as
they do on the full graph (same neighbour order, so the same paths in the same order), without
building node attribute tables or a networkx graph: a query on a saved 716k-edge graph takes a
fraction of a second instead of seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kg._exceptions import ParseError, UnknownNodeError
from kg._source import PathLike
from kg.graph import KnowledgeGraph, decode
from kg.store import read_metadata

__all__ = ["GraphIndex"]

_Neighbors = Callable[[str], Iterable[str]]


class GraphIndex:
    """Node ids and typed edges as arrays, with neighbour lists in the graph's edge order.

    Parameters
    ----------
    nodes : DataFrame
        ``type`` and ``name`` columns indexed by node id, in node-table order.
    source, target : array of int
        Row numbers in ``nodes`` of each edge's ends, in edge-table order.
    relation, provenance : array of int
        Codes into ``relations`` / ``provenances`` of each edge.
    relations, provenances : array of str
        The distinct values the codes refer to.

    Examples
    --------
    >>> import kg
    >>> mini = kg.read_obo("tests/data/mini.obo")
    >>> index = GraphIndex.from_kg(mini)
    >>> sorted(kg.superterms(index, "GO:0000003")) == sorted(kg.superterms(mini, "GO:0000003"))
    True
    """

    def __init__(
        self,
        nodes: pd.DataFrame,
        source: np.ndarray,
        target: np.ndarray,
        relation: np.ndarray,
        relations: np.ndarray,
        provenance: np.ndarray,
        provenances: np.ndarray,
    ) -> None:
        self.nodes = nodes
        self._ids: list[str] = nodes.index.tolist()
        self._source = np.asarray(source, dtype=np.int64)
        self._target = np.asarray(target, dtype=np.int64)
        self._relation = np.asarray(relation, dtype=np.int64)
        self._relations = np.asarray(relations, dtype=object)
        self._provenance = np.asarray(provenance, dtype=np.int64)
        self._provenances = np.asarray(provenances, dtype=object)

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph) -> GraphIndex:
        """Index an in-memory graph (every edge end must be a node)."""
        source, target = kg.edge_rows
        if (source < 0).any() or (target < 0).any():
            raise ParseError("cannot index a graph whose edges name ids that are not nodes")
        relation, relations = pd.factorize(kg.edges["relation"])
        provenance, provenances = pd.factorize(kg.edges["provenance"])  # None: -1
        nodes = kg.nodes[["type", "name"]]
        return cls(nodes, source, target, relation, relations, provenance, provenances)

    @classmethod
    def from_saved(cls, path: PathLike) -> GraphIndex:
        """Read the index of a folder written by :func:`kg.save_kg` (checksums verified).

        Only the id, type and name node columns and the integer-coded edge table are read.

        Raises
        ------
        ParseError
            As :func:`kg.load_kg`: a missing or damaged file, or an incompatible version.
        """
        path = Path(path)
        read_metadata(path)  # format version and checksums
        try:
            table = pq.read_table(path / "nodes.parquet", columns=["id", "type", "name"])
            edges = pq.read_table(path / "edges.parquet")
        except (pa.ArrowException, OSError) as error:
            raise ParseError(f"unreadable saved graph table: {error}", path) from None
        columns = {c: table.column(c).to_numpy(zero_copy_only=False) for c in ("type", "name")}
        ids = pd.Index(table.column("id").to_numpy(zero_copy_only=False), dtype=object, name="id")
        nodes = pd.DataFrame(columns, index=ids, dtype=object)
        coded = {}
        for name in ("relation", "provenance"):
            column = edges.column(name).combine_chunks()
            if not pa.types.is_dictionary(column.type):
                column = column.dictionary_encode()
            codes = column.indices.fill_null(-1).to_numpy(zero_copy_only=False)  # null: -1
            coded[name] = (codes, column.dictionary)
        source = edges.column("source").to_numpy()
        target = edges.column("target").to_numpy()
        for end, rows in (("source", source), ("target", target)):
            if len(rows) and (rows.min() < 0 or rows.max() >= len(ids)):
                raise ParseError(f"edge {end} row numbers outside the node table", path)
        (relation, relations), (provenance, provenances) = coded["relation"], coded["provenance"]
        return cls(
            nodes,
            source,
            target,
            relation,
            relations.to_numpy(zero_copy_only=False),
            provenance,
            provenances.to_numpy(zero_copy_only=False),
        )

    # ----------------------------------------------------------------- lookups
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._row

    def __repr__(self) -> str:
        return f"GraphIndex(nodes={len(self._ids)}, edges={len(self._source)})"

    @cached_property
    def _row(self) -> dict[str, int]:
        return {node: row for row, node in enumerate(self._ids)}

    def check_nodes(self, node_ids: Iterable[str]) -> list[str]:
        """``node_ids`` as a list; :class:`UnknownNodeError` for any unknown id."""
        node_ids = list(node_ids)
        missing = [n for n in node_ids if n not in self._row]
        if missing:
            msg = f"{len(missing)} id(s) not in the knowledge graph, e.g. {missing[:5]}"
            raise UnknownNodeError(msg)
        return node_ids

    # --------------------------------------------------------------- adjacency
    @cached_property
    def _pairs(self) -> dict[str, np.ndarray]:
        """Distinct ``(u, v)`` pairs as CSR lists per direction, ordered by their first edge.

        This is the order of networkx's adjacency dicts when edges are added in table order,
        which makes traversals (and so paths) come out in the same order as on the full graph.
        """
        n = len(self._ids)
        key = self._source * n + self._target
        unique, first, pair_of_edge = np.unique(key, return_index=True, return_inverse=True)
        u, v = unique // n, unique % n
        out_order, in_order = np.lexsort((first, u)), np.lexsort((first, v))
        return {
            "pair_of_edge": pair_of_edge.ravel(),
            "out_order": out_order,
            "out": v[out_order],
            "out_ptr": np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))]),
            "in_order": in_order,
            "in": u[in_order],
            "in_ptr": np.concatenate([[0], np.cumsum(np.bincount(v, minlength=n))]),
        }

    def neighbor_function(self, relations: frozenset[str] | None, direction: str) -> _Neighbors:
        """Distinct neighbours of a node along edges of ``relations`` (all when ``None``)."""
        pairs = self._pairs
        ids = self._ids
        row = self._row
        if relations is None:
            keep = {"out": None, "in": None}
        else:
            codes = [i for i, r in enumerate(self._relations.tolist()) if r in relations]
            allowed = np.zeros(len(pairs["out"]), dtype=bool)
            allowed[pairs["pair_of_edge"][np.isin(self._relation, codes)]] = True
            keep = {end: allowed[pairs[f"{end}_order"]] for end in ("out", "in")}
        ends = {"out": ("out",), "in": ("in",), "both": ("out", "in")}[direction]

        def side(end: str, r: int) -> list[str]:
            start, stop = pairs[f"{end}_ptr"][r], pairs[f"{end}_ptr"][r + 1]
            found = pairs[end][start:stop]
            if keep[end] is not None:
                found = found[keep[end][start:stop]]
            return [ids[i] for i in found.tolist()]

        if len(ends) == 1:
            return lambda node: side(ends[0], row[node])
        return lambda node: dict.fromkeys([*side("out", row[node]), *side("in", row[node])])

    @cached_property
    def _by_source(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self._source, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(self._source, minlength=len(self)))])
        return order, ptr

    def relations_between(self, subject: str, obj: str) -> list[str]:
        """Relations of the edges ``subject → obj``, in edge-table order, without repeats."""
        order, ptr = self._by_source
        r = self._row[subject]
        edges = order[ptr[r] : ptr[r + 1]]
        edges = edges[self._target[edges] == self._row[obj]]
        return list(dict.fromkeys(self._relations[self._relation[edges]].tolist()))

    def subgraph(self, node_ids: Iterable[str]) -> KnowledgeGraph:
        """The subgraph induced by ``node_ids``, with node ``type``/``name`` and every edge."""
        rows = np.fromiter((self._row[n] for n in self.check_nodes(node_ids)), dtype=np.int64)
        inside = np.zeros(len(self), dtype=bool)
        inside[rows] = True
        mask = inside[self._source] & inside[self._target]
        kept = np.flatnonzero(inside)
        renumber = np.cumsum(inside) - 1
        return KnowledgeGraph.from_rows(
            self.nodes.iloc[kept],
            renumber[self._source[mask]],
            decode(self._relation[mask], self._relations),
            renumber[self._target[mask]],
            decode(self._provenance[mask], self._provenances),
        )
