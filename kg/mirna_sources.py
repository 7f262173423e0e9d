"""miRNA sources besides miRTarBase: miRNA → MIR gene (NCBI gene_info) and miRNA → Reactome pathway.

* :func:`read_mirna_genes` reads the human MIR genes of a ``gene_info`` table (``MIR21``,
  "microRNA 21") as ``mirna:hsa-mir-21 --transcribed_from--> NCBIGene:406991``. The gene's
  former precursor names (aliases ``MIR103-1``, ``hsa-mir-103-1-as``) become the miRNA node's
  ``alt_ids`` (``mirna:hsa-mir-103``), so cohorts using older miRBase names still link, and the
  MIR gene's GO annotations (gene2go) become reachable from the miRNA.
* :func:`read_mirna_pathways` reads Reactome's ``miRBase2Reactome`` (miRBase accession →
  pathway). Its miRNAs are accessions (``MI0000060``), which no shared table maps to names, so
  the accession → name table is a parameter (two tab-separated columns, e.g. miRBase's
  ``miRNA.dat`` accessions and ids); without it the default build reaches pathways through the
  miRNA's targets (miRTarBase) and the targets' Reactome gene sets instead.
"""

from __future__ import annotations

import re

import pandas as pd

from kg._source import PathLike, provenance_of
from kg._table_io import (
    OnUnknown,
    annotation_graph,
    check_option,
    check_values,
    entrez_curies,
    log_dropped,
    read_table,
    require_columns,
    require_lines,
    split_fields,
)
from kg._textio import read_lines
from kg.graph import KnowledgeGraph
from kg.mirna import mirna_id, mirna_stem

__all__ = ["gene_precursor", "read_mirna_genes", "read_mirna_pathways"]

# NCBI gene names of miRNA genes: "microRNA 21", "microRNA let-7a-1", "microRNA 548BC"
_GENE_NAME = re.compile(r"^microRNA (?P<body>(?:(?:let|mir)-)?[0-9][0-9A-Za-z-]*)$")
# HGNC-style symbols and former symbols of miRNA genes: MIR21, MIRN103-1, MIR103-2-AS
_SYMBOL = re.compile(r"^MIRN?(?P<body>\d+[A-Z]*(?:-\d+)?)(?P<antisense>-?AS)?$")
_MIRBASE2REACTOME = ["accession", "pathway", "url", "pathway_name", "evidence", "species"]


def gene_precursor(name: str, *, species: str = "hsa") -> str | None:
    """Precursor name of a miRNA gene, from its NCBI name or a miRNA-like symbol, or ``None``.

    Examples
    --------
    >>> gene_precursor("microRNA 21"), gene_precursor("microRNA let-7a-1")
    ('hsa-mir-21', 'hsa-let-7a-1')
    >>> gene_precursor("MIRN103-1"), gene_precursor("MIR103-2-AS"), gene_precursor("tumor protein p53")
    ('hsa-mir-103-1', 'hsa-mir-103-2-as', None)
    """
    match = _GENE_NAME.match(name)
    if match is not None:
        body = match["body"].lower()
    elif (match := _SYMBOL.match(name)) is not None:  # MIR103-1AS → 103-1-as
        body = match["body"].lower() + ("-as" if match["antisense"] else "")
    else:
        return None
    kind = "" if body.startswith(("let-", "mir-")) else "mir-"
    precursor = f"{species}-{kind}{body}"
    return precursor if mirna_stem(precursor) is not None else None


def read_mirna_genes(
    path: PathLike,
    *,
    species: str = "hsa",
    relation: str = "transcribed_from",
    provenance: str | None = None,
) -> KnowledgeGraph:
    """miRNA → MIR gene edges of a ``gene_info`` table, as ``mirna --transcribed_from--> gene``.

    A gene is a miRNA gene when its ``name`` is "microRNA <number or let-…>" (NCBI's naming);
    its miRNA node is the precursor's stem (``microRNA 92a-1`` → ``mirna:hsa-mir-92a``, see
    :func:`kg.mirna_id`), so paralog loci share a node with edges to each locus's gene. Aliases
    that are older precursor names (``hsa-mir-103-1-as``, ``MIRN103-1``, ``mir-92a-1``) whose
    stem differs from the node's become its ``alt_ids``.

    Parameters
    ----------
    path : path
        Tab-separated table with columns ``entrez_id``, ``symbol``, ``name`` and optionally
        ``aliases`` (``;``-separated), as the shared ``gene_info_human.tsv.gz``.
    species : str
        miRBase species code of the table's genes (default: ``"hsa"``).

    Raises
    ------
    ParseError
        Missing columns, or a miRNA gene whose Entrez id is not an integer (names the line).

    Examples
    --------
    >>> kg = read_mirna_genes("tests/data/mini_mirbase_gene_info.txt")
    >>> sorted(kg.edges["source"])
    ['mirna:hsa-let-7a', 'mirna:hsa-mir-103a', 'mirna:hsa-mir-103b', 'mirna:hsa-mir-21']
    >>> kg.nodes.loc[["mirna:hsa-mir-103a", "mirna:hsa-mir-103b"], "alt_ids"].tolist()
    [['mirna:hsa-mir-103'], ['mirna:hsa-mir-103-1-as']]
    """
    table = read_table(path, sep="\t")
    require_columns(path, table, ["entrez_id", "symbol", "name"], "gene_info table")
    names = table["name"].fillna("")
    table = table[names.str.startswith("microRNA ")]
    precursors = table["name"].map(lambda n: gene_precursor(n, species=species))
    ids = precursors.map(lambda p: mirna_id(p) if isinstance(p, str) else None)
    dropped = log_dropped(
        path, table.loc[ids.isna(), "name"], "miRNA gene name(s) that are not miRBase names"
    )
    table, ids = table[ids.notna()], ids[ids.notna()]
    genes = entrez_curies(path, table, "entrez_id")
    provenance = provenance or provenance_of(path)
    frame = pd.DataFrame({"source": ids, "relation": relation, "target": genes})
    kg = annotation_graph(frame, "mirna", "gene", provenance, "mirna_genes", path)
    kg.metadata["sources"][0]["dropped"] = {"not_mirbase_name": dropped}
    aliases = table["aliases"] if "aliases" in table else pd.Series("", index=table.index)
    former = aliases.fillna("").str.split(";").explode().str.strip()
    former_ids = former.map(lambda a: _alias_id(a, species))
    pairs = pd.DataFrame({"node": ids[former.index], "alt": former_ids}).dropna()
    pairs = pairs[pairs["node"] != pairs["alt"]].drop_duplicates()
    pairs = pairs[~pairs["alt"].isin(kg.nodes.index)]  # a current miRNA's id is never an alias
    alt_ids = pairs.groupby("node")["alt"].agg(sorted)
    mirnas = kg.nodes.index[kg.nodes["type"] == "mirna"]
    kg.nodes.loc[mirnas, "name"] = mirnas.str.removeprefix("mirna:")
    kg.nodes.loc[mirnas, "alt_ids"] = pd.Series(
        [alt_ids.get(m, []) for m in mirnas], index=mirnas, dtype=object
    )
    return kg


