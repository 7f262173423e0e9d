"""Federated training on TCGA BRCA: centralised vs FedAvg / FedProx vs each site alone vs DP-SGD.

Usage::

    python benchmarks/federated.py [--task er|os] [--quick] [--seeds 0 1 2] [--rounds 15] [--dp-seeds 1]
        [--modalities mirna] [--dp-noise 0.5 1.0 2.0] [--n-sites 5] [--out DIR]

Hospitals are TCGA tissue-source sites (``fusion.federated.group_sites``: the 4 largest sites
alone, every smaller site pooled into a fifth). Per seed, 25 % of the patients are held out
(stratified, seeded; in no site's training) and every model is scored on them. Each site
standardises its own patients (the test set its own). Every model is the same network (the
sparse hierarchy network, one unit per KG node, over Reactome and miRTarBase; batches of 32)
trained by the same local loop (AdamW, 20 % of each site's patients for validation):

- ``centralised``: every site's training patients pooled in one place, early-stopped;
- ``site Hk alone``: one hospital's patients only, early-stopped;
- ``FedAvg`` / ``FedProx`` (μ = 0.1): ``--rounds`` rounds of one local epoch at every site;
  the global model kept is that of the round with the lowest validation loss over the sites
  (federated early stopping; "last-round AUC" is the final round's);
- ``FedAvg + DP-SGD σ``: each site trains with Opacus DP-SGD (per-patient clipping at 1.0,
  Poisson batches of expected size 32), for the first ``--dp-seeds`` seeds; ε at δ = 1e-5 is
  the largest over the sites after the last round.

``--task er`` (default): ER status, test AUC and accuracy; ``--task os``: overall survival, test
C-index (no DP rows: DP-SGD clips per-patient gradients, and a Cox partial likelihood is not a
sum over patients). Rounds to convergence: the first round whose test score is within 0.01 of
the run's best.
MB per round: the weights sent by all sites plus those sent to them (Flower's .npy arrays).
``--quick``: one seed, 10 rounds, one noise level (σ = 1.0).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import ROOT, data_dir, load_average

from fusion import read_cohort
from fusion.federated import DPSettings, Federation, site_data, tcga_federation
from fusion.models import KGFusionClassifier, KGFusionSurvival
from kg import build_kg, shared_sources

#: Per task: the label, the estimator, the score reported.
TASKS = {
    "er": (
        {"column": "er_status", "positive": "positive", "negative": "negative"},
        KGFusionClassifier,
        "auc",
    ),
    "os": ({"time": "os_time_days", "event": "os_event"}, KGFusionSurvival, "c_index"),
}
RELATIONS = ["member_of", "part_of", "targets"]
NETWORK = {"architecture": "hierarchy", "hidden": 1, "layers": 3, "batch_size": 32}
MU = 0.1


def converged(scores: list[float], tolerance: float = 0.01) -> int:
    """The first round whose score is within ``tolerance`` of the best."""
    best = max(scores)
    return next(r for r, score in enumerate(scores) if score >= best - tolerance)


def federated_rows(federation: Federation, args: argparse.Namespace, seed: int) -> list[dict]:
    rows = []
    runs = [("FedAvg", "fedavg", None), ("FedProx", "fedprox", None)]
    if args.task == "er" and seed in args.seeds[: args.dp_seeds]:  # DP-SGD: not for Cox losses
        runs += [(f"FedAvg + DP-SGD σ={s}", "fedavg", DPSettings(s)) for s in args.dp_noise]
    for name, strategy, dp in runs:
        start = time.perf_counter()
        history = federation.run(strategy, args.rounds, proximal_mu=MU, dp=dp, seed=seed)
        scores = [r[args.metric] for r in history.central]
        best = history.central[history.best_round]
        rows.append({
            "model": name, "seed": seed, "score": best[args.metric], "acc": best.get("acc"),
            "last_score": scores[-1], "best_round": history.best_round,
            "rounds_to_converge": converged(scores),
            "mb_per_round": (history.bytes_up[0] + history.bytes_down[0]) / 1e6,
            "epsilon": history.fit[-1].get("epsilon", np.nan),
            "seconds": time.perf_counter() - start,
        })  # fmt: skip
        print(f"  {name}: {args.metric} by round {np.round(scores, 3).tolist()}", flush=True)
    return rows


def alone_rows(federation: Federation, pooled, metric: str, seed: int) -> list[dict]:
    rows = []
    sites = {"centralised": pooled, **{f"site {n} alone": s for n, s in federation.sites.items()}}
    for name, site in sites.items():
        start = time.perf_counter()
        _, metrics = federation.fit_alone(site, seed=seed)
        rows.append({
            "model": name, "seed": seed, "score": metrics[metric], "acc": metrics.get("acc"),
            "seconds": time.perf_counter() - start,
        })  # fmt: skip
    return rows


def run_seed(cohort, kg, args: argparse.Namespace, seed: int) -> list[dict]:
    estimator = TASKS[args.task][1](kg, relations=RELATIONS, **NETWORK, random_state=seed)
    federation = tcga_federation(estimator, cohort, args.n_sites, seed=seed)
    if seed == args.seeds[0]:
        print(federation.summary().to_string(), flush=True)
    train = federation.split.sites
    ids = pd.Index(np.concatenate([ids.to_numpy() for ids in train.values()]))
    pooled = site_data(federation.network, cohort.subset(ids), "pooled", seed=seed)
    return alone_rows(federation, pooled, args.metric, seed) + federated_rows(
        federation, args, seed
    )


def table(results: pd.DataFrame, metric: str) -> str:
    """Mean ± sd over seeds per model, in run order."""
    name = {"auc": "AUC", "c_index": "C-index"}[metric]
    header = (
        f"| model | test {name} | test ACC | last-round {name} | chosen round | rounds to converge "
    )
    lines = [header + "| MB / round | ε (δ=1e-5) | s |"]
    lines.append("|---" * 9 + "|")
    for model, rows in results.groupby("model", sort=False):

        def cell(column: str, digits: int = 3, rows: pd.DataFrame = rows) -> str:
            values = pd.to_numeric(
                rows.get(column, pd.Series(dtype=float)), errors="coerce"
            ).dropna()
            if values.empty:
                return ""
            sd = f" ± {values.std():.{digits}f}" if len(values) > 1 else ""
            return f"{values.mean():.{digits}f}{sd}"

        lines.append(
            f"| {model} | {cell('score')} | {cell('acc')} | {cell('last_score')} | "
            f"{cell('best_round', 1)} | {cell('rounds_to_converge', 1)} | "
            f"{cell('mb_per_round', 2)} | {cell('epsilon', 1)} | {cell('seconds', 0)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 10 rounds, σ=1.0 only")
    parser.add_argument("--task", choices=sorted(TASKS), default="er", help="ER status or OS")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dp-seeds", type=int, default=1, help="DP rows for the first N seeds")
    parser.add_argument("--modalities", nargs="+", default=["mirna"])
    parser.add_argument("--dp-noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--n-sites", type=int, default=5, help="hospitals (group_sites)")
    parser.add_argument("--data-dir", default=None, help="shared data (default $KGFUSION_DATA)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.rounds, args.dp_noise = args.seeds[:1], 10, [1.0]
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(1)
    data = Path(args.data_dir) if args.data_dir else data_dir()
    label, _, args.metric = TASKS[args.task]
    cohort = read_cohort(
        data / "tcga_brca_multiomics", "multiomics", modalities=args.modalities, label=label,
        require_all=True,
    )  # fmt: skip
    kg = build_kg(shared_sources(data), progress=False)
    print(
        f"TCGA BRCA {args.task}, {args.modalities}: {cohort.n_samples} patients; {kg}", flush=True
    )
    rows = []
    for seed in args.seeds:
        print(f"seed {seed} (load {load_average():.1f})", flush=True)
        rows += run_seed(cohort, kg, args, seed)
    results = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / f"federated_{args.task}.csv", index=False)
    print(f"\n{table(results, args.metric)}\n\nwrote {args.out}/federated_{args.task}.csv")


if __name__ == "__main__":
    main()
