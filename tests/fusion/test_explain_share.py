"""Explanation.coverage and max_share: terms most of a patient's inputs reach are left out."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from fusion import InvalidParameterError
from fusion.explanations import MAX_SHARE, Explanation
from fusion.explanations.explanation import BROAD_MIN_INPUTS
from kg import KnowledgeGraph, make_edges, make_nodes

GENES = [f"g{i}" for i in range(20)]
#: term → its genes: a root of all 20, a category of 12, a pathway of 3, a leaf of 1
MEMBERS = {"Root": GENES, "Mid": GENES[:12], "Small": GENES[:3], "Leaf": GENES[:1]}


@pytest.fixture(scope="module")
def explanation() -> Explanation:
    nodes = pd.concat([make_nodes(GENES, "gene", "t"), make_nodes(list(MEMBERS), "pathway", "t")])
    pairs = [(g, t) for t, genes in MEMBERS.items() for g in genes]
    kg = KnowledgeGraph(
        nodes, make_edges([g for g, _ in pairs], "member_of", [t for _, t in pairs], "t")
    )
    scores = {"Root": 4.0, "Mid": 3.0, "Small": 2.0, "Leaf": 1.0, **dict.fromkeys(GENES, 0.5)}
    return Explanation(kg, pd.Series(scores), inputs=GENES, patient="p")


def test_coverage_is_the_share_of_inputs_below_each_node(explanation: Explanation) -> None:
    share = explanation.coverage
    assert share[["Root", "Mid", "Small", "Leaf", "g0"]].tolist() == [1.0, 0.6, 0.15, 0.05, 0.05]


def test_terms_reached_by_more_than_max_share_are_left_out(explanation: Explanation) -> None:
    assert MAX_SHARE == 0.1 and BROAD_MIN_INPUTS == 10
    # Small holds 15 % of the inputs but only 3 of them: too few for a share to mean much
    assert explanation.top(3, "pathway")["id"].tolist() == ["Small", "Leaf"]
    assert explanation.ranking("pathway", max_share=0.7).index.tolist() == ["Mid", "Small", "Leaf"]
    for everything in (None, 1.0):
        ranked = explanation.ranking("pathway", max_share=everything).index.tolist()
        assert ranked == ["Root", "Mid", "Small", "Leaf"]
    assert len(explanation.ranking("gene")) == 20  # inputs are never left out


def test_the_explanation_carries_its_default(explanation: Explanation) -> None:
    everything = replace(explanation, max_share=None)
    assert everything.top(1)["id"].tolist() == ["Root"]
    assert {n for n, d in everything.subgraph(2).nodes(data=True) if d["top"]} == {"Root", "Mid"}
    assert everything.top(1, max_share=0.1)["id"].tolist() == ["Small"]
    assert explanation.top(1)["id"].tolist() == ["Small"]


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.1, "all", True])
def test_bad_max_share_is_refused(explanation: Explanation, bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="'max_share' parameter of Explanation.top"):
        explanation.top(3, max_share=bad)
    with pytest.raises(InvalidParameterError, match="'max_share' parameter of Explanation "):
        replace(explanation, max_share=bad)
