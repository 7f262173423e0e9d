"""An evaluation harness: every estimator, the same splits, out-of-sample metrics, fit times.

:func:`evaluate` fits fresh copies of each estimator on the training part of every split of a
protocol (the cohort's official split under several seeds, or repeated stratified k-fold CV) and
scores it on the held-out part only; :func:`summarize` gives mean ± sd per estimator, and
:func:`paired_difference` the mean ± se of one estimator's gain over another on the same folds.
Survival models get Harrell's C-index and the integrated Brier score (their own survival
functions, or a Breslow baseline hazard fitted on the training fold's risks). With
``train_sizes``, :func:`evaluate` draws learning curves: every size is trained on seeded
stratified subsamples of the same training folds and scored on the same test folds.

The cohort is linked to each knowledge graph once (:func:`fusion.data.link_cohort`) and the links
are passed to every fold's fit (``fit(train, links=links)``). Linking reads only the features'
names and the graph, never a label or a value, so this is no leakage from the held-out part; the
fits are identical to each fold linking its own training part, only faster.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from fusion._exceptions import InvalidParameterError, LabelError, SplitError
from fusion._params import Interval, StrOptions, validate_parameter_constraints
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks, link_cohort
from fusion.data.split import _strata, official_split, repeated_stratified_kfold
from fusion.models.metrics import (
    breslow_survival,
    classification_metrics,
    evaluation_times,
    integrated_brier_score,
    survival_metrics,
)

__all__ = ["evaluate", "format_summary", "paired_difference", "summarize"]

logger = logging.getLogger(__name__)

Protocol = Literal["official", "cv"]
_CONSTRAINTS = {"protocol": [StrOptions({"official", "cv"})], "n_draws": [Interval(int, 1, None)]}
_KEYS = ["estimator", "protocol", "seed", "repeat", "fold", "n_train", "n_test"]
_CURVE_KEYS = ["train_size", "draw"]  # learning curves only
_PAIRED = ["protocol", "seed", "repeat", "fold", *_CURVE_KEYS]


def _fresh(estimator: BaseEstimator, seed: int) -> BaseEstimator:
    """A new unfitted estimator with the same parameters and ``random_state=seed``.

    Parameters are shared, not deep-copied (a knowledge graph is read-only and large).
    """
    params = estimator.get_params(deep=False)
    if "random_state" in params:
        params["random_state"] = seed
    return type(estimator)(**params)


def _splits(
    cohort: Cohort, protocol: Protocol, seeds: Sequence[int], n_splits: int, n_repeats: int
) -> Iterator[tuple[int, int, int, pd.Index, pd.Index]]:
    """``(seed, repeat, fold, train_ids, test_ids)`` of each fit."""
    if protocol == "official":
        train, test = official_split(cohort)
        for seed in seeds:
            yield seed, 0, 0, train, test
        return
    base = seeds[0] if len(seeds) else 0
    for i, (train, test) in enumerate(
        repeated_stratified_kfold(cohort, n_splits, n_repeats, seed=base)
    ):
        repeat, fold = divmod(i, n_splits)
        yield base + repeat, repeat, fold, train, test


def _links(estimators: Mapping[str, BaseEstimator], cohort: Cohort) -> dict[str, CohortLinks]:
    """Per estimator name, the links of ``cohort`` to its knowledge graph, for those whose
    ``fit`` takes ``links`` and that use a graph; each graph's links computed once."""
    by_graph: dict[int, CohortLinks] = {}
    out = {}
    for name, template in estimators.items():
        kg = getattr(template, "kg", None)
        takes = "links" in inspect.signature(template.fit).parameters
        if kg is None or not takes or getattr(template, "control", "none") == "no_graph":
            continue
        if id(kg) not in by_graph:
            by_graph[id(kg)] = link_cohort(cohort, kg)
        out[name] = by_graph[id(kg)]
    return out


def _brier(estimator: BaseEstimator, train: Cohort, test: Cohort, risk: np.ndarray) -> float:
    """Integrated Brier score on ``test`` at :func:`~fusion.models.metrics.evaluation_times`:
    the model's survival functions, else Breslow's from the training fold's risks."""
    fit, held = train.survival, test.survival
    times = evaluation_times(fit["time"], fit["event"], held["time"])
    if len(times) < 2:
        return float("nan")
    if hasattr(estimator, "predict_survival"):
        survival = estimator.predict_survival(test, times)
    else:
        train_risk = estimator.predict(train)
        survival = breslow_survival(train_risk, fit["time"], fit["event"], risk, times)
    try:
        return integrated_brier_score(
            fit["time"], fit["event"], held["time"], held["event"], survival, times
        )
    except ValueError as err:  # e.g. the censoring distribution reaches 0 inside the times
        logger.warning("integrated Brier score not computed: %s", err)
        return float("nan")


