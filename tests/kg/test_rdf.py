"""Tests of the OWL/RDF reader and the RDF export: known answers, refusal of DTDs, round trips."""

from __future__ import annotations

import gzip
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDFS, URIRef

from kg import (
    NODE_TYPES,
    ConflictingDefinitionError,
    DanglingReferenceError,
    KnowledgeGraph,
    ParseError,
    UnknownFormatError,
    UnsafeRDFError,
    make_edges,
    make_nodes,
)
from kg.rdf import (
    KGF,
    REL,
    curie_to_iri,
    from_rdf,
    iri_to_curie,
    read_rdf,
    read_turtle,
    to_rdf,
    write_turtle,
)

GO_SLIM = "go_slim_owl/goslim_generic_2020-01-01.owl.gz"
MINI_EDGES = {
    ("GO:0000003", "is_a", "GO:0008150"),
    ("GO:0022414", "is_a", "GO:0008150"),
    ("GO:0022414", "part_of", "GO:0000003"),
}
PREFIXES = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
"""


def edge_set(kg: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return set(map(tuple, kg.edges[["source", "relation", "target"]].to_numpy().tolist()))


def write_ttl(tmp_path: Path, body: str, name: str = "t.ttl") -> Path:
    path = tmp_path / name
    path.write_text(PREFIXES + body)
    return path


# ------------------------------------------------------------------------- tiny fixtures
def test_mini_owl_classes_attributes_and_restriction(fixtures):
    kg = read_rdf(fixtures / "mini.owl")
    assert list(kg.nodes.index) == ["GO:0000003", "GO:0008150", "GO:0022414"]  # obsolete left out
    assert edge_set(kg) == MINI_EDGES
    assert set(kg.nodes["type"]) == {"go_term"}  # node_type="auto", as read_obo
    assert set(read_rdf(fixtures / "mini.owl", node_type="ontology_class").nodes["type"]) == {
        "ontology_class"
    }
    node = kg.node("GO:0000003")
    assert node["name"] == "reproduction"
    assert node["namespace"] == "biological_process"
    assert node["synonyms"] == ["reproductive physiological process"]
    assert node["xrefs"] == ["Wikipedia:Reproduction"]
    assert kg.node("GO:0008150")["alt_ids"] == ["GO:0000004"]
    assert set(kg.nodes["provenance"]) == set(kg.edges["provenance"]) == {"mini.owl@2024-01-01"}


def test_obsolete_classes_are_flagged_when_included(fixtures):
    kg = read_rdf(fixtures / "mini.owl", include_obsolete=True, provenance="p")
    assert kg.number_of_nodes() == 4
    assert kg.nodes["obsolete"].to_dict() == {
        "GO:0000001": True,
        "GO:0000003": False,
        "GO:0008150": False,
        "GO:0022414": False,
    }
    assert set(kg.nodes["provenance"]) == {"p"}


def test_turtle_and_gzip_inputs_give_the_same_graph(fixtures, tmp_path):
    owl = read_rdf(fixtures / "mini.owl")
    gz = tmp_path / "mini.owl.gz"
    with open(fixtures / "mini.owl", "rb") as raw, gzip.open(gz, "wb") as packed:
        shutil.copyfileobj(raw, packed)
    for other in (read_rdf(fixtures / "mini.ttl"), read_rdf(gz)):
        assert edge_set(other) == edge_set(owl)
        columns = ["type", "name", "namespace", "obsolete", "synonyms", "xrefs", "alt_ids"]
        assert other.nodes[columns].equals(owl.nodes[columns])


def test_auto_node_types_and_iri_ids(tmp_path):
    path = write_ttl(
        tmp_path,
        """
