"""The network every site builds, each site's tensors, and weights as arrays.

:func:`shared_network` derives the architecture from an (unfitted) KG fusion estimator, the
public knowledge graph and the feature panel: linking and pruning read feature names only, never
values, so every site that holds the same panel builds the same graph, and with the same seed the
same initial weights. :func:`site_data` standardises a site's patients with statistics of that
site alone (no data statistics leave a site) and splits them into a local training and
validation part. :func:`get_weights` / :func:`set_weights` are the model's state as the list of
arrays that travels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from fusion._exceptions import AlignmentError, InvalidParameterError
from fusion.data.cohort import Cohort
from fusion.data.preprocess import ModalityScaler
from fusion.data.split import check_inner_split
from fusion.models import KGFusionClassifier, KGFusionSurvival, cohort_batch, validate_params
from fusion.models.checkpoint import NETWORKS
from fusion.models.metrics import checked_survival, classification_metrics, concordance_index
from gnn import FusionBatch, RelationGraph, cox_ph_loss

__all__ = [
    "SharedNetwork",
    "SiteData",
    "get_weights",
    "set_weights",
    "shared_network",
    "site_data",
    "site_tensors",
]

Estimator = KGFusionClassifier | KGFusionSurvival


@dataclass(frozen=True)
class SharedNetwork:
    """The architecture shared by every site: pruned graph, feature positions, configuration.

    Attributes
    ----------
    estimator : KGFusionClassifier or KGFusionSurvival
        The unfitted estimator whose parameters define the network and the optimisation.
    graph : RelationGraph
        The pruned knowledge graph.
    feature_nodes : dict of str to Tensor
        Per modality, the graph position of each feature (-1 unlinked).
    features : dict of str to Index
        The feature panel, per modality, in input order.
    classes : ndarray or None
        The classes (output columns) of a classifier; ``None`` for survival.
    """

    estimator: Estimator
    graph: RelationGraph
    feature_nodes: dict[str, torch.Tensor]
    features: dict[str, pd.Index]
    config: Any
    classes: np.ndarray | None

    @property
    def task(self) -> Literal["classification", "survival"]:
        """``"classification"`` or ``"survival"``."""
        return "survival" if self.classes is None else "classification"

    def build(self, seed: int) -> nn.Module:
        """A new network with the initial weights of ``seed`` (the same at every site)."""
        torch.manual_seed(seed)
        network = NETWORKS[self.estimator.architecture][0]
        out_channels = 1 if self.classes is None else len(self.classes)
        return network(self.graph, self.feature_nodes, out_channels, self.config)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of class logits, or the Cox partial likelihood of log-risks."""
        if self.classes is None:
            return cox_ph_loss(output[:, 0], target[:, 0], target[:, 1])
        return nn.functional.cross_entropy(output, target)

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """``auc`` and ``acc`` of a classifier's logits, or the ``c_index`` of log-risks."""
        if self.classes is None:
            table = target.numpy()
            return {"c_index": concordance_index(table[:, 0], table[:, 1], output[:, 0].numpy())}
        proba = torch.softmax(output, dim=-1).numpy()
        scores = classification_metrics(self.classes[target.numpy()], proba, self.classes)
        return {"auc": scores["auc"], "acc": scores["acc"]}


def shared_network(estimator: Estimator, panel: Cohort) -> SharedNetwork:
    """The network of ``estimator``'s parameters over its KG and the feature panel of ``panel``.

    Only ``panel``'s feature names (and its label's classes) are read: the graph is linked and
    pruned from names, so any site's cohort of the same panel gives the same network.

    Raises
    ------
    InvalidParameterError
        ``estimator`` is not an unfitted KG fusion estimator, or a parameter is invalid.
    """
    if not isinstance(estimator, (KGFusionClassifier, KGFusionSurvival)):
        msg = f"shared_network: estimator must be a KGFusionClassifier or KGFusionSurvival. Got {type(estimator).__name__} instead."
        raise InvalidParameterError(msg)
    validate_params(estimator)
    if estimator.control == "random_masks":
        msg = "shared_network: control='random_masks' is not supported in federated training."
        raise InvalidParameterError(msg)
    owner = type(estimator).__name__
    fitted = estimator.fit_graph(panel)
    classes = None
    if isinstance(estimator, KGFusionClassifier):
        if panel.labels is None:
            msg = f"shared_network: a {owner} needs a labelled cohort; this one has none."
            raise AlignmentError(msg)
        classes = np.asarray(panel.labels.cat.categories, dtype=object)
    return SharedNetwork(
        estimator,
        fitted.graph,
        fitted.feature_nodes,
        {m: panel[m].columns for m in panel},
        estimator.net_config(fitted.use_graph),
        classes,
    )


