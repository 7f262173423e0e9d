"""Losses for survival heads: the Cox proportional-hazards partial likelihood."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["cox_ph_loss"]


def cox_ph_loss(log_risk: Tensor, time: Tensor, event: Tensor) -> Tensor:
    """Negative Breslow partial log-likelihood of a Cox model, averaged over events.

    .. math::
        \\mathcal{L} = -\\frac{1}{|E|} \\sum_{i \\in E} \\Big(\\eta_i -
        \\log \\sum_{j: t_j \\geq t_i} e^{\\eta_j}\\Big)

    Tied event times use Breslow's approximation: every event of a tie shares the full risk set
    (all samples with ``t_j >= t_i``, the tied ones included).

    Args:
        log_risk (Tensor): Predicted log-hazard ratio ``η`` per sample, shape ``(B,)`` or ``(B, 1)``.
        time (Tensor): Observed times ``(B,)``.
        event (Tensor): Event indicators ``(B,)`` (bool or 0/1); ``0`` means censored.

    Returns:
        Tensor: A scalar; ``0`` when there is no event in the batch.

    Examples
    --------
    >>> eta = torch.tensor([0.0, 0.0])
    >>> round(cox_ph_loss(eta, torch.tensor([1.0, 2.0]), torch.tensor([1, 0])).item(), 4)  # log 2
    0.6931
    """
    eta = log_risk.reshape(-1)
    time = time.reshape(-1).to(eta.dtype)
    event = event.reshape(-1).to(torch.bool)
    if not bool(event.any()):
        return eta.sum() * 0.0
    order = torch.argsort(time, descending=True, stable=True)
    eta_sorted, time_sorted = eta[order], time[order]
    log_cumulative = torch.logcumsumexp(eta_sorted, dim=0)
    # risk set of t_i: every j with t_j >= t_i, i.e. the first `count` entries in descending order
    ascending = torch.flip(time_sorted, dims=[0]).contiguous()
    count = len(time) - torch.searchsorted(ascending, time_sorted, right=False)
    denominator = log_cumulative[count - 1]
    events = event[order]
    return -(eta_sorted[events] - denominator[events]).mean()
