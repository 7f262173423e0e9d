"""Tests of kg.export: GraphML and node-link JSON round trips, atomic writes, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg import (
    NODE_COLUMNS,
    DanglingReferenceError,
    KnowledgeGraph,
    ParseError,
    make_edges,
    make_nodes,
)
from kg.export import read_graphml, read_node_link_json, write_graphml, write_node_link_json

FORMATS = {
    "graphml": (write_graphml, read_graphml, "kg.graphml"),
    "json": (write_node_link_json, read_node_link_json, "kg.json"),
}


@pytest.fixture
def tiny() -> KnowledgeGraph:
    """Every node column filled in some way: lists empty/absent/with awkward strings, obsolete."""
    nodes = pd.concat(
        [
            make_nodes(
                ["GO:1", "GO:2", "GO:3"],
                "go_term",
                "go.obo",
                name=["root", "mid\twith tab", 'leaf "quoted" <&>'],
                namespace="biological_process",
                obsolete=[False, False, True],
                synonyms=[["a", "b, c", '["json", looking]'], [], None],
                xrefs=[["Wikipedia:Root"], None, []],
                alt_ids=[None, ["GO:20"], []],
            ),
            make_nodes(
                ["NCBIGene:1", "NCBIGene:2"],
                "gene",
                "genes.tsv",
                name=["TP53", "1"],
                synonyms=[["p53"], None],
            ),
            make_nodes(["reactome:R-1"], "pathway", "reactome.gmt", name=["Apoptose – é 中"]),
        ]
    )
    edges = pd.concat(
        [
            make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:2"], "go.obo"),
            make_edges(["GO:3"], "part_of", ["GO:2"], "go.obo"),
            make_edges(["NCBIGene:1", "NCBIGene:1"], "involved_in", ["GO:3", "GO:2"], "gene2go"),
            make_edges(["NCBIGene:2"], "member_of", ["reactome:R-1"], [None]),
        ]
    )
    return KnowledgeGraph(
        nodes, edges, {"sources": [{"path": "go.obo", "format": "obo"}], "release": 3}
    )


def _plain(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def node_records(kg: KnowledgeGraph) -> list[tuple]:
    return [
        (node_id, *(_plain(v) for v in row))
        for node_id, row in zip(
            kg.nodes.index, kg.nodes[list(NODE_COLUMNS)].itertuples(index=False)
        )
    ]


def edge_records(kg: KnowledgeGraph) -> set[tuple]:
    return {tuple(_plain(v) for v in row) for row in kg.edges.itertuples(index=False)}


def assert_same_graph(back: KnowledgeGraph, kg: KnowledgeGraph) -> None:
    assert node_records(back) == node_records(kg)
    assert edge_records(back) == edge_records(kg)
    assert back.nodes["obsolete"].dtype == bool


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_everything(tiny, tmp_path, fmt):
    write, read, name = FORMATS[fmt]
    path = write(tiny, tmp_path / name)
    assert path == tmp_path / name
    back = read(path)
    assert_same_graph(back, tiny)
    assert back.metadata == tiny.metadata
    assert back.nodes["obsolete"].tolist() == [False, False, True, False, False, False]
    assert back.nodes.loc["GO:1", "synonyms"] == ["a", "b, c", '["json", looking]']
    assert back.nodes.loc["GO:2", "synonyms"] == [] and back.nodes.loc["GO:3", "synonyms"] is None
    assert back.nodes.loc["NCBIGene:2", "name"] == "1"  # a numeric-looking name stays a string


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_replaces_atomically_and_leaves_no_temp_files(tiny, tmp_path, fmt):
    write, read, name = FORMATS[fmt]
    path = tmp_path / "out" / name
    write(tiny, path)
    write(tiny.subgraph(["GO:1"]), path)  # overwrite
    assert read(path).number_of_nodes() == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [name]


@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_write_keeps_the_old_file(tiny, tmp_path, fmt, monkeypatch):
    write, _, name = FORMATS[fmt]
    path = write(tiny, tmp_path / name)
    before = path.read_bytes()

    def fail_rename(source, destination):
        assert Path(source).stat().st_size > 0  # the full file was written beside the target
        raise OSError("rename failed")

    monkeypatch.setattr("kg.export.os.replace", fail_rename)
    with pytest.raises(OSError, match="rename failed"):
        write(tiny.subgraph(["GO:1"]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_error_while_writing_leaves_no_partial_file(tiny, tmp_path, monkeypatch):
    def half_write(graph, stream, **kwargs):
        stream.write(b"<graphml>")
        raise RuntimeError("disk full")

    monkeypatch.setattr("kg.export.nx.write_graphml", half_write)
    with pytest.raises(RuntimeError, match="disk full"):
        write_graphml(tiny, tmp_path / "kg.graphml")
    assert list(tmp_path.iterdir()) == []


def test_graphml_is_readable_by_networkx(tiny, tmp_path):
    graph = nx.read_graphml(write_graphml(tiny, tmp_path / "kg.graphml"), force_multigraph=True)
    assert set(graph.edges(keys=True)) == {(s, t, r) for s, r, t, _ in edge_records(tiny)}
    assert json.loads(graph.nodes["GO:1"]["synonyms"]) == ["a", "b, c", '["json", looking]']
    assert "synonyms" not in graph.nodes["GO:3"]  # None is left out, not written as "null"


def test_node_link_json_is_readable_by_networkx(tiny, tmp_path):
    data = json.loads(write_node_link_json(tiny, tmp_path / "kg.json").read_text(encoding="utf-8"))
    graph = nx.node_link_graph(data, edges="edges")
    assert graph.is_multigraph() and graph.is_directed()
    assert graph.number_of_edges() == tiny.number_of_edges()
    assert graph.nodes["GO:3"]["obsolete"] is True
    back = KnowledgeGraph.from_networkx(graph)
    assert edge_records(back) == edge_records(tiny)


def test_node_link_json_reads_networkx_output(tmp_path):
    graph = nx.MultiDiGraph(release="r1")
    graph.add_node("GO:1", name="root")
    graph.add_node("GO:2", type="go_term")
    graph.add_edge("GO:2", "GO:1", key="is_a")
    path = tmp_path / "nx.json"
    path.write_text(json.dumps(nx.node_link_data(graph, edges="links")))
    back = read_node_link_json(path, default_type="go_term")
    assert back.nodes["type"].tolist() == ["go_term", "go_term"]
    assert edge_records(back) == {("GO:2", "is_a", "GO:1", None)}
    assert back.metadata == {"release": "r1"}


def test_empty_graph_round_trips(tmp_path):
    empty = KnowledgeGraph(make_nodes([], "gene", "x"), make_edges([], "is_a", [], "x"))
    for write, read, name in FORMATS.values():
        back = read(write(empty, tmp_path / name))
        assert back.number_of_nodes() == 0 and back.number_of_edges() == 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"nodes": []}', "not node-link JSON"),
        ('{"nodes": [{"name": "x"}], "edges": []}', "string 'id'"),
        ('{"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "a"}]}', "string 'key'"),
        ('{"nodes": [{"id": "a", "synonyms": "x"}], "edges": []}', "synonyms must be a list"),
        ('{"nodes": [{"id": "a", "obsolete": "no"}], "edges": []}', "obsolete must be"),
    ],
)
def test_bad_node_link_json_raises_parse_error(tmp_path, text, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ParseError, match=match):
        read_node_link_json(path)


def test_dangling_edge_in_json_is_rejected(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        '{"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "b", "key": "r"}]}'
    )
    with pytest.raises(DanglingReferenceError, match="'b'"):
        read_node_link_json(path)


def test_bad_graphml_raises_parse_error(tmp_path, tiny):
    path = tmp_path / "bad.graphml"
    path.write_text("<graphml><graph>")
    with pytest.raises(ParseError, match="not a readable GraphML"):
        read_graphml(path)
    text = write_graphml(tiny, tmp_path / "kg.graphml").read_text(encoding="utf-8")
    path.write_text(text.replace('["Wikipedia:Root"]', "Wikipedia:Root"), encoding="utf-8")
    with pytest.raises(ParseError, match="xrefs must be JSON-encoded list"):
        read_graphml(path)


def test_foreign_graphml_takes_relation_attribute(tmp_path):
    graph = nx.DiGraph(title="from another tool")  # no edge ids: networkx numbers the edges
    graph.add_node("GO:1", type="go_term", name="root")
    graph.add_node("GO:2")
    graph.add_edge("GO:2", "GO:1", relation="is_a", provenance="yEd")
    path = tmp_path / "foreign.graphml"
    nx.write_graphml(graph, path)
    back = read_graphml(path)
    assert back.nodes["type"].tolist() == ["go_term", "ontology_class"]
    assert edge_records(back) == {("GO:2", "is_a", "GO:1", "yEd")}
    assert back.metadata == {"title": "from another tool"}
    graph.add_edge("GO:1", "GO:2")
    nx.write_graphml(graph, path)
    with pytest.raises(ParseError, match="has no relation"):
        read_graphml(path)


# ------------------------------------------------------------------------------ properties
# XML 1.0 normalises carriage returns and cannot hold most control characters; real
# identifiers and labels have neither.
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)
OPTIONAL_LIST = st.none() | st.lists(TEXT, max_size=3)


@st.composite
def random_kgs(draw):
    n = draw(st.integers(0, 8))
    ids = draw(
        st.lists(
            st.from_regex(r"[A-Za-z]{1,4}:[A-Za-z0-9_.-]{1,6}", fullmatch=True),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    column = lambda strategy: draw(st.lists(strategy, min_size=n, max_size=n))
    nodes = make_nodes(
        ids,
        column(st.sampled_from(["gene", "go_term", "pathway"])),
        column(TEXT),
        name=column(st.none() | TEXT),
        namespace=column(st.none() | TEXT),
        obsolete=column(st.booleans()),
        synonyms=column(OPTIONAL_LIST),
        xrefs=column(OPTIONAL_LIST),
        alt_ids=column(OPTIONAL_LIST),
    )
    triples = st.tuples(
        st.sampled_from(ids),
        st.sampled_from(["is_a", "part_of", "involved_in"]),
        st.sampled_from(ids),
    )
    chosen = draw(st.lists(triples, unique=True, max_size=15)) if ids else []
    provenance = draw(st.lists(st.none() | TEXT, min_size=len(chosen), max_size=len(chosen)))
    edges = make_edges(
        [s for s, _, _ in chosen], [r for _, r, _ in chosen], [t for _, _, t in chosen], provenance
    )
    if not chosen:
        edges = make_edges([], "is_a", [], "x")
    return KnowledgeGraph(nodes, edges, {"seed": draw(st.integers(0, 9)), "name": draw(TEXT)})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(random_kgs(), st.sampled_from(sorted(FORMATS)))
def test_round_trip_property(tmp_path, kg, fmt):
    write, read, name = FORMATS[fmt]
    back = read(write(kg, Path(tmp_path) / name))
    assert_same_graph(back, kg)
    assert back.metadata == kg.metadata
    assert back.info().node_types == kg.info().node_types
