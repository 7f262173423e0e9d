"""Run what a :class:`~fusion.app.config.RunConfig` names: build the KG, read the cohort, fit, evaluate.

The functions behind ``kgfusion train``, ``kgfusion evaluate`` and ``kgfusion predict``, usable
from Python with the same behaviour.
"""

from __future__ import annotations

import importlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusion.data.cohort import Cohort
from fusion.app.config import ConfigError, ModelSection, RunConfig
from fusion.models.metrics import classification_metrics, survival_metrics
from kg import KnowledgeGraph, build_kg, load_kg, save_kg

__all__ = [
    "ESTIMATORS",
    "FitResult",
    "build_run_kg",
    "evaluate_from_config",
    "fit_from_config",
    "load_model",
    "make_estimator",
    "predictions",
]

#: Estimators a configuration may name: name → (``"module:Class"``, default parameters).
ESTIMATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "kgfusion": ("fusion.models.estimator:KGFusionClassifier", {}),
    "kgfusion_shuffled": ("fusion.models.estimator:KGFusionClassifier", {"shuffle_graph": True}),
    "kgfusion_nograph": ("fusion.models.estimator:KGFusionClassifier", {"use_graph": False}),
    "kgfusion_survival": ("fusion.models.estimator:KGFusionSurvival", {}),
    "early_lr": ("fusion.models.baselines:EarlyFusionLogistic", {}),
    "early_mlp": ("fusion.models.baselines:EarlyFusionMLP", {}),
    "late_average": ("fusion.models.baselines:LateFusion", {"method": "average"}),
    "late_stacking": ("fusion.models.baselines:LateFusion", {"method": "stacking"}),
    "rf": ("fusion.models.baselines:RandomForestBaseline", {}),
}

_MODEL_KG = "kg"


def _resolve(name: str) -> type:
    if name not in ESTIMATORS:
        raise ConfigError(f"model.name: unknown estimator {name!r}; expected one of {sorted(ESTIMATORS)}")
    module, _, attribute = ESTIMATORS[name][0].partition(":")
    return getattr(importlib.import_module(module), attribute)


def _takes_kg(name: str) -> bool:
    return name in ESTIMATORS and ESTIMATORS[name][0].startswith("fusion.models.estimator:")


def make_estimator(section: ModelSection | str, kg: KnowledgeGraph | None = None, **overrides: Any) -> Any:
    """An unfitted estimator from a registry name and parameters.

    Raises
    ------
    ConfigError
        For an unknown name or parameter (naming it).
    """
    section = ModelSection(name=section) if isinstance(section, str) else section
    cls = _resolve(section.name)
    params = {**ESTIMATORS[section.name][1], **section.params, **overrides}
    if _takes_kg(section.name):
        params.setdefault("kg", kg)
    valid = set(cls().get_params(deep=False))
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ConfigError(f"model.params: unknown parameter(s) {unknown} for {section.name!r}; valid: {sorted(valid)}")
    return cls(**params)


