"""Tests of gnn.hierarchy: levels from the KG, masked connections, missing modalities, deep
supervision, the random-masks control, training and attribution of HierarchyNet."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn import (
    FusionNetConfig,
    HierarchyConfig,
    HierarchyLevel,
    HierarchyNet,
    InvalidGraphError,
    InvalidParameterError,
    RelationGraph,
    attribute,
    hierarchy_levels,
    random_masks,
)
from gnn.training import FusionBatch, TrainConfig, train_model

IDS = ["g0", "g1", "g2", "g3", "P4", "P5", "R6"]


def tiny_graph() -> RelationGraph:
    """4 genes, 2 pathways (g0, g1 → P4; g2, g3 → P5), 1 root; a gene-gene edge g0 → g1."""
    annotation = torch.tensor([[0, 1, 2, 3], [4, 4, 5, 5]])
    part_of = torch.tensor([[4, 5], [6, 6]])
    interacts = torch.tensor([[0], [1]])
    return RelationGraph(
        IDS,
        ["gene"] * 4 + ["pathway"] * 3,
        ["annotation", "interacts", "part_of"],
        [annotation, interacts, part_of],
    )


def feature_nodes() -> dict[str, torch.Tensor]:
    genes = torch.arange(4)
    return {"mutation": genes, "cnv": torch.cat([genes, torch.tensor([-1])])}


def inputs(batch: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "mutation": torch.randn(batch, 4, generator=g),
        "cnv": torch.randn(batch, 5, generator=g),
    }


def make_net(**config: object) -> HierarchyNet:
    torch.manual_seed(0)
    settings = {"dropout": 0.0, "input_dropout": 0.0, **config}
    return HierarchyNet(tiny_graph(), feature_nodes(), 3, HierarchyConfig(**settings)).eval()


def test_levels_follow_the_hierarchy_and_ignore_edges_into_genes() -> None:
    levels = hierarchy_levels(tiny_graph(), torch.arange(4), depth=5)  # stops at the root
    assert [lv.nodes.tolist() for lv in levels] == [[0, 1, 2, 3], [4, 5], [6]]
    assert levels[0].edges.shape == (2, 0)
    assert levels[1].edges.tolist() == [[0, 1, 2, 3], [0, 0, 1, 1]]  # g0 → g1 is no connection
    assert levels[2].edges.tolist() == [[0, 1], [0, 0]]
    assert len(hierarchy_levels(tiny_graph(), torch.arange(4), depth=1)) == 2


def test_a_term_annotated_directly_sits_one_level_above_the_genes() -> None:
    graph = tiny_graph()
    skip = RelationGraph(
        graph.node_ids,
        graph.node_types,
        [*graph.base_relations, "skip"],
        [*graph.edges, torch.tensor([[0], [6]])],
    )
    levels = hierarchy_levels(skip, torch.arange(4), depth=3)
    assert [lv.nodes.tolist() for lv in levels] == [[0, 1, 2, 3], [4, 5, 6]]
    assert levels[1].edges.shape[1] == 5  # P4 → R6 stays inside level 1: no connection


def test_no_level_above_the_inputs_is_an_error() -> None:
    with pytest.raises(InvalidGraphError, match="no level above the genes"):
        hierarchy_levels(tiny_graph(), torch.tensor([4, 5, 6]), depth=2)  # roots only


def test_shapes_and_interface() -> None:
    net = make_net()
    logits, _available, scores = net.sources(inputs())
    assert logits.shape == (6, net.num_sources, 3) == (6, 3, 3)  # graph, mutation, cnv heads
    assert net.readout_ids == ["P4", "P5", "R6"]
    assert scores is not None and scores.shape == (6, 3)
    assert net(inputs()).shape == (6, 3)
    states = net.propagate(inputs())
    assert len(states) == net.num_levels + 1 == 3
    assert all(s.shape == (7, 6, 1) for s in states)
    assert torch.count_nonzero(states[0][4:]) == 0  # the gene layer fills the genes only
    per_level = net.readout.level_logits(scores)
    assert per_level.shape == (6, 2, 3)
    assert torch.allclose(per_level.mean(dim=1), net.readout(states[-1])[0], atol=1e-6)


def test_a_unit_depends_only_on_the_genes_below_it() -> None:
    net = make_net(hidden=2)
    values = {m: v.requires_grad_() for m, v in inputs().items()}
    net.propagate(values)[-1][4].sum().backward()  # P4: genes g0, g1 only
    grad = values["mutation"].grad
    assert grad is not None and torch.count_nonzero(grad[:, 2:]) == 0
    assert torch.count_nonzero(grad[:, :2]) == grad[:, :2].numel()
    assert torch.count_nonzero(values["cnv"].grad[:, 2:]) == 0


def test_absent_modality_contributes_nothing() -> None:
    net = make_net(direct="none")
    x, present = inputs(), torch.ones(6, 2, dtype=torch.bool)
    present[:3, 1] = False  # patients 0-2 lack CNV
    y = {m: v.clone() for m, v in x.items()}
    y["cnv"][:3] += 10.0
    assert torch.equal(net(x, None, present), net(y, None, present))
    assert not torch.allclose(net(x)[:3], net(y)[:3])  # present, the values matter
    observed = {"mutation": torch.ones(6, 4, dtype=torch.bool), "cnv": present[:, 1:].repeat(1, 5)}
    assert torch.allclose(net(x, observed), net(x, None, present))  # absent = unobserved


def test_objective_adds_every_level_loss() -> None:
    net = make_net(aux_weight=0.5)
    x, target = inputs(), torch.tensor([0, 1, 2, 0, 1, 2])
    loss = torch.nn.functional.cross_entropy
    logits, _available, scores = net.sources(x)
    levels = net.readout.level_logits(scores)
    expected = (
        loss(net(x), target)
        + 0.5 * torch.stack([loss(logits[:, s], target) for s in range(3)]).mean()
        + 0.5 * torch.stack([loss(levels[:, lv], target) for lv in range(2)]).mean()
    )
    assert torch.allclose(net.objective(x, None, None, target, loss), expected)
    plain = make_net(aux_weight=0.0)
    assert torch.allclose(plain.objective(x, None, None, target, loss), loss(plain(x), target))


def test_random_masks_keep_units_and_sparsity_and_follow_the_seed() -> None:
    levels = hierarchy_levels(tiny_graph(), torch.arange(4), depth=2)
    a, b, c = random_masks(levels, seed=3), random_masks(levels, seed=3), random_masks(levels, 4)
    assert [lv.edges.shape for lv in a] == [lv.edges.shape for lv in levels]
    assert all(torch.equal(x.nodes, y.nodes) for x, y in zip(a, levels))
    assert all(torch.equal(x.edges, y.edges) for x, y in zip(a, b))
    assert not all(torch.equal(x.edges, y.edges) for x, y in zip(a, c))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.integers(1, 30), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 2**31),
)
def test_random_masks_are_distinct_in_range_pairs_of_equal_count(
    shapes: list[tuple[int, int, float]], seed: int
) -> None:
    levels = [HierarchyLevel(torch.arange(shapes[0][0]), torch.zeros(2, 0, dtype=torch.long))]
    for _, size, fill in shapes:
        below = len(levels[-1].nodes)
        count = int(fill * below * size)
        keys = torch.randperm(below * size, generator=torch.Generator().manual_seed(0))[:count]
        levels.append(
            HierarchyLevel(torch.arange(size), torch.stack([keys % below, keys // below]))
        )
    out = random_masks(levels, seed)
    for below, level, drawn in zip(levels, levels[1:], out[1:]):
        assert drawn.edges.shape == level.edges.shape
        assert drawn.edges.dtype == torch.long
        if drawn.edges.numel():
            assert 0 <= int(drawn.edges[0].min()) and int(drawn.edges[0].max()) < len(below.nodes)
            assert int(drawn.edges[1].max()) < len(level.nodes)
        assert torch.unique(drawn.edges, dim=1).shape[1] == drawn.edges.shape[1]


def test_random_mask_net_has_the_same_parameters() -> None:
    kg, random = make_net(), make_net(masks="random", mask_seed=1)
    assert {n: p.shape for n, p in kg.named_parameters()} == {
        n: p.shape for n, p in random.named_parameters()
    }
    again = make_net(masks="random", mask_seed=1)
    assert torch.equal(random.level_edges_1, again.level_edges_1)
    assert torch.equal(random(inputs()), again(inputs()))


def test_state_dict_round_trip_predicts_identically() -> None:
    net = make_net(masks="random", mask_seed=2, hidden=2)
    torch.manual_seed(9)
    other = HierarchyNet(
        tiny_graph(), feature_nodes(), 3, HierarchyConfig(masks="random", mask_seed=2, hidden=2)
    )
    other.load_state_dict(net.state_dict())
    assert torch.equal(other.eval()(inputs()), net(inputs()))


def test_config_errors() -> None:
    with pytest.raises(InvalidParameterError, match="hidden"):
        HierarchyConfig(hidden=0)
    with pytest.raises(InvalidParameterError, match="masks"):
        HierarchyConfig(masks="shuffled")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="HierarchyConfig"):
        HierarchyNet(tiny_graph(), feature_nodes(), 2, FusionNetConfig())  # type: ignore[arg-type]


def test_without_graph_branch_only_heads() -> None:
    net = make_net(use_graph=False)
    assert net.num_sources == 2 and net.readout_ids == []
    assert net(inputs()).shape == (6, 3)
    assert "HierarchyNet" in repr(net)


def _fit(seed: int) -> HierarchyNet:
    x = inputs(batch=40, seed=seed)
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in x.items()}
    target = (x["mutation"][:, :2].sum(dim=1) > 0).long()
    batch = FusionBatch(x, observed, torch.ones(40, 2, dtype=torch.bool))
    torch.manual_seed(seed)
    net = HierarchyNet(tiny_graph(), feature_nodes(), 2, HierarchyConfig(hidden=2))
    train, val = torch.arange(30), torch.arange(30, 40)
    train_model(
        net,
        (batch[train], target[train]),
        (batch[val], target[val]),
        torch.nn.functional.cross_entropy,
        TrainConfig(max_epochs=10, batch_size=10),
        seed=seed,
    )
    return net


def test_training_is_deterministic() -> None:
    a, b = _fit(7), _fit(7)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    assert "level_units=[4, 2, 1]" in repr(a)


@pytest.mark.parametrize("method", ["contribution", "ig", "ig_features"])
def test_attribution_methods_run_on_the_hierarchy(method: str) -> None:
    net = make_net()
    result = attribute(net, inputs(), method=method, n_steps=4)  # type: ignore[arg-type]
    assert result.scores.shape == (6, 7)
    assert torch.isfinite(result.scores).all()
    if method == "contribution":
        assert torch.count_nonzero(result.scores[:, :4]) == 0  # genes are not readout units
