"""Save and load knowledge graphs as Parquet tables plus JSON metadata (no pickle).

A saved graph is a folder holding ``nodes.parquet``, ``edges.parquet`` and ``metadata.json``.
Loading executes no code from the files, so a graph from an untrusted source is safe to open.
Writes go to a temporary sibling folder that is renamed into place, so a failed or interrupted
save never leaves a half-written graph behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from kg._exceptions import ParseError
from kg._source import PathLike
from kg.graph import EDGE_COLUMNS, NODE_COLUMNS, KnowledgeGraph

__all__ = ["save_kg", "load_kg", "FORMAT_VERSION"]

#: Bumped whenever the on-disk layout changes; older folders are rejected with a clear message.
FORMAT_VERSION = 1
_FILES = ("nodes.parquet", "edges.parquet", "metadata.json")


def save_kg(kg: KnowledgeGraph, path: PathLike) -> Path:
    """Write ``kg`` to the folder ``path`` atomically (replacing an existing saved graph).

    Examples
    --------
    >>> import tempfile, kg
    >>> small = kg.read_obo("tests/data/mini.obo")
    >>> folder = save_kg(small, Path(tempfile.mkdtemp()) / "mini.kg")
    >>> load_kg(folder).number_of_edges() == small.number_of_edges()
    True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        kg.nodes.reset_index().to_parquet(staging / "nodes.parquet", index=False)
        kg.edges.to_parquet(staging / "edges.parquet", index=False)
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
        If the folder lacks one of its files or was written by an incompatible version.
    """
    path = Path(path)
    missing = [name for name in _FILES if not (path / name).is_file()]
    if missing:
        msg = f"not a saved knowledge graph: missing {missing}; write one with `kgfusion kg build -o`"
        raise ParseError(msg, path)
    metadata = json.loads((path / "metadata.json").read_text())
    version = metadata.pop("format_version", None)
    if version != FORMAT_VERSION:
        msg = f"saved with format version {version}, this kgfusion reads {FORMAT_VERSION}; rebuild it"
        raise ParseError(msg, path)
    nodes = pd.read_parquet(path / "nodes.parquet").set_index("id")
    for column in ("synonyms", "xrefs", "alt_ids"):  # parquet gives arrays; the model holds lists
        nodes[column] = [v.tolist() if v is not None else None for v in nodes[column]]
    edges = pd.read_parquet(path / "edges.parquet")
    return KnowledgeGraph(nodes[list(NODE_COLUMNS)], edges[list(EDGE_COLUMNS)], metadata, validate=False)
