"""Training loop of :class:`~gnn.KGFusionNet`: mini-batches, early stopping, full determinism.

The loop knows tensors only (no cohorts): :class:`FusionBatch` holds the per-modality inputs of
a set of patients and :func:`train_model` fits a model on one part and early-stops on another.
Memory grows with the batch, not the cohort: training steps, validation
(:func:`batched_outputs`) and :func:`refresh_norm_statistics` stream the patients through the
shared graph a batch at a time. Under an initialised :mod:`torch.distributed` process group the
loop trains data-parallel (:mod:`gnn.distributed`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gnn._exceptions import InvalidParameterError
from gnn.batch import FusionBatch, batched_outputs, refresh_norm_statistics
from gnn.distributed import (
    all_reduce_sum,
    data_parallel,
    gather_rows,
    shard,
    synced_batch_norm,
    world,
)

__all__ = [
    "FusionBatch",
    "TrainConfig",
    "TrainResult",
    "batched_outputs",
    "refresh_norm_statistics",
    "train_epoch",
    "train_model",
]

logger = logging.getLogger(__name__)

LossFunction = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of :func:`train_model`.

    Parameters
    ----------
    lr : float
        AdamW learning rate (default: ``5e-3``).
    weight_decay : float
        AdamW weight decay (default: ``1e-2``).
    max_epochs : int
        Maximum passes over the training part (default: ``100``).
    patience : int
        Stop after this many epochs without a better validation loss (default: ``15``).
    batch_size : int
        Patients per step, at least: each epoch splits the patients into ``n // batch_size``
        near-equal batches; ``0`` for full batch (default: ``64``). Under data-parallel
        training this is the global batch, split over the processes.
    eval_batch_size : int
        Patients per forward pass of the validation; ``0`` for all at once. The validation loss
        does not depend on it (default: ``256``).
    precise_norm : bool
        Before each validation pass, recompute the batch-norm layers' statistics on the
        training part with the current weights (:func:`~gnn.refresh_norm_statistics`; one
        more forward pass over it per epoch). Otherwise the eval-mode validation loss
        standardises with running averages that lag behind the weights, by many steps when an
        epoch is one or two steps (a few dozen patients), and early stopping compares weights
        under stale statistics (default: ``False``).

    Examples
    --------
    >>> TrainConfig(max_epochs=20, batch_size=0).to_dict()["max_epochs"]
    20
    """

    lr: float = 5e-3
    weight_decay: float = 1e-2
    max_epochs: int = 100
    patience: int = 15
    batch_size: int = 64
    eval_batch_size: int = 256
    precise_norm: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


@dataclass
class TrainResult:
    """What :func:`train_model` did: best epoch, its validation loss, the loss curves.

    Examples
    --------
    >>> result = TrainResult(best_epoch=1, best_val_loss=0.5, val_loss=[0.7, 0.5, 0.6])
    >>> result.val_loss[result.best_epoch] == result.best_val_loss
    True
    """

    best_epoch: int
    best_val_loss: float
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def _evaluate(
    model: nn.Module, val: tuple[FusionBatch, Tensor], loss_fn: LossFunction, batch_size: int
) -> float:
    """``loss_fn`` of the outputs on the whole of ``val``; under a process group each rank
    computes its shard's outputs and all get every rank's, hence the same loss."""
    inputs, target = val
    rank, world_size = world()
    mine = shard(torch.arange(len(inputs), device=target.device), rank, world_size)
    outputs = gather_rows(batched_outputs(model, inputs[mine], batch_size))
    return float(loss_fn(outputs, target))


class _Objective(nn.Module):
    """The training loss of ``model`` as a module's forward, for
    :class:`~torch.nn.parallel.DistributedDataParallel` (which syncs gradients of forwards)."""

    def __init__(self, model: nn.Module, loss_fn: LossFunction) -> None:
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, batch: FusionBatch, target: Tensor) -> Tensor:
        return _training_loss(self.model, batch, target, self.loss_fn)


def _training_loss(
    model: nn.Module, batch: FusionBatch, target: Tensor, loss_fn: LossFunction
) -> Tensor:
    """``model.objective(...)`` when the model defines one (extra terms), else ``loss_fn`` of its output."""
    objective = getattr(model, "objective", None)
    if objective is None:
        return loss_fn(model(*batch.inputs()), target)
    return objective(*batch.inputs(), target, loss_fn)


