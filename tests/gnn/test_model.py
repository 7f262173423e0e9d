"""Tests of gnn.model.KGFusionNet: shapes, masks, sources and fusion, training determinism."""

from __future__ import annotations

import pytest
import torch

from gnn import FusionNetConfig, KGFusionNet, NodeInput, RelationGraph
from gnn.training import FusionBatch, TrainConfig, refresh_norm_statistics, train_model


def tiny_graph() -> RelationGraph:
    edges = torch.tensor([[0, 1, 2, 3], [3, 3, 4, 4]])  # genes 0-2 → terms 3, 4; term 3 → 4
    is_a = torch.tensor([[3], [4]])
    return RelationGraph(
        ["g0", "g1", "g2", "T3", "T4"],
        ["gene"] * 3 + ["go_term"] * 2,
        ["annot", "is_a"],
        [edges, is_a],
    )


def feature_nodes() -> dict[str, torch.Tensor]:
    return {"mRNA": torch.tensor([0, 1, 2, -1]), "methylation": torch.tensor([-1, -1, -1])}


def inputs(batch: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "mRNA": torch.randn(batch, 4, generator=g),
        "methylation": torch.randn(batch, 3, generator=g),
    }


@pytest.fixture
def net() -> KGFusionNet:
    torch.manual_seed(0)
    return KGFusionNet(
        tiny_graph(), feature_nodes(), 3, FusionNetConfig(hidden=4, embedding=5)
    ).eval()


def test_node_input_averages_observed_linked_values() -> None:
    layer = NodeInput(3, {"m": torch.tensor([0, 0, 2, -1])})
    values = {"m": torch.tensor([[1.0, 3.0, 5.0, 9.0]])}
    observed = {"m": torch.tensor([[True, False, True, True]])}
    out = layer(values, observed)  # (N, B, 2)
    assert out[:, 0, 0].tolist() == [1.0, 0.0, 5.0]
    assert out[:, 0, 1].tolist() == [1.0, 0.0, 1.0]


def test_sources_shapes_and_gates(net: KGFusionNet) -> None:
    logits, available, concept = net.sources(inputs())
    assert logits.shape == (6, net.num_sources, 3) == (6, 3, 3)
    assert available.all()
    assert net.readout_ids == ["T3", "T4"]  # the concept nodes: no feature links to them
    assert concept.shape == (6, 2)
    fused, gates = net.fuse(logits, available)
    assert torch.allclose(gates.sum(1), torch.ones(6))
    assert torch.allclose(fused, torch.einsum("bs,bso->bo", gates, logits))
    assert torch.equal(net(inputs()), fused)
    assert len(net.propagate(inputs())) == len(net.layers) + 1


def test_concept_scores_move_with_their_genes(net: KGFusionNet) -> None:
    x = inputs()
    y = {m: v.clone() for m, v in x.items()}
    y["mRNA"][:, 3] += 5.0  # an unlinked feature: the graph branch does not see it
    assert torch.equal(net.sources(x)[2], net.sources(y)[2])
    y["mRNA"][:, 0] += 5.0  # g0, below T3 and T4
    assert not torch.allclose(net.sources(x)[2], net.sources(y)[2])


def test_objective_adds_each_source_loss(net: KGFusionNet) -> None:
    x, target = inputs(), torch.tensor([0, 1, 2, 0, 1, 2])
    loss = torch.nn.functional.cross_entropy
    logits, _available, _ = net.sources(x)
    fused = loss(net(x), target)
    own = torch.stack([loss(logits[:, s], target) for s in range(3)]).mean()
    assert torch.allclose(net.objective(x, None, None, target, loss), fused + own)


def test_full_masks_change_nothing(net: KGFusionNet) -> None:
    x = inputs()
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in x.items()}
    present = torch.ones(6, 2, dtype=torch.bool)
    assert torch.equal(net(x), net(x, observed, present))


def test_absent_modality_is_ignored(net: KGFusionNet) -> None:
    x, y = inputs(seed=0), inputs(seed=1)
    y["mRNA"] = x["mRNA"]  # methylation differs, but is absent
    present = torch.tensor([[True, False]] * 6)
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in x.items()}
    observed["methylation"][:] = False
    out_x, out_y = net(x, observed, present), net(y, observed, present)
    assert torch.allclose(out_x, out_y)
    logits, available, _ = net.sources(x, observed, present)
    assert torch.all(net.fuse(logits, available)[1][:, 2] == 0)  # no weight on methylation


def test_unobserved_values_are_ignored(net: KGFusionNet) -> None:
    x = inputs()
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in x.items()}
    observed["mRNA"][:, 1] = False
    y = {m: v.clone() for m, v in x.items()}
    y["mRNA"][:, 1] = 100.0
    assert torch.allclose(net(x, observed), net(y, observed))


def test_output_shape_does_not_depend_on_missing_modalities(net: KGFusionNet) -> None:
    for present in ([True, True], [True, False], [False, True]):
        mask = torch.tensor([present] * 6)
        assert net(inputs(), present=mask).shape == (6, 3)


