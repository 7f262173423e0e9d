"""Tests of fusion.pretrain, encoder folders, fine-tuning (pretrained=) and fusion.transfer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fusion import AlignmentError, CheckpointError, Cohort, InvalidParameterError, Modality
from fusion.models import (
    KGFusionClassifier,
    PretrainedEncoder,
    PretrainParams,
    cohort_checksum,
    is_encoder_dir,
    pretrain,
    transfer,
)
from gnn import FusionNetConfig, KGFusionNet, load_encoder
from kg import KnowledgeGraph, make_edges, make_nodes

GENES = [f"G{i}" for i in range(1, 9)]
# GO:1 holds G1-G4, GO:2 holds G5-G8; panel A measures G1, G2, G5, G6, panel B G3, G4, G7, G8
PANEL_A, PANEL_B = ["G1", "G2", "G5", "G6"], ["G3", "G4", "G7", "G8"]
TINY = {"min_seeds": 1, "max_fraction": 1.0, "min_ic": 0.0}


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    ids = [f"NCBIGene:{i}" for i in range(1, 9)]
    nodes = pd.concat(
        [
            make_nodes(ids, "gene", "test", name=GENES),
            make_nodes(["GO:1", "GO:2"], "go_term", "test"),
        ]
    )
    return KnowledgeGraph(
        nodes, make_edges(ids, "involved_in", ["GO:1"] * 4 + ["GO:2"] * 4, "test")
    )


def cohort(panel: list[str], n: int, seed: int, prefix: str) -> Cohort:
    """Standard-normal mRNA of ``panel``; the label is the sign of the panel's GO:1 genes' sum."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, len(panel))), columns=panel)
    x.index = [f"{prefix}{i}" for i in range(n)]
    y = pd.Series(np.where(x[panel[:2]].sum(axis=1) > 0, "up", "down"), index=x.index)
    return Cohort({"mRNA": x}, [Modality("mRNA", "mRNA", "symbol")], labels=y)


PARAMS = PretrainParams(**TINY, max_epochs=5, batch_size=0, device="cpu", n_threads=1)


