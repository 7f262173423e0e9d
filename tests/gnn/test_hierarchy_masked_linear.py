"""Tests of gnn.MaskedLinear, the sparse layer of the hierarchy network."""

from __future__ import annotations

import pytest
import torch

from gnn import InvalidGraphError, MaskedLinear

EDGES = torch.tensor([[0, 1, 3, 2, 0], [0, 0, 1, 2, 2]])  # 4 inputs → 3 outputs, unsorted


def dense_reference(layer: MaskedLinear, edges: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The same map as a loop over edges: y_n = sum_e W_e^T x_s + a_n."""
    out = layer.bias[:, None, :].expand(layer.out_nodes, x.shape[1], -1).clone()
    for e, (s, n) in enumerate(edges.T.tolist()):
        out[n] = out[n] + x[s] @ layer.weight[e]
    return out


@pytest.mark.parametrize("channels", [1, 3])
def test_equals_the_edge_loop_and_its_gradients(channels: int) -> None:
    torch.manual_seed(0)
    layer = MaskedLinear(4, 3, EDGES, channels).double()
    x = torch.randn(4, 5, channels, dtype=torch.double, requires_grad=True)
    assert torch.allclose(layer(x), dense_reference(layer, EDGES, x))
    assert torch.autograd.gradcheck(layer, (x,))


def test_no_edge_no_gradient() -> None:
    torch.manual_seed(0)
    layer = MaskedLinear(4, 3, EDGES, channels=2)
    x = torch.randn(4, 6, 2, requires_grad=True)
    layer(x)[1].sum().backward()  # output 1 has the single input 3
    assert x.grad is not None
    assert torch.count_nonzero(x.grad[:3]) == 0 and torch.count_nonzero(x.grad[3]) == 12
    assert torch.count_nonzero(layer.weight.grad[[0, 1, 3, 4]]) == 0


def test_bad_edges_are_refused() -> None:
    with pytest.raises(InvalidGraphError, match=r"\(2, E\)"):
        MaskedLinear(2, 2, torch.tensor([0, 1]))
    with pytest.raises(InvalidGraphError, match="output nodes in \\[0, 2\\)"):
        MaskedLinear(2, 2, torch.tensor([[0], [2]]))
