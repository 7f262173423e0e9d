"""Node attributions of KGFusionNet: shapes, completeness, batch invariance, a planted signal."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from gnn import (
    FusionBatch,
    HierarchyConfig,
    HierarchyNet,
    KGFusionNet,
    RelationGraph,
    refresh_norm_statistics,
)
from gnn.attribution import ATTRIBUTION_METHODS, attribute
from gnn.model import FusionNetConfig
from kg import KnowledgeGraph, make_edges, make_nodes

GENES = [f"NCBIGene:{i}" for i in range(6)]


def _kg() -> KnowledgeGraph:
    # G0, G1 --member_of--> P1 ; G2, G3 --member_of--> P2 ; P1, P2 --part_of--> P0 ; G4, G5 free
    nodes = pd.concat(
        [
            make_nodes(GENES, "gene", "t"),
            make_nodes(["reactome:P0", "reactome:P1", "reactome:P2"], "pathway", "t"),
        ]
    )
    edges = make_edges(
        [*GENES[:4], "reactome:P1", "reactome:P2"],
        ["member_of"] * 4 + ["part_of"] * 2,
        ["reactome:P1", "reactome:P1", "reactome:P2", "reactome:P2", "reactome:P0", "reactome:P0"],
        "t",
    )
    return KnowledgeGraph(nodes, edges)


@pytest.fixture(scope="module")
def trained() -> tuple[KGFusionNet, dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]:
    """A model trained on: label = (mean of G0, G1 in the mRNA modality) > 0."""
    torch.manual_seed(0)
    graph = RelationGraph.from_kg(_kg())
    index = torch.from_numpy(graph.index_of(GENES))
    feature_nodes = {"mRNA": index, "protein": index[[0, 2, 4]]}
    model = KGFusionNet(
        graph, feature_nodes, 2, FusionNetConfig(hidden=8, embedding=8, dropout=0.0)
    )
    x = torch.randn(128, 6)
    values = {"mRNA": x, "protein": x[:, [0, 2, 4]] + 0.5 * torch.randn(128, 3)}
    observed = {m: torch.ones_like(v, dtype=torch.bool) for m, v in values.items()}
    present = torch.ones(128, 2, dtype=torch.bool)
    y = (x[:, :2].mean(dim=1) > 0).long()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(values, observed, present), y).backward()
        optimiser.step()
    refresh_norm_statistics(model, FusionBatch(values, observed, present))  # leaves it in eval mode
    return model, values, observed, present


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_shapes_and_targets(trained, method: str) -> None:
    model, values, observed, present = trained
    batch = {m: v[:10] for m, v in values.items()}
    obs = {m: o[:10] for m, o in observed.items()}
    result = attribute(model, batch, obs, present[:10], method=method, n_steps=8)
    assert result.scores.shape == (10, model.graph.num_nodes)
    assert result.node_ids == model.graph.node_ids
    probability = torch.softmax(model(batch, obs, present[:10]), dim=-1)
    assert torch.equal(result.target, probability.argmax(dim=-1))
    assert torch.allclose(result.probability, probability.max(dim=-1).values)
    assert torch.isfinite(result.scores).all()


def test_ig_is_complete(trained) -> None:
    """Attributions add up to p(x) - p(baseline) (the completeness axiom of IG)."""
    model, values, observed, present = trained
    target = torch.ones(16, dtype=torch.long)
    batch = {m: v[:16] for m, v in values.items()}
    obs = {m: o[:16] for m, o in observed.items()}
    p = torch.softmax(model(batch, obs, present[:16]), dim=-1)[:, 1]
    zero = {m: torch.zeros_like(v) for m, v in batch.items()}
    # Through the whole network the integrand (a gradient) jumps wherever a ReLU on the path
    # switches, so the quadrature error falls only like 1 / n_steps: at 64 steps it was as large
    # as the tolerance (0.031 on one row, depending on where the kinks fell, i.e. on the trained
    # weights); 512 steps give about 0.002, ten times below it. (Through the readout alone, for
    # method="ig" below, the integrand is smooth and 64 steps are exact to float precision.)
    features = attribute(
        model, batch, obs, present[:16], method="ig_features", target=target, n_steps=512
    )
    p_zero = torch.softmax(model(zero, obs, present[:16]), dim=-1)[:, 1]
    total = sum(f.sum(dim=1) for f in features.feature_scores.values())
    assert torch.allclose(total, p - p_zero, atol=0.02)
    states = attribute(model, batch, obs, present[:16], method="ig", target=target, n_steps=64)
    unobserved = {m: torch.zeros_like(o) for m, o in obs.items()}
    with torch.no_grad():
        logits, available, _ = model.sources(batch, obs, present[:16])
        logits[:, 0], _ = model.readout(model.propagate(batch, unobserved)[-1])  # graph at baseline
        p_base = torch.softmax(model.fuse(logits, available)[0], dim=-1)[:, 1]
    assert torch.allclose(states.scores.sum(dim=1), p - p_base, atol=0.02)
    assert (p - p_base).abs().max() > 0.05  # not trivially zero


def test_batched_equals_one_by_one(trained) -> None:
    model, values, observed, present = trained
    batch = {m: v[:6] for m, v in values.items()}
    obs = {m: o[:6] for m, o in observed.items()}
    together = attribute(model, batch, obs, present[:6], method="ig", n_steps=8, batch_size=4)
    alone = attribute(
        model, {m: v[3:4] for m, v in batch.items()}, {m: o[3:4] for m, o in obs.items()},
        present[3:4], method="ig", n_steps=8,
    )  # fmt: skip
    assert torch.allclose(together.scores[3], alone.scores[0], atol=1e-5)


def test_contributions_add_up_to_the_graph_share_of_the_logit(trained) -> None:
    model, values, observed, present = trained
    result = attribute(model, values, observed, present, method="contribution")
    logits, available, _ = model.sources(values, observed, present)
    _, gates = model.fuse(logits, available)
    centred = (logits[:, 0] - model.readout.linear.bias) - (
        logits[:, 0] - model.readout.linear.bias
    ).mean(dim=1, keepdim=True)
    expected = gates[:, 0] * centred.gather(1, result.target[:, None]).squeeze(1)
    assert torch.allclose(result.scores.sum(dim=1), expected, atol=1e-5)
    inputs = torch.from_numpy(model.graph.index_of(GENES))
    assert torch.all(result.scores[:, inputs] == 0)  # only concept nodes are read out


def test_planted_pathway_contributes_most(trained) -> None:
    model, values, observed, present = trained
    result = attribute(model, values, observed, present, method="contribution")
    mean = result.scores.abs().mean(dim=0)
    _p0, p1, p2 = model.graph.index_of(["reactome:P0", "reactome:P1", "reactome:P2"]).tolist()
    assert mean[p1] > mean[p2]


def test_planted_genes_rank_first(trained) -> None:
    model, values, observed, present = trained
    result = attribute(model, values, observed, present, method="ig_features", n_steps=16)
    mean = result.scores.abs().mean(dim=0)
    genes = torch.from_numpy(model.graph.index_of(GENES))
    ranked = genes[mean[genes].argsort(descending=True)].tolist()
    assert set(ranked[:2]) == set(genes[:2].tolist())


def test_bad_method(trained) -> None:
    model, values, _, _ = trained
    with pytest.raises(ValueError, match="'method' parameter"):
        attribute(model, values, method="gradcam")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_steps"):
        attribute(model, values, n_steps=0)


@pytest.mark.parametrize("method", ["contribution", "ig"])
def test_concept_methods_need_the_graph_branch(method: str) -> None:
    graph = RelationGraph.from_kg(_kg())
    index = torch.from_numpy(graph.index_of(GENES))
    model = KGFusionNet(graph, {"mRNA": index}, 2, FusionNetConfig(use_graph=False)).eval()
    with pytest.raises(ValueError, match=f"method='{method}': this model has no graph branch"):
        attribute(model, {"mRNA": torch.randn(3, 6)}, method=method)  # type: ignore[arg-type]


# ------------------------------------------------- survival, the hierarchy, absent modalities
def _untrained(architecture: type[KGFusionNet], out_channels: int) -> KGFusionNet:
    torch.manual_seed(1)
    graph = RelationGraph.from_kg(_kg())
    index = torch.from_numpy(graph.index_of(GENES))
    config = (HierarchyConfig if architecture is HierarchyNet else FusionNetConfig)(dropout=0.0)
    model = architecture(graph, {"mRNA": index, "protein": index[[0, 2, 4]]}, out_channels, config)
    batch = {"mRNA": torch.randn(32, 6), "protein": torch.randn(32, 3)}
    refresh_norm_statistics(model, FusionBatch(batch, *model.complete_inputs(batch)))
    return model


def _inputs(batch: int = 8, seed: int = 2) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"mRNA": torch.randn(batch, 6, generator=generator), "protein": torch.randn(batch, 3)}


def test_a_survival_model_attributes_its_log_risk() -> None:
    """A Cox head whose log-risk is ``x0 - 2 x1`` (linear, no graph): IG from the zero
    baseline gives each feature ``w_i x_i`` exactly, positive for evidence of a higher risk."""
    graph = RelationGraph.from_kg(_kg())
    index = torch.from_numpy(graph.index_of(GENES[:3]))
    config = FusionNetConfig(use_graph=False, input_dropout=0.0)
    model = KGFusionNet(graph, {"mRNA": index}, 1, config).eval()
    with torch.no_grad():
        model.heads["0"][1].weight.copy_(torch.tensor([[1.0, -2.0, 0.0]]))
        model.heads["0"][1].bias.zero_()
    x = torch.tensor([[3.0, 1.0, 5.0], [-1.0, 1.0, 0.0]])
    result = attribute(model, {"mRNA": x}, method="ig_features", n_steps=4)
    expected = torch.tensor([[3.0, -2.0, 0.0], [-1.0, -2.0, 0.0]])
    assert torch.allclose(result.feature_scores["mRNA"], expected)
    assert torch.allclose(result.scores[:, index], expected)
    assert result.target.tolist() == [0, 0]
    assert torch.allclose(result.probability, torch.tensor([1.0, -3.0]))  # the log-risks
    with pytest.raises(ValueError, match=r"target must give one output position in \[0, 1\)"):
        attribute(model, {"mRNA": x}, method="ig_features", target=torch.ones(2))


@pytest.mark.parametrize("out_channels", [1, 2])
@pytest.mark.parametrize("architecture", [KGFusionNet, HierarchyNet])
def test_every_method_explains_both_architectures(
    architecture: type[KGFusionNet], out_channels: int
) -> None:
    model, values = _untrained(architecture, out_channels).eval(), _inputs()
    output = model(values)
    explained = output if out_channels == 1 else torch.softmax(output, dim=-1)
    for method in ATTRIBUTION_METHODS:
        result = attribute(model, values, method=method, n_steps=8)
        assert result.scores.shape == (8, model.graph.num_nodes)
        assert torch.isfinite(result.scores).all()
        assert torch.allclose(result.probability, explained.max(dim=-1).values)
    # contributions add up to the graph branch's share of the (centred) output, minus the bias
    result = attribute(model, values, method="contribution")
    logits, available, _ = model.sources(values)
    _, gates = model.fuse(logits, available)
    graph = logits[:, 0] - model.readout.linear.bias
    centred = graph if out_channels == 1 else graph - graph.mean(dim=1, keepdim=True)
    share = gates[:, 0] * centred.gather(1, result.target[:, None]).squeeze(1)
    assert torch.allclose(result.scores.sum(dim=1), share, atol=1e-5)


@pytest.mark.parametrize("architecture", [KGFusionNet, HierarchyNet])
def test_node_state_ig_of_a_log_risk_is_complete(architecture: type[KGFusionNet]) -> None:
    """The readout and fusion are linear in the node states, so for a log-risk IG is exact:
    the scores add up to f(x) - f(baseline), the graph at its no-feature-observed state."""
    model, values = _untrained(architecture, 1).eval(), _inputs()
    result = attribute(model, values, method="ig", n_steps=2)
    observed, present = model.complete_inputs(values)
    unobserved = {m: torch.zeros_like(o) for m, o in observed.items()}
    with torch.no_grad():
        logits, available, _ = model.sources(values, observed, present)
        risk = model.fuse(logits, available)[0][:, 0]
        logits[:, 0], _ = model.readout(model.propagate(values, unobserved)[-1])
        baseline = model.fuse(logits, available)[0][:, 0]
    assert torch.allclose(result.scores.sum(dim=1), risk - baseline, atol=1e-5)
    assert (risk - baseline).abs().max() > 1e-3  # not trivially zero


@pytest.mark.parametrize("architecture", [KGFusionNet, HierarchyNet])
def test_absent_modalities_and_missing_features_score_nothing(
    architecture: type[KGFusionNet],
) -> None:
    model, values = _untrained(architecture, 2).eval(), _inputs()
    observed, present = model.complete_inputs(values)
    observed = {m: o.clone() for m, o in observed.items()}
    observed["mRNA"][:, 1] = False  # gene 1's mRNA value missing for everyone
    present = present.clone()
    present[:4, 1] = False  # the first four patients lack the protein modality
    result = attribute(model, values, observed, present, method="ig_features", n_steps=8)
    assert torch.all(result.feature_scores["protein"][:4] == 0)
    assert torch.all(result.feature_scores["mRNA"][:, 1] == 0)
    assert torch.all(result.feature_scores["protein"][4:] != 0)
    # an absent modality is the same as its features unobserved
    unobserved = {**observed, "protein": observed["protein"] & present[:, 1:]}
    for method in ATTRIBUTION_METHODS:
        absent = attribute(model, values, observed, present, method=method, n_steps=8)
        masked = attribute(model, values, unobserved, present, method=method, n_steps=8)
        assert torch.equal(absent.scores, masked.scores)
