"""The one-command demo: a knowledge graph, a cohort, the KG fusion model against a baseline,
three explained test patients, and a report folder (tables, pictures, Turtle, an HTML page).

:func:`run_demo` runs offline on the embedded default graph (Reactome 2025, :mod:`kg.bundled`)
and a synthetic cohort with a planted pathway signal (:func:`fusion.make_planted_cohort`); the
report says where the planted pathways rank in the explanations. With ``real="rosmap"`` it runs
on the MOGONET ROSMAP benchmark (official split) with GO + Reactome from the shared data folder.

The report is written into a hidden staging folder beside ``out`` and renamed to ``out`` at the
end, so an interrupted run never leaves a report that looks complete.
"""

from __future__ import annotations

import html
import json
import logging
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fusion._exceptions import InvalidParameterError
from fusion.models.baselines import EarlyFusionLogistic
from fusion.data.cohort import Cohort
from fusion.app.config import default_data_dir
from fusion.explanations import Explanation, explain, plot_subgraph, plot_top_terms, write_turtle
from fusion.data.io import read_mogonet
from fusion.models.metrics import classification_metrics
from fusion.data.split import official_split, stratified_split
from fusion.data.synthetic import make_planted_cohort, pathway_genes
from kg import KGConfig, KnowledgeGraph, build_kg
from kg.build import SHARED_FILES, shared_sources
from kg.bundled import embedded_config

__all__ = [
    "DEMO_SIZES",
    "METRIC_COLUMNS",
    "PLANTED_PATHWAYS",
    "REAL_DATASETS",
    "DemoReport",
    "DemoSize",
    "run_demo",
]

logger = logging.getLogger(__name__)

#: Pathways whose activity drives the synthetic label: folate metabolism and the TCA cycle.
PLANTED_PATHWAYS: tuple[str, ...] = ("reactome:R-HSA-196757", "reactome:R-HSA-71403")
#: Real datasets :func:`run_demo` knows, by name: folder in the shared data folder.
REAL_DATASETS: dict[str, str] = {"rosmap": "mogonet_rosmap"}
#: Metrics of ``metrics.csv`` (see :func:`fusion.models.metrics.classification_metrics`).
METRIC_COLUMNS: tuple[str, ...] = ("acc", "f1_macro", "auc")

_MODALITIES = ("mRNA", "protein", "methylation")
_ROSMAP_LABELS = {0: "NC", 1: "AD"}
#: Keys of :data:`kg.build.SHARED_FILES` whose sources make the ROSMAP graph.
_ROSMAP_SOURCES = ("go", "gene2go", "reactome_names", "reactome_gmt")
_ROSMAP_FILES = (*_ROSMAP_SOURCES, "gene_info", "reactome_hierarchy")
_N_PATIENTS = 3
_STAGES = ("knowledge graph", "cohort", "KG fusion model", "baseline", "explanations", "report")


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


@dataclass
class _Problem:
    """A cohort with its split and graph, and what to say about it in the report."""

    title: str
    kg: KnowledgeGraph
    cohort: Cohort
    train: pd.Index
    test: pd.Index
    planted: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- problems
def _synthetic(kg: KnowledgeGraph, size: DemoSize, seed: int) -> _Problem:
    cohort, truth = make_planted_cohort(
        kg, PLANTED_PATHWAYS, size.n_samples, _MODALITIES, n_features=size.n_features, seed=seed
    )
    train, test = stratified_split(cohort, test_size=0.25, seed=seed)
    notes = {
        "planted": [
            {"id": p, "name": str(kg.nodes.at[p, "name"]), "n_genes": len(pathway_genes(kg, p))}
            for p in truth.pathways
        ],
        "decoys": truth.decoys,
    }
    title = "Synthetic cohort with planted pathways (embedded Reactome 2025 graph)"
    return _Problem(title, kg, cohort, train, test, list(truth.pathways), notes)


