"""Export a :class:`~kg.graph.KnowledgeGraph` to PyG ``HeteroData`` and map indices back to ids.

torch and torch-geometric are imported when :func:`to_hetero_data` is called, never at import
time of :mod:`kg`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kg._exceptions import ParseError, UnknownNodeError, UnknownNodeTypeError
from kg._source import PathLike
from kg.graph import KnowledgeGraph

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["REVERSE_PREFIX", "NodeIndex", "to_hetero_data"]

#: Prefix of the relation name of added reverse edges (``is_a`` → ``rev_is_a``).
REVERSE_PREFIX = "rev_"


@dataclass(frozen=True)
class NodeIndex:
    """Stable bijection between KG ids and per-type integer indices.

    Within a type, ids are sorted, so the same graph always yields the same indices.

    Examples
    --------
    >>> index = NodeIndex({"gene": pd.Index(["NCBIGene:1", "NCBIGene:2"])})
    >>> index.to_index("gene", ["NCBIGene:2"]).tolist(), index.to_ids("gene", [0])
    ([1], ['NCBIGene:1'])
    """

    ids: Mapping[str, pd.Index]

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph) -> NodeIndex:
        """Index every node type of ``kg``."""
        by_type = kg.nodes.groupby("type", sort=True).groups
        return cls({t: pd.Index(sorted(ids), dtype=object) for t, ids in by_type.items()})

    @property
    def node_types(self) -> list[str]:
        """Node types, sorted."""
        return sorted(self.ids)

    def _type(self, node_type: str) -> pd.Index:
        if node_type not in self.ids:
            msg = f"unknown node type {node_type!r}; indexed types are {self.node_types}"
            raise UnknownNodeTypeError(msg)
        return self.ids[node_type]

    def to_index(self, node_type: str, ids: Iterable[str]) -> np.ndarray:
        """Indices of ``ids`` within ``node_type`` (unknown ids raise :class:`UnknownNodeError`)."""
        ids = list(ids)
        positions = self._type(node_type).get_indexer(ids)
        if (positions < 0).any():
            missing = [i for i, p in zip(ids, positions) if p < 0]
            msg = f"{len(missing)} id(s) are not {node_type} nodes, e.g. {missing[:5]}"
            raise UnknownNodeError(msg)
        return positions

    def to_ids(self, node_type: str, indices: Iterable[int]) -> list[str]:
        """Ids at ``indices`` of ``node_type``."""
        return self._type(node_type)[np.asarray(list(indices), dtype=np.int64)].tolist()

    def save(self, path: PathLike) -> None:
        """Write the map as JSON (``{type: [id, ...]}``)."""
        Path(path).write_text(json.dumps({t: self.ids[t].tolist() for t in self.node_types}))

    @classmethod
    def load(cls, path: PathLike) -> NodeIndex:
        """Read a map written by :meth:`save`."""
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            msg = "expected a JSON object {node_type: [id, ...]}"
            raise ParseError(msg, path)
        return cls({t: pd.Index(v, dtype=object) for t, v in data.items()})


def to_hetero_data(
    kg: KnowledgeGraph, *, reverse: bool = True, index: NodeIndex | None = None
) -> HeteroData:
    """Convert to ``HeteroData`` with one edge type per ``(src type, relation, dst type)``.

    Each node store holds ``num_nodes`` and ``node_id`` (the KG ids in index order); the
    :class:`NodeIndex` is attached as ``data.node_index`` for mapping back. With ``reverse``,
    every edge type gets an explicit reverse type ``(dst, "rev_<relation>", src)`` so that
    messages also flow parent → child without merging directions (unlike ``ToUndirected``).

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph to export.
    reverse : bool
        Add reverse edge types (default: ``True``).
    index : NodeIndex, optional
        A saved index to reuse (default: a fresh :meth:`NodeIndex.from_kg`).

    Examples
    --------
    >>> import kg
    >>> data = to_hetero_data(kg.read_obo("tests/data/mini.obo"))
    >>> data["go_term", "is_a", "go_term"].edge_index.tolist()
    [[0, 2], [1, 1]]
    >>> data.node_index.to_ids("go_term", [1])
    ['GO:0008150']
    """
    import torch
    from torch_geometric.data import HeteroData

    index = index or NodeIndex.from_kg(kg)
    data = HeteroData()
    for node_type in index.node_types:
        data[node_type].num_nodes = len(index.ids[node_type])
        data[node_type].node_id = index.ids[node_type].tolist()
    type_code, local = _node_codes(kg, index)
    ends = []
    for end, rows in zip(("source", "target"), kg.edge_rows):
        unindexed = (rows < 0) | (type_code[rows] < 0)
        if unindexed.any():
            missing = kg.edges[end][unindexed].head(5).tolist()
            msg = f"{int(unindexed.sum())} edge {end}(s) are not in the node index, e.g. {missing}"
            raise UnknownNodeError(msg)
        ends.append((type_code[rows], local[rows]))
    (src_type, src), (dst_type, dst) = ends
    relation, relations = pd.factorize(kg.edges["relation"].to_numpy(dtype=object))
    types, n_rel, n_type = index.node_types, len(relations), len(index.node_types)
    # one integer key per (src type, relation, dst type); each group keeps the edges' order
    keys, group = np.unique((src_type * n_rel + relation) * n_type + dst_type, return_inverse=True)
    triples = [
        (types[k // (n_rel * n_type)], relations[k // n_type % n_rel], types[k % n_type])
        for k in keys.tolist()
    ]
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(keys) + 1))
    for g in sorted(range(len(keys)), key=triples.__getitem__):
        rows = order[bounds[g] : bounds[g + 1]]
        edge_index = torch.from_numpy(np.stack([src[rows], dst[rows]]))
        head, rel, tail = triples[g]
        data[head, rel, tail].edge_index = edge_index
        if reverse:
            data[tail, REVERSE_PREFIX + rel, head].edge_index = edge_index.flip(0)
    data.node_index = index
    return data


def _node_codes(kg: KnowledgeGraph, index: NodeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``kg.nodes``: its type's position in ``index.node_types`` and its index within
    that type (both ``-1`` for a node the index lacks)."""
    type_code = np.full(kg.number_of_nodes(), -1, dtype=np.int64)
    local = np.full(kg.number_of_nodes(), -1, dtype=np.int64)
    for code, node_type in enumerate(index.node_types):
        rows = kg.nodes.index.get_indexer(index.ids[node_type])
        present = rows >= 0  # a saved index may list ids this graph lacks
        type_code[rows[present]] = code
        local[rows[present]] = np.flatnonzero(present)
    return type_code, local
