"""The Oxigraph explanation store: same answers as rdflib, incremental writes, errors, the CLI."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cohorts import FAST, tiny_cohort, tiny_kg
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from fusion.explanations import SHARED_TERMS_QUERY, TOP_K_QUERY, Explanation, sparql_top, to_rdf
from kg import KnowledgeGraph
from kg.rdf import to_rdf as kg_to_rdf

if os.environ.get("CI"):  # CI installs the extra: a missing pyoxigraph must fail there
    import pyoxigraph  # noqa: F401
else:
    pytest.importorskip("pyoxigraph", reason="pip install 'kgfusion[store]'")

from fusion.explanations.store import (
    CLASS_SHARED_TERMS_QUERY,
    EXPLANATIONS_QUERY,
    TERM_TOP_K_QUERY,
    ExplanationStore,
    SPARQLSyntaxError,
    StoreError,
    StoreNotFoundError,
    sparql,
)

runner = CliRunner()


def _cohort(kg: KnowledgeGraph, n: int = 6, seed: int = 0, method: str = "ig") -> list[Explanation]:
    """``n`` patients alternating classes a/b, seeded random scores (some zero, some negative)."""
    rng = np.random.default_rng(seed)
    ids = kg.nodes.index
    out = []
    for i in range(n):
        scores = pd.Series(rng.normal(size=len(ids)).round(3), index=ids)
        scores[rng.random(len(ids)) < 0.2] = 0.0
        out.append(
            Explanation(
                kg,
                scores,
                inputs=[f"NCBIGene:{j + 1}" for j in rng.choice(12, 4, replace=False)],
                patient=f"p{i + seed * 100}",
                prediction="ab"[i % 2],
                probability=round(float(rng.random()), 3),
                method=method,
                model={"name": "tiny", "fingerprint": "f00"},
            )
        )
    return out


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    return tiny_kg()


@pytest.fixture(scope="module")
def explanations(kg: KnowledgeGraph) -> list[Explanation]:
    return _cohort(kg)


@pytest.fixture(scope="module")
def both(kg, explanations, tmp_path_factory):
    """The same KG + explanations in rdflib (memory) and Oxigraph (disk)."""
    graph = to_rdf(explanations, k=5)
    graph += kg_to_rdf(kg)
    store = ExplanationStore(tmp_path_factory.mktemp("store") / "db", create=True)
    store.add_kg(kg).add(explanations, k=5, batch_size=4)
    yield graph, store
    store.close()


QUERIES = [
    ("TOP_K_QUERY", TOP_K_QUERY, {"patient_id": "p1"}),
    ("TOP_K_QUERY", TOP_K_QUERY + "LIMIT 3", {"patient_id": "p2", "type": "go_term"}),
    ("TOP_K_QUERY", TOP_K_QUERY, {"patient_id": "p0", "method": "ig", "type": "gene"}),
    ("TOP_K_QUERY", TOP_K_QUERY, {"patient_id": "p0", "namespace": "none"}),
    ("SHARED_TERMS_QUERY", SHARED_TERMS_QUERY, {"patient_a": "p0", "patient_b": "p3"}),
    ("TERM_TOP_K_QUERY", TERM_TOP_K_QUERY, {"id": "GO:2", "k": 8}),
    ("TERM_TOP_K_QUERY", TERM_TOP_K_QUERY, {"id": "NCBIGene:3", "k": 16, "method": "ig"}),
    (
        "CLASS_SHARED_TERMS_QUERY",
        CLASS_SHARED_TERMS_QUERY,
        {"class_a": "a", "class_b": "b", "k": 6},
    ),
    ("EXPLANATIONS_QUERY", EXPLANATIONS_QUERY, {}),
]


@pytest.mark.parametrize(("name", "query", "bindings"), QUERIES, ids=[q[0] for q in QUERIES])
def test_shipped_queries_give_the_same_answers_on_rdflib_and_oxigraph(both, name, query, bindings):
    graph, store = both
    expected = sparql(graph, query, bindings, name=name)
    got = sparql(store, query, bindings, name=name)
    assert_frame_equal(got, expected)
    if name != "TOP_K_QUERY" or "namespace" not in bindings:
        assert len(got) > 0, f"{name} {bindings} answers nothing: a vacuous comparison"


def test_store_top_matches_sparql_top_and_explanation_top(both, explanations) -> None:
    graph, store = both
    for e in explanations[:3]:
        for kind in (None, "go_term", "gene"):
            got = store.top(e.patient, 4, type=kind)
            assert_frame_equal(got, sparql_top(graph, e.patient, 4, type=kind))
            # the export keeps the best k of a group, zeros included, then drops the zeros:
            # the positive part equals Explanation.top
            top = e.top(4, type=kind, nonzero=True)
            assert got["id"][got["score"] > 0].tolist() == top["id"][top["score"] > 0].tolist()


def test_stored_triples_are_the_rdflib_export_plus_stamps(both) -> None:
    graph, store = both
    stamps = store.query(
        "PREFIX kgf: <https://w3id.org/kgfusion/> SELECT (COUNT(*) AS ?n) WHERE { "
        "{ ?s kgf:storedAt ?o } UNION { ?s kgf:storedWith ?o } UNION { ?s kgf:nNodes ?o } "
        "UNION { ?s kgf:nEdges ?o } }"
    )["n"][0]
    assert len(store) == len(graph) + stamps


def test_explanations_are_added_incrementally_and_replaced(kg, tmp_path: Path) -> None:
    first, later = _cohort(kg, 3, seed=0), _cohort(kg, 3, seed=1)
    path = tmp_path / "db"
    with ExplanationStore(path, create=True) as store:
        assert store.add(first, k=5) == 3
    with ExplanationStore(path) as store:  # reopened from disk
        assert store.add(later, k=5) == 3
        assert store.explanations()["patient_id"].tolist() == sorted(
            e.patient for e in first + later
        )
        changed = Explanation(kg, first[0].scores * -1, first[0].inputs, "p0", method="ig")
        before = len(store)
        assert store.add([changed], k=5, on_existing="skip") == 0
        assert len(store) == before
        with pytest.raises(StoreError, match="stored already"):
            store.add([changed], on_existing="raise")
        store.add([changed], k=5)
        assert_frame_equal(store.top("p0", 50), sparql_top(to_rdf(changed, k=5), "p0", 50))
        n_scores = store.query(
            "PREFIX kgf: <https://w3id.org/kgfusion/> SELECT (COUNT(*) AS ?n) WHERE { "
            "?e kgf:explains/<http://purl.org/dc/terms/identifier> 'p0' ; kgf:nodeScore ?s }"
        )["n"][0]
        assert n_scores == len(store.top("p0", 1000))  # the old scores are gone
    with ExplanationStore(path, read_only=True) as store:
        assert len(store.explanations()) == 6


def test_syntax_errors_name_the_query_and_position(both) -> None:
    graph, store = both
    bad = "PREFIX kgf: <https://w3id.org/kgfusion/>\nSELECT ?x WHERE { ?x ?p } LIMIT 5\n"
    for source in (graph, store):
        with pytest.raises(SPARQLSyntaxError, match=r"in bad\.rq at line 2, column \d+: ") as info:
            sparql(source, bad, name="bad.rq")
        assert (info.value.name, info.value.line) == ("bad.rq", 2)
        assert "\n    SELECT ?x WHERE { ?x ?p } LIMIT 5\n" in str(info.value)  # the line, a caret
    # the VALUES block that binds variables does not shift the reported column
    with pytest.raises(SPARQLSyntaxError) as without:
        store.query(bad)
    with pytest.raises(SPARQLSyntaxError) as bound:
        store.query(bad, {"p": "x"})
    assert bound.value.column == without.value.column > len("SELECT ?x WHERE {")


def test_a_missing_store_says_how_to_create_one(tmp_path: Path) -> None:
    for read_only in (False, True):
        with pytest.raises(StoreNotFoundError, match="kgfusion store -m MODEL -d DATA -o"):
            ExplanationStore(tmp_path / "nowhere", read_only=read_only)
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        ExplanationStore(tmp_path / "file", create=True)


def test_missing_pyoxigraph_names_the_extra(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyoxigraph", None)
    with pytest.raises(ImportError, match=r"pip install 'kgfusion\[store\]'"):
        ExplanationStore(tmp_path / "db", create=True)


# ---------------------------------------------------------------------------------- CLI
def _run(*args: object) -> tuple[int, str]:
    from fusion.app.cli import app

    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A saved tiny KG fusion model and its cohort as a tables folder."""
    from fusion.app.run import _MODEL_KG
    from fusion.models import KGFusionClassifier
    from kg import save_kg

    root = tmp_path_factory.mktemp("model")
    cohort = tiny_cohort(n=24)
    folder = (
        KGFusionClassifier(tiny_kg(), **{**FAST, "max_epochs": 3}).fit(cohort).save(root / "model")
    )
    save_kg(tiny_kg(), folder / _MODEL_KG)  # as `kgfusion train` does
    from _workspace import write_tables

    return folder, write_tables(cohort, root / "cohort")


