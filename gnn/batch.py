"""Patients in batches: :class:`FusionBatch`, and forward passes that stream a cohort through
the shared graph a batch at a time (:func:`batched_outputs`, :func:`refresh_norm_statistics`),
so that memory grows with the batch, not with the cohort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gnn._exceptions import ShapeError

__all__ = ["NORM_LAYERS", "FusionBatch", "batched_outputs", "refresh_norm_statistics"]


@dataclass
class FusionBatch:
    """Inputs of :class:`~gnn.KGFusionNet` for ``B`` patients.

    Parameters
    ----------
    values : dict of str to Tensor
        Per modality, float ``(B, F_m)`` values, 0 where unobserved.
    observed : dict of str to Tensor
        Per modality, bool ``(B, F_m)``: the value was measured.
    present : Tensor
        Bool ``(B, M)``: the patient has the modality (modalities in ``values`` order).

    Examples
    --------
    >>> batch = FusionBatch({"mRNA": torch.zeros(5, 3)}, {"mRNA": torch.ones(5, 3, dtype=torch.bool)},
    ...                     torch.ones(5, 1, dtype=torch.bool))
    >>> len(batch), len(batch[torch.tensor([0, 2])])
    (5, 2)
    """

    values: dict[str, Tensor]
    observed: dict[str, Tensor]
    present: Tensor

    def __len__(self) -> int:
        return int(self.present.shape[0])

    def __getitem__(self, index: Tensor) -> FusionBatch:
        """The patients at the positions ``index`` (1-D integer tensor)."""
        # index_select copies whole rows (advanced indexing gathers element by element)
        return FusionBatch(
            {m: v.index_select(0, index) for m, v in self.values.items()},
            {m: o.index_select(0, index) for m, o in self.observed.items()},
            self.present.index_select(0, index),
        )

    def to(self, device: torch.device | str) -> FusionBatch:
        """Copy on ``device``."""
        return FusionBatch(
            {m: v.to(device) for m, v in self.values.items()},
            {m: o.to(device) for m, o in self.observed.items()},
            self.present.to(device),
        )

    def inputs(self) -> tuple[Mapping[str, Tensor], Mapping[str, Tensor], Tensor]:
        """``(values, observed, present)``, the arguments of the model's ``forward``."""
        return self.values, self.observed, self.present


#: The batch-norm layer classes whose statistics :func:`refresh_norm_statistics` recomputes.
NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def refresh_norm_statistics(model: nn.Module, inputs: FusionBatch, batch_size: int = 0) -> None:
    """Recompute the batch-norm layers' running statistics on ``inputs`` with the current weights.

    A running average of mini-batch statistics lags behind weights that are still moving, and
    eval-mode outputs standardised with it can be far from the training-mode ones: for a readout
    node whose score varies little over patients, a small lag is many standard deviations
    ("precise BN", Wu & Johnson, 2021, "Rethinking 'Batch' in BatchNorm"). Here the statistics
    are averaged over chunks of ``batch_size`` patients of ``inputs`` (all at once if ``<= 0``),
    the rest of the model in eval mode (no dropout). Leaves the model in eval mode; raises
    :class:`~gnn.ShapeError` (a ``ValueError``) if ``inputs`` holds no patient.
    :func:`~gnn.train_model` calls it before each validation pass under
    :attr:`~gnn.TrainConfig.precise_norm`; use it after a training loop of one's own and
    after loading weights; :func:`torch.optim.swa_utils.update_bn` does the same for models of
    one input.
    """
    n = len(inputs)
    if n == 0:
        msg = "refresh_norm_statistics needs at least one patient in inputs; got 0."
        raise ShapeError(msg)
    norms = [m for m in model.modules() if isinstance(m, NORM_LAYERS)]
    model.eval()
    if not norms:
        return
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the chunks
        norm.train()
    with torch.no_grad():
        for index in _chunks(n, batch_size, inputs.present.device, equal=True):
            model(*inputs[index].inputs())
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
        norm.eval()


def _chunks(n: int, size: int, device: torch.device, equal: bool = False) -> tuple[Tensor, ...]:
    """Positions ``0..n-1`` in consecutive chunks of ``size`` (all at once if ``size <= 0``);
    ``equal``: ``n // size`` near-equal chunks of at least ``size`` instead."""
    positions = torch.arange(n, device=device)
    size = n if size <= 0 else min(size, n)
    if equal:
        return positions.tensor_split(max(n // max(size, 1), 1))
    return positions.split(max(size, 1)) or (positions,)  # one empty chunk for no patient


def batched_outputs(
    model: nn.Module,
    inputs: FusionBatch,
    batch_size: int = 0,
    device: torch.device | str | None = None,
) -> Tensor:
    """The eval-mode outputs of ``model`` on ``inputs``, ``batch_size`` patients per forward pass.

    Without gradients, and with the whole cohort's outputs but only one batch's node states in
    memory at a time; with ``device`` (the model's), each batch is copied there in turn and
    ``inputs`` may stay on the CPU. Eval-mode outputs of one patient do not depend on the others, so the
    result is that of one pass over all patients (``batch_size <= 0``), to float rounding.
    Leaves the model in eval mode.

    Examples
    --------
    >>> class RowSum(nn.Module):
    ...     def forward(self, values, observed, present):
    ...         return values["m"].sum(dim=1, keepdim=True)
    >>> x = torch.arange(15.0).view(5, 3)
    >>> batch = FusionBatch({"m": x}, {"m": torch.ones(5, 3, dtype=torch.bool)},
    ...                     torch.ones(5, 1, dtype=torch.bool))
    >>> batched_outputs(RowSum(), batch, batch_size=2).squeeze(1).tolist()  # 3 passes: 2, 2, 1
    [3.0, 12.0, 21.0, 30.0, 39.0]
    """
    model.eval()
    outputs = []
    with torch.no_grad():
        for index in _chunks(len(inputs), batch_size, inputs.present.device):
            part = inputs[index] if device is None else inputs[index].to(device)
            outputs.append(model(*part.inputs()))
    return torch.cat(outputs)