def _rosmap_kg_config(data_dir: Path) -> KGConfig:
    """GO (+ gene2go) and Reactome with NCBI gene names, from the shared data folder (no HPO)."""
    keep = {data_dir / SHARED_FILES[k] for k in _ROSMAP_SOURCES}
    config = shared_sources(data_dir)
    return KGConfig(tuple(s for s in config.sources if s.path in keep), config.gene_info)


def _rosmap(kg: KnowledgeGraph, data_dir: Path) -> _Problem:
    cohort = read_mogonet(data_dir / REAL_DATASETS["rosmap"], label_names=_ROSMAP_LABELS)
    train, test = official_split(cohort)
    title = "ROSMAP Alzheimer's disease vs control (MOGONET split; GO + Reactome graph)"
    return _Problem(title, kg, cohort, train, test, notes={"data_dir": str(data_dir)})


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


# ---------------------------------------------------------------------------------- run
def _check_size(size: str | DemoSize) -> DemoSize:
    if isinstance(size, DemoSize):
        return size
    if size not in DEMO_SIZES:
        msg = f"The 'size' parameter of run_demo must be one of {sorted(DEMO_SIZES)} or a DemoSize. Got {size!r} instead."
        raise InvalidParameterError(msg)
    return DEMO_SIZES[size]


