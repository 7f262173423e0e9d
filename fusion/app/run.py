"""Run what a :class:`~fusion.app.config.RunConfig` names: build the KG, read the cohort, fit, evaluate.

The pipeline behind ``kgfusion train``, ``kgfusion evaluate``, ``kgfusion predict`` and
``kgfusion demo``, usable from Python with the same behaviour: :func:`prepare` turns a
configuration (data) into a :class:`RunData` (the KG, the cohort and its train/test parts);
:func:`fit_from_config` and :func:`evaluate_from_config` act on it and write their folder whole
(:func:`~fusion.app.folders.staged_folder`) with a run record (:mod:`fusion.app.record`).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusion.app.config import CohortSection, ConfigError, KGSection, RunConfig, default_data_dir
from fusion.app.estimators import (
    ESTIMATORS,
    estimator_class,
    is_kg_model,
    make_estimator,
    takes_kg,
)
from fusion.app.folders import staged_folder
from fusion.app.record import RunRecord, file_checksums
from fusion.data.cohort import Cohort
from fusion.data.synthetic import PlantedTruth
from kg import (
    KGConfig,
    KnowledgeGraph,
    Source,
    build_kg,
    embedded_config,
    load_kg,
    save_kg,
    shared_sources,
)

__all__ = [
    "FitResult",
    "RunData",
    "build_run_kg",
    "evaluate_from_config",
    "fit_from_config",
    "kg_config",
    "load_model",
    "markdown_table",
    "predictions",
    "prepare",
    "read_run_cohort",
    "scores",
]

_MODEL_KG = "kg"


def kg_config(section: KGSection) -> KGConfig:
    """The :class:`kg.KGConfig` a KG section names (``preset`` or ``sources``)."""
    if section.sources is not None:
        return KGConfig(tuple(Source(**entry) for entry in section.sources), section.gene_info)
    if section.preset == "shared":
        return shared_sources(section.data_dir or default_data_dir(), mirna=section.mirna)
    return embedded_config()


def build_run_kg(config: RunConfig, progress: bool = True) -> KnowledgeGraph | None:
    """The knowledge graph the run needs: ``None`` unless a KG model or a synthetic cohort uses it."""
    needed = config.cohort.format == "synthetic" or any(
        takes_kg(name) for name in (config.model.name, *config.evaluation.baselines)
    )
    return build_kg(kg_config(config.kg), progress=progress) if needed else None


def read_run_cohort(section: CohortSection, kg: KnowledgeGraph | None = None) -> Cohort:
    """Read (or, for ``format: synthetic``, draw over ``kg``) the cohort a section names."""
    return _read_cohort(section, kg)[0]


def _read_cohort(
    section: CohortSection, kg: KnowledgeGraph | None
) -> tuple[Cohort, PlantedTruth | None]:
    from fusion.data.io import read_cohort, read_modalities
    from fusion.data.synthetic import make_planted_cohort

    if section.format == "synthetic":
        spec = section.synthetic
        if kg is None:
            raise ConfigError(
                "cohort.synthetic: a synthetic cohort needs the run's knowledge graph"
            )
        return make_planted_cohort(
            kg, spec.pathways, spec.n_samples, spec.modalities, n_features=spec.n_features,
            seed=spec.seed,
        )  # fmt: skip
    if section.format == "modalities":
        cohort = read_modalities(
            dict(section.modalities or {}),
            section.labels,
            sample_column=section.sample_column,
            label_column=section.label_column,
        )
        return cohort, None
    options: dict[str, Any] = {}
    if section.label_names is not None:
        options["label_names"] = section.label_names
    if section.views is not None:
        options["views"] = section.views
    if section.label is not None:
        options["label"] = section.label
    if section.clinical is not None:
        options["clinical"] = section.clinical
    if section.require_all:
        options["require_all"] = True
    if section.modalities is not None:  # multi-omics: names, or options per name
        options["modalities"] = _chosen_modalities(section.modalities)
    cohort = read_cohort(
        section.path,
        section.format,
        sample_column=section.sample_column,
        label_column=section.label_column,
        **options,
    )
    return cohort, None


def _chosen_modalities(modalities: list[str] | dict[str, Any]) -> list[str] | dict[str, Any]:
    """A multi-omics section's modalities as :func:`fusion.data.read_multiomics` takes them."""
    if isinstance(modalities, list):
        return modalities
    return {
        name: value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value
        for name, value in modalities.items()
    }


