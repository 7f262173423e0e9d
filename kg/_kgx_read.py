"""Read KGX TSV (ours or others': Monarch, RTX-KG2, BioCypher) into a :class:`KnowledgeGraph`;
:func:`read_kgx` is exported by :mod:`kg.kgx`."""

from __future__ import annotations

import csv
import gzip
import logging
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kg._exceptions import ConflictingDefinitionError, DanglingReferenceError, ParseError
from kg._source import PathLike
from kg.biolink import NAMESPACE_OF_CATEGORY, RELATION_OF_PREDICATE, TYPES_OF_CATEGORY
from kg.graph import KnowledgeGraph
from kg.schema import make_nodes

__all__ = ["kgx_files", "read_kgx"]

logger = logging.getLogger("kg.kgx")

#: KGX list columns → kgfusion node columns.
_LISTS = {"synonym": "synonyms", "xref": "xrefs", "kgfusion_alt_ids": "alt_ids"}


def read_kgx(
    folder: PathLike,
    *,
    default_type: str = "named_thing",
    on_dangling: Literal["raise", "drop", "add"] = "raise",
) -> KnowledgeGraph:
    """Read a KGX TSV graph (``nodes.tsv`` / ``edges.tsv``, or one ``*nodes.tsv[.gz]`` and one
    ``*edges.tsv[.gz]`` as Monarch names them) into a :class:`KnowledgeGraph`.

    Files written by :func:`~kg.kgx.write_kgx` come back as they were written (their ``kgfusion_*``
    columns). In others, a node's type is that of its first category in
    :data:`kg.biolink.TYPES_OF_CATEGORY` (a multivalued ``category`` is split on ``|``; nodes with none
    known get ``default_type``, counted in a log message), a GO category also sets the
    ``namespace``, and a predicate becomes a relation as :data:`kg.biolink.PREDICATES` says (an unlisted
    ``biolink:x`` becomes ``x``). Provenance is ``kgfusion_provenance``, else
    ``primary_knowledge_source`` (edges) or ``provided_by`` (nodes), else the file name.

    Parameters
    ----------
    folder : str or Path
        Folder with the two files.
    default_type : str
        Type of nodes whose categories name no kgfusion type (default: ``"named_thing"``).
    on_dangling : {"raise", "drop", "add"}
        Edges naming a node that ``nodes.tsv`` lacks: raise, drop them (logged) or add
        placeholder nodes of ``default_type`` (default: ``"raise"``).

    Raises
    ------
    ParseError
        A missing file or required column, an empty required value, or a row with the wrong
        number of fields (the file and line are named).
    ConflictingDefinitionError
        A node id listed twice.
    DanglingReferenceError
        With ``on_dangling="raise"``, an edge to an unlisted node (names its line).

    Examples
    --------
    See :func:`~kg.kgx.write_kgx`.
    """
    if on_dangling not in ("raise", "drop", "add"):
        msg = f"The 'on_dangling' parameter of read_kgx must be 'raise', 'drop' or 'add'. Got {on_dangling!r} instead."
        raise ValueError(msg)
    node_path, edge_path = kgx_files(Path(folder))
    nodes = _read_nodes(node_path, default_type)
    edges = _read_edges(edge_path)
    ends = pd.concat([edges["source"], edges["target"]], ignore_index=True)
    missing = ~ends.isin(nodes.index)
    if missing.any():
        dangling = missing.to_numpy().reshape(2, -1).any(axis=0)
        if on_dangling == "raise":
            line = int(np.flatnonzero(dangling)[0]) + 2
            node = ends[missing].iloc[0]
            msg = f"edge names node {node!r}, which {node_path.name} does not list; {int(dangling.sum())} edge(s) dangle (on_dangling='drop' or 'add' reads them anyway)"
            raise DanglingReferenceError(msg, edge_path, line)
        if on_dangling == "drop":
            logger.warning(
                "%s: dropped %d edge(s) to unlisted nodes", edge_path, int(dangling.sum())
            )
            edges = edges[~dangling]
        else:
            extra = pd.Index(ends[missing].unique(), dtype=object)
            logger.info("%s: added %d placeholder node(s)", edge_path, len(extra))
            nodes = pd.concat([nodes, make_nodes(extra, default_type, edge_path.name)])
    return KnowledgeGraph(nodes, edges.reset_index(drop=True))


