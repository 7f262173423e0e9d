"""Export and import a :class:`~kg.graph.KnowledgeGraph` as GraphML or node-link JSON.

Both formats keep every node column of :data:`~kg.graph.NODE_COLUMNS`, the edges keyed by
relation with their provenance, and the graph metadata, so a round trip gives back the same
graph (edge order aside). Empty values (``None``/NaN) are left out of the files and read back
as ``None``; an empty list stays an empty list.

* **GraphML** (Gephi, Cytoscape, yEd) cannot hold lists: the list columns (``synonyms``,
  ``xrefs``, ``alt_ids``) and the metadata are stored as JSON strings and decoded on reading.
  Each edge's ``id`` is its relation (networkx's multigraph convention), repeated in a
  ``relation`` attribute for tools that ignore edge ids.
* **Node-link JSON** follows :func:`networkx.node_link_data` (``nodes``/``edges`` with
  ``source``, ``target`` and ``key`` = relation), so ``networkx.node_link_graph(data,
  edges="edges")`` reads it too. It is built from the tables directly, without networkx.

Every writer writes to a temporary file beside ``path`` and renames it into place, so an error
never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import networkx as nx
import pandas as pd

from kg._exceptions import ParseError
from kg._source import PathLike
from kg.graph import EDGE_COLUMNS, NODE_COLUMNS, KnowledgeGraph

__all__ = ["read_graphml", "read_node_link_json", "write_graphml", "write_node_link_json"]

logger = logging.getLogger(__name__)

#: Node columns that hold lists (JSON-encoded in GraphML).
LIST_COLUMNS: tuple[str, ...] = ("synonyms", "xrefs", "alt_ids")
_METADATA_KEY = "kgfusion_metadata"


# ------------------------------------------------------------------------------- helpers
@contextmanager
def _atomic_open(path: PathLike, mode: str) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(handle, mode, encoding=encoding) as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _node_records(kg: KnowledgeGraph) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(id, attributes)`` per node, empty values left out; warns about dropped columns."""
    extra = [c for c in kg.nodes.columns if c not in NODE_COLUMNS]
    if extra:
        logger.warning("node columns %s are not part of the KG model and are not exported", extra)
    columns = list(NODE_COLUMNS)
    table = kg.nodes[columns]
    for node_id, row in zip(table.index, table.itertuples(index=False, name=None)):
        yield node_id, {c: v for c, v in zip(columns, row) if not _is_empty(v)}


def _edge_rows(kg: KnowledgeGraph) -> Iterator[tuple[str, str, str, Any]]:
    e = kg.edges
    return zip(e["source"], e["relation"], e["target"], e["provenance"])


def _metadata_json(kg: KnowledgeGraph) -> str:
    return json.dumps(kg.metadata, default=str)  # like kg.store: paths etc. become strings


def _check_list(value: Any, column: str, node_id: str, path: PathLike) -> list[Any] | None:
    if value is None or isinstance(value, list):
        return value
    msg = f"node {node_id!r}: {column} must be a list or absent; got {value!r}"
    raise ParseError(msg, path)


# ------------------------------------------------------------------------------- GraphML
def write_graphml(kg: KnowledgeGraph, path: PathLike) -> Path:
    """Write ``kg`` to a GraphML file (atomically; an existing file is replaced).

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph to write.
    path : str or Path
        Destination file; missing parent folders are created.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from kg.graph import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "x", synonyms=[["s"], []]),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "x"))
    >>> back = read_graphml(write_graphml(kg, Path(tempfile.mkdtemp()) / "kg.graphml"))
    >>> back.nodes.loc["GO:1", "synonyms"], sorted(back.graph.edges(keys=True))
    (['s'], [('GO:2', 'GO:1', 'is_a')])
    """
    graph = nx.MultiDiGraph(**{_METADATA_KEY: _metadata_json(kg)})
    for node_id, attributes in _node_records(kg):
        for column in LIST_COLUMNS:
            if column in attributes:
                attributes[column] = json.dumps(list(attributes[column]))
        graph.add_node(node_id, **attributes)
    graph.add_edges_from(
        (s, t, r, {"relation": r} if _is_empty(p) else {"relation": r, "provenance": p})
        for s, r, t, p in _edge_rows(kg)
    )
    with _atomic_open(path, "wb") as stream:
        nx.write_graphml(graph, stream, encoding="utf-8")
    return Path(path)


