"""Pure parsing helpers for :mod:`fusion.data.io`: read a table, check it cell by cell.

Every error is a :class:`~fusion.DataFileError` naming the file and the 1-based physical line
(for Parquet: record) of the cell at fault, with the sample id and column where known; blank
lines are skipped and counted (see :mod:`fusion.data._text`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from fusion._exceptions import DataFileError
from fusion.data._checks import excerpt, show
from fusion.data._text import read_text, records

__all__ = [
    "Table",
    "check_unique",
    "guess_id_scheme",
    "numeric_block",
    "read_headerless",
    "read_table",
]

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".pq")
_TSV = (".tsv", ".txt", ".tab")
_COMPRESSION = (".gz", ".bz2", ".xz", ".zip")


class Table(NamedTuple):
    """A parsed table: the frame, the physical line of each row, the line of the header."""

    frame: pd.DataFrame
    lines: np.ndarray
    header: int


def _sep(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in _COMPRESSION]
    return "\t" if suffixes and suffixes[-1] in _TSV else ","


class Loaded(NamedTuple):
    """A file's text without blank lines, the line map of :func:`records`, and the text's UTF-8
    bytes when it is the file unchanged (pandas parses bytes faster than text)."""

    text: str
    starts: np.ndarray | None
    data: bytes | None


def _load(path: Path) -> Loaded:
    text, raw = read_text(path)
    cleaned, starts = records(text, _sep(path))
    return Loaded(cleaned, starts, raw if starts is None else None)


def _read_csv(path: Path, header: bool, loaded: Loaded | None = None, **kwargs: object) -> Table:
    """Parse a CSV/TSV; blank lines are skipped and rows keep their physical line numbers."""
    sep = _sep(path)
    text, starts, data = loaded if loaded is not None else _load(path)

    def line(record: int) -> int:  # 0-based record of ``text`` -> physical line
        if starts is None or not len(starts):
            return record + 1
        return int(starts[min(max(record, 0), len(starts) - 1)])

    source = io.StringIO(text) if data is None else io.BytesIO(data)
    try:
        frame = pd.read_csv(
            source, sep=sep, header=0 if header else None, skip_blank_lines=False,
            low_memory=False, **kwargs,
        )  # fmt: skip
    except pd.errors.EmptyDataError:
        msg = "empty file: expected a table of samples × features."
        raise DataFileError(msg, path=path) from None
    except pd.errors.ParserError as err:
        found = re.search(r"(?:line|row) (\d+)", str(err))
        zero_based = "inside string" in str(err)  # "EOF inside string starting at row N": 0-based
        where = line(int(found.group(1)) - (not zero_based)) if found else None
        detail = re.sub(r"(?:line|row) \d+", f"line {where}", str(err).strip()) if found else err
        msg = f"malformed table ({detail}); every row must have the same number of fields."
        raise DataFileError(msg, path=path, row=where) from None
    except (ValueError, OverflowError) as err:  # e.g. a cell pandas cannot convert
        msg = f"cannot parse the table: {excerpt(str(err))}."
        raise DataFileError(msg, path=path) from None
    offset = 1 if header else 0
    if starts is None:
        lines = np.arange(offset + 1, offset + 1 + len(frame), dtype=np.int64)
    else:
        lines = np.array([line(offset + i) for i in range(len(frame))], dtype=np.int64)
    n_trailing = 0  # rows of empty cells at the end (checked row by row: frames may be wide)
    while n_trailing < len(frame) and _blank_row(frame, len(frame) - 1 - n_trailing):
        n_trailing += 1
    if n_trailing:
        logger.debug("%s: ignoring %d trailing row(s) of empty cells", path, n_trailing)
        frame, lines = frame.iloc[: len(frame) - n_trailing], lines[: len(lines) - n_trailing]
    return Table(frame, lines, line(0))


def _blank_row(frame: pd.DataFrame, row: int) -> bool:
    """Whether a row's cells, and its index when read from the file, are all empty."""
    index = frame.index
    return bool(frame.iloc[row].isna().all()) and (
        isinstance(index, pd.RangeIndex) or bool(pd.isna(index[row]))
    )


def _header(path: Path, loaded: Loaded) -> list[str]:
    """The raw column names of a CSV/TSV (blank for an empty name; duplicates kept as given).

    A first line without quotes is split by the :mod:`csv` module, so that a wide header costs
    no pass over the whole text; quoted names (which may span lines) are left to pandas.
    """
    text = loaded.text
    first = text.split("\n", 1)[0].rstrip("\r")
    if first and '"' not in first:
        return next(csv.reader([first], delimiter=_sep(path)))
    head = _read_csv(path, header=False, loaded=loaded, nrows=1, dtype=str)
    if head.frame.empty:
        msg = "the header holds no column names; expected a sample column and features."
        raise DataFileError(msg, path=path, row=head.header)
    return ["" if pd.isna(c) else str(c) for c in head.frame.iloc[0]]


