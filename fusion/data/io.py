"""Readers that build a :class:`~fusion.Cohort` from files, checking them at the boundary.

* :func:`read_mogonet` — the MOGONET benchmark format (headerless views, official split).
* :func:`read_modalities` — one CSV/TSV/Parquet table per modality, with a sample column.
* :func:`read_breast_tcga` — the mixOmics ``breast.TCGA`` cohort as shipped in the shared data.
* :func:`read_anndata` / :func:`read_mudata` — optional, need ``kgfusion[anndata]``.

Bad input raises a :class:`~fusion.DataFileError` naming the file, the line and the sample;
nothing is dropped silently. Samples missing from some modality files become absent (masked)
rows of those modalities and are logged at WARNING level.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd

from fusion.data._anndata import read_anndata, read_mudata
from fusion._exceptions import DataFileError, FusionError, LabelError, LabelFileError
from fusion.data._parse import check_unique, guess_id_scheme, numeric_block, read_headerless, read_table
from fusion.data.cohort import Cohort, Modality

__all__ = [
    "CohortFormat",
    "read_cohort",
    "read_mogonet",
    "read_modalities",
    "read_breast_tcga",
    "read_anndata",
    "read_mudata",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
#: One file, or several whose rows are stacked (e.g. a train and a test file).
Source = Union[PathLike, Sequence[PathLike]]

#: MOGONET's view order (ROSMAP, BRCA): 1 = mRNA, 2 = methylation, 3 = miRNA.
MOGONET_KINDS: tuple[str, ...] = ("mRNA", "methylation", "miRNA")


def _paths(source: Source) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    return [Path(p) for p in source]


# --- MOGONET -----------------------------------------------------------------------------------


def _mogonet_labels(path: Path, prefix: str) -> pd.Series:
    raw = read_headerless(path)
    if raw.shape[1] != 1:
        msg = f"label file must have one column; got {raw.shape[1]}."
        raise DataFileError(msg, path=path, row=1)
    ids = [f"{prefix}_{i}" for i in range(len(raw))]
    values = numeric_block(raw, path, 1, ids, allow_nan=False)[0]
    fractional = np.flatnonzero(values.to_numpy() != np.round(values.to_numpy()))
    if len(fractional):
        i = int(fractional[0])
        msg = f"label {values.iloc[i]!r} is not an integer class code."
        raise DataFileError(msg, path=path, row=i + 1, sample=ids[i], value=str(values.iloc[i]))
    return pd.Series(values.astype(int).to_numpy(), index=pd.Index(ids, name="sample"))


def _mogonet_view(directory: Path, i: int, part: str, labels: pd.Series) -> pd.DataFrame:
    path = directory / f"{i}_{part}.csv"
    raw = read_headerless(path)
    labels_file = f"labels_{part}.csv"
    if len(raw) == 0 or raw.shape[1] == 0:
        msg = f"empty modality: {raw.shape[0]} rows × {raw.shape[1]} columns."
        raise DataFileError(msg, path=path)
    if len(raw) != len(labels):
        n = min(len(raw), len(labels))
        msg = (
            f"{len(raw)} rows but {labels_file} has {len(labels)}; rows are matched to labels by "
            "order, so every view file needs exactly one row per label."
        )
        raise DataFileError(
            msg, path=path, row=n + 1, sample=f"{'train' if part == 'tr' else 'test'}_{n}"
        )
    return numeric_block(raw, path, 1, list(labels.index), allow_nan=False).set_axis(labels.index)


def _mogonet_features(path: Path, n_columns: int, data_file: str) -> list[str]:
    raw = read_headerless(path)
    names = pd.Index(raw.iloc[:, 0].astype(str).str.strip().to_numpy(dtype=object))
    if len(names) != n_columns:
        msg = f"lists {len(names)} feature names but {data_file} has {n_columns} columns."
        raise DataFileError(msg, path=path, row=min(len(names), n_columns) + 1)
    check_unique(names, path, 1, what="feature name")
    return list(names)


def read_mogonet(
    path: PathLike,
    view_names: Sequence[str] | None = None,
    *,
    modalities: Sequence[Modality] | None = None,
    label_names: Mapping[int, str] | None = None,
) -> Cohort:
    """Read a dataset in MOGONET's format, keeping its official train/test split.

    The folder holds, for views ``i = 1..n``, ``{i}_tr.csv`` and ``{i}_te.csv`` (headerless,
    samples × features, no sample ids), ``{i}_featname.csv`` (one feature name per line), and
    ``labels_tr.csv`` / ``labels_te.csv`` (one integer class per line, in row order). Sample ids
    are made up as ``train_0, ...`` and ``test_0, ...``. NaN and inf are refused.

    Parameters
    ----------
    path : path-like
        The folder.
    view_names : sequence of str, optional
        Modality names of views 1..n; default ``mRNA``, ``methylation``, ``miRNA`` (MOGONET's
        order), kinds alike, id schemes guessed from the feature names.
    modalities : sequence of Modality, optional
        Full metadata of views 1..n (overrides ``view_names``); needed beyond 3 views.
    label_names : mapping of int to str, optional
        Class names for the integer codes (e.g. ``{0: "NC", 1: "AD"}``); default the codes.

    Returns
    -------
    Cohort
        With ``labels`` and ``split``; every sample has every view.

    Examples
    --------
    >>> from pathlib import Path
    >>> tiny = Path(__file__).resolve().parents[2] / "tests" / "data" / "mogonet_tiny"
    >>> c = read_mogonet(tiny)
    >>> [(m.name, m.id_scheme) for m in c.modalities.values()]
    [('mRNA', 'ensembl'), ('methylation', 'cg_probe'), ('miRNA', 'mirna_precursor')]
    >>> c.split.value_counts().to_dict()
    {'train': 6, 'test': 4}
    """
    directory = Path(path)
    n_views = 0
    while (directory / f"{n_views + 1}_tr.csv").exists():
        n_views += 1
    if n_views == 0:
        msg = f"{directory}: no MOGONET views (expected 1_tr.csv, 1_te.csv, 1_featname.csv, ...)."
        raise FileNotFoundError(msg)
    for name in ["labels_tr.csv", "labels_te.csv"] + [
        f"{i}_{p}.csv" for i in range(1, n_views + 1) for p in ("te", "featname")
    ]:
        if not (directory / name).exists():
            msg = f"{directory / name}: missing MOGONET file (views 1..{n_views} found)."
            raise FileNotFoundError(msg)
    if modalities is None:
        if view_names is None and n_views > len(MOGONET_KINDS):
            msg = f"{directory}: {n_views} views; pass modalities=[Modality(...), ...] for each."
            raise DataFileError(msg, path=directory)
        names = list(view_names) if view_names is not None else list(MOGONET_KINDS[:n_views])
    else:
        names = [m.name for m in modalities]
    if len(names) != n_views:
        msg = f"{n_views} views found but {len(names)} names/modalities given: {names}."
        raise DataFileError(msg, path=directory)

    y_tr = _mogonet_labels(directory / "labels_tr.csv", "train")
    y_te = _mogonet_labels(directory / "labels_te.csv", "test")
    unseen = ~y_te.isin(set(y_tr))
    if unseen.any():
        i = int(np.flatnonzero(unseen.to_numpy())[0])
        msg = (
            f"test label {y_te.iloc[i]} is a class unseen in labels_tr.csv (classes "
            f"{sorted(set(y_tr))}); test labels must be a subset of the training labels."
        )
        raise LabelFileError(msg, path=directory / "labels_te.csv", row=i + 1, sample=y_te.index[i])
    data, metas = {}, []
    for i, name in enumerate(names, start=1):
        train = _mogonet_view(directory, i, "tr", y_tr)
        test = _mogonet_view(directory, i, "te", y_te)
        if test.shape[1] != train.shape[1]:
            msg = f"{test.shape[1]} columns but {i}_tr.csv has {train.shape[1]}; views must match."
            raise DataFileError(msg, path=directory / f"{i}_te.csv", row=1, sample="test_0")
        features = _mogonet_features(directory / f"{i}_featname.csv", train.shape[1], f"{i}_tr.csv")
        data[name] = pd.concat([train, test]).set_axis(features, axis=1)
        if modalities is not None:
            metas.append(modalities[i - 1])
        else:
            scheme = guess_id_scheme(features)
            if i <= len(MOGONET_KINDS):
                metas.append(Modality(name, MOGONET_KINDS[i - 1], scheme))  # type: ignore[arg-type]
            else:
                metas.append(Modality.from_name(name, scheme))
    labels = pd.concat([y_tr, y_te])
    if label_names is not None:
        missing = sorted(set(labels) - set(label_names))
        if missing:
            msg = f"label_names has no name for class codes {missing}."
            raise LabelError(msg)
        codes = sorted(label_names)
        labels = labels.map(label_names).astype(
            pd.CategoricalDtype([label_names[c] for c in codes])
        )
    split = pd.Series(["train"] * len(y_tr) + ["test"] * len(y_te), index=labels.index)
    cohort = Cohort(data, metas, labels=labels, split=split)
    logger.info("read MOGONET %s: %s", directory, cohort)
    return cohort


# --- one table per modality --------------------------------------------------------------------


def _read_stacked(source: Source, sample_column: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rows of one or more tables with the same columns; also ``{sample: "path:line"}``."""
    frames, where, columns, first_path = [], {}, None, None
    for path in _paths(source):
        table, first = read_table(path, sample_column)
        if columns is None:
            columns, first_path = list(table.columns), path
        elif list(table.columns) != columns:
            missing = [c for c in columns if c not in set(table.columns)]
            extra = [c for c in table.columns if c not in set(columns)]
            if missing or extra:
                msg = f"columns differ from {first_path}: missing {missing[:5]}, extra {extra[:5]}."
                raise DataFileError(msg, path=path, row=1)
            logger.debug("%s: columns reordered to match %s", path, first_path)
            table = table[columns]
        for i, sample in enumerate(table.index):
            if sample in where:
                msg = (
                    f"duplicate sample id {sample!r} (also at {where[sample]}); ids must be unique."
                )
                raise DataFileError(msg, path=path, row=first + i, sample=sample)
            where[sample] = f"{path}:{first + i}"
        frames.append(numeric_block(table, path, first, list(table.index), allow_nan=True))
    if not frames:
        msg = "no file given for a modality."
        raise DataFileError(msg)
    return pd.concat(frames), where


