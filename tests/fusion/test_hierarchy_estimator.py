"""The estimators with architecture="hierarchy": fit, random masks, checkpoints, registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _cohorts import FAST, survival_cohort, tiny_cohort, tiny_kg

from fusion import InvalidParameterError, explain
from fusion.app.estimators import make_estimator
from fusion.models.estimator import KGFusionClassifier, KGFusionSurvival
from fusion.models.metrics import classification_metrics
from gnn import HierarchyConfig, HierarchyNet

HIERARCHY = {**FAST, "architecture": "hierarchy", "hidden": 1, "layers": 3}


@pytest.fixture(scope="module")
def fitted() -> KGFusionClassifier:
    return KGFusionClassifier(tiny_kg(), **HIERARCHY).fit(tiny_cohort())


def test_fit_builds_the_hierarchy_and_predicts(fitted: KGFusionClassifier) -> None:
    assert all(isinstance(net, HierarchyNet) for net in fitted.models_)
    assert isinstance(fitted.config_, HierarchyConfig) and fitted.config_.masks == "kg"
    net = fitted.models_[0]
    assert net.readout_ids == ["GO:1", "GO:2", "GO:3", "GO:9"]  # 3 terms, then the root
    assert net.num_levels == 2  # the tree is two levels deep; layers=3 stops at the root
    cohort = tiny_cohort(seed=1)
    proba = fitted.predict_proba(cohort)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(1), 1.0, atol=1e-6)
    assert classification_metrics(cohort.labels, proba, fitted.classes_)["auc"] > 0.75


def test_random_masks_control_keeps_sparsity_and_changes_connections(
    fitted: KGFusionClassifier,
) -> None:
    control = KGFusionClassifier(tiny_kg(), control="random_masks", random_state=3, **HIERARCHY)
    control.fit(tiny_cohort())
    assert control.config_.masks == "random" and control.config_.mask_seed == 3
    kg_net, random_net = fitted.models_[0], control.models_[0]
    for level in range(1, kg_net.num_levels + 1):
        kg_edges = getattr(kg_net, f"level_edges_{level}")
        random_edges = getattr(random_net, f"level_edges_{level}")
        assert kg_edges.shape == random_edges.shape
    assert not torch.equal(kg_net.level_edges_1, random_net.level_edges_1)


def test_random_masks_need_the_hierarchy() -> None:
    with pytest.raises(InvalidParameterError, match="architecture='hierarchy'"):
        KGFusionClassifier(tiny_kg(), control="random_masks", **FAST).fit(tiny_cohort())
    with pytest.raises(InvalidParameterError, match="'architecture' parameter"):
        KGFusionClassifier(tiny_kg(), architecture="pnet").fit(tiny_cohort())
    with pytest.raises(InvalidParameterError, match="layers >= 1"):
        KGFusionClassifier(tiny_kg(), **{**HIERARCHY, "layers": 0}).fit(tiny_cohort())


@pytest.mark.parametrize("control", ["none", "random_masks"])
def test_a_saved_hierarchy_model_loads_and_predicts_identically(
    tmp_path: Path, control: str
) -> None:
    cohort = tiny_cohort(missing=True)
    model = KGFusionClassifier(tiny_kg(), control=control, **HIERARCHY).fit(cohort)
    loaded = KGFusionClassifier.load(model.save(tmp_path / "model"), device="cpu")
    assert loaded.architecture == "hierarchy" and loaded.config_ == model.config_
    assert isinstance(loaded.models_[0], HierarchyNet)
    assert np.array_equal(loaded.predict_proba(cohort), model.predict_proba(cohort))


def test_explanations_of_a_hierarchy_model(fitted: KGFusionClassifier) -> None:
    cohort = tiny_cohort(seed=2)
    explanations = explain(fitted, cohort, patients=list(cohort.samples[:2]), method="contribution")
    assert [e.patient for e in explanations] == list(cohort.samples[:2])
    for explanation in explanations:  # "contribution": the hierarchy's term units score
        scores = explanation.scores
        assert (scores[scores.index.str.startswith("NCBIGene:")] == 0).all()
        assert (scores[scores.index.str.startswith("GO:")] != 0).any()


def test_survival_and_the_registry() -> None:
    model = make_estimator("kgfusion_hierarchy_survival", {**FAST, "n_ensemble": 1}, tiny_kg())
    assert isinstance(model, KGFusionSurvival) and model.architecture == "hierarchy"
    cohort = survival_cohort()
    assert model.fit(cohort).predict(cohort).shape == (160,)
    assert isinstance(model.models_[0], HierarchyNet)
    classifier = make_estimator("kgfusion_hierarchy", {}, tiny_kg())
    assert (classifier.architecture, classifier.hidden, classifier.layers) == ("hierarchy", 1, 3)
