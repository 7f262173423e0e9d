"""RDF export of :class:`~fusion.Explanation` objects, and SPARQL queries over it.

Layout (``kgf:`` is :data:`kg.rdf.KGF`, ``ex:`` is :data:`EXPLANATION`, ``prov:`` PROV-O)::

    ex:ig/p1  a kgf:Explanation, prov:Entity ;
        kgf:explains ex:patient/p1 ;               # a kgf:Patient (or kgf:Group), dcterms:identifier "p1"
        kgf:method "ig" ; kgf:predictedClass "AD" ; kgf:probability 0.83 ; kgf:nPatients 1 ;
        kgf:risk 0.42 ;                            # a survival model's log-risk (no probability)
        kgf:input <KG node> ;                      # one per input feature node
        kgf:nodeScore ex:ig/p1/node/1 ;            # one per exported node
        prov:wasGeneratedBy ex:ig/p1/activity .    # a prov:Activity that prov:used the model
    ex:ig/p1/node/1  a kgf:NodeScore ;             # the score of one node in one explanation
        kgf:node <KG node> ; kgf:score "0.9"^^xsd:double ; kgf:rank 1 .
    ex:ig/p1/edge/1  a rdf:Statement, kgf:EdgeScore ;   # a reified KG edge of the subgraph
        rdf:subject <s> ; rdf:predicate rel:is_a ; rdf:object <o> ;
        kgf:inExplanation ex:ig/p1 ; kgf:score "0.1"^^xsd:double .   # score when known
    <KG node> dcterms:identifier "GO:0008150" ; rdfs:label "..." ; kgf:type "go_term" ;
        kgf:namespace "biological_process" .
    <s> rel:is_a <o> .                             # the KG edge itself, as kg.to_rdf writes it

Scores depend on the explanation, so they sit on a reified ``kgf:NodeScore`` (and, for edges,
on an ``rdf:Statement``) rather than on the shared KG node IRIs; no RDF-star is needed.
``kgf:rank`` is the node's rank among *all* scored nodes of the explanation. The exported
nodes are, for every ``(type, namespace)`` group, the ``k`` best of the group (nodes scoring
``0`` are not part of an explanation and are left out), so SPARQL's top-k by type or namespace
equals :meth:`Explanation.top` for any ``k`` up to the export's (and up to the non-zero nodes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from rdflib import DCTERMS, PROV, RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef

from fusion._params import check_positive
from fusion.explanations.explanation import Explanation
from kg.rdf import KGF, REL, SAFE_CHARS, curie_to_iri

__all__ = [
    "EXPLANATION",
    "SHARED_TERMS_QUERY",
    "TOP_K_QUERY",
    "sparql_top",
    "to_rdf",
    "write_turtle",
]

#: Namespace of explanation, patient, model and score resources.
EXPLANATION = Namespace("https://w3id.org/kgfusion/explanation/")

_PREFIXES = f"""PREFIX kgf: <{KGF}>
PREFIX dcterms: <{DCTERMS}>
PREFIX rdfs: <{RDFS}>
"""

#: SPARQL: scored nodes of one patient's explanation, best first (ties by id). Bind
#: ``?patient_id`` (and optionally ``?type``, ``?namespace``, ``?method``) and add ``LIMIT k``,
#: e.g. the top-k pathways of a patient with ``?type "pathway"`` (see :func:`sparql_top`).
TOP_K_QUERY = (
    _PREFIXES
    + """SELECT ?id ?label ?type ?score ?rank WHERE {
    ?explanation a kgf:Explanation ; kgf:method ?method ; kgf:explains ?patient ;
        kgf:nodeScore ?s .
    ?patient dcterms:identifier ?patient_id .
    ?s kgf:node ?node ; kgf:score ?score ; kgf:rank ?rank .
    ?node dcterms:identifier ?id ; kgf:type ?type .
    OPTIONAL { ?node kgf:namespace ?node_namespace }
    OPTIONAL { ?node rdfs:label ?label }
    FILTER (!BOUND(?namespace) || ?node_namespace = ?namespace)
}
ORDER BY DESC(?score) ?id
"""
)

#: SPARQL: nodes exported for both of two patients (bind ``?patient_a``, ``?patient_b``),
#: with both scores, ordered by their sum.
SHARED_TERMS_QUERY = (
    _PREFIXES
    + """SELECT ?id ?label ?type ?score_a ?score_b WHERE {
    ?a a kgf:Explanation ; kgf:explains/dcterms:identifier ?patient_a ; kgf:nodeScore ?sa .
    ?b a kgf:Explanation ; kgf:explains/dcterms:identifier ?patient_b ; kgf:nodeScore ?sb .
    ?sa kgf:node ?node ; kgf:score ?score_a .
    ?sb kgf:node ?node ; kgf:score ?score_b .
    ?node dcterms:identifier ?id ; kgf:type ?type .
    OPTIONAL { ?node rdfs:label ?label }
}
ORDER BY DESC(?score_a + ?score_b) ?id
"""
)


def _iri(*parts: str) -> URIRef:
    return EXPLANATION["/".join(quote(p, safe=SAFE_CHARS) for p in parts)]


def _exported(explanation: Explanation, k: int) -> pd.Series:
    """Global rank of the best ``k`` non-zero nodes of every ``(type, namespace)`` group."""
    ranking = explanation.ranking()
    rank = pd.Series(range(1, len(ranking) + 1), index=ranking.index)
    nonzero = ranking.index[ranking.to_numpy() != 0]  # zeros take no place among the k
    groups = explanation.kg.nodes.loc[nonzero, ["type", "namespace"]].fillna("")
    keep = groups.groupby(["type", "namespace"], sort=False).cumcount() < k
    return rank.loc[nonzero[keep.to_numpy()]]


def _add_explanation(graph: Graph, e: Explanation, k: int, subgraph_k: int, max_len: int) -> None:
    me = _iri(e.method, e.patient)
    patient = _iri("patient", e.patient)
    model = _iri("model", str(e.model.get("fingerprint", e.model.get("name", "unknown"))))
    activity = _iri(e.method, e.patient, "activity")
    triples = [
        (me, RDF.type, KGF.Explanation),
        (me, RDF.type, PROV.Entity),
        (me, KGF.explains, patient),
        (me, KGF.method, Literal(e.method)),
        (me, KGF.nPatients, Literal(e.n_patients)),
        (me, PROV.wasGeneratedBy, activity),
        (activity, RDF.type, PROV.Activity),
        (activity, PROV.used, model),
        (activity, PROV.used, patient),
        (patient, RDF.type, KGF.Patient if e.n_patients == 1 else KGF.Group),
        (patient, DCTERMS.identifier, Literal(e.patient)),
        (model, RDF.type, KGF.Model),
        (model, RDF.type, PROV.Entity),
    ]
    triples += [(model, KGF[quote(str(key))], Literal(str(v))) for key, v in e.model.items()]
    if e.prediction is not None:
        triples.append((me, KGF.predictedClass, Literal(str(e.prediction))))
    if e.probability is not None:
        triples.append((me, KGF.probability, Literal(float(e.probability), datatype=XSD.double)))
    if e.risk is not None:
        triples.append((me, KGF.risk, Literal(float(e.risk), datatype=XSD.double)))
    triples += [(me, KGF.input, URIRef(curie_to_iri(n))) for n in e.inputs]
    ranks = _exported(e, k)
    for node, rank in ranks.items():
        score = _iri(e.method, e.patient, "node", str(rank))
        triples += [
            (me, KGF.nodeScore, score),
            (score, RDF.type, KGF.NodeScore),
            (score, KGF.node, URIRef(curie_to_iri(node))),
            (score, KGF.score, Literal(float(e.scores[node]), datatype=XSD.double)),
            (score, KGF.rank, Literal(int(rank))),
        ]
    sub = e.subgraph(subgraph_k, max_len=max_len)
    for i, (u, v, relation, data) in enumerate(sorted(sub.edges(keys=True, data=True)), 1):
        s, o, p = (
            URIRef(curie_to_iri(u)),
            URIRef(curie_to_iri(v)),
            REL[quote(relation, safe=SAFE_CHARS)],
        )
        statement = _iri(e.method, e.patient, "edge", str(i))
        triples += [
            (s, p, o),
            (statement, RDF.type, RDF.Statement),
            (statement, RDF.type, KGF.EdgeScore),
            (statement, RDF.subject, s),
            (statement, RDF.predicate, p),
            (statement, RDF.object, o),
            (statement, KGF.inExplanation, me),
        ]
        if "score" in data:
            triples.append((statement, KGF.score, Literal(data["score"], datatype=XSD.double)))
    for t in triples:
        graph.add(t)
    _add_nodes(graph, e, ranks.index.union(pd.Index(list(sub.nodes))).union(pd.Index(e.inputs)))


def _add_nodes(graph: Graph, e: Explanation, ids: pd.Index) -> None:
    table = e.kg.nodes.loc[ids, ["name", "type", "namespace"]]
    for node, name, kind, namespace in table.itertuples():
        iri = URIRef(curie_to_iri(node))
        graph.add((iri, DCTERMS.identifier, Literal(node)))
        graph.add((iri, KGF.type, Literal(kind)))
        if isinstance(name, str):
            graph.add((iri, RDFS.label, Literal(name)))
        if isinstance(namespace, str):
            graph.add((iri, KGF.namespace, Literal(namespace)))


def to_rdf(
    explanations: Explanation | Iterable[Explanation],
    *,
    k: int = 50,
    subgraph_k: int = 20,
    max_len: int = 3,
) -> Graph:
    """Explanations (of patients, classes or cohorts) as one :class:`rdflib.Graph`.

    Parameters
    ----------
    explanations : Explanation or iterable of Explanation
        What to export; ``(method, patient)`` names each one and must be unique.
    k : int
        Nodes exported per ``(type, namespace)`` group and explanation (default: ``50``).
    subgraph_k, max_len : int
        Arguments of :meth:`Explanation.subgraph` for the exported edges (default: ``20``, ``3``).

    Returns
    -------
    rdflib.Graph
        The layout of the module docstring; prefixes ``kgf``, ``rel``, ``ex``, ``prov`` bound.

    Raises
    ------
    InvalidParameterError
        If ``k``, ``subgraph_k`` or ``max_len`` is not a positive int.
    """
    k = check_positive("k", k, "to_rdf")
    items = [explanations] if isinstance(explanations, Explanation) else list(explanations)
    graph = Graph()
    for prefix, namespace in (("kgf", KGF), ("rel", REL), ("ex", EXPLANATION), ("prov", PROV)):
        graph.bind(prefix, namespace)
    for e in items:
        _add_explanation(graph, e, k, subgraph_k, max_len)
    return graph


def write_turtle(
    explanations: Explanation | Iterable[Explanation], path: str | Path, **options: int
) -> Path:
    """Write :func:`to_rdf` of ``explanations`` (``options`` passed on) as Turtle to ``path``."""
    path = Path(path)
    to_rdf(explanations, **options).serialize(destination=path, format="turtle")
    return path


def sparql_top(
    graph: Graph,
    patient: str,
    k: int = 20,
    type: str | None = None,
    namespace: str | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """Run :data:`TOP_K_QUERY` for ``patient``: the SPARQL twin of :meth:`Explanation.top`.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, type, score, rank`` (``rank`` is the global rank), best first.
    """
    k = check_positive("k", k, "sparql_top")
    bindings = {"patient_id": patient, "type": type, "namespace": namespace, "method": method}
    rows = graph.query(
        TOP_K_QUERY + f"LIMIT {k}\n",
        initBindings={key: Literal(v) for key, v in bindings.items() if v is not None},
    )
    records = [
        (
            str(r.id),
            None if r.label is None else str(r.label),
            str(r.type),
            float(r.score),
            int(r.rank),
        )
        for r in rows
    ]
    return pd.DataFrame(records, columns=["id", "name", "type", "score", "rank"])