def _check_out(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier demo report."""
    if out.exists() and not (
        out.is_dir() and ((out / "run.json").is_file() or not any(out.iterdir()))
    ):
        msg = f"{out}: exists and is not a kgfusion demo report (no run.json); choose another --out or remove it."
        raise FileExistsError(msg)


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads, restoring the previous number afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A hidden folder beside ``out``, renamed to ``out`` on success and removed on failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _check_out(out)
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        out.rename(old / out.name)
    staging.chmod(0o755)  # mkdtemp makes it private
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old)


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

    Steps: (1) the knowledge graph (embedded Reactome, or GO + Reactome from the shared data
    with ``real``), cached; (2) the cohort: synthetic with planted pathways, three modalities,
    some patients lacking one (or ROSMAP); (3) a held-out split (stratified 75/25, or the
    official one); (4) :class:`~fusion.models.estimator.KGFusionClassifier` and
    :class:`~fusion.models.baselines.EarlyFusionLogistic` fitted on the training patients only; (5) metrics on the test
    patients; (6) explanations of three test patients (one per class correctly predicted and,
    when there is one, a patient lacking a modality) and per-class aggregates over
    ``size.n_aggregate`` test patients; (7) the report.

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
    from fusion.models.estimator import KGFusionClassifier

    demo_size = _check_size(size)
    if real is not None and real not in REAL_DATASETS:
        msg = f"The 'real' parameter of run_demo must be one of {sorted(REAL_DATASETS)} or None. Got {real!r} instead."
        raise InvalidParameterError(msg)
    shared = _resolve_data_dir(data_dir) if real is not None else None
    out = Path(out)
    _check_out(out)
    timings: dict[str, float] = {}
    bar = tqdm(total=len(_STAGES), desc="kgfusion demo", unit="step", disable=not progress)

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        bar.set_postfix_str(name)
        start = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - start, 3)
        bar.update()

    try:
        with _torch_threads(threads), _staging(out) as folder:
            with stage("knowledge graph"):
                config = embedded_config() if shared is None else _rosmap_kg_config(shared)
                kg = build_kg(config, progress=progress)
            with stage("cohort"):
                problem = _synthetic(kg, demo_size, seed) if shared is None else _rosmap(kg, shared)
            train, test = problem.cohort.subset(problem.train), problem.cohort.subset(problem.test)
            with stage("KG fusion model"):
                model = KGFusionClassifier(
                    kg=problem.kg,
                    max_epochs=demo_size.max_epochs,
                    n_ensemble=demo_size.n_ensemble,
                    random_state=seed,
                    device=device,
                    progress=progress,
                ).fit(train)
                proba = model.predict_proba(test)
            with stage("baseline"):
                baseline = EarlyFusionLogistic(random_state=seed).fit(train)
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
            with stage("explanations"):
                chosen = _pick_patients(test, proba, model.classes_)
                others = [s for s in test.samples if s not in chosen]
                extra = others[: max(demo_size.n_aggregate - len(chosen), 0)]
                explained = explain(model, test, [*chosen, *extra], n_steps=demo_size.n_steps)
                decomposed = None
                if problem.planted:
                    genes = explain(
                        model, test, [*chosen, *extra], "ig_features", n_steps=demo_size.n_steps
                    )
                    decomposed = Explanation.aggregate(genes)["cohort"].decompose("pathway")
            with stage("report"):
                ranks = _planted_ranks(problem.planted, len(chosen), explained, decomposed)
                files = _write_report(
                    folder, problem, model, test, metrics, explained, chosen, ranks
                )
                context = {
                    "seed": seed,
                    "size": asdict(demo_size),
                    "device": device,
                    "problem": problem,
                    "model": model,
                    "metrics": metrics,
                    "ranks": ranks,
                    "chosen": chosen,
                    "explained": explained,
                    "timings": timings,
                }
            timings["total"] = round(sum(timings.values()), 3)
            _write_run_json(folder / "run.json", context, files)
    finally:
        bar.close()
    return DemoReport(
        out=out,
        index=out / "index.html",
        metrics=metrics,
        explanations={p: out / f"explanation_{_slug(p)}.csv" for p in chosen},
        pictures=[out / p for p in files["pictures"]],
        turtle=out / "explanations.ttl",
        run_json=out / "run.json",
        planted_ranks=ranks,
        timings=timings,
    )


def _pick_patients(test: Cohort, proba: np.ndarray, classes: Sequence[object]) -> list[str]:
    """One correctly predicted test patient per class, then one lacking a modality, then the
    first others, up to three (test order; deterministic)."""
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    truth = test.labels.astype(str).to_numpy()
    samples = test.samples
    picks: list[str] = []
    for c in sorted(set(truth)):
        hits = samples[(truth == c) & (predicted == c)]
        if len(hits):
            picks.append(str(hits[0]))
    lacking = samples[~test.presence.all(axis=1).to_numpy()]
    picks += [str(s) for s in lacking[:1]]
    picks += [str(s) for s in samples]
    return list(dict.fromkeys(picks))[:_N_PATIENTS]


def _planted_ranks(
    planted: Sequence[str],
    n_patients: int,
    explained: Sequence[Explanation],
    decomposed: Explanation | None = None,
) -> pd.DataFrame:
    """Rank of each planted pathway among all pathways by absolute score (attributions for and
    against the predicted class both count) in each patient's explanation (the first
    ``n_patients`` of ``explained``), and by mean absolute score per predicted class and over all of
    ``explained``; then in ``decomposed`` (the same patients' gene attributions decomposed onto
    the pathways). A pathway that the model's pruned graph lacks has no rank (``<NA>``)."""
    if not planted:
        return pd.DataFrame()
    absolute = [replace(e, scores=e.scores.abs()) for e in explained]
    by_class = Explanation.aggregate(absolute, by=[str(e.prediction) for e in absolute])
    groups = {f"predicted {g} (n={e.n_patients})": e for g, e in by_class.items()}
    everyone = Explanation.aggregate(absolute)["cohort"]
    groups[f"all explained (n={everyone.n_patients})"] = everyone
    if decomposed is not None:
        groups[f"all explained, {decomposed.method}"] = decomposed
    rows = {}
    for name, e in [*((p.patient, p) for p in absolute[:n_patients]), *groups.items()]:
        ranking = e.ranking(type="pathway")
        rows[name] = {
            p: ranking.index.get_loc(p) + 1 if p in ranking.index else pd.NA for p in planted
        }
    table = pd.DataFrame.from_dict(rows, orient="index", dtype="Int64")
    table.index.name = "explanation"
    table.attrs["n_pathways"] = len(explained[0].ranking(type="pathway"))
    return table


# ---------------------------------------------------------------------------------- report
def _slug(name: object) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))


