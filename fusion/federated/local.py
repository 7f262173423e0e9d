"""A site's local training in one federated round: AdamW (FedAvg, FedProx) or DP-SGD (Opacus).

:func:`local_fit` runs :func:`gnn.train_model` for a few epochs on the site's training part,
keeping the weights of the best local validation loss; under FedProx the objective gains the
proximal term :math:`\\frac{\\mu}{2}\\lVert w - w_{global}\\rVert^2` (Li et al., 2020,
"Federated Optimization in Heterogeneous Networks"). :func:`dp_fit` is DP-SGD (Abadi et al.,
2016): Poisson-sampled batches, each patient's gradient clipped to ``clip`` and Gaussian noise of
``noise · clip`` added by Opacus' :class:`~opacus.optimizers.DPOptimizer`, the privacy spent
tracked by Opacus' RDP accountant. Per-patient gradients come from one backward pass per
patient (the sparse graph layers have no per-sample gradient rule), and batch-norm layers stay
in eval mode with their initial statistics, since their running averages would be an un-noised
release of patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fusion._exceptions import InvalidParameterError
from fusion.federated._extra import require
from fusion.federated.network import SharedNetwork, SiteData
from gnn import FusionBatch, TrainConfig, train_model

__all__ = ["DPSettings", "dp_fit", "evaluate_site", "local_fit"]

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass(frozen=True)
class DPSettings:
    """DP-SGD settings of a site.

    Parameters
    ----------
    noise : float
        Noise multiplier σ: the noise's standard deviation over the clipping norm (> 0).
    clip : float
        Per-patient gradient norm bound (default ``1.0``).
    delta : float
        δ of the (ε, δ) guarantee reported (default ``1e-5``, below 1/n for any site here).
    """

    noise: float
    clip: float = 1.0
    delta: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("noise", "clip", "delta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                msg = f"The {name!r} parameter of DPSettings must be a number > 0. Got {value!r} instead."
                raise InvalidParameterError(msg)


def _objective(model: nn.Module, batch: FusionBatch, target: torch.Tensor, loss_fn: Any) -> Any:
    """``model.objective`` (the loss with the network's extra terms) when it has one, else the loss."""
    objective = getattr(model, "objective", None)
    if objective is None:
        return loss_fn(model(*batch.inputs()), target)
    return objective(*batch.inputs(), target, loss_fn)


class _Proximal(nn.Module):
    """``model`` whose training objective adds FedProx's proximal term around its current weights."""

    def __init__(self, model: nn.Module, mu: float) -> None:
        super().__init__()
        self.model = model
        self.mu = mu
        self.anchor = [p.detach().clone() for p in model.parameters()]

    def forward(self, *inputs: Any) -> torch.Tensor:
        return self.model(*inputs)

    def objective(self, values: Any, observed: Any, present: Any, target: Any, loss_fn: Any) -> Any:
        loss = _objective(self.model, FusionBatch(values, observed, present), target, loss_fn)
        drift = sum(((p - a) ** 2).sum() for p, a in zip(self.model.parameters(), self.anchor))
        return loss + 0.5 * self.mu * drift


def _train_config(network: SharedNetwork, epochs: int, patience: int) -> TrainConfig:
    """The estimator's optimisation settings, for ``epochs`` epochs and ``patience``."""
    e = network.estimator
    return TrainConfig(
        lr=e.lr,
        weight_decay=e.weight_decay,
        max_epochs=epochs,
        patience=patience,
        batch_size=e.batch_size,
    )


def local_fit(
    model: nn.Module,
    network: SharedNetwork,
    site: SiteData,
    *,
    epochs: int,
    mu: float = 0.0,
    patience: int | None = None,
    seed: int = 0,
) -> float:
    """Train ``model`` in place for up to ``epochs`` on the site; FedProx when ``mu > 0``.

    The weights of the best local validation loss are kept (:func:`gnn.train_model`); training
    stops after ``patience`` epochs without improvement (default ``epochs``: no early stop).
    Returns the mean training loss of the last epoch.
    """
    trained = _Proximal(model, mu) if mu > 0 else model
    config = _train_config(network, epochs, epochs if patience is None else patience)
    result = train_model(trained, site.train, site.val, network.loss, config, seed=seed)
    return result.train_loss[-1]


def _per_patient_gradients(
    model: nn.Module,
    params: list[nn.Parameter],
    batch: FusionBatch,
    target: torch.Tensor,
    loss: Any,
) -> tuple[list[torch.Tensor], float]:
    """``(B, *p.shape)`` gradients of each patient's own loss (one backward pass per patient)
    and the batch's mean loss."""
    grads: list[list[torch.Tensor]] = [[] for _ in params]
    total = 0.0
    for i in range(len(batch)):
        one = torch.tensor([i])
        value = _objective(model, batch[one], target[one], loss)
        total += float(value.detach())
        found = torch.autograd.grad(value, params, allow_unused=True)
        for slot, p, g in zip(grads, params, found):
            slot.append(torch.zeros_like(p) if g is None else g)
    return [torch.stack(g) for g in grads], total / len(batch)


def dp_fit(
    model: nn.Module,
    network: SharedNetwork,
    site: SiteData,
    dp: DPSettings,
    accountant: Any,
    *,
    epochs: int,
    seed: int = 0,
) -> float:
    """DP-SGD on the site for ``epochs`` epochs, each of ``n / batch_size`` Poisson-sampled steps.

    ``accountant`` (an :class:`opacus.accountants.RDPAccountant`, one per site for the whole
    federation) is advanced by every step. Returns the mean loss of the sampled batches.
    """
    if network.task == "survival":
        msg = "dp_fit: DP-SGD clips each patient's gradient, but the Cox partial likelihood of a survival network couples the patients of a batch (a patient alone has no risk set); train survival models without dp."
        raise InvalidParameterError(msg)
    optimizers = require("opacus.optimizers")
    inputs, target = site.train
    n = len(inputs)
    batch_size = min(network.estimator.batch_size or n, n)
    rate = batch_size / n
    params = [p for p in model.parameters() if p.requires_grad]
    adamw = torch.optim.AdamW(
        params, lr=network.estimator.lr, weight_decay=network.estimator.weight_decay
    )
    generator = torch.Generator().manual_seed(seed)
    optimizer = optimizers.DPOptimizer(
        adamw, noise_multiplier=dp.noise, max_grad_norm=dp.clip,
        expected_batch_size=batch_size, generator=generator,
    )  # fmt: skip
    model.train()
    for norm in (m for m in model.modules() if isinstance(m, _NORMS)):
        norm.eval()
    losses = []
    for _ in range(epochs * max(n // batch_size, 1)):
        chosen = torch.nonzero(torch.rand(n, generator=generator) < rate).flatten()
        if len(chosen):
            grads, batch_loss = _per_patient_gradients(
                model, params, inputs[chosen], target[chosen], network.loss
            )
            losses.append(batch_loss)
        else:
            grads = [torch.zeros(1, *p.shape) for p in params]
        for p, g in zip(params, grads):
            p.grad_sample = g
        optimizer.step()
        optimizer.zero_grad()
        accountant.step(noise_multiplier=dp.noise, sample_rate=rate)
    for p in params:
        p.grad_sample = None
    model.eval()
    return float(sum(losses) / len(losses)) if losses else float("nan")


def evaluate_site(
    model: nn.Module, network: SharedNetwork, part: tuple[FusionBatch, torch.Tensor]
) -> tuple[float, dict[str, float]]:
    """Eval-mode loss and metrics of ``model`` on a part ``(inputs, target)``."""
    inputs, target = part
    model.eval()
    with torch.no_grad():
        output = model(*inputs.inputs())
    return float(network.loss(output, target)), network.metrics(output, target)
