"""Explanations of a saved model's pruned graph, subgraphs that reach nothing, zero-score rows and
the pictures' titles and colours (issue 15 items 20 and 24)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _cohorts import UnfittedEnsemble

from fusion import Cohort, InvalidParameterError
from fusion.explanations import (
    RELATION_COLORS,
    Explanation,
    explain,
    explanation_kg,
    plot_subgraph,
    write_html,
)
from fusion.explanations import plot as plot_module
from kg import KnowledgeGraph, make_edges, make_nodes

GENES = ["NCBIGene:1", "NCBIGene:2", "NCBIGene:3", "NCBIGene:4"]


def _full_kg() -> KnowledgeGraph:
    """Genes 1-3 are members of the lowest pathway L, part of the top pathway T; gene 4 of none."""
    nodes = pd.concat(
        [
            make_nodes(GENES, "gene", "t", name=["G1", "G2", "G3", "G4"]),
            make_nodes(["reactome:L", "reactome:T"], "pathway", "t", name=["Low", "Top"]),
        ]
    )
    edges = make_edges(
        [*GENES[:3], "reactome:L"],
        ["member_of"] * 3 + ["part_of"],
        ["reactome:L"] * 3 + ["reactome:T"],
        "t",
    )
    return KnowledgeGraph(nodes, edges)


class _Identity:
    def transform(self, cohort):
        return cohort


class _Estimator(UnfittedEnsemble):
    """A fitted model whose pruned graph dropped L and bridges the genes to T (as seed_closure
    does); ``kg`` is the full KG, or what a saved model folder keeps: the KG induced by the
    model's nodes, without the genes' paths to T."""

    def __init__(self, saved: bool) -> None:
        import torch

        from gnn import FusionNetConfig, KGFusionNet, RelationGraph

        full = _full_kg()
        keep = [*GENES, "reactome:T"]
        bridged = KnowledgeGraph(
            full.nodes.loc[keep], make_edges(GENES[:3], "member_of", ["reactome:T"] * 3, "t")
        )
        torch.manual_seed(0)
        self.graph_ = RelationGraph.from_kg(bridged, group="type")
        nodes = torch.from_numpy(self.graph_.index_of(GENES))
        config = FusionNetConfig(dropout=0.0)
        self.models_ = [KGFusionNet(self.graph_, {"mRNA": nodes}, 2, config).eval()]
        self.kg = full.subgraph(keep) if saved else full
        self.classes_ = ["a", "b"]
        self.scaler_ = _Identity()
        self.feature_names_in_ = {"mRNA": pd.Index(["g1", "g2", "g3", "g4"])}


def _cohort() -> Cohort:
    frame = pd.DataFrame(
        [[1.0, 2.0, 0.5, 0.1], [0.3, 1.5, 2.5, 1.0]],
        index=["p", "q"],
        columns=["g1", "g2", "g3", "g4"],
    )
    return Cohort({"mRNA": frame})


def test_a_saved_models_explanations_reach_the_terms_the_model_reaches() -> None:
    saved = _Estimator(saved=True)
    assert saved.kg.edges.empty  # the ROSMAP condition: no path from any input to a pathway
    (genes,) = explain(saved, _cohort(), ["p"], method="ig_features", n_steps=4)
    decomposed = genes.decompose("pathway")  # before: "none of the 1 candidate terms is reached"
    assert decomposed.scores.index.tolist() == ["reactome:T"]
    graph = genes.subgraph(1, "pathway")
    assert "reactome:T" in graph and not graph.graph["unreached"]
    assert {key for _, _, key in graph.edges(keys=True)} == {"gene->pathway"}
    assert explanation_kg(saved) is genes.kg  # built once: explanations of one model compare
    full = _Estimator(saved=False)
    assert explanation_kg(full) is full.kg  # the full KG keeps its own paths, nothing added


def test_decompose_says_which_min_inputs_would_work() -> None:
    kg = _full_kg()
    scores = pd.Series(
        {"NCBIGene:1": 1.0, "NCBIGene:2": 0.5, "NCBIGene:4": 0.1, "reactome:L": 0, "reactome:T": 0}
    )
    e = Explanation(kg, scores, inputs=["NCBIGene:1", "NCBIGene:4"], patient="p")
    with pytest.raises(InvalidParameterError, match=r"best reached has 1 input.*--min-inputs 1"):
        e.decompose("pathway", min_inputs=2)
    assert e.decompose("pathway", min_inputs=1).scores.index.tolist() == [
        "reactome:L",
        "reactome:T",
    ]
    alone = Explanation(
        KnowledgeGraph(kg.nodes, kg.edges.iloc[3:]), scores, ["NCBIGene:4", "NCBIGene:2"], "p"
    )
    with pytest.raises(InvalidParameterError, match="no input reaches any of them"):
        alone.decompose("pathway")


def test_nothing_reached_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    kg = _full_kg()
    e = Explanation(kg, pd.Series({"reactome:T": 1.0}), ["NCBIGene:1"], "p", method="ig")
    assert e.hops_from_inputs(["reactome:T"]) == 2
    for draw, name in ((plot_subgraph, "x.png"), (write_html, "x.html")):
        with pytest.raises(
            InvalidParameterError, match="nearest is 2 hops away: raise max_len to 2"
        ):
            draw(e, tmp_path / name, k=1, types="pathway", max_len=1)  # was: figure size (nan, 4.0)
        assert not (tmp_path / name).exists()
    assert plot_subgraph(e, tmp_path / "ok.png", k=1, types="pathway", max_len=2).exists()


def test_top_can_leave_out_zero_scores() -> None:
    e = Explanation(_full_kg(), pd.Series({"reactome:T": 1.0, "reactome:L": 0.0}), [], "p")
    assert e.top(5, "pathway")["id"].tolist() == ["reactome:T", "reactome:L"]
    assert e.top(5, "pathway", nonzero=True)["id"].tolist() == ["reactome:T"]


def _drawn(monkeypatch: pytest.MonkeyPatch, e: Explanation, tmp_path: Path, **options) -> object:
    """The axes plot_subgraph drew (its figure is kept instead of closed)."""
    figures = []
    monkeypatch.setattr(
        plot_module, "_save", lambda fig, plt, path, dpi: figures.append(fig) or path
    )
    plot_subgraph(e, tmp_path / "x.png", **options)
    return figures[0].axes[0]


def test_subgraph_title_counts_connectors_and_colours_are_fixed_by_relation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kg = _full_kg()
    scores = pd.Series({"reactome:T": 1.0, "reactome:L": 0.2, "NCBIGene:1": 0.5})
    e = Explanation(kg, scores, ["NCBIGene:1", "NCBIGene:2"], "p", method="ig", prediction="a")
    ax = _drawn(monkeypatch, e, tmp_path, k=1, types="pathway")
    title = ax.get_title()
    # one top pathway (T), one input on its path (G1), one connecting node (L)
    assert title.startswith("p: top 1 pathway nodes + 1 input feature + 1 connecting node (ig)")
    legend = {
        t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)
    }
    assert "connecting node (on a path to an input)" in legend
    colours = {r: legend[r].get_color() for r in ("member_of", "part_of")}
    assert colours == {
        "member_of": RELATION_COLORS["member_of"],
        "part_of": RELATION_COLORS["part_of"],
    }
    # another figure with other relations present keeps each relation's colour
    ax = _drawn(monkeypatch, e, tmp_path, k=2, types=["pathway", "gene"])
    legend = {
        t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)
    }
    assert legend["part_of"].get_color() == RELATION_COLORS["part_of"]


def test_same_column_edges_are_arcs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two pathways one hop from the input lie in one column; their part_of edge is an arc."""
    nodes = pd.concat(
        [make_nodes(["NCBIGene:1"], "gene", "t"), make_nodes(["A", "B", "C"], "pathway", "t")]
    )
    edges = make_edges(
        ["NCBIGene:1"] * 3 + ["A"], ["member_of"] * 3 + ["part_of"], ["A", "B", "C", "C"], "t"
    )
    kg = KnowledgeGraph(nodes, edges)
    e = Explanation(kg, pd.Series({"A": 1.0, "B": 0.9, "C": 0.8}), ["NCBIGene:1"], "p")
    ax = _drawn(monkeypatch, e, tmp_path, k=3, types="pathway")
    from matplotlib.patches import FancyArrowPatch

    arcs = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    styles = {type(p.get_connectionstyle()).__name__: p for p in arcs}
    rads = [p.get_connectionstyle().rad for p in arcs if hasattr(p.get_connectionstyle(), "rad")]
    assert any(abs(r) > 0.1 for r in rads), styles  # the A -part_of-> C edge bulges
