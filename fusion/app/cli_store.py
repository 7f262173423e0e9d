"""``kgfusion store | query``: a cohort's explanations in an on-disk SPARQL store, and queries.

The store is :class:`fusion.explanations.store.ExplanationStore` (Oxigraph; ``pip install
'kgfusion[store]'``).
"""

from __future__ import annotations

import json
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from fusion._exceptions import FusionError
from fusion.app._options import (
    ERRORS,
    ExplainMethod,
    FormatIn,
    Method,
    ModelOption,
    PatientsOption,
    Progress,
    TableFormat,
    fail,
    read_data,
)
from fusion.data.formats import CohortFormat

__all__ = ["parse_binding", "query", "store"]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")


class OnExistingOption(str, Enum):
    """What ``kgfusion store`` does with an explanation already stored."""

    replace = "replace"
    skip = "skip"
    error = "raise"


def store(
    model: ModelOption,
    data: Annotated[Path, typer.Option("--data", "-d", help="Cohort (as for `predict`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Store folder (created if missing).")],
    patient: PatientsOption = None,
    method: Method = ExplainMethod.contribution,
    with_kg: Annotated[
        bool, typer.Option("--kg", help="Also store the model's knowledge graph.")
    ] = False,
    top: Annotated[
        int, typer.Option("--top", "-k", help="Nodes stored per (type, namespace) and patient.")
    ] = 50,
    subgraph_k: Annotated[
        int, typer.Option(help="Top nodes whose subgraph edges are stored.")
    ] = 20,
    max_len: Annotated[int, typer.Option(help="Longest path (hops) in stored subgraphs.")] = 3,
    on_existing: Annotated[
        OnExistingOption, typer.Option(help="An explanation already stored: replace/skip/raise.")
    ] = OnExistingOption.replace,
    batch_size: Annotated[int, typer.Option(help="Patients explained and stored at a time.")] = 64,
    format_in: FormatIn = CohortFormat.auto,
    progress: Progress = True,
) -> None:
    """Explain every patient of a cohort (or --patient ones) and write them into a SPARQL store.

    Explanations are computed as by `kgfusion explain` and stored with their scores, ranks,
    subgraph edges and provenance; run it again to add more patients (or other methods) to the
    same store. Query it with `kgfusion query`.

    Examples:

      kgfusion store -m kgfusion-out/rosmap/model -d ../shared/data/mogonet_rosmap -o rosmap.oxigraph --kg

      kgfusion store -m M -d D -o rosmap.oxigraph -p test_0 -p test_1 --method ig
    """
    from tqdm.auto import tqdm

    from fusion.app.run import load_model
    from fusion.explanations import explain as explain_patients
    from fusion.explanations.store import ExplanationStore

    try:
        estimator = load_model(model)
        cohort = read_data(data, format_in)
        patients = list(patient) if patient else [str(s) for s in cohort.samples]
        written = 0
        with ExplanationStore(out, create=True) as target:
            bar = tqdm(total=len(patients), unit="patient", disable=not progress)
            for start in range(0, len(patients), batch_size):
                explanations = explain_patients(
                    estimator, cohort, patients[start : start + batch_size], method.value
                )
                if with_kg and start == 0:
                    target.add_kg(explanations[0].kg)
                written += target.add(
                    explanations,
                    k=top,
                    subgraph_k=subgraph_k,
                    max_len=max_len,
                    on_existing=on_existing.value,
                    batch_size=batch_size,
                )
                bar.update(len(explanations))
            bar.close()
            total = len(target)
    except ERRORS as error:
        raise fail(error) from None
    kg_note = " and the model's KG" if with_kg else ""
    typer.echo(
        f"stored {written} explanation(s) ({method.value}){kg_note} in {out} ({total} triples)"
    )


def parse_binding(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as ``(name, value)``: a number when VALUE is one, unless double-quoted.

    Examples
    --------
    >>> parse_binding("k=10"), parse_binding("patient_id=p1"), parse_binding('patient_id="7"')
    (('k', 10), ('patient_id', 'p1'), ('patient_id', '7'))
    """
    name, sep, value = text.partition("=")
    name = name.strip().lstrip("?")
    if not sep or not name:
        raise FusionError(f"--bind takes NAME=VALUE (e.g. --bind k=10); got {text!r}")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return name, value[1:-1]
    if _NUMBER.fullmatch(value):
        return name, int(value) if value.lstrip("+-").isdigit() else float(value)
    return name, value


def _read_query(sparql: str) -> tuple[str, str]:
    """``(text, name)`` of --sparql: a file's content and path, or the text itself."""
    path = Path(sparql)
    if "\n" not in sparql and len(sparql) < 4096 and path.is_file():
        return path.read_text(encoding="utf-8"), str(path)
    if path.suffix in (".rq", ".sparql") and " " not in sparql:
        raise FusionError(f"no query file {sparql}; give a file that exists, or the query text")
    return sparql, "the query text"


def query(
    sparql: Annotated[
        str, typer.Option("--sparql", "-q", help="SPARQL query: a file (.rq) or the text itself.")
    ],
    store: Annotated[
        Path, typer.Option("--store", "-s", help="Store folder written by `kgfusion store`.")
    ],
    bind: Annotated[
        list[str] | None,
        typer.Option(
            "--bind",
            "-b",
            help='Fix a variable: NAME=VALUE, repeatable (numbers stay numbers unless "quoted").',
        ),
    ] = None,
    format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: print).")
    ] = None,
) -> None:
    """Run a SPARQL query against an explanation store (read-only; others may read at once).

    The shipped queries are in fusion.explanations (TOP_K_QUERY, SHARED_TERMS_QUERY) and
    fusion.explanations.store (TERM_TOP_K_QUERY, CLASS_SHARED_TERMS_QUERY, EXPLANATIONS_QUERY).

    Examples:

      kgfusion query -s rosmap.oxigraph -q top_k.rq -b patient_id=test_0 -b type=pathway

      kgfusion query -s rosmap.oxigraph -f csv -q 'PREFIX kgf: <https://w3id.org/kgfusion/> SELECT (COUNT(*) AS ?n) WHERE { ?e a kgf:Explanation }'
    """
    from fusion.explanations.store import ExplanationStore

    try:
        text, name = _read_query(sparql)
        bindings = dict(parse_binding(b) for b in bind or [])
        with ExplanationStore(store, read_only=True) as source:
            table = source.query(text, bindings, name=name)
    except ERRORS as error:
        raise fail(error) from None
    if format is TableFormat.csv:
        rendered = table.to_csv(index=False).rstrip("\n")
    elif format is TableFormat.json:
        rendered = json.dumps(table.to_dict(orient="records"), indent=1, default=str)
    else:
        rendered = table.to_string(index=False) if len(table) else "(no results)"
    if out is None:
        typer.echo(rendered)
    else:
        out.write_text(rendered + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(table)} row(s) to {out}")
