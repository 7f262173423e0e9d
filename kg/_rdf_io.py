"""RDF plumbing shared by :mod:`kg.rdf`: namespaces, CURIE ↔ IRI, safe parsing with rdflib.

:func:`parse_rdf` reads (and gunzips) a file, refuses RDF/XML that declares a DTD or entities
(:func:`check_xml_prolog`) *before* rdflib sees it, refuses text that is not UTF-8, and turns
rdflib's syntax errors into :class:`~kg.ParseError` with the file and line.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from xml.sax import SAXParseException

from rdflib import RDFS, Graph, Namespace
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax

from kg._exceptions import ParseError, UnknownFormatError, UnsafeRDFError
from kg._source import PathLike
from kg._textio import decode_text, read_bytes

__all__ = [
    "KGF",
    "KGF_ID",
    "NODE_PREDICATES",
    "OBO",
    "OBO_IN_OWL",
    "OBO_PREFIXES",
    "REL",
    "SAFE_CHARS",
    "check_xml_prolog",
    "curie_to_iri",
    "iri_to_curie",
    "parse_rdf",
    "turtle_term",
]

#: kgfusion vocabulary (``kgf:type``, ``kgf:namespace``, ``kgf:provenance``).
KGF = Namespace("https://w3id.org/kgfusion/")
#: Edge predicates: ``REL["part_of"]`` is ``https://w3id.org/kgfusion/relation/part_of``.
REL = Namespace("https://w3id.org/kgfusion/relation/")
#: IRIs of node ids with no better home (``mirna:hsa-let-7b``, ``all``).
KGF_ID = Namespace("https://w3id.org/kgfusion/id/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBO_IN_OWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
#: Predicate of each exported node column (besides ``owl:deprecated true`` for obsolete nodes).
NODE_PREDICATES = {
    "type": KGF.type,
    "name": RDFS.label,
    "namespace": KGF.namespace,
    "provenance": KGF.provenance,
}

#: CURIE prefixes exported as OBO PURLs (``GO:0008150`` → ``obo:GO_0008150``).
# fmt: off
OBO_PREFIXES = frozenset({
    "GO", "HP", "DOID", "MONDO", "CHEBI", "UBERON", "CL", "SO", "PR", "RO", "BFO", "IAO", "PATO",
    "NCBITaxon", "MP", "ZFA", "FBbt", "ECO", "OBI", "ENVO", "UO", "MAXO", "OGMS", "SYMP", "PO",
})
# fmt: on
#: Other CURIE prefixes with an identifiers.org namespace.
_IRI_PREFIXES = {
    "NCBIGene": "http://identifiers.org/ncbigene/",
    "reactome": "http://identifiers.org/reactome/",
}
_SUFFIX_FORMATS = {
    ".owl": "xml",
    ".rdf": "xml",
    ".xml": "xml",
    ".ttl": "turtle",
    ".nt": "nt",
    ".n3": "n3",
}
_FORMATS = frozenset(_SUFFIX_FORMATS.values())
_OBO_IRI = re.compile(r"^http://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_([^/#]+)$")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SAFE_CHARS = ":@!$&'()*+,;=~"  # kept as is in IRIs; the rest of the non-unreserved is %-encoded
_SAFE_IRI = SAFE_CHARS + "/?#[]%"


# ------------------------------------------------------------------------------ identifiers
def curie_to_iri(curie: str) -> str:
    """The IRI of a node id (inverse of :func:`iri_to_curie`).

    Prefixes of :data:`OBO_PREFIXES` become OBO PURLs, ``NCBIGene``/``reactome`` identifiers.org
    IRIs, anything else (including ids without a prefix) a :data:`KGF_ID` IRI; the local part is
    %-encoded where an IRI needs it. An id that is itself a plain absolute IRI is kept as is.

    Examples
    --------
    >>> curie_to_iri("GO:0008150")
    'http://purl.obolibrary.org/obo/GO_0008150'
    >>> curie_to_iri("NCBIGene:7157"), curie_to_iri("mirna:hsa-let-7b")
    ('http://identifiers.org/ncbigene/7157', 'https://w3id.org/kgfusion/id/mirna:hsa-let-7b')
    """
    prefix, sep, local = curie.partition(":")
    if sep and prefix in OBO_PREFIXES and local:
        return f"{OBO}{prefix}_{quote(local, safe=SAFE_CHARS)}"
    if sep and prefix in _IRI_PREFIXES and local:
        return _IRI_PREFIXES[prefix] + quote(local, safe=SAFE_CHARS)
    if _ABSOLUTE_IRI.match(curie) and quote(curie, safe=_SAFE_IRI) == curie:
        return curie
    return KGF_ID + quote(curie, safe=SAFE_CHARS)


def iri_to_curie(iri: str) -> str:
    """A node id for an IRI: a CURIE for OBO, identifiers.org and kgfusion IRIs, else the IRI.

    Examples
    --------
    >>> iri_to_curie("http://purl.obolibrary.org/obo/GO_0008150")
    'GO:0008150'
    >>> iri_to_curie("http://example.org/a#b")
    'http://example.org/a#b'
    """
    match = _OBO_IRI.match(iri)
    if match:
        return f"{match.group(1)}:{unquote(match.group(2))}"
    for prefix, namespace in _IRI_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{unquote(iri[len(namespace) :])}"
    if iri.startswith(KGF_ID) and len(iri) > len(KGF_ID):
        return unquote(iri[len(KGF_ID) :])
    return iri


# ---------------------------------------------------------------------------------- parsing
def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in _FORMATS:
            msg = f"unknown RDF format {format!r}; expected one of {sorted(_FORMATS)}"
            raise UnknownFormatError(msg)
        return format
    suffixes = [s.lower() for s in path.suffixes]
    suffix = (
        suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1 else (suffixes or [""])[-1]
    )
    if suffix not in _SUFFIX_FORMATS:
        msg = (
            f"{path}: cannot infer the RDF format from suffix {suffix!r}; expected one of "
            f"{sorted(_SUFFIX_FORMATS)} (optionally .gz), or pass format= one of {sorted(_FORMATS)}"
        )
        raise UnknownFormatError(msg)
    return _SUFFIX_FORMATS[suffix]


def _prolog_text(raw: bytes) -> str:
    """The document decoded well enough to find ASCII markup (UTF-16 aware, never fails)."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:2] in (b"<\x00", b"\x00<"):
        big = raw[:2] in (b"\xfe\xff", b"\x00<")
        return raw.decode("utf-16-be" if big else "utf-16-le", errors="replace")
    # ASCII-compatible, so '<!DOCTYPE' is found in UTF-8 and Latin-1; the whole text is kept, as
    # a prolog may hide a DOCTYPE behind any amount of comments
    return raw.removeprefix(b"\xef\xbb\xbf").decode("latin-1")


