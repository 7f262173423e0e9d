"""Genome-wide fit time of the KG models: TCGA BRCA ER status, mutation + CNV + miRNA.

One default fit (``n_ensemble`` members, ``max_epochs=100``, ``patience=15``) of the R-GCN and
the hierarchy architecture on the first 700 patients, with the Reactome + miRTarBase relations
``member_of``, ``part_of`` and ``targets`` of the shared KG, next to the early-fusion logistic
regression on the same patients. Every fit runs in its own forked process, so its peak RSS
(the cohort and KG loaded before the fork included) is its own. Prints a Markdown table: fit
wall and CPU time, epochs per member, seconds per training batch, peak RSS, held-out AUC.

    python benchmarks/genome_fit.py [--data-dir ../shared/data] [--quick] [--threads 2]
        [--n-ensemble 1 3] [--architectures rgcn hierarchy]
"""

from __future__ import annotations

import math
import multiprocessing
import resource
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import cpu_seconds, load_average, model_parser, print_table

import fusion
from fusion.models import EarlyFusionLogistic, KGFusionClassifier
from fusion.models.metrics import classification_metrics
from kg import build_kg, shared_sources

RELATIONS = ["member_of", "part_of", "targets"]
N_TRAIN = 700
LABEL = {"column": "er_status", "positive": "positive", "negative": "negative"}
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "rgcn": {},
    "hierarchy": {"architecture": "hierarchy", "hidden": 1, "layers": 3},
}


def _fit(name: str, make: Any, train: Any, test: Any, links: Any) -> dict[str, Any]:
    """Fit ``make()`` on ``train`` (in the current process) and measure it."""
    model = make()
    cpu, start = cpu_seconds(), time.perf_counter()
    kwargs = {} if links is None else {"links": links}
    model.fit(train, **kwargs)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    proba = model.predict_proba(test)
    auc = classification_metrics(test.labels.to_numpy(), proba, model.classes_)["auc"]
    histories = getattr(model, "histories_", [])
    epochs = [len(h.val_loss) for h in histories]
    # each epoch trains on the inner part in batches of >= 64 (as gnn.train_model)
    inner = len(train.samples) - math.ceil(getattr(model, "val_size", 0) * len(train.samples))
    batches = sum(epochs) * max(inner // 64, 1)
    return {
        "model": name,
        "fit_s": seconds,
        "cpu_s": cpu,
        "epochs": "/".join(map(str, epochs)) or "-",
        "s_per_batch": seconds / batches if batches else float("nan"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "test_auc": auc,
        "load": load_average(),
    }


def _child(connection: Any, *args: Any) -> None:
    try:
        connection.send(("row", _fit(*args)))
    except Exception:  # noqa: BLE001 (sent to the parent, which raises it with this traceback)
        connection.send(("error", traceback.format_exc()))


def _in_child(*args: Any) -> dict[str, Any]:
    """:func:`_fit` in a forked process (its own peak RSS; arguments inherited, not pickled)."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, *args))
    process.start()
    kind, value = receiver.recv()
    process.join()
    if kind == "error":
        raise RuntimeError(f"fit of {args[0]} failed in its process:\n{value}")
    return value


def main() -> None:
    parser = model_parser(__doc__.splitlines()[0], "3 epochs per member (timing only)")
    parser.set_defaults(threads=2)
    parser.add_argument("--n-ensemble", type=int, nargs="+", default=[1, 3])
    parser.add_argument(
        "--architectures", nargs="+", default=list(ARCHITECTURES), choices=list(ARCHITECTURES)
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    data = Path(args.data_dir)
    start = time.perf_counter()
    cohort = fusion.read_cohort(
        data / "tcga_brca_multiomics",
        modalities=["mutation", "cnv", "mirna"],
        label=LABEL,
        require_all=True,
    )
    kg = build_kg(shared_sources(data), progress=False)
    links = fusion.link_cohort(cohort, kg)
    train, test = cohort.subset(cohort.samples[:N_TRAIN]), cohort.subset(cohort.samples[N_TRAIN:])
    print(
        f"cohort {len(cohort.samples)} patients ({len(train.samples)} train / {len(test.samples)} "
        f"test), features {[cohort[m].shape[1] for m in cohort]}, KG {kg}, loaded in "
        f"{time.perf_counter() - start:.1f} s"
    )
    train_kw: dict[str, Any] = {"max_epochs": 3, "patience": 100} if args.quick else {}
    rows = [_in_child("early LR", EarlyFusionLogistic, train, test, None)]
    for arch in args.architectures:
        for n in args.n_ensemble:

            def make(arch: str = arch, n: int = n) -> KGFusionClassifier:
                return KGFusionClassifier(
                    kg,
                    relations=RELATIONS,
                    n_ensemble=n,
                    n_threads=args.threads,
                    random_state=0,
                    **ARCHITECTURES[arch],
                    **train_kw,
                )

            rows.append(_in_child(f"{arch} n_ensemble={n}", make, train, test, links))
            print(rows[-1], flush=True)
    print(f"\nTCGA BRCA ER, mutation+CNV+miRNA, relations {RELATIONS}, threads={args.threads}")
    print_table(rows)


if __name__ == "__main__":
    main()
