"""Readers of one table (CSV, TSV, Parquet) per modality, and of the mixOmics BRCA cohort.

* :func:`read_modalities` — one CSV/TSV/Parquet table per modality, with a sample column.
* :func:`read_breast_tcga` — the mixOmics ``breast.TCGA`` cohort as shipped in the shared data.

Bad input raises a :class:`~fusion.DataFileError` naming the file, the line and the sample;
nothing is dropped silently. Samples missing from some modality files become absent (masked)
rows of those modalities and are logged at WARNING level.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Union

import pandas as pd

from fusion._exceptions import DataFileError, LabelError, LabelFileError
from fusion.data._parse import numeric_block, read_table
from fusion.data.cohort import Cohort, Modality

__all__ = ["Source", "read_breast_tcga", "read_modalities"]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
#: One file, or several whose rows are stacked (e.g. a train and a test file).
Source = Union[PathLike, Sequence[PathLike]]  # noqa: UP007 (a runtime alias: str | "..." fails)


def _paths(source: Source) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    return [Path(p) for p in source]


def _read_stacked(source: Source, sample_column: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rows of one or more tables with the same columns; also ``{sample: "path:line"}``."""
    frames, where, columns, first_path = [], {}, None, None
    for path in _paths(source):
        table, lines, header = read_table(path, sample_column)
        if columns is None:
            columns, first_path = list(table.columns), path
        elif list(table.columns) != columns:
            missing = [c for c in columns if c not in set(table.columns)]
            extra = [c for c in table.columns if c not in set(columns)]
            if missing or extra:
                msg = f"columns differ from {first_path}: missing {missing[:5]}, extra {extra[:5]}."
                raise DataFileError(msg, path=path, row=header)
            logger.debug("%s: columns reordered to match %s", path, first_path)
            table = table[columns]
        for i, sample in enumerate(table.index):
            if sample in where:
                msg = (
                    f"duplicate sample id {sample!r} (also at {where[sample]}); ids must be unique."
                )
                raise DataFileError(msg, path=path, row=int(lines[i]), sample=sample)
            where[sample] = f"{path}:{lines[i]}"
        frames.append(numeric_block(table, path, lines, list(table.index), allow_nan=True))
    if not frames:
        msg = "no file given for a modality."
        raise DataFileError(msg)
    return pd.concat(frames), where


def _read_labels(
    source: Source, sample_column: str, label_column: str | None
) -> tuple[pd.Series, dict[str, str]]:
    parts, where = [], {}
    for path in _paths(source):
        table, lines, header = read_table(path, sample_column)
        column = label_column
        if column is None:
            if table.shape[1] != 1:
                msg = f"several label columns {list(table.columns)}; pass label_column=..."
                raise DataFileError(msg, path=path, row=header)
            column = table.columns[0]
        elif column not in table.columns:
            msg = f"no label column {column!r}; columns are {list(table.columns)}."
            raise DataFileError(msg, path=path, row=header)
        values = table[column]
        for i, sample in enumerate(values.index):
            if pd.isna(values.iloc[i]) or (
                isinstance(values.iloc[i], str) and not values.iloc[i].strip()
            ):
                raise LabelFileError("missing label.", path=path, row=int(lines[i]), sample=sample)
            if sample in where:
                msg = f"duplicate sample id {sample!r} (also at {where[sample]})."
                raise LabelFileError(msg, path=path, row=int(lines[i]), sample=sample)
            where[sample] = f"{path}:{lines[i]}"
        parts.append(values)
    return pd.concat(parts).rename("label"), where


