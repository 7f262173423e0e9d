"""Read annotation and edge tables (gene2go, GAF, GMT, HPO, Reactome, miRNA targets) via pandas.

Each reader returns a standalone :class:`~kg.graph.KnowledgeGraph`: the annotation edges plus
the nodes at both ends (term nodes may carry only an id and type until merged with their
ontology by :func:`kg.graph.compose`). Genes are keyed ``NCBIGene:<entrez>``; symbols are turned
into those ids by a :class:`kg.normalize.GeneNormalizer`.
"""

from __future__ import annotations

import csv
import logging
from typing import TYPE_CHECKING, Literal

import pandas as pd

from kg._exceptions import ParseError
from kg._source import OnDangling, PathLike, open_text, provenance_of, type_of_prefix
from kg.graph import KnowledgeGraph, make_edges, make_nodes
from kg.normalize import mirna_id

if TYPE_CHECKING:
    from kg.normalize import GeneNormalizer

__all__ = [
    "read_gene2go",
    "read_gaf",
    "read_gmt",
    "read_hpo_annotations",
    "read_reactome_pathways",
    "read_mirna_targets",
    "read_edge_table",
    "GO_ASPECT_RELATIONS",
]

logger = logging.getLogger(__name__)

#: Relation of a gene → GO annotation by the term's aspect (as in GAF 2.2 / GO-CAM).
GO_ASPECT_RELATIONS = {
    "molecular_function": "enables",
    "biological_process": "involved_in",
    "cellular_component": "located_in",
    "F": "enables",
    "P": "involved_in",
    "C": "located_in",
    "Function": "enables",
    "Process": "involved_in",
    "Component": "located_in",
}
OnUnknown = Literal["raise", "drop"]


def _gene_ids(entrez: pd.Series) -> pd.Series:
    return "NCBIGene:" + entrez.astype("int64").astype(str)


def _annotation_graph(
    frame: pd.DataFrame, source_type: str, target_type: str, provenance: str, fmt: str, path: PathLike
) -> KnowledgeGraph:
    """Graph of an annotation table with columns ``source, relation, target[, source_name, target_name]``."""
    frame = frame.drop_duplicates(subset=["source", "relation", "target"], ignore_index=True)
    ends = []
    for end, node_type in (("source", source_type), ("target", target_type)):
        names = f"{end}_name"
        first = frame.drop_duplicates(end)
        ends.append(
            make_nodes(
                first[end], node_type, provenance, name=first[names] if names in first else None
            )
        )
    edges = make_edges(frame["source"], frame["relation"], frame["target"], provenance)
    metadata = {"sources": [{"path": str(path), "format": fmt, "provenance": provenance}]}
    nodes = pd.concat(ends)
    nodes = nodes[~nodes.index.duplicated()]  # a node at both ends (gene → gene tables)
    return KnowledgeGraph(nodes, edges, metadata, validate=False)


def read_gene2go(path: PathLike, *, provenance: str | None = None) -> KnowledgeGraph:
    """Gene → GO annotations from a gene2go-style TSV.

    Accepts NCBI's ``gene2go`` (``#tax_id GeneID GO_ID Evidence Qualifier GO_term PubMed
    Category``) and the tidy form ``entrez_id symbol go_id evidence namespace``. Relations follow
    the term's aspect (:data:`GO_ASPECT_RELATIONS`); NCBI ``NOT`` qualifiers are skipped.

    Examples
    --------
    >>> kg = read_gene2go("tests/data/mini_gene2go.tsv")
    >>> sorted(kg.relations)
    ['enables', 'involved_in']
    """
    table = pd.read_csv(path, sep="\t", dtype=str)
    table.columns = [c.lstrip("#") for c in table.columns]
    aliases = {"GeneID": "entrez_id", "GO_ID": "go_id", "Category": "namespace", "Qualifier": "qualifier"}
    table = table.rename(columns=aliases)
    missing = {"entrez_id", "go_id", "namespace"} - set(table.columns)
    if missing:
        msg = f"gene2go table lacks columns {sorted(missing)}; found {list(table.columns)}"
        raise ParseError(msg, path, 1)
    if "qualifier" in table:
        table = table[~table["qualifier"].fillna("").str.startswith("NOT")]
    relation = table["namespace"].map(GO_ASPECT_RELATIONS)
    _check_values(path, table, relation.isna(), "namespace", "a GO aspect", offset=2)
    frame = pd.DataFrame(
        {
            "source": _gene_ids(_numeric(path, table, "entrez_id", offset=2)),
            "relation": relation,
            "target": table["go_id"],
            "source_name": table.get("symbol"),
        }
    )
    return _annotation_graph(frame, "gene", "go_term", provenance or provenance_of(path), "gene2go", path)