def test_graph_only_and_direct_only_configs() -> None:
    graph_only = KGFusionNet(tiny_graph(), feature_nodes(), 2, FusionNetConfig(direct="none"))
    assert graph_only.num_sources == 1
    direct_only = KGFusionNet(tiny_graph(), feature_nodes(), 2, FusionNetConfig(use_graph=False))
    assert direct_only.num_sources == 2
    assert direct_only.readout_ids == []
    assert not hasattr(direct_only, "layers")  # no unused graph parameters (nor in checkpoints)
    assert all(
        name.startswith(("heads.", "source_weight")) for name, _ in direct_only.named_parameters()
    )
    with pytest.raises(ValueError, match="no graph branch"):
        direct_only.propagate(inputs())
    unlinked = KGFusionNet(tiny_graph(), feature_nodes(), 2, FusionNetConfig(direct="unlinked"))
    assert unlinked.num_sources == 3  # graph, mRNA's one unlinked feature, methylation
    with pytest.raises(ValueError, match="needs a source"):
        KGFusionNet(
            tiny_graph(), feature_nodes(), 2, FusionNetConfig(direct="none", use_graph=False)
        )


def _labelled_batch() -> tuple[FusionBatch, torch.Tensor]:
    """40 fully observed patients and a label read off the first mRNA feature."""
    x = inputs(batch=40, seed=3)
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in x.items()}
    batch = FusionBatch(x, observed, torch.ones(40, 2, dtype=torch.bool))
    return batch, (x["mRNA"][:, 0] > 0).long()


def _fit(seed: int) -> KGFusionNet:
    batch, target = _labelled_batch()
    torch.manual_seed(seed)
    net = KGFusionNet(tiny_graph(), feature_nodes(), 2, FusionNetConfig(hidden=4, embedding=8))
    index = torch.arange(40)
    loss = torch.nn.functional.cross_entropy
    result = train_model(
        net,
        (batch[index[:30]], target[:30]),
        (batch[index[30:]], target[30:]),
        loss,
        TrainConfig(max_epochs=15, batch_size=10),
        seed=seed,
    )
    assert 0 <= result.best_epoch < 15
    assert len(result.val_loss) == len(result.train_loss)
    return net


def test_training_is_deterministic_and_learns() -> None:
    a, b = _fit(7), _fit(7)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    c = _fit(8)
    assert not all(
        torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values())
    )


def test_refreshed_norm_statistics_make_eval_match_training_mode() -> None:
    x = inputs(batch=20, seed=5)
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in x.items()}
    batch = FusionBatch(x, observed, torch.ones(20, 2, dtype=torch.bool))
    torch.manual_seed(0)
    net = KGFusionNet(
        tiny_graph(),
        feature_nodes(),
        2,
        FusionNetConfig(hidden=4, embedding=8, dropout=0.0, input_dropout=0.0),
    )
    net.train()
    with torch.no_grad():
        trained = net(*batch.inputs())  # batch statistics (the running ones barely moved)
    assert not torch.allclose(net.eval()(*batch.inputs()), trained, atol=0.1)
    refresh_norm_statistics(net, batch)
    assert not net.training
    # the same up to the running variance being unbiased (n / (n - 1)), the batch one not
    assert torch.allclose(net(*batch.inputs()), trained, atol=0.02)
    momentum = net.readout.norm.momentum
    refresh_norm_statistics(net, batch, batch_size=7)  # in chunks: their average, same momentum
    assert net.readout.norm.momentum == momentum
    assert torch.allclose(net(*batch.inputs()), trained, atol=0.05)


def test_refreshing_norm_statistics_needs_patients(net: KGFusionNet) -> None:
    empty = FusionBatch(
        {m: v[:0] for m, v in inputs().items()},
        {m: torch.ones_like(v[:0], dtype=torch.bool) for m, v in inputs().items()},
        torch.ones(0, 2, dtype=torch.bool),
    )
    with pytest.raises(ValueError, match="at least one patient"):
        refresh_norm_statistics(net, empty)


def test_node_channels_are_the_node_inputs_channels(net: KGFusionNet) -> None:
    """The public accessor equals the interleaved input layout (value, observed per modality)."""
    x = inputs()
    observed = {
        m: torch.rand(v.shape, generator=torch.Generator().manual_seed(1)) > 0.3
        for m, v in x.items()
    }
    channels = net.node_channels(x, observed)
    layout = net.node_input(x, observed)
    assert channels.modalities == ("mRNA", "methylation")
    assert channels.value.shape == channels.observed.shape == (5, 6, 2)
    assert torch.equal(channels.value, layout[:, :, 0::2])
    assert torch.equal(channels.observed, layout[:, :, 1::2] > 0)
    assert torch.equal(channels.any_observed(), layout[:, :, 1::2].amax(dim=-1) > 0)
    assert net.node_channels(x).observed[:3, :, 0].all()  # default: every value observed


def test_precise_norm_validates_with_the_training_parts_statistics() -> None:
    """With ``precise_norm`` the kept weights come with the batch-norm statistics of the
    training part at those weights (what refreshing them afterwards gives); without it, with
    the lagging running averages (one step per epoch here: full batch)."""
    batch, target = _labelled_batch()
    train, val = (batch[torch.arange(30)], target[:30]), (batch[torch.arange(30, 40)], target[30:])
    loss = torch.nn.functional.cross_entropy
    for precise in (True, False):
        torch.manual_seed(0)
        net = KGFusionNet(tiny_graph(), feature_nodes(), 2, FusionNetConfig(hidden=4, embedding=8))
        config = TrainConfig(max_epochs=6, patience=6, batch_size=0, precise_norm=precise)
        train_model(net, train, val, loss, config)
        kept = net.readout.norm.running_mean.clone()
        refresh_norm_statistics(net, train[0])
        assert torch.allclose(kept, net.readout.norm.running_mean) == precise
