"""Benchmark: do kgfusion's explanations come from the knowledge graph, are they faithful and
specific, and do they find known biology? (issues 5 and 18)

    python benchmarks/explain.py --part planted|rosmap|brca|prad|all [--quick] [--seeds N]
        [--first-seed 0] [--threads 2] [--out DIR] [--from-csv]

Every graph row stands beside its controls: the same pipeline on a model fitted with
``control="rewired"`` (degree-preserving rewired graph; it explains on its own graph, so its
gene attributions decompose onto the rewired memberships) and, for the faithfulness metrics,
random baselines: for the removal metrics (fidelity+ / -, characterization, curve AUC,
unfaithfulness) random input sets removing as many input nodes as the explanation's subgraph
("random inputs") and random top-10 sets of the same kind of nodes ("random nodes": random
top-10 terms may reach more or fewer inputs than the explanation's), for the ranking metrics
(infidelity, stability) random explanations; each for the top-10 terms and for the top-10
inputs (genome-wide: the inputs only). The *default explanation* is the default pipeline:
per-gene attributions (``method="ig_features"``) decomposed onto the terms above them
(:meth:`Explanation.decompose`). Parts (each writes ``<out>/explain_<part>.csv``, one row per
measured value; ``--from-csv`` prints the tables from them without refitting):

* ``planted``: synthetic cohorts over the real Reactome hierarchy whose label depends on 3 leaf
  pathways (``_explain_planted``); AUPRC of the planted pathways among the graph's pathways,
  strict (pathway ids) and over distinct gene sets, for the default model, the rewired model
  (on its own graph, and with the real memberships) and two references without a model
  (gene-label correlations); and the standard faithfulness metrics (``_explain_cohorts``).
* ``rosmap``: ROSMAP (MOGONET split, shared KG): the standard faithfulness metrics, the
  randomised-weights sanity check (Adebayo et al., 2018), the specificity of the top-10 terms
  before (the old defaults: ``min_seeds=10, max_fraction=0.3``, ``method="contribution"``, no
  decomposition) and after (the defaults), and timings.
* ``brca`` / ``prad``: TCGA BRCA ER status and PRAD Gleason >= 8 (genome-wide mutation + CNV
  (+ miRNA), Reactome + GO + miRTarBase relations, the sparse hierarchy network with quick
  settings, fixed stratified splits: test patients never in training): the standard metrics,
  specificity, and the ranks of known-biology terms (ER signalling, GATA3 / TP53 / PIK3CA terms;
  cell cycle and DNA repair) for the real and the rewired model.

Means ± sd are over seeds (planted: cohorts; ROSMAP: model seeds; TCGA: splits).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, data_dir, load_average
from _explain_cohorts import CohortTask, go_kg, rosmap, run_cohort, shared_kg
from _explain_planted import (
    PlantedSetup,
    fit_planted,
    planted_faithfulness,
    planted_records,
    reactome_kg,
)
from _explain_tables import Target, difference, markdown, pivot, ratio, target_table, values
from knowledge import GENOME_WIDE_RELATIONS, HIERARCHY, TASKS

PARTS = ("planted", "rosmap", "brca", "prad")
#: The planted seeds whose explanations also get the (slower) standard faithfulness metrics.
PLANTED_METRIC_SEEDS = 2

PLANTED_MEASURES = {
    "auprc": "AUPRC of the 3 planted pathways, strict (pathway ids)",
    "set_auprc": "same, pathways with identical gene sets merged",
    "best_rank": "best rank of a planted pathway",
}
PLANTED_VARIANTS = (
    "default",
    "rewired",
    "rewired, real memberships",
    "no model, z",
    "no model, decomposed",
)
PLANTED_TARGETS = (
    Target(
        "planted strict AUPRC, default explanation",
        ">= 0.9",
        lambda r: values(r, "auprc", "default"),
        lambda v: v >= 0.9,
    ),
    Target(
        "default − rewired strict AUPRC (paired over seeds)",
        ">= 0.3",
        lambda r: difference(r, "auprc", "default", "rewired"),
        lambda v: v >= 0.3,
    ),
)


def seeds_of(args: argparse.Namespace) -> range:
    """The seeds of a run: ``args.seeds`` of them from ``args.first_seed``."""
    return range(args.first_seed, args.first_seed + args.seeds)


def run_planted(data: Path, args: argparse.Namespace) -> list[dict]:
    """The planted part's records over ``args.seeds`` seeds."""
    params = {"n_ensemble": 1 if args.quick else 3, "max_epochs": 30 if args.quick else 100}
    setup = PlantedSetup(reactome_kg(data), {**params, "device": "cpu"}, 200 if args.quick else 300)
    records = []
    for seed in seeds_of(args):
        fit = fit_planted(setup, seed)
        records += planted_records(setup, fit)
        if seed < PLANTED_METRIC_SEEDS:
            records += planted_faithfulness(fit, 3 if args.quick else 10)
        pd.DataFrame(records).to_csv(args.out / "explain_planted.csv", index=False)  # so far
        print(f"planted seed {seed}: done (load {load_average():.1f})", flush=True)
    return records