def _term_types(kg: KnowledgeGraph) -> list[str]:
    """Node types other than genes present in ``kg`` (what 'terms' are)."""
    return sorted(set(kg.nodes["type"].unique()) - {"gene", "mirna", "protein"})


def _write_report(
    folder: Path,
    problem: _Problem,
    model: Any,
    test: Cohort,
    metrics: pd.DataFrame,
    explained: list[Explanation],
    chosen: list[str],
    ranks: pd.DataFrame,
) -> dict[str, Any]:
    """Tables, pictures, Turtle and index.html; returns the relative file names by kind."""
    metrics.to_csv(folder / "metrics.csv", float_format="%.4f")
    (folder / "metrics.md").write_text(_markdown(metrics), encoding="utf-8")
    if not ranks.empty:
        ranks.to_csv(folder / "planted_ranks.csv")
    terms = _term_types(problem.kg)
    patients = explained[: len(chosen)]
    by_class = Explanation.aggregate(explained, by=[str(e.prediction) for e in explained])
    tables, pictures = {}, []
    for e in patients:
        slug = _slug(e.patient)
        e.top(200).to_csv(folder / f"explanation_{slug}.csv", index=False, float_format="%.6g")
        tables[e.patient] = f"explanation_{slug}.csv"
        plot_subgraph(e, folder / f"subgraph_{slug}.png", k=12, types=terms)
        pictures.append(f"subgraph_{slug}.png")
    plot_top_terms(by_class, folder / "top_terms.png", k=12, type=terms)
    pictures.append("top_terms.png")
    write_turtle([*patients, *by_class.values()], folder / "explanations.ttl", k=20)
    files = {
        "tables": tables,
        "pictures": pictures,
        "other": ["metrics.csv", "metrics.md", "explanations.ttl", "run.json"]
        + (["planted_ranks.csv"] if not ranks.empty else []),
    }
    page = _html(problem, model, test, metrics, patients, ranks, files, terms)
    (folder / "index.html").write_text(page, encoding="utf-8")
    return files


def _markdown(table: pd.DataFrame) -> str:
    """A Markdown table (index first), floats to three decimals."""
    head = [table.index.name or "", *map(str, table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, row in table.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(key), *cells]) + " |")
    return "\n".join(lines) + "\n"


def _html_table(table: pd.DataFrame, index: bool = True) -> str:
    return table.to_html(
        index=index, float_format=lambda v: f"{v:.3g}", na_rep="", border=0, classes="t"
    )


