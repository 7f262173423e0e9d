"""Feature resolvers of :func:`fusion.data.link_cohort`: from a feature name to KG node ids.

One resolver per family of id schemes (see :data:`LINK_SCHEMES`):

* ``gene`` — Ensembl (version suffix ignored), Entrez, UniProt, ``SYMBOL|Entrez``, symbols and
  aliases, through :class:`kg.GeneNormalizer`, to ``NCBIGene:<entrez>``;
* ``antibody`` — RPPA antibody names (``Akt_pS473``, ``ER-alpha``, ``Cyclin_B1``) to the genes
  they recognise, see :func:`antibody_genes`;
* ``mirna`` — precursor (``hsa-mir-21``) and mature (``hsa-miR-21-5p``) names to the miRNA node
  ``mirna:hsa-mir-21``;
* ``code`` — clinical / EHR codes that are HPO or Disease Ontology ids (``HP:0001250``,
  ``DOID_1612``), and with a graph any CURIE that is a node id, alt id or xref of a node;
* ``none`` — nothing to link (methylation ``cg`` probes, image embeddings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion.data.modality import Modality
from kg.graph import KnowledgeGraph
from kg.normalize import MAPPED_STATUSES, GeneNormalizer, mirna_stems

__all__ = [
    "ANTIBODY_GENES",
    "LINK_SCHEMES",
    "UNLINKED",
    "Resolved",
    "antibody_genes",
    "resolve_features",
    "resolver_of",
]

#: Resolver used for each id scheme (see :attr:`fusion.Modality.id_scheme`).
LINK_SCHEMES: Mapping[str, str] = {
    **dict.fromkeys(("ensembl", "entrez", "symbol", "symbol|entrez", "uniprot", "gene"), "gene"),
    "antibody": "antibody",
    **dict.fromkeys(("mirna_precursor", "mirna_mature", "mirna"), "mirna"),
    **dict.fromkeys(("hpo", "doid", "curie", "ontology"), "code"),
    **dict.fromkeys(("cg_probe", "genomic_region", "none"), "none"),
}
# resolver of a modality without an id scheme, by kind (methylation tables may be gene-level)
_KIND_RESOLVERS = {
    "mRNA": "gene",
    "methylation": "gene",
    "protein": "antibody",
    "miRNA": "mirna",
    "mutation": "gene",
    "copy_number": "gene",
    "clinical": "code",
    "ehr_codes": "code",
    "image_embedding": "none",
}

#: Antibodies (TCGA / MD Anderson RPPA names, phospho-site removed) whose gene symbols the
#: gene table cannot give: protein names (``Cyclin_B1``), names clashing with other genes'
#: symbols or aliases (``PR``, ``PDK1``, ``p27``, ``S6``) and pan-specific antibodies (``Akt``
#: recognises AKT1-3). Gene annotation as in the MD Anderson TCPA antibody list. Matched
#: case-insensitively; everything else goes to the gene normaliser.
ANTIBODY_GENES: Mapping[str, tuple[str, ...]] = {
    "ACC": ("ACACA", "ACACB"), "ACC1": ("ACACA",), "Akt": ("AKT1", "AKT2", "AKT3"),
    "AMPK": ("PRKAA1", "PRKAA2"), "AMPK_alpha": ("PRKAA1", "PRKAA2"), "Annexin_I": ("ANXA1",),
    "Bcl-xL": ("BCL2L1",), "Beclin": ("BECN1",), "Caspase-7": ("CASP7",), "Caveolin-1": ("CAV1",),
    "Claudin-7": ("CLDN7",), "Collagen_VI": ("COL6A1",), "Cyclin_B1": ("CCNB1",),
    "Cyclin_D1": ("CCND1",), "Cyclin_E1": ("CCNE1",), "E-Cadherin": ("CDH1",),
    "N-Cadherin": ("CDH2",), "P-Cadherin": ("CDH3",), "ER-alpha": ("ESR1",),
    "Fibronectin": ("FN1",), "GSK3-alpha-beta": ("GSK3A", "GSK3B"), "HSP70": ("HSPA1A",),
    "LBK1": ("STK11",), "MAPK": ("MAPK3", "MAPK1"), "NF-kB-p65": ("RELA",), "p27": ("CDKN1B",),
    "p38": ("MAPK14",), "p38_MAPK": ("MAPK14",), "p70S6K": ("RPS6KB1",), "Paxillin": ("PXN",),
    "PDK1": ("PDPK1",), "PI3K-p110-alpha": ("PIK3CA",), "PR": ("PGR",), "S6": ("RPS6",),
    "Stathmin": ("STMN1",), "Transglutaminase": ("TGM2",), "Tuberin": ("TSC2",),
    "alpha-Catenin": ("CTNNA1",), "beta-Catenin": ("CTNNB1",),
}  # fmt: skip
_ANTIBODY_KEYS = {name.upper(): genes for name, genes in ANTIBODY_GENES.items()}
# post-translational-modification suffixes: _pS473, _pT183_pT185, _pS21_S9, _cleavedD198
_PTM = re.compile(r"(?:_(?:p?[STY]\d+|cleaved[A-Z]?\d*))+$")
_GREEK = re.compile(r"[-_ ]?(alpha|beta|gamma|delta|epsilon)$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_ ]")
# HPO / Disease Ontology ids as CURIEs, OBO-style IRIs or with "_" (HP_0001250)
_CODE = re.compile(r"^(?:https?://purl\.obolibrary\.org/obo/)?(HPO?|DOID)[:_](\d+)$", re.IGNORECASE)
_CURIE = re.compile(r"^[A-Za-z][\w.]*:\S+$")


class Resolved(NamedTuple):
    """What a resolver made of one feature: candidate nodes, status before the KG check, via."""

    nodes: tuple[str, ...]
    status: str
    via: str


UNLINKED = Resolved((), "unlinked", "")


# --------------------------------------------------------------------------------- resolvers


def _gene_found(ids: tuple[str, ...], status: str, via: str | None = None) -> Resolved:
    if status in MAPPED_STATUSES:
        return Resolved(ids, "linked", via or status)
    if status == "ambiguous":
        return Resolved(ids, "ambiguous", via or "gene")
    return UNLINKED


def _link_genes(features: Sequence[str], genes: GeneNormalizer) -> list[Resolved]:
    found = genes.resolve_many(features)
    return [_gene_found(i, s) for i, s in zip(found["ids"], found["status"])]


def antibody_genes(name: str, genes: GeneNormalizer) -> tuple[tuple[str, ...], str]:
    """Gene node ids recognised by an RPPA antibody, and how they were found.

    1. Strip phospho-site / cleavage suffixes (``Akt_pS473`` → ``Akt``, ``Caspase-7_cleavedD198``
       → ``Caspase-7``).
    2. Look the name up in :data:`ANTIBODY_GENES` (``"antibody_table"``; several genes for
       pan-specific antibodies).
    3. Else resolve it with ``genes`` (symbols, aliases: ``HER2`` → ERBB2, ``p53`` → TP53).
    4. Else try spelling variants: a trailing Greek letter as a letter, separators removed
       (``STAT5-alpha`` → ``STAT5A``, ``14-3-3_epsilon`` → ``14-3-3E``) (``"antibody_variant"``).

    Returns
    -------
    ids, via : tuple of str, str
        ``via`` is ``"antibody_table"``, ``"antibody_variant"``, a
        :class:`~kg.GeneNormalizer` status (``"symbol"``, ``"alias"``, ``"ambiguous"``, ...) or
        ``"unmapped"`` with no ids.

    Examples
    --------
    >>> genes = GeneNormalizer.from_frame(pd.DataFrame({"entrez_id": ["207", "208", "10000",
    ...     "6776", "2099"], "symbol": ["AKT1", "AKT2", "AKT3", "STAT5A", "ESR1"]}))
    >>> antibody_genes("Akt_pS473", genes)
    (('NCBIGene:207', 'NCBIGene:208', 'NCBIGene:10000'), 'antibody_table')
    >>> antibody_genes("STAT5-alpha", genes), antibody_genes("ER-alpha_pS118", genes)[0]
    ((('NCBIGene:6776',), 'antibody_variant'), ('NCBIGene:2099',))
    """
    base = _PTM.sub("", name.strip())
    symbols = _ANTIBODY_KEYS.get(base.upper())
    if symbols is not None:
        ids = [genes.resolve(s).id for s in symbols]
        found = tuple(dict.fromkeys(i for i in ids if i is not None))
        return (found, "antibody_table") if found else ((), "unmapped")
    literal = genes.resolve(base)
    if literal.status != "unmapped":
        return literal.ids, literal.status
    greek = _GREEK.sub(lambda m: m[1][0].upper(), base)
    for variant in dict.fromkeys((greek, _SEPARATORS.sub("", greek), _SEPARATORS.sub("", base))):
        found = genes.resolve(variant)
        if found.status in MAPPED_STATUSES:
            return found.ids, "antibody_variant"
    return (), "unmapped"


def _link_antibodies(features: Sequence[str], genes: GeneNormalizer) -> list[Resolved]:
    out = []
    for feature in features:
        ids, via = antibody_genes(feature, genes)
        if via == "antibody_table" and len(ids) > 1:
            out.append(Resolved(ids, "multiple", via))
        else:
            out.append(_gene_found(ids, "alias" if via.startswith("antibody") else via, via))
    return out


def _former_mirnas(kg: KnowledgeGraph) -> dict[str, tuple[str, ...]]:
    """Former miRNA id (an ``alt_ids`` entry of a ``mirna`` node) → the nodes that list it."""
    mirnas = kg.nodes.loc[kg.nodes["type"].to_numpy() == "mirna", "alt_ids"].explode().dropna()
    grouped = pd.Series(mirnas.index, index=mirnas.to_numpy()).groupby(level=0)
    return {alt: tuple(dict.fromkeys(ids)) for alt, ids in grouped}


def _link_mirnas(features: Sequence[str], kg: KnowledgeGraph | None) -> list[Resolved]:
    """Stem nodes of each miRNA name; with ``kg``, a stem that is no node but a miRNA's former
    id (``hsa-mir-103-1`` → ``mirna:hsa-mir-103``, renamed ``hsa-mir-103a``) goes to that miRNA."""
    former = _former_mirnas(kg) if kg is not None else {}
    out = []
    for feature in features:
        stems = [f"mirna:{stem}" for stem in mirna_stems(feature)]
        renamed = [s for s in stems if s in former and s not in kg]  # type: ignore[operator]
        nodes = tuple(
            dict.fromkeys(n for s in stems for n in (former[s] if s in renamed else (s,)))
        )
        if not nodes:
            out.append(UNLINKED)
            continue
        status = "multiple" if len(stems) > 1 else "ambiguous" if len(nodes) > 1 else "linked"
        out.append(Resolved(nodes, status, "mirna_alt_id" if renamed else "mirna"))
    return out


def _code_index(kg: KnowledgeGraph) -> dict[str, tuple[str, ...]]:
    """Upper-cased alt id / xref → the node ids that list it."""
    nodes = kg.nodes
    pairs = pd.concat([nodes[c].explode().dropna().astype(str) for c in ("alt_ids", "xrefs")])
    pairs = pairs[pairs.str.contains(":", regex=False)]
    grouped = pd.Series(pairs.index, index=pairs.str.upper().to_numpy()).groupby(level=0)
    return {key: tuple(dict.fromkeys(ids)) for key, ids in grouped}


def _link_codes(features: Sequence[str], kg: KnowledgeGraph | None) -> list[Resolved]:
    index = _code_index(kg) if kg is not None else {}
    out = []
    for feature in features:
        text = feature.strip()
        code = _CODE.match(text)
        if code is not None:
            prefix = "HP" if code[1].upper().startswith("HP") else "DOID"
            text = f"{prefix}:{code[2]}"
        if kg is not None and text in kg:
            out.append(Resolved((text,), "linked", "ontology_id"))
        elif kg is not None and _CURIE.match(text) and text.upper() in index:
            ids = index[text.upper()]
            out.append(Resolved(ids, "linked" if len(ids) == 1 else "ambiguous", "xref"))
        elif code is not None:
            out.append(Resolved((text,), "linked", "ontology_id"))
        else:
            out.append(UNLINKED)
    return out


def resolver_of(meta: Modality, scheme: str | None) -> str:
    """The resolver of a modality: that of ``scheme`` (see :data:`LINK_SCHEMES`), else its kind's."""
    if scheme is None:
        return _KIND_RESOLVERS[meta.kind]
    if scheme not in LINK_SCHEMES:
        msg = f"unknown id scheme {scheme!r} for modality {meta.name!r}; expected one of {sorted(LINK_SCHEMES)}."
        raise InvalidParameterError(msg)
    return LINK_SCHEMES[scheme]


def resolve_features(
    resolver: str,
    features: Sequence[str],
    genes: GeneNormalizer | None,
    kg: KnowledgeGraph | None,
) -> list[Resolved]:
    """What ``resolver`` makes of each feature (before the KG check and miRNA target expansion)."""
    if resolver == "gene":
        return _link_genes(features, genes)
    if resolver == "antibody":
        return _link_antibodies(features, genes)
    if resolver == "mirna":
        return _link_mirnas(features, kg)
    if resolver == "code":
        return _link_codes(features, kg)
    return [UNLINKED] * len(features)
