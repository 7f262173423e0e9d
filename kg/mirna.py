"""miRNA names to the CURIEs of knowledge-graph nodes.

miRNA nodes are ``mirna:<stem>``, the lowercase precursor-level name without arm (``-5p``,
``-3p``, ``*``) and without paralog-locus suffix: precursors ``hsa-mir-1-1`` and ``hsa-mir-1-2``
and the mature ``hsa-miR-1-3p`` all become ``mirna:hsa-mir-1``. Precursor (ROSMAP, TCGA) and
mature (miRTarBase) names thereby meet on one node. (Gene ids: :mod:`kg.normalize`.)
"""

from __future__ import annotations

import re

__all__ = ["mirna_id", "mirna_stem", "mirna_stems"]

# species code (hsa, mmu, ebv, hsv1, kshv, ...), kind, then the name proper; matched lowercase
_MIRNA = re.compile(
    r"^(?P<species>[a-z]{2,5}\d?)-(?P<kind>mir|let|lin)-(?P<body>[a-z0-9]+(?:-[a-z0-9]+)*)\*?$"
)
# miRBase numbering: family number + letter, optional paralog locus, optional arm
_NUMBERED = re.compile(r"^(?P<family>\d+[a-z]*)(?:-\d+)?(?:-[35]p)?$")
_ARM = re.compile(r"-[35]p$")
_PREFIXLESS = re.compile(r"^(?:mir|let|lin)-")
#: What separates the miRNAs of one combined name (``hsa-miR-106a_hsa-miR-17``).
SEPARATORS = re.compile(r"\s*[_,;/]\s*")
# Unicode hyphens and dashes (U+2010..U+2015, minus sign) as found in miRTarBase names
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))


def mirna_stem(name: str, *, species: str | None = None) -> str | None:
    """Precursor-level stem of a miRNA name, or ``None`` if ``name`` is not a miRNA name.

    The stem is lowercase, without arm (``-5p``/``-3p``/``*``) and, for miRBase-numbered
    miRNAs, without the paralog-locus suffix (``hsa-mir-92a-1`` → ``hsa-mir-92a``). Names
    outside the numbering (viral ``ebv-miR-BART6-5p``) only lose their arm. Combined probes
    such as ``hsa-miR-106a_hsa-miR-17`` name several miRNAs and give ``None`` here; see
    :func:`mirna_stems`.

    Parameters
    ----------
    name : str
        Precursor (``hsa-mir-21``, ``hsa-let-7a-1``) or mature (``hsa-miR-21-5p``,
        ``hsa-miR-21*``) name; surrounding whitespace, case and Unicode dashes are ignored.
    species : str, optional
        Species code for names without one (``miR-21``); such names give ``None`` without it.

    Examples
    --------
    >>> mirna_stem("hsa-miR-133a-1-3p"), mirna_stem("hsa-let-7a-1"), mirna_stem("hsa-miR-21*")
    ('hsa-mir-133a', 'hsa-let-7a', 'hsa-mir-21')
    >>> mirna_stem("ebv-miR-BART6-5p"), mirna_stem("TP53"), mirna_stem("miR-21", species="hsa")
    ('ebv-mir-bart6', None, 'hsa-mir-21')
    """
    if not isinstance(name, str):  # None or NaN from a table
        return None
    lowered = name.strip().translate(_DASHES).lower()
    if species is not None and _PREFIXLESS.match(lowered):
        lowered = f"{species.lower()}-{lowered}"
    match = _MIRNA.match(lowered)
    if match is None:
        return None
    body = match["body"]
    numbered = _NUMBERED.match(body)
    body = numbered["family"] if numbered else _ARM.sub("", body)
    return f"{match['species']}-{match['kind']}-{body}"


def mirna_stems(name: str, *, species: str | None = None) -> tuple[str, ...]:
    """Stems of every miRNA a (possibly combined) probe name lists, in order, without repeats.

    Parts are separated by ``_``, ``,``, ``;`` or ``/``; the result is empty unless every part is a
    miRNA name.

    Examples
    --------
    >>> mirna_stems("hsa-miR-106a_hsa-miR-17")
    ('hsa-mir-106a', 'hsa-mir-17')
    >>> mirna_stems("hsa-mir-92a-1"), mirna_stems("hsa-miR-21_TP53")
    (('hsa-mir-92a',), ())
    """
    stems = [mirna_stem(part, species=species) for part in SEPARATORS.split(name.strip())]
    if any(stem is None for stem in stems):
        return ()
    return tuple(dict.fromkeys(stems))  # type: ignore[arg-type]


def mirna_id(name: str, *, species: str | None = None) -> str | None:
    """KG node id ``mirna:<stem>`` of a miRNA name, or ``None`` (see :func:`mirna_stem`).

    Examples
    --------
    >>> mirna_id("hsa-miR-92a-3p"), mirna_id("hsa-mir-92a-2"), mirna_id("ACTB")
    ('mirna:hsa-mir-92a', 'mirna:hsa-mir-92a', None)
    """
    stem = mirna_stem(name, species=species)
    return None if stem is None else f"mirna:{stem}"
