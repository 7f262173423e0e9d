"""Merge knowledge graphs from many sources into one (:func:`compose`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from kg._exceptions import ConflictingDefinitionError
from kg.graph import KnowledgeGraph

__all__ = ["compose"]


def compose(
    graphs: Iterable[KnowledgeGraph], metadata: Mapping[str, Any] | None = None
) -> KnowledgeGraph:
    """Merge knowledge graphs into one.

    Nodes with the same id are merged: the first graph that gives an attribute wins and later
    ones fill what it lacks; a node typed differently by two sources is an error. Identical
    ``(source, relation, target)`` triples are kept once, with the first source's provenance.

    Raises
    ------
    ConflictingDefinitionError
        If two sources give the same id different node types.

    Examples
    --------
    >>> from kg.schema import make_edges, make_nodes
    >>> a = KnowledgeGraph(make_nodes(["GO:1"], "go_term", "a", name=["x"]), make_edges([], "is_a", [], "a"))
    >>> b = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "b"), make_edges(["GO:2"], "is_a", ["GO:1"], "b"))
    >>> merged = compose([a, b])
    >>> merged.number_of_nodes(), merged.number_of_edges(), merged.nodes.loc["GO:1", "name"]
    (2, 1, 'x')
    """
    graphs = list(graphs)
    nodes = pd.concat([g.nodes for g in graphs])
    duplicated = nodes.index.duplicated(keep=False)
    if duplicated.any():
        dups = nodes[duplicated]
        types = dups.groupby(level=0)["type"].nunique()
        if (types > 1).any():
            node_id = types.index[types > 1][0]
            rows = dups.loc[[node_id], ["type", "provenance"]].to_numpy().tolist()
            msg = f"node {node_id!r} is given conflicting types by its sources: {rows}"
            raise ConflictingDefinitionError(msg)
        merged = dups.groupby(level=0, sort=False).first()
        nodes = pd.concat([nodes[~duplicated], merged])
    edges = pd.concat([g.edges for g in graphs], ignore_index=True)
    edges = edges.drop_duplicates(subset=["source", "relation", "target"], keep="first")
    meta: dict[str, Any] = {"sources": [m for g in graphs for m in g.metadata.get("sources", [])]}
    meta.update(metadata or {})
    return KnowledgeGraph(nodes, edges, meta, validate=False)
