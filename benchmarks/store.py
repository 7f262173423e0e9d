"""Benchmark: rdflib (in memory) vs Oxigraph (on disk, :class:`fusion.explanations.store.ExplanationStore`).

Two datasets (issue 21 item 3):

1. **The shared KG**: ``kg.build_kg(kg.shared_sources(data_dir))`` (GO, gene2go, Reactome, HPO;
   ~86k nodes, ~717k edges). Load: ``kg.to_rdf`` (an rdflib graph) vs
   :meth:`ExplanationStore.add_kg` (``kg.write_turtle`` + Oxigraph's bulk loader); and the same
   Turtle file parsed by each engine. Queries: the superterms of apoptotic process
   (``rel:is_a+`` path) and the annotations per GO namespace (group + count over the graph).
2. **1,000 patients' explanations** over that KG, synthetic (``--patients``): each scores 2,000
   random GO terms and pathways (exponential scores, seeded), with 300 random input genes and
   one of two predicted classes; exported with ``k=20`` nodes per ``(type, namespace)`` and the
   subgraph of the top 10 (``max_len=2``); each class has 100 signal concepts its patients
   score higher (40 shared by both classes). Load: :func:`fusion.explanations.to_rdf` vs
   :meth:`ExplanationStore.add` (which runs ``to_rdf`` too, then loads N-Triples), and the
   N-Triples file parsed by each. Queries: the shipped ``TOP_K_QUERY``, ``SHARED_TERMS_QUERY``,
   ``TERM_TOP_K_QUERY``, ``CLASS_SHARED_TERMS_QUERY``, ``EXPLANATIONS_QUERY``.

Every query is run on both engines and the answers compared (``same``); times are the best of 3.

Run: ``python benchmarks/store.py [--data-dir PATH] [--patients 1000] [--quick]`` (``--quick``:
100 patients, no file-parse rows).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from rdflib import Graph

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, print_table, timed

import kg
from fusion.explanations import SHARED_TERMS_QUERY, TOP_K_QUERY, Explanation, to_rdf
from fusion.explanations.store import (
    CLASS_SHARED_TERMS_QUERY,
    EXPLANATIONS_QUERY,
    TERM_TOP_K_QUERY,
    ExplanationStore,
    sparql,
)

KG_QUERIES = {
    "superterms of GO:0006915 (is_a+)": (
        """PREFIX rel: <https://w3id.org/kgfusion/relation/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?super ?label WHERE {
    <http://purl.obolibrary.org/obo/GO_0006915> rel:is_a+ ?super .
    OPTIONAL { ?super rdfs:label ?label }
} ORDER BY ?super""",
        {},
    ),
    "annotations per GO namespace (group by)": (
        """PREFIX kgf: <https://w3id.org/kgfusion/>
