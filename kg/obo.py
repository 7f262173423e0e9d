"""Read OBO ontologies (GO, HPO, ...) into a :class:`~kg.graph.KnowledgeGraph` via obonet.

Stanzas are parsed by :func:`obonet.read.get_sections`; this module turns them into typed node
and edge tables and validates what obonet leaves unchecked: stanzas without ids, duplicate ids
with conflicting names, edges to undeclared terms and cycles in ``is_a``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from obonet.read import get_sections

from kg._exceptions import (
    ConflictingDefinitionError,
    CycleError,
    DanglingReferenceError,
    ParseError,
)
from kg._source import (
    OnDangling,
    PathLike,
    gc_paused,
    provenance_of,
    types_of_prefix,
)
from kg._textio import TextLines, excerpt, find_line
from kg.graph import KnowledgeGraph, make_edges, make_nodes, resolve_dangling

__all__ = ["find_cycle", "read_obo"]


_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"')
#: Tags whose values the graph does not keep: their lines are dropped before obonet parses a
#: stanza (a line starting ``tag:`` is always a well-formed tag line, so no error is hidden).
_UNUSED_TAGS = tuple(
    f"{tag}:"
    for tag in (
        "def",
        "comment",
        "property_value",
        "creation_date",
        "created_by",
        "subset",
        "replaced_by",
        "consider",
    )
)


def read_obo(
    path: PathLike,
    *,
    node_type: str = "auto",
    include_obsolete: bool = False,
    on_dangling: OnDangling = "raise",
    acyclic: Iterable[str] = ("is_a",),
    provenance: str | None = None,
) -> KnowledgeGraph:
    """Read an OBO file (optionally gzipped) into a knowledge graph.

    Every ``[Term]`` becomes a node with ``name``, ``namespace``, ``synonyms``, ``xrefs``,
    ``alt_ids`` and ``obsolete``; every ``is_a`` and ``relationship`` line becomes an edge
    child → parent keyed by its relation (``is_a``, ``part_of``, ``regulates``, ...).

    Parameters
    ----------
    path : str or Path
        The OBO file (``.obo`` or ``.obo.gz``).
    node_type : str
        Type of every node, or ``"auto"`` to infer it from the id prefix
        (``GO`` → ``go_term``, ``HP`` → ``phenotype``, ``DOID`` → ``disease``) (default: ``"auto"``).
    include_obsolete : bool
        Keep terms flagged ``is_obsolete: true`` as nodes with ``obsolete=True`` (default: ``False``).
    on_dangling : {"raise", "add", "drop"}
        An edge to a term the file never declares (e.g. GO's implicit root ``all``) raises
        :class:`DanglingReferenceError`, adds a placeholder node typed like the referring term, or
        is dropped with a logged count (default: ``"raise"``).
    acyclic : iterable of str
        Relations that must form a DAG; a cycle raises :class:`CycleError` (default: ``("is_a",)``).
    provenance : str, optional
        Provenance label; by default the file name with its ``data-version``.

    Raises
    ------
    ParseError
        A malformed tag line, a stanza without ``id``, a line that is not UTF-8 text (message
        names file and line), a file without ``[Term]`` stanzas or a corrupt gzip stream.
    ConflictingDefinitionError
        The same id declared twice with different names.
    DanglingReferenceError, CycleError
        See ``on_dangling`` and ``acyclic``.

    Examples
    --------
    >>> kg = read_obo("tests/data/mini.obo")
    >>> kg.nodes.loc["GO:0000003", ["name", "namespace"]].tolist()
    ['reproduction', 'biological_process']
    >>> sorted(kg.relations)
    ['is_a', 'part_of']
    """
    with gc_paused():
        typedefs, terms, _, header = _sections(path)
        provenance = provenance or provenance_of(path, header.get("data-version"))
        records = _term_records(path, terms, include_obsolete)
        nodes, edges = _tables(records, header, node_type, provenance)
    nodes, edges = resolve_dangling(
        nodes, edges, on_dangling, provenance, lambda d: _dangling_error(path, d), path
    )
    for relation in acyclic:
        cycle = find_cycle(edges[edges["relation"] == relation])
        if cycle:
            line = find_line(path, rf"^id:\s*{re.escape(cycle[0])}\s*$")
            msg = f"{relation} cycle: {' -> '.join(cycle + [cycle[0]])}; an ontology's {relation} must be acyclic"
            raise CycleError(msg, path, line)
    metadata = {
        "sources": [{"path": str(path), "format": "obo", "provenance": provenance}],
        "typedefs": sorted(t["id"] for t in typedefs if "id" in t),
    }
    return KnowledgeGraph(nodes, edges, metadata, validate=False)


def _tables(
    records: dict[str, dict], header: dict[str, Any], node_type: str, provenance: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of the term records."""
    default_namespace = header.get("default-namespace")
    if isinstance(default_namespace, list):
        default_namespace = default_namespace[0]
    ids = list(records)
    types = types_of_prefix(ids) if node_type == "auto" else node_type
    nodes = make_nodes(
        ids,
        types,
        provenance,
        name=[r.get("name") for r in records.values()],
        namespace=[r.get("namespace", default_namespace) for r in records.values()],
        obsolete=[r.get("is_obsolete") == "true" for r in records.values()],
        synonyms=[[_unquote(s) for s in r.get("synonym", [])] for r in records.values()],
        xrefs=[[x.split(" ", 1)[0] for x in r.get("xref", [])] for r in records.values()],
        alt_ids=[list(r.get("alt_id", [])) for r in records.values()],
    )
    triples = [
        (term_id, relation, target)
        for term_id, record in records.items()
        for relation, target in _term_edges(record)
    ]
    edges = (
        make_edges(*zip(*triples), provenance)
        if triples
        else make_edges([], "is_a", [], provenance)
    )
    edges = edges.drop_duplicates(subset=["source", "relation", "target"], ignore_index=True)
    return nodes, edges


def _sections(path: PathLike) -> tuple[list, list, list, dict[str, Any]]:
    """obonet's stanza parser, with its ValueError turned into a :class:`ParseError` with a line.

    Lines are checked as they stream in (:class:`~kg._textio.TextLines`): a line that is not
    UTF-8 text ends the stream, so a malformed line before it is still the error reported.
    """
    lines = TextLines(path)
    try:
        sections = get_sections(line for line in lines if not line.startswith(_UNUSED_TAGS))
    except ParseError:
        raise
    except ValueError as error:
        bad = str(error).split("\n", 1)[-1].rstrip("\n")
        line = _malformed_line(path, bad) if bad else None
        msg = f"malformed OBO tag line {excerpt(bad)!r}; expected 'tag: value'"
        raise ParseError(msg, path, line) from None
    lines.check()
    if not sections[1]:
        msg = "no [Term] stanzas found; expected an OBO ontology ('[Term]' then 'id: ...' lines)"
        raise ParseError(msg, path)
    return sections


def _malformed_line(path: PathLike, bad: str) -> int | None:
    """Number of the line ``bad`` that obonet refused: its first occurrence that obonet parses
    as a tag line (it parses in file order and stops at the first it cannot parse).

    Compares lines as they stream, instead of a regex built from ``bad`` over the whole file.
    """
    blank = True
    for number, line in enumerate(TextLines(path), start=1):
        if line.strip() == "":  # obonet's stanza boundary
            blank = True
            continue
        header = blank and line.startswith(("[Term]", "[Typedef]", "[Instance]"))
        blank = False
        if not header and line.rstrip("\n") == bad:
            return number
    return None


def _term_records(path: PathLike, terms: list[dict], include_obsolete: bool) -> dict[str, dict]:
    """Term stanzas keyed by id; checks ids exist and duplicate ids agree on their name."""
    records: dict[str, dict] = {}
    for position, term in enumerate(terms, start=1):
        term_id = term.get("id")
        if not term_id:
            line = find_line(path, r"^\[Term\]", occurrence=position)
            msg = f"[Term] stanza #{position} has no 'id' tag; every term needs one"
            raise ParseError(msg, path, line)
        if term.get("is_obsolete") == "true" and not include_obsolete:
            continue
        previous = records.get(term_id)
        if previous is None:
            records[term_id] = term
        elif previous.get("name") != term.get("name"):
            line = find_line(path, rf"^id:\s*{re.escape(term_id)}\s*$", occurrence=2)
            msg = (
                f"duplicate id {term_id} with conflicting names "
                f"{previous.get('name')!r} and {term.get('name')!r}"
            )
            raise ConflictingDefinitionError(msg, path, line)
        else:  # the OBO spec merges repeated stanzas of one id
            for tag in ("is_a", "relationship", "synonym", "xref", "alt_id"):
                previous.setdefault(tag, []).extend(term.get(tag, []))
    return records


def _term_edges(record: dict) -> Iterable[tuple[str, str]]:
    for target in record.get("is_a", []):
        yield "is_a", target
    for relationship in record.get("relationship", []):
        relation, _, target = relationship.partition(" ")
        yield relation, target.strip()


def _unquote(synonym: str) -> str:
    match = _QUOTED.match(synonym)
    return match.group(1) if match else synonym


def _dangling_error(path: PathLike, dangling: pd.DataFrame) -> DanglingReferenceError:
    row = dangling.iloc[0]
    tag = "is_a:" if row["relation"] == "is_a" else rf"relationship:\s*{re.escape(row['relation'])}"
    line = find_line(path, rf"^{tag}\s*{re.escape(row['target'])}(\s|$)")
    msg = (
        f"{row['source']} {row['relation']} {row['target']!r}, which the file never declares "
        f"({len(dangling)} such edge(s)); pass on_dangling='add' to create placeholder "
        "nodes or 'drop' to skip these edges"
    )
    return DanglingReferenceError(msg, path, line)


def find_cycle(edges: pd.DataFrame) -> list[str]:
    """One directed cycle in an edge table (as a node list), or ``[]`` when it is acyclic.

    Strongly connected components are found in C (scipy); only a component that is a cycle is
    then walked in Python, so checking 70k ``is_a`` edges costs milliseconds.

    Examples
    --------
    >>> find_cycle(make_edges(["a", "b"], "is_a", ["b", "a"], "x"))
    ['a', 'b']
    >>> find_cycle(make_edges(["a"], "is_a", ["b"], "x"))
    []
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    loops = edges[edges["source"] == edges["target"]]
    if len(loops):
        return [loops["source"].iloc[0]]
    index = pd.Index(pd.unique(pd.concat([edges["source"], edges["target"]])))
    if len(index) == 0:
        return []
    src, dst = index.get_indexer(edges["source"]), index.get_indexer(edges["target"])
    matrix = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(len(index),) * 2)
    _, labels = connected_components(matrix, directed=True, connection="strong")
    sizes = np.bincount(labels)
    if sizes.max() < 2:
        return []
    members = set(np.flatnonzero(labels == int(np.argmax(sizes))).tolist())
    successors: dict[int, list[int]] = {}
    for s, d in zip(src, dst):
        if s in members and d in members:
            successors.setdefault(int(s), []).append(int(d))
    start = min(members)
    path, seen, node = [start], {start: 0}, start
    while True:  # inside a strongly connected component every walk returns to a visited node
        node = successors[node][0]
        if node in seen:
            return [str(index[i]) for i in path[seen[node] :]]
        seen[node] = len(path)
        path.append(node)
