"""kg.seed_closure: kept nodes, and reachability from the seeds preserved through bridges."""

from __future__ import annotations

import networkx as nx
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import KnowledgeGraph, information_content, make_edges, make_nodes, seed_closure


def _reached_by(graph: nx.DiGraph, seeds: list[str]) -> dict[str, set[str]]:
    """For every node, the seeds that reach it (itself included)."""
    return {n: {s for s in seeds if s == n or nx.has_path(graph, s, n)} for n in graph}


@st.composite
def annotated_dags(draw: st.DrawFn) -> KnowledgeGraph:
    """Genes annotated to terms of a random term DAG (edges go to lower-numbered terms)."""
    n_genes = draw(st.integers(2, 8))
    n_terms = draw(st.integers(1, 10))
    genes = [f"g{i}" for i in range(n_genes)]
    terms = [f"T{i}" for i in range(n_terms)]
    annotations = draw(
        st.lists(
            st.tuples(st.sampled_from(genes), st.sampled_from(terms)), max_size=20, unique=True
        )
    )
    pairs = [(f"T{i}", f"T{j}") for i in range(n_terms) for j in range(i)]
    hierarchy = draw(st.lists(st.sampled_from(pairs), max_size=15, unique=True)) if pairs else []
    nodes = pd.concat([make_nodes(genes, "gene", "t"), make_nodes(terms, "go_term", "t")])
    rows = [(g, "involved_in", t) for g, t in annotations] + [(a, "is_a", b) for a, b in hierarchy]
    edges = make_edges([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], "t")
    return KnowledgeGraph(nodes, edges)


@settings(max_examples=60, deadline=None)
@given(
    kg=annotated_dags(),
    min_seeds=st.integers(1, 4),
    max_fraction=st.floats(0.3, 1.0),
    min_ic=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_kept_nodes_keep_the_seeds_below_them(
    kg: KnowledgeGraph, min_seeds: int, max_fraction: float, min_ic: float
) -> None:
    seeds = list(kg.nodes_of_type("gene"))
    pruned = seed_closure(kg, seeds, min_seeds=min_seeds, max_fraction=max_fraction, min_ic=min_ic)
    full = _reached_by(nx.DiGraph(kg.graph), seeds)
    kept = _reached_by(nx.DiGraph(pruned.graph), seeds)
    ic = information_content(kg)
    assert set(seeds) <= set(kept)
    for node, below in kept.items():
        assert below == full[node], node  # bridges preserve who reaches a kept node
        if node not in seeds:
            assert min_seeds <= len(below) <= max_fraction * len(seeds)
            assert ic[node] >= min_ic
    assert not pruned.edges.duplicated(["source", "relation", "target"]).any()


def test_bridge_takes_the_first_relation_and_provenance() -> None:
    nodes = make_nodes(["g1", "g2", "P1", "P0"], ["gene", "gene", "pathway", "pathway"], "t")
    edges = make_edges(
        ["g1", "g2", "P1"], ["member_of", "member_of", "part_of"], ["P1", "P0", "P0"], "t"
    )
    pruned = seed_closure(KnowledgeGraph(nodes, edges), ["g1", "g2"], min_seeds=2)
    assert sorted(pruned.nodes.index) == ["P0", "g1", "g2"]
    bridge = pruned.edges[pruned.edges["source"] == "g1"].iloc[0]
    assert (bridge["relation"], bridge["target"], bridge["provenance"]) == (
        "member_of",
        "P0",
        "seed_closure",
    )


def test_min_ic_drops_the_terms_holding_most_genes_of_the_graph() -> None:
    """4 genes in the graph, 2 of them linked: T1 holds g1, g2 (IC log 2), its parent T0 all
    four (IC 0). min_ic drops T0 even though it holds only the linked genes' share of T1."""
    genes = ["g1", "g2", "g3", "g4"]
    nodes = pd.concat([make_nodes(genes, "gene", "t"), make_nodes(["T1", "T0"], "go_term", "t")])
    edges = make_edges(
        [*genes, "T1"], ["involved_in"] * 2 + ["involved_in"] * 2 + ["is_a"],
        ["T1", "T1", "T0", "T0", "T0"], "t",
    )  # fmt: skip
    kg = KnowledgeGraph(nodes, edges)
    assert sorted(seed_closure(kg, ["g1", "g2"]).nodes.index) == ["T0", "T1", "g1", "g2"]
    assert sorted(seed_closure(kg, ["g1", "g2"], min_ic=0.5).nodes.index) == ["T1", "g1", "g2"]
    assert seed_closure(kg, ["g1", "g2"], min_ic=1.0).nodes.index.tolist() == ["g1", "g2"]
