"""Tests of fusion.models.evaluate's learning curves, survival scores and paired differences."""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from _cohorts import survival_cohort, tiny_cohort
from sklearn.base import BaseEstimator

from fusion import Cohort, InvalidParameterError, repeated_stratified_kfold
from fusion.models.evaluate import evaluate, paired_difference, summarize
from fusion.models.metrics import breslow_survival, evaluation_times, integrated_brier_score
from fusion.models.survival_baselines import EarlyFusionCoxnet


class Recorder(BaseEstimator):
    """A classifier double that logs the samples it is fitted on and scored on."""

    log: ClassVar[list[tuple[str, tuple[str, ...]]]] = []

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, cohort: Cohort) -> Recorder:
        self.log.append(("train", tuple(cohort.samples)))
        self.classes_ = np.array(["a", "b"], dtype=object)
        return self

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        self.log.append(("test", tuple(cohort.samples)))
        rng = np.random.default_rng(self.random_state)
        return np.tile(rng.dirichlet([1, 1]), (cohort.n_samples, 1))


class TrueRisk(BaseEstimator):
    """A survival double whose risk is the planted log-hazard ``x0 - x1`` (no survival functions)."""

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, cohort: Cohort) -> TrueRisk:
        return self

    def predict(self, cohort: Cohort) -> np.ndarray:
        x = cohort["mRNA"].to_numpy()
        return x[:, 0] - x[:, 1]


def curve(seed: int = 0) -> tuple[pd.DataFrame, list]:
    Recorder.log.clear()
    results = evaluate(
        {"r": Recorder()},
        tiny_cohort(n=90),
        "cv",
        seeds=(seed,),
        n_splits=3,
        n_repeats=1,
        train_sizes=[12, 30, None],
        n_draws=3,
    )
    return results, list(Recorder.log)


def test_learning_curve_same_test_folds_stratified_deterministic() -> None:
    results, log = curve()
    assert len(results) == 3 * (3 + 3 + 1)
    assert results["n_train"].tolist()[:7] == [12, 12, 12, 30, 30, 30, 60]
    assert results["train_size"].tolist()[:7] == [12, 12, 12, 30, 30, 30, pd.NA]
    assert results["draw"].tolist()[:7] == [0, 1, 2, 0, 1, 2, 0]
    trains, tests = [ids for k, ids in log if k == "train"], [ids for k, ids in log if k == "test"]
    labels = tiny_cohort(n=90).labels
    for fold in range(3):
        rows = slice(7 * fold, 7 * fold + 7)
        assert len(set(tests[rows])) == 1  # one test fold for every size and draw
        full = set(trains[rows][-1])
        assert full.isdisjoint(tests[rows][0])
        for ids in trains[rows][:-1]:
            assert set(ids) <= full
            share = labels[list(ids)].eq("a").mean()
            assert abs(share - labels[list(full)].eq("a").mean()) <= 1 / len(ids) + 1e-9
        assert len(set(trains[rows][:3])) == 3  # the draws differ
    again, log_again = curve()
    assert log_again == log and again.drop(columns="fit_time").equals(
        results.drop(columns="fit_time")
    )
    assert curve(seed=1)[1] != log


def test_summary_by_size_and_too_large_sizes_skipped(caplog) -> None:
    results, _ = curve()
    summary = summarize(results)
    assert list(summary.index) == [("r", "cv", 12), ("r", "cv", 30), ("r", "cv", pd.NA)]
    assert summary["n"].tolist() == [9, 9, 3]
    with caplog.at_level(logging.WARNING, logger="fusion.models.evaluate"):
        big = evaluate(
            {"r": Recorder()},
            tiny_cohort(n=30),
            "cv",
            n_splits=3,
            n_repeats=1,
            train_sizes=[20, 10],
        )
    assert big["train_size"].unique().tolist() == [10]
    assert "train size 20 skipped" in caplog.text


def test_survival_rows_carry_ibs_from_breslow_or_the_model() -> None:
    cohort = survival_cohort(n=120)
    models = {"true": TrueRisk(), "cox": EarlyFusionCoxnet()}
    results = evaluate(models, cohort, "cv", n_splits=3, n_repeats=1)
    assert results["ibs"].between(0, 0.25).all()
    # the risk-only model's score is Breslow's survival functions on its training risks
    first = next(repeated_stratified_kfold(cohort, 3, 1, seed=0))
    train, test = cohort.subset(first[0]), cohort.subset(first[1])
    fit, held = train.survival, test.survival
    times = evaluation_times(fit["time"], fit["event"], held["time"])
    model = TrueRisk()
    survival = breslow_survival(
        model.predict(train), fit["time"], fit["event"], model.predict(test), times
    )
    expected = integrated_brier_score(
        fit["time"], fit["event"], held["time"], held["event"], survival, times
    )
    assert results.loc[0, "ibs"] == pytest.approx(expected)


def test_paired_difference_by_hand_and_by_size() -> None:
    rows = pd.DataFrame(
        {
            "estimator": ["x", "y"] * 4,
            "protocol": "cv",
            "seed": 0,
            "repeat": 0,
            "fold": [0, 0, 1, 1, 0, 0, 1, 1],
            "train_size": pd.array([10, 10, 10, 10, 20, 20, 20, 20], dtype="Int64"),
            "draw": 0,
            "auc": [0.9, 0.6, 0.7, 0.6, 0.8, 0.8, 0.9, 0.7],
        }
    )
    out = paired_difference(rows, "x", "y", "auc")
    # size 10: differences 0.3, 0.1 → mean 0.2, sd 0.1414, se 0.1; size 20: 0, 0.2 → 0.1, 0.1
    assert out["mean"].tolist() == pytest.approx([0.2, 0.1])
    assert out["se"].tolist() == pytest.approx([0.1, 0.1])
    assert out["n"].tolist() == [2, 2]
    with pytest.raises(InvalidParameterError, match="no rows of estimator 'z'"):
        paired_difference(rows, "x", "z", "auc")
    with pytest.raises(InvalidParameterError, match="no metric column 'acc'"):
        paired_difference(rows, "x", "y", "acc")
