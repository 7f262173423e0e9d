"""The ``kgfusion`` command line: one entry point over the ``kg``, ``gnn`` and ``fusion`` layers."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from fusion.app import cli_run as _cli_run
from fusion.app import cli_store as _cli_store
from fusion.app.cli_contrast import contrast
from fusion.app.cli_data import data_app
from fusion.app.cli_demo import demo
from fusion.app.cli_explore import explore
from fusion.app.cli_faithfulness import faithfulness
from fusion.app.cli_federated import federated
from fusion.app.cli_pretrain import pretrain
from kg.cli import app as kg_app

__all__ = ["app"]

app = typer.Typer(
    help="kgfusion: knowledge-graph-augmented fusion of multimodal biomedical data.",
    no_args_is_help=True,
)
app.add_typer(kg_app, name="kg")
app.add_typer(data_app, name="data")
app.command("demo")(demo)
app.command("explore")(explore)
app.command("contrast")(contrast)
for _command in (_cli_run.train, _cli_run.evaluate, _cli_run.predict, _cli_run.explain):
    app.command()(_command)
app.command("faithfulness")(faithfulness)
app.command("pretrain")(pretrain)
app.command("federated")(federated)
app.command("store")(_cli_store.store)
app.command("query")(_cli_store.query)


@app.callback()
def main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v info, -vv debug.")
    ] = 0,
) -> None:
    """Build knowledge graphs, link cohorts, train, evaluate and explain."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
