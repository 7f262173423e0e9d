"""The planted-signal part of ``benchmarks/explain.py``: are the planted pathways ranked first,
and only when the model saw the real knowledge graph?

Per seed, 3 pathways are drawn among the *leaf* Reactome pathways with 15-40 member genes, and
:func:`fusion.data.synthetic.make_planted_cohort` makes a cohort whose label depends on their
genes (with decoy pathways whose genes co-vary independently of the label). Fitted on a
stratified 2/3 and explained on the rest:

* ``default``: the default model's per-gene attributions (``method="ig_features"``), averaged
  over the held-out patients and decomposed onto the pathways
  (:meth:`Explanation.decompose_terms`);
* ``rewired``: the same pipeline on a model fitted with ``control="rewired"`` (degree-preserving
  rewired graph); its explanations live on its own graph
  (:func:`fusion.explanations.explanation_kg`), so the decomposition uses the rewired memberships;
* ``rewired, real memberships``: the rewired model's gene attributions decomposed over the real
  KG (how far the genes alone point to the planted pathways);
* ``no model, z`` / ``no model, decomposed``: the training part's gene-label correlations, as a
  pathway z-score and decomposed: how far the planted pathways are identifiable from the data.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _explain_cohorts import Explained, Record, explained, faithfulness_records
from sklearn.metrics import average_precision_score

from fusion import Cohort, stratified_split
from fusion.data.synthetic import PlantedTruth, make_planted_cohort, pathway_genes
from fusion.explanations import Explanation
from fusion.models.estimator import KGFusionClassifier
from kg import KGConfig, KnowledgeGraph, Source, build_kg
from kg.build import SHARED_FILES

N_PLANTED, POOL_SIZES = 3, (15, 40)


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


def planted_pool(kg: KnowledgeGraph) -> list[str]:
    """Leaf pathways (no sub-pathway) with ``POOL_SIZES`` member genes, sorted."""
    edges = kg.edges
    parents = set(edges.loc[edges["relation"] == "part_of", "target"])
    members = edges[edges["relation"] == "member_of"].groupby("target")["source"].nunique()
    low, high = POOL_SIZES
    return sorted(p for p, n in members.items() if low <= n <= high and p not in parents)


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


def ranking_records(
    scores: pd.Series, pathways: list[str], positive: np.ndarray, sets: list[frozenset]
) -> dict[str, float]:
    """Strict AUPRC (pathway ids), AUPRC over distinct gene sets, best rank of a planted one."""
    scores = scores.reindex(pathways, fill_value=0.0)
    return {
        "auprc": float(average_precision_score(positive, scores.to_numpy())),
        "set_auprc": gene_set_auprc(scores, positive, sets),
        "best_rank": float(scores.rank(ascending=False)[positive].min()),
    }


@dataclasses.dataclass(frozen=True)
class PlantedSetup:
    """What every seed shares: the graph, the model settings, the cohort size, a gene-set cache."""

    kg: KnowledgeGraph
    params: dict[str, Any]
    n_samples: int
    gene_sets: dict[str, frozenset] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PlantedFit:
    """One seed's held-out cohort and its fitted models (the default and its controls)."""

    seed: int
    train: Cohort
    test: Cohort
    truth: PlantedTruth
    models: dict[str, KGFusionClassifier]

    @functools.cached_property
    def explained(self) -> dict[str, Explained]:
        """Each model's default explanations of the held-out patients (:func:`explained`)."""
        return {name: explained(model, self.test) for name, model in self.models.items()}


def fit_planted(setup: PlantedSetup, seed: int) -> PlantedFit:
    """Draw the planted pathways, make the cohort, fit the default model and its rewired control."""
    rng = np.random.default_rng(seed)
    planted = [str(p) for p in rng.choice(planted_pool(setup.kg), N_PLANTED, replace=False)]
    cohort, truth = make_planted_cohort(setup.kg, planted, n_samples=setup.n_samples, seed=seed)
    train_ids, test_ids = stratified_split(cohort, 1 / 3, seed=seed)
    train, test = cohort.subset(train_ids), cohort.subset(test_ids)
    settings = {"default": {}, "rewired": {"control": "rewired"}}
    models = {
        name: KGFusionClassifier(kg=setup.kg, random_state=seed, **setup.params, **extra).fit(train)
        for name, extra in settings.items()
    }
    return PlantedFit(seed, train, test, truth, models)


def planted_rankings(
    setup: PlantedSetup, fit: PlantedFit
) -> tuple[list[str], dict[str, pd.Series]]:
    """The pathways of the default model's graph and each variant's scores of them."""
    graph = fit.models["default"].graph_
    pathways = [n for n, t in zip(graph.node_ids, graph.node_types) if t == "pathway"]
    sets = gene_sets_of(setup.kg, pathways, setup.gene_sets)
    correlation = gene_label_correlation(fit.train, fit.truth)
    reference = Explanation(
        setup.kg,
        correlation.reindex(graph.node_ids, fill_value=0.0),
        correlation.index,
        "reference",
    )
    shuffled = fit.explained["rewired"]
    on_real_kg = dataclasses.replace(
        Explanation.aggregate(shuffled.patients, absolute=True)["cohort"], kg=setup.kg
    )
    rankings = {
        "default": fit.explained["default"].cohort.scores,
        "rewired": shuffled.cohort.scores,
        "rewired, real memberships": on_real_kg.decompose_terms().scores,
        "no model, z": pathway_z(correlation, pathways, sets),
        "no model, decomposed": reference.decompose("pathway").scores,
    }
    return pathways, rankings


def planted_faithfulness(fit: PlantedFit, n_random: int) -> list[Record]:
    """The standard faithfulness metrics of the default and the rewired model's per-patient
    explanations (``ig_features`` decomposed onto the pathways), beside random ones."""
    records = []
    for name, result in fit.explained.items():
        records += faithfulness_records(name, result, fit.seed, n_random, None)
    return [{"part": "planted", "seed": fit.seed, **r} for r in records]


def planted_records(setup: PlantedSetup, fit: PlantedFit) -> list[Record]:
    """AUPRC, gene-set AUPRC and best rank of every ranking; chance, size and accuracies."""
    pathways, rankings = planted_rankings(setup, fit)
    positive = np.isin(pathways, fit.truth.pathways)
    sets = gene_sets_of(setup.kg, pathways, setup.gene_sets)
    records = [
        {"section": "planted", "measure": measure, "variant": name, "value": value}
        for name, scores in rankings.items()
        for measure, value in ranking_records(scores, pathways, positive, sets).items()
    ]
    records += [
        {
            "section": "planted",
            "measure": "chance",
            "variant": "data",
            "value": float(positive.mean()),
        },
        {
            "section": "planted",
            "measure": "pathways",
            "variant": "data",
            "value": float(len(pathways)),
        },
    ]
    records += [
        {
            "section": "model",
            "measure": "accuracy",
            "variant": name,
            "value": float(model.score(fit.test)),
        }
        for name, model in fit.models.items()
    ]
    return [{"part": "planted", "seed": fit.seed, **r} for r in records]
