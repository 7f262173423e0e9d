"""Tests of the per-modality transformers: fitted on training rows only, masks kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from fusion import (
    AlignmentError,
    Cohort,
    CohortError,
    InvalidParameterError,
    ModalityImputer,
    ModalityScaler,
    NotFittedError,
    VarianceFilter,
    read_breast_tcga,
    repeated_stratified_kfold,
)


@pytest.fixture
def cohort() -> Cohort:
    """20 samples, 2 classes; protein absent for the last 5 samples."""
    rng = np.random.default_rng(0)
    ids = [f"s{i:02d}" for i in range(20)]
    rna = pd.DataFrame(rng.normal(5, 2, (20, 4)), index=ids, columns=["g1", "g2", "g3", "g4"])
    prot = pd.DataFrame(rng.normal(0, 1, (15, 3)), index=ids[:15], columns=["a1", "a2", "a3"])
    labels = pd.Series(["x", "y"] * 10, index=ids)
    return Cohort({"mRNA": rna, "protein": prot}, labels=labels)


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_scaler_fits_present_rows_per_modality(cohort: Cohort, method: str) -> None:
    out = ModalityScaler(method).fit_transform(cohort)
    pd.testing.assert_frame_equal(out.presence, cohort.presence)
    for name in cohort:
        x = out[name]
        assert x.shape == cohort[name].shape
        if method == "standard":
            np.testing.assert_allclose(x.mean(), 0, atol=1e-12)
            np.testing.assert_allclose(x.std(ddof=0), 1)
        else:
            np.testing.assert_allclose(x.min(), 0)
            np.testing.assert_allclose(x.max(), 1)
    assert out.labels.equals(cohort.labels)


def test_scaler_constant_and_selected_modalities(cohort: Cohort) -> None:
    rna = cohort["mRNA"].assign(g1=3.0)
    c = cohort.with_data({"mRNA": rna})
    scaler = ModalityScaler(modalities=["mRNA"]).fit(c)
    out = scaler.transform(c)
    assert scaler.scale_["mRNA"]["g1"] == 1.0 and (out["mRNA"]["g1"] == 0).all()
    pd.testing.assert_frame_equal(out["protein"], c["protein"])  # untouched
    assert scaler.modalities_ == ("mRNA",)


def test_leakage_scaler_never_sees_held_out_fold(cohort: Cohort) -> None:
    """An outlier in the held-out fold must not move the fitted statistics."""
    for train_ids, test_ids in repeated_stratified_kfold(cohort, n_splits=4, n_repeats=2, seed=3):
        rna = cohort["mRNA"]
        rna.loc[test_ids[0], "g1"] = 1e6  # poison one held-out sample
        poisoned = cohort.with_data({"mRNA": rna})
        scaler = ModalityScaler().fit(poisoned.subset(train_ids))
        clean = ModalityScaler().fit(cohort.subset(train_ids))
        assert scaler.samples_fit_.equals(train_ids)
        assert not scaler.samples_fit_.isin(test_ids).any()
        pd.testing.assert_series_equal(scaler.center_["mRNA"], clean.center_["mRNA"])
        pd.testing.assert_series_equal(scaler.scale_["mRNA"], clean.scale_["mRNA"])
        assert scaler.center_["mRNA"]["g1"] < 100
        # present rows only: protein is fitted on the train ids that have protein
        assert scaler.n_samples_fit_["protein"] == int(
            cohort.presence.loc[train_ids, "protein"].sum()
        )


def test_leakage_spy_records_rows_fitted(cohort: Cohort) -> None:
    seen: list[list[str]] = []

    class Spy(ModalityScaler):
        def _fit_modality(self, name: str, frame: pd.DataFrame) -> None:
            seen.append(list(frame.index))
            super()._fit_modality(name, frame)

    train_ids, test_ids = next(repeated_stratified_kfold(cohort, n_splits=5, n_repeats=1, seed=0))
    Spy().fit(cohort.subset(train_ids)).transform(cohort)
    rows = {s for fitted in seen for s in fitted}
    assert rows <= set(train_ids) and not rows & set(test_ids)


def test_variance_filter(cohort: Cohort) -> None:
    rna = cohort["mRNA"].assign(g2=lambda d: d["g2"] * 100, g3=1.0)
    c = cohort.with_data({"mRNA": rna})
    vf = VarianceFilter(top_k={"mRNA": 2, "protein": 10}).fit(c)
    assert vf.selected_["mRNA"][0] == "g2" and len(vf.selected_["mRNA"]) == 2
    assert len(vf.selected_["protein"]) == 3  # top_k larger than the modality: keep all
    out = vf.transform(c)
    assert out["mRNA"].columns.tolist() == list(vf.selected_["mRNA"])
    assert "g3" not in VarianceFilter(threshold=0.0).fit(c).selected_["mRNA"]
    with pytest.raises(CohortError, match="keeps no feature"):
        VarianceFilter(threshold=1e12).fit(c)


def test_imputer_fills_values_never_modalities(cohort: Cohort) -> None:
    rna = cohort["mRNA"]
    rna.loc[["s01", "s02"], "g1"] = np.nan
    prot = cohort["protein"]
    prot.loc["s03", "a2"] = np.nan
    c = cohort.with_data({"mRNA": rna, "protein": prot})
    train = c.subset(c.samples[:10])
    imp = ModalityImputer("median").fit(train)
    assert imp.statistics_["mRNA"]["g1"] == pytest.approx(train["mRNA"]["g1"].median())
    out = imp.transform(c)
    assert out["mRNA"].loc[["s01", "s02"], "g1"].tolist() == [imp.statistics_["mRNA"]["g1"]] * 2
    assert out.missing_values()["n_missing_cells"].sum() == 0
    pd.testing.assert_frame_equal(out.presence, c.presence)  # s15..s19 still lack protein
    assert out["protein"].shape == (15, 3)
    all_nan = c.with_data({"protein": prot.assign(a3=np.nan)})
    with pytest.raises(CohortError, match="no training value to impute from: \\['a3'\\]"):
        ModalityImputer().fit(all_nan)


def test_not_fitted_and_params(cohort: Cohort) -> None:
    with pytest.raises(NotFittedError) as err:
        ModalityScaler().transform(cohort)
    assert isinstance(err.value, AttributeError)
    with pytest.raises(
        InvalidParameterError, match="The 'method' parameter of ModalityScaler must be"
    ):
        ModalityScaler("robust").fit(cohort)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'top_k' parameter"):
        VarianceFilter(top_k=0).fit(cohort)
    with pytest.raises(
        InvalidParameterError, match="'top_k' parameter of VarianceFilter must be set"
    ):
        VarianceFilter().fit(cohort)
    with pytest.raises(InvalidParameterError, match="'strategy'"):
        ModalityImputer("mode").fit(cohort)  # type: ignore[arg-type]
    with pytest.raises(AlignmentError, match="no modalities \\['clinical'\\]"):
        ModalityScaler(modalities=["clinical"]).fit(cohort)
    assert clone(VarianceFilter(top_k=3)).get_params()["top_k"] == 3
    assert "ModalityScaler(method='minmax')" in repr(ModalityScaler("minmax"))


def test_transform_checks_features(cohort: Cohort) -> None:
    scaler = ModalityScaler().fit(cohort)
    other = cohort.with_data({"mRNA": cohort["mRNA"].rename(columns={"g4": "g9"})})
    with pytest.raises(AlignmentError, match="features differ from fit: missing \\['g4'\\]"):
        scaler.transform(other)
    shuffled = cohort.with_data({"mRNA": cohort["mRNA"][["g4", "g1", "g3", "g2"]]})
    assert scaler.transform(shuffled)["mRNA"].columns.tolist() == ["g1", "g2", "g3", "g4"]
    with pytest.raises(CohortError, match="no samples present in the fitting cohort"):
        ModalityScaler().fit(cohort.subset(["s16", "s17"]))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_output_shape_independent_of_missing_modalities(
    cohort: Cohort, data: st.DataObject
) -> None:
    """Dropping random modality rows changes neither features nor other rows' values.

    (The function-scoped fixture is safe here: a Cohort is never mutated by these steps.)
    """
    steps = [ModalityImputer(), VarianceFilter(top_k=2), ModalityScaler()]
    fitted = cohort.subset(cohort.samples[:12])
    for step in steps:
        fitted = step.fit_transform(fitted)
    full = cohort
    for step in steps:
        full = step.transform(full)
    kept = {}
    for name in cohort:
        present = list(cohort[name].index)
        keep = data.draw(
            st.lists(st.sampled_from(present), unique=True, max_size=len(present)), label=name
        )
        kept[name] = [s for s in present if s in set(keep)]
    masked = cohort.with_data({name: cohort[name].loc[rows] for name, rows in kept.items()})
    out = masked
    for step in steps:
        out = step.transform(out)
    for name in cohort:
        assert out[name].shape == (len(kept[name]), fitted[name].shape[1])
        assert out[name].columns.equals(fitted[name].columns)
        pd.testing.assert_frame_equal(out[name], full[name].loc[kept[name]])
    pd.testing.assert_frame_equal(out.presence, masked.presence)


@pytest.mark.realdata
def test_real_breast_fit_on_train_transform_test(data_dir: Path) -> None:
    train, test = read_breast_tcga(data_dir / "mixomics_breast_tcga").train_test()
    vf = VarianceFilter(top_k=50).fit(train)
    scaler = ModalityScaler().fit(vf.transform(train))
    out = scaler.transform(vf.transform(test))
    assert [out[n].shape for n in out] == [(70, 50), (70, 50), (0, 50)]
    assert not out.presence["protein"].any()
    assert scaler.n_samples_fit_ == {"mRNA": 150, "miRNA": 150, "protein": 150}
