"""What ``kgfusion explain`` writes: tables, JSON, GraphML, Turtle, pictures (private).

Kept apart from :mod:`fusion.app.cli_run` so that the command module stays small; networkx and
the explanation modules are imported when a format is written.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from fusion._exceptions import FusionError

__all__ = ["ExplainFormat", "emit_explanations", "write_or_echo"]


class ExplainFormat(str, Enum):
    """Output formats of ``kgfusion explain``."""

    table = "table"
    json = "json"
    graphml = "graphml"
    ttl = "ttl"
    png = "png"
    html = "html"


def emit_explanations(
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
        _check_reached(explanations[0], graph, k, max_len, types, namespace)
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
                    table.to_string(index=False) if len(table) else _empty(e, types, namespace)
                )
                n_zero = min(k, len(e.ranking(types, namespace))) - len(table)
                if n_zero > 0:
                    lines.append(f"({n_zero} more node(s) score 0; --include-zero lists them)")
            write_or_echo("\n".join(lines), out)
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
            write_or_echo(json.dumps(payload, indent=1, default=str), out)
        return
    typer.echo(f"wrote {out}")


def write_or_echo(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` (whole: a temporary file renamed into place)."""
    if out is None:
        typer.echo(text)
        return
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(out)
    typer.echo(f"wrote {out}")


def _empty(explanation: Any, types: Any, namespace: str | None) -> str:
    """What an empty table says: every node scores 0, or every term is too broad."""
    if len(explanation.ranking(types, namespace)) or not len(
        explanation.ranking(types, namespace, max_share=None)
    ):
        return "(no node scores above 0)"
    return (
        f"(every node of this type is reached by more than --max-share {explanation.max_share} "
        "of the patient's inputs; --max-share 1 lists them)"
    )


def _check_reached(
    explanation: Any, graph: Any, k: int, max_len: int, types: Any, namespace: str | None
) -> None:
    """Refuse to write an explanation subgraph without nodes (no top node, or none reached)."""
    if len(graph):
        return
    if not len(explanation.ranking(types, namespace)):
        raise FusionError(
            f"no node of the explanation of {explanation.patient!r} to draw (--type {types}, "
            f"--namespace {namespace}): {_empty(explanation, types, namespace)[1:-1]}; nothing "
            "to write"
        )
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
