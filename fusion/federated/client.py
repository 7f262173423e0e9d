"""A hospital as a Flower client: it holds its patients and sends back only model weights.

:class:`SiteClient` is a :class:`flwr.client.NumPyClient`. ``fit`` loads the global weights,
trains locally (:func:`~fusion.federated.local.local_fit`, FedProx's ``proximal_mu`` from the
server's instructions, or DP-SGD) and returns the new weights, its number of training patients
and scalar metrics; ``evaluate`` returns the global model's loss and metrics on its local
validation part. No array with a patient dimension ever leaves it: the weights have the model's
shapes, the metrics are numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fusion.federated._extra import require
from fusion.federated.local import DPSettings, dp_fit, evaluate_site, local_fit
from fusion.federated.network import SharedNetwork, SiteData, get_weights, set_weights

__all__ = ["SiteClient"]

_flwr_client = require("flwr.client")


class SiteClient(_flwr_client.NumPyClient):
    """One site of a federation over ``network``.

    Parameters
    ----------
    network : SharedNetwork
        The architecture every site builds (:func:`~fusion.federated.shared_network`).
    site : SiteData
        This site's patients (:func:`~fusion.federated.site_data`).
    epochs : int
        Local epochs per round (default ``1``).
    dp : DPSettings, optional
        Train with DP-SGD (default: plain AdamW).
    seed : int
        Seed of the initial weights (the same at every site) and of the local training.
    """

    def __init__(
        self,
        network: SharedNetwork,
        site: SiteData,
        *,
        epochs: int = 1,
        dp: DPSettings | None = None,
        seed: int = 0,
    ) -> None:
        self.network = network
        self.site = site
        self.epochs = epochs
        self.dp = dp
        self.seed = seed
        self.model = network.build(seed)
        self.accountant = require("opacus.accountants").RDPAccountant() if dp else None

    def get_parameters(self, config: dict[str, Any]) -> list[np.ndarray]:
        """The current weights (before any round: the initial weights of ``seed``)."""
        return get_weights(self.model)

    def epsilon(self) -> float:
        """ε spent so far at this site's δ under DP-SGD (0 before any step); NaN without DP."""
        if self.dp is None:
            return float("nan")
        if not self.accountant.history:
            return 0.0
        return float(self.accountant.get_epsilon(delta=self.dp.delta))

    def fit(
        self, parameters: list[np.ndarray], config: dict[str, Any]
    ) -> tuple[list[np.ndarray], int, dict[str, float]]:
        """Train locally from the global ``parameters``; the new weights, ``n``, metrics."""
        set_weights(self.model, parameters)
        seed = self.seed + int(config.get("server_round", 0))
        if self.dp is None:
            mu = float(config.get("proximal_mu", 0.0))
            loss = local_fit(
                self.model, self.network, self.site, epochs=self.epochs, mu=mu, seed=seed
            )
            metrics = {"train_loss": loss}
        else:
            loss = dp_fit(
                self.model, self.network, self.site, self.dp, self.accountant,
                epochs=self.epochs, seed=seed,
            )  # fmt: skip
            metrics = {"train_loss": loss, "epsilon": self.epsilon()}
        return get_weights(self.model), self.site.n_train, metrics

    def evaluate(
        self, parameters: list[np.ndarray], config: dict[str, Any]
    ) -> tuple[float, int, dict[str, float]]:
        """The global ``parameters``' loss and metrics on the local validation part."""
        set_weights(self.model, parameters)
        loss, metrics = evaluate_site(self.model, self.network, self.site.val)
        return loss, len(self.site.val[0]), metrics
