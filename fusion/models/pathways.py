"""The knowledge-only baseline: pathway-level features into a regularised linear model.

:class:`PathwayFeatures` turns a cohort into one column per (modality, gene set): the gene sets
are the KG's ``pathway`` / ``go_term`` nodes that the features' linked nodes point to (optionally
propagated up the ``is_a`` / ``part_of`` hierarchy), kept when they hold between ``min_genes``
and ``max_genes`` of a modality's linked nodes. A binary modality (every training value 0 or 1,
e.g. mutations) gives the burden (count or share of its member features that are 1); any other
modality the mean z-score of its member features, standardised with the training mean and sd.
Every statistic is fitted on the training cohort only; a sample lacking a modality gets NaN
(imputed in-fold by the model's pipeline). :class:`PathwayFeatureLogistic` and
:class:`PathwayFeatureCox` fit :func:`~fusion.models.baselines.tuned_pipeline`'s logistic model
and :class:`~fusion.models.survival_baselines.EarlyFusionCoxnet`'s Cox model on these features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator

from fusion._exceptions import AlignmentError
from fusion._params import Boolean, Constraints, InstanceOf, Interval, ListOf, StrOptions
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks, link_cohort
from fusion.models._graph import check_links
from fusion.models.baselines import _SEED, _CohortClassifier, _logistic
from fusion.models.params import check_fitted, validate_params
from fusion.models.survival_baselines import EarlyFusionCoxnet
from kg import KnowledgeGraph

__all__ = ["PathwayFeatureCox", "PathwayFeatureLogistic", "PathwayFeatures", "gene_set_members"]

Burden = Literal["count", "share"]
_HIERARCHY = ("is_a", "part_of")


def gene_set_members(
    kg: KnowledgeGraph,
    nodes: pd.Index,
    set_types: tuple[str, ...] = ("pathway", "go_term"),
    propagate: bool = True,
) -> tuple[sparse.csr_matrix, pd.Index]:
    """Which gene sets each of ``nodes`` belongs to: a boolean ``(len(nodes), n_sets)`` matrix
    and the set ids.

    A node belongs to the sets of ``set_types`` its edges point to; with ``propagate`` also to
    every superterm of those (``is_a`` / ``part_of`` edges between sets, child → parent).

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> kg = KnowledgeGraph(
    ...     pd.concat([make_nodes(["G:1", "G:2"], "gene", "d"),
    ...                make_nodes(["GO:1", "GO:9"], "go_term", "d")]),
    ...     pd.concat([make_edges(["G:1"], "involved_in", ["GO:1"], "d"),
    ...                make_edges(["GO:1"], "is_a", ["GO:9"], "d")]))
    >>> members, sets = gene_set_members(kg, pd.Index(["G:1", "G:2"]))
    >>> list(sets), members.toarray().astype(int).tolist()
    (['GO:1', 'GO:9'], [[1, 1], [0, 0]])
    """
    present = [t for t in set_types if t in kg.node_types]  # a GO-only graph has no pathways
    sets = kg.nodes_of_type(*present) if present else pd.Index([], dtype=object)
    edges = kg.edges
    column = pd.Series(np.arange(len(sets)), index=sets)
    row = pd.Series(np.arange(len(nodes)), index=nodes)
    direct = edges[edges["source"].isin(nodes) & edges["target"].isin(sets)]
    members = sparse.csr_matrix(
        (np.ones(len(direct)), (row[direct["source"]], column[direct["target"]])),
        shape=(len(nodes), len(sets)),
    )
    members = (members > 0).astype(float)
    if propagate:
        up = edges[
            edges["relation"].isin(_HIERARCHY)
            & edges["source"].isin(sets)
            & edges["target"].isin(sets)
        ]
        parent = sparse.csr_matrix(
            (np.ones(len(up)), (column[up["source"]], column[up["target"]])),
            shape=(len(sets), len(sets)),
        )
        while True:  # one hierarchy level per round, until nothing new is reached
            grown = ((members + members @ parent) > 0).astype(float)
            if grown.nnz == members.nnz:
                break
            members = grown
    return members.tocsr(), pd.Index(sets)


@dataclass(frozen=True)
class _ModalitySets:
    """One modality's fitted state: feature → set weights and the training statistics."""

    features: pd.Index
    sets: pd.Index
    weights: sparse.csr_matrix  # (n_features, n_sets), 1 where the feature is in the set
    binary: bool
    mean: np.ndarray
    sd: np.ndarray