def planted_figure(records: pd.DataFrame, path: Path) -> None:
    """Strict AUPRC per seed of each ranking, one column per variant (lines join a seed's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [v for v in PLANTED_VARIANTS if not values(records, "auprc", v).empty]
    table = pd.DataFrame({v: values(records, "auprc", v) for v in shown})
    fig, ax = plt.subplots(figsize=(1.3 * len(shown) + 1.5, 3.4))
    ax.plot(range(len(shown)), table.T.to_numpy(), color="0.75", lw=0.6)
    ax.boxplot(table.to_numpy(), positions=range(len(shown)), widths=0.35, showfliers=False)
    chance = values(records, "chance", "data").mean()
    ax.axhline(chance, color="tab:red", ls=":", lw=1, label=f"chance ({chance:.3f})")
    ax.set_xticks(range(len(shown)), [v.replace(", ", ",\n") for v in shown], fontsize=7)
    ax.set(ylabel="AUPRC of the planted pathways", ylim=(0, 1.02))
    ax.set_title(f"Planted pathways, {len(table)} seeds: real vs rewired KG", fontsize=9)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def print_planted(records: pd.DataFrame) -> None:
    chance = values(records, "chance", "data")
    pathways = values(records, "pathways", "data")
    print(
        f"\n## planted ({records['seed'].nunique()} seeds; chance AUPRC {chance.mean():.3f}, "
        f"{pathways.mean():.0f} ± {pathways.std(ddof=1) if len(pathways) > 1 else 0:.0f} pathways ranked)\n"
    )
    print(markdown(pivot(records, PLANTED_MEASURES, PLANTED_VARIANTS)))
    print()
    print(markdown(pivot(records, {"accuracy": "held-out accuracy"}, ("default", "rewired"))))
    print()
    print(markdown(target_table(records, PLANTED_TARGETS)))
    per_seed = {v: values(records, "auprc", v).round(3).tolist() for v in ("default", "rewired")}
    print(f"\nstrict AUPRC per seed: {per_seed}")
    faithful = records[records["section"].str.startswith("faithfulness")]
    if len(faithful):
        print(f"\nfaithfulness, seeds {sorted(faithful['seed'].unique())}:")
        print_faithfulness(faithful)


#: Genome-wide tasks: Reactome, miRTarBase and GO biological-process annotations and hierarchy.
TCGA_PARAMS = {
    "relations": [*GENOME_WIDE_RELATIONS, "involved_in", "is_a"],
    **HIERARCHY,
    "n_ensemble": 1,
    "max_epochs": 40,
    "patience": 5,
}
COHORTS = {
    "rosmap": CohortTask(
        "rosmap", rosmap, go_kg, {"n_ensemble": 3}, {"n_ensemble": 1, "max_epochs": 30}
    ),
    "brca": CohortTask(
        "brca", TASKS["brca_er"].read, shared_kg, TCGA_PARAMS, {"max_epochs": 20}, 60, True, 5
    ),
    "prad": CohortTask(
        "prad", TASKS["prad_gleason"].read, shared_kg, TCGA_PARAMS, {"max_epochs": 20}, 60, True, 5
    ),
}
COHORT_VARIANTS = tuple(
    v
    for model in ("default", "rewired")
    for v in (model, f"random inputs ({model})", f"random nodes ({model})")
)
#: Variants of CSVs written before the matched baseline: their only baseline was random nodes.
OLD_VARIANTS = {f"random ({m})": f"random nodes ({m})" for m in ("default", "rewired")}
MODELS = ("default", "rewired", "old defaults")
SPECIFICITY = {
    "top-10 median depth": "top-10 terms: median depth (hops to a root), mean over patients",
    "top-10 median IC": "top-10 terms: median information content (nats)",
    "top-10 largest share of linked genes": "top-10 terms: largest share of the linked genes covered",
}
SANITY = {
    "sanity terms, per patient": "Spearman trained vs randomised weights, term scores (>= 0), per patient",
    "sanity terms, cohort mean": "same, of the cohort means",
    "sanity genes signed, per patient": "same, input genes' attributions, signed, per patient",
    "sanity genes absolute, per patient": "same on |attribution|, per patient",
    "sanity genes absolute, cohort mean": "same on |attribution|, cohort means",
}
FIDELITY_TOP = "fidelity+ (top 10)"


def print_faithfulness(records: pd.DataFrame) -> None:
    """The faithfulness tables: of the top-10 terms, and of the top-10 inputs."""
    for name, what in (("faithfulness", "terms"), ("faithfulness, inputs", "inputs")):
        chosen = section(records, name)
        if len(chosen):
            print(f"\nfaithfulness of the top-10 {what}, beside random baselines:\n")
            shown = [v for v in COHORT_VARIANTS if v in set(chosen["variant"])]
            print(markdown(pivot(chosen, own_labels(chosen), shown)))


def run_real(part: str) -> Callable[[Path, argparse.Namespace], list[dict]]:
    """The runner of one real-cohort part (also writes its top terms beside its CSV)."""

    def run(data: Path, args: argparse.Namespace) -> list[dict]:
        def save(records: list[dict], tops: list[dict]) -> None:  # so far, after each seed
            pd.DataFrame(tops).to_csv(args.out / f"explain_{part}_top.csv", index=False)
            pd.DataFrame(records).to_csv(args.out / f"explain_{part}.csv", index=False)

        records, tops = run_cohort(COHORTS[part], data, seeds_of(args), args.quick, save)
        save(records, tops)
        return records

    return run


def section(records: pd.DataFrame, name: str) -> pd.DataFrame:
    """The records of one printed table."""
    return records[records["section"] == name]


def own_labels(records: pd.DataFrame) -> dict[str, str]:
    """Every measure of ``records``, in order of appearance, labelled by its own name."""
    return {m: m for m in pd.unique(records["measure"])}


def fidelity_ratio(name: str, baseline: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Per-seed fid+ of the default explanation's top 10 over a baseline's, in one section."""
    return lambda r: ratio(section(r, name), FIDELITY_TOP, "default", f"{baseline} (default)")


