"""``kgfusion data ...``: inspect a multimodal cohort and link its features to a knowledge graph."""

from __future__ import annotations

import json
import logging
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fusion.app._options import (
    ERRORS,
    ClinicalOption,
    FormatIn,
    LabelOption,
    ModalitiesOption,
    RequireAllOption,
    fail,
    multiomics_options,
    read_data,
)
from fusion.data.formats import CohortFormat

if TYPE_CHECKING:
    import pandas as pd

    from fusion.data.cohort import Cohort
    from kg import KnowledgeGraph

__all__ = ["data_app"]

data_app = typer.Typer(
    help="Inspect multimodal cohorts and link their features to a KG.", no_args_is_help=True
)


class OutputFormat(str, Enum):
    """How reports are printed."""

    table = "table"
    tsv = "tsv"
    json = "json"


def _read_or_fail(
    path: Path,
    format_in: CohortFormat,
    sample_column: str,
    label_column: str | None,
    views: str | None = None,
    multiomics: tuple[str | None, str | None, str | None, bool] = (None, None, None, False),
) -> Cohort:
    try:
        return read_data(
            path,
            format_in,
            sample_column=sample_column,
            label_column=label_column,
            views=views,
            **multiomics_options(*multiomics),
        )
    except ERRORS as error:
        raise fail(error) from None


PathArg = Annotated[
    Path,
    typer.Argument(
        help="MOGONET folder, BRCA mixOmics folder, multi-omics folder (omics tables beside "
        "clinical.csv), folder of per-modality tables, .h5mu/.h5ad file, or a run YAML (its "
        "cohort section)."
    ),
]
FormatOut = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
SampleColumn = Annotated[str, typer.Option(help="tables: the sample-id column.")]
LabelColumn = Annotated[
    str | None, typer.Option(help="Label column of labels.csv (tables) or of obs (h5mu/h5ad).")
]
Views = Annotated[
    str | None,
    typer.Option(
        "--views",
        help="MOGONET: name[:kind[:id_scheme]] of each view, comma-separated, e.g. "
        "mRNA,methylation,regions:methylation [default: mRNA,methylation,miRNA].",
    ),
]


class OnInvalid(str, Enum):
    """What ``data link`` does with bad rows of the miRNA target table."""

    raise_ = "raise"
    drop = "drop"


def _emit(frame: pd.DataFrame, fmt: OutputFormat, extra: dict[str, Any] | None = None) -> None:
    """Print a report frame (list cells joined for table/tsv) and extra sections."""
    if fmt is OutputFormat.json:
        payload = {
            "report": json.loads(frame.reset_index().to_json(orient="records")),
            **(extra or {}),
        }
        typer.echo(json.dumps(payload, indent=1, default=str))
        return
    flat = frame.apply(
        lambda col: col.map(lambda v: ", ".join(map(str, v)) if isinstance(v, list) else v)
    )
    if fmt is OutputFormat.tsv:
        typer.echo(flat.to_csv(sep="\t").rstrip("\n"))
        return
    typer.echo(flat.to_string())
    for title, section in (extra or {}).items():
        typer.echo(f"\n{title}:")
        if isinstance(section, dict):
            lines = section.items()
        else:
            lines = [("", v) for v in (section if isinstance(section, list) else [section])]
        for key, value in lines:
            typer.echo(f"  {key}: {value}" if key else f"  {value}")


def _absent(cohort: Cohort) -> dict[str, str]:
    """Per modality: how many samples lack it, with a few of their ids."""
    out = {}
    for name, ids in cohort.absent_samples().items():
        examples = f" (e.g. {', '.join(map(str, ids[:3]))})" if len(ids) else ""
        out[name] = f"{len(ids)} of {cohort.n_samples} samples lack it{examples}"
    return out


@data_app.command()
def info(
    path: PathArg,
    format_in: FormatIn = CohortFormat.auto,
    format: FormatOut = OutputFormat.table,
    sample_column: SampleColumn = "sample",
    label_column: LabelColumn = None,
    views: Views = None,
    label: LabelOption = None,
    modalities: ModalitiesOption = None,
    clinical: ClinicalOption = None,
    require_all: RequireAllOption = False,
) -> None:
    """Modalities, samples, features, missingness, absent modalities and label balance.

    Examples:

      kgfusion data info ../shared/data/mogonet_rosmap

      kgfusion data info ../shared/data/tcga_brca_multiomics --modalities mutation,cnv,mirna
      --label "er_status == positive" --clinical age,stage_group --require-all

      kgfusion data info run.yaml

      kgfusion data info ../shared/data/mixomics_breast_tcga --format json

      kgfusion data info my_mogonet_folder --views mRNA,methylation,regions:methylation
    """
    chosen = (label, modalities, clinical, require_all)
    cohort = _read_or_fail(path, format_in, sample_column, label_column, views, chosen)
    extra: dict[str, Any] = {"absent modalities": _absent(cohort)}
    if cohort.survival is not None:
        survival = cohort.survival
        extra["survival"] = {"events": int(survival["event"].sum()), "patients": len(survival)}
    if cohort.labels is not None:
        extra["labels"] = {str(k): int(v) for k, v in cohort.label_counts().items()}
    if cohort.split is not None:
        extra["split"] = {str(k): int(v) for k, v in cohort.split.value_counts().items()}
    if format is OutputFormat.table:
        typer.echo(str(cohort).splitlines()[0])
    else:
        extra = {"samples": cohort.n_samples, **extra}
    _emit(cohort.summary(), format, extra if format is not OutputFormat.tsv else None)