def kgx_files(folder: PathLike) -> tuple[Path, Path]:
    """The nodes and edges files of a KGX folder (see :func:`read_kgx`).

    Raises
    ------
    ParseError
        If ``folder`` is not a folder or holds no (or several) nodes or edges files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParseError("expected a folder holding KGX nodes.tsv and edges.tsv", folder)
    found = []
    for kind in ("nodes", "edges"):
        exact = folder / f"{kind}.tsv"
        matches = [exact] if exact.is_file() else sorted(folder.glob(f"*{kind}.tsv*"))
        matches = [m for m in matches if m.name.endswith((".tsv", ".tsv.gz"))]
        if len(matches) != 1:
            msg = f"expected one KGX {kind} file ({kind}.tsv or *{kind}.tsv[.gz]); found {[m.name for m in matches]}"
            raise ParseError(msg, folder)
        found.append(matches[0])
    return found[0], found[1]


def _read_table(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():  # more fields than the header in the first row
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(
                path,
                sep="\t",
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                quoting=csv.QUOTE_NONE,
                lineterminator="\n",
                index_col=False,
            )
    except pd.errors.ParserWarning:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as stream:
            width = stream.readline().count("\t")
            line = next((n for n, text in enumerate(stream, 2) if text.count("\t") > width), None)
        msg = f"a row has more fields than the {width + 1} of the header"
        raise ParseError(msg, path, line) from None
    except pd.errors.EmptyDataError:
        raise ParseError("empty file; a KGX TSV starts with a header line", path, 1) from None
    except pd.errors.ParserError as error:
        found = re.search(r"line (\d+)", str(error))
        line = int(found.group(1)) if found else None
        raise ParseError(f"not a KGX TSV table: {error}", path, line) from error
    missing = [c for c in required if c not in table.columns]
    if missing:
        msg = f"missing KGX column(s) {missing}; the header has {list(table.columns)}"
        raise ParseError(msg, path, 1)
    for column in required:
        empty = table[column].isna().to_numpy()
        if empty.any():
            msg = f"empty {column!r}; every KGX row needs one"
            raise ParseError(msg, path, int(np.flatnonzero(empty)[0]) + 2)
    table = table.astype(object)
    return table.where(table.notna(), None)


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table.columns:
        return table[name]
    return pd.Series([None] * len(table), index=table.index, dtype=object)


def _split(values: pd.Series) -> list[list[str] | None]:
    return [None if v is None else v.split("|") for v in values]


def _read_nodes(path: Path, default_type: str) -> pd.DataFrame:
    table = _read_table(path, ("id", "category"))
    duplicated = table["id"].duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        msg = f"node {table['id'].iloc[row]!r} is listed twice"
        raise ConflictingDefinitionError(msg, path, row + 2)
    categories = [
        [c if ":" in c else f"biolink:{c}" for c in value.split("|") if c]
        for value in table["category"]
    ]
    known = [next((c for c in cs if c in TYPES_OF_CATEGORY), None) for cs in categories]
    given_type = _column(table, "kgfusion_type")
    types = [
        t if t is not None else TYPES_OF_CATEGORY.get(k, default_type)
        for t, k in zip(given_type, known)
    ]
    unknown = Counter(
        cs[0] for t, k, cs in zip(given_type, known, categories) if t is None and k is None and cs
    )
    if unknown:
        listed = ", ".join(f"{c}: {n}" for c, n in unknown.most_common(5))
        logger.info(
            "%s: %d node(s) typed %r, their categories naming no kgfusion type (%s)",
            path,
            sum(unknown.values()),
            default_type,
            listed,
        )
    namespace = _column(table, "kgfusion_namespace")
    if "kgfusion_type" not in table.columns:
        namespace = pd.Series([NAMESPACE_OF_CATEGORY.get(k) for k in known], dtype=object)
    provenance = _column(table, "kgfusion_provenance")
    provenance = provenance.where(provenance.notna(), _column(table, "provided_by")).fillna(
        path.name
    )
    deprecated = _column(table, "deprecated").fillna("false").str.lower()
    bad = ~deprecated.isin(["true", "false"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"deprecated must be true or false; got {table['deprecated'].iloc[row]!r}"
        raise ParseError(msg, path, row + 2)
    nodes = make_nodes(
        table["id"],
        types,
        provenance,
        name=_column(table, "name"),
        namespace=namespace,
        obsolete=(deprecated == "true").to_numpy(),
        **{ours: _split(_column(table, theirs)) for theirs, ours in _LISTS.items()},
    )
    return nodes


def _read_edges(path: Path) -> pd.DataFrame:
    table = _read_table(path, ("subject", "predicate", "object"))
    relation = _column(table, "kgfusion_relation")
    from_predicate = table["predicate"].map(
        lambda p: RELATION_OF_PREDICATE.get(p, p.removeprefix("biolink:"))
    )
    provenance = _column(table, "kgfusion_provenance")
    provenance = provenance.where(provenance.notna(), _column(table, "primary_knowledge_source"))
    return pd.DataFrame(
        {
            "source": table["subject"],
            "relation": relation.where(relation.notna(), from_predicate),
            "target": table["object"],
            "provenance": provenance.fillna(path.name),
        },
        dtype=object,
    )
