"""Benchmark: are kgfusion's explanations faithful, and fast enough? (issue 5, "Faithfulness").

Explanations are :func:`fusion.explain`, averaged over the ensemble members. Printed:

1. **Planted signal** (Reactome 2025 hierarchy and gene sets from ``<data>/reactome``, gene
   symbols from ``<data>/go/gene_info_human.tsv.gz``). Per seed (16 seeds), 3 pathways are drawn
   at random among the *leaf* pathways with 15-40 member genes ("mid-sized"), and
   :func:`fusion.data.synthetic.make_planted_cohort` makes a 2-modality cohort whose label depends on
   their genes, with 5 decoy pathways whose genes co-vary independently of the label. Two
   :class:`~fusion.KGFusionClassifier` are fitted on a stratified 2/3: the default model, and a
   *graph-only* one (``direct="unlinked"``: every linked gene reaches the prediction through the
   graph branch). On the held-out third:

   * the default model's per-gene attributions (``method="ig_features"``), averaged
     (:meth:`Explanation.aggregate`), are decomposed onto the pathways
     (:meth:`Explanation.decompose`: topGO's elim over the hierarchy, then greedy claiming of
     genes among overlapping pathways, backfitted);
   * the graph-only model's concept scores (``--method``, default ``contribution``: the exact
     additive contribution of each concept node through the readout; ``ig``: integrated
     gradients on the final node states) are averaged.

   Every pathway node of the pruned graph is ranked; metric: average precision (AUPRC) of the
   planted pathways among them (target >= 0.9; chance = 3 / #pathways), mean ± sd over seeds.
   Parents of planted pathways carry their genes too and count as negatives. Reactome also
   holds pathways with *identical* gene sets (152 groups, e.g. disease variants of one
   process): the label depends on a planted pathway's duplicates exactly as on it, so the AUPRC
   is also given over distinct gene sets (duplicates merged into one entry, their best score). For scale,
   *references without a model* rank the same pathways from the training part's gene-label
   correlations ``r_g``: by the z-score ``Σ r_g / √n`` over the ``n`` measured member genes,
   and by the same decomposition: they show how far the planted pathways are identifiable from
   the data at all (with a 300-gene panel a parent's other members are mostly unmeasured, so
   its z-score looks like that of the planted pathway it contains).
2. **Deletion test** on ROSMAP (MOGONET official split; KG = GO + gene2go from ``<data>/go``; a
   graph-only model fitted on the train part, explained with ``--method``; and the default
   model's ``ig_features`` of each patient decomposed onto the GO terms). For each test patient, the *inputs of the top-10 explanation
   nodes* are the patient's features linked to the input nodes of its explanation subgraph
   (:meth:`Explanation.subgraph` with ``k=10``: the 10 top-scored nodes plus the shortest KG
   path from each to the nearest input node; a top node that is itself an input is its own
   input). They are removed (marked unobserved, as a missing value) and the drop of the
   predicted class's probability is compared with removing the features of as many input nodes
   drawn at random among the patient's linked input nodes (mean over 5 draws). Reported: mean
   drops, the mean paired difference (explanation − random; > 0 means the explanation is
   faithful) and the one-sided Wilcoxon signed-rank p-value (:func:`scipy.stats.wilcoxon`).
3. **Sanity check** (Adebayo et al., 2018, "Sanity Checks for Saliency Maps"): the same
   architecture with re-initialised weights (every member's ``reset_parameters``), explained on
   the same patients: Spearman rank correlation with the trained model's node scores, per
   patient (mean ± sd) and of the cohort means, on signed and on absolute scores (a randomised
   model may explain the other class, which flips signs). Should be low.
4. **Timing** of ``explain`` (``n_steps=32``) for one patient and for all 351 ROSMAP patients
   (targets 0.2 s and 30 s with 2 threads); and of ``ig_features`` decomposed onto the GO terms,
   per patient (the 106 test patients of the deletion test).

Run: ``python benchmarks/explain.py [--data-dir PATH] [--quick]`` (``--quick``: 1 seed, fewer
samples and epochs; for a smoke run, not for the reported numbers).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import ROOT, print_table, timed
from scipy.stats import spearmanr, wilcoxon
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

from fusion import Cohort, read_mogonet
from fusion.data.synthetic import PlantedTruth, make_planted_cohort, pathway_genes
from fusion.explanations import Explanation, explain
from fusion.models.estimator import KGFusionClassifier
from kg import KGConfig, KnowledgeGraph, Source, build_kg
from kg.build import SHARED_FILES

N_PLANTED, POOL_SIZES, TOP_K, RANDOM_DRAWS = 3, (15, 40), 10, 5


def _data_dir(value: str | None) -> Path:
    path = Path(value or os.environ.get("KGFUSION_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "README.md").exists():
        raise SystemExit(f"shared data not found at {path}; pass --data-dir or set KGFUSION_DATA")
    return path


def reactome_kg(data: Path) -> KnowledgeGraph:
    """Reactome pathways, hierarchy and lowest-level gene sets; genes named by NCBI symbol."""
    config = KGConfig(
        (
            Source(
                data / SHARED_FILES["reactome_names"],
                "reactome",
                {"hierarchy": data / SHARED_FILES["reactome_hierarchy"]},
            ),
            Source(data / SHARED_FILES["reactome_gmt"], "gmt"),
        ),
        data / SHARED_FILES["gene_info"],
    )
    return build_kg(config, progress=False)


def go_kg(data: Path) -> KnowledgeGraph:
    """GO (go-basic) with human gene2go annotations."""
    config = KGConfig(
        (
            Source(data / SHARED_FILES["go"], "obo", {"on_dangling": "add"}),
            Source(data / SHARED_FILES["gene2go"], "gene2go"),
        ),
        data / SHARED_FILES["gene_info"],
    )
    return build_kg(config, progress=False)


def planted_pool(kg: KnowledgeGraph) -> list[str]:
    """Leaf pathways (no sub-pathway) with ``POOL_SIZES`` member genes, sorted."""
    edges = kg.edges
    parents = set(edges.loc[edges["relation"] == "part_of", "target"])
    members = edges[edges["relation"] == "member_of"].groupby("target")["source"].nunique()
    low, high = POOL_SIZES
    return sorted(p for p, n in members.items() if low <= n <= high and p not in parents)


def _split(cohort: Cohort, seed: int) -> tuple[Cohort, Cohort]:
    train, test = train_test_split(
        cohort.samples.to_numpy(),
        test_size=1 / 3,
        random_state=seed,
        stratify=cohort.labels.to_numpy(),
    )
    return cohort.subset(train), cohort.subset(test)


def gene_label_correlation(train: Cohort, truth: PlantedTruth) -> pd.Series:
    """Correlation of each gene of the first modality with the label (training part), by KG id."""
    modality = next(iter(train))
    values = train[modality]
    case = (train.labels.loc[values.index] == "case").astype(float)
    return values.corrwith(case).set_axis(truth.feature_nodes[modality][values.columns].to_numpy())


def gene_sets_of(
    kg: KnowledgeGraph, pathways: list[str], cache: dict[str, frozenset]
) -> list[frozenset]:
    """Each pathway's :func:`pathway_genes`, computed once per pathway over the run (``cache``)."""
    for p in set(pathways).difference(cache):
        cache[p] = frozenset(pathway_genes(kg, p))
    return [cache[p] for p in pathways]


