"""The run pipeline: nothing of a user's lost, folders written whole, bad configs refused early,
and a run record in every folder a run writes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fusion.app.run as run_module
from fusion import InvalidParameterError
from fusion.app.cli import app
from fusion.app.config import ConfigError, RunConfig
from fusion.app.folders import OutputFolderError, staged_folder
from fusion.app.record import RunRecord, read_kind
from fusion.app.run import evaluate_from_config, fit_from_config, prepare

TINY = Path(__file__).resolve().parents[1] / "data"
FAST = {"n_ensemble": 1, "max_epochs": 2, "hidden": 4, "embedding": 4, "random_state": 0}
runner = CliRunner()


def tiny_config(tmp_path: Path, **model: object) -> RunConfig:
    raw = {
        "cohort": {"format": "mogonet", "path": str(TINY / "mogonet_tiny")},
        "model": {"name": "kgfusion", "params": {**FAST, **model}},
        "evaluation": {"seeds": [0], "baselines": ["kgfusion_nograph"]},
        "output": str(tmp_path / "out"),
    }
    return RunConfig.from_dict(raw)


def victim(tmp_path: Path) -> Path:
    """A user's folder that happens to hold a config.json."""
    folder = tmp_path / "victim"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"mine": true}')
    (folder / "thesis.tex").write_text("\\documentclass{article}")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_train_never_deletes_a_foreign_folder(tmp_path: Path) -> None:
    folder = victim(tmp_path)
    before = snapshot(folder)
    with pytest.raises(OutputFolderError, match="not a model folder"):
        fit_from_config(tiny_config(tmp_path), out=folder, progress=False)
    assert snapshot(folder) == before
    assert not list(tmp_path.glob(".victim.*")), "staging folder left behind"


def test_cli_train_refuses_a_foreign_output_with_exit_code_2(tmp_path: Path) -> None:
    folder = victim(tmp_path)
    before = snapshot(folder)
    config = tmp_path / "run.yaml"
    config.write_text(
        f"cohort: {{format: mogonet, path: {TINY / 'mogonet_tiny'}}}\noutput: {tmp_path}\n"
    )
    result = runner.invoke(app, ["train", str(config), "-o", str(folder), "--no-progress"])
    assert result.exit_code == 2
    assert str(folder) in result.output and "Traceback" not in result.output
    assert snapshot(folder) == before


def test_train_replaces_its_own_model_and_writes_a_run_record(tmp_path: Path) -> None:
    config = tiny_config(tmp_path)
    first = fit_from_config(config, progress=False)
    assert read_kind(first.model_dir) == "model"
    record = json.loads((first.model_dir / "run.json").read_text())
    assert record["format"] == "kgfusion-run" and record["kind"] == "model"
    assert record["seed"] == 0 and record["config"]["model"]["params"]["max_epochs"] == 2
    assert {"python", "torch", "kgfusion"} <= set(record["versions"])
    assert "git_revision" in record and set(record["timings_s"]) >= {"knowledge graph", "fit"}
    assert any(path.endswith("1_tr.csv") for path in record["inputs"])
    assert record["n_test"] == first.n_test > 0
    second = fit_from_config(config, progress=False)  # an earlier model is replaced
    assert second.model_dir == first.model_dir and (second.model_dir / "config.json").exists()
    assert not list(first.model_dir.parent.glob(".model.*"))


def test_a_failed_fit_leaves_the_previous_model_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny_config(tmp_path)
    model_dir = fit_from_config(config, progress=False).model_dir
    before = snapshot(model_dir)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "save_kg", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit_from_config(config, progress=False)
    assert snapshot(model_dir) == before
    assert sorted(p.name for p in model_dir.parent.iterdir()) == ["model"]


def test_a_failed_swap_puts_the_previous_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "model"
    with staged_folder(out, "model") as staging:
        (staging / "weights").write_text("old")
        RunRecord("model").write(staging)
    real_rename = os.rename

    def failing(source: str | Path, target: str | Path) -> None:
        if str(source).endswith(".partial"):
            raise OSError("disk full")
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(OSError, match="disk full"), staged_folder(out, "model") as staging:
        (staging / "weights").write_text("new")
        RunRecord("model").write(staging)
    assert (out / "weights").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_evaluate_writes_a_whole_folder_with_its_record(tmp_path: Path) -> None:
    config = tiny_config(tmp_path)
    summary, folder = evaluate_from_config(config, progress=False)
    assert folder == tmp_path / "out" / "evaluation"
    assert {"results.csv", "summary.md", "run.json"} <= {p.name for p in folder.iterdir()}
    assert read_kind(folder) == "evaluation"
    assert list(summary.index.get_level_values(0)) == ["kgfusion", "kgfusion_nograph"]


