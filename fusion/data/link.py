"""Link the features of a :class:`~fusion.Cohort` to knowledge-graph node ids.

Each modality is linked by one *resolver*, chosen from its id scheme (or, without one, its kind):

* ``gene`` — Ensembl (version suffix ignored), Entrez, UniProt, ``SYMBOL|Entrez``, symbols and
  aliases, through :class:`kg.GeneNormalizer`, to ``NCBIGene:<entrez>``;
* ``antibody`` — RPPA antibody names (``Akt_pS473``, ``ER-alpha``, ``Cyclin_B1``) to the genes
  they recognise, see :func:`antibody_genes`;
* ``mirna`` — precursor (``hsa-mir-21``) and mature (``hsa-miR-21-5p``) names to the miRNA node
  ``mirna:hsa-mir-21``, and optionally through a miRNA → target table to genes;
* ``code`` — clinical / EHR codes that are HPO or Disease Ontology ids (``HP:0001250``,
  ``DOID_1612``), and with a graph any CURIE that is a node id, alt id or xref of a node;
* ``none`` — nothing to link (methylation ``cg`` probes, image embeddings).

Every feature is kept: unmappable ones are ``"unlinked"``. A name naming several genes (an alias
shared by genes) is ``"ambiguous"`` with every candidate listed, never silently picked; a feature
that *measures* several entities (a pan-specific antibody, a combined miRNA probe) is
``"multiple"``. With a graph, nodes it lacks are ``"not_in_kg"``.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, NamedTuple, get_args

import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion.data.cohort import Cohort, Modality
from kg.graph import KnowledgeGraph
from kg.normalize import MAPPED_STATUSES, GeneNormalizer, mirna_stems

__all__ = [
    "ANTIBODY_GENES",
    "LINK_SCHEMES",
    "LINK_STATUSES",
    "CohortLinks",
    "LinkStatus",
    "antibody_genes",
    "link_cohort",
]

logger = logging.getLogger(__name__)

#: Status of a feature (and of each of its rows in :meth:`CohortLinks.table`); rows of genes
#: reached through miRNA targets have status ``"target"``.
LinkStatus = Literal["linked", "multiple", "ambiguous", "not_in_kg", "unlinked"]
LINK_STATUSES: tuple[str, ...] = get_args(LinkStatus)

#: Resolver used for each id scheme (see :attr:`fusion.Modality.id_scheme`).
LINK_SCHEMES: Mapping[str, str] = {
    **dict.fromkeys(("ensembl", "entrez", "symbol", "symbol|entrez", "uniprot", "gene"), "gene"),
    "antibody": "antibody",
    **dict.fromkeys(("mirna_precursor", "mirna_mature", "mirna"), "mirna"),
    **dict.fromkeys(("hpo", "doid", "curie", "ontology"), "code"),
    **dict.fromkeys(("cg_probe", "none"), "none"),
}
# resolver of a modality without an id scheme, by kind (methylation tables may be gene-level)
_KIND_RESOLVERS = {
    "mRNA": "gene",
    "methylation": "gene",
    "protein": "antibody",
    "miRNA": "mirna",
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
_EXAMPLES = 5


class _Found(NamedTuple):
    """What a resolver made of one feature: candidate nodes, status before the KG check, via."""

    nodes: tuple[str, ...]
    status: str
    via: str


_UNLINKED = _Found((), "unlinked", "")


# --------------------------------------------------------------------------------- resolvers


def _gene_found(ids: tuple[str, ...], status: str, via: str | None = None) -> _Found:
    if status in MAPPED_STATUSES:
        return _Found(ids, "linked", via or status)
    if status == "ambiguous":
        return _Found(ids, "ambiguous", via or "gene")
    return _UNLINKED


def _link_genes(features: Sequence[str], genes: GeneNormalizer) -> list[_Found]:
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


def _link_antibodies(features: Sequence[str], genes: GeneNormalizer) -> list[_Found]:
    out = []
    for feature in features:
        ids, via = antibody_genes(feature, genes)
        if via == "antibody_table" and len(ids) > 1:
            out.append(_Found(ids, "multiple", via))
        else:
            out.append(_gene_found(ids, "alias" if via.startswith("antibody") else via, via))
    return out


def _link_mirnas(features: Sequence[str]) -> list[_Found]:
    out = []
    for feature in features:
        stems = mirna_stems(feature)
        nodes = tuple(f"mirna:{stem}" for stem in stems)
        out.append(
            _Found(nodes, "linked" if len(nodes) == 1 else "multiple", "mirna")
            if nodes
            else _UNLINKED
        )
    return out


def _code_index(kg: KnowledgeGraph) -> dict[str, tuple[str, ...]]:
    """Upper-cased alt id / xref → the node ids that list it."""
    nodes = kg.nodes
    pairs = pd.concat([nodes[c].explode().dropna().astype(str) for c in ("alt_ids", "xrefs")])
    pairs = pairs[pairs.str.contains(":", regex=False)]
    grouped = pd.Series(pairs.index, index=pairs.str.upper().to_numpy()).groupby(level=0)
    return {key: tuple(dict.fromkeys(ids)) for key, ids in grouped}


def _link_codes(features: Sequence[str], kg: KnowledgeGraph | None) -> list[_Found]:
    index = _code_index(kg) if kg is not None else {}
    out = []
    for feature in features:
        text = feature.strip()
        code = _CODE.match(text)
        if code is not None:
            prefix = "HP" if code[1].upper().startswith("HP") else "DOID"
            text = f"{prefix}:{code[2]}"
        if kg is not None and text in kg:
            out.append(_Found((text,), "linked", "ontology_id"))
        elif kg is not None and _CURIE.match(text) and text.upper() in index:
            ids = index[text.upper()]
            out.append(_Found(ids, "linked" if len(ids) == 1 else "ambiguous", "xref"))
        elif code is not None:
            out.append(_Found((text,), "linked", "ontology_id"))
        else:
            out.append(_UNLINKED)
    return out


# ------------------------------------------------------------------------------------ result


@dataclass(frozen=True)
class CohortLinks:
    """Links of a cohort's features to knowledge-graph nodes (see :func:`link_cohort`).

    Parameters
    ----------
    links : DataFrame
        Long table, one row per (feature, node): ``modality``, ``feature``, ``node`` (``None``
        for unlinked features), ``status`` (a :data:`LINK_STATUSES` value, or ``"target"`` for
        genes reached through miRNA targets) and ``via`` (how it was found).
    features : DataFrame
        One row per feature, modalities and features in cohort order: ``modality``,
        ``feature``, ``status``.
    resolvers : mapping of str to str
        Resolver used per modality (``"gene"``, ``"antibody"``, ``"mirna"``, ``"code"``, ``"none"``).
    kinds : mapping of str to str
        Kind of each modality.
    checked_in_kg : bool
        Whether nodes were checked against a knowledge graph.
    """

    links: pd.DataFrame
    features: pd.DataFrame
    resolvers: Mapping[str, str]
    kinds: Mapping[str, str]
    checked_in_kg: bool = False

    def _check(self, modality: str) -> None:
        if modality not in self.resolvers:
            msg = f"no modality {modality!r}; linked modalities are {list(self.resolvers)}."
            raise KeyError(msg)

    def table(self, modality: str) -> pd.DataFrame:
        """Long table ``feature, node, status, via`` of one modality; every feature appears."""
        self._check(modality)
        rows = self.links[self.links["modality"] == modality]
        return rows[["feature", "node", "status", "via"]].reset_index(drop=True)

    def status(self, modality: str) -> pd.Series:
        """Status of each feature of ``modality``, in column order."""
        self._check(modality)
        rows = self.features[self.features["modality"] == modality]
        return pd.Series(
            rows["status"].to_numpy(),
            index=pd.Index(rows["feature"], name="feature"),
            name="status",
        )

    def feature_nodes(self, modality: str) -> pd.Series:
        """Node of each feature of ``modality`` (column order); NaN unless uniquely linked.

        Several features may share one node (e.g. ``Akt_pS473`` and ``Akt_pT308`` on AKT1).
        """
        status = self.status(modality)
        rows = self.table(modality)
        unique = (
            rows[rows["status"] == "linked"].drop_duplicates("feature").set_index("feature")["node"]
        )
        out = unique.reindex(status.index).where(status.eq("linked").to_numpy())
        return out.astype(object).rename("node")

    @cached_property
    def nodes(self) -> pd.Index:
        """Every linked node id (``linked``, ``multiple`` and miRNA ``target`` rows), once each."""
        keep = self.links["status"].isin(("linked", "multiple", "target"))
        return pd.Index(self.links.loc[keep, "node"].drop_duplicates(), name="node", dtype=object)

    @cached_property
    def report(self) -> pd.DataFrame:
        """One row per modality: feature counts per status, fraction linked, examples.

        Columns ``kind``, ``resolver``, ``n_features``, one count per :data:`LINK_STATUSES`,
        ``fraction_linked`` (uniquely linked / features), ``n_nodes`` (distinct linked nodes,
        miRNA targets included), ``unlinked_examples`` and ``ambiguous_examples`` (lists).
        """
        rows = {}
        for modality, resolver in self.resolvers.items():
            status = self.status(modality)
            counts = status.value_counts().reindex(list(LINK_STATUSES), fill_value=0)
            table = self.table(modality)
            linked = table["status"].isin(("linked", "multiple", "target"))
            rows[modality] = {
                "kind": self.kinds[modality],
                "resolver": resolver,
                "n_features": len(status),
                **{s: int(counts[s]) for s in LINK_STATUSES},
                "fraction_linked": counts["linked"] / max(len(status), 1),
                "n_nodes": int(table.loc[linked, "node"].nunique()),
                "unlinked_examples": list(status.index[status == "unlinked"][:_EXAMPLES]),
                "ambiguous_examples": list(status.index[status == "ambiguous"][:_EXAMPLES]),
            }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("modality")


# -------------------------------------------------------------------------------------- link


def _resolver(meta: Modality, scheme: str | None) -> str:
    if scheme is None:
        return _KIND_RESOLVERS[meta.kind]
    if scheme not in LINK_SCHEMES:
        msg = f"unknown id scheme {scheme!r} for modality {meta.name!r}; expected one of {sorted(LINK_SCHEMES)}."
        raise InvalidParameterError(msg)
    return LINK_SCHEMES[scheme]


def _targets(mirna_targets: KnowledgeGraph) -> dict[str, tuple[str, ...]]:
    """miRNA node → its target gene nodes (edges from ``mirna`` to ``gene`` nodes)."""
    types = mirna_targets.nodes["type"]
    edges = mirna_targets.edges
    keep = edges["source"].map(types).eq("mirna") & edges["target"].map(types).eq("gene")
    grouped = edges[keep].groupby("source", sort=False)["target"]
    return {source: tuple(dict.fromkeys(targets)) for source, targets in grouped}


def _rows(
    modality: str,
    features: Sequence[str],
    found: Sequence[_Found],
    in_kg: Callable[[str], bool],
    targets: Mapping[str, tuple[str, ...]],
) -> tuple[list[tuple], list[str]]:
    """Long-table rows and the status of each feature, after the KG check and target expansion."""
    rows, statuses = [], []
    for feature, (nodes, status, via) in zip(features, found):
        if not nodes:
            rows.append((modality, feature, None, "unlinked", via))
            statuses.append("unlinked")
            continue
        present = [node for node in nodes if in_kg(node)]
        statuses.append(status if present else "not_in_kg")
        rows.extend((modality, feature, n, status if in_kg(n) else "not_in_kg", via) for n in nodes)
        reached = dict.fromkeys(g for node in present for g in targets.get(node, ()))
        rows.extend(
            (modality, feature, g, "target" if in_kg(g) else "not_in_kg", "mirna_targets")
            for g in reached
        )
    return rows, statuses


_GENES: weakref.WeakKeyDictionary[KnowledgeGraph, GeneNormalizer] = weakref.WeakKeyDictionary()


def _kg_genes(kg: KnowledgeGraph) -> GeneNormalizer:
    """:meth:`GeneNormalizer.from_kg` of ``kg``, built once per graph object (a graph's tables are
    read-only), so that repeated fits on one graph do not rebuild it."""
    if kg not in _GENES:
        _GENES[kg] = GeneNormalizer.from_kg(kg)
    return _GENES[kg]


def link_cohort(
    cohort: Cohort,
    kg: KnowledgeGraph | None = None,
    *,
    genes: GeneNormalizer | None = None,
    mirna_targets: KnowledgeGraph | None = None,
    schemes: Mapping[str, str] | None = None,
) -> CohortLinks:
    """Link every modality's features to knowledge-graph node ids.

    Parameters
    ----------
    cohort : Cohort
        The cohort; each modality is linked by the resolver of its id scheme (see
        :data:`LINK_SCHEMES`) or, without one, of its kind.
    kg : KnowledgeGraph, optional
        When given, only nodes of ``kg`` count as linked (others are ``"not_in_kg"``), and the
        ``code`` resolver also matches CURIEs listed as alt ids or xrefs of its nodes.
    genes : GeneNormalizer, optional
        Resolves gene ids; default :meth:`GeneNormalizer.from_kg` of ``kg``. Needed by modalities
        whose resolver is ``gene`` or ``antibody``.
    mirna_targets : KnowledgeGraph, optional
        miRNA → gene edges (e.g. :func:`kg.read_mirna_targets`); when given, miRNA features
        also get one ``"target"`` row per target gene of their miRNA node(s).
    schemes : mapping of str to str, optional
        Id scheme per modality name, overriding :attr:`Modality.id_scheme`.

    Returns
    -------
    CohortLinks

    Raises
    ------
    InvalidParameterError
        Unknown modality in ``schemes``, unknown scheme, or gene linking needed without
        ``genes`` or a ``kg`` with gene nodes.

    Examples
    --------
    >>> genes = GeneNormalizer.from_frame(pd.DataFrame({"entrez_id": ["7157", "1956"],
    ...     "symbol": ["TP53", "EGFR"], "ensembl_ids": ["ENSG00000141510", ""]}))
    >>> rna = pd.DataFrame([[1.0, 2.0, 3.0]], index=["p1"],
    ...                    columns=["ENSG00000141510.17", "EGFR|1956", "XYZ"])
    >>> mir = pd.DataFrame([[1.0, 2.0]], index=["p1"], columns=["hsa-mir-21", "cg00001"])
    >>> links = link_cohort(Cohort({"mRNA": rna, "miRNA": mir}), genes=genes)
    >>> links.feature_nodes("mRNA").tolist()
    ['NCBIGene:7157', 'NCBIGene:1956', nan]
    >>> links.report[["n_features", "linked", "unlinked"]].to_dict("index")["miRNA"]
    {'n_features': 2, 'linked': 1, 'unlinked': 1}
    """
    metas = cohort.modalities
    schemes = dict(schemes or {})
    unknown = sorted(set(schemes) - set(metas))
    if unknown:
        msg = f"schemes given for modalities not in the cohort: {unknown}; modalities are {list(metas)}."
        raise InvalidParameterError(msg)
    resolvers = {
        name: _resolver(meta, schemes.get(name, meta.id_scheme)) for name, meta in metas.items()
    }
    needs_genes = [n for n, r in resolvers.items() if r in ("gene", "antibody")]
    if needs_genes and genes is None:
        if kg is None or not (kg.nodes["type"] == "gene").any():
            msg = f"modalities {needs_genes} name genes: pass genes=GeneNormalizer.from_gene_info(...) or a kg with gene nodes."
            raise InvalidParameterError(msg)
        genes = _kg_genes(kg)
    in_kg: Callable[[str], bool] = (
        (lambda node: True) if kg is None else set(kg.nodes.index).__contains__
    )
    targets = _targets(mirna_targets) if mirna_targets is not None else {}
    all_rows, per_feature = [], []
    for name, resolver in resolvers.items():
        features = [str(f) for f in cohort[name].columns]
        if resolver == "gene":
            found = _link_genes(features, genes)
        elif resolver == "antibody":
            found = _link_antibodies(features, genes)
        elif resolver == "mirna":
            found = _link_mirnas(features)
        elif resolver == "code":
            found = _link_codes(features, kg)
        else:
            found = [_UNLINKED] * len(features)
        rows, statuses = _rows(name, features, found, in_kg, targets if resolver == "mirna" else {})
        all_rows.extend(rows)
        per_feature.append(
            pd.DataFrame({"modality": name, "feature": features, "status": statuses})
        )
        logger.info(
            "linked %s (%s): %s", name, resolver, pd.Series(statuses).value_counts().to_dict()
        )
    links = pd.DataFrame(
        all_rows, columns=["modality", "feature", "node", "status", "via"], dtype=object
    )
    features = (
        pd.concat(per_feature, ignore_index=True)
        if per_feature
        else pd.DataFrame(columns=["modality", "feature", "status"])
    )
    kinds = {name: meta.kind for name, meta in metas.items()}
    return CohortLinks(links, features, resolvers, kinds, checked_in_kg=kg is not None)