@dataclass(frozen=True)
class SiteData:
    """One site's standardised patients, split into a local training and validation part."""

    name: str
    train: tuple[FusionBatch, torch.Tensor]
    val: tuple[FusionBatch, torch.Tensor]

    @property
    def n_train(self) -> int:
        """Patients of the local training part."""
        return len(self.train[0])


def _targets(network: SharedNetwork, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
    """The target tensor and the strata of the local split (class codes or event status)."""
    if network.classes is None:
        survival = checked_survival(cohort, "site_data")
        table = survival[["time", "event"]].to_numpy(dtype=np.float32)
        return torch.from_numpy(table), survival["event"].to_numpy()
    labels = cohort.labels
    if labels is None or not labels.cat.categories.equals(pd.Index(network.classes)):
        msg = (
            f"site_data: the site's labels must have the network's classes {list(network.classes)}."
        )
        raise AlignmentError(msg)
    codes = labels.cat.codes.to_numpy().astype(np.int64)
    return torch.from_numpy(codes), codes


def site_tensors(network: SharedNetwork, cohort: Cohort) -> tuple[FusionBatch, torch.Tensor]:
    """A site's inputs, standardised on the site's own statistics, and targets.

    Raises
    ------
    AlignmentError
        The site's feature panel or classes differ from the network's.
    """
    for modality, columns in network.features.items():
        if modality not in cohort or not cohort[modality].columns.equals(columns):
            msg = f"site_tensors: the site's cohort does not have the network's feature panel of modality {modality!r}."
            raise AlignmentError(msg)
    target, _ = _targets(network, cohort)
    return cohort_batch(ModalityScaler().fit_transform(cohort), network.features), target


def site_data(
    network: SharedNetwork, cohort: Cohort, name: str, val_size: float = 0.2, seed: int = 0
) -> SiteData:
    """A site's :func:`site_tensors`, split stratified into a local training and validation part.

    Raises
    ------
    SplitError
        The site is too small for a stratified split of ``val_size``.
    AlignmentError
        The site's feature panel or classes differ from the network's.
    """
    batch, target = site_tensors(network, cohort)
    _, strata = _targets(network, cohort)
    check_inner_split(strata, val_size, f"site {name!r}")
    inner, val = train_test_split(
        np.arange(len(strata)), test_size=val_size, random_state=seed, stratify=strata
    )
    parts = [torch.from_numpy(np.sort(ids)) for ids in (inner, val)]
    return SiteData(name, *[(batch[ids], target[ids]) for ids in parts])


def get_weights(model: nn.Module) -> list[np.ndarray]:
    """The model's state (parameters and buffers) as arrays, in ``state_dict`` order."""
    return [t.detach().cpu().numpy().copy() for t in model.state_dict().values()]


def set_weights(model: nn.Module, arrays: Sequence[np.ndarray]) -> None:
    """Load arrays of :func:`get_weights`' layout into ``model`` (dtype of each entry kept).

    Raises
    ------
    AlignmentError
        The arrays' number or shapes differ from the model's state.
    """
    state = model.state_dict()
    if len(arrays) != len(state):
        msg = f"set_weights: {len(arrays)} arrays for a model state of {len(state)} entries."
        raise AlignmentError(msg)
    new = {}
    for (key, current), array in zip(state.items(), arrays):
        if tuple(array.shape) != tuple(current.shape):
            msg = f"set_weights: entry {key!r} has shape {tuple(current.shape)}; got {tuple(array.shape)}."
            raise AlignmentError(msg)
        new[key] = torch.as_tensor(np.asarray(array)).to(current.dtype)
    model.load_state_dict(new)
