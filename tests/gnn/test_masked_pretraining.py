"""Tests of gnn.pretrain (masked node-value reconstruction) and gnn.transfer (weights by name)."""

from __future__ import annotations

import pytest
import torch

from gnn import (
    EncoderLayout,
    FusionNetConfig,
    InvalidParameterError,
    KGFusionNet,
    MaskedNodeModel,
    PretrainConfig,
    RelationGraph,
    freeze_encoder,
    load_encoder,
    load_readout,
    masked_node_loss,
    pretrain_encoder,
)
from gnn.training import FusionBatch, TrainConfig, train_model


def graph() -> RelationGraph:
    """Genes g0-g3 annotated to terms T4 (g0, g1, g2) and T5 (g2, g3); T4 is_a T5."""
    annot = torch.tensor([[0, 1, 2, 2, 3], [4, 4, 4, 5, 5]])
    return RelationGraph(
        ["g0", "g1", "g2", "g3", "T4", "T5"],
        ["gene"] * 4 + ["go_term"] * 2,
        ["annot", "is_a"],
        [annot, torch.tensor([[4], [5]])],
    )


def batch(feature_nodes: dict[str, torch.Tensor], n: int = 24, seed: int = 0) -> FusionBatch:
    g = torch.Generator().manual_seed(seed)
    values = {m: torch.randn(n, len(f), generator=g) for m, f in feature_nodes.items()}
    observed = {m: torch.rand(n, len(f), generator=g) > 0.2 for m, f in feature_nodes.items()}
    return FusionBatch(values, observed, torch.ones(n, len(feature_nodes), dtype=torch.bool))


# two mRNA features on g0 (averaged), one on g1, one unlinked; methylation on g1 and g3
PANEL = {"mRNA": torch.tensor([0, 0, 1, -1]), "methylation": torch.tensor([1, 3])}


def model(rate: float = 0.5) -> MaskedNodeModel:
    torch.manual_seed(0)
    return MaskedNodeModel(graph(), PANEL, FusionNetConfig(hidden=4), PretrainConfig(rate)).eval()


def test_masked_node_loss_counts_hidden_entries_only() -> None:
    prediction = torch.tensor([[[1.0, 0.0], [2.0, 9.0]]])  # (B=1, L=2, M=2)
    value = torch.tensor([[[3.0, 0.0], [2.0, 0.0]]])
    hidden = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    # (1 - 3)^2 and (2 - 2)^2 over 2 hidden entries; the 9 is not hidden
    assert masked_node_loss(prediction, torch.stack([value, hidden], -1)).item() == 2.0


def test_mask_hides_every_feature_of_a_hidden_node_and_nothing_unobserved() -> None:
    net, data = model(), batch(PANEL)
    values, observed, target = net.mask(
        data.values, data.observed, torch.Generator().manual_seed(1)
    )
    hidden = target[..., 1].bool()  # (B, L, M); linked nodes g0, g1, g3
    assert net.linked.tolist() == [0, 1, 3]
    assert (
        0
        < int(hidden.sum())
        < int(net.net.node_channels(data.values, data.observed).observed.sum())
    )
    # mRNA node g0 carries features 0 and 1: hidden for a patient means both unobserved and zero
    g0 = hidden[:, 0, 0]
    assert not observed["mRNA"][g0][:, :2].any() and bool((values["mRNA"][g0][:, :2] == 0).all())
    # the unlinked mRNA feature and the other modality's value on a hidden node stay as they were
    assert torch.equal(observed["mRNA"][:, 3], data.observed["mRNA"][:, 3])
    g1_mrna = hidden[:, 1, 0] & ~hidden[:, 1, 1]
    assert torch.equal(
        observed["methylation"][g1_mrna, 0], data.observed["methylation"][g1_mrna, 0]
    )
    # nothing unobserved is hidden; the target holds the node's mean of the observed features
    seen = data.observed["mRNA"][:, :2].any(dim=1)
    assert not bool((g0 & ~seen).any())
    b = int(torch.nonzero(g0 & data.observed["mRNA"][:, 0] & data.observed["mRNA"][:, 1])[0])
    assert target[b, 0, 0, 0].item() == pytest.approx(float(data.values["mRNA"][b, :2].mean()))


