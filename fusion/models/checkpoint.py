"""Model folders of the KG fusion estimators: writing, reading and recognising them.

A model folder holds two files:

* ``config.json`` — the format marker (``"format": "kgfusion-model"``, ``"format_version"``),
  the estimator class and parameters, the network configuration, the modalities and their
  features, the fitted standardisation, the task's fitted attributes (class names) and the pruned
  graph's node ids, node types and relations;
* ``weights.safetensors`` — the pruned graph's edges (``edges.<r>``), each modality's feature →
  node positions (``feature_nodes.<i>``) and every ensemble member's weights
  (``member<k>.<name>``).

:func:`read_checkpoint` checks everything it reads (JSON syntax and schema, parameter values,
tensor names, shapes, dtypes, index ranges and finiteness) and raises one error,
:class:`~fusion.CheckpointError`, naming the file and what is wrong. :func:`is_model_dir` tells
a kgfusion model folder from any other folder (the app refuses to replace anything else).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from fusion._exceptions import CheckpointError, InvalidParameterError
from fusion._params import validate_parameter_constraints
from fusion.data.preprocess import ModalityScaler
from fusion.models.params import KGFUSION_CONSTRAINTS, validate_params
from fusion.models.tensors import resolve_device
from gnn import FusionNetConfig, GNNError, HierarchyConfig, HierarchyNet, KGFusionNet, RelationGraph

__all__ = [
    "CONFIG_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "NETWORKS",
    "WEIGHTS_FILE",
    "is_model_dir",
    "model_class_name",
    "read_checkpoint",
    "write_checkpoint",
]

#: Format marker in ``config.json`` (and the safetensors metadata) of every model folder.
FORMAT = "kgfusion-model"
#: 3: no graph layers without a graph branch; 2: concept-score readout and logit fusion;
#: 1: attention pooling. Folders written before the marker hold ``"format": 3``.
FORMAT_VERSION = 3
CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.safetensors"
#: The estimators' ``architecture`` → its network class and that network's configuration class
#: (a folder without ``architecture`` in its parameters holds an ``"rgcn"`` model).
NETWORKS: dict[str, tuple[type[KGFusionNet], type[FusionNetConfig]]] = {
    "rgcn": (KGFusionNet, FusionNetConfig),
    "hierarchy": (HierarchyNet, HierarchyConfig),
}
_CLASSES = ("KGFusionClassifier", "KGFusionSurvival")


def _version(meta: Mapping[str, Any]) -> int | None:
    """The format version of a parsed ``config.json``, ``None`` when it is no kgfusion model."""
    if meta.get("format") == FORMAT:
        version = meta.get("format_version")
        return version if isinstance(version, int) and not isinstance(version, bool) else None
    if meta.get("format") == 3 and meta.get("class") in _CLASSES:  # before the format marker
        return 3
    return None


def is_model_dir(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by an estimator's ``save`` (any format version).

    True when its ``config.json`` carries the kgfusion format marker and a weights file is
    beside it; never raises.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "config.json").write_text('{"format": "thesis"}')
    ...     is_model_dir(folder)
    False
    """
    folder = Path(path)
    try:
        meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict) and _version(meta) is not None and (folder / WEIGHTS_FILE).is_file()
    )


def model_class_name(path: str | Path) -> str:
    """The estimator class name recorded in a model folder's ``config.json``.

    Raises
    ------
    CheckpointError
        If ``path`` is not a kgfusion model folder or its ``config.json`` is corrupt.
    """
    name = _read_config(Path(path)).get("class")
    if not isinstance(name, str):
        msg = f"{Path(path) / CONFIG_FILE}: 'class' must be a string; got {name!r}."
        raise CheckpointError(msg)
    return name


# --------------------------------------------------------------------------------------- write


def write_checkpoint(estimator: Any, path: str | Path) -> Path:
    """Write the fitted ``estimator`` in folder ``path`` (created if needed); returns it."""
    from safetensors.torch import save_file

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    params = estimator.get_params(deep=False)
    params.pop("kg")
    graph = estimator.graph_
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(estimator).__name__,
        "params": params,
        "net_config": estimator.config_.to_dict(),
        "modalities": estimator.modalities_,
        "features": {m: [str(c) for c in f] for m, f in estimator.feature_names_in_.items()},
        "center": {m: s.tolist() for m, s in estimator.scaler_.center_.items()},
        "scale": {m: s.tolist() for m, s in estimator.scaler_.scale_.items()},
        "graph": {
            "node_ids": graph.node_ids,
            "node_types": graph.node_types,
            "base_relations": graph.base_relations,
            "reverse": graph.reverse,
        },
        **estimator._task_meta(),
    }
    tensors = {f"edges.{r}": e.contiguous() for r, e in enumerate(graph.edges)}
    tensors |= {
        f"feature_nodes.{i}": estimator.feature_nodes_[m].contiguous()
        for i, m in enumerate(estimator.modalities_)
    }
    for k, net in enumerate(estimator.models_):
        tensors |= {
            f"member{k}.{name}": t.detach().cpu().contiguous()
            for name, t in net.state_dict().items()
        }
    marker = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    save_file(tensors, str(folder / WEIGHTS_FILE), metadata=marker)
    (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=1, default=str))
    return folder


