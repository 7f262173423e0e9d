"""Tests of the OBO reader: tiny fixtures with known answers, bad input, hypothesis, real GO/HPO."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import ConflictingDefinitionError, CycleError, DanglingReferenceError, ParseError
from kg.obo import find_cycle, read_obo

HEADER = "format-version: 1.2\nontology: test\n\n"


def write_obo(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.obo"
    path.write_text(HEADER + body)
    return path


def test_mini_obo_nodes_and_typed_edges(fixtures):
    kg = read_obo(fixtures / "mini.obo")
    assert set(kg.nodes.index) == {"GO:0008150", "GO:0000003", "GO:0022414"}
    assert set(map(tuple, kg.edges[["source", "relation", "target"]].to_numpy())) == {
        ("GO:0000003", "is_a", "GO:0008150"),
        ("GO:0022414", "is_a", "GO:0008150"),
        ("GO:0022414", "part_of", "GO:0000003"),
    }
    node = kg.node("GO:0000003")
    assert node["synonyms"] == ["reproductive physiological process"]
    assert node["xrefs"] == ["Wikipedia:Reproduction"]
    assert kg.node("GO:0008150")["alt_ids"] == ["GO:0000004"]
    assert kg.node("GO:0022414")["namespace"] == "biological_process"  # default-namespace
    assert set(kg.nodes["provenance"]) == {"mini.obo@releases/2024-01-01"}


def test_obsolete_terms_are_flagged_when_included(fixtures):
    kg = read_obo(fixtures / "mini.obo", include_obsolete=True)
    assert kg.node("GO:0000001")["obsolete"] is True
    assert kg.nodes["obsolete"].sum() == 1


def test_malformed_tag_line_names_file_and_line(tmp_path):
    path = write_obo(tmp_path, "[Term]\nid: X:1\nname: a\nthis line has no colon\n")
    with pytest.raises(ParseError, match=r"t\.obo:7: malformed OBO tag line") as info:
        read_obo(path)
    assert info.value.line == 7


def test_stanza_without_id(tmp_path):
    path = write_obo(tmp_path, "[Term]\nid: X:1\nname: a\n\n[Term]\nname: b\n")
    with pytest.raises(ParseError, match=r"t\.obo:8: \[Term\] stanza #2 has no 'id'"):
        read_obo(path)


def test_dangling_parent_raises_or_adds_or_drops(tmp_path):
    path = write_obo(tmp_path, "[Term]\nid: X:1\nname: a\nis_a: X:9 ! nowhere\n")
    with pytest.raises(DanglingReferenceError, match=r"t\.obo:7: X:1 is_a 'X:9'"):
        read_obo(path)
    added = read_obo(path, on_dangling="add")
    assert "X:9" in added and added.number_of_edges() == 1
    dropped = read_obo(path, on_dangling="drop")
    assert "X:9" not in dropped and dropped.number_of_edges() == 0


def test_is_a_cycle(tmp_path):
    body = "[Term]\nid: X:1\nname: a\nis_a: X:2\n\n[Term]\nid: X:2\nname: b\nis_a: X:1\n"
    with pytest.raises(CycleError, match="is_a cycle: X:1 -> X:2 -> X:1"):
        read_obo(write_obo(tmp_path, body))


def test_duplicate_id_with_conflicting_names(tmp_path):
    body = "[Term]\nid: X:1\nname: a\n\n[Term]\nid: X:1\nname: b\n"
    with pytest.raises(ConflictingDefinitionError, match=r"t\.obo:9: duplicate id X:1"):
        read_obo(write_obo(tmp_path, body))


def test_duplicate_id_with_same_name_merges(tmp_path):
    body = "[Term]\nid: X:1\nname: a\n\n[Term]\nid: X:1\nname: a\nis_a: X:2\n\n[Term]\nid: X:2\nname: r\n"
    kg = read_obo(write_obo(tmp_path, body))
    assert kg.number_of_nodes() == 2 and kg.number_of_edges() == 1


@st.composite
def dags(draw):
    """Random DAGs: each term may point only at terms with a smaller number."""
    n = draw(st.integers(1, 12))
    parents = {
        i: draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set() for i in range(n)
    }
    relations = {i: draw(st.sampled_from(["is_a", "part_of"])) for i in range(n)}
    names = {
        i: draw(
            st.text(
                st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='!{}\\"'),
                min_size=1,
                max_size=10,
            )
        )
        for i in range(n)
    }
    return parents, relations, names


@given(dags())
@settings(max_examples=60, deadline=None)
def test_property_obo_round_trips_terms_and_edges(tmp_path_factory, dag):
    parents, relations, names = dag
    stanzas = []
    for i, ps in parents.items():
        lines = ["[Term]", f"id: T:{i}", f"name: {names[i]}"]
        for p in sorted(ps):
            rel = relations[i]
            lines.append(f"is_a: T:{p}" if rel == "is_a" else f"relationship: part_of T:{p} ! c")
        stanzas.append("\n".join(lines))
    path = tmp_path_factory.mktemp("obo") / "p.obo"
    path.write_text(HEADER + "\n\n".join(stanzas) + "\n")
    kg = read_obo(path)
    assert kg.number_of_nodes() == len(parents)
    assert kg.number_of_edges() == sum(len(p) for p in parents.values())
    assert kg.nodes["name"].to_dict() == {f"T:{i}": names[i].strip() for i in parents}
    assert not find_cycle(kg.edges)


@pytest.mark.realdata
def test_real_gene_ontology(data_dir):
    kg = read_obo(data_dir / "go/go-basic_2022-07-01.from_GO.db_3.16.0.obo.gz", on_dangling="add")
    assert kg.number_of_nodes() == 43_559  # incl. the implicit root 'all'
    assert kg.number_of_edges() == 85_716
    assert kg.info().relations == {
        "is_a": 70_061,
        "negatively_regulates": 2_742,
        "part_of": 6_997,
        "positively_regulates": 2_732,
        "regulates": 3_184,
    }
    assert kg.nodes["namespace"].value_counts().to_dict().keys() >= {
        "biological_process",
        "molecular_function",
        "cellular_component",
    }
    assert "GO:0000004" in kg.node("GO:0008150")["alt_ids"]
    assert kg.node("all")["type"] == "go_term"
    with pytest.raises(DanglingReferenceError, match="GO:0003674 is_a 'all'"):
        read_obo(data_dir / "go/go-basic_2022-07-01.from_GO.db_3.16.0.obo.gz")


@pytest.mark.realdata
def test_real_hpo(data_dir):
    kg = read_obo(data_dir / "hpo/hp.obo.gz")
    assert kg.number_of_nodes() == 19_034  # 19,484 terms less 450 obsolete
    assert kg.relations == ["is_a"] and kg.number_of_edges() == 23_392
    assert kg.node_types == ["phenotype"]
    phenotypic_abnormality = kg.node("HP:0000118")
    assert phenotypic_abnormality["name"] == "Phenotypic abnormality"
    assert read_obo(data_dir / "hpo/hp.obo.gz", include_obsolete=True).number_of_nodes() == 19_484