class PathwayFeatures(BaseEstimator):
    """Per-modality gene-set scores of a cohort, fitted on the training cohort only.

    Parameters
    ----------
    kg : KnowledgeGraph
        Gives the gene sets (its ``set_types`` nodes) and the features' links.
    set_types : tuple of str
        Node types that are gene sets (default: ``("pathway", "go_term")``).
    propagate : bool
        Also count members of a set's subterms (default: ``True``).
    min_genes, max_genes : int
        Keep sets with this many of a modality's linked nodes (defaults: ``5``, ``500``).
    burden : {"count", "share"}
        Binary modalities: the number, or the share, of member features that are 1.

    Attributes
    ----------
    modalities_ : dict of str to _ModalitySets
        Per modality with at least one kept set: its features, sets, weights, whether it is
        binary, and the training mean and sd of each feature.

    Examples
    --------
    See :class:`PathwayFeatureLogistic`.
    """

    _param_constraints: ClassVar[Constraints] = {
        "kg": [InstanceOf(KnowledgeGraph, "kg.KnowledgeGraph")],
        "set_types": [ListOf(str)],
        "propagate": [Boolean()],
        "min_genes": [Interval(int, 1, None)],
        "max_genes": [Interval(int, 1, None)],
        "burden": [StrOptions({"count", "share"})],
    }

    def __init__(
        self,
        kg: KnowledgeGraph | None = None,
        set_types: tuple[str, ...] = ("pathway", "go_term"),
        propagate: bool = True,
        min_genes: int = 5,
        max_genes: int = 500,
        burden: Burden = "count",
    ) -> None:
        self.kg = kg
        self.set_types = set_types
        self.propagate = propagate
        self.min_genes = min_genes
        self.max_genes = max_genes
        self.burden = burden

    def fit(self, cohort: Cohort, links: CohortLinks | None = None) -> PathwayFeatures:
        """Link ``cohort`` (or use ``links``), find each modality's sets and the training
        statistics of its features; returns ``self``.

        Raises
        ------
        AlignmentError
            No modality has a set of ``min_genes`` to ``max_genes`` linked nodes.
        """
        validate_params(self)
        owner = type(self).__name__
        links = link_cohort(cohort, self.kg) if links is None else check_links(links, cohort, owner)
        self.modalities_: dict[str, _ModalitySets] = {}
        for name in cohort:
            fitted = self._fit_modality(cohort, name, links.feature_nodes(name))
            if fitted is not None:
                self.modalities_[name] = fitted
        if not self.modalities_:
            msg = f"{owner}.fit: no modality of the cohort ({list(cohort)}) has a gene set of {self.min_genes} to {self.max_genes} linked nodes; link more features or lower min_genes."
            raise AlignmentError(msg)
        return self

    def _fit_modality(self, cohort: Cohort, name: str, nodes: pd.Series) -> _ModalitySets | None:
        frame = cohort[name].reindex(cohort.samples[cohort.presence[name].to_numpy()])
        features = pd.Index([str(f) for f in frame.columns])
        nodes = nodes.reindex(features)
        linked = nodes.dropna()
        if linked.empty:
            return None
        distinct = pd.Index(linked.unique())
        members, sets = gene_set_members(self.kg, distinct, tuple(self.set_types), self.propagate)
        sizes = np.asarray(members.sum(axis=0)).ravel()
        keep = (sizes >= self.min_genes) & (sizes <= self.max_genes)
        if not keep.any():
            return None
        rows = np.full(len(features), -1)
        rows[features.get_indexer(linked.index)] = distinct.get_indexer(linked.to_numpy())
        pick = sparse.csr_matrix(
            (np.ones((rows >= 0).sum()), (np.flatnonzero(rows >= 0), rows[rows >= 0])),
            shape=(len(features), len(distinct)),
        )
        values = frame.to_numpy(dtype=float)
        observed = values[~np.isnan(values)]
        sd = np.nanstd(values, axis=0, ddof=0)
        return _ModalitySets(
            features=features,
            sets=sets[keep],
            weights=(pick @ members[:, keep]).tocsr(),
            binary=bool(np.isin(observed, (0.0, 1.0)).all()),
            mean=np.nanmean(values, axis=0) if len(values) else np.zeros(len(features)),
            sd=np.where(np.isfinite(sd) & (sd > 0), sd, 1.0),
        )

    def transform(self, cohort: Cohort) -> pd.DataFrame:
        """One column ``<modality>:<set>`` per fitted modality and set; rows in cohort order,
        NaN for samples lacking the modality (or with no observed member feature)."""
        check_fitted(self, "modalities_")
        frames = []
        for name, fitted in self.modalities_.items():
            if name in cohort:
                values = cohort[name].reindex(index=cohort.samples, columns=fitted.features)
                values = values.to_numpy(dtype=float)
            else:
                values = np.full((cohort.n_samples, len(fitted.features)), np.nan)
            if not fitted.binary:
                values = (values - fitted.mean) / fitted.sd
            seen = ~np.isnan(values)
            total = np.asarray(fitted.weights.T @ np.nan_to_num(values).T).T
            counted = np.asarray(fitted.weights.T @ seen.astype(float).T).T
            with np.errstate(invalid="ignore", divide="ignore"):
                score = total if fitted.binary and self.burden == "count" else total / counted
            score = np.where(counted > 0, score, np.nan)
            columns = [f"{name}:{s}" for s in fitted.sets]
            frames.append(pd.DataFrame(score, index=cohort.samples, columns=columns))
        return pd.concat(frames, axis=1)


