"""Flower strategies for the federation, and an in-process simulation that drives them.

:func:`make_strategy` gives Flower's :class:`~flwr.server.strategy.FedAvg` or
:class:`~flwr.server.strategy.FedProx` over every site in every round. :func:`simulate` runs the
rounds in one process without Ray: each round it asks the strategy for its instructions, hands
them to the sites' clients through :class:`LoggedProxy` (a Flower client proxy that calls the
client directly and logs every message it returns), and lets the strategy aggregate, exactly the
steps of Flower's own server loop, but in a fixed site order so that a seed gives one result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from fusion._exceptions import InvalidParameterError
from fusion.federated._extra import require

__all__ = ["FederatedHistory", "LoggedProxy", "MessageRecord", "make_strategy", "simulate"]

_common = require("flwr.common")
_server = require("flwr.server")
_strategy = require("flwr.server.strategy")

Strategy = Literal["fedavg", "fedprox"]
EvaluateFn = Callable[[int, list[np.ndarray], dict[str, Any]], "tuple[float, dict] | None"]


def _weighted_mean(results: list[tuple[int, dict[str, Any]]]) -> dict[str, float]:
    """Patient-weighted mean of each metric over the sites; ``epsilon`` is the largest."""
    out = {}
    for key in sorted({k for _, metrics in results for k in metrics}):
        pairs = [(n, float(m[key])) for n, m in results if key in m]
        if key == "epsilon":
            out[key] = max(v for _, v in pairs)
        else:
            out[key] = sum(n * v for n, v in pairs) / max(sum(n for n, _ in pairs), 1)
    return out


def make_strategy(
    name: Strategy,
    n_sites: int,
    *,
    proximal_mu: float = 0.01,
    evaluate_fn: EvaluateFn | None = None,
    initial_weights: list[np.ndarray] | None = None,
) -> Any:
    """Flower's FedAvg or FedProx (``proximal_mu``), training and evaluating on all ``n_sites``.

    ``evaluate_fn(round, weights, config)`` scores the global model centrally (e.g. on held-out
    patients) after each round; ``initial_weights`` (default: asked of one site) start round 1.
    """
    if name not in ("fedavg", "fedprox"):
        msg = f"The 'strategy' parameter must be 'fedavg' or 'fedprox'. Got {name!r} instead."
        raise InvalidParameterError(msg)
    initial = None if initial_weights is None else _common.ndarrays_to_parameters(initial_weights)
    options: dict[str, Any] = {
        "fraction_fit": 1.0,
        "fraction_evaluate": 1.0,
        "min_fit_clients": n_sites,
        "min_evaluate_clients": n_sites,
        "min_available_clients": n_sites,
        "evaluate_fn": evaluate_fn,
        "on_fit_config_fn": lambda server_round: {"server_round": server_round},
        "initial_parameters": initial,
        "accept_failures": False,
        "fit_metrics_aggregation_fn": _weighted_mean,
        "evaluate_metrics_aggregation_fn": _weighted_mean,
    }
    if name == "fedprox":
        return _strategy.FedProx(**options, proximal_mu=proximal_mu)
    return _strategy.FedAvg(**options)


@dataclass(frozen=True)
class MessageRecord:
    """One message a client sent: its kind, the arrays' shapes and dtypes, the metrics, bytes."""

    round: int
    site: str
    kind: Literal["get_parameters", "fit", "evaluate"]
    shapes: list[tuple[int, ...]]
    dtypes: list[str]
    metrics: dict[str, Any]
    n_bytes: int


class LoggedProxy(_server.client_proxy.ClientProxy):
    """A Flower client proxy that calls a client in this process and logs what it returns."""

    def __init__(self, cid: str, client: Any, log: list[MessageRecord]) -> None:
        super().__init__(cid)
        self.client = client.to_client()
        self.log = log
        self.round = 0

    def _record(self, kind: str, parameters: Any, metrics: dict[str, Any]) -> None:
        arrays = [] if parameters is None else _common.parameters_to_ndarrays(parameters)
        size = 0 if parameters is None else sum(len(t) for t in parameters.tensors)
        self.log.append(
            MessageRecord(
                self.round, self.cid, kind,  # type: ignore[arg-type]
                [tuple(a.shape) for a in arrays], [str(a.dtype) for a in arrays],
                dict(metrics), size,
            )
        )  # fmt: skip

    def get_properties(self, ins: Any, timeout: float | None, group_id: int | None) -> Any:
        return self.client.get_properties(ins)

    def get_parameters(self, ins: Any, timeout: float | None, group_id: int | None) -> Any:
        res = self.client.get_parameters(ins)
        self._record("get_parameters", res.parameters, {})
        return res

    def fit(self, ins: Any, timeout: float | None, group_id: int | None) -> Any:
        res = self.client.fit(ins)
        self._record("fit", res.parameters, res.metrics | {"num_examples": res.num_examples})
        return res

    def evaluate(self, ins: Any, timeout: float | None, group_id: int | None) -> Any:
        res = self.client.evaluate(ins)
        metrics = res.metrics | {"loss": res.loss, "num_examples": res.num_examples}
        self._record("evaluate", None, metrics)
        return res

    def reconnect(self, ins: Any, timeout: float | None, group_id: int | None) -> Any:
        return _common.DisconnectRes(reason="")