def _read_labels(
    source: Source, sample_column: str, label_column: str | None
) -> tuple[pd.Series, dict[str, str]]:
    parts, where = [], {}
    for path in _paths(source):
        table, first = read_table(path, sample_column)
        column = label_column
        if column is None:
            if table.shape[1] != 1:
                msg = f"several label columns {list(table.columns)}; pass label_column=..."
                raise DataFileError(msg, path=path, row=1)
            column = table.columns[0]
        elif column not in table.columns:
            msg = f"no label column {column!r}; columns are {list(table.columns)}."
            raise DataFileError(msg, path=path, row=1)
        values = table[column]
        for i, sample in enumerate(values.index):
            if pd.isna(values.iloc[i]) or (
                isinstance(values.iloc[i], str) and not values.iloc[i].strip()
            ):
                raise LabelFileError("missing label.", path=path, row=first + i, sample=sample)
            if sample in where:
                msg = f"duplicate sample id {sample!r} (also at {where[sample]})."
                raise LabelFileError(msg, path=path, row=first + i, sample=sample)
            where[sample] = f"{path}:{first + i}"
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


_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_LABEL_STEMS = ("labels", "label")


class CohortFormat(str, Enum):
    """How a cohort on disk is laid out (see :func:`read_cohort`)."""

    auto = "auto"
    mogonet = "mogonet"
    breast_tcga = "breast-tcga"
    tables = "tables"
    h5mu = "h5mu"
    h5ad = "h5ad"




