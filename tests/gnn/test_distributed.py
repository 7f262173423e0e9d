"""Tests of gnn.distributed: 2 gloo processes train the model of 1 process, batches streamed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gnn import FusionNetConfig, InvalidParameterError, KGFusionNet, RelationGraph
from gnn.distributed import SyncedBatchNorm, gather_rows, shard, synced_batch_norm, world
from gnn.training import FusionBatch, TrainConfig, batched_outputs, train_epoch, train_model

# 25 training patients in batches of >= 8: 3 global batches of 9, 8, 8 patients, so the two
# ranks' shards differ by one patient in the first (5 + 4); 11 validation patients (6 + 5)
N_TRAIN, N_VAL = 25, 11
CONFIG = TrainConfig(lr=0.05, max_epochs=4, patience=10, batch_size=8, eval_batch_size=4)


def _graph() -> RelationGraph:
    edges = torch.tensor([[0, 1, 2, 3], [3, 3, 4, 4]])  # genes 0-2 → terms 3, 4; term 3 → 4
    return RelationGraph(
        ["g0", "g1", "g2", "T3", "T4"],
        ["gene"] * 3 + ["go_term"] * 2,
        ["annot", "is_a"],
        [edges, torch.tensor([[3], [4]])],
    )


def _data() -> tuple[FusionBatch, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    n = N_TRAIN + N_VAL
    values = {"mRNA": torch.randn(n, 4, generator=g), "methylation": torch.randn(n, 3, generator=g)}
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in values.items()}
    target = (values["mRNA"][:, 0] + values["methylation"][:, 1] > 0).long()
    return FusionBatch(values, observed, torch.ones(n, 2, dtype=torch.bool)), target


def _net(seed: int = 0) -> KGFusionNet:
    """No dropout, so that only the sharding can differ between processes."""
    torch.manual_seed(seed)
    config = FusionNetConfig(hidden=4, embedding=5, dropout=0.0, input_dropout=0.0)
    nodes = {"mRNA": torch.tensor([0, 1, 2, -1]), "methylation": torch.tensor([-1, -1, -1])}
    return KGFusionNet(_graph(), nodes, 2, config)


def _epochs(seed: int = 0) -> tuple[dict[str, torch.Tensor], list[float]]:
    """Three epochs of plain SGD steps: the same steps in any world, to float rounding."""
    batch, target = _data()
    net = _net(seed)
    optimiser = torch.optim.SGD(net.parameters(), lr=0.2)
    generator = torch.Generator().manual_seed(seed)
    train = (batch[torch.arange(N_TRAIN)], target[:N_TRAIN])
    loss = torch.nn.functional.cross_entropy
    losses = [
        train_epoch(net, train, loss, optimiser, batch_size=8, generator=generator)
        for _ in range(3)
    ]
    return net.state_dict(), losses


def _train(seed: int = 0) -> tuple[dict[str, torch.Tensor], list[float]]:
    """train_model: AdamW turns float-rounding differences of near-zero gradients (of the
    biases the batch norm cancels) into steps of ``lr``, so only ranks are compared."""
    batch, target = _data()
    net = _net(seed)
    train, val = torch.arange(N_TRAIN), torch.arange(N_TRAIN, N_TRAIN + N_VAL)
    result = train_model(
        net,
        (batch[train], target[train]),
        (batch[val], target[val]),
        torch.nn.functional.cross_entropy,
        CONFIG,
        seed=seed,
    )
    return net.state_dict(), result.val_loss


def _worker(rank: int, world_size: int, folder: str) -> None:
    torch.set_num_threads(1)
    init = f"file://{Path(folder) / 'rendezvous'}"
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world_size)
    try:
        out = {"epochs": _epochs(), "train": _train()}
        out["rows"] = gather_rows(torch.full((rank + 1, 2), float(rank)))  # 1 row of 0s, 2 of 1s
        batch, target = _data()
        one = torch.tensor([0])
        try:  # one patient cannot be split over two processes
            train_epoch(_net(), (batch[one], target[one]), torch.nn.functional.cross_entropy,
                        torch.optim.SGD(_net().parameters(), lr=0.1), batch_size=8,
                        generator=torch.Generator())  # fmt: skip
        except InvalidParameterError as error:
            out["error"] = str(error)
        torch.save(out, Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    folder = tmp_path_factory.mktemp("ddp")
    os.environ.pop("WORLD_SIZE", None)
    mp.spawn(_worker, args=(2, str(folder)), nprocs=2, join=True)
    return [torch.load(folder / f"rank{r}.pt") for r in range(2)]


@pytest.mark.slow
def test_two_processes_take_the_one_process_steps(two_ranks: list[dict]) -> None:
    torch.set_num_threads(1)
    state, losses = _epochs()
    first, second = (rank["epochs"] for rank in two_ranks)
    for name, value in state.items():  # weights and the batch norm's running statistics
        assert torch.equal(first[0][name], second[0][name]), name  # the ranks stay in sync
        # all-reduced sums add in another order; over 9 steps the float32 rounding grows to
        # ~3e-5 in the biases that the batch norm cancels (their gradients are near zero)
        torch.testing.assert_close(first[0][name], value, rtol=1e-4, atol=1e-4)
    one, two = _net(), _net()
    one.load_state_dict(state)
    two.load_state_dict(first[0])
    batch, _ = _data()
    with torch.no_grad():  # the same function of the inputs (~1e-6 apart here)
        outputs = [net.train()(*batch.inputs()) for net in (one, two)]
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=1e-5)
    assert first[1] == second[1]
    torch.testing.assert_close(torch.tensor(first[1]), torch.tensor(losses), rtol=1e-6, atol=0)
    assert not torch.equal(state["input.weight"], _net().state_dict()["input.weight"])  # trained


@pytest.mark.slow
def test_ranks_early_stop_together_on_one_model(two_ranks: list[dict]) -> None:
    (first, val_first), (second, val_second) = (rank["train"] for rank in two_ranks)
    assert val_first == val_second and len(val_first) == CONFIG.max_epochs
    for name, value in first.items():
        assert torch.equal(value, second[name]), name


@pytest.mark.slow
def test_rows_gather_in_rank_order_and_batches_must_split(two_ranks: list[dict]) -> None:
    assert two_ranks[0]["rows"].tolist() == [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    assert all("batches of 1 patients cannot be split over 2" in r["error"] for r in two_ranks)


def test_one_process_has_no_world() -> None:
    assert world() == (0, 1)
    assert gather_rows(torch.ones(2, 1)).shape == (2, 1)
    net = torch.nn.Sequential(torch.nn.BatchNorm1d(3))
    with synced_batch_norm(net) as same:  # nothing to synchronise
        assert isinstance(same[0], torch.nn.BatchNorm1d)


def test_synced_batch_norm_is_the_wrapped_layer_alone() -> None:
    torch.manual_seed(0)
    norm = torch.nn.BatchNorm1d(3, momentum=None)
    synced = SyncedBatchNorm(norm)
    x = torch.randn(6, 3)
    assert torch.equal(synced(x), torch.nn.functional.batch_norm(x, None, None, training=True))
    assert synced.norm is norm and int(norm.num_batches_tracked) == 1


def test_shards_cover_each_batch_once() -> None:
    batch = torch.tensor([7, 3, 9, 1, 4])
    parts = [shard(batch, r, 3).tolist() for r in range(3)]
    assert parts == [[7, 3], [9, 1], [4]]


def test_validation_streams_batches_with_the_full_batch_outputs() -> None:
    torch.manual_seed(0)
    net = KGFusionNet(
        _graph(),
        {"mRNA": torch.tensor([0, 1, 2, -1]), "methylation": torch.tensor([-1, -1, -1])},
        2,
    ).eval()
    batch, _ = _data()
    whole = batched_outputs(net, batch)
    for size in (1, 5, 36, 100):
        torch.testing.assert_close(batched_outputs(net, batch, size), whole, rtol=0, atol=1e-6)
