"""Tests of config loading, building, caching and parallel reading, on fixtures and real data."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kg import (
    KGConfig,
    KnowledgeGraph,
    ParseError,
    Source,
    UnknownFormatError,
    build_kg,
    shared_sources,
)
from kg.build import cache_key

MINI_SOURCES = [
    ("mini.obo", "obo", {}),
    ("mini_gene2go.tsv", "gene2go", {}),
    ("mini_reactome_pathways.txt", "reactome", {"hierarchy": "mini_reactome_hierarchy.txt"}),
    ("mini.gmt", "gmt", {}),
    ("mini_genes_to_phenotype.tsv", "hpo_annotations", {}),
]


@pytest.fixture
def inputs(fixtures, tmp_path) -> Path:
    """A private copy of the fixtures (tests edit files in it)."""
    folder = tmp_path / "inputs"
    shutil.copytree(fixtures, folder, ignore=shutil.ignore_patterns("*_tiny"))
    return folder


def mini_config(folder: Path) -> KGConfig:
    sources = []
    for name, fmt, options in MINI_SOURCES:
        options = {k: folder / v for k, v in options.items()}
        sources.append(Source(folder / name, fmt, options))
    return KGConfig(tuple(sources), folder / "mini_kg_gene_info.tsv")


def write_yaml(folder: Path, text: str) -> Path:
    path = folder / "kg.yaml"
    path.write_text(text)
    return path


def frames_equal(a: KnowledgeGraph, b: KnowledgeGraph) -> None:
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)


# --------------------------------------------------------------------------------- config
def test_config_from_yaml_resolves_paths_relative_to_the_file(inputs):
    path = write_yaml(
        inputs,
        """
gene_info: mini_kg_gene_info.tsv
sources:
  - {path: mini.obo, format: obo}
  - path: mini_reactome_pathways.txt
    format: reactome
    options: {hierarchy: mini_reactome_hierarchy.txt, species: Homo sapiens}
  - {path: mini.gmt, format: gmt, options: {on_unknown: drop}}
