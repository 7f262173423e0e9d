"""Patients' linked feature values placed on their knowledge-graph nodes.

:class:`NodeInput` is the graph branch's input layer; :class:`NodeChannels` is its public
result, read by explanations (which nodes had an observed linked feature, and which value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gnn._exceptions import InvalidGraphError
from gnn.propagation import _csr_matrix, _sparse_product

__all__ = ["NodeChannels", "NodeInput"]

Inputs = Mapping[str, Tensor]


@dataclass(frozen=True)
class NodeChannels:
    """Per node, patient and modality: the linked value and whether one was observed.

    Attributes
    ----------
    value : Tensor
        ``(N, B, M)`` float: node ``n``'s mean of the observed features of modality ``m``
        linked to it, for patient ``b`` (``0`` where none was observed).
    observed : Tensor
        ``(N, B, M)`` bool: at least one feature of modality ``m`` linked to node ``n`` was
        observed for patient ``b``.
    modalities : tuple of str
        The ``M`` modalities, in channel order.

    Examples
    --------
    >>> layer = NodeInput(3, {"mRNA": torch.tensor([0, 0, 2])})
    >>> channels = layer.channels({"mRNA": torch.tensor([[1.0, 3.0, 5.0]])},
    ...                           {"mRNA": torch.tensor([[True, True, False]])})
    >>> channels.value[:, 0, 0].tolist(), channels.any_observed()[:, 0].tolist()
    ([2.0, 0.0, 0.0], [True, False, False])
    """

    value: Tensor
    observed: Tensor
    modalities: tuple[str, ...]

    def any_observed(self) -> Tensor:
        """``(N, B)`` bool: node ``n`` has an observed linked feature of any modality."""
        return self.observed.any(dim=-1)


class NodeInput(nn.Module):
    """Place each modality's linked feature values on their KG nodes.

    For modality ``m`` with feature → node map ``P_m`` (features linked to one node are averaged),
    node ``n`` of patient ``b`` gets the channels ``(value_m, observed_m)``: the mean of its
    observed linked values and whether any was observed. Unobserved entries contribute nothing.

    .. math::
        v_{n,b,m} = \\frac{\\sum_{f: P_m(f) = n} o_{b,f} x_{b,f}}
                         {\\max(1, \\sum_{f: P_m(f) = n} o_{b,f})}

    Args:
        num_nodes (int): Number of graph nodes ``N``.
        feature_nodes (Mapping[str, Tensor]): Per modality, the node of each feature (``-1``
            for unlinked features); its keys fix the modality order.

    Raises:
        InvalidGraphError: If a feature links to a node ``>= num_nodes`` (a ``ValueError``).

    Shapes:
        - **input:** per modality values ``(B, F_m)`` (NaN-free) and observed masks ``(B, F_m)``
        - **output:** ``(N, B, 2 M)``, channels ``value_0, observed_0, value_1, ...``

    Examples
    --------
    >>> layer = NodeInput(3, {"mRNA": torch.tensor([0, 0, 2, -1])})
    >>> values = {"mRNA": torch.tensor([[1.0, 3.0, 5.0, 9.0]])}
    >>> layer(values, {"mRNA": torch.ones(1, 4, dtype=torch.bool)})[:, 0].tolist()
    [[2.0, 1.0], [0.0, 0.0], [5.0, 1.0]]
    """

    def __init__(self, num_nodes: int, feature_nodes: Mapping[str, Tensor]) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.modalities = list(feature_nodes)
        for i, (name, nodes) in enumerate(feature_nodes.items()):
            nodes = nodes.to(torch.long)
            if nodes.numel() and int(nodes.max()) >= num_nodes:
                msg = f"NodeInput: modality {name!r} links a feature to node {int(nodes.max())}; the graph has {num_nodes} nodes."
                raise InvalidGraphError(msg)
            self.register_buffer(f"nodes_{i}", nodes, persistent=False)
            # the (N, F_m) feature -> node map as CSR indices (features in order within a
            # node), and its transpose (one entry per linked feature)
            linked = nodes >= 0
            features = torch.nonzero(linked).squeeze(1)
            order = torch.argsort(nodes[linked], stable=True)
            per_node = torch.bincount(nodes[linked], minlength=num_nodes)
            per_feature = linked.to(torch.long)
            self.register_buffer(f"crow_{i}", _compressed(per_node), persistent=False)
            self.register_buffer(f"col_{i}", features[order], persistent=False)
            self.register_buffer(f"crow_t_{i}", _compressed(per_feature), persistent=False)
            self.register_buffer(f"col_t_{i}", nodes[linked], persistent=False)

    def _sums(self, i: int, stacked: Tensor) -> Tensor:
        """``(N, D)`` sums over the features linked to each node of ``stacked`` ``(F_m, D)``."""
        col, col_t = getattr(self, f"col_{i}"), getattr(self, f"col_t_{i}")
        ones = stacked.new_ones(col.shape[0])
        shape = (self.num_nodes, stacked.shape[0])
        matrix = _csr_matrix(getattr(self, f"crow_{i}"), col, ones, shape)
        transposed = _csr_matrix(getattr(self, f"crow_t_{i}"), col_t, ones, shape[::-1])
        return _sparse_product(matrix, transposed, stacked)

    def channels(self, values: Inputs, observed: Inputs) -> NodeChannels:
        """The value and observed channels of every modality, apart (see :class:`NodeChannels`)."""
        means, seen = [], []
        for i, name in enumerate(self.modalities):
            x = values[name]
            o = observed[name].to(x.dtype)
            batch = x.shape[0]
            # (F_m, 2 B) written once from the transposed views, then (N, 2 B): totals, counts
            sums = self._sums(i, torch.cat([(x * o).T, o.T], dim=1))
            total, count = sums[:, :batch], sums[:, batch:]
            means.append(total / count.clamp(min=1.0))
            seen.append(count > 0)
        return NodeChannels(
            torch.stack(means, dim=-1), torch.stack(seen, dim=-1), tuple(self.modalities)
        )

    def forward(self, values: Inputs, observed: Inputs) -> Tensor:
        c = self.channels(values, observed)
        n, b, m = c.value.shape
        return torch.stack([c.value, c.observed.to(c.value.dtype)], dim=-1).reshape(n, b, 2 * m)


def _compressed(counts: Tensor) -> Tensor:
    """CSR row pointers ``(len(counts) + 1,)`` of rows holding ``counts`` entries each."""
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, dim=0)])