def _alias_id(alias: str, species: str) -> str | None:
    """``mirna:`` id of an alias that names a precursor (``hsa-mir-21``, ``mir-21``, ``MIRN21``)."""
    found = mirna_id(alias, species=species)
    if found is not None:
        return found
    precursor = gene_precursor(alias, species=species)
    return None if precursor is None else mirna_id(precursor)


def read_mirna_pathways(
    path: PathLike,
    *,
    accessions: PathLike,
    relation: str = "participates_in",
    on_unknown: OnUnknown = "raise",
    provenance: str | None = None,
) -> KnowledgeGraph:
    """miRNA → Reactome pathway edges of ``miRBase2Reactome`` as ``mirna --participates_in--> pathway``.

    Parameters
    ----------
    path : path
        Reactome's tab-separated ``miRBase2Reactome`` file without header: miRBase accession
        (``MI0000060`` precursor or ``MIMAT…`` mature), Reactome id, URL, pathway name,
        evidence code, species.
    accessions : path
        Tab-separated two-column table without header, ``accession<TAB>miRBase name``
        (``MI0000077	hsa-mir-21``, ``MIMAT0000076	hsa-miR-21-5p``); ``#`` starts a comment.
        Each name becomes its stem node (:func:`kg.mirna_id`).
    on_unknown : {"raise", "drop"}
        A row whose accession the table does not map: raise, or drop with a logged count and
        line numbers (default: ``"raise"``).

    Raises
    ------
    ParseError
        An unmapped accession (with ``on_unknown="raise"``; names the line), a name in
        ``accessions`` that is not a miRNA name, or an empty file.

    Examples
    --------
    >>> kg = read_mirna_pathways("tests/data/mini_mirbase2reactome.txt",
    ...     accessions="tests/data/mini_mirbase_accessions.txt", on_unknown="drop")
    >>> sorted(zip(kg.edges["source"], kg.edges["target"]))[:2]
    [('mirna:hsa-let-7a', 'reactome:R-HSA-9839394'), ('mirna:hsa-mir-21', 'reactome:R-HSA-8943723')]
    """
    check_option("read_mirna_pathways", "on_unknown", on_unknown, ("raise", "drop"))
    lines = read_lines(accessions, comment="#")
    require_lines(accessions, lines, "accession<TAB>miRBase name lines")
    names = split_fields(lines.str.rstrip("\r"), ["accession", "name"])
    ids = names["name"].map(mirna_id)
    check_values(accessions, names, ids.isna(), "name", "a miRNA name (e.g. hsa-mir-21)")
    by_accession = dict(zip(names["accession"].str.strip(), ids))
    lines = read_lines(path)
    require_lines(path, lines, "miRBase accession<TAB>Reactome id rows")
    table = split_fields(lines.str.rstrip("\r"), _MIRBASE2REACTOME)
    sources = table["accession"].str.strip().map(by_accession)
    unknown = sources.isna()
    if on_unknown == "raise":
        check_values(path, table, unknown, "accession", f"an accession listed in {accessions}")
    dropped = log_dropped(
        path, table.loc[unknown, "accession"], f"row(s) whose accession {accessions} lacks"
    )
    table, sources = table[~unknown], sources[~unknown]
    frame = pd.DataFrame(
        {
            "source": sources,
            "relation": relation,
            "target": "reactome:" + table["pathway"].str.strip(),
            "target_name": table["pathway_name"],
        }
    )
    provenance = provenance or provenance_of(path)
    kg = annotation_graph(frame, "mirna", "pathway", provenance, "mirna_pathways", path)
    kg.metadata["sources"][0]["dropped"] = {"unknown_accession": dropped}
    return kg
