"""Tests of fusion.models.survival_baselines: Cox elastic net and random survival forest."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from _cohorts import survival_cohort, tiny_cohort
from sklearn.base import clone

from fusion import LabelError, NotFittedError
from fusion.models.survival_baselines import EarlyFusionCoxnet, RandomSurvivalForestBaseline

MODELS = {
    "coxnet": EarlyFusionCoxnet(),
    "rsf": RandomSurvivalForestBaseline(n_estimators=30),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_fit_on_train_rank_held_out_samples(name: str) -> None:
    train, test = survival_cohort(n=160, seed=0), survival_cohort(n=100, seed=1)
    model = clone(MODELS[name]).fit(train)
    assert model.predict(test).shape == (100,)
    assert model.score(test) > 0.65  # log-hazard x0 - x1
    times = np.quantile(train.survival["time"], [0.1, 0.5, 0.9])
    survival = model.predict_survival(test, times)
    assert survival.shape == (100, 3)
    assert ((survival >= 0) & (survival <= 1)).all() and (np.diff(survival, axis=1) <= 1e-12).all()


@pytest.mark.parametrize("name", list(MODELS))
def test_errors_and_determinism(name: str) -> None:
    model = clone(MODELS[name])
    with pytest.raises(NotFittedError):
        model.predict(survival_cohort(n=20))
    with pytest.raises(LabelError, match="survival"):
        model.fit(tiny_cohort())  # labels, no survival
    cohort = survival_cohort(n=80)
    assert clone(model).fit(cohort).predict(cohort) == pytest.approx(
        model.fit(cohort).predict(cohort)
    )


def test_coxnet_tunes_alpha_on_the_path() -> None:
    model = EarlyFusionCoxnet(n_alphas=10).fit(survival_cohort(n=120))
    alphas = model.pipeline_[-1].alphas_
    assert len(model.inner_scores_) == len(alphas) == 10
    assert model.alpha_ == alphas[int(np.argmax(model.inner_scores_))]
    assert model.pipeline_[-1].fit_baseline_model


def test_missing_extra_is_named(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sksurv", None)
    with pytest.raises(ImportError, match=r"EarlyFusionCoxnet needs scikit-survival.*\[survival\]"):
        EarlyFusionCoxnet().fit(survival_cohort(n=40))