@pytest.fixture(scope="module")
def encoder_dir(kg: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encoder pre-trained on panel A whose graph also covers panel B."""
    encoder = pretrain(
        cohort(PANEL_A, 40, 0, "a"), kg, PARAMS, cover=[cohort(PANEL_B, 4, 1, "b")], names=["A"]
    )
    return encoder.save(tmp_path_factory.mktemp("encoder") / "enc")


def test_encoder_folder_round_trip_gives_identical_outputs(encoder_dir: Path) -> None:
    assert is_encoder_dir(encoder_dir) and not is_encoder_dir(encoder_dir.parent)
    first, second = PretrainedEncoder.load(encoder_dir), PretrainedEncoder.load(encoder_dir)
    assert first.layout.channels == ("mRNA",) and first.cohorts[0]["name"] == "A"
    assert first.cohorts[0]["patients"] == 40 and len(first.cohorts[0]["sha256"]) == 64
    assert sorted(first.graph.node_ids) == sorted(
        [f"NCBIGene:{i}" for i in range(1, 9)] + ["GO:1", "GO:2"]
    )
    outputs = []
    for encoder in (first, second):
        torch.manual_seed(0)
        net = KGFusionNet(
            encoder.graph, {"mRNA": torch.tensor([0, 1])}, 2, FusionNetConfig(direct="none")
        )
        load_encoder(net, encoder.state, encoder.layout, ["mRNA"])
        outputs.append(net.eval().propagate({"mRNA": torch.ones(3, 2)})[-1])
    assert torch.equal(outputs[0], outputs[1])
    rewritten = first.save(encoder_dir.parent / "again")
    again = PretrainedEncoder.load(rewritten)
    assert all(torch.equal(again.state[k], first.state[k]) for k in first.state)


def test_pretraining_is_deterministic_and_ignores_labels(kg: KnowledgeGraph) -> None:
    data = cohort(PANEL_A, 40, 0, "a")
    unlabelled = Cohort({"mRNA": data["mRNA"]}, [data.modalities["mRNA"]])
    one, two = pretrain(data, kg, PARAMS), pretrain(unlabelled, kg, PARAMS)
    assert all(torch.equal(one.state[k], two.state[k]) for k in one.state)
    assert one.history["n_train"] == 32 and one.history["n_val"] == 8
    assert one.history["zero_val_loss"] > 0  # the level of predicting every hidden value as 0
    assert one.cohorts[0]["sha256"] == cohort_checksum(unlabelled)


def test_zero_baseline_depends_on_the_held_out_masking_not_on_training(kg: KnowledgeGraph) -> None:
    """``zero_val_loss`` scores predicting 0 on the held-out patients' fixed masking: the same
    whatever the optimisation, another value under another seed (another split and masking)."""
    data = cohort(PANEL_A, 40, 0, "a")
    base = pretrain(data, kg, PARAMS).history["zero_val_loss"]
    slower = PretrainParams(**{**PARAMS.to_dict(), "lr": 1e-4, "max_epochs": 2})
    assert pretrain(data, kg, slower).history["zero_val_loss"] == base
    reseeded = PretrainParams(**{**PARAMS.to_dict(), "random_state": 1})
    assert pretrain(data, kg, reseeded).history["zero_val_loss"] != base


def test_pooled_panels_share_the_kind_channel(kg: KnowledgeGraph) -> None:
    encoder = pretrain([cohort(PANEL_A, 20, 0, "a"), cohort(PANEL_B, 20, 1, "b")], kg, PARAMS)
    assert encoder.layout.channels == ("mRNA",)  # one channel for both mRNA panels
    assert [c["patients"] for c in encoder.cohorts] == [20, 20]


def test_fine_tuning_on_a_panel_sharing_no_feature(kg: KnowledgeGraph, encoder_dir: Path) -> None:
    """Panel B shares no feature with the pre-training panel A, only KG nodes; the frozen
    encoder of every member is exactly the pre-trained one."""
    target = cohort(PANEL_B, 40, 2, "b")
    model = KGFusionClassifier(
        kg, **TINY, pretrained=encoder_dir,
        freeze_encoder=True, n_ensemble=2, max_epochs=10, device="cpu", n_threads=1,
    )  # fmt: skip
    model.fit(target)
    encoder = PretrainedEncoder.load(encoder_dir)
    assert model.graph_.relations == list(encoder.layout.relations)  # same order: by name
    for net in model.models_:
        for name, tensor in encoder.state.items():
            assert torch.equal(net.state_dict()[name], tensor), name
    assert model.predict_proba(target).shape == (40, 2)


def test_fine_tuning_starts_from_the_cohorts_readout_statistics(
    kg: KnowledgeGraph, encoder_dir: Path
) -> None:
    """The loaded member's readout standardisation is that of the pre-trained encoder's scores
    on the cohort, not the identity (whose lag stalled fine-tuning), and it is left to train."""
    from fusion.data.preprocess import ModalityScaler
    from fusion.models.finetune import encoder_init
    from fusion.models.tensors import cohort_batch
    from gnn import refresh_norm_statistics

    target = cohort(PANEL_B, 30, 3, "b")
    model = KGFusionClassifier(kg, **TINY, pretrained=encoder_dir, device="cpu")
    model.scaler_ = ModalityScaler().fit(target)
    model.feature_names_in_ = {"mRNA": target["mRNA"].columns}
    fitted = model.fit_graph(target, None)
    init = encoder_init(model, target, fitted.graph, fitted.feature_nodes)
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        nets.append(KGFusionNet(fitted.graph, fitted.feature_nodes, 2, model.net_config(True)))
    init(nets[0])
    encoder = PretrainedEncoder.load(encoder_dir)
    load_encoder(nets[1], encoder.state, encoder.layout, ["mRNA"])
    batch = cohort_batch(model.scaler_.transform(target), model.feature_names_in_)
    refresh_norm_statistics(nets[1], batch)
    norm, expected = nets[0].readout.norm, nets[1].readout.norm
    assert nets[0].training and not torch.equal(
        norm.running_mean, torch.zeros_like(norm.running_mean)
    )
    assert torch.allclose(norm.running_mean, expected.running_mean)
    assert torch.allclose(norm.running_var, expected.running_var)


def test_fine_tuned_model_round_trips(
    kg: KnowledgeGraph, encoder_dir: Path, tmp_path: Path
) -> None:
    target = cohort(PANEL_B, 30, 3, "b")
    model = KGFusionClassifier(
        kg, **TINY, pretrained=str(encoder_dir), n_ensemble=1, max_epochs=5,
        device="cpu", n_threads=1,
    ).fit(target)  # fmt: skip
    loaded = KGFusionClassifier.load(model.save(tmp_path / "model"))
    assert loaded.pretrained == str(encoder_dir)
    assert np.array_equal(loaded.predict_proba(target), model.predict_proba(target))


def test_encoder_without_the_targets_nodes_is_refused(kg: KnowledgeGraph, tmp_path: Path) -> None:
    folder = pretrain(cohort(PANEL_A, 20, 0, "a"), kg, PARAMS).save(tmp_path / "enc")
    model = KGFusionClassifier(kg, **TINY, pretrained=folder, n_ensemble=1, device="cpu")
    with pytest.raises(AlignmentError, match="does not hold 4 of the 4 nodes"):
        model.fit(cohort(PANEL_B, 20, 1, "b"))


def test_other_width_and_not_an_encoder_are_refused(
    kg: KnowledgeGraph, encoder_dir: Path, tmp_path: Path
) -> None:
    target = cohort(PANEL_B, 20, 1, "b")
    wide = KGFusionClassifier(kg, **TINY, pretrained=encoder_dir, hidden=8)
    with pytest.raises(InvalidParameterError, match="hidden=4, layers=2"):
        wide.fit(target)
    with pytest.raises(CheckpointError, match="not a kgfusion encoder folder"):
        KGFusionClassifier(kg, **TINY, pretrained=tmp_path).fit(target)


def test_zero_shot_transfer_reads_the_same_terms_on_another_panel(kg: KnowledgeGraph) -> None:
    """A classifier trained on panel A predicts panel B (no shared feature) through GO:1 and
    GO:2, whose readout weights it carries over by node id."""
    source = cohort(PANEL_A, 120, 0, "a")
    model = KGFusionClassifier(
        kg, **TINY, direct="none", n_ensemble=1, max_epochs=60, device="cpu", n_threads=1
    ).fit(source)
    target = cohort(PANEL_B, 80, 5, "b")
    moved = transfer(model, target)
    assert moved.modalities_ == ["mRNA"] and list(moved.feature_names_in_["mRNA"]) == PANEL_B
    readout = moved.models_[0].readout_ids
    assert set(readout) == {"GO:1", "GO:2"}
    source_ids = model.models_[0].readout_ids
    for j, node in enumerate(readout):
        i = source_ids.index(node)
        assert torch.equal(
            moved.models_[0].readout.linear.weight[:, j],
            model.models_[0].readout.linear.weight[:, i],
        )
    assert list(moved.classes_) == list(model.classes_)
    accuracy = float((moved.predict(target) == target.labels.to_numpy()).mean())
    assert accuracy > 0.75  # GO:1 carries the label in both panels; chance is about 0.5
