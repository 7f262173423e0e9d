"""What the ``kgfusion`` commands share: the errors they turn into exit code 2, their common
options, and reading a cohort. Imports nothing heavy: ``kgfusion --help`` loads only typer."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fusion._exceptions import FusionError
from fusion.data.formats import CohortFormat
from kg import KGError

if TYPE_CHECKING:
    from fusion.data.cohort import Cohort

__all__ = [
    "ERRORS",
    "ConfigArg",
    "ExplainMethod",
    "FormatIn",
    "Method",
    "Progress",
    "fail",
    "read_data",
]

#: Errors a command reports as ``error: ...`` with exit code 2 (no traceback).
ERRORS = (FusionError, KGError, OSError, ImportError, KeyError)

ConfigArg = Annotated[Path, typer.Argument(help="Run configuration (YAML); see fusion.app.config.")]
Progress = Annotated[bool, typer.Option(help="Show progress bars.")]
FormatIn = Annotated[
    CohortFormat, typer.Option("--format-in", help="Layout of the cohort (auto: detect).")
]


class ExplainMethod(str, Enum):
    """Attribution methods (:data:`gnn.attribution.ATTRIBUTION_METHODS`; a test keeps them equal)."""

    contribution = "contribution"
    ig = "ig"
    ig_features = "ig_features"


Method = Annotated[ExplainMethod, typer.Option(help="contribution (exact), ig or ig_features.")]


def fail(error: BaseException | str) -> typer.Exit:
    """Print ``error: ...`` on stderr; the :class:`typer.Exit` (code 2) to raise."""
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def read_data(path: Path, format_in: CohortFormat = CohortFormat.auto, **options: object) -> Cohort:
    """:func:`fusion.data.read_cohort` (imported when a command reads data)."""
    from fusion.data.io import read_cohort

    return read_cohort(path, format_in, **options)
