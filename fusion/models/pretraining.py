"""Self-supervised pre-training of the graph encoder on unlabelled patients of several cohorts.

:func:`pretrain` pools the patients of one or more cohorts, whatever their feature panels, on
the knowledge graph: each cohort is linked to the KG on its own, and the modalities are pooled
*by kind* (every mRNA panel feeds the ``mRNA`` channel of the nodes its features link to), so a
patient of one cohort and a patient of another put their values on the same nodes. The graph is
the KG pruned to the closure of every cohort's linked nodes (and of the ``cover`` cohorts',
whose features the graph must reach but whose patients are not used). The encoder is trained
by masked node-value reconstruction (:class:`gnn.MaskedNodeModel`), early-stopped on held-out
patients. The result, a :class:`PretrainedEncoder`, is saved as an encoder folder
(:mod:`fusion.models.encoder_folder`) and loaded by the estimators' ``pretrained`` parameter.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from fusion._exceptions import InvalidParameterError, SplitError
from fusion._params import Interval, StrOptions, validate_parameter_constraints
from fusion.data.cohort import Cohort
from fusion.data.link import link_cohort
from fusion.data.preprocess import ModalityScaler
from fusion.models._graph import prune_graph
from fusion.models.params import KGFUSION_CONSTRAINTS
from fusion.models.tensors import cohort_batch, resolve_device, torch_threads
from gnn import (
    EncoderLayout,
    FusionBatch,
    FusionNetConfig,
    MaskedNodeModel,
    PretrainConfig,
    RelationGraph,
    TrainConfig,
    masked_node_loss,
    pretrain_encoder,
)
from kg import KnowledgeGraph

__all__ = ["PretrainParams", "PretrainedEncoder", "cohort_checksum", "pretrain"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainParams:
    """The settings of :func:`pretrain`; the names and defaults of the estimators' parameters.

    Parameters
    ----------
    relations, min_seeds, max_fraction, min_ic, relation_groups
        The graph's pruning, as :class:`~fusion.models.KGFusionClassifier`'s.
    hidden, layers
        The encoder (a fine-tuned model must use the same ``hidden`` and ``layers``).
    dropout : float
        Dropout on the node states while pre-training (default: ``0.0``: at a width of a few
        channels, dropout hides much of the signal a hidden value is reconstructed from; the
        fine-tuned model applies its own ``dropout``).
    mask_rate : float
        Share of each patient's observed node values hidden per step (default: ``0.15``).
    control : {"none", "rewired"}
        Pre-train over the KG, or over its degree-preserving rewiring (the control whose
        encoder has seen the same values on a graph without the knowledge) (default: ``"none"``).
    lr, weight_decay, max_epochs, patience, batch_size
        The optimisation, as the estimators'.
    val_size : float
        Share of the pooled patients held out for early stopping (default: ``0.2``).
    random_state : int
        Seed of the split, the initial weights, the masks and the batches (default: ``0``).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``... (default: ``"auto"``).
    n_threads : int or None
        Torch threads while pre-training (default: unchanged).

    Examples
    --------
    >>> PretrainParams(hidden=8).to_dict()["hidden"]
    8
    >>> PretrainParams(mask_rate=2.0)
    Traceback (most recent call last):
    ...
    fusion._exceptions.InvalidParameterError: The 'mask_rate' parameter of PretrainParams must be a float in the range (0, 1). Got 2.0 instead.
    """

    relations: tuple[str, ...] | None = None
    min_seeds: int = 3
    max_fraction: float = 0.1
    min_ic: float = 3.0
    relation_groups: Literal["relation", "type"] = "type"
    hidden: int = 4
    layers: int = 2
    dropout: float = 0.0
    mask_rate: float = 0.15
    control: Literal["none", "rewired"] = "none"
    lr: float = 5e-3
    weight_decay: float = 1e-2
    max_epochs: int = 100
    patience: int = 15
    batch_size: int = 64
    val_size: float = 0.2
    random_state: int = 0
    device: str = "auto"
    n_threads: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.relations, list):
            object.__setattr__(self, "relations", tuple(self.relations))
        constraints = {f.name: KGFUSION_CONSTRAINTS.get(f.name) for f in fields(self)}
        constraints |= {
            "mask_rate": [Interval(float, 0, 1, closed="neither")],
            "control": [StrOptions({"none", "rewired"})],
        }
        validate_parameter_constraints(constraints, self.to_dict(), type(self).__name__)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready: ``relations`` as a list)."""
        out = asdict(self)
        out["relations"] = None if self.relations is None else list(self.relations)
        return out

    def net_config(self) -> FusionNetConfig:
        """The encoder's :class:`gnn.FusionNetConfig`."""
        return FusionNetConfig(hidden=self.hidden, layers=self.layers, dropout=self.dropout)

    def train_config(self) -> TrainConfig:
        """The optimisation's :class:`gnn.TrainConfig`."""
        names = ("lr", "weight_decay", "max_epochs", "patience", "batch_size")
        return TrainConfig(**{name: getattr(self, name) for name in names})


