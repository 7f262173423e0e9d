"""``kgfusion train | evaluate | predict``: run what a YAML configuration names, from the shell."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from fusion._exceptions import FusionError
from fusion.app._options import (
    ERRORS,
    ConfigArg,
    ExplainMethod,
    FormatIn,
    Method,
    Progress,
    fail,
    read_data,
)
from fusion.data.formats import CohortFormat

__all__ = ["evaluate", "explain", "predict", "train"]


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
        cohort = _part(read_data(data, format_in), part)
        table = predictions(estimator, cohort)
    except ERRORS as error:
        raise fail(error) from None
    if out is None:
        typer.echo(table.to_string())
    else:
        table.to_csv(out)
        typer.echo(f"wrote {len(table)} predictions to {out}")


def _part(cohort: Any, part: str) -> Any:
    if part == "all":
        return cohort
    if part not in ("train", "test"):
        raise FusionError(f"--part must be all, train or test; got {part!r}")
    train, test = cohort.train_test()
    return train if part == "train" else test


class ExplainFormat(str, Enum):
    """Output formats of ``kgfusion explain``."""

    table = "table"
    json = "json"
    graphml = "graphml"
    ttl = "ttl"
    png = "png"
    html = "html"


def explain(
    model: Annotated[
        Path, typer.Option("--model", "-m", help="Model folder written by `kgfusion train`.")
    ],
    data: Annotated[
        Path, typer.Option("--data", "-d", help="Cohort holding the patients (as for `predict`).")
    ],
    patient: Annotated[list[str], typer.Option("--patient", "-p", help="Sample id, repeatable.")],
    top: Annotated[int, typer.Option("--top", "-k", help="Number of top nodes.")] = 20,
    node_type: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Keep node types (gene, go_term, pathway...)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Keep one namespace, e.g. biological_process.")
    ] = None,
    method: Method = ExplainMethod.contribution,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose",
            help="Score the terms (of --type/--namespace) by their own inputs' scores (Explanation.decompose; use with --method ig_features).",
        ),
    ] = False,
    threshold: Annotated[
        float,
        typer.Option(
            help="With --decompose: z-score above which a term takes its inputs from its superterms and overlapping terms."
        ),
    ] = 3.0,
    min_inputs: Annotated[
        int, typer.Option(help="With --decompose: terms reached by fewer inputs score 0.")
    ] = 2,
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

    table/json print the top nodes (json adds the subgraph's nodes and edges; both go to --out
    when given); the table leaves out nodes scoring 0 unless --include-zero (json keeps --top
    rows). graphml, png and html write
    the explanation subgraph (exit 2 when no top node is within --max-len hops of an input,
    saying which --max-len would reach one); ttl writes RDF to query with SPARQL.

    Examples:

      kgfusion explain -m kgfusion-out/rosmap/model -d ../shared/data/mogonet_rosmap -p test_0 --top 20 --type go_term

      kgfusion explain -m M -d D -p test_0 -p test_1 -f ttl -o explanations.ttl

      kgfusion explain -m M -d D -p test_0 --method ig_features --decompose --type pathway
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
        estimator = load_model(model)
        cohort = read_data(data, format_in)
        explanations = explain_patients(estimator, cohort, patient, method.value)
        types = node_type or None
        if decompose:
            explanations = [
                e.decompose(types, namespace, min_inputs=min_inputs, threshold=threshold)
                for e in explanations
            ]
        _emit_explanations(
            explanations, format, out, top, types, namespace, max_len, not include_zero
        )
    except ERRORS as error:
        raise fail(error) from None


def _emit_explanations(
    explanations: list[Any],
    fmt: ExplainFormat,
    out: Path | None,
    k: int,
    types: Any,
    namespace: str | None,
    max_len: int = 3,
    nonzero: bool = True,
) -> None:
    import networkx as nx

    from fusion.explanations import plot_subgraph, write_html, write_turtle

    if fmt is ExplainFormat.ttl:
        write_turtle(explanations, out, k=k, subgraph_k=k, max_len=max_len)
    elif fmt is ExplainFormat.png:
        plot_subgraph(explanations[0], out, k=k, types=types, max_len=max_len)
    elif fmt is ExplainFormat.html:
        write_html(explanations[0], out, k=k, types=types, max_len=max_len)
    elif fmt is ExplainFormat.graphml:
        graph = explanations[0].subgraph(k, types, namespace, max_len=max_len)
        _check_reached(explanations[0], graph, k, max_len)
        nx.write_graphml(_graphml_safe(graph), out)
    else:
        table_only = nonzero and fmt is ExplainFormat.table  # json keeps k rows for programs
        tables = {e.patient: e.top(k, types, namespace, nonzero=table_only) for e in explanations}
        if fmt is ExplainFormat.table:
            lines = []
            for patient, table in tables.items():
                e = next(x for x in explanations if x.patient == patient)
                output = f"p={e.probability:.3f}" if e.risk is None else f"log-risk {e.risk:.3f}"
                lines.append(
                    f"patient {patient}: predicted {e.prediction} ({output}), method {e.method}"
                )
                lines.append(
                    table.to_string(index=False) if len(table) else "(no node scores above 0)"
                )
                n_zero = min(k, len(e.ranking(types, namespace))) - len(table)
                if n_zero > 0:
                    lines.append(f"({n_zero} more node(s) score 0; --include-zero lists them)")
            _write_or_echo("\n".join(lines), out)
        else:
            payload = [
                {
                    "patient": e.patient,
                    "prediction": e.prediction,
                    "probability": e.probability,
                    "risk": e.risk,
                    "top": tables[e.patient].to_dict(orient="records"),
                    "subgraph": nx.node_link_data(
                        _graphml_safe(e.subgraph(k, types, namespace, max_len=max_len)),
                        edges="edges",
                    ),
                }
                for e in explanations
            ]
            _write_or_echo(json.dumps(payload, indent=1, default=str), out)
        return
    typer.echo(f"wrote {out}")


def _write_or_echo(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` (whole: a temporary file renamed into place)."""
    if out is None:
        typer.echo(text)
        return
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(out)
    typer.echo(f"wrote {out}")


def _check_reached(explanation: Any, graph: Any, k: int, max_len: int) -> None:
    """Refuse to write an explanation subgraph without nodes (no top node reached)."""
    if len(graph):
        return
    unreached = graph.graph.get("unreached", [])
    hops = explanation.hops_from_inputs(unreached)
    hint = f"; the nearest is {hops} hops away: pass --max-len {hops}" if hops else ""
    raise FusionError(
        f"no top node of {explanation.patient!r} is within --max-len {max_len} hops of an input "
        f"feature ({len(unreached)} of the top {k} unreached), nothing to write{hint}"
    )


def _graphml_safe(graph: Any) -> Any:
    """A copy whose attributes are GraphML scalars (lists joined with ``|``, None dropped)."""
    import networkx as nx

    def clean(data: dict[str, Any]) -> dict[str, Any]:
        return {
            k: "|".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v
            for k, v in data.items()
            if v is not None
        }

    safe = nx.MultiDiGraph(**clean(dict(graph.graph)))
    safe.add_nodes_from((n, clean(d)) for n, d in graph.nodes(data=True))
    safe.add_edges_from((u, v, key, clean(d)) for u, v, key, d in graph.edges(keys=True, data=True))
    return safe