def _detect(path: Path) -> CohortFormat:
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".h5mu", ".h5ad"):
            return CohortFormat(suffix[1:])
        msg = f"{path}: cannot tell the format of a single {suffix or 'extensionless'} file; expected .h5mu, .h5ad or a folder."
        raise FusionError(msg)
    if not path.is_dir():
        msg = f"{path}: no such file or folder."
        raise FileNotFoundError(msg)
    if (path / "1_tr.csv").exists():
        return CohortFormat.mogonet
    if (path / "train_subtype.csv").exists() and (path / "train_mrna.csv").exists():
        return CohortFormat.breast_tcga
    return CohortFormat.tables


def _table_files(path: Path) -> tuple[dict[str, Path], Path | None]:
    """Modality tables (file stem = modality name) and the labels table of a folder."""
    files = sorted(
        p for p in path.iterdir() if p.is_file() and _stem_suffix(p)[1] in _TABLE_SUFFIXES
    )
    labels = [p for p in files if _stem_suffix(p)[0].lower() in _LABEL_STEMS]
    sources = {_stem_suffix(p)[0]: p for p in files if p not in labels}
    if not sources:
        msg = f"{path}: no modality tables (*.csv, *.tsv, *.parquet, one per modality, named after it)."
        raise FusionError(msg)
    return sources, labels[0] if labels else None


def _stem_suffix(path: Path) -> tuple[str, str]:
    name = path.name
    for compression in (".gz", ".bz2", ".xz", ".zip"):
        name = name.removesuffix(compression)
    stem, dot, suffix = name.rpartition(".")
    return (stem, f".{suffix.lower()}") if dot else (name, "")


def read_cohort(
    path: PathLike,
    format: CohortFormat | str = CohortFormat.auto,
    *,
    sample_column: str = "sample",
    label_column: str | None = None,
) -> Cohort:
    """Read a cohort from a MOGONET folder, the BRCA mixOmics folder, a folder of per-modality
    tables (plus optional ``labels.csv``), or an ``.h5mu`` / ``.h5ad`` file.

    ``format="auto"`` detects the layout: ``1_tr.csv`` → MOGONET, ``train_subtype.csv`` and
    ``train_mrna.csv`` → BRCA, a ``.h5mu``/``.h5ad`` suffix → MuData/AnnData, any other folder →
    one table per modality named after it.

    ``label_column`` is the label column of ``labels.csv``, or the ``obs`` column of labels in
    an ``.h5mu`` / ``.h5ad`` file.
    """
    path = Path(path)
    fmt = CohortFormat(format)
    fmt = _detect(path) if fmt is CohortFormat.auto else fmt
    if fmt is CohortFormat.mogonet:
        return read_mogonet(path)
    if fmt is CohortFormat.breast_tcga:
        return read_breast_tcga(path)
    if fmt is CohortFormat.h5mu:
        return read_mudata(path, label_key=label_column)
    if fmt is CohortFormat.h5ad:
        return read_anndata(path, _stem_suffix(path)[0], label_key=label_column)
    sources, labels = _table_files(path)
    return read_modalities(sources, labels, sample_column=sample_column, label_column=label_column)
