"""The federation as separate processes: a Flower server and one client process per site.

:func:`serve` runs Flower's server loop with a strategy of :func:`make_strategy` on an address
and returns the global weights after the last round; :func:`connect` runs a site's
:class:`SiteClient` against it until the server ends the federation. Both use Flower's gRPC
transport (:func:`flwr.server.start_server`, :func:`flwr.client.start_client`, marked deprecated
by Flower since 1.13 in favour of its SuperLink / SuperNode deployment, and still shipped).
The server holds no patient data and no knowledge graph: it asks one site for the initial
weights, which every site builds identically from the same seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fusion.federated._extra import require

__all__ = ["connect", "serve"]


def serve(address: str, strategy: Any, rounds: int) -> tuple[Any, list[np.ndarray]]:
    """Run ``rounds`` rounds of ``strategy`` for the sites that connect to ``address``.

    Waits until the strategy's ``min_available_clients`` sites have connected. Returns
    Flower's :class:`~flwr.server.History` and the final global weights.
    """
    server_api = require("flwr.server")
    common = require("flwr.common")
    server = server_api.Server(client_manager=server_api.SimpleClientManager(), strategy=strategy)
    history = server_api.start_server(
        server_address=address, server=server, config=server_api.ServerConfig(num_rounds=rounds)
    )
    return history, common.parameters_to_ndarrays(server.parameters)


def connect(address: str, client: Any, max_wait: float = 120.0) -> None:
    """Run the site ``client`` (a :class:`SiteClient`) against the server at ``address``.

    Retries the connection for up to ``max_wait`` seconds (the server may start later) and
    returns when the server ends the federation.
    """
    client_api = require("flwr.client")
    client_api.start_client(
        server_address=address, client=client.to_client(), insecure=True, max_wait_time=max_wait
    )
