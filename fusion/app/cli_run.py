"""``kgfusion train | evaluate | predict``: run what a YAML configuration names, from the shell."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from fusion._exceptions import FusionError
from fusion.app._explain_output import ExplainFormat, emit_explanations
from fusion.app._options import (
    ERRORS,
    ConfigArg,
    DataOption,
    ExplainMethod,
    FormatIn,
    Method,
    ModelOption,
    Progress,
    cohort_part,
    fail,
    read_data,
)
from fusion.data.formats import CohortFormat

__all__ = ["evaluate", "explain", "predict", "train"]

#: ``kgfusion explain --max-share`` default: :data:`fusion.explanations.explanation.MAX_SHARE`
#: (a test keeps them equal; not imported, so that the command line starts at once).
MAX_SHARE = 0.1


def _metrics_line(metrics: dict[str, float]) -> str:
    return "  ".join(f"{k}={v:.3f}" for k, v in metrics.items())


def train(
    config: ConfigArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Model folder (default: OUTPUT/model).")
    ] = None,
    progress: Progress = True,
    nproc: Annotated[
        int,
        typer.Option(
            min=1, help="Processes training data-parallel on this machine (spawns torchrun)."
        ),
    ] = 1,
) -> None:
    """Fit the configured model on the cohort's training part and save it.

    With an official split (MOGONET, BRCA) the model is fitted on the training part and scored on
    the test part; otherwise on every sample. Writes the model folder (weights, config, id maps,
    the pruned KG) and ``test_metrics.json``. ``--nproc N`` trains on N processes
    (``torchrun --standalone --nproc_per_node N -m fusion train ...``, which also runs as it is,
    with torchrun's options for several machines); only the first writes.

    Example:

      kgfusion train rosmap.yaml -o kgfusion-out/rosmap/model --nproc 2
    """
    if nproc > 1:
        raise typer.Exit(code=_torchrun(nproc, config, out, progress))
    from fusion.app.run import fit_from_config

    try:
        from fusion.app.config import RunConfig

        run = RunConfig.from_yaml(config)
        result = fit_from_config(run, out=out, progress=progress)
    except ERRORS as error:
        raise fail(error) from None
    if not result.written:  # a rank > 0 of a data-parallel run
        return
    typer.echo(f"saved model to {result.model_dir}")
    if result.test_metrics:
        typer.echo(f"test ({result.n_test} samples): {_metrics_line(result.test_metrics)}")


def _torchrun(nproc: int, config: Path, out: Path | None, progress: bool) -> int:
    """Run ``kgfusion train`` on ``nproc`` local processes under torchrun; its exit code."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", str(nproc), "-m", "fusion", "train", str(config)]
    command += (["--out", str(out)] if out is not None else []) + [
        "--progress" if progress else "--no-progress"
    ]
    return subprocess.run(command, check=False).returncode


def evaluate(
    config: ConfigArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Results folder (default: OUTPUT).")
    ] = None,
    progress: Progress = True,
) -> None:
    """Evaluate the configured model and baselines under the configured protocol.

    ``evaluation.protocol: official`` fits each estimator once per seed on the official training
    part; ``cv`` runs repeated stratified K-fold over all samples. Every figure is out-of-sample.
    Writes ``results.csv`` (one row per estimator × run) and ``summary.md`` (mean ± sd).

    Example:

      kgfusion evaluate rosmap.yaml
    """
    from fusion.app.run import evaluate_from_config

    try:
        from fusion.app.config import RunConfig

        run = RunConfig.from_yaml(config)
        summary, folder = evaluate_from_config(run, out=out, progress=progress)
    except ERRORS as error:
        raise fail(error) from None
    typer.echo(summary.to_string())
    typer.echo(f"wrote {folder / 'results.csv'} and {folder / 'summary.md'}")


def predict(
    model: Annotated[Path, typer.Argument(help="Model folder written by `kgfusion train`.")],
    data: Annotated[
        Path, typer.Argument(help="Cohort: MOGONET / BRCA folder, tables folder, .h5mu/.h5ad.")
    ],
    format_in: FormatIn = CohortFormat.auto,
    part: Annotated[str, typer.Option(help="all, or train/test of an official split.")] = "all",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="CSV file (default: print).")
    ] = None,
) -> None:
    """Predict classes and probabilities (or risks) for a cohort with a saved model.

    Example:

      kgfusion predict kgfusion-out/rosmap/model ../shared/data/mogonet_rosmap --part test -o pred.csv
    """
    from fusion.app.run import load_model, predictions

    try:
        estimator = load_model(model)
        cohort = cohort_part(read_data(data, format_in), part)
        table = predictions(estimator, cohort)
    except ERRORS as error:
        raise fail(error) from None
    if out is None:
        typer.echo(table.to_string())
    else:
        table.to_csv(out)
        typer.echo(f"wrote {len(table)} predictions to {out}")