def train_model(
    model: nn.Module,
    train: tuple[FusionBatch, Tensor],
    val: tuple[FusionBatch, Tensor],
    loss_fn: LossFunction,
    config: TrainConfig,
    *,
    seed: int = 0,
    progress: bool = False,
    desc: str = "training",
) -> TrainResult:
    """Fit ``model`` on ``train`` with AdamW, keeping the weights of the best ``val`` loss.

    The training loss is ``model.objective(values, observed, present, target, loss_fn)`` when
    the model defines it (as :class:`~gnn.KGFusionNet` does), else ``loss_fn`` of its output;
    the validation loss is always ``loss_fn`` of the output.

    Batches are drawn with a generator seeded by ``seed``; together with a model built after
    ``torch.manual_seed`` this makes two runs on CPU give identical weights. Each step holds
    one batch's node states, validation streams ``config.eval_batch_size`` patients at a time
    (its loss is that of the whole validation part); a Cox loss's risk sets are those of the
    batch (every patient of the batch still at risk at an event time), an approximation of the
    cohort's that grows coarser as batches shrink. Under an initialised process group the
    training is data-parallel (:mod:`gnn.distributed`): each batch split over the ranks,
    gradients averaged, the same validation loss on every rank. On return the model
    holds the best weights and is in eval mode. Its batch-norm statistics are those of the best
    epoch's validation: running averages, or with :attr:`TrainConfig.precise_norm` the
    training part's at those weights. (On ROSMAP, refreshing them after the loop or before every
    validation changed the inner-CV AUC by at most 0.007 and made a fit 25-30% slower; fits on
    30 mixOmics patients, one step per epoch, are another matter: docs/benchmarks.md.)

    Parameters
    ----------
    model : nn.Module
        Called as ``model(values, observed, present)``.
    train, val : tuple of (FusionBatch, Tensor)
        Inputs and targets (class indices, or ``(B, 2)`` time/event for a Cox loss).
    loss_fn : callable
        ``loss_fn(output, target) -> scalar``.
    config : TrainConfig
        Optimisation settings.
    seed : int
        Seed of the batch order and of dropout (default: ``0``).
    progress : bool
        Show a progress bar over epochs (default: ``False``).
    desc : str
        Progress bar label.

    Examples
    --------
    >>> from gnn import KGFusionNet, RelationGraph
    >>> graph = RelationGraph(["g1", "g2", "T"], ["gene", "gene", "go_term"], ["r"],
    ...                       [torch.tensor([[0, 1], [2, 2]])])
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = KGFusionNet(graph, {"mRNA": torch.tensor([0, 1])}, out_channels=2)
    >>> x = torch.randn(32, 2)
    >>> batch = FusionBatch({"mRNA": x}, {"mRNA": torch.ones(32, 2, dtype=torch.bool)},
    ...                     torch.ones(32, 1, dtype=torch.bool))
    >>> y = (x[:, 0] > 0).long()
    >>> loss = torch.nn.functional.cross_entropy
    >>> result = train_model(net, (batch, y), (batch, y), loss, TrainConfig(max_epochs=5))
    >>> len(result.train_loss), 0 <= result.best_epoch < 5, net.training
    (5, True, False)
    """
    torch.manual_seed(seed + world()[0])
    generator = torch.Generator().manual_seed(seed)
    # foreach: one multi-tensor update per step instead of a loop over the parameters (the
    # same arithmetic; the loop's per-tensor overhead dominated steps of genome-wide models)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True
    )
    best = TrainResult(best_epoch=-1, best_val_loss=float("inf"))
    best_state = copy.deepcopy(model.state_dict())
    bar = tqdm(range(config.max_epochs), desc=desc, unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        loss = train_epoch(
            model, train, loss_fn, optimiser, batch_size=config.batch_size, generator=generator
        )
        best.train_loss.append(loss)
        if config.precise_norm:
            refresh_norm_statistics(model, train[0], config.eval_batch_size)
        val_loss = _evaluate(model, val, loss_fn, config.eval_batch_size)
        best.val_loss.append(val_loss)
        bar.set_postfix(train=f"{loss:.3f}", val=f"{val_loss:.3f}")
        if val_loss < best.best_val_loss - 1e-4:
            best.best_epoch, best.best_val_loss = epoch, val_loss
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best.best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    logger.debug("%s: best epoch %d, val loss %.4f", desc, best.best_epoch, best.best_val_loss)
    return best


def _batch_size(n: int, batch_size: int, world_size: int) -> int:
    """The smallest batch of an epoch of ``n`` patients; refused if it cannot be sharded."""
    size = n if batch_size <= 0 else min(batch_size, n)
    if size < world_size:
        msg = (
            f"train_epoch: batches of {size} patients cannot be split over {world_size} "
            "processes; use a batch_size (and a training part) of at least the world size."
        )
        raise InvalidParameterError(msg)
    return size


def train_epoch(
    model: nn.Module,
    train: tuple[FusionBatch, Tensor],
    loss_fn: LossFunction,
    optimiser: torch.optim.Optimizer,
    *,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over ``train`` in shuffled batches, one ``optimiser`` step per batch.

    The step of :func:`train_model` (which calls it once per epoch), for loops of one's own.
    The patients are split into ``n // batch_size`` near-equal batches (each of at least
    ``batch_size``; one batch if ``batch_size <= 0``) in the order of a permutation drawn from
    ``generator``. Under a process group (:mod:`gnn.distributed`) every rank draws the same
    permutation and computes the loss of its shard of each batch; the gradients are averaged,
    weighted so that each step is that of the whole batch's mean loss.

    Parameters
    ----------
    model : nn.Module
        Trained in place (left in training mode).
    train : tuple of (FusionBatch, Tensor)
        Inputs and targets.
    loss_fn : callable
        ``loss_fn(output, target) -> scalar``; the training loss is ``model.objective`` when
        the model defines one.
    optimiser : torch.optim.Optimizer
        Over ``model``'s parameters.
    batch_size : int
        Patients per batch, at least (``0``: full batch).
    generator : torch.Generator
        Draws the batch order (a CPU generator).

    Returns
    -------
    float
        The mean training loss over the epoch's patients (every rank's).

    Raises
    ------
    InvalidParameterError
        If a batch has fewer patients than there are processes.
    """
    inputs, target = train
    rank, world_size = world()
    n = len(inputs)
    size = _batch_size(n, batch_size, world_size)
    model.train()
    order = torch.randperm(n, generator=generator).to(target.device)
    total = 0.0
    with synced_batch_norm(model):
        objective = data_parallel(_Objective(model, loss_fn))
        for index in torch.tensor_split(order, max(n // size, 1)):  # near-equal, >= size each
            part = shard(index, rank, world_size)
            loss = objective(inputs[part], target[part])
            optimiser.zero_grad()
            # with the gradients averaged over ranks: the gradient of the whole batch's mean
            (loss * (world_size * len(part) / len(index))).backward()
            optimiser.step()
            total += float(loss.detach()) * len(part)
    return all_reduce_sum(total, target.device) / n
