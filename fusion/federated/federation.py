"""A federation over one cohort split into sites, with held-out test patients, and its runs.

:func:`tcga_federation` groups a TCGA cohort's tissue-source sites into hospitals, holds out test
patients (in no site's training) and prepares each hospital's data and the shared network;
:meth:`Federation.run` trains it in one process with FedAvg or FedProx (optionally DP-SGD) and
scores the global model on the held-out patients after every round; :meth:`Federation.fit_alone`
trains one site on its own with the same local loop, for the "each site alone" comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from fusion.data.cohort import Cohort
from fusion.federated.local import DPSettings, evaluate_site, local_fit
from fusion.federated.network import (
    Estimator,
    SharedNetwork,
    SiteData,
    set_weights,
    shared_network,
    site_data,
    site_tensors,
)
from fusion.federated.sites import FederatedSplit, federated_split, group_sites, tissue_source_sites
from gnn import FusionBatch

__all__ = ["Federation", "tcga_federation"]


@dataclass(frozen=True)
class Federation:
    """The shared network, each site's data and the held-out test patients (own scaling)."""

    network: SharedNetwork
    sites: dict[str, SiteData]
    test: tuple[FusionBatch, torch.Tensor]
    split: FederatedSplit

    def summary(self) -> pd.DataFrame:
        """Per site and for the test set: patients, local training part, and each class's count
        (or the events, for survival)."""
        rows = {
            name: {"train": site.n_train, **self._counts(torch.cat([site.train[1], site.val[1]]))}
            for name, site in self.sites.items()
        }
        rows["test"] = {"train": 0, **self._counts(self.test[1])}
        return pd.DataFrame(rows).T

    def _counts(self, target: torch.Tensor) -> dict[str, int]:
        if self.network.classes is None:
            return {"patients": len(target), "events": int(target[:, 1].sum())}
        counts = np.bincount(target.numpy(), minlength=len(self.network.classes))
        return {
            "patients": len(target),
            **{str(c): int(k) for c, k in zip(self.network.classes, counts)},
        }

    def test_scores(self, weights: list[np.ndarray]) -> tuple[float, dict[str, float]]:
        """Loss and metrics of ``weights`` on the held-out test patients."""
        model = self.network.build(0)
        set_weights(model, weights)
        return evaluate_site(model, self.network, self.test)

    def run(
        self,
        strategy: str = "fedavg",
        rounds: int = 20,
        *,
        epochs: int = 1,
        proximal_mu: float = 0.01,
        dp: DPSettings | None = None,
        seed: int = 0,
    ):  # -> FederatedHistory (imported with Flower)
        """Simulate ``rounds`` rounds of ``strategy`` over the sites (see :func:`simulate`)."""
        from fusion.federated.client import SiteClient
        from fusion.federated.simulation import make_strategy, simulate

        clients = {
            name: SiteClient(self.network, site, epochs=epochs, dp=dp, seed=seed)
            for name, site in self.sites.items()
        }
        chosen = make_strategy(
            strategy,  # type: ignore[arg-type]
            len(clients),
            proximal_mu=proximal_mu,
            evaluate_fn=lambda rnd, weights, config: self.test_scores(weights),
        )
        return simulate(clients, chosen, rounds)

    def fit_alone(self, site: SiteData, seed: int = 0) -> tuple[float, dict[str, float]]:
        """Train on ``site`` alone (one of :attr:`sites`, or a pooled site for the centralised
        reference) with the estimator's ``max_epochs`` and ``patience``, early-stopped on its
        validation part; the held-out test loss and metrics."""
        model = self.network.build(seed)
        e = self.network.estimator
        local_fit(model, self.network, site, epochs=e.max_epochs, patience=e.patience, seed=seed)
        return evaluate_site(model, self.network, self.test)


def tcga_federation(
    estimator: Estimator,
    cohort: Cohort,
    n_sites: int = 5,
    *,
    test_size: float = 0.25,
    val_size: float = 0.2,
    seed: int = 0,
) -> Federation:
    """A federation of ``n_sites`` hospitals of a TCGA cohort's tissue-source sites.

    Sites are grouped by :func:`group_sites`; ``test_size`` of the patients (stratified, seeded)
    are held out; each hospital's remaining patients are standardised on their own statistics
    and split into local training and validation parts of ``val_size``; the test patients are
    standardised on theirs, as a further hospital would be.
    """
    groups = group_sites(tissue_source_sites(cohort.samples), n_sites)
    split = federated_split(cohort, groups, test_size, seed)
    parts = {name: cohort.subset(ids) for name, ids in split.sites.items()}
    network = shared_network(estimator, next(iter(parts.values())))
    sites = {name: site_data(network, part, name, val_size, seed) for name, part in parts.items()}
    test = site_tensors(network, cohort.subset(split.test))
    return Federation(network, sites, test, split)
