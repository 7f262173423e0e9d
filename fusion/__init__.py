"""fusion: multimodal patient cohorts fused on a knowledge graph, predicted and explained.

Four packages, each exporting its public names: :mod:`fusion.data` (cohorts, readers,
preprocessing, splits, linking to the KG), :mod:`fusion.models` (estimators, baselines, metrics,
evaluation), :mod:`fusion.explanations` (explanation subgraphs, their queries, RDF and pictures) and
:mod:`fusion.app` (run configurations, the run pipeline, the demo, the CLI). The most used names
are also exported here. ``fusion`` may import :mod:`gnn` and :mod:`kg`, never the reverse.

The public names below are imported lazily, on first use (PEP 562), so that ``import fusion`` and
the ``kgfusion`` command line start without importing torch or scikit-learn until a command needs
them.
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the package that exports it.
_EXPORTS: dict[str, str] = {
    "AlignmentError": "fusion._exceptions",
    "CohortError": "fusion._exceptions",
    "DataFileError": "fusion._exceptions",
    "FusionError": "fusion._exceptions",
    "InvalidParameterError": "fusion._exceptions",
    "CheckpointError": "fusion._exceptions",
    "ModelError": "fusion._exceptions",
    "LabelError": "fusion._exceptions",
    "LabelFileError": "fusion._exceptions",
    "NotFittedError": "fusion._exceptions",
    "SplitError": "fusion._exceptions",
    "MODALITY_KINDS": "fusion.data",
    "Cohort": "fusion.data",
    "Modality": "fusion.data",
    "ModalityKind": "fusion.data",
    "ESTIMATORS": "fusion.app",
    "evaluate_from_config": "fusion.app",
    "fit_from_config": "fusion.app",
    "load_model": "fusion.app",
    "make_estimator": "fusion.app",
    "predictions": "fusion.app",
    "DemoReport": "fusion.app",
    "run_demo": "fusion.app",
    "KGFusionClassifier": "fusion.models",
    "KGFusionSurvival": "fusion.models",
    "EarlyFusionLogistic": "fusion.models",
    "EarlyFusionMLP": "fusion.models",
    "LateFusion": "fusion.models",
    "RandomForestBaseline": "fusion.models",
    "EarlyFusionCoxnet": "fusion.models",
    "RandomSurvivalForestBaseline": "fusion.models",
    "PathwayFeatureLogistic": "fusion.models",
    "PathwayFeatureCox": "fusion.models",
    "PathwayFeatures": "fusion.models",
    "evaluate": "fusion.models",
    "paired_difference": "fusion.models",
    "integrated_brier_score": "fusion.models",
    "summarize": "fusion.models",
    "format_summary": "fusion.models",
    "classification_metrics": "fusion.models",
    "concordance_index": "fusion.models",
    "survival_metrics": "fusion.models",
    "ConfigError": "fusion.app",
    "RunConfig": "fusion.app",
    "CohortFormat": "fusion.data",
    "read_cohort": "fusion.data",
    "read_anndata": "fusion.data",
    "read_breast_tcga": "fusion.data",
    "read_modalities": "fusion.data",
    "read_mogonet": "fusion.data",
    "read_mudata": "fusion.data",
    "ANTIBODY_GENES": "fusion.data",
    "LINK_SCHEMES": "fusion.data",
    "LINK_STATUSES": "fusion.data",
    "CohortLinks": "fusion.data",
    "LinkStatus": "fusion.data",
    "antibody_genes": "fusion.data",
    "link_cohort": "fusion.data",
    "ModalityImputer": "fusion.data",
    "ModalityScaler": "fusion.data",
    "VarianceFilter": "fusion.data",
    "official_split": "fusion.data",
    "repeated_stratified_kfold": "fusion.data",
    "stratified_split": "fusion.data",
    "Explanation": "fusion.explanations",
    "SHARED_TERMS_QUERY": "fusion.explanations",
    "TOP_K_QUERY": "fusion.explanations",
    "explain": "fusion.explanations",
    "contrast": "fusion.explanations",
    "plot_contrast": "fusion.explanations",
    "evaluate_explanations": "fusion.explanations",
    "evaluate_explanations": "fusion.explanations",
    "explanations_to_rdf": "fusion.explanations:to_rdf",
    "plot_subgraph": "fusion.explanations",
    "plot_top_terms": "fusion.explanations",
    "sparql_top": "fusion.explanations",
    "write_explanations_turtle": "fusion.explanations:write_turtle",
    "write_html": "fusion.explanations",
    "ExplanationStore": "fusion.explanations",
    "to_hetero_explanation": "fusion.explanations",
    "PlantedTruth": "fusion.data",
    "make_planted_cohort": "fusion.data",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
