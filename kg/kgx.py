"""Export and import a :class:`~kg.graph.KnowledgeGraph` as KGX TSV (Biolink model).

`KGX <https://biolink.github.io/kgx/kgx_format.html>`_ is how Biolink-model graphs are
exchanged (Monarch, RTX-KG2, Translator knowledge providers): a ``nodes.tsv`` with ``id`` and
``category`` and an ``edges.tsv`` with ``id, subject, predicate, object, knowledge_level,
agent_type, primary_knowledge_source``; multivalued fields are joined with ``|``, and the files
are read without CSV quoting (``quoting=QUOTE_NONE``), so a value can hold no tab or newline.

:func:`write_kgx` maps node types to Biolink categories (:data:`kg.biolink.CATEGORIES`, GO
terms by their namespace) and relations to Biolink predicates (:data:`kg.biolink.PREDICATES`,
one table that also says each relation's knowledge level and agent type); file provenance
becomes an ``infores:`` CURIE (:data:`kg.biolink.INFORES`). kgfusion's own type, relation, namespace, provenance and alt ids travel in
``kgfusion_*`` columns (allowed by KGX as non-Biolink properties), so :func:`read_kgx` gives the
same graph back, except what TSV cannot tell apart: an empty string or list is read as absent.
Files made elsewhere are read by their categories and predicates. Graph metadata is not kept.
:func:`validate_kgx` checks a folder against the KGX specification and the Biolink model.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kg._kgx_read import kgx_files, read_kgx
from kg._kgx_validate import validate_kgx
from kg._source import PathLike
from kg.biolink import (
    CATEGORIES,
    GENERIC_CATEGORY,
    GO_CATEGORIES,
    PREDICATES,
    UNKNOWN_PREDICATE,
    infores_of,
)
from kg.export import _atomic_open
from kg.graph import KnowledgeGraph

__all__ = ["kgx_files", "read_kgx", "validate_kgx", "write_kgx"]

logger = logging.getLogger(__name__)

NODE_FILE, EDGE_FILE = "nodes.tsv", "edges.tsv"
_EDGE_FIELDS = ("id", "subject", "predicate", "object") + (
    "knowledge_level",
    "agent_type",
    "primary_knowledge_source",
    "kgfusion_relation",
    "kgfusion_provenance",
)
OnInvalidText = Literal["replace", "raise"]


# ------------------------------------------------------------------------------- writing
def write_kgx(
    kg: KnowledgeGraph, folder: PathLike, *, on_invalid_text: OnInvalidText = "replace"
) -> tuple[Path, Path]:
    """Write ``kg`` as KGX TSV: ``folder/nodes.tsv`` and ``folder/edges.tsv``.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph to write.
    folder : str or Path
        Output folder (created); the two files in it are replaced atomically.
    on_invalid_text : {"replace", "raise"}
        KGX TSV cannot hold tabs or line breaks in a value, nor ``|`` in one item of a list:
        replace them by a space (counted in a warning), or raise a :class:`ValueError`
        (default: ``"replace"``).

    Returns
    -------
    tuple of Path
        The nodes and edges files.

    Examples
    --------
    >>> import tempfile
    >>> from kg.schema import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "NCBIGene:7"], ["go_term", "gene"], "go.obo",
    ...                                namespace=["biological_process", None]),
    ...                     make_edges(["NCBIGene:7"], "involved_in", ["GO:1"], "gene2go"))
    >>> nodes, edges = write_kgx(kg, tempfile.mkdtemp())
    >>> pd.read_csv(nodes, sep="\\t")["category"].tolist()
    ['biolink:BiologicalProcess', 'biolink:Gene']
    >>> pd.read_csv(edges, sep="\\t").loc[0, ["predicate", "primary_knowledge_source"]].tolist()
    ['biolink:actively_involved_in', 'infores:goa']
    >>> read_kgx(nodes.parent).edges["relation"].tolist()
    ['involved_in']
    """
    if on_invalid_text not in ("replace", "raise"):
        msg = f"The 'on_invalid_text' parameter of write_kgx must be 'replace' or 'raise'. Got {on_invalid_text!r} instead."
        raise ValueError(msg)
    fixed: Counter[str] = Counter()
    clean = _Cleaner(on_invalid_text, fixed)
    folder = Path(folder)
    nodes, edges = _node_frame(kg, clean), _edge_frame(kg, clean)
    if fixed:
        logger.warning(
            "KGX TSV cannot hold tabs, line breaks or '|' inside list items: replaced by a space "
            "in %s",
            ", ".join(f"{n} {column} value(s)" for column, n in sorted(fixed.items())),
        )
    paths = folder / NODE_FILE, folder / EDGE_FILE
    for frame, path in zip((nodes, edges), paths):
        with _atomic_open(path, "w") as stream:
            frame.to_csv(stream, sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n")
    return paths


def _infores(provenance: pd.Series) -> pd.Series:
    """:func:`infores_of` of each value, computed once per distinct value."""
    codes, uniques = pd.factorize(provenance.to_numpy(dtype=object), use_na_sentinel=False)
    curies = np.array([infores_of(p) for p in uniques], dtype=object)
    return pd.Series(curies[codes], index=provenance.index, dtype=object)


class _Cleaner:
    """Makes text fit KGX TSV (no tab or line break; no ``|`` inside list items)."""

    _BREAKS = re.compile(r"[\t\r\n]")
    _ITEM = re.compile(r"[\t\r\n|]")

    def __init__(self, policy: OnInvalidText, counts: Counter[str]) -> None:
        self.policy, self.counts = policy, counts

    def text(self, values: pd.Series, column: str) -> pd.Series:
        strings = values.astype(object).where(values.notna(), None)
        bad = strings.str.contains(self._BREAKS, na=False)
        return self._fix(strings, bad.astype(bool), column, self._BREAKS)

    def lists(self, values: pd.Series, column: str) -> pd.Series:
        def join(items: object) -> str | None:
            if items is None or (isinstance(items, float) and np.isnan(items)):
                return None
            items = [str(i) for i in items]  # type: ignore[union-attr]
            if not items:
                return None
            if any(self._ITEM.search(i) for i in items):
                if self.policy == "raise":
                    msg = f"{column} item {next(i for i in items if self._ITEM.search(i))!r} holds a tab, line break or '|', which KGX TSV cannot carry"
                    raise ValueError(msg)
                self.counts[column] += 1
                items = [self._ITEM.sub(" ", i) for i in items]
            return "|".join(items)

        return values.map(join)

    def _fix(self, values: pd.Series, bad: pd.Series, column: str, regex: re.Pattern) -> pd.Series:
        if not bad.any():
            return values
        if self.policy == "raise":
            msg = f"{column} value {values[bad].iloc[0]!r} holds a tab or line break, which KGX TSV cannot carry"
            raise ValueError(msg)
        self.counts[column] += int(bad.sum())
        return values.where(~bad, values[bad].map(lambda v: regex.sub(" ", str(v))))


def _node_frame(kg: KnowledgeGraph, clean: _Cleaner) -> pd.DataFrame:
    n = kg.nodes
    types = n["type"].astype(object)
    go = n["namespace"].map(GO_CATEGORIES).where(types == "go_term")
    category = types.map(CATEGORIES).fillna(go).fillna(GENERIC_CATEGORY)
    provenance = clean.text(n["provenance"], "provenance")
    frame = pd.DataFrame(
        {
            "id": clean.text(pd.Series(n.index, index=n.index, dtype=object), "id"),
            "category": category,
            "name": clean.text(n["name"], "name"),
            "synonym": clean.lists(n["synonyms"], "synonym"),
            "xref": clean.lists(n["xrefs"], "xref"),
            "provided_by": _infores(provenance).where(provenance.notna(), None),
            "deprecated": np.where(n["obsolete"].to_numpy(dtype=bool), "true", "false"),
            "kgfusion_type": clean.text(types, "type"),
            "kgfusion_namespace": clean.text(n["namespace"], "namespace"),
            "kgfusion_provenance": provenance,
            "kgfusion_alt_ids": clean.lists(n["alt_ids"], "kgfusion_alt_ids"),
        }
    )
    return frame.reset_index(drop=True)


def _edge_frame(kg: KnowledgeGraph, clean: _Cleaner) -> pd.DataFrame:
    e = kg.edges
    relation = clean.text(e["relation"], "relation")
    table = {r: PREDICATES.get(r, UNKNOWN_PREDICATE) for r in relation.unique()}
    parts = [relation.map({r: v[i] for r, v in table.items()}) for i in range(3)]
    unknown = sorted(r for r in table if r not in PREDICATES)
    if unknown:
        logger.info(
            "relations without a Biolink predicate, written as biolink:related_to: %s", unknown
        )
    source, target = clean.text(e["source"], "source"), clean.text(e["target"], "target")
    provenance = clean.text(e["provenance"], "provenance")
    keys = source + "\t" + relation + "\t" + target
    repeat = keys.groupby(keys).cumcount()  # the same triple twice keeps two ids
    keys = keys.where(repeat == 0, keys + "\t" + repeat.astype(str))
    hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()  # 64 bits, vectorised
    ids = pd.Series(np.char.mod("%016x", hashes), dtype=object).radd("urn:kgfusion:edge:")
    if ids.duplicated().any():  # a 64-bit collision (~1e-8 for a million edges): number them
        ids = ids + ":" + pd.Series(np.arange(len(ids)).astype(str), dtype=object)
    frame = pd.DataFrame(
        {
            "id": ids,
            "subject": source,
            "predicate": parts[0],
            "object": target,
            "knowledge_level": parts[1],
            "agent_type": parts[2],
            "primary_knowledge_source": _infores(provenance),
            "kgfusion_relation": relation,
            "kgfusion_provenance": provenance,
        },
        columns=list(_EDGE_FIELDS),
    )
    return frame.reset_index(drop=True)
