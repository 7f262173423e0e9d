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
``"multiple"``. With a graph, nodes it lacks are ``"not_in_kg"``. The resolvers live in
:mod:`fusion.data.resolvers`.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion.data.cohort import Cohort
from fusion.data.resolvers import (
    ANTIBODY_GENES,
    LINK_SCHEMES,
    Resolved,
    antibody_genes,
    resolve_features,
    resolver_of,
)
from kg.graph import KnowledgeGraph
from kg.normalize import GeneNormalizer

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
_EXAMPLES = 5


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
    found: Sequence[Resolved],
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
        name: resolver_of(meta, schemes.get(name, meta.id_scheme)) for name, meta in metas.items()
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
        found = resolve_features(resolver, features, genes, kg)
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
