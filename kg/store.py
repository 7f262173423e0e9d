"""Save and load knowledge graphs as Parquet tables plus JSON metadata (no pickle).

A saved graph is a folder holding ``nodes.parquet``, ``edges.parquet`` and ``metadata.json``.
Edges are stored compactly: ``source``/``target`` as int32 row numbers of ``nodes.parquet`` and
``relation``/``provenance`` dictionary-encoded, so loading maps them back to ids with array
takes instead of creating a Python string per edge end. Loading executes no code from the files,
so a graph from an untrusted source is safe to open. Writes go to a temporary sibling folder
that is renamed into place, so a failed or interrupted save never leaves a half-written graph.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kg._exceptions import DanglingReferenceError, ParseError
from kg._source import PathLike, gc_paused
from kg.graph import NODE_COLUMNS, KnowledgeGraph, decode

__all__ = ["save_kg", "load_kg", "FORMAT_VERSION"]

#: Bumped whenever the on-disk layout changes; older folders are rejected with a clear message.
FORMAT_VERSION = 2
_FILES = ("nodes.parquet", "edges.parquet", "metadata.json")
_LIST_COLUMNS = ("synonyms", "xrefs", "alt_ids")


def save_kg(kg: KnowledgeGraph, path: PathLike) -> Path:
    """Write ``kg`` to the folder ``path`` atomically (replacing an existing saved graph).

    Raises
    ------
    DanglingReferenceError
        If an edge names a node that is not in the node table.

    Examples
    --------
    >>> import tempfile, kg
    >>> small = kg.read_obo("tests/data/mini.obo")
    >>> folder = save_kg(small, Path(tempfile.mkdtemp()) / "mini.kg")
    >>> load_kg(folder).number_of_edges() == small.number_of_edges()
    True
    """
    path = Path(path)
    edges = _coded_edges(kg)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        kg.nodes.reset_index().to_parquet(staging / "nodes.parquet", index=False)
        edges.to_parquet(staging / "edges.parquet", index=False)
        metadata = {"format_version": FORMAT_VERSION, **kg.metadata}
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=1, default=str))
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def load_kg(path: PathLike) -> KnowledgeGraph:
    """Read a graph written by :func:`save_kg`.

    Raises
    ------
    ParseError
        If the folder lacks one of its files, a table is unreadable, or it was written by an
        incompatible version.
    """
    path = Path(path)
    missing = [name for name in _FILES if not (path / name).is_file()]
    if missing:
        msg = f"not a saved knowledge graph: missing {missing}; write one with `kgfusion kg build -o`"
        raise ParseError(msg, path)
    try:
        metadata = json.loads((path / "metadata.json").read_text())
    except json.JSONDecodeError as error:
        raise ParseError(f"metadata is not JSON: {error.msg}", path / "metadata.json", error.lineno) from None
    version = metadata.pop("format_version", None)
    if version != FORMAT_VERSION:
        msg = f"saved with format version {version}, this kgfusion reads {FORMAT_VERSION}; rebuild it"
        raise ParseError(msg, path)
    try:
        table = pq.read_table(path / "nodes.parquet")
        coded = pd.read_parquet(path / "edges.parquet")
    except pa.ArrowException as error:
        raise ParseError(f"unreadable saved graph table: {error}", path) from None
    with gc_paused():  # hundreds of thousands of strings and lists, no reference cycles
        # object columns (not pandas' inferred str dtype), as the readers build them; lists as lists
        columns = {c: table.column(c).to_numpy(zero_copy_only=False) for c in table.column_names if c not in _LIST_COLUMNS}
        columns.update({c: table.column(c).to_pylist() for c in _LIST_COLUMNS})
        index = pd.Index(columns.pop("id"), dtype=object, name="id")
        nodes = pd.DataFrame(columns, index=index, columns=list(NODE_COLUMNS), dtype=object).astype({"obsolete": bool})
        source, target = coded["source"].to_numpy(), coded["target"].to_numpy()
        relation, provenance = (decode(coded[c].cat.codes, coded[c].cat.categories) for c in ("relation", "provenance"))
        return KnowledgeGraph.from_rows(nodes, source, relation, target, provenance, metadata)


def _coded_edges(kg: KnowledgeGraph) -> pd.DataFrame:
    """Edges with endpoints as int32 node row numbers and dictionary-encoded strings."""
    coded = {}
    for end, rows in zip(("source", "target"), kg.edge_rows):
        if (rows < 0).any():
            missing = kg.edges[end][rows < 0]
            msg = f"cannot save: {len(missing)} edge {end}(s) are not nodes, e.g. {missing.head(3).tolist()}"
            raise DanglingReferenceError(msg)
        coded[end] = rows.astype(np.int32)
    return pd.DataFrame(
        {
            "source": coded["source"],
            "relation": pd.Categorical(kg.edges["relation"]),
            "target": coded["target"],
            "provenance": pd.Categorical(kg.edges["provenance"]),
        }
    )
