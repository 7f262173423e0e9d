"""The helpers of ``benchmarks/explain.py`` on a tiny hand-built KG: term depth, known-biology
ranks, the faithfulness records per baseline, and the tables' target checks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _explain_biology import KnownTerms, known_records
from _explain_cohorts import cohort_explanation, evaluation_records, term_depth, with_cohort_terms
from _explain_tables import Target, difference, mean_sd, target_table, values

from fusion.explanations import Explanation
from kg import KnowledgeGraph, make_edges, make_nodes


@pytest.fixture
def tiny() -> KnowledgeGraph:
    """root ← A ← A1, root ← B (is_a); P a pathway; g1 in A1 and P, g2 in B."""
    nodes = pd.concat(
        [
            make_nodes(["root", "A", "A1", "B"], "go_term", "x"),
            make_nodes(["P"], "pathway", "x"),
            make_nodes(["g1", "g2"], "gene", "x", name=["G1", "G2"]),
        ]
    )
    edges = make_edges(
        ["A", "A1", "B", "g1", "g1", "g2"],
        ["is_a", "is_a", "is_a", "involved_in", "member_of", "involved_in"],
        ["root", "A", "root", "A1", "P", "B"],
        "x",
    )
    return KnowledgeGraph(nodes, edges)


def test_term_depth_counts_hops_to_a_root(tiny: KnowledgeGraph) -> None:
    depth = term_depth(tiny)
    assert depth.to_dict() == {"root": 0.0, "A": 1.0, "B": 1.0, "A1": 2.0, "P": 0.0}


def test_with_cohort_terms_keeps_each_patients_inputs_and_shares_the_cohorts_terms(
    tiny: KnowledgeGraph,
) -> None:
    a = Explanation(
        tiny, pd.Series({"g1": 0.8, "g2": -0.1}), ["g1", "g2"], "a", method="ig_features"
    )
    b = Explanation(
        tiny, pd.Series({"g1": -0.6, "g2": 0.3}), ["g1", "g2"], "b", method="ig_features"
    )
    shared = with_cohort_terms([a, b])
    terms = cohort_explanation([a, b]).scores.drop(["g1", "g2"])
    for own, combined in zip((a, b), shared):
        assert combined.patient == own.patient
        pd.testing.assert_series_equal(
            combined.scores[["g1", "g2"]], own.scores[["g1", "g2"]], check_names=False
        )
        pd.testing.assert_series_equal(combined.scores[terms.index], terms, check_names=False)


def test_known_terms_below_and_by_gene(tiny: KnowledgeGraph) -> None:
    assert KnownTerms("A", ("A",), below=True).terms(tiny) == {"A", "A1"}
    assert KnownTerms("g1", gene="G1").terms(tiny) == {"A1", "A", "root", "P"}
    assert KnownTerms("missing", ("GO:none",)).terms(tiny) == set()


def test_known_records_best_rank_and_random_expectation(tiny: KnowledgeGraph) -> None:
    scores = pd.Series({"root": 0.0, "A": 0.5, "A1": 3.0, "B": 2.0, "P": 1.0})
    e = Explanation(tiny, scores, inputs=["g1", "g2"], patient="p", max_share=None)
    checks = (KnownTerms("B", ("B",)), KnownTerms("g1", gene="G1"))
    got = known_records(e, tiny, checks, ["go_term", "pathway"])
    assert got["ranked terms"] == 5.0 and got["scored terms"] == 4.0
    assert got["B: best rank"] == 2.0 and got["B: random best rank"] == 3.0  # (5 + 1) / (1 + 1)
    assert got["g1: best rank"] == 1.0 and got["g1: terms ranked"] == 4.0
    assert got["g1: random best rank"] == pytest.approx(6 / 5)


def test_target_table_paired_difference() -> None:
    records = pd.DataFrame(
        {
            "seed": [0, 0, 1, 1],
            "measure": ["auprc"] * 4,
            "variant": ["default", "rewired"] * 2,
            "value": [1.0, 0.2, 0.8, 0.4],
        }
    )
    assert values(records, "auprc", "rewired").tolist() == [0.2, 0.4]
    gap = Target(
        "gap", ">= 0.3", lambda r: difference(r, "auprc", "default", "rewired"), lambda v: v >= 0.3
    )
    table = target_table(records, [gap])
    assert table.loc[0, "value"] == mean_sd(pd.Series([0.8, 0.4])) == "0.600 ± 0.283"
    assert table.loc[0, "ok"] == "✓"
    assert mean_sd(pd.Series([np.nan])) == ""


def test_evaluation_records_one_value_per_metric_and_a_variant_per_baseline() -> None:
    table = pd.DataFrame(
        {
            "metric": ["fidelity+ (top 10)", "fidelity+ (top 10)", "stability"],
            "baseline": ["inputs", "nodes", "nodes"],
            "explanation": [0.3, 0.3, 0.9],
            "random_mean": [0.1, 0.2, 0.05],
        }
    )
    records = pd.DataFrame(evaluation_records("faithfulness", "default", table))
    got = records.set_index(["measure", "variant"])["value"].to_dict()
    assert got == {
        ("fidelity+ (top 10)", "default"): 0.3,
        ("stability", "default"): 0.9,
        ("fidelity+ (top 10)", "random inputs (default)"): 0.1,
        ("fidelity+ (top 10)", "random nodes (default)"): 0.2,
        ("stability", "random nodes (default)"): 0.05,
    }
    assert set(records["section"]) == {"faithfulness"}
