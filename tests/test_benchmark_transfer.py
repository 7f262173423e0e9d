"""The helpers of ``benchmarks/transfer.py`` on a tiny hand-built KG: the barcode rule that keeps
target test patients out of pre-training, and the reuse of kept encoders by their stamp."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusion import Cohort, Modality
from kg import KnowledgeGraph, make_edges, make_nodes

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "transfer.py"
sys.path.insert(0, str(_PATH.parent))
_SPEC = importlib.util.spec_from_file_location("benchmark_transfer", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)

TINY = {"min_seeds": 1, "max_fraction": 1.0, "min_ic": 0.0}
PARAMS = {**TINY, "max_epochs": 2, "patience": 2, "batch_size": 0, "device": "cpu", "n_threads": 1}


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    ids = [f"NCBIGene:{i}" for i in range(1, 5)]
    nodes = pd.concat(
        [
            make_nodes(ids, "gene", "t", name=["G1", "G2", "G3", "G4"]),
            make_nodes(["GO:1"], "go_term", "t"),
        ]
    )
    return KnowledgeGraph(nodes, make_edges(ids, "involved_in", ["GO:1"] * 4, "t"))


def cohort(ids: list[str], seed: int = 0) -> Cohort:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(len(ids), 4)), index=ids, columns=["G1", "G2", "G3", "G4"])
    return Cohort({"mRNA": x}, [Modality("mRNA", "mRNA", "symbol")])


def test_assert_disjoint_matches_mixomics_ids_on_the_barcode_tail() -> None:
    barcodes = pd.Index(["TCGA-A1-A0SB", "TCGA-A2-A04P"])
    bench.assert_disjoint(barcodes, pd.Index(["A0SK"]), "pre-training")
    with pytest.raises(AssertionError, match="1 target test patients"):
        bench.assert_disjoint(barcodes, pd.Index(["A04P", "A0SK"]), "pre-training")


def test_minus_mixomics_drops_every_shared_patient() -> None:
    source = cohort(["TCGA-A1-A0SB", "TCGA-A2-A04P", "TCGA-BH-A0BZ"])
    target = cohort(["A04P", "A0SK", "A1B2"])
    assert list(bench.minus_mixomics(source, target).samples) == ["TCGA-A1-A0SB", "TCGA-BH-A0BZ"]


def test_kept_encoders_are_reused_only_when_their_stamp_matches(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    pooled = [cohort([f"p{i}" for i in range(20)])]
    first, rows = bench.pretrained_encoders(kg, pooled, [], PARAMS, tmp_path)
    assert sorted(first) == ["none", "rewired"] and not any(r["reused"] for r in rows)
    again, rows = bench.pretrained_encoders(kg, pooled, [], PARAMS, tmp_path)
    assert again == first and all(r["reused"] for r in rows)
    assert rows[0]["wall s"] > 0  # the row measured when it was pre-trained
    other = [cohort([f"p{i}" for i in range(20)], seed=1)]  # other values: other checksum
    _, rows = bench.pretrained_encoders(kg, other, [], PARAMS, tmp_path)
    assert not any(r["reused"] for r in rows)
    _, rows = bench.pretrained_encoders(kg, other, [], {**PARAMS, "max_epochs": 3}, tmp_path)
    assert not any(r["reused"] for r in rows)


def test_draw_is_stratified_on_an_arrow_backed_index() -> None:
    ids = pd.Index([f"p{i}" for i in range(12)], dtype="string[pyarrow]")
    data = cohort(list(ids))
    labels = pd.Series(["a", "b", "c"] * 4, index=data.samples)
    data = Cohort({"mRNA": data["mRNA"]}, [data.modalities["mRNA"]], labels=labels)
    part = bench.draw(data, 6, seed=0)
    assert part.n_samples == 6 and part.labels.value_counts().tolist() == [2, 2, 2]
    assert bench.draw(data, 12, seed=0) is data
