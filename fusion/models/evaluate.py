"""An evaluation harness: every estimator, the same splits, out-of-sample metrics, fit times.

:func:`evaluate` fits fresh copies of each estimator on the training part of every split of a
protocol (the cohort's official split under several seeds, or repeated stratified k-fold CV) and
scores it on the held-out part only; :func:`summarize` gives mean ± sd per estimator.

The cohort is linked to each knowledge graph once (:func:`fusion.data.link_cohort`) and the links
are passed to every fold's fit (``fit(train, links=links)``). Linking reads only the features'
names and the graph, never a label or a value, so this is no leakage from the held-out part; the
fits are identical to each fold linking its own training part, only faster.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from tqdm.auto import tqdm

from fusion._exceptions import InvalidParameterError, LabelError
from fusion._params import StrOptions, validate_parameter_constraints
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks, link_cohort
from fusion.data.split import official_split, repeated_stratified_kfold
from fusion.models.metrics import classification_metrics, survival_metrics

__all__ = ["evaluate", "format_summary", "summarize"]

logger = logging.getLogger(__name__)

Protocol = Literal["official", "cv"]
_CONSTRAINTS = {"protocol": [StrOptions({"official", "cv"})]}
_KEYS = ["estimator", "protocol", "seed", "repeat", "fold", "n_train", "n_test"]


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


def _scores(estimator: BaseEstimator, test: Cohort) -> dict[str, float]:
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
    return survival_metrics(survival["time"], survival["event"], estimator.predict(test))


def evaluate(
    estimators: Mapping[str, BaseEstimator],
    cohort: Cohort,
    protocol: Protocol = "official",
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_splits: int = 5,
    n_repeats: int = 5,
    *,
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
    progress : bool
        Show a progress bar over fits.

    Returns
    -------
    DataFrame
        Columns ``estimator, protocol, seed, repeat, fold, n_train, n_test``, the metrics
        (``acc, f1, f1_macro, f1_weighted, auc`` or ``c_index``), all on held-out samples, and
        ``fit_time`` (seconds; for estimators given the cohort's links, without linking).
    """
    validate_parameter_constraints(_CONSTRAINTS, {"protocol": protocol}, "evaluate")
    if not estimators:
        raise InvalidParameterError("evaluate needs at least one estimator.")
    splits = list(_splits(cohort, protocol, list(seeds), n_splits, n_repeats))
    links = _links(estimators, cohort)  # label-free: once per cohort, not per fold
    rows: list[dict[str, Any]] = []
    bar = tqdm(
        total=len(splits) * len(estimators),
        desc=f"evaluate ({protocol})",
        unit="fit",
        disable=not progress,
    )
    for seed, repeat, fold, train_ids, test_ids in splits:
        train, test = cohort.subset(train_ids), cohort.subset(test_ids)
        for name, template in estimators.items():
            estimator = _fresh(template, seed)
            start = time.perf_counter()
            estimator.fit(train, **({"links": links[name]} if name in links else {}))
            fit_time = time.perf_counter() - start
            values = (name, protocol, seed, repeat, fold, len(train_ids), len(test_ids))
            rows.append(
                {**dict(zip(_KEYS, values)), **_scores(estimator, test), "fit_time": fit_time}
            )
            logger.info("%s %s seed=%d fold=%d: %s", name, protocol, seed, fold, rows[-1])
            bar.update()
    bar.close()
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd of every metric and the fit time per estimator (and protocol).

    Returns a frame indexed by ``(estimator, protocol)`` (in order of first appearance) with
    columns ``<metric>_mean``, ``<metric>_sd`` and ``n`` (number of fits).
    """
    metrics = [c for c in results.columns if c not in _KEYS]
    grouped = results.groupby(["estimator", "protocol"], sort=False)[metrics]
    mean, sd = grouped.mean(), grouped.std(ddof=1)
    out = pd.concat({"mean": mean, "sd": sd}, axis=1)
    out.columns = [f"{metric}_{stat}" for stat, metric in out.columns]
    out = out[[f"{m}_{s}" for m in metrics for s in ("mean", "sd")]]
    out["n"] = grouped.size()
    return out


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