def pathway_z(correlation: pd.Series, pathways: list[str], gene_sets: list[frozenset]) -> pd.Series:
    """Pathway z-scores ``Σ r_g / √n`` of gene correlations ``r_g`` over the measured member genes."""
    z = {}
    for p, genes in zip(pathways, gene_sets):
        r = correlation.reindex(sorted(genes)).dropna()  # one order: equal gene sets tie exactly
        z[p] = r.sum() / np.sqrt(len(r)) if len(r) else 0.0
    return pd.Series(z)


def gene_set_auprc(scores: pd.Series, positive: np.ndarray, gene_sets: list[frozenset]) -> float:
    """AUPRC over distinct gene sets: pathways with the same genes are one entry (their best score).

    Reactome holds pathways with identical gene sets (e.g. disease variants of one process); a
    label that depends on the genes of a planted pathway depends equally on its duplicates, so
    ranking a duplicate first is not an error.
    """
    best = scores.groupby(gene_sets).max()
    truth = {g for g, p in zip(gene_sets, positive) if p}
    return float(average_precision_score(best.index.map(lambda k: k in truth), best.to_numpy()))


def planted_signal(
    kg: KnowledgeGraph,
    seed: int,
    params: dict,
    n_samples: int,
    method: str,
    gene_sets: dict[str, frozenset],
) -> dict[str, float]:
    """AUPRC of the planted pathways among the pruned graph's pathways, for one seed."""
    rng = np.random.default_rng(seed)
    planted = [str(p) for p in rng.choice(planted_pool(kg), N_PLANTED, replace=False)]
    cohort, truth = make_planted_cohort(kg, planted, n_samples=n_samples, seed=seed)
    train, test = _split(cohort, seed)
    model = KGFusionClassifier(kg=kg, random_state=seed, **params).fit(train)
    graph_only = KGFusionClassifier(kg=kg, random_state=seed, direct="unlinked", **params).fit(
        train
    )
    graph = model.graph_
    pathways = [n for n, t in zip(graph.node_ids, graph.node_types) if t == "pathway"]
    positive = np.isin(pathways, truth.pathways)
    sets = gene_sets_of(kg, pathways, gene_sets)
    correlation = gene_label_correlation(train, truth)
    reference = Explanation(
        kg, correlation.reindex(graph.node_ids, fill_value=0.0), correlation.index, "reference"
    )
    rankings = {
        "": Explanation.aggregate(explain(graph_only, test, method=method))["cohort"].scores,
        "decomposed_": Explanation.aggregate(explain(model, test, method="ig_features"))["cohort"]
        .decompose("pathway")
        .scores,
        "reference_": pathway_z(correlation, pathways, sets),
        "reference_decomposed_": reference.decompose("pathway").scores,
    }
    result = {}
    for name, scores in rankings.items():
        scores = scores.reindex(pathways, fill_value=0.0)
        result[f"{name}auprc"] = float(average_precision_score(positive, scores.to_numpy()))
        result[f"{name}best_rank"] = float(scores.rank(ascending=False)[positive].min())
        result[f"{name}set_auprc"] = gene_set_auprc(scores, positive, sets)
    return {
        **result,
        "chance": float(positive.mean()),
        "pathways": float(len(pathways)),
        "accuracy": float(model.score(test)),
        "graph_only_accuracy": float(graph_only.score(test)),
    }


