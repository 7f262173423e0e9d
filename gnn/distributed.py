"""Distributed data-parallel training on :mod:`torch.distributed` (``gloo`` on CPU, ``nccl`` on GPU).

:func:`~gnn.train_model` trains data-parallel whenever a process group is initialised
(:func:`init_distributed` does it from the environment ``torchrun`` sets). Every rank holds the
whole training part and draws the same patient order from the same seed; each global batch is
split into ``world_size`` contiguous shards (:func:`shard`), rank ``r`` computing the loss of
shard ``r``. :func:`data_parallel` wraps the training objective in
:class:`~torch.nn.parallel.DistributedDataParallel`, which averages the gradients over the ranks;
each rank's loss is scaled by ``world_size · |shard| / |batch|`` so that the average is the
gradient of the mean loss over the global batch, even when the shards differ by a patient.
:func:`synced_batch_norm` makes the batch-norm layers standardise with the statistics of the
whole global batch (torch's :class:`~torch.nn.SyncBatchNorm` runs on GPUs only; this one on
any backend). Losses that are means over patients (cross-entropy) then give the 1-process
model's steps, to float rounding; the Cox loss's risk sets and the per-source auxiliary means of
:meth:`~gnn.KGFusionNet.objective` are those of each rank's shard, and dropout masks differ
by rank (each rank seeds ``seed + rank``): the same seed gives the same model for a fixed world
size. Validation is sharded too, and the ranks' outputs gathered (:func:`gather_rows`), so all
ranks compute the same validation loss, of the whole validation part, and stop together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from gnn.batch import NORM_LAYERS

__all__ = [
    "SyncedBatchNorm",
    "all_reduce_sum",
    "data_parallel",
    "gather_rows",
    "init_distributed",
    "is_main_process",
    "main_process_first",
    "shard",
    "synced_batch_norm",
    "world",
]


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised process group; ``(0, 1)`` without one.

    Examples
    --------
    >>> world()  # no process group in a plain process
    (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """Whether this process is rank 0 (or not distributed): the one that writes files."""
    return world()[0] == 0


def init_distributed(device: torch.device) -> bool:
    """Initialise the default process group from ``torchrun``'s environment, if it set one.

    Does nothing unless ``WORLD_SIZE`` is above 1 and no group exists yet. The backend is
    ``nccl`` for a CUDA ``device`` (each process on the GPU of its ``LOCAL_RANK``), else
    ``gloo``; rendezvous (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``) is torchrun's, so
    multi-node runs need only torchrun's ``--nnodes`` / ``--rdzv-*`` options.

    Returns
    -------
    bool
        Whether this call initialised the group (the caller then ends it with
        :func:`torch.distributed.destroy_process_group`).

    Examples
    --------
    >>> init_distributed(torch.device("cpu"))  # not started by torchrun
    False
    """
    if dist.is_initialized() or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return True


@contextmanager
def main_process_first() -> Iterator[None]:
    """Run the ``with`` block on rank 0 first, then on the other ranks (all at once): for work
    that fills a cache (a knowledge graph's) that the others then read. Without a process group,
    just the block."""
    rank, world_size = world()
    if world_size > 1 and rank > 0:
        dist.barrier()
    yield
    if world_size > 1 and rank == 0:
        dist.barrier()


def shard(index: Tensor, rank: int, world_size: int) -> Tensor:
    """Rank ``rank``'s part of the global batch ``index``: the ``rank``-th of ``world_size``
    contiguous, near-equal pieces (sizes differ by at most one).

    Examples
    --------
    >>> batch = torch.arange(5)
    >>> shard(batch, 0, 2).tolist(), shard(batch, 1, 2).tolist()
    ([0, 1, 2], [3, 4])
    """
    return index.tensor_split(world_size)[rank]


def gather_rows(part: Tensor) -> Tensor:
    """Every rank's ``part`` (rows may differ in number), concatenated in rank order.

    Without a process group, ``part`` itself. Not differentiable (for evaluation).
    """
    world_size = world()[1]
    if world_size == 1:
        return part
    counts = [torch.zeros(1, dtype=torch.long, device=part.device) for _ in range(world_size)]
    dist.all_gather(counts, torch.tensor([part.shape[0]], device=part.device))
    sizes = [int(c) for c in counts]
    padded = part.new_zeros((max(sizes), *part.shape[1:]))
    padded[: part.shape[0]] = part
    pieces = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(pieces, padded)
    return torch.cat([piece[:size] for piece, size in zip(pieces, sizes)])


def all_reduce_sum(value: float, device: torch.device) -> float:
    """The sum of ``value`` over the ranks (``value`` itself without a process group)."""
    if world()[1] == 1:
        return value
    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return float(total)


class _AllReduceSum(torch.autograd.Function):
    """The sum of a tensor over the ranks, differentiable: the gradient of each rank's input
    is the sum of every rank's output gradient."""

    @staticmethod
    def forward(ctx: Any, tensor: Tensor) -> Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


class SyncedBatchNorm(nn.Module):
    """A batch-norm layer that, in training under a process group, standardises with the
    statistics of the whole global batch (every rank's shard), differentiably.

    Wraps an existing :class:`~torch.nn.BatchNorm1d` (2d, 3d) and uses its parameters and
    running statistics: the running mean and (unbiased) variance are updated exactly as the
    wrapped layer would update them on the global batch (``momentum``, or the cumulative average
    when ``momentum`` is ``None``). In eval mode, or without a process group, it is the
    wrapped layer.

    Args:
        norm (nn.modules.batchnorm._BatchNorm): The layer to synchronise.

    Shapes:
        - **input:** ``(B, C, *)``, as the wrapped layer
        - **output:** same shape
    """

    def __init__(self, norm: nn.Module) -> None:
        super().__init__()
        self.norm = norm

    def forward(self, x: Tensor) -> Tensor:
        norm = self.norm
        if not (self.training and norm.track_running_stats and world()[1] > 1):
            return norm(x)
        dims = [0, *range(2, x.dim())]
        count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device)
        total = _AllReduceSum.apply(torch.cat([x.sum(dims), count]))
        n = total[-1]
        mean = total[:-1] / n
        shape = [1, -1] + [1] * (x.dim() - 2)
        centred = x - mean.view(shape)
        var = _AllReduceSum.apply((centred * centred).sum(dims)) / n
        y = centred / torch.sqrt(var + norm.eps).view(shape)
        if norm.affine:
            y = y * norm.weight.view(shape) + norm.bias.view(shape)
        self._update_running(mean.detach(), var.detach() * n / (n - 1))
        return y

    def _update_running(self, mean: Tensor, unbiased_var: Tensor) -> None:
        norm = self.norm
        with torch.no_grad():
            norm.num_batches_tracked += 1
            factor = (
                1.0 / float(norm.num_batches_tracked) if norm.momentum is None else norm.momentum
            )
            norm.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
            norm.running_var.mul_(1 - factor).add_(unbiased_var, alpha=factor)


@contextmanager
def synced_batch_norm(model: nn.Module) -> Iterator[nn.Module]:
    """Within the block, every batch-norm layer of ``model`` is a :class:`SyncedBatchNorm`
    around it (the same parameters and buffers); on exit the layers are put back.

    Without a process group the model is left as it is.
    """
    if world()[1] == 1:
        yield model
        return
    swapped = [
        (parent, name, child)
        for parent in list(model.modules())
        if not isinstance(parent, SyncedBatchNorm)  # already synchronised
        for name, child in parent.named_children()
        if isinstance(child, NORM_LAYERS)
    ]
    for parent, name, child in swapped:
        setattr(parent, name, SyncedBatchNorm(child))
    try:
        yield model
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def data_parallel(module: nn.Module) -> nn.Module:
    """``module`` wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` under a
    process group (gradients averaged over ranks, rank 0's initial weights broadcast), else
    ``module`` itself. Buffers are not broadcast: the synchronised batch norms keep them equal.
    """
    if world()[1] == 1:
        return module
    return DistributedDataParallel(module, forward_sync_buffers=False)