def build_run_kg(config: RunConfig, progress: bool = True) -> KnowledgeGraph | None:
    """The knowledge graph the run's model needs (``None`` when it takes none)."""
    if not any(_takes_kg(name) for name in (config.model.name, *config.evaluation.baselines)):
        return None
    return build_kg(config.kg.kg_config(), progress=progress)


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit_from_config` produced."""

    estimator: Any
    model_dir: Path
    test_metrics: dict[str, float]
    n_test: int


def _scores(estimator: Any, cohort: Cohort) -> dict[str, float]:
    if hasattr(estimator, "predict_proba"):
        return classification_metrics(cohort.labels.to_numpy(), estimator.predict_proba(cohort), estimator.classes_)
    survival = cohort.survival
    return survival_metrics(survival["time"], survival["event"], estimator.predict(cohort))


def fit_from_config(config: RunConfig, out: Path | None = None, progress: bool = True) -> FitResult:
    """Fit the configured model on the training part (all samples without an official split).

    Saves the model to ``out`` (default ``config.output / "model"``) with the pruned KG it used
    (for explanations) and, when there is a test part, ``test_metrics.json`` beside it.
    """
    folder = Path(out) if out is not None else config.output / "model"
    if folder.exists() and any(folder.iterdir()) and not (folder / "config.json").exists():
        raise ConfigError(f"{folder}: exists and is not a model folder; refusing to replace it")
    if not _takes_kg(config.model.name):
        msg = f"model.name: {config.model.name!r} is a baseline without checkpoints; train a kgfusion model (baselines run in evaluate)"
        raise ConfigError(msg)
    kg = build_run_kg(config, progress)
    cohort = config.cohort.read()
    train, test = cohort.train_test() if cohort.split is not None else (cohort, None)
    estimator = make_estimator(config.model, kg, **_progress_param(config.model, progress))
    estimator.fit(train)
    metrics = _scores(estimator, test) if test is not None else {}
    n_test = 0 if test is None else test.n_samples
    # written beside the destination and renamed at the end: never a half-written model folder
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        estimator.save(staging)
        if kg is not None and hasattr(estimator, "graph_"):
            save_kg(kg.subgraph(estimator.graph_.node_ids), staging / _MODEL_KG)
        (staging / "test_metrics.json").write_text(json.dumps({"n_test": n_test, **metrics}, indent=1))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return FitResult(estimator, folder, metrics, n_test)


def _progress_param(section: ModelSection, progress: bool) -> dict[str, Any]:
    return {"progress": progress} if _takes_kg(section.name) and "progress" not in section.params else {}


def load_model(path: str | Path) -> Any:
    """Load a model folder written by :func:`fit_from_config` (or an estimator's ``save``)."""
    folder = Path(path)
    config = folder / "config.json"
    if not config.exists():
        raise ConfigError(f"{folder}: not a model folder (no config.json)")
    name = json.loads(config.read_text()).get("class")
    classes = {target.partition(":")[2]: key for key, (target, _) in reversed(ESTIMATORS.items())}
    if name not in classes:
        raise ConfigError(f"{config}: unknown model class {name!r}")
    estimator = _resolve(classes[name]).load(folder)
    if (folder / _MODEL_KG).exists():
        estimator.set_params(kg=load_kg(folder / _MODEL_KG))
    return estimator


def predictions(estimator: Any, cohort: Cohort) -> pd.DataFrame:
    """Per-sample predictions: class and probabilities, or risk for survival models."""
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(cohort)
        table = pd.DataFrame(proba, index=cohort.samples, columns=[f"p_{c}" for c in estimator.classes_])
        table.insert(0, "predicted", estimator.classes_[np.argmax(proba, axis=1)])
    else:
        table = pd.DataFrame({"risk": estimator.predict(cohort)}, index=cohort.samples)
    if cohort.labels is not None:
        table.insert(0, "label", cohort.labels.to_numpy())
    return table


def evaluate_from_config(config: RunConfig, out: Path | None = None, progress: bool = True) -> tuple[pd.DataFrame, Path]:
    """Evaluate the configured model and baselines; writes ``results.csv`` and ``summary.md``."""
    from fusion.models.evaluate import evaluate, format_summary, summarize

    kg = build_run_kg(config, progress)
    cohort = config.cohort.read()
    estimators = {config.model.name: make_estimator(config.model, kg)}
    for name in config.evaluation.baselines:
        # a variant of the model's own class (e.g. the shuffled-KG ablation) shares its parameters
        same = ESTIMATORS.get(name, ("",))[0] == ESTIMATORS[config.model.name][0]
        section = ModelSection(name=name, params=config.model.params if same else {})
        estimators[name] = make_estimator(section, kg)
    ev = config.evaluation
    results = evaluate(
        estimators,
        cohort,
        protocol=ev.protocol,
        seeds=ev.seeds,
        n_splits=ev.n_splits,
        n_repeats=ev.n_repeats,
        progress=progress,
    )
    summary = format_summary(summarize(results))
    folder = Path(out) if out is not None else config.output
    folder.mkdir(parents=True, exist_ok=True)
    results.to_csv(folder / "results.csv", index=False)
    (folder / "summary.md").write_text(_markdown(summary))
    return summary, folder


def _markdown(table: pd.DataFrame) -> str:
    frame = table.reset_index()
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"
