"""Tests of ``kgfusion kg ...`` (build, info, export, query) through typer's CliRunner on fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
import torch
from typer.testing import CliRunner

from fusion.app.cli import app
from kg import load_kg, read_graphml, read_node_link_json
from kg.hetero import NodeIndex
from kg.rdf import KGF, iri_to_curie

runner = CliRunner()


def kg_cli(*args: str | Path, env: dict[str, str] | None = None):
    return runner.invoke(app, ["kg", *map(str, args)], env=env)


@pytest.fixture(scope="module")
def built(fixtures, tmp_path_factory) -> Path:
    """A graph of mini.obo + mini gene2go + mini GMT built with --source options."""
    out = tmp_path_factory.mktemp("cli") / "mini.kg"
    result = kg_cli(
        "build",
        "-s", f"obo:{fixtures / 'mini.obo'}",
        "-s", f"gene2go:{fixtures / 'mini_gene2go.tsv'}",
        "-s", f"gmt:{fixtures / 'mini.gmt'}",
        "--gene-info", fixtures / "mini_kg_gene_info.tsv",
        "--no-cache", "--no-progress", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"saved to {out}" in result.stdout
    return out


def test_build_with_sources(built):
    kg = load_kg(built)
    assert kg.info().node_types == {"gene": 3, "go_term": 3, "pathway": 3}
    assert kg.info().relations == {
        "enables": 1,
        "involved_in": 2,
        "is_a": 2,
        "member_of": 5,
        "part_of": 1,
    }


def test_build_with_yaml_config_uses_the_cache(fixtures, tmp_path):
    config = tmp_path / "kg.yaml"
    config.write_text(
        f"""
gene_info: {fixtures / "mini_kg_gene_info.tsv"}
sources:
  - {{path: {fixtures / "mini.obo"}, format: obo}}
  - path: {fixtures / "mini_reactome_pathways.txt"}
    format: reactome
    options: {{hierarchy: {fixtures / "mini_reactome_hierarchy.txt"}}}
