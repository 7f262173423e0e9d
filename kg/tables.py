"""Read annotation and edge tables (gene2go, GAF, GMT, HPO, Reactome, miRNA targets) via pandas.

Each reader returns a standalone :class:`~kg.graph.KnowledgeGraph`: the annotation edges plus
the nodes at both ends (term nodes may carry only an id and type until merged with their
ontology by :func:`kg.merge.compose`). Genes are keyed ``NCBIGene:<entrez>``; symbols are turned
into those ids by a :class:`kg.normalize.GeneNormalizer`.

This module reads the generic edge tables (:func:`read_edge_table`, :func:`read_mirna_targets`)
and gathers every table reader under one name: gene → term annotations live in
:mod:`kg.gene_annotations` (gene2go, GAF, HPO), gene sets and pathways in :mod:`kg.gene_sets`
(GMT, Reactome), and the shared CSV plumbing and checks in ``kg._table_io``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kg._source import PathLike, provenance_of, types_of_prefix
from kg._table_io import (
    OnUnknown,
    annotation_graph,
    check_option,
    check_values,
    entrez_curies,
    log_dropped,
    not_entrez,
    read_table,
    require_columns,
)
from kg.gene_annotations import (
    GO_ASPECT_RELATIONS,
    read_gaf,
    read_gene2go,
    read_hpo_annotations,
)
from kg.gene_sets import read_gmt, read_reactome_pathways
from kg.graph import KnowledgeGraph, make_edges, make_nodes
from kg.mirna import SEPARATORS, mirna_id

__all__ = [
    "GO_ASPECT_RELATIONS",
    "read_edge_table",
    "read_gaf",
    "read_gene2go",
    "read_gmt",
    "read_hpo_annotations",
    "read_mirna_targets",
    "read_reactome_pathways",
]


def read_mirna_targets(
    path: PathLike,
    *,
    mirna_column: str = "miRNA",
    gene_column: str = "Target Gene (Entrez ID)",
    species_column: str | None = "Species (miRNA)",
    relation: str = "targets",
    on_invalid: OnUnknown = "raise",
    on_unknown: OnUnknown | None = None,
    provenance: str | None = None,
) -> KnowledgeGraph:
    """miRNA → target gene edges (miRTarBase CSV by default) as ``mirna --targets--> gene``.

    miRNA nodes are precursor-level stems (``mirna:hsa-mir-21``, see :func:`kg.normalize.mirna_id`)
    so that precursor (``hsa-mir-21``) and mature (``hsa-miR-21-5p``) features reach one node;
    the mature names seen are kept as the node's synonyms. An entry naming several miRNAs
    (``hsa-miR-27a-3p, hsa-miR-30b-5p``) gives an edge from each. Names without a species code
    (``miR-1``) take it from ``species_column`` when the table has one (``hsa`` → ``hsa-miR-1``).

    Parameters
    ----------
    on_invalid : {"raise", "drop"}
        A malformed row, one whose gene is not an Entrez id (or is empty) or whose entry names
        no miRNA (miRTarBase has two, ``MicroRNA‑3907`` and ``miRNA-143-5p``), raises, or is
        dropped with a logged warning (count, first line numbers); the count and lines of each
        kind go to the source's entry of ``metadata["sources"]`` as ``dropped`` (default:
        ``"raise"``).
    on_unknown : {"raise", "drop"}, optional
        What to do with entries that name no miRNA, overriding ``on_invalid`` for them (the
        older option, as the ``shared`` build preset passes it) (default: ``None``, as
        ``on_invalid``).

    Raises
    ------
    ParseError
        With ``on_invalid="raise"``, an entry that is not a miRNA name or a gene that is not an
        Entrez id (names the line).
    ValueError
        ``on_invalid`` or ``on_unknown`` is not one of the values above.

    Examples
    --------
    >>> kg = read_mirna_targets("tests/data/mini_mirtarbase.csv", on_invalid="drop")
    >>> kg.number_of_edges(), kg.metadata["sources"][0]["dropped"]["no_mirna"]["rows"]
    (5, 0)
    """
    check_option("read_mirna_targets", "on_invalid", on_invalid, ("raise", "drop"))
    check_option("read_mirna_targets", "on_unknown", on_unknown, ("raise", "drop", None))
    table = read_table(path, sep=",", encoding="utf-8-sig")
    require_columns(path, table, [mirna_column, gene_column], "miRNA target table")
    dropped = {}  # reason → {"rows", "lines"}, kept in the graph's source metadata
    if on_invalid == "drop":
        bad_gene = not_entrez(table[gene_column])
        dropped["gene_not_entrez"] = log_dropped(
            path, table.loc[bad_gene, gene_column], "row(s) whose gene is not an Entrez id"
        )
        table = table[~bad_gene]
    genes = entrez_curies(path, table, gene_column)
    # one row per miRNA of combined entries ("hsa-miR-27a-3p, hsa-miR-30b-5p"); index = table row
    names = table[mirna_column].str.split(SEPARATORS, regex=True).explode().str.strip()
    if species_column in table:
        prefixless = names.str.match(r"(?i)(?:mir|let|lin)[-\u2010-\u2015\u2212]").astype(bool)
        names = names.where(
            ~prefixless, table.loc[names.index, species_column].str.strip() + "-" + names
        )
    stems = pd.unique(names.dropna())
    ids = names.map(dict(zip(stems, map(mirna_id, stems))))
    unknown = ids.isna()
    if (on_unknown or on_invalid) == "raise":
        check_values(path, table, unknown, mirna_column, "a miRNA name (e.g. hsa-miR-21-5p)")
    else:
        dropped["no_mirna"] = log_dropped(path, names[unknown], "entr(ies) naming no miRNA")
        names, ids = names[~unknown], ids[~unknown]
    provenance = provenance or provenance_of(path)
    frame = pd.DataFrame({"source": ids, "relation": relation, "target": genes[names.index]})
    kg = annotation_graph(frame, "mirna", "gene", provenance, "mirna_targets", path)
    kg.metadata["sources"][0]["dropped"] = dropped
    synonyms = names.groupby(ids).agg(lambda s: sorted(set(s)))
    kg.nodes.loc[synonyms.index, "synonyms"] = pd.Series(
        synonyms.tolist(), index=synonyms.index, dtype=object
    )
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
    table = read_table(path, sep=sep)
    require_columns(path, table, [source, relation, target], "edge table")
    empty = table[[source, relation, target]].isna()
    if empty.any(axis=None):
        row = empty.any(axis=1)
        column = empty.loc[row].iloc[0].idxmax()  # the first empty column of the first such row
        check_values(path, table, row, column, "non-empty source, relation and target")
    provenance = provenance or provenance_of(path)
    ends = pd.concat([table[source], table[target]]).drop_duplicates()
    auto = types_of_prefix(ends)
    is_source = ends.isin(table[source]).to_numpy()
    types = np.where(
        is_source,
        auto if source_type == "auto" else source_type,
        auto if target_type == "auto" else target_type,
    )
    nodes = make_nodes(ends, types, provenance)
    edges = make_edges(table[source], table[relation], table[target], provenance)
    edges = edges.drop_duplicates(subset=["source", "relation", "target"], ignore_index=True)
    return KnowledgeGraph(
        nodes,
        edges,
        {"sources": [{"path": str(path), "format": "edges", "provenance": provenance}]},
        validate=False,
    )