def test_a_bad_model_parameter_fails_before_the_kg_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_now(*args: object, **kwargs: object) -> None:
        raise AssertionError("the KG was built before the parameters were checked")

    monkeypatch.setattr(run_module, "build_kg", not_now)
    with pytest.raises(InvalidParameterError, match="'lr'.*Got 'fast' instead"):
        fit_from_config(tiny_config(tmp_path, lr="fast"), progress=False)
    with pytest.raises(InvalidParameterError, match="unknown parameter"):
        fit_from_config(tiny_config(tmp_path, speed=3), progress=False)


def test_unknown_estimator_names_are_refused_at_reading(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(
        f"cohort: {{format: mogonet, path: {TINY / 'mogonet_tiny'}}}\nmodel: {{name: xgboost}}\n"
    )
    with pytest.raises(ConfigError, match="model.name: unknown estimator 'xgboost'") as error:
        RunConfig.from_yaml(path)
    assert "baseline" not in str(error.value) and str(path) in str(error.value)
    path.write_text(
        f"cohort: {{format: mogonet, path: {TINY / 'mogonet_tiny'}}}\n"
        "evaluation: {baselines: [early_lr, svm]}\n"
    )
    with pytest.raises(ConfigError, match="evaluation.baselines.*'svm'"):
        RunConfig.from_yaml(path)


BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
cohort: {format: mogonet, path: *i}
"""


def test_yaml_alias_bombs_are_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    start = time.perf_counter()
    result = runner.invoke(app, ["train", str(path), "--no-progress"])
    assert result.exit_code == 2
    assert str(path) in result.output and "alias" in result.output
    assert time.perf_counter() - start < 10  # refused before anything is expanded


def test_an_unset_environment_variable_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KGFUSION_NOWHERE", raising=False)
    path = tmp_path / "run.yaml"
    path.write_text("cohort:\n  format: mogonet\n  path: ${KGFUSION_NOWHERE}/mogonet_rosmap\n")
    with pytest.raises(ConfigError, match="cohort.path: environment variable 'KGFUSION_NOWHERE'"):
        RunConfig.from_yaml(path)


def test_a_holdout_splits_a_cohort_without_an_official_split(tmp_path: Path) -> None:
    raw = {
        "cohort": {
            "format": "synthetic",
            "synthetic": {"pathways": ["reactome:R-HSA-71403"], "n_samples": 40, "n_features": 60},
            "holdout": {"test_size": 0.25, "seed": 1},
        },
    }
    data = prepare(RunConfig.from_dict(raw), progress=False)
    assert data.test is not None and (data.train.n_samples, data.test.n_samples) == (30, 10)
    assert data.truth is not None and data.truth.pathways == ["reactome:R-HSA-71403"]
    assert set(data.train.samples).isdisjoint(data.test.samples)


def test_the_cohort_section_reads_modality_tables(tmp_path: Path) -> None:
    folder = TINY / "modalities_tiny"
    raw = {
        "cohort": {
            "format": "modalities",
            "modalities": {
                "mRNA": str(folder / "mrna.csv"),
                "protein": str(folder / "protein.tsv"),
            },
            "labels": str(folder / "labels.csv"),
            "label_column": "subtype",
        }
    }
    data = prepare(RunConfig.from_dict(raw), progress=False)
    assert list(data.cohort.modalities) == ["mRNA", "protein"] and data.truth is None
    assert data.cohort.n_samples == 5


def test_the_cohort_section_names_mogonet_views(tmp_path: Path) -> None:
    raw = {
        "cohort": {
            "format": "mogonet",
            "path": str(TINY / "mogonet_tiny"),
            "views": ["expression:mRNA", "methylation", "mirna:miRNA"],
        }
    }
    cohort = prepare(RunConfig.from_dict(raw), progress=False).cohort
    assert list(cohort.modalities) == ["expression", "methylation", "mirna"]
    assert cohort.modalities["expression"].kind == "mRNA"


def test_explain_methods_are_gnns_and_a_bad_one_exits_2_before_reading(tmp_path: Path) -> None:
    from fusion.app._options import ExplainMethod
    from gnn.attribution import ATTRIBUTION_METHODS

    assert [m.value for m in ExplainMethod] == list(ATTRIBUTION_METHODS)
    for command in ("explain", "explore", "store"):
        args = [command, "-m", str(tmp_path / "no-model"), "-d", str(TINY / "mogonet_tiny")]
        args += ["-p", "test_0", "--method", "foo", "-o", str(tmp_path / "out")]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (command, result.output)
        assert "'foo' is not one of" in result.output and "no-model" not in result.output
