"""Tests of fusion.models.metrics' survival-function metrics: Breslow, times, integrated Brier."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from _cohorts import survival_cohort

from fusion import InvalidParameterError
from fusion.models.metrics import (
    breslow_survival,
    evaluation_times,
    integrated_brier_score,
)


def test_breslow_by_hand() -> None:
    """Risks 0 and log 2, events at 1 and 2: H0(1) = 1/(1+2), H0(2) = 1/3 + 1/2."""
    s = breslow_survival(
        [0.0, math.log(2)], [1.0, 2.0], [True, True], [0.0, math.log(2)], [0.5, 1.0, 1.5, 2.0, 9.0]
    )
    h0 = np.array([0.0, 1 / 3, 1 / 3, 5 / 6, 5 / 6])
    assert s == pytest.approx(np.exp(-np.vstack([h0, 2 * h0])))


def test_breslow_censored_and_tied_times() -> None:
    """A censored time only shrinks later risk sets; two events at one time both count."""
    s = breslow_survival([0, 0, 0, 0], [1, 1, 2, 3], [1, 1, 0, 1], [0.0], [1.0, 2.5, 3.0])
    assert s[0] == pytest.approx(np.exp(-np.array([2 / 4, 2 / 4, 2 / 4 + 1])))


def test_breslow_shift_invariance_and_shapes() -> None:
    """Adding a constant to every risk leaves the survival functions unchanged."""
    rng = np.random.default_rng(0)
    r, t, e = rng.normal(size=30), rng.exponential(size=30), rng.random(30) < 0.7
    times = np.quantile(t, [0.2, 0.5, 0.8])
    a = breslow_survival(r, t, e, r[:5], times)
    assert a.shape == (5, 3) and np.all(np.diff(a, axis=1) <= 0)
    assert breslow_survival(r + 50, t, e, r[:5] + 50, times) == pytest.approx(a)
    with pytest.raises(InvalidParameterError, match="train_risk"):
        breslow_survival(r[:3], t, e, r, times)


def test_evaluation_times_stay_inside_the_test_follow_up() -> None:
    times = evaluation_times([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 1], [2.5, 4.0])
    assert len(times) and times.min() >= 2.5 and times.max() < 4.0
    assert len(evaluation_times([1, 2], [0, 0], [1, 2])) == 0  # no training event


def test_integrated_brier_score_by_hand() -> None:
    t, e = [1.0, 2.0, 3.0, 4.0], [True] * 4
    # S = 0.5 everywhere: every squared error is 1/4
    assert integrated_brier_score(t, e, t, e, np.full((4, 2), 0.5), [1.5, 2.5]) == pytest.approx(
        0.25
    )
    # S = 1 everywhere: BS(1.5) = 1/4 (one death), BS(2.5) = 2/4; trapezoid mean 0.375
    assert integrated_brier_score(t, e, t, e, np.ones((4, 2)), [1.5, 2.5]) == pytest.approx(0.375)
    assert math.isnan(integrated_brier_score(t, e, t, e, np.ones((4, 1)), [1.5]))


def test_integrated_brier_score_rewards_the_true_model() -> None:
    cohort = survival_cohort(n=300)
    x, s = cohort["mRNA"].to_numpy(), cohort.survival
    t, e = s["time"].to_numpy(), s["event"].to_numpy()
    times = evaluation_times(t[:200], e[:200], t[200:])
    true = np.exp(-np.outer(np.exp(x[200:, 0] - x[200:, 1]), times))  # S = exp(-t e^(x0 - x1))
    flat = np.tile(np.exp(-times), (100, 1))
    truth = integrated_brier_score(t[:200], e[:200], t[200:], e[200:], true, times)
    assert truth < integrated_brier_score(t[:200], e[:200], t[200:], e[200:], flat, times) < 0.25


def test_missing_extra_is_named(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sksurv", None)
    with pytest.raises(ImportError, match=r"kgfusion\[survival\]"):
        integrated_brier_score([1, 2, 3], [1, 1, 1], [1, 2, 3], [1, 1, 1], np.ones((3, 2)), [1, 2])
