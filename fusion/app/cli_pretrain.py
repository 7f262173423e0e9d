"""``kgfusion pretrain``: pre-train the graph encoder on unlabelled cohorts named by a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fusion.app._options import ERRORS, Progress, fail

__all__ = ["pretrain"]


def pretrain(
    config: Annotated[
        Path, typer.Argument(help="Pre-training configuration (YAML); see fusion.app.pretrain_run.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Encoder folder (default: OUTPUT).")
    ] = None,
    progress: Progress = True,
) -> None:
    """Pre-train the graph encoder by masked node-value reconstruction on the pooled,
    unlabelled patients of the configured cohorts, and save the encoder folder.

    The folder (safetensors weights and edges, node ids, relations, parameters, the cohorts'
    checksums, run.json) is what a model's ``pretrained:`` takes.

    Example:

      kgfusion pretrain pretrain.yaml -o kgfusion-out/encoder
    """
    try:
        from fusion.app.pretrain_run import PretrainRunConfig, pretrain_from_config

        run = PretrainRunConfig.from_yaml(config)
        result = pretrain_from_config(run, out=out, progress=progress)
    except ERRORS as error:
        raise fail(error) from None
    history = result.encoder.history
    patients = sum(c["patients"] for c in result.encoder.cohorts)
    typer.echo(
        f"saved encoder to {result.folder}: {patients} patients, {result.encoder.graph.num_nodes} "
        f"nodes, best epoch {history['best_epoch']}, held-out loss {history['best_val_loss']:.4f}"
    )
