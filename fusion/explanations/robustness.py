"""How explanations move when the inputs do: infidelity and stability of a cohort's explanations.

* :func:`infidelity` (Yeh et al. 2019, "On the (In)fidelity and Sensitivity of Explanations") of
  input-level (``ig_features``) attributions, computed by :func:`captum.metrics.infidelity` with
  node-wise Gaussian perturbations of the standardised features;
* :func:`topk_agreement`: the Jaccard index of two explanations' top-``k`` sets and the Spearman
  correlation of their scores over the nodes either scores, e.g. between ensembles fitted with other seeds
  (refitting is the caller's);
* :func:`perturbation_stability`: the same agreement with the explanations of the same patients
  after small Gaussian input noise (seeded).

:func:`fusion.explanations.faithfulness.evaluate_explanations` reports them beside random
explanations of equal size.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.stats import ConstantInputWarning, spearmanr

from fusion._exceptions import AlignmentError, InvalidParameterError
from fusion._params import check_positive
from fusion.data._checks import preview
from fusion.explanations.attribution import explain
from fusion.explanations.explanation import Explanation
from fusion.explanations.perturbation import (
    GraphEstimator,
    ModelOutput,
    add_noise,
    explained_cohort,
    feature_node_ids,
)
from gnn.attribution import ATTRIBUTION_METHODS

if TYPE_CHECKING:
    from fusion.data.cohort import Cohort

__all__ = ["Explainer", "infidelity", "perturbation_stability", "topk_agreement"]

#: Recomputes explanations of a cohort's patients (e.g. ``explain`` then ``decompose``).
Explainer = Callable[["Cohort"], list[Explanation]]


def _offset_cohort(
    base: Cohort,
    estimator: GraphEstimator,
    columns: pd.Index,
    offsets: np.ndarray,
    rows: np.ndarray,
) -> Cohort:
    """Rows ``rows`` of ``base``, every feature linked to node ``columns[j]`` moved by
    ``offsets[:, j]`` standardised units (the scaler's scale); sample ids ``"0"``, ``"1"``, ..."""
    from fusion.data.cohort import Cohort

    ids = pd.Index([str(i) for i in range(len(rows))])
    presence = base.presence
    frames = {}
    for modality, feature_node in feature_node_ids(estimator).items():
        if modality not in base:
            continue
        features = feature_node.index
        values = base[modality].reindex(index=base.samples, columns=features).to_numpy(float)
        scale = estimator.scaler_.scale_[modality].reindex(features).fillna(1.0).to_numpy()
        column = columns.get_indexer(feature_node.to_numpy())
        shift = np.where(column >= 0, offsets[:, np.clip(column, 0, None)], 0.0) * scale
        present = presence[modality].to_numpy()[rows]
        frames[modality] = pd.DataFrame(
            (values[rows] + shift)[present], index=ids[present], columns=features
        )
    return Cohort(frames, [base.modalities[name] for name in frames], samples=ids)


def _infidelity(
    estimator: GraphEstimator,
    cohort: Cohort,
    groups: Sequence[Sequence[Explanation]],
    sd: float,
    n_perturb: int,
    seed: int,
) -> np.ndarray:
    import torch
    from captum.metrics import infidelity as captum_infidelity

    output, base = ModelOutput(estimator), explained_cohort(cohort, groups[0])
    methods = sorted({e.method for e in groups[0]} - {"ig_features"})
    if methods:
        msg = f"infidelity needs input-level attributions (method 'ig_features'); got method(s) {methods}."
        raise InvalidParameterError(msg)
    targets = output.targets(groups[0])
    linked = feature_node_ids(estimator)
    columns = pd.Index(pd.unique(pd.concat(linked.values()).dropna()), dtype=object)
    scores = [e.scores.reindex(columns, fill_value=0.0).to_numpy() for g in groups for e in g]
    attributions = torch.tensor(np.stack(scores), dtype=torch.float64)
    rows = torch.arange(len(attributions)) % base.n_samples
    generator = torch.Generator().manual_seed(seed)

    def perturb(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(inputs.shape, generator=generator, dtype=inputs.dtype) * sd
        return noise, inputs - noise

    def forward(offsets: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        index = index.numpy()
        moved = _offset_cohort(base, estimator, columns, offsets.numpy(), index)
        chosen = None if targets is None else targets[index]
        return torch.from_numpy(output.explained(output.outputs(moved), chosen))

    values = captum_infidelity(
        forward,
        perturb,
        torch.zeros_like(attributions),
        attributions,
        additional_forward_args=(rows,),
        n_perturb_samples=n_perturb,
        max_examples_per_batch=len(attributions),  # one perturbation of every row per call
    )
    return values.numpy()


def infidelity(
    estimator: GraphEstimator,
    cohort: Cohort,
    explanations: Sequence[Explanation],
    *,
    sd: float = 0.1,
    n_perturb: int = 10,
    seed: int = 0,
) -> np.ndarray:
    """Infidelity (Yeh et al. 2019) of input-level attributions, by :func:`captum.metrics.infidelity`.

    .. math::
        \\mathrm{INFD} = \\mathbb{E}_{I}\\big[(I^\\top \\phi - (f(x) - f(x - I)))^2\\big]

    Perturbation: ``I_n ~ N(0, sd²)`` per input node ``n`` (the model's linked nodes), subtracted
    from the standardised value of every observed feature linked to ``n`` (raw value minus
    ``I_n`` times the feature's training scale). Moving a node's features together makes
    ``I^T φ`` the sum over nodes of ``I_n`` times the node's score, which for ``ig_features`` is
    the sum of its features' attributions: the feature-level infidelity of those perturbations.

    Parameters
    ----------
    estimator, cohort, explanations :
        As in :func:`fidelity`; the explanations' method must be ``"ig_features"``.
    sd : float
        Standard deviation of the perturbation (default: ``0.1``).
    n_perturb : int
        Perturbations per patient (default: ``10``).
    seed : int
        Seeds the perturbations (default: ``0``).

    Returns
    -------
    numpy.ndarray
        Per patient, in order (``normalize=False``: in squared output units).

    Raises
    ------
    InvalidParameterError
        If an explanation's method is not ``"ig_features"``.
    """
    n_perturb = check_positive("n_perturb", n_perturb, "infidelity")
    return _infidelity(estimator, cohort, [explanations], sd, n_perturb, seed)


def topk_agreement(
    a: Sequence[Explanation],
    b: Sequence[Explanation],
    k: int = 10,
    types: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
    *,
    max_share: float | None | Literal["default"] = "default",
) -> pd.DataFrame:
    """Agreement of two explanations of each patient (matched by patient id): the Jaccard index
    of their top-``k`` sets and the Spearman correlation of their scores over the nodes (of
    ``types`` / ``namespace``) that either scores non-zero (the nodes either could rank). The
    rankings are :meth:`Explanation.ranking`'s with ``max_share`` (default: each explanation's).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient``, ``jaccard`` (NaN when no node is selected), ``spearman`` (NaN
        when a side's scores are constant over those nodes), in the order of ``a``.

    Raises
    ------
    AlignmentError
        If a patient of ``a`` has no explanation in ``b``.

    Examples
    --------
    >>> from kg import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(list("abcd"), "gene", "x"), make_edges(["a"], "r", ["b"], "x"))
    >>> e = Explanation(kg, pd.Series({"a": 4.0, "b": 3.0, "c": 2.0}), list("abcd"), "p")
    >>> f = Explanation(kg, pd.Series({"a": 4.0, "c": 3.0, "d": 2.0}), list("abcd"), "p")
    >>> topk_agreement([e], [f], k=2).round(3).to_dict("records")  # tops {a, b}, {a, c}
    [{'patient': 'p', 'jaccard': 0.333, 'spearman': 0.4}]
    """
    k = check_positive("k", k, "topk_agreement")
    others = {e.patient: e for e in b}
    missing = [e.patient for e in a if e.patient not in others]
    if missing:
        raise AlignmentError(f"no explanation of patient(s) {preview(missing)} to compare with.")
    rows = []
    for e in a:
        first = e.ranking(types, namespace, max_share=max_share)
        second = others[e.patient].ranking(types, namespace, max_share=max_share)
        top_a, top_b = set(first.index[:k]), set(second.index[:k])
        scored = first.index[first.to_numpy() != 0].union(second.index[second.to_numpy() != 0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstantInputWarning)
            rho = spearmanr(
                first.reindex(scored, fill_value=0.0), second.reindex(scored, fill_value=0.0)
            ).statistic
        union = len(top_a | top_b)
        rows.append((e.patient, len(top_a & top_b) / union if union else np.nan, float(rho)))
    return pd.DataFrame(rows, columns=["patient", "jaccard", "spearman"])


def _reexplainer(
    estimator: GraphEstimator, explanations: Sequence[Explanation], explainer: Explainer | None
) -> Explainer:
    if explainer is not None:
        return explainer
    methods = sorted({e.method for e in explanations})
    if len(methods) != 1 or methods[0] not in ATTRIBUTION_METHODS:
        msg = (
            f"explanations of method(s) {methods} cannot be recomputed by explain(); pass an "
            "explainer (a function cohort -> explanations) doing what made them."
        )
        raise InvalidParameterError(msg)
    patients = [e.patient for e in explanations]
    return lambda noisy: explain(estimator, noisy, patients, method=methods[0])  # type: ignore[arg-type]


def perturbation_stability(
    estimator: GraphEstimator,
    cohort: Cohort,
    explanations: Sequence[Explanation],
    k: int = 10,
    *,
    sd: float = 0.1,
    seed: int = 0,
    explainer: Explainer | None = None,
    types: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """:func:`topk_agreement` of the explanations with those of the same patients after
    Gaussian noise of ``sd`` standardised units (:func:`~fusion.explanations.perturbation.add_noise`).

    ``explainer`` recomputes explanations from a cohort (default: :func:`explain` with the
    explanations' method; give one for decomposed or otherwise post-processed explanations).
    ``types`` / ``namespace`` select the top nodes as in :meth:`Explanation.top`.

    Raises
    ------
    InvalidParameterError
        If no ``explainer`` is given and the explanations' method is not one of
        :data:`gnn.ATTRIBUTION_METHODS`, or ``sd`` is negative.
    """
    reexplain = _reexplainer(estimator, explanations, explainer)
    noisy = reexplain(add_noise(explained_cohort(cohort, explanations), estimator, sd, seed))
    return topk_agreement(explanations, noisy, k, types, namespace)