@dataclass
class FederatedHistory:
    """What :func:`simulate` did, per round (round 0: the initial weights).

    Attributes
    ----------
    central : list of dict
        Per round, the central evaluation (``loss`` and metrics of ``evaluate_fn``).
    distributed : list of dict
        Per round from 1, the sites' evaluation of the global model (weighted means).
    fit : list of dict
        Per round from 1, the sites' training metrics (weighted means; ε the largest).
    bytes_up, bytes_down : list of int
        Per round from 1, the weights' bytes sent by all sites / to all sites.
    messages : list of MessageRecord
        Every message a client sent.
    weights : list of ndarray
        The final global weights.
    best_round : int
        The round whose global weights had the lowest validation loss over the sites (their
        patient-weighted mean): federated early stopping, chosen without the central test.
    best_weights : list of ndarray
        The global weights of ``best_round``.
    """

    central: list[dict[str, float]] = field(default_factory=list)
    distributed: list[dict[str, float]] = field(default_factory=list)
    fit: list[dict[str, float]] = field(default_factory=list)
    bytes_up: list[int] = field(default_factory=list)
    bytes_down: list[int] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    best_round: int = 0
    best_weights: list[np.ndarray] = field(default_factory=list)


def _central(strategy: Any, history: FederatedHistory, rnd: int, parameters: Any) -> None:
    result = strategy.evaluate(rnd, parameters)
    if result is not None:
        history.central.append({"loss": float(result[0]), **result[1]})


def simulate(clients: Mapping[str, Any], strategy: Any, rounds: int) -> FederatedHistory:
    """Run ``rounds`` rounds of ``strategy`` over in-process ``clients`` (site name → client).

    Raises
    ------
    InvalidParameterError
        ``rounds`` is not a positive int, or fewer than 2 clients are given.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        msg = f"The 'rounds' parameter of simulate must be an int >= 1. Got {rounds!r} instead."
        raise InvalidParameterError(msg)
    if len(clients) < 2:
        msg = f"simulate needs at least 2 sites; got {len(clients)}."
        raise InvalidParameterError(msg)
    history = FederatedHistory()
    manager = _server.SimpleClientManager()
    proxies = {}
    for name, client in clients.items():
        proxies[name] = LoggedProxy(name, client, history.messages)
        manager.register(proxies[name])
    parameters = strategy.initialize_parameters(manager)
    if parameters is None:
        first = proxies[min(proxies)]
        parameters = first.get_parameters(_common.GetParametersIns(config={}), None, 0).parameters
    _central(strategy, history, 0, parameters)
    for rnd in range(1, rounds + 1):
        for proxy in proxies.values():
            proxy.round = rnd
        instructions = sorted(strategy.configure_fit(rnd, parameters, manager), key=_cid)
        results = [(proxy, proxy.fit(ins, None, rnd)) for proxy, ins in instructions]
        history.bytes_down.append(
            sum(len(t) for _, ins in instructions for t in ins.parameters.tensors)
        )
        history.bytes_up.append(sum(len(t) for _, res in results for t in res.parameters.tensors))
        parameters, fit_metrics = strategy.aggregate_fit(rnd, results, [])
        history.fit.append(dict(fit_metrics))
        _central(strategy, history, rnd, parameters)
        asked = sorted(strategy.configure_evaluate(rnd, parameters, manager), key=_cid)
        evaluated = [(proxy, proxy.evaluate(ins, None, rnd)) for proxy, ins in asked]
        loss, metrics = strategy.aggregate_evaluate(rnd, evaluated, [])
        history.distributed.append({"loss": float(loss), **metrics})
        if rnd == 1 or loss < history.distributed[history.best_round - 1]["loss"]:
            history.best_round = rnd
            history.best_weights = _common.parameters_to_ndarrays(parameters)
    history.weights = _common.parameters_to_ndarrays(parameters)
    return history


def _cid(pair: tuple[Any, Any]) -> str:
    return pair[0].cid
