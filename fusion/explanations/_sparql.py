"""SPARQL machinery shared by rdflib and Oxigraph: bindings, result frames, error messages.

Both engines get the same bindings and give the same :class:`pandas.DataFrame`: rdflib through
``initBindings`` (as :func:`fusion.explanations.sparql_top` does), Oxigraph through a ``VALUES``
block placed first in the query's outer ``WHERE`` group (Oxigraph's own ``substitutions`` only
bind projected variables). A value in such a block is joined before the group's ``FILTER``s and
``BIND``s are evaluated, so a query written for ``initBindings`` answers the same; a variable
used only inside a sub-``SELECT`` is not bound there by either.

Literals become Python values by datatype (integers → ``int``, ``double``/``float``/``decimal``
→ ``float``, ``boolean`` → ``bool``, anything else its lexical form), IRIs their string, unbound
variables ``None``, whichever engine answered.

The shipped queries over :mod:`fusion.explanations.rdf`'s layout besides ``TOP_K_QUERY`` and
``SHARED_TERMS_QUERY`` live here too (exported by :mod:`fusion.explanations.store`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from rdflib import XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from fusion._exceptions import FusionError
from fusion.explanations.rdf import _PREFIXES

__all__ = [
    "CLASS_SHARED_TERMS_QUERY",
    "EXPLANATIONS_QUERY",
    "TERM_TOP_K_QUERY",
    "SPARQLSyntaxError",
    "StoreError",
    "StoreNotFoundError",
    "bind_values",
    "frame",
    "position",
    "rdflib_query",
    "syntax_error",
    "to_value",
]

#: Python value of a Binding: a string, number, boolean, or an rdflib term (IRI or literal).
Value = str | int | float | bool | Identifier

#: SPARQL: patients whose explanation ranks the term ``?id`` (a CURIE) among its top ``?k``
#: (``kgf:rank``: the rank among all scored nodes), best rank first. Bind ``?id`` and ``?k``
#: (an int), optionally ``?method``.
TERM_TOP_K_QUERY = (
    _PREFIXES
    + """SELECT ?patient_id ?method ?prediction ?score ?rank WHERE {
    ?explanation a kgf:Explanation ; kgf:nPatients 1 ; kgf:method ?method ;
        kgf:explains/dcterms:identifier ?patient_id ; kgf:nodeScore ?s .
    ?s kgf:node ?node ; kgf:score ?score ; kgf:rank ?rank .
    ?node dcterms:identifier ?id .
    OPTIONAL { ?explanation kgf:predictedClass ?prediction }
    FILTER (?rank <= ?k)
}
ORDER BY ?rank ?patient_id ?method
"""
)

#: SPARQL: terms in the top ``?k`` of patients predicted ``?class_a`` and of patients predicted
#: ``?class_b``, with how many patients of each (``n_a``, ``n_b``), most shared first. Bind
#: ``?class_a``, ``?class_b`` and ``?k`` (an int), optionally ``?method`` and ``?type``.
CLASS_SHARED_TERMS_QUERY = (
    _PREFIXES
    + """SELECT ?id ?label ?type (SUM(?in_a) AS ?n_a) (SUM(?in_b) AS ?n_b) WHERE {
    ?explanation a kgf:Explanation ; kgf:nPatients 1 ; kgf:method ?method ;
        kgf:predictedClass ?class ; kgf:nodeScore ?s .
    ?s kgf:node ?node ; kgf:rank ?rank .
    FILTER (?rank <= ?k && (?class = ?class_a || ?class = ?class_b))
    BIND (IF(?class = ?class_a, 1, 0) AS ?in_a)
    BIND (IF(?class = ?class_b, 1, 0) AS ?in_b)
    ?node dcterms:identifier ?id ; kgf:type ?type .
    OPTIONAL { ?node rdfs:label ?label }
}
GROUP BY ?id ?label ?type
HAVING (SUM(?in_a) > 0 && SUM(?in_b) > 0)
ORDER BY DESC(?n_a + ?n_b) ?id
"""
)

#: SPARQL: every stored explanation: method, patient (or group), prediction, probability.
EXPLANATIONS_QUERY = (
    _PREFIXES
    + """SELECT ?method ?patient_id ?prediction ?probability ?n_patients WHERE {
    ?explanation a kgf:Explanation ; kgf:method ?method ; kgf:nPatients ?n_patients ;
        kgf:explains/dcterms:identifier ?patient_id .
    OPTIONAL { ?explanation kgf:predictedClass ?prediction }
    OPTIONAL { ?explanation kgf:probability ?probability }
}
ORDER BY ?patient_id ?method
"""
)

_INTEGERS = {
    str(XSD[t])
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
}
_FLOATS = {str(XSD.double), str(XSD.float), str(XSD.decimal)}
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_POSITION = re.compile(r"(\d+):(\d+)")


class StoreError(FusionError):
    """An explanation store cannot be opened, written or queried."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No explanation store exists at the path given."""