def read_modalities(
    sources: Mapping[str, Source | tuple[Source, Modality]],
    labels: Source | pd.Series | None = None,
    *,
    sample_column: str = "sample",
    label_column: str | None = None,
    split: pd.Series | Mapping[str, str] | None = None,
    survival: pd.DataFrame | None = None,
) -> Cohort:
    """Read one table (CSV, TSV, Parquet; optionally compressed) per modality into a cohort.

    Each table has a sample-id column and one numeric column per feature; NaN cells are kept
    and reported by :meth:`Cohort.missing_values`, inf is refused. A modality may be given as
    several files whose rows are stacked (same columns, e.g. train and test parts). Samples
    missing from a modality's files become absent rows of that modality (presence ``False``),
    logged at WARNING level with their ids; they are never dropped or imputed.

    Parameters
    ----------
    sources : mapping of str to path, list of paths, or (paths, Modality)
        Per modality name; without a :class:`Modality` the name must be a kind.
    labels : path, list of paths, or Series, optional
        A table with the sample column and one label column (or ``label_column``), or a
        Series indexed by sample id. Every sample needs a label.
    sample_column : str, default "sample"
        The column holding sample ids.
    label_column : str, optional
        The column of ``labels`` holding the class.
    split : Series or mapping, optional
        ``"train"``/``"test"`` per sample, when the data defines an official split.
    survival : DataFrame, optional
        Passed to :class:`Cohort`.

    Examples
    --------
    >>> from pathlib import Path
    >>> tiny = Path(__file__).resolve().parents[2] / "tests" / "data" / "modalities_tiny"
    >>> c = read_modalities({"mRNA": tiny / "mrna.csv", "protein": tiny / "protein.tsv"},
    ...                     labels=tiny / "labels.csv")
    >>> c.presence.sum().to_dict()
    {'mRNA': 5, 'protein': 4}
    >>> int(c.missing_values().loc["mRNA", "n_missing_cells"])
    1
    """
    data, metas, origin = {}, [], {}
    for name, spec in sources.items():
        source, meta = spec if isinstance(spec, tuple) else (spec, Modality.from_name(name))
        if meta.name != name:
            meta = Modality(name, meta.kind, meta.id_scheme)
        data[name], origin[name] = _read_stacked(source, sample_column)
        metas.append(meta)
    samples = pd.Index([], dtype=object)
    for frame in data.values():
        samples = samples.append(frame.index[~frame.index.isin(samples)])
    for name, frame in data.items():
        absent = samples[~samples.isin(frame.index)]
        if len(absent):
            logger.warning(
                "modality %r lacks %d of %d samples; they are masked (presence False), not "
                "imputed: %s",
                name,
                len(absent),
                len(samples),
                ", ".join(map(str, absent[:20])) + (", ..." if len(absent) > 20 else ""),
            )
    y = None
    if labels is not None:
        if isinstance(labels, pd.Series):
            y, where = labels, {}
        else:
            y, where = _read_labels(labels, sample_column, label_column)
        extra = [s for s in y.index if s not in set(samples)]
        if extra:
            msg = f"label for sample {extra[0]!r} which is in no modality file ({len(extra)} such)."
            raise LabelError(f"{where.get(extra[0], 'labels')}: {msg}")
        unlabeled = samples[~samples.isin(y.index)]
        if len(unlabeled):
            first = unlabeled[0]
            found = [origin[n][first] for n in data if first in origin[n]]
            msg = (
                f"no label for {len(unlabeled)} samples: {list(unlabeled[:5])} "
                f"(first at {found[0]}); every sample needs a label."
            )
            raise LabelError(msg)
    if split is not None and not isinstance(split, pd.Series):
        split = pd.Series(dict(split))
    return Cohort(data, metas, labels=y, split=split, survival=survival, samples=samples)


def read_breast_tcga(path: PathLike) -> Cohort:
    """Read the mixOmics ``breast.TCGA`` cohort (train/test CSVs) with its official split.

    Train: 150 patients with mRNA (gene symbols), miRNA (precursor names) and protein (RPPA
    antibodies); test: 70 patients with mRNA and miRNA only, so protein is absent (masked) for
    every test patient. Labels are the subtypes Basal / Her2 / LumA.

    Parameters
    ----------
    path : path-like
        Folder with ``{train,test}_{mrna,mirna}.csv``, ``train_protein.csv`` and
        ``{train,test}_subtype.csv``.
    """
    d = Path(path)
    sources: dict[str, tuple[Source, Modality]] = {
        "mRNA": ([d / "train_mrna.csv", d / "test_mrna.csv"], Modality("mRNA", "mRNA", "symbol")),
        "miRNA": (
            [d / "train_mirna.csv", d / "test_mirna.csv"],
            Modality("miRNA", "miRNA", "mirna_precursor"),
        ),
        "protein": ([d / "train_protein.csv"], Modality("protein", "protein", "antibody")),
    }
    split = pd.concat(
        [
            pd.Series(part, index=read_table(d / f"{part}_subtype.csv", "sample")[0].index)
            for part in ("train", "test")
        ]
    )
    return read_modalities(
        sources,
        [d / "train_subtype.csv", d / "test_subtype.csv"],
        label_column="subtype",
        split=split,
    )