@dataclass
class PretrainedEncoder:
    """A pre-trained graph encoder: its graph, weights, layout and provenance.

    Attributes
    ----------
    graph : gnn.RelationGraph
        The graph it was trained on (rewired under ``params.control="rewired"``).
    layout : gnn.EncoderLayout
        What its weights' rows and columns stand for (channels are modality kinds).
    state : dict of str to Tensor
        The encoder's weights under :class:`gnn.KGFusionNet`'s names.
    params : PretrainParams
        The settings it was trained with.
    cohorts : list of dict
        Per pooled cohort: ``name``, ``patients`` (pre-training patients), ``modalities``
        (name → kind and feature count) and ``sha256`` (:func:`cohort_checksum`).
    history : dict
        ``best_epoch``, ``best_val_loss``, ``train_loss``, ``val_loss``, ``n_train``, ``n_val``,
        and ``zero_val_loss``: the held-out loss of predicting every hidden value as 0 (the
        scaled values' mean), the level of an encoder that learned nothing.
    """

    graph: RelationGraph
    layout: EncoderLayout
    state: dict[str, torch.Tensor]
    params: PretrainParams
    cohorts: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, Any] = field(default_factory=dict)

    def missing_nodes(self, node_ids: Sequence[str]) -> list[str]:
        """The ``node_ids`` that are not nodes of the encoder's graph (sorted, unique)."""
        return sorted(set(node_ids) - set(self.graph.node_ids))

    def save(self, path: str | Path) -> Path:
        """Write the encoder folder ``path`` (see :mod:`fusion.models.encoder_folder`)."""
        from fusion.models.encoder_folder import write_encoder

        return write_encoder(self, path)

    @classmethod
    def load(cls, path: str | Path) -> PretrainedEncoder:
        """Read an encoder folder written by :meth:`save`.

        Raises :class:`~fusion.CheckpointError` naming the file when it is not an encoder
        folder or is corrupt.
        """
        from fusion.models.encoder_folder import read_encoder

        return read_encoder(path)