SELECT ?namespace ?relation (COUNT(*) AS ?n) WHERE {
    VALUES ?relation { <https://w3id.org/kgfusion/relation/involved_in>
        <https://w3id.org/kgfusion/relation/enables>
        <https://w3id.org/kgfusion/relation/located_in> }
    ?gene ?relation ?term . ?term kgf:namespace ?namespace .
} GROUP BY ?namespace ?relation ORDER BY ?namespace ?relation""",
        {},
    ),
}


def synthetic_explanations(graph: kg.KnowledgeGraph, n: int, seed: int = 0) -> list[Explanation]:
    """``n`` patients of classes a/b: 2,000 scored GO terms/pathways each, 300 input genes.

    Each class has 100 signal concepts (40 of them shared by both classes) that every patient
    of the class scores higher (exponential + 2), so top-k lists overlap as in a real cohort.
    """
    rng = np.random.default_rng(seed)
    concepts = graph.nodes.index[graph.nodes["type"].isin(["go_term", "pathway"])].to_numpy()
    genes = graph.nodes_of_type("gene").to_numpy()
    pool = rng.choice(concepts, 160, replace=False)
    signal = {"a": pool[:100], "b": np.concatenate([pool[:40], pool[100:]])}
    out = []
    for i in range(n):
        label = "ab"[i % 2]
        background = rng.choice(np.setdiff1d(concepts, signal[label]), 1900, replace=False)
        scores = np.concatenate([rng.exponential(size=100) + 2, rng.exponential(size=1900)])
        out.append(
            Explanation(
                graph,
                pd.Series(scores.round(6), index=np.concatenate([signal[label], background])),
                inputs=list(rng.choice(genes, 300, replace=False)),
                patient=f"patient{i:04d}",
                prediction=label,
                probability=0.5 + rng.random() / 2,
                method="contribution",
                model={"name": "synthetic", "fingerprint": "bench"},
            )
        )
    return out


def _queries(rows, label, graph, store, queries) -> None:
    for name, (query, bindings) in queries.items():
        t_rdflib, expected = timed(lambda q=query, b=bindings: sparql(graph, q, b), repeat=3)
        t_ox, got = timed(lambda q=query, b=bindings: sparql(store, q, b), repeat=3)
        same = expected.equals(got)
        rows.append(_row(label, f"query: {name}", t_rdflib, t_ox, f"{len(got)} rows, same={same}"))


def _row(data: str, step: str, t_rdflib: float, t_ox: float, note: str) -> dict:
    ratio = t_rdflib / t_ox if t_ox > 0 else float("inf")
    return {"data": data, "step": step, "rdflib s": t_rdflib, "Oxigraph s": t_ox,
            "rdflib/Oxigraph": ratio, "note": note}  # fmt: skip


def _parse_rows(rows, label, path: Path, fmt: str, folder: Path) -> None:
    import pyoxigraph as ox

    t_rdflib, graph = timed(lambda: Graph().parse(path, format=fmt))
    formats = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}
    store = ox.Store(str(folder / f"parse-{fmt}"))
    t_ox, _ = timed(lambda: store.bulk_load(path=str(path), format=formats[fmt]))
    rows.append(_row(label, f"parse {path.suffix} file", t_rdflib, t_ox,
                     f"{len(graph)} / {len(store)} triples"))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.environ.get("KGFUSION_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", default=default)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="100 patients, no file parsing")
    args = parser.parse_args()
    n = 100 if args.quick else args.patients
    graph = kg.build_kg(kg.shared_sources(Path(args.data_dir)), progress=False)
    print(f"KG: {graph}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # ---------------------------------------------------------------- the KG
        t_rdflib, in_memory = timed(lambda: kg.to_rdf(graph))
        store = ExplanationStore(folder / "kg", create=True)
        t_ox, _ = timed(lambda: store.add_kg(graph))
        rows.append(_row("KG", "load (kg.to_rdf / add_kg)", t_rdflib, t_ox,
                         f"{len(in_memory)} / {len(store)} triples"))  # fmt: skip
        if not args.quick:
            _parse_rows(rows, "KG", kg.write_turtle(graph, folder / "kg.ttl"), "turtle", folder)
        _queries(rows, "KG", in_memory, store, KG_QUERIES)
        store.close()
        del in_memory
        # ---------------------------------------------------------------- explanations
        explanations = synthetic_explanations(graph, n)
        graph.graph  # noqa: B018  (build the networkx view once, outside the timings)
        options = {"k": 20, "subgraph_k": 10, "max_len": 2}
        label = f"{n} explanations"
        t_rdflib, in_memory = timed(lambda: to_rdf(explanations, **options))
        store = ExplanationStore(folder / "explanations", create=True)
        t_ox, _ = timed(lambda: store.add(explanations, **options))
        rows.append(_row(label, "load (to_rdf / add)", t_rdflib, t_ox,
                         f"{len(in_memory)} / {len(store)} triples"))  # fmt: skip
        if not args.quick:
            path = folder / "explanations.nt"
            in_memory.serialize(destination=path, format="nt", encoding="utf-8")
            _parse_rows(rows, label, path, "nt", folder)
        top = explanations[0].top(1, type="go_term")["id"][0]
        queries = {
            "TOP_K_QUERY (1 patient, 20)": (
                TOP_K_QUERY + "LIMIT 20",
                {"patient_id": "patient0000"},
            ),
            "SHARED_TERMS_QUERY (2 patients)": (
                SHARED_TERMS_QUERY,
                {"patient_a": "patient0000", "patient_b": "patient0002"},
            ),
            "TERM_TOP_K_QUERY (1 term, k=50)": (TERM_TOP_K_QUERY, {"id": top, "k": 50}),
            "CLASS_SHARED_TERMS_QUERY (k=10)": (
                CLASS_SHARED_TERMS_QUERY,
                {"class_a": "a", "class_b": "b", "k": 10},
            ),
            "EXPLANATIONS_QUERY": (EXPLANATIONS_QUERY, {}),
        }
        _queries(rows, label, in_memory, store, queries)
        store.close()
    print_table(rows)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
