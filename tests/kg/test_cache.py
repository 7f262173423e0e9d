"""Tests of the checksummed graph store and the self-healing, concurrency-safe build cache."""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import kg.store
from kg import ForeignFolderError, KGConfig, ParseError, Source, build_kg, load_kg, save_kg
from kg.build import cache_key
from kg.cli import app

DAMAGED = "dropping the unusable cache entry"


@pytest.fixture
def config(fixtures, tmp_path) -> KGConfig:
    folder = tmp_path / "inputs"
    shutil.copytree(fixtures, folder, ignore=shutil.ignore_patterns("*_tiny"))
    sources = (
        Source(folder / "mini.obo", "obo"),
        Source(folder / "mini_gene2go.tsv", "gene2go"),
        Source(folder / "mini.gmt", "gmt"),
    )
    return KGConfig(sources, folder / "mini_kg_gene_info.tsv")


def same_graph(a, b) -> None:
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)
    assert a.metadata == b.metadata


def flip_bit(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 1 << (offset % 8)
    path.write_bytes(bytes(data))


def no_staging_left(cache: Path) -> bool:
    return not [p for p in cache.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------------- store
def test_saved_folder_records_and_checks_checksums(config, tmp_path):
    graph = build_kg(config, cache_dir=False, progress=False)
    folder = save_kg(graph, tmp_path / "g.kg")
    same_graph(load_kg(folder), graph)
    for name in ("nodes.parquet", "edges.parquet"):
        flip_bit(folder / name, 12_345)
        with pytest.raises(ParseError, match=rf"g\.kg/{name}: .*does not match the SHA-256"):
            load_kg(folder)
        save_kg(graph, folder)  # replacing a damaged saved graph is allowed
    metadata = folder / "metadata.json"
    metadata.write_text(metadata.read_text().replace('"gene2go"', '"gaf"'))
    with pytest.raises(ParseError, match=r"metadata\.json: .*does not match the SHA-256"):
        load_kg(folder)


def test_cli_info_on_a_damaged_graph_names_the_file(config, tmp_path):
    folder = save_kg(build_kg(config, cache_dir=False, progress=False), tmp_path / "g.kg")
    flip_bit(folder / "edges.parquet", 100)
    result = CliRunner().invoke(app, ["info", str(folder)])
    assert result.exit_code == 2
    assert f"{folder / 'edges.parquet'}: unreadable saved graph table" in result.stderr
    assert "Traceback" not in result.output


def test_save_refuses_to_replace_a_foreign_folder(config, tmp_path):
    graph = build_kg(config, cache_dir=False, progress=False)
    victim = tmp_path / "thesis"
    (victim / "sub").mkdir(parents=True)
    (victim / "thesis.tex").write_text("years of work")
    with pytest.raises(ForeignFolderError, match="refusing to replace .*thesis"):
        save_kg(graph, victim)
    assert (victim / "thesis.tex").read_text() == "years of work" and (victim / "sub").is_dir()
    result = CliRunner().invoke(app, ["build", "-s", f"obo:{config.sources[0].path}", "--no-cache", "--no-progress", "-o", str(victim)])  # fmt: skip
    assert result.exit_code == 2 and "refusing to replace" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "inputs") == ["thesis"]


def test_older_format_is_refused(config, tmp_path):
    folder = save_kg(build_kg(config, cache_dir=False, progress=False), tmp_path / "g.kg")
    metadata = folder / "metadata.json"
    metadata.write_text(metadata.read_text().replace('"format_version": 3', '"format_version": 2'))
    with pytest.raises(ParseError, match="format version 2, this kgfusion reads 3; rebuild it"):
        load_kg(folder)


# ------------------------------------------------------------------------------- cache
@pytest.mark.parametrize("name", ["nodes.parquet", "edges.parquet"])
def test_bit_flips_in_a_cache_entry_rebuild_the_same_graph(config, tmp_path, caplog, name):
    cache = tmp_path / "cache"
    cold = build_kg(config, cache_dir=cache, progress=False)
    entry = cache / cache_key(config)
    size = (entry / name).stat().st_size
    for offset in range(7, size, max(1, size // 12)):  # 12 single-bit flips across the file
        flip_bit(entry / name, offset)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="kg.build"):
            same_graph(build_kg(config, cache_dir=cache, progress=False), cold)
        assert DAMAGED in caplog.text and str(entry) in caplog.text
        load_kg(entry)  # healed: the rebuilt entry is intact
    assert no_staging_left(cache)


def test_shuffled_but_valid_parquet_is_rebuilt(config, tmp_path, caplog):
    cache = tmp_path / "cache"
    cold = build_kg(config, cache_dir=cache, progress=False)
    edges = cache / cache_key(config) / "edges.parquet"
    table = pq.read_table(edges)
    pq.write_table(table.take(list(range(table.num_rows))[::-1]), edges)
    with caplog.at_level(logging.WARNING, logger="kg.build"):
        same_graph(build_kg(config, cache_dir=cache, progress=False), cold)
    assert DAMAGED in caplog.text


@pytest.mark.parametrize("damage", ["truncate", "empty", "remove_metadata", "garbage_metadata"])
def test_truncated_or_partial_cache_entry_is_rebuilt(config, tmp_path, caplog, damage):
    cache = tmp_path / "cache"
    cold = build_kg(config, cache_dir=cache, progress=False)
    entry = cache / cache_key(config)
    nodes = entry / "nodes.parquet"
    if damage == "truncate":
        nodes.write_bytes(nodes.read_bytes()[: nodes.stat().st_size // 2])
    elif damage == "empty":
        nodes.write_bytes(b"")
    elif damage == "remove_metadata":
        (entry / "metadata.json").unlink()
    else:
        (entry / "metadata.json").write_bytes(b"\xff\xfe{")
    for _ in range(2):  # healed once, then a plain cache hit
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="kg.build"):
            same_graph(build_kg(config, cache_dir=cache, progress=False), cold)
    assert DAMAGED not in caplog.text
    assert [p.name for p in cache.iterdir()] == [entry.name]


def test_concurrent_writers_of_one_entry_both_succeed(config, tmp_path, monkeypatch, caplog):
    """Both threads stage their copy before either renames it in: one wins, one discards."""
    cache, barrier = tmp_path / "cache", threading.Barrier(2, timeout=60)
    stage = kg.store._stage

    def stage_then_wait(*args, **kwargs):
        staged = stage(*args, **kwargs)
        barrier.wait()
        return staged

    monkeypatch.setattr(kg.store, "_stage", stage_then_wait)
    with caplog.at_level(logging.INFO, logger="kg.build"), ThreadPoolExecutor(2) as threads:
        futures = [
            threads.submit(build_kg, config, cache_dir=cache, progress=False, workers=1)
            for _ in range(2)
        ]
        results = [future.result(timeout=120) for future in futures]
    same_graph(results[0], results[1])
    assert "cached by another build meanwhile" in caplog.text
    assert [p.name for p in cache.iterdir()] == [cache_key(config)]
    same_graph(load_kg(cache / cache_key(config)), results[0])


def _build_in_child(config: KGConfig, cache: Path, queue) -> None:
    graph = build_kg(config, cache_dir=cache, progress=False, workers=1)
    queue.put(graph.number_of_edges())


def test_concurrent_build_processes_all_succeed(config, tmp_path):
    cache = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [
        context.Process(target=_build_in_child, args=(config, cache, queue)) for _ in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(180)
    assert [child.exitcode for child in children] == [0, 0, 0]
    expected = build_kg(config, cache_dir=False, progress=False).number_of_edges()
    assert sorted(queue.get(timeout=10) for _ in children) == [expected] * 3
    assert [p.name for p in cache.iterdir()] == [cache_key(config)]
