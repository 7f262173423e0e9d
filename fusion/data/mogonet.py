"""Reader of the MOGONET benchmark format: headerless views, feature-name files, official split.

Bad input raises a :class:`~fusion.DataFileError` naming the file, the line and the sample;
nothing is dropped silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd

from fusion._exceptions import DataFileError, LabelError, LabelFileError
from fusion.data._parse import check_unique, guess_id_scheme, numeric_block, read_headerless
from fusion.data.cohort import Cohort, Modality

__all__ = ["MOGONET_KINDS", "read_mogonet"]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

#: MOGONET's view order (ROSMAP, BRCA): 1 = mRNA, 2 = methylation, 3 = miRNA.
MOGONET_KINDS: tuple[str, ...] = ("mRNA", "methylation", "miRNA")


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
