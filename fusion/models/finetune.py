"""Transfer through the knowledge graph: fine-tuning a pre-trained encoder, and applying a
trained classifier to a cohort whose features differ.

Both rest on the same fact: a network's graph weights are tied to channels (modality kinds),
node types, relations and KG node ids, never to features (:mod:`gnn.transfer`), so they carry
over to any panel whose features link to the same graph. The per-modality heads are one weight
per feature and do not transfer across panels.

* :func:`encoder_init` — the estimators' ``pretrained=PATH``: every ensemble member starts from
  the encoder of an encoder folder (optionally frozen), after a check that the folder's graph
  holds every node the cohort's features link to;
* :func:`transfer` — zero-shot cross-panel prediction: a fitted classifier's graph branch
  (encoder and readout) rebuilt on another cohort's features, readout nodes matched by KG id.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from fusion._exceptions import AlignmentError, InvalidParameterError
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks
from fusion.data.preprocess import ModalityScaler
from fusion.models._graph import fit_graph
from fusion.models.pretraining import PretrainedEncoder
from fusion.models.tensors import cohort_batch, torch_threads
from gnn import (
    EncoderLayout,
    KGFusionNet,
    RelationGraph,
    freeze_encoder,
    load_encoder,
    load_readout,
    refresh_norm_statistics,
)

__all__ = ["check_coverage", "encoder_init", "modality_kinds", "transfer"]

logger = logging.getLogger(__name__)

_PREVIEW = 3


def modality_kinds(cohort: Cohort, modalities: Sequence[str]) -> list[str]:
    """The kind of each of ``modalities`` (the channel names of the input projection)."""
    return [cohort.modalities[m].kind for m in modalities]


def check_coverage(
    encoder: PretrainedEncoder,
    graph: RelationGraph,
    feature_nodes: Mapping[str, torch.Tensor],
    where: str,
) -> None:
    """Raise :class:`~fusion.AlignmentError` when a node that a feature links to is not in the
    encoder's graph; the message says how many of how many, and how to fix it."""
    positions = sorted({int(i) for t in feature_nodes.values() for i in t.tolist() if i >= 0})
    ids = [graph.node_ids[i] for i in positions]
    missing = encoder.missing_nodes(ids)
    if missing:
        shown = ", ".join(missing[:_PREVIEW]) + (", ..." if len(missing) > _PREVIEW else "")
        msg = (
            f"{where}: the pre-trained encoder's graph does not hold {len(missing)} of the "
            f"{len(ids)} nodes this cohort's features link to ({shown}); pre-train with this "
            "panel among the cohorts or in cover= (fusion.pretrain(cohorts, kg, cover=[cohort]))."
        )
        raise AlignmentError(msg)


def encoder_init(
    estimator: Any,
    cohort: Cohort,
    graph: RelationGraph,
    feature_nodes: Mapping[str, torch.Tensor],
) -> Callable[[KGFusionNet], None] | None:
    """What ``estimator.fit`` applies to each new ensemble member under ``pretrained``.

    ``None`` without ``pretrained``; else a function loading the encoder folder's weights into a
    member (by channel = modality kind, node type and relation), freezing them under
    ``freeze_encoder``, and recomputing the readout's score standardisation on ``cohort``'s
    patients (values only; :func:`gnn.refresh_norm_statistics`). Without that last step the
    standardisation starts at the identity: a pre-trained encoder's node scores sit far from it
    and the running averages lag behind for many steps, so that the eval-mode outputs (and the
    early stopping's validation loss) were those of a shifted readout: fits stopped at the first
    epoch with a one-class predictor (mixOmics, ``benchmarks/transfer.py``). ``estimator.scaler_``
    must be fitted.

    Raises
    ------
    CheckpointError
        ``pretrained`` is not a readable encoder folder.
    InvalidParameterError
        The estimator is not an R-GCN with a graph branch, or its ``hidden`` / ``layers``
        differ from the encoder's.
    AlignmentError
        The encoder's graph lacks nodes the cohort's features link to (:func:`check_coverage`).
    """
    if estimator.pretrained is None:
        return None
    owner = f"{type(estimator).__name__}.fit"
    encoder = PretrainedEncoder.load(estimator.pretrained)
    layout = encoder.layout
    if estimator.architecture != "rgcn" or estimator.control == "no_graph":
        msg = f"{owner}: pretrained= initialises the R-GCN graph encoder; got architecture={estimator.architecture!r}, control={estimator.control!r}."
        raise InvalidParameterError(msg)
    if (estimator.hidden, estimator.layers) != (layout.hidden, layout.layers):
        msg = f"{owner}: the encoder in {estimator.pretrained} has hidden={layout.hidden}, layers={layout.layers}; set the same hidden and layers (got {estimator.hidden}, {estimator.layers})."
        raise InvalidParameterError(msg)
    check_coverage(encoder, graph, feature_nodes, f"{owner} (pretrained={estimator.pretrained})")
    channels = modality_kinds(cohort, list(feature_nodes))
    loaded = {ch for ch in channels if ch in layout.channels}
    logger.info("%s: encoder channels loaded %s of %s", owner, sorted(loaded), channels)

    batch = cohort_batch(estimator.scaler_.transform(cohort), estimator.feature_names_in_)

    def init(net: KGFusionNet) -> None:
        load_encoder(net, encoder.state, layout, channels)
        if estimator.freeze_encoder:
            freeze_encoder(net)
        refresh_norm_statistics(net, batch, estimator.eval_batch_size)
        net.train()

    return init


