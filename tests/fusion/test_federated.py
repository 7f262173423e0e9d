"""Federated training (fusion.federated): sites, the shared network, Flower rounds, DP-SGD, and
what the sites send: only weights of the model's shapes and scalar metrics."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from typer.testing import CliRunner

pytest.importorskip("flwr")
pytest.importorskip("opacus")

from _cohorts import tiny_cohort, tiny_kg

from fusion import AlignmentError, CohortError, InvalidParameterError
from fusion.app.cli import app
from fusion.app.config import RunConfig
from fusion.federated import (
    DPSettings,
    SiteClient,
    evaluate_site,
    federated_split,
    get_weights,
    group_sites,
    local_fit,
    make_strategy,
    set_weights,
    shared_network,
    simulate,
    site_data,
    site_tensors,
    tissue_source_sites,
)
from fusion.models import KGFusionClassifier

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tcga_brca_er_federated.yaml"
SMALL = {"min_seeds": 2, "max_fraction": 1.0, "min_ic": 0.0, "batch_size": 16, "lr": 1e-2}


@pytest.fixture(scope="module")
def parts() -> dict:
    """120 patients: sites of 60 and 40, a test part of 20; the network from the first site."""
    torch.set_num_threads(1)
    cohort = tiny_cohort(120)
    ids = cohort.samples
    sites = {"s0": cohort.subset(ids[:60]), "s1": cohort.subset(ids[60:100])}
    network = shared_network(KGFusionClassifier(tiny_kg(), **SMALL), sites["s0"])
    return {
        "cohort": cohort,
        "network": network,
        "sites": {name: site_data(network, part, name) for name, part in sites.items()},
        "test": site_tensors(network, cohort.subset(ids[100:])),
    }


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def central(parts: dict):
    model = parts["network"].build(0)

    def evaluate(rnd: int, weights: list[np.ndarray], config: dict) -> tuple[float, dict]:
        set_weights(model, weights)
        return evaluate_site(model, parts["network"], parts["test"])

    return evaluate


def run(parts: dict, strategy: str, rounds: int, **client: object):
    clients = {n: SiteClient(parts["network"], s, **client) for n, s in parts["sites"].items()}
    chosen = make_strategy(strategy, len(clients), proximal_mu=0.1, evaluate_fn=central(parts))
    return simulate(clients, chosen, rounds)


def test_tissue_source_sites_are_the_two_characters_after_tcga() -> None:
    sites = tissue_source_sites(["TCGA-BH-A0B3", "TCGA-A2-A04P", "TCGA-BH-A0B4"])
    assert sites.tolist() == ["BH", "A2", "BH"]
    with pytest.raises(CohortError, match="not TCGA barcodes"):
        tissue_source_sites(["TCGA-BH-A0B3", "p001"])


def test_the_largest_sites_are_hospitals_and_the_rest_are_pooled() -> None:
    codes = ["C"] * 2 + ["A"] * 5 + ["B"] * 3 + ["D"] * 2 + ["E"]
    sites = pd.Series(codes, index=[f"p{i}" for i in range(len(codes))])
    hospitals = group_sites(sites, n_hospitals=3)
    # A (5) and B (3) are hospitals of their own; C, D (2 each) and E (1) are pooled
    assert hospitals.groupby(sites).first().to_dict() == {
        "A": "H1", "B": "H2", "C": "H3", "D": "H3", "E": "H3",
    }  # fmt: skip
    with pytest.raises(InvalidParameterError, match="at most 5"):
        group_sites(sites, n_hospitals=6)


def test_test_patients_are_in_no_site() -> None:
    cohort = tiny_cohort(40)
    groups = pd.Series(["H1"] * 25 + ["H2"] * 15, index=cohort.samples)
    split = federated_split(cohort, groups, test_size=0.25, seed=0)
    in_sites = split.sites["H1"].union(split.sites["H2"])
    assert len(split.test) == 10 and in_sites.intersection(split.test).empty
    assert in_sites.union(split.test).sort_values().equals(cohort.samples.sort_values())
    assert set(groups[split.sites["H2"]]) == {"H2"}
    with pytest.raises(AlignmentError, match="no site"):
        federated_split(cohort, groups.iloc[1:])


def test_every_site_builds_the_same_network(parts: dict) -> None:
    cohort = parts["cohort"]
    other = shared_network(parts["network"].estimator, cohort.subset(cohort.samples[60:100]))
    assert other.graph.node_ids == parts["network"].graph.node_ids
    mine, theirs = get_weights(parts["network"].build(3)), get_weights(other.build(3))
    assert all(np.array_equal(a, b) for a, b in zip(mine, theirs))


def test_weights_of_another_shape_are_refused(parts: dict) -> None:
    model = parts["network"].build(0)
    weights = get_weights(model)
    with pytest.raises(AlignmentError, match="shape"):
        set_weights(model, [w[..., :1] if w.ndim else w for w in weights])
    with pytest.raises(AlignmentError, match="arrays"):
        set_weights(model, weights[:-1])


@pytest.mark.parametrize("strategy", ["fedavg", "fedprox"])
def test_federated_rounds_improve_the_global_model(parts: dict, strategy: str) -> None:
    history = run(parts, strategy, rounds=4, epochs=2)
    losses = [r["loss"] for r in history.central]
    assert len(losses) == 5 and losses[-1] < losses[0] - 0.02
    assert history.central[-1]["auc"] > history.central[0]["auc"]
    # the global model kept is that of the lowest validation loss over the sites
    site_losses = [r["loss"] for r in history.distributed]
    assert history.best_round == 1 + int(np.argmin(site_losses))
    # every round moves the weights of every site both ways, each array as a .npy file
    n_bytes = sum(len(npy(w)) for w in get_weights(parts["network"].build(0)))
    assert history.bytes_up == [2 * n_bytes] * 4 and history.bytes_down == [2 * n_bytes] * 4


def test_the_same_seed_gives_the_same_global_model(parts: dict) -> None:
    first, second = run(parts, "fedavg", rounds=2), run(parts, "fedavg", rounds=2)
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, second.weights))


def test_no_client_ever_sends_a_patient_level_array(parts: dict) -> None:
    history = run(parts, "fedprox", rounds=2, dp=DPSettings(noise=1.0))
    state = [tuple(w.shape) for w in get_weights(parts["network"].build(0))]
    sizes = {len(s.train[0]) for s in parts["sites"].values()}
    sizes |= {len(s.val[0]) for s in parts["sites"].values()} | {60, 40}
    kinds = [m.kind for m in history.messages]
    assert kinds.count("fit") == 4 and kinds.count("evaluate") == 4
    for message in history.messages:
        if message.kind == "evaluate":
            assert message.shapes == []
        else:  # get_parameters and fit: exactly the model's state, nothing else
            assert message.shapes == state
        assert not any(d in sizes for shape in message.shapes for d in shape)
        assert all(isinstance(v, (int, float)) for v in message.metrics.values())


def test_dp_sgd_spends_a_finite_epsilon_that_more_noise_lowers(parts: dict) -> None:
    low = run(parts, "fedavg", rounds=2, dp=DPSettings(noise=0.8))
    high = run(parts, "fedavg", rounds=2, dp=DPSettings(noise=2.0))
    eps = [[r["epsilon"] for r in h.fit] for h in (low, high)]
    assert all(np.isfinite(e) and e > 0 for e in eps[0] + eps[1])
    assert eps[0][1] > eps[0][0] and eps[1][1] > eps[1][0]  # privacy spent accumulates
    assert eps[1][1] < eps[0][1]


def test_the_proximal_term_holds_the_weights_near_the_global_ones(parts: dict) -> None:
    site = parts["sites"]["s0"]
    moved = {}
    for mu in (0.0, 1e4):
        model = parts["network"].build(0)
        start = torch.cat([p.detach().flatten() for p in model.parameters()])
        local_fit(model, parts["network"], site, epochs=2, mu=mu)
        end = torch.cat([p.detach().flatten() for p in model.parameters()])
        moved[mu] = float((end - start).norm())
    assert moved[1e4] < 0.2 * moved[0.0]


def test_strategies_are_named_and_dp_settings_checked() -> None:
    with pytest.raises(InvalidParameterError, match="'fedavg' or 'fedprox'"):
        make_strategy("fedsgd", 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'noise'"):
        DPSettings(noise=0.0)
    assert make_strategy("fedprox", 3, proximal_mu=0.5).proximal_mu == 0.5


def test_the_federated_example_configuration_validates(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGFUSION_DATA", str(data_dir))
    config = RunConfig.from_yaml(EXAMPLE)
    assert config.cohort.modalities == ["mirna"] and config.cohort.holdout is not None
    assert config.model.params["architecture"] == "hierarchy"


GENES = ["TP53", "BRCA1", "EGFR", "PTEN", "KRAS", "MYC", "ERBB2", "ESR1", "GATA3", "PIK3CA"]


@pytest.fixture(scope="module")
def brca_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A multi-omics folder of 80 TCGA-barcoded patients from 3 tissue-source sites, and its run
    configuration (ER status from the first 4 genes' copy numbers)."""
    folder = tmp_path_factory.mktemp("brca_like")
    rng = np.random.default_rng(0)
    codes = ["AA"] * 36 + ["BB"] * 24 + ["CC"] * 20
    ids = pd.Index([f"TCGA-{c}-{i:04d}" for i, c in enumerate(codes)], name="sample")
    cnv = pd.DataFrame(rng.normal(size=(len(ids), len(GENES))), index=ids, columns=GENES)
    signal = cnv.iloc[:, :4].sum(axis=1) + 0.5 * rng.normal(size=len(ids))
    er = np.where(signal > 0, "positive", "negative")
    cnv.to_csv(folder / "cnv.csv")
    pd.DataFrame({"er_status": er}, index=ids).to_csv(folder / "clinical.csv")
    config = {
        "cohort": {
            "format": "multiomics", "path": str(folder), "modalities": ["cnv"],
            "label": {"column": "er_status", "positive": "positive", "negative": "negative"},
        },
        "model": {"name": "kgfusion", "params": {**SMALL, "min_seeds": 1, "hidden": 4}},
        "output": str(folder / "out"),
    }  # fmt: skip
    (folder / "run.yaml").write_text(yaml.safe_dump(config))
    return folder / "run.yaml"