def read_graphml(path: PathLike, default_type: str = "ontology_class") -> KnowledgeGraph:
    """Read a GraphML file written by :func:`write_graphml` (or by another tool).

    Parameters
    ----------
    path : str or Path
        The GraphML file.
    default_type : str
        Type of nodes without a ``type`` attribute (default: ``"ontology_class"``).

    Returns
    -------
    KnowledgeGraph

    Raises
    ------
    ParseError
        If the file is not valid GraphML, a list attribute is not a JSON list, or an edge has
        neither a ``relation`` attribute nor a string id.

    Examples
    --------
    See :func:`write_graphml`.
    """
    try:
        raw = nx.read_graphml(path, node_type=str, edge_key_type=str, force_multigraph=True)
    except (ElementTree.ParseError, nx.NetworkXError) as error:
        raise ParseError(f"not a readable GraphML file: {error}", path) from error
    metadata = raw.graph.get(_METADATA_KEY)
    if metadata:
        raw.graph = _decode_json(metadata, dict, "graph metadata", path)
    else:  # keep a foreign file's graph data, not networkx's reader defaults
        raw.graph = {
            k: v for k, v in raw.graph.items() if k not in ("node_default", "edge_default")
        }
    for node_id, data in raw.nodes(data=True):  # decode in place: no second graph
        for column in LIST_COLUMNS:
            if column in data:
                data[column] = _decode_json(data[column], list, f"node {node_id!r} {column}", path)
    graph = raw
    keyed = all(
        isinstance(k, str) and d.get("relation", k) == k
        for _, _, k, d in raw.edges(keys=True, data=True)
    )
    if not keyed:  # a foreign file: key its edges by relation
        graph = nx.MultiDiGraph()
        graph.graph.update(raw.graph)
        graph.add_nodes_from(raw.nodes(data=True))
        for u, v, key, data in raw.edges(keys=True, data=True):
            relation = data.get("relation", key if isinstance(key, str) else None)
            if not isinstance(relation, str):
                msg = f"edge {u!r} -> {v!r} has no relation (expected a 'relation' attribute or edge id)"
                raise ParseError(msg, path)
            graph.add_edge(u, v, relation, provenance=data.get("provenance"))
    return KnowledgeGraph.from_networkx(graph, default_type=default_type)


def _decode_json(text: Any, kind: type, what: str, path: PathLike) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise ParseError(
            f"{what} must be JSON-encoded {kind.__name__}; got {text!r}", path
        ) from error
    if not isinstance(value, kind):
        raise ParseError(f"{what} must be JSON-encoded {kind.__name__}; got {text!r}", path)
    return value


# ----------------------------------------------------------------------- node-link JSON
def write_node_link_json(kg: KnowledgeGraph, path: PathLike, *, indent: int | None = None) -> Path:
    """Write ``kg`` as node-link JSON (atomically; an existing file is replaced).

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph to write.
    path : str or Path
        Destination file; missing parent folders are created.
    indent : int, optional
        Pretty-print with this indent (default: compact, one line).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from kg.graph import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "x", name=["root", "child"]),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "x"))
    >>> path = write_node_link_json(kg, Path(tempfile.mkdtemp()) / "kg.json")
    >>> read_node_link_json(path).nodes.loc["GO:2", "name"]
    'child'
    """
    data = {
        "directed": True,
        "multigraph": True,
        "graph": json.loads(_metadata_json(kg)),
        "nodes": [{"id": node_id, **attributes} for node_id, attributes in _node_records(kg)],
        "edges": [
            {"source": s, "target": t, "key": r}
            if _is_empty(p)
            else {"source": s, "target": t, "key": r, "provenance": p}
            for s, r, t, p in _edge_rows(kg)
        ],
    }
    separators = (",", ":") if indent is None else None
    # one dumps + write is ~3x faster than json.dump's many small writes
    text = json.dumps(
        data, indent=indent, separators=separators, ensure_ascii=False, allow_nan=False
    )
    with _atomic_open(path, "w") as stream:
        stream.write(text)
    return Path(path)


