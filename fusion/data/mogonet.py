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

from fusion._exceptions import DataFileError, InvalidParameterError, LabelError, LabelFileError
from fusion.data._checks import show
from fusion.data._parse import (
    Table,
    check_unique,
    guess_id_scheme,
    kind_mismatch,
    numeric_block,
    read_headerless,
)
from fusion.data.cohort import Cohort
from fusion.data.modality import MODALITY_KINDS, Modality

__all__ = ["MOGONET_KINDS", "read_mogonet"]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

#: MOGONET's view order (ROSMAP, BRCA): 1 = mRNA, 2 = methylation, 3 = miRNA.
MOGONET_KINDS: tuple[str, ...] = ("mRNA", "methylation", "miRNA")


def _mogonet_labels(path: Path, prefix: str) -> tuple[pd.Series, np.ndarray]:
    raw, lines, header = read_headerless(path)
    if raw.shape[1] != 1:
        msg = f"label file must have one column; got {raw.shape[1]}."
        raise DataFileError(msg, path=path, row=header)
    ids = [f"{prefix}_{i}" for i in range(len(raw))]
    values = numeric_block(raw.set_axis(["label"], axis=1), path, lines, ids, allow_nan=False)
    values = values["label"]
    fractional = np.flatnonzero(values.to_numpy() != np.round(values.to_numpy()))
    if len(fractional):
        i = int(fractional[0])
        msg = f"label {show(values.iloc[i])} is not an integer class code."
        raise DataFileError(
            msg, path=path, row=int(lines[i]), sample=ids[i], value=show(values.iloc[i])
        )
    labels = pd.Series(values.astype(int).to_numpy(), index=pd.Index(ids, name="sample"))
    return labels, lines


def _mogonet_view(directory: Path, i: int, part: str, labels: pd.Series) -> Table:
    path = directory / f"{i}_{part}.csv"
    table = read_headerless(path)
    raw = table.frame
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
        row = int(table.lines[n]) if n < len(raw) else int(table.lines[-1]) + 1
        raise DataFileError(
            msg, path=path, row=row, sample=f"{'train' if part == 'tr' else 'test'}_{n}"
        )
    return table


def _mogonet_features(path: Path, n_columns: int, data_file: str) -> list[str]:
    raw, lines, _ = read_headerless(path)
    if raw.shape[1] != 1:
        msg = f"a feature-name file has one name per line; got {raw.shape[1]} fields."
        raise DataFileError(msg, path=path, row=int(lines[0]))
    names = pd.Index(raw.iloc[:, 0].astype(str).str.strip().to_numpy(dtype=object))
    if len(names) != n_columns:
        msg = f"lists {len(names)} feature names but {data_file} has {n_columns} columns."
        row = int(lines[n_columns]) if len(names) > n_columns else int(lines[-1]) + 1
        raise DataFileError(msg, path=path, row=row)
    check_unique(names, path, lines, what="feature name")
    return list(names)


def _view_metadata(
    directory: Path,
    n_views: int,
    view_names: Sequence[str] | None,
    modalities: Sequence[Modality] | None,
    views: Sequence[str | Modality] | None,
) -> list[tuple[str, Modality | None, bool]]:
    """Per view: its name, its declared metadata (``None``: kind by MOGONET's order), and
    whether that metadata is used verbatim (``modalities``; ``views`` guess missing id schemes)."""
    given = [n for n, v in (("view_names", view_names), ("modalities", modalities),
                            ("views", views)) if v is not None]  # fmt: skip
    if len(given) > 1:
        msg = f"read_mogonet: pass one of view_names, modalities and views; got {given}."
        raise InvalidParameterError(msg)
    if views is not None:
        if isinstance(views, str):
            views = [v for v in views.split(",") if v.strip()]
        metas = [v if isinstance(v, Modality) else Modality.parse(v) for v in views]
        pairs: list[tuple[str, Modality | None, bool]] = [(m.name, m, False) for m in metas]
    elif modalities is not None:
        pairs = [(m.name, m, True) for m in modalities]
    elif view_names is not None:
        pairs = [(str(n), None, False) for n in view_names]
    elif n_views > len(MOGONET_KINDS):
        msg = (
            f"{directory}: {n_views} views; name each one with views=['name:kind', ...] "
            "(kinds: mRNA, methylation, miRNA, protein, ...)."
        )
        raise DataFileError(msg, path=directory)
    else:
        pairs = [(kind, None, False) for kind in MOGONET_KINDS[:n_views]]
    if len(pairs) != n_views:
        names = [n for n, _, _ in pairs]
        msg = f"{n_views} views found but {len(pairs)} names/modalities given: {names}."
        raise DataFileError(msg, path=directory)
    return pairs