obo:GO_0008150 a owl:Class . obo:HP_0000118 a owl:Class . obo:DOID_4 a owl:Class .
<http://example.org/onto#Thing> a owl:Class .
[] a owl:Class .
""",
    )
    kg = read_rdf(path)  # node_type="auto" by default
    assert kg.nodes["type"].to_dict() == {
        "DOID:4": "disease",
        "GO:0008150": "go_term",
        "HP:0000118": "phenotype",
        "http://example.org/onto#Thing": "ontology_class",
    }


@pytest.mark.parametrize(
    ("prop", "declaration", "relation"),
    [
        ("obo:BFO_0000051", "", "has_part"),
        ("obo:RO_0002212", "", "negatively_regulates"),
        ("obo:RO_0002213", "", "positively_regulates"),
        ("obo:RO_0002215", "", "capable_of"),
        ("obo:BFO_0000066", 'obo:BFO_0000066 rdfs:label "occurs in" .', "occurs_in"),
        ("<http://example.org/rel#located_in>", "", "located_in"),
    ],
)
def test_restriction_relation_names(tmp_path, prop, declaration, relation):
    path = write_ttl(
        tmp_path,
        f"""{declaration}
obo:GO_1 a owl:Class . obo:GO_2 a owl:Class ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty {prop} ; owl:someValuesFrom obo:GO_1 ] .
""",
    )
    assert edge_set(read_rdf(path)) == {("GO:2", relation, "GO:1")}


def test_anonymous_superclasses_other_than_restrictions_give_no_edge(tmp_path):
    path = write_ttl(
        tmp_path,
        """
obo:GO_1 a owl:Class . obo:GO_3 a owl:Class .
obo:GO_2 a owl:Class ; rdfs:subClassOf [ a owl:Class ; owl:unionOf ( obo:GO_1 obo:GO_3 ) ] ;
    owl:equivalentClass [ a owl:Class ; owl:intersectionOf ( obo:GO_1 obo:GO_3 ) ] .
