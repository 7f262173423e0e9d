"""Training an ensemble of :class:`gnn.KGFusionNet`, each member early-stopped on its own split.

Member ``k`` uses seed ``random_state + k`` for its stratified inner train/validation split,
its initial weights and its batches. :func:`check_inner_split` refuses, before any training, a
cohort too small for the inner split, naming ``val_size`` and the minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from fusion._exceptions import SplitError
from gnn import KGFusionNet
from gnn.training import FusionBatch, TrainConfig, TrainResult, train_model

__all__ = ["check_inner_split", "train_ensemble"]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _sizes(n: int, val_size: float) -> tuple[int, int]:
    """Held-out and training sizes of scikit-learn's split of ``n`` samples."""
    n_val = math.ceil(val_size * n)
    return n_val, math.floor((1.0 - val_size) * n)


def _minimum(n_strata: int, val_size: float) -> int:
    """The fewest samples whose split leaves ``n_strata`` samples on each side."""
    n = 2 * n_strata
    while min(_sizes(n, val_size)) < n_strata:
        n += 1
    return n


def check_inner_split(strata: np.ndarray, val_size: float, owner: str) -> None:
    """Raise :class:`~fusion.SplitError` when ``strata`` cannot be split with ``val_size``.

    A stratified split needs at least 2 samples in every stratum (class, or event status for
    survival) and at least one sample per stratum on each side.
    """
    values, counts = np.unique(strata, return_counts=True)
    n, k = len(strata), len(values)
    n_val, n_train = _sizes(n, val_size)
    what = f"{owner}.fit: the inner validation split (val_size={val_size}) of {n} patients"
    if counts.min() < 2:
        rare = [v.item() if isinstance(v, np.generic) else v for v in values[counts < 2]]
        msg = f"{what} is stratified and needs at least 2 patients per class; {rare} have 1."
        raise SplitError(msg)
    if min(n_val, n_train) < k:
        msg = (
            f"{what} holds out {n_val} and keeps {n_train}, fewer than its {k} classes: with "
            f"val_size={val_size} it needs at least {_minimum(k, val_size)} patients (and 2 per "
            "class); add patients or change val_size."
        )
        raise SplitError(msg)


def train_ensemble(
    batch: FusionBatch,
    target: torch.Tensor,
    strata: np.ndarray,
    build: Callable[[], KGFusionNet],
    loss: Loss,
    config: TrainConfig,
    *,
    n_ensemble: int,
    val_size: float,
    random_state: int,
    progress: bool = False,
) -> tuple[list[KGFusionNet], list[TrainResult]]:
    """Train ``n_ensemble`` members, each ``build()`` (on ``batch``'s device) under its seed.

    Returns the members and their training histories.
    """
    device = batch.present.device
    models, histories = [], []
    members = tqdm(range(n_ensemble), desc="ensemble", unit="model", disable=not progress)
    for k in members:
        seed = random_state + k
        inner, val = train_test_split(
            np.arange(len(strata)), test_size=val_size, random_state=seed, stratify=strata
        )
        torch.manual_seed(seed)
        net = build()
        index_in = torch.from_numpy(inner).to(device)
        index_val = torch.from_numpy(val).to(device)
        history = train_model(
            net,
            (batch[index_in], target[index_in]),
            (batch[index_val], target[index_val]),
            loss,
            config,
            seed=seed,
            progress=progress,
            desc=f"model {k + 1}/{n_ensemble}",
        )
        models.append(net)
        histories.append(history)
    return models, histories