""",
    )
    config = KGConfig.from_yaml(path)
    assert config.gene_info == inputs / "mini_kg_gene_info.tsv"
    assert [(s.path, s.format) for s in config.sources] == [
        (inputs / "mini.obo", "obo"),
        (inputs / "mini_reactome_pathways.txt", "reactome"),
        (inputs / "mini.gmt", "gmt"),
    ]
    assert config.sources[1].options == {
        "hierarchy": inputs / "mini_reactome_hierarchy.txt",
        "species": "Homo sapiens",
    }
    kg = build_kg(config, cache_dir=False, progress=False)
    assert set(kg.node_types) == {"gene", "go_term", "pathway"}


def test_config_expands_environment_variables(inputs, monkeypatch):
    monkeypatch.setenv("KG_TEST_INPUTS", str(inputs))
    config = KGConfig.from_dict(
        {"sources": [{"path": "$KG_TEST_INPUTS/mini.obo", "format": "obo"}]}
    )
    assert config.sources[0].path == inputs / "mini.obo"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "sources: [{path: mini.obo, format: obo}]\ncache: here\n",
            r"kg\.yaml: unknown key\(s\) \['cache'\]",
        ),
        (
            "sources: [{path: mini.obo, format: obo, opts: {}}]\n",
            r"kg\.yaml: unknown key\(s\) \['sources\[0\]\.opts'\]",
        ),
        (
            "sources: [{path: missing.obo, format: obo}]\n",
            r"kg\.yaml: sources\[0\]\.path: file .*missing\.obo does not exist",
        ),
        ("sources: [{path: mini.obo}]\n", r"kg\.yaml: sources\[0\] needs 'path' and 'format'"),
        ("sources: []\n", r"kg\.yaml: 'sources' must be a non-empty list"),
        ("- mini.obo\n", r"kg\.yaml: expected a mapping with 'sources'"),
        (
            "gene_info: 3\nsources: [{path: mini.obo, format: obo}]\n",
            r"kg\.yaml: gene_info must be a path string",
        ),
    ],
)
def test_bad_config_names_file_and_key(inputs, text, match):
    with pytest.raises(ParseError, match=match):
        KGConfig.from_yaml(write_yaml(inputs, text))


def test_unknown_format_is_rejected(inputs):
    with pytest.raises(UnknownFormatError, match=r"mini\.obo: unknown format 'owl2'"):
        KGConfig.from_yaml(write_yaml(inputs, "sources: [{path: mini.obo, format: owl2}]\n"))


def test_symbol_sources_need_gene_info(inputs):
    with pytest.raises(
        ParseError, match=r"mini\.gmt \(gmt\) names genes by symbol; give gene_info"
    ):
        build_kg([Source(inputs / "mini.gmt", "gmt")], cache_dir=False, progress=False)


def test_missing_source_file(inputs):
    with pytest.raises(FileNotFoundError, match="nope.obo"):
        build_kg([Source(inputs / "nope.obo", "obo")], cache_dir=False, progress=False)


# ---------------------------------------------------------------------------------- build
def test_build_merges_every_source(inputs):
    kg = build_kg(mini_config(inputs), cache_dir=False, progress=False)
    assert kg.info().node_types == {"gene": 3, "go_term": 3, "pathway": 4, "phenotype": 2}
    assert kg.info().relations == {
        "enables": 1,
        "has_phenotype": 2,
        "involved_in": 2,
        "is_a": 2,
        "member_of": 5,
        "part_of": 2,
    }
    # gene nodes carry gene_info's names, aliases and cross-references; terms their ontology's
    assert kg.node("NCBIGene:1956")["synonyms"] == ["ERBB", "ERBB1"]
    assert kg.node("NCBIGene:7157")["xrefs"] == ["ENSEMBL:ENSG00000141510", "UniProtKB:P04637"]
    assert kg.node("GO:0000003")["name"] == "reproduction"
    kg.validate()


def test_parallel_and_serial_builds_are_identical(inputs):
    config = mini_config(inputs)
    serial = build_kg(config, cache_dir=False, progress=False, workers=1)
    frames_equal(build_kg(config, cache_dir=False, progress=False, workers=2), serial)
    assert (
        serial.metadata["sources"]
        == build_kg(config, cache_dir=False, progress=False, workers=3).metadata["sources"]
    )


def test_progress_bar_on_stderr(inputs, capsys):
    build_kg(mini_config(inputs), cache_dir=False, progress=True, workers=1)
    assert "reading sources" in capsys.readouterr().err
    build_kg(mini_config(inputs), cache_dir=False, progress=False, workers=1)
    assert "reading sources" not in capsys.readouterr().err


# ---------------------------------------------------------------------------------- cache
def test_second_build_is_a_cache_hit(inputs, tmp_path, monkeypatch, caplog):
    config, cache = mini_config(inputs), tmp_path / "cache"
    cold = build_kg(config, cache_dir=cache, progress=False)
    key = cache_key(config)
    assert [p.name for p in cache.iterdir()] == [key]
    assert sorted(p.name for p in (cache / key).iterdir()) == [
        "edges.parquet",
        "metadata.json",
        "nodes.parquet",
    ]
    assert cold.metadata["cache_key"] == key

    def no_reading(*args, **kwargs):
        raise AssertionError("a cache hit must not read any source")

    monkeypatch.setattr(Source, "read", no_reading)
    with caplog.at_level(logging.INFO, logger="kg.build"):
        warm = build_kg(config, cache_dir=cache, progress=False)
    assert f"loading cached knowledge graph {cache / key}" in caplog.text
    frames_equal(warm, cold)
    assert warm.metadata == cold.metadata


def test_cache_key_follows_content_not_paths(inputs, tmp_path):
    config = mini_config(inputs)
    key = cache_key(config)
    moved = tmp_path / "moved"
    shutil.copytree(inputs, moved)
    assert cache_key(mini_config(moved)) == key  # same contents elsewhere: same key
    obo = inputs / "mini.obo"
    obo.write_text(obo.read_text().replace("name: reproduction\n", "name: reproduction!\n"))
    assert cache_key(config) != key  # edited content: new key
    hierarchy = moved / "mini_reactome_hierarchy.txt"
    hierarchy.write_text("")  # a file named in an option counts too
    assert cache_key(mini_config(moved)) != key
    options = Source(moved / "mini.obo", "obo", {"include_obsolete": True})
    assert cache_key(KGConfig((options,))) != cache_key(
        KGConfig((Source(moved / "mini.obo", "obo"),))
    )


def test_edited_input_is_rebuilt_not_loaded(inputs, tmp_path):
    config, cache = mini_config(inputs), tmp_path / "cache"
    build_kg(config, cache_dir=cache, progress=False)
    obo = inputs / "mini.obo"
    obo.write_text(obo.read_text().replace("name: reproduction\n", "name: making more\n"))
    assert (
        build_kg(config, cache_dir=cache, progress=False).node("GO:0000003")["name"]
        == "making more"
    )
    assert len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_source_raises_and_caches_nothing(inputs, tmp_path, workers):
    gene2go = inputs / "mini_gene2go.tsv"
    gene2go.write_text(gene2go.read_text() + "oops\tTP53\tGO:0000003\tIDA\tbiological_process\n")
    cache = tmp_path / "cache"
    with pytest.raises(
        ParseError, match=r"mini_gene2go\.tsv:6: column 'entrez_id' holds 'oops'"
    ) as error:
        build_kg(mini_config(inputs), cache_dir=cache, progress=False, workers=workers)
    assert (error.value.path, error.value.line) == (str(gene2go), 6)  # also across processes
    assert not cache.exists() or not any(cache.iterdir())


def test_failing_save_leaves_no_partial_cache(inputs, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="disk full"):
        build_kg(mini_config(inputs), cache_dir=cache, progress=False, workers=1)
    assert not any(cache.iterdir())


# ------------------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kg-cache")


@pytest.fixture(scope="module")
def real_kg(data_dir, real_cache) -> KnowledgeGraph:
    return build_kg(shared_sources(data_dir), cache_dir=real_cache, progress=False)


@pytest.mark.realdata
def test_real_merged_go_reactome_hpo_counts(real_kg):
    info = real_kg.info()
    assert (info.number_of_nodes, info.number_of_edges) == (89_426, 727_537)
    # all 43,559 GO terms (with the root "all"), HPO's 19,484 terms less 450 obsolete, every
    # human Reactome pathway, the genes the annotation sources mention (1,478 only as MIR
    # genes), and the miRNAs of miRTarBase and of the 1,915 human MIR genes
    assert info.node_types == {
        "gene": 22_298,
        "go_term": 43_559,
        "mirna": 1_784,
        "pathway": 2_751,
        "phenotype": 19_034,
    }
    assert info.edge_types == {
        ("gene", "enables", "go_term"): 71_779,
        ("gene", "has_phenotype", "phenotype"): 259_012,
        ("gene", "involved_in", "go_term"): 140_934,
        ("gene", "located_in", "go_term"): 87_735,
        ("gene", "member_of", "pathway"): 45_294,
        ("go_term", "is_a", "go_term"): 70_061,
        ("mirna", "targets", "gene"): 8_991,
        ("mirna", "transcribed_from", "gene"): 1_915,
        ("go_term", "negatively_regulates", "go_term"): 2_742,
        ("go_term", "part_of", "go_term"): 6_997,
        ("go_term", "positively_regulates", "go_term"): 2_732,
        ("go_term", "regulates", "go_term"): 3_184,
        ("pathway", "part_of", "pathway"): 2_769,
        ("phenotype", "is_a", "phenotype"): 23_392,
    }
    assert (
        info.provenance["go-basic_2022-07-01.from_GO.db_3.16.0.obo.gz@releases/2022-07-01"]
        == 85_716
    )
    real_kg.validate()
    tp53 = real_kg.node("NCBIGene:7157")
    assert tp53["name"] == "TP53" and "P53" in tp53["synonyms"]


@pytest.mark.realdata
def test_real_warm_build_loads_the_cache(data_dir, real_kg, real_cache, monkeypatch):
    monkeypatch.setattr(Source, "read", lambda *a, **k: pytest.fail("a cache hit reads no source"))
    frames_equal(build_kg(shared_sources(data_dir), cache_dir=real_cache, progress=False), real_kg)


@pytest.mark.realdata
def test_real_hetero_data_export_and_back_mapping(real_kg):
    from kg.hetero import to_hetero_data

    data = to_hetero_data(real_kg)
    info = real_kg.info()
    assert {t: data[t].num_nodes for t in data.node_types} == info.node_types
    for (src, rel, dst), count in info.edge_types.items():
        assert data[src, rel, dst].edge_index.shape == (2, count)
        assert data[dst, "rev_" + rel, src].edge_index.shape == (2, count)
    # map one edge type's indices back to ids: they are exactly the KG's edges of that type
    index = data.node_index
    src, dst = data["gene", "member_of", "pathway"].edge_index.numpy()
    back = set(zip(index.to_ids("gene", src), index.to_ids("pathway", dst)))
    typed = real_kg.edge_types()
    expected = typed[(typed["relation"] == "member_of") & (typed["src_type"] == "gene")]
    assert back == set(zip(expected["source"], expected["target"]))
    apoptosis = index.to_index("pathway", ["reactome:R-HSA-109581"])[0]
    assert data["pathway"].node_id[apoptosis] == "reactome:R-HSA-109581"
