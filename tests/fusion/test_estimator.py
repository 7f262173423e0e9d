"""Tests of fusion.models.estimator: sklearn conventions, determinism, checkpoints, survival."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _cohorts import FAST, survival_cohort, tiny_cohort, tiny_kg
from sklearn.base import clone

from fusion import (
    AlignmentError,
    Cohort,
    InvalidParameterError,
    LabelError,
    NotFittedError,
    SplitError,
    link_cohort,
)
from fusion.models.estimator import KGFusionClassifier, KGFusionSurvival
from fusion.models.metrics import classification_metrics, concordance_index


@pytest.fixture(scope="module")
def fitted() -> KGFusionClassifier:
    return KGFusionClassifier(tiny_kg(), **FAST).fit(tiny_cohort())


def test_init_stores_params_only_and_clone_works() -> None:
    est = KGFusionClassifier(None, hidden=3, n_ensemble=4)
    assert not [k for k in vars(est) if k.endswith("_")]
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert copy.set_params(hidden=5).hidden == 5


def test_constructible_from_a_plain_dict() -> None:
    config = {
        "hidden": 6,
        "layers": 1,
        "n_ensemble": 2,
        "control": "rewired",
        "device": "cpu",
        "n_threads": 1,
    }
    assert KGFusionClassifier(**config).get_params()["layers"] == 1


def test_predict_before_fit_raises() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        KGFusionClassifier().predict(tiny_cohort())


@pytest.mark.parametrize(
    ("name", "value"),
    [("hidden", 0), ("dropout", 1.5), ("direct", "some"), ("val_size", 1.0), ("kg", "graph.json")],
)
def test_invalid_params_are_named(name: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of KGFusionClassifier"):
        KGFusionClassifier(**{name: value}).fit(tiny_cohort())


def test_fit_links_prunes_and_predicts(fitted: KGFusionClassifier) -> None:
    cohort = tiny_cohort(seed=1)
    proba = fitted.predict_proba(cohort)
    assert proba.shape == (60, 2)
    assert np.allclose(proba.sum(1), 1.0, atol=1e-6)
    assert list(fitted.classes_) == ["a", "b"]
    assert set(fitted.predict(cohort)) <= {"a", "b"}
    assert fitted.graph_.num_nodes == 16  # 12 genes, 3 terms, the root
    assert int((fitted.feature_nodes_["mRNA"] >= 0).sum()) == 12  # NOTAGENE unlinked
    assert len(fitted.models_) == 2
    metrics = classification_metrics(cohort.labels, proba, fitted.classes_)
    assert metrics["auc"] > 0.75  # held-out samples, planted signal


def test_two_fits_with_one_seed_are_identical(fitted: KGFusionClassifier) -> None:
    again = KGFusionClassifier(tiny_kg(), **FAST).fit(tiny_cohort())
    assert np.array_equal(
        again.predict_proba(tiny_cohort(seed=2)), fitted.predict_proba(tiny_cohort(seed=2))
    )


def test_checkpoint_round_trip(fitted: KGFusionClassifier, tmp_path: Path) -> None:
    fitted.save(tmp_path / "model")
    loaded = KGFusionClassifier.load(tmp_path / "model", device="cpu")
    cohort = tiny_cohort(seed=3)
    assert np.array_equal(loaded.predict_proba(cohort), fitted.predict_proba(cohort))
    assert list(loaded.classes_) == list(fitted.classes_)
    assert loaded.get_params()["n_ensemble"] == 2
    with pytest.raises(InvalidParameterError, match="KGFusionSurvival"):
        KGFusionSurvival.load(tmp_path / "model")


def test_missing_modality_and_rewired_graph() -> None:
    cohort = tiny_cohort(missing=True, classes=3)
    est = KGFusionClassifier(tiny_kg(), control="rewired", **FAST).fit(cohort)
    proba = est.predict_proba(cohort)
    assert proba.shape == (60, 3)
    assert not np.isnan(proba).any()
    degrees = [(o.tolist(), i.tolist()) for o, i in est.graph_.degrees()]
    plain = KGFusionClassifier(tiny_kg(), **FAST).fit(cohort)
    assert degrees == [(o.tolist(), i.tolist()) for o, i in plain.graph_.degrees()]


def test_without_kg_uses_direct_encoders_only() -> None:
    est = KGFusionClassifier(None, **FAST).fit(tiny_cohort())
    assert est.graph_.num_nodes == 0
    assert est.models_[0].num_sources == 2


def test_labels_required() -> None:
    with pytest.raises(LabelError, match="labels"):
        KGFusionClassifier(**FAST).fit(survival_cohort())


def test_survival_c_index_out_of_sample(tmp_path: Path) -> None:
    cohort = survival_cohort(n=240)
    train, test = cohort.subset(cohort.samples[:160]), cohort.subset(cohort.samples[160:])
    est = KGFusionSurvival(tiny_kg(), **{**FAST, "max_epochs": 60, "patience": 15, "lr": 1e-2}).fit(
        train
    )
    risk = est.predict(test)
    c_index = concordance_index(test.survival["time"], test.survival["event"], risk)
    assert c_index > 0.7
    assert est.score(test) == pytest.approx(c_index)
    loaded = KGFusionSurvival.load(est.save(tmp_path / "cox"), device="cpu")
    assert np.array_equal(loaded.predict(test), risk)


def test_fit_on_precomputed_links_is_identical_and_does_not_relink(monkeypatch) -> None:
    """Issue 16 item 2: link once, pass the links to fit; same seed, same predictions."""
    import fusion.models._graph as graph_module

    cohort, kg = tiny_cohort(missing=True), tiny_kg()
    links = link_cohort(cohort, kg)
    plain = KGFusionClassifier(kg, **FAST).fit(cohort)

    def no_linking(*args: object, **kwargs: object) -> None:
        raise AssertionError("fit linked again")

    monkeypatch.setattr(graph_module, "link_cohort", no_linking)
    reused = KGFusionClassifier(kg, **FAST).fit(cohort, links=links)
    test = tiny_cohort(seed=6, missing=True)
    assert np.array_equal(reused.predict_proba(test), plain.predict_proba(test))
    assert reused.link_report_.equals(plain.link_report_)
    fold = cohort.subset(cohort.samples[:30])  # a whole cohort's links serve its folds
    KGFusionClassifier(kg, **{**FAST, "n_ensemble": 1}).fit(fold, links=links)


def test_links_that_do_not_match_the_cohort_are_refused() -> None:
    cohort, kg = tiny_cohort(), tiny_kg()
    other = tiny_cohort()
    mrna = other["mRNA"].drop(columns=["GENE0", "GENE1"])
    smaller = Cohort({"mRNA": mrna, "methylation": other["methylation"]}, other.modalities.values())
    links = link_cohort(smaller, kg)
    with pytest.raises(AlignmentError, match="modality 'mRNA' .* 2 of the cohort's 13 features"):
        KGFusionClassifier(kg, **FAST).fit(cohort, links=links)
    only_mrna = link_cohort(Cohort({"mRNA": cohort["mRNA"]}, [cohort.modalities["mRNA"]]), kg)
    with pytest.raises(AlignmentError, match="no modality 'methylation'"):
        KGFusionClassifier(kg, **FAST).fit(cohort, links=only_mrna)
    with pytest.raises(InvalidParameterError, match="links must be a fusion.CohortLinks"):
        KGFusionClassifier(kg, **FAST).fit(cohort, links={"mRNA": []})


@pytest.mark.parametrize("n", [3, 5])
def test_a_cohort_too_small_for_the_inner_split_names_val_size(n: int) -> None:
    """Issue 15 item 14: 3 or 5 patients; the message names val_size and the minimum."""
    cohort = tiny_cohort().subset([f"p{i:03d}" for i in range(n)])
    with pytest.raises(
        SplitError, match=r"val_size=0\.2.* at least (2 patients per class|6 patients)"
    ):
        KGFusionClassifier(tiny_kg(), **FAST).fit(cohort)


def test_permuted_features_control_keeps_graph_and_moves_features() -> None:
    cohort = tiny_cohort()
    plain = KGFusionClassifier(tiny_kg(), **FAST).fit(cohort)
    permuted = KGFusionClassifier(tiny_kg(), control="permuted_features", **FAST).fit(cohort)
    assert permuted.graph_.node_ids == plain.graph_.node_ids
    before = {m: t.tolist() for m, t in plain.feature_nodes_.items()}
    after = {m: t.tolist() for m, t in permuted.feature_nodes_.items()}
    assert before != after
    assert all(sorted(before[m]) == sorted(after[m]) for m in before)


def test_no_graph_control_turns_the_graph_branch_off() -> None:
    est = KGFusionClassifier(tiny_kg(), control="no_graph", **FAST).fit(tiny_cohort())
    assert not est.config_.use_graph
    assert est.graph_.num_nodes == 0


def test_random_masks_control_belongs_to_the_hierarchy_network() -> None:
    with pytest.raises(InvalidParameterError, match="random_masks"):
        KGFusionClassifier(tiny_kg(), control="random_masks", **FAST).fit(tiny_cohort())
    with pytest.raises(InvalidParameterError, match="control"):
        KGFusionClassifier(tiny_kg(), control="shuffled").fit(tiny_cohort())
