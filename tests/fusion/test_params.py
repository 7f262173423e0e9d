"""Tests of the declarative parameter validation (fusion._params, fusion.models.params)."""

from __future__ import annotations

import inspect
from dataclasses import fields

import numpy as np
import pytest

from fusion import InvalidParameterError
from fusion._params import (
    Boolean,
    Interval,
    ListOf,
    Pattern,
    StrOptions,
    check_positive,
    validate_parameter_constraints,
)
from fusion.models import (
    KGFUSION_CONSTRAINTS,
    EarlyFusionMLP,
    KGFusionClassifier,
    KGFusionSurvival,
    LateFusion,
    RandomForestBaseline,
    validate_params,
)
from gnn import FusionNetConfig
from gnn.training import TrainConfig


@pytest.mark.parametrize(
    ("constraint", "good", "bad", "words"),
    [
        (
            Interval(int, 1, None),
            [1, np.int64(7)],
            [0, 1.0, True, "2"],
            "an int in the range [1, inf)",
        ),
        (
            Interval(float, 0, 1, closed="neither"),
            [0.5, 1e-9],
            [0, 1, float("nan"), "0.5"],
            "a float in the range (0, 1)",
        ),
        (
            Interval(float, 0, None),
            [0, 2, 0.5],
            [-1e-9, float("inf"), False],
            "a float in the range [0, inf)",
        ),
        (StrOptions({"b", "a"}), ["a"], ["c", 1, None], "a str among {'a', 'b'}"),
        (Boolean(), [True, np.bool_(False)], [0, "yes"], "a bool"),
        (ListOf(str), [["x"], ()], ["x", [1]], "a list of str"),
        (
            Pattern(r"cuda(:\d+)?", "a CUDA device"),
            ["cuda", "cuda:1"],
            ["cuda:", "gpu"],
            "a CUDA device",
        ),
    ],
)
def test_constraints(constraint, good: list, bad: list, words: str) -> None:
    assert all(constraint.is_satisfied_by(v) for v in good)
    assert not any(constraint.is_satisfied_by(v) for v in bad)
    assert str(constraint) == words


def test_message_is_scikit_learns_with_plain_reprs() -> None:
    table = {"k": [Interval(int, 1, None), None]}
    validate_parameter_constraints(table, {"k": None, "other": "unchecked"}, "f")
    with pytest.raises(InvalidParameterError) as info:
        validate_parameter_constraints(table, {"k": np.int64(0)}, "f")
    expected = "The 'k' parameter of f must be an int in the range [1, inf) or None. Got 0 instead."
    assert str(info.value) == expected
    with pytest.raises(InvalidParameterError, match="'k' parameter of g must be a positive int"):
        check_positive("k", 0, "g")
    assert check_positive("k", np.int64(3), "g") == 3


def test_lr_fast_fails_before_any_fit() -> None:
    """Issue 15 item 13: validated without fitting, with scikit-learn's message."""
    with pytest.raises(InvalidParameterError) as info:
        validate_params(KGFusionClassifier, {"lr": "fast", "hidden": 4})
    assert str(info.value) == (
        "The 'lr' parameter of KGFusionClassifier must be a float in the range (0, inf). "
        "Got 'fast' instead."
    )
    with pytest.raises(InvalidParameterError, match="no parameter"):
        validate_params(KGFusionSurvival, {"learning_rate": 0.1})
    with pytest.raises(InvalidParameterError, match="'n_threads' parameter of KGFusionClassifier"):
        validate_params(KGFusionClassifier(n_threads=0))
    validate_params(KGFusionClassifier(hidden=8, device="cuda:0"))


def test_every_parameter_is_declared_once_and_validated() -> None:
    """One table for all parameters; the gnn configs take every field from the estimator."""
    params = list(inspect.signature(KGFusionClassifier.__init__).parameters)[1:]
    assert set(KGFUSION_CONSTRAINTS) == set(params)
    est = KGFusionClassifier()
    net, train = est.net_config(use_graph=True), est._train_config()
    defaults = est.get_params()
    for config in (net, train):
        for field in fields(config):
            if field.name != "use_graph":  # set from the control and the links, not a parameter
                assert getattr(config, field.name) == defaults[field.name]
    # gnn's own defaults agree with the user-facing ones (hidden was 8 in gnn, 4 here)
    assert FusionNetConfig() == net
    assert TrainConfig() == train
    changed = KGFusionClassifier(hidden=7, lr=0.1, batch_size=0)
    assert changed.net_config(False).hidden == 7
    assert (changed._train_config().lr, changed._train_config().batch_size) == (0.1, 0)


@pytest.mark.parametrize(
    ("estimator", "name"),
    [
        (LateFusion(method="vote"), "method"),
        (RandomForestBaseline(n_estimators=0), "n_estimators"),
        (EarlyFusionMLP(hidden=-1), "hidden"),
    ],
)
def test_baselines_validate_declaratively(estimator, name: str) -> None:
    from _cohorts import tiny_cohort

    with pytest.raises(
        InvalidParameterError, match=f"The '{name}' parameter of {type(estimator).__name__}"
    ):
        estimator.fit(tiny_cohort())
