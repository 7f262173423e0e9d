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
from fusion.baselines import EarlyFusionLogistic, EarlyFusionMLP, LateFusion, RandomForestBaseline
from fusion.cohort import MODALITY_KINDS, Cohort, Modality, ModalityKind
from fusion.demo import DemoReport, run_demo
from fusion.estimator import KGFusionClassifier, KGFusionSurvival
from fusion.evaluate import evaluate, format_summary, summarize
from fusion.explain import (
    SHARED_TERMS_QUERY,
    TOP_K_QUERY,
    Explanation,
    explain,
    plot_subgraph,
    plot_top_terms,
    sparql_top,
    write_html,
)
from fusion.explain import to_rdf as explanations_to_rdf
from fusion.explain import write_turtle as write_explanations_turtle
from fusion.config import ConfigError, RunConfig
from fusion.io import (
    CohortFormat,
    read_anndata,
    read_breast_tcga,
    read_cohort,
    read_modalities,
    read_mogonet,
    read_mudata,
)
from fusion.metrics import classification_metrics, concordance_index, survival_metrics
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
from fusion.run import ESTIMATORS, evaluate_from_config, fit_from_config, load_model, make_estimator, predictions
from fusion.split import official_split, repeated_stratified_kfold, stratified_split
from fusion.synthetic import PlantedTruth, make_planted_cohort

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
    "ESTIMATORS",
    "evaluate_from_config",
    "fit_from_config",
    "load_model",
    "make_estimator",
    "predictions",
    "DemoReport",
    "run_demo",
    "KGFusionClassifier",
    "KGFusionSurvival",
    "EarlyFusionLogistic",
    "EarlyFusionMLP",
    "LateFusion",
    "RandomForestBaseline",
    "evaluate",
    "summarize",
    "format_summary",
    "classification_metrics",
    "concordance_index",
    "survival_metrics",
    "ConfigError",
    "RunConfig",
    "CohortFormat",
    "read_cohort",
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
    # explanations
    "Explanation",
    "SHARED_TERMS_QUERY",
    "TOP_K_QUERY",
    "explain",
    "explanations_to_rdf",
    "plot_subgraph",
    "plot_top_terms",
    "sparql_top",
    "write_explanations_turtle",
    "write_html",
    "PlantedTruth",
    "make_planted_cohort",
]
