"""kg.specificity: seeds reaching each node, Resnik information content, coverage."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from test_pruning import annotated_dags

from kg import (
    KnowledgeGraph,
    UnknownNodeTypeError,
    coverage,
    information_content,
    make_edges,
    make_nodes,
    reach_counts,
    reachability,
)


def _kg() -> KnowledgeGraph:
    """GO: leaf L1 {a, b} and L2 {c} under M {a, b, c} under root R {a, b, c, d}; a cycle-free
    Reactome part P {a, e} under Q {a, e, f}; gene g unannotated; miRNA m targets a."""
    genes = make_nodes(list("abcdefg"), "gene", "t")
    terms = make_nodes(["L1", "L2", "M", "R"], "go_term", "t")
    pathways = make_nodes(["P", "Q"], "pathway", "t")
    mirna = make_nodes(["m"], "mirna", "t")
    rows = [
        ("a", "involved_in", "L1"),
        ("b", "involved_in", "L1"),
        ("b", "involved_in", "M"),  # also annotated directly to a superterm: counted once
        ("c", "involved_in", "L2"),
        ("d", "involved_in", "R"),
        ("L1", "is_a", "M"),
        ("L2", "is_a", "M"),
        ("M", "is_a", "R"),
        ("a", "member_of", "P"),
        ("e", "member_of", "P"),
        ("f", "member_of", "Q"),
        ("P", "part_of", "Q"),
        ("m", "targets", "a"),
    ]
    source, relation, target = zip(*rows)
    return KnowledgeGraph(
        pd.concat([genes, terms, pathways, mirna]), make_edges(source, relation, target, "t")
    )


def test_reach_counts_count_each_seed_once_by_the_true_path_rule() -> None:
    counts = reach_counts(_kg(), ["a", "b", "c", "a"])
    assert counts.to_dict() == {"a": 1, "b": 1, "c": 1, "L1": 2, "L2": 1, "M": 3, "R": 3,
                                "P": 1, "Q": 1}  # fmt: skip
    only_go = reach_counts(_kg(), ["a", "b"], relations=["involved_in"])
    assert only_go.to_dict() == {"a": 1, "b": 1, "L1": 2, "M": 1}


def test_information_content_is_resnik_per_ontology() -> None:
    ic = information_content(_kg())
    # GO annotates a, b, c, d (4 genes); Reactome a, e, f (3); g and the miRNA are no terms
    assert set(ic.index) == {"L1", "L2", "M", "R", "P", "Q"}
    assert ic["L1"] == pytest.approx(math.log(4 / 2))
    assert ic["L2"] == pytest.approx(math.log(4 / 1))
    assert ic["M"] == pytest.approx(math.log(4 / 3))
    assert ic["R"] == 0.0 and ic["Q"] == 0.0
    assert ic["P"] == pytest.approx(math.log(3 / 2))


def test_information_content_of_explicit_annotated_nodes_and_errors() -> None:
    kg = _kg()
    ic = information_content(kg, annotated=["a", "b"])  # a corpus of two genes
    assert ic["L1"] == 0.0 and ic["M"] == 0.0 and ic["P"] == 0.0
    assert "L2" not in ic.index  # no annotated node reaches it: IC undefined
    with pytest.raises(UnknownNodeTypeError):
        information_content(kg, annotated="protein")


def test_the_cached_result_is_a_copy() -> None:
    kg = _kg()
    first = information_content(kg)
    first["L1"] = -1.0
    assert information_content(kg)["L1"] == pytest.approx(math.log(2))


def test_coverage_is_the_share_of_the_given_nodes() -> None:
    share = coverage(_kg(), ["a", "c", "e", "g"])
    assert share[["M", "R", "P", "Q", "L1"]].tolist() == [0.5, 0.5, 0.5, 0.5, 0.25]
    assert share["g"] == 0.25  # each node reaches itself
    assert coverage(_kg(), []).empty


@settings(max_examples=25, deadline=None)
@given(kg=annotated_dags())
def test_ic_never_rises_towards_the_roots_and_matches_networkx(kg: KnowledgeGraph) -> None:
    genes = list(kg.nodes_of_type("gene"))
    graph = nx.DiGraph(kg.graph)
    ic = information_content(kg)
    below = {t: {g for g in genes if nx.has_path(graph, g, t)} for t in ic.index}
    annotated = {g for g in genes if any(graph.successors(g))}
    for term, value in ic.items():
        assert value == pytest.approx(math.log(len(annotated) / len(below[term])))
        for parent in graph.successors(term):
            assert ic[parent] <= value + 1e-12


def test_reachability_rows_follow_sources_and_columns_targets() -> None:
    kg = _kg()
    table = reachability(kg, ["c", "a", "m"], ["R", "P", "a", "L2"]).toarray()
    assert table.tolist() == [
        [True, False, False, True],  # c → L2 → M → R
        [True, True, True, False],  # a reaches itself
        [True, True, True, False],  # m → a → ...
    ]
    only_targets = reachability(kg, ["m"], ["a", "R"], relations=["targets"]).toarray()
    assert only_targets.tolist() == [[True, False]]
    assert reachability(kg, ["a"]).shape == (1, kg.number_of_nodes())
