"""Tests of train/test splitting and repeated stratified cross-validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusion import (
    Cohort,
    InvalidParameterError,
    LabelError,
    SplitError,
    official_split,
    read_mogonet,
    repeated_stratified_kfold,
    stratified_split,
)


@pytest.fixture
def cohort() -> Cohort:
    ids = [f"s{i:02d}" for i in range(30)]
    x = pd.DataFrame({"g": np.arange(30.0)}, index=ids)
    return Cohort({"mRNA": x}, labels=pd.Series(["a"] * 20 + ["b"] * 10, index=ids))


def test_stratified_split(cohort: Cohort) -> None:
    train, test = stratified_split(cohort, test_size=0.3, seed=1)
    assert (
        len(test) == 9
        and set(train).isdisjoint(test)
        and set(train) | set(test) == set(cohort.samples)
    )
    assert cohort.labels[test].value_counts().to_dict() == {"a": 6, "b": 3}
    again = stratified_split(cohort, test_size=0.3, seed=1)
    assert again[1].equals(test)
    assert not stratified_split(cohort, test_size=0.3, seed=2)[1].equals(test)
    assert len(stratified_split(cohort, test_size=6)[1]) == 6
    for bad in (0.0, 1.0, 0, 30, True):
        with pytest.raises(InvalidParameterError, match="'test_size' parameter"):
            stratified_split(cohort, test_size=bad)


def test_repeated_kfold_covers_each_sample_once_per_repeat(cohort: Cohort) -> None:
    folds = list(repeated_stratified_kfold(cohort, n_splits=5, n_repeats=3, seed=0))
    assert len(folds) == 15
    for r in range(3):
        tests = [test for _, test in folds[5 * r : 5 * r + 5]]
        assert sorted(s for t in tests for s in t) == sorted(cohort.samples)
    for train, test in folds:
        assert set(train).isdisjoint(test) and len(train) + len(test) == 30
        assert cohort.labels[test].value_counts().to_dict() == {"a": 4, "b": 2}
    assert [t.tolist() for _, t in folds] == [
        t.tolist() for _, t in repeated_stratified_kfold(cohort, 5, 3, seed=0)
    ]
    assert folds[0][1].tolist() != folds[5][1].tolist()  # repeats reshuffle


def test_kfold_errors(cohort: Cohort) -> None:
    with pytest.raises(SplitError, match="at least 11 samples per class"):
        next(repeated_stratified_kfold(cohort, n_splits=11))
    with pytest.raises(InvalidParameterError, match="'n_splits' parameter"):
        next(repeated_stratified_kfold(cohort, n_splits=1))
    unlabeled = Cohort({"mRNA": cohort["mRNA"]})
    with pytest.raises(LabelError, match="needs labels or survival"):
        next(repeated_stratified_kfold(unlabeled))


def test_survival_events_as_strata(cohort: Cohort) -> None:
    surv = pd.DataFrame({"time": np.arange(30.0), "event": [1, 0, 0] * 10}, index=cohort.samples)
    c = Cohort({"mRNA": cohort["mRNA"]}, survival=surv)
    for _, test in repeated_stratified_kfold(c, n_splits=5, n_repeats=1):
        assert c.survival.loc[test, "event"].sum() == 2


def test_official_split(fixtures: Path, cohort: Cohort) -> None:
    c = read_mogonet(fixtures / "mogonet_tiny")
    train, test = official_split(c)
    assert train.tolist() == [f"train_{i}" for i in range(6)] and test.tolist() == [
        f"test_{i}" for i in range(4)
    ]
    with pytest.raises(SplitError, match="defines no official train/test split"):
        official_split(cohort)


@pytest.mark.realdata
def test_real_rosmap_cv_inside_official_train(data_dir: Path) -> None:
    c = read_mogonet(data_dir / "mogonet_rosmap")
    train_ids, test_ids = official_split(c)
    assert (len(train_ids), len(test_ids)) == (245, 106)
    train = c.subset(train_ids)
    folds = list(repeated_stratified_kfold(train, n_splits=5, n_repeats=5, seed=0))
    assert len(folds) == 25
    assert all(not set(t).intersection(test_ids) for _, t in folds)
    assert {len(t) for _, t in folds} == {49}
