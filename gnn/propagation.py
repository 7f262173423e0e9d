"""Relation-aware propagation over a knowledge graph with patients batched as channels.

:class:`RelationalPropagation` is an R-GCN layer (Schlichtkrull et al., 2018, "Modeling
Relational Data with Graph Convolutional Networks") written as a PyG
:class:`~torch_geometric.nn.conv.MessagePassing` layer whose node features carry a batch axis:
one sparse × dense product per layer serves every relation and every patient of the batch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing

from gnn._exceptions import ShapeError
from gnn.relation_graph import MessageRows

__all__ = ["RelationalPropagation"]


def _product(matrix: Tensor, x: Tensor) -> Tensor:
    """``matrix @ x`` for a sparse CSR ``matrix`` and a contiguous dense ``x``.

    On the CPU the product is written straight into a new uninitialised tensor (``beta=0``:
    its contents are never read): :func:`torch.sparse.mm` zero-fills a result, then copies
    it, two extra passes over an output as large as a batch's messages. Same kernel, same
    values.
    """
    if x.device.type != "cpu":
        return torch.sparse.mm(matrix, x)
    out = x.new_empty((matrix.shape[0], x.shape[1]))
    return torch.addmm(out, matrix, x, beta=0, out=out)


class _SparseProduct(torch.autograd.Function):
    """``base + matrix @ x`` for a constant sparse ``matrix`` whose transpose is given.

    Autograd of :func:`torch.sparse.mm` converts the transposed CSR matrix on every backward
    pass (a sort of its entries, slower than the product itself on a genome-wide graph); here
    the backward pass multiplies by the ``transposed`` matrix built once by the caller, or,
    when ``transposed`` is a ``(R,)`` long tensor (``matrix`` sums rows of ``x`` into rows
    ``transposed[k]``, one entry per column, as :attr:`MessageRows.scatter`), selects those
    rows of the gradient.
    """

    @staticmethod
    def forward(
        ctx: Any, matrix: Tensor, transposed: Tensor, x: Tensor, base: Tensor | None
    ) -> Tensor:
        ctx.transposed = transposed
        if base is None:
            return _product(matrix, x)
        return torch.addmm(base, matrix, x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor, Tensor | None]:
        transposed = ctx.transposed
        if transposed.layout == torch.strided:  # the column -> row index of a scatter
            grad_x = grad.index_select(0, transposed)
        else:
            grad_x = _product(transposed, grad.contiguous())
        return None, None, grad_x, grad if ctx.needs_input_grad[3] else None


def _sparse_product(
    matrix: Tensor, transposed: Tensor, x: Tensor, base: Tensor | None = None
) -> Tensor:
    """``base + matrix @ x`` ``(R, D)`` for a constant sparse ``(R, S)`` ``matrix``, dense ``x``
    ``(S, D)`` and an optional dense ``base`` ``(R, D)``, differentiable in ``x`` and ``base``;
    ``transposed`` is ``matrix.T`` as sparse CSR, or, for a ``matrix`` with a single one in
    each column ``s``, at row ``index[s]``, the ``(S,)`` long tensor ``index``.

    Examples
    --------
    >>> m = torch.tensor([[0.0, 2.0], [1.0, 0.0]])
    >>> x = torch.ones(2, 3, requires_grad=True)
    >>> y = _sparse_product(m.to_sparse_csr(), m.T.to_sparse_csr(), x, base=torch.ones(2, 3))
    >>> y.sum().backward()
    >>> y[:, 0].tolist(), x.grad[:, 0].tolist()
    ([3.0, 2.0], [1.0, 2.0])
    >>> s = torch.tensor([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])  # column 0 -> row 2, 1 -> 0
    >>> x = torch.ones(2, 3, requires_grad=True)
    >>> y = _sparse_product(s.to_sparse_csr(), torch.tensor([2, 0]), x)
    >>> (y * torch.arange(3.0)[:, None]).sum().backward()
    >>> x.grad[:, 0].tolist()
    [2.0, 0.0]
    """
    return _SparseProduct.apply(matrix, transposed, x.contiguous(), base)


def _csr_matrix(crow: Tensor, col: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """A sparse CSR matrix from valid compressed indices (not checked), without torch's beta
    warning: cheap enough to build on every call from index buffers.

    Examples
    --------
    >>> m = _csr_matrix(torch.tensor([0, 1, 1]), torch.tensor([1]), torch.tensor([3.0]), (2, 2))
    >>> m.to_dense().tolist()
    [[0.0, 3.0], [0.0, 0.0]]
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