_GAF_COLUMNS = 17


def read_gaf(
    path: PathLike, *, genes: GeneNormalizer | None = None, provenance: str | None = None
) -> KnowledgeGraph:
    """Gene product → GO annotations from a GAF 2.x file.

    The relation is the GAF 2.2 qualifier (``enables``, ``involved_in``, ``part_of``, ...) or, for
    GAF 2.0/2.1 files, the aspect's default; ``NOT`` annotations are skipped. Gene products are
    ``DB:ID`` CURIEs typed ``protein`` (UniProtKB) or ``gene``; with ``genes`` given, symbols are
    resolved to ``NCBIGene`` ids where unambiguous.

    Raises
    ------
    ParseError
        A data line without exactly 17 tab-separated columns (names the line).
    """
    rows = []
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("!") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) not in (_GAF_COLUMNS, _GAF_COLUMNS - 2):  # GAF 1.0 had 15
                msg = f"GAF line has {len(fields)} tab-separated columns; GAF 2.x has {_GAF_COLUMNS}"
                raise ParseError(msg, path, number)
            rows.append(fields[:9])
    table = pd.DataFrame(rows, columns=["db", "db_id", "symbol", "qualifier", "go_id", "ref", "evidence", "with", "aspect"])
    qualifiers = table["qualifier"].str.split("|")
    negated = qualifiers.map(lambda q: "NOT" in q)
    table, qualifiers = table[~negated], qualifiers[~negated]
    default = table["aspect"].map(GO_ASPECT_RELATIONS)
    explicit = qualifiers.map(lambda q: next((x for x in q if x and x != "NOT"), None))
    relation = explicit.where(explicit.notna() & (table["qualifier"] != ""), default)
    source = table["db"] + ":" + table["db_id"]
    node_type = "protein" if (table["db"] == "UniProtKB").all() else "gene"
    if genes is not None:
        resolved = genes.resolve_many(table["symbol"].tolist())
        mapped = resolved["status"].isin(["symbol", "entrez", "ensembl", "uniprot", "alias"]).to_numpy()
        source = source.where(~mapped, resolved["id"].to_numpy())
        node_type = "gene"
    frame = pd.DataFrame({"source": source, "relation": relation, "target": table["go_id"], "source_name": table["symbol"]})
    return _annotation_graph(frame, node_type, "go_term", provenance or provenance_of(path), "gaf", path)


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
        A line with fewer than 3 fields, or an empty set name (names the line).
    """
    records = []
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 3 or not fields[0].strip():
                msg = "GMT line needs 'name<TAB>description<TAB>gene...' (at least 3 fields)"
                raise ParseError(msg, path, number)
            name, second = fields[0].strip(), fields[1].strip()
            set_id = f"reactome:{second}" if second.startswith("R-") else f"msigdb:{name}"
            records.extend((set_id, name, g.strip(), number) for g in fields[2:] if g.strip())
    table = pd.DataFrame(records, columns=["target", "target_name", "symbol", "line"])
    resolved = genes.resolve_many(pd.unique(table["symbol"]).tolist()).set_index("query")
    status = table["symbol"].map(resolved["status"])
    known = status.isin(["symbol", "entrez", "ensembl", "uniprot", "alias"])
    if not known.all():
        bad = table[~known]
        if on_unknown == "raise":
            row = bad.iloc[0]
            msg = f"gene {row['symbol']!r} is {status[~known].iloc[0]}; {len(bad)} member(s) unresolved"
            raise ParseError(msg, path, int(row["line"]))
        logger.info("%s: dropped %d member(s) with unresolved symbols, e.g. %s", path, len(bad), bad["symbol"].head(3).tolist())
    table = table[known]
    frame = pd.DataFrame(
        {
            "source": table["symbol"].map(resolved["id"]),
            "relation": relation,
            "target": table["target"],
            "target_name": table["target_name"],
        }
    )
    return _annotation_graph(frame, "gene", node_type, provenance or provenance_of(path), "gmt", path)


def read_hpo_annotations(path: PathLike, *, provenance: str | None = None) -> KnowledgeGraph:
    """HPO ``genes_to_phenotype.txt``: ``gene --has_phenotype--> HP term`` edges."""
    table = pd.read_csv(path, sep="\t", dtype=str, comment=None)
    table.columns = [c.lstrip("#") for c in table.columns]
    missing = {"ncbi_gene_id", "hpo_id"} - set(table.columns)
    if missing:
        msg = f"genes_to_phenotype table lacks columns {sorted(missing)}; found {list(table.columns)}"
        raise ParseError(msg, path, 1)
    frame = pd.DataFrame(
        {
            "source": _gene_ids(_numeric(path, table, "ncbi_gene_id", offset=2)),
            "relation": "has_phenotype",
            "target": table["hpo_id"],
            "source_name": table.get("gene_symbol"),
            "target_name": table.get("hpo_name"),
        }
    )
    return _annotation_graph(frame, "gene", "phenotype", provenance or provenance_of(path), "hpo_annotations", path)


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
    DanglingReferenceError
        With ``on_dangling="raise"``, a hierarchy row naming a pathway absent from ``names``.
    """
    provenance = provenance or provenance_of(names)
    table = pd.read_csv(names, sep="\t", header=None, names=["id", "name", "species"], dtype=str, quoting=csv.QUOTE_NONE)
    if species is not None:
        table = table[table["species"] == species]
    nodes = make_nodes("reactome:" + table["id"], "pathway", provenance, name=table["name"])
    edges = make_edges([], "part_of", [], provenance)
    if hierarchy is not None:
        pairs = pd.read_csv(hierarchy, sep="\t", header=None, names=["parent", "child"], dtype=str)
        edges = make_edges("reactome:" + pairs["child"], "part_of", "reactome:" + pairs["parent"], provenance_of(hierarchy))
    kg = KnowledgeGraph(nodes, edges, {"sources": [{"path": str(names), "format": "reactome", "provenance": provenance}]}, validate=False)
    return _apply_dangling(kg, on_dangling, hierarchy)