_PATHWAY_CONSTRAINTS: Constraints = {
    **PathwayFeatures._param_constraints,
    "random_state": _SEED,
}


class _PathwayDesign:
    """Design matrix = :class:`PathwayFeatures` of the cohort; ``fit`` takes ``links``."""

    #: Takes ``kg=`` (see :func:`fusion.app.estimators.takes_kg`).
    takes_kg: ClassVar[bool] = True
    kg: KnowledgeGraph | None
    set_types: tuple[str, ...]
    propagate: bool
    min_genes: int
    max_genes: int
    burden: Burden

    def fit(self, cohort: Cohort, y: object = None, links: CohortLinks | None = None) -> Any:
        """Fit the pathway features on ``cohort`` (linked, or with precomputed ``links``), then
        the model on them; returns ``self``."""
        validate_params(self)
        params = {k: getattr(self, k) for k in PathwayFeatures._param_constraints}
        self.pathways_ = PathwayFeatures(**params).fit(cohort, links=links)
        return super().fit(cohort)  # type: ignore[misc]

    def _fit_design(self, cohort: Cohort) -> pd.DataFrame:
        return self.pathways_.transform(cohort)

    def _design(self, cohort: Cohort) -> pd.DataFrame:
        return self.pathways_.transform(cohort)


class PathwayFeatureLogistic(_PathwayDesign, _CohortClassifier):
    """:class:`PathwayFeatures` → imputation → standardisation → L2 logistic regression, its
    ``C`` tuned by inner CV as in :class:`~fusion.models.EarlyFusionLogistic`.

    Parameters
    ----------
    kg, set_types, propagate, min_genes, max_genes, burden :
        See :class:`PathwayFeatures`.
    random_state : int
        Seed of the inner folds.

    Examples
    --------
    Twelve genes in three GO terms; the label follows the first term's mean expression:

    >>> from kg import make_edges, make_nodes
    >>> genes = [f"NCBIGene:{i}" for i in range(12)]
    >>> kg = KnowledgeGraph(
    ...     pd.concat([make_nodes(genes, "gene", "d", name=[f"G{i}" for i in range(12)]),
    ...                make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "d")]),
    ...     make_edges(genes, "involved_in", [f"GO:{i // 4 + 1}" for i in range(12)], "d"))
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(60, 12)), columns=[f"G{i}" for i in range(12)],
    ...                  index=[f"p{i}" for i in range(60)])
    >>> y = x.iloc[:, :4].mean(axis=1).gt(0)
    >>> model = PathwayFeatureLogistic(kg, min_genes=4).fit(Cohort({"mRNA": x}, labels=y))
    >>> list(model.pathways_.transform(Cohort({"mRNA": x})).columns)
    ['mRNA:GO:1', 'mRNA:GO:2', 'mRNA:GO:3']
    >>> bool(model.score(Cohort({"mRNA": x}, labels=y)) > 0.8)
    True
    """

    _param_constraints: ClassVar[Constraints] = _PATHWAY_CONSTRAINTS

    def __init__(
        self,
        kg: KnowledgeGraph | None = None,
        set_types: tuple[str, ...] = ("pathway", "go_term"),
        propagate: bool = True,
        min_genes: int = 5,
        max_genes: int = 500,
        burden: Burden = "count",
        random_state: int = 0,
    ) -> None:
        self.kg = kg
        self.set_types = set_types
        self.propagate = propagate
        self.min_genes = min_genes
        self.max_genes = max_genes
        self.burden = burden
        self.random_state = random_state

    def _pipeline(self) -> BaseEstimator:
        return _logistic(self.random_state)


class PathwayFeatureCox(_PathwayDesign, EarlyFusionCoxnet):
    """:class:`PathwayFeatures` → imputation → standardisation → elastic-net Cox model, the
    penalty tuned by inner CV as in :class:`~fusion.models.EarlyFusionCoxnet`.

    Parameters
    ----------
    kg, set_types, propagate, min_genes, max_genes, burden :
        See :class:`PathwayFeatures`.
    l1_ratio, n_alphas, alpha_min_ratio, n_inner, random_state :
        See :class:`~fusion.models.EarlyFusionCoxnet`.
    """

    _param_constraints: ClassVar[Constraints] = {
        **EarlyFusionCoxnet._param_constraints,
        **_PATHWAY_CONSTRAINTS,
    }

    def __init__(
        self,
        kg: KnowledgeGraph | None = None,
        set_types: tuple[str, ...] = ("pathway", "go_term"),
        propagate: bool = True,
        min_genes: int = 5,
        max_genes: int = 500,
        burden: Burden = "count",
        l1_ratio: float = 0.5,
        n_alphas: int = 20,
        alpha_min_ratio: float = 0.05,
        n_inner: int = 5,
        random_state: int = 0,
    ) -> None:
        self.kg = kg
        self.set_types = set_types
        self.propagate = propagate
        self.min_genes = min_genes
        self.max_genes = max_genes
        self.burden = burden
        super().__init__(l1_ratio, n_alphas, alpha_min_ratio, n_inner, random_state)
