"""``kgfusion kg export -f kgx|neo4j`` and ``kg build -s kgx:DIR`` (CliRunner), and the commands
of docs/interop.md run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg import KGConfig, KnowledgeGraph, load_kg, make_edges, make_nodes, save_kg
from kg.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def saved(tmp_path) -> Path:
    nodes = make_nodes(
        ["GO:1", "GO:2", "NCBIGene:7157"],
        ["go_term", "go_term", "gene"],
        ["go.obo", "go.obo", "gene_info"],
        name=["root", 'child, "quoted"', "TP53"],
        namespace=["biological_process", "biological_process", None],
    )
    edges = make_edges(
        ["GO:2", "NCBIGene:7157"], ["is_a", "involved_in"], ["GO:1", "GO:2"], "go.obo"
    )
    return save_kg(KnowledgeGraph(nodes, edges), tmp_path / "mini.kg")


def test_export_kgx_then_build_from_it(saved, tmp_path):
    result = runner.invoke(app, ["export", str(saved), "-f", "kgx", "-o", str(tmp_path / "kgx")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "kgx").iterdir()) == ["edges.tsv", "nodes.tsv"]
    out = tmp_path / "back.kg"
    args = ["build", "-s", f"kgx:{tmp_path / 'kgx'}", "--no-cache", "--no-progress", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    back, original = load_kg(out), load_kg(saved)
    assert back.info().edge_types == original.info().edge_types
    assert back.nodes["name"].to_dict() == original.nodes["name"].to_dict()


def test_export_neo4j(saved, tmp_path):
    result = runner.invoke(app, ["export", str(saved), "-f", "neo4j", "-o", str(tmp_path / "neo")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "neo").iterdir())
    assert names == [
        "IMPORT.md", "import.sh", "nodes_Gene.csv", "nodes_GoTerm.csv",
        "relationships_INVOLVED_IN.csv", "relationships_IS_A.csv",
    ]  # fmt: skip
    assert '"child, ""quoted"""' in (tmp_path / "neo" / "nodes_GoTerm.csv").read_text()


def test_kgx_source_in_yaml_and_bad_folder(saved, tmp_path):
    runner.invoke(app, ["export", str(saved), "-f", "kgx", "-o", str(tmp_path / "kgx")])
    config = KGConfig.from_dict(
        {"sources": [{"path": "kgx", "format": "kgx", "options": {"on_dangling": "drop"}}]},
        base=tmp_path,
    )
    assert [f.name for f in config.sources[0].files()] == ["nodes.tsv", "edges.tsv"]
    (tmp_path / "empty").mkdir()
    args = ["build", "-s", f"kgx:{tmp_path / 'empty'}", "--no-cache", "--no-progress"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "one KGX nodes file" in result.stderr


@pytest.mark.slow
def test_the_documented_commands_run(tmp_path):
    text = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["KGFUSION_CACHE"] = str(tmp_path / "cache")
    for command in filter(None, block.splitlines()):
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
            check=False, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
    kg, back = load_kg(tmp_path / "kgfusion-out/kg"), load_kg(tmp_path / "kgfusion-out/kg-from-kgx")
    assert back.info().edge_types == kg.info().edge_types
    assert (tmp_path / "kgfusion-out/neo4j/import.sh").is_file()