def test_the_command_line_simulates_and_keeps_the_best_round(brca_like: Path) -> None:
    out = brca_like.parent / "sim"
    args = ["federated", str(brca_like), "--sites", "2", "--rounds", "2", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "round 2: loss=" in result.output
    history = json.loads((out / "history.json").read_text())
    assert len(history["central"]) == 3 and history["best_round"] in (1, 2)
    assert len(history["bytes_up"]) == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow  # three processes, each importing torch and Flower
def test_a_server_and_two_site_processes_federate_on_loopback(brca_like: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    out = brca_like.parent / "served"
    base = [sys.executable, "-m", "fusion", "federated", str(brca_like), "--sites", "2"]
    common = ["--rounds", "2", "--address", address]
    server = subprocess.Popen([*base, *common, "--role", "server", "-o", str(out)])
    sites = [
        subprocess.Popen([*base, *common, "--role", "site", "--site", name], stdout=subprocess.PIPE)
        for name in ("H1", "H2")
    ]
    try:
        outputs = [site.communicate(timeout=120)[0].decode() for site in sites]
        assert server.wait(timeout=60) == 0
    finally:
        for process in (server, *sites):
            process.kill()
    assert all("federation finished" in text for text in outputs)
    history = json.loads((out / "history.json").read_text())
    assert [r for r, _ in history["loss"]] == [1, 2]  # the sites' validation loss, each round
    weights = np.load(out / "weights.npz")
    assert weights.files and all(np.isfinite(weights[k]).all() for k in weights.files)
