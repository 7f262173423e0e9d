"""``kgfusion demo``: the one-command demo (see :func:`fusion.app.demo.run_demo`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from fusion._exceptions import FusionError
from kg import KGError

__all__ = ["demo"]


class RealDataset(str, Enum):
    """Real datasets the demo can run on."""

    rosmap = "rosmap"


def demo(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Report folder (replaced if it holds an earlier report)."),
    ] = Path("kgfusion-report"),
    seed: Annotated[int, typer.Option(help="Seed of the cohort, split and models.")] = 0,
    real: Annotated[
        RealDataset | None,
        typer.Option(help="Run on a real dataset of the shared data folder instead."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="KGFUSION_DATA", help="Shared data folder for --real (default: ../shared/data)."
        ),
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide progress bars.")] = False,
) -> None:
    """Train and explain on a ready-made example and write an HTML report (offline, under 2 minutes).

    Builds the embedded Reactome knowledge graph, draws a synthetic cohort whose label depends on planted pathways (three modalities, some patients lacking one), trains the KG fusion model and a logistic-regression baseline, scores both on held-out patients, explains three of them and writes metrics, explanation tables, pictures, Turtle and index.html to OUT. With --real rosmap: the same on ROSMAP (official split) with a GO + Reactome graph built from the shared data folder.

    Examples:

      kgfusion demo

      kgfusion demo --out my-report --seed 1 --no-progress

      kgfusion demo --real rosmap --data-dir ../shared/data
    """
    from fusion.app.demo import run_demo

    try:
        report = run_demo(
            out,
            seed=seed,
            real=None if real is None else real.value,
            data_dir=data_dir,
            progress=not no_progress,
        )
    except (FusionError, KGError, OSError, ImportError) as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    typer.echo(report.metrics.to_string(float_format=lambda v: f"{v:.3f}"))
    if not report.planted_ranks.empty:
        n = report.planted_ranks.attrs["n_pathways"]
        typer.echo(f"\nrank of the planted pathways among {n} pathways (1 = best):")
        typer.echo(report.planted_ranks.to_string())
    typer.echo(f"\nreport: {report.index}  ({report.timings['total']:.0f} s)")
