"""Read OWL/RDF ontologies with rdflib, and export a :class:`~kg.graph.KnowledgeGraph` as RDF.

Reading (:func:`read_rdf`) turns every *named* ``owl:Class`` into a node and every
``rdfs:subClassOf`` into an edge child → parent: ``is_a`` for a named superclass, and a relation
named after ``P`` for an existential restriction ``rdfs:subClassOf [owl:onProperty P;
owl:someValuesFrom C]`` (``BFO_0000050`` → ``part_of``, see :data:`RELATION_NAMES`). Anonymous
class expressions (``owl:equivalentClass``/``owl:intersectionOf`` blank nodes) are not nodes and
give no edges. RDF/XML that declares a DTD or entities is refused before rdflib sees it
(:class:`~kg.UnsafeRDFError`): nothing is ever fetched or expanded.

Export (:func:`to_rdf`, :func:`write_turtle`, defined in :mod:`kg.rdf_export`) writes each
node as an IRI (:func:`curie_to_iri`) with ``rdfs:label``, ``kgf:type``, ``kgf:namespace``,
``kgf:provenance`` and ``owl:deprecated``, and each edge as one direct triple ``<source>
rel:<relation> <target>`` (:data:`REL`), so SPARQL sees the graph as it is.
:func:`read_turtle`/:func:`from_rdf` read such a graph back, preserving node ids, types, names,
namespaces and the edge set (RDF has no duplicate triples, and edge provenance is not exported:
it is set to ``provenance`` on reading).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pandas as pd
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from kg._exceptions import ConflictingDefinitionError, DanglingReferenceError, ParseError
from kg._rdf_io import (
    KGF,
    KGF_ID,
    NODE_PREDICATES,
    OBO,
    OBO_IN_OWL,
    OBO_PREFIXES,
    REL,
    SAFE_CHARS,
    check_xml_prolog,
    curie_to_iri,
    iri_to_curie,
    parse_rdf,
)
from kg._source import OnDangling, PathLike, provenance_of, types_of_prefix
from kg._textio import find_line
from kg.graph import KnowledgeGraph, make_edges, make_nodes, resolve_dangling
from kg.rdf_export import to_rdf, write_turtle

__all__ = [
    "KGF",
    "KGF_ID",
    "OBO",
    "OBO_IN_OWL",
    "OBO_PREFIXES",
    "REL",
    "RELATION_NAMES",
    "SAFE_CHARS",
    "check_xml_prolog",
    "curie_to_iri",
    "from_rdf",
    "iri_to_curie",
    "read_rdf",
    "read_turtle",
    "to_rdf",
    "write_turtle",
]

logger = logging.getLogger(__name__)

#: Relation named by a restriction's property; other properties are named by label/local name.
RELATION_NAMES = {
    "BFO_0000050": "part_of",
    "BFO_0000051": "has_part",
    "RO_0002211": "regulates",
    "RO_0002212": "negatively_regulates",
    "RO_0002213": "positively_regulates",
    "RO_0002215": "capable_of",
}
_SYNONYMS = ("hasExactSynonym", "hasRelatedSynonym", "hasBroadSynonym", "hasNarrowSynonym")


# ---------------------------------------------------------------------------------- reading
def _text(graph: Graph, subject: Any, predicate: URIRef) -> list[str]:
    return [str(o) for o in graph.objects(subject, predicate) if isinstance(o, Literal)]


def _label(graph: Graph, subject: Any) -> str | None:
    labels = [o for o in graph.objects(subject, RDFS.label) if isinstance(o, Literal)]
    labels.sort(key=lambda o: (o.language not in (None, "en"), str(o)))
    return str(labels[0]) if labels else None


def _class_name(path: PathLike, graph: Graph, cls: URIRef, curie: str) -> str | None:
    """The label of a class; two different untagged/English labels raise ConflictingDefinitionError."""
    labels = {
        str(o)
        for o in graph.objects(cls, RDFS.label)
        if isinstance(o, Literal) and o.language in (None, "en")
    }
    if len(labels) > 1:
        local = re.split(r"[/#]", str(cls))[-1]
        line = find_line(path, rf"{re.escape(local)}(?![\w.-])")
        msg = f"class {curie} has conflicting labels {sorted(labels)}; a class needs one name"
        raise ConflictingDefinitionError(msg, path, line)
    return _label(graph, cls)


def _relation_name(graph: Graph, prop: URIRef) -> str:
    local = re.split(r"[/#]", str(prop))[-1]
    if local in RELATION_NAMES:
        return RELATION_NAMES[local]
    label = _label(graph, prop)
    return re.sub(r"\s+", "_", label.strip()) if label and label.strip() else local


def _parents(graph: Graph, cls: URIRef) -> Iterator[tuple[str, URIRef] | None]:
    """``(relation, parent)`` of each ``rdfs:subClassOf`` of ``cls``; ``None`` when unsupported."""
    for _, _, parent in graph.triples((cls, RDFS.subClassOf, None)):
        if isinstance(parent, URIRef):
            yield "is_a", parent
            continue
        prop = graph.value(parent, OWL.onProperty)
        filler = graph.value(parent, OWL.someValuesFrom)
        if (
            (parent, RDF.type, OWL.Restriction) in graph
            and isinstance(prop, URIRef)
            and isinstance(filler, URIRef)
        ):
            yield _relation_name(graph, prop), filler
        else:
            yield None


def _release(graph: Graph) -> str | None:
    """The ontology's ``owl:versionInfo``, else its ``owl:versionIRI``."""
    for ontology, _, _ in graph.triples((None, RDF.type, OWL.Ontology)):
        for predicate in (OWL.versionInfo, OWL.versionIRI):
            for value in graph.objects(ontology, predicate):
                return str(value)
    return None


