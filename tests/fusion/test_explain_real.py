"""Explanations on real data: ROSMAP over GO, and a planted signal over the Reactome hierarchy."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from fusion import Cohort, read_mogonet
from fusion.data.synthetic import PlantedTruth, make_planted_cohort
from fusion.explanations import Explanation, explain
from fusion.models.estimator import KGFusionClassifier
from kg import KGConfig, KnowledgeGraph, Source, build_kg, information_content, subterms
from kg.build import SHARED_FILES

pytestmark = pytest.mark.realdata


def _kg(data_dir: Path, *keys: str, options: dict | None = None) -> KnowledgeGraph:
    formats = {
        "go": "obo",
        "gene2go": "gene2go",
        "reactome_names": "reactome",
        "reactome_gmt": "gmt",
    }
    options = options or {}
    sources = tuple(
        Source(data_dir / SHARED_FILES[k], formats[k], options.get(k, {})) for k in keys
    )
    return build_kg(KGConfig(sources, data_dir / SHARED_FILES["gene_info"]), progress=False)


def test_rosmap_explanation_subgraph_is_kg_and_reaches_inputs(data_dir: Path) -> None:
    kg = _kg(data_dir, "go", "gene2go", options={"go": {"on_dangling": "add"}})
    train, test = read_mogonet(data_dir / "mogonet_rosmap").train_test()
    estimator = KGFusionClassifier(kg=kg, n_ensemble=1, max_epochs=3, device="cpu").fit(train)
    patient = test.samples[0]
    (explanation,) = explain(estimator, test, patients=[patient], method="contribution")
    assert explanation.patient == patient and explanation.prediction in {"0", "1"}
    # the inputs are exactly the graph nodes of the patient's observed linked features
    ids = np.asarray(estimator.graph_.node_ids, dtype=object)
    linked = {
        ids[p]
        for m, positions in estimator.feature_nodes_.items()
        for p, observed in zip(positions.tolist(), test[m].loc[patient].notna())
        if p >= 0 and observed
    }
    assert set(explanation.inputs) == linked and linked
    _assert_kg_subgraph_reaching_inputs(explanation, kg)
    # the same for the gene attributions decomposed onto GO biological processes
    (genes,) = explain(estimator, test, patients=[patient], method="ig_features", n_steps=8)
    decomposed = genes.decompose("go_term", "biological_process")
    assert set(decomposed.top(10)["type"]) == {"go_term"}
    _assert_kg_subgraph_reaching_inputs(decomposed, kg)


def test_rosmap_default_explanations_are_specific_terms(data_dir: Path) -> None:
    """Over GO + Reactome, the default pruning and explanation give mid-level terms: pathways to
    rank (not the 17 top-level categories that min_seeds=10, max_fraction=0.3 leave of ROSMAP's
    200-gene panels), none a root (information content >= 3, while roots have about 0), none
    reached by more than 10 % of the patient's linked genes."""
    kg = _kg(data_dir, "go", "gene2go", "reactome_names", "reactome_gmt", options={
        "go": {"on_dangling": "add"},
        "reactome_names": {"hierarchy": data_dir / SHARED_FILES["reactome_hierarchy"]},
    })  # fmt: skip
    train, test = read_mogonet(data_dir / "mogonet_rosmap").train_test()
    estimator = KGFusionClassifier(kg=kg, n_ensemble=1, max_epochs=3, device="cpu").fit(train)
    (explanation,) = explain(estimator, test, patients=[test.samples[0]], n_steps=8)
    assert explanation.method == "ig_features"
    ic = information_content(kg)
    roots = {"GO:0008150", "GO:0003674", "GO:0005575", "all"}
    for kind in ("pathway", "go_term"):
        assert len(explanation.ranking(kind)) >= 10, kind  # candidates to rank
        top = explanation.top(10, kind)
        assert len(top) == 10 and not roots & set(top["id"])
        assert (ic[top["id"]] >= 3.0).all(), top
        assert (explanation.coverage[top["id"]] <= 0.1).all(), top
        assert (top["score"] >= 0).all()  # decomposition z-scores
    genes = explanation.top(5, "gene")
    assert len(genes) == 5 and set(genes["id"]) <= set(explanation.inputs)


def _assert_kg_subgraph_reaching_inputs(explanation: Explanation, kg: KnowledgeGraph) -> None:
    graph = explanation.subgraph(10)
    assert set(graph.nodes) <= set(kg.nodes.index)
    top = [n for n, d in graph.nodes(data=True) if d["top"]]
    assert len(top) + len(graph.graph["unreached"]) == 10
    assert top
    undirected = graph.to_undirected(as_view=True)
    for node in top:
        reachable = nx.node_connected_component(undirected, node)
        assert any(graph.nodes[n]["input"] for n in reachable), node
    for u, v, key in graph.edges(keys=True):
        assert kg.graph.has_edge(u, v, key)


@pytest.fixture(scope="module")
def planted(data_dir: Path) -> tuple[KGFusionClassifier, Cohort, PlantedTruth, list[str]]:
    """A model fitted on a cohort whose label depends on the TCA cycle's genes."""
    kg = _kg(data_dir, "reactome_names", "reactome_gmt", options={
        "reactome_names": {"hierarchy": data_dir / SHARED_FILES["reactome_hierarchy"]}
    })  # fmt: skip
    planted = ["reactome:R-HSA-71403"]  # citric acid (TCA) cycle, with one sub-pathway
    cohort, truth = make_planted_cohort(
        kg, planted, n_samples=160, modalities=("mRNA",), n_features=150, signal=1.5, seed=0
    )
    train = cohort.subset(cohort.samples[:120])
    test = cohort.subset(cohort.samples[120:])
    estimator = KGFusionClassifier(
        kg=kg, min_seeds=2, direct="none", n_ensemble=1, max_epochs=60, lr=1e-2, device="cpu"
    ).fit(train)
    graph = estimator.graph_
    pathways = [n for n, t in zip(graph.node_ids, graph.node_types) if t == "pathway"]
    assert len(pathways) >= 30  # a ranking among many pathways, not a trivial one
    return estimator, test, truth, pathways


def test_planted_reactome_pathway_ranks_top5_after_decomposition(planted) -> None:
    estimator, test, truth, pathways = planted
    genes = Explanation.aggregate(explain(estimator, test, method="ig_features", n_steps=16))
    decomposed = genes["cohort"].decompose("pathway")
    assert set(decomposed.scores.index) == set(pathways)
    # the planted pathway holds 34 of the 150 measured genes: above the default max_share
    top = decomposed.top(5, type="pathway", max_share=None)["id"].tolist()
    assert set(truth.pathways) & set(top), top
    # the best is the planted pathway or its sub-pathway (whose genes are planted too)
    assert top[0] in subterms(estimator.kg, truth.pathways[0], include_self=True), top
