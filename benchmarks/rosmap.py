"""ROSMAP (MOGONET split): the KG fusion model vs baselines vs its matched controls (rewired KG, no graph).

Protocols: the official 245/106 split under 5 seeds (``official``), 5 × 5 repeated stratified
CV over all 351 patients (``cv``), and 2 × 5 repeated stratified CV inside the official training
part (``train-cv``: the 106 test patients are never seen, which tells a model's standing on the
training patients from its luck on one 106-patient test set). Prints ACC / F1 / AUC (mean ± sd)
and fit time per estimator, all out-of-sample.

    python benchmarks/rosmap.py [--data-dir ../shared/data] [--quick] [--threads 1]
        [--protocol official|cv|train-cv|both]
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import model_parser

from fusion import read_mogonet
from fusion.models.baselines import (
    EarlyFusionLogistic,
    EarlyFusionMLP,
    LateFusion,
    RandomForestBaseline,
)
from fusion.models.estimator import KGFusionClassifier
from fusion.models.evaluate import evaluate, format_summary, summarize
from kg import build_kg, shared_sources

ROOT = Path(__file__).resolve().parents[1]


def estimators(kg: object, quick: bool) -> dict[str, object]:
    """Every model compared, with hyper-parameters fixed a priori (or tuned in inner CV)."""
    kgf = {"n_ensemble": 2 if quick else 3}
    return {
        "KG fusion": KGFusionClassifier(kg, **kgf),
        "KG fusion (rewired KG)": KGFusionClassifier(kg, control="rewired", **kgf),
        "fusion net (no graph)": KGFusionClassifier(None, control="no_graph", **kgf),
        "early LR": EarlyFusionLogistic(),
        "early MLP": EarlyFusionMLP(),
        "late average": LateFusion("average"),
        "late stacking": LateFusion("stacking"),
        "random forest": RandomForestBaseline(),
    }


def main() -> None:
    parser = model_parser(__doc__.splitlines()[0], "2 seeds, 2×2 CV, 2-member ensembles")
    parser.add_argument(
        "--protocol", choices=["official", "cv", "train-cv", "both"], default="both"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.basicConfig(level=logging.WARNING)
    data = Path(args.data_dir)
    cohort = read_mogonet(data / "mogonet_rosmap")
    start = time.perf_counter()
    kg = build_kg(shared_sources(data), progress=False)
    print(f"knowledge graph: {kg} (loaded in {time.perf_counter() - start:.1f} s)")
    models = estimators(kg, args.quick)
    seeds = (0, 1) if args.quick else (0, 1, 2, 3, 4)
    n = 2 if args.quick else 5
    protocols = ["official", "cv"] if args.protocol == "both" else [args.protocol]
    for protocol in protocols:
        inside = protocol == "train-cv"  # CV over the official training part only
        repeats = (1 if args.quick else 2) if inside else n
        results = evaluate(
            models,
            cohort.train_test()[0] if inside else cohort,
            "cv" if inside else protocol,
            seeds=seeds,
            n_splits=n,
            n_repeats=repeats,
            progress=True,
        )
        title = {
            "official": f"official split × {len(seeds)} seeds",
            "cv": f"{n}×{n} repeated stratified CV",
            "train-cv": f"{repeats}×{n} repeated stratified CV inside the official training part",
        }[protocol]
        print(f"\nROSMAP, {title} (threads={args.threads})")
        print(format_summary(summarize(results)).to_string())


if __name__ == "__main__":
    main()
