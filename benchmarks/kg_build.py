"""Benchmark: knowledge-graph build against obonet's own parse time, in one run.

Prints obonet.read_obo alone on GO and HPO (the baseline), then the merged GO + HPO + Reactome
build with gene2go, HPO gene annotations and Reactome gene sets, cold (empty cache; with the
default worker processes and in one process) and warm (cached), and the HeteroData export.
Targets: cold ≤ 1.3 × obonet(GO + HPO), warm ≤ 0.5 s, export ≤ 1 s.

Each row gives wall seconds and CPU seconds (this process plus its worker processes): on a
machine shared with other jobs, wall time exceeds CPU time by the time spent waiting for a core,
and the load average printed with the table says how busy the machine was.

Run: ``python benchmarks/kg_build.py`` (reads ``$KGFUSION_DATA`` or ``../shared/data``).
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Callable
from typing import Any

import obonet
import torch
import torch_geometric  # noqa: F401  (imported up front: the export timing excludes the import)
from _common import cpu_seconds, data_dir, load_average, print_table, timed

from kg.build import SHARED_FILES, build_kg, shared_sources
from kg.hetero import to_hetero_data


def _row(
    step: str, function: Callable[[], Any], target: float | None = None, repeat: int = 1
) -> tuple[dict, Any]:
    start = cpu_seconds()
    wall, result = timed(function, repeat=repeat)
    row = {"step": step, "wall s": wall, "cpu s": (cpu_seconds() - start) / repeat}
    row["target s"] = f"<= {target:.2f}" if target is not None else ""
    row["ok"] = ("yes" if wall <= target else "NO") if target is not None else ""
    return row, result


def main() -> None:
    torch.set_num_threads(2)
    data = data_dir()
    load_before = load_average()
    go, _ = _row(
        "obonet.read_obo GO (baseline)", lambda: obonet.read_obo(data / SHARED_FILES["go"])
    )
    hpo, _ = _row(
        "obonet.read_obo HPO (baseline)", lambda: obonet.read_obo(data / SHARED_FILES["hpo"])
    )
    baseline = go["wall s"] + hpo["wall s"]
    config = shared_sources(data)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as serial_cache:
        cold, kg = _row(
            "merged build, cold",
            lambda: build_kg(config, cache_dir=cache, progress=False),
            1.3 * baseline,
        )
        serial, _ = _row(
            "merged build, cold, 1 process",
            lambda: build_kg(config, cache_dir=serial_cache, progress=False, workers=1),
            1.3 * baseline,
        )
        warm, warm_kg = _row(
            "merged build, warm (cached)",
            lambda: build_kg(config, cache_dir=cache, progress=False),
            0.5,
            repeat=3,
        )
    if warm_kg.number_of_edges() != kg.number_of_edges():
        raise SystemExit("warm build differs from the cold one")
    export, hetero = _row(
        "HeteroData export (of the warm graph)", lambda: to_hetero_data(warm_kg), 1.0, repeat=3
    )
    print(
        f"# kg_build on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load_before:.1f} before / {load_average():.1f} after"
    )
    print(
        f"merged graph: {kg.number_of_nodes():,} nodes, {kg.number_of_edges():,} edges, "
        f"{len(hetero.edge_types)} edge types (with reverse); cold/baseline = {cold['wall s'] / baseline:.2f}x"
    )
    print_table([go, hpo, cold, serial, warm, export])


if __name__ == "__main__":
    main()
