"""Train/test splits and cross-validation folds over a :class:`~fusion.Cohort`.

Every function returns sample ids (``pd.Index``), to be turned into cohorts with
:meth:`Cohort.subset`; fit preprocessing on the training ids only. Folds are stratified on the
labels, or on the survival event when the cohort has no labels.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from fusion._exceptions import InvalidParameterError, LabelError, SplitError
from fusion.data._checks import show
from fusion.data.cohort import Cohort

__all__ = [
    "check_inner_split",
    "official_split",
    "repeated_stratified_kfold",
    "stratified_split",
]

logger = logging.getLogger(__name__)


def _strata(cohort: Cohort) -> pd.Series:
    if cohort.labels is not None:
        return cohort.labels.astype(str)
    if cohort.survival is not None:
        return cohort.survival["event"].astype(str)
    msg = "stratified splitting needs labels or survival events; this cohort has neither."
    raise LabelError(msg)


def _check_counts(strata: pd.Series, needed: int, what: str) -> None:
    counts = strata.value_counts()
    small = counts[counts < needed]
    if len(small):
        msg = (
            f"{what} needs at least {needed} samples per class; classes "
            f"{small.to_dict()} have fewer."
        )
        raise SplitError(msg)


def stratified_split(
    cohort: Cohort, test_size: float = 0.2, seed: int = 0
) -> tuple[pd.Index, pd.Index]:
    """One stratified random split of the samples into ``(train_ids, test_ids)``.

    Parameters
    ----------
    cohort : Cohort
        With labels (or survival events, used as strata).
    test_size : float or int, default 0.2
        Fraction in (0, 1) or number of test samples.
    seed : int, default 0
        Random seed; the same seed gives the same split.

    Examples
    --------
    >>> x = pd.DataFrame({"g": range(10)}, index=[f"s{i}" for i in range(10)], dtype=float)
    >>> c = Cohort({"mRNA": x}, labels=pd.Series(list("ab" * 5), index=x.index))
    >>> train, test = stratified_split(c, test_size=0.4, seed=1)
    >>> len(train), len(test), sorted(c.labels[test])
    (6, 4, ['a', 'a', 'b', 'b'])
    """
    if isinstance(test_size, bool) or not (
        (isinstance(test_size, float) and 0 < test_size < 1)
        or (isinstance(test_size, (int, np.integer)) and 0 < test_size < cohort.n_samples)
    ):
        msg = (
            "The 'test_size' parameter of stratified_split must be a float in (0, 1) or an int "
            f"in [1, {cohort.n_samples - 1}]. Got {show(test_size)} instead."
        )
        raise InvalidParameterError(msg)
    strata = _strata(cohort)
    _check_counts(strata, 2, "stratified_split")
    try:
        train, test = train_test_split(
            cohort.samples.to_numpy(),
            test_size=test_size,
            random_state=seed,
            stratify=strata.to_numpy(),
        )
    except ValueError as err:  # e.g. fewer test samples than classes
        raise SplitError(f"stratified_split: {err}") from err
    order = cohort.samples
    return order[order.isin(train)], order[order.isin(test)]


def repeated_stratified_kfold(
    cohort: Cohort, n_splits: int = 5, n_repeats: int = 5, seed: int = 0
) -> Iterator[tuple[pd.Index, pd.Index]]:
    """Yield ``(train_ids, test_ids)`` for ``n_repeats`` rounds of stratified ``n_splits``-fold CV.

    Within each repeat every sample is held out exactly once.

    Examples
    --------
    >>> x = pd.DataFrame({"g": range(12)}, index=[f"s{i}" for i in range(12)], dtype=float)
    >>> c = Cohort({"mRNA": x}, labels=pd.Series(list("ab" * 6), index=x.index))
    >>> folds = list(repeated_stratified_kfold(c, n_splits=3, n_repeats=2, seed=0))
    >>> len(folds), [len(test) for _, test in folds[:3]]
    (6, [4, 4, 4])
    """
    for name, value, low in (("n_splits", n_splits, 2), ("n_repeats", n_repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            msg = (
                f"The {name!r} parameter of repeated_stratified_kfold must be an int >= {low}. "
                f"Got {show(value)} instead."
            )
            raise InvalidParameterError(msg)
    strata = _strata(cohort)
    _check_counts(strata, n_splits, f"{n_splits}-fold stratified CV")
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    ids = cohort.samples
    for train, test in cv.split(np.zeros((len(ids), 1)), strata.to_numpy()):
        yield ids[np.sort(train)], ids[np.sort(test)]


def official_split(cohort: Cohort) -> tuple[pd.Index, pd.Index]:
    """The split defined by the data itself, as ``(train_ids, test_ids)``.

    Raises
    ------
    SplitError
        When the cohort defines no split (use :func:`stratified_split` instead).
    """
    split = cohort.split
    if split is None:
        msg = (
            "this cohort defines no official train/test split (its reader found none); "
            "make one with fusion.stratified_split(cohort, test_size, seed)."
        )
        raise SplitError(msg)
    ids = cohort.samples
    return ids[(split == "train").to_numpy()], ids[(split == "test").to_numpy()]


def _sizes(n: int, val_size: float) -> tuple[int, int]:
    """Held-out and training sizes of scikit-learn's split of ``n`` samples."""
    n_val = math.ceil(val_size * n)
    return n_val, math.floor((1.0 - val_size) * n)


def _minimum(n_strata: int, val_size: float) -> int:
    """The fewest samples whose split leaves ``n_strata`` samples on each side."""
    n = 2 * n_strata
    while min(_sizes(n, val_size)) < n_strata:
        n += 1
    return n


def check_inner_split(strata: np.ndarray, val_size: float, owner: str) -> None:
    """Raise :class:`~fusion.SplitError` when ``strata`` cannot be split with ``val_size``.

    A stratified split needs at least 2 samples in every stratum (class, or event status for
    survival) and at least one sample per stratum on each side.
    """
    values, counts = np.unique(strata, return_counts=True)
    n, k = len(strata), len(values)
    n_val, n_train = _sizes(n, val_size)
    what = f"{owner}.fit: the inner validation split (val_size={val_size}) of {n} patients"
    if counts.min() < 2:
        rare = [v.item() if isinstance(v, np.generic) else v for v in values[counts < 2]]
        msg = f"{what} is stratified and needs at least 2 patients per class; {rare} have 1."
        raise SplitError(msg)
    if min(n_val, n_train) < k:
        msg = (
            f"{what} holds out {n_val} and keeps {n_train}, fewer than its {k} classes: with "
            f"val_size={val_size} it needs at least {_minimum(k, val_size)} patients (and 2 per "
            "class); add patients or change val_size."
        )
        raise SplitError(msg)
