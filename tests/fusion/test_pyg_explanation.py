"""Explanations as PyG HeteroExplanation: shapes per type, masks, validate, explanation subgraph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cohorts import tiny_kg

from fusion.explanations import Explanation
from fusion.explanations.pyg import to_hetero_explanation
from kg import KnowledgeGraph, UnknownNodeError, make_edges, make_nodes, to_hetero_data


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    return tiny_kg()


@pytest.fixture(scope="module")
def explanation(kg: KnowledgeGraph) -> Explanation:
    rng = np.random.default_rng(0)
    scores = pd.Series(rng.normal(size=kg.number_of_nodes()), index=kg.nodes.index)
    scores["GO:2"] = 3.0  # the top node
    scores["GO:9"] = 0.0  # joins the top terms only as a connector, if at all
    return Explanation(kg, scores, inputs=["NCBIGene:5", "NCBIGene:1"], patient="p1",
                       prediction="a", method="ig")  # fmt: skip


def _ids(h, node_type: str, local) -> list[str]:
    return h.node_index.to_ids(node_type, h[node_type].n_id[local].tolist())


def test_masks_have_the_hetero_data_shapes(kg, explanation) -> None:
    data = to_hetero_data(kg)
    h = to_hetero_explanation(explanation, data, k=3)
    assert h.validate()
    assert set(h.node_types) == set(data.node_types)
    assert set(h.edge_types) == set(data.edge_types)
    for t in data.node_types:
        assert tuple(h[t].node_mask.shape) == (data[t].num_nodes, 1)
        assert tuple(h[t].score.shape) == (data[t].num_nodes,)
    for t in data.edge_types:
        assert tuple(h[t].edge_mask.shape) == (data[t].edge_index.shape[1],)
    assert (h.patient, h.method, h.prediction) == ("p1", "ig", "a")


def test_top_node_has_the_largest_mask_and_scores_line_up(kg, explanation) -> None:
    h = to_hetero_explanation(explanation, k=3)
    best = max(h.node_types, key=lambda t: h[t].node_mask.max().item())
    local = int(h[best].node_mask.argmax())
    assert _ids(h, best, [local]) == ["GO:2"]
    assert h[best].node_mask.max().item() == pytest.approx(1.0)
    for t in h.node_types:
        ids = h.node_index.to_ids(t, range(h[t].num_nodes))
        expected = explanation.scores.reindex(ids).to_numpy()
        np.testing.assert_allclose(h[t].score.numpy(), expected, rtol=1e-6)
        mask = h[t].node_mask.squeeze(-1).numpy()
        nonzero = expected != 0
        np.testing.assert_allclose(mask[nonzero], np.abs(expected[nonzero]) / 3.0, rtol=1e-6)
    raw = to_hetero_explanation(explanation, k=3, normalize=False)
    assert raw["go_term"].node_mask.max().item() == pytest.approx(3.0)


def test_explanation_subgraph_keeps_the_subgraph_edges(kg, explanation) -> None:
    sub = explanation.subgraph(3)
    assert sub.number_of_edges() > 0
    h = to_hetero_explanation(explanation, k=3)
    kept = h.get_explanation_subgraph()
    forward = set()
    for (src, rel, dst), store in kept.edge_items():
        if rel.startswith("rev_"):
            continue
        s, d = store.edge_index.tolist()
        forward |= {
            (a, b, rel)
            for a, b in zip(_ids(kept, src, s), _ids(kept, dst, d))
        }  # fmt: skip
    assert forward == set(sub.edges(keys=True))
    # every subgraph node is kept, also connectors that score 0
    kept_ids = {i for t in kept.node_types for i in _ids(kept, t, range(kept[t].num_nodes))}
    assert set(sub.nodes) <= kept_ids
    assert kept_ids == set(sub.nodes) | set(explanation.scores.index[explanation.scores != 0])


def test_connectors_scoring_zero_are_kept() -> None:
    # G1 -> T1 -> ROOT <- T2: top node T2 is joined to input G1 only through ROOT (score 0)
    kg = KnowledgeGraph(
        pd.concat(
            [make_nodes(["G:1"], "gene", "t"), make_nodes(["T:1", "T:2", "T:0"], "term", "t")]
        ),
        make_edges(["G:1", "T:1", "T:2"], ["in", "is_a", "is_a"], ["T:1", "T:0", "T:0"], "t"),
    )
    e = Explanation(kg, pd.Series({"T:2": 1.0, "T:1": 0.5}), inputs=["G:1"], patient="p")
    sub = e.subgraph(1, max_len=3)
    assert "T:0" in sub and e.scores.get("T:0", 0.0) == 0.0
    kept = to_hetero_explanation(e, k=1).get_explanation_subgraph()
    assert "T:0" in _ids(kept, "term", range(kept["term"].num_nodes))
    assert kept["term", "is_a", "term"].edge_index.shape[1] == 2


def test_unknown_nodes_are_refused(kg, explanation) -> None:
    other = KnowledgeGraph(make_nodes(["GO:1"], "go_term", "t"), make_edges([], "is_a", [], "t"))
    with pytest.raises(UnknownNodeError, match="not in the HeteroData"):
        to_hetero_explanation(explanation, other)
    data = to_hetero_data(kg)
    del data.node_index
    with pytest.raises(UnknownNodeError, match="no node_index"):
        to_hetero_explanation(explanation, data)
