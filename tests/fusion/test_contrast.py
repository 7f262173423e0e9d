"""Class contrasts of explanations: permutation p-values, FDR, effect sizes, plot and CLI."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control, permutation_test

from fusion import InvalidParameterError
from fusion.explanations import (
    CONTRAST_COLUMNS,
    Explanation,
    cliffs_delta,
    contrast,
    permutation_pvalues,
    plot_contrast,
)
from fusion.explanations.attribution import PREDICTED_CLASS
from kg import KnowledgeGraph, make_edges, make_nodes


@pytest.fixture(scope="module")
def graph() -> KnowledgeGraph:
    """Two genes in pathway P, P part of Q, and R on its own."""
    nodes = pd.concat([
        make_nodes(["g1", "g2"], "gene", "t"),
        make_nodes(["P", "Q", "R"], "pathway", "t", name=["pee", "queue", "are"]),
    ])  # fmt: skip
    return KnowledgeGraph(nodes, make_edges(["g1", "g2", "P"], ["member_of"] * 2 + ["part_of"],
                                            ["P", "P", "Q"], "t"))  # fmt: skip


def _explanations(
    graph: KnowledgeGraph, rows: list[dict[str, float]], classes: list[str], method: str = "ig"
) -> list[Explanation]:
    return [
        Explanation(graph, pd.Series(s, dtype=float), [], f"p{i}", prediction=c, method=method)
        for i, (s, c) in enumerate(zip(rows, classes))
    ]


def _enumerated(values: np.ndarray, in_group: np.ndarray, alternative: str) -> np.ndarray:
    """The exact p-value by listing every split (the definition, one split at a time)."""
    n, n_group = len(in_group), int(in_group.sum())
    observed = values[in_group].mean(0) - values[~in_group].mean(0)
    hits = np.zeros(values.shape[1])
    for chosen in combinations(range(n), n_group):
        mask = np.isin(np.arange(n), chosen)
        d = values[mask].mean(0) - values[~mask].mean(0)
        hits += {"greater": d >= observed - 1e-12, "less": d <= observed + 1e-12,
                 "two-sided": np.abs(d) >= np.abs(observed) - 1e-12}[alternative]  # fmt: skip
    return hits / comb(n, n_group)


# ------------------------------------------------------------------------------ the test itself
def test_four_patients_exact_p_by_hand() -> None:
    """Scores 1, 2, 3, 4 with {3, 4} the group: of the 6 splits, {3, 4} alone has d >= 2 and
    {1, 2} mirrors it, so p = 1/6 one-sided, 2/6 two-sided; the second column ties 2 ways."""
    values = np.array([[1.0, 5.0], [2.0, 0.0], [3.0, 5.0], [4.0, 0.0]])
    in_group = np.array([False, False, True, True])
    difference, p = permutation_pvalues(values, in_group, alternative="greater")
    assert difference.tolist() == [2.0, 0.0]
    # column 2: splits {0,2}: +5, {1,3}: -5, others 0 -> d >= 0 for 5 of 6
    np.testing.assert_allclose(p, [1 / 6, 5 / 6])
    _, p = permutation_pvalues(values, in_group)
    np.testing.assert_allclose(p, [2 / 6, 1.0])
    _, p = permutation_pvalues(values, in_group, alternative="less")
    np.testing.assert_allclose(p, [1.0, 5 / 6])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_exact_p_matches_enumeration_and_scipy(alternative: str) -> None:
    values = np.random.default_rng(3).normal(size=(8, 6))
    in_group = np.array([1, 0, 1, 1, 0, 0, 0, 1], dtype=bool)
    _, p = permutation_pvalues(values, in_group, alternative=alternative)  # 70 splits <= 1000
    np.testing.assert_allclose(p, _enumerated(values, in_group, alternative))
    scipy = permutation_test((values[in_group], values[~in_group]),
                             lambda a, b, axis: a.mean(axis) - b.mean(axis), vectorized=True,
                             alternative=alternative, axis=0)  # fmt: skip
    if alternative != "two-sided":  # scipy's two-sided p is 2 min(one-sided), not |d| >= |d_obs|
        np.testing.assert_allclose(p, scipy.pvalue)


def test_random_permutations_give_1_plus_hits_over_1_plus_n() -> None:
    """12 patients, 6 in the group: 924 splits > 99 permutations. A perfectly separated term is
    beaten by no permutation but its mirror and itself, so p is between 1/100 and a few/100."""
    values = np.column_stack([np.arange(12.0), np.random.default_rng(0).normal(size=12)])
    in_group = np.arange(12) >= 6
    _, p = permutation_pvalues(values, in_group, n_permutations=99, seed=4)
    hits = p * 100 - 1
    np.testing.assert_allclose(hits, np.round(hits), atol=1e-9)
    assert 1 / 100 <= p[0] <= 3 / 100 and p[1] > p[0]
    again = permutation_pvalues(values, in_group, n_permutations=99, seed=4)[1]
    other = permutation_pvalues(values, in_group, n_permutations=99, seed=5)[1]
    assert np.array_equal(p, again) and not np.array_equal(p[1], other[1])


def test_cliffs_delta_by_hand() -> None:
    """Group {3, 1} vs {2, 2, 0}: pairs 3>2, 3>2, 3>0, 1<2, 1<2, 1>0: (4 - 2) / 6."""
    values = np.array([[3.0], [1.0], [2.0], [2.0], [0.0]])
    np.testing.assert_allclose(cliffs_delta(values, np.array([1, 1, 0, 0, 0], bool)), [1 / 3])


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.lists(st.integers(-3, 3), min_size=2, max_size=2), min_size=4, max_size=7),
    bits=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_p_bounds_and_invariance_to_swapping_groups(
    values: list[list[int]], bits: list[bool]
) -> None:
    x = np.asarray(values, dtype=float)
    in_group = np.asarray(bits[: len(x)])
    in_group[:2], in_group[2:4] = True, False  # both groups have >= 2 patients
    d, two = permutation_pvalues(x, in_group)
    _, greater = permutation_pvalues(x, in_group, alternative="greater")
    _, less = permutation_pvalues(x, in_group, alternative="less")
    floor = 1 / comb(len(x), int(in_group.sum()))
    for p in (two, greater, less):
        assert np.all((p >= floor - 1e-12) & (p <= 1 + 1e-12))
    assert np.all(greater + less >= 1 - 1e-12)  # the observed split counts in both
    assert np.all(two[d >= 0] >= greater[d >= 0] - 1e-12)
    d_swapped, two_swapped = permutation_pvalues(x, ~in_group)
    np.testing.assert_allclose(d_swapped, -d, atol=1e-12)
    np.testing.assert_allclose(two_swapped, two)
    _, random = permutation_pvalues(x, in_group, n_permutations=3, seed=1)
    _, random_swapped = permutation_pvalues(x, ~in_group, n_permutations=3, seed=1)
    np.testing.assert_allclose(random, random_swapped)
    assert np.all(random >= 1 / 4)


# ------------------------------------------------------------------------------ contrast()
def test_contrast_table_by_hand(graph: KnowledgeGraph) -> None:
    rows = [{"P": 1.0, "Q": 0.5, "g1": 2.0}, {"P": 2.0, "Q": 0.5, "g1": 2.0},
            {"P": 3.0, "Q": 0.0, "g1": 2.0}, {"P": 4.0}]  # fmt: skip
    table = contrast(_explanations(graph, rows, ["ctrl", "ctrl", "AD", "AD"]), reference="ctrl")
    assert tuple(table.columns) == CONTRAST_COLUMNS
    # g1 differs (2, 2 | 2, 0); R never scores: not tested. P and Q tie on q, p and |effect|
    assert table["id"].tolist() == ["P", "Q", "g1"]
    np.testing.assert_allclose(table["p_value"], [1 / 3, 1 / 3, 1.0])  # g1: every |d| is 1
    np.testing.assert_allclose(table["q_value"], [0.5, 0.5, 1.0])
    p_row = table.set_index("id").loc["P"]
    assert (p_row["group"], p_row["versus"], p_row["name"], p_row["type"]) == (
        "AD",
        "ctrl",
        "pee",
        "pathway",
    )
    assert (p_row["n_group"], p_row["n_versus"]) == (2, 2)
    assert (p_row["mean_group"], p_row["mean_versus"], p_row["difference"]) == (3.5, 1.5, 2.0)
    assert p_row["effect"] == 1.0 and p_row["p_value"] == pytest.approx(1 / 3)
    assert "R" not in set(table["id"])
    assert table.attrs == {
        "method": "ig",
        "explained": None,
        "n_permutations": 1000,
        "seed": 0,
        "alternative": "two-sided",
    }
    pathways = contrast(_explanations(graph, rows, ["ctrl", "ctrl", "AD", "AD"]), type="pathway")
    assert set(pathways["id"]) == {"P", "Q"}
    assert pathways["group"].iat[0] == "ctrl"  # 2 groups, no reference: the second sorted


def test_more_groups_one_vs_rest_or_versus_reference(graph: KnowledgeGraph) -> None:
    scores = np.arange(6.0)
    rows = [{"P": s, "Q": -s} for s in scores]
    explanations = _explanations(graph, rows, ["a", "a", "b", "b", "c", "c"])
    table = contrast(explanations)
    assert sorted(set(zip(table["group"], table["versus"]))) == [
        ("a", "rest"),
        ("b", "rest"),
        ("c", "rest"),
    ]
    c = table[(table["group"] == "c") & (table["id"] == "P")].iloc[0]
    assert (c["n_group"], c["n_versus"], c["difference"]) == (2, 4, 4.5 - 1.5)
    assert c["p_value"] == pytest.approx(2 / comb(6, 2))  # exact: {4, 5} and its mirror {0, 1}
    versus_a = contrast(explanations, reference="a")
    assert set(versus_a["n_versus"]) == {2} and set(versus_a["versus"]) == {"a"}
    assert list(dict.fromkeys(versus_a["group"])) == ["b", "c"]


def test_groups_from_a_series_or_list_and_relabelling(graph: KnowledgeGraph) -> None:
    rng = np.random.default_rng(7)
    rows = [{"P": float(a), "Q": float(b), "R": float(c)} for a, b, c in rng.normal(size=(9, 3))]
    explanations = _explanations(graph, rows, ["x"] * 9)
    labels = ["lo", "hi", "lo", "hi", "lo", "hi", "lo", "hi", "lo"]
    by_list = contrast(explanations, labels, reference="lo", n_permutations=50)
    series = pd.Series({f"p{i}": g for i, g in enumerate(labels)} | {"extra": "hi"})
    by_series = contrast(explanations, series, reference="lo", n_permutations=50)
    pd.testing.assert_frame_equal(by_list, by_series)
    renamed = ["A" if g == "lo" else "B" for g in labels]
    by_renamed = contrast(explanations, renamed, reference="A", n_permutations=50)
    columns = ["id", "difference", "effect", "p_value", "q_value"]
    pd.testing.assert_frame_equal(by_list[columns], by_renamed[columns])


def test_fdr_is_scipy_bh_and_monotonic_in_p(graph: KnowledgeGraph) -> None:
    """Nine terms (genes) over 16 patients, two with a planted shift."""
    nodes = make_nodes([f"t{i}" for i in range(9)], "pathway", "t")
    kg = KnowledgeGraph(nodes, make_edges(["t1"], "part_of", ["t0"], "t"))
    rng = np.random.default_rng(11)
    values = rng.normal(size=(16, 9))
    values[8:, :2] += 3.0
    explanations = [
        Explanation(kg, pd.Series(v, index=nodes.index), [], f"p{i}", prediction="AB"[i >= 8])
        for i, v in enumerate(values)
    ]
    table = contrast(explanations, n_permutations=400, seed=2)
    np.testing.assert_allclose(table["q_value"], false_discovery_control(table["p_value"]))
    by_p = table.sort_values("p_value")
    assert np.all(np.diff(by_p["q_value"].to_numpy()) >= 0)
    assert np.all(np.diff(table["q_value"].to_numpy()) >= 0)  # the table is sorted by q
    assert set(table["id"].iloc[:2]) == {"t0", "t1"} and (table["q_value"].iloc[:2] < 0.05).all()
    pd.testing.assert_frame_equal(table, contrast(explanations, n_permutations=400, seed=2))
    assert not table["p_value"].equals(
        contrast(explanations, n_permutations=400, seed=3)["p_value"]
    )


@pytest.mark.parametrize(
    ("classes", "kwargs", "match"),
    [
        (["a", "a", "a", "a"], {}, "at least 2 groups"),
        (["a", "a", "a", "b"], {}, r"'b' \(1\) has fewer"),
        (["a", "a", "b", "b"], {"reference": "c"}, "unknown reference group 'c'"),
        (["a", "a", "b", "b"], {"groups": ["a", "b"]}, "`groups` has 2 groups for 4"),
        (["a", "a", "b", "b"], {"groups": pd.Series({"p0": "a"})}, "no group for patients"),
        (["a", "a", "b", "b"], {"alternative": "both"}, "'alternative' parameter of contrast"),
        (["a", "a", "b", "b"], {"n_permutations": 0}, "n_permutations"),
        (["a", "a", "b", "b"], {"seed": -1}, "'seed' parameter of contrast"),
    ],
)
def test_errors(graph: KnowledgeGraph, classes: list[str], kwargs: dict, match: str) -> None:
    rows = [{"P": float(i)} for i in range(len(classes))]
    with pytest.raises(InvalidParameterError, match=match):
        contrast(_explanations(graph, rows, classes), **kwargs)


def test_errors_on_mixed_or_missing_explanations(graph: KnowledgeGraph) -> None:
    rows = [{"P": float(i)} for i in range(4)]
    mixed = _explanations(graph, rows[:2], ["a", "a"]) + _explanations(
        graph, rows[2:], ["b", "b"], "contribution"
    )
    with pytest.raises(InvalidParameterError, match="share one knowledge graph and method"):
        contrast(mixed)
    other_kg = KnowledgeGraph(graph.nodes, graph.edges)
    with pytest.raises(InvalidParameterError, match="share one knowledge graph"):
        contrast(
            _explanations(graph, rows[:2], ["a", "a"])
            + _explanations(other_kg, rows[2:], ["b", "b"])
        )
    with pytest.raises(InvalidParameterError, match="got none"):
        contrast([])
    unpredicted = [Explanation(graph, pd.Series(r), [], f"p{i}") for i, r in enumerate(rows)]
    with pytest.raises(InvalidParameterError, match="no prediction"):
        contrast(unpredicted)
    assert len(contrast(unpredicted, ["a", "a", "b", "b"])) == 1


def test_explanations_of_each_patients_own_class_are_refused(graph: KnowledgeGraph) -> None:
    """Evidence for 'a' in a-patients and for 'b' in b-patients are not comparable."""
    rows = [{"P": float(i)} for i in range(4)]
    own = [
        replace(e, model={"explained": PREDICTED_CLASS})
        for e in _explanations(graph, rows, list("aabb"))
    ]
    with pytest.raises(InvalidParameterError, match=r"own predicted class.*target=CLASS"):
        contrast(own)
    one_class = [replace(e, model={"explained": "b"}) for e in own]
    assert contrast(one_class).attrs["explained"] == "b"


# ------------------------------------------------------------------------------ the picture
def test_plot_contrast_returns_a_figure(graph: KnowledgeGraph, tmp_path: Path) -> None:
    rows = [{"P": s, "Q": -s, "R": s % 2} for s in np.arange(6.0)]
    table = contrast(_explanations(graph, rows, ["a", "a", "b", "b", "c", "c"]))
    target = tmp_path / "volcano.png"
    figure = plot_contrast(table, target, k=2)
    assert len(figure.axes) == 3 and target.stat().st_size > 0
    assert [a.get_title().split(" (")[0] for a in figure.axes] == [
        "a vs rest",
        "b vs rest",
        "c vs rest",
    ]
    texts = [t.get_text() for t in figure.axes[0].texts]  # k numbers, then the list of names
    assert texts[:2] == ["1", "2"] and texts[2].splitlines()[0].split() == ["1", "pee"]
    with pytest.raises(InvalidParameterError, match="no rows"):
        plot_contrast(table.iloc[:0])
    with pytest.raises(InvalidParameterError, match="lacks the columns"):
        plot_contrast(table.drop(columns="q_value"))


# ------------------------------------------------------------------------------ the command line
@pytest.fixture(scope="module")
def trained(planted_model: tuple[Path, Path, list[str]]) -> tuple[Path, Path]:
    """A model folder written by ``kgfusion train`` on a planted cohort, and the cohort folder."""
    return planted_model[0], planted_model[1]


@pytest.mark.slow
def test_cli_contrast_by_label_writes_csv_json_and_plot(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from fusion.app.cli import app

    model, cohort = trained
    common = ["contrast", "-m", str(model), "-d", str(cohort), "--type", "pathway", "--by", "label",
              "--permutations", "200", "--seed", "1"]  # fmt: skip
    runner = CliRunner()
    target, picture = tmp_path / "c.csv", tmp_path / "c.png"
    result = runner.invoke(app, [*common, "-f", "csv", "-o", str(target), "--plot", str(picture)])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["wrote", str(target), "wrote", str(picture)]
    table = pd.read_csv(target)
    assert list(table.columns) == list(CONTRAST_COLUMNS) and set(table["type"]) == {"pathway"}
    assert set(table["group"]) == {"control"} and set(table["versus"]) == {"case"}  # sorted
    assert table["p_value"].min() >= 1 / 201 and picture.stat().st_size > 0
    result = runner.invoke(app, [*common, "-f", "json"])
    assert result.exit_code == 0, result.output
    import json

    payload = json.loads(result.output)
    assert (payload["seed"], payload["n_permutations"], len(payload["terms"])) == (
        1,
        200,
        len(table),
    )
    result = runner.invoke(app, [*common, "--top", "3", "--reference", "control"])
    assert result.exit_code == 0, result.output
    assert "\ncase (20 patients) vs control (20): " in result.output
    assert len([line for line in result.output.splitlines() if "reactome:" in line]) == 3
    result = runner.invoke(app, [*common, "--reference", "2"])
    assert result.exit_code == 2 and "unknown reference group '2'" in result.output


@pytest.mark.slow
def test_explain_target_scores_one_class_for_every_patient(trained: tuple[Path, Path]) -> None:
    """Two classes with a centred readout: the inputs' evidence for one is minus that for the other.

    The decomposed term scores are z-scores (``>= 0``) of each target's own attribution.
    """
    from fusion import load_model, read_cohort
    from fusion.explanations import explain

    model, folder = trained
    estimator, cohort = load_model(model), read_cohort(folder)
    patients = list(cohort.samples[:6])
    own = explain(estimator, cohort, patients)
    first, second = (explain(estimator, cohort, patients, target=c) for c in estimator.classes_)
    assert {e.model["explained"] for e in own} == {PREDICTED_CLASS}
    assert [e.model["explained"] for e in first] == [str(estimator.classes_[0])] * 6
    assert [e.prediction for e in first] == [e.prediction for e in own]  # still the predicted class
    proba = estimator.predict_proba(cohort.subset(patients))
    np.testing.assert_allclose([e.probability for e in first], proba[:, 0], rtol=1e-6)
    for a, b, o in zip(first, second, own):
        inputs = list(a.inputs)
        np.testing.assert_allclose(a.scores[inputs], -b.scores[inputs], atol=1e-6)
        assert (a.scores.drop(inputs) >= 0).all() and (b.scores.drop(inputs) >= 0).all()
        np.testing.assert_array_equal(
            o.scores, (a if o.prediction == first[0].model["explained"] else b).scores
        )
    with pytest.raises(InvalidParameterError, match="not a class of the model"):
        explain(estimator, cohort, patients, target="nope")
