"""The one-command demo: report files, honest metrics, working links, determinism, the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fusion import InvalidParameterError
from fusion.app.demo import (
    METRIC_COLUMNS,
    PLANTED_PATHWAYS,
    DemoReport,
    run_demo,
)

LINK = re.compile(r"(?:href|src)='([^']+)'")
KGFUSION = Path(sys.executable).with_name("kgfusion")  # the installed console script


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    return run_demo(tmp_path_factory.mktemp("demo") / "report", size="small", progress=False)


def test_report_files_exist_and_are_non_empty(report: DemoReport) -> None:
    out = report.out
    names = {
        "index.html",
        "metrics.csv",
        "metrics.md",
        "run.json",
        "explanations.ttl",
        "top_terms.png",
    }
    assert names <= {p.name for p in out.iterdir()}
    assert len(report.explanations) == 3
    for path in [*report.explanations.values(), *report.pictures, report.turtle, report.index]:
        assert path.parent == out and path.stat().st_size > 0, path
    assert sum(p.name.startswith("subgraph_") for p in report.pictures) == 3
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in report.pictures)
    table = pd.read_csv(next(iter(report.explanations.values())))
    assert {"id", "name", "type", "score", "rank"} <= set(table.columns) and len(table) > 0
    assert not list(out.parent.glob(f".{out.name}.*")), "staging folder left behind"


def test_metrics_are_probabilities_for_model_and_baseline(report: DemoReport) -> None:
    metrics = report.metrics
    assert list(metrics.index) == ["KG fusion", "baseline"]
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert ((metrics >= 0) & (metrics <= 1)).all().all()
    on_disk = pd.read_csv(report.out / "metrics.csv", index_col=0)
    pd.testing.assert_frame_equal(on_disk, metrics, atol=1e-4, check_names=False)
    assert "| KG fusion |" in (report.out / "metrics.md").read_text()


def test_html_links_resolve_to_report_files(report: DemoReport) -> None:
    page = report.index.read_text(encoding="utf-8")
    links = LINK.findall(page)
    assert "top_terms.png" in links and "metrics.csv" in links
    assert all(name in links for name in (p.name for p in report.explanations.values()))
    for link in links:
        assert "://" not in link and not link.startswith("/"), link
        assert (report.out / link).is_file(), link


def test_run_json_records_seed_ranks_and_timings(report: DemoReport) -> None:
    record = json.loads(report.run_json.read_text())
    assert record["seed"] == 0
    assert [p["id"] for p in record["planted"]] == list(PLANTED_PATHWAYS)
    assert set(record["timings_s"]) >= {"knowledge graph", "KG fusion model", "total"}
    assert "torch" in record["versions"]
    ranks = report.planted_ranks
    assert list(ranks.columns) == list(PLANTED_PATHWAYS)
    assert len(ranks) >= 3 + 1  # three patients and at least the all-patient aggregate
    assert ranks.loc[ranks.index[-1]].notna().all()  # both are in the model's graph
    assert ((ranks >= 1) & (ranks <= ranks.attrs["n_pathways"])).all().all()
    row = ranks.iloc[-1]
    assert record["planted_ranks"][row.name] == {p: int(r) for p, r in row.items()}


def test_demo_is_deterministic_under_the_seed(report: DemoReport, tmp_path: Path) -> None:
    again = run_demo(tmp_path / "again", size="small", progress=False)
    pd.testing.assert_frame_equal(again.metrics, report.metrics)
    pd.testing.assert_frame_equal(again.planted_ranks, report.planted_ranks)
    assert list(again.explanations) == list(report.explanations)


def test_an_earlier_report_is_replaced_but_other_folders_are_not(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a kgfusion demo report"):
        run_demo(taken, size="small", progress=False)
    assert (taken / "notes.txt").read_text() == "mine"
    with pytest.raises(InvalidParameterError, match="size"):
        run_demo(tmp_path / "r", size="huge", progress=False)
    with pytest.raises(InvalidParameterError, match="real"):
        run_demo(tmp_path / "r", real="tcga", progress=False)  # type: ignore[arg-type]


def test_an_interrupted_run_leaves_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("fusion.app.demo.explain", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_demo(tmp_path / "report", size="small", progress=False)
    assert list(tmp_path.iterdir()) == []  # neither the report nor its staging folder


def test_missing_data_dir_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-data"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        run_demo(tmp_path / "r", real="rosmap", data_dir=missing, progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_cli_demo_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "cli-report"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [str(KGFUSION), "demo", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "KG fusion" in done.stdout and "report:" in done.stdout
    assert (out / "index.html").stat().st_size > 0
    assert json.loads((out / "run.json").read_text())["seed"] == 0


def test_cli_demo_names_the_missing_data_dir(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [str(KGFUSION), "demo", "--real", "rosmap", "--data-dir", str(missing),
         "--out", str(tmp_path / "r"), "--no-progress"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert str(missing) in done.stderr


@pytest.mark.slow
@pytest.mark.realdata
def test_rosmap_demo_uses_the_official_split(data_dir: Path, tmp_path: Path) -> None:
    report = run_demo(
        tmp_path / "rosmap", real="rosmap", data_dir=data_dir, size="small", progress=False
    )
    record = json.loads(report.run_json.read_text())
    assert (record["cohort"]["n_train"], record["cohort"]["n_test"]) == (245, 106)
    assert ((report.metrics >= 0) & (report.metrics <= 1)).all().all()
    assert report.planted_ranks.empty and len(report.explanations) == 3
    assert all(p.startswith("test_") for p in report.explanations)
