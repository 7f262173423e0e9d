"""Tests of fusion.models.baselines: Cohort-in estimators with the classifier's API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cohorts import tiny_cohort
from sklearn.base import clone

from fusion import Cohort, InvalidParameterError, NotFittedError
from fusion.models.baselines import (
    EarlyFusionLogistic,
    EarlyFusionMLP,
    LateFusion,
    RandomForestBaseline,
    concatenate,
)
from fusion.models.metrics import classification_metrics

BASELINES = {
    "early LR": EarlyFusionLogistic(),
    "early MLP": EarlyFusionMLP(hidden=32, alphas=(0.1,)),
    "late average": LateFusion("average"),
    "late stacking": LateFusion("stacking"),
    "random forest": RandomForestBaseline(n_estimators=50),
}


@pytest.mark.parametrize("name", list(BASELINES))
def test_fit_predict_on_held_out_samples(name: str) -> None:
    train, test = (
        tiny_cohort(n=90, missing=True, classes=3),
        tiny_cohort(n=60, seed=5, missing=True, classes=3),
    )
    est = clone(BASELINES[name]).fit(train)
    proba = est.predict_proba(test)
    assert proba.shape == (60, 3)
    assert np.allclose(proba.sum(1), 1.0)
    assert set(est.predict(test)) <= {"a", "b", "c"}
    assert est.score(test) == classification_metrics(test.labels, proba, est.classes_)["acc"]
    assert est.score(test) > 0.4  # planted signal, 3 balanced classes


@pytest.mark.parametrize("name", list(BASELINES))
def test_not_fitted_and_params(name: str) -> None:
    est = clone(BASELINES[name])
    assert "random_state" in est.get_params()
    with pytest.raises(NotFittedError):
        est.predict_proba(tiny_cohort())


def test_concatenate_marks_absent_modalities_as_missing() -> None:
    frame = concatenate(tiny_cohort(n=30, missing=True))
    assert frame.shape == (30, 18)
    assert frame.filter(like="methylation:").iloc[20:].isna().all().all()
    assert not frame.filter(like="mRNA:").isna().any().any()


def test_late_fusion_averages_only_present_modalities() -> None:
    train = tiny_cohort(n=90, missing=True)
    est = LateFusion("average").fit(train)
    test = tiny_cohort(n=30, seed=2, missing=True)
    mrna_only = est.models_["mRNA"].predict_proba(test["mRNA"])
    absent = ~test.presence["methylation"].to_numpy()
    assert np.allclose(est.predict_proba(test)[absent], mrna_only[absent])


def test_liblinear_solver_solves_the_same_l2_problem() -> None:
    """The dual solver for genome-wide inputs gives (nearly) the lbfgs model's probabilities."""
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(60, 200)), index=[f"p{i}" for i in range(60)])
    x.columns = [f"g{i}" for i in range(200)]
    y = pd.Series(np.where(x.iloc[:, :5].sum(axis=1) > 0, "a", "b"), index=x.index)
    cohort = Cohort({"mRNA": x}, labels=y)
    lbfgs = EarlyFusionLogistic().fit(cohort)
    dual = EarlyFusionLogistic(solver="liblinear").fit(cohort)
    assert dual.pipeline_.best_params_ == lbfgs.pipeline_.best_params_
    assert np.abs(dual.predict_proba(cohort) - lbfgs.predict_proba(cohort)).max() < 0.05
    with pytest.raises(InvalidParameterError, match="solver"):
        EarlyFusionLogistic(solver="saga").fit(cohort)
