"""Gene → term annotation tables: NCBI gene2go and GAF (GO), HPO ``genes_to_phenotype``.

Each reader returns a standalone :class:`~kg.graph.KnowledgeGraph` of ``gene --relation--> term``
edges and the nodes at both ends (term nodes carry only an id and type until merged with their
ontology by :func:`kg.merge.compose`). Genes are keyed ``NCBIGene:<entrez>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kg._exceptions import ParseError
from kg._source import PathLike, provenance_of
from kg._table_io import (
    annotation_graph,
    check_names,
    check_values,
    entrez_curies,
    read_table,
    require_columns,
    require_lines,
    split_fields,
)
from kg._textio import read_lines
from kg.graph import KnowledgeGraph
from kg.normalize import MAPPED_STATUSES

if TYPE_CHECKING:
    from kg.normalize import GeneNormalizer

__all__ = ["GO_ASPECT_RELATIONS", "read_gaf", "read_gene2go", "read_hpo_annotations"]

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
    table = read_table(path, sep="\t")
    aliases = {
        "GeneID": "entrez_id",
        "GO_ID": "go_id",
        "Category": "namespace",
        "Qualifier": "qualifier",
    }
    table = table.rename(columns=aliases)
    require_columns(path, table, ["entrez_id", "go_id", "namespace"], "gene2go table")
    if "qualifier" in table:
        table = table[~table["qualifier"].fillna("").str.startswith("NOT")]
    relation = table["namespace"].map(GO_ASPECT_RELATIONS)
    check_values(path, table, relation.isna(), "namespace", "a GO aspect")
    frame = pd.DataFrame(
        {
            "source": entrez_curies(path, table, "entrez_id"),
            "relation": relation,
            "target": table["go_id"],
            "source_name": table.get("symbol"),
        }
    )
    check_names(path, frame["source"], frame["source_name"])
    return annotation_graph(
        frame, "gene", "go_term", provenance or provenance_of(path), "gene2go", path
    )


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
        A file without annotation lines, or a data line without exactly 17 tab-separated
        columns (names the line).
    """
    lines = read_lines(path, comment="!")
    require_lines(path, lines, "GAF annotation lines (17 tab-separated columns)")
    counts = lines.str.count("\t") + 1
    bad = ~counts.isin([_GAF_COLUMNS, _GAF_COLUMNS - 2])  # GAF 1.0 had 15
    if bad.any():
        number = int(bad.idxmax())
        msg = f"GAF line has {counts[number]} tab-separated columns; GAF 2.x has {_GAF_COLUMNS}"
        raise ParseError(msg, path, number)
    table = split_fields(
        lines,
        [
            "db",
            "db_id",
            "symbol",
            "qualifier",
            "go_id",
            "ref",
            "evidence",
            "with",
            "aspect",
            "rest",
        ],
    )
    qualifier = table["qualifier"].fillna("")
    table = table[~qualifier.str.contains(r"(?:^|\|)NOT(?:\||$)")]
    default = table["aspect"].map(GO_ASPECT_RELATIONS)
    check_values(path, table, default.isna(), "aspect", "P, F or C (column 9)")
    relation = table["qualifier"].str.extract(r"([^|]+)", expand=False).fillna(default)
    source = table["db"] + ":" + table["db_id"]
    check_names(path, source, table["symbol"])
    node_type = "protein" if (table["db"] == "UniProtKB").all() else "gene"
    if genes is not None:
        resolved = genes.resolve_many(table["symbol"].tolist())
        mapped = resolved["status"].isin(list(MAPPED_STATUSES)).to_numpy()
        source = source.where(~mapped, resolved["id"].to_numpy())
        node_type = "gene"
    frame = pd.DataFrame(
        {
            "source": source,
            "relation": relation,
            "target": table["go_id"],
            "source_name": table["symbol"],
        }
    )
    return annotation_graph(
        frame, node_type, "go_term", provenance or provenance_of(path), "gaf", path
    )


def read_hpo_annotations(path: PathLike, *, provenance: str | None = None) -> KnowledgeGraph:
    """HPO ``genes_to_phenotype.txt``: ``gene --has_phenotype--> HP term`` edges."""
    table = read_table(path, sep="\t")
    require_columns(path, table, ["ncbi_gene_id", "hpo_id"], "genes_to_phenotype table")
    frame = pd.DataFrame(
        {
            "source": entrez_curies(path, table, "ncbi_gene_id"),
            "relation": "has_phenotype",
            "target": table["hpo_id"],
            "source_name": table.get("gene_symbol"),
            "target_name": table.get("hpo_name"),
        }
    )
    check_names(path, frame["source"], frame["source_name"])
    check_names(path, frame["target"], frame["target_name"])
    return annotation_graph(
        frame, "gene", "phenotype", provenance or provenance_of(path), "hpo_annotations", path
    )
