"""Tests of the Cohort container: validation at construction, alignment, masking, reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion import AlignmentError, Cohort, CohortError, LabelError, Modality, SplitError


def _frame(samples: list[str], features: list[str], start: float = 0.0) -> pd.DataFrame:
    values = start + np.arange(len(samples) * len(features), dtype=float).reshape(len(samples), -1)
    return pd.DataFrame(values, index=samples, columns=features)


@pytest.fixture
def cohort() -> Cohort:
    rna = _frame(["p1", "p2", "p3", "p4"], ["g1", "g2"])
    prot = _frame(["p3", "p2"], ["a1"])
    labels = pd.Series(["x", "y", "x", "y"], index=["p4", "p3", "p2", "p1"])
    split = pd.Series({"p1": "train", "p2": "train", "p3": "train", "p4": "test"})
    return Cohort(
        {"mRNA": rna, "protein": prot},
        [Modality("mRNA", "mRNA", "symbol")],
        labels=labels,
        split=split,
    )


def test_axes_and_presence(cohort: Cohort) -> None:
    assert cohort.samples.tolist() == ["p1", "p2", "p3", "p4"]
    assert cohort["protein"].index.tolist() == ["p2", "p3"]  # reordered to the sample axis
    assert cohort.presence.to_dict("list") == {
        "mRNA": [True] * 4,
        "protein": [False, True, True, False],
    }
    assert cohort.labels.tolist() == ["y", "x", "y", "x"] and cohort.labels.dtype == "category"
    assert cohort.modalities["protein"] == Modality("protein", "protein")
    assert cohort.absent_samples()["protein"].tolist() == ["p1", "p4"]
    assert "protein" in cohort and list(cohort) == ["mRNA", "protein"]
    assert "Cohort with 4 samples × 2 modalities" in repr(
        cohort
    ) and "split: 3 train / 1 test" in repr(cohort)


def test_getitem_does_not_leak_mutation(cohort: Cohort) -> None:
    frame = cohort["mRNA"]
    frame.iloc[0, 0] = 99.0
    assert cohort["mRNA"].iloc[0, 0] == 0.0
    with pytest.raises(KeyError, match="no modality 'clinical'"):
        cohort["clinical"]


def test_summary_and_missing(cohort: Cohort) -> None:
    rna = cohort["mRNA"]
    rna.loc["p2", "g2"] = np.nan
    c = cohort.with_data({"mRNA": rna})
    missing = c.missing_values()
    assert missing.loc["mRNA", ["n_missing_cells", "n_features_with_missing"]].tolist() == [1, 1]
    assert missing.loc["mRNA", "features_with_missing"] == ["g2"]
    assert missing.loc["mRNA", "missing_pct"] == pytest.approx(12.5)
    s = c.summary()
    assert s.loc["protein", ["n_samples", "n_features", "n_train", "n_test"]].tolist() == [
        2,
        1,
        2,
        0,
    ]
    assert s.loc["protein", ["label=x", "label=y"]].tolist() == [1, 1]
    assert s.loc["mRNA", "id_scheme"] == "symbol"


def test_subset_and_train_test(cohort: Cohort) -> None:
    sub = cohort.subset(["p4", "p1"])
    assert sub.samples.tolist() == ["p4", "p1"]
    assert sub["protein"].shape == (0, 1) and not sub.presence["protein"].any()
    assert list(sub.labels.cat.categories) == ["x", "y"]
    with pytest.raises(AlignmentError, match="not in the cohort: 'p9'"):
        cohort.subset(["p1", "p9"])
    with pytest.raises(CohortError, match="duplicate"):
        cohort.subset(["p1", "p1"])
    train, test = cohort.train_test()
    assert train.samples.tolist() == ["p1", "p2", "p3"] and test.samples.tolist() == ["p4"]
    with pytest.raises(SplitError, match="no official train/test split"):
        Cohort({"mRNA": cohort["mRNA"]}).train_test()


def test_setitem_checks_alignment(cohort: Cohort) -> None:
    cohort["clinical"] = _frame(["p4", "p1"], ["age"])
    assert cohort.presence["clinical"].tolist() == [True, False, False, True]
    with pytest.raises(AlignmentError, match="not in the cohort: 'p7'"):
        cohort["protein"] = _frame(["p7"], ["a1"])
    with pytest.raises(CohortError, match="cannot tell the kind"):
        cohort["other"] = _frame(["p1"], ["f"])
    with pytest.raises(CohortError, match="assigned to key"):
        cohort["mRNA"] = (_frame(["p1"], ["f"]), Modality("x", "mRNA"))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame(index=["p1"]), "no features"),
        (pd.DataFrame({"g": [1.0, 2.0]}, index=["p1", "p1"]), "duplicate sample ids 'p1'"),
        (pd.DataFrame([[1.0, 2.0]], index=["p1"], columns=["g", "g"]), "duplicate feature names"),
        (pd.DataFrame({"g": [1.0]}, index=[0]), "sample id must be a non-empty str"),
        (pd.DataFrame({"g": ["a"]}, index=["p1"]), "non-numeric dtype"),
        (
            pd.DataFrame({"g": [np.inf]}, index=["p1"]),
            "infinite value for sample 'p1', feature 'g'",
        ),
        ([[1.0]], "must be a pandas DataFrame"),
    ],
)
def test_bad_frames(frame: object, match: str) -> None:
    with pytest.raises(CohortError, match=match):
        Cohort({"mRNA": frame})  # type: ignore[dict-item]


def test_label_survival_split_validation() -> None:
    x = _frame(["a", "b", "c"], ["g"])
    with pytest.raises(LabelError, match="labels missing for samples 'c'"):
        Cohort({"mRNA": x}, labels=pd.Series(["u", "v"], index=["a", "b"]))
    with pytest.raises(AlignmentError, match="no data in any modality: 'z'"):
        Cohort({"mRNA": x}, labels=pd.Series(["u", "v", "u", "v"], index=["a", "b", "c", "z"]))
    with pytest.raises(LabelError, match="NaN"):
        Cohort({"mRNA": x}, labels=pd.Series(["u", None, "v"], index=["a", "b", "c"]))
    with pytest.raises(CohortError, match="survival time"):
        Cohort(
            {"mRNA": x},
            survival=pd.DataFrame({"time": [1.0, -1.0, 2.0], "event": [1, 0, 1]}, index=x.index),
        )
    surv = Cohort(
        {"mRNA": x}, survival=pd.DataFrame({"time": [1, 2, 3], "event": [1, 0, 1]}, index=x.index)
    )
    assert surv.survival["event"].tolist() == [True, False, True]
    with pytest.raises(SplitError, match="'train' or 'test'"):
        Cohort({"mRNA": x}, split=pd.Series(["train", "val", "test"], index=x.index))
    with pytest.raises(LabelError, match="unseen in the training labels: \\['w'\\]"):
        Cohort(
            {"mRNA": x},
            labels=pd.Series(["u", "u", "w"], index=x.index),
            split=pd.Series(["train", "train", "test"], index=x.index),
        )


def test_modality_validation() -> None:
    with pytest.raises(CohortError, match="kind must be one of"):
        Modality("x", "rna")  # type: ignore[arg-type]
    with pytest.raises(CohortError, match="non-empty str"):
        Modality("", "mRNA")
    assert Modality.from_name("METHYLATION", "cg_probe") == Modality(
        "METHYLATION", "methylation", "cg_probe"
    )


# --- properties ------------------------------------------------------------------------------

NAMES = ["mRNA", "miRNA", "protein"]


@st.composite
def masks(draw: st.DrawFn) -> pd.DataFrame:
    """A random presence mask: 1-8 samples × 1-3 modalities, each modality present somewhere."""
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, 3))
    cols = {}
    for name in NAMES[:k]:
        col = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
        cols[name] = col
    return pd.DataFrame(cols, index=[f"s{i}" for i in range(n)])


def _from_mask(mask: pd.DataFrame) -> Cohort:
    data = {
        name: _frame(
            list(mask.index[mask[name].to_numpy()]),
            [f"{name}_{j}" for j in range(i + 1)],
            start=10 * i,
        )
        for i, name in enumerate(mask.columns)
    }
    return Cohort(data, samples=mask.index)


@settings(max_examples=60, deadline=None)
@given(masks())
def test_presence_equals_rows_held(mask: pd.DataFrame) -> None:
    c = _from_mask(mask)
    pd.testing.assert_frame_equal(c.presence, mask, check_names=False)
    for name in c:
        assert c[name].index.tolist() == list(c.samples[c.presence[name].to_numpy()])


@settings(max_examples=60, deadline=None)
@given(masks(), st.data())
def test_subset_keeps_alignment(mask: pd.DataFrame, data: st.DataObject) -> None:
    c = _from_mask(mask)
    ids = data.draw(
        st.permutations(list(c.samples)).flatmap(
            lambda p: st.integers(0, len(p)).map(lambda m: p[:m])
        )
    )
    sub = c.subset(ids)
    assert sub.samples.tolist() == list(ids)
    pd.testing.assert_frame_equal(sub.presence, c.presence.loc[list(ids)], check_names=False)
    for name in c:
        assert sub[name].shape[1] == c[name].shape[1]  # features never depend on the rows kept
        assert sub[name].index.tolist() == [s for s in ids if mask.loc[s, name]]
        pd.testing.assert_frame_equal(sub[name], c[name].loc[sub[name].index])
