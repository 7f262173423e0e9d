"""scikit-learn style estimators around :class:`gnn.KGFusionNet`: fit on a Cohort, predict, save.

:class:`KGFusionClassifier` predicts classes, :class:`KGFusionSurvival` Cox log-risks. Inside
``fit``: per-modality standardisation fitted on the training cohort only, linking of the features
to the knowledge graph, pruning of the graph to the closure of the linked nodes, then an
ensemble of networks, each early-stopped on its own stratified inner validation split.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from fusion._exceptions import InvalidParameterError, LabelError, NotFittedError
from fusion.data.cohort import Cohort
from fusion.data.link import link_cohort
from fusion.models.metrics import classification_metrics, concordance_index
from fusion.data.preprocess import ModalityScaler
from gnn import FusionNetConfig, KGFusionNet, RelationGraph, cox_ph_loss, seed_closure
from gnn.training import FusionBatch, TrainConfig, train_model
from kg import KnowledgeGraph

__all__ = ["KGFusionClassifier", "KGFusionSurvival"]

logger = logging.getLogger(__name__)

_WEIGHTS, _CONFIG = "weights.safetensors", "config.json"
_FORMAT = 3  # 3: no graph layers without a graph branch; 2: concept-score readout and logit fusion; 1: attention pooling


@contextmanager
def _torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run with ``n_threads`` intra-op threads (unchanged when ``None``), then restore."""
    before = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def cohort_batch(cohort: Cohort, features: Mapping[str, pd.Index]) -> FusionBatch:
    """Tensors of a (scaled) cohort: values with NaN → 0, observed masks, presence.

    Absent modalities give all-zero, all-unobserved rows and ``present`` False.
    """
    presence = cohort.presence
    values, observed = {}, {}
    for name, columns in features.items():
        frame = cohort[name].reindex(index=cohort.samples, columns=columns)
        array = frame.to_numpy(dtype=np.float32)
        mask = ~np.isnan(array)
        values[name] = torch.from_numpy(np.where(mask, array, 0.0).astype(np.float32))
        observed[name] = torch.from_numpy(mask)
    present = torch.from_numpy(presence[list(features)].to_numpy(dtype=bool).copy())
    return FusionBatch(values, observed, present)


