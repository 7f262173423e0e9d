"""Encoder folders: a :class:`~fusion.models.pretraining.PretrainedEncoder` on disk.

An encoder folder holds

* ``config.json`` — the format marker (``"format": "kgfusion-encoder"``, ``"format_version"``),
  the pre-training parameters, the weights' layout (channels = modality kinds, node types,
  relations, ``hidden``, ``layers``), the graph's node ids, node types and relations, the pooled
  cohorts with their checksums, and the training history;
* ``weights.safetensors`` — the graph's edges (``edges.<r>``, as in a model folder) and the
  encoder's weights (``encoder.<name>``, :class:`gnn.KGFusionNet`'s names);
* ``run.json`` when written by ``kgfusion pretrain`` (:mod:`fusion.app.record`).

:func:`read_encoder` checks what it reads (marker, version, parameters, tensor names and
shapes, finiteness) and raises :class:`~fusion.CheckpointError` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from fusion._exceptions import CheckpointError, InvalidParameterError
from fusion.models.checkpoint import CONFIG_FILE, WEIGHTS_FILE, _field, _graph, _str_list, _tensors
from fusion.models.pretraining import PretrainedEncoder, PretrainParams
from gnn import EncoderLayout

__all__ = [
    "ENCODER_FORMAT",
    "ENCODER_FORMAT_VERSION",
    "is_encoder_dir",
    "read_encoder",
    "write_encoder",
]

#: Format marker in an encoder folder's ``config.json`` and safetensors metadata.
ENCODER_FORMAT = "kgfusion-encoder"
ENCODER_FORMAT_VERSION = 1
_PREFIX = "encoder."


def write_encoder(encoder: PretrainedEncoder, path: str | Path) -> Path:
    """Write ``encoder`` in folder ``path`` (created if needed); returns it."""
    from safetensors.torch import save_file

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    graph, layout = encoder.graph, encoder.layout
    meta = {
        "format": ENCODER_FORMAT,
        "format_version": ENCODER_FORMAT_VERSION,
        "params": encoder.params.to_dict(),
        "layout": {
            "channels": list(layout.channels),
            "node_types": list(layout.node_types),
            "relations": list(layout.relations),
            "hidden": layout.hidden,
            "layers": layout.layers,
        },
        "graph": {
            "node_ids": graph.node_ids,
            "node_types": graph.node_types,
            "base_relations": graph.base_relations,
            "reverse": graph.reverse,
        },
        "cohorts": encoder.cohorts,
        "history": encoder.history,
    }
    tensors = {f"edges.{r}": e.contiguous() for r, e in enumerate(graph.edges)}
    tensors |= {_PREFIX + k: v.detach().cpu().contiguous() for k, v in encoder.state.items()}
    marker = {"format": ENCODER_FORMAT, "format_version": str(ENCODER_FORMAT_VERSION)}
    save_file(tensors, str(folder / WEIGHTS_FILE), metadata=marker)
    (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder


def is_encoder_dir(path: str | Path) -> bool:
    """Whether ``path`` holds an encoder folder's ``config.json`` marker and weights; never raises."""
    folder = Path(path)
    try:
        meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    marked = isinstance(meta, dict) and meta.get("format") == ENCODER_FORMAT
    return marked and (folder / WEIGHTS_FILE).is_file()


def _config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_FILE
    if not path.is_file():
        msg = f"{path}: missing; {folder} is not a kgfusion encoder folder (write one with kgfusion pretrain or fusion.pretrain(...).save)."
        raise CheckpointError(msg)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err}); the file is corrupt.") from err
    if not isinstance(meta, dict) or meta.get("format") != ENCODER_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        msg = f"{path}: format {found!r}, not a kgfusion encoder ({ENCODER_FORMAT!r}); a model folder is not an encoder folder."
        raise CheckpointError(msg)
    if meta.get("format_version") != ENCODER_FORMAT_VERSION:
        msg = f"{path}: format version {meta.get('format_version')!r}; this kgfusion reads version {ENCODER_FORMAT_VERSION}."
        raise CheckpointError(msg)
    return meta


def _layout(meta: dict[str, Any], path: Path) -> EncoderLayout:
    table = _field(meta, "layout", dict, path)
    names = {
        key: tuple(_str_list(table, key, path)) for key in ("channels", "node_types", "relations")
    }
    return EncoderLayout(
        names["channels"],
        names["node_types"],
        names["relations"],
        _field(table, "hidden", int, path),
        _field(table, "layers", int, path),
    )


def _shapes(layout: EncoderLayout) -> dict[str, tuple[int, ...]]:
    """The shape of every encoder tensor of ``layout``."""
    c = layout.hidden
    shapes = {
        "input.weight": (c, 2 * len(layout.channels)),
        "input.bias": (c,),
        "type_embedding.weight": (max(len(layout.node_types), 1), c),
    }
    for k in range(layout.layers):
        shapes |= {
            f"layers.{k}.root.weight": (c, c),
            f"layers.{k}.root.bias": (c,),
            f"layers.{k}.weight": (len(layout.relations), c, c),
        }
    return shapes


def read_encoder(path: str | Path) -> PretrainedEncoder:
    """The :class:`~fusion.models.pretraining.PretrainedEncoder` in folder ``path``.

    Raises
    ------
    CheckpointError
        The folder is missing, not an encoder folder, or any file in it is corrupt.
    """
    folder = Path(path)
    config, weights = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    meta = _config(folder)
    try:
        params = PretrainParams(**_field(meta, "params", dict, config))
    except (InvalidParameterError, TypeError) as err:
        raise CheckpointError(f"{config}: 'params': {err}") from err
    layout = _layout(meta, config)
    tensors = _tensors(weights)
    graph = _graph(meta, tensors, config, weights)
    state = {k[len(_PREFIX) :]: v for k, v in tensors.items() if k.startswith(_PREFIX)}
    expected = _shapes(layout)
    for name in sorted(set(expected) ^ set(state)):
        what = "missing" if name in expected else "unexpected"
        raise CheckpointError(f"{weights}: {what} tensor '{_PREFIX}{name}'.")
    for name, shape in expected.items():
        if tuple(state[name].shape) != shape or state[name].dtype != torch.float32:
            msg = f"{weights}: tensor '{_PREFIX}{name}' is {state[name].dtype} {tuple(state[name].shape)}; the layout in {config} needs float32 {shape}."
            raise CheckpointError(msg)
    if tuple(graph.relations) != layout.relations:
        msg = f"{config}: the graph's relations {graph.relations} differ from the layout's {list(layout.relations)}."
        raise CheckpointError(msg)
    cohorts = _field(meta, "cohorts", list, config)
    history = _field(meta, "history", dict, config)
    return PretrainedEncoder(graph, layout, state, params, cohorts, history)
