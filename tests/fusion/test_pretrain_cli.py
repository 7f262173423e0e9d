"""``kgfusion pretrain`` and ``model.pretrained``: YAML in, encoder folder out, fine-tuned model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fusion.app.cli import app
from fusion.app.config import ConfigError, RunConfig
from fusion.app.pretrain_run import PretrainRunConfig
from fusion.app.run import fit_from_config
from fusion.models import PretrainedEncoder

TINY = Path(__file__).resolve().parents[1] / "data"
PARAMS = {"max_epochs": 3, "batch_size": 0, "device": "cpu", "n_threads": 1}
runner = CliRunner()


def write(path: Path, raw: dict) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path


def test_pretrain_command_writes_an_encoder_folder_a_model_fine_tunes_from(tmp_path: Path) -> None:
    cohort = {"format": "mogonet", "path": str(TINY / "mogonet_tiny")}
    config = write(
        tmp_path / "pretrain.yaml",
        {"cohorts": {"rosmap": {**cohort, "part": "train"}}, "params": PARAMS, "output": "encoder"},
    )
    result = runner.invoke(app, ["pretrain", str(config), "--no-progress"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "encoder"
    record = json.loads((folder / "run.json").read_text())
    assert record["kind"] == "encoder" and record["seed"] == 0
    assert any("mogonet_tiny" in path for path in record["inputs"])
    encoder = PretrainedEncoder.load(folder)
    assert encoder.cohorts[0]["name"] == "rosmap" and "saved encoder to" in result.output
    run = RunConfig.from_dict(
        {
            "cohort": cohort,
            "model": {"params": {"n_ensemble": 1, "max_epochs": 2}, "pretrained": "encoder"},
            "output": str(tmp_path / "out"),
        },
        base=tmp_path,
    )
    assert run.model.params["pretrained"] == str(folder)
    fitted = fit_from_config(run, progress=False)
    assert fitted.estimator.pretrained == str(folder)
    # a second run replaces its own encoder folder
    assert runner.invoke(app, ["pretrain", str(config), "--no-progress"]).exit_code == 0


def test_bad_pretraining_parameters_and_a_missing_encoder_are_refused(tmp_path: Path) -> None:
    cohort = {"format": "mogonet", "path": str(TINY / "mogonet_tiny")}
    with pytest.raises(ConfigError, match="params: The 'mask_rate' parameter"):
        PretrainRunConfig.from_dict({"cohorts": {"a": cohort}, "params": {"mask_rate": 0}})
    with pytest.raises(ConfigError, match="cohorts.a.part"):
        PretrainRunConfig.from_dict({"cohorts": {"a": {**cohort, "part": "test"}}})
    with pytest.raises(ConfigError, match="model.pretrained: .* does not exist"):
        RunConfig.from_dict({"cohort": cohort, "model": {"pretrained": "nowhere"}}, base=tmp_path)
