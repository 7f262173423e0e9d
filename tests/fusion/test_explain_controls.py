"""Explanations of a control model are on the graph the model saw (fusion.explanation_kg)."""

from __future__ import annotations

import pandas as pd
import pytest
from _cohorts import FAST, tiny_cohort, tiny_kg

from fusion import KGFusionClassifier
from fusion.explanations import explain, explanation_kg
from fusion.explanations.attribution import CONTROL_EDGE
from kg import KnowledgeGraph

QUICK = {**FAST, "max_epochs": 2, "n_ensemble": 1}
TERMS = ["GO:1", "GO:2", "GO:3"]


def _fit(control: str) -> KGFusionClassifier:
    return KGFusionClassifier(tiny_kg(), control=control, **QUICK).fit(tiny_cohort(40))


def _members(kg: KnowledgeGraph) -> dict[str, set[str]]:
    """Genes annotated to each of the three leaf terms."""
    edges = kg.edges[kg.edges["relation"] == "involved_in"]
    return {t: set(edges.loc[edges["target"] == t, "source"]) for t in TERMS}


@pytest.fixture(scope="module")
def rewired() -> KGFusionClassifier:
    return _fit("rewired")


def test_rewired_model_explains_on_its_rewired_graph(rewired: KGFusionClassifier) -> None:
    kg = explanation_kg(rewired)
    graph = rewired.graph_
    ids = pd.Index(graph.node_ids)
    expected = {
        (ids[s], "involved_in" if relation == "gene->go_term" else "is_a", ids[t])
        for relation, edges in zip(graph.base_relations, graph.edges)
        for s, t in edges.T.tolist()
    }
    assert set(map(tuple, kg.edges[["source", "relation", "target"]].values)) == expected
    assert set(kg.edges["provenance"]) == {CONTROL_EDGE.format(control="rewired")}
    assert sorted(kg.nodes.index) == sorted(graph.node_ids)
    assert kg.metadata["model_graph"] == {"control": "rewired"}
    # degree-preserving: 4 genes per leaf term, one term per gene, the same is_a edges ...
    members = _members(kg)
    assert [len(members[t]) for t in TERMS] == [4, 4, 4]
    assert set.union(*members.values()) == {f"NCBIGene:{i}" for i in range(1, 13)}
    is_a = kg.edges[kg.edges["relation"] == "is_a"]
    assert sorted(zip(is_a["source"], is_a["target"])) == [(t, "GO:9") for t in TERMS]
    # ... but not the real memberships (GENE1-4 in GO:1, GENE5-8 in GO:2, GENE9-12 in GO:3)
    assert members != _members(tiny_kg())
    assert explanation_kg(rewired) is kg  # built once


def test_rewired_explanations_carry_the_graph_and_the_control(
    rewired: KGFusionClassifier,
) -> None:
    (explanation,) = explain(rewired, tiny_cohort(40), patients=["p000"], method="contribution")
    assert explanation.kg is explanation_kg(rewired)
    assert explanation.model["control"] == "rewired"


def test_real_model_explains_on_the_real_graph() -> None:
    real = _fit("none")
    kg = explanation_kg(real)
    assert kg is real.kg
    assert _members(kg) == {
        f"GO:{k + 1}": {f"NCBIGene:{i}" for i in range(4 * k + 1, 4 * k + 5)} for k in range(3)
    }
    (explanation,) = explain(real, tiny_cohort(40), patients=["p000"], method="contribution")
    assert explanation.model["control"] == "none"


def test_permuted_features_explain_on_the_nodes_the_model_fed() -> None:
    permuted = _fit("permuted_features")
    kg = explanation_kg(permuted)
    assert _members(kg) == _members(tiny_kg())  # the pruned graph itself, unchanged
    assert set(kg.edges["provenance"]) == {CONTROL_EDGE.format(control="permuted_features")}
    cohort = tiny_cohort(40)
    frame = cohort["mRNA"].copy()
    frame.loc["p000"] = float("nan")
    frame.loc["p000", "GENE0"] = 1.0  # only the first gene's feature observed
    one = type(cohort)(
        {"mRNA": frame, "methylation": cohort["methylation"]},
        list(cohort.modalities.values()),
        labels=cohort.labels,
    )
    (explanation,) = explain(permuted, one, patients=["p000"], method="contribution")
    fed = permuted.graph_.node_ids[int(permuted.feature_nodes_["mRNA"][0])]
    assert explanation.inputs == (fed,)
    assert fed != "NCBIGene:1"  # GENE0 sits on another gene under this permutation


def test_random_masks_explain_on_the_networks_connections() -> None:
    random = KGFusionClassifier(
        tiny_kg(), architecture="hierarchy", control="random_masks", **QUICK
    ).fit(tiny_cohort(40))
    kg = explanation_kg(random)
    ids = random.graph_.node_ids
    source, target = random.models_[0].connections().tolist()
    # the hierarchy's connections: 12 genes -> 3 leaf terms, 3 leaf terms -> GO:9, drawn at random
    named = {(ids[s], ids[t]) for s, t in zip(source, target)}
    assert set(zip(kg.edges["source"], kg.edges["target"])) == named
    assert len(named) == 15
    relations = {"NCBIGene": "involved_in", "GO": "is_a"}
    assert set(map(tuple, kg.edges[["source", "relation"]].values)) == {
        (s, relations[s.split(":")[0]]) for s, _ in named
    }
    assert _members(kg) != _members(tiny_kg())
    (explanation,) = explain(random, tiny_cohort(40), patients=["p000"], method="contribution")
    assert explanation.kg is kg and explanation.model["control"] == "random_masks"