def read_mirna_targets(
    path: PathLike,
    *,
    mirna_column: str = "miRNA",
    gene_column: str = "Target Gene (Entrez ID)",
    relation: str = "targets",
    provenance: str | None = None,
) -> KnowledgeGraph:
    """miRNA → target gene edges (miRTarBase CSV by default) as ``mirna --targets--> gene``.

    miRNA nodes are precursor-level stems (``mirna:hsa-mir-21``, see :func:`kg.normalize.mirna_id`)
    so that precursor (``hsa-mir-21``) and mature (``hsa-miR-21-5p``) features reach one node;
    the mature names seen are kept as the node's synonyms.
    """
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    missing = {mirna_column, gene_column} - set(table.columns)
    if missing:
        msg = f"miRNA target table lacks columns {sorted(missing)}; found {list(table.columns)}"
        raise ParseError(msg, path, 1)
    ids = table[mirna_column].map(mirna_id)
    _check_values(path, table, ids.isna(), mirna_column, "a miRNA name (e.g. hsa-miR-21-5p)", offset=2)
    provenance = provenance or provenance_of(path)
    frame = pd.DataFrame({"source": ids, "relation": relation, "target": _gene_ids(_numeric(path, table, gene_column, offset=2))})
    kg = _annotation_graph(frame, "mirna", "gene", provenance, "mirna_targets", path)
    synonyms = table.groupby(ids)[mirna_column].agg(lambda s: sorted(set(s)))
    kg.nodes.loc[synonyms.index, "synonyms"] = pd.Series(synonyms.tolist(), index=synonyms.index, dtype=object)
    kg.nodes.loc[synonyms.index, "name"] = synonyms.index.str.removeprefix("mirna:")
    return kg


