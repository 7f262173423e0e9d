"""A persistent, queryable store of a cohort's explanations and their knowledge graph (Oxigraph).

:class:`ExplanationStore` keeps, in one on-disk `Oxigraph <https://github.com/oxigraph/oxigraph>`_
store, the KG as :func:`kg.rdf.write_turtle` writes it and any number of explanations in the
layout of :mod:`fusion.explanations.rdf` (node scores and ranks, the reified subgraph edges,
PROV provenance: method, model and patient), each also stamped ``kgf:storedAt`` (time) and
``kgf:storedWith`` (kgfusion version). Explanations are added incrementally; adding one whose
``(method, patient)`` is already stored replaces it (or skips it, or raises: ``on_existing``).
:meth:`ExplanationStore.query` answers SPARQL as a :class:`pandas.DataFrame`, with the same
values rdflib gives for the same RDF in memory (:func:`sparql` runs on either).

Shipped queries (bind their variables with ``bindings``): :data:`~fusion.TOP_K_QUERY` and
:data:`~fusion.SHARED_TERMS_QUERY` from :mod:`fusion.explanations.rdf`, and
:data:`TERM_TOP_K_QUERY`, :data:`CLASS_SHARED_TERMS_QUERY`, :data:`EXPLANATIONS_QUERY` (defined
in :mod:`fusion.explanations._sparql`, exported here).

pyoxigraph is an optional dependency: ``pip install 'kgfusion[store]'``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from rdflib import PROV, Graph
from rdflib import Literal as RDFLiteral

from fusion._params import StrOptions, check_positive, validate_parameter_constraints
from fusion.explanations._sparql import (
    CLASS_SHARED_TERMS_QUERY,
    EXPLANATIONS_QUERY,
    TERM_TOP_K_QUERY,
    SPARQLSyntaxError,
    StoreError,
    StoreNotFoundError,
    Value,
    bind_values,
    frame,
    position,
    rdflib_query,
    syntax_error,
)
from fusion.explanations.explanation import Explanation
from fusion.explanations.rdf import TOP_K_QUERY, _iri, to_rdf
from kg import KnowledgeGraph
from kg import write_turtle as write_kg_turtle
from kg.rdf import KGF

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "CLASS_SHARED_TERMS_QUERY",
    "EXPLANATIONS_QUERY",
    "TERM_TOP_K_QUERY",
    "ExplanationStore",
    "SPARQLSyntaxError",
    "StoreError",
    "StoreNotFoundError",
    "sparql",
]

logger = logging.getLogger(__name__)

OnExisting = Literal["replace", "skip", "raise"]

_PROV = f"PREFIX kgf: <{KGF}>\nPREFIX prov: <{PROV}>\n"


def _pyoxigraph() -> Any:
    try:
        import pyoxigraph
    except ImportError:
        msg = "the explanation store needs pyoxigraph: pip install 'kgfusion[store]'"
        raise ImportError(msg) from None
    return pyoxigraph


def _software() -> str:
    try:
        return f"kgfusion {version('kgfusion')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "kgfusion"


class ExplanationStore:
    """An on-disk Oxigraph store of a KG and explanations, queried with SPARQL.

    Parameters
    ----------
    path : str or Path
        The store's folder.
    create : bool
        Create the store when ``path`` does not exist (default: ``False``: raise).
    read_only : bool
        Open without the write lock, so that several processes may read at once
        (default: ``False``).

    Raises
    ------
    StoreNotFoundError
        If ``path`` does not exist and ``create`` is false (the message says how to create it).
    StoreError
        If ``path`` is not an Oxigraph store, or another process holds its write lock.
    ImportError
        If pyoxigraph is not installed (``pip install 'kgfusion[store]'``).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from kg import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "x", name=["root", "leaf"]),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "x"))
    >>> e = Explanation(kg, pd.Series({"GO:1": 0.2, "GO:2": 0.7}), ["GO:2"], "p1", "AD", 0.9)
    >>> with ExplanationStore(tempfile.mkdtemp() + "/store", create=True) as store:
    ...     store.add_kg(kg).add([e])
    ...     store.top("p1", 1)[["id", "name", "rank"]].values.tolist()
    1
    [['GO:2', 'leaf', 1]]
    """

    def __init__(self, path: str | Path, *, create: bool = False, read_only: bool = False) -> None:
        ox = _pyoxigraph()
        self.path = Path(path)
        self.read_only = read_only
        if not self.path.exists() and (read_only or not create):
            msg = (
                f"no explanation store at {self.path}; create one with "
                f"`kgfusion store -m MODEL -d DATA -o {self.path}` "
                "(or ExplanationStore(path, create=True))"
            )
            raise StoreNotFoundError(msg)
        if self.path.exists() and not self.path.is_dir():
            msg = f"{self.path} is a file; an explanation store is a folder made by Oxigraph"
            raise StoreError(msg)
        try:
            self._store = ox.Store.read_only(str(self.path)) if read_only else ox.Store(str(path))
        except OSError as error:
            msg = (
                f"cannot open the Oxigraph store at {self.path} ({error}); is it an explanation "
                "store, and is no other process writing to it?"
            )
            raise StoreError(msg) from None

    # ------------------------------------------------------------------------------ writing
    def add_kg(self, kg: KnowledgeGraph) -> ExplanationStore:
        """Write ``kg`` (:func:`kg.rdf.write_turtle`'s triples), plus ``ex:store/kg`` counts.

        Triples already stored are kept once; a second KG adds its nodes and edges to the first.
        """
        ox = _pyoxigraph()
        with tempfile.TemporaryDirectory() as folder:
            path = write_kg_turtle(kg, Path(folder) / "kg.ttl")
            self._store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
        record = _iri("store", "kg")
        self._update(f"DELETE WHERE {{ <{record}> ?p ?o }}")
        graph = Graph()
        for predicate, value in (
            (KGF.nNodes, kg.number_of_nodes()),
            (KGF.nEdges, kg.number_of_edges()),
            (KGF.storedAt, datetime.now(timezone.utc)),
            (KGF.storedWith, _software()),
        ):
            graph.add((record, predicate, RDFLiteral(value)))
        self._load(graph)
        logger.info("stored a KG of %d nodes in %s", kg.number_of_nodes(), self.path)
        return self

    def add(
        self,
        explanations: Explanation | Iterable[Explanation],
        *,
        k: int = 50,
        subgraph_k: int = 20,
        max_len: int = 3,
        on_existing: OnExisting = "replace",
        batch_size: int = 100,
    ) -> int:
        """Write explanations in :func:`~fusion.explanations.to_rdf`'s layout.

        Parameters
        ----------
        explanations : Explanation or iterable of Explanation
            What to store (``(method, patient)`` names each).
        k, subgraph_k, max_len : int
            Passed to :func:`~fusion.explanations.to_rdf` (default: ``50``, ``20``, ``3``).
        on_existing : {"replace", "skip", "raise"}
            What to do with an explanation whose ``(method, patient)`` is stored already
            (default: ``"replace"``: its scores, edges and stamps are deleted first).
        batch_size : int
            Explanations converted and loaded at a time (default: ``100``).

        Returns
        -------
        int
            The number of explanations written.
        """
        validate_parameter_constraints(
            {"on_existing": [StrOptions({"replace", "skip", "raise"})]},
            {"on_existing": on_existing},
            "ExplanationStore.add",
        )
        batch_size = check_positive("batch_size", batch_size, "ExplanationStore.add")
        items = [explanations] if isinstance(explanations, Explanation) else list(explanations)
        written = 0
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            iris = [str(_iri(e.method, e.patient)) for e in batch]
            existing = self._existing(iris)
            if existing and on_existing == "raise":
                msg = (
                    f"{len(existing)} explanation(s) are stored already, e.g. "
                    f"{min(existing)}; pass on_existing='replace' or 'skip'"
                )
                raise StoreError(msg)
            if on_existing == "skip":
                batch = [e for e, iri in zip(batch, iris) if iri not in existing]
            elif existing:
                self._delete(sorted(existing))
            graph = to_rdf(batch, k=k, subgraph_k=subgraph_k, max_len=max_len)
            stamp, software = RDFLiteral(datetime.now(timezone.utc)), RDFLiteral(_software())
            for e in batch:
                graph.add((_iri(e.method, e.patient), KGF.storedAt, stamp))
                graph.add((_iri(e.method, e.patient), KGF.storedWith, software))
            self._load(graph)
            written += len(batch)
        logger.info("stored %d explanation(s) in %s", written, self.path)
        return written

    def _load(self, graph: Graph) -> None:
        ox = _pyoxigraph()
        self._store.load(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)

    def _update(self, text: str) -> None:
        try:
            self._store.update(text)
        except OSError as error:  # read-only store
            raise StoreError(f"cannot write to {self.path}: {error}") from None

    def _existing(self, iris: list[str]) -> set[str]:
        values = " ".join(f"<{i}>" for i in iris)
        rows = self.query(
            f"{_PROV}SELECT ?e WHERE {{ VALUES ?e {{ {values} }} ?e a kgf:Explanation }}"
        )
        return set(rows["e"])

    def _delete(self, iris: list[str]) -> None:
        """Delete the explanations, their activities, node scores and reified edges."""
        values = f"VALUES ?e {{ {' '.join(f'<{i}>' for i in iris)} }}"
        self._update(
            f"""{_PROV}DELETE {{ ?s ?p ?o }} WHERE {{
    {{ {values} BIND (?e AS ?s) }} UNION {{ {values} ?e kgf:nodeScore ?s }}
    UNION {{ {values} ?e prov:wasGeneratedBy ?s }} UNION {{ {values} ?s kgf:inExplanation ?e }}
    ?s ?p ?o
}}"""
        )

    # ------------------------------------------------------------------------------ reading
    def query(
        self, query: str, bindings: Mapping[str, Value] | None = None, *, name: str = "query"
    ) -> pd.DataFrame:
        """Run SPARQL ``query``; ``bindings`` (variable name → value) fix variables first.

        Returns
        -------
        pandas.DataFrame
            SELECT: one column per variable; ASK: one column ``result``; CONSTRUCT/DESCRIBE:
            ``subject, predicate, object``. Values as in :mod:`fusion.explanations._sparql`.

        Raises
        ------
        SPARQLSyntaxError
            If the query does not parse: the message names ``name``, the line and column.
        StoreError
            If the query fails while running.
        """
        text, (line, column, width) = bind_values(query, dict(bindings or {}))
        try:
            result = self._store.query(text)
        except SyntaxError as error:
            reason = str(error).split(": ", 1)[-1].replace("\n", " ")
            reason = reason if len(reason) <= 200 else reason[:200] + " ..."
            at_line, at_column = position(str(error))
            if at_line == line and at_column is not None and at_column >= column + width:
                at_column -= width  # after the inserted VALUES block
            raise syntax_error(query, name, reason, at_line, at_column) from None
        except (OSError, RuntimeError, ValueError) as error:
            raise StoreError(f"{name}: {error}") from None
        kind = type(result).__name__
        if kind == "QueryBoolean":
            return pd.DataFrame({"result": [bool(result)]})
        if kind == "QueryTriples":
            columns = ["subject", "predicate", "object"]
            return frame(columns, ((t.subject, t.predicate, t.object) for t in result))
        variables = result.variables
        return frame([v.value for v in variables], ([s[v] for v in variables] for s in result))

    def top(
        self,
        patient: str,
        k: int = 20,
        type: str | None = None,
        namespace: str | None = None,
        method: str | None = None,
    ) -> pd.DataFrame:
        """:data:`~fusion.TOP_K_QUERY` for ``patient``, like :func:`~fusion.sparql_top`."""
        k = check_positive("k", k, "ExplanationStore.top")
        bindings = {"patient_id": patient, "type": type, "namespace": namespace, "method": method}
        table = self.query(
            TOP_K_QUERY + f"LIMIT {k}\n", {n: v for n, v in bindings.items() if v is not None}
        )
        return table.rename(columns={"label": "name"})

    def explanations(self) -> pd.DataFrame:
        """The stored explanations (:data:`EXPLANATIONS_QUERY`)."""
        return self.query(EXPLANATIONS_QUERY, name="EXPLANATIONS_QUERY")

    def __len__(self) -> int:
        """The number of stored triples."""
        return len(self._store)

    def optimize(self) -> None:
        """Compact the on-disk files (after many writes; optional)."""
        self._store.optimize()

    def close(self) -> None:
        """Flush and release the store (and its write lock); the object is unusable after."""
        if getattr(self, "_store", None) is not None:
            if not self.read_only:
                self._store.flush()
            self._store = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"ExplanationStore({str(self.path)!r}, {mode})"


def sparql(
    source: Graph | ExplanationStore,
    query: str,
    bindings: Mapping[str, Value] | None = None,
    *,
    name: str = "query",
) -> pd.DataFrame:
    """Run SPARQL on an in-memory rdflib graph or an :class:`ExplanationStore`, as a frame.

    Both give the same values for the same RDF (see :mod:`fusion.explanations._sparql`).

    Examples
    --------
    >>> from rdflib import Graph
    >>> g = Graph().parse(data="<http://x/a> <http://x/p> 1 .", format="turtle")
    >>> sparql(g, "SELECT ?o WHERE { ?s ?p ?o FILTER (?o >= ?min) }", {"min": 1})
       o
    0  1
    """
    if isinstance(source, ExplanationStore):
        return source.query(query, bindings, name=name)
    return rdflib_query(source, query, bindings, name)
