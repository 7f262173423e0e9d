"""A cohort's clinical table: labels from it (:func:`clinical_labels`), inputs from it
(:func:`clinical_features`), and the pointwise transform of count tables (:func:`log1p`).

Every patient dropped for want of a label is counted and logged at WARNING level with the first
ids (:func:`fusion.data.labels.drop_message`); a column that is not in the table raises a
:class:`~fusion.DataFileError` naming the file and listing its columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from fusion._exceptions import DataFileError, LabelError
from fusion.data._parse import Table, read_table
from fusion.data.labels import UNKNOWN_VALUES, LabelSpec, drop_message, label_text

__all__ = [
    "ClinicalTable",
    "Labels",
    "clinical_features",
    "clinical_labels",
    "log1p",
    "read_clinical",
]

logger = logging.getLogger(__name__)


class ClinicalTable(NamedTuple):
    """A clinical table as read: values as parsed (text or numbers), by patient; its file."""

    frame: pd.DataFrame
    path: Path
    header: int


class Labels(NamedTuple):
    """What a :class:`LabelSpec` made of a clinical table: the patients kept and their label."""

    labels: pd.Series | None
    survival: pd.DataFrame | None
    patients: pd.Index


def read_clinical(path: Path) -> ClinicalTable:
    """A clinical table whose first column is the patient id (as ``index_col=0``)."""
    table: Table = read_table(path, None)
    return ClinicalTable(table.frame, path, table.header)


def _require(table: ClinicalTable, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.frame.columns]
    if missing:
        msg = f"no {what} column(s) {missing}; the columns are {list(table.frame.columns)}."
        raise DataFileError(msg, path=table.path, row=table.header)


def _drop(what: str, ids: pd.Index, total: int, path: Path) -> None:
    if len(ids):
        logger.warning(drop_message(what, list(ids), total, path))


def clinical_labels(spec: LabelSpec, table: ClinicalTable, patients: pd.Index) -> Labels:
    """The label of each of ``patients`` that has one; the others are dropped (logged).

    Patients missing from the table, with a missing value, or (binary) with a value that is
    neither positive nor negative are dropped, each group counted in a WARNING. Survival times
    must be finite and >= 0 and events 0/1: other rows are dropped likewise (TCGA-BRCA records
    ``os_time_days`` < 0 for 1 patient and missing for 1; the 12 with time 0 are kept).

    Binary and threshold labels are categorical with the negative class first, so that the
    positive class is ``classes_[1]`` of a fitted estimator. A threshold label's column must
    hold numbers: any other value raises a :class:`~fusion.DataFileError`.

    Examples
    --------
    >>> frame = pd.DataFrame({"er": ["positive", "negative", "indeterminate", None]},
    ...                      index=["p1", "p2", "p3", "p4"])
    >>> table = ClinicalTable(frame, Path("clinical.csv"), 1)
    >>> found = clinical_labels(LabelSpec.parse("er == positive"), table, frame.index)
    >>> found.labels.tolist(), list(found.labels.cat.categories)
    (['positive', 'negative'], ['negative', 'positive'])
    """
    _require(table, spec.columns, "label")
    frame, path = table.frame, table.path
    outside = patients[~patients.isin(frame.index)]
    _drop(f"not in {path.name}", outside, len(patients), path)
    rows = frame.reindex(patients[patients.isin(frame.index)])
    if spec.kind == "survival":
        time = pd.to_numeric(rows[spec.time], errors="coerce")
        event = pd.to_numeric(rows[spec.event], errors="coerce")
        bad_time = ~np.isfinite(time.to_numpy(dtype=float)) | (time.to_numpy(dtype=float) < 0)
        bad_event = ~event.isin([0, 1]).to_numpy()
        _drop(f"{spec.time} missing, infinite or < 0", rows.index[bad_time], len(patients), path)
        _drop(f"{spec.event} not 0/1", rows.index[bad_event & ~bad_time], len(patients), path)
        keep = ~(bad_time | bad_event)
        survival = pd.DataFrame({"time": time[keep], "event": event[keep].astype(int)})
        return Labels(None, survival, survival.index)
    values = rows[spec.column]
    missing = values.isna().to_numpy() | values.map(lambda v: label_text(v) == "").to_numpy()
    _drop(f"{spec.column} missing", rows.index[missing], len(patients), path)
    values = values[~missing]
    if spec.kind == "threshold":
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna().to_numpy()
        if bad.any():
            sample = values.index[bad][0]
            msg = (
                f"label {spec.column!r} must be a number for a threshold; got "
                f"{values[sample]!r} for patient {sample!r}."
            )
            raise DataFileError(msg, path=path, row=table.header, sample=sample, column=spec.column)
        negative, positive = spec.classes  # type: ignore[misc]
        labels = numbers.map(lambda v: positive if spec.meets(float(v)) else negative)
        return _categorical(labels, [negative, positive])
    text = values.map(lambda v: label_text(v).lower())
    if spec.kind == "categorical":
        names = {k.lower(): v for k, v in spec.names.items()}
        labels = pd.Series(
            [names.get(t, label_text(v)) for t, v in zip(text, values)], index=values.index
        )
        return _categorical(labels, sorted(labels.unique(), key=_order(spec)))
    positive = {t.lower() for t in spec.positive}  # type: ignore[union-attr]
    if spec.negative is not None:
        negative = {t.lower() for t in spec.negative}
    else:
        negative = set(text) - positive - set(UNKNOWN_VALUES)
    neither = ~text.isin(positive | negative).to_numpy()
    unknown = sorted(set(text[neither]))
    _drop(
        f"{spec.column} neither positive nor negative: {unknown}",
        values.index[neither],
        len(patients),
        path,
    )
    text = text[~neither]
    neg_name, pos_name = spec.classes  # type: ignore[misc]
    if spec.negative is None and len(negative) == 1:  # name the class by its one value
        (only,) = negative
        neg_name = spec.names.get(only, only)
    labels = text.map(lambda v: pos_name if v in positive else neg_name)
    return _categorical(labels, [neg_name, pos_name])


def _order(spec: LabelSpec) -> Callable[[str], tuple[int, str]]:
    """Sort key of categorical classes: the order of ``names`` when given, else by name."""
    rank = {name: i for i, name in enumerate(spec.names.values())}
    return lambda name: (rank.get(name, len(rank)), name)


def _categorical(labels: pd.Series, classes: list[str]) -> Labels:
    if labels.empty:
        msg = "no patient has a label: check the label column and its values."
        raise LabelError(msg)
    out = labels.astype(pd.CategoricalDtype(classes)).rename("label")
    return Labels(out, None, out.index)


def clinical_features(
    table: ClinicalTable, columns: Sequence[str], label: LabelSpec | None, patients: pd.Index
) -> pd.DataFrame:
    """Clinical columns as a numeric modality: numbers as they are, other columns one-hot.

    A categorical column ``stage_group`` becomes ``stage_group=I``, ``stage_group=II``, ...
    (categories sorted); a patient with a missing value has NaN in every dummy of the column,
    so that imputation stays possible. One-hot coding uses no label and no statistic of the
    data beyond the set of values seen; standardisation and imputation happen in-fold, in the
    estimators' :class:`~fusion.ModalityScaler` and :class:`~fusion.ModalityImputer`.

    Raises
    ------
    LabelError
        If a column is also part of the label (a leak of the label into the inputs).
    DataFileError
        If a column is not in the table (naming the file and listing its columns).

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [50, 61], "stage": ["I", None]}, index=["p1", "p2"])
    >>> clinical_features(ClinicalTable(frame, Path("c.csv"), 1), ["age", "stage"], None,
    ...                   frame.index).to_dict("list")
    {'age': [50.0, 61.0], 'stage=I': [1.0, nan]}
    """
    leak = [c for c in columns if label is not None and c in label.columns]
    if leak:
        msg = (
            f"clinical column(s) {leak} are the label ({label.kind}: {list(label.columns)}); "
            "a label column can never be an input (leakage)."
        )
        raise LabelError(msg)
    _require(table, columns, "clinical")
    rows = table.frame.reindex(patients)[list(columns)]
    parts = []
    for name in columns:
        column = rows[name]
        numbers = pd.to_numeric(column, errors="coerce")
        if (numbers.notna() | column.isna()).all():
            parts.append(numbers.astype(float).rename(name))
            continue
        dummies = pd.get_dummies(
            column.map(label_text, na_action="ignore"), prefix=name, prefix_sep="=", dtype=float
        )
        dummies[column.isna().to_numpy()] = np.nan
        parts.append(dummies)
    return pd.concat(parts, axis=1)


def log1p(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``log2(x + 1)`` of each cell: pointwise, so it uses no statistic of any fold.

    For counts and count-like values (RPM miRNA, RSEM RNA-seq); a negative value raises a
    :class:`~fusion.DataFileError` naming the file, sample and column.

    Examples
    --------
    >>> log1p(pd.DataFrame({"m": [0.0, 1.0, 3.0]}), Path("mirna.csv")).m.tolist()
    [0.0, 1.0, 2.0]
    """
    values = frame.to_numpy(dtype=float)
    negative = np.argwhere(values < 0)
    if len(negative):
        r, c = negative[0]
        msg = (
            f"log1p needs values >= 0; got {values[r, c]} in column {frame.columns[c]!r} "
            f"(sample {frame.index[r]!r}); set transform: none for this modality."
        )
        raise DataFileError(
            msg, path=path, sample=str(frame.index[r]), column=str(frame.columns[c])
        )
    return pd.DataFrame(np.log2(values + 1.0), index=frame.index, columns=frame.columns)