def _removed(cohort: Cohort, estimator: KGFusionClassifier, nodes: dict[str, list[str]]) -> Cohort:
    """``cohort`` with, for each patient, the features linked to ``nodes[patient]`` set missing."""
    ids = np.asarray(estimator.graph_.node_ids, dtype=object)
    frames = {}
    for modality, positions in estimator.feature_nodes_.items():
        linked = positions.numpy()
        feature_node = pd.Series(
            np.where(linked >= 0, ids[np.clip(linked, 0, None)], None),
            index=estimator.feature_names_in_[modality],
        )
        frame = cohort[modality].copy()
        for patient, chosen in nodes.items():
            columns = feature_node.index[feature_node.isin(chosen).to_numpy()]
            frame.loc[patient, columns] = np.nan
        frames[modality] = frame
    return cohort.with_data(frames)


def _predicted_probability(
    estimator: KGFusionClassifier, cohort: Cohort, target: np.ndarray
) -> np.ndarray:
    return estimator.predict_proba(cohort)[np.arange(cohort.n_samples), target]


def deletion_test(
    estimator: KGFusionClassifier, test: Cohort, explanations: list[Explanation], seed: int
) -> dict:
    """Probability drops when removing the explanation's inputs vs as many random inputs."""
    rng = np.random.default_rng(seed)
    target = estimator.predict_proba(test).argmax(axis=1)
    before = _predicted_probability(estimator, test, target)
    chosen, sizes = {}, []
    for e in explanations:
        graph = e.subgraph(TOP_K)
        chosen[e.patient] = [n for n, d in graph.nodes(data=True) if d["input"]]
        sizes.append(len(chosen[e.patient]))
    drop_top = before - _predicted_probability(estimator, _removed(test, estimator, chosen), target)
    drops = []
    for _ in range(RANDOM_DRAWS):
        draw = {
            e.patient: list(
                rng.choice(np.asarray(e.inputs, dtype=object), min(n, len(e.inputs)), replace=False)
            )
            for e, n in zip(explanations, sizes)
        }
        drops.append(
            before - _predicted_probability(estimator, _removed(test, estimator, draw), target)
        )
    drop_random = np.mean(drops, axis=0)
    difference = drop_top - drop_random
    return {
        "drop_top": float(drop_top.mean()),
        "drop_random": float(drop_random.mean()),
        "difference": float(difference.mean()),
        "difference_sd": float(difference.std(ddof=1)),
        "p_value": float(wilcoxon(drop_top, drop_random, alternative="greater").pvalue),
        "input_nodes": float(np.mean(sizes)),
        "patients": len(explanations),
    }


def _randomised(estimator: KGFusionClassifier, seed: int) -> KGFusionClassifier:
    """A copy of the fitted estimator whose members' weights are re-initialised."""
    clone = copy.copy(estimator)
    torch.manual_seed(seed)
    clone.models_ = []
    for net in estimator.models_:
        net = copy.deepcopy(net)
        for module in net.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        clone.models_.append(net.eval())
    return clone


