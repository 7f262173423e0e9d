"""The fit / predict / save logic shared by the KG fusion estimators; subclasses define the task.

``fit`` runs the stages in order, each in its own module: parameter validation
(:mod:`fusion.models.params`), per-modality standardisation, linking and pruning
(:mod:`fusion.models._graph`; precomputed links may be passed in), ensemble training
(:mod:`fusion.models._ensemble`); ``save`` / ``load`` are :mod:`fusion.models.checkpoint`.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator
from typing_extensions import Self

from fusion._exceptions import InvalidParameterError, ModelError
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks
from fusion.data.preprocess import ModalityScaler
from fusion.data.split import check_inner_split
from fusion.models._ensemble import train_ensemble
from fusion.models._graph import FittedGraph, fit_graph
from fusion.models.checkpoint import NETWORKS, read_checkpoint, write_checkpoint
from fusion.models.finetune import encoder_init, modality_kinds
from fusion.models.params import KGFUSION_CONSTRAINTS, Control, check_fitted, validate_params
from fusion.models.tensors import cohort_batch, resolve_device, torch_threads
from gnn import FusionNetConfig, HierarchyConfig, KGFusionNet, batched_outputs
from gnn.training import TrainConfig
from kg import KnowledgeGraph

__all__: list[str] = []

_PREVIEW = 5


class _KGFusionBase(BaseEstimator):
    """Shared fit / predict / checkpoint logic; subclasses define the task."""

    _task: ClassVar[Literal["classification", "survival"]]
    _param_constraints = KGFUSION_CONSTRAINTS

    def __init__(
        self,
        kg: KnowledgeGraph | None = None,
        *,
        relations: list[str] | None = None,
        min_seeds: int = 3,
        max_fraction: float = 0.3,
        min_ic: float = 3.0,
        relation_groups: Literal["relation", "type"] = "type",
        architecture: Literal["rgcn", "hierarchy"] = "rgcn",
        hidden: int = 4,
        embedding: int = 32,
        layers: int = 2,
        dropout: float = 0.3,
        input_dropout: float = 0.2,
        direct: Literal["all", "unlinked", "none"] = "all",
        encoder: Literal["linear", "mlp"] = "linear",
        aux_weight: float = 1.0,
        control: Control = "none",
        lr: float = 5e-3,
        weight_decay: float = 1e-2,
        max_epochs: int = 100,
        patience: int = 15,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        precise_norm: bool = False,
        val_size: float = 0.2,
        n_ensemble: int = 3,
        random_state: int = 0,
        device: str = "auto",
        n_threads: int | None = None,
        progress: bool = False,
        pretrained: str | Path | None = None,
        freeze_encoder: bool = False,
    ) -> None:
        # The one declaration of the user-facing defaults; the gnn configurations are built from
        # these values, every field given (see net_config and _train_config).
        self.kg = kg
        self.relations = relations
        self.min_seeds = min_seeds
        self.max_fraction = max_fraction
        self.min_ic = min_ic
        self.relation_groups = relation_groups
        self.architecture = architecture
        self.hidden = hidden
        self.embedding = embedding
        self.layers = layers
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.direct = direct
        self.encoder = encoder
        self.aux_weight = aux_weight
        self.control = control
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.precise_norm = precise_norm
        self.val_size = val_size
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress
        # fine-tuning (fusion.models.finetune): an encoder folder, and whether to freeze it
        self.pretrained = pretrained
        self.freeze_encoder = freeze_encoder

    # --- parameters -------------------------------------------------------------------------

    def _validate_params(self) -> None:
        validate_params(self)

    def fit_graph(self, cohort: Cohort, links: CohortLinks | None = None) -> FittedGraph:
        """The graph a fit over ``cohort`` trains on, before any training.

        ``cohort`` linked to ``kg`` (or ``links`` used), ``kg`` pruned to the closure of the
        linked nodes (``min_seeds``, ``max_fraction``, ``min_ic``, ``relations``) and put under
        ``control``, seeded by ``random_state`` (:data:`fusion.models.params.CONTROLS`). Federated
        sites (:mod:`fusion.federated`) build their shared network from it.
        """
        return fit_graph(
            cohort,
            self.kg,
            links,
            owner=type(self).__name__,
            control=self.control,
            relations=self.relations,
            min_seeds=self.min_seeds,
            max_fraction=self.max_fraction,
            min_ic=self.min_ic,
            relation_groups=self.relation_groups,
            seed=self.random_state,
        )

    def net_config(self, use_graph: bool) -> FusionNetConfig:
        """The configuration of the ``architecture``'s network: every field from the parameter
        of the same name, but ``use_graph`` and the hierarchy's masks (random under
        ``control="random_masks"``, seeded by ``random_state``)."""
        config_class = NETWORKS[self.architecture][1]
        derived: dict[str, Any] = {"use_graph": use_graph}
        if config_class is HierarchyConfig:
            masks = "random" if self.control == "random_masks" else "kg"
            derived |= {"masks": masks, "mask_seed": self.random_state}
        values = {
            f.name: getattr(self, f.name) for f in fields(config_class) if f.name not in derived
        }
        return config_class(**values, **derived)

    def _train_config(self) -> TrainConfig:
        """The optimisation configuration: every field from the parameter of the same name."""
        return TrainConfig(**{f.name: getattr(self, f.name) for f in fields(TrainConfig)})

    # --- task hooks -------------------------------------------------------------------------

    def _targets(self, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
        """Training targets and the strata of the inner split."""
        raise NotImplementedError

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _out_channels(self) -> int:
        raise NotImplementedError

    def _task_meta(self) -> dict[str, Any]:
        """Task-specific fitted attributes for ``config.json``."""
        return {}

    def _load_task_meta(self, meta: dict[str, Any], path: Path) -> None:
        """Restore task-specific fitted attributes (raise CheckpointError naming ``path``)."""

    # --- fit --------------------------------------------------------------------------------

    def fit(self, cohort: Cohort, y: object = None, *, links: CohortLinks | None = None) -> Self:
        """Fit on every sample of ``cohort`` (labels or survival taken from it).

        Parameters
        ----------
        cohort : Cohort
            The training cohort; no other sample influences the fitted state.
        y : ignored
            For scikit-learn compatibility.
        links : CohortLinks, optional
            The cohort's links to :attr:`kg` (:func:`fusion.link_cohort` ``(cohort, kg)``),
            computed once and reused (e.g. across the folds of a cross-validation; linking
            uses no labels). They must cover every modality and feature of ``cohort``; without
            them ``fit`` links the cohort itself. The fit is identical either way.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            A parameter value is invalid (before any linking or training).
        SplitError
            The cohort is too small for the inner validation split of ``val_size``.
        AlignmentError
            ``links`` do not match the cohort's modalities or features.
        """
        validate_params(self)
        with torch_threads(self.n_threads):
            return self._fit(cohort, links)

    def _fit(self, cohort: Cohort, links: CohortLinks | None) -> Self:
        owner = type(self).__name__
        if self.control == "random_masks" and self.architecture != "hierarchy":
            msg = (
                f"{owner}: control='random_masks' replaces the connection masks of the sparse "
                "hierarchy network (architecture='hierarchy'); the R-GCN network's matched "
                "control is control='rewired'."
            )
            raise InvalidParameterError(msg)
        if self.architecture == "hierarchy" and self.layers < 1:
            msg = f"{owner}: architecture='hierarchy' needs layers >= 1 (the hierarchy's depth); got {self.layers}."
            raise InvalidParameterError(msg)
        target, strata = self._targets(cohort)
        check_inner_split(strata, self.val_size, owner)
        self.modalities_ = list(cohort)
        self.scaler_ = ModalityScaler().fit(cohort)
        self.feature_names_in_ = {m: cohort[m].columns for m in self.modalities_}
        fitted = self.fit_graph(cohort, links)
        self.graph_, self.feature_nodes_ = fitted.graph, fitted.feature_nodes
        if fitted.report is not None:
            self.link_report_ = fitted.report
        self.config_ = self.net_config(fitted.use_graph)
        self.modality_kinds_ = modality_kinds(cohort, self.modalities_)
        init = encoder_init(self, cohort, fitted.graph, fitted.feature_nodes)
        self.device_ = resolve_device(self.device)
        batch = cohort_batch(self.scaler_.transform(cohort), self.feature_names_in_)
        graph = self.graph_.to(self.device_)

        network = NETWORKS[self.architecture][0]

        def build() -> KGFusionNet:
            net = network(graph, self.feature_nodes_, self._out_channels(), self.config_)
            if init is not None:
                init(net)
            return net.to(self.device_)

        self.models_, self.histories_ = train_ensemble(
            batch.to(self.device_),
            target.to(self.device_),
            strata,
            build,
            self._loss,
            self._train_config(),
            n_ensemble=self.n_ensemble,
            val_size=self.val_size,
            random_state=self.random_state,
            progress=self.progress,
        )
        return self

    # --- predict ----------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        check_fitted(self, "models_")

    def _outputs(self, cohort: Cohort) -> np.ndarray:
        """Stacked member outputs ``(n_ensemble, n_samples, out_channels)``, all finite, computed
        ``eval_batch_size`` patients at a time (memory grows with that, not with the cohort).

        Raises :class:`~fusion.ModelError` naming the patients whose outputs are not finite.
        """
        self._check_fitted()
        batch = cohort_batch(self.scaler_.transform(cohort), self.feature_names_in_)
        size = self.eval_batch_size
        with torch_threads(self.n_threads):  # on the device a batch at a time
            outputs = [batched_outputs(net, batch, size, self.device_) for net in self.models_]
        out = torch.stack(outputs).cpu().numpy()
        bad = ~np.isfinite(out).all(axis=(0, 2))
        if bad.any():
            ids = [str(s) for s in cohort.samples[bad]]
            shown = ", ".join(ids[:_PREVIEW]) + (", ..." if len(ids) > _PREVIEW else "")
            msg = (
                f"{type(self).__name__}: non-finite outputs (NaN or inf) for {len(ids)} of "
                f"{len(bad)} patients ({shown}); the model's weights diverged or are corrupt "
                "(refit it, e.g. with a smaller lr)."
            )
            raise ModelError(msg)
        return out

    # --- checkpoints ------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Save the fitted estimator in folder ``path``: ``config.json`` + ``weights.safetensors``.

        The JSON holds the format marker, the parameters, the fitted preprocessing, class names
        and the graph's node ids; the safetensors file the weights of every member and the
        graph's edges. The knowledge graph itself is not saved (the pruned graph is). See
        :mod:`fusion.models.checkpoint`.
        """
        self._check_fitted()
        return write_checkpoint(self, path)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Self:
        """Load an estimator saved by :meth:`save`; it predicts exactly as the saved one.

        Raises :class:`~fusion.CheckpointError` (also an :class:`~fusion.InvalidParameterError`)
        naming the file when the folder is not a model of this class or any file is corrupt.
        """
        return read_checkpoint(cls, path, device)
