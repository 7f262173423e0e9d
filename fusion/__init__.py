"""fusion: multimodal patient cohorts, their readers, preprocessing and splits.

A :class:`Cohort` holds one DataFrame per modality over a shared sample axis, with a presence
mask for patients lacking a modality. ``fusion`` may import :mod:`kg`, never the reverse.
"""

from fusion._exceptions import (
    AlignmentError,
    CohortError,
    DataFileError,
    FusionError,
    InvalidParameterError,
    LabelError,
    LabelFileError,
    NotFittedError,
    SplitError,
)
from fusion.cohort import MODALITY_KINDS, Cohort, Modality, ModalityKind
from fusion.io import read_anndata, read_breast_tcga, read_modalities, read_mogonet, read_mudata
from fusion.link import (
    ANTIBODY_GENES,
    LINK_SCHEMES,
    LINK_STATUSES,
    CohortLinks,
    LinkStatus,
    antibody_genes,
    link_cohort,
)
from fusion.preprocess import ModalityImputer, ModalityScaler, VarianceFilter
from fusion.split import official_split, repeated_stratified_kfold, stratified_split

__all__ = [
    "AlignmentError",
    "CohortError",
    "DataFileError",
    "FusionError",
    "InvalidParameterError",
    "LabelError",
    "LabelFileError",
    "NotFittedError",
    "SplitError",
    "MODALITY_KINDS",
    "Cohort",
    "Modality",
    "ModalityKind",
    "read_anndata",
    "read_breast_tcga",
    "read_modalities",
    "read_mogonet",
    "read_mudata",
    "ANTIBODY_GENES",
    "LINK_SCHEMES",
    "LINK_STATUSES",
    "CohortLinks",
    "LinkStatus",
    "antibody_genes",
    "link_cohort",
    "ModalityImputer",
    "ModalityScaler",
    "VarianceFilter",
    "official_split",
    "repeated_stratified_kfold",
    "stratified_split",
]
