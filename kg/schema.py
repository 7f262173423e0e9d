"""The node and edge tables every layer agrees on: their columns, the known node types, and the
builders :func:`make_nodes` and :func:`make_edges`.

A knowledge graph is held as two aligned tables, in the spirit of PyKEEN's mapped triples:

* ``nodes``: indexed by CURIE ``id``; columns :data:`NODE_COLUMNS`.
* ``edges``: one row per ``(source, relation, target)`` triple; columns :data:`EDGE_COLUMNS`.

Readers build these tables (and settle edges to undeclared nodes with :func:`resolve_dangling`)
before wrapping them in a :class:`~kg.graph.KnowledgeGraph`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_TYPES",
    "decode",
    "make_edges",
    "make_nodes",
    "resolve_dangling",
]

logger = logging.getLogger(__name__)

#: Columns of :attr:`KnowledgeGraph.nodes` (the index is the CURIE ``id``).
NODE_COLUMNS: tuple[str, ...] = (
    "type",
    "name",
    "namespace",
    "provenance",
    "obsolete",
    "synonyms",
    "xrefs",
    "alt_ids",
)
#: Columns of :attr:`KnowledgeGraph.edges`.
EDGE_COLUMNS: tuple[str, ...] = ("source", "relation", "target", "provenance")
#: Node types produced by the bundled readers (others are allowed).
NODE_TYPES: tuple[str, ...] = (
    "gene",
    "go_term",
    "pathway",
    "phenotype",
    "disease",
    "mirna",
    "protein",
    "ontology_class",
)


def make_nodes(
    ids: Iterable[str],
    type: str | Iterable[str],
    provenance: str | Iterable[str],
    **columns: Any,
) -> pd.DataFrame:
    """Build a node table with every column of :data:`NODE_COLUMNS`.

    Parameters
    ----------
    ids : iterable of str
        CURIE node ids.
    type : str or iterable of str
        One node type for all, or one per id.
    provenance : str or iterable of str
        Source file/release for all, or one per id.
    **columns
        Further columns of :data:`NODE_COLUMNS` (scalars broadcast); missing ones are empty.

    Examples
    --------
    >>> make_nodes(["GO:1", "GO:2"], "go_term", "mini.obo", name=["a", "b"]).loc["GO:2", "name"]
    'b'
    """
    unknown = set(columns) - set(NODE_COLUMNS)
    if unknown:
        msg = f"Unknown node columns {sorted(unknown)}; expected a subset of {NODE_COLUMNS}."
        raise ValueError(msg)
    index = pd.Index(_column(ids), name="id", dtype=object)
    data: dict[str, Any] = {"type": type, "provenance": provenance, "obsolete": False, **columns}
    frame = pd.DataFrame(index=index)
    for column in NODE_COLUMNS:
        value = data.get(column)
        # scalars broadcast; list-valued columns (synonyms, ...) are given one list per id
        frame[column] = value if value is None or isinstance(value, (str, bool)) else _column(value)
    return frame.astype(object).astype({"obsolete": bool})


def make_edges(
    source: Iterable[str],
    relation: str | Iterable[str],
    target: Iterable[str],
    provenance: str | Iterable[str],
) -> pd.DataFrame:
    """Build an edge table with the columns of :data:`EDGE_COLUMNS`.

    Examples
    --------
    >>> make_edges(["GO:2"], "is_a", ["GO:1"], "mini.obo").iloc[0].tolist()
    ['GO:2', 'is_a', 'GO:1', 'mini.obo']
    """
    frame = pd.DataFrame({"source": _column(source)}, dtype=object)
    # scalars broadcast; iterables are taken positionally (never aligned on a pandas index)
    frame["relation"] = relation if isinstance(relation, str) else _column(relation)
    frame["target"] = _column(target)
    frame["provenance"] = provenance if isinstance(provenance, str) else _column(provenance)
    return frame.astype(object)


def _column(values: Iterable[Any]) -> np.ndarray | list[Any]:
    """Values as a positional column: pandas objects by their array (no index alignment)."""
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=object)
    return values if isinstance(values, np.ndarray) else list(values)


def decode(codes: np.ndarray, uniques: np.ndarray | pd.Index) -> np.ndarray:
    """Object array of factorized values (``None`` for code -1); rows share the unique strings."""
    return np.append(np.asarray(uniques, dtype=object), None)[codes]


def resolve_dangling(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    on_dangling: str,
    provenance: str,
    error: Callable[[pd.DataFrame], Exception],
    source: object = "graph",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Handle edges whose target is not a node, as a reader's ``on_dangling`` option says.

    ``"raise"`` raises ``error(dangling_edges)`` (the reader knows how to name the file and
    line); ``"drop"`` removes those edges (logged); ``"add"`` creates placeholder nodes named by
    their id, typed like the edge's source (logged).
    """
    dangling = ~edges["target"].isin(nodes.index)
    if not dangling.any():
        return nodes, edges
    if on_dangling == "raise":
        raise error(edges[dangling])
    if on_dangling == "drop":
        logger.warning("%s: dropped %d edge(s) to undeclared nodes", source, int(dangling.sum()))
        return nodes, edges[~dangling].reset_index(drop=True)
    added = edges[dangling].drop_duplicates("target")
    placeholders = make_nodes(
        added["target"],
        nodes.loc[added["source"], "type"].to_numpy(),
        provenance,
        name=added["target"],
    )
    logger.info("%s: added %d placeholder node(s) for undeclared nodes", source, len(placeholders))
    return pd.concat([nodes, placeholders]), edges