# ---------------------------------------------------------------------------------------- read


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such folder (expected a kgfusion model folder).")
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; {folder} is not a kgfusion model folder.")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise CheckpointError(f"{path}: not UTF-8 text ({err.reason}).") from err
    except json.JSONDecodeError as err:
        msg = f"{path}:{err.lineno}: not valid JSON ({err.msg}, column {err.colno}); the file is corrupt."
        raise CheckpointError(msg) from err
    if not isinstance(meta, dict) or _version(meta) is None:
        msg = f"{path}: no kgfusion format marker ('format': {FORMAT!r}); not a kgfusion model."
        raise CheckpointError(msg)
    if _version(meta) != FORMAT_VERSION:
        msg = f"{path}: format version {_version(meta)}; this kgfusion reads version {FORMAT_VERSION} (retrain the model)."
        raise CheckpointError(msg)
    return meta


def _field(meta: Mapping[str, Any], key: str, kind: type, path: Path) -> Any:
    if key not in meta:
        raise CheckpointError(f"{path}: missing key {key!r}; the file is incomplete or corrupt.")
    value = meta[key]
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        msg = f"{path}: {key!r} must be a {kind.__name__}; got {type(value).__name__}."
        raise CheckpointError(msg)
    return value


def _str_list(meta: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = _field(meta, key, list, path)
    if not all(isinstance(v, str) for v in value):
        raise CheckpointError(f"{path}: {key!r} must be a list of str.")
    return value


def _features(meta: Mapping[str, Any], path: Path) -> tuple[list[str], dict[str, pd.Index]]:
    modalities = _str_list(meta, "modalities", path)
    features = _field(meta, "features", dict, path)
    if list(features) != modalities:
        msg = (
            f"{path}: 'features' names modalities {list(features)}; 'modalities' says {modalities}."
        )
        raise CheckpointError(msg)
    out = {m: pd.Index(_str_list(features, m, path)) for m in modalities}
    for key in ("center", "scale"):
        table = _field(meta, key, dict, path)
        for m in modalities:
            values = _field(table, m, list, path)
            if len(values) != len(out[m]):
                msg = f"{path}: {key}[{m!r}] has {len(values)} values for {len(out[m])} features."
                raise CheckpointError(msg)
            numeric = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
            if numeric.isna().any() or not numeric.map(abs).lt(float("inf")).all():
                msg = f"{path}: {key}[{m!r}] holds non-numeric or non-finite values."
                raise CheckpointError(msg)
    return modalities, out


def _scaler(meta: Mapping[str, Any], features: Mapping[str, pd.Index]) -> ModalityScaler:
    scaler = ModalityScaler()
    scaler._reset()
    for m, index in features.items():
        scaler.center_[m] = pd.Series(meta["center"][m], index=index, dtype=float)
        scaler.scale_[m] = pd.Series(meta["scale"][m], index=index, dtype=float)
    scaler.modalities_ = tuple(features)
    scaler.feature_names_in_ = dict(features)
    return scaler


def _params(cls: type, meta: Mapping[str, Any], path: Path) -> tuple[dict, FusionNetConfig]:
    params = _field(meta, "params", dict, path)
    net = _field(meta, "net_config", dict, path)
    try:
        validate_params(cls, params)
        config_class = NETWORKS[params.get("architecture", "rgcn")][1]
        names = {f.name for f in fields(config_class)}
        if set(net) != names:
            msg = f"'net_config' must hold {sorted(names)}; got {sorted(net)}."
            raise InvalidParameterError(msg)
        validate_parameter_constraints(KGFUSION_CONSTRAINTS, net, "net_config")
        return params, config_class(**net)
    except (InvalidParameterError, GNNError) as err:
        raise CheckpointError(f"{path}: {err}") from err


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the model folder is incomplete.")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        msg = f"{path}: not a readable safetensors file ({err}); it is truncated, corrupt or was written by another program (a pickle or torch.save file?)."
        raise CheckpointError(msg) from err
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            msg = f"{path}: tensor {name!r} holds {bad} non-finite values (NaN or inf); the model is unusable, retrain it."
            raise CheckpointError(msg)
    return tensors


def _index_tensor(
    tensors: Mapping[str, torch.Tensor],
    name: str,
    shape: tuple[int | None, ...],
    low: int,
    n: int,
    path: Path,
) -> torch.Tensor:
    """An integer tensor of ``shape`` (``None``: any length) with values in ``[low, n)``."""
    if name not in tensors:
        raise CheckpointError(f"{path}: missing tensor {name!r}.")
    t = tensors[name]
    fits = t.dim() == len(shape) and all(s in (None, d) for s, d in zip(shape, t.shape))
    if t.dtype not in (torch.int32, torch.int64) or not fits:
        want = "(" + ", ".join("E" if s is None else str(s) for s in shape) + ")"
        msg = f"{path}: tensor {name!r} must be an integer {want} tensor; got {t.dtype} {tuple(t.shape)}."
        raise CheckpointError(msg)
    if t.numel() and (int(t.min()) < low or int(t.max()) >= n):
        msg = f"{path}: tensor {name!r} must hold positions in [{low}, {n}); got values in [{int(t.min())}, {int(t.max())}]."
        raise CheckpointError(msg)
    return t


def _graph(
    meta: Mapping[str, Any], tensors: Mapping[str, torch.Tensor], path: Path, weights: Path
) -> RelationGraph:
    g = _field(meta, "graph", dict, path)
    ids, types = _str_list(g, "node_ids", path), _str_list(g, "node_types", path)
    relations = _str_list(g, "base_relations", path)
    reverse = _field(g, "reverse", bool, path)
    if len(ids) != len(types):
        raise CheckpointError(f"{path}: graph has {len(ids)} node ids and {len(types)} node types.")
    edges = [
        _index_tensor(tensors, f"edges.{r}", (2, None), 0, len(ids), weights)
        for r in range(len(relations))
    ]
    return RelationGraph(ids, types, relations, edges, reverse)


def _members(
    est: Any, n_ensemble: int, tensors: Mapping[str, torch.Tensor], weights: Path
) -> list[KGFusionNet]:
    found = sorted({name.split(".", 1)[0] for name in tensors if name.startswith("member")})
    expected = [f"member{k}" for k in range(n_ensemble)]
    if found != sorted(expected):
        msg = f"{weights}: holds {len(found)} ensemble members ({', '.join(found) or 'none'}); config.json says n_ensemble={n_ensemble}."
        raise CheckpointError(msg)
    graph = est.graph_.to(est.device_)
    network = NETWORKS[est.architecture][0]
    models = []
    for prefix in expected:
        net = network(graph, est.feature_nodes_, est._out_channels(), est.config_)
        wanted = net.state_dict()
        state = {n[len(prefix) + 1 :]: t for n, t in tensors.items() if n.startswith(prefix + ".")}
        for name in sorted(set(wanted) ^ set(state)):
            what = "missing" if name in wanted else "unexpected"
            raise CheckpointError(f"{weights}: {what} tensor '{prefix}.{name}'.")
        for name, tensor in state.items():
            if tensor.shape != wanted[name].shape or tensor.dtype != wanted[name].dtype:
                msg = f"{weights}: tensor '{prefix}.{name}' is {tensor.dtype} {tuple(tensor.shape)}; the model needs {wanted[name].dtype} {tuple(wanted[name].shape)}."
                raise CheckpointError(msg)
        net.load_state_dict(state)
        models.append(net.to(est.device_).eval())
    return models


def read_checkpoint(cls: type, path: str | Path, device: str = "auto") -> Any:
    """An estimator of class ``cls`` loaded from folder ``path`` (see :func:`write_checkpoint`).

    Raises
    ------
    CheckpointError
        The folder is missing, not a kgfusion model, holds another class, or any file in it is
        corrupt; the message names the file and what is wrong.
    InvalidParameterError
        ``device`` is not a device name.
    """
    validate_params(cls, {"device": device})
    folder = Path(path)
    config, weights = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    meta = _read_config(folder)
    if meta.get("class") != cls.__name__:
        msg = f"{config}: holds a {meta.get('class')!r}; expected a {cls.__name__!r} (load it with that class)."
        raise CheckpointError(msg)
    params, net_config = _params(cls, meta, config)
    modalities, features = _features(meta, config)
    tensors = _tensors(weights)
    est = cls(**{**params, "device": device})
    est.modalities_, est.feature_names_in_ = modalities, features
    est.scaler_ = _scaler(meta, features)
    est.graph_ = _graph(meta, tensors, config, weights)
    n = est.graph_.num_nodes
    est.feature_nodes_ = {
        m: _index_tensor(tensors, f"feature_nodes.{i}", (len(features[m]),), -1, n, weights)
        for i, m in enumerate(modalities)
    }
    known = {f"edges.{r}" for r in range(len(est.graph_.edges))}
    known |= {f"feature_nodes.{i}" for i in range(len(modalities))}
    unknown = [name for name in tensors if name not in known and not name.startswith("member")]
    if unknown:
        raise CheckpointError(f"{weights}: unexpected tensors {unknown[:5]}.")
    est.config_ = net_config
    est.device_ = resolve_device(device)
    est._load_task_meta(meta, config)
    est.models_, est.histories_ = _members(est, est.n_ensemble, tensors, weights), []
    return est
