"""Faithfulness metrics (issue 18 item 2) on hand-computable cases, and ``kgfusion faithfulness``.

The fake models are linear in the observed features (a missing value counts 0), so removing or
keeping a gene changes the explained output by a known amount.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fusion import AlignmentError, Cohort, InvalidParameterError
from fusion.explanations import (
    Explanation,
    FaithfulnessConfig,
    ModelOutput,
    evaluate_explanations,
    explanation_inputs,
    fidelity,
    infidelity,
    keep_inputs,
    perturbation_stability,
    random_explanations,
    random_inputs,
    random_orders,
    remove_inputs,
    topk_agreement,
    unfaithfulness,
)
from kg import KnowledgeGraph, make_edges, make_nodes

GENES = ["G1", "G2", "G3"]
WEIGHTS = np.array([0.2, 0.1, 0.0])  # p(case) = 0.5 + 0.2 g1 + 0.1 g2


def _case(cohort: Cohort) -> np.ndarray:
    x = cohort["mRNA"].reindex(index=cohort.samples, columns=["g1", "g2", "g3"])
    return 0.5 + x.fillna(0.0).to_numpy() @ WEIGHTS


class _Linked:
    """A fitted-looking model: features g1..g3 of modality mRNA on nodes G1..G3 (T: a term)."""

    def __init__(self) -> None:
        self.graph_ = SimpleNamespace(node_ids=[*GENES, "T"])
        self.feature_nodes_ = {"mRNA": np.array([0, 1, 2])}
        self.feature_names_in_ = {"mRNA": pd.Index(["g1", "g2", "g3"])}
        self.scaler_ = SimpleNamespace(scale_={"mRNA": pd.Series(1.0, index=["g1", "g2", "g3"])})


class LinearClassifier(_Linked):
    """p(case) linear in the features."""

    classes_ = np.array(["case", "control"], dtype=object)

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        case = _case(cohort)
        return np.column_stack([case, 1.0 - case])


class LinearSurvival(_Linked):
    """The same linear function as a risk (no classes, no predict_proba)."""

    def predict(self, cohort: Cohort) -> np.ndarray:
        return _case(cohort)


@pytest.fixture
def kg() -> KnowledgeGraph:
    nodes = pd.concat([make_nodes(GENES, "gene", "t"), make_nodes(["T"], "go_term", "t")])
    return KnowledgeGraph(nodes, make_edges(GENES, "involved_in", ["T"] * 3, "t"))


@pytest.fixture
def cohort() -> Cohort:
    x = pd.DataFrame({"g1": [1.0, 0.5], "g2": [1.0, 1.0], "g3": [1.0, 2.0]}, index=["p1", "p2"])
    return Cohort({"mRNA": x})


def _explanation(kg: KnowledgeGraph, patient: str, method: str = "ig_features") -> Explanation:
    scores = pd.Series({"G1": 2.0, "G2": 1.0, "G3": 0.5})
    return Explanation(kg, scores, GENES, patient, prediction="case", method=method)


def test_fidelity_removes_and_keeps_the_top_inputs(kg: KnowledgeGraph, cohort: Cohort) -> None:
    table = fidelity(LinearClassifier(), cohort, [_explanation(kg, "p1")], k=1)
    row = table.iloc[0]
    # p1: p(case) 0.8; without G1 0.6; with only G1 0.7
    assert row["inputs"] == 1 and row["output"] == pytest.approx(0.8)
    assert row["fid_plus"] == pytest.approx(0.2) and row["fid_minus"] == pytest.approx(0.1)
    kl = 0.8 * np.log(0.8 / 0.7) + 0.2 * np.log(0.2 / 0.3)
    assert row["unfaithfulness"] == pytest.approx(1 - np.exp(-kl))


def test_fidelity_of_a_risk(kg: KnowledgeGraph, cohort: Cohort) -> None:
    table = fidelity(LinearSurvival(), cohort, [_explanation(kg, "p2")], k=2)
    # p2: risk 0.5 + 0.1 + 0.1 = 0.7; without G1, G2: 0.5; with only them: 0.7
    assert table["fid_plus"].iloc[0] == pytest.approx(0.2)
    assert table["fid_minus"].iloc[0] == pytest.approx(0.0)
    assert table["unfaithfulness"].isna().all()
    assert ModelOutput(LinearSurvival()).targets([_explanation(kg, "p2")]) is None


def test_unfaithfulness_is_one_minus_exp_minus_kl() -> None:
    full = np.array([[0.5, 0.5], [0.9, 0.1]])
    masked = np.array([[0.8, 0.2], [0.9, 0.1]])
    np.testing.assert_allclose(unfaithfulness(full, masked), [0.2, 0.0], atol=1e-12)


def test_remove_and_keep_inputs(cohort: Cohort) -> None:
    model = LinearClassifier()
    removed = remove_inputs(cohort, model, {"p1": ["G1", "T"]})["mRNA"]
    assert removed.loc["p1"].isna().tolist() == [True, False, False]
    assert not removed.loc["p2"].isna().any()
    kept = keep_inputs(cohort, model, {"p2": ["G2"]})["mRNA"]
    assert kept.loc["p2"].isna().tolist() == [True, False, True]
    with pytest.raises(AlignmentError, match="p9"):
        remove_inputs(cohort, model, {"p9": ["G1"]})


def test_explanation_inputs_are_the_subgraph_inputs(kg: KnowledgeGraph) -> None:
    e = Explanation(kg, pd.Series({"T": 3.0, "G3": 1.0, "G2": 2.0}), GENES, "p1")
    for k in (1, 2, 3):
        graph = e.subgraph(k)
        expected = {n for n, d in graph.nodes(data=True) if d["input"]}
        assert set(explanation_inputs(e, k)) == expected
    assert explanation_inputs(e, 1) == ["G2"]  # T's nearest input, the highest-scored


def test_random_explanations_are_seeded_and_of_equal_size(kg: KnowledgeGraph) -> None:
    e = Explanation(kg, pd.Series({"G1": 2.0, "G2": 1.0, "G3": 0.5, "T": 0.0}), GENES, "p1")
    first = random_explanations(e, 5, np.random.default_rng(7))
    again = random_explanations(e, 5, np.random.default_rng(7))
    assert [r.scores.to_dict() for r in first] == [r.scores.to_dict() for r in again]
    for r in first:
        assert sorted(r.scores) == sorted(e.scores) and r.scores["T"] == 0.0  # same values
        assert r.method == "unknown+random"
        fresh = Explanation(kg, r.scores, GENES, "p1")  # the coverage carried over is the same
        pd.testing.assert_series_equal(r.coverage, fresh.coverage)
    assert len({tuple(r.ranking().index) for r in first}) > 1


def test_evaluate_reports_the_random_baseline_of_the_same_draws(
    kg: KnowledgeGraph, cohort: Cohort
) -> None:
    e = _explanation(kg, "p1")
    config, model = FaithfulnessConfig(curve=(1, 2), baseline="nodes"), LinearClassifier()
    table = evaluate_explanations(
        model, cohort, [e], 1, 8, seed=3, config=config, explainer=lambda c: [e]
    )
    rows = table.set_index("metric")
    # a random top-1 is G1, G2 or G3: removing it lowers p(case) by 0.2, 0.1 or 0
    drop = {"G1": 0.2, "G2": 0.1, "G3": 0.0}
    draws = [drop[o.index[0]] for o in random_orders(e, 8, np.random.default_rng(3))]
    fid = rows.loc["fidelity+ (top 1)"]
    assert fid["explanation"] == pytest.approx(0.2)
    assert fid["random_mean"] == pytest.approx(np.mean(draws))
    assert fid["random_sd"] == pytest.approx(np.std(draws, ddof=1))
    assert rows.loc["input nodes removed (top 1, mean)", "random_mean"] == 1.0
    assert set(rows["baseline"]) == {"nodes"}
    assert rows.loc["fidelity- (top 1)", "better"] == "lower"
    assert {"characterization (top 1)", "fidelity-curve AUC (k = 1, 2)"} <= set(rows.index)
    assert rows.loc["stability (noise sd 0.1): top-1 jaccard", "explanation"] == 1.0
    assert rows.loc["infidelity (sd 0.1)", "better"] == "lower"
    again = evaluate_explanations(
        model, cohort, [e], 1, 8, seed=3, config=config, explainer=lambda c: [e]
    )
    pd.testing.assert_frame_equal(table, again)


@pytest.fixture
def shared_kg() -> KnowledgeGraph:
    """Terms TA and TB annotate G1 only, TC annotates G2: the top-2 terms TA, TB reach 1 input,
    a random pair of terms usually 2."""
    nodes = pd.concat(
        [make_nodes(GENES, "gene", "t"), make_nodes(["TA", "TB", "TC"], "go_term", "t")]
    )
    return KnowledgeGraph(nodes, make_edges(["G1", "G1", "G2"], "involved_in", ["TA", "TB", "TC"], "t"))  # fmt: skip


def _shared_explanation(kg: KnowledgeGraph) -> Explanation:
    scores = pd.Series({"TA": 3.0, "TB": 2.0, "TC": 1.0, "G1": 2.0, "G2": 1.0, "G3": 0.5})
    return Explanation(kg, scores, GENES, "p1", prediction="case", method="custom")


def test_random_inputs_are_matched_in_number_nested_and_scored_first(
    shared_kg: KnowledgeGraph,
) -> None:
    scores = pd.Series({"TA": 3.0, "G1": 2.0, "G2": 0.0, "G3": 1.0})
    e = Explanation(shared_kg, scores, GENES, "p1")
    draws = random_inputs(e, {1: 1, 2: 2, 5: 3}, 20, np.random.default_rng(0))
    for draw in draws:
        assert [len(draw[k]) for k in (1, 2, 5)] == [1, 2, 3]
        assert draw[5][:2] == draw[2] and draw[2][:1] == draw[1]  # nested
        assert set(draw[2]) == {"G1", "G3"} and draw[5][2] == "G2"  # G2 (score 0) last
    assert {d[1][0] for d in draws} == {"G1", "G3"}
    again = random_inputs(e, {1: 1, 2: 2, 5: 3}, 20, np.random.default_rng(0))
    assert draws == again
    with pytest.raises(InvalidParameterError, match="sizes"):
        random_inputs(e, {1: 4}, 1, np.random.default_rng(0))


def test_evaluate_baselines_remove_as_many_inputs_or_as_many_nodes(
    shared_kg: KnowledgeGraph, cohort: Cohort
) -> None:
    """Top-2 terms TA, TB reach G1 alone: fid+ 0.2 (p1: p(case) 0.8 → 0.6). Random inputs: one
    of G1, G2, G3 (fid+ 0.2, 0.1, 0); random term pairs: with TC, G1 and G2 (fid+ 0.3)."""
    e, model = _shared_explanation(shared_kg), LinearClassifier()
    config = FaithfulnessConfig(types="go_term", curve=(1, 2), baseline=("inputs", "nodes"))
    table = evaluate_explanations(model, cohort, [e], 2, 12, seed=5, config=config)
    rng = np.random.default_rng(5)  # the draws evaluate_explanations makes, in its order
    orders = random_orders(e, 12, rng, "go_term")
    matched = random_inputs(e, {1: 1, 2: 1}, 12, rng)
    by = table.set_index(["metric", "baseline"])
    removed, fid = "input nodes removed (top 2, mean)", "fidelity+ (top 2)"
    assert by.loc[(removed, "inputs"), ["explanation", "random_mean"]].tolist() == [1.0, 1.0]
    drop = {"G1": 0.2, "G2": 0.1, "G3": 0.0}
    assert by.loc[(fid, "inputs"), "explanation"] == pytest.approx(0.2)
    assert by.loc[(fid, "inputs"), "random_mean"] == pytest.approx(np.mean([drop[m[2][0]] for m in matched]))  # fmt: skip
    pairs = [set(o.index[:2]) for o in orders]
    assert by.loc[(removed, "nodes"), "random_mean"] == pytest.approx(np.mean([1 if p == {"TA", "TB"} else 2 for p in pairs]))  # fmt: skip
    assert by.loc[(fid, "nodes"), "random_mean"] == pytest.approx(np.mean([0.2 if p == {"TA", "TB"} else 0.3 for p in pairs]))  # fmt: skip
    assert by.loc[(removed, "nodes"), "random_mean"] > 1.0
    default = evaluate_explanations(model, cohort, [e], 2, 12, seed=5, config=FaithfulnessConfig(types="go_term", curve=(1, 2)))  # fmt: skip
    assert set(default["baseline"]) == {"inputs"}
    pd.testing.assert_frame_equal(default, table[table["baseline"] == "inputs"].reset_index(drop=True))  # fmt: skip
    with pytest.raises(InvalidParameterError, match="baseline"):
        FaithfulnessConfig(baseline="genes")
    with pytest.raises(InvalidParameterError, match="max_share"):
        FaithfulnessConfig(max_share=2.0)
    genes = FaithfulnessConfig(types="gene", curve=(1, 2))  # inputs only: max_share cuts nothing
    everything = FaithfulnessConfig(types="gene", curve=(1, 2), max_share=None)
    pd.testing.assert_frame_equal(
        evaluate_explanations(model, cohort, [e], 2, 4, config=genes),
        evaluate_explanations(model, cohort, [e], 2, 4, config=everything),
    )


def test_evaluate_of_a_risk_leaves_out_the_probability_scores(
    kg: KnowledgeGraph, cohort: Cohort
) -> None:
    config = FaithfulnessConfig(curve=(1, 2))
    table = evaluate_explanations(
        LinearSurvival(), cohort, [_explanation(kg, "p1", "custom")], 1, 3, config=config
    )
    assert table["metric"].tolist() == [
        "input nodes removed (top 1, mean)", "fidelity+ (top 1)", "fidelity- (top 1)",
    ]  # fmt: skip


def test_infidelity_of_exact_attributions_is_zero(kg: KnowledgeGraph, cohort: Cohort) -> None:
    """For the linear model, f(x) - f(x - I) = Σ w_n I_n: the weights are exact attributions."""
    exact = Explanation(kg, pd.Series(dict(zip(GENES, WEIGHTS))), GENES, "p1", "case", method="ig_features")  # fmt: skip
    wrong = Explanation(kg, pd.Series(dict(zip(GENES, WEIGHTS[::-1]))), GENES, "p1", "case", method="ig_features")  # fmt: skip
    model = LinearClassifier()
    assert infidelity(model, cohort, [exact], sd=0.5) == pytest.approx([0.0], abs=1e-12)
    assert infidelity(model, cohort, [wrong], sd=0.5)[0] > 1e-3
    np.testing.assert_array_equal(
        infidelity(model, cohort, [wrong], seed=1), infidelity(model, cohort, [wrong], seed=1)
    )
    with pytest.raises(InvalidParameterError, match="ig_features"):
        infidelity(model, cohort, [_explanation(kg, "p1", "contribution+decompose")])


def test_topk_agreement_and_stability(kg: KnowledgeGraph, cohort: Cohort) -> None:
    e = _explanation(kg, "p1", "custom")
    flipped = Explanation(kg, pd.Series({"G1": 1.0, "G2": 2.0, "G3": 0.5}), GENES, "p1")
    table = topk_agreement([e], [flipped], k=1)
    assert table["jaccard"].iloc[0] == 0.0 and table["spearman"].iloc[0] == pytest.approx(0.5)
    with pytest.raises(AlignmentError, match="p1"):
        topk_agreement([e], [], k=1)
    stable = perturbation_stability(LinearClassifier(), cohort, [e], 2, explainer=lambda c: [e])
    assert stable[["jaccard", "spearman"]].iloc[0].tolist() == [1.0, 1.0]
    with pytest.raises(InvalidParameterError, match="explainer"):
        perturbation_stability(LinearClassifier(), cohort, [e], 2)


def test_inputs_are_checked(kg: KnowledgeGraph, cohort: Cohort) -> None:
    model, e = LinearClassifier(), _explanation(kg, "p1")
    with pytest.raises(AlignmentError, match="not samples"):
        fidelity(model, cohort, [_explanation(kg, "cohort")])
    with pytest.raises(InvalidParameterError, match="more than once"):
        fidelity(model, cohort, [e, e])
    with pytest.raises(InvalidParameterError, match="curve"):
        FaithfulnessConfig(curve=(5, 2))
    with pytest.raises(InvalidParameterError, match="'k'"):
        evaluate_explanations(model, cohort, [e], k=0)
    wrong_class = Explanation(kg, e.scores, GENES, "p1", prediction="other")
    with pytest.raises(InvalidParameterError, match="other"):
        fidelity(model, cohort, [wrong_class])


@pytest.mark.slow
def test_cli_faithfulness_on_a_tiny_trained_model(
    planted_model: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from fusion.app.cli import app

    runner = CliRunner()
    model, data, patients = planted_model
    patients = patients[:4]
    args = ["faithfulness", "-m", str(model), "-d", str(data),
            "--top", "3", "--random", "2", "--method", "ig_features", "--type", "gene"]  # fmt: skip
    for p in patients:
        args += ["-p", p]
    target = tmp_path / "f.json"
    result = runner.invoke(app, [*args, "-f", "json", "-o", str(target)])
    assert result.exit_code == 0 and result.output.strip() == f"wrote {target}", result.output
    rows = {r["metric"]: r for r in json.loads(target.read_text())}
    assert rows["input nodes removed (top 3, mean)"]["explanation"] == 3.0
    assert {"fidelity+ (top 3)", "infidelity (sd 0.1)", "stability (noise sd 0.1): top-3 jaccard"} <= set(rows)  # fmt: skip
    result = runner.invoke(app, [*args[:5], "-p", "nobody"])
    assert result.exit_code == 2 and "nobody" in result.output
