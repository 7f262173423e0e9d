"""The key index behind :class:`kg.normalize.GeneNormalizer`: a gene table checked, then turned
into one dict per kind of key (symbol, Ensembl, UniProt, alias; upper-cased) to gene id(s),
built with vectorised numpy/pandas operations.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from kg._exceptions import ParseError

__all__ = ["OPTIONAL", "REQUIRED", "Keys", "build_index", "keyed", "validated_genes"]

#: Columns a gene table must have, and those it may have.
REQUIRED = ("entrez_id", "symbol")
OPTIONAL = ("ensembl_ids", "uniprot_ids", "aliases", "gene_type", "name")
# genes of this type (NCBI phenotype-only records) yield a shared key to any other candidate
_WEAK_TYPE = "unknown"
_LIST_SPACES = re.compile(r"\s*;\s*")
_ENSEMBL_VERSION = re.compile(r"\.\d+(?=;|$)")
_COLUMNS = {
    "symbol": "symbol",
    "ensembl": "ensembl_ids",
    "uniprot": "uniprot_ids",
    "alias": "aliases",
}
#: key -> the one gene id (a str), or the candidates when several genes share the key (a tuple)
Keys = dict[str, "str | tuple[str, ...]"]


def validated_genes(genes: pd.DataFrame, source: str | Path | None) -> pd.DataFrame:
    """Check the required columns and Entrez ids; fill optional columns with empty strings."""
    missing = [c for c in REQUIRED if c not in genes.columns]
    if missing:
        msg = f"gene table lacks column(s) {missing}; expected {list(REQUIRED)} and optionally {list(OPTIONAL)}, got {list(genes.columns)}"
        raise ParseError(msg, source)
    genes = genes.reset_index(drop=True)
    names = [*REQUIRED, *OPTIONAL]
    columns = {c: genes[c].fillna("").astype(str).str.strip() for c in names if c in genes}
    table = pd.DataFrame(columns, index=genes.index).reindex(columns=names, fill_value="")
    entrez = table["entrez_id"]
    checks = (
        ("is not a positive integer", ~entrez.str.fullmatch(r"\d+")),
        ("is duplicated", entrez.duplicated()),
        ("has an empty symbol", table["symbol"] == ""),
    )
    for problem, bad in checks:
        if bad.any():
            row = int(bad.to_numpy().argmax())
            msg = f"entrez_id {entrez.iloc[row]!r} {problem}; each row must be one gene with a unique Entrez id and a symbol"
            raise ParseError(msg, source, row + 2 if source is not None else None)
    return table


def build_index(genes: pd.DataFrame) -> dict[str, Keys]:
    """One dict per kind of key (see :data:`kg.normalize._KINDS`), from upper-cased key to gene id(s).

    Values are plain id strings (not tuples) for keys of one gene, which keeps the build fast.
    """
    ids = ("NCBIGene:" + genes["entrez_id"]).to_numpy(dtype=object)
    weak = genes["gene_type"].eq(_WEAK_TYPE).to_numpy()
    index: dict[str, Keys] = {"entrez": dict(zip(genes["entrez_id"].tolist(), ids.tolist()))}
    for kind, column in _COLUMNS.items():
        texts = genes[column].str.upper()
        # explode the ;-lists at C speed: one join, substitutions and split; rows repeated by length
        joined = _LIST_SPACES.sub(";", ";".join(texts.tolist()))
        if kind == "ensembl":
            joined = _ENSEMBL_VERSION.sub("", joined)
        keys = np.array(joined.split(";"), dtype=object)
        rows = np.repeat(np.arange(len(texts)), texts.str.count(";").to_numpy() + 1)
        index[kind] = keyed(keys, rows, ids, weak)
    return index


def keyed(keys: np.ndarray, rows: np.ndarray, ids: np.ndarray, weak: np.ndarray) -> Keys:
    """Map each key (of gene ``rows``) to its gene id, or to the tuple of ids that share it.

    Genes flagged ``weak`` give way when a key is shared with any other gene.
    """
    codes, uniques = pd.factorize(keys)
    # each (key, gene) pair once, sorted by key then gene row
    _, first = np.unique(codes.astype(np.int64) * (len(ids) + 1) + rows, return_index=True)
    codes, rows = codes[first], rows[first]
    real = uniques[codes] != ""
    codes, rows = codes[real], rows[real]
    strong = ~weak[rows]
    any_strong = np.bincount(codes, weights=strong, minlength=len(uniques)) > 0
    keep = strong | ~any_strong[codes]
    codes, rows = codes[keep], rows[keep]
    single = np.bincount(codes, minlength=len(uniques))[codes] == 1
    out: Keys = dict(zip(uniques[codes[single]].tolist(), ids[rows[single]].tolist()))
    shared: dict[str, list[str]] = {}
    for key, gene in zip(uniques[codes[~single]].tolist(), ids[rows[~single]].tolist()):
        shared.setdefault(key, []).append(gene)
    out.update((key, tuple(genes)) for key, genes in shared.items())
    return out