def read_headerless(path: Path) -> Table:
    """A CSV without header or ids (MOGONET style): cells as parsed, columns 0..n-1."""
    return _read_csv(path, header=False)


def read_table(path: Path, sample_column: str | None) -> Table:
    """Read a CSV/TSV/Parquet table with a sample column; also the physical line of each row.

    The sample column (``None``: the first column, whatever its name, as ``index_col=0``)
    becomes the (str) index; duplicate and empty ids are refused, and so are duplicate column
    names (which pandas would otherwise rename silently). Blank lines are skipped; messages
    name the physical line (for Parquet: the 1-based record).
    """
    if path.suffix.lower() in _PARQUET:
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            msg = f"not a readable Parquet file ({excerpt(str(err))})."
            raise DataFileError(msg, path=path) from None
        lines, header_line = np.arange(1, len(frame) + 1, dtype=np.int64), 1
        header = [str(c) for c in frame.columns]
        position = _sample_position(path, header, sample_column, header_line)
        frame.columns = header
        ids = frame.iloc[:, position]
        frame = frame.iloc[:, [c for c in range(len(header)) if c != position]]
    else:
        loaded = _load(path)
        header = _header(path, loaded)
        position = _sample_position(path, header, sample_column, 1)
        # the id column is read as the index: removing it from a wide frame would cost a copy
        frame, lines, header_line = _read_csv(
            path, header=True, loaded=loaded, dtype={position: str}, index_col=position
        )
        if len(header) != frame.shape[1] + 1:
            msg = f"the header has {len(header)} fields but the rows have {frame.shape[1] + 1}."
            raise DataFileError(msg, path=path, row=header_line)
        ids = pd.Series(frame.index)
        frame.columns = [c for i, c in enumerate(header) if i != position]
    for i, sid in enumerate(ids):
        if not isinstance(sid, str) or not sid.strip():
            msg = f"empty sample id in column {header[position]!r}."
            raise DataFileError(msg, path=path, row=int(lines[i]))
    frame.index = pd.Index(ids.astype(str).to_numpy(dtype=object), name="sample")
    check_unique(frame.index, path, lines)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        msg = f"empty modality: {frame.shape[0]} samples × {frame.shape[1]} features."
        raise DataFileError(msg, path=path)
    return Table(frame, lines, header_line)


def _sample_position(path: Path, header: list[str], sample_column: str | None, line: int) -> int:
    """Index of the sample column in the header (``None``: the first); refuses repeated names."""
    dup = sorted(pd.Index(header)[pd.Index(header).duplicated()].unique())
    if dup:
        msg = f"duplicate column names {dup}; feature names must be unique."
        raise DataFileError(msg, path=path, row=line)
    if sample_column is None:
        return 0
    if sample_column not in header:
        msg = f"no sample column {sample_column!r}; columns start {header[:5]} (set sample_column)."
        raise DataFileError(msg, path=path, row=line)
    return header.index(sample_column)


def check_unique(ids: pd.Index, path: Path, lines: Sequence[int], what: str = "sample id") -> None:
    """Refuse repeated ids, naming the lines of the first repeat (``lines``: line of each id)."""
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        j = int(np.flatnonzero(ids == ids[i])[0])
        msg = (
            f"duplicate {what} {show(ids[i])} (first on line {int(lines[j])}); ids must be unique."
        )
        raise DataFileError(msg, path=path, row=int(lines[i]), sample=str(ids[i]))


def numeric_block(
    frame: pd.DataFrame,
    path: Path,
    lines: Sequence[int],
    samples: Sequence[str],
    *,
    allow_nan: bool,
    headerless: bool = False,
) -> pd.DataFrame:
    """Check that every cell is a finite number (NaN only if ``allow_nan``); return floats.

    ``lines`` are the physical lines of the rows and ``samples`` their ids, for messages;
    ``headerless``: the file has no header, so messages also give the field number.
    """

    def fail(what: str, r: int, c: int, value: object = None) -> None:
        col = frame.columns[c]
        cell = "" if value is None else f" {show(str(value))}"
        field = f", field {c + 1} of the line" if headerless else ""
        msg = f"{what}{cell} in column {show(col)} (sample {show(samples[r])}{field})."
        raise DataFileError(
            msg,
            path=path,
            row=int(lines[r]),
            sample=str(samples[r]),
            column=str(col),
            value=None if value is None else str(value),
        )

    # only the columns pandas did not parse as numbers are checked one by one (frames are wide)
    dtypes = frame.dtypes.to_numpy()
    suspect = [
        c
        for c, dtype in enumerate(dtypes)
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype)
    ]
    if suspect:
        frame = frame.copy()
        for c in suspect:
            series = frame.iloc[:, c]
            coerced = pd.to_numeric(series, errors="coerce")
            bad = np.flatnonzero((coerced.isna() & series.notna()).to_numpy())
            if len(bad) or pd.api.types.is_bool_dtype(series.dtype):
                r = int(bad[0]) if len(bad) else 0
                fail("non-numeric value", r, c, series.iloc[r])
            frame.isetitem(c, coerced)
    values = frame.to_numpy(dtype="float64")
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        fail("infinite value", int(r), int(c), values[r, c])
    if not allow_nan and np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        fail("missing value (an empty cell or NaN; not allowed in this format)", int(r), int(c))
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


