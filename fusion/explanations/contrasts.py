"""Terms whose explanation scores differ between groups of patients, with permutation statistics.

:func:`contrast` compares the scores of each term (pathway, GO term, gene, ...) between groups
of explained patients: predicted classes by default (for a survival model, high vs low risk),
true labels, or any grouping. Per term it reports the mean score in each group, their
difference, an effect size (Cliff's delta) and a label-permutation p-value, with
Benjamini–Hochberg q-values over the terms. :func:`permutation_pvalues` is the test alone, on a
patients × terms matrix: one set of label permutations serves every term (matrix products, no
per-term loop).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import combinations
from math import comb
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, rankdata

from fusion._exceptions import InvalidParameterError
from fusion._params import check_positive, invalid_parameter
from fusion.data._checks import preview
from fusion.explanations._groups import _groups
from fusion.explanations.attribution import PREDICTED_CLASS

if TYPE_CHECKING:
    from fusion.explanations.explanation import Explanation

__all__ = ["ALTERNATIVES", "CONTRAST_COLUMNS", "cliffs_delta", "contrast", "permutation_pvalues"]

logger = logging.getLogger(__name__)

#: Columns of :func:`contrast`.
CONTRAST_COLUMNS: tuple[str, ...] = (
    "group", "versus", "id", "name", "type", "namespace", "n_group", "n_versus",
    "mean_group", "mean_versus", "difference", "effect", "p_value", "q_value",
)  # fmt: skip
#: Alternative hypotheses of :func:`permutation_pvalues`, on ``difference = group - versus``.
ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")
Alternative = Literal["two-sided", "greater", "less"]
#: ``versus`` of a group compared with all other patients.
REST = "rest"
_CHUNK = 256  # permutations per matrix product (bounds memory: _CHUNK x terms floats)
_RTOL = 1e-9  # a permuted difference within _RTOL x max|score| of the observed one ties it


def permutation_pvalues(
    values: np.ndarray,
    in_group: np.ndarray,
    *,
    n_permutations: int = 1000,
    seed: int = 0,
    alternative: Alternative = "two-sided",
) -> tuple[np.ndarray, np.ndarray]:
    """Difference of column means between two groups of rows and its permutation p-value.

    The rows' group labels are permuted, the same permutations for every column. When
    ``comb(n, n_group) <= n_permutations`` every split of the rows is enumerated (an exact test,
    ``p = #{splits at least as extreme} / comb(n, n_group)``, the observed split included);
    otherwise ``n_permutations`` random permutations give ``p = (1 + #{at least as extreme}) /
    (1 + n_permutations)``. Either way ``p > 0``.

    Parameters
    ----------
    values : numpy.ndarray
        ``(n, m)`` scores: ``n`` patients (rows), ``m`` terms (columns).
    in_group : numpy.ndarray
        ``(n,)`` bool: the rows of the group; the others are the group it is compared with.
    n_permutations : int
        Random permutations, and the most splits enumerated (default: ``1000``).
    seed : int
        Seed of the random permutations (default: ``0``).
    alternative : {"two-sided", "greater", "less"}
        "At least as extreme" means ``|d| >= |d_obs|``, ``d >= d_obs`` or ``d <= d_obs`` for the
        difference ``d = mean(group) - mean(others)`` (default: ``"two-sided"``).

    Returns
    -------
    difference, p_value : numpy.ndarray
        ``(m,)`` each.

    Examples
    --------
    >>> values = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> difference, p = permutation_pvalues(values, np.array([False, False, True, True]))
    >>> float(difference[0]), float(p[0])  # 2 of the 6 splits are as far apart as {3, 4} | {1, 2}
    (2.0, 0.3333333333333333)
    """
    values = np.asarray(values, dtype=float)
    in_group = np.asarray(in_group, dtype=bool)
    n, n_group = len(in_group), int(in_group.sum())
    exact = comb(n, n_group) <= n_permutations
    splits = _all_splits(n, n_group) if exact else _permuted(in_group, n_permutations, seed)
    observed = _mean_differences(in_group[None, :], values)[0]
    tolerance = _RTOL * np.abs(values).max(axis=0, initial=0.0)
    extreme = np.zeros(values.shape[1], dtype=np.int64)
    for start in range(0, len(splits), _CHUNK):
        null = _mean_differences(splits[start : start + _CHUNK], values)
        if alternative == "greater":
            hit = null >= observed - tolerance
        elif alternative == "less":
            hit = null <= observed + tolerance
        else:
            hit = np.abs(null) >= np.abs(observed) - tolerance
        extreme += hit.sum(axis=0)
    p = extreme / len(splits) if exact else (1 + extreme) / (1 + len(splits))
    return observed, p


def _all_splits(n: int, n_group: int) -> np.ndarray:
    """Every choice of ``n_group`` rows out of ``n``, as ``(comb(n, n_group), n)`` bool."""
    splits = np.zeros((comb(n, n_group), n), dtype=bool)
    for row, chosen in enumerate(combinations(range(n), n_group)):
        splits[row, list(chosen)] = True
    return splits


def _permuted(in_group: np.ndarray, n_permutations: int, seed: int) -> np.ndarray:
    """``n_permutations`` random permutations of the labels, as ``(n_permutations, n)`` bool."""
    rng = np.random.default_rng(seed)
    return rng.permuted(np.tile(in_group, (n_permutations, 1)), axis=1)


def _mean_differences(splits: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``mean(group) - mean(others)`` of each column for each split row: ``(splits, m)``."""
    n_group = splits.sum(axis=1, keepdims=True)
    group_sums = splits.astype(float) @ values
    other_sums = values.sum(axis=0) - group_sums
    return group_sums / n_group - other_sums / (splits.shape[1] - n_group)


def cliffs_delta(values: np.ndarray, in_group: np.ndarray) -> np.ndarray:
    """``P(x > y) - P(x < y)`` per column, ``x`` a row of the group and ``y`` of the others.

    From the Mann–Whitney U of average ranks; between ``-1`` and ``1``, ``0`` for no shift.

    >>> cliffs_delta(np.array([[1.0], [2.0], [3.0]]), np.array([False, True, True]))
    array([1.])
    """
    n_group = int(in_group.sum())
    n_other = len(in_group) - n_group
    u = rankdata(values, axis=0)[in_group].sum(axis=0) - n_group * (n_group + 1) / 2
    return 2 * u / (n_group * n_other) - 1


def contrast(
    explanations: Sequence[Explanation],
    groups: Sequence[str] | Mapping[str, str] | pd.Series | None = None,
    *,
    reference: str | None = None,
    type: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
    n_permutations: int = 1000,
    seed: int = 0,
    alternative: Alternative = "two-sided",
) -> pd.DataFrame:
    """Terms whose scores differ between groups of patients, with permutation p and FDR q.

    Each explanation is one patient, all explaining the same output: a survival model's
    log-risk, or one class of a classifier (``explain(..., target=CLASS)``; explanations of
    each patient's own predicted class are refused, since the evidence for a class and for
    another are not comparable). With two groups, the second (sorted) is compared with the
    first, or with ``reference``; with more, each group is compared with all others
    (``versus = "rest"``), or each with ``reference``. Per term: mean score in the group and
    in the patients it is compared with, ``difference = mean_group - mean_versus``, ``effect``
    = Cliff's delta (:func:`cliffs_delta`), ``p_value`` of :func:`permutation_pvalues` (patients'
    group labels permuted, the same permutations for every term) and ``q_value``, the
    Benjamini–Hochberg adjustment over the terms of that comparison
    (:func:`scipy.stats.false_discovery_control`). Terms scoring the same for every patient
    compared are not tested (they cannot differ); a node missing from an explanation scores 0.

    Parameters
    ----------
    explanations : sequence of Explanation
        Patients' explanations over one knowledge graph and method (e.g. :func:`explain`).
    groups : sequence of str, mapping or pandas.Series, optional
        The group of each explanation, in order, or patient id → group (e.g. the cohort's
        ``labels``) (default: each explanation's ``prediction``).
    reference : str, optional
        The group the others are compared with (default: see above).
    type, namespace : str or iterable of str, optional
        The terms compared: those :meth:`Explanation.ranking` selects of the patients' mean
        explanation (default: every scored node it keeps).
    n_permutations : int
        Permutations per comparison (fewer splits are enumerated exactly) (default: ``1000``).
    seed : int
        Seed of the permutations (default: ``0``).
    alternative : {"two-sided", "greater", "less"}
        Direction of ``difference`` tested (default: ``"two-sided"``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`, one row per comparison and term, sorted by comparison,
        then ``q_value``, ``p_value``, ``|effect|`` (descending) and id. ``attrs`` records
        ``method``, ``explained`` (the class or output explained, from the explanations'
        ``model`` provenance), ``n_permutations``, ``seed`` and ``alternative``.

    Raises
    ------
    InvalidParameterError
        If explanations are missing, differ in graph or method or explain different classes
        (each patient's own prediction), a group is unknown or missing
        for a patient, there are fewer than two groups or a group has fewer than two patients,
        or a parameter is invalid (and as :meth:`Explanation.top`).

    Examples
    --------
    >>> from fusion.explanations import Explanation
    >>> from kg import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["P", "Q"], "pathway", "x"), make_edges(["Q"], "part_of", ["P"], "x"))
    >>> scores = [{"P": 1.0, "Q": 0.5}, {"P": 2.0, "Q": 0.5}, {"P": 3.0, "Q": 0.0}, {"P": 4.0}]
    >>> classes = ["control", "control", "AD", "AD"]
    >>> explanations = [Explanation(kg, pd.Series(s), [], f"p{i}", prediction=c)
    ...                 for i, (s, c) in enumerate(zip(scores, classes))]
    >>> table = contrast(explanations, reference="control")  # 2 of 6 splits as extreme: p = 1/3
    >>> table[["group", "versus", "id", "difference", "effect"]].values.tolist()
    [['AD', 'control', 'P', 2.0, 1.0], ['AD', 'control', 'Q', -0.5, -1.0]]
    >>> table["p_value"].round(3).tolist(), table["q_value"].round(3).tolist()
    ([0.333, 0.333], [0.333, 0.333])
    """
    _check_parameters(n_permutations, seed, alternative)
    first = _checked(explanations)
    labels = _labels(explanations, groups)
    scores = _scores(explanations, type, namespace)
    tables = [
        _compare(scores, labels, group, versus, n_permutations, seed, alternative)
        for group, versus in _comparisons(labels, reference)
    ]
    table = pd.concat(tables, ignore_index=True)
    names = first.kg.nodes.reindex(table["id"])[["name", "type", "namespace"]]
    table[["name", "type", "namespace"]] = names.to_numpy()
    explained = first.model.get("explained", first.model.get("output"))
    table.attrs.update(
        method=first.method,
        explained=explained,
        n_permutations=n_permutations,
        seed=seed,
        alternative=alternative,
    )
    return table[list(CONTRAST_COLUMNS)]


def _check_parameters(n_permutations: int, seed: int, alternative: str) -> None:
    check_positive("n_permutations", n_permutations, "contrast")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise invalid_parameter("seed", "contrast", "an int in the range [0, inf)", seed)
    if alternative not in ALTERNATIVES:
        expected = "a str among {" + ", ".join(repr(a) for a in ALTERNATIVES) + "}"
        raise invalid_parameter("alternative", "contrast", expected, alternative)


def _checked(explanations: Sequence[Explanation]) -> Explanation:
    """The first explanation, once all are known to share its graph and method."""
    if not explanations:
        msg = "contrast needs the explanations of at least 4 patients (2 per group); got none."
        raise InvalidParameterError(msg)
    first = explanations[0]
    other = [e.patient for e in explanations if e.kg is not first.kg or e.method != first.method]
    if other:
        msg = (
            f"contrast: explanations must share one knowledge graph and method (those of "
            f"{first.patient!r}, method {first.method!r}); {preview(other)} differ."
        )
        raise InvalidParameterError(msg)
    own_class = [e for e in explanations if e.model.get("explained") == PREDICTED_CLASS]
    if len({e.prediction for e in own_class}) > 1:
        msg = (
            "contrast: these explanations score each patient's own predicted class, which differs "
            f"between patients ({preview(sorted({str(e.prediction) for e in own_class}))}): the "
            "evidence for one class is not comparable with the evidence for another. Explain "
            "every patient for one class: explain(..., target=CLASS)."
        )
        raise InvalidParameterError(msg)
    return first


def _labels(
    explanations: Sequence[Explanation],
    groups: Sequence[str] | Mapping[str, str] | pd.Series | None,
) -> np.ndarray:
    """The group of each explanation: ``groups``, or the predictions."""
    if groups is None:
        unpredicted = [e.patient for e in explanations if e.prediction is None]
        if unpredicted:
            msg = (
                f"contrast: explanations of {preview(unpredicted)} have no prediction to group "
                "them by; pass groups= (e.g. the cohort's labels)."
            )
            raise InvalidParameterError(msg)
        return np.array([str(e.prediction) for e in explanations], dtype=object)
    if isinstance(groups, Mapping):
        groups = pd.Series(groups, dtype=object)
    if isinstance(groups, pd.Series):
        groups = groups.dropna()  # an unlabelled patient has no group
    patients = [e.patient for e in explanations]
    return np.array(_groups(patients, groups, "contrast", "groups"), dtype=object)


def _scores(
    explanations: Sequence[Explanation],
    type: str | Iterable[str] | None,
    namespace: str | Iterable[str] | None,
) -> pd.DataFrame:
    """Patients × the terms :meth:`Explanation.ranking` selects from the cohort's mean
    explanation (over the union of the patients' inputs), in its order; missing scores 0."""
    table = pd.concat([e.scores for e in explanations], axis=1, sort=False).fillna(0.0)
    inputs = list(dict.fromkeys(n for e in explanations for n in e.inputs))
    mean = replace(explanations[0], scores=table.mean(axis=1), inputs=inputs, edge_scores=None)
    terms = mean.ranking(type, namespace).index
    return table.loc[terms].T.reset_index(drop=True)


def _comparisons(labels: np.ndarray, reference: str | None) -> list[tuple[str, str]]:
    """``(group, versus)`` pairs: versus a reference group, or the rest."""
    unique, counts = np.unique(labels.astype(str), return_counts=True)
    names = [str(name) for name in unique]
    if len(names) < 2:
        msg = (
            f"contrast needs at least 2 groups; every one of the {len(labels)} explanations is in "
            f"{preview(names)}. Pass groups= (e.g. the cohort's labels) or more patients."
        )
        raise InvalidParameterError(msg)
    small = [f"{name!r} ({count})" for name, count in zip(names, counts) if count < 2]
    if small:
        msg = f"contrast: every group needs at least 2 patients; {', '.join(small)} has fewer."
        raise InvalidParameterError(msg)
    if reference is not None and reference not in names:
        msg = f"contrast: unknown reference group {reference!r}; the groups are {names}."
        raise InvalidParameterError(msg)
    if reference is None and len(names) == 2:
        reference = names[0]
    if reference is None:
        return [(name, REST) for name in names]
    return [(name, reference) for name in names if name != reference]


def _compare(
    scores: pd.DataFrame,
    labels: np.ndarray,
    group: str,
    versus: str,
    n_permutations: int,
    seed: int,
    alternative: Alternative,
) -> pd.DataFrame:
    """One comparison's rows (without names), sorted."""
    compared = (
        np.ones(len(labels), dtype=bool) if versus == REST else np.isin(labels, [group, versus])
    )
    values = scores.to_numpy()[compared]
    varying = np.ptp(values, axis=0) > 0
    if not varying.all():
        logger.info("contrast %s vs %s: %d terms score the same for every patient, not tested",
                    group, versus, int((~varying).sum()))  # fmt: skip
    values, in_group = values[:, varying], labels[compared] == group
    difference, p = permutation_pvalues(
        values, in_group, n_permutations=n_permutations, seed=seed, alternative=alternative
    )
    table = pd.DataFrame({
        "group": group, "versus": versus, "id": scores.columns[varying],
        "n_group": int(in_group.sum()), "n_versus": int((~in_group).sum()),
        "mean_group": values[in_group].mean(axis=0), "mean_versus": values[~in_group].mean(axis=0),
        "difference": difference, "effect": cliffs_delta(values, in_group), "p_value": p,
        "q_value": false_discovery_control(p) if len(p) else p,
    })  # fmt: skip
    order = np.lexsort((table["id"].to_numpy(dtype=str), -table["effect"].abs().to_numpy(),
                        table["p_value"].to_numpy(), table["q_value"].to_numpy()))  # fmt: skip
    return table.iloc[order]
