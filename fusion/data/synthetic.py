"""Synthetic cohorts with a planted signal over a real knowledge graph (ground truth for explanations).

:func:`make_planted_cohort` draws patients whose label depends, noisily, on the activity of a
few *planted* pathways: every gene of a planted pathway (members of it and of its sub-pathways)
follows that pathway's latent activity; the label is the sign of the summed activities plus
noise. *Decoy* pathways get latent activities unrelated to the label, so co-expression alone does
not reveal the planted ones. An explanation method is faithful when it ranks the planted
pathways (:attr:`PlantedTruth.pathways`) above the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion.data._checks import show
from fusion.data.cohort import Cohort, Modality
from kg import KnowledgeGraph, subterms

__all__ = ["PlantedTruth", "make_planted_cohort", "pathway_genes"]


@dataclass(frozen=True)
class PlantedTruth:
    """What :func:`make_planted_cohort` planted.

    Attributes
    ----------
    pathways : list of str
        The planted pathway ids (the label depends on them).
    decoys : list of str
        Pathways with label-independent latent activity.
    genes : pandas.Index
        Gene ids of the planted pathways that are features.
    feature_nodes : dict of str to pandas.Series
        Per modality, the KG id of each feature (indexed by feature name).
    activity : pandas.DataFrame
        Latent activity, samples × (planted + decoy) pathways.
    seed : int
        The seed used.
    """

    pathways: list[str]
    decoys: list[str]
    genes: pd.Index
    feature_nodes: dict[str, pd.Series]
    activity: pd.DataFrame
    seed: int


def pathway_genes(kg: KnowledgeGraph, pathway: str, relation: str = "member_of") -> pd.Index:
    """Genes that are ``relation`` members of ``pathway`` or of any of its sub-pathways (sorted).

    Raises
    ------
    kg.UnknownNodeError
        If ``pathway`` is not a node.
    """
    below = subterms(kg, pathway, relations=("part_of", "is_a"), include_self=True)
    e = kg.edges
    members = e.loc[(e["relation"] == relation) & e["target"].isin(below), "source"]
    return pd.Index(sorted(members.unique()), name="id")


def make_planted_cohort(
    kg: KnowledgeGraph,
    pathways: Sequence[str],
    n_samples: int = 200,
    modalities: Sequence[str] = ("mRNA", "protein"),
    missing_fraction: float = 0.2,
    *,
    n_features: int = 300,
    n_decoys: int = 5,
    signal: float = 1.0,
    label_noise: float = 0.3,
    seed: int = 0,
) -> tuple[Cohort, PlantedTruth]:
    """A labelled multimodal cohort whose label is a noisy function of planted pathways' genes.

    Parameters
    ----------
    kg : KnowledgeGraph
        With ``gene --member_of--> pathway`` and ``pathway --part_of--> pathway`` edges.
    pathways : sequence of str
        The pathways to plant (each must have member genes).
    n_samples : int
        Patients (default: ``200``).
    modalities : sequence of str
        Modality kinds; each measures its own random subset of the genes, always including the
        planted genes, named by gene symbol (the node ``name``) or id (default: mRNA, protein).
    missing_fraction : float
        Fraction of patients lacking each modality after the first (default: ``0.2``).
    n_features : int
        Features per modality, planted genes included (default: ``300``).
    n_decoys : int
        Decoy pathways with label-independent activity (default: ``5``).
    signal : float
        Loading of a gene on its pathway's activity; noise has unit variance (default: ``1.0``).
    label_noise : float
        Standard deviation of the noise added to the summed activity (default: ``0.3``).
    seed : int
        Random seed (default: ``0``).

    Returns
    -------
    (Cohort, PlantedTruth)
        Labels ``"case"``/``"control"``; feature values are standardised gene values.

    Raises
    ------
    InvalidParameterError
        If a parameter is out of range or a planted pathway has no member genes.
    kg.UnknownNodeError
        If a pathway is not a node.
    """
    if not 0.0 <= missing_fraction < 1.0:
        msg = f"The 'missing_fraction' parameter must be in [0, 1). Got {show(missing_fraction)}."
        raise InvalidParameterError(msg)
    if n_samples < 4 or not modalities:
        msg = f"need n_samples >= 4 and at least one modality; got {n_samples}, {modalities!r}."
        raise InvalidParameterError(msg)
    rng = np.random.default_rng(seed)
    planted = {p: pathway_genes(kg, p) for p in kg.check_nodes(pathways)}
    empty = [p for p, g in planted.items() if len(g) == 0]
    if empty:
        msg = f"planted pathway(s) {empty} have no member genes in the knowledge graph."
        raise InvalidParameterError(msg)
    planted_genes = pd.Index(sorted(set().union(*planted.values())), name="id")
    if len(planted_genes) > n_features:
        msg = f"n_features={n_features} is less than the {len(planted_genes)} planted genes."
        raise InvalidParameterError(msg)
    all_genes = kg.nodes_of_type("gene")
    samples = [f"s{i:04d}" for i in range(n_samples)]
    decoys = _decoys(kg, planted_genes, n_decoys, rng)
    members = {**planted, **{d: pathway_genes(kg, d) for d in decoys}}
    activity = pd.DataFrame(
        rng.standard_normal((n_samples, len(members))), index=samples, columns=list(members)
    )
    score = activity[list(planted)].sum(axis=1) / np.sqrt(len(planted))
    noisy = score + label_noise * rng.standard_normal(n_samples)
    labels = pd.Series(np.where(noisy > np.median(noisy), "case", "control"), index=samples)
    others = all_genes.difference(planted_genes)
    data, meta, feature_nodes = {}, [], {}
    for m, kind in enumerate(modalities):
        extra = rng.choice(others.to_numpy(), n_features - len(planted_genes), replace=False)
        genes = pd.Index(sorted([*planted_genes, *extra]))
        values = rng.standard_normal((n_samples, len(genes)))
        for p, member in members.items():
            columns = genes.get_indexer(member.intersection(genes))
            values[:, columns] += signal * activity[p].to_numpy()[:, None]
        values = (values - values.mean(axis=0)) / values.std(axis=0)
        names = _feature_names(kg, genes)
        frame = pd.DataFrame(values, index=samples, columns=names)
        if m > 0 and missing_fraction > 0:
            absent = rng.random(n_samples) < missing_fraction
            frame = frame.loc[~absent]
        data[kind] = frame
        meta.append(Modality(kind, kind, "symbol"))  # type: ignore[arg-type]
        feature_nodes[kind] = pd.Series(genes.to_numpy(), index=names, name="node")
    cohort = Cohort(data, meta, labels=labels, samples=samples)
    truth = PlantedTruth(list(planted), decoys, planted_genes, feature_nodes, activity, seed)
    return cohort, truth


def _decoys(
    kg: KnowledgeGraph, planted_genes: pd.Index, n: int, rng: np.random.Generator
) -> list[str]:
    """``n`` random pathways with 5-50 member genes, none shared with the planted pathways."""
    e = kg.edges[kg.edges["relation"] == "member_of"]
    sizes = e.groupby("target")["source"].nunique()
    touched = set(e.loc[e["source"].isin(planted_genes), "target"])
    pool = [p for p, s in sizes.items() if 5 <= s <= 50 and p not in touched]
    picked: list[str] = []
    for p in rng.permutation(sorted(pool)):
        if len(picked) == n:
            break
        if not pathway_genes(kg, str(p)).isin(planted_genes).any():
            picked.append(str(p))
    return picked


def _feature_names(kg: KnowledgeGraph, genes: pd.Index) -> list[str]:
    """Gene symbols (node names) where known and unique, else the node ids."""
    names = kg.nodes.loc[genes, "name"]
    named = names.where(names.notna() & ~names.duplicated(keep=False), genes.to_series())
    return [str(n) for n in named]
