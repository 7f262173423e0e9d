"""Every example in the README runs as written: its YAML validates, its Python runs, its shell
commands run (against the shared data, from a folder beside it as on a fresh clone)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fusion.app.config import RunConfig
from kg import load_yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent  # the environment's console scripts (kgfusion)

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def blocks(language: str, after: str | None = None) -> list[str]:
    """The README's fenced ``language`` blocks (those after the heading ``after``)."""
    text = README if after is None else README[README.index(after) :]
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A project folder with ``../shared/data`` beside it, as in a fresh clone."""
    root = tmp_path_factory.mktemp("readme")
    (root / "shared").mkdir()
    (root / "shared" / "data").symlink_to(data_dir)
    (root / "project").mkdir()
    return root / "project"


def test_the_readme_has_the_examples_this_file_runs() -> None:
    assert len(blocks("yaml")) == 1 and len(blocks("python")) == 1
    assert len(blocks("bash", after="## The command line")) == 2  # the CLI, then the store


def test_the_run_configuration_is_valid_yaml_and_validates(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workspace / "rosmap.yaml"
    path.write_text(blocks("yaml")[0], encoding="utf-8")
    monkeypatch.setenv("KGFUSION_DATA", "../shared/data")
    config = RunConfig.from_dict(load_yaml(path), base=workspace, origin=str(path))
    assert config.cohort.path is not None and config.cohort.path.name == "mogonet_rosmap"
    assert config.output == workspace / "kgfusion-out" / "rosmap"


def test_the_python_example_runs(workspace: Path) -> None:
    script = workspace / "example.py"
    script.write_text(blocks("python")[0], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=workspace, capture_output=True, text=True, check=False,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "held-out accuracy" in done.stdout


def test_the_shell_examples_run(workspace: Path) -> None:
    (workspace / "rosmap.yaml").write_text(blocks("yaml")[0], encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("KGFUSION_DATA", None)  # the README's commands say where the data is
    commands = [  # in order: the store commands use the model the first block trains
        line
        for block in blocks("bash", after="## The command line")
        for line in block.splitlines()
        if line
    ]
    for command in commands:
        done = subprocess.run(
            command, shell=True, cwd=workspace, env=env, capture_output=True, text=True,
            check=False, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, command
    assert (workspace / "kgfusion-out" / "explorer.html").stat().st_size > 0
    # the README's run (one member, seed 0) is the model ROSMAP's official split is scored on
    predicted = pd.read_csv(workspace / "predictions.csv", dtype={"label": str})
    held_out = predicted[predicted["sample"].str.startswith("test_")]
    assert len(held_out) == 106
    assert roc_auc_score(held_out["label"] == "1", held_out["p_1"]) > 0.8
