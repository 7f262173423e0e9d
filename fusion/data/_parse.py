"""Pure parsing helpers for :mod:`fusion.data.io`: read a table, check it cell by cell.

Every error is a :class:`~fusion.DataFileError` naming the file and the 1-based line (for
Parquet: record) of the cell at fault, with the sample id and column where known.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fusion._exceptions import DataFileError

__all__ = ["check_unique", "guess_id_scheme", "numeric_block", "read_headerless", "read_table"]

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".pq")
_TSV = (".tsv", ".txt", ".tab")


def _sep(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2", ".xz", ".zip")]
    return "\t" if suffixes and suffixes[-1] in _TSV else ","


def _read_csv(path: Path, header: bool, **kwargs: object) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path, sep=_sep(path), header=0 if header else None, skip_blank_lines=False, **kwargs
        )
    except pd.errors.EmptyDataError:
        msg = "empty file: expected a table of samples × features."
        raise DataFileError(msg, path=path) from None
    except pd.errors.ParserError as err:
        line = re.search(r"line (\d+)", str(err))
        msg = f"malformed table ({err}); every row must have the same number of fields."
        raise DataFileError(msg, path=path, row=int(line.group(1)) if line else None) from err
    blank = frame.isna().all(axis=1).to_numpy()
    n_trailing = 0
    while n_trailing < len(blank) and blank[len(blank) - 1 - n_trailing]:
        n_trailing += 1
    if n_trailing:
        logger.debug("%s: ignoring %d trailing blank line(s)", path, n_trailing)
        frame = frame.iloc[: len(frame) - n_trailing]
    return frame


def read_headerless(path: Path) -> pd.DataFrame:
    """A CSV without header or ids (MOGONET style): cells as parsed, columns 0..n-1."""
    return _read_csv(path, header=False)


def read_table(path: Path, sample_column: str) -> tuple[pd.DataFrame, int]:
    """Read a CSV/TSV/Parquet table with a sample column; return it and the line of row 0.

    The sample column becomes the (str) index; duplicate and empty ids are refused, and so are
    duplicate column names (which pandas would otherwise rename silently).
    """
    if path.suffix.lower() in _PARQUET:
        frame, first = pd.read_parquet(path), 1
        header = [str(c) for c in frame.columns]
    else:
        header = [str(c) for c in _read_csv(path, header=False, nrows=1, dtype=str).iloc[0]]
        frame, first = _read_csv(path, header=True, dtype={sample_column: str}), 2
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        msg = f"duplicate column names {dup}; feature names must be unique."
        raise DataFileError(msg, path=path, row=1)
    if sample_column not in header:
        msg = f"no sample column {sample_column!r}; columns start {header[:5]} (set sample_column)."
        raise DataFileError(msg, path=path, row=1)
    frame.columns = header
    ids = frame[sample_column]
    for i, sid in enumerate(ids):
        if not isinstance(sid, str) or not sid.strip():
            msg = f"empty sample id in column {sample_column!r}."
            raise DataFileError(msg, path=path, row=first + i)
    frame = frame.set_index(pd.Index(ids.astype(str).to_numpy(dtype=object), name="sample"))
    frame = frame.drop(columns=sample_column)
    check_unique(frame.index, path, first)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        msg = f"empty modality: {frame.shape[0]} samples × {frame.shape[1]} features."
        raise DataFileError(msg, path=path)
    return frame, first


def check_unique(ids: pd.Index, path: Path, first: int, what: str = "sample id") -> None:
    """Refuse repeated ids, naming the lines of the first repeat."""
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        j = int(np.flatnonzero(ids == ids[i])[0])
        msg = f"duplicate {what} {ids[i]!r} (first on line {first + j}); ids must be unique."
        raise DataFileError(msg, path=path, row=first + i, sample=str(ids[i]))


def numeric_block(
    frame: pd.DataFrame,
    path: Path,
    first: int,
    samples: Sequence[str],
    *,
    allow_nan: bool,
) -> pd.DataFrame:
    """Check that every cell is a finite number (NaN only if ``allow_nan``); return floats.

    ``first`` is the line of row 0; ``samples`` are the ids of the rows, for messages.
    """

    def fail(what: str, r: int, c: int, value: object) -> None:
        col = frame.columns[c]
        msg = f"{what} {str(value)!r} in column {col!r} (sample {samples[r]!r})."
        raise DataFileError(
            msg, path=path, row=first + r, sample=str(samples[r]), column=str(col), value=str(value)
        )

    frame = frame.copy()
    for c, (col, series) in enumerate(frame.items()):
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = np.flatnonzero((coerced.isna() & series.notna()).to_numpy())
            if len(bad) or pd.api.types.is_bool_dtype(series.dtype):
                r = int(bad[0]) if len(bad) else 0
                fail("non-numeric value", r, c, series.iloc[r])
            frame[col] = coerced
    values = frame.to_numpy(dtype="float64")
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        fail("infinite value", int(r), int(c), values[r, c])
    if not allow_nan and np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        fail("missing value (NaN not allowed in this format); got", int(r), int(c), "")
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


_SCHEMES = (
    ("ensembl", re.compile(r"ENS[A-Z]*G\d{6,}(\.\d+)?")),
    ("cg_probe", re.compile(r"(cg|ch\.\d+\.)\d+[A-Z]?")),
    ("mirna_mature", re.compile(r"[a-z]{2,5}\d?-(miR|let)-\w+(-\w+)*-[35]p")),
    # precursor names (hsa-mir-21), or mixed naming without a consistent arm suffix
    ("mirna_precursor", re.compile(r"[a-z]{2,5}\d?-(mir|miR|let)-[\w.-]+")),
    ("symbol|entrez", re.compile(r"[^|]+\|\d+")),
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
