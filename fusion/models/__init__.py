"""fusion.models: the KG fusion estimators, the baselines, metrics and the evaluation harness.

Estimators follow scikit-learn's conventions over a :class:`~fusion.data.Cohort`
(``fit(cohort)``, ``predict``, ``predict_proba``, ``score``); :func:`evaluate` runs any of them
under the official split or repeated stratified cross-validation. Names are imported lazily.
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "KGFusionClassifier": "fusion.models.estimator",
    "KGFusionSurvival": "fusion.models.estimator",
    "EarlyFusionLogistic": "fusion.models.baselines",
    "EarlyFusionMLP": "fusion.models.baselines",
    "LateFusion": "fusion.models.baselines",
    "RandomForestBaseline": "fusion.models.baselines",
    "concatenate": "fusion.models.baselines",
    "evaluate": "fusion.models.evaluate",
    "format_summary": "fusion.models.evaluate",
    "summarize": "fusion.models.evaluate",
    "classification_metrics": "fusion.models.metrics",
    "concordance_index": "fusion.models.metrics",
    "survival_metrics": "fusion.models.metrics",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
