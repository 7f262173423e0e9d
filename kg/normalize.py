"""Normalise gene and miRNA identifiers to the CURIEs of knowledge-graph nodes.

Two conventions, relied on by every reader and by the fusion models:

* gene nodes are ``NCBIGene:<entrez>`` (``NCBIGene:7157`` for TP53). A :class:`GeneNormalizer`
  built from an NCBI ``gene_info``-style table resolves official symbols (any case), Entrez,
  Ensembl (with or without a version suffix) and UniProt ids, aliases and BRCA-style
  ``SYMBOL|Entrez`` names to them. An alias shared by several genes is reported as
  ``"ambiguous"`` with every candidate, never silently picked.
* miRNA nodes are ``mirna:<stem>``, the lowercase precursor-level name without arm (``-5p``,
  ``-3p``, ``*``) and without paralog-locus suffix: precursors ``hsa-mir-1-1`` and
  ``hsa-mir-1-2`` and the mature ``hsa-miR-1-3p`` all become ``mirna:hsa-mir-1``. Precursor
  (ROSMAP, TCGA) and mature (miRTarBase) names thereby meet on one node. The miRNA functions
  live in :mod:`kg.mirna` and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from kg._exceptions import AmbiguousIdError, ParseError, UnknownNodeError
from kg._gene_index import build_index, validated_genes
from kg.mirna import mirna_id, mirna_stem, mirna_stems

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = [
    "MAPPED_STATUSES",
    "GeneNormalizer",
    "Resolution",
    "Status",
    "mirna_id",
    "mirna_stem",
    "mirna_stems",
]

#: How a query was resolved (``"ambiguous"``/``"unmapped"``: it was not).
Status = Literal["symbol", "entrez", "ensembl", "uniprot", "alias", "ambiguous", "unmapped"]
#: The statuses of a query that resolved to exactly one gene.
MAPPED_STATUSES: tuple[str, ...] = ("symbol", "entrez", "ensembl", "uniprot", "alias")

# ----------------------------------------------------------------------------------------- genes

# CURIE prefixes a query may carry (upper-cased); the rest of the query is looked up
_QUERY_PREFIXES = frozenset({"NCBIGENE", "ENTREZ", "ENTREZGENE", "ENSEMBL", "UNIPROTKB", "UNIPROT"})
# an Ensembl version suffix or a UniProt isoform suffix, dropped when the whole key is unknown
_SUFFIXED = {
    "ensembl": re.compile(r"^(ENS[A-Z]*G\d{11})\.\d+$"),
    "uniprot": re.compile(r"^([OPQ]\d[A-Z\d]{3}\d|[A-NR-Z]\d(?:[A-Z][A-Z\d]{2}\d){1,2})-\d+$"),
}

#: Kinds of key, in lookup order: an official symbol beats an alias that spells the same.
_KINDS: tuple[str, ...] = ("entrez", "symbol", "ensembl", "uniprot", "alias")
_Hit = tuple[tuple[str, ...], str]


@dataclass(frozen=True)
class Resolution:
    """Result of resolving one gene identifier.

    ``query`` as given; ``ids``: one ``NCBIGene`` id when resolved, every candidate when
    ``"ambiguous"``, none when ``"unmapped"``; ``status``: the kind of identifier that matched.
    """

    query: str
    ids: tuple[str, ...]
    status: Status

    @property
    def id(self) -> str | None:
        """The single resolved id, or ``None`` when ambiguous or unmapped."""
        return self.ids[0] if self.status in MAPPED_STATUSES else None


class GeneNormalizer:
    """Resolve gene identifiers of any common kind to ``NCBIGene:<entrez>`` node ids.

    Lookup order: ``SYMBOL|Entrez`` (the Entrez part, else the symbol part); Entrez id
    (``7157``, ``NCBIGene:7157``); official symbol (case-insensitive); Ensembl gene id
    (version suffix ignored); UniProt accession; alias. An official symbol always beats an
    alias of another gene. A key shared by several genes is ``"ambiguous"``, except that genes of
    ``gene_type`` ``"unknown"`` (NCBI phenotype-only records such as *TEC, transient
    erythroblastopenia*) give way to the other candidates.

    Parameters
    ----------
    genes : pandas.DataFrame
        Columns ``entrez_id`` and ``symbol``; optional ``ensembl_ids``, ``uniprot_ids`` and
        ``aliases`` (``;``-separated lists), ``gene_type`` and ``name``.
    source : str or Path, optional
        File the table was read from, named in error messages.

    Examples
    --------
    >>> genes = pd.DataFrame({"entrez_id": ["7157", "1956"], "symbol": ["TP53", "EGFR"],
    ...                       "ensembl_ids": ["ENSG00000141510", "ENSG00000146648"],
    ...                       "aliases": ["P53;LFS1", "ERBB;ERBB1"]})
    >>> norm = GeneNormalizer.from_frame(genes)
    >>> norm.resolve("tp53")
    Resolution(query='tp53', ids=('NCBIGene:7157',), status='symbol')
    >>> norm.resolve("ENSG00000146648.17").ids, norm.resolve("ERBB1").status
    (('NCBIGene:1956',), 'alias')
    >>> norm.resolve_many(["EGFR|1956", "?|7157", "FOO"])["id"].tolist()
    ['NCBIGene:1956', 'NCBIGene:7157', None]
    """

    def __init__(self, genes: pd.DataFrame, source: str | Path | None = None) -> None:
        self.genes = validated_genes(genes, source)
        self.source = None if source is None else str(source)
        self._index = build_index(self.genes)

    @classmethod
    def from_frame(cls, genes: pd.DataFrame) -> GeneNormalizer:
        """Build from a gene table (see the class parameters)."""
        return cls(genes)

    @classmethod
    def from_gene_info(cls, path: str | Path) -> GeneNormalizer:
        """Read a tab-separated ``gene_info`` table (optionally gzipped) with a header.

        Raises
        ------
        ParseError
            The file is not a table, lacks ``entrez_id``/``symbol``, or has a bad or
            duplicated Entrez id (the message names the line).
        """
        try:
            genes = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            raise ParseError(f"not a tab-separated gene_info table: {err}", path) from err
        return cls(genes, source=path)

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph) -> GeneNormalizer:
        """Build from the ``NCBIGene:<entrez>`` gene nodes of a knowledge graph.

        Node ``name`` is the symbol, ``synonyms`` the aliases, ``ENSEMBL:``/``UniProtKB:`` xrefs
        the Ensembl and UniProt ids: the inverse of :meth:`nodes`. Gene nodes without a name
        are skipped (their Entrez id alone cannot be told from a symbol).

        Examples
        --------
        >>> from kg.graph import KnowledgeGraph, make_edges
        >>> norm = GeneNormalizer.from_frame(pd.DataFrame({"entrez_id": ["7157"], "symbol": ["TP53"],
        ...     "ensembl_ids": ["ENSG00000141510"], "aliases": ["P53"]}))
        >>> graph = KnowledgeGraph(norm.nodes("x"), make_edges([], "r", [], "x"))
        >>> GeneNormalizer.from_kg(graph).resolve("ENSG00000141510.17").ids
        ('NCBIGene:7157',)
        """
        nodes = kg.nodes
        genes = nodes[
            (nodes["type"] == "gene")
            & nodes.index.str.fullmatch(r"NCBIGene:\d+")
            & nodes["name"].map(_named)
        ]
        xrefs = genes["xrefs"].map(_items)

        def listed(prefix: str) -> list[str]:
            return [
                ";".join(x.removeprefix(prefix) for x in refs if x.startswith(prefix))
                for refs in xrefs
            ]

        table = pd.DataFrame(
            {
                "entrez_id": genes.index.str.removeprefix("NCBIGene:"),
                "symbol": genes["name"].astype(str).to_numpy(),
                "ensembl_ids": listed("ENSEMBL:"),
                "uniprot_ids": listed("UniProtKB:"),
                "aliases": [";".join(s) for s in genes["synonyms"].map(_items)],
            }
        )
        return cls(table, source=f"gene nodes of {kg!r}")

    def __len__(self) -> int:
        return len(self.genes)

    def __repr__(self) -> str:
        keys = sum(map(len, self._index.values()))
        return f"GeneNormalizer({len(self)} genes, {keys} keys, source={self.source!r})"

    # -------------------------------------------------------------------------------- lookup

    def _lookup(self, query: str) -> _Hit | None:
        if not isinstance(query, str):  # None or NaN from a table
            return None
        text = query.strip()
        if "|" in text:  # BRCA-style SYMBOL|Entrez: the Entrez part first, then the symbol
            symbol, _, entrez = text.rpartition("|")
            found = self._index["entrez"].get(entrez.strip())
            if found is not None:
                return _hit(found, "entrez")
            symbol = symbol.strip()
            return None if symbol in ("", "?") else self._lookup(symbol)
        key = text.upper()
        prefix, colon, rest = key.partition(":")
        if colon and prefix in _QUERY_PREFIXES:
            key = rest.strip()
        for kind in _KINDS:
            found = self._index[kind].get(key)
            if found is not None:
                return _hit(found, kind)
        for kind, pattern in _SUFFIXED.items():  # only an Ensembl/UniProt id may lose its suffix
            if (suffixed := pattern.match(key)) and (
                found := self._index[kind].get(suffixed[1])
            ) is not None:
                return _hit(found, kind)
        return None

    def resolve(self, query: str) -> Resolution:
        """Resolve one identifier; never raises on unknown or ambiguous ones (see :meth:`resolve_one`).

        Examples
        --------
        >>> genes = pd.DataFrame({"entrez_id": ["1", "2"], "symbol": ["AA", "BB"], "aliases": ["X", "X;AA"]})
        >>> norm = GeneNormalizer.from_frame(genes)
        >>> norm.resolve("x").status, norm.resolve("x").ids, norm.resolve("AA").ids
        ('ambiguous', ('NCBIGene:1', 'NCBIGene:2'), ('NCBIGene:1',))
        """
        hit = self._lookup(query) or ((), "unmapped")
        return Resolution(query, hit[0], hit[1])  # type: ignore[arg-type]

    def resolve_one(self, query: str) -> str:
        """The single ``NCBIGene`` id of ``query``.

        Raises
        ------
        AmbiguousIdError
            ``query`` matches several genes; the message lists them.
        UnknownNodeError
            ``query`` matches no gene.

        Examples
        --------
        >>> norm = GeneNormalizer.from_frame(pd.DataFrame({"entrez_id": ["7157"], "symbol": ["TP53"]}))
        >>> norm.resolve_one("NCBIGene:7157")
        'NCBIGene:7157'
        """
        found = self.resolve(query)
        if found.status == "ambiguous":
            symbols = dict(zip(self._ids, self.genes["symbol"].tolist()))
            listed = ", ".join(f"{i} ({symbols[i]})" for i in found.ids)
            msg = f"gene {query!r} is ambiguous: it names {len(found.ids)} genes: {listed}. Use an official symbol, Entrez or Ensembl id instead."
            raise AmbiguousIdError(msg)
        if found.status == "unmapped":
            msg = (
                f"gene {query!r} is not an official symbol, alias, Entrez, Ensembl or UniProt id of the "
                f"{len(self)} genes in {self.source or 'the gene table'}; check its spelling, species and release."
            )
            raise UnknownNodeError(msg)
        return found.ids[0]

    def resolve_many(self, queries: Iterable[str]) -> pd.DataFrame:
        """Resolve many identifiers at once (each distinct query is looked up once).

        Returns
        -------
        pandas.DataFrame
            One row per query, in order: ``query``, ``id`` (the resolved id, else ``None``;
            the first candidate is never taken for ambiguous queries), ``ids`` (tuple of
            candidates) and ``status``.
        """
        queries = list(queries)
        hits = {q: self._lookup(q) for q in dict.fromkeys(queries)}
        found = [hits[q] for q in queries]
        ids = [() if h is None else h[0] for h in found]
        status = ["unmapped" if h is None else h[1] for h in found]
        first = [i[0] if s in MAPPED_STATUSES else None for i, s in zip(ids, status)]
        columns = {"query": queries, "id": first, "ids": ids, "status": status}
        return pd.DataFrame(
            {name: pd.Series(values, dtype=object) for name, values in columns.items()}
        )

    # ------------------------------------------------------------------------------- exports

    @cached_property
    def _ids(self) -> list[str]:
        return ("NCBIGene:" + self.genes["entrez_id"]).tolist()

    @cached_property
    def symbol_to_id(self) -> Mapping[str, str]:
        """Official symbol (exact case) → ``NCBIGene`` id, for symbols naming one gene."""
        keys = self._index["symbol"]
        hits = zip(
            self.genes["symbol"].tolist(), map(keys.get, self.genes["symbol"].str.upper().tolist())
        )
        return MappingProxyType({symbol: found for symbol, found in hits if isinstance(found, str)})

    def nodes(self, provenance: str) -> pd.DataFrame:
        """Gene node table for :class:`~kg.graph.KnowledgeGraph` (see :func:`kg.graph.make_nodes`).

        Ids ``NCBIGene:<entrez>``, type ``"gene"``, name the official symbol, synonyms the
        aliases, xrefs ``ENSEMBL:<id>`` and ``UniProtKB:<accession>``.

        Examples
        --------
        >>> norm = GeneNormalizer.from_frame(pd.DataFrame({"entrez_id": ["7157"], "symbol": ["TP53"],
        ...     "uniprot_ids": ["P04637"], "aliases": ["P53;LFS1"]}))
        >>> norm.nodes("gene_info").loc["NCBIGene:7157", ["name", "synonyms", "xrefs"]].tolist()
        ['TP53', ['P53', 'LFS1'], ['UniProtKB:P04637']]
        """
        from kg.graph import make_nodes

        genes = self.genes
        ensembl = _prefixed(genes["ensembl_ids"], "ENSEMBL:")
        uniprot = _prefixed(genes["uniprot_ids"], "UniProtKB:")
        xrefs = (ensembl + ";" + uniprot).str.strip(";")
        synonyms = _split(genes["aliases"])
        return make_nodes(
            self._ids,
            "gene",
            provenance,
            name=genes["symbol"].tolist(),
            synonyms=synonyms,
            xrefs=_split(xrefs),
        )


def _prefixed(lists: pd.Series, prefix: str) -> pd.Series:
    """Prefix every item of ``;``-separated lists, vectorised (empty lists stay empty)."""
    return (prefix + lists.str.replace(";", ";" + prefix, regex=False)).where(lists != "", "")


def _named(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _items(value: Any) -> list[str]:
    """A list-valued node cell (list, array, or None/NaN) as a list of str."""
    return [] if value is None or isinstance(value, float) else [str(v) for v in value]


def _split(lists: pd.Series) -> list[list[str]]:
    return [text.split(";") if text else [] for text in lists.tolist()]


def _hit(found: str | tuple[str, ...], kind: str) -> _Hit:
    return ((found,), kind) if isinstance(found, str) else (found, "ambiguous")
