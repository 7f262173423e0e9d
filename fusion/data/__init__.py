"""fusion.data: cohorts, their readers, preprocessing, splits, synthetic cohorts and linking.

A :class:`Cohort` holds one DataFrame per modality over a shared sample axis with a presence mask;
readers build one from files (:func:`read_cohort`), :func:`link_cohort` maps its features onto
knowledge-graph ids (:class:`CohortLinks`), and the transformers and splits act on it. Names are
imported lazily (see :mod:`fusion`).
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "MODALITY_KINDS": "fusion.data.modality",
    "Cohort": "fusion.data.cohort",
    "Modality": "fusion.data.modality",
    "ModalityKind": "fusion.data.modality",
    "CohortFormat": "fusion.data.formats",
    "read_cohort": "fusion.data.io",
    "read_anndata": "fusion.data.io",
    "read_breast_tcga": "fusion.data.tables",
    "read_modalities": "fusion.data.tables",
    "read_mogonet": "fusion.data.mogonet",
    "read_mudata": "fusion.data.io",
    "read_multiomics": "fusion.data.multiomics",
    "KNOWN_TABLES": "fusion.data.multiomics",
    "ModalityOptions": "fusion.data.multiomics",
    "LABEL_NAMES": "fusion.data.labels",
    "LabelSpec": "fusion.data.labels",
    "parse_threshold": "fusion.data.labels",
    "clinical_features": "fusion.data.clinical",
    "clinical_labels": "fusion.data.clinical",
    "log1p": "fusion.data.clinical",
    "ANTIBODY_GENES": "fusion.data.resolvers",
    "LINK_SCHEMES": "fusion.data.resolvers",
    "LINK_STATUSES": "fusion.data.link",
    "CohortLinks": "fusion.data.link",
    "LinkStatus": "fusion.data.link",
    "antibody_genes": "fusion.data.resolvers",
    "link_cohort": "fusion.data.link",
    "ModalityImputer": "fusion.data.preprocess",
    "ModalityScaler": "fusion.data.preprocess",
    "VarianceFilter": "fusion.data.preprocess",
    "check_inner_split": "fusion.data.split",
    "official_split": "fusion.data.split",
    "repeated_stratified_kfold": "fusion.data.split",
    "stratified_split": "fusion.data.split",
    "PlantedTruth": "fusion.data.synthetic",
    "make_planted_cohort": "fusion.data.synthetic",
    "pathway_genes": "fusion.data.synthetic",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
