"""Tests of gnn.propagation: batched relational propagation and the shuffled-graph ablation."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn import MessageRows, RelationalPropagation, RelationGraph, mean_adjacency, stack_adjacency
from kg import KnowledgeGraph, make_edges, make_nodes


@pytest.fixture
def tiny_kg() -> KnowledgeGraph:
    nodes = pd.concat(
        [
            make_nodes(["g1", "g2", "g3"], "gene", "t"),
            make_nodes(["T1", "T2", "T3"], "go_term", "t"),
        ]
    )
    edges = pd.concat(
        [
            make_edges(["g1", "g2", "g3", "g3"], "involved_in", ["T1", "T1", "T2", "T1"], "t"),
            make_edges(["T1", "T2"], "is_a", ["T3", "T3"], "t"),
        ]
    )
    return KnowledgeGraph(nodes, edges)


def test_mean_adjacency_averages_incoming_messages() -> None:
    a = mean_adjacency(torch.tensor([0, 1, 2]), torch.tensor([3, 3, 0]), 4)
    x = torch.tensor([[1.0], [3.0], [5.0], [7.0]])
    assert (a @ x).squeeze(1).tolist() == [5.0, 0.0, 0.0, 2.0]


def test_from_kg_adds_reverse_relations(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    assert graph.relations == ["involved_in", "is_a", "rev_involved_in", "rev_is_a"]
    assert graph.adjacency.shape == (4 * 6, 6)
    # a gene (leaf) receives from its term through the reverse relation
    g1, t1 = graph.index_of(["g1", "T1"]).tolist()
    rev = graph.adjacency.to_dense().view(4, 6, 6)[2]
    assert rev[g1, t1] == 1.0


def test_from_kg_groups_by_type(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg, group="type", reverse=False)
    assert graph.relations == ["gene->go_term", "go_term->go_term"]


def test_stack_adjacency_equals_each_product() -> None:
    torch.manual_seed(0)
    mats = [
        mean_adjacency(torch.randint(0, 5, (7,)), torch.randint(0, 5, (7,)), 5) for _ in range(3)
    ]
    x = torch.randn(5, 4)
    stacked = (stack_adjacency(mats, 5) @ x).view(3, 5, 4)
    for r, m in enumerate(mats):
        assert torch.allclose(stacked[r], m @ x)


def test_batched_propagation_equals_per_patient_loop(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    torch.manual_seed(0)
    layer = RelationalPropagation(3, len(graph.relations))
    h = torch.randn(graph.num_nodes, 5, 3)
    batched = layer(h, graph.rows)
    dense = graph.adjacency.to_dense().view(len(graph.relations), graph.num_nodes, graph.num_nodes)
    for b in range(5):
        x = h[:, b, :]
        expected = layer.root(x) + sum(
            dense[r] @ x @ layer.weight[r] for r in range(len(graph.relations))
        )
        assert torch.allclose(batched[:, b, :], torch.relu(expected), atol=1e-6)


def test_layer_without_relations_is_a_node_wise_linear_map() -> None:
    layer = RelationalPropagation(2, 0)
    h = torch.randn(3, 4, 2)
    empty = stack_adjacency([], 3)
    assert torch.allclose(layer(h, MessageRows.from_stacked(empty, 3)), torch.relu(layer.root(h)))


@settings(max_examples=25, deadline=None)
@given(
    edges=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=30),
    seed=st.integers(0, 1000),
)
def test_shuffled_graph_preserves_degrees(edges: list[tuple[int, int]], seed: int) -> None:
    index = torch.tensor(edges).T
    graph = RelationGraph(
        [f"n{i}" for i in range(8)], ["gene"] * 8, ["r", "s"], [index, index.flip(0)]
    )
    shuffled = graph.shuffled(seed)
    for (out_a, in_a), (out_b, in_b) in zip(graph.degrees(), shuffled.degrees()):
        assert torch.equal(out_a, out_b)
        assert torch.equal(in_a, in_b)
    assert shuffled.relations == graph.relations


def test_shuffled_graph_rewires_and_is_seeded(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    same = [
        torch.equal(a.edges[0], b.edges[0]) for a, b in ((graph.shuffled(1), graph.shuffled(1)),)
    ]
    assert same == [True]
    changed = [not torch.equal(graph.edges[0], graph.shuffled(s).edges[0]) for s in range(10)]
    assert any(changed)


def test_index_of_marks_absent_ids(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    assert graph.index_of(["T1", "nope"]).tolist() == [0, -1]


@settings(max_examples=25, deadline=None)
@given(
    edges=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 2)), max_size=25),
    seed=st.integers(0, 1000),
)
def test_layer_over_message_rows_equals_dense_relations(
    edges: list[tuple[int, int, int]], seed: int
) -> None:
    """Computing only the non-empty rows gives the full R-GCN sum over every relation."""
    per_relation = [
        torch.tensor([(s, d) for s, d, r in edges if r == k], dtype=torch.long).reshape(-1, 2).T
        for k in range(3)
    ]
    graph = RelationGraph([f"n{i}" for i in range(6)], ["gene"] * 6, ["a", "b", "c"], per_relation)
    torch.manual_seed(seed)
    layer = RelationalPropagation(2, len(graph.relations))
    h = torch.randn(6, 3, 2)
    dense = graph.adjacency.to_dense().view(len(graph.relations), 6, 6)
    expected = layer.root(h) + torch.einsum("rnm,mbc,rcd->nbd", dense, h, layer.weight)
    assert torch.allclose(layer(h, graph.rows), torch.relu(expected), atol=1e-5)
