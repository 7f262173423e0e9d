"""Tests of gnn.propagation: batched relational propagation as a PyG MessagePassing layer."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn import MessageRows, RelationalPropagation, RelationGraph, ShapeError, stack_adjacency
from kg import KnowledgeGraph


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


def _reference(
    layer: RelationalPropagation, h: torch.Tensor, edges: list[tuple[int, int, int]]
) -> torch.Tensor:
    """The layer's docstring, by hand: relu(h W_0 + b_0 + sum_r mean_{j -r-> i} h_j W_r)."""
    n = h.shape[0]
    out = h @ layer.root.weight.T + layer.root.bias
    for i in range(n):
        for r in range(layer.num_relations):
            senders = [s for s, d, t in edges if d == i and t == r]
            if senders:
                out[i] = out[i] + sum(h[s] for s in senders) / len(senders) @ layer.weight[r]
    return torch.relu(out)


def test_layer_equals_a_hand_written_dense_reference() -> None:
    edges = [
        (0, 2, 0),
        (1, 2, 0),
        (1, 2, 0),
        (2, 0, 1),
        (3, 3, 1),
        (0, 1, 2),
    ]  # a duplicate, a loop
    edge_index = torch.tensor([[s, d] for s, d, _ in edges]).T
    edge_type = torch.tensor([t for _, _, t in edges])
    torch.manual_seed(0)
    layer = RelationalPropagation(3, num_relations=3)
    h = torch.randn(4, 5, 3)
    expected = _reference(layer, h, edges)
    rows = MessageRows.from_edges(edge_index, edge_type, 4)
    assert torch.allclose(layer(h, rows), expected, atol=1e-6)
    assert torch.allclose(layer(h, edge_index, edge_type), expected, atol=1e-6)


def test_per_edge_path_equals_fused_path_forward_and_backward(tiny_kg: KnowledgeGraph) -> None:
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

    graph = RelationGraph.from_kg(tiny_kg)
    torch.manual_seed(0)
    layer = RelationalPropagation(3, len(graph.relations))
    h = torch.randn(graph.num_nodes, 4, 3, requires_grad=True)
    fused = layer(h, graph.rows)
    (fused_grad,) = torch.autograd.grad(fused.sum(), h)
    set_masks(layer, torch.ones(graph.edge_index.shape[1]), graph.edge_index, apply_sigmoid=False)
    per_edge = layer(h, graph.rows)
    (per_edge_grad,) = torch.autograd.grad(per_edge.sum(), h)
    clear_masks(layer)
    assert torch.allclose(fused, per_edge, atol=1e-6)
    assert torch.allclose(fused_grad, per_edge_grad, atol=1e-6)


def test_a_zero_edge_mask_removes_the_edge(tiny_kg: KnowledgeGraph) -> None:
    """PyG's explain masks reach the layer: masking edge e equals dropping it (kept degrees)."""
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

    graph = RelationGraph.from_kg(tiny_kg)
    torch.manual_seed(0)
    layer = RelationalPropagation(2, len(graph.relations))
    h = torch.randn(graph.num_nodes, 3, 2)
    mask = torch.ones(graph.edge_index.shape[1])
    mask[0] = 0.0
    set_masks(layer, mask, graph.edge_index, apply_sigmoid=False)
    masked = layer(h, graph.rows)
    clear_masks(layer)
    rows = graph.rows
    weight = rows.edge_weight.clone()
    weight[0] = 0.0
    kept = MessageRows(rows.adjacency, rows.relation, rows.target, rows.edge_index, weight)
    layer.explain = True  # per-edge path with the edited weights, no mask
    layer._edge_mask, layer._apply_sigmoid = torch.ones_like(mask), False
    expected = layer(h, kept)
    clear_masks(layer)
    assert torch.allclose(masked, expected, atol=1e-6)
    assert not torch.allclose(masked, layer(h, graph.rows))


def test_pyg_explainer_explains_the_layer(tiny_kg: KnowledgeGraph) -> None:
    from torch_geometric.explain import Explainer, GNNExplainer

    graph = RelationGraph.from_kg(tiny_kg)
    torch.manual_seed(0)

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = RelationalPropagation(2, len(graph.relations))

        def forward(
            self, x: torch.Tensor, edge_index: torch.Tensor, edge_type: torch.Tensor
        ) -> torch.Tensor:
            return self.layer(x[:, None, :], edge_index, edge_type).sum(dim=(1, 2))[:, None]

    explainer = Explainer(
        Model(),
        GNNExplainer(epochs=5),
        explanation_type="model",
        node_mask_type=None,
        edge_mask_type="object",
        model_config={"mode": "regression", "task_level": "node", "return_type": "raw"},
    )
    x = torch.randn(graph.num_nodes, 2)
    explanation = explainer(x, graph.edge_index, edge_type=graph.edge_type, index=0)
    assert explanation.edge_mask.shape == (graph.edge_index.shape[1],)


def test_layer_rejects_bad_shapes(tiny_kg: KnowledgeGraph) -> None:
    graph = RelationGraph.from_kg(tiny_kg)
    layer = RelationalPropagation(2, len(graph.relations))
    with pytest.raises(ShapeError, match=r"\(N, B, 2\)"):
        layer(torch.randn(graph.num_nodes, 2), graph.rows)
    with pytest.raises(ValueError, match="edge_type is required"):
        layer(torch.randn(graph.num_nodes, 1, 2), graph.edge_index)


def test_state_dict_keys_are_unchanged() -> None:
    """Checkpoints written before the layer became a MessagePassing still load."""
    assert set(RelationalPropagation(2, 3).state_dict()) == {"root.weight", "root.bias", "weight"}
