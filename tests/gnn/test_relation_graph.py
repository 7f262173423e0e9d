"""Tests of gnn.relation_graph: per-relation edges, mean adjacencies, shuffled-graph ablation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn import InvalidGraphError, MessageRows, RelationGraph, mean_adjacency, stack_adjacency
from kg import REVERSE_PREFIX, KnowledgeGraph, NodeIndex, to_hetero_data


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


def test_edge_index_lists_every_relation_in_order(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    counts = torch.bincount(graph.edge_type, minlength=len(graph.relations)).tolist()
    assert counts == [4, 2, 4, 2]
    forward = graph.edge_index[:, graph.edge_type == 0]
    backward = graph.edge_index[:, graph.edge_type == 2]
    assert torch.equal(forward.flip(0), backward)
    assert graph.relations[2] == REVERSE_PREFIX + graph.relations[0]


def test_message_rows_from_edges_equal_the_stacked_adjacency(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    stacked = MessageRows.from_stacked(graph.adjacency, graph.num_nodes)
    assert torch.equal(graph.rows.relation, stacked.relation)
    assert torch.equal(graph.rows.target, stacked.target)
    assert torch.allclose(graph.rows.adjacency.to_dense(), stacked.adjacency.to_dense())


def test_node_index_is_the_hetero_data_index(tiny_kg: KnowledgeGraph) -> None:
    index = RelationGraph.from_kg(tiny_kg).node_index
    assert isinstance(index, NodeIndex)
    hetero = to_hetero_data(tiny_kg).node_index
    assert {t: i.tolist() for t, i in index.ids.items()} == {
        t: i.tolist() for t, i in hetero.ids.items()
    }


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((["a", "b"], ["gene"], [], []), "one type per node"),
        ((["a"], ["gene"], ["r"], []), "one \\(2, E\\) tensor per base relation"),
        ((["a"], ["gene"], ["r"], [torch.tensor([[0], [1]])]), "in \\[0, 1\\)"),
        ((["a"], ["gene"], ["r"], [torch.tensor([0.0, 0.0])]), "integer \\(2, E\\)"),
    ],
)
def test_invalid_graphs_raise(args: tuple, match: str) -> None:
    with pytest.raises(InvalidGraphError, match=match) as error:
        RelationGraph(*args)
    assert isinstance(error.value, ValueError)


def test_message_rows_reject_mismatched_edge_types() -> None:
    with pytest.raises(InvalidGraphError, match="one relation per edge"):
        MessageRows.from_edges(torch.tensor([[0, 1], [1, 0]]), torch.tensor([0]), 2)
    with pytest.raises(InvalidGraphError, match="relations in \\[0, 1\\)"):
        MessageRows.from_edges(torch.tensor([[0], [1]]), torch.tensor([1]), 2, num_relations=1)
