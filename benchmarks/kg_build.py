"""Benchmark: knowledge-graph build against obonet's own parse time, in one run.

Prints obonet.read_obo alone on GO and HPO (the baseline), then the merged GO + HPO + Reactome
build with gene2go, HPO gene annotations and Reactome gene sets, cold (empty cache) and warm
(cached), and the HeteroData export. Targets: cold ≤ 1.3 × obonet(GO + HPO), warm ≤ 0.5 s,
export ≤ 1 s.

Run: ``python benchmarks/kg_build.py`` (reads ``$KGFUSION_DATA`` or ``../shared/data``).
"""

from __future__ import annotations

import os
import platform
import tempfile

import obonet
import torch

from _common import data_dir, print_table, timed
from kg.build import SHARED_FILES, build_kg, shared_sources
from kg.hetero import to_hetero_data


def main() -> None:
    torch.set_num_threads(2)
    data = data_dir()
    go_s, go = timed(lambda: obonet.read_obo(data / SHARED_FILES["go"]))
    hpo_s, hpo = timed(lambda: obonet.read_obo(data / SHARED_FILES["hpo"]))
    baseline = go_s + hpo_s
    config = shared_sources(data)
    with tempfile.TemporaryDirectory() as cache:
        cold_s, kg = timed(lambda: build_kg(config, cache_dir=cache, progress=False))
        warm_s, warm = timed(lambda: build_kg(config, cache_dir=cache, progress=False), repeat=3)
    assert warm.number_of_edges() == kg.number_of_edges()
    export_s, data_obj = timed(lambda: to_hetero_data(warm), repeat=3)
    rows = [
        {"step": "obonet.read_obo GO (baseline)", "seconds": go_s, "target": "", "ok": ""},
        {"step": "obonet.read_obo HPO (baseline)", "seconds": hpo_s, "target": "", "ok": ""},
        {"step": "merged build, cold", "seconds": cold_s, "target": f"<= {1.3 * baseline:.2f} (1.3x baseline)", "ok": cold_s <= 1.3 * baseline},
        {"step": "merged build, warm (cached)", "seconds": warm_s, "target": "<= 0.5", "ok": warm_s <= 0.5},
        {"step": "HeteroData export", "seconds": export_s, "target": "<= 1.0", "ok": export_s <= 1.0},
    ]
    print(f"# kg_build on {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"merged graph: {kg.number_of_nodes():,} nodes, {kg.number_of_edges():,} edges, "
          f"{len(data_obj.edge_types)} edge types (with reverse); cold/baseline = {cold_s / baseline:.2f}x")
    print_table(rows)


if __name__ == "__main__":
    main()
