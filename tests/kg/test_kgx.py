"""Tests of kg.kgx: KGX TSV export/import round trips, Biolink mapping, foreign files, errors."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg import (
    NODE_COLUMNS,
    ConflictingDefinitionError,
    DanglingReferenceError,
    KnowledgeGraph,
    ParseError,
    build_kg,
    embedded_config,
    make_edges,
    make_nodes,
)
from kg.biolink import CATEGORIES, GO_CATEGORIES, PREDICATES
from kg.kgx import read_kgx, validate_kgx, write_kgx


def _plain(value):
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None  # nor an empty string from none
    if isinstance(value, list):
        return tuple(value) or None  # KGX TSV cannot tell an empty list from none
    return value


def node_records(kg: KnowledgeGraph) -> dict[str, tuple]:
    table = kg.nodes[list(NODE_COLUMNS)]
    return {
        i: tuple(_plain(v) for v in row)
        for i, row in zip(table.index, table.itertuples(index=False))
    }


def edge_records(kg: KnowledgeGraph) -> list[tuple]:
    return sorted(tuple(_plain(v) or "" for v in row) for row in kg.edges.itertuples(index=False))


def assert_same_graph(back: KnowledgeGraph, kg: KnowledgeGraph) -> None:
    assert node_records(back) == node_records(kg)
    assert edge_records(back) == edge_records(kg)
    assert back.info().edge_types == kg.info().edge_types
    assert back.info().node_types == kg.info().node_types


@pytest.fixture
def every_mapping() -> KnowledgeGraph:
    """One node per Biolink category and one edge per mapped relation (plus an unmapped one)."""
    nodes = pd.concat(
        [
            make_nodes(
                [f"GO:{i}" for i in range(3)], "go_term", "go-basic.obo",
                namespace=list(GO_CATEGORIES), name=["process", "function", "component"],
                synonyms=[["a, b", 'say "x"'], [], None], alt_ids=[["GO:9"], None, None],
            ),
            make_nodes(["NCBIGene:7157"], "gene", "gene_info.tsv", name=["TP53"], xrefs=[["HGNC:11998"]]),
            make_nodes(["reactome:R-HSA-1"], "pathway", "ReactomePathways.txt"),
            make_nodes(["HP:1"], "phenotype", "hp.obo", obsolete=[True]),
            make_nodes(["DOID:1"], "disease", "doid.obo"),
            make_nodes(["mirna:hsa-mir-21"], "mirna", "miRTarBase.csv"),
            make_nodes(["UniProtKB:P1"], "protein", "goa.gaf"),
            make_nodes(["X:1"], "ontology_class", "other.owl"),
        ]
    )  # fmt: skip
    relations = list(PREDICATES) + ["happens_during"]
    edges = make_edges(
        ["GO:1"] * len(relations), relations, ["GO:0"] * len(relations), "go-basic.obo"
    )
    return KnowledgeGraph(nodes, edges)


def test_categories_predicates_and_sources(every_mapping, tmp_path):
    write_kgx(every_mapping, tmp_path)
    nodes = pd.read_csv(tmp_path / "nodes.tsv", sep="\t", index_col="id")
    assert nodes.loc[["GO:0", "GO:1", "GO:2"], "category"].tolist() == list(GO_CATEGORIES.values())
    for node_id, node_type in every_mapping.nodes["type"].items():
        expected = CATEGORIES.get(node_type, "biolink:NamedThing")
        if node_type != "go_term":
            assert nodes.loc[node_id, "category"] == expected
    assert nodes.loc["NCBIGene:7157", "provided_by"] == "infores:ncbi-gene"
    assert nodes.loc["HP:1", "deprecated"] and nodes.loc["GO:0", "synonym"] == 'a, b|say "x"'
    edges = pd.read_csv(tmp_path / "edges.tsv", sep="\t").set_index("kgfusion_relation")
    assert edges.loc["is_a", "predicate"] == "biolink:subclass_of"
    assert edges.loc["part_of", "predicate"] == "biolink:part_of"
    assert edges.loc["member_of", "predicate"] == "biolink:participates_in"
    assert edges.loc["involved_in", "predicate"] == "biolink:actively_involved_in"
    assert edges.loc["positively_regulates", "predicate"] == "biolink:regulates"
    assert edges.loc["happens_during", "predicate"] == "biolink:related_to"
    assert set(edges["primary_knowledge_source"]) == {"infores:go"}
    assert edges["id"].is_unique and edges["knowledge_level"].notna().all()


def test_round_trip_of_every_mapping(every_mapping, tmp_path):
    write_kgx(every_mapping, tmp_path)
    assert_same_graph(read_kgx(tmp_path), every_mapping)


def test_validated_against_the_biolink_model(every_mapping, tmp_path):
    pytest.importorskip("biolink_model")  # installed in CI (.ci/run)
    write_kgx(every_mapping, tmp_path)
    assert validate_kgx(tmp_path) == []
    nodes = (tmp_path / "nodes.tsv").read_text().replace("biolink:Gene\t", "biolink:Gen\t")
    (tmp_path / "nodes.tsv").write_text(nodes)
    edges = (tmp_path / "edges.tsv").read_text().replace("manual_agent", "a_robot", 1)
    (tmp_path / "edges.tsv").write_text(edges)
    problems = validate_kgx(tmp_path)
    assert len(problems) == 2
    assert "category not a Biolink NamedThing class" in problems[0] and "biolink:Gen" in problems[0]
    assert problems[1].startswith("edges.tsv:2: agent_type not in AgentTypeEnum")


def test_structural_validation_without_the_model(tmp_path):
    (tmp_path / "nodes.tsv").write_text("id\tcategory\nall\tbiolink:NamedThing\n")
    (tmp_path / "edges.tsv").write_text("id\tsubject\tpredicate\tobject\n")
    assert validate_kgx(tmp_path, biolink=False) == [
        "edges.tsv:1: missing column 'knowledge_level'",
        "edges.tsv:1: missing column 'agent_type'",
        "edges.tsv:1: missing column 'primary_knowledge_source'",
    ]


@pytest.fixture(scope="module")
def embedded() -> KnowledgeGraph:
    return build_kg(embedded_config(), progress=False)


def test_embedded_graph_round_trip_and_validation(embedded, tmp_path):
    write_kgx(embedded, tmp_path)
    back = read_kgx(tmp_path)
    assert_same_graph(back, embedded)
    assert back.relations == ["member_of", "part_of"]
    if pytest.importorskip("biolink_model"):
        assert validate_kgx(tmp_path) == []


TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="|"), max_size=6
)
ITEMS = st.none() | st.lists(TEXT.filter(bool), max_size=3)


@st.composite
def random_kgs(draw) -> KnowledgeGraph:
    ids = draw(
        st.lists(
            st.from_regex(r"[A-Za-z]{1,4}:[A-Za-z0-9_.-]{1,6}", fullmatch=True),
            unique=True,
            max_size=8,
        )
    )
    n = len(ids)
    column = lambda strategy: draw(st.lists(strategy, min_size=n, max_size=n))
    nodes = make_nodes(
        ids,
        column(st.sampled_from(["gene", "go_term", "pathway", "phenotype", "mirna", "thing"])),
        column(st.sampled_from(["gene2go", "hp.obo", "x.tsv", "reactome.gmt"])),
        name=column(st.none() | TEXT),
        namespace=column(st.none() | st.sampled_from([*GO_CATEGORIES, "other"])),
        obsolete=column(st.booleans()),
        synonyms=column(ITEMS),
        xrefs=column(ITEMS),
        alt_ids=column(ITEMS),
    )
    relation = st.sampled_from(["is_a", "part_of", "member_of", "targets", "regulates", "x_y"])
    triples = draw(st.lists(st.tuples(st.sampled_from(ids), relation, st.sampled_from(ids)), unique=True, max_size=12)) if ids else []  # fmt: skip
    provenance = draw(st.lists(st.sampled_from(["gene2go", "go.obo", "a b"]), min_size=len(triples), max_size=len(triples)))  # fmt: skip
    edges = make_edges([t[0] for t in triples], [t[1] for t in triples], [t[2] for t in triples], provenance)  # fmt: skip
    return KnowledgeGraph(nodes, edges)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(random_kgs())
def test_round_trip_preserves_nodes_edges_and_relations_per_type(tmp_path, kg):
    write_kgx(kg, tmp_path)
    assert_same_graph(read_kgx(tmp_path), kg)


def test_text_kgx_cannot_carry_is_replaced_and_counted_or_refused(tmp_path, caplog):
    kg = KnowledgeGraph(
        make_nodes(["GO:1"], "go_term", "x", name=["two\nlines\tand tab"], synonyms=[["a|b", "c"]]),
        make_edges([], "is_a", [], "x"),
    )
    with pytest.raises(ValueError, match="tab or line break"):
        write_kgx(kg, tmp_path, on_invalid_text="raise")
    with caplog.at_level(logging.WARNING, logger="kg.kgx"):
        write_kgx(kg, tmp_path)
    assert "1 name value(s), 1 synonym value(s)" in caplog.text
    node = read_kgx(tmp_path).nodes.loc["GO:1"]
    assert node["name"] == "two lines and tab" and node["synonyms"] == ["a b", "c"]


def _write(folder: Path, nodes: str, edges: str, names=("nodes.tsv", "edges.tsv")) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / names[0]).write_text(nodes)
    (folder / names[1]).write_text(edges)
    return folder


MONARCH_NODES = (
    "id\tcategory\tname\tprovided_by\txref\n"
    "HGNC:11998\tbiolink:Gene|biolink:NamedThing\tTP53\tinfores:hgnc\tNCBIGene:7157|ENSEMBL:E1\n"
    "GO:0006915\tbiolink:BiologicalProcess\tapoptotic process\t\t\n"
    "CHEBI:1\tbiolink:ChemicalEntity|biolink:NamedThing\tx\t\t\n"
    "CHEBI:2\tbiolink:SmallMolecule\ty\t\t\n"
)
MONARCH_EDGES = (
    "id\tsubject\tpredicate\tobject\tprimary_knowledge_source\tknowledge_level\tagent_type\n"
    "e1\tHGNC:11998\tbiolink:actively_involved_in\tGO:0006915\tinfores:goa\tknowledge_assertion\tmanual_agent\n"
    "e2\tCHEBI:2\tbiolink:subclass_of\tCHEBI:1\t\tknowledge_assertion\tmanual_agent\n"
    "e3\tCHEBI:1\tbiolink:interacts_with\tHGNC:11998\tinfores:ctd\tknowledge_assertion\tmanual_agent\n"
)


def test_reads_foreign_kgx_with_multivalued_and_unknown_categories(tmp_path, caplog):
    folder = _write(tmp_path, MONARCH_NODES, MONARCH_EDGES, ("monarch-kg_nodes.tsv", "monarch-kg_edges.tsv"))  # fmt: skip
    with caplog.at_level(logging.INFO, logger="kg.kgx"):
        kg = read_kgx(folder)
    assert kg.nodes["type"].to_dict() == {
        "HGNC:11998": "gene", "GO:0006915": "go_term", "CHEBI:1": "named_thing", "CHEBI:2": "named_thing"
    }  # fmt: skip
    assert (
        "2 node(s) typed 'named_thing'" in caplog.text
        and "biolink:ChemicalEntity: 1" in caplog.text
    )
    assert kg.nodes.loc["GO:0006915", "namespace"] == "biological_process"
    assert kg.nodes.loc["HGNC:11998", "xrefs"] == ["NCBIGene:7157", "ENSEMBL:E1"]
    assert kg.nodes.loc["HGNC:11998", "provenance"] == "infores:hgnc"
    assert kg.nodes.loc["CHEBI:1", "provenance"] == "monarch-kg_nodes.tsv"
    assert edge_records(kg) == [
        ("CHEBI:1", "interacts_with", "HGNC:11998", "infores:ctd"),
        ("CHEBI:2", "is_a", "CHEBI:1", "monarch-kg_edges.tsv"),
        ("HGNC:11998", "involved_in", "GO:0006915", "infores:goa"),
    ]


@pytest.mark.parametrize(
    ("nodes", "edges", "match", "line"),
    [
        ("id\tname\nGO:1\tx\n", "subject\tpredicate\tobject\n", r"missing KGX column\(s\) \['category'\]", 1),
        ("id\tcategory\nGO:1\tbiolink:Gene\n", "subject\tobject\nGO:1\tGO:1\n", r"\['predicate'\]", 1),
        ("id\tcategory\nGO:1\tbiolink:Gene\nGO:2\t\n", "subject\tpredicate\tobject\n", "empty 'category'", 3),
        ("id\tcategory\nGO:1\tbiolink:Gene\textra\n", "subject\tpredicate\tobject\n", "more fields than the 2", 2),
        ("id\tcategory\nGO:1\tbiolink:Gene\nGO:2\tb\tc\n", "subject\tpredicate\tobject\n", "Expected 2 fields", 3),
        ("", "subject\tpredicate\tobject\n", "empty file", 1),
        ("id\tcategory\tdeprecated\nGO:1\tbiolink:Gene\tmaybe\n", "subject\tpredicate\tobject\n", "deprecated", 2),
    ],
)  # fmt: skip
def test_bad_files_raise_parse_errors_naming_file_and_line(tmp_path, nodes, edges, match, line):
    folder = _write(tmp_path / "kgx", nodes, edges)
    with pytest.raises(ParseError, match=match) as error:
        read_kgx(folder)
    assert error.value.path is not None and Path(error.value.path).parent == folder
    assert error.value.line == line


def test_missing_files_duplicates_and_dangling_edges(tmp_path):
    with pytest.raises(ParseError, match=r"one KGX nodes file"):
        read_kgx(tmp_path)
    nodes = "id\tcategory\nGO:1\tbiolink:Gene\nGO:1\tbiolink:Gene\n"
    with pytest.raises(ConflictingDefinitionError, match="listed twice") as error:
        read_kgx(_write(tmp_path / "dup", nodes, "subject\tpredicate\tobject\n"))
    assert error.value.line == 3
    folder = _write(
        tmp_path / "dangle",
        "id\tcategory\nGO:1\tbiolink:Gene\n",
        "subject\tpredicate\tobject\nGO:1\tbiolink:part_of\tGO:1\nGO:1\tbiolink:part_of\tGO:9\n",
    )
    with pytest.raises(DanglingReferenceError, match="'GO:9'") as error:
        read_kgx(folder)
    assert error.value.line == 3
    assert read_kgx(folder, on_dangling="drop").number_of_edges() == 1
    added = read_kgx(folder, on_dangling="add")
    assert added.number_of_edges() == 2 and added.nodes.loc["GO:9", "type"] == "named_thing"
    with pytest.raises(ValueError, match="'on_dangling' parameter of read_kgx"):
        read_kgx(folder, on_dangling="keep")
