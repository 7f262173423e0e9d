"""``kgfusion faithfulness``: the standard faithfulness metrics of a cohort's explanations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from fusion.app._explain_output import write_or_echo
from fusion.app._options import (
    ERRORS,
    DataOption,
    ExplainMethod,
    FormatIn,
    Method,
    ModelOption,
    PatientsOption,
    TableFormat,
    cohort_part,
    fail,
    read_data,
)
from fusion.data.formats import CohortFormat

__all__ = ["faithfulness"]


def _explainer(estimator: Any, patients: list[str], method: str, decompose: dict | None) -> Any:
    """Explanations of a cohort's ``patients`` as the command makes them (for the stability)."""
    from fusion.explanations import explain

    def explainer(cohort: Any) -> list[Any]:
        explanations = explain(estimator, cohort, patients, method)
        if decompose is None:
            return explanations
        return [e.decompose(**decompose) for e in explanations]

    return explainer


def faithfulness(
    model: ModelOption,
    data: DataOption,
    patient: PatientsOption = None,
    part: Annotated[str, typer.Option(help="all, or train/test of an official split.")] = "all",
    top: Annotated[int, typer.Option("--top", "-k", help="Top nodes of each explanation.")] = 10,
    random: Annotated[
        int, typer.Option("--random", help="Random explanations per patient (the baseline).")
    ] = 20,
    method: Method = ExplainMethod.contribution,
    node_type: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Top nodes of these types (gene, go_term, pathway...)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Top nodes of one namespace, e.g. biological_process.")
    ] = None,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose",
            help="Score the terms (of --type/--namespace) by their own inputs (Explanation.decompose).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seeds the random explanations and the noise.")] = 0,
    format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    format_in: FormatIn = CohortFormat.auto,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: print).")
    ] = None,
) -> None:
    """Faithfulness of explanations, each metric beside random explanations of equal size.

    Explains the patients with the saved model (as `kgfusion explain`), then reports fidelity+ /
    fidelity- (removing / keeping only the inputs of each top-k explanation subgraph), the
    characterization score, the fidelity-curve AUC, unfaithfulness, infidelity (ig_features)
    and the top-k stability under input noise: the explanations' value, the mean and sd over
    --random random explanations, their ratio and which direction is better
    (fusion.explanations.evaluate_explanations; docs/explanations.md, "Faithfulness metrics").

    Examples:

      kgfusion faithfulness -m kgfusion-out/rosmap/model -d ../shared/data/mogonet_rosmap --part test --top 10 --random 20

      kgfusion faithfulness -m M -d D --method ig_features --decompose --type go_term -f csv -o faithfulness.csv
    """
    from fusion.app.run import load_model
    from fusion.explanations import FaithfulnessConfig, evaluate_explanations

    try:
        estimator = load_model(model)
        cohort = cohort_part(read_data(data, format_in), part)
        patients = list(patient) if patient else [str(p) for p in cohort.samples]
        types = tuple(node_type) if node_type else None
        steps = {"type": types, "namespace": namespace} if decompose else None
        explainer = _explainer(estimator, patients, method.value, steps)
        config = FaithfulnessConfig(types=types, namespace=namespace)
        table = evaluate_explanations(
            estimator, cohort, explainer(cohort), top, random, seed, config=config,
            explainer=explainer,
        )  # fmt: skip
    except ERRORS as error:
        raise fail(error) from None
    if format is TableFormat.csv:
        text = table.to_csv(index=False).rstrip("\n")
    elif format is TableFormat.json:
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        text = json.dumps(records, indent=1)  # NaN (a metric without random spread) as null
    else:
        title = (
            f"faithfulness of {len(patients)} explanation(s): method {method.value}"
            f"{' + decompose' if decompose else ''}, top {top}, {random} random draws, seed {seed}"
        )
        text = f"{title}\n{table.to_string(index=False, float_format=lambda v: f'{v:.4g}')}"
    write_or_echo(text, out)