""",
    )
    kg = read_rdf(path)
    assert kg.number_of_nodes() == 3 and kg.number_of_edges() == 0


# ---------------------------------------------------------------------------- bad input
def test_class_with_two_english_labels_is_a_conflict(tmp_path):
    path = write_ttl(
        tmp_path,
        'obo:GO_1 a owl:Class ; rdfs:label "cell" , "cellule"@fr .\n'
        'obo:GO_2 a owl:Class ;\n    rdfs:label "nucleus" , "nucleus"@en , "kern"@de .\n',
    )
    kg = read_rdf(path)  # other languages, and one label given twice, are no conflict
    assert kg.node("GO:1")["name"] == "cell" and kg.node("GO:2")["name"] == "nucleus"
    path.write_text(path.read_text() + 'obo:GO_3 a owl:Class ;\n    rdfs:label "a" , "b"@en .\n')
    with pytest.raises(
        ConflictingDefinitionError,
        match=r"t\.ttl:7: class GO:3 has conflicting labels \['a', 'b'\]",
    ):
        read_rdf(path)


def test_dangling_parent_raises_with_file_and_id(tmp_path):
    path = write_ttl(tmp_path, "obo:GO_2 a owl:Class ;\n    rdfs:subClassOf obo:GO_9 .\n")
    with pytest.raises(DanglingReferenceError, match=r"GO:9") as error:
        read_rdf(path)
    assert error.value.path == str(path) and error.value.line == 5
    added = read_rdf(path, on_dangling="add")
    assert added.node("GO:9")["type"] == "go_term" and edge_set(added) == {("GO:2", "is_a", "GO:9")}
    dropped = read_rdf(path, on_dangling="drop")
    assert list(dropped.nodes.index) == ["GO:2"] and dropped.number_of_edges() == 0
    with pytest.raises(ValueError, match="on_dangling"):
        read_rdf(path, on_dangling="ignore")  # type: ignore[arg-type]


def test_unknown_format(tmp_path, fixtures):
    odd = tmp_path / "mini.txt"
    shutil.copy(fixtures / "mini.owl", odd)
    with pytest.raises(UnknownFormatError, match=r"mini\.txt.*suffix '\.txt'"):
        read_rdf(odd)
    with pytest.raises(UnknownFormatError, match="owl2"):
        read_rdf(odd, format="owl2")
    assert edge_set(read_rdf(odd, format="xml")) == MINI_EDGES


@pytest.mark.parametrize(
    ("text", "fmt", "line"),
    [
        (
            '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<x',
            "owl",
            3,
        ),
        (
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n\n<a> a owl:Class\n<b> .\n",
            "ttl",
            None,
        ),
    ],
)
def test_malformed_files_raise_parse_error(tmp_path, text, fmt, line):
    path = tmp_path / f"bad.{fmt}"
    path.write_text(text)
    with pytest.raises(ParseError, match=r"bad\.") as error:
        read_rdf(path)
    assert error.value.path == str(path)
    assert error.value.line is not None
    if line is not None:
        assert error.value.line == line


@pytest.fixture
def no_rdflib_parse(monkeypatch):
    """Fail the test if rdflib is ever asked to parse (the refusal must come first)."""

    def refuse(*args, **kwargs):
        raise AssertionError("rdflib.Graph.parse was called on an unsafe document")

    monkeypatch.setattr(rdflib.Graph, "parse", refuse)


@pytest.mark.parametrize(("name", "line"), [("xxe.owl", 3), ("laughs.owl", 4)])
def test_dtd_and_entities_are_refused_before_parsing(fixtures, no_rdflib_parse, name, line):
    with pytest.raises(UnsafeRDFError, match=r"DTD.*entity declaration") as error:
        read_rdf(fixtures / name)
    assert error.value.path == str(fixtures / name)
    assert error.value.line == line
    assert f"{name}:{line}:" in str(error.value)


def test_dtd_refused_when_gzipped_utf16_bom_or_without_entities(
    fixtures, tmp_path, no_rdflib_parse
):
    text = (fixtures / "xxe.owl").read_text()
    variants = {
        "xxe.rdf.gz": (gzip.compress(text.encode()), 3),
        "xxe16.owl": (text.encode("utf-16"), 3),
        "xxe-bom.owl": (b"\xef\xbb\xbf" + text.encode(), 3),
        "bare.xml": (b'<?xml version="1.0"?>\n<!-- c -->\n\n<!DOCTYPE rdf:RDF>\n<rdf:RDF/>\n', 4),
    }
    for name, (raw, line) in variants.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(UnsafeRDFError) as error:
            read_rdf(tmp_path / name)
        assert error.value.line == line, name


# ------------------------------------------------------------------------------- export
@pytest.mark.parametrize(
    ("curie", "iri"),
    [
        ("GO:0008150", "http://purl.obolibrary.org/obo/GO_0008150"),
        ("HP:0000118", "http://purl.obolibrary.org/obo/HP_0000118"),
        ("DOID:4", "http://purl.obolibrary.org/obo/DOID_4"),
        ("NCBIGene:7157", "http://identifiers.org/ncbigene/7157"),
        ("reactome:R-HSA-109581", "http://identifiers.org/reactome/R-HSA-109581"),
        ("mirna:hsa-let-7b", "https://w3id.org/kgfusion/id/mirna:hsa-let-7b"),
        ("all", "https://w3id.org/kgfusion/id/all"),
        ("msigdb:HALLMARK X/Y", "https://w3id.org/kgfusion/id/msigdb:HALLMARK%20X%2FY"),
        ("http://example.org/a#b", "http://example.org/a#b"),
    ],
)
def test_curie_iri_mapping_is_invertible(curie, iri):
    assert curie_to_iri(curie) == iri
    assert iri_to_curie(iri) == curie


def test_mini_round_trip_and_turtle_matches_to_rdf(fixtures, tmp_path):
    kg = read_rdf(fixtures / "mini.owl", include_obsolete=True)
    path = write_turtle(kg, tmp_path / "mini.ttl")
    back = read_turtle(path)
    columns = ["type", "name", "namespace", "provenance", "obsolete"]
    assert back.nodes[columns].sort_index().equals(kg.nodes[columns].sort_index())
    assert edge_set(back) == edge_set(kg)
    assert set(back.edges["provenance"]) == {"mini.ttl"}
    parsed = rdflib.Graph().parse(path, format="turtle")
    assert set(parsed) == set(to_rdf(kg))
    assert (
        URIRef(curie_to_iri("GO:0022414")),
        REL.part_of,
        URIRef(curie_to_iri("GO:0000003")),
    ) in parsed


def labelled_subjects(graph: rdflib.Graph, relation: str, parent: str) -> list[tuple[str, str]]:
    """SPARQL SELECT of the go_term subjects ``?s rel:<relation> parent`` with their labels."""
    rows = graph.query(
        f"""
        SELECT ?s ?label WHERE {{
            ?s rel:{relation} ?parent ; rdfs:label ?label ; kgf:type "go_term" .
        }} ORDER BY ?label
        """,
        initNs={"rel": REL, "kgf": KGF, "rdfs": RDFS},
        initBindings={"parent": URIRef(curie_to_iri(parent))},
    )
    return [(iri_to_curie(str(s)), str(label)) for s, label in rows]


def test_sparql_children_with_labels(fixtures, tmp_path):
    path = write_turtle(read_rdf(fixtures / "mini.owl"), tmp_path / "kg.ttl")
    graph = rdflib.Graph().parse(path, format="turtle")
    assert labelled_subjects(graph, "is_a", "GO:0008150") == [
        ("GO:0000003", "reproduction"),
        ("GO:0022414", "reproductive process"),
    ]


def test_empty_graph_round_trip(tmp_path):
    kg = KnowledgeGraph(make_nodes([], "go_term", "x"), make_edges([], "is_a", [], "x"))
    back = read_turtle(write_turtle(kg, tmp_path / "empty.ttl"))
    assert back.number_of_nodes() == 0 and back.number_of_edges() == 0


_ids = st.builds(
    lambda prefix, local: f"{prefix}:{local}" if prefix else local,
    st.sampled_from(["GO", "HP", "DOID", "NCBIGene", "reactome", "mirna", "UniProtKB", ""]),
    st.text(min_size=1, max_size=8),
)
_relations = st.one_of(
    st.sampled_from(["is_a", "part_of", "regulates", "annotated_with"]),
    st.text(min_size=1, max_size=6),
)


@st.composite
def small_dags(draw: st.DrawFn) -> KnowledgeGraph:
    ids = draw(st.lists(_ids, min_size=1, max_size=8, unique=True))
    n = len(ids)
    optional_text = st.none() | st.text(max_size=12)
    nodes = make_nodes(
        ids,
        draw(st.lists(st.sampled_from(NODE_TYPES), min_size=n, max_size=n)),
        draw(st.lists(st.text(min_size=1, max_size=6), min_size=n, max_size=n)),
        name=draw(st.lists(optional_text, min_size=n, max_size=n)),
        namespace=draw(st.lists(optional_text, min_size=n, max_size=n)),
        obsolete=draw(st.lists(st.booleans(), min_size=n, max_size=n)),
    )
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]  # edges i -> j, i < j: a DAG
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=12)) if pairs else []
    relations = draw(st.lists(_relations, min_size=len(chosen), max_size=len(chosen)))
    edges = make_edges([ids[i] for i, _ in chosen], relations, [ids[j] for _, j in chosen], "x")
    return KnowledgeGraph(nodes, edges)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kg=small_dags())
def test_round_trip_preserves_random_graphs(tmp_path, kg):
    columns = ["type", "name", "namespace", "provenance", "obsolete"]
    for back in (read_turtle(write_turtle(kg, tmp_path / "kg.ttl")), from_rdf(to_rdf(kg))):
        assert back.nodes[columns].sort_index().equals(kg.nodes[columns].sort_index())
        assert edge_set(back) == edge_set(kg)


@pytest.mark.slow
def test_write_turtle_is_fast_on_a_large_graph(tmp_path):
    rng = np.random.default_rng(0)
    ids = [f"NCBIGene:{i}" for i in range(50_000)]
    source = rng.integers(1, len(ids), 130_000)
    target = (source * rng.random(len(source))).astype(int)  # target < source: a DAG
    nodes = make_nodes(ids, "gene", "x", name=[f"gene {i}" for i in range(len(ids))])
    edges = make_edges([ids[i] for i in source], "interacts_with", [ids[j] for j in target], "x")
    kg = KnowledgeGraph(nodes, edges)
    start = time.perf_counter()
    path = write_turtle(kg, tmp_path / "big.ttl")
    assert time.perf_counter() - start < 10  # measured ~0.8 s
    # 3 prefix lines and a blank one, then type, label and provenance of each node, the edges
    assert path.read_text().count("\n") == 4 + 3 * 50_000 + len(edge_set(kg))


# ----------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_go_slim_owl(data_dir, tmp_path):
    path = data_dir / GO_SLIM
    kg = read_rdf(path)
    # 151 rdf:type owl:Class in the file: 147 named classes + 4 blank-node class expressions
    # (owl:intersectionOf inside owl:equivalentClass), which are not nodes. None is deprecated,
    # so include_obsolete does not change the count.
    assert kg.number_of_nodes() == 147
    assert read_rdf(path, include_obsolete=True).number_of_nodes() == 147
    assert not kg.nodes["obsolete"].any()
    assert set(kg.nodes["type"]) == {"go_term"}
    assert kg.nodes["namespace"].value_counts().to_dict() == {
        "biological_process": 72,
        "molecular_function": 40,
        "cellular_component": 35,
    }
    assert kg.edges["relation"].value_counts().to_dict() == {
        "is_a": 146,
        "part_of": 47,
        "has_part": 4,
        "occurs_in": 4,  # BFO_0000066, named by its rdfs:label "occurs in"
        "regulates": 1,
    }
    assert {e for e in edge_set(kg) if e[0] == "GO:0005634"} == {
        ("GO:0005634", "is_a", "GO:0043226"),
        ("GO:0005634", "part_of", "GO:0005622"),
    }
    assert ("GO:0007165", "regulates", "GO:0008150") in edge_set(kg)
    assert set(kg.nodes.index) - set(kg.edges["source"]) == {
        "GO:0003674",
        "GO:0005575",
        "GO:0008150",
    }
    assert kg.node("GO:0005634")["name"] == "nucleus"
    assert set(kg.nodes["provenance"]) == {
        "goslim_generic_2020-01-01.owl.gz@http://purl.obolibrary.org/obo/go/2020-01-01/subsets/goslim_generic.owl"
    }
    back = read_turtle(write_turtle(kg, tmp_path / "slim.ttl"))
    assert edge_set(back) == edge_set(kg)
    assert back.nodes[["type", "name"]].sort_index().equals(kg.nodes[["type", "name"]].sort_index())


@pytest.mark.realdata
def test_go_slim_turtle_export_answers_sparql_select(data_dir, tmp_path):
    kg = read_rdf(data_dir / GO_SLIM)
    graph = rdflib.Graph().parse(write_turtle(kg, tmp_path / "slim.ttl"), format="turtle")
    # the cellular components that are part_of "intracellular anatomical structure" (GO:0005622)
    found = dict(labelled_subjects(graph, "part_of", "GO:0005622"))
    assert set(found) == {s for s, r, t in edge_set(kg) if r == "part_of" and t == "GO:0005622"}
    assert len(found) >= 5 and found["GO:0005634"] == "nucleus"
    counts = graph.query("SELECT (COUNT(?s) AS ?n) WHERE { ?s rel:is_a ?o }", initNs={"rel": REL})
    assert int(next(iter(counts))[0]) == 146
