"""Training an ensemble of :class:`gnn.KGFusionNet`, each member early-stopped on its own split.

Member ``k`` uses seed ``random_state + k`` for its stratified inner train/validation split,
its initial weights and its batches (:func:`fusion.data.split.check_inner_split` refuses,
before any training, a cohort too small for the inner split).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from gnn import KGFusionNet
from gnn.training import FusionBatch, TrainConfig, TrainResult, train_model

__all__ = ["train_ensemble"]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


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