def real_targets(part: str) -> list[Target]:
    """The issue's targets measured on a real cohort (the fid+ ratio per seed, then the mean)."""
    targets = [
        Target(
            f"{part}: fid+ of the top-10 {what}, default / {baseline}",
            ">= 3",
            fidelity_ratio(name, baseline),
            lambda v: v >= 3,
        )
        for name, what, baseline in (
            ("faithfulness", "terms", "random inputs"),
            ("faithfulness", "terms", "random nodes"),
            ("faithfulness, inputs", "inputs", "random inputs"),
        )
    ]
    targets += [
        Target(
            f"{part}: largest share of the linked genes a top-10 term covers",
            "<= 0.10",
            lambda r: values(r, "top-10 largest share of linked genes", "default"),
            lambda v: v <= 0.1,
        ),
    ]
    if part == "rosmap":
        targets.append(
            Target(
                "rosmap: term-score Spearman, trained vs randomised weights, per patient",
                "<= 0.3",
                lambda r: values(r, "sanity terms, per patient", "default"),
                lambda v: v <= 0.3,
            )
        )
    return targets


def print_real(records: pd.DataFrame, out: Path) -> None:
    part = records["part"].iloc[0]
    print(f"\n## {part} ({records['seed'].nunique()} seeds)\n")
    print(markdown(pivot(section(records, "model"), own_labels(section(records, "model")), MODELS)))
    print_faithfulness(records)
    print("\nspecificity of each patient's top-10 terms:\n")
    print(
        markdown(
            pivot(
                section(records, "specificity"),
                SPECIFICITY,
                ("old defaults, contribution", "default", "rewired"),
            )
        )
    )
    if part == "rosmap":
        timing = section(records, "timing")
        print("\nrandomised-weights sanity check (default explanation) and timings (s):\n")
        print(markdown(pivot(records, {**SANITY, **own_labels(timing)}, ("default",))))
    else:
        known = section(records, "known")
        print(
            "\nknown biology: ranks in the held-out cohort's mean explanation (reported, not tuned):\n"
        )
        print(markdown(pivot(known, own_labels(known), ("default", "rewired"))))
    print()
    print(markdown(target_table(records, real_targets(part))))
    top = out / f"explain_{part}_top.csv"
    if top.exists():
        terms = pd.read_csv(top)
        first = terms[terms["seed"] == terms["seed"].min()]
        print("\ntop-10 terms of the held-out cohort's mean explanation, first seed:\n")
        print(markdown(first.pivot(index="rank", columns="variant", values="name").reset_index()))


