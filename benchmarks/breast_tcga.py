"""TCGA breast cancer subtypes (mixOmics): train on 150 patients with mRNA, miRNA and protein,
test on 70 patients whose protein modality is missing. Prints macro-F1 (mean ± sd over seeds).

    python benchmarks/breast_tcga.py [--data-dir ../shared/data] [--quick] [--threads 1]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import model_parser

from fusion import read_breast_tcga
from fusion.models.baselines import EarlyFusionLogistic, LateFusion, RandomForestBaseline
from fusion.models.estimator import KGFusionClassifier
from fusion.models.evaluate import evaluate, format_summary, summarize
from kg import build_kg, shared_sources

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = model_parser(__doc__.splitlines()[0], "2 seeds, 2-member ensembles")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    data = Path(args.data_dir)
    cohort = read_breast_tcga(data / "mixomics_breast_tcga")
    start = time.perf_counter()
    kg = build_kg(shared_sources(data), progress=False)
    print(f"knowledge graph: {kg} (loaded in {time.perf_counter() - start:.1f} s)")
    kgf = {"n_ensemble": 2 if args.quick else 3}
    models = {
        "KG fusion": KGFusionClassifier(kg, **kgf),
        "KG fusion (rewired KG)": KGFusionClassifier(kg, control="rewired", **kgf),
        "fusion net (no graph)": KGFusionClassifier(None, control="no_graph", **kgf),
        "early LR": EarlyFusionLogistic(),
        "late average": LateFusion("average"),
        "late stacking": LateFusion("stacking"),
        "random forest": RandomForestBaseline(),
    }
    seeds = (0, 1) if args.quick else (0, 1, 2, 3, 4)
    results = evaluate(models, cohort, "official", seeds=seeds, progress=True)
    print(
        f"\nBRCA (train 150 × 3 modalities, test 70 without protein), {len(seeds)} seeds (threads={args.threads})"
    )
    print(
        format_summary(
            summarize(results), metrics=("f1_macro", "acc", "auc", "fit_time")
        ).to_string()
    )


if __name__ == "__main__":
    main()