def _view_modality(
    directory: Path,
    i: int,
    name: str,
    declared: Modality | None,
    verbatim: bool,
    features: list[str],
) -> Modality:
    """The view's metadata; features that do not look like the kind are refused or warned of.

    A kind taken from MOGONET's default order is refused when most features look like another
    kind (a view 3 of genomic regions is no miRNA view); a declared kind only gets a warning.
    """
    if declared is not None and (verbatim or declared.id_scheme is not None):
        meta = declared
    else:
        scheme = guess_id_scheme(features)
        if declared is not None:
            meta = Modality(name, declared.kind, scheme)
        elif i <= len(MOGONET_KINDS):
            meta = Modality(name, MOGONET_KINDS[i - 1], scheme)  # type: ignore[arg-type]
        else:
            meta = Modality.from_name(name, scheme)
    mismatch = kind_mismatch(meta.kind, features)
    if mismatch is None:
        return meta
    n_bad, example, looks = mismatch
    path = directory / f"{i}_featname.csv"
    what = (
        f"view {i} ({name!r}) is read as kind {meta.kind!r} but {n_bad} of its {len(features)} "
        f"features {'does' if n_bad == 1 else 'do'} not look like {meta.kind} ids "
        f"(e.g. {show(example)}{looks})"
    )
    if declared is None and 2 * n_bad > len(features):
        defaults = ",".join(MOGONET_KINDS[: i - 1] + ("NAME:KIND",))
        msg = (
            f"{what}. Name and type the views: read_mogonet(..., views=[...]) or "
            f"`--views {defaults}` (KIND one of {', '.join(MODALITY_KINDS)})."
        )
        raise DataFileError(msg, path=path, column=name, value=example)
    logger.warning("%s: %s.", path, what)
    return meta


def read_mogonet(
    path: PathLike,
    view_names: Sequence[str] | None = None,
    *,
    modalities: Sequence[Modality] | None = None,
    views: Sequence[str | Modality] | str | None = None,
    label_names: Mapping[int, str] | None = None,
) -> Cohort:
    """Read a dataset in MOGONET's format, keeping its official train/test split.

    The folder holds, for views ``i = 1..n``, ``{i}_tr.csv`` and ``{i}_te.csv`` (headerless,
    samples × features, no sample ids), ``{i}_featname.csv`` (one feature name per line), and
    ``labels_tr.csv`` / ``labels_te.csv`` (one integer class per line, in row order). Sample ids
    are made up as ``train_0, ...`` and ``test_0, ...``. NaN and inf are refused.

    Views are typed by MOGONET's order (1 = mRNA, 2 = methylation, 3 = miRNA) unless ``views``
    says otherwise; a view whose feature names mostly look like another kind (e.g. genomic
    regions ``chr11_65498959_65503916_+`` as view 3) is refused, naming the view and an example
    feature, rather than typed ``miRNA`` silently.

    Parameters
    ----------
    path : path-like
        The folder.
    view_names : sequence of str, optional
        Modality names of views 1..n; default ``mRNA``, ``methylation``, ``miRNA`` (MOGONET's
        order), kinds alike, id schemes guessed from the feature names.
    modalities : sequence of Modality, optional
        Full metadata of views 1..n.
    views : sequence of str or Modality, or a comma-separated str, optional
        Name and kind of each view 1..n as ``"name"`` (a kind), ``"name:kind"`` or
        ``"name:kind:id_scheme"`` (see :meth:`Modality.parse`), or a :class:`Modality`; needed
        beyond 3 views, e.g. ``["mRNA", "methylation", "regions:methylation:genomic_region"]``.
        The id scheme is guessed from the feature names when not given. Only one of
        ``view_names``, ``modalities`` and ``views`` may be given.
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
    pairs = _view_metadata(directory, n_views, view_names, modalities, views)

    (y_tr, _), (y_te, lines_te) = (
        _mogonet_labels(directory / f"labels_{part}.csv", prefix)
        for part, prefix in (("tr", "train"), ("te", "test"))
    )
    unseen = ~y_te.isin(set(y_tr))
    if unseen.any():
        i = int(np.flatnonzero(unseen.to_numpy())[0])
        msg = (
            f"test label {show(y_te.iloc[i])} is a class unseen in labels_tr.csv (classes "
            f"{show(sorted(set(y_tr)))}); test labels must be a subset of the training labels."
        )
        raise LabelFileError(
            msg, path=directory / "labels_te.csv", row=int(lines_te[i]), sample=y_te.index[i]
        )
    data, metas = {}, []
    for i, (name, declared, verbatim) in enumerate(pairs, start=1):
        train = _mogonet_view(directory, i, "tr", y_tr)
        test = _mogonet_view(directory, i, "te", y_te)
        if test.frame.shape[1] != train.frame.shape[1]:
            n_te, n_tr = test.frame.shape[1], train.frame.shape[1]
            msg = f"{n_te} columns but {i}_tr.csv has {n_tr}; views must match."
            raise DataFileError(
                msg, path=directory / f"{i}_te.csv", row=int(test.lines[0]), sample="test_0"
            )
        features = _mogonet_features(
            directory / f"{i}_featname.csv", train.frame.shape[1], f"{i}_tr.csv"
        )
        blocks = [
            numeric_block(
                table.frame.set_axis(features, axis=1), directory / f"{i}_{part}.csv",
                table.lines, list(y.index), allow_nan=False, headerless=True,
            ).set_axis(y.index)
            for table, part, y in ((train, "tr", y_tr), (test, "te", y_te))
        ]  # fmt: skip
        data[name] = pd.concat(blocks)
        metas.append(_view_modality(directory, i, name, declared, verbatim, features))
    labels = pd.concat([y_tr, y_te])
    if label_names is not None:
        missing = sorted(set(labels) - set(label_names))
        if missing:
            msg = f"label_names has no name for class codes {show(missing)}."
            raise LabelError(msg)
        codes = sorted(label_names)
        labels = labels.map(label_names).astype(
            pd.CategoricalDtype([label_names[c] for c in codes])
        )
    split = pd.Series(["train"] * len(y_tr) + ["test"] * len(y_te), index=labels.index)
    cohort = Cohort(data, metas, labels=labels, split=split)
    logger.info("read MOGONET %s: %s", directory, cohort)
    return cohort
