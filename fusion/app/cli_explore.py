"""``kgfusion explore``: one self-contained HTML page to browse a cohort's explanations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fusion.app._options import (
    ERRORS,
    DataOption,
    ExplainMethod,
    FormatIn,
    Method,
    ModelOption,
    fail,
    read_data,
)
from fusion.data.formats import CohortFormat

__all__ = ["explore"]


def _patients(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated ``--patients`` values, in order, once each."""
    if not values:
        return None
    found = [p.strip() for value in values for p in value.split(",") if p.strip()]
    return list(dict.fromkeys(found)) or None


def explore(
    model: ModelOption,
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML page to write.")],
    patients: Annotated[
        list[str] | None,
        typer.Option(
            "--patients", "-p", help="Sample ids (repeatable or comma-separated; default: all)."
        ),
    ] = None,
    method: Method = ExplainMethod.contribution,
    top: Annotated[int, typer.Option("--top", "-k", help="Top terms kept per patient.")] = 20,
    node_type: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Node types ranked as terms (default: all but genes)."),
    ] = None,
    max_len: Annotated[
        int, typer.Option(help="Longest path (hops) joining a top term to an input gene.")
    ] = 3,
    title: Annotated[str | None, typer.Option(help="Page title.")] = None,
    format_in: FormatIn = CohortFormat.auto,
) -> None:
    """Write an explanation explorer: search patients, see and compare their explanations.

    One HTML file, no server and no network: it embeds each patient's top terms, explanation
    subgraph and class aggregates (fusion.explanations.write_explorer). Open it in a browser.

    Example:

      kgfusion explore -m kgfusion-out/rosmap/model -d ../shared/data/mogonet_rosmap -o explorer.html
    """
    from fusion.app.run import load_model
    from fusion.explanations import explain, write_explorer

    try:
        estimator = load_model(model)
        cohort = read_data(data, format_in)
        explanations = explain(estimator, cohort, _patients(patients), method.value)
        page = write_explorer(
            explanations,
            out,
            k=top,
            title=title or f"kgfusion explanations: {Path(data).name}",
            types=node_type or None,
            max_len=max_len,
        )
    except ERRORS as error:
        raise fail(error) from None
    typer.echo(f"wrote {page} ({len(explanations)} patients)")
