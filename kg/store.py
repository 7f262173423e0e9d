"""Save and load knowledge graphs as Parquet tables plus JSON metadata (no pickle).

A saved graph is a folder holding ``nodes.parquet``, ``edges.parquet`` and ``metadata.json``.
Edges are stored compactly: ``source``/``target`` as int32 row numbers of ``nodes.parquet`` and
``relation``/``provenance`` dictionary-encoded, so loading maps them back to ids with array
takes instead of creating a Python string per edge end. Loading executes no code from the files,
so a graph from an untrusted source is safe to open.

``metadata.json`` records the SHA-256 of both tables and of the metadata itself, and loading
checks them before parsing anything, so a damaged or edited file is an error naming it, never a
different graph. Writes go to a unique temporary sibling folder that is renamed into place, so a
failed or interrupted save never leaves a half-written graph, and concurrent writers of the same
folder never see each other's partial files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kg._exceptions import DanglingReferenceError, ForeignFolderError, ParseError
from kg._source import PathLike, gc_paused, sha256_of
from kg.folders import swap_in
from kg.graph import NODE_COLUMNS, KnowledgeGraph, decode

__all__ = ["FORMAT_VERSION", "discard", "load_kg", "read_metadata", "save_kg", "save_new"]

#: Bumped whenever the on-disk layout changes; older folders are rejected with a clear message.
FORMAT_VERSION = 3
_FILES = ("nodes.parquet", "edges.parquet", "metadata.json")
_TABLES = ("nodes.parquet", "edges.parquet")
_CHECKSUMS = "checksums"  # key of metadata.json holding the SHA-256 of each table and the rest
_LIST_COLUMNS = ("synonyms", "xrefs", "alt_ids")


def save_kg(kg: KnowledgeGraph, path: PathLike) -> Path:
    """Write ``kg`` to the folder ``path`` atomically (replacing an existing saved graph).

    An existing saved graph at ``path`` is moved aside, the new one renamed in, then the old
    one deleted, so an interruption leaves one complete graph there.

    Raises
    ------
    DanglingReferenceError
        If an edge names a node that is not in the node table.
    ForeignFolderError
        If ``path`` exists and is not a saved graph (nor an empty folder); it is left untouched.

    Examples
    --------
    >>> import tempfile, kg
    >>> small = kg.read_obo("tests/data/mini.obo")
    >>> folder = save_kg(small, Path(tempfile.mkdtemp()) / "mini.kg")
    >>> load_kg(folder).number_of_edges() == small.number_of_edges()
    True
    """
    path = Path(path)
    staging = _stage(kg, path)
    try:
        if path.exists() or path.is_symlink():
            _check_replaceable(path)
        swap_in(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def save_new(kg: KnowledgeGraph, path: PathLike) -> bool:
    """Write ``kg`` to the folder ``path`` unless it exists; for content-addressed caches.

    The graph is written into a unique temporary sibling and renamed into place in one step.
    When another writer got there first (the folder exists), its folder is kept and this one's
    discarded: for a content-addressed entry both hold the same graph.

    Returns
    -------
    bool
        Whether this call wrote the folder.
    """
    path = Path(path)
    staging = _stage(kg, path)
    try:
        os.rename(staging, path)  # fails (ENOTEMPTY/EEXIST) when another writer won
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if path.is_dir():
            return False
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return True


def discard(path: PathLike) -> None:
    """Remove a saved-graph folder: rename it aside (one atomic step), then delete it.

    Safe when several processes discard the same folder at once; a missing folder is fine.
    """
    path = Path(path)
    trash = path.with_name(f".{path.name}.trash-{uuid.uuid4().hex}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def _stage(kg: KnowledgeGraph, path: Path) -> Path:
    """Write the graph's files into a new unique folder beside ``path``; return that folder."""
    edges = _coded_edges(kg)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        kg.nodes.reset_index().to_parquet(staging / "nodes.parquet", index=False)
        edges.to_parquet(staging / "edges.parquet", index=False)
        metadata = json.loads(json.dumps(kg.metadata, default=str))
        checksums = {name: sha256_of(staging / name) for name in _TABLES}
        checksums["metadata.json"] = _metadata_digest(metadata)
        record = {"format_version": FORMAT_VERSION, _CHECKSUMS: checksums, **metadata}
        (staging / "metadata.json").write_text(json.dumps(record, indent=1))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _check_replaceable(path: Path) -> None:
    """Refuse to replace anything but a saved graph (possibly damaged) or an empty folder."""
    entries = sorted(p.name for p in path.iterdir()) if path.is_dir() else None
    if entries is None or not set(entries) <= set(_FILES):
        what = "is not a folder" if entries is None else f"holds {entries[:3]}"
        msg = (
            f"refusing to replace {path}: it {what}, not a saved knowledge graph; "
            "choose another output folder or remove it yourself"
        )
        raise ForeignFolderError(msg)


