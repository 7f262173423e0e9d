"""Shared helpers of the benchmark scripts: data location, timing and table printing."""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """``$KGFUSION_DATA`` or ``../shared/data`` beside the project root."""
    path = Path(os.environ.get("KGFUSION_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "README.md").exists():
        raise SystemExit(f"shared data not found at {path}; set KGFUSION_DATA")
    return path


def timed(function: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished child processes so far.

    Differences of this clock, next to wall times, show how much of a wall time was spent
    computing (here or in worker processes) rather than waiting for a busy machine's cores.
    """
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> float:
    """One-minute load average (runnable processes); above the core count, timings are inflated."""
    return os.getloadavg()[0]


def print_table(rows: list[dict[str, Any]]) -> None:
    """Print rows as a Markdown table (column order of the first row)."""
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print(
            "| "
            + " | ".join(
                f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns
            )
            + " |"
        )


def model_parser(description: str, quick: str) -> argparse.ArgumentParser:
    """Arguments shared by the model benchmarks: ``--data-dir``, ``--quick``, ``--threads``."""
    parser = argparse.ArgumentParser(description=description)
    default = os.environ.get("KGFUSION_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument(
        "--data-dir",
        default=default,
        help="shared data folder (default: $KGFUSION_DATA or ../shared/data)",
    )
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    return parser
