"""Tests of the sparse products behind the genome-wide fit speed: the constant-matrix product
with a given transpose or scatter index, the message rows' cached transposes, and the node
input's CSR map."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn import InvalidGraphError, MessageRows, NodeInput
from gnn.propagation import _sparse_product
from gnn.training import FusionBatch

edge_lists = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 2)), min_size=1, max_size=25
)


@settings(max_examples=25, deadline=None)
@given(edges=edge_lists, seed=st.integers(0, 1000), with_base=st.booleans())
def test_sparse_product_equals_dense_product_forward_and_backward(
    edges: list[tuple[int, int, int]], seed: int, with_base: bool
) -> None:
    generator = torch.Generator().manual_seed(seed)
    dense = torch.zeros(6, 6)
    for row, col, value in edges:
        dense[row, col] += value + 0.5
    x = torch.randn(6, 4, generator=generator, requires_grad=True)
    base = torch.randn(6, 4, generator=generator, requires_grad=True) if with_base else None
    weight = torch.randn(6, 4, generator=generator)
    out = _sparse_product(dense.to_sparse_csr(), dense.T.to_sparse_csr(), x, base)
    (out * weight).sum().backward()
    expected_x = x.detach().clone().requires_grad_()
    expected = dense @ expected_x + (0 if base is None else base.detach())
    (expected * weight).sum().backward()
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.allclose(x.grad, expected_x.grad, atol=1e-5)
    if base is not None:
        assert torch.equal(base.grad, weight)


@settings(max_examples=25, deadline=None)
@given(edges=edge_lists)
def test_message_rows_transposed_and_scatter(edges: list[tuple[int, int, int]]) -> None:
    edge_index = torch.tensor([[s for s, _, _ in edges], [d for _, d, _ in edges]])
    edge_type = torch.tensor([r for _, _, r in edges])
    rows = MessageRows.from_edges(edge_index, edge_type, num_nodes=6, num_relations=3)
    assert torch.equal(rows.transposed.to_dense(), rows.adjacency.to_dense().T)
    messages = torch.randn(rows.relation.shape[0], 3)
    summed = torch.zeros(6, 3).index_add_(0, rows.target, messages)
    assert torch.allclose(torch.sparse.mm(rows.scatter, messages), summed, atol=1e-6)
    assert rows.transposed is rows.transposed  # built once


@settings(max_examples=25, deadline=None)
@given(edges=edge_lists, seed=st.integers(0, 1000))
def test_scatter_product_with_index_backward_equals_dense(
    edges: list[tuple[int, int, int]], seed: int
) -> None:
    """The scatter of message rows into their targets, whose backward selects gradient rows
    by :attr:`MessageRows.target` (no transposed matrix), equals the dense sum with autograd."""
    edge_index = torch.tensor([[s for s, _, _ in edges], [d for _, d, _ in edges]])
    edge_type = torch.tensor([r for _, _, r in edges])
    rows = MessageRows.from_edges(edge_index, edge_type, num_nodes=6, num_relations=3)
    generator = torch.Generator().manual_seed(seed)
    k = rows.relation.shape[0]
    messages = torch.randn(k, 4, generator=generator, requires_grad=True)
    base = torch.randn(6, 4, generator=generator, requires_grad=True)
    weight = torch.randn(6, 4, generator=generator)
    out = _sparse_product(rows.scatter, rows.target, messages, base)
    (out * weight).sum().backward()
    dense = rows.scatter.to_dense()
    expected_m = messages.detach().clone().requires_grad_()
    ((dense @ expected_m + base.detach()) * weight).sum().backward()
    assert torch.allclose(out, dense @ messages.detach() + base.detach(), atol=1e-5)
    assert torch.equal(messages.grad, expected_m.grad)
    assert torch.equal(base.grad, weight)


def test_sparse_product_fills_every_entry_of_its_uninitialised_output() -> None:
    """Empty rows of the matrix come out zero: the CPU product's output is never read."""
    dense = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    for _ in range(20):  # fresh allocations, whatever memory they reuse
        garbage = torch.full((3, 5), float("nan"))
        del garbage
        out = _sparse_product(dense.to_sparse_csr(), dense.T.to_sparse_csr(), torch.ones(2, 5))
        assert torch.equal(out, dense @ torch.ones(2, 5))


def _channels_reference(
    num_nodes: int, nodes: torch.Tensor, x: torch.Tensor, o: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The node means and counts by index_add_ over the linked features (the former layer)."""
    linked = nodes >= 0
    of = o[:, linked].to(x.dtype)
    xs = x[:, linked] * of
    total = x.new_zeros(num_nodes, x.shape[0]).index_add(0, nodes[linked], xs.T)
    count = x.new_zeros(num_nodes, x.shape[0]).index_add(0, nodes[linked], of.T)
    return total / count.clamp(min=1.0), count > 0


@settings(max_examples=40, deadline=None)
@given(
    nodes=st.lists(st.integers(-1, 4), min_size=1, max_size=12),
    batch=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_node_input_equals_index_add_reference_with_gradients(
    nodes: list[int], batch: int, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    index = torch.tensor(nodes)
    x = torch.randn(batch, len(nodes), generator=generator, requires_grad=True)
    o = torch.rand(batch, len(nodes), generator=generator) > 0.3
    layer = NodeInput(5, {"m": index, "other": index.flip(0)})
    channels = layer.channels({"m": x, "other": x.detach()}, {"m": o, "other": o})
    mean, seen = _channels_reference(5, index, x, o)
    assert torch.allclose(channels.value[..., 0], mean, atol=1e-6)
    assert torch.equal(channels.observed[..., 0], seen)
    other, _ = _channels_reference(5, index.flip(0), x.detach(), o)
    assert torch.allclose(channels.value[..., 1], other, atol=1e-6)
    weight = torch.randn(5, batch, generator=generator)
    (grad,) = torch.autograd.grad((channels.value[..., 0] * weight).sum(), x)
    (expected,) = torch.autograd.grad((mean * weight).sum(), x)
    assert torch.allclose(grad, expected, atol=1e-6)


def test_node_input_refuses_a_node_outside_the_graph() -> None:
    with pytest.raises(InvalidGraphError, match="modality 'mRNA' links a feature to node 3"):
        NodeInput(3, {"mRNA": torch.tensor([0, 3, -1])})


def test_fusion_batch_rows_equal_advanced_indexing() -> None:
    values = torch.arange(12.0).view(4, 3)
    batch = FusionBatch({"m": values}, {"m": values > 4}, torch.tensor([[True], [False]] * 2))
    index = torch.tensor([3, 0, 3])
    rows = batch[index]
    assert torch.equal(rows.values["m"], values[index])
    assert torch.equal(rows.observed["m"], (values > 4)[index])
    assert rows.present[:, 0].tolist() == [False, True, False]
