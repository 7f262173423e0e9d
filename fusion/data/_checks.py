"""Shared validation helpers of :mod:`fusion` (private)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from fusion._exceptions import CohortError

__all__ = ["check_frame", "excerpt", "preview", "sample_index", "show"]


def show(value: object, limit: int = 80) -> str:
    """A value as a message shows it: numpy scalars as Python ones, NaN as ``NaN``, text cut.

    Examples
    --------
    >>> show(np.int64(0)), show(np.float64(0.5)), show(float("nan")), show("x"), show(None)
    ('0', '0.5', 'NaN', "'x'", 'None')
    >>> show([np.int64(0), np.int64(1)]), show("y" * 100, limit=5)
    ('[0, 1]', "'yyyyy…'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, str):
        return repr(excerpt(value, limit))
    if isinstance(value, (list, tuple)):
        inner = ", ".join(show(v, limit) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    return repr(value)


def excerpt(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (with ``…``), to echo user input in a message."""
    return text if len(text) <= limit else text[:limit] + "…"


def preview(ids: Iterable[object], n: int = 5) -> str:
    """A short, readable listing of ids: the first ``n`` and the total."""
    ids = list(ids)
    shown = ", ".join(show(i) for i in ids[:n])
    return f"{shown}, ... ({len(ids)} in all)" if len(ids) > n else shown


def sample_index(ids: Iterable[object], what: str = "sample ids") -> pd.Index:
    """An index of sample ids (str dtype, named ``sample``); non-str or empty ids are refused."""
    ids = list(ids)
    bad = [i for i in ids if not isinstance(i, str) or not i]
    if bad:
        msg = f"{what} must be non-empty str; got {preview(bad)}."
        raise CohortError(msg)
    return pd.Index(ids, dtype=str, name="sample")


def check_frame(name: str, frame: object) -> pd.DataFrame:
    """Validate one modality frame; return a float64 copy with index named ``sample``."""
    if not isinstance(frame, pd.DataFrame):
        got = type(frame).__name__
        msg = f"modality {name!r} must be a pandas DataFrame (samples × features); got {got}."
        raise CohortError(msg)
    if frame.shape[1] == 0:
        msg = f"modality {name!r} has no features (0 columns); drop it or fix its source."
        raise CohortError(msg)
    for axis, ids in (("sample id", frame.index), ("feature name", frame.columns)):
        bad = [i for i in ids if not isinstance(i, str) or not i]
        if bad:
            msg = f"modality {name!r}: every {axis} must be a non-empty str; got {preview(bad)}."
            raise CohortError(msg)
        dup = ids[ids.duplicated()].unique()
        if len(dup):
            msg = f"modality {name!r}: duplicate {axis}s {preview(dup)}; ids must be unique."
            raise CohortError(msg)
    non_numeric = [
        c
        for c, t in frame.dtypes.items()
        if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)
    ]
    if non_numeric:
        col = non_numeric[0]
        msg = (
            f"modality {name!r}: feature {col!r} has non-numeric dtype {frame[col].dtype} "
            f"({len(non_numeric)} such features); convert or drop them."
        )
        raise CohortError(msg)
    out = frame.astype("float64")
    values = out.to_numpy()
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        where = f"sample {out.index[r]!r}, feature {out.columns[c]!r}"
        msg = f"modality {name!r}: infinite value for {where}."
        raise CohortError(msg)
    out.index = sample_index(out.index)
    return out