def _scores(estimator: BaseEstimator, train: Cohort, test: Cohort) -> dict[str, float]:
    if hasattr(estimator, "predict_proba"):
        labels = test.labels
        if labels is None:
            raise LabelError("evaluating a classifier needs a cohort with labels.")
        return classification_metrics(
            labels.to_numpy(), estimator.predict_proba(test), estimator.classes_
        )
    survival = test.survival
    if survival is None:
        raise LabelError("evaluating a survival model needs a cohort with survival.")
    risk = estimator.predict(test)
    out = survival_metrics(survival["time"], survival["event"], risk)
    if importlib.util.find_spec("sksurv") is not None:  # the survival extra
        out["ibs"] = _brier(estimator, train, test, risk)
    return out


def _draws(
    cohort: Cohort,
    train_ids: pd.Index,
    train_sizes: Sequence[int | None] | None,
    n_draws: int,
    seed: int,
) -> Iterator[tuple[dict[str, Any], pd.Index]]:
    """``(curve keys, training ids)`` of each fit on one training fold: the whole fold without
    ``train_sizes``; else per size ``n_draws`` stratified subsamples (one for ``None``, the
    whole fold), sizes not below the fold's size skipped with a warning."""
    if train_sizes is None:
        yield {}, train_ids
        return
    strata = _strata(cohort.subset(train_ids))
    for size in train_sizes:
        if size is None:
            yield {"train_size": pd.NA, "draw": 0}, train_ids
            continue
        if size >= len(train_ids):
            logger.warning("train size %d skipped: the training fold has %d", size, len(train_ids))
            continue
        for draw in range(n_draws):
            state = int(np.random.SeedSequence([seed, size, draw]).generate_state(1)[0])
            try:
                ids, _ = train_test_split(
                    train_ids.to_numpy(), train_size=size, stratify=strata, random_state=state
                )
            except ValueError as err:  # fewer samples than strata, or a stratum of one
                raise SplitError(f"train size {size}: {err}") from err
            yield {"train_size": size, "draw": draw}, train_ids[train_ids.isin(ids)]


