"""fusion.models: the KG fusion estimators, the baselines, metrics and the evaluation harness.

Estimators follow scikit-learn's conventions over a :class:`~fusion.data.Cohort`
(``fit(cohort)``, ``predict``, ``predict_proba``, ``score``); :func:`evaluate` runs any of them
under the official split or repeated stratified cross-validation (and learning curves), with
:func:`paired_difference` for the gain of one estimator over another on the same folds.
:func:`validate_params` checks hyper-parameters without fitting; :func:`is_model_dir` recognises
a saved model folder. :func:`pretrain` pre-trains the graph encoder on unlabelled patients of
several cohorts (an encoder folder, the estimators' ``pretrained=``) and :func:`transfer`
carries a fitted classifier to a cohort with another feature panel. Names are imported lazily.
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
    "preprocessed": "fusion.models.baselines",
    "tuned_pipeline": "fusion.models.baselines",
    "EarlyFusionCoxnet": "fusion.models.survival_baselines",
    "RandomSurvivalForestBaseline": "fusion.models.survival_baselines",
    "survival_target": "fusion.models.survival_baselines",
    "PathwayFeatureCox": "fusion.models.pathways",
    "PathwayFeatureLogistic": "fusion.models.pathways",
    "PathwayFeatures": "fusion.models.pathways",
    "gene_set_members": "fusion.models.pathways",
    "evaluate": "fusion.models.evaluate",
    "format_summary": "fusion.models.evaluate",
    "paired_difference": "fusion.models.evaluate",
    "summarize": "fusion.models.evaluate",
    "breslow_survival": "fusion.models.metrics",
    "classification_metrics": "fusion.models.metrics",
    "concordance_index": "fusion.models.metrics",
    "evaluation_times": "fusion.models.metrics",
    "integrated_brier_score": "fusion.models.metrics",
    "checked_survival": "fusion.models.metrics",
    "survival_metrics": "fusion.models.metrics",
    "PretrainParams": "fusion.models.pretraining",
    "PretrainedEncoder": "fusion.models.pretraining",
    "cohort_checksum": "fusion.models.pretraining",
    "pretrain": "fusion.models.pretraining",
    "is_encoder_dir": "fusion.models.encoder_folder",
    "read_encoder": "fusion.models.encoder_folder",
    "write_encoder": "fusion.models.encoder_folder",
    "check_coverage": "fusion.models.finetune",
    "transfer": "fusion.models.finetune",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