def explain(
    model: ModelOption,
    data: DataOption,
    patient: Annotated[list[str], typer.Option("--patient", "-p", help="Sample id, repeatable.")],
    top: Annotated[int, typer.Option("--top", "-k", help="Number of top nodes.")] = 20,
    node_type: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Keep node types (gene, go_term, pathway...)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Keep one namespace, e.g. biological_process.")
    ] = None,
    method: Method = ExplainMethod.ig_features,
    decompose: Annotated[
        bool | None,
        typer.Option(
            "--decompose/--no-decompose",
            help="Score the terms by their own inputs' scores, each ontology's nested and overlapping terms competing for them (Explanation.decompose_terms). Default: on for --method ig_features, the one method scoring the inputs.",
            show_default=False,
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            help="Decomposition: z-score above which a term takes its inputs from its superterms and overlapping terms."
        ),
    ] = 3.0,
    min_inputs: Annotated[
        int, typer.Option(help="Decomposition: terms reached by fewer inputs score 0.")
    ] = 2,
    max_share: Annotated[
        float,
        typer.Option(
            help="Leave out terms reached by more than this share of the patient's linked inputs (near-roots; terms of at most 10 inputs stay); 1 keeps every term."
        ),
    ] = MAX_SHARE,
    format: Annotated[ExplainFormat, typer.Option("--format", "-f")] = ExplainFormat.table,
    format_in: FormatIn = CohortFormat.auto,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file (required for graphml/ttl/png/html; table/json: print).",
        ),
    ] = None,
    max_len: Annotated[
        int, typer.Option(help="Longest path (hops) joining a top node to an input in subgraphs.")
    ] = 3,
    include_zero: Annotated[
        bool, typer.Option("--include-zero", help="table: also list nodes scoring 0.")
    ] = False,
) -> None:
    """Explain patients' predictions as subgraphs of the knowledge graph.

    By default the input genes are attributed by integrated gradients (--method ig_features) and
    the terms scored by decomposition (see docs/explanations.md); terms reached by more than
    --max-share of the patient's inputs are left out.

    table/json print the top nodes (json adds the subgraph's nodes and edges; both go to --out
    when given); the table leaves out nodes scoring 0 unless --include-zero (json keeps --top
    rows). graphml, png and html write the explanation subgraph (exit 2 when there is no node
    of --type to draw, or no top node is within --max-len hops of an input, saying which
    --max-len would reach one); ttl writes RDF to query with SPARQL.

    Examples:

      kgfusion explain -m kgfusion-out/rosmap/model -d ../shared/data/mogonet_rosmap -p test_0 --top 20 --type go_term

      kgfusion explain -m M -d D -p test_0 -p test_1 -f ttl -o explanations.ttl

      kgfusion explain -m M -d D -p test_0 --type pathway --max-share 1

      kgfusion explain -m M -d D -p test_0 --method contribution --type pathway
    """
    from fusion.app.run import load_model
    from fusion.explanations import explain as explain_patients

    try:
        if format not in (ExplainFormat.table, ExplainFormat.json) and out is None:
            raise FusionError(f"--format {format.value} writes a file: give --out")
        if (
            format in (ExplainFormat.graphml, ExplainFormat.png, ExplainFormat.html)
            and len(patient) != 1
        ):
            raise FusionError(f"--format {format.value} draws one patient; got {len(patient)}")
        decomposes, share = _decomposes(method, decompose), _share(max_share)
        estimator = load_model(model)
        cohort = read_data(data, format_in)
        explanations = explain_patients(estimator, cohort, patient, method.value, decompose=False)
        types = node_type or None
        if decomposes:
            explanations = [
                e.decompose_terms(min_inputs=min_inputs, threshold=threshold) for e in explanations
            ]
        explanations = [replace(e, max_share=share) for e in explanations]
        emit_explanations(
            explanations, format, out, top, types, namespace, max_len, not include_zero
        )
    except ERRORS as error:
        raise fail(error) from None


def _decomposes(method: ExplainMethod, decompose: bool | None) -> bool:
    """``--decompose/--no-decompose``, by default on for ig_features (as ``fusion.explain``)."""
    if decompose is None:
        return method is ExplainMethod.ig_features
    if decompose and method is not ExplainMethod.ig_features:
        raise FusionError(
            f"--decompose decomposes the inputs' own scores onto the terms: it needs --method "
            f"ig_features; --method {method.value} scores the concept nodes (pass --no-decompose)"
        )
    return decompose


def _share(max_share: float) -> float | None:
    if not 0.0 < max_share <= 1.0:
        raise FusionError(f"--max-share must be in (0, 1]; got {max_share}")
    return None if max_share == 1.0 else max_share
