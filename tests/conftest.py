"""Shared pytest fixtures: where the real data lives, and tiny fixture files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "data"


def shared_data_dir() -> Path:
    """``$KGFUSION_DATA`` or ``../shared/data`` beside the project root."""
    return Path(os.environ.get("KGFUSION_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data folder; fails in CI when it is missing, skips elsewhere."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        if os.environ.get("CI"):
            pytest.fail(f"real data missing at {path} (set KGFUSION_DATA); CI must have it")
        pytest.skip(f"real data not found at {path}; set KGFUSION_DATA to run real-data tests")
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """Folder of the small committed test fixtures."""
    return FIXTURES


@pytest.fixture(scope="session")
def planted_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """``kgfusion train`` on a tiny planted workspace (40 patients, 80 features, 5 epochs), once
    per test process: the model folder, the cohort folder and the patients. Tests only read it."""
    from _workspace import planted_workspace
    from typer.testing import CliRunner

    from fusion.app.cli import app

    root = tmp_path_factory.mktemp("planted-model")
    cohort = planted_workspace(root, n_samples=40, n_features=80, max_epochs=5)
    result = CliRunner().invoke(app, ["train", str(root / "run.yaml"), "--no-progress"])
    assert result.exit_code == 0, result.output
    return root / "out" / "model", root / "cohort", [str(p) for p in cohort.samples]
