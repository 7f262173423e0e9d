"""A linear layer whose connections are a fixed sparse mask (one weight per KG edge).

:class:`MaskedLinear` maps ``N_in`` nodes' ``C`` channels to ``N_out`` nodes' ``C`` channels
through the given edges only: the layers of :class:`~gnn.HierarchyNet`. The weights live in a
sparse CSR matrix, so a layer costs one sparse-dense product forward and two backward (no
per-edge ``(E, B)`` gather), whatever the number of patients ``B``.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

from gnn._exceptions import InvalidGraphError

__all__ = ["MaskedLinear"]


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """A CSR matrix from a structure this module built (sorted, in range: not re-checked)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


def _crow(rows: Tensor, n: int) -> Tensor:
    """CSR row pointers of sorted row indices ``rows`` over ``n`` rows."""
    counts = torch.bincount(rows, minlength=n)
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


class _CSRMatmul(torch.autograd.Function):
    """``A @ x`` for a CSR matrix ``A`` given by its structure and (differentiable) values."""

    @staticmethod
    def forward(ctx, values, x, structure, shape):  # type: ignore[override]
        crow, col = structure[0], structure[1]
        ctx.save_for_backward(values, x)
        ctx.structure, ctx.shape = structure, shape
        return _csr(crow, col, values, shape) @ x

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        values, x = ctx.saved_tensors
        crow, col, t_crow, t_col, t_perm = ctx.structure
        rows, cols = ctx.shape
        grad_values = grad_x = None
        grad = grad.contiguous()
        if ctx.needs_input_grad[0]:
            pattern = _csr(crow, col, values.new_zeros(values.shape), (rows, cols))
            product = torch.sparse.sampled_addmm(pattern, grad, x.T.contiguous(), beta=0.0)
            grad_values = product.values()
        if ctx.needs_input_grad[1]:
            grad_x = _csr(t_crow, t_col, values[t_perm], (cols, rows)) @ grad
        return grad_values, grad_x, None, None


class MaskedLinear(nn.Module):
    """Linear map between two node sets along fixed edges, ``C`` channels per node.

    .. math::
        \\mathbf{y}_{n,b} = \\sum_{(s, n) \\in \\mathcal{E}} \\mathbf{W}_{s \\to n}^\\top
            \\mathbf{x}_{s,b} + \\mathbf{a}_n

    A node pair without an edge has no weight: the gradient of ``y_n`` with respect to
    ``x_s`` is exactly zero.

    Args:
        in_nodes (int): Input nodes ``N_in``.
        out_nodes (int): Output nodes ``N_out``.
        edges (Tensor): ``(2, E)`` ``(input node, output node)`` pairs, each at most once.
        channels (int): Channels ``C`` per node; each edge has a ``(C, C)`` weight
            (default: ``1``).

    Shapes:
        - **input:** ``(N_in, B, C)``
        - **output:** ``(N_out, B, C)``

    Examples
    --------
    >>> layer = MaskedLinear(3, 2, torch.tensor([[0, 1, 2], [0, 0, 1]]))
    >>> layer(torch.randn(3, 5, 1)).shape
    torch.Size([2, 5, 1])
    >>> layer.weight.shape, layer.bias.shape  # one weight per edge, one bias per output node
    (torch.Size([3, 1, 1]), torch.Size([2, 1]))
    """

    def __init__(self, in_nodes: int, out_nodes: int, edges: Tensor, channels: int = 1) -> None:
        super().__init__()
        edges = edges.to(torch.long)
        if edges.dim() != 2 or edges.shape[0] != 2:
            msg = f"MaskedLinear: edges must have shape (2, E); got {tuple(edges.shape)}."
            raise InvalidGraphError(msg)
        if edges.numel() and (
            int(edges.min()) < 0
            or int(edges[0].max()) >= in_nodes
            or int(edges[1].max()) >= out_nodes
        ):
            msg = f"MaskedLinear: edges must pair input nodes in [0, {in_nodes}) with output nodes in [0, {out_nodes})."
            raise InvalidGraphError(msg)
        self.in_nodes, self.out_nodes, self.channels = in_nodes, out_nodes, channels
        c, e = channels, edges.shape[1]
        u = torch.arange(c)
        # entry (e, u, v) of the weight joins channel u of the source to channel v of the target
        rows = (edges[1][:, None, None] * c + u[None, None, :]).expand(e, c, c).reshape(-1)
        cols = (edges[0][:, None, None] * c + u[None, :, None]).expand(e, c, c).reshape(-1)
        n_rows, n_cols = out_nodes * c, in_nodes * c
        perm = torch.argsort(rows * n_cols + cols)
        t_perm = torch.argsort(cols[perm] * n_rows + rows[perm])
        self.register_buffer("perm", perm, persistent=False)
        self.register_buffer("crow", _crow(rows[perm], n_rows), persistent=False)
        self.register_buffer("col", cols[perm].contiguous(), persistent=False)
        self.register_buffer("t_perm", t_perm, persistent=False)
        self.register_buffer("t_crow", _crow(cols[perm][t_perm], n_cols), persistent=False)
        self.register_buffer("t_col", rows[perm][t_perm].contiguous(), persistent=False)
        self.register_buffer(
            "fan_in", torch.bincount(edges[1], minlength=out_nodes) * c, persistent=False
        )
        self.register_buffer("target", edges[1].clone(), persistent=False)
        self.weight = nn.Parameter(torch.empty(e, c, c))
        self.bias = nn.Parameter(torch.empty(out_nodes, c))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform ``±1/sqrt(fan_in)`` per output node, as :class:`torch.nn.Linear`."""
        bound = self.fan_in.clamp(min=1).to(self.weight.dtype).rsqrt()
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0).mul_(bound[self.target][:, None, None])
            self.bias.uniform_(-1.0, 1.0).mul_(bound[:, None])

    def forward(self, x: Tensor) -> Tensor:
        n, b, c = x.shape
        flat = x.permute(0, 2, 1).reshape(n * c, b)
        structure = (self.crow, self.col, self.t_crow, self.t_col, self.t_perm)
        shape = (self.out_nodes * c, n * c)
        values = self.weight.reshape(-1)[self.perm]
        out = _CSRMatmul.apply(values, flat, structure, shape)
        return out.reshape(self.out_nodes, c, b).permute(0, 2, 1) + self.bias[:, None, :]

    def extra_repr(self) -> str:
        return f"{self.in_nodes} -> {self.out_nodes}, edges={self.weight.shape[0]}, channels={self.channels}"
