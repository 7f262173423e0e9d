"""The one-command demo: a knowledge graph, a cohort, the KG fusion model against a baseline,
three explained test patients, and a report folder (tables, pictures, Turtle, an HTML page).

:func:`run_demo` is a run of the ordinary pipeline (:mod:`fusion.app.run`) on a configuration
that :func:`demo_config` writes: offline, the embedded default graph (Reactome 2025,
:mod:`kg.bundled`) and a synthetic cohort with a planted pathway signal
(:func:`fusion.make_planted_cohort`), held out 75/25; the report says where the planted pathways
rank in the explanations. With ``real="rosmap"`` it runs on the MOGONET ROSMAP benchmark
(official split) with GO + Reactome from the shared data folder.

The report is written whole or not at all (:func:`fusion.app.folders.staged_folder`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from tqdm.auto import tqdm

from fusion._exceptions import InvalidParameterError
from fusion.app.config import (
    CohortSection,
    EvaluationSection,
    HoldoutSection,
    KGSection,
    ModelSection,
    RunConfig,
    SyntheticSection,
    default_data_dir,
)
from fusion.app.estimators import make_estimator
from fusion.app.folders import check_replaceable, staged_folder
from fusion.app.record import RunRecord
from fusion.app.report import (
    Problem,
    pick_patients,
    planted_ranks,
    run_results,
    slug,
    write_report,
)
from fusion.app.run import kg_config, prepare
from fusion.explanations import Explanation, explain
from fusion.models.metrics import classification_metrics
from fusion.models.tensors import torch_threads
from kg import SHARED_FILES

__all__ = [
    "DEMO_SIZES",
    "METRIC_COLUMNS",
    "PLANTED_PATHWAYS",
    "REAL_DATASETS",
    "DemoReport",
    "DemoSize",
    "demo_config",
    "run_demo",
]

#: Pathways whose activity drives the synthetic label: folate metabolism and the TCA cycle.
PLANTED_PATHWAYS: tuple[str, ...] = ("reactome:R-HSA-196757", "reactome:R-HSA-71403")
#: Real datasets :func:`run_demo` knows, by name: folder in the shared data folder.
REAL_DATASETS: dict[str, str] = {"rosmap": "mogonet_rosmap"}
#: Metrics of ``metrics.csv`` (see :func:`fusion.models.metrics.classification_metrics`).
METRIC_COLUMNS: tuple[str, ...] = ("acc", "f1_macro", "auc")

_MODALITIES = ["mRNA", "protein", "methylation"]
_ROSMAP_LABELS = {0: "NC", 1: "AD"}
#: Keys of :data:`kg.SHARED_FILES` whose sources make the ROSMAP graph.
_ROSMAP_SOURCES = ("go", "gene2go", "reactome_names", "reactome_gmt")
_ROSMAP_FILES = (*_ROSMAP_SOURCES, "gene_info", "reactome_hierarchy")
_STAGES = ("knowledge graph", "cohort", "KG fusion model", "baseline", "explanations", "report")
_TITLES = {
    None: "Synthetic cohort with planted pathways (embedded Reactome 2025 graph)",
    "rosmap": "ROSMAP Alzheimer's disease vs control (MOGONET split; GO + Reactome graph)",
}


@dataclass(frozen=True)
class DemoSize:
    """How big the demo is (the defaults fit in two minutes on two CPU cores).

    Attributes
    ----------
    n_samples : int
        Synthetic patients (ignored on real data) (default: ``200``).
    n_features : int
        Synthetic features per modality (ignored on real data) (default: ``300``).
    max_epochs : int
        Maximum training epochs of each ensemble member (early stopping applies) (default: ``100``).
    n_ensemble : int
        Ensemble members (default: ``2``).
    n_steps : int
        Integrated-gradients steps, for ``method="ig"`` explanations (default: ``32``).
    n_aggregate : int
        Test patients explained for the per-class top-term summary, the three shown included
        (default: ``24``).
    """

    n_samples: int = 200
    n_features: int = 300
    max_epochs: int = 100
    n_ensemble: int = 2
    n_steps: int = 32
    n_aggregate: int = 24


#: Named sizes: ``"default"`` (the command line's), ``"small"`` (seconds; for tests).
DEMO_SIZES: dict[str, DemoSize] = {
    "default": DemoSize(),
    "small": DemoSize(
        n_samples=60, n_features=150, max_epochs=2, n_ensemble=1, n_steps=4, n_aggregate=6
    ),
}


@dataclass(frozen=True)
class DemoReport:
    """What :func:`run_demo` wrote and measured.

    Attributes
    ----------
    out : Path
        The report folder.
    index : Path
        Its ``index.html``.
    metrics : pandas.DataFrame
        Held-out metrics (:data:`METRIC_COLUMNS`), one row per model (``"KG fusion"``,
        ``"baseline"``).
    explanations : dict of str to Path
        Patient id → ``explanation_<patient>.csv``.
    pictures : list of Path
        The PNG files.
    turtle : Path
        The explanations as Turtle.
    run_json : Path
        Seed, versions, timings, planted pathways and their ranks.
    planted_ranks : pandas.DataFrame
        Rank of each planted pathway (columns) among the pathways of the model's graph, in each
        explanation (rows: the patients, then the class and test-set aggregates); empty on
        real data. ``attrs["n_pathways"]`` is the number of pathways ranked.
    timings : dict of str to float
        Seconds per stage.
    """

    out: Path
    index: Path
    metrics: pd.DataFrame
    explanations: dict[str, Path]
    pictures: list[Path]
    turtle: Path
    run_json: Path
    planted_ranks: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)


def _resolve_data_dir(data_dir: str | Path | None) -> Path:
    path = Path(data_dir) if data_dir is not None else default_data_dir()
    if not path.is_dir():
        msg = (
            f"shared data folder not found: {path.resolve()}; pass --data-dir (data_dir=) or set "
            "KGFUSION_DATA to the folder holding mogonet_rosmap/, go/ and reactome/."
        )
        raise FileNotFoundError(msg)
    needed = [REAL_DATASETS["rosmap"], *(SHARED_FILES[k] for k in _ROSMAP_FILES)]
    missing = [str(path / f) for f in needed if not (path / f).exists()]
    if missing:
        raise FileNotFoundError(f"{path.resolve()}: missing {', '.join(missing)}")
    return path


def _check_size(size: str | DemoSize) -> DemoSize:
    if isinstance(size, DemoSize):
        return size
    if size not in DEMO_SIZES:
        msg = (
            f"The 'size' parameter of run_demo must be one of {sorted(DEMO_SIZES)} or a "
            f"DemoSize. Got {size!r} instead."
        )
        raise InvalidParameterError(msg)
    return DEMO_SIZES[size]


def demo_config(
    out: str | Path = "kgfusion-report",
    *,
    seed: int = 0,
    real: Literal["rosmap"] | None = None,
    data_dir: str | Path | None = None,
    size: str | DemoSize = "default",
    device: str = "cpu",
) -> RunConfig:
    """The run configuration :func:`run_demo` runs (parameters as there).

    Raises
    ------
    FileNotFoundError
        If ``real`` is set and the shared data folder (or a file in it) is missing.
    InvalidParameterError
        If ``real`` or ``size`` is unknown.
    """
    demo_size = _check_size(size)
    if real is not None and real not in REAL_DATASETS:
        msg = (
            f"The 'real' parameter of run_demo must be one of {sorted(REAL_DATASETS)} or None. "
            f"Got {real!r} instead."
        )
        raise InvalidParameterError(msg)
    params = {
        "max_epochs": demo_size.max_epochs,
        "n_ensemble": demo_size.n_ensemble,
        "random_state": seed,
        "device": device,
    }
    model = ModelSection(name="kgfusion", params=params)
    evaluation = EvaluationSection(protocol="official", seeds=[seed], baselines=["early_lr"])
    if real is None:
        synthetic = SyntheticSection(
            pathways=list(PLANTED_PATHWAYS), n_samples=demo_size.n_samples,
            n_features=demo_size.n_features, modalities=_MODALITIES, seed=seed,
        )  # fmt: skip
        cohort = CohortSection(
            format="synthetic",
            synthetic=synthetic,
            holdout=HoldoutSection(test_size=0.25, seed=seed),
        )
        return RunConfig(kg=KGSection(preset="embedded"), cohort=cohort, model=model,
                         evaluation=evaluation, output=Path(out))  # fmt: skip
    shared = _resolve_data_dir(data_dir)
    full = kg_config(KGSection(preset="shared", data_dir=shared))
    keep = {shared / SHARED_FILES[k] for k in _ROSMAP_SOURCES}
    sources = [
        {"path": s.path, "format": s.format, "options": dict(s.options)}
        for s in full.sources
        if s.path in keep
    ]
    kg = KGSection(sources=sources, gene_info=full.gene_info)
    cohort = CohortSection(
        format="mogonet", path=shared / REAL_DATASETS[real], label_names=_ROSMAP_LABELS
    )
    return RunConfig(kg=kg, cohort=cohort, model=model, evaluation=evaluation, output=Path(out))


def run_demo(
    out: str | Path = "kgfusion-report",
    *,
    seed: int = 0,
    real: Literal["rosmap"] | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    size: str | DemoSize = "default",
    device: str = "cpu",
    threads: int = 1,
) -> DemoReport:
    """Build a graph and a cohort, train and explain, and write a report folder.

    Steps (the pipeline of :mod:`fusion.app.run` on :func:`demo_config`): (1) the knowledge
    graph (embedded Reactome, or GO + Reactome from the shared data with ``real``), cached;
    (2) the cohort: synthetic with planted pathways, three modalities, some patients lacking one
    (or ROSMAP); (3) a held-out split (stratified 75/25, or the official one); (4)
    :class:`~fusion.models.KGFusionClassifier` and :class:`~fusion.models.EarlyFusionLogistic`
    fitted on the training patients only; (5) metrics on the test patients; (6) explanations of
    three test patients (one per class correctly predicted and, when there is one, a patient
    lacking a modality) and per-class aggregates over ``size.n_aggregate`` test patients;
    (7) the report, with a run record (``run.json``).

    Parameters
    ----------
    out : str or Path
        Report folder (default: ``kgfusion-report``); an earlier report there is replaced.
    seed : int
        Seed of the cohort, split, models (default: ``0``); same seed, same report numbers.
    real : {"rosmap"}, optional
        Run on a real dataset of the shared data folder instead of synthetic data.
    data_dir : str or Path, optional
        The shared data folder (default: ``$KGFUSION_DATA``, else ``../shared/data``).
    progress : bool
        Show progress bars (default: ``True``).
    size : str or DemoSize
        ``"default"``, ``"small"`` (:data:`DEMO_SIZES`) or a :class:`DemoSize`.
    device : str
        Torch device of the model (default: ``"cpu"``, bit-for-bit deterministic).
    threads : int
        Torch CPU threads during the run, restored afterwards (default: ``1``: the model's
        small sparse operations gain little from more, and lose much on a busy machine).

    Returns
    -------
    DemoReport

    Raises
    ------
    FileNotFoundError
        If ``real`` is set and the shared data folder (or a file in it) is missing.
    FileExistsError
        If ``out`` exists and is not an earlier demo report.
    InvalidParameterError
        If ``real`` or ``size`` is unknown.

    Examples
    --------
    >>> report = run_demo("report", size="small", progress=False)  # doctest: +SKIP
    >>> report.metrics.loc["KG fusion", "auc"]  # doctest: +SKIP
    """
    demo_size = _check_size(size)
    config = demo_config(
        out, seed=seed, real=real, data_dir=data_dir, size=demo_size, device=device
    )
    out = Path(out)
    check_replaceable(out, "demo")
    record = RunRecord("demo", config=config.model_dump(mode="json"), seed=seed)
    bar = tqdm(total=len(_STAGES), desc="kgfusion demo", unit="step", disable=not progress)

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        bar.set_postfix_str(name)
        with record.stage(name):
            yield
        bar.update()

    try:
        with torch_threads(threads), staged_folder(out, "demo") as folder:
            data = prepare(config, progress, record)
            bar.update(2)
            train, test = data.train, data.test
            with stage("KG fusion model"):
                params = {**config.model.params, "progress": progress}
                model = make_estimator(config.model.name, params, data.kg).fit(train)
                proba = model.predict_proba(test)
            with stage("baseline"):
                baseline = make_estimator("early_lr", {"random_state": seed}).fit(train)
                baseline_proba = baseline.predict_proba(test)
            truth = test.labels.astype(str).to_numpy()
            metrics = pd.DataFrame(
                [
                    classification_metrics(truth, proba, [str(c) for c in model.classes_]),
                    classification_metrics(
                        truth, baseline_proba, [str(c) for c in baseline.classes_]
                    ),
                ],
                index=pd.Index(["KG fusion", "baseline"], name="model"),
            )[list(METRIC_COLUMNS)]
            planted = list(data.truth.pathways) if data.truth is not None else []
            with stage("explanations"):
                chosen = pick_patients(test, proba, model.classes_)
                others = [s for s in test.samples if s not in chosen]
                extra = others[: max(demo_size.n_aggregate - len(chosen), 0)]
                explained = explain(
                    model, test, [*chosen, *extra], "contribution", n_steps=demo_size.n_steps
                )
                decomposed = None
                if planted:
                    genes = explain(
                        model, test, [*chosen, *extra], "ig_features", n_steps=demo_size.n_steps
                    )
                    decomposed = Explanation.aggregate(genes, absolute=True)["cohort"].decompose(
                        "pathway"
                    )
            with stage("report"):
                ranks = planted_ranks(planted, len(chosen), explained, decomposed)
                problem = Problem(
                    _TITLES[real], data.kg, data.cohort, train.n_samples, test.n_samples
                )
                files = write_report(
                    folder, problem, model, test, metrics, explained, chosen, ranks
                )
            record.timings_s["total"] = round(sum(record.timings_s.values()), 3)
            record.results = run_results(data, model, metrics, ranks, explained, chosen, files)
            record.results["size"] = asdict(demo_size)
            record.write(folder)
    finally:
        bar.close()
    return DemoReport(
        out=out,
        index=out / "index.html",
        metrics=metrics,
        explanations={p: out / f"explanation_{slug(p)}.csv" for p in chosen},
        pictures=[out / p for p in files["pictures"]],
        turtle=out / "explanations.ttl",
        run_json=out / "run.json",
        planted_ranks=ranks,
        timings=record.timings_s,
    )
