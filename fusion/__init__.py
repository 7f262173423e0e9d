"""fusion: multimodal patient cohorts, their readers, preprocessing and splits.

A :class:`Cohort` holds one DataFrame per modality over a shared sample axis, with a presence
mask for patients lacking a modality. ``fusion`` may import :mod:`kg`, never the reverse.

The public names below are imported lazily, on first use (PEP 562), so that ``import fusion`` and
the ``kgfusion`` command line start without importing torch or scikit-learn until a command needs
them.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → (module, attribute).
_EXPORTS: dict[str, tuple[str, str]] = {
    "AlignmentError": ("fusion._exceptions", "AlignmentError"),
    "CohortError": ("fusion._exceptions", "CohortError"),
    "DataFileError": ("fusion._exceptions", "DataFileError"),
    "FusionError": ("fusion._exceptions", "FusionError"),
    "InvalidParameterError": ("fusion._exceptions", "InvalidParameterError"),
    "LabelError": ("fusion._exceptions", "LabelError"),
    "LabelFileError": ("fusion._exceptions", "LabelFileError"),
    "NotFittedError": ("fusion._exceptions", "NotFittedError"),
    "SplitError": ("fusion._exceptions", "SplitError"),
    "MODALITY_KINDS": ("fusion.cohort", "MODALITY_KINDS"),
    "Cohort": ("fusion.cohort", "Cohort"),
    "Modality": ("fusion.cohort", "Modality"),
    "ModalityKind": ("fusion.cohort", "ModalityKind"),
    "ESTIMATORS": ("fusion.run", "ESTIMATORS"),
    "evaluate_from_config": ("fusion.run", "evaluate_from_config"),
    "fit_from_config": ("fusion.run", "fit_from_config"),
    "load_model": ("fusion.run", "load_model"),
    "make_estimator": ("fusion.run", "make_estimator"),
    "predictions": ("fusion.run", "predictions"),
    "DemoReport": ("fusion.demo", "DemoReport"),
    "run_demo": ("fusion.demo", "run_demo"),
    "KGFusionClassifier": ("fusion.estimator", "KGFusionClassifier"),
    "KGFusionSurvival": ("fusion.estimator", "KGFusionSurvival"),
    "EarlyFusionLogistic": ("fusion.baselines", "EarlyFusionLogistic"),
    "EarlyFusionMLP": ("fusion.baselines", "EarlyFusionMLP"),
    "LateFusion": ("fusion.baselines", "LateFusion"),
    "RandomForestBaseline": ("fusion.baselines", "RandomForestBaseline"),
    "evaluate": ("fusion.evaluate", "evaluate"),
    "summarize": ("fusion.evaluate", "summarize"),
    "format_summary": ("fusion.evaluate", "format_summary"),
    "classification_metrics": ("fusion.metrics", "classification_metrics"),
    "concordance_index": ("fusion.metrics", "concordance_index"),
    "survival_metrics": ("fusion.metrics", "survival_metrics"),
    "ConfigError": ("fusion.config", "ConfigError"),
    "RunConfig": ("fusion.config", "RunConfig"),
    "CohortFormat": ("fusion.io", "CohortFormat"),
    "read_cohort": ("fusion.io", "read_cohort"),
    "read_anndata": ("fusion.io", "read_anndata"),
    "read_breast_tcga": ("fusion.io", "read_breast_tcga"),
    "read_modalities": ("fusion.io", "read_modalities"),
    "read_mogonet": ("fusion.io", "read_mogonet"),
    "read_mudata": ("fusion.io", "read_mudata"),
    "ANTIBODY_GENES": ("fusion.link", "ANTIBODY_GENES"),
    "LINK_SCHEMES": ("fusion.link", "LINK_SCHEMES"),
    "LINK_STATUSES": ("fusion.link", "LINK_STATUSES"),
    "CohortLinks": ("fusion.link", "CohortLinks"),
    "LinkStatus": ("fusion.link", "LinkStatus"),
    "antibody_genes": ("fusion.link", "antibody_genes"),
    "link_cohort": ("fusion.link", "link_cohort"),
    "ModalityImputer": ("fusion.preprocess", "ModalityImputer"),
    "ModalityScaler": ("fusion.preprocess", "ModalityScaler"),
    "VarianceFilter": ("fusion.preprocess", "VarianceFilter"),
    "official_split": ("fusion.split", "official_split"),
    "repeated_stratified_kfold": ("fusion.split", "repeated_stratified_kfold"),
    "stratified_split": ("fusion.split", "stratified_split"),
    "Explanation": ("fusion.explain", "Explanation"),
    "SHARED_TERMS_QUERY": ("fusion.explain", "SHARED_TERMS_QUERY"),
    "TOP_K_QUERY": ("fusion.explain", "TOP_K_QUERY"),
    "explain": ("fusion.explain", "explain"),
    "explanations_to_rdf": ("fusion.explain", "to_rdf"),
    "plot_subgraph": ("fusion.explain", "plot_subgraph"),
    "plot_top_terms": ("fusion.explain", "plot_top_terms"),
    "sparql_top": ("fusion.explain", "sparql_top"),
    "write_explanations_turtle": ("fusion.explain", "write_turtle"),
    "write_html": ("fusion.explain", "write_html"),
    "PlantedTruth": ("fusion.synthetic", "PlantedTruth"),
    "make_planted_cohort": ("fusion.synthetic", "make_planted_cohort"),
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        msg = f"module 'fusion' has no attribute {name!r}"
        raise AttributeError(msg)
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
