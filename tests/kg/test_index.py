"""kg.GraphIndex answers every query exactly as the full KnowledgeGraph does (same order too)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kg import GraphIndex, KnowledgeGraph, UnknownNodeError, make_edges, make_nodes, save_kg
from kg import query as q
from kg.cli import app


@st.composite
def graphs(draw):
    """Random multigraphs on 1..8 nodes: cycles, self-loops, parallel edges of two relations."""
    n = draw(st.integers(1, 8))
    ids = [f"T:{i}" for i in range(n)]
    triples = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.sampled_from(["is_a", "r", "part_of"]), st.sampled_from(ids)),
            max_size=24,
        )
    )  # fmt: skip
    edges = make_edges(
        [s for s, _, _ in triples], [r for _, r, _ in triples], [t for *_, t in triples], "h"
    )
    kg = KnowledgeGraph(make_nodes(ids, "go_term", "h", name=[f"n{i}" for i in range(n)]), edges)
    return (
        kg,
        draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3)),
        draw(st.sampled_from(ids)),
    )


RELATIONS = [None, "is_a", ("is_a", "part_of"), "absent"]


def assert_same_answers(
    kg: KnowledgeGraph, index: GraphIndex, seeds: list[str], other: str
) -> None:
    for relations in RELATIONS:
        for node in seeds:
            assert q.superterms(index, node, relations) == q.superterms(kg, node, relations)
            assert q.subterms(index, node, relations) == q.subterms(kg, node, relations)
        for direction in ("out", "in", "both") if relations in (None, "is_a") else ():
            for k in (1, 2):
                a = q.neighborhood(index, seeds, k, relations=relations, direction=direction)
                b = q.neighborhood(kg, seeds, k, relations=relations, direction=direction)
                pd.testing.assert_frame_equal(a.nodes[["type", "name"]], b.nodes[["type", "name"]])
                pd.testing.assert_frame_equal(a.edges, b.edges)
        for directed in (False, True):
            options = {"relations": relations, "directed": directed}
            assert q.shortest_paths(index, seeds, other, **options) == q.shortest_paths(
                kg, seeds, other, **options
            )
            paths = q.all_simple_paths(kg, seeds, other, cutoff=4, max_paths=50, **options)
            assert (
                q.all_simple_paths(index, seeds, other, cutoff=4, max_paths=50, **options) == paths
            )
            for path in paths:
                assert q.path_edges(index, path, relations=relations) == q.path_edges(
                    kg, path, relations=relations
                )


@settings(max_examples=50, deadline=None)
@given(graphs())
def test_index_matches_the_full_graph(case):
    kg, seeds, other = case
    assert_same_answers(kg, GraphIndex.from_kg(kg), seeds, other)


def test_saved_index_matches_on_the_mini_graph(built_mini, tmp_path):
    kg, folder = built_mini
    index = GraphIndex.from_saved(folder)
    assert len(index) == kg.number_of_nodes() and "NCBIGene:7157" in index
    genes = ["NCBIGene:7157", "NCBIGene:672"]
    for target in ["GO:0008150", "reactome:R-HSA-109581", "GO:0000003"]:
        assert_same_answers(kg, index, genes, target)
    with pytest.raises(UnknownNodeError, match="GO:404"):
        q.superterms(index, "GO:404")


@pytest.fixture
def built_mini(fixtures, tmp_path):
    from kg import KGConfig, Source, build_kg

    sources = (
        Source(fixtures / "mini.obo", "obo"),
        Source(fixtures / "mini_gene2go.tsv", "gene2go"),
        Source(fixtures / "mini.gmt", "gmt"),
        Source(fixtures / "mini_reactome_pathways.txt", "reactome", {"hierarchy": fixtures / "mini_reactome_hierarchy.txt"}),
    )  # fmt: skip
    kg = build_kg(
        KGConfig(sources, fixtures / "mini_kg_gene_info.tsv"), cache_dir=False, progress=False
    )
    return kg, save_kg(kg, tmp_path / "mini.kg")


def test_cli_query_reads_only_the_index(built_mini, monkeypatch):
    _, folder = built_mini
    monkeypatch.setattr(
        KnowledgeGraph, "graph", property(lambda self: pytest.fail("networkx built"))
    )
    monkeypatch.setattr("kg.store.load_kg", lambda *a: pytest.fail("full graph loaded"))
    runner = CliRunner()
    result = runner.invoke(app, ["query", "paths", "-n", "NCBIGene:672", "--to", "GO:0008150", "--cutoff", "2", "--kg", str(folder)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "NCBIGene:672 -involved_in- GO:0022414 -is_a- GO:0008150" in result.stdout.splitlines()
    result = runner.invoke(app, ["query", "neighborhood", "-n", "GO:0000003", "--kg", str(folder)])
    assert result.exit_code == 0 and "NCBIGene:7157" in result.stdout


def test_cli_paths_says_when_there_is_none(built_mini):
    """Issue 15 item 19: `kg query paths` printed nothing when no path is within the cutoff."""
    _, folder = built_mini
    args = ["query", "paths", "-n", "NCBIGene:1956", "--to", "GO:0008150", "--cutoff", "1", "--kg", str(folder)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == "no path from NCBIGene:1956 to GO:0008150 within cutoff 1"
