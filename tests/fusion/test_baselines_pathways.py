"""Tests of fusion.models.pathways: gene-set features fitted in-fold, and their linear models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cohorts import GENES, survival_cohort, tiny_cohort, tiny_kg
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion import AlignmentError, Cohort, Modality, link_cohort
from fusion.app.estimators import is_kg_model, make_estimator, takes_kg
from fusion.models.pathways import (
    PathwayFeatureCox,
    PathwayFeatureLogistic,
    PathwayFeatures,
    gene_set_members,
)


def mutation_cohort() -> Cohort:
    """Four samples, 0/1 mutations of GENE0..GENE5 (GO:1 holds GENE0..3, GO:2 GENE4..7)."""
    mut = pd.DataFrame(
        [[1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]],
        index=["a", "b", "c", "d"],
        columns=GENES[:6],
        dtype=float,
    )
    return Cohort({"mut": mut}, [Modality("mut", "mRNA", "symbol")])


def test_membership_propagates_up_the_hierarchy() -> None:
    kg = tiny_kg()
    nodes = pd.Index(["NCBIGene:1", "NCBIGene:5"])
    members, sets = gene_set_members(kg, nodes)
    table = pd.DataFrame(members.toarray(), index=nodes, columns=sets).astype(int)
    assert table.loc["NCBIGene:1"].to_dict() == {"GO:1": 1, "GO:2": 0, "GO:3": 0, "GO:9": 1}
    flat, _ = gene_set_members(kg, nodes, propagate=False)
    assert flat.toarray()[:, list(sets).index("GO:9")].sum() == 0


def test_burden_count_and_share_by_hand() -> None:
    cohort = mutation_cohort()
    count = PathwayFeatures(tiny_kg(), min_genes=2, max_genes=12).fit(cohort).transform(cohort)
    # GO:1 has 4 linked genes here, GO:2 two (GENE4, GENE5), GO:9 all six
    assert list(count.columns) == ["mut:GO:1", "mut:GO:2", "mut:GO:9"]
    assert count.to_numpy().tolist() == [[2, 0, 2], [0, 1, 1], [4, 2, 6], [0, 0, 0]]
    share = PathwayFeatures(tiny_kg(), min_genes=2, burden="share").fit(cohort).transform(cohort)
    assert share.loc["a"].tolist() == pytest.approx([2 / 4, 0 / 2, 2 / 6])
    small = PathwayFeatures(tiny_kg(), min_genes=2, max_genes=4).fit(cohort).transform(cohort)
    assert list(small.columns) == ["mut:GO:1", "mut:GO:2"]  # GO:9's six genes are too many


def test_mean_z_score_uses_training_statistics_only() -> None:
    """Training GENE values 0, 2 (mean 1, sd 1); a test value of 3 everywhere is z = 2."""
    ids = ["t1", "t2", "t3"]
    values = pd.DataFrame(
        {g: [0.0, 2.0, 3.0] for g in GENES[:4]} | {"NOTAGENE": [5.0, 6.0, 7.0]}, index=ids
    )
    cohort = Cohort({"mRNA": values}, [Modality("mRNA", "mRNA", "symbol")])
    train, test = cohort.subset(pd.Index(ids[:2])), cohort.subset(pd.Index(ids[2:]))
    features = PathwayFeatures(tiny_kg(), min_genes=4, propagate=False).fit(train)
    fitted = features.modalities_["mRNA"]
    assert fitted.mean[:4].tolist() == [1.0] * 4 and fitted.sd[:4].tolist() == [1.0] * 4
    assert features.transform(test).to_numpy().tolist() == [[2.0]]
    assert features.transform(train).to_numpy().ravel().tolist() == [-1.0, 1.0]
    # refitting on the same training part with other test values gives the same statistics
    other = cohort["mRNA"].copy()
    other.loc["t3"] = 1e6
    changed = Cohort({"mRNA": other}, [Modality("mRNA", "mRNA", "symbol")])
    refit = PathwayFeatures(tiny_kg(), min_genes=4, propagate=False).fit(
        changed.subset(pd.Index(ids[:2]))
    )
    assert refit.modalities_["mRNA"].mean.tolist() == fitted.mean.tolist()
    assert refit.transform(test).to_numpy().tolist() == [[2.0]]


def test_unlinked_and_absent_modalities() -> None:
    cohort = tiny_cohort(n=30, missing=True)  # methylation probes link to no gene
    links = link_cohort(cohort, tiny_kg())
    features = PathwayFeatures(tiny_kg(), min_genes=2).fit(cohort, links=links)
    assert list(features.modalities_) == ["mRNA"]
    frame = features.transform(Cohort({"methylation": cohort["methylation"]}))
    assert frame.isna().all().all() and frame.shape == (20, 4)
    with pytest.raises(AlignmentError, match="no modality of the cohort"):
        PathwayFeatures(tiny_kg(), min_genes=13).fit(cohort)
    with pytest.raises(AlignmentError, match="no modality 'mRNA'"):
        PathwayFeatures(tiny_kg()).fit(cohort, links=link_cohort(mutation_cohort(), tiny_kg()))


def test_pathway_logistic_learns_the_planted_term() -> None:
    train, test = tiny_cohort(n=90), tiny_cohort(n=60, seed=3)
    model = PathwayFeatureLogistic(tiny_kg(), min_genes=2).fit(
        train, links=link_cohort(train, tiny_kg())
    )
    assert model.predict_proba(test).shape == (60, 2)
    assert model.score(test) > 0.75  # labels follow GENE0..3 = GO:1
    same = PathwayFeatureLogistic(tiny_kg(), min_genes=2).fit(train)
    assert same.predict_proba(test) == pytest.approx(model.predict_proba(test))


def test_pathway_cox_on_survival() -> None:
    cohort = survival_cohort(n=120)  # GENE0..5: GO:1 holds the log-hazard's x0 and x1
    model = PathwayFeatureCox(tiny_kg(), min_genes=2).fit(cohort)
    assert list(model.pathways_.transform(cohort).columns) == [
        "mRNA:GO:1",
        "mRNA:GO:2",
        "mRNA:GO:9",
    ]
    assert model.predict(cohort).shape == (120,)
    assert model.predict_survival(cohort, [0.5, 1.0]).shape == (120, 2)


def test_registry_passes_the_kg() -> None:
    kg = tiny_kg()
    assert takes_kg("pathway_lr") and takes_kg("pathway_cox") and takes_kg("kgfusion")
    assert not takes_kg("coxnet") and not takes_kg("rf")
    assert is_kg_model("kgfusion") and not is_kg_model("pathway_lr")  # no checkpoints
    assert make_estimator("pathway_lr", {"min_genes": 2}, kg).kg is kg
    assert make_estimator("rsf", {"n_estimators": 10}).n_estimators == 10
    assert np.isclose(make_estimator("coxnet", {}).l1_ratio, 0.5)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from([0.0, 1.0]), min_size=6, max_size=6), min_size=2, max_size=8),
    st.sampled_from(["count", "share"]),
)
def test_burden_matches_a_loop_over_members(rows: list[list[float]], burden: str) -> None:
    """Burden of GO:1 (GENE0..3), GO:2 (GENE4, GENE5) and GO:9 (all) against a plain loop."""
    ids = [f"s{i}" for i in range(len(rows))]
    frame = pd.DataFrame(rows, index=ids, columns=GENES[:6])
    cohort = Cohort({"mut": frame}, [Modality("mut", "mRNA", "symbol")])
    out = PathwayFeatures(tiny_kg(), min_genes=2, burden=burden).fit(cohort).transform(cohort)
    for term, genes in {"GO:1": GENES[:4], "GO:2": GENES[4:6], "GO:9": GENES[:6]}.items():
        expected = frame[genes].sum(axis=1) / (1 if burden == "count" else len(genes))
        assert out[f"mut:{term}"].tolist() == pytest.approx(expected.tolist())
