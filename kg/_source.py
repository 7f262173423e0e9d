"""Helpers shared by the readers: provenance labels, node typing by prefix, error locations."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

__all__ = ["PathLike", "OnDangling", "provenance_of", "type_of_prefix", "open_text", "find_line"]

PathLike = str | Path
#: What a reader does with an edge whose target the source never declares.
OnDangling = Literal["raise", "add", "drop"]

#: Node type inferred from a CURIE prefix (``node_type="auto"`` in the readers).
_PREFIX_TYPES = {
    "GO": "go_term",
    "HP": "phenotype",
    "DOID": "disease",
    "MONDO": "disease",
    "NCBIGene": "gene",
    "reactome": "pathway",
    "mirna": "mirna",
    "UniProtKB": "protein",
}


def type_of_prefix(curie: str, default: str = "ontology_class") -> str:
    """Node type for a CURIE by its prefix.

    Examples
    --------
    >>> type_of_prefix("GO:0008150"), type_of_prefix("HP:0000118"), type_of_prefix("all")
    ('go_term', 'phenotype', 'ontology_class')
    """
    prefix, sep, _ = curie.partition(":")
    return _PREFIX_TYPES.get(prefix, default) if sep else default


def provenance_of(path: PathLike, release: str | None = None) -> str:
    """Provenance label: the file name, with ``@release`` when the source states one.

    Examples
    --------
    >>> provenance_of("/data/go/go-basic.obo.gz", "releases/2022-07-01")
    'go-basic.obo.gz@releases/2022-07-01'
    """
    name = Path(path).name
    return f"{name}@{release}" if release else name


def open_text(path: PathLike, encoding: str = "utf-8") -> io.TextIOBase:
    """Open a text file, decompressing ``.gz`` transparently."""
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding)
    return open(path, encoding=encoding)


def _lines(path: PathLike) -> Iterator[tuple[int, str]]:
    with open_text(path) as handle:
        yield from enumerate(handle, start=1)


def find_line(path: PathLike, pattern: str, occurrence: int = 1) -> int | None:
    """1-based number of the line matching regex ``pattern`` (its ``occurrence``-th match).

    Only called on error paths, to name the line at fault without tracking positions while parsing.
    """
    regex = re.compile(pattern)
    seen = 0
    for number, line in _lines(path):
        if regex.search(line):
            seen += 1
            if seen == occurrence:
                return number
    return None