_CSS = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table.t{border-collapse:collapse;font-size:.85rem}table.t td,table.t th{padding:.2rem .6rem;
border-bottom:1px solid #eee;text-align:left}img{max-width:100%;border:1px solid #eee}
.muted{color:#666;font-size:.9rem}"""


def _html(
    problem: _Problem,
    model: Any,
    test: Cohort,
    metrics: pd.DataFrame,
    patients: list[Explanation],
    ranks: pd.DataFrame,
    files: dict[str, Any],
    terms: list[str],
) -> str:
    """index.html: self-contained (inline CSS), offline, relative links only."""
    esc = html.escape
    kg = problem.kg
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>kgfusion demo report</title><style>{_CSS}</style></head><body>",
        "<h1>kgfusion demo report</h1>",
        (
            f"<p>{esc(problem.title)}. Knowledge graph: {kg.number_of_nodes():,} nodes, "
            f"{len(kg.edges):,} edges; pruned to {len(model.graph_.node_ids):,} nodes for the model. "
            f"Cohort: {problem.cohort.n_samples} patients ({len(problem.train)} train, "
            f"{len(problem.test)} held-out test), modalities "
            f"{esc(', '.join(f'{m} ({int(problem.cohort.presence[m].sum())} patients)' for m in problem.cohort))}.</p>"
        ),
        "<h2>Held-out test metrics</h2>",
        _html_table(metrics),
        (
            "<p class='muted'>Both models are fitted on the training patients only (standardisation "
            "included); ACC, macro-F1 and ROC-AUC on the test patients. Baseline: early-fusion "
            "logistic regression (concatenated modalities, mean imputation, standardisation, L2 "
            "penalty chosen by inner 5-fold CV on the training patients). "
            "<a href='metrics.csv'>metrics.csv</a> · <a href='metrics.md'>metrics.md</a></p>"
        ),
    ]
    if not ranks.empty:
        named = ranks.rename(columns=lambda p: f"{kg.nodes.at[p, 'name']} ({p})")
        parts += [
            "<h2>Are the planted pathways recovered?</h2>",
            (
                f"<p>The label depends on the planted pathways only. Their rank among the "
                f"{ranks.attrs['n_pathways']:,} pathways of the model's graph by absolute explanation "
                "score (1 = most important; for groups, the mean absolute score over the group's "
                "explained test patients; blank: not in the model's pruned graph):</p>"
            ),
            _html_table(named),
            "<p class='muted'><a href='planted_ranks.csv'>planted_ranks.csv</a></p>",
        ]
    parts += [
        "<h2>Top terms per predicted class</h2>",
        f"<p><img src='top_terms.png' alt='top {esc('/'.join(terms))} terms per predicted class'></p>",
    ]
    truth = test.labels.astype(str)
    presence = test.presence
    for e in patients:
        slug = _slug(e.patient)
        absent = [m for m in presence.columns if not presence.at[e.patient, m]]
        parts += [
            f"<h2>Patient {esc(e.patient)}</h2>",
            f"<p>Predicted <b>{esc(str(e.prediction))}</b> (probability {e.probability:.2f}); "
            f"true label {esc(truth[e.patient])}; "
            + (f"lacks {esc(', '.join(absent))}." if absent else "all modalities measured.")
            + "</p>",
            f"<p><img src='subgraph_{slug}.png' alt='explanation subgraph of {esc(e.patient)}'></p>",
            _html_table(
                e.top(10, type=terms)[["id", "name", "type", "score", "rank"]], index=False
            ),
            (
                f"<p class='muted'>Top nodes of all types: <a href='{files['tables'][e.patient]}'>"
                f"{files['tables'][e.patient]}</a></p>"
            ),
        ]
    parts += [
        "<h2>Files</h2><ul>",
        *(f"<li><a href='{f}'>{f}</a></li>" for f in files["other"]),
        (
            "</ul><p class='muted'>Explanations: integrated gradients on the model's node states, "
            "averaged over the ensemble; scores are importances for the predicted class. "
            "explanations.ttl holds them as RDF (query with SPARQL, see fusion.sparql_top).</p>"
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in (
        "kgfusion",
        "numpy",
        "pandas",
        "scikit-learn",
        "torch",
        "torch-geometric",
        "networkx",
        "rdflib",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _write_run_json(path: Path, context: dict[str, Any], files: dict[str, Any]) -> None:
    problem: _Problem = context["problem"]
    ranks: pd.DataFrame = context["ranks"]
    record = {
        "seed": context["seed"],
        "dataset": problem.title,
        "size": context["size"],
        "device": context["device"],
        "versions": _versions(),
        "timings_s": context["timings"],
        "kg": {
            "nodes": problem.kg.number_of_nodes(),
            "edges": len(problem.kg.edges),
            "model_graph_nodes": len(context["model"].graph_.node_ids),
        },
        "cohort": {
            "n_samples": problem.cohort.n_samples,
            "n_train": len(problem.train),
            "n_test": len(problem.test),
            "modalities": {m: int(problem.cohort.presence[m].sum()) for m in problem.cohort},
        },
        "metrics": json.loads(context["metrics"].to_json(orient="index")),
        "patients": [
            {"id": e.patient, "prediction": e.prediction, "probability": e.probability}
            for e in context["explained"][: len(context["chosen"])]
        ],
        "n_explained": len(context["explained"]),
        **problem.notes,
        "planted_ranks": json.loads(ranks.to_json(orient="index")) if not ranks.empty else None,
        "n_pathways": ranks.attrs.get("n_pathways"),
        "files": files,
    }
    path.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