def test_hidden_values_never_reach_the_input() -> None:
    """Changing the true values of the hidden features changes neither the masked inputs nor
    the reconstruction: the target is not in the input."""
    net, data = model(), batch(PANEL)
    generator = lambda: torch.Generator().manual_seed(3)
    values, observed, target = net.mask(data.values, data.observed, generator())
    hidden_features = data.observed["mRNA"] & ~observed["mRNA"]
    assert bool(hidden_features.any())
    changed = {m: v.clone() for m, v in data.values.items()}
    changed["mRNA"][hidden_features] += 100.0
    values2, observed2, target2 = net.mask(changed, data.observed, generator())
    assert torch.equal(values["mRNA"], values2["mRNA"]) and torch.equal(
        observed["mRNA"], observed2["mRNA"]
    )
    assert torch.equal(net(values, observed), net(values2, observed2))
    assert not torch.equal(target[..., 0], target2[..., 0])  # the targets did change


def test_pretraining_is_seeded_and_learns() -> None:
    data = batch(PANEL, n=60)
    # a learnable signal: g1's methylation equals g1's mRNA
    data.values["methylation"][:, 0] = data.values["mRNA"][:, 2]
    states = []
    for _ in range(2):
        net = model(rate=0.3)
        before = masked_node_loss(*_val(net, data))
        result = pretrain_encoder(
            net,
            data[torch.arange(40)],
            data[torch.arange(40, 60)],
            TrainConfig(max_epochs=30, patience=30, batch_size=0),
            seed=2,
        )
        states.append(net.encoder_state())
    assert result.best_val_loss < float(before)
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert {k.split(".")[0] for k in states[0]} == {"input", "type_embedding", "layers"}


def _val(net: MaskedNodeModel, data: FusionBatch) -> tuple[torch.Tensor, torch.Tensor]:
    inputs, target = net.masked(data[torch.arange(40, 60)], seed=2)
    with torch.no_grad():
        return net(*inputs.inputs()), target


def test_rate_outside_zero_one_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="mask_rate"):
        PretrainConfig(mask_rate=1.0)


def test_encoder_loads_into_a_panel_sharing_no_feature() -> None:
    """Pre-trained on mRNA of g0, g1 (+ methylation); fine-tuned on mRNA of g2, g3 and a
    protein panel: the panels share no feature, only the graph; weights match by channel,
    node type and relation name."""
    pre = model()
    source = EncoderLayout.of(pre.net, ["mRNA", "methylation"])
    torch.manual_seed(1)
    target_nodes = {"protein": torch.tensor([3]), "rna": torch.tensor([2, 3])}
    net = KGFusionNet(graph(), target_nodes, 2, FusionNetConfig(hidden=4, direct="none"))
    state = pre.encoder_state()
    report = load_encoder(net, state, source, ["protein", "mRNA"], unmatched="zero")
    assert report.loaded["channels"] == ["mRNA"] and report.new["channels"] == ["protein"]
    assert report.loaded["relations"] == ["annot", "is_a", "rev_annot", "rev_is_a"]
    assert torch.equal(net.input.weight[:, 2:4], state["input.weight"][:, 0:2])
    assert not net.input.weight[:, 0:2].any()  # the new channel adds nothing
    for k in range(2):
        assert torch.equal(net.layers[k].weight, state[f"layers.{k}.weight"])
    # fine-tuning works through the shared graph nodes: a label read off g2's and g3's values
    data = batch(target_nodes, n=48, seed=4)
    y = (data.values["rna"].sum(dim=1) > 0).long()
    train = (data[torch.arange(36)], y[:36])
    val = (data[torch.arange(36, 48)], y[36:])
    loss = torch.nn.functional.cross_entropy
    # validated under the training part's batch-norm statistics, so that the loss falls by
    # learning and not by the running averages catching up
    config = TrainConfig(lr=2e-2, max_epochs=40, patience=40, batch_size=0, precise_norm=True)
    result = train_model(net, train, val, loss, config)
    assert result.best_val_loss < result.val_loss[0]


def test_relation_order_and_missing_relations_are_matched_by_name() -> None:
    pre = model()
    source = EncoderLayout.of(pre.net, ["mRNA", "methylation"])
    annot_only = RelationGraph(
        ["g0", "T4"], ["gene", "go_term"], ["annot"], [torch.tensor([[0], [1]])]
    )
    net = KGFusionNet(annot_only, {"mRNA": torch.tensor([0])}, 2, FusionNetConfig(direct="none"))
    report = load_encoder(net, pre.encoder_state(), source, ["mRNA"])
    assert report.loaded["relations"] == ["annot", "rev_annot"]  # positions 0, 1 of 2
    assert torch.equal(net.layers[0].weight[1], pre.net.layers[0].weight[2])  # rev_annot