class RelationalPropagation(MessagePassing):
    """R-GCN layer over batched node features, as a PyG ``MessagePassing`` layer.

    .. math::
        \\mathbf{H}'_b = \\sigma\\Big(\\mathbf{H}_b \\mathbf{W}_0 + \\mathbf{b}_0 +
        \\sum_{r} \\mathbf{A}_r \\mathbf{H}_b \\mathbf{W}_r\\Big)

    for every patient ``b``; ``A_r`` is the mean adjacency of relation ``r``
    (``A_r[i, j] = 1 / |N_r(i)|`` for an edge ``j → i``), ``σ`` a ReLU followed by dropout.
    Messages are aggregated into the ``K`` non-empty ``(relation, target)`` rows of
    :class:`~gnn.MessageRows`, with ``H`` viewed as ``(N, B C)``; each row's relation weight
    follows as one batched product, and the rows are summed into their target nodes (one
    more sparse product, :attr:`MessageRows.scatter`).

    Two paths compute the same aggregation: the fused one (a sparse CSR × dense product with
    the adjacency, whose backward multiplies by :attr:`MessageRows.transposed`; used in
    training and inference) and the per-edge one
    (:meth:`message` then a sum; used when ``explain`` is set, so that the edge masks of
    :mod:`torch_geometric.explain` weight each edge of :attr:`MessageRows.edge_index`, which
    follows the order of the ``edge_index`` the rows were built from).

    Args:
        channels (int): Input and output channels ``C``.
        num_relations (int): Number of relations ``R``.
        dropout (float): Dropout on the output (default: ``0.0``).

    Shapes:
        - **input:** node features ``(N, B, C)``; :class:`~gnn.MessageRows`, or an
          ``edge_index`` ``(2, E)`` with ``edge_type`` ``(E,)``
        - **output:** ``(N, B, C)``

    Examples
    --------
    >>> from gnn import RelationGraph
    >>> graph = RelationGraph(["a", "b"], ["gene", "go_term"], ["r"], [torch.tensor([[0], [1]])])
    >>> layer = RelationalPropagation(4, num_relations=len(graph.relations))
    >>> layer(torch.randn(2, 3, 4), graph.rows).shape  # 2 nodes, 3 patients, 4 channels
    torch.Size([2, 3, 4])
    >>> layer(torch.randn(2, 3, 4), graph.edge_index, graph.edge_type).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, channels: int, num_relations: int, dropout: float = 0.0) -> None:
        super().__init__(aggr="add", node_dim=0)
        self.channels = channels
        self.num_relations = num_relations
        self.root = nn.Linear(channels, channels)
        self.weight = nn.Parameter(torch.empty(num_relations, channels, channels))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights."""
        super().reset_parameters()
        self.root.reset_parameters()
        bound = 1.0 / math.sqrt(self.channels * max(self.num_relations, 1))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(
        self, x: Tensor, edge_index: MessageRows | Tensor, edge_type: Tensor | None = None
    ) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.channels:
            msg = f"x must have shape (N, B, {self.channels}); got {tuple(x.shape)}."
            raise ShapeError(msg)
        n, b, c = x.shape
        if isinstance(edge_index, MessageRows):
            rows = edge_index
        else:
            if edge_type is None:
                msg = "edge_type is required with an edge_index tensor (one relation per edge)."
                raise ShapeError(msg)
            rows = MessageRows.from_edges(edge_index, edge_type, n, self.num_relations)
        k = rows.relation.shape[0]
        if self.explain:
            messages = self.propagate(
                rows.edge_index, x=x, edge_weight=rows.edge_weight, size=(n, k)
            )
        else:
            flat = _sparse_product(rows.adjacency, rows.transposed, x.reshape(n, b * c))
            messages = flat.view(k, b, c)
        transformed = torch.bmm(messages, self.weight[rows.relation]).view(k, b * c)
        root = self.root(x).view(n, b * c)
        out = _sparse_product(rows.scatter, rows.target, transformed, base=root).view(n, b, c)
        return self.dropout(torch.relu(out))

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        # (E, B, C) messages, each weighted 1 / in-degree of its row
        return x_j * edge_weight.view(-1, 1, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, num_relations={self.num_relations})"