def read_rdf(
    path: PathLike,
    format: str | None = None,
    *,
    node_type: str = "auto",
    include_obsolete: bool = False,
    on_dangling: OnDangling = "raise",
    provenance: str | None = None,
) -> KnowledgeGraph:
    """Read an OWL ontology in RDF/XML, Turtle or N-Triples (optionally gzipped).

    Parameters
    ----------
    path : str or Path
        The file; ``.owl``/``.rdf``/``.xml`` are RDF/XML, ``.ttl`` Turtle, each optionally ``.gz``.
    format : {"xml", "turtle", "nt", "n3"}, optional
        rdflib format, inferred from the suffix by default.
    node_type : str
        Type of every node, or ``"auto"`` to infer it from the id prefix (``GO`` → ``go_term``,
        ``HP`` → ``phenotype``, ``DOID`` → ``disease``, other ids ``ontology_class``), as in
        :func:`kg.obo.read_obo` (default: ``"auto"``).
    include_obsolete : bool
        Keep classes marked ``owl:deprecated true`` as nodes with ``obsolete=True``; by default
        they and their edges are left out, as in :func:`kg.obo.read_obo` (default: ``False``).
    on_dangling : {"raise", "add", "drop"}
        An edge to a class the file never declares raises :class:`DanglingReferenceError`, adds
        a placeholder node, or is dropped with a logged count (default: ``"raise"``).
    provenance : str, optional
        Provenance label; by default the file name with ``owl:versionInfo``/``owl:versionIRI``.

    Raises
    ------
    UnknownFormatError, UnsafeRDFError, DanglingReferenceError
    ParseError
        Malformed RDF, text that is not UTF-8, a corrupt gzip stream, or no named ``owl:Class``.
    ConflictingDefinitionError
        A class with two different untagged or English ``rdfs:label`` values.

    Examples
    --------
    >>> kg = read_rdf("tests/data/mini.owl")
    >>> kg.nodes.loc["GO:0022414", ["name", "type"]].tolist()
    ['reproductive process', 'go_term']
    >>> kg.edges.loc[kg.edges["relation"] == "part_of", ["source", "target"]].values.tolist()
    [['GO:0022414', 'GO:0000003']]
    """
    if on_dangling not in ("raise", "add", "drop"):
        msg = (
            "The 'on_dangling' parameter of read_rdf must be 'raise', 'add' or 'drop'. "
            f"Got {on_dangling!r} instead."
        )
        raise ValueError(msg)
    graph = parse_rdf(path, format)
    provenance = provenance or provenance_of(path, _release(graph))
    declared = {
        s for s, _, _ in graph.triples((None, RDF.type, OWL.Class)) if isinstance(s, URIRef)
    }
    if not declared:
        msg = (
            f"no named owl:Class found (the file holds {len(graph)} triple(s)); expected an OWL "
            "ontology (a graph written by write_turtle is read with read_turtle)"
        )
        raise ParseError(msg, path)
    obsolete = {
        s for s in declared if any(o.toPython() is True for o in graph.objects(s, OWL.deprecated))
    }
    classes = sorted(declared if include_obsolete else declared - obsolete)
    ids = {c: iri_to_curie(str(c)) for c in declared}
    types = types_of_prefix([ids[c] for c in classes]) if node_type == "auto" else node_type
    nodes = make_nodes(
        [ids[c] for c in classes],
        types,
        provenance,
        name=[_class_name(path, graph, c, ids[c]) for c in classes],
        namespace=[next(iter(_text(graph, c, OBO_IN_OWL.hasOBONamespace)), None) for c in classes],
        obsolete=[c in obsolete for c in classes],
        synonyms=[[s for p in _SYNONYMS for s in _text(graph, c, OBO_IN_OWL[p])] for c in classes],
        xrefs=[_text(graph, c, OBO_IN_OWL.hasDbXref) for c in classes],
        alt_ids=[_text(graph, c, OBO_IN_OWL.hasAlternativeId) for c in classes],
    )
    triples, skipped = [], 0
    for cls in classes:
        for parent in _parents(graph, cls):
            if parent is None:
                skipped += 1
            elif parent[1] not in obsolete or include_obsolete:
                triples.append(
                    (ids[cls], parent[0], ids.get(parent[1], iri_to_curie(str(parent[1]))))
                )
    if skipped:
        logger.info(
            "%s: skipped %d rdfs:subClassOf to anonymous non-restriction classes", path, skipped
        )
    edges = _edge_table(triples, provenance)
    nodes, edges = resolve_dangling(
        nodes, edges, on_dangling, provenance, lambda d: _dangling_error(path, d), path
    )
    metadata = {"sources": [{"path": str(path), "format": "rdf", "provenance": provenance}]}
    return KnowledgeGraph(nodes, edges, metadata, validate=False)