def transfer(
    model: Any,
    cohort: Cohort,
    *,
    links: CohortLinks | None = None,
    source_kinds: Sequence[str] | None = None,
) -> Any:
    """A fitted classifier's graph branch carried to ``cohort``'s panel, without labels.

    The new estimator has ``cohort``'s features, linked to ``model.kg``; its graph is the KG
    pruned around them (with ``model``'s pruning settings); each member's encoder is
    ``model``'s (input channels by modality kind, unknown kinds zeroed), its readout
    ``model``'s with readout nodes matched by KG node id (nodes ``model`` did not read out
    count zero), and it keeps no per-modality head (one weight per feature: they cannot
    transfer). Standardisation and the readout's score statistics are computed on ``cohort``'s
    patients (values only, no labels): pass the target's training or unlabelled patients, then
    predict any of its patients.

    Parameters
    ----------
    model : KGFusionClassifier
        Fitted, ``architecture="rgcn"`` with a graph branch.
    cohort : Cohort
        Patients of the target panel (labels are not read).
    links : CohortLinks, optional
        ``cohort``'s links to ``model.kg`` (computed when not given).
    source_kinds : sequence of str, optional
        The kind of each of ``model``'s modalities (default: ``model.modality_kinds_``, set
        by ``fit``; a model read from a folder needs them given).

    Returns
    -------
    KGFusionClassifier
        Fitted on nothing: it predicts ``cohort``'s panel with ``model``'s classes.

    Raises
    ------
    InvalidParameterError
        ``model`` is not fitted, not an R-GCN, has no graph branch, or its modality kinds are
        unknown.
    """
    model._check_fitted()
    kinds = list(source_kinds or getattr(model, "modality_kinds_", []))
    if len(kinds) != len(model.modalities_):
        msg = f"transfer: pass source_kinds=, the kind of each of the model's modalities {model.modalities_} (a model read from a folder does not record them); got {kinds}."
        raise InvalidParameterError(msg)
    if model.architecture != "rgcn" or not model.config_.use_graph:
        msg = f"transfer: the model must be an R-GCN with a graph branch (architecture={model.architecture!r}, graph branch {'on' if model.config_.use_graph else 'off'})."
        raise InvalidParameterError(msg)
    target = copy.copy(model)
    target.set_params(direct="none")
    fitted = fit_graph(
        cohort, model.kg, links, owner="transfer", control="none", relations=model.relations,
        min_seeds=model.min_seeds, max_fraction=model.max_fraction, min_ic=model.min_ic,
        relation_groups=model.relation_groups, seed=model.random_state,
    )  # fmt: skip
    target.graph_, target.feature_nodes_ = fitted.graph, fitted.feature_nodes
    target.modalities_ = list(cohort)
    target.feature_names_in_ = {m: cohort[m].columns for m in target.modalities_}
    target.scaler_ = ModalityScaler().fit(cohort)
    target.config_ = target.net_config(True)
    channels = modality_kinds(cohort, target.modalities_)
    batch = cohort_batch(target.scaler_.transform(cohort), target.feature_names_in_)
    graph = fitted.graph.to(model.device_)
    members = []
    with torch_threads(model.n_threads):
        for source in model.models_:
            net = KGFusionNet(graph, fitted.feature_nodes, model._out_channels(), target.config_)
            layout = EncoderLayout.of(source, kinds)
            load_encoder(net, _encoder_state(source), layout, channels, unmatched="zero")
            load_readout(net, source)
            net = net.to(model.device_)
            refresh_norm_statistics(net, batch.to(model.device_))
            members.append(net.eval())
    target.models_, target.histories_ = members, []
    target.modality_kinds_ = channels
    if fitted.report is not None:
        target.link_report_ = fitted.report
    return target


def _encoder_state(net: KGFusionNet) -> dict[str, torch.Tensor]:
    from gnn import ENCODER_PREFIXES

    return {k: v for k, v in net.state_dict().items() if k.startswith(ENCODER_PREFIXES)}