def cohort_checksum(cohort: Cohort) -> str:
    """sha256 of a cohort's modalities (names, kinds, samples, features and values).

    Examples
    --------
    >>> frame = pd.DataFrame({"g1": [1.0, 2.0]}, index=["p1", "p2"])
    >>> a, b = Cohort({"mRNA": frame}), Cohort({"mRNA": frame * 2})
    >>> cohort_checksum(a) == cohort_checksum(a.copy()), cohort_checksum(a) == cohort_checksum(b)
    (True, False)
    """
    digest = hashlib.sha256()
    for name in cohort:
        frame = cohort[name]
        digest.update(f"{name}\0{cohort.modalities[name].kind}\0".encode())
        digest.update("\0".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class _Pooled:
    """The pooled patients: per kind the features' node positions, the batch, cohort of each."""

    feature_nodes: dict[str, torch.Tensor]
    batch: FusionBatch
    origin: np.ndarray


def _node_ids(cohort: Cohort, kg: KnowledgeGraph) -> dict[str, pd.Series]:
    """Per modality, the KG node id of each feature (NaN unlinked)."""
    links = link_cohort(cohort, kg)
    return {m: links.feature_nodes(m).reindex([str(f) for f in cohort[m].columns]) for m in cohort}


def _pool(
    cohorts: Sequence[Cohort], nodes: Sequence[dict[str, pd.Series]], graph: RelationGraph
) -> _Pooled:
    """Every cohort's scaled values side by side, one channel per modality kind."""
    kinds = list(dict.fromkeys(c.modalities[m].kind for c in cohorts for m in c))
    blocks: dict[str, list[tuple[int, str]]] = {k: [] for k in kinds}
    for i, cohort in enumerate(cohorts):
        for m in cohort:
            blocks[cohort.modalities[m].kind].append((i, m))
    sizes = [c.n_samples for c in cohorts]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    batches = [
        cohort_batch(ModalityScaler().fit_transform(c), {m: c[m].columns for m in c})
        for c in cohorts
    ]
    n = int(offsets[-1])
    values, observed, present = {}, {}, torch.zeros(n, len(kinds), dtype=torch.bool)
    feature_nodes = {}
    for k, kind in enumerate(kinds):
        width = sum(cohorts[i][m].shape[1] for i, m in blocks[kind])
        values[kind] = torch.zeros(n, width)
        observed[kind] = torch.zeros(n, width, dtype=torch.bool)
        column, positions = 0, []
        for i, m in blocks[kind]:
            rows = slice(int(offsets[i]), int(offsets[i + 1]))
            f = cohorts[i][m].shape[1]
            values[kind][rows, column : column + f] = batches[i].values[m]
            observed[kind][rows, column : column + f] = batches[i].observed[m]
            present[rows, k] |= batches[i].present[:, list(cohorts[i]).index(m)]
            positions.append(torch.from_numpy(graph.index_of(nodes[i][m].fillna("").tolist())))
            column += f
        feature_nodes[kind] = torch.cat(positions)
    origin = np.repeat(np.arange(len(cohorts)), sizes)
    return _Pooled(feature_nodes, FusionBatch(values, observed, present), origin)


def _split(origin: np.ndarray, val_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / held-out positions, stratified by cohort."""
    counts = np.bincount(origin)
    if len(origin) < 4 or counts.min() < 2:
        msg = f"pretrain: the held-out split (val_size={val_size}) needs at least 2 patients per cohort and 4 in all; got {counts.tolist()}."
        raise SplitError(msg)
    stratify = origin if len(counts) > 1 else None
    return train_test_split(
        np.arange(len(origin)), test_size=val_size, random_state=seed, stratify=stratify
    )


def _as_list(cohorts: Cohort | Sequence[Cohort], what: str) -> list[Cohort]:
    out = [cohorts] if isinstance(cohorts, Cohort) else list(cohorts)
    bad = [type(c).__name__ for c in out if not isinstance(c, Cohort)]
    if bad:
        msg = f"pretrain: {what} must be fusion.Cohort objects; got {bad}."
        raise InvalidParameterError(msg)
    return out


def pretrain(
    cohorts: Cohort | Sequence[Cohort],
    kg: KnowledgeGraph,
    params: PretrainParams | None = None,
    *,
    cover: Sequence[Cohort] = (),
    names: Sequence[str] | None = None,
    progress: bool = False,
) -> PretrainedEncoder:
    """Pre-train a graph encoder on the pooled, unlabelled patients of ``cohorts``.

    Parameters
    ----------
    cohorts : Cohort or sequence of Cohort
        The pre-training patients (labels, if any, are not read); their panels may differ.
    kg : kg.KnowledgeGraph
        The knowledge graph every cohort is linked to.
    params : PretrainParams, optional
        Pruning, encoder, masking and optimisation settings (default: ``PretrainParams()``).
    cover : sequence of Cohort
        Cohorts whose linked nodes the graph must also hold (e.g. the panel the encoder will be
        fine-tuned on); only their features are read, never their patients' values.
    names : sequence of str, optional
        A name per cohort for the provenance (default: ``cohort0``, ``cohort1``...).
    progress : bool
        Show a progress bar over epochs (default: ``False``).

    Returns
    -------
    PretrainedEncoder

    Raises
    ------
    InvalidParameterError
        A cohort is not a :class:`~fusion.Cohort`, or no feature of any cohort links to ``kg``.
    SplitError
        Too few patients for the held-out split.
    """
    params = params or PretrainParams()
    pooled_cohorts, covered = _as_list(cohorts, "cohorts"), _as_list(cover, "cover")
    names = list(names) if names is not None else [f"cohort{i}" for i in range(len(pooled_cohorts))]
    with torch_threads(params.n_threads):
        nodes = [_node_ids(c, kg) for c in [*pooled_cohorts, *covered]]
        seeds = sorted({n for table in nodes for s in table.values() for n in s.dropna()})
        if not seeds:
            msg = "pretrain: no feature of the cohorts links to the knowledge graph."
            raise InvalidParameterError(msg)
        graph = prune_graph(
            kg, seeds, control=params.control, relations=None if params.relations is None else list(params.relations),
            min_seeds=params.min_seeds, max_fraction=params.max_fraction, min_ic=params.min_ic,
            relation_groups=params.relation_groups, seed=params.random_state,
        )  # fmt: skip
        pooled = _pool(pooled_cohorts, nodes[: len(pooled_cohorts)], graph)
        inner, held_out = _split(pooled.origin, params.val_size, params.random_state)
        device = resolve_device(params.device)
        torch.manual_seed(params.random_state)
        model = MaskedNodeModel(
            graph.to(device),
            pooled.feature_nodes,
            params.net_config(),
            PretrainConfig(params.mask_rate),
        ).to(device)
        batch = pooled.batch.to(device)
        val = batch[torch.from_numpy(held_out).to(device)]
        result = pretrain_encoder(
            model,
            batch[torch.from_numpy(inner).to(device)],
            val,
            params.train_config(),
            seed=params.random_state,
            progress=progress,
        )
        with torch.no_grad():  # the held-out masking of training, drawn again with its seed
            _, target = model.masked(val, params.random_state)
            zero = float(masked_node_loss(torch.zeros_like(target[..., 0]), target))
    logger.info(
        "pretrain: best epoch %d, held-out loss %.4f (predicting 0: %.4f)",
        result.best_epoch, result.best_val_loss, zero,
    )  # fmt: skip
    provenance = [
        {
            "name": name,
            "patients": cohort.n_samples,
            "modalities": {
                m: {"kind": cohort.modalities[m].kind, "features": cohort[m].shape[1]}
                for m in cohort
            },
            "sha256": cohort_checksum(cohort),
        }
        for name, cohort in zip(names, pooled_cohorts)
    ]
    history = {
        **asdict(result),
        "zero_val_loss": zero,
        "n_train": len(inner),
        "n_val": len(held_out),
    }
    state = {k: v.cpu() for k, v in model.encoder_state().items()}
    layout = EncoderLayout.of(model.net, list(pooled.feature_nodes))
    return PretrainedEncoder(graph, layout, state, params, provenance, history)