"""
    )
    cache = tmp_path / "cache"
    for _ in range(2):  # the second run loads the first one's cache
        result = kg_cli(
            "build", "-c", config, "--cache-dir", cache, "--no-progress", "-o", tmp_path / "g.kg"
        )
        assert result.exit_code == 0, result.output
        assert "pathway" in result.stdout and "go_term" in result.stdout
    assert len(list(cache.iterdir())) == 1
    assert load_kg(tmp_path / "g.kg").number_of_nodes() == 6


def test_build_reports_progress(fixtures, tmp_path):
    result = kg_cli(
        "build",
        "-s",
        f"obo:{fixtures / 'mini.obo'}",
        "--no-cache",
        "--workers",
        "1",
        "-o",
        tmp_path / "g.kg",
    )
    assert result.exit_code == 0, result.output
    assert "reading sources" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "obo:{fx}/missing.obo"], "missing.obo"),
        (["-s", "owl2:{fx}/mini.obo"], "mini.obo: unknown format 'owl2'"),
        (["-s", "gene2go:{bad}"], "bad_g2g.tsv:2: column 'entrez_id' holds 'x1'"),
        (["-c", "{yaml}"], "kg.yaml: unknown key(s) ['sources[0].colour']"),
        (["-c", "{broken_yaml}"], "broken.yaml:2: not valid YAML"),
    ],
)
def test_build_bad_input_fails_naming_the_file(fixtures, tmp_path, args, message):
    bad = tmp_path / "bad_g2g.tsv"
    bad.write_text(
        "entrez_id\tsymbol\tgo_id\tevidence\tnamespace\nx1\tA\tGO:1\tIDA\tbiological_process\n"
    )
    yaml = tmp_path / "kg.yaml"
    yaml.write_text(f"sources: [{{path: {fixtures / 'mini.obo'}, format: obo, colour: red}}]\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources:\n  - path: a: b\n")
    names = {"fx": fixtures, "bad": bad, "yaml": yaml, "broken_yaml": broken}
    result = kg_cli(
        "build",
        *[a.format(**names) for a in args],
        "--no-cache",
        "--no-progress",
        "-o",
        tmp_path / "g.kg",
    )
    assert result.exit_code != 0
    assert message in result.stderr
    assert not (tmp_path / "g.kg").exists()


def test_info(built):
    result = kg_cli("info", built)
    assert result.exit_code == 0, result.output
    assert "KnowledgeGraph: 9 nodes, 11 edges" in result.stdout
    assert "gene --member_of--> pathway" in result.stdout


def test_info_of_a_folder_that_is_no_graph(tmp_path):
    result = kg_cli("info", tmp_path)
    assert result.exit_code != 0
    assert f"{tmp_path}: not a saved knowledge graph" in result.stderr


def test_export_turtle_is_queryable(built, tmp_path):
    out = tmp_path / "kg.ttl"
    assert kg_cli("export", built, "-f", "ttl", "-o", out).exit_code == 0
    graph = rdflib.Graph().parse(out, format="turtle")
    rows = graph.query('SELECT ?s WHERE { ?s kgf:type "gene" }', initNs={"kgf": KGF})
    assert {iri_to_curie(str(s)) for (s,) in rows} == {
        "NCBIGene:7157",
        "NCBIGene:672",
        "NCBIGene:1956",
    }


def test_export_graphml_and_json_round_trip(built, tmp_path):
    kg = load_kg(built)
    for fmt, reader in (("graphml", read_graphml), ("json", read_node_link_json)):
        out = tmp_path / f"kg.{fmt}"
        result = kg_cli("export", built, "-f", fmt, "-o", out)
        assert result.exit_code == 0, result.output
        back = reader(out)
        assert (
            back.number_of_nodes() == kg.number_of_nodes()
            and back.number_of_edges() == kg.number_of_edges()
        )


def test_export_hetero(built, tmp_path):
    out = tmp_path / "hetero"
    result = kg_cli("export", built, "-f", "hetero", "-o", out)
    assert result.exit_code == 0, result.output
    edges = torch.load(out / "edge_index.pt", weights_only=True)
    index = NodeIndex.load(out / "node_index.json")
    src, dst = edges["gene__member_of__pathway"]
    pairs = set(zip(index.to_ids("gene", src.tolist()), index.to_ids("pathway", dst.tolist())))
    assert ("NCBIGene:7157", "reactome:R-HSA-109581") in pairs and len(pairs) == 5
    assert "pathway__rev_member_of__gene" in edges
    no_reverse = tmp_path / "forward"
    assert kg_cli("export", built, "-f", "hetero", "--no-reverse", "-o", no_reverse).exit_code == 0
    assert not any(
        k.split("__")[1].startswith("rev_")
        for k in torch.load(no_reverse / "edge_index.pt", weights_only=True)
    )


def test_export_unknown_format(built, tmp_path):
    result = kg_cli("export", built, "-f", "owl", "-o", tmp_path / "x")
    assert result.exit_code != 0


def test_query_neighborhood(built):
    result = kg_cli("query", "neighborhood", "-n", "GO:0000003", "--kg", built)
    assert result.exit_code == 0, result.output
    assert {"GO:0000003", "GO:0008150", "GO:0022414", "NCBIGene:7157"} <= set(result.stdout.split())
    assert "NCBIGene:672" not in result.stdout  # two hops away


def test_query_superterms_and_subterms(built):
    up = kg_cli("query", "superterms", "-n", "GO:0022414", "--kg", built)
    assert up.exit_code == 0, up.output
    assert "GO:0000003" in up.stdout and "GO:0008150" in up.stdout
    down = kg_cli("query", "subterms", "-n", "GO:0008150", "--kg", built)
    assert "GO:0022414" in down.stdout and "GO:0000003" in down.stdout
    assert "(none)" in kg_cli("query", "superterms", "-n", "GO:0008150", "--kg", built).stdout


def test_query_paths(built):
    result = kg_cli(
        "query", "paths", "-n", "NCBIGene:672", "--to", "GO:0008150", "--cutoff", "2", "--kg", built
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert "NCBIGene:672 -enables- GO:0008150" in lines
    assert "NCBIGene:672 -involved_in- GO:0022414 -is_a- GO:0008150" in lines


def test_query_bad_input(built, tmp_path):
    unknown = kg_cli("query", "neighborhood", "-n", "GO:404", "--kg", built)
    assert unknown.exit_code != 0 and "GO:404" in unknown.stderr
    no_target = kg_cli("query", "paths", "-n", "GO:0008150", "--kg", built)
    assert no_target.exit_code != 0 and "--to" in no_target.output
    missing = kg_cli("query", "neighborhood", "-n", "GO:0008150", "--kg", tmp_path / "none.kg")
    assert missing.exit_code != 0 and "none.kg" in missing.stderr
