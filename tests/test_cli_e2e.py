"""The command line end to end on a tiny synthetic cohort: kg build → data link → train → predict → explain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _workspace import planted_workspace

pytestmark = pytest.mark.slow


def kgfusion(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    script = Path(sys.executable).with_name("kgfusion")  # the installed console script
    command = [str(script), *args]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    planted_workspace(root, n_samples=80, n_features=120, max_epochs=15)
    return root


def test_cli_end_to_end(workspace: Path) -> None:
    built = kgfusion("kg", "build", "-o", str(workspace / "graph"), "--no-progress", cwd=workspace)
    assert built.returncode == 0, built.stderr
    assert "pathway" in built.stdout

    linked = kgfusion(
        "data",
        "link",
        str(workspace / "cohort"),
        "--kg",
        str(workspace / "graph"),
        "-f",
        "json",
        cwd=workspace,
    )
    assert linked.returncode == 0, linked.stderr

    trained = kgfusion("train", "run.yaml", "--no-progress", cwd=workspace)
    assert trained.returncode == 0, trained.stderr
    model = workspace / "out" / "model"
    assert (model / "config.json").exists() and (model / "kg").is_dir()

    predicted = kgfusion(
        "predict", str(model), str(workspace / "cohort"), "-o", "pred.csv", cwd=workspace
    )
    assert predicted.returncode == 0, predicted.stderr
    header = (workspace / "pred.csv").read_text().splitlines()[0]
    assert header.split(",")[1:4] == ["label", "predicted", "p_case"]

    patient = (workspace / "pred.csv").read_text().splitlines()[1].split(",")[0]
    shown = kgfusion(
        "explain",
        "-m",
        str(model),
        "-d",
        str(workspace / "cohort"),
        "-p",
        patient,
        "--top",
        "5",
        "-t",
        "pathway",
        "-f",
        "json",
        cwd=workspace,
    )
    assert shown.returncode == 0, shown.stderr
    payload = json.loads(shown.stdout)
    assert payload[0]["patient"] == patient
    assert len(payload[0]["top"]) == 5
    assert {row["type"] for row in payload[0]["top"]} == {"pathway"}

    decomposed = kgfusion(
        "explain",
        "-m",
        str(model),
        "-d",
        str(workspace / "cohort"),
        "-p",
        patient,
        "--top",
        "3",
        "-t",
        "pathway",
        "--method",
        "ig_features",
        "--decompose",
        "-f",
        "json",
        cwd=workspace,
    )
    assert decomposed.returncode == 0, decomposed.stderr
    rows = json.loads(decomposed.stdout)[0]["top"]
    assert len(rows) == 3 and {row["type"] for row in rows} == {"pathway"}
    assert all(row["score"] >= 0 for row in rows)
    written = kgfusion(  # png, graphml and html: tests/fusion/test_cli_explain.py, in process
        "explain", "-m", str(model), "-d", str(workspace / "cohort"), "-p", patient,
        "-f", "ttl", "-o", "e.ttl", cwd=workspace,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert (workspace / "e.ttl").stat().st_size > 0


def test_cli_bad_inputs_name_what_is_wrong(workspace: Path) -> None:
    bad = workspace / "bad.yaml"
    bad.write_text(
        "cohort: {format: tables, path: cohort}\nmodel: {name: kgfusion, params: {hiden: 3}}\n"
    )
    result = kgfusion("train", str(bad), cwd=workspace)
    assert result.returncode == 2
    assert "hiden" in result.stderr

    result = kgfusion(
        "explain",
        "-m",
        str(workspace / "nope"),
        "-d",
        str(workspace / "cohort"),
        "-p",
        "x",
        cwd=workspace,
    )
    assert result.returncode == 2
    assert "nope" in result.stderr
