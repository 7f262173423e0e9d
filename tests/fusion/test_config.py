"""Run configuration: validation messages name the key and the file; sections build what they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusion.app.config import ConfigError, RunConfig
from fusion.app.run import kg_config, read_run_cohort

TINY = Path(__file__).resolve().parents[1] / "data"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_minimal_config_defaults_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "cohort").symlink_to(TINY / "mogonet_tiny")
    config = RunConfig.from_yaml(write(tmp_path, "cohort: {format: mogonet, path: cohort}\n"))
    assert config.cohort.path == tmp_path / "cohort"
    assert config.kg.preset == "embedded"
    assert config.model.name == "kgfusion"
    assert config.evaluation.protocol == "official"
    assert config.evaluation.seeds == [0, 1, 2, 3, 4]
    assert config.output == tmp_path / "kgfusion-out/run"
    cohort = read_run_cohort(config.cohort)
    assert cohort.split is not None and len(cohort.modalities) == 3


def test_environment_variables_are_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_DATA", str(TINY))
    config = RunConfig.from_yaml(
        write(tmp_path, "cohort: {format: mogonet, path: $TINY_DATA/mogonet_tiny}\n")
    )
    assert config.cohort.path == TINY / "mogonet_tiny"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cohort: {format: mogonet, path: x}\nmodel: {nme: kgfusion}\n", "model.nme: unknown key"),
        ("cohort: {format: parquet, path: x}\n", "cohort.format"),
        ("cohort: {format: mogonet, path: missing}\n", "cohort.path"),
        ("cohort: {format: modalities}\n", "cohort.modalities"),
        (
            "cohort: {format: mogonet, path: .}\nevaluation: {n_splits: many}\n",
            "evaluation.n_splits",
        ),
        ("cohort: {format: mogonet, path: .}\nevaluation: {seeds: []}\n", "evaluation.seeds"),
        ("cohort: {format: mogonet, path: .}\nkg: {preset: shared, sources: []}\n", "kg.sources"),
        (
            "cohort: {format: mogonet, path: .}\nkg: {sources: [{path: nope.obo, format: obo}]}\n",
            "nope.obo",
        ),
        ("- just\n- a list\n", "expected a mapping"),
        ("cohort: {format: [\n", "not valid YAML"),
    ],
)
def test_invalid_configs_name_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        RunConfig.from_yaml(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        RunConfig.from_yaml(tmp_path / "absent.yaml")


def test_kg_sources_section_builds_a_kg_config(tmp_path: Path) -> None:
    (tmp_path / "mini.obo").symlink_to(TINY / "mini.obo")
    text = "cohort: {format: mogonet, path: .}\nkg: {sources: [{path: mini.obo, format: obo}]}\n"
    config = kg_config(RunConfig.from_yaml(write(tmp_path, text)).kg)
    assert [(s.path, s.format) for s in config.sources] == [(tmp_path / "mini.obo", "obo")]


def test_train_refuses_to_replace_a_foreign_folder_or_save_a_baseline(tmp_path: Path) -> None:
    from fusion.app.run import fit_from_config

    (tmp_path / "cohort").symlink_to(TINY / "mogonet_tiny")
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    config = RunConfig.from_yaml(write(tmp_path, "cohort: {format: mogonet, path: cohort}\n"))
    with pytest.raises(ConfigError, match="not a model folder"):
        fit_from_config(config, out=foreign, progress=False)
    assert (foreign / "keep.txt").read_text() == "mine"
    baseline = RunConfig.from_dict(
        {
            "cohort": {"format": "mogonet", "path": str(TINY / "mogonet_tiny")},
            "model": {"name": "rf"},
        }
    )
    with pytest.raises(ConfigError, match="baseline without checkpoints"):
        fit_from_config(baseline, out=tmp_path / "model", progress=False)
    assert not (tmp_path / "model").exists()
