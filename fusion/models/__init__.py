"""fusion.models: the KG fusion estimators, the baselines, metrics and the evaluation harness.

Estimators follow scikit-learn's conventions over a :class:`~fusion.data.Cohort`
(``fit(cohort)``, ``predict``, ``predict_proba``, ``score``); :func:`evaluate` runs any of them
under the official split or repeated stratified cross-validation. :func:`validate_params` checks
hyper-parameters without fitting; :func:`is_model_dir` recognises a saved model folder. Names are
imported lazily.
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "KGFusionClassifier": "fusion.models.estimator",
    "KGFusionSurvival": "fusion.models.estimator",
    "KGFUSION_CONSTRAINTS": "fusion.models.params",
    "validate_params": "fusion.models.params",
    "is_model_dir": "fusion.models.checkpoint",
    "model_class_name": "fusion.models.checkpoint",
    "read_checkpoint": "fusion.models.checkpoint",
    "write_checkpoint": "fusion.models.checkpoint",
    "cohort_batch": "fusion.models.tensors",
    "EarlyFusionLogistic": "fusion.models.baselines",
    "EarlyFusionMLP": "fusion.models.baselines",
    "LateFusion": "fusion.models.baselines",
    "RandomForestBaseline": "fusion.models.baselines",
    "concatenate": "fusion.models.baselines",
    "tuned_pipeline": "fusion.models.baselines",
    "evaluate": "fusion.models.evaluate",
    "format_summary": "fusion.models.evaluate",
    "summarize": "fusion.models.evaluate",
    "classification_metrics": "fusion.models.metrics",
    "concordance_index": "fusion.models.metrics",
    "survival_metrics": "fusion.models.metrics",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
