"""Gene sets and pathways: GMT files (Reactome, MSigDB) and Reactome's pathway and hierarchy
tables.

:func:`read_gmt` gives ``gene --member_of--> set`` edges (member symbols resolved by a
:class:`~kg.normalize.GeneNormalizer`); :func:`read_reactome_pathways` the pathway nodes and
their ``child --part_of--> parent`` hierarchy.
"""

from __future__ import annotations

import csv
import logging
from typing import TYPE_CHECKING

import pandas as pd

from kg._exceptions import ParseError
from kg._source import OnDangling, PathLike, provenance_of, types_of_prefix
from kg._table_io import (
    OnUnknown,
    annotation_graph,
    check_names,
    read_headerless,
    require_lines,
    split_fields,
)
from kg._textio import read_lines
from kg.graph import KnowledgeGraph, make_edges, make_nodes
from kg.normalize import MAPPED_STATUSES

if TYPE_CHECKING:
    from kg.normalize import GeneNormalizer

__all__ = ["read_gmt", "read_reactome_pathways"]

logger = logging.getLogger("kg.tables")  # all table readers log as kg.tables


def read_gmt(
    path: PathLike,
    genes: GeneNormalizer,
    *,
    relation: str = "member_of",
    node_type: str = "pathway",
    on_unknown: OnUnknown = "drop",
    provenance: str | None = None,
) -> KnowledgeGraph:
    """Gene sets from a GMT file as ``gene --member_of--> set`` edges.

    A line is ``name <TAB> description-or-id <TAB> gene ...``. When the second field is a
    Reactome stable id (``R-HSA-...``) the set id is ``reactome:R-HSA-...`` and its name the first
    field (Reactome's GMTs); otherwise the id is ``msigdb:<name>`` (MSigDB's GMTs).

    Parameters
    ----------
    genes : GeneNormalizer
        Resolves member symbols to ``NCBIGene`` ids.
    on_unknown : {"raise", "drop"}
        Symbols that resolve to no gene, or ambiguously, raise or are dropped with a logged
        count (default: ``"drop"``).

    Raises
    ------
    ParseError
        A file without gene set lines, a line with fewer than 3 fields, or an empty set name
        (names the line). A set that lists no genes is left out with a logged warning.
    """
    lines = read_lines(path)
    require_lines(path, lines, "gene set lines 'name<TAB>description<TAB>gene...'")
    fields = split_fields(lines.str.rstrip("\r"), ["name", "second", "members"])
    name, second = fields["name"].str.strip(), fields["second"].str.strip()
    bad = fields["members"].isna() | (name.fillna("") == "")
    if bad.any():
        number = int(bad.idxmax())
        spaces = "\t" not in lines[number] and " " in lines[number].strip()
        hint = "; fields must be separated by tabs, not spaces" if spaces else ""
        msg = f"GMT line needs 'name<TAB>description<TAB>gene...' (at least 3 fields){hint}"
        raise ParseError(msg, path, number)
    set_ids = ("reactome:" + second).where(second.str.startswith("R-"), "msigdb:" + name)
    check_names(path, set_ids, name)
    members = fields["members"].str.split("\t").explode().str.strip()
    members = members[members != ""]
    _warn_empty_sets(path, name[~name.index.isin(members.index)])
    table = pd.DataFrame(
        {"target": set_ids[members.index], "target_name": name[members.index], "symbol": members}
    )
    resolved = genes.resolve_many(pd.unique(table["symbol"]).tolist()).set_index("query")
    status = table["symbol"].map(resolved["status"])
    known = status.isin(list(MAPPED_STATUSES))
    if not known.all():
        bad_members = table[~known]
        if on_unknown == "raise":
            msg = f"gene {bad_members['symbol'].iloc[0]!r} is {status[~known].iloc[0]}; {len(bad_members)} member(s) unresolved"
            raise ParseError(msg, path, int(bad_members.index[0]))
        logger.info(
            "%s: dropped %d member(s) with unresolved symbols, e.g. %s",
            path,
            len(bad_members),
            bad_members["symbol"].head(3).tolist(),
        )
    table = table[known]
    frame = pd.DataFrame(
        {
            "source": table["symbol"].map(resolved["id"]),
            "relation": relation,
            "target": table["target"],
            "target_name": table["target_name"],
        }
    )
    return annotation_graph(
        frame, "gene", node_type, provenance or provenance_of(path), "gmt", path
    )


def _warn_empty_sets(path: PathLike, names: pd.Series) -> None:
    """Log the gene sets (name by line number) that list no genes and are left out."""
    if len(names):
        where = ", ".join(f"{path}:{line} {name!r}" for line, name in names.head(3).items())
        logger.warning(
            "%s: left out %d gene set(s) that list no genes: %s", path, len(names), where
        )


def read_reactome_pathways(
    names: PathLike,
    hierarchy: PathLike | None = None,
    *,
    species: str | None = "Homo sapiens",
    on_dangling: OnDangling = "raise",
    provenance: str | None = None,
) -> KnowledgeGraph:
    """Reactome pathways (``id, name, species``) and hierarchy (``parent, child``) as
    ``child --part_of--> parent`` edges.

    Raises
    ------
    ParseError
        A file that is not UTF-8 text, a corrupt gzip stream, or a malformed row.
    DanglingReferenceError
        With ``on_dangling="raise"``, a hierarchy row naming a pathway absent from ``names``.
    """
    provenance = provenance or provenance_of(names)
    table = read_headerless(names, ["id", "name", "species"], quoting=csv.QUOTE_NONE)
    if species is not None:
        table = table[table["species"] == species]
    nodes = make_nodes("reactome:" + table["id"], "pathway", provenance, name=table["name"])
    edges = make_edges([], "part_of", [], provenance)
    if hierarchy is not None:
        pairs = read_headerless(hierarchy, ["parent", "child"])
        edges = make_edges(
            "reactome:" + pairs["child"],
            "part_of",
            "reactome:" + pairs["parent"],
            provenance_of(hierarchy),
        )
    kg = KnowledgeGraph(
        nodes,
        edges,
        {"sources": [{"path": str(names), "format": "reactome", "provenance": provenance}]},
        validate=False,
    )
    return _apply_dangling(kg, on_dangling, hierarchy)


def _apply_dangling(
    kg: KnowledgeGraph, on_dangling: OnDangling, path: PathLike | None
) -> KnowledgeGraph:
    edges = kg.edges
    dangling = ~(edges["source"].isin(kg.nodes.index) & edges["target"].isin(kg.nodes.index))
    if not dangling.any():
        return kg
    if on_dangling == "raise":
        kg.validate()  # raises DanglingReferenceError naming the edge
    if on_dangling == "drop":
        logger.warning("%s: dropped %d edge(s) to undeclared nodes", path, int(dangling.sum()))
        return KnowledgeGraph(kg.nodes, edges[~dangling], kg.metadata, validate=False)
    missing = pd.unique(
        pd.concat([edges["source"], edges["target"]])[lambda s: ~s.isin(kg.nodes.index)]
    )
    extra = make_nodes(missing, types_of_prefix(missing), kg.edges["provenance"].iloc[0])
    return KnowledgeGraph(pd.concat([kg.nodes, extra]), edges, kg.metadata, validate=False)
