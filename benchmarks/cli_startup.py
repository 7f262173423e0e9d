"""Command-line start-up and saved-graph queries: CPU seconds of whole ``kgfusion`` processes.

Each command runs ``--repeat`` times as its own process; the table shows the median CPU (user +
system) and wall seconds, beside two baselines measured in the same run: a bare Python start and
``import typer`` (the least any typer command line costs). A saved shared graph (GO + Reactome +
HPO, built once into a temporary folder) answers the queries.

Targets: ``kgfusion --help`` under 0.3 s CPU; a query on the saved shared graph under 1 s.

    python benchmarks/cli_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import data_dir, load_average, print_table

KGFUSION = str(Path(sys.executable).with_name("kgfusion"))


def run(command: list[str]) -> tuple[float, float]:
    """CPU and wall seconds of one process running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def measure(name: str, command: list[str], repeat: int, target: str = "") -> dict[str, object]:
    times = [run(command) for _ in range(repeat)]
    cpu = statistics.median(t[0] for t in times)
    wall = statistics.median(t[1] for t in times)
    return {"command": name, "CPU s": cpu, "wall s": wall, "target": target}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default: 5)")
    args = parser.parse_args()
    shared = data_dir()
    with tempfile.TemporaryDirectory() as folder:
        graph = str(Path(folder) / "kg")
        build = [KGFUSION, "kg", "build", "--preset", "shared", "--data-dir", str(shared)]
        subprocess.run([*build, "-o", graph, "--no-progress"], check=True, capture_output=True)
        rows = [
            measure("python -c pass (baseline)", [sys.executable, "-c", "pass"], args.repeat),
            measure("import typer (baseline)", [sys.executable, "-c", "import typer"], args.repeat),
            measure("kgfusion --help", [KGFUSION, "--help"], args.repeat, "< 0.3"),
            measure("kgfusion kg --help", [KGFUSION, "kg", "--help"], args.repeat, "< 0.3"),
            measure("kgfusion kg info", [KGFUSION, "kg", "info", graph], args.repeat),
            measure(
                "kg query superterms GO:0006915",
                [KGFUSION, "kg", "query", "superterms", "-n", "GO:0006915", "--kg", graph],
                args.repeat,
                "< 1",
            ),
            measure(
                "kg query neighborhood R-HSA-109581 -k 1",
                [
                    KGFUSION,
                    "kg",
                    "query",
                    "neighborhood",
                    "-n",
                    "reactome:R-HSA-109581",
                    "--kg",
                    graph,
                ],
                args.repeat,
                "< 1",
            ),
        ]
    print(f"load average {load_average():.1f}, {args.repeat} runs each, medians")
    print_table(rows)


if __name__ == "__main__":
    main()