def _metadata_digest(metadata: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(metadata, sort_keys=True).encode()).hexdigest()


def load_kg(path: PathLike) -> KnowledgeGraph:
    """Read a graph written by :func:`save_kg`.

    Raises
    ------
    ParseError
        If the folder lacks one of its files, a file does not match its recorded checksum, a
        table is unreadable, or it was written by an incompatible version (see
        :func:`read_metadata`).
    """
    path = Path(path)
    metadata = read_metadata(path)
    try:
        table = pq.read_table(path / "nodes.parquet")
        coded = pd.read_parquet(path / "edges.parquet")
    except (pa.ArrowException, OSError) as error:
        raise ParseError(f"unreadable saved graph table: {error}", path) from None
    with gc_paused():  # hundreds of thousands of strings and lists, no reference cycles
        # object columns (not pandas' inferred str dtype), as the readers build them; lists as lists
        columns = {
            c: table.column(c).to_numpy(zero_copy_only=False)
            for c in table.column_names
            if c not in _LIST_COLUMNS
        }
        columns.update({c: table.column(c).to_pylist() for c in _LIST_COLUMNS})
        index = pd.Index(columns.pop("id"), dtype=object, name="id")
        nodes = pd.DataFrame(columns, index=index, columns=list(NODE_COLUMNS), dtype=object).astype(
            {"obsolete": bool}
        )
        source, target = coded["source"].to_numpy(), coded["target"].to_numpy()
        # an edgeless graph's empty dictionary columns come back with a null type, not category
        relation, provenance = (
            decode(codes.cat.codes, codes.cat.categories)
            for codes in (coded[c].astype("category") for c in ("relation", "provenance"))
        )
        return KnowledgeGraph.from_rows(nodes, source, relation, target, provenance, metadata)


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The metadata of a saved graph folder, after checking its format version and checksums.

    Raises
    ------
    ParseError
        If a file is missing, ``metadata.json`` is not JSON, the folder was written by an
        incompatible version, or a file does not match the checksum recorded when it was saved
        (it was damaged or edited); the message names the file.
    """
    path = Path(path)
    missing = [name for name in _FILES if not (path / name).is_file()]
    if missing:
        msg = (
            f"not a saved knowledge graph: missing {missing}; write one with `kgfusion kg build -o`"
        )
        raise ParseError(msg, path)
    try:
        metadata = json.loads((path / "metadata.json").read_bytes())
    except json.JSONDecodeError as error:
        msg = f"metadata is not JSON: {error.msg}"
        raise ParseError(msg, path / "metadata.json", error.lineno) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ParseError(f"unreadable metadata: {error}", path / "metadata.json") from None
    version = metadata.pop("format_version", None) if isinstance(metadata, dict) else None
    if version != FORMAT_VERSION:
        msg = (
            f"saved with format version {version}, this kgfusion reads {FORMAT_VERSION}; rebuild it"
        )
        raise ParseError(msg, path)
    checksums = metadata.pop(_CHECKSUMS, None)
    if not isinstance(checksums, dict):
        raise ParseError(f"metadata records no {_CHECKSUMS!r}; rebuild it", path / "metadata.json")
    try:
        found = {name: sha256_of(path / name) for name in _TABLES}
    except OSError as error:
        raise ParseError(f"unreadable saved graph table: {error}", path) from None
    found["metadata.json"] = _metadata_digest(metadata)
    for name, digest in found.items():
        if checksums.get(name) != digest:
            msg = (
                f"unreadable saved graph table: {name} does not match the SHA-256 recorded when it "
                "was saved (the file is damaged or was changed); rebuild the graph"
            )
            raise ParseError(msg, path / name)
    return metadata


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
