"""Tests of kg.neo4j: neo4j-admin CSV headers and types, completeness, escaping, the command."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph, make_edges, make_nodes
from kg.neo4j import NODE_HEADER, RELATIONSHIP_HEADER, import_command, label_of, write_neo4j


@pytest.fixture
def awkward() -> KnowledgeGraph:
    nodes = pd.concat(
        [
            make_nodes(
                ["GO:1", "GO:2", "GO:3"], "go_term", "go.obo",
                name=['say "hi"', "a, b", "two\nlines"], namespace="biological_process",
                synonyms=[["x;y", "z"], [], None], obsolete=[False, True, False],
            ),
            make_nodes(["NCBIGene:1"], "gene", "gene_info", name=["TP53"], xrefs=[["HGNC:1"]]),
            make_nodes(["X:1", "X:2"], ["ontology class", "ontology_class"], "x.owl"),
        ]
    )  # fmt: skip
    edges = pd.concat(
        [
            make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:1"], "go.obo"),
            make_edges(["NCBIGene:1"], "involved_in", ["GO:3"], [None]),
            make_edges(["X:1"], "is a", ["X:2"], "x.owl"),
        ]
    )
    return KnowledgeGraph(nodes, edges)


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    return rows[0], rows[1:]


def test_files_headers_and_types(awkward, tmp_path):
    paths = write_neo4j(awkward, tmp_path)
    names = [p.name for p in paths]
    assert names == [
        "nodes_Gene.csv", "nodes_GoTerm.csv", "nodes_OntologyClass.csv", "nodes_OntologyClass_2.csv",
        "relationships_INVOLVED_IN.csv", "relationships_IS_A.csv", "relationships_IS_A_2.csv",
        "import.sh", "IMPORT.md",
    ]  # fmt: skip
    header, _ = read_rows(tmp_path / "nodes_GoTerm.csv")
    assert header == list(NODE_HEADER.values())
    assert header[0] == "id:ID(Node)" and header[-1] == ":LABEL"
    assert "obsolete:boolean" in header and "synonyms:string[]" in header
    header, rows = read_rows(tmp_path / "relationships_INVOLVED_IN.csv")
    assert header == [":START_ID(Node)", ":END_ID(Node)", ":TYPE", "relation", "provenance"]
    assert header == list(RELATIONSHIP_HEADER.values())
    assert rows == [["NCBIGene:1", "GO:3", "INVOLVED_IN", "involved_in", ""]]


def test_every_node_and_edge_once_with_escaping(awkward, tmp_path):
    paths = write_neo4j(awkward, tmp_path)
    nodes, edges = {}, []
    for path in paths:
        if path.name.startswith("nodes_"):
            header, rows = read_rows(path)
            nodes.update({row[0]: dict(zip(header, row)) for row in rows})
            assert len(rows) == len({row[0] for row in rows})
        elif path.name.startswith("relationships_"):
            edges += [tuple(row[:2]) + (row[3],) for row in read_rows(path)[1]]
    assert sorted(nodes) == sorted(awkward.nodes.index)
    assert sorted(edges) == sorted(map(tuple, awkward.edges[["source", "target", "relation"]].to_numpy()))  # fmt: skip
    assert nodes["GO:1"]["name"] == 'say "hi"' and nodes["GO:2"]["name"] == "a, b"
    assert nodes["GO:3"]["name"] == "two\nlines"
    assert nodes["GO:2"]["obsolete:boolean"] == "true" and nodes["GO:1"][":LABEL"] == "GoTerm"
    # a synonym holds ';', so '|' splits arrays, and the command says so
    assert (
        nodes["GO:1"]["synonyms:string[]"] == "x;y|z" and nodes["GO:2"]["synonyms:string[]"] == ""
    )
    raw = (tmp_path / "nodes_GoTerm.csv").read_text()
    assert 'GO:1,"say ""hi""",' in raw and '"a, b"' in raw and '"two\nlines"' in raw
    script = (tmp_path / "import.sh").read_text()
    assert "--array-delimiter='|'" in script and "--multiline-fields=true" in script


def test_import_command_names_every_file_and_the_database_first(awkward, tmp_path):
    paths = write_neo4j(awkward.subgraph(["GO:1", "GO:2"]), tmp_path)
    script = (tmp_path / "import.sh").read_text()
    command = " ".join(line.strip(" \\") for line in script.splitlines()[6:])
    assert command == (
        "neo4j-admin database import full neo4j --nodes=nodes_GoTerm.csv "
        "--relationships=relationships_IS_A.csv --array-delimiter='|'"
    )
    assert (tmp_path / "import.sh").stat().st_mode & 0o111
    guide = (tmp_path / "IMPORT.md").read_text()
    assert "neo4j-admin database import full neo4j" in guide and "2 nodes" in guide
    assert [p.name for p in paths][:2] == ["nodes_GoTerm.csv", "relationships_IS_A.csv"]
    assert "U+001F" in import_command(["n.csv"], [], array_delimiter="\x1f", multiline=False)


def test_labels_are_cypher_safe():
    assert label_of("go_term") == "GoTerm" and label_of("1x") == "T1x" and label_of("") == "Node"