def _edge_table(triples: list[tuple[str, str, str]], provenance: str) -> pd.DataFrame:
    edges = (
        make_edges(*zip(*triples), provenance)
        if triples
        else make_edges([], "is_a", [], provenance)
    )
    return edges.drop_duplicates(subset=["source", "relation", "target"], ignore_index=True)


def _dangling_error(path: PathLike, dangling: pd.DataFrame) -> DanglingReferenceError:
    targets = sorted(set(dangling["target"]))
    row = dangling.iloc[0]
    local = re.split(r"[/#]", curie_to_iri(row["target"]))[-1]
    line = find_line(path, rf"{re.escape(local)}(?![\w.-])")
    msg = (
        f"{len(dangling)} edge(s) name classes the file never declares as owl:Class, "
        f"e.g. {row['source']} {row['relation']} {row['target']}; undeclared: {targets[:10]}; "
        "pass on_dangling='add' to create placeholder nodes or 'drop' to skip these edges"
    )
    return DanglingReferenceError(msg, path, line)


def from_rdf(graph: Graph, *, provenance: str = "rdf") -> KnowledgeGraph:
    """A knowledge graph from RDF in the layout written by :func:`to_rdf`.

    Nodes are the subjects with a ``kgf:type``; edges the triples whose predicate is in
    :data:`REL`. Both endpoints of every edge must be nodes (else :class:`DanglingReferenceError`).

    Examples
    --------
    >>> nodes = make_nodes(["GO:1", "GO:2"], "go_term", "m")
    >>> kg = KnowledgeGraph(nodes, make_edges(["GO:2"], "is_a", ["GO:1"], "m"))
    >>> back = from_rdf(to_rdf(kg))
    >>> sorted(back.nodes.index), back.edges[["source", "relation", "target"]].values.tolist()
    (['GO:1', 'GO:2'], [['GO:2', 'is_a', 'GO:1']])
    """
    records: dict[str, dict[str, Any]] = {}
    for column, predicate in NODE_PREDICATES.items():
        for subject, _, value in sorted(graph.triples((None, predicate, None))):
            records.setdefault(iri_to_curie(str(subject)), {}).setdefault(column, str(value))
    for subject, _, value in graph.triples((None, OWL.deprecated, None)):
        records.setdefault(iri_to_curie(str(subject)), {})["obsolete"] = value.toPython() is True
    typed = {k: r for k, r in records.items() if "type" in r}
    nodes = make_nodes(
        typed,
        [r["type"] for r in typed.values()],
        [r.get("provenance", provenance) for r in typed.values()],
        **{c: [r.get(c) for r in typed.values()] for c in ("name", "namespace")},
        obsolete=[bool(r.get("obsolete", False)) for r in typed.values()],
    )
    triples = [
        (iri_to_curie(str(s)), unquote(str(p)[len(REL) :]), iri_to_curie(str(o)))
        for p in graph.predicates(unique=True)
        if str(p).startswith(REL)
        for s, _, o in graph.triples((None, p, None))
    ]
    edges = _edge_table(triples, provenance)
    return KnowledgeGraph(nodes, edges, {"sources": [{"format": "rdf", "provenance": provenance}]})


def read_turtle(
    path: PathLike, format: str | None = None, *, provenance: str | None = None
) -> KnowledgeGraph:
    """Read a graph written by :func:`write_turtle` (any rdflib format; see :func:`from_rdf`).

    Examples
    --------
    >>> import tempfile, os
    >>> kg = read_rdf("tests/data/mini.owl")
    >>> back = read_turtle(write_turtle(kg, os.path.join(tempfile.mkdtemp(), "mini.ttl")))
    >>> back.nodes.loc["GO:0000003", ["type", "name"]].tolist(), len(back.edges)
    (['go_term', 'reproduction'], 3)
    """
    return from_rdf(parse_rdf(path, format), provenance=provenance or provenance_of(path))