class _Collect(logging.Handler):
    """Keeps the warnings logged while it is attached (the rows a reader dropped)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _mirna_targets(path: Path, on_invalid: OnInvalid) -> tuple[KnowledgeGraph, list[str]]:
    """The miRNA → target graph and what the reader dropped (one message per kind of row)."""
    from kg import KGError, load_kg, read_mirna_targets

    if path.is_dir():
        return load_kg(path), []
    collect, logger = _Collect(), logging.getLogger("kg")
    logger.addHandler(collect)
    try:
        return read_mirna_targets(path, on_invalid=on_invalid.value), collect.messages
    except KGError as error:
        if on_invalid is OnInvalid.raise_:
            msg = f"{error}; pass --on-invalid drop to drop such rows (reported)"
            raise fail(msg) from None
        raise
    finally:
        logger.removeHandler(collect)


@data_app.command()
def link(
    path: PathArg,
    kg: Annotated[
        Path | None,
        typer.Option("--kg", help="Saved graph folder; only its nodes count as linked."),
    ] = None,
    gene_info: Annotated[
        Path | None,
        typer.Option(help="gene_info table [default: DATA_DIR/go/gene_info_human.tsv.gz]."),
    ] = None,
    mirna_targets: Annotated[
        Path | None, typer.Option(help="miRNA→target table (miRTarBase CSV) or saved graph folder.")
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(envvar="KGFUSION_DATA", help="Shared data folder for the default gene table."),
    ] = Path("../shared/data"),
    links_out: Annotated[
        Path | None, typer.Option(help="Also write every (feature, node) link to this TSV.")
    ] = None,
    on_invalid: Annotated[
        OnInvalid,
        typer.Option(
            "--on-invalid",
            help="Rows of --mirna-targets that are malformed or name no miRNA: raise (exit 2 "
            "naming the line) or drop them (the report says how many and on which lines).",
        ),
    ] = OnInvalid.raise_,
    format_in: FormatIn = CohortFormat.auto,
    format: FormatOut = OutputFormat.table,
    sample_column: SampleColumn = "sample",
    label_column: LabelColumn = None,
    views: Views = None,
    label: LabelOption = None,
    modalities: ModalitiesOption = None,
    clinical: ClinicalOption = None,
    require_all: RequireAllOption = False,
) -> None:
    """Link each modality's features to KG node ids and print the linking report.

    Examples:

      kgfusion data link ../shared/data/mogonet_rosmap

      kgfusion data link ../shared/data/mixomics_breast_tcga --kg kgfusion-out/kg --format tsv

      kgfusion data link ../shared/data/mogonet_rosmap --mirna-targets targets.csv --links-out links.tsv
    """
    from fusion.data.link import link_cohort
    from kg import SHARED_FILES, GeneNormalizer, load_kg

    chosen = (label, modalities, clinical, require_all)
    cohort = _read_or_fail(path, format_in, sample_column, label_column, views, chosen)
    dropped: list[str] = []
    try:
        graph = load_kg(kg) if kg is not None else None
        default_genes = Path(data_dir) / SHARED_FILES["gene_info"]
        gene_file = (
            gene_info
            if gene_info is not None
            else default_genes
            if default_genes.exists()
            else None
        )
        genes = GeneNormalizer.from_gene_info(gene_file) if gene_file is not None else None
        targets = None
        if mirna_targets is not None:
            targets, dropped = _mirna_targets(mirna_targets, on_invalid)
        links = link_cohort(cohort, graph, genes=genes, mirna_targets=targets)
    except ERRORS as error:
        raise fail(error) from None
    if links_out is not None:
        links.links.to_csv(links_out, sep="\t", index=False)
    sources = {
        "gene table": str(gene_file)
        if gene_file
        else "gene nodes of --kg"
        if graph is not None
        else "none",
        "kg": str(kg) if kg else "none (every resolved id counts)",
    }
    extra: dict[str, Any] = {}
    if mirna_targets is not None:
        sources["miRNA targets"] = f"{mirna_targets} ({targets.number_of_edges()} edges)"
        extra["dropped rows of --mirna-targets"] = dropped or ["none"]
    if format is OutputFormat.table:
        _emit(links.report, format, {"sources": sources, **extra})
    elif format is OutputFormat.json:
        _emit(links.report, format, {"dropped": dropped} if mirna_targets is not None else None)
    else:
        _emit(links.report, format)
        for message in dropped:
            typer.echo(f"note: {message}", err=True)