@pytest.mark.slow
def test_cli_store_then_query(model: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = model
    db = tmp_path / "db"
    code, out = _run("store", "-m", folder, "-d", data, "-o", db, "-p", "p000", "-p", "p001",
                     "--kg", "--no-progress")  # fmt: skip
    assert code == 0, out
    assert "stored 2 explanation(s) (contribution) and the model's KG" in out
    code, out = _run("store", "-m", folder, "-d", data, "-o", db, "--no-progress", "-k", "3")
    assert code == 0, out
    assert "stored 24 explanation(s)" in out
    (tmp_path / "top.rq").write_text(TOP_K_QUERY + "LIMIT 2\n")
    code, out = _run("query", "-s", db, "-q", tmp_path / "top.rq", "-b", "patient_id=p005",
                     "-f", "json")  # fmt: skip
    assert code == 0, out
    rows = json.loads(out)
    assert len(rows) == 2 and set(rows[0]) == {"id", "label", "type", "score", "rank"}
    assert rows[0]["score"] >= rows[1]["score"]
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?e a <https://w3id.org/kgfusion/Explanation> }"
    assert _run("query", "-s", db, "-q", count, "-f", "csv") == (0, "n\n24\n")
    code, out = _run("query", "-s", db, "-q", "SELECT ?x WHERE { ?x }")
    assert code == 2 and "SPARQL syntax error in the query text at line 1" in out


def test_cli_query_on_a_missing_store_exits_2(tmp_path: Path) -> None:
    code, out = _run("query", "-s", tmp_path / "none", "-q", "ASK { ?s ?p ?o }")
    assert code == 2
    assert "no explanation store at" in out and "kgfusion store" in out
