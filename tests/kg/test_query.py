"""Tests of kg.query on a hand-built graph with known answers, plus networkx oracles."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import KnowledgeGraph, UnknownNodeError, UnknownNodeTypeError, make_edges, make_nodes
from kg.query import (
    all_simple_paths,
    induced_subgraph_by_type,
    neighborhood,
    path_edges,
    shortest_paths,
    subterms,
    superterms,
)

G1, G2, G3 = "NCBIGene:1", "NCBIGene:2", "NCBIGene:3"


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    """GO DAG 1 <- {2, 3}; 4 is_a 2, 4 part_of 3; 5 is_a 4. Pathways R-3 part_of R-2 part_of R-1.

    NCBIGene:1 is annotated to GO:5 and is in R-3; NCBIGene:2 to GO:3 and R-2; NCBIGene:3 is
    isolated.
    """
    nodes = pd.concat(
        [
            make_nodes([f"GO:{i}" for i in range(1, 6)], "go_term", "go"),
            make_nodes([G1, G2, G3], "gene", "genes"),
            make_nodes(["R-1", "R-2", "R-3"], "pathway", "reactome"),
        ]
    )
    edges = pd.concat(
        [
            make_edges(["GO:2", "GO:3", "GO:4"], "is_a", ["GO:1", "GO:1", "GO:2"], "go"),
            make_edges(["GO:4"], "part_of", ["GO:3"], "go"),
            make_edges(["GO:5"], "is_a", ["GO:4"], "go"),
            make_edges(["R-3", "R-2"], "part_of", ["R-2", "R-1"], "reactome"),
            make_edges([G1, G2], "involved_in", ["GO:5", "GO:3"], "gene2go"),
            make_edges([G1, G2], "member_of", ["R-3", "R-2"], "gmt"),
        ]
    )
    return KnowledgeGraph(nodes, edges)


def edge_set(graph: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return set(map(tuple, graph.edges[["source", "relation", "target"]].to_numpy().tolist()))


# ----------------------------------------------------------------------- superterms/subterms
def test_superterms_follow_is_a_and_part_of_up(kg):
    assert superterms(kg, "GO:5") == {"GO:4", "GO:2", "GO:3", "GO:1"}
    assert superterms(kg, "GO:5", "is_a") == {"GO:4", "GO:2", "GO:1"}
    assert superterms(kg, "GO:5", include_self=True) == {"GO:5", "GO:4", "GO:2", "GO:3", "GO:1"}
    assert superterms(kg, "GO:1") == set()
    assert superterms(kg, "R-3") == {"R-2", "R-1"}


def test_superterms_of_a_gene_need_the_annotation_relation(kg):
    assert superterms(kg, G1) == set()
    assert superterms(kg, G1, ["involved_in", "is_a"]) == {"GO:5", "GO:4", "GO:2", "GO:1"}
    assert superterms(kg, G1, None) == {"GO:5", "GO:4", "GO:3", "GO:2", "GO:1", "R-3", "R-2", "R-1"}


def test_subterms_follow_edges_down(kg):
    assert subterms(kg, "GO:3") == {"GO:4", "GO:5"}
    assert subterms(kg, "GO:3", "is_a") == set()
    assert subterms(kg, "GO:1") == {"GO:2", "GO:3", "GO:4", "GO:5"}
    assert subterms(kg, "GO:5", include_self=True) == {"GO:5"}
    assert subterms(kg, "GO:5", None, include_self=False) == {G1}


def test_absent_relation_matches_nothing(kg):
    assert superterms(kg, "GO:5", "regulates") == set()


# ------------------------------------------------------------------------------ neighborhood
def test_neighborhood_hops(kg):
    assert set(neighborhood(kg, G1, k=0).nodes.index) == {G1}
    one = neighborhood(kg, G1)
    assert set(one.nodes.index) == {G1, "GO:5", "R-3"}
    assert edge_set(one) == {(G1, "involved_in", "GO:5"), (G1, "member_of", "R-3")}
    assert set(neighborhood(kg, G1, k=2).nodes.index) == {G1, "GO:5", "R-3", "GO:4", "R-2"}
    assert set(neighborhood(kg, [G1, G3], k=1).nodes.index) == {G1, G3, "GO:5", "R-3"}


def test_neighborhood_direction(kg):
    assert set(neighborhood(kg, "GO:4", k=1, direction="in").nodes.index) == {"GO:4", "GO:5"}
    assert set(neighborhood(kg, "GO:4", k=2, direction="in").nodes.index) == {"GO:4", "GO:5", G1}
    assert set(neighborhood(kg, "GO:4", k=1, direction="out").nodes.index) == {
        "GO:4",
        "GO:2",
        "GO:3",
    }


def test_neighborhood_relations_filter_nodes_and_edges(kg):
    sub = neighborhood(kg, "GO:5", k=2, relations="is_a")
    assert set(sub.nodes.index) == {"GO:5", "GO:4", "GO:2"}
    assert edge_set(sub) == {("GO:5", "is_a", "GO:4"), ("GO:4", "is_a", "GO:2")}
    # induced edges of other relations are dropped when a filter is given, kept otherwise
    assert edge_set(neighborhood(kg, ["GO:3", "GO:4"], k=0, relations="is_a")) == set()
    assert edge_set(neighborhood(kg, ["GO:3", "GO:4"], k=0)) == {("GO:4", "part_of", "GO:3")}


def test_neighborhood_keeps_node_attributes(kg):
    sub = neighborhood(kg, G1)
    assert sub.nodes.loc["GO:5", "type"] == "go_term"
    assert list(sub.nodes.columns) == list(kg.nodes.columns)


# ----------------------------------------------------------------------------------- paths
def test_shortest_paths_undirected_and_directed(kg):
    assert shortest_paths(kg, G1, G2) == [[G1, "R-3", "R-2", G2]]
    assert shortest_paths(kg, G1, G2, directed=True) == []
    assert shortest_paths(kg, G1, G2, cutoff=2) == []
    assert shortest_paths(kg, G1, G2, cutoff=3) == [[G1, "R-3", "R-2", G2]]
    no_pathways = ["involved_in", "is_a", "part_of"]
    assert shortest_paths(kg, G1, G2, relations=no_pathways) == [[G1, "GO:5", "GO:4", "GO:3", G2]]


def test_shortest_paths_many_pairs_in_given_order(kg):
    paths = shortest_paths(kg, [G1, G2], ["GO:1", G3, G1], directed=True)
    assert paths == [[G1, "GO:5", "GO:4", "GO:2", "GO:1"], [G2, "GO:3", "GO:1"]]
    assert shortest_paths(kg, G1, G1) == []  # source == target is skipped


def test_all_simple_paths_shortest_first_and_bounded(kg):
    via_pathway = [G1, "R-3", "R-2", G2]
    via_go = [G1, "GO:5", "GO:4", "GO:3", G2]
    via_root = [G1, "GO:5", "GO:4", "GO:2", "GO:1", "GO:3", G2]
    assert all_simple_paths(kg, G1, G2, cutoff=3) == [via_pathway]
    assert all_simple_paths(kg, G1, G2, cutoff=4) == [via_pathway, via_go]
    assert all_simple_paths(kg, G1, G2, cutoff=6) == [via_pathway, via_go, via_root]
    assert all_simple_paths(kg, G1, G2, cutoff=6, max_paths=2) == [via_pathway, via_go]
    assert all_simple_paths(kg, G1, G2, directed=True) == []


def test_all_simple_paths_directed_and_first_target(kg):
    assert all_simple_paths(kg, "GO:5", "GO:1", directed=True) == [
        ["GO:5", "GO:4", "GO:2", "GO:1"],
        ["GO:5", "GO:4", "GO:3", "GO:1"],
    ]
    # a path ends at the first target it meets
    assert all_simple_paths(kg, "GO:5", ["GO:4", "GO:1"], directed=True) == [["GO:5", "GO:4"]]
    assert all_simple_paths(kg, "GO:5", "GO:1", relations="is_a", directed=True) == [
        ["GO:5", "GO:4", "GO:2", "GO:1"]
    ]


def test_path_edges_name_each_hop_in_stored_direction(kg):
    assert path_edges(kg, [G1, "R-3", "R-2", G2]) == [
        (G1, "member_of", "R-3"),
        ("R-3", "part_of", "R-2"),
        (G2, "member_of", "R-2"),
    ]
    assert path_edges(kg, ["GO:3", "GO:4"]) == [("GO:4", "part_of", "GO:3")]
    assert path_edges(kg, [G1]) == []
    with pytest.raises(ValueError, match="no edge joins"):
        path_edges(kg, [G1, G2])
    with pytest.raises(ValueError, match="with a relation in"):
        path_edges(kg, ["GO:3", "GO:4"], relations="is_a")


# -------------------------------------------------------------------------------- by type
def test_induced_subgraph_by_type(kg):
    go = induced_subgraph_by_type(kg, "go_term")
    assert set(go.nodes.index) == {f"GO:{i}" for i in range(1, 6)}
    assert go.number_of_edges() == 5 and go.relations == ["is_a", "part_of"]
    both = induced_subgraph_by_type(kg, ["gene", "pathway"])
    assert both.number_of_nodes() == 6
    assert edge_set(both) == {
        (G1, "member_of", "R-3"),
        (G2, "member_of", "R-2"),
        ("R-3", "part_of", "R-2"),
        ("R-2", "part_of", "R-1"),
    }


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call",
    [
        lambda kg: neighborhood(kg, ["GO:1", "GO:99"]),
        lambda kg: superterms(kg, "GO:99"),
        lambda kg: subterms(kg, "GO:99"),
        lambda kg: shortest_paths(kg, "GO:1", ["GO:99"]),
        lambda kg: all_simple_paths(kg, "GO:99", "GO:1"),
        lambda kg: path_edges(kg, ["GO:1", "GO:99"]),
    ],
)
def test_unknown_ids_raise(kg, call):
    with pytest.raises(UnknownNodeError, match="GO:99"):
        call(kg)


def test_unknown_type_raises(kg):
    with pytest.raises(UnknownNodeTypeError, match="disease"):
        induced_subgraph_by_type(kg, ["gene", "disease"])


def test_bad_bounds_raise(kg):
    with pytest.raises(ValueError, match="'k' parameter of neighborhood must be non-negative"):
        neighborhood(kg, G1, k=-1)
    with pytest.raises(TypeError, match="must be an int"):
        neighborhood(kg, G1, k=1.5)
    with pytest.raises(ValueError, match="'cutoff' parameter of shortest_paths must be >= 1"):
        shortest_paths(kg, G1, G2, cutoff=0)
    with pytest.raises(ValueError, match="'cutoff' parameter of all_simple_paths"):
        all_simple_paths(kg, G1, G2, cutoff=0)
    with pytest.raises(ValueError, match="'max_paths' parameter"):
        all_simple_paths(kg, G1, G2, max_paths=0)
    with pytest.raises(ValueError, match="direction must be one of"):
        neighborhood(kg, G1, direction="up")
    with pytest.raises(TypeError, match="one id"):
        superterms(kg, ["GO:1"])


# ------------------------------------------------------------------------------ properties
@st.composite
def random_dags(draw):
    """A random DAG on T:0..T:n-1 with edges from higher to lower index, relations is_a or r."""
    n = draw(st.integers(1, 9))
    pairs = [(i, j) for i in range(n) for j in range(i)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=20)) if pairs else []
    relations = draw(
        st.lists(st.sampled_from(["is_a", "r"]), min_size=len(chosen), max_size=len(chosen))
    )
    ids = [f"T:{i}" for i in range(n)]
    edges = make_edges([ids[i] for i, _ in chosen], relations, [ids[j] for _, j in chosen], "h")
    kg = KnowledgeGraph(make_nodes(ids, "go_term", "h"), edges)
    return kg, draw(st.sampled_from(ids)), draw(st.sampled_from(ids)), draw(st.integers(0, 4))


@settings(max_examples=150, deadline=None)
@given(random_dags())
def test_closures_match_networkx(case):
    kg, node, _, _ = case
    is_a = nx.DiGraph()
    is_a.add_nodes_from(kg.nodes.index)
    is_a.add_edges_from(
        kg.edges.loc[kg.edges["relation"] == "is_a", ["source", "target"]].to_numpy().tolist()
    )
    assert superterms(kg, node, "is_a") == nx.descendants(is_a, node)
    assert subterms(kg, node, "is_a") == nx.ancestors(is_a, node)


@settings(max_examples=150, deadline=None)
@given(random_dags())
def test_neighborhood_is_contained_and_matches_bfs(case):
    kg, seed, other, k = case
    sub = neighborhood(kg, [seed, other], k=k)
    assert {seed, other} <= set(sub.nodes.index) <= set(kg.nodes.index)
    assert edge_set(sub) <= edge_set(kg)
    undirected = nx.Graph(kg.graph)
    expected = set(nx.single_source_shortest_path_length(undirected, seed, cutoff=k))
    expected |= set(nx.single_source_shortest_path_length(undirected, other, cutoff=k))
    assert set(sub.nodes.index) == expected


@settings(max_examples=150, deadline=None)
@given(random_dags(), st.booleans())
def test_paths_match_networkx(case, directed):
    kg, source, target, cutoff = case
    cutoff += 1
    simple = nx.DiGraph(kg.graph) if directed else nx.Graph(kg.graph)
    found = shortest_paths(kg, source, target, directed=directed)
    if source != target and nx.has_path(simple, source, target):
        [path] = found
        assert path[0] == source and path[-1] == target
        assert len(path) - 1 == nx.shortest_path_length(simple, source, target)
        assert len(path_edges(kg, path)) == len(path) - 1
    else:
        assert found == []
    paths = all_simple_paths(kg, source, target, cutoff=cutoff, max_paths=10_000, directed=directed)
    expected = (
        [] if source == target else list(nx.all_simple_paths(simple, source, target, cutoff=cutoff))
    )
    assert sorted(map(tuple, paths)) == sorted(map(tuple, expected))
    assert [len(p) for p in paths] == sorted(len(p) for p in paths)