class SPARQLSyntaxError(StoreError, ValueError):
    """A SPARQL query does not parse; the message names the query, the line and the column.

    Attributes
    ----------
    name : str
        The query's name (its file, or ``"query"``).
    line, column : int or None
        1-based position of the error in the query text, when the engine reports one.
    """

    def __init__(self, message: str, name: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.name, self.line, self.column = name, line, column


def syntax_error(query: str, name: str, reason: str, line: int | None, column: int | None):
    """A :class:`SPARQLSyntaxError` quoting the offending line of ``query`` with a caret.

    Examples
    --------
    >>> print(syntax_error("SELECT ?x\\nWHERE { ?x }", "q.rq", "expected a predicate", 2, 11))
    SPARQL syntax error in q.rq at line 2, column 11: expected a predicate
        WHERE { ?x }
                  ^
    """
    where = f" at line {line}, column {column}" if line is not None else ""
    message = f"SPARQL syntax error in {name}{where}: {reason}"
    lines = query.splitlines()
    if line is not None and column is not None and 1 <= line <= len(lines):
        message += f"\n    {lines[line - 1]}\n    {' ' * max(column - 1, 0)}^"
    return SPARQLSyntaxError(message, name, line, column)


def _literal_text(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _term_text(value: Value) -> str:
    """``value`` in SPARQL syntax (a string is a plain literal, never an IRI)."""
    if isinstance(value, Identifier):
        return value.n3()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f'"{value!r}"^^<{XSD.double}>'
    if isinstance(value, str):
        return _literal_text(value)
    msg = f"a SPARQL binding must be a str, int, float, bool or rdflib term; got {value!r}"
    raise StoreError(msg)


def _check_names(bindings: Mapping[str, Value]) -> None:
    bad = [n for n in bindings if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n)]
    if bad:
        msg = f"binding names must be SPARQL variable names without '?', got {bad}"
        raise StoreError(msg)


def bind_values(query: str, bindings: Mapping[str, Value]) -> tuple[str, tuple[int, int, int]]:
    """``query`` with ``bindings`` as a ``VALUES`` block first in its outer ``WHERE`` group.

    Returns the text and ``(line, column, width)`` of the insertion, to map error positions
    back onto the original text (the block goes on the line of ``WHERE {``).

    Examples
    --------
    >>> bind_values("SELECT ?x WHERE { ?x ?p ?k }", {"k": 3})[0]
    'SELECT ?x WHERE { VALUES (?k) { (3) } ?x ?p ?k }'
    """
    if not bindings:
        return query, (0, 0, 0)
    _check_names(bindings)
    match = _WHERE.search(query)
    if match is None:
        msg = "bindings need a query with a 'WHERE {' group to bind them in"
        raise StoreError(msg)
    names = " ".join(f"?{n}" for n in bindings)
    block = f" VALUES ({names}) {{ ({' '.join(_term_text(v) for v in bindings.values())}) }}"
    at = match.end()
    line = query.count("\n", 0, at) + 1
    column = at - (query.rfind("\n", 0, at) + 1) + 1
    return query[:at] + block + query[at:], (line, column, len(block))


def to_value(term: Any) -> Any:
    """A Python value for an rdflib or pyoxigraph term (see the module docstring)."""
    if term is None:
        return None
    if isinstance(term, (URIRef, BNode)):  # rdflib terms
        return str(term) if isinstance(term, URIRef) else f"_:{term}"
    kind = type(term).__name__  # pyoxigraph NamedNode, BlankNode, Literal
    if kind in ("NamedNode", "BlankNode"):
        return term.value if kind == "NamedNode" else f"_:{term.value}"
    lexical = str(term) if isinstance(term, Literal) else term.value
    datatype = term.datatype
    kind = "" if datatype is None else str(getattr(datatype, "value", datatype))
    try:
        if kind in _INTEGERS:
            return int(lexical)
        if kind in _FLOATS:
            return float(lexical)
        if kind == str(XSD.boolean):
            return lexical in ("true", "1")
    except ValueError:  # an ill-typed literal keeps its lexical form
        return lexical
    return lexical


def frame(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> pd.DataFrame:
    """A frame of converted terms, one column per variable (named without ``?``)."""
    columns = list(columns)
    return pd.DataFrame([[to_value(t) for t in row] for row in rows], columns=columns)


def rdflib_query(
    graph: Graph, query: str, bindings: Mapping[str, Value] | None = None, name: str = "query"
) -> pd.DataFrame:
    """Run ``query`` on an in-memory rdflib ``graph``, bound through ``initBindings``.

    SELECT gives one column per variable, ASK one column ``result``, CONSTRUCT/DESCRIBE columns
    ``subject, predicate, object``.
    """
    from pyparsing import ParseBaseException

    bindings = dict(bindings or {})
    _check_names(bindings)
    init = {
        k: v if isinstance(v, Identifier) else Literal(v, datatype=_datatype(v))
        for k, v in bindings.items()
    }
    try:
        result = graph.query(query, initBindings=init)
    except ParseBaseException as error:
        raise syntax_error(query, name, error.msg, error.lineno, error.col) from None
    if result.type == "ASK":
        return pd.DataFrame({"result": [bool(result.askAnswer)]})
    if result.type == "SELECT":
        return frame([str(v) for v in result.vars], result)
    return frame(["subject", "predicate", "object"], result)


def _datatype(value: Value) -> URIRef | None:
    if isinstance(value, bool):
        return XSD.boolean
    if isinstance(value, int):
        return XSD.integer
    return XSD.double if isinstance(value, float) else None


def position(message: str) -> tuple[int | None, int | None]:
    """``(line, column)`` of an Oxigraph syntax error message (``error at 3:14: ...``)."""
    match = _POSITION.search(message)
    return (int(match[1]), int(match[2])) if match else (None, None)