_SCHEMES = (
    ("ensembl", re.compile(r"ENS[A-Z]*G\d{6,}(\.\d+)?")),
    ("cg_probe", re.compile(r"(cg|ch\.\d+\.)\d+[A-Z]?")),
    ("mirna_mature", re.compile(r"[a-z]{2,5}\d?-(miR|let)-\w+(-\w+)*-[35]p")),
    # precursor names (hsa-mir-21), or mixed naming without a consistent arm suffix
    ("mirna_precursor", re.compile(r"[a-z]{2,5}\d?-(mir|miR|let)-[\w.-]+")),
    ("symbol|entrez", re.compile(r"[^|]+\|\d+")),
    ("genomic_region", re.compile(r"(?i)chr[0-9XYMT]{1,2}[_:]\d+[_-]\d+(?:[_:]?[+.-])?")),
)


def guess_id_scheme(features: Sequence[str]) -> str | None:
    """The id scheme every feature name matches, or ``None``.

    miRNA names all carrying an arm suffix (``-5p``/``-3p``) are ``"mirna_mature"``; other
    miRNA names (precursors such as ``hsa-mir-21``, or mixed naming) are ``"mirna_precursor"``,
    to be linked by a precursor→mature rule.

    Examples
    --------
    >>> guess_id_scheme(["ENSG00000161896.6", "ENSG00000248714"])
    'ensembl'
    >>> guess_id_scheme(["hsa-let-7b", "hsa-mir-21"]), guess_id_scheme(["TP53|7157"])
    ('mirna_precursor', 'symbol|entrez')
    >>> guess_id_scheme(["TP53", "cg0001"]) is None
    True
    """
    for scheme, pattern in _SCHEMES:
        if len(features) and all(pattern.fullmatch(str(f)) for f in features):
            return scheme
    return None


# what a feature id looks like, for the families whose ids have a recognisable pattern
_LOOKS = {
    "Ensembl gene": re.compile(r"ENS[A-Z]*G\d{6,}(\.\d+)?"),
    "methylation probe": _SCHEMES[1][1],
    "miRNA": re.compile(r"(?i)(?:[a-z]{2,5}\d?[-_])?(?:mir|let|lin)[-_]?[\w.-]+"),
    "genomic region": _SCHEMES[5][1],
}
# families a kind's ids may come from (ids of no family, e.g. symbols, fit every kind but miRNA)
_FITS = {
    "mRNA": ("Ensembl gene",),
    "methylation": ("methylation probe", "genomic region", "Ensembl gene"),
    "protein": (),
    "miRNA": ("miRNA",),
}


def kind_mismatch(kind: str, features: Sequence[str]) -> tuple[int, str, str] | None:
    """Features that do not look like ids of ``kind``: ``(count, first example, " (a …)")``.

    A miRNA feature must look like a miRNA name; an mRNA, methylation or protein feature must
    not look like the ids of another family (a miRNA name, a ``cg`` probe, a genomic region
    such as ``chr11_65498959_65503916_+``). Other kinds are not checked. ``None``: all fit.

    Examples
    --------
    >>> kind_mismatch("miRNA", ["hsa-mir-21", "chr11_65498959_65503916_+"])
    (1, 'chr11_65498959_65503916_+', ', which looks like a genomic region')
    >>> kind_mismatch("mRNA", ["TP53", "ENSG00000141510.17"]) is None
    True
    """
    if kind not in _FITS:
        return None
    bad, example, looks = 0, "", ""
    for feature in features:
        family = next((f for f, rx in _LOOKS.items() if rx.fullmatch(str(feature))), None)
        fits = family in _FITS[kind] if kind == "miRNA" else family is None or family in _FITS[kind]
        if not fits:
            if not bad:
                example = str(feature)
                looks = f", which looks like a {family}" if family else ""
            bad += 1
    return (bad, example, looks) if bad else None