def read_edge_table(
    path: PathLike,
    *,
    source: str = "source",
    relation: str = "relation",
    target: str = "target",
    source_type: str = "auto",
    target_type: str = "auto",
    sep: str | None = None,
    provenance: str | None = None,
) -> KnowledgeGraph:
    """A generic edge table with ``source, relation, target`` columns (CSV or TSV).

    Node types come from the ``*_type`` arguments, or from the id prefix when ``"auto"``.
    """
    sep = sep or ("," if str(path).removesuffix(".gz").endswith(".csv") else "\t")
    table = pd.read_csv(path, sep=sep, dtype=str)
    missing = {source, relation, target} - set(table.columns)
    if missing:
        msg = f"edge table lacks columns {sorted(missing)}; found {list(table.columns)}"
        raise ParseError(msg, path, 1)
    empty = table[[source, relation, target]].isna().any(axis=1)
    _check_values(path, table, empty, source, "non-empty source, relation and target", offset=2)
    provenance = provenance or provenance_of(path)
    ends = pd.concat([table[source], table[target]]).drop_duplicates()
    is_source = ends.isin(table[source])
    types = [
        type_of_prefix(e) if (source_type if s else target_type) == "auto" else (source_type if s else target_type)
        for e, s in zip(ends, is_source)
    ]
    nodes = make_nodes(ends, types, provenance)
    edges = make_edges(table[source], table[relation], table[target], provenance)
    edges = edges.drop_duplicates(subset=["source", "relation", "target"], ignore_index=True)
    return KnowledgeGraph(nodes, edges, {"sources": [{"path": str(path), "format": "edges", "provenance": provenance}]}, validate=False)


def _numeric(path: PathLike, table: pd.DataFrame, column: str, offset: int) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    _check_values(path, table, values.isna(), column, "an integer id", offset)
    return values


def _check_values(path: PathLike, table: pd.DataFrame, bad: pd.Series, column: str, expected: str, offset: int) -> None:
    """Raise a :class:`ParseError` naming the first row where ``bad`` holds."""
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        value = table[column].iloc[position]
        msg = f"column {column!r} holds {value!r}; expected {expected} ({int(bad.sum())} bad row(s))"
        raise ParseError(msg, path, position + offset)


def _apply_dangling(kg: KnowledgeGraph, on_dangling: OnDangling, path: PathLike | None) -> KnowledgeGraph:
    edges = kg.edges
    dangling = ~(edges["source"].isin(kg.nodes.index) & edges["target"].isin(kg.nodes.index))
    if not dangling.any():
        return kg
    if on_dangling == "raise":
        kg.validate()  # raises DanglingReferenceError naming the edge
    if on_dangling == "drop":
        logger.warning("%s: dropped %d edge(s) to undeclared nodes", path, int(dangling.sum()))
        return KnowledgeGraph(kg.nodes, edges[~dangling], kg.metadata, validate=False)
    missing = pd.unique(pd.concat([edges["source"], edges["target"]])[lambda s: ~s.isin(kg.nodes.index)])
    extra = make_nodes(missing, [type_of_prefix(m) for m in missing], kg.edges["provenance"].iloc[0])
    return KnowledgeGraph(pd.concat([kg.nodes, extra]), edges, kg.metadata, validate=False)