@dataclass(frozen=True)
class RunData:
    """What a run acts on: the KG (``None`` when no model needs one), the cohort, its parts.

    ``test`` is the official test part, or the configured hold-out (``cohort.holdout``), or
    ``None`` (then ``train`` is the whole cohort). ``truth`` is what a synthetic cohort planted.
    """

    kg: KnowledgeGraph | None
    cohort: Cohort
    train: Cohort
    test: Cohort | None
    truth: PlantedTruth | None = None


def prepare(config: RunConfig, progress: bool = True, record: RunRecord | None = None) -> RunData:
    """Build the KG, read the cohort and split it, as ``config`` says.

    With ``record``, the stages ``"knowledge graph"`` and ``"cohort"`` are timed in it.
    """
    from fusion.data.split import stratified_split

    record = record if record is not None else RunRecord("prepare")
    with record.stage("knowledge graph"):
        kg = build_run_kg(config, progress)
    with record.stage("cohort"):
        cohort, truth = _read_cohort(config.cohort, kg)
    holdout = config.cohort.holdout
    if cohort.split is not None:
        train, test = cohort.train_test()
    elif holdout is not None:
        train_ids, test_ids = stratified_split(cohort, holdout.test_size, seed=holdout.seed)
        train, test = cohort.subset(train_ids), cohort.subset(test_ids)
    else:
        train, test = cohort, None
    return RunData(kg, cohort, train, test, truth)


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit_from_config` produced; ``written`` is False on the ranks > 0 of a
    data-parallel run (they write nothing, and hold no test metrics)."""

    estimator: Any
    model_dir: Path
    test_metrics: dict[str, float]
    n_test: int
    written: bool = True


def scores(estimator: Any, cohort: Cohort) -> dict[str, float]:
    """Held-out metrics of a fitted estimator on ``cohort`` (classification or survival)."""
    from fusion.models.metrics import classification_metrics, survival_metrics

    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(cohort)
        return classification_metrics(cohort.labels.to_numpy(), proba, estimator.classes_)
    survival = cohort.survival
    return survival_metrics(survival["time"], survival["event"], estimator.predict(cohort))


def _inputs(config: RunConfig) -> dict[str, str]:
    """Checksums of the cohort's files (the KG's are in its own cache key)."""
    section = config.cohort
    tables = section.modalities.values() if section.format == "modalities" else ()
    paths = [p for p in (section.path, section.labels, *tables) if p]
    return file_checksums(paths)


def _record(kind: str, config: RunConfig) -> RunRecord:
    params = config.model.params
    seed = params.get("random_state", params.get("seed"))
    return RunRecord(kind, config=config.model_dump(mode="json"), seed=seed, inputs=_inputs(config))


def _model(config: RunConfig, kg: KnowledgeGraph | None, progress: bool) -> Any:
    extra = {"progress": progress} if is_kg_model(config.model.name) else {}
    return make_estimator(config.model.name, {**extra, **config.model.params}, kg)


def fit_from_config(config: RunConfig, out: Path | None = None, progress: bool = True) -> FitResult:
    """Fit the configured model on the training part (all samples without a split) and save it.

    Saves the model to ``out`` (default ``config.output / "model"``) with the pruned KG it used
    (for explanations), ``test_metrics.json`` when there is a test part, and ``run.json``. The
    folder is written whole or not at all, and a folder that kgfusion did not write is refused.

    Started by ``torchrun`` (``WORLD_SIZE`` above 1), it trains data-parallel: every process
    reads the data (rank 0 first, so that it alone builds and caches the KG), the ranks train
    one model together (:mod:`gnn.distributed`), and only rank 0 writes the folder (the record
    says ``world_size``); the other ranks return their (identical) estimator and write nothing.

    Raises
    ------
    ConfigError
        If the model is a baseline (they have no checkpoints).
    fusion.app.folders.OutputFolderError
        If the destination exists and is not a kgfusion model folder.
    fusion.InvalidParameterError
        For a bad model parameter, before the KG is built.
    """
    import torch.distributed as dist

    from fusion.models.tensors import resolve_device
    from gnn.distributed import init_distributed, is_main_process

    folder = Path(out) if out is not None else config.output / "model"
    if not is_kg_model(config.model.name):
        msg = (
            f"model.name: {config.model.name!r} is a baseline without checkpoints; train a "
            "kgfusion model (baselines run in evaluate)"
        )
        raise ConfigError(msg)
    _model(config, None, progress)  # validates the parameters before the KG is built
    started = init_distributed(resolve_device(str(config.model.params.get("device", "auto"))))
    try:
        return _fit_and_save(config, folder, progress and is_main_process())
    finally:
        if started:
            dist.destroy_process_group()


def _fit_and_save(config: RunConfig, folder: Path, progress: bool) -> FitResult:
    """:func:`fit_from_config` after its checks; writes only on rank 0."""
    from fusion.models import is_model_dir
    from gnn.distributed import main_process_first, world

    rank, world_size = world()
    record = _record("model", config)
    # rank 0 checks the destination before any work; the other ranks write nothing
    output = staged_folder(folder, "model", recognise=is_model_dir) if rank == 0 else nullcontext()
    with output as staging:
        with main_process_first():
            data = prepare(config, progress, record)
        estimator = _model(config, data.kg, progress)
        with record.stage("fit"):
            estimator.fit(data.train)
        n_test = 0 if data.test is None else data.test.n_samples
        if staging is None:
            return FitResult(estimator, folder, {}, n_test, written=False)
        metrics = scores(estimator, data.test) if data.test is not None else {}
        estimator.save(staging)
        if data.kg is not None and hasattr(estimator, "graph_"):
            save_kg(data.kg.subgraph(estimator.graph_.node_ids), staging / _MODEL_KG)
        (staging / "test_metrics.json").write_text(
            json.dumps({"n_test": n_test, **metrics}, indent=1)
        )
        record.results = {
            "n_train": data.train.n_samples,
            "n_test": n_test,
            "test": metrics,
            "world_size": world_size,
        }
        record.write(staging)
    return FitResult(estimator, folder, metrics, n_test)


def load_model(path: str | Path) -> Any:
    """Load a model folder written by :func:`fit_from_config` (or an estimator's ``save``).

    Raises
    ------
    fusion.models.CheckpointError
        If ``path`` is not a kgfusion model folder, or a file in it is corrupt (naming it).
    """
    from fusion.models import model_class_name

    folder = Path(path)
    name = model_class_name(folder)
    classes = {target.partition(":")[2]: key for key, (target, _) in reversed(ESTIMATORS.items())}
    if name not in classes:
        raise ConfigError(f"{folder / 'config.json'}: unknown model class {name!r}")
    estimator = estimator_class(classes[name]).load(folder)
    if (folder / _MODEL_KG).exists():
        estimator.set_params(kg=load_kg(folder / _MODEL_KG))
    return estimator


def predictions(estimator: Any, cohort: Cohort) -> pd.DataFrame:
    """Per-sample predictions: class and probabilities, or risk for survival models."""
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(cohort)
        columns = [f"p_{c}" for c in estimator.classes_]
        table = pd.DataFrame(proba, index=cohort.samples, columns=columns)
        table.insert(0, "predicted", estimator.classes_[np.argmax(proba, axis=1)])
    else:
        table = pd.DataFrame({"risk": estimator.predict(cohort)}, index=cohort.samples)
    if cohort.labels is not None:
        table.insert(0, "label", cohort.labels.to_numpy())
    return table


def evaluate_from_config(
    config: RunConfig, out: Path | None = None, progress: bool = True
) -> tuple[pd.DataFrame, Path]:
    """Evaluate the configured model and baselines; writes ``results.csv``, ``summary.md`` and
    ``run.json`` into ``out`` (default ``config.output / "evaluation"``), whole or not at all."""
    from fusion.models.evaluate import evaluate, format_summary, summarize

    folder = Path(out) if out is not None else config.output / "evaluation"
    record = _record("evaluation", config)
    _model(config, None, progress)
    with staged_folder(folder, "evaluation") as staging:
        data = prepare(config, progress, record)
        estimators = {config.model.name: _model(config, data.kg, False)}
        for name in config.evaluation.baselines:
            # a variant of the model's own class (e.g. the shuffled-KG ablation) shares its parameters
            same = ESTIMATORS[name][0] == ESTIMATORS[config.model.name][0]
            estimators[name] = make_estimator(name, config.model.params if same else {}, data.kg)
        ev = config.evaluation
        with record.stage("evaluate"):
            results = evaluate(
                estimators,
                data.cohort,
                protocol=ev.protocol,
                seeds=ev.seeds,
                n_splits=ev.n_splits,
                n_repeats=ev.n_repeats,
                progress=progress,
            )
        summary = format_summary(summarize(results))
        results.to_csv(staging / "results.csv", index=False)
        (staging / "summary.md").write_text(markdown_table(summary))
        record.results = {"summary": json.loads(summary.to_json(orient="index"))}
        record.write(staging)
    return summary, folder


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown table of ``table`` (its index as the first column)."""
    frame = table.reset_index()
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"
