"""Tests of fusion.models.metrics: classification metrics and Harrell's C-index vs brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion import InvalidParameterError
from fusion.models.metrics import classification_metrics, concordance_index


def brute_force_c_index(time: list[float], event: list[bool], risk: list[float]) -> float:
    concordant, comparable = 0.0, 0
    for i in range(len(time)):
        for j in range(len(time)):
            if event[i] and time[i] < time[j]:
                comparable += 1
                concordant += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
    return concordant / comparable if comparable else float("nan")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.booleans(), st.integers(-3, 3)), min_size=2, max_size=25
    )
)
def test_c_index_matches_brute_force(rows: list[tuple[int, bool, int]]) -> None:
    time, event, risk = (list(x) for x in zip(*rows))
    got = concordance_index(time, event, risk)
    expected = brute_force_c_index(time, event, risk)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_c_index_extremes_and_errors() -> None:
    t, e = [1, 2, 3, 4], [1, 1, 1, 1]
    assert concordance_index(t, e, [4, 3, 2, 1]) == 1.0
    assert concordance_index(t, e, [1, 2, 3, 4]) == 0.0
    assert math.isnan(concordance_index(t, [0, 0, 0, 0], [1, 2, 3, 4]))
    with pytest.raises(InvalidParameterError, match="1-d arrays"):
        concordance_index(t, e, [1, 2])
    with pytest.raises(InvalidParameterError, match="NaN"):
        concordance_index(t, e, [1, 2, np.nan, 4])


def test_binary_metrics_use_second_class_as_positive() -> None:
    y = ["n", "n", "p", "p"]
    proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.9, 0.1]])
    m = classification_metrics(y, proba, ["n", "p"])
    assert m["acc"] == 0.5
    assert m["f1"] == pytest.approx(0.5)  # precision 1/2, recall 1/2
    assert m["auc"] == pytest.approx(0.5)


def test_multiclass_auc_is_one_vs_rest_macro() -> None:
    y = [0, 1, 2, 2]
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4]])
    m = classification_metrics(y, proba, [0, 1, 2])
    assert m["acc"] == 0.75
    assert m["f1"] == m["f1_macro"]
    assert m["auc"] == pytest.approx(1.0)
    assert 0 < m["f1_weighted"] <= 1


def test_single_class_gives_nan_auc_and_bad_shapes_raise() -> None:
    assert math.isnan(
        classification_metrics(["a", "a"], [[0.6, 0.4], [0.3, 0.7]], ["a", "b"])["auc"]
    )
    with pytest.raises(InvalidParameterError, match="shape"):
        classification_metrics(["a"], [[1.0]], ["a", "b"])
    with pytest.raises(InvalidParameterError, match="not among"):
        classification_metrics(["z"], [[0.5, 0.5]], ["a", "b"])
