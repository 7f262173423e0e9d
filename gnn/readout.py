"""The graph branch's readout: a linear model over one activity score per concept node."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["NodeScoreReadout"]


class NodeScoreReadout(nn.Module):
    """A linear model over one activity score per readout node.

    Each readout node ``n`` gets the score ``a_{b,n} = u · h_{n,b}`` for patient ``b``, standardised
    over patients (batch statistics in training, running ones in eval mode), and the logits are
    ``Σ_n z_{b,n} W_{:,n} + c``. A node's contribution to a logit is therefore exactly
    ``z_{b,n} W_{k,n}`` (see :meth:`contributions`).

    .. math::
        z_{b,n} = \\mathrm{BN}(\\mathbf{u}^\\top \\mathbf{h}_{n,b} + u_0), \\qquad
        \\mathbf{y}_b = \\mathbf{W} \\mathbf{z}_b + \\mathbf{c}

    Args:
        channels (int): Node state channels ``C``.
        nodes (Tensor): Positions of the ``K`` readout nodes.
        out_channels (int): Output logits ``O``.
        dropout (float): Dropout on the scores (default: ``0.0``).

    Shapes:
        - **input:** node states ``(N, B, C)``
        - **output:** logits ``(B, O)`` and standardised scores ``(B, K)``

    Examples
    --------
    >>> readout = NodeScoreReadout(4, torch.tensor([1, 2]), out_channels=3)
    >>> logits, z = readout(torch.randn(5, 8, 4))  # 5 nodes, 8 patients
    >>> logits.shape, z.shape
    (torch.Size([8, 3]), torch.Size([8, 2]))
    """

    def __init__(
        self, channels: int, nodes: Tensor, out_channels: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.register_buffer("nodes", nodes.to(torch.long), persistent=False)
        self.score = nn.Linear(channels, 1)
        self.norm = nn.BatchNorm1d(len(nodes), affine=False)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(len(nodes), out_channels)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        z = self.norm(self.score(h[self.nodes]).squeeze(-1).T)
        return self.linear(self.dropout(z)), z

    def contributions(self, z: Tensor, target: Tensor) -> Tensor:
        """``(B, K)`` contribution of each node to the logit of class ``target[b]`` relative to
        the mean logit (for one output, a Cox log-risk, to that output): additive and exact,
        they sum to the centred logit minus the bias.
        """
        weight = self.linear.weight  # (O, K)
        if weight.shape[0] == 1:
            return z * weight[0]
        return z * (weight - weight.mean(dim=0))[target]
