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