def read_node_link_json(path: PathLike, default_type: str = "ontology_class") -> KnowledgeGraph:
    """Read node-link JSON written by :func:`write_node_link_json` or :func:`networkx.node_link_data`.

    Edges take their relation from ``key`` (or a ``relation`` field); the edge list may be
    named ``edges`` or ``links``.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    default_type : str
        Type of nodes without a ``type`` field (default: ``"ontology_class"``).

    Raises
    ------
    ParseError
        If the file is not JSON, lacks ``nodes`` or an edge list, a node has no ``id``, an edge
        has no relation or names a node that is not declared.

    Examples
    --------
    See :func:`write_node_link_json`.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except json.JSONDecodeError as error:
        raise ParseError(f"not valid JSON: {error}", path, error.lineno) from error
    links = "edges" if isinstance(data, dict) and "edges" in data else "links"
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("nodes"), list)
        or not isinstance(data.get(links), list)
    ):
        msg = "not node-link JSON: expected an object with a 'nodes' list and an 'edges' (or 'links') list"
        raise ParseError(msg, path)
    nodes = _node_table(data["nodes"], path, default_type)
    edges = _edge_table(data[links], path)
    metadata = data.get("graph") or {}
    if not isinstance(metadata, dict):
        raise ParseError(f"'graph' must be an object; got {metadata!r}", path)
    return KnowledgeGraph(nodes, edges, metadata)  # validates ids and edge endpoints


def _node_table(records: list[Any], path: PathLike, default_type: str) -> pd.DataFrame:
    bad = next(
        (r for r in records if not isinstance(r, dict) or not isinstance(r.get("id"), str)), None
    )
    if bad is not None:
        raise ParseError(f"every node must be an object with a string 'id'; got {bad!r}", path)
    columns = {c: [r.get(c) for r in records] for c in NODE_COLUMNS}
    ids = [r["id"] for r in records]
    for column in LIST_COLUMNS:
        columns[column] = [_check_list(v, column, i, path) for v, i in zip(columns[column], ids)]
    columns["type"] = [default_type if t is None else t for t in columns["type"]]
    bad = next(
        (i for i, v in zip(ids, columns["obsolete"]) if not isinstance(v, (bool, type(None)))), None
    )
    if bad is not None:
        raise ParseError(f"node {bad!r}: obsolete must be true, false or absent", path)
    columns["obsolete"] = [v is True for v in columns["obsolete"]]
    index = pd.Index(ids, name="id", dtype=object)
    nodes = pd.DataFrame({c: pd.Series(v, index=index, dtype=object) for c, v in columns.items()})
    return nodes.astype({"obsolete": bool})


def _edge_table(records: list[Any], path: PathLike) -> pd.DataFrame:
    rows = []
    for record in records:
        relation = record.get("key", record.get("relation")) if isinstance(record, dict) else None
        if not isinstance(relation, str) or "source" not in record or "target" not in record:
            msg = f"every edge needs 'source', 'target' and a string 'key' (the relation); got {record!r}"
            raise ParseError(msg, path)
        rows.append((record["source"], relation, record["target"], record.get("provenance")))
    return pd.DataFrame(rows, columns=list(EDGE_COLUMNS), dtype=object)
