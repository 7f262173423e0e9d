"""``kgfusion federated``: federated training over a cohort's TCGA tissue-source sites (Flower).

``--role simulation`` (default) runs every site and the server in this process and scores the
global model on held-out test patients after each round; ``--role server`` and ``--role site``
run the server and one site as separate processes over gRPC (see docs/federated.md).
"""

from __future__ import annotations

import json
import logging
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from fusion.app._options import ERRORS, ConfigArg, fail

__all__ = ["federated"]


class Role(str, Enum):
    """Which part of the federation this process runs."""

    simulation = "simulation"
    server = "server"
    site = "site"


class StrategyName(str, Enum):
    """Flower's aggregation strategy."""

    fedavg = "fedavg"
    fedprox = "fedprox"


def _federation(run: Any, n_sites: int) -> Any:
    """The configured cohort's federation (KG, cohort, estimator from the run configuration)."""
    from fusion.app.estimators import is_kg_model, make_estimator
    from fusion.app.run import build_run_kg, read_run_cohort
    from fusion.federated.federation import tcga_federation

    if not is_kg_model(run.model.name):
        msg = f"model.name: federated training needs a kgfusion model; got {run.model.name!r}."
        raise typer.BadParameter(msg)
    kg = build_run_kg(run, progress=False)
    cohort = read_run_cohort(run.cohort, kg)
    estimator = make_estimator(run.model.name, run.model.params, kg)
    holdout = run.cohort.holdout
    options = {"test_size": holdout.test_size, "seed": holdout.seed} if holdout else {}
    return tcga_federation(estimator, cohort, n_sites, **options)


def _save(out: Path, rounds: dict[str, Any], weights: list[Any], keys: list[str]) -> None:
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    (out / "history.json").write_text(json.dumps(rounds, indent=1, default=float))
    np.savez(out / "weights.npz", **dict(zip(keys, weights)))
    typer.echo(f"wrote {out}/history.json and {out}/weights.npz")


def federated(
    config: ConfigArg,
    sites: Annotated[int, typer.Option(help="Hospitals grouped from the tissue-source sites.")] = 5,
    strategy: Annotated[StrategyName, typer.Option(help="Flower strategy.")] = StrategyName.fedavg,
    rounds: Annotated[int, typer.Option(min=1, help="Federated rounds.")] = 20,
    epochs: Annotated[int, typer.Option(min=1, help="Local epochs per round.")] = 1,
    mu: Annotated[float, typer.Option(help="FedProx proximal weight.")] = 0.01,
    dp_noise: Annotated[
        float | None, typer.Option(help="DP-SGD noise multiplier (default: no DP).")
    ] = None,
    dp_clip: Annotated[float, typer.Option(help="DP-SGD per-patient gradient norm bound.")] = 1.0,
    role: Annotated[Role, typer.Option(help="simulation, server or site.")] = Role.simulation,
    site: Annotated[str | None, typer.Option(help="The hospital (--role site), e.g. H2.")] = None,
    address: Annotated[str, typer.Option(help="Server address (server, site).")] = "127.0.0.1:8080",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Default OUTPUT/federated.")
    ] = None,
) -> None:
    """Train the configured kgfusion model federated over TCGA tissue-source sites.

    Sites are hospitals of tissue-source sites (the largest SITES-1 sites, then the rest pooled);
    test patients are held out (cohort.holdout, default 25 %); each site standardises its own
    data. Writes history.json (per round: test and site metrics, bytes) and weights.npz (the
    round of lowest validation loss over the sites; the server writes its last round's).

    Example:

      kgfusion federated brca.yaml --sites 5 --strategy fedprox --rounds 20
    """
    from fusion.app.config import RunConfig

    try:
        run = RunConfig.from_yaml(config)
        folder = out if out is not None else run.output / "federated"
        if role is Role.server:
            _serve(folder, sites, strategy.value, rounds, mu, address)
            return
        federation = _federation(run, sites)
        dp = _dp(dp_noise, dp_clip)
        if role is Role.site:
            _site(federation, site, epochs, dp, address)
            return
        typer.echo(federation.summary().to_string())
        history = federation.run(strategy.value, rounds, epochs=epochs, proximal_mu=mu, dp=dp)
    except ERRORS as error:
        raise fail(error) from None
    for rnd, scores in enumerate(history.central):
        typer.echo(f"round {rnd}: " + "  ".join(f"{k}={v:.3f}" for k, v in scores.items()))
    typer.echo(f"kept round {history.best_round} (lowest validation loss over the sites)")
    record = {
        "central": history.central, "distributed": history.distributed, "fit": history.fit,
        "bytes_up": history.bytes_up, "bytes_down": history.bytes_down,
        "best_round": history.best_round,
    }  # fmt: skip
    keys = list(federation.network.build(0).state_dict())
    _save(folder, record, history.best_weights, keys)


def _dp(noise: float | None, clip: float) -> Any:
    from fusion.federated.local import DPSettings

    return None if noise is None else DPSettings(noise, clip)


def _quiet_flower_twin() -> None:
    """Flower logs to its own console handler; keep its records from the root handler too."""
    logging.getLogger("flwr").propagate = False


def _serve(folder: Path, n_sites: int, strategy: str, rounds: int, mu: float, address: str) -> None:
    from fusion.federated.deploy import serve
    from fusion.federated.simulation import make_strategy

    _quiet_flower_twin()
    history, weights = serve(address, make_strategy(strategy, n_sites, proximal_mu=mu), rounds)
    record = {
        "distributed": history.metrics_distributed, "loss": history.losses_distributed,
        "fit": history.metrics_distributed_fit,
    }  # fmt: skip
    _save(folder, record, weights, [f"{i}" for i in range(len(weights))])


def _site(federation: Any, name: str | None, epochs: int, dp: Any, address: str) -> None:
    from fusion.federated.client import SiteClient
    from fusion.federated.deploy import connect

    if name not in federation.sites:
        raise typer.BadParameter(f"--site must be one of {sorted(federation.sites)}; got {name!r}.")
    client = SiteClient(federation.network, federation.sites[name], epochs=epochs, dp=dp)
    _quiet_flower_twin()
    connect(address, client)
    typer.echo(f"site {name}: federation finished")