def check_xml_prolog(raw: bytes, path: PathLike) -> None:
    """Refuse an XML document whose prolog holds a ``<!DOCTYPE`` or any other ``<!`` declaration.

    Only the XML declaration, processing instructions, comments and whitespace may precede the
    root element; a DTD (the carrier of XXE and "billion laughs" entity expansion) raises.

    Raises
    ------
    UnsafeRDFError
        Naming the file and the line of the first ``<!ENTITY`` (else of the ``<!DOCTYPE``).

    Examples
    --------
    >>> check_xml_prolog(b'<?xml version="1.0"?>\\n<!-- c -->\\n<rdf:RDF/>', "ok.owl")
    >>> check_xml_prolog(b'<?xml version="1.0"?>\\n<!DOCTYPE r [\\n<!ENTITY e "x">]>\\n<r/>', "bad.owl")
    Traceback (most recent call last):
    ...
    kg._exceptions.UnsafeRDFError: bad.owl:3: the document declares a DTD ...
    """
    text = _prolog_text(raw).lstrip("\ufeff")
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text.startswith("<?", pos) or text.startswith("<!--", pos):
            end = text.find("?>" if text[pos + 1] == "?" else "-->", pos + 2)
            if end < 0:
                return  # unterminated: not well-formed, rdflib reports the parse error
            pos = end + (2 if text[pos + 1] == "?" else 3)
        elif text.startswith("<!", pos):
            entity = text.find("<!ENTITY", pos)
            where = entity if entity >= 0 else pos
            line = text.count("\n", 0, where) + 1
            msg = (
                f"the document declares a DTD ({text[pos : pos + 20]!r}...) with "
                f"{text.count('<!ENTITY', pos)} entity declaration(s); RDF/XML with a DOCTYPE or "
                "entities is refused (XXE and entity-expansion attacks), nothing was fetched or "
                "expanded; remove the DOCTYPE and write IRIs out in full"
            )
            raise UnsafeRDFError(msg, path, line)
        else:
            return


def parse_rdf(path: PathLike, format: str | None) -> Graph:
    """Read (and gunzip) ``path``, check an XML prolog and the encoding, parse it with rdflib."""
    path = Path(path)
    fmt = _format_of(path, format)
    raw = read_bytes(path)
    if fmt == "xml":
        check_xml_prolog(raw, path)
    decode_text(raw, path)  # refuses UTF-16/UTF-32, bytes that are not UTF-8 and NUL bytes
    raw = raw.removeprefix(codecs.BOM_UTF8)
    graph = Graph()
    try:
        graph.parse(data=raw, format=fmt, publicID=path.resolve().as_uri())
    except SAXParseException as error:
        raise ParseError(
            f"malformed RDF/XML: {error.getMessage()}", path, error.getLineNumber()
        ) from None
    except BadSyntax as error:
        line = error.lines + 1 if isinstance(error.lines, int) else None
        raise ParseError(f"malformed {fmt}: {error.message}", path, line) from None
    except ParserError as error:
        raise ParseError(f"malformed RDF ({fmt}): {error}", path) from None
    return graph


_ESCAPES = {
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}
_ESCAPES.update({c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if c not in _ESCAPES})


def turtle_term(value: Any) -> str:
    """Turtle syntax of an object: ``(iri,)`` → ``<iri>``, ``True`` → ``true``, else a string.

    Examples
    --------
    >>> print(turtle_term(("http://x.org/a",)), turtle_term(True), turtle_term('say "hi"\\n'))
    <http://x.org/a> true "say \\"hi\\"\\n"
    """
    if isinstance(value, tuple):
        return f"<{value[0]}>"
    if value is True:
        return "true"
    return '"' + str(value).translate(_ESCAPES) + '"'
