"""Check a KGX TSV folder against the KGX specification and the Biolink model schema.

The ``kgx`` library's validator cannot be installed beside kgfusion's pins (``kgx`` 2.7 needs
``click<8.2`` while the ``linkml`` it needs wants ``click>=8.2``; ``kgx`` 2.6 downgrades numpy
to 1.26 and pandas, and both pull ``pytest-logging``, a pytest plugin that sets the root logger
to level 1 with a stderr handler). So :func:`validate_kgx` implements what that validator
checks for TSV, reading the Biolink model from the ``biolink-model`` package's schema YAML
(``pip install 'kgfusion[interop]'``, or ``pip install --no-deps biolink-model``: only its
data files are used).
"""

from __future__ import annotations

import csv
import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from kg._source import PathLike

__all__ = ["biolink_schema", "validate_kgx"]

_CURIE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*:[^\s|]+$")
_NODE_REQUIRED = ("id", "category")
_EDGE_REQUIRED = ("id", "subject", "predicate", "object", "knowledge_level", "agent_type")
_EDGE_EXPECTED = _EDGE_REQUIRED + ("primary_knowledge_source",)


@cache
def biolink_schema() -> dict[str, Any]:
    """The Biolink model (``biolink_model/schema/biolink_model.yaml``), parsed once.

    Raises
    ------
    ImportError
        If the ``biolink-model`` package is not installed (it names the extra to install).
    """
    spec = importlib.util.find_spec("biolink_model")
    locations = list(spec.submodule_search_locations or []) if spec else []
    paths = [Path(p) / "schema" / "biolink_model.yaml" for p in locations]
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        msg = "validating against the Biolink model needs the biolink-model package: pip install 'kgfusion[interop]'"
        raise ImportError(msg)
    import yaml

    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def _camel(name: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in name.split(" "))


def _descendants(elements: dict[str, Any], root: str) -> set[str]:
    """Names under ``root`` by ``is_a`` (``root`` included)."""
    children: dict[str, list[str]] = {}
    for name, element in elements.items():
        children.setdefault((element or {}).get("is_a"), []).append(name)
    found, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(children.get(name, []))
    return found


def _usable(element: dict[str, Any] | None) -> bool:
    element = element or {}
    return not (element.get("mixin") or element.get("abstract") or element.get("deprecated"))


@cache
def _vocabulary() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Categories, predicates, knowledge levels and agent types a KGX file may use."""
    schema = biolink_schema()
    classes, slots, enums = schema["classes"], schema["slots"], schema["enums"]
    categories = {
        f"biolink:{_camel(c)}"
        for c in _descendants(classes, "named thing")
        if _usable(classes.get(c))
    }
    predicates = {
        "biolink:" + s.replace(" ", "_")
        for s in _descendants(slots, "related to")
        if _usable(slots.get(s))
    }
    levels = set(enums["KnowledgeLevelEnum"]["permissible_values"])
    agents = set(enums["AgentTypeEnum"]["permissible_values"])
    return frozenset(categories), frozenset(predicates), frozenset(levels), frozenset(agents)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(
        path,
        sep="\t",
        dtype=str,
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        lineterminator="\n",
    )


def _first(table: pd.DataFrame, bad: pd.Series, what: str, path: Path, column: str) -> str | None:
    if not bad.any():
        return None
    row = int(bad.to_numpy().nonzero()[0][0])
    return f"{path.name}:{row + 2}: {what} ({int(bad.sum())} row(s)); first: {table[column].iloc[row]!r}"


def validate_kgx(folder: PathLike, *, biolink: bool = True) -> list[str]:
    """Problems of the KGX TSV files ``folder/nodes.tsv`` and ``folder/edges.tsv``.

    Checked: the required columns (nodes ``id, category``; edges ``id, subject, predicate,
    object, knowledge_level, agent_type, primary_knowledge_source``), CURIE ids, unique node and
    edge ids, edge ends that are nodes, ``infores:`` knowledge sources; with ``biolink``, that
    every category is a Biolink class under ``NamedThing`` and every predicate a slot under
    ``related_to`` (neither mixin, abstract nor deprecated), and knowledge levels and agent
    types are values of their Biolink enums.

    Parameters
    ----------
    folder : str or Path
        Folder with ``nodes.tsv`` and ``edges.tsv``.
    biolink : bool
        Also check the terms against the Biolink model (default: ``True``; needs the
        ``interop`` extra).

    Returns
    -------
    list of str
        One line per problem, naming file and line; empty when the files are valid.

    Examples
    --------
    >>> import tempfile
    >>> from kg.graph import KnowledgeGraph
    >>> from kg.schema import make_edges, make_nodes
    >>> from kg.kgx import write_kgx
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "go.obo", namespace="biological_process"),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "go.obo"))
    >>> nodes, _ = write_kgx(kg, tempfile.mkdtemp())
    >>> validate_kgx(nodes.parent, biolink=False)
    []
    """
    folder = Path(folder)
    nodes_path, edges_path = folder / "nodes.tsv", folder / "edges.tsv"
    missing = [p.name for p in (nodes_path, edges_path) if not p.is_file()]
    if missing:
        return [f"{folder}: missing {missing}"]
    nodes, edges = _read(nodes_path), _read(edges_path)
    problems = [
        f"{path.name}:1: missing column {column!r}"
        for path, table, required in (
            (nodes_path, nodes, _NODE_REQUIRED),
            (edges_path, edges, _EDGE_EXPECTED),
        )
        for column in required
        if column not in table.columns
    ]
    if problems:
        return problems
    checks = [
        (nodes, ~nodes["id"].str.match(_CURIE), "node id is not a CURIE", nodes_path, "id"),
        (nodes, nodes["id"].duplicated(), "node id listed twice", nodes_path, "id"),
        (
            edges,
            edges["id"].duplicated() | (edges["id"] == ""),
            "edge id empty or repeated",
            edges_path,
            "id",
        ),
        (
            edges,
            ~edges["subject"].isin(nodes["id"]),
            "subject is not a node",
            edges_path,
            "subject",
        ),
        (edges, ~edges["object"].isin(nodes["id"]), "object is not a node", edges_path, "object"),
        (
            edges,
            ~edges["primary_knowledge_source"].str.match(r"^infores:[a-z0-9][a-z0-9.-]*$"),
            "primary_knowledge_source is not an infores CURIE",
            edges_path,
            "primary_knowledge_source",
        ),
    ]
    if biolink:
        categories, predicates, levels, agents = _vocabulary()
        category_ok = nodes["category"].map(lambda v: bool(v) and set(v.split("|")) <= categories)
        checks += [
            (nodes, ~category_ok, "category not a Biolink NamedThing class", nodes_path, "category"),
            (edges, ~edges["predicate"].isin(predicates), "predicate not a Biolink predicate", edges_path, "predicate"),
            (edges, ~edges["knowledge_level"].isin(levels), "knowledge_level not in KnowledgeLevelEnum", edges_path, "knowledge_level"),
            (edges, ~edges["agent_type"].isin(agents), "agent_type not in AgentTypeEnum", edges_path, "agent_type"),
        ]  # fmt: skip
    for table, bad, what, path, column in checks:
        problem = _first(table, bad, what, path, column)
        if problem is not None:
            problems.append(problem)
    return problems
