"""Export a :class:`~kg.graph.KnowledgeGraph` as RDF: an :class:`rdflib.Graph` (:func:`to_rdf`)
or a Turtle file written directly (:func:`write_turtle`).

Each node is an IRI (:func:`~kg.rdf.curie_to_iri`) with ``rdfs:label``, ``kgf:type``,
``kgf:namespace``, ``kgf:provenance`` and ``owl:deprecated``, and each edge one direct triple
``<source> rel:<relation> <target>`` (:data:`~kg.rdf.REL`); :func:`kg.rdf.read_turtle` reads it
back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import OWL, RDFS, Graph, Literal, URIRef

from kg._rdf_io import (
    KGF,
    KGF_ID,
    NODE_PREDICATES,
    OBO,
    REL,
    SAFE_CHARS,
    curie_to_iri,
    turtle_term,
)
from kg._source import PathLike
from kg.graph import KnowledgeGraph

__all__ = ["to_rdf", "write_turtle"]

logger = logging.getLogger("kg.rdf")  # logs as kg.rdf, where these functions are exported


def _statements(kg: KnowledgeGraph) -> Iterator[tuple[str, str, Any]]:
    """``(subject IRI, predicate IRI, value)``: a Python literal, or an IRI wrapped in a tuple."""
    n = kg.nodes
    iris = {node_id: curie_to_iri(str(node_id)) for node_id in n.index}
    values = {c: n[c].tolist() for c in (*NODE_PREDICATES, "obsolete")}
    for position, node_id in enumerate(n.index):
        subject = iris[node_id]
        for column, predicate in NODE_PREDICATES.items():
            value = values[column][position]
            if isinstance(value, str):
                yield subject, str(predicate), value
        if values["obsolete"][position]:
            yield subject, str(OWL.deprecated), True
    relations = {r: REL + quote(str(r), safe=SAFE_CHARS) for r in kg.edges["relation"].unique()}
    e = kg.edges.drop_duplicates(subset=["source", "relation", "target"])
    for source, relation, target in zip(e["source"], e["relation"], e["target"]):
        yield iris[source], relations[relation], (iris[target],)


def to_rdf(kg: KnowledgeGraph) -> Graph:
    """The graph as an :class:`rdflib.Graph` (see the module docstring for the layout).

    rdflib's in-memory store costs about 25 µs a triple (GO, 260k triples: ~6 s); to write a
    file, :func:`write_turtle` is ~5x faster.

    Examples
    --------
    >>> from kg.schema import make_edges, make_nodes
    >>> nodes = make_nodes(["GO:1", "GO:2"], "go_term", "m")
    >>> kg = KnowledgeGraph(nodes, make_edges(["GO:2"], "is_a", ["GO:1"], "m"))
    >>> (URIRef(curie_to_iri("GO:2")), REL.is_a, URIRef(curie_to_iri("GO:1"))) in to_rdf(kg)
    True
    """
    graph = Graph()
    for prefix, namespace in (("kgf", KGF), ("rel", REL), ("obo", OBO), ("kgfid", KGF_ID)):
        graph.bind(prefix, namespace)
    iris: dict[str, URIRef] = {}  # one term object per distinct IRI or value: 2x faster
    literals: dict[Any, Literal] = {}

    def term(value: Any) -> URIRef | Literal:
        if isinstance(value, tuple):
            return iris.get(value[0]) or iris.setdefault(value[0], URIRef(value[0]))
        return literals.get(value) or literals.setdefault(value, Literal(value))

    graph.addN((term((s,)), term((p,)), term(o), graph) for s, p, o in _statements(kg))
    return graph


_SHORT = {str(RDFS.label): "rdfs:label", str(OWL.deprecated): "owl:deprecated"}
_SHORT.update({str(KGF[c]): f"kgf:{c}" for c in ("type", "namespace", "provenance")})


def write_turtle(kg: KnowledgeGraph, path: PathLike) -> Path:
    """Write the graph as Turtle, the same triples as :func:`to_rdf` (written directly, fast).

    Examples
    --------
    >>> import tempfile, os
    >>> from kg.schema import make_edges, make_nodes
    >>> nodes = make_nodes(["GO:1", "GO:2"], "go_term", "m")
    >>> kg = KnowledgeGraph(nodes, make_edges(["GO:2"], "is_a", ["GO:1"], "m"))
    >>> out = write_turtle(kg, os.path.join(tempfile.mkdtemp(), "kg.ttl"))
    >>> from kg.rdf import read_turtle
    >>> read_turtle(out).edges[["source", "relation", "target"]].values.tolist()
    [['GO:2', 'is_a', 'GO:1']]
    """
    path = Path(path)
    lines = [f"@prefix {p}: <{ns}> ." for p, ns in (("rdfs", RDFS), ("owl", OWL), ("kgf", KGF))]
    lines.append("")
    lines.extend(
        f"<{s}> {_SHORT.get(p) or f'<{p}>'} {turtle_term(o)} ." for s, p, o in _statements(kg)
    )
    tmp = path.with_name(path.name + ".tmp")
    try:  # write beside, then rename: an error never leaves a half-written file at path
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("wrote %d triples to %s", len(lines) - 4, path)
    return path
