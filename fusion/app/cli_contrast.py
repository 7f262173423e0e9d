"""``kgfusion contrast``: the terms whose explanation scores differ between a cohort's groups."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fusion._exceptions import FusionError
from fusion.app._explain_output import write_or_echo
from fusion.app._options import (
    ERRORS,
    DataOption,
    ExplainMethod,
    FormatIn,
    Method,
    ModelOption,
    TableFormat,
    cohort_part,
    fail,
    read_data,
)
from fusion.data.formats import CohortFormat

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["contrast"]

#: Columns of the printed table (csv and json hold every column of ``fusion.contrast``).
SHOWN = ("id", "name", "mean_group", "mean_versus", "difference", "effect", "p_value", "q_value")


class GroupBy(str, Enum):
    """What ``kgfusion contrast`` groups patients by."""

    prediction = "prediction"
    label = "label"


class Alternative(str, Enum):
    """The direction of ``difference = mean_group - mean_versus`` tested."""

    two_sided = "two-sided"
    greater = "greater"
    less = "less"


def contrast(
    model: ModelOption,
    data: DataOption,
    by: Annotated[
        GroupBy,
        typer.Option(help="Group patients by predicted class (risk group) or true label."),
    ] = GroupBy.prediction,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Compare every group with this one (default: 2 groups: the first "
            "sorted; more: each group with the rest)."
        ),
    ] = None,
    node_type: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Node types compared (gene, go_term, pathway...)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Keep one namespace, e.g. biological_process.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            help="A classifier's class whose evidence is scored for every patient (default: of 2 groups, the one compared with the reference; else the model's last class)."
        ),
    ] = None,
    method: Method = ExplainMethod.contribution,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose",
            help="Score the terms by their own inputs' scores first "
            "(Explanation.decompose; use with --method ig_features).",
        ),
    ] = False,
    permutations: Annotated[
        int, typer.Option(help="Label permutations (fewer possible splits: all, exactly).")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the permutations.")] = 0,
    alternative: Annotated[
        Alternative, typer.Option(help="Direction of mean_group - mean_versus tested.")
    ] = Alternative.two_sided,
    part: Annotated[str, typer.Option(help="all, or train/test of an official split.")] = "all",
    top: Annotated[
        int, typer.Option("--top", "-k", help="table: rows per comparison; plot: labels.")
    ] = 20,
    format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    format_in: FormatIn = CohortFormat.auto,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: print).")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Also draw a volcano plot (PNG, PDF or SVG).")
    ] = None,
) -> None:
    """Terms whose explanation scores differ between classes, with permutation p and FDR q.

    Explains every patient of the cohort (or --part) for one class (--target; a survival model:
    its log-risk), groups them by predicted class (risk group) or true label, and tests each
    term with label permutations.

    Per term (fusion.contrast): mean score per group, difference, effect (Cliff's delta),
    p-value and Benjamini-Hochberg q over the terms. table prints the --top terms of each
    comparison; csv and json hold every term tested.

    Examples:

      kgfusion contrast -m kgfusion-out/rosmap/model -d ../shared/data/mogonet_rosmap --type pathway

      kgfusion contrast -m M -d D --by label --permutations 5000 -f csv -o contrast.csv --plot volcano.png
    """
    from fusion.app.run import load_model
    from fusion.explanations import contrast as contrast_terms
    from fusion.explanations import explain, plot_contrast

    try:
        cohort = cohort_part(read_data(data, format_in), part)
        estimator = load_model(model)
        groups = None if by is GroupBy.prediction else _labels(cohort)
        explained = _target(estimator, target, reference, groups)
        explanations = explain(estimator, cohort, None, method.value, target=explained)
        types = node_type or None
        if decompose:
            explanations = [e.decompose(types, namespace) for e in explanations]
        table = contrast_terms(
            explanations,
            groups,
            reference=reference,
            type=types,
            namespace=namespace,
            n_permutations=permutations,
            seed=seed,
            alternative=alternative.value,
        )
        write_or_echo(_render(table, format, top), out)
        if plot is not None:
            plot_contrast(table, plot, k=top)
            typer.echo(f"wrote {plot}")
    except ERRORS as error:
        raise fail(error) from None


def _labels(cohort: Any) -> pd.Series:
    """The cohort's class labels (patient id → label)."""
    if cohort.labels is None:
        raise FusionError(
            "--by label: the cohort has no class labels (a survival cohort groups by predicted "
            "risk: --by prediction)"
        )
    return cohort.labels


def _target(
    estimator: Any, target: str | None, reference: str | None, groups: pd.Series | None
) -> str | None:
    """The class explained: ``target``; else of two groups (labels, or the model's classes) the
    one compared with the reference, else the model's last class; ``None`` for survival."""
    classes = getattr(estimator, "classes_", None)
    if target is not None or classes is None:
        return target
    names = sorted({str(g) for g in (classes if groups is None else groups.dropna())})
    if len(names) == 2:
        return names[1] if reference in (None, names[0]) else names[0]
    return str(classes[-1])


def _render(table: pd.DataFrame, fmt: TableFormat, top: int) -> str:
    """The table as text: per comparison its ``top`` rows (table), or every row (csv, json)."""
    if fmt is TableFormat.csv:
        return table.to_csv(index=False).rstrip("\n")
    if fmt is TableFormat.json:
        payload = {**table.attrs, "terms": json.loads(table.to_json(orient="records"))}
        return json.dumps(payload, indent=1)
    attrs = table.attrs
    header = (
        f"{attrs['method']} scores of {attrs['explained']}, {attrs['n_permutations']} permutations"
    )
    lines = [f"{header}, seed {attrs['seed']}, {attrs['alternative']}"]
    if table.empty:
        return "\n".join([*lines, "(no term scores differently between any two patients)"])
    for (group, versus), rows in table.groupby(["group", "versus"], sort=False):
        n_hits = int((rows["q_value"] <= 0.05).sum())
        lines.append(
            f"\n{group} ({rows['n_group'].iat[0]} patients) vs {versus} "
            f"({rows['n_versus'].iat[0]}): {n_hits} of {len(rows)} terms at q <= 0.05"
        )
        lines.append(rows.head(top)[list(SHOWN)].to_string(index=False))
    return "\n".join(lines)
