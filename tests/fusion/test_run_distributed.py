"""``kgfusion train --nproc 2``: two gloo processes under torchrun, one model folder, by rank 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fusion.models import KGFusionClassifier

pytestmark = pytest.mark.slow

TINY = Path(__file__).resolve().parents[1] / "data"


def test_two_processes_write_one_model_folder(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        f"cohort: {{format: mogonet, path: {TINY / 'mogonet_tiny'}}}\n"
        "model: {name: kgfusion, params: {n_ensemble: 1, max_epochs: 2, hidden: 4, "
        "embedding: 4, batch_size: 16, device: cpu, n_threads: 1}}\n"
        f"output: {tmp_path / 'out'}\n"
    )
    folder = tmp_path / "out" / "model"
    command = [sys.executable, "-m", "fusion", "train", str(config), "--no-progress"]
    result = subprocess.run(
        [*command, "--nproc", "2"], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("saved model to") == 1  # rank 0 alone reports (and writes)
    record = json.loads((folder / "run.json").read_text())
    assert record["world_size"] == 2 and record["n_test"] > 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model"]  # no staging left
    model = KGFusionClassifier.load(folder)
    assert len(model.models_) == 1