def evaluate(
    estimators: Mapping[str, BaseEstimator],
    cohort: Cohort,
    protocol: Protocol = "official",
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_splits: int = 5,
    n_repeats: int = 5,
    *,
    train_sizes: Sequence[int | None] | None = None,
    n_draws: int = 1,
    progress: bool = False,
) -> pd.DataFrame:
    """Fit and score every estimator on every split of ``protocol``; one row per fit.

    Parameters
    ----------
    estimators : mapping of str to estimator
        Cohort-in estimators (``fit(cohort)``; ``predict_proba`` + ``classes_`` for
        classifiers, ``predict`` returning risk scores for survival models). Each fit uses a
        fresh copy with ``random_state`` set to the row's seed.
    cohort : Cohort
        With labels (classification) or survival.
    protocol : {"official", "cv"}
        ``"official"``: the cohort's own train/test split, once per seed; ``"cv"``:
        ``n_repeats`` × stratified ``n_splits``-fold CV over all samples, folds drawn with
        ``seeds[0]``, repeat ``r`` fitted with seed ``seeds[0] + r``.
    seeds : sequence of int
        Seeds (default: ``0..4``).
    n_splits, n_repeats : int
        CV folds and repeats (default: ``5``, ``5``).
    train_sizes : sequence of int or None, optional
        Learning curves: train on stratified subsamples of each training fold of these sizes
        (``None``: the whole fold), scored on the same test folds. Sizes not below a fold's
        size are skipped with a warning.
    n_draws : int
        Seeded subsamples per size (default: ``1``); the draw of size ``s`` from the fold of
        seed ``k`` is the same for every estimator.
    progress : bool
        Show a progress bar over fits.

    Returns
    -------
    DataFrame
        Columns ``estimator, protocol, seed, repeat, fold, n_train, n_test`` (with
        ``train_sizes`` also ``train_size``, NA for the whole fold, and ``draw``), the metrics
        (``acc, f1, f1_macro, f1_weighted, auc``, or ``c_index`` and, with the ``survival``
        extra, ``ibs``), all on held-out samples, and ``fit_time`` (seconds; for estimators
        given the cohort's links, without linking).
    """
    validate_parameter_constraints(
        _CONSTRAINTS, {"protocol": protocol, "n_draws": n_draws}, "evaluate"
    )
    if not estimators:
        raise InvalidParameterError("evaluate needs at least one estimator.")
    splits = list(_splits(cohort, protocol, list(seeds), n_splits, n_repeats))
    links = _links(estimators, cohort)  # label-free: once per cohort, not per fold
    fits = [
        (seed, repeat, fold, curve, ids, test_ids)
        for seed, repeat, fold, train_ids, test_ids in splits
        for curve, ids in _draws(cohort, train_ids, train_sizes, n_draws, seed)
    ]
    rows: list[dict[str, Any]] = []
    bar = tqdm(
        total=len(fits) * len(estimators),
        desc=f"evaluate ({protocol})",
        unit="fit",
        disable=not progress,
    )
    for seed, repeat, fold, curve, train_ids, test_ids in fits:
        train, test = cohort.subset(train_ids), cohort.subset(test_ids)
        for name, template in estimators.items():
            estimator = _fresh(template, seed)
            start = time.perf_counter()
            estimator.fit(train, **({"links": links[name]} if name in links else {}))
            fit_time = time.perf_counter() - start
            values = (name, protocol, seed, repeat, fold, len(train_ids), len(test_ids))
            scores = _scores(estimator, train, test)
            rows.append({**dict(zip(_KEYS, values)), **curve, **scores, "fit_time": fit_time})
            logger.info("%s %s seed=%d fold=%d: %s", name, protocol, seed, fold, rows[-1])
            bar.update()
    bar.close()
    out = pd.DataFrame(rows)
    if "train_size" in out:
        out["train_size"] = out["train_size"].astype("Int64")
    return out


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd of every metric and the fit time per estimator (and protocol, and training
    size for learning curves).

    Returns a frame indexed by ``(estimator, protocol)`` or ``(estimator, protocol,
    train_size)`` (in order of first appearance; ``train_size`` NA is the whole fold) with
    columns ``<metric>_mean``, ``<metric>_sd`` and ``n`` (number of fits).
    """
    metrics = [c for c in results.columns if c not in [*_KEYS, *_CURVE_KEYS]]
    keys = ["estimator", "protocol", *(["train_size"] if "train_size" in results else [])]
    grouped = results.groupby(keys, sort=False, dropna=False)[metrics]
    mean, sd = grouped.mean(), grouped.std(ddof=1)
    out = pd.concat({"mean": mean, "sd": sd}, axis=1)
    out.columns = [f"{metric}_{stat}" for stat, metric in out.columns]
    out = out[[f"{m}_{s}" for m in metrics for s in ("mean", "sd")]]
    out["n"] = grouped.size()
    return out


def paired_difference(results: pd.DataFrame, a: str, b: str, metric: str) -> pd.DataFrame:
    """Mean ± se of ``metric`` of estimator ``a`` minus estimator ``b`` over the fits they share.

    Rows are paired on protocol, seed, repeat, fold (and training size and draw), so both were
    scored on the same test samples; the se is the sd of the differences over ``sqrt(n)``
    (folds of one CV repeat share training samples, so it is optimistic there).

    Returns
    -------
    DataFrame
        Indexed by ``protocol`` (and ``train_size``), columns ``mean``, ``se``, ``n``.

    Raises
    ------
    InvalidParameterError
        ``a`` or ``b`` has no row, ``metric`` is no column, or they share no fit.

    Examples
    --------
    >>> rows = pd.DataFrame({"estimator": ["x", "y"] * 3, "protocol": "cv", "seed": 0,
    ...     "repeat": 0, "fold": [0, 0, 1, 1, 2, 2], "auc": [0.9, 0.7, 0.8, 0.7, 0.7, 0.7]})
    >>> paired_difference(rows, "x", "y", "auc").round(3).to_dict("records")
    [{'mean': 0.1, 'se': 0.058, 'n': 3}]
    """
    for name in (a, b):
        if not (results["estimator"] == name).any():
            known = list(pd.unique(results["estimator"]))
            raise InvalidParameterError(
                f"paired_difference: no rows of estimator {name!r}; estimators: {known}."
            )
    if metric not in results:
        raise InvalidParameterError(f"paired_difference: no metric column {metric!r}.")
    keys = [k for k in _PAIRED if k in results]
    left, right = (results[results["estimator"] == n].set_index(keys)[metric] for n in (a, b))
    both = pd.concat({"a": left, "b": right}, axis=1, join="inner")
    if both.empty:
        raise InvalidParameterError(f"paired_difference: {a!r} and {b!r} share no fit.")
    both["d"] = both["a"] - both["b"]
    groups = both.groupby(
        level=[k for k in ("protocol", "train_size") if k in keys], sort=False, dropna=False
    )["d"]
    out = pd.DataFrame({"mean": groups.mean(), "se": groups.std(ddof=1) / np.sqrt(groups.size())})
    return out.assign(n=groups.size())


def format_summary(
    summary: pd.DataFrame, metrics: Sequence[str] = ("acc", "f1", "auc", "fit_time")
) -> pd.DataFrame:
    """``summarize``'s output as ``mean ± sd`` strings per metric, for printing."""
    columns = {
        m: [
            f"{a:.3f} ± {b:.3f}"
            for a, b in zip(summary[f"{m}_mean"], np.nan_to_num(summary[f"{m}_sd"]))
        ]
        for m in metrics
    }
    return pd.DataFrame(columns, index=summary.index).assign(n=summary["n"].to_numpy())