RUN: dict[str, Callable[[Path, argparse.Namespace], list[dict]]] = {
    "planted": run_planted,
    **{part: run_real(part) for part in COHORTS},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", default="all", help=f"one of {list(PARTS)}, comma-separated, or all"
    )
    parser.add_argument("--data-dir", default=None, help="shared data (default $KGFUSION_DATA)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke sizes: 1-member models, fewer epochs and patients",
    )
    parser.add_argument(
        "--seeds", type=int, help="seeds (default: planted 16, ROSMAP 3, TCGA 3; quick 1)"
    )
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="the first seed (default: 0): runs of other seeds can be joined, one CSV",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "kgfusion-out" / "explain")
    parser.add_argument(
        "--from-csv", action="store_true", help="print the tables from the CSVs in --out"
    )
    args = parser.parse_args()
    parts = list(PARTS) if args.part == "all" else args.part.split(",")
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; expected {list(PARTS)} or all")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    args.out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data_dir) if args.data_dir else data_dir()
    print(
        f"# explain on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{args.threads} torch threads{' (--quick)' if args.quick else ''}"
    )
    for part in parts:
        path = args.out / f"explain_{part}.csv"
        if not args.from_csv:
            chosen = argparse.Namespace(**vars(args))
            chosen.seeds = args.seeds or (1 if args.quick else {"planted": 16}.get(part, 3))
            pd.DataFrame(RUN[part](data, chosen)).to_csv(path, index=False)
        records = pd.read_csv(path).replace({"variant": OLD_VARIANTS})
        if part == "planted":
            print_planted(records)
            planted_figure(records, args.out / "explain_planted.png")
        else:
            print_real(records, args.out)
    print(
        f"\nwrote {args.out}/explain_*.csv"
        + (" and explain_planted.png" if "planted" in parts else "")
    )


if __name__ == "__main__":
    main()
