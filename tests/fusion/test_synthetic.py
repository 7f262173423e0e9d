"""The planted-signal cohort generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusion import InvalidParameterError
from fusion.data.synthetic import make_planted_cohort, pathway_genes
from kg import KnowledgeGraph, UnknownNodeError, make_edges, make_nodes


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    """Pathways P1 (with sub-pathway P1a), P2..P5; 60 genes g0..g59, 8 per lowest pathway."""
    genes = [f"NCBIGene:{i}" for i in range(60)]
    pathways = ["reactome:P1", "reactome:P1a", "reactome:P2", "reactome:P3", "reactome:P4"]
    nodes = pd.concat(
        [
            make_nodes(genes, "gene", "t", name=[f"G{i}" for i in range(60)]),
            make_nodes(pathways, "pathway", "t"),
        ]
    )
    members = [(genes[8 * j + i], p) for j, p in enumerate(pathways) for i in range(8)]
    edges = pd.concat(
        [
            make_edges([g for g, _ in members], "member_of", [p for _, p in members], "t"),
            make_edges(["reactome:P1a"], "part_of", ["reactome:P1"], "t"),
        ]
    )
    return KnowledgeGraph(nodes, edges)


def test_pathway_genes_include_subpathways(kg: KnowledgeGraph) -> None:
    assert len(pathway_genes(kg, "reactome:P1")) == 16
    assert pathway_genes(kg, "reactome:P2").tolist() == [f"NCBIGene:{i}" for i in range(16, 24)]


def test_planted_cohort_shapes_missingness_and_signal(kg: KnowledgeGraph) -> None:
    cohort, truth = make_planted_cohort(
        kg, ["reactome:P2"], n_samples=400, n_features=30, n_decoys=2, missing_fraction=0.25, seed=1
    )
    assert cohort.n_samples == 400 and list(cohort.modalities) == ["mRNA", "protein"]
    assert cohort.presence["mRNA"].all()
    assert 0.15 < 1 - cohort.presence["protein"].mean() < 0.35
    assert cohort["protein"].shape[1] == 30
    assert set(truth.genes) == {f"NCBIGene:{i}" for i in range(16, 24)}
    assert truth.feature_nodes["mRNA"]["G16"] == "NCBIGene:16"
    assert len(truth.decoys) == 2 and "reactome:P2" not in truth.decoys
    y = (cohort.labels == "case").to_numpy()
    assert 0.45 < y.mean() < 0.55
    x = cohort["mRNA"]
    planted = x[[f"G{i}" for i in range(16, 24)]].mean(axis=1).to_numpy()
    others = [c for c in x.columns if truth.feature_nodes["mRNA"][c] not in truth.genes]
    assert np.corrcoef(planted, y)[0, 1] > 0.5
    assert abs(np.corrcoef(x[others].mean(axis=1), y)[0, 1]) < 0.2


def test_planted_cohort_is_seeded(kg: KnowledgeGraph) -> None:
    a, _ = make_planted_cohort(kg, ["reactome:P1"], n_samples=20, n_features=30, seed=3)
    b, _ = make_planted_cohort(kg, ["reactome:P1"], n_samples=20, n_features=30, seed=3)
    c, _ = make_planted_cohort(kg, ["reactome:P1"], n_samples=20, n_features=30, seed=4)
    pd.testing.assert_frame_equal(a["protein"], b["protein"])
    assert not a["mRNA"].equals(c["mRNA"])


def test_planted_cohort_bad_input(kg: KnowledgeGraph) -> None:
    with pytest.raises(UnknownNodeError):
        make_planted_cohort(kg, ["reactome:nope"])
    with pytest.raises(InvalidParameterError, match="missing_fraction"):
        make_planted_cohort(kg, ["reactome:P1"], missing_fraction=1.0)
    with pytest.raises(InvalidParameterError, match="planted genes"):
        make_planted_cohort(kg, ["reactome:P1"], n_features=10)


@pytest.mark.realdata
def test_planted_cohort_over_reactome(data_dir: Path) -> None:
    from kg import GeneNormalizer, compose, read_gmt, read_reactome_pathways

    r = data_dir / "reactome"
    kg = compose(
        [
            read_reactome_pathways(
                r / "ReactomePathways_human_2025-01-21.txt",
                r / "ReactomePathwaysRelation_human_2025-01-14.txt",
            ),
            read_gmt(
                r / "ReactomePathways_human_symbols_lowest_2025-01.gmt.gz",
                GeneNormalizer.from_gene_info(data_dir / "go" / "gene_info_human.tsv.gz"),
            ),
        ]
    )
    planted = ["reactome:R-HSA-196757", "reactome:R-HSA-71403"]  # folate, TCA cycle
    cohort, truth = make_planted_cohort(kg, planted, n_samples=50, seed=0)
    assert truth.pathways == planted
    assert truth.genes.isin(truth.feature_nodes["mRNA"].to_numpy()).all()
    assert cohort["mRNA"].shape == (50, 300)
