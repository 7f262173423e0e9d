"""Shared plumbing of the table readers: pyarrow/pandas CSV reading with physical line numbers,
and the checks whose errors name the file, line and column (:mod:`kg.tables`,
:mod:`kg.gene_annotations`, :mod:`kg.gene_sets`).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from kg._exceptions import ConflictingDefinitionError, ParseError
from kg._source import PathLike
from kg._textio import decode_text, excerpt, read_bytes, read_lines
from kg.graph import KnowledgeGraph, make_edges, make_nodes

__all__ = [
    "OnUnknown",
    "annotation_graph",
    "check_names",
    "check_option",
    "check_values",
    "entrez_curies",
    "log_dropped",
    "not_entrez",
    "read_headerless",
    "read_table",
    "require_columns",
    "require_lines",
    "split_fields",
]

logger = logging.getLogger("kg.tables")  # all table readers log as kg.tables

OnUnknown = Literal["raise", "drop"]


def annotation_graph(
    frame: pd.DataFrame,
    source_type: str,
    target_type: str,
    provenance: str,
    fmt: str,
    path: PathLike,
) -> KnowledgeGraph:
    """Graph of an annotation table with columns ``source, relation, target[, source_name, target_name]``."""
    frame = frame.drop_duplicates(subset=["source", "relation", "target"])
    ends = []
    for end, node_type in (("source", source_type), ("target", target_type)):
        names = f"{end}_name"
        first = frame.drop_duplicates(end)
        ends.append(make_nodes(first[end], node_type, provenance, name=first.get(names)))
    edges = make_edges(frame["source"], frame["relation"], frame["target"], provenance)
    metadata = {"sources": [{"path": str(path), "format": fmt, "provenance": provenance}]}
    nodes = pd.concat(ends)
    nodes = nodes[~nodes.index.duplicated()]  # a node at both ends (gene → gene tables)
    return KnowledgeGraph(nodes, edges, metadata, validate=False)


def read_table(path: PathLike, sep: str, encoding: str = "utf-8") -> pd.DataFrame:
    """A delimited table with a header line, all columns strings (pandas' pyarrow engine),
    indexed by line number like :func:`~kg._textio.read_lines` (blank lines counted).

    Raises
    ------
    ParseError
        A file that is not UTF-8 text (or a corrupt gzip stream), an empty file, or a row whose
        field count differs from the header's (names the line).
    """
    raw = read_bytes(path)
    text = decode_text(raw, path)
    try:
        # only empty fields are missing: ids such as "NA" or "null" stay strings; the bytes go in
        # as an arrow buffer, not a Python file object, which an arrow I/O thread would release
        # during interpreter exit after an early error (abort: "terminate called ...")
        table = pd.read_csv(
            pa.BufferReader(raw),
            sep=sep,
            dtype=str,
            engine="pyarrow",
            encoding=encoding,
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.EmptyDataError:
        raise ParseError("empty file; expected a table with a header line", path, 1) from None
    except pd.errors.ParserError as error:
        lines = read_lines(path)
        counts = lines.str.count(sep)
        ragged = counts != counts.iloc[0]
        line = int(ragged.idxmax()) if ragged.any() else None
        msg = (
            f"malformed table ({excerpt(str(error), 160)}); every row needs as many "
            f"{sep!r}-separated fields as the header"
        )
        raise ParseError(msg, path, line) from None
    table.columns = [c.lstrip("#") for c in table.columns]
    table.index = row_lines(text, len(table))
    return table


def row_lines(text: str, rows: int) -> pd.Index:
    """Line numbers of the ``rows`` data rows of a table with a header line.

    The parser skips empty lines (``\n``, ``\r\n``); rows are numbered past the header unless
    the text has such lines, in which case the numbers of the non-empty lines are used, so that
    errors name the physical line. A quoted field spanning lines keeps the row count.
    """
    if not (text.startswith(("\n", "\r\n")) or "\n\n" in text or "\n\r\n" in text):
        return pd.RangeIndex(2, rows + 2)
    lines = pd.Series(text.split("\n"), dtype=str)
    numbers = lines.index[~lines.isin(["", "\r"])] + 1
    if len(numbers) != rows + 1:  # a quoted field spans lines: count rows past the header
        return pd.RangeIndex(int(numbers[0]) + 1, int(numbers[0]) + 1 + rows)
    return pd.Index(numbers[1:])


def require_lines(path: PathLike, lines: pd.Series, expected: str) -> None:
    """Refuse a line-oriented file without data lines (empty, blank or comments only)."""
    if lines.empty:
        raise ParseError(
            f"no data lines (the file is empty, blank or comments only); expected {expected}", path
        )


def read_headerless(path: PathLike, columns: list[str], **options: object) -> pd.DataFrame:
    """A tab-separated table without header, all columns strings (pandas' C engine)."""
    raw = read_bytes(path)
    decode_text(raw, path)  # refuses UTF-16/UTF-32, bytes that are not UTF-8 and NUL bytes
    try:
        return pd.read_csv(
            pa.BufferReader(raw), sep="\t", header=None, names=columns, dtype=str, **options
        )
    except pd.errors.ParserError as error:
        raise ParseError(f"malformed table ({excerpt(str(error), 160)})", path) from None


def require_columns(path: PathLike, table: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = sorted(set(columns) - set(table.columns))
    if missing:
        msg = f"{what} lacks columns {missing}; found {list(table.columns)}"
        raise ParseError(msg, path, 1)


def split_fields(lines: pd.Series, names: list[str]) -> pd.DataFrame:
    """Split tab-separated ``lines`` into the columns ``names`` (the last one keeps the rest)."""
    fields = lines.str.split("\t", n=len(names) - 1, expand=True)
    fields = fields.reindex(columns=range(len(names))).astype(str)  # absent columns: missing str
    fields.columns = names
    return fields


def not_entrez(values: pd.Series) -> pd.Series:
    """Where a column of Entrez ids holds something else than an integer (or nothing)."""
    return ~values.str.strip().str.fullmatch(r"\d+").astype(bool)


def entrez_curies(path: PathLike, table: pd.DataFrame, column: str) -> pd.Series:
    """``NCBIGene:<id>`` of an Entrez id column; a value that is not an integer raises ParseError."""
    check_values(path, table, not_entrez(table[column]), column, "an integer id")
    return "NCBIGene:" + table[column].str.strip()


def log_dropped(path: PathLike, values: pd.Series, what: str) -> dict[str, Any]:
    """Log how many rows (``values`` indexed by line number) were dropped, and the first lines.

    Returns ``{"rows": count, "lines": [line numbers]}``, for the source's build metadata.
    """
    lines = [int(line) for line in pd.unique(values.index)]
    if len(values):
        shown = ", ".join(map(str, lines[:5]))
        examples = [excerpt(v) if isinstance(v, str) else "<empty>" for v in values.head(3)]
        logger.warning(
            "%s: dropped %d %s, e.g. %s (line(s) %s)", path, len(values), what, examples, shown
        )
    return {"rows": len(values), "lines": lines}


def check_option(function: str, name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        choices = ", ".join(map(repr, allowed))
        msg = (
            f"The {name!r} parameter of {function} must be one of {choices}. Got {value!r} instead."
        )
        raise ValueError(msg)


def check_names(path: PathLike, ids: pd.Series, names: pd.Series | None) -> None:
    """Raise :class:`ConflictingDefinitionError` naming the line where an id that the file named
    before gets a different name (e.g. one Entrez id with two symbols)."""
    if names is None:
        return
    pairs = pd.DataFrame({"id": ids, "name": names}).dropna().drop_duplicates()
    clash = pairs["id"].duplicated()
    if clash.any():
        line = clash.index[int(clash.to_numpy().argmax())]
        node = pairs["id"][clash].iloc[0]
        seen = pairs.loc[pairs["id"] == node, "name"].tolist()
        raise ConflictingDefinitionError(
            f"id {node!r} is given conflicting names {seen}", path, int(line)
        )


def check_values(
    path: PathLike, table: pd.DataFrame, bad: pd.Series, column: str, expected: str
) -> None:
    """Raise a :class:`ParseError` naming the line (index label) of the first row where ``bad`` holds."""
    if bad.any():
        line = bad.index[int(bad.to_numpy().argmax())]
        value = table[column][line]
        shown = repr(excerpt(value)) if isinstance(value, str) else "an empty cell"
        msg = f"column {column!r} holds {shown}; expected {expected} ({int(bad.sum())} bad row(s))"
        raise ParseError(msg, path, int(line))
