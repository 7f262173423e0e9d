"""Tests of the KnowledgeGraph model: validation, merge, subgraph/prune, store and HeteroData."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import (
    ConflictingDefinitionError,
    DanglingReferenceError,
    KnowledgeGraph,
    ParseError,
    UnknownNodeError,
    UnknownNodeTypeError,
    compose,
    make_edges,
    make_nodes,
)
from kg.hetero import NodeIndex, to_hetero_data
from kg.store import load_kg, save_kg


@pytest.fixture
def tiny() -> KnowledgeGraph:
    """Two genes annotated to a 3-term GO DAG and one pathway."""
    nodes = pd.concat(
        [
            make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "go", name=["root", "mid", "leaf"]),
            make_nodes(
                ["NCBIGene:1", "NCBIGene:2"],
                "gene",
                "genes",
                name=["A", "B"],
                synonyms=[["a1"], []],
            ),
            make_nodes(["reactome:R-1"], "pathway", "reactome", name=["P"]),
        ]
    )
    edges = pd.concat(
        [
            make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:2"], "go"),
            make_edges(["NCBIGene:1", "NCBIGene:2"], "involved_in", ["GO:3", "GO:2"], "gene2go"),
            make_edges(["NCBIGene:2"], "member_of", ["reactome:R-1"], "gmt"),
        ]
    )
    return KnowledgeGraph(nodes, edges)


def test_dangling_edge_is_rejected():
    nodes = make_nodes(["GO:1"], "go_term", "x")
    with pytest.raises(DanglingReferenceError, match="'GO:9', which is not a node"):
        KnowledgeGraph(nodes, make_edges(["GO:1"], "is_a", ["GO:9"], "x"))


def test_duplicate_ids_are_rejected():
    nodes = make_nodes(["GO:1", "GO:1"], "go_term", "x")
    with pytest.raises(ConflictingDefinitionError):
        KnowledgeGraph(nodes, make_edges([], "is_a", [], "x"))


def test_info_counts_edge_types(tiny):
    info = tiny.info()
    assert info.node_types == {"gene": 2, "go_term": 3, "pathway": 1}
    assert info.edge_types[("gene", "involved_in", "go_term")] == 2
    assert info.edge_types[("go_term", "is_a", "go_term")] == 2
    assert "6 nodes, 5 edges" in str(info)


def test_networkx_view_keys_relations(tiny):
    graph = tiny.graph
    assert graph.has_edge("GO:3", "GO:2", key="is_a")
    assert graph.nodes["NCBIGene:1"]["synonyms"] == ["a1"]
    assert graph.edges["NCBIGene:2", "reactome:R-1", "member_of"]["provenance"] == "gmt"
    back = KnowledgeGraph.from_networkx(graph)
    assert set(back.nodes.index) == set(tiny.nodes.index)
    assert back.number_of_edges() == tiny.number_of_edges()


def test_prune_keeps_superterm_closure_of_seeds(tiny):
    pruned = tiny.prune(["NCBIGene:1"])
    assert set(pruned.nodes.index) == {"NCBIGene:1", "GO:3", "GO:2", "GO:1"}
    assert pruned.number_of_edges() == 3
    only_is_a = tiny.reachable(["GO:3"], relations=["is_a"])
    assert list(only_is_a) == ["GO:1", "GO:2", "GO:3"]


def test_unknown_ids_and_types_raise(tiny):
    with pytest.raises(UnknownNodeError, match="NCBIGene:99"):
        tiny.prune(["NCBIGene:99"])
    with pytest.raises(UnknownNodeTypeError, match="unknown node type"):
        tiny.nodes_of_type("disease")


def test_compose_merges_attributes_and_rejects_type_conflicts(tiny):
    extra = KnowledgeGraph(
        make_nodes(
            ["GO:1", "HP:1"],
            ["go_term", "phenotype"],
            "other",
            name=["other root", "ph"],
            namespace=["bp", None],
        ),
        make_edges(["HP:1"], "is_a", ["GO:1"], "other"),
        validate=False,
    )
    merged = compose([tiny, extra])
    assert merged.number_of_nodes() == 7 and merged.number_of_edges() == 6
    assert merged.node("GO:1")["name"] == "root"  # first source wins
    assert merged.node("GO:1")["namespace"] == "bp"  # later sources fill gaps
    clash = KnowledgeGraph(
        make_nodes(["GO:1"], "disease", "bad"), make_edges([], "is_a", [], "bad")
    )
    with pytest.raises(ConflictingDefinitionError, match="conflicting types"):
        compose([tiny, clash])


def test_store_round_trip(tiny, tmp_path):
    folder = save_kg(tiny, tmp_path / "g.kg")
    back = load_kg(folder)
    pd.testing.assert_frame_equal(back.nodes, tiny.nodes)  # same values and (object) dtypes
    pd.testing.assert_frame_equal(back.edges, tiny.edges)
    assert not list(tmp_path.glob(".g.kg.*")), "no staging folder left behind"
    # edges are stored as node row numbers: a loaded graph knows them without lookups
    for loaded, computed in zip(back.edge_rows, KnowledgeGraph(tiny.nodes, tiny.edges).edge_rows):
        np.testing.assert_array_equal(loaded, computed)


def test_an_edgeless_graph_round_trips(tiny, tmp_path):
    """A model over features linked to no edge still saves and loads its graph."""
    edgeless = KnowledgeGraph(tiny.nodes, tiny.edges.iloc[:0])
    back = load_kg(save_kg(edgeless, tmp_path / "g.kg"))
    assert back.number_of_nodes() == tiny.number_of_nodes() and back.number_of_edges() == 0
    pd.testing.assert_frame_equal(back.nodes, tiny.nodes)


def test_missing_values_and_dtypes_are_normalised(tiny):
    nodes = tiny.nodes.astype({"name": "str"})
    nodes.loc["GO:1", "namespace"] = float("nan")
    kg = KnowledgeGraph(nodes, tiny.edges.astype("str"))
    assert kg.nodes["name"].dtype == object and kg.edges["source"].dtype == object
    assert kg.node("GO:1")["namespace"] is None and kg.node("GO:2")["namespace"] is None


def test_pickle_round_trip(tiny):
    back = pickle.loads(pickle.dumps(tiny))
    pd.testing.assert_frame_equal(back.nodes, tiny.nodes)
    pd.testing.assert_frame_equal(back.edges, tiny.edges)
    assert back.metadata == tiny.metadata


def test_from_rows_checks_the_row_numbers(tiny):
    kg = KnowledgeGraph.from_rows(tiny.nodes, np.array([5]), ["member_of"], np.array([0]), "x")
    assert kg.edges.iloc[0].tolist() == ["reactome:R-1", "member_of", "GO:1", "x"]
    with pytest.raises(DanglingReferenceError, match=r"row numbers must lie in \[0, 6\)"):
        KnowledgeGraph.from_rows(tiny.nodes, np.array([6]), ["member_of"], np.array([0]))


def test_store_rejects_dangling_edges_and_bad_files(tiny, tmp_path):
    dangling = KnowledgeGraph(
        tiny.nodes, make_edges(["GO:1"], "is_a", ["GO:404"], "x"), validate=False
    )
    with pytest.raises(DanglingReferenceError, match="GO:404"):
        save_kg(dangling, tmp_path / "bad.kg")
    assert not list(tmp_path.iterdir())
    folder = save_kg(tiny, tmp_path / "g.kg")
    (folder / "edges.parquet").write_bytes(b"not parquet")
    with pytest.raises(ParseError, match="unreadable saved graph table"):
        load_kg(folder)
    (folder / "metadata.json").write_text('{"format_version": 2,\n "x": }')
    with pytest.raises(ParseError, match=r"metadata\.json:2: metadata is not JSON"):
        load_kg(folder)


def test_store_failure_leaves_previous_graph_intact(tiny, tmp_path, monkeypatch):
    folder = save_kg(tiny, tmp_path / "g.kg")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        save_kg(tiny, folder)
    monkeypatch.undo()
    assert load_kg(folder).number_of_nodes() == tiny.number_of_nodes()
    assert [p.name for p in tmp_path.iterdir()] == ["g.kg"]


def test_hetero_data_edge_types_and_back_mapping(tiny, tmp_path):
    data = to_hetero_data(tiny)
    assert set(data.node_types) == {"gene", "go_term", "pathway"}
    assert ("gene", "involved_in", "go_term") in data.edge_types
    assert ("go_term", "rev_involved_in", "gene") in data.edge_types
    index = data.node_index
    src, dst = data["gene", "involved_in", "go_term"].edge_index
    pairs = set(zip(index.to_ids("gene", src.tolist()), index.to_ids("go_term", dst.tolist())))
    assert pairs == {("NCBIGene:1", "GO:3"), ("NCBIGene:2", "GO:2")}
    index.save(tmp_path / "index.json")
    assert NodeIndex.load(tmp_path / "index.json").to_index("go_term", ["GO:3"]).tolist() == [2]
    assert len(to_hetero_data(tiny, reverse=False).edge_types) == 3
    with pytest.raises(UnknownNodeError):
        index.to_index("gene", ["NCBIGene:404"])
    partial = NodeIndex({**index.ids, "gene": pd.Index(["NCBIGene:1"], dtype=object)})
    with pytest.raises(
        UnknownNodeError, match=r"edge source\(s\) are not in the node index, e.g. \['NCBIGene:2'"
    ):
        to_hetero_data(tiny, index=partial)


@st.composite
def random_kgs(draw):
    n = draw(st.integers(1, 15))
    types = draw(st.lists(st.sampled_from(["gene", "go_term", "pathway"]), min_size=n, max_size=n))
    ids = [f"X:{i}" for i in range(n)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(["is_a", "r"])),
            max_size=30,
        )
    )
    nodes = make_nodes(ids, types, "h")
    edges = make_edges(
        [ids[a] for a, _, _ in pairs], [r for *_, r in pairs], [ids[b] for _, b, _ in pairs], "h"
    )
    return KnowledgeGraph(nodes, edges.drop_duplicates(subset=["source", "relation", "target"]))


@given(random_kgs())
@settings(max_examples=40, deadline=None)
def test_property_hetero_round_trip_preserves_edges_per_type(kg):
    data = to_hetero_data(kg, reverse=False)
    index = data.node_index
    recovered = set()
    for src_type, relation, dst_type in data.edge_types:
        s, d = data[src_type, relation, dst_type].edge_index.tolist()
        recovered |= set(
            zip(index.to_ids(src_type, s), [relation] * len(s), index.to_ids(dst_type, d))
        )
    assert recovered == set(map(tuple, kg.edges[["source", "relation", "target"]].to_numpy()))
    for node_type in index.node_types:  # the id map is a bijection per type
        ids = index.ids[node_type]
        assert index.to_ids(node_type, index.to_index(node_type, ids)) == list(ids)
