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

import numpy as np
import pandas as pd
import pyarrow as pa

from kg._exceptions import ConflictingDefinitionError, ParseError
from kg._source import OnDangling, PathLike, provenance_of, types_of_prefix
from kg._textio import decode, excerpt, read_bytes, read_lines
from kg.graph import KnowledgeGraph, make_edges, make_nodes
from kg.normalize import MAPPED_STATUSES, mirna_id

if TYPE_CHECKING:
    from kg.normalize import GeneNormalizer

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
# separators of the miRNAs of one combined entry (as in :func:`kg.normalize.mirna_stems`)
_MIRNA_SEPARATORS = r"\s*[_,;/]\s*"


def _annotation_graph(
    frame: pd.DataFrame,
    source_type: str,
    target_type: str,
    provenance: str,
    fmt: str,
    path: PathLike,
) -> KnowledgeGraph:
    """Graph of an annotation table with columns ``source, relation, target[, source_name, target_name]``."""
    frame = frame.drop_duplicates(subset=["source", "relation", "target"])
    ends = []
    for end, node_type in (("source", source_type), ("target", target_type)):
        names = f"{end}_name"
        first = frame.drop_duplicates(end)
        ends.append(make_nodes(first[end], node_type, provenance, name=first.get(names)))
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
    table = _read_table(path, sep="\t")
    aliases = {
        "GeneID": "entrez_id",
        "GO_ID": "go_id",
        "Category": "namespace",
        "Qualifier": "qualifier",
    }
    table = table.rename(columns=aliases)
    _require_columns(path, table, ["entrez_id", "go_id", "namespace"], "gene2go table")
    if "qualifier" in table:
        table = table[~table["qualifier"].fillna("").str.startswith("NOT")]
    relation = table["namespace"].map(GO_ASPECT_RELATIONS)
    _check_values(path, table, relation.isna(), "namespace", "a GO aspect")
    frame = pd.DataFrame(
        {
            "source": _entrez_curies(path, table, "entrez_id"),
            "relation": relation,
            "target": table["go_id"],
            "source_name": table.get("symbol"),
        }
    )
    _check_names(path, frame["source"], frame["source_name"])
    return _annotation_graph(
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
    _require_lines(path, lines, "GAF annotation lines (17 tab-separated columns)")
    counts = lines.str.count("\t") + 1
    bad = ~counts.isin([_GAF_COLUMNS, _GAF_COLUMNS - 2])  # GAF 1.0 had 15
    if bad.any():
        number = int(bad.idxmax())
        msg = f"GAF line has {counts[number]} tab-separated columns; GAF 2.x has {_GAF_COLUMNS}"
        raise ParseError(msg, path, number)
    table = _split_fields(
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
    _check_values(path, table, default.isna(), "aspect", "P, F or C (column 9)")
    relation = table["qualifier"].str.extract(r"([^|]+)", expand=False).fillna(default)
    source = table["db"] + ":" + table["db_id"]
    _check_names(path, source, table["symbol"])
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
    return _annotation_graph(
        frame, node_type, "go_term", provenance or provenance_of(path), "gaf", path
    )


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
    _require_lines(path, lines, "gene set lines 'name<TAB>description<TAB>gene...'")
    fields = _split_fields(lines.str.rstrip("\r"), ["name", "second", "members"])
    name, second = fields["name"].str.strip(), fields["second"].str.strip()
    bad = fields["members"].isna() | (name.fillna("") == "")
    if bad.any():
        number = int(bad.idxmax())
        spaces = "\t" not in lines[number] and " " in lines[number].strip()
        hint = "; fields must be separated by tabs, not spaces" if spaces else ""
        msg = f"GMT line needs 'name<TAB>description<TAB>gene...' (at least 3 fields){hint}"
        raise ParseError(msg, path, number)
    set_ids = ("reactome:" + second).where(second.str.startswith("R-"), "msigdb:" + name)
    _check_names(path, set_ids, name)
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
    return _annotation_graph(
        frame, "gene", node_type, provenance or provenance_of(path), "gmt", path
    )


def read_hpo_annotations(path: PathLike, *, provenance: str | None = None) -> KnowledgeGraph:
    """HPO ``genes_to_phenotype.txt``: ``gene --has_phenotype--> HP term`` edges."""
    table = _read_table(path, sep="\t")
    _require_columns(path, table, ["ncbi_gene_id", "hpo_id"], "genes_to_phenotype table")
    frame = pd.DataFrame(
        {
            "source": _entrez_curies(path, table, "ncbi_gene_id"),
            "relation": "has_phenotype",
            "target": table["hpo_id"],
            "source_name": table.get("gene_symbol"),
            "target_name": table.get("hpo_name"),
        }
    )
    _check_names(path, frame["source"], frame["source_name"])
    _check_names(path, frame["target"], frame["target_name"])
    return _annotation_graph(
        frame, "gene", "phenotype", provenance or provenance_of(path), "hpo_annotations", path
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
    table = _read_headerless(names, ["id", "name", "species"], quoting=csv.QUOTE_NONE)
    if species is not None:
        table = table[table["species"] == species]
    nodes = make_nodes("reactome:" + table["id"], "pathway", provenance, name=table["name"])
    edges = make_edges([], "part_of", [], provenance)
    if hierarchy is not None:
        pairs = _read_headerless(hierarchy, ["parent", "child"])
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
        dropped with a logged count and the first line numbers (default: ``"raise"``).
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
    >>> kg.number_of_edges()
    5
    """
    _check_option("read_mirna_targets", "on_invalid", on_invalid, ("raise", "drop"))
    _check_option("read_mirna_targets", "on_unknown", on_unknown, ("raise", "drop", None))
    table = _read_table(path, sep=",", encoding="utf-8-sig")
    _require_columns(path, table, [mirna_column, gene_column], "miRNA target table")
    if on_invalid == "drop":
        bad_gene = _not_entrez(table[gene_column])
        _log_dropped(
            path, table.loc[bad_gene, gene_column], "row(s) whose gene is not an Entrez id"
        )
        table = table[~bad_gene]
    genes = _entrez_curies(path, table, gene_column)
    # one row per miRNA of combined entries ("hsa-miR-27a-3p, hsa-miR-30b-5p"); index = table row
    names = table[mirna_column].str.split(_MIRNA_SEPARATORS, regex=True).explode().str.strip()
    if species_column in table:
        prefixless = names.str.match(r"(?i)(?:mir|let|lin)[-\u2010-\u2015\u2212]").astype(bool)
        names = names.where(
            ~prefixless, table.loc[names.index, species_column].str.strip() + "-" + names
        )
    stems = pd.unique(names.dropna())
    ids = names.map(dict(zip(stems, map(mirna_id, stems))))
    unknown = ids.isna()
    if (on_unknown or on_invalid) == "raise":
        _check_values(path, table, unknown, mirna_column, "a miRNA name (e.g. hsa-miR-21-5p)")
    else:
        _log_dropped(path, names[unknown], "entr(ies) naming no miRNA")
        names, ids = names[~unknown], ids[~unknown]
    provenance = provenance or provenance_of(path)
    frame = pd.DataFrame({"source": ids, "relation": relation, "target": genes[names.index]})
    kg = _annotation_graph(frame, "mirna", "gene", provenance, "mirna_targets", path)
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
    table = _read_table(path, sep=sep)
    _require_columns(path, table, [source, relation, target], "edge table")
    empty = table[[source, relation, target]].isna()
    if empty.any(axis=None):
        row = empty.any(axis=1)
        column = empty.loc[row].iloc[0].idxmax()  # the first empty column of the first such row
        _check_values(path, table, row, column, "non-empty source, relation and target")
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


def _read_table(path: PathLike, sep: str, encoding: str = "utf-8") -> pd.DataFrame:
    """A delimited table with a header line, all columns strings (pandas' pyarrow engine),
    indexed by line number like :func:`~kg._textio.read_lines` (blank lines counted).

    Raises
    ------
    ParseError
        A file that is not UTF-8 text (or a corrupt gzip stream), an empty file, or a row whose
        field count differs from the header's (names the line).
    """
    raw = read_bytes(path)
    text = decode(raw, path)
    try:
        # only empty fields are missing: ids such as "NA" or "null" stay strings; the bytes go in
        # as an arrow buffer, not a Python file object, which an arrow I/O thread would release
        # during interpreter exit after an early error (abort: "terminate called ...")
        table = pd.read_csv(
            pa.BufferReader(raw),
            sep=sep,
            dtype=str,
            engine="pyarrow",
            encoding=encoding,
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.EmptyDataError:
        raise ParseError("empty file; expected a table with a header line", path, 1) from None
    except pd.errors.ParserError as error:
        lines = read_lines(path)
        counts = lines.str.count(sep)
        ragged = counts != counts.iloc[0]
        line = int(ragged.idxmax()) if ragged.any() else None
        msg = (
            f"malformed table ({excerpt(str(error), 160)}); every row needs as many "
            f"{sep!r}-separated fields as the header"
        )
        raise ParseError(msg, path, line) from None
    table.columns = [c.lstrip("#") for c in table.columns]
    table.index = _row_lines(text, len(table))
    return table


def _row_lines(text: str, rows: int) -> pd.Index:
    """Line numbers of the ``rows`` data rows of a table with a header line.

    The parser skips empty lines (``\n``, ``\r\n``); rows are numbered past the header unless
    the text has such lines, in which case the numbers of the non-empty lines are used, so that
    errors name the physical line. A quoted field spanning lines keeps the row count.
    """
    if not (text.startswith(("\n", "\r\n")) or "\n\n" in text or "\n\r\n" in text):
        return pd.RangeIndex(2, rows + 2)
    lines = pd.Series(text.split("\n"), dtype=str)
    numbers = lines.index[~lines.isin(["", "\r"])] + 1
    if len(numbers) != rows + 1:  # a quoted field spans lines: count rows past the header
        return pd.RangeIndex(int(numbers[0]) + 1, int(numbers[0]) + 1 + rows)
    return pd.Index(numbers[1:])


def _require_lines(path: PathLike, lines: pd.Series, expected: str) -> None:
    """Refuse a line-oriented file without data lines (empty, blank or comments only)."""
    if lines.empty:
        raise ParseError(
            f"no data lines (the file is empty, blank or comments only); expected {expected}", path
        )


def _warn_empty_sets(path: PathLike, names: pd.Series) -> None:
    """Log the gene sets (name by line number) that list no genes and are left out."""
    if len(names):
        where = ", ".join(f"{path}:{line} {name!r}" for line, name in names.head(3).items())
        logger.warning(
            "%s: left out %d gene set(s) that list no genes: %s", path, len(names), where
        )


def _read_headerless(path: PathLike, columns: list[str], **options: object) -> pd.DataFrame:
    """A tab-separated table without header, all columns strings (pandas' C engine)."""
    raw = read_bytes(path)
    decode(raw, path)  # refuses UTF-16/UTF-32, bytes that are not UTF-8 and NUL bytes
    try:
        return pd.read_csv(
            pa.BufferReader(raw), sep="\t", header=None, names=columns, dtype=str, **options
        )
    except pd.errors.ParserError as error:
        raise ParseError(f"malformed table ({excerpt(str(error), 160)})", path) from None


def _require_columns(path: PathLike, table: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = sorted(set(columns) - set(table.columns))
    if missing:
        msg = f"{what} lacks columns {missing}; found {list(table.columns)}"
        raise ParseError(msg, path, 1)


def _split_fields(lines: pd.Series, names: list[str]) -> pd.DataFrame:
    """Split tab-separated ``lines`` into the columns ``names`` (the last one keeps the rest)."""
    fields = lines.str.split("\t", n=len(names) - 1, expand=True)
    fields = fields.reindex(columns=range(len(names))).astype(str)  # absent columns: missing str
    fields.columns = names
    return fields


def _not_entrez(values: pd.Series) -> pd.Series:
    """Where a column of Entrez ids holds something else than an integer (or nothing)."""
    return ~values.str.strip().str.fullmatch(r"\d+").astype(bool)


def _entrez_curies(path: PathLike, table: pd.DataFrame, column: str) -> pd.Series:
    """``NCBIGene:<id>`` of an Entrez id column; a value that is not an integer raises ParseError."""
    _check_values(path, table, _not_entrez(table[column]), column, "an integer id")
    return "NCBIGene:" + table[column].str.strip()


def _log_dropped(path: PathLike, values: pd.Series, what: str) -> None:
    """Log how many rows (``values`` indexed by line number) were dropped, and the first lines."""
    if len(values):
        lines = ", ".join(map(str, pd.unique(values.index)[:5]))
        examples = [excerpt(v) if isinstance(v, str) else "<empty>" for v in values.head(3)]
        logger.warning(
            "%s: dropped %d %s, e.g. %s (line(s) %s)", path, len(values), what, examples, lines
        )


def _check_option(function: str, name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        choices = ", ".join(map(repr, allowed))
        msg = (
            f"The {name!r} parameter of {function} must be one of {choices}. Got {value!r} instead."
        )
        raise ValueError(msg)


def _check_names(path: PathLike, ids: pd.Series, names: pd.Series | None) -> None:
    """Raise :class:`ConflictingDefinitionError` naming the line where an id that the file named
    before gets a different name (e.g. one Entrez id with two symbols)."""
    if names is None:
        return
    pairs = pd.DataFrame({"id": ids, "name": names}).dropna().drop_duplicates()
    clash = pairs["id"].duplicated()
    if clash.any():
        line = clash.index[int(clash.to_numpy().argmax())]
        node = pairs["id"][clash].iloc[0]
        seen = pairs.loc[pairs["id"] == node, "name"].tolist()
        raise ConflictingDefinitionError(
            f"id {node!r} is given conflicting names {seen}", path, int(line)
        )


def _check_values(
    path: PathLike, table: pd.DataFrame, bad: pd.Series, column: str, expected: str
) -> None:
    """Raise a :class:`ParseError` naming the line (index label) of the first row where ``bad`` holds."""
    if bad.any():
        line = bad.index[int(bad.to_numpy().argmax())]
        value = table[column][line]
        shown = repr(excerpt(value)) if isinstance(value, str) else "an empty cell"
        msg = f"column {column!r} holds {shown}; expected {expected} ({int(bad.sum())} bad row(s))"
        raise ParseError(msg, path, int(line))


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
