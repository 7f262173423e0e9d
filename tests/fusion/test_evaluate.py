"""Tests of fusion.models.evaluate: the harness's protocols, rows and summaries."""

from __future__ import annotations

import pandas as pd
import pytest
from _cohorts import survival_cohort, tiny_cohort, tiny_kg

import fusion.models._graph as graph_module
import fusion.models.evaluate as evaluate_module
from fusion import Cohort, InvalidParameterError
from fusion.models.baselines import EarlyFusionLogistic, RandomForestBaseline
from fusion.models.estimator import KGFusionClassifier, KGFusionSurvival
from fusion.models.evaluate import evaluate, format_summary, summarize

MODELS = {"lr": EarlyFusionLogistic(), "rf": RandomForestBaseline(n_estimators=20)}


def with_split(cohort: Cohort) -> Cohort:
    split = pd.Series(["train"] * 40 + ["test"] * 20, index=cohort.samples)
    return Cohort(
        {m: cohort[m] for m in cohort},
        cohort.modalities.values(),
        labels=cohort.labels,
        split=split,
    )


@pytest.fixture(scope="module")
def official() -> pd.DataFrame:
    """The two baselines under the official split with seeds 0 and 1 (fitted once, shared)."""
    return evaluate(MODELS, with_split(tiny_cohort()), "official", seeds=(0, 1))


def test_official_protocol_one_row_per_estimator_and_seed(official: pd.DataFrame) -> None:
    results = official
    assert len(results) == 4
    assert set(results["estimator"]) == {"lr", "rf"}
    assert (results["n_train"] == 40).all() and (results["n_test"] == 20).all()
    assert results[["acc", "f1", "f1_macro", "f1_weighted", "auc", "fit_time"]].notna().all().all()
    rf = results[results["estimator"] == "rf"]
    assert rf["auc"].nunique() == 2  # seeds reach the estimators


def test_cv_protocol_holds_out_every_sample_once_per_repeat() -> None:
    rf = {"rf": MODELS["rf"]}  # the protocol, not the model: a forest fits faster than tuned LR
    results = evaluate(rf, tiny_cohort(), "cv", seeds=(3,), n_splits=3, n_repeats=2)
    assert len(results) == 6
    assert results.groupby("repeat")["n_test"].sum().tolist() == [60, 60]
    assert sorted(results["seed"].unique()) == [3, 4]


def test_summary_mean_and_sd(official: pd.DataFrame) -> None:
    results = official
    summary = summarize(results)
    assert list(summary.index) == [("lr", "official"), ("rf", "official")]
    rf = results[results["estimator"] == "rf"]["acc"]
    assert summary.loc[("rf", "official"), "acc_mean"] == pytest.approx(rf.mean())
    assert summary.loc[("rf", "official"), "acc_sd"] == pytest.approx(rf.std())
    assert summary["n"].tolist() == [2, 2]
    assert format_summary(summary).loc[("lr", "official"), "acc"].count("±") == 1


def test_survival_models_get_c_index() -> None:
    model = KGFusionSurvival(None, max_epochs=10, n_ensemble=1, device="cpu", n_threads=1)
    results = evaluate({"cox": model}, survival_cohort(n=90), "cv", n_splits=3, n_repeats=1)
    assert results["c_index"].between(0, 1).all()
    assert "acc" not in results


def test_bad_protocol_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="'protocol' parameter"):
        evaluate(MODELS, tiny_cohort(), "holdout")  # type: ignore[arg-type]


def test_the_cohort_is_linked_once_for_every_fold(monkeypatch) -> None:
    """Issue 16 item 2: linking is label-free, so the harness links once per cohort."""
    calls = []
    link = evaluate_module.link_cohort
    monkeypatch.setattr(
        evaluate_module, "link_cohort", lambda *a, **k: calls.append(1) or link(*a, **k)
    )
    monkeypatch.setattr(
        graph_module, "link_cohort", lambda *a, **k: calls.append(2) or link(*a, **k)
    )
    kg = tiny_kg()
    fast = {
        "max_epochs": 5,
        "n_ensemble": 1,
        "min_seeds": 2,
        "max_fraction": 1.0,
        "min_ic": 0.0,
        "device": "cpu",
    }
    models = {"kg": KGFusionClassifier(kg, **fast), "same_kg": KGFusionClassifier(kg, **fast)}
    results = evaluate(models, tiny_cohort(), "cv", n_splits=3, n_repeats=1)
    assert calls == [1] and len(results) == 6
    first = results[results["estimator"] == "kg"].reset_index(drop=True)
    assert first["auc"].tolist() == results[results["estimator"] == "same_kg"]["auc"].tolist()
