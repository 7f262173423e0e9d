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
    "ClinicalOption",
    "ConfigArg",
    "DataOption",
    "ExplainMethod",
    "FormatIn",
    "LabelOption",
    "Method",
    "ModalitiesOption",
    "ModelOption",
    "PatientsOption",
    "Progress",
    "RequireAllOption",
    "TableFormat",
    "cohort_part",
    "fail",
    "multiomics_options",
    "read_data",
]

#: Errors a command reports as ``error: ...`` with exit code 2 (no traceback).
ERRORS = (FusionError, KGError, OSError, ImportError, KeyError)

ConfigArg = Annotated[Path, typer.Argument(help="Run configuration (YAML); see fusion.app.config.")]
Progress = Annotated[bool, typer.Option(help="Show progress bars.")]
FormatIn = Annotated[
    CohortFormat, typer.Option("--format-in", help="Layout of the cohort (auto: detect).")
]
ModelOption = Annotated[
    Path, typer.Option("--model", "-m", help="Model folder written by `kgfusion train`.")
]
DataOption = Annotated[
    Path, typer.Option("--data", "-d", help="Cohort holding the patients (as for `predict`).")
]
PatientsOption = Annotated[
    list[str] | None,
    typer.Option("--patient", "-p", help="Sample id, repeatable (default: every patient)."),
]


class TableFormat(str, Enum):
    """Output formats of the commands that print a table (contrast, faithfulness, query)."""

    table = "table"
    csv = "csv"
    json = "json"


class ExplainMethod(str, Enum):
    """Attribution methods (:data:`gnn.attribution.ATTRIBUTION_METHODS`; a test keeps them equal)."""

    contribution = "contribution"
    ig = "ig"
    ig_features = "ig_features"


Method = Annotated[ExplainMethod, typer.Option(help="contribution (exact), ig or ig_features.")]


def cohort_part(cohort: Cohort, part: str) -> Cohort:
    """``--part``: the whole ``cohort`` (``all``) or one side of its official split."""
    if part == "all":
        return cohort
    if part not in ("train", "test"):
        raise FusionError(f"--part must be all, train or test; got {part!r}")
    train, test = cohort.train_test()
    return train if part == "train" else test


def fail(error: BaseException | str) -> typer.Exit:
    """Print ``error: ...`` on stderr; the :class:`typer.Exit` (code 2) to raise."""
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


LabelOption = Annotated[
    str | None,
    typer.Option(
        "--label",
        help="Multi-omics: the label, an expression ('er_status == positive', "
        "'gleason_score >= 8', 'survival(os_time_days, os_event)', 'column') or a YAML "
        "mapping ('{column: er_status, positive: positive, negative: negative}').",
    ),
]
ModalitiesOption = Annotated[
    str | None,
    typer.Option(
        help="Multi-omics: the modalities to read, comma-separated (e.g. mutation,cnv,mirna)."
    ),
]
ClinicalOption = Annotated[
    str | None,
    typer.Option(help="Multi-omics: clinical columns to add as a modality, comma-separated."),
]
RequireAllOption = Annotated[
    bool, typer.Option(help="Multi-omics: keep only patients with every chosen omics table.")
]


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [name.strip() for name in text.split(",") if name.strip()]


def multiomics_options(
    label: str | None, modalities: str | None, clinical: str | None, require_all: bool
) -> dict[str, object]:
    """The :func:`fusion.data.read_cohort` options that the multi-omics flags give."""
    options: dict[str, object] = {}
    if label is not None:
        if label.lstrip().startswith("{"):
            import yaml

            try:
                options["label"] = yaml.safe_load(label)
            except yaml.YAMLError as error:
                msg = f"--label: not a YAML mapping ({error})"
                raise FusionError(msg) from None
        else:
            options["label"] = label
    for key, value in (("modalities", _names(modalities)), ("clinical", _names(clinical))):
        if value is not None:
            options[key] = value
    if require_all:
        options["require_all"] = True
    return options


def read_data(path: Path, format_in: CohortFormat = CohortFormat.auto, **options: object) -> Cohort:
    """:func:`fusion.data.read_cohort` (imported when a command reads data).

    A run configuration (``.yaml`` / ``.yml``) is read for its ``cohort:`` section instead
    (:func:`fusion.app.run.read_run_cohort`), with no other option.
    """
    if path.suffix.lower() in (".yaml", ".yml"):
        from fusion.app.config import RunConfig
        from fusion.app.run import read_run_cohort

        given = [k for k, v in options.items() if v not in (None, False, "sample")]
        if given or format_in is not CohortFormat.auto:
            msg = f"{path} is a run configuration: its cohort section says how to read the data, not {given or ['--format-in']}"
            raise FusionError(msg)
        return read_run_cohort(RunConfig.from_yaml(path).cohort)
    from fusion.data.io import read_cohort

    return read_cohort(path, format_in, **options)
