"""Explanation objects: queries with known answers on a tiny KG, RDF/SPARQL, pictures, errors."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from _cohorts import UnfittedEnsemble
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph

from fusion import InvalidParameterError
from fusion.explanations import (
    SHARED_TERMS_QUERY,
    TOP_K_QUERY,
    Explanation,
    plot_subgraph,
    plot_top_terms,
    sparql_top,
    to_rdf,
    write_html,
    write_turtle,
)
from kg import KnowledgeGraph, UnknownNodeError, UnknownNodeTypeError, make_edges, make_nodes

# G1 --involved_in--> GO:3 --is_a--> GO:2 --is_a--> GO:1   (biological_process)
# G2 --involved_in--> GO:2 ;  G3 --enables--> GO:4          (molecular_function)
# G1, G2 --participates_in--> R-2 --part_of--> R-1 ;  G4 isolated gene
GENES = ["NCBIGene:1", "NCBIGene:2", "NCBIGene:3", "NCBIGene:4"]
SCORES = {
    "GO:3": 0.9,
    "reactome:R-2": 0.8,
    "GO:2": 0.5,
    "NCBIGene:1": 0.4,
    "reactome:R-1": 0.3,
    "GO:1": 0.2,
    "NCBIGene:2": 0.1,
    "GO:4": 0.05,
    "NCBIGene:4": 0.6,
}


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    nodes = pd.concat(
        [
            make_nodes(GENES, "gene", "t", name=["G1", "G2", "G3", "G4"]),
            make_nodes(
                ["GO:1", "GO:2", "GO:3", "GO:4"],
                "go_term",
                "t",
                name=["process", "middle process", "leaf process", "function"],
                namespace=["biological_process"] * 3 + ["molecular_function"],
            ),
            make_nodes(["reactome:R-1", "reactome:R-2"], "pathway", "t", name=["Top", "Sub"]),
        ]
    )
    edges = make_edges(
        ["NCBIGene:1", "NCBIGene:2", "NCBIGene:3", "GO:3", "GO:2"]
        + ["NCBIGene:1", "NCBIGene:2", "reactome:R-2"],
        ["involved_in", "involved_in", "enables", "is_a", "is_a"]
        + ["participates_in", "participates_in", "part_of"],
        ["GO:3", "GO:2", "GO:4", "GO:2", "GO:1", "reactome:R-2", "reactome:R-2", "reactome:R-1"],
        "t",
    )
    return KnowledgeGraph(nodes, edges)


@pytest.fixture(scope="module")
def p1(kg: KnowledgeGraph) -> Explanation:
    return Explanation(
        kg,
        pd.Series(SCORES),
        inputs=["NCBIGene:1", "NCBIGene:2"],
        patient="p1",
        prediction="AD",
        probability=0.8,
        method="ig",
        model={"name": "test-model", "fingerprint": "abc123"},
    )


@pytest.fixture(scope="module")
def p2(kg: KnowledgeGraph) -> Explanation:
    scores = {**SCORES, "GO:3": 0.0, "GO:4": 0.95, "NCBIGene:3": 0.7}
    return Explanation(kg, pd.Series(scores), inputs=["NCBIGene:3"], patient="p2", method="ig")


# ---------------------------------------------------------------------------------- top
def test_top_ranks_all_types(p1: Explanation) -> None:
    top = p1.top(3)
    assert top["id"].tolist() == ["GO:3", "reactome:R-2", "NCBIGene:4"]
    assert top["rank"].tolist() == [1, 2, 3]
    assert top.columns.tolist() == ["id", "name", "type", "namespace", "score", "rank"]
    assert top.loc[0, "name"] == "leaf process"


def test_top_by_type_and_namespace(p1: Explanation) -> None:
    assert p1.top(5, type="pathway")["id"].tolist() == ["reactome:R-2", "reactome:R-1"]
    bp = p1.top(10, namespace="biological_process")["id"].tolist()
    assert bp == ["GO:3", "GO:2", "GO:1"]
    both = p1.top(10, type=["gene", "pathway"])["id"].tolist()
    assert both == ["reactome:R-2", "NCBIGene:4", "NCBIGene:1", "reactome:R-1", "NCBIGene:2"]


def test_top_ties_break_by_id(kg: KnowledgeGraph) -> None:
    e = Explanation(kg, pd.Series({"GO:2": 1.0, "GO:1": 1.0, "GO:3": 2.0}), [], "p")
    assert e.top(3)["id"].tolist() == ["GO:3", "GO:1", "GO:2"]


# ---------------------------------------------------------------------------------- subgraph
def test_subgraph_joins_top_nodes_to_inputs(p1: Explanation, kg: KnowledgeGraph) -> None:
    g = p1.subgraph(k=3)
    # G4 is top-3 but no path reaches it from the inputs G1, G2
    assert g.graph["unreached"] == ["NCBIGene:4"]
    # GO:3 <- G1 ; R-2 <- G1 (nearest input, tie broken by the higher input score)
    assert set(g.nodes) == {"GO:3", "reactome:R-2", "NCBIGene:1"}
    assert sorted(g.edges(keys=True)) == [
        ("NCBIGene:1", "GO:3", "involved_in"),
        ("NCBIGene:1", "reactome:R-2", "participates_in"),
    ]
    attrs = g.nodes["GO:3"]
    assert (attrs["score"], attrs["type"], attrs["name"]) == (0.9, "go_term", "leaf process")
    assert g.nodes["NCBIGene:1"]["input"] and not g.nodes["NCBIGene:1"]["top"]
    assert all(d["relation"] == key for _, _, key, d in g.edges(keys=True, data=True))
    assert "score" not in kg.graph.nodes["GO:3"], "the cached KG graph must not be written to"


def test_subgraph_follows_multi_hop_paths(p1: Explanation) -> None:
    g = p1.subgraph(k=2, types="go_term")  # GO:3, GO:2; both one hop from an input
    assert set(g.nodes) == {"GO:3", "GO:2", "NCBIGene:1", "NCBIGene:2"}
    g = p1.subgraph(k=1, types="pathway", max_len=3)
    assert set(g.nodes) == {"reactome:R-2", "NCBIGene:1"}
    e = Explanation(p1.kg, pd.Series({"GO:1": 1.0}), ["NCBIGene:1"], "p")
    assert set(e.subgraph(1).nodes) == {"GO:1", "GO:2", "GO:3", "NCBIGene:1"}
    assert e.subgraph(1, max_len=2).graph["unreached"] == ["GO:1"]


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 9),
    inputs=st.sets(st.sampled_from(GENES + ["GO:2"]), min_size=1),
    seed=st.integers(0, 2**16),
)
def test_subgraph_is_contained_in_kg_and_connected_to_inputs(
    kg: KnowledgeGraph, k: int, inputs: set[str], seed: int
) -> None:
    scores = pd.Series(SCORES).sample(frac=1.0, random_state=seed)
    e = Explanation(kg, scores.rank(), sorted(inputs), "p")
    g = e.subgraph(k)
    assert set(g.nodes) <= set(kg.nodes.index)
    assert all(kg.graph.has_edge(u, v, key) for u, v, key in g.edges(keys=True))
    reached = set().union(*(nx.node_connected_component(nx.Graph(g), i) for i in inputs if i in g))
    top = set(e.top(k)["id"])
    assert top - set(g.graph["unreached"]) <= reached
    assert set(g.graph["unreached"]) <= top


# ---------------------------------------------------------------------------------- queries
def test_paths(p1: Explanation) -> None:
    assert p1.paths("NCBIGene:1", "GO:1") == [["NCBIGene:1", "GO:3", "GO:2", "GO:1"]]
    assert p1.paths("NCBIGene:1", "GO:1", max_len=2) == []
    assert p1.paths("NCBIGene:2", "reactome:R-1", max_len=2) == [
        ["NCBIGene:2", "reactome:R-2", "reactome:R-1"]
    ]


def test_neighborhood_keeps_scored_nodes(p1: Explanation) -> None:
    assert set(p1.neighborhood("GO:2").nodes) == {"GO:2", "GO:1", "GO:3", "NCBIGene:2"}
    e = Explanation(p1.kg, pd.Series({"GO:1": 1.0}), [], "p")
    g = e.neighborhood("GO:2", k=2)
    assert set(g.nodes) == {"GO:2", "GO:1"} and g.nodes["GO:2"]["score"] == 0.0


def test_compare_two_patients(p1: Explanation, p2: Explanation) -> None:
    table = p1.compare(p2, k=3).set_index("id")
    assert table["status"].to_dict() == {
        "GO:4": "gained",
        "GO:3": "lost",
        "NCBIGene:3": "gained",
        "reactome:R-2": "kept",
        "NCBIGene:4": "lost",
    }
    assert table.loc["GO:4", "difference"] == pytest.approx(0.9)
    assert table.loc["GO:3", "difference"] == pytest.approx(-0.9)
    assert table.index[:2].tolist() == ["GO:3", "GO:4"]  # |difference| first, then id


def test_aggregate_by_class(p1: Explanation, p2: Explanation, kg: KnowledgeGraph) -> None:
    p3 = Explanation(kg, pd.Series({"GO:4": 0.35}), ["NCBIGene:3"], "p3", method="ig")
    groups = Explanation.aggregate([p1, p2, p3], by=["AD", "NC", "NC"])
    assert sorted(groups) == ["AD", "NC"]
    nc = groups["NC"]
    assert nc.n_patients == 2 and nc.patient == "NC" and nc.prediction == "NC"
    assert nc.scores["GO:4"] == pytest.approx((0.95 + 0.35) / 2)
    assert nc.scores["GO:3"] == pytest.approx(0.0)
    assert nc.scores["NCBIGene:1"] == pytest.approx(0.2)  # 0.4 for p2, absent (0) for p3
    pd.testing.assert_series_equal(groups["AD"].scores, p1.scores)
    diff = groups["AD"].compare(nc, k=1)
    assert diff["status"].tolist() == ["lost", "gained"]
    by_series = Explanation.aggregate([p1, p2], by=pd.Series({"p1": "x", "p2": "x"}))
    assert by_series["x"].inputs == ("NCBIGene:1", "NCBIGene:2", "NCBIGene:3")
    assert list(Explanation.aggregate([p1])) == ["cohort"]


def test_absolute_aggregate_keeps_an_input_that_signed_means_cancel(kg: KnowledgeGraph) -> None:
    """An input for one patient's prediction and against the other's: signed mean 0, absolute 0.5."""
    for_ = Explanation(kg, pd.Series({"NCBIGene:1": 0.5, "NCBIGene:2": 0.1}), ["NCBIGene:1"], "a")
    against = Explanation(
        kg, pd.Series({"NCBIGene:1": -0.5, "NCBIGene:2": 0.1}), ["NCBIGene:1"], "b"
    )
    signed = Explanation.aggregate([for_, against])["cohort"].scores
    absolute = Explanation.aggregate([for_, against], absolute=True)["cohort"].scores
    assert signed["NCBIGene:1"] == pytest.approx(0.0) and signed["NCBIGene:2"] == pytest.approx(0.1)
    assert absolute["NCBIGene:1"] == pytest.approx(0.5) and absolute["NCBIGene:2"] == pytest.approx(
        0.1
    )


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k(p1: Explanation, k: object) -> None:
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        p1.top(k)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        p1.subgraph(k)  # type: ignore[arg-type]


def test_unknown_type_namespace_and_ids(p1: Explanation, kg: KnowledgeGraph) -> None:
    with pytest.raises(UnknownNodeTypeError, match="protein"):
        p1.top(3, type="protein")
    with pytest.raises(InvalidParameterError, match="cellular_component"):
        p1.top(3, namespace="cellular_component")
    with pytest.raises(UnknownNodeError, match="GO:99"):
        p1.paths("NCBIGene:1", "GO:99")
    with pytest.raises(UnknownNodeError, match="GO:99"):
        p1.neighborhood("GO:99")
    with pytest.raises(UnknownNodeError, match="GO:99"):
        Explanation(kg, pd.Series({"GO:99": 1.0}), [], "p")
    with pytest.raises(InvalidParameterError, match="non-finite"):
        Explanation(kg, pd.Series({"GO:1": float("nan")}), [], "p")
    with pytest.raises(InvalidParameterError, match="by"):
        Explanation.aggregate([p1], by=["a", "b"])


# ---------------------------------------------------------------------------------- RDF
@pytest.fixture(scope="module")
def turtle(p1: Explanation, p2: Explanation, tmp_path_factory: pytest.TempPathFactory) -> Graph:
    path = write_turtle([p1, p2], tmp_path_factory.mktemp("rdf") / "expl.ttl", k=5, subgraph_k=3)
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


@pytest.mark.parametrize(
    ("patient", "k", "kind", "namespace"),
    [("p1", 5, None, None), ("p1", 2, "pathway", None), ("p2", 3, "gene", None),
     ("p1", 4, "go_term", "biological_process"), ("p2", 5, None, None)],
)  # fmt: skip
def test_sparql_top_equals_python_top(
    turtle: Graph, p1: Explanation, p2: Explanation, patient: str, k: int, kind: str | None,
    namespace: str | None,
) -> None:  # fmt: skip
    expected = {"p1": p1, "p2": p2}[patient].top(k, kind, namespace)
    got = sparql_top(turtle, patient, k, type=kind, namespace=namespace)
    assert got["id"].tolist() == expected["id"].tolist()
    assert got["score"].tolist() == pytest.approx(expected["score"].tolist())
    assert got["name"].tolist() == expected["name"].tolist()


def test_sparql_shared_terms_and_provenance(turtle: Graph) -> None:
    rows = turtle.query(
        SHARED_TERMS_QUERY, initBindings={"patient_a": _lit("p1"), "patient_b": _lit("p2")}
    )
    shared = [str(r.id) for r in rows]
    assert shared[0] == "reactome:R-2"  # 0.8 + 0.8
    assert "GO:3" not in shared and "GO:4" in shared
    ask = """PREFIX kgf: <https://w3id.org/kgfusion/>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    ASK { ?e kgf:explains/<http://purl.org/dc/terms/identifier> "p1" ; kgf:predictedClass "AD" ;
          prov:wasGeneratedBy/prov:used ?m . ?m kgf:fingerprint "abc123" }"""
    assert turtle.query(ask).askAnswer
    edges = """PREFIX kgf: <https://w3id.org/kgfusion/>
    PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
    SELECT ?s ?o WHERE { ?st a rdf:Statement ; kgf:inExplanation ?e ; rdf:subject ?s ;
      rdf:object ?o . ?e kgf:explains/<http://purl.org/dc/terms/identifier> "p1" }"""
    pairs = {(str(s).rsplit("/", 1)[-1], str(o).rsplit("/", 1)[-1]) for s, o in turtle.query(edges)}
    assert pairs == {("1", "GO_3"), ("1", "R-2")}
    assert "LIMIT" not in TOP_K_QUERY


def test_to_rdf_edge_scores_are_literals(kg: KnowledgeGraph) -> None:
    edge_scores = pd.Series({("NCBIGene:1", "involved_in", "GO:3"): 0.25})
    e = Explanation(kg, pd.Series({"GO:3": 1.0}), ["NCBIGene:1"], "p", edge_scores=edge_scores)
    graph = to_rdf(e)
    q = """PREFIX kgf: <https://w3id.org/kgfusion/>
    SELECT ?score WHERE { ?st a kgf:EdgeScore ; kgf:score ?score }"""
    assert [float(r.score) for r in graph.query(q)] == [0.25]


def _lit(value: str):
    from rdflib import Literal

    return Literal(value)


# ---------------------------------------------------------------------------------- pictures
def test_pictures_are_written(p1: Explanation, p2: Explanation, tmp_path) -> None:
    png = plot_subgraph(p1, tmp_path / "p1.png", k=5)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    bars = plot_top_terms(Explanation.aggregate([p1, p2], by=["a", "b"]), tmp_path / "bars.png")
    assert bars.stat().st_size > 10_000
    html = write_html(p1, tmp_path / "p1.html", k=5).read_text(encoding="utf-8")
    assert "vis.Network" in html and '"leaf process"' in html
    assert "cdn." not in html and "<script src=" not in html  # opens offline


# ---------------------------------------------------------------------------------- estimator
class _Identity:
    def transform(self, cohort):
        return cohort


class _Estimator(UnfittedEnsemble):
    """The fitted attributes :func:`fusion.explain` reads, over untrained networks."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        import torch

        from gnn import FusionNetConfig, KGFusionNet, RelationGraph

        torch.manual_seed(0)
        graph = RelationGraph.from_kg(kg)
        nodes = torch.from_numpy(graph.index_of(GENES))
        config = FusionNetConfig(dropout=0.0)
        self.models_ = [KGFusionNet(graph, {"mRNA": nodes}, 2, config).eval() for _ in range(2)]
        self.kg = kg
        self.classes_ = ["AD", "NC"]
        self.scaler_ = _Identity()
        self.feature_names_in_ = {"mRNA": pd.Index(["g1", "g2", "g3", "g4"])}


def test_explain_estimator(kg: KnowledgeGraph) -> None:
    from fusion import AlignmentError, Cohort
    from fusion.explanations import explain

    frame = pd.DataFrame(
        [[1.0, 2.0, None, 0.5], [0.1, None, None, None], [2.0, 1.0, 1.0, 1.0]],
        index=["a", "b", "c"],
        columns=["g1", "g2", "g3", "g4"],
    )
    cohort = Cohort({"mRNA": frame}, labels=pd.Series(["AD", "NC", "AD"], index=["a", "b", "c"]))
    estimator = _Estimator(kg)
    result = explain(estimator, cohort, patients=["b", "a"], method="ig", n_steps=4)
    assert [e.patient for e in result] == ["b", "a"]
    assert result[0].inputs == ("NCBIGene:1",)
    assert set(result[1].inputs) == {"NCBIGene:1", "NCBIGene:2", "NCBIGene:4"}
    assert all(e.prediction in {"AD", "NC"} and 0.5 <= e.probability <= 1 for e in result)
    assert result[1].model == {
        "name": "_Estimator",
        "ensemble": 2,
        "control": "none",
        "explained": "predicted class",
    }
    assert set(result[1].scores.index) == set(kg.nodes.index)
    exact = explain(estimator, cohort, method="contribution")
    assert len(exact) == 3 and all(e.method == "contribution" for e in exact)
    inputs = {"NCBIGene:1", "NCBIGene:2", "NCBIGene:4"}
    assert all((e.scores[e.scores.index.isin(inputs)] == 0).all() for e in exact)
    with pytest.raises(AlignmentError, match="'zz'"):
        explain(estimator, cohort, patients=["zz"])


def test_explain_decomposes_gene_attributions_onto_terms_by_default(kg: KnowledgeGraph) -> None:
    from fusion import Cohort
    from fusion.explanations import explain

    frame = pd.DataFrame([[2.0, 1.0, 1.0, 1.0]], index=["c"], columns=["g1", "g2", "g3", "g4"])
    cohort = Cohort({"mRNA": frame}, labels=pd.Series(["AD"], index=["c"]))
    estimator = _Estimator(kg)
    (default,) = explain(estimator, cohort, n_steps=4)
    (raw,) = explain(estimator, cohort, n_steps=4, method="ig_features", decompose=False)
    terms = raw.decompose_terms()
    assert default.method == raw.method == "ig_features"
    pd.testing.assert_series_equal(default.scores, terms.scores)
    genes = list(default.inputs)
    pd.testing.assert_series_equal(default.scores[genes], raw.scores[genes])  # inputs kept
    assert (raw.scores.drop(genes) == 0).all() and (default.scores.drop(genes) >= 0).all()
    with pytest.raises(InvalidParameterError, match="method='ig_features'"):
        explain(estimator, cohort, method="ig", decompose=True)
    with pytest.raises(InvalidParameterError, match="'decompose'"):
        explain(estimator, cohort, decompose="yes")


def test_rdf_export_keeps_negative_scores_that_zeros_would_have_crowded_out(
    kg: KnowledgeGraph,
) -> None:
    """Zero-score nodes take no place among a type's k exported nodes."""
    scores = {"GO:3": 0.9, "GO:2": 0.0, "GO:1": 0.0, "GO:4": -0.7}
    e = Explanation(kg, pd.Series(scores), inputs=[], patient="z")
    graph = to_rdf(e, k=2)
    got = sparql_top(graph, "z", 10, type="go_term")
    assert got["id"].tolist() == ["GO:3", "GO:4"]
    assert got["id"].tolist() == e.top(2, "go_term", nonzero=True)["id"].tolist()