class _KGFusionBase(BaseEstimator):
    """Shared fit / predict / checkpoint logic; subclasses define the task."""

    _task: ClassVar[Literal["classification", "survival"]]

    def __init__(
        self,
        kg: KnowledgeGraph | None = None,
        *,
        relations: list[str] | None = None,
        min_seeds: int = 10,
        max_fraction: float = 0.3,
        relation_groups: Literal["relation", "type"] = "type",
        hidden: int = 4,
        embedding: int = 32,
        layers: int = 2,
        dropout: float = 0.3,
        input_dropout: float = 0.2,
        direct: Literal["all", "unlinked", "none"] = "all",
        encoder: Literal["linear", "mlp"] = "linear",
        use_graph: bool = True,
        aux_weight: float = 1.0,
        shuffle_graph: bool = False,
        lr: float = 5e-3,
        weight_decay: float = 1e-2,
        max_epochs: int = 100,
        patience: int = 15,
        batch_size: int = 64,
        val_size: float = 0.2,
        n_ensemble: int = 3,
        random_state: int = 0,
        device: str = "auto",
        n_threads: int | None = None,
        progress: bool = False,
    ) -> None:
        self.kg = kg
        self.relations = relations
        self.min_seeds = min_seeds
        self.max_fraction = max_fraction
        self.relation_groups = relation_groups
        self.hidden = hidden
        self.embedding = embedding
        self.layers = layers
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.direct = direct
        self.encoder = encoder
        self.use_graph = use_graph
        self.aux_weight = aux_weight
        self.shuffle_graph = shuffle_graph
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.val_size = val_size
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress

    # --- parameters -------------------------------------------------------------------------

    def _invalid(self, name: str, expected: str) -> InvalidParameterError:
        got = getattr(self, name)
        msg = f"The {name!r} parameter of {type(self).__name__} must be {expected}. Got {got!r} instead."
        return InvalidParameterError(msg)

    def _validate_params(self) -> None:
        if self.kg is not None and not isinstance(self.kg, KnowledgeGraph):
            raise self._invalid("kg", "a kg.KnowledgeGraph or None")
        for name in ("hidden", "embedding", "max_epochs", "n_ensemble", "min_seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise self._invalid(name, "an int >= 1")
        if self.n_threads is not None and (
            isinstance(self.n_threads, bool)
            or not isinstance(self.n_threads, (int, np.integer))
            or self.n_threads < 1
        ):
            raise self._invalid("n_threads", "None or an int >= 1")
        for name in ("layers", "patience", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise self._invalid(name, "an int >= 0")
        for name, low, high in (
            ("dropout", 0, 1),
            ("input_dropout", 0, 1),
            ("val_size", 0, 1),
            ("max_fraction", 0, 1),
        ):
            value = getattr(self, name)
            if (
                not isinstance(value, (int, float))
                or not low <= value <= high
                or (name == "val_size" and value in (0, 1))
            ):
                raise self._invalid(
                    name,
                    f"a float in [{low}, {high}]" + (" exclusive" if name == "val_size" else ""),
                )
        if isinstance(self.aux_weight, bool) or not isinstance(self.aux_weight, (int, float)) or self.aux_weight < 0:
            raise self._invalid("aux_weight", "a float >= 0")
        if self.direct not in ("all", "unlinked", "none"):
            raise self._invalid("direct", "a str among {'all', 'unlinked', 'none'}")
        if self.encoder not in ("linear", "mlp"):
            raise self._invalid("encoder", "a str among {'linear', 'mlp'}")
        if self.relation_groups not in ("relation", "type"):
            raise self._invalid("relation_groups", "a str among {'relation', 'type'}")
        if not (self.device == "auto" or isinstance(self.device, str)):
            raise self._invalid("device", "'auto', 'cpu', 'cuda' or 'cuda:<i>'")

    def _net_config(self, use_graph: bool) -> FusionNetConfig:
        return FusionNetConfig(
            hidden=self.hidden,
            embedding=self.embedding,
            layers=self.layers,
            dropout=self.dropout,
            input_dropout=self.input_dropout,
            direct=self.direct,
            encoder=self.encoder,
            use_graph=use_graph,
            aux_weight=self.aux_weight,
        )

    # --- task hooks -------------------------------------------------------------------------

    def _targets(self, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
        """Training targets and the strata of the inner split."""
        raise NotImplementedError

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _out_channels(self) -> int:
        raise NotImplementedError

    # --- fit --------------------------------------------------------------------------------

    def _graph(self, cohort: Cohort) -> tuple[RelationGraph, dict[str, torch.Tensor], bool]:
        """Prune the KG to the cohort's linked nodes; feature → node position per modality."""
        features = {name: cohort[name].columns for name in cohort}
        unlinked = {m: torch.full((len(f),), -1, dtype=torch.long) for m, f in features.items()}
        if self.kg is None or not self.use_graph:
            return RelationGraph([], [], [], []), unlinked, False
        links = link_cohort(cohort, self.kg)
        nodes = {m: links.feature_nodes(m) for m in features}
        seeds = sorted({n for s in nodes.values() for n in s.dropna()})
        if not seeds:
            logger.warning(
                "%s: no feature links to the knowledge graph; graph branch off.",
                type(self).__name__,
            )
            return RelationGraph([], [], [], []), unlinked, False
        pruned = seed_closure(
            self.kg,
            seeds,
            relations=self.relations,
            min_seeds=self.min_seeds,
            max_fraction=self.max_fraction,
        )
        graph = RelationGraph.from_kg(pruned, group=self.relation_groups)
        if self.shuffle_graph:
            graph = graph.shuffled(seed=self.random_state)
        positions = {
            m: torch.from_numpy(graph.index_of(s.fillna("").tolist())) for m, s in nodes.items()
        }
        self.link_report_ = links.report
        return graph, positions, True

    def fit(self, cohort: Cohort, y: object = None) -> _KGFusionBase:
        """Fit on every sample of ``cohort`` (labels or survival taken from it).

        Parameters
        ----------
        cohort : Cohort
            The training cohort; no other sample influences the fitted state.
        y : ignored
            For scikit-learn compatibility.

        Returns
        -------
        self
        """
        self._validate_params()
        with _torch_threads(self.n_threads):
            return self._fit(cohort)

    def _fit(self, cohort: Cohort) -> _KGFusionBase:
        target, strata = self._targets(cohort)
        self.modalities_ = list(cohort)
        self.scaler_ = ModalityScaler().fit(cohort)
        self.feature_names_in_ = {m: cohort[m].columns for m in self.modalities_}
        graph, feature_nodes, use_graph = self._graph(cohort)
        self.graph_, self.feature_nodes_ = graph, feature_nodes
        self.config_ = self._net_config(use_graph)
        self.device_ = _resolve_device(self.device)
        batch = cohort_batch(self.scaler_.transform(cohort), self.feature_names_in_).to(
            self.device_
        )
        target = target.to(self.device_)
        graph_on_device = graph.to(self.device_)
        train_config = TrainConfig(
            self.lr, self.weight_decay, self.max_epochs, self.patience, self.batch_size
        )
        self.models_, self.histories_ = [], []
        members = tqdm(
            range(self.n_ensemble), desc="ensemble", unit="model", disable=not self.progress
        )
        for k in members:
            seed = self.random_state + k
            inner, val = train_test_split(
                np.arange(len(strata)), test_size=self.val_size, random_state=seed, stratify=strata
            )
            torch.manual_seed(seed)
            net = KGFusionNet(
                graph_on_device, feature_nodes, self._out_channels(), self.config_
            ).to(self.device_)
            index_in, index_val = (
                torch.from_numpy(inner).to(self.device_),
                torch.from_numpy(val).to(self.device_),
            )
            history = train_model(
                net,
                (batch[index_in], target[index_in]),
                (batch[index_val], target[index_val]),
                self._loss,
                train_config,
                seed=seed,
                progress=self.progress,
                desc=f"model {k + 1}/{self.n_ensemble}",
            )
            self.models_.append(net)
            self.histories_.append(history)
        return self

    # --- predict ----------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            msg = f"This {type(self).__name__} instance is not fitted yet; call fit(cohort) first."
            raise NotFittedError(msg)

    def _outputs(self, cohort: Cohort) -> np.ndarray:
        """Stacked member outputs ``(n_ensemble, n_samples, out_channels)``."""
        self._check_fitted()
        batch = cohort_batch(self.scaler_.transform(cohort), self.feature_names_in_).to(
            self.device_
        )
        with torch.no_grad(), _torch_threads(self.n_threads):
            outputs = [net.eval()(*batch.inputs()) for net in self.models_]
        return torch.stack(outputs).cpu().numpy()

    # --- checkpoints ------------------------------------------------------------------------

    def _params_json(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        params.pop("kg")
        return params

    def save(self, path: str | Path) -> Path:
        """Save the fitted estimator in folder ``path``: ``config.json`` + ``weights.safetensors``.

        The JSON holds the parameters, the fitted preprocessing, class names and the graph's
        node ids; the safetensors file the weights of every member and the graph's edges. The
        knowledge graph itself is not saved (the pruned graph is).
        """
        from safetensors.torch import save_file

        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": _FORMAT,
            "class": type(self).__name__,
            "params": self._params_json(),
            "net_config": self.config_.to_dict(),
            "modalities": self.modalities_,
            "features": {m: [str(c) for c in f] for m, f in self.feature_names_in_.items()},
            "center": {m: s.tolist() for m, s in self.scaler_.center_.items()},
            "scale": {m: s.tolist() for m, s in self.scaler_.scale_.items()},
            "graph": {
                "node_ids": self.graph_.node_ids,
                "node_types": self.graph_.node_types,
                "base_relations": self.graph_.base_relations,
                "reverse": self.graph_.reverse,
            },
            **self._task_meta(),
        }
        tensors = {f"edges.{r}": e.contiguous() for r, e in enumerate(self.graph_.edges)}
        tensors |= {
            f"feature_nodes.{i}": self.feature_nodes_[m].contiguous()
            for i, m in enumerate(self.modalities_)
        }
        for k, net in enumerate(self.models_):
            tensors |= {
                f"member{k}.{name}": t.detach().cpu().contiguous()
                for name, t in net.state_dict().items()
            }
        save_file(tensors, str(folder / _WEIGHTS))
        (folder / _CONFIG).write_text(json.dumps(meta, indent=1, default=str))
        return folder

    def _task_meta(self) -> dict[str, Any]:
        return {}

    def _load_task_meta(self, meta: Mapping[str, Any]) -> None:
        """Restore task-specific fitted attributes."""

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> _KGFusionBase:
        """Load an estimator saved by :meth:`save`; it predicts exactly as the saved one.

        Raises :class:`~fusion.InvalidParameterError` when the folder holds another class.
        """
        from safetensors.torch import load_file

        folder = Path(path)
        meta = json.loads((folder / _CONFIG).read_text())
        if meta.get("class") != cls.__name__ or meta.get("format") != _FORMAT:
            msg = f"{folder / _CONFIG}: holds a {meta.get('class')!r} (format {meta.get('format')}); expected a {cls.__name__!r} (format {_FORMAT})."
            raise InvalidParameterError(msg)
        tensors = load_file(str(folder / _WEIGHTS))
        est = cls(**{**meta["params"], "device": device})
        est.modalities_ = list(meta["modalities"])
        est.feature_names_in_ = {m: pd.Index(f) for m, f in meta["features"].items()}
        scaler = ModalityScaler()
        scaler._reset()
        for m in est.modalities_:
            scaler.center_[m] = pd.Series(
                meta["center"][m], index=est.feature_names_in_[m], dtype=float
            )
            scaler.scale_[m] = pd.Series(
                meta["scale"][m], index=est.feature_names_in_[m], dtype=float
            )
        scaler.modalities_ = tuple(est.modalities_)
        scaler.feature_names_in_ = dict(est.feature_names_in_)
        est.scaler_ = scaler
        g = meta["graph"]
        edges = [tensors[f"edges.{r}"] for r in range(len(g["base_relations"]))]
        est.graph_ = RelationGraph(
            g["node_ids"], g["node_types"], g["base_relations"], edges, g["reverse"]
        )
        est.feature_nodes_ = {
            m: tensors[f"feature_nodes.{i}"] for i, m in enumerate(est.modalities_)
        }
        est.config_ = FusionNetConfig(**meta["net_config"])
        est.device_ = _resolve_device(device)
        est._load_task_meta(meta)
        graph = est.graph_.to(est.device_)
        est.models_, est.histories_ = [], []
        for k in range(meta["params"]["n_ensemble"]):
            prefix = f"member{k}."
            net = KGFusionNet(graph, est.feature_nodes_, est._out_channels(), est.config_)
            state = {
                name[len(prefix) :]: t for name, t in tensors.items() if name.startswith(prefix)
            }
            net.load_state_dict(state)
            est.models_.append(net.to(est.device_).eval())
        return est


class KGFusionClassifier(_KGFusionBase):
    """Knowledge-graph fusion classifier on a :class:`~fusion.Cohort` (labels from the cohort).

    Parameters
    ----------
    kg : KnowledgeGraph, optional
        Prior knowledge; features are linked to it with :func:`fusion.data.link.link_cohort`. Without
        it (or with ``use_graph=False``) only the per-modality heads are used.
    relations : list of str, optional
        Relations followed when pruning the graph to the closure of linked nodes (default all).
    min_seeds, max_fraction :
        Keep closure nodes reached by at least ``min_seeds`` and at most ``max_fraction`` of the
        linked nodes (see :func:`gnn.seed_closure`) (defaults: ``10``, ``0.3``).
    relation_groups : {"relation", "type"}
        One message-passing relation per edge key or per endpoint-type pair (default ``"type"``).
    hidden, embedding, layers, dropout, input_dropout, direct, encoder, use_graph, aux_weight :
        Network settings (see :class:`gnn.FusionNetConfig`).
    shuffle_graph : bool
        Degree-preserving shuffle of the pruned graph's edges: the shuffled-KG ablation.
    lr, weight_decay, max_epochs, patience, batch_size :
        Optimisation (see :class:`gnn.training.TrainConfig`).
    val_size : float
        Fraction of the training samples held out (stratified) for early stopping.
    n_ensemble : int
        Networks averaged, each with its own seed and inner split (default ``3``).
    random_state : int
        Seed; member ``k`` uses ``random_state + k``. Fits on CPU are fully deterministic.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    n_threads : int, optional
        Torch intra-op threads during fit and predict (restored afterwards); ``None`` leaves
        torch's setting. ``1`` is fastest on a busy machine (tiny ops, no thread barriers).
    progress : bool
        Show progress bars.

    Attributes
    ----------
    classes_ : ndarray
        Classes, in the column order of :meth:`predict_proba`.
    models_ : list of KGFusionNet
        The fitted ensemble members.
    graph_ : RelationGraph
        The pruned (and possibly shuffled) graph.
    feature_nodes_ : dict of str to Tensor
        Per modality, the graph position of each feature (-1 unlinked).
    scaler_ : ModalityScaler
        Standardisation fitted on the training cohort.
    """

    _task = "classification"
    _estimator_type = "classifier"

    def _targets(self, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
        labels = cohort.labels
        if labels is None:
            msg = f"{type(self).__name__}.fit needs a cohort with labels; this one has none."
            raise LabelError(msg)
        observed = labels.cat.remove_unused_categories()
        if len(observed.cat.categories) < 2:
            msg = f"{type(self).__name__}.fit needs at least 2 classes; got {list(observed.cat.categories)}."
            raise LabelError(msg)
        self.classes_ = np.asarray(observed.cat.categories, dtype=object)
        codes = observed.cat.codes.to_numpy()
        return torch.from_numpy(codes.astype(np.int64)), codes

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(output, target)

    def _out_channels(self) -> int:
        return len(self.classes_)

    def _task_meta(self) -> dict[str, Any]:
        return {"classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes_]}

    def _load_task_meta(self, meta: Mapping[str, Any]) -> None:
        self.classes_ = np.asarray(meta["classes"], dtype=object)

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``: the ensemble's mean softmax."""
        logits = torch.from_numpy(self._outputs(cohort))
        return torch.softmax(logits, dim=-1).mean(dim=0).numpy()

    def predict(self, cohort: Cohort) -> np.ndarray:
        """Most probable class of each sample."""
        proba = self.predict_proba(cohort)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, cohort: Cohort, y: object = None) -> float:
        """Accuracy on ``cohort``'s labels."""
        labels = cohort.labels
        if labels is None:
            raise LabelError("score needs a cohort with labels.")
        return classification_metrics(labels.to_numpy(), self.predict_proba(cohort), self.classes_)[
            "acc"
        ]


class KGFusionSurvival(_KGFusionBase):
    """Knowledge-graph fusion Cox model on a :class:`~fusion.Cohort` (survival from the cohort).

    Same parameters as :class:`KGFusionClassifier`; the head outputs one log-hazard ratio per
    patient, trained with :func:`gnn.cox_ph_loss`; the inner split is stratified on events.
    :meth:`predict` returns risk scores (higher = earlier event), :meth:`score` Harrell's C-index.
    """

    _task = "survival"

    def _targets(self, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
        survival = cohort.survival
        if survival is None:
            msg = f"{type(self).__name__}.fit needs a cohort with survival (time, event); this one has none."
            raise LabelError(msg)
        if not survival["event"].any():
            raise LabelError(f"{type(self).__name__}.fit needs at least one event.")
        table = survival[["time", "event"]].to_numpy(dtype=np.float32)
        return torch.from_numpy(table), survival["event"].to_numpy()

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cox_ph_loss(output[:, 0], target[:, 0], target[:, 1])

    def _out_channels(self) -> int:
        return 1

    def predict(self, cohort: Cohort) -> np.ndarray:
        """Risk score (mean log-hazard ratio of the ensemble) of each sample."""
        return self._outputs(cohort)[:, :, 0].mean(axis=0)

    def score(self, cohort: Cohort, y: object = None) -> float:
        """Harrell's C-index on ``cohort``'s survival."""
        survival = cohort.survival
        if survival is None:
            raise LabelError("score needs a cohort with survival.")
        return concordance_index(survival["time"], survival["event"], self.predict(cohort))
