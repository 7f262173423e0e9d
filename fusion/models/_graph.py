"""The graph an estimator trains on: its cohort's links, pruned to their closure in the KG.

Linking (:func:`fusion.data.link_cohort`) is a stage of its own: an estimator's ``fit`` takes
precomputed :class:`~fusion.data.CohortLinks` (``fit(cohort, links=links)``) and only links the
cohort itself when none are given. :func:`check_links` says whether given links fit a cohort.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from fusion._exceptions import AlignmentError, InvalidParameterError
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks, link_cohort
from gnn import RelationGraph
from kg import KnowledgeGraph, seed_closure

__all__ = ["FittedGraph", "check_links", "fit_graph", "permute_nodes", "prune_graph"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FittedGraph:
    """The pruned graph, each modality's feature → node position (-1 unlinked), the report."""

    graph: RelationGraph
    feature_nodes: dict[str, torch.Tensor]
    use_graph: bool
    report: pd.DataFrame | None = None


def check_links(links: object, cohort: Cohort, owner: str) -> CohortLinks:
    """``links`` when they cover every modality and feature of ``cohort``, else an error.

    Links may cover more modalities than the cohort has (e.g. a whole cohort's links for one of
    its folds); each of the cohort's modalities must have been linked with the same features.

    Raises
    ------
    InvalidParameterError
        ``links`` is not a :class:`~fusion.data.CohortLinks`.
    AlignmentError
        A modality of ``cohort`` is not in ``links``, or its features differ (the message names
        the modality and how many features differ).
    """
    if not isinstance(links, CohortLinks):
        msg = f"{owner}.fit: links must be a fusion.CohortLinks (from fusion.link_cohort). Got {type(links).__name__} instead."
        raise InvalidParameterError(msg)
    for name in cohort:
        if name not in links.resolvers:
            msg = f"{owner}.fit: the links have no modality {name!r} (linked: {list(links.resolvers)}); link this cohort with fusion.link_cohort(cohort, kg)."
            raise AlignmentError(msg)
        linked = links.status(name).index
        features = pd.Index([str(f) for f in cohort[name].columns])
        extra, missing = features.difference(linked), linked.difference(features)
        if len(extra) or len(missing):
            msg = (
                f"{owner}.fit: the links of modality {name!r} do not match the cohort's features: "
                f"{len(extra)} of the cohort's {len(features)} features are not in the links "
                f"(e.g. {list(extra[:3])}), {len(missing)} linked features are not in the cohort "
                f"(e.g. {list(missing[:3])}); link this cohort with fusion.link_cohort(cohort, kg)."
            )
            raise AlignmentError(msg)
    return links


def _unlinked(features: Mapping[str, pd.Index]) -> dict[str, torch.Tensor]:
    return {m: torch.full((len(f),), -1, dtype=torch.long) for m, f in features.items()}


def permute_nodes(
    nodes: Mapping[str, pd.Series], linked: list[str], seed: int
) -> dict[str, pd.Series]:
    """Each modality's feature → node links with the linked nodes permuted among themselves.

    One seeded permutation of ``linked`` is applied to every modality, so features of one gene in
    several modalities (its mutation and its copy number) still share a node, the pruned graph
    is unchanged, and only *which* gene a feature sits on is randomised: the control that shows
    whether the feature-to-gene assignment carries the signal.

    Examples
    --------
    >>> links = {"mRNA": pd.Series(["g1", "g2", None]), "cnv": pd.Series(["g2"])}
    >>> out = permute_nodes(links, ["g1", "g2"], seed=1)
    >>> out["mRNA"].iloc[1] == out["cnv"].iloc[0], out["mRNA"].isna().tolist()
    (True, [False, False, True])
    """
    order = np.random.default_rng(seed).permutation(len(linked))
    mapping = dict(zip(linked, [linked[i] for i in order]))
    return {m: s.map(mapping) for m, s in nodes.items()}


def prune_graph(
    kg: KnowledgeGraph,
    seeds: list[str],
    *,
    control: str,
    relations: list[str] | None,
    min_seeds: int,
    max_fraction: float,
    min_ic: float,
    relation_groups: str,
    seed: int,
) -> RelationGraph:
    """``kg`` pruned to the closure of the linked nodes ``seeds`` (:func:`kg.seed_closure`) as
    a :class:`gnn.RelationGraph`, its edges rewired under ``control="rewired"`` (seeded)."""
    pruned = seed_closure(
        kg,
        seeds,
        relations=relations,
        min_seeds=min_seeds,
        max_fraction=max_fraction,
        min_ic=min_ic,
    )
    graph = RelationGraph.from_kg(pruned, group=relation_groups)
    return graph.shuffled(seed=seed) if control == "rewired" else graph


def fit_graph(
    cohort: Cohort,
    kg: KnowledgeGraph | None,
    links: CohortLinks | None,
    *,
    owner: str,
    control: str,
    relations: list[str] | None,
    min_seeds: int,
    max_fraction: float,
    min_ic: float,
    relation_groups: str,
    seed: int,
) -> FittedGraph:
    """Link ``cohort`` (or use ``links``), prune ``kg`` to the closure of the linked nodes, and
    apply the graph ``control`` (see :data:`fusion.models.params.CONTROLS`), seeded by ``seed``.

    Without a graph (``kg`` is ``None``, ``control="no_graph"``, or no feature links) the result
    is the empty graph with every feature unlinked, and ``use_graph`` False.
    """
    features = {name: cohort[name].columns for name in cohort}
    empty = FittedGraph(RelationGraph([], [], [], []), _unlinked(features), False)
    if kg is None or control == "no_graph":
        return empty
    links = link_cohort(cohort, kg) if links is None else check_links(links, cohort, owner)
    nodes = {
        m: links.feature_nodes(m).reindex([str(f) for f in columns])
        for m, columns in features.items()
    }
    seeds = sorted({n for s in nodes.values() for n in s.dropna()})
    if not seeds:
        logger.warning("%s: no feature links to the knowledge graph; graph branch off.", owner)
        return empty
    absent = pd.Index(seeds).difference(kg.nodes.index)
    if len(absent):
        msg = f"{owner}.fit: {len(absent)} linked nodes are not in the estimator's kg (e.g. {list(absent[:3])}): the links were made with another graph; link with fusion.link_cohort(cohort, kg)."
        raise AlignmentError(msg)
    graph = prune_graph(
        kg,
        seeds,
        control=control,
        relations=relations,
        min_seeds=min_seeds,
        max_fraction=max_fraction,
        min_ic=min_ic,
        relation_groups=relation_groups,
        seed=seed,
    )
    if control == "permuted_features":
        nodes = permute_nodes(nodes, seeds, seed)
    positions = {
        m: torch.from_numpy(graph.index_of(s.fillna("").tolist())) for m, s in nodes.items()
    }
    return FittedGraph(graph, positions, True, links.report)