def sanity_check(
    estimator: KGFusionClassifier, test: Cohort, explanations: list[Explanation], seed: int
) -> dict:
    """Spearman correlation of trained vs randomised-weight explanations."""
    random = explain(_randomised(estimator, seed), test, method=explanations[0].method)
    trained = pd.concat([e.scores for e in explanations], axis=1)
    shuffled = pd.concat([e.scores for e in random], axis=1).reindex(trained.index)
    result = {}
    for name, (a, b) in {"": (trained, shuffled), "abs_": (trained.abs(), shuffled.abs())}.items():
        per_patient = [spearmanr(a.iloc[:, i], b.iloc[:, i]).statistic for i in range(a.shape[1])]
        result[f"{name}per_patient"] = float(np.nanmean(per_patient))
        result[f"{name}per_patient_sd"] = float(np.nanstd(per_patient))
        result[f"{name}cohort_mean"] = float(spearmanr(a.mean(axis=1), b.mean(axis=1)).statistic)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=None,
        help="shared data folder (default: $KGFUSION_DATA or ../shared/data)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 seed, smaller cohorts and fewer epochs (smoke run)"
    )
    parser.add_argument(
        "--method",
        default="contribution",
        choices=["contribution", "ig", "ig_features"],
        help="attribution method (default: contribution)",
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore", category=UserWarning)
    data = _data_dir(args.data_dir)
    seeds = [0] if args.quick else list(range(16))
    n_ensemble = 1 if args.quick else 3
    params = {"n_ensemble": n_ensemble, "max_epochs": 30 if args.quick else 100, "device": "cpu"}

    reactome = reactome_kg(data)
    gene_sets: dict[str, frozenset] = {}
    n_samples = 200 if args.quick else 300
    runs = pd.DataFrame(
        [planted_signal(reactome, s, params, n_samples, args.method, gene_sets) for s in seeds],
        index=seeds,
    )

    rosmap = read_mogonet(data / "mogonet_rosmap")
    train, test = rosmap.train_test()
    go = go_kg(data)
    estimator = KGFusionClassifier(kg=go, random_state=0, direct="unlinked", **params).fit(train)
    explanations = explain(estimator, test, method=args.method)
    deletion = deletion_test(estimator, test, explanations, seed=0)
    default = KGFusionClassifier(kg=go, random_state=0, **params).fit(train)
    decompose_s, decomposed = timed(
        lambda: [e.decompose("go_term") for e in explain(default, test, method="ig_features")]
    )
    deletion_decomposed = deletion_test(default, test, decomposed, seed=0)
    sanity = sanity_check(estimator, test, explanations, seed=0)
    one_s, _ = timed(
        lambda: explain(estimator, rosmap, patients=[rosmap.samples[0]], method=args.method),
        repeat=3,
    )
    all_s, _ = timed(lambda: explain(estimator, rosmap, method=args.method))

    def mean_sd(column: str) -> str:
        return (
            f"{runs[column].mean():.3f} ± {runs[column].std(ddof=1) if len(runs) > 1 else 0.0:.3f}"
        )

    rows = [
        {
            "measure": f"planted: AUPRC of {N_PLANTED} planted pathways ({len(seeds)} seeds), ig_features decomposed",
            "value": mean_sd("decomposed_auprc"),
            "target": ">= 0.9",
            "ok": runs["decomposed_auprc"].mean() >= 0.9,
        },
        {
            "measure": "planted: same, pathways with identical gene sets merged",
            "value": mean_sd("decomposed_set_auprc"),
            "target": ">= 0.9",
            "ok": runs["decomposed_set_auprc"].mean() >= 0.9,
        },
        {
            "measure": f"planted: AUPRC, graph-only model's {args.method} scores",
            "value": mean_sd("auprc"),
            "target": "",
            "ok": "",
        },
        {"measure": "planted: chance AUPRC", "value": mean_sd("chance"), "target": "", "ok": ""},
        {
            "measure": "planted: reference AUPRC, no model (z of gene-label correlations)",
            "value": mean_sd("reference_auprc"),
            "target": "",
            "ok": "",
        },
        {
            "measure": "planted: reference AUPRC, no model (correlations decomposed)",
            "value": mean_sd("reference_decomposed_auprc"),
            "target": "",
            "ok": "",
        },
        {
            "measure": "planted: same, identical gene sets merged",
            "value": mean_sd("reference_decomposed_set_auprc"),
            "target": "",
            "ok": "",
        },
        {
            "measure": "planted: best rank of a planted pathway, decomposed",
            "value": mean_sd("decomposed_best_rank"),
            "target": "",
            "ok": "",
        },
        {
            "measure": f"planted: best rank of a planted pathway, graph-only {args.method}",
            "value": mean_sd("best_rank"),
            "target": "",
            "ok": "",
        },
        {
            "measure": "planted: pathway nodes ranked",
            "value": mean_sd("pathways"),
            "target": "",
            "ok": "",
        },
        {
            "measure": "planted: held-out accuracy (model / graph-only model)",
            "value": f"{mean_sd('accuracy')} / {mean_sd('graph_only_accuracy')}",
            "target": "",
            "ok": "",
        },
        {
            "measure": "ROSMAP: held-out accuracy",
            "value": f"{estimator.score(test):.3f}",
            "target": "",
            "ok": "",
        },
        {
            "measure": f"deletion: prob. drop, top-{TOP_K} explanation inputs",
            "value": f"{deletion['drop_top']:.4f}",
            "target": "",
            "ok": "",
        },
        {
            "measure": f"deletion: prob. drop, random inputs ({RANDOM_DRAWS} draws)",
            "value": f"{deletion['drop_random']:.4f}",
            "target": "",
            "ok": "",
        },
        {
            "measure": "deletion: input nodes removed per patient (mean)",
            "value": f"{deletion['input_nodes']:.1f}",
            "target": "",
            "ok": "",
        },
        {
            "measure": f"deletion: paired difference (n={deletion['patients']})",
            "value": f"{deletion['difference']:.4f} ± {deletion['difference_sd']:.4f}",
            "target": "> 0",
            "ok": deletion["difference"] > 0,
        },
        {
            "measure": "deletion: Wilcoxon p (one-sided)",
            "value": f"{deletion['p_value']:.2g}",
            "target": "< 0.05",
            "ok": deletion["p_value"] < 0.05,
        },
        {
            "measure": "deletion, default model, ig_features decomposed onto GO terms: drop top-10 / random",
            "value": f"{deletion_decomposed['drop_top']:.4f} / {deletion_decomposed['drop_random']:.4f}",
            "target": "",
            "ok": "",
        },
        {
            "measure": "deletion, decomposed: paired difference, Wilcoxon p",
            "value": f"{deletion_decomposed['difference']:.4f} ± {deletion_decomposed['difference_sd']:.4f}, p = {deletion_decomposed['p_value']:.2g}",
            "target": "> 0, < 0.05",
            "ok": deletion_decomposed["difference"] > 0 and deletion_decomposed["p_value"] < 0.05,
        },
        {
            "measure": "sanity: Spearman trained vs random weights, per patient",
            "value": f"{sanity['per_patient']:.3f} ± {sanity['per_patient_sd']:.3f}",
            "target": "low",
            "ok": "",
        },
        {
            "measure": "sanity: Spearman of cohort mean scores",
            "value": f"{sanity['cohort_mean']:.3f}",
            "target": "low",
            "ok": "",
        },
        {
            "measure": "sanity: same on |score|, per patient",
            "value": f"{sanity['abs_per_patient']:.3f} ± {sanity['abs_per_patient_sd']:.3f}",
            "target": "low",
            "ok": "",
        },
        {
            "measure": "sanity: same on |score|, cohort means",
            "value": f"{sanity['abs_cohort_mean']:.3f}",
            "target": "low",
            "ok": "",
        },
        {
            "measure": "timing: explain 1 patient (s)",
            "value": f"{one_s:.3f}",
            "target": "<= 0.2",
            "ok": one_s <= 0.2,
        },
        {
            "measure": f"timing: explain {rosmap.n_samples} patients (s)",
            "value": f"{all_s:.2f}",
            "target": "<= 30",
            "ok": all_s <= 30,
        },
        {
            "measure": "timing: ig_features + decompose onto GO terms, per patient (s)",
            "value": f"{decompose_s / test.n_samples:.3f}",
            "target": "<= 0.2",
            "ok": decompose_s / test.n_samples <= 0.2,
        },
    ]
    print(
        f"# explain (method={args.method}) on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, 2 torch threads"
        f"{' (--quick)' if args.quick else ''}"
    )
    print(
        f"KGFusionClassifier({', '.join(f'{k}={v}' for k, v in params.items())}) (graph-only: direct=unlinked; ROSMAP: graph-only); "
        f"ROSMAP pruned graph {estimator.graph_.num_nodes:,} nodes; planted AUPRC per seed, decomposed: "
        f"{runs['decomposed_auprc'].round(3).tolist()}, merged: {runs['decomposed_set_auprc'].round(3).tolist()}, graph-only {args.method}: {runs['auprc'].round(3).tolist()}"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