def test_other_width_is_refused() -> None:
    pre = model()
    net = KGFusionNet(graph(), PANEL, 2, FusionNetConfig(hidden=8, direct="none"))
    with pytest.raises(InvalidParameterError, match="hidden=4, layers=2.*hidden=8"):
        load_encoder(net, pre.encoder_state(), EncoderLayout.of(pre.net, ["a", "b"]), ["a", "b"])


def test_frozen_encoder_does_not_move() -> None:
    pre = model()
    net = KGFusionNet(graph(), PANEL, 2, FusionNetConfig(hidden=4, direct="none"))
    load_encoder(net, pre.encoder_state(), EncoderLayout.of(pre.net, ["a", "b"]), ["a", "b"])
    assert freeze_encoder(net) > 0
    data = batch(PANEL, n=30)
    y = (data.values["mRNA"][:, 0] > 0).long()
    loss = torch.nn.functional.cross_entropy
    train_model(net, (data, y), (data, y), loss, TrainConfig(max_epochs=3, batch_size=0))
    assert all(torch.equal(net.state_dict()[k], v) for k, v in pre.encoder_state().items())


def test_readout_matches_nodes_by_id() -> None:
    torch.manual_seed(0)
    source = KGFusionNet(graph(), {"mRNA": torch.tensor([0, 1])}, 2, FusionNetConfig(direct="none"))
    target = KGFusionNet(graph(), {"mRNA": torch.tensor([1, 3])}, 2, FusionNetConfig(direct="none"))
    # readout nodes: source g2, g3, T4, T5; target g0, g2, T4, T5
    assert load_readout(target, source) == 3
    w_source, w_target = source.readout.linear.weight, target.readout.linear.weight
    assert torch.equal(w_target[:, 1:], w_source[:, [0, 2, 3]])
    assert not w_target[:, 0].any()  # g0 is read out by the target only


def _pathway_cohort(members: torch.Tensor) -> tuple[RelationGraph, FusionBatch]:
    """12 genes whose mRNA follows one factor per true pathway of 3 (plus noise), on a graph
    where gene ``i`` is a member of pathway ``members[i]``."""
    genes = [f"g{i}" for i in range(12)]
    graph = RelationGraph(
        genes + ["P0", "P1", "P2", "P3"],
        ["gene"] * 12 + ["pathway"] * 4,
        ["member_of"],
        [torch.stack([torch.arange(12), 12 + members])],
    )
    g = torch.Generator().manual_seed(0)
    x = torch.randn(240, 4, generator=g).repeat_interleave(3, dim=1)
    x = x + 0.3 * torch.randn(240, 12, generator=g)
    observed = torch.ones(240, 12, dtype=torch.bool)
    return graph, FusionBatch({"mRNA": x}, {"mRNA": observed}, torch.ones(240, 1, dtype=torch.bool))


def _held_out_ratio(members: torch.Tensor) -> float:
    """Best held-out masked loss over that of predicting every hidden value as 0."""
    graph, data = _pathway_cohort(members)
    torch.manual_seed(0)
    net = MaskedNodeModel(
        graph, {"mRNA": torch.arange(12)}, FusionNetConfig(hidden=4, dropout=0.0),
        PretrainConfig(0.3),
    )  # fmt: skip
    config = TrainConfig(lr=2e-2, max_epochs=150, patience=150, batch_size=0)
    train, val = data[torch.arange(180)], data[torch.arange(180, 240)]
    result = pretrain_encoder(net, train, val, config, seed=0)
    _, target = net.masked(val, seed=0)
    zero = masked_node_loss(torch.zeros_like(target[..., 0]), target)
    return result.best_val_loss / float(zero)


def test_hidden_gene_is_read_off_its_pathway_neighbours_and_not_off_a_wrong_graph() -> None:
    """A hidden gene's value is predictable only through the pathway it shares with the genes
    of its factor: the reconstruction beats predicting 0 by far on the true memberships and
    not at all when the memberships are scrambled (each pathway mixing three factors)."""
    true = torch.arange(12) // 3
    scrambled = torch.tensor([0, 1, 2, 3] * 3)
    assert _held_out_ratio(true) < 0.5
    assert _held_out_ratio(scrambled) > 0.9
