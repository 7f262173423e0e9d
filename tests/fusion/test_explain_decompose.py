"""Explanation.decompose: input scores decomposed onto the terms above them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fusion import InvalidParameterError
from fusion.explanations.decompose import decompose_scores, membership, normal_scores
from fusion.explanations.explanation import Explanation
from kg import KnowledgeGraph, UnknownNodeTypeError, make_edges, make_nodes

GENES = list("abcdefgh")
PATHWAYS = ["P", "Q", "R", "S"]


def _kg() -> KnowledgeGraph:
    """P = {a, b}; Q = P + {c} (P part_of Q); R = {d, e}; S = {b, d, f} overlaps P and R."""
    nodes = pd.concat(
        [make_nodes(GENES, "gene", "t"), make_nodes(PATHWAYS, "pathway", "t", name=PATHWAYS)]
    )
    source = ["a", "b", "c", "d", "e", "b", "d", "f", "P"]
    relation = ["member_of"] * 8 + ["part_of"]
    target = ["P", "P", "Q", "R", "R", "S", "S", "S", "Q"]
    return KnowledgeGraph(nodes, make_edges(source, relation, target, "t"))


def _explanation(gene_scores: dict[str, float]) -> Explanation:
    scores = pd.Series({**dict.fromkeys(GENES, 0.0), **gene_scores, **dict.fromkeys(PATHWAYS, 0.0)})
    return Explanation(_kg(), scores, inputs=GENES, patient="p1", method="ig_features")


def test_membership_follows_the_true_path_rule() -> None:
    table = membership(_kg(), ["a", "c", "g"], PATHWAYS)
    assert table.loc["a"].tolist() == [True, True, False, False]  # a → P → Q
    assert table.loc["c"].tolist() == [False, True, False, False]
    assert not table.loc["g"].any()


def _z(explanation: Explanation, genes: list[str]) -> float:
    z = normal_scores(explanation.scores.reindex(list(explanation.inputs)))
    return float(z[genes].sum() / np.sqrt(len(genes)))


def test_below_the_threshold_terms_keep_their_plain_z_scores() -> None:
    e = _explanation({"a": 3.0, "b": 2.5})
    decomposed = e.decompose("pathway")  # nothing reaches z = 3 with 8 inputs
    assert decomposed.method == "ig_features+decompose"
    assert set(decomposed.scores.index) == set(PATHWAYS)  # inputs are no longer scored
    assert decomposed.scores["P"] == pytest.approx(_z(e, ["a", "b"]))
    assert decomposed.scores["Q"] == pytest.approx(max(_z(e, ["a", "b", "c"]), 0.0))
    assert decomposed.ranking().index[0] == "P"


def test_elim_scores_a_parent_on_its_own_inputs() -> None:
    e = _explanation({"a": 3.0, "b": 2.5, "c": 2.0})
    plain = e.decompose("pathway", threshold=100.0).scores
    assert plain["Q"] == pytest.approx(_z(e, ["a", "b", "c"]))  # inherits P's genes
    elim = e.decompose("pathway", threshold=1.0).scores
    assert elim["P"] == pytest.approx(_z(e, ["a", "b"])) and elim["P"] > 1.0
    assert elim["Q"] == pytest.approx(_z(e, ["c"]))  # a, b went to the more specific P


def test_overlapping_terms_compete_for_inputs() -> None:
    e = _explanation({"d": 3.0, "f": 2.5, "e": 2.0})
    plain = e.decompose("pathway", threshold=100.0).scores
    assert plain["S"] == pytest.approx(_z(e, ["b", "d", "f"])) and plain["S"] > 1.0
    claimed = e.decompose("pathway", threshold=1.0).scores
    assert claimed["R"] == pytest.approx(_z(e, ["d", "e"]))  # the best-supported term first
    assert claimed["S"] == pytest.approx(max(_z(e, ["b", "f"]), 0.0))  # d went to R


def test_min_inputs_excludes_small_terms() -> None:
    decomposed = _explanation({"c": 3.0}).decompose("pathway", min_inputs=3)
    assert decomposed.scores[["P", "R"]].eq(0).all()  # 2 member inputs each


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"min_inputs": 0}, InvalidParameterError, "min_inputs"),
        ({"min_inputs": 9}, InvalidParameterError, "none of the 4 candidate terms"),
        ({"type": "go_term"}, UnknownNodeTypeError, "go_term"),
        ({"threshold": float("nan")}, InvalidParameterError, "threshold"),
        ({"threshold": True}, InvalidParameterError, "threshold"),
    ],
)
def test_bad_input(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _explanation({"a": 1.0}).decompose(**kwargs)


def test_equal_input_scores_are_refused() -> None:
    # what a concept-level method (contribution, ig) leaves on the input nodes
    with pytest.raises(InvalidParameterError, match="all 8 input nodes score 0.0.*ig_features"):
        _explanation({}).decompose()


def test_needs_two_scored_inputs() -> None:
    kg = _kg()
    one = Explanation(kg, pd.Series({"a": 1.0, "P": 0.0}), inputs=["a"], patient="p1")
    with pytest.raises(InvalidParameterError, match="at least two scored input nodes"):
        one.decompose()


_SCORES = st.lists(
    st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=8, max_size=8
)


@settings(max_examples=50, deadline=None)
@given(_SCORES, st.floats(0.01, 100.0))
def test_weights_are_nonnegative_and_rank_invariant(values: list[float], factor: float) -> None:
    assume(len(set(values)) > 1)  # equal scores are refused (see above)
    scores = dict(zip(GENES, values))
    decomposed = _explanation(scores).decompose("pathway").scores
    monotone = {g: factor * np.tanh(v / 100.0) + 5.0 for g, v in scores.items()}
    assert (decomposed >= 0).all()
    # the weights depend on the scores' ranks only (when tanh keeps them distinct)
    if len(set(monotone.values())) == len(set(values)):
        again = _explanation(monotone).decompose("pathway").scores
        np.testing.assert_allclose(again[decomposed.index], decomposed, atol=1e-9)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=50))
def test_normal_scores_keep_order_and_are_centred(values: list[float]) -> None:
    series = pd.Series(values)
    z = normal_scores(series)
    if len(set(values)) == len(values):  # ties share a mean rank, which Φ⁻¹ does not keep centred
        assert abs(z.sum()) < 1e-8
    order = np.argsort(values, kind="stable")
    assert (np.diff(z.to_numpy()[order]) >= -1e-12).all()


def test_terms_with_the_same_inputs_tie() -> None:
    # R and its twin T hold d, e; with them claimed together, neither loses to the other
    base = _kg()
    nodes = pd.concat([base.nodes.reset_index(), make_nodes(["T"], "pathway", "t").reset_index()])
    edges = pd.concat([base.edges, make_edges(["d", "e"], "member_of", ["T", "T"], "t")])
    kg = KnowledgeGraph(nodes.set_index("id"), edges)
    scores = pd.Series({**dict.fromkeys([*GENES, *PATHWAYS, "T"], 0.0), "d": 3.0, "e": 2.0})
    e = Explanation(kg, scores, inputs=GENES, patient="p1")
    claimed = e.decompose("pathway", threshold=1.0).scores
    assert claimed["R"] == claimed["T"] == pytest.approx(_z(e, ["d", "e"]))


def test_of_terms_with_the_same_inputs_the_more_specific_claims() -> None:
    # W holds R's measured genes d, e and two genes nobody measured (u1, u2): the data cannot
    # tell R and W apart, parsimony can (R explains d, e without unmeasured members)
    base = _kg()
    nodes = pd.concat(
        [base.nodes, make_nodes(["u1", "u2"], "gene", "t"), make_nodes(["W"], "pathway", "t")]
    )
    edges = pd.concat([base.edges, make_edges(["d", "e", "u1", "u2"], "member_of", ["W"] * 4, "t")])
    kg = KnowledgeGraph(nodes, edges)
    scores = pd.Series({**dict.fromkeys([*GENES, *PATHWAYS, "W"], 0.0), "d": 3.0, "e": 2.0})
    e = Explanation(kg, scores, inputs=GENES, patient="p1")
    claimed = e.decompose("pathway", threshold=1.0).scores
    assert claimed["R"] == pytest.approx(_z(e, ["d", "e"])) and claimed["W"] == 0.0
    # without the annotations' specificity the two claim together and tie
    terms = [*PATHWAYS, "W"]
    tied = decompose_scores(kg, scores[GENES], terms, threshold=1.0)
    assert tied["R"] == tied["W"] == pytest.approx(_z(e, ["d", "e"]))


def test_equal_z_scores_go_to_the_more_specific_term_then_the_smaller_id() -> None:
    # X = {a, c, x} and Y = {b, c} share c; a and b tie, so X and Y score the same on their
    # measured genes, and whichever claims c first leaves the other below the threshold. X also
    # holds x, which nobody measured: Y is the more specific and claims; by id X would.
    genes = [*"abcdef", "x"]
    nodes = pd.concat([make_nodes(genes, "gene", "t"), make_nodes(["X", "Y"], "pathway", "t")])
    members = [("a", "X"), ("c", "X"), ("x", "X"), ("b", "Y"), ("c", "Y")]
    edges = make_edges([g for g, _ in members], "member_of", [t for _, t in members], "t")
    kg = KnowledgeGraph(nodes, edges)
    scores = pd.Series({"a": 5.0, "b": 5.0, "c": 6.0, "d": 0.0, "e": 0.0, "f": 0.0})
    e = Explanation(kg, scores.reindex([*genes, "X", "Y"], fill_value=0.0), list(scores.index), "p")
    pair, single = _z(e, ["a", "c"]), _z(e, ["b"])
    assert pair == pytest.approx(_z(e, ["b", "c"])) and single < 1.0 < pair
    by_ic = e.decompose("pathway", threshold=1.0).scores
    assert by_ic["Y"] == pytest.approx(pair) and by_ic["X"] == pytest.approx(single)
    by_id = decompose_scores(kg, scores, ["Y", "X"], threshold=1.0)
    assert by_id["X"] == pytest.approx(pair) and by_id["Y"] == pytest.approx(single)


def test_backfitting_returns_inputs_taken_from_a_significant_term() -> None:
    # Q holds all of A's genes plus e, one of C's; e scoring highest, greedy claiming lets Q
    # claim first and leaves A nothing; backfitting gives e back to C, and then A and Q hold
    # the same inputs: A, the more specific (4 genes to Q's 5), claims them.
    genes = [*"abcdefghi", *(f"n{i}" for i in range(30))]
    nodes = pd.concat([make_nodes(genes, "gene", "t"), make_nodes(["A", "C", "Q"], "pathway", "t")])
    members = {"A": "abcd", "C": "efghi", "Q": "abcde"}
    source = [g for m in members.values() for g in m]
    target = [t for t, m in members.items() for _ in m]
    kg = KnowledgeGraph(nodes, make_edges(source, "member_of", target, "t"))
    ranked = ["e", "a", "b", "c", "d", "f", "g", "h", "i"]  # best first; the n* genes score below
    scores = pd.Series({**dict.fromkeys(genes, 0.0), "A": 0.0, "C": 0.0, "Q": 0.0})
    scores[ranked] = np.arange(len(ranked), 0, -1) + 10.0
    scores[[g for g in genes if g.startswith("n")]] = np.linspace(-1.0, 1.0, 30)
    e = Explanation(kg, scores, inputs=genes, patient="p1")
    z = {t: _z(e, list(m)) for t, m in members.items()}
    assert z["Q"] > z["A"] and z["Q"] > z["C"]  # the greedy order
    claimed = e.decompose("pathway", threshold=1.0).scores
    assert claimed["A"] == pytest.approx(z["A"]) and claimed["Q"] == 0.0
    assert claimed["C"] == pytest.approx(z["C"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sets(st.sampled_from(GENES), min_size=2), min_size=2, max_size=6),
    st.permutations(list(range(8))),
    st.randoms(use_true_random=False),
)
def test_scores_do_not_depend_on_the_order_of_the_terms(
    gene_sets: list[set[str]], ranks: list[int], rng
) -> None:
    terms = [f"T{i}" for i in range(len(gene_sets))]
    nodes = pd.concat([make_nodes(GENES, "gene", "t"), make_nodes(terms, "pathway", "t")])
    pairs = [(g, t) for t, genes in zip(terms, gene_sets) for g in sorted(genes)]
    edges = make_edges([g for g, _ in pairs], "member_of", [t for _, t in pairs], "t")
    kg = KnowledgeGraph(nodes, edges)
    scores = pd.Series(np.asarray(ranks, dtype=float) ** 1.5, index=GENES)  # distinct
    shuffled = list(terms)
    rng.shuffle(shuffled)
    a = decompose_scores(kg, scores, terms, threshold=0.5)
    b = decompose_scores(kg, scores, shuffled, threshold=0.5)
    pd.testing.assert_series_equal(a, b.reindex(a.index))


def _two_ontologies() -> KnowledgeGraph:
    """The pathways of :func:`_kg` plus GO: BP1 = {a, b}, BP2 = {a, b, c} (BP1 is_a BP2),
    CC1 = {a, b} in another namespace, sharing the genes of BP1 without competing for them."""
    base = _kg()
    go = make_nodes(
        ["BP1", "BP2", "CC1"], "go_term", "t",
        namespace=["biological_process"] * 2 + ["cellular_component"],
    )  # fmt: skip
    rows = [("a", "BP1"), ("b", "BP1"), ("c", "BP2"), ("BP1", "BP2"), ("a", "CC1"), ("b", "CC1")]
    edges = make_edges([u for u, _ in rows], "involved_in", [v for _, v in rows], "t")
    return KnowledgeGraph(pd.concat([base.nodes, go]), pd.concat([base.edges, edges]))


def test_decompose_terms_decomposes_each_ontology_on_its_own_and_keeps_the_inputs() -> None:
    kg = _two_ontologies()
    terms = [*PATHWAYS, "BP1", "BP2", "CC1"]
    gene_scores = {"a": 3.0, "b": 2.5, "c": 2.0, "d": 1.0}
    scores = pd.Series({**dict.fromkeys(GENES, 0.0), **gene_scores, **dict.fromkeys(terms, 0.0)})
    e = Explanation(kg, scores, inputs=GENES, patient="p1", method="ig_features")
    both = e.decompose_terms(threshold=1.0)
    assert both.method == "ig_features" and set(both.scores.index) == set(scores.index)
    assert both.scores[GENES].tolist() == scores[GENES].tolist()
    for kind, namespace in (("pathway", None), ("go_term", "biological_process")):
        alone = e.decompose(kind, namespace, threshold=1.0).scores
        pd.testing.assert_series_equal(both.scores[alone.index], alone)
    # CC1 keeps a and b although BP1 (another ontology) is significant on them
    assert both.scores["CC1"] == both.scores["BP1"] == pytest.approx(_z(e, ["a", "b"]))
    assert both.scores["BP2"] == pytest.approx(_z(e, ["c"]))  # elim: a, b went to BP1


def test_decompose_terms_without_input_evidence_scores_terms_zero(caplog) -> None:
    e = _explanation({})  # every input scores 0 (a concept-level method)
    with caplog.at_level("WARNING", logger="fusion.explanations.explanation"):
        out = e.decompose_terms()
    assert (out.scores == 0).all() and "nothing to decompose" in caplog.text
    with pytest.raises(InvalidParameterError, match="min_inputs"):
        _explanation({"a": 1.0}).decompose_terms(min_inputs=0)
    with pytest.raises(InvalidParameterError, match="threshold"):
        _explanation({"a": 1.0}).decompose_terms(threshold=float("inf"))
