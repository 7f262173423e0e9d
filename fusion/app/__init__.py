"""fusion.app: the application layer: run configurations, the run pipeline, the demo and the CLI.

A :class:`RunConfig` is data (validated YAML); :func:`fit_from_config` and
:func:`evaluate_from_config` act on it; the ``kgfusion`` command line (:data:`app`) calls them.
Names are imported lazily.
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "ConfigError": "fusion.app.config",
    "HoldoutSection": "fusion.app.config",
    "SyntheticSection": "fusion.app.config",
    "CohortSection": "fusion.app.config",
    "EvaluationSection": "fusion.app.config",
    "KGSection": "fusion.app.config",
    "ModelSection": "fusion.app.config",
    "RunConfig": "fusion.app.config",
    "default_data_dir": "fusion.app.config",
    "ESTIMATORS": "fusion.app.estimators",
    "UnknownEstimatorError": "fusion.app.estimators",
    "OutputFolderError": "fusion.app.folders",
    "RunRecord": "fusion.app.record",
    "FitResult": "fusion.app.run",
    "build_run_kg": "fusion.app.run",
    "evaluate_from_config": "fusion.app.run",
    "fit_from_config": "fusion.app.run",
    "load_model": "fusion.app.run",
    "make_estimator": "fusion.app.estimators",
    "RunData": "fusion.app.run",
    "kg_config": "fusion.app.run",
    "prepare": "fusion.app.run",
    "read_run_cohort": "fusion.app.run",
    "predictions": "fusion.app.run",
    "DEMO_SIZES": "fusion.app.demo",
    "METRIC_COLUMNS": "fusion.app.demo",
    "PLANTED_PATHWAYS": "fusion.app.demo",
    "REAL_DATASETS": "fusion.app.demo",
    "DemoReport": "fusion.app.demo",
    "DemoSize": "fusion.app.demo",
    "run_demo": "fusion.app.demo",
    "app": "fusion.app.cli",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
