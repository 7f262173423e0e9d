"""``kgfusion kg ...``: build, inspect, export and query knowledge graphs from the shell.

The commands import the modules they use (pandas, networkx, ...) when they run, so that
``--help`` and the ``kgfusion`` command line start without them.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kg._exceptions import KGError

if TYPE_CHECKING:
    from kg.build import Source
    from kg.graph import KnowledgeGraph

__all__ = ["app"]

app = typer.Typer(help="Build, inspect, export and query knowledge graphs.", no_args_is_help=True)

DEFAULT_OUT = Path("kgfusion-out/kg")


class Preset(str, Enum):
    """Named source sets."""

    embedded = "embedded"
    shared = "shared"


class ExportFormat(str, Enum):
    """Export formats of ``kgfusion kg export``."""

    ttl = "ttl"
    graphml = "graphml"
    json = "json"
    hetero = "hetero"
    kgx = "kgx"
    neo4j = "neo4j"


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@app.command()
def build(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="YAML file {gene_info, sources: [{path, format, options}]}."
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="FORMAT:PATH, repeatable (e.g. obo:go.obo.gz)."),
    ] = None,
    gene_info: Annotated[
        Path | None, typer.Option(help="NCBI gene_info-style table to normalise gene ids.")
    ] = None,
    preset: Annotated[
        Preset, typer.Option(help="Source set used when no --config/--source is given.")
    ] = Preset.embedded,
    data_dir: Annotated[
        Path, typer.Option(envvar="KGFUSION_DATA", help="Shared data folder for --preset shared.")
    ] = Path("../shared/data"),
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to save the graph to.")
    ] = DEFAULT_OUT,
    cache: Annotated[
        bool, typer.Option(help="Reuse/save a cached build keyed by the inputs' content.")
    ] = True,
    cache_dir: Annotated[
        Path | None, typer.Option(envvar="KGFUSION_CACHE", help="Cache folder.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes reading sources (default: one per CPU).")
    ] = None,
) -> None:
    """Build one merged knowledge graph and save it.

    Examples:

      kgfusion kg build                                   # embedded Reactome default

      kgfusion kg build --preset shared --data-dir ../shared/data

      kgfusion kg build -s obo:go.obo.gz -s gene2go:gene2go.tsv.gz -o go.kg
    """
    from kg.build import KGConfig, build_kg, default_cache_dir, shared_sources
    from kg.bundled import embedded_config
    from kg.store import save_kg

    try:
        if config is not None:
            cfg = KGConfig.from_yaml(config)
        elif source:
            cfg = KGConfig(tuple(_parse_source(s) for s in source), gene_info)
        elif preset is Preset.shared:
            cfg = shared_sources(data_dir)
        else:
            cfg = embedded_config()
        cache_folder = (cache_dir or default_cache_dir()) if cache else False
        kg = build_kg(cfg, cache_dir=cache_folder, progress=progress, workers=workers)
        save_kg(kg, out)
    except (KGError, FileNotFoundError) as error:
        raise _fail(error) from None
    typer.echo(str(kg.info()))
    typer.echo(f"saved to {out}")


def _parse_source(text: str) -> Source:
    from kg.build import Source

    fmt, sep, path = text.partition(":")
    if not sep:
        raise typer.BadParameter(f"expected FORMAT:PATH, got {text!r}")
    return Source(path, fmt)


@app.command()
def info(graph: Annotated[Path, typer.Argument(help="Saved graph folder.")] = DEFAULT_OUT) -> None:
    """Print node, relation and edge-type counts of a saved graph.

    Example: kgfusion kg info kgfusion-out/kg
    """
    from kg.store import load_kg

    try:
        typer.echo(str(load_kg(graph).info()))
    except KGError as error:
        raise _fail(error) from None


@app.command()
def export(
    graph: Annotated[Path, typer.Argument(help="Saved graph folder.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output file (a folder for hetero, kgx, neo4j).")
    ],
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.ttl,
    reverse: Annotated[bool, typer.Option(help="hetero: add reverse edge types.")] = True,
) -> None:
    """Export a saved graph as Turtle, GraphML, node-link JSON, PyG HeteroData, KGX TSV
    (Biolink) or Neo4j bulk-import CSV.

    Examples:

      kgfusion kg export kgfusion-out/kg -f ttl -o kg.ttl

      kgfusion kg export kgfusion-out/kg -f hetero -o kg-hetero   # data.pt + node_index.json

      kgfusion kg export kgfusion-out/kg -f kgx -o kg-kgx         # nodes.tsv + edges.tsv

      kgfusion kg export kgfusion-out/kg -f neo4j -o kg-neo4j     # CSV files + import.sh
    """
    from kg import export as io
    from kg.store import load_kg

    try:
        kg = load_kg(graph)
        if format is ExportFormat.ttl:
            from kg.rdf import write_turtle

            write_turtle(kg, out)
        elif format is ExportFormat.graphml:
            io.write_graphml(kg, out)
        elif format is ExportFormat.json:
            io.write_node_link_json(kg, out)
        elif format is ExportFormat.kgx:
            from kg.kgx import write_kgx

            write_kgx(kg, out)
        elif format is ExportFormat.neo4j:
            from kg.neo4j import write_neo4j

            write_neo4j(kg, out)
        else:
            _export_hetero(kg, out, reverse)
    except KGError as error:
        raise _fail(error) from None
    typer.echo(f"wrote {out}")


def _export_hetero(kg: KnowledgeGraph, out: Path, reverse: bool) -> None:
    import torch

    from kg.hetero import to_hetero_data

    data = to_hetero_data(kg, reverse=reverse)
    out.mkdir(parents=True, exist_ok=True)
    edges = {"__".join(edge_type): data[edge_type].edge_index for edge_type in data.edge_types}
    torch.save(edges, out / "edge_index.pt")  # tensors only: loads with weights_only=True
    data.node_index.save(out / "node_index.json")


class QueryKind(str, Enum):
    """Query kinds of ``kgfusion kg query``."""

    neighborhood = "neighborhood"
    superterms = "superterms"
    subterms = "subterms"
    paths = "paths"


@app.command()
def query(
    kind: Annotated[QueryKind, typer.Argument(help="What to ask.")],
    node: Annotated[list[str], typer.Option("--node", "-n", help="Seed/source node id(s).")],
    graph: Annotated[Path, typer.Option("--kg", help="Saved graph folder.")] = DEFAULT_OUT,
    target: Annotated[
        list[str] | None, typer.Option("--to", help="paths: target node id(s).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="neighborhood: number of hops.")] = 1,
    cutoff: Annotated[int, typer.Option(help="paths: maximum path length.")] = 4,
    max_paths: Annotated[int, typer.Option(help="paths: maximum number of paths.")] = 20,
) -> None:
    """Query a saved graph: k-hop neighbourhood, super/subterms, or paths between node sets.

    Examples:

      kgfusion kg query neighborhood -n reactome:R-HSA-109581 -k 1

      kgfusion kg query superterms -n GO:0006915 --kg go.kg

      kgfusion kg query paths -n NCBIGene:7157 --to reactome:R-HSA-109581 --cutoff 3
    """
    from kg import query as q
    from kg.index import GraphIndex

    try:
        kg = GraphIndex.from_saved(graph)  # the adjacency only: no attribute tables, no networkx
        if kind is QueryKind.neighborhood:
            sub = q.neighborhood(kg, node, k=k)
            typer.echo(sub.nodes[["type", "name"]].to_string())
        elif kind in (QueryKind.superterms, QueryKind.subterms):
            function = q.superterms if kind is QueryKind.superterms else q.subterms
            ids = sorted(set().union(*(function(kg, n) for n in node)))
            typer.echo(kg.nodes.loc[ids, ["type", "name"]].to_string() if ids else "(none)")
        else:
            if not target:
                raise typer.BadParameter("paths needs --to")
            paths = q.all_simple_paths(kg, node, target, cutoff=cutoff, max_paths=max_paths)
            for path in paths:
                hops = q.path_edges(kg, path)
                typer.echo(" ".join([path[0]] + [f"-{r}- {v}" for _, r, v in hops]))
            if not paths:  # not an error: say so on stderr, keep stdout for paths only
                ends = ", ".join(node), ", ".join(target)
                typer.echo(f"no path from {ends[0]} to {ends[1]} within cutoff {cutoff}", err=True)
    except (KGError, ValueError) as error:
        raise _fail(error) from None


@app.command(hidden=True)
def bundle(
    data_dir: Annotated[Path, typer.Option(envvar="KGFUSION_DATA")] = Path("../shared/data"),
) -> None:
    """Regenerate the embedded default sources in kg/data from the shared data folder."""
    from kg.bundled import generate_bundle

    for path in generate_bundle(data_dir):
        typer.echo(f"wrote {path}")
