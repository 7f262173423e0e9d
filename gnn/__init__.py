"""gnn: knowledge-propagating graph neural network models (torch, torch-geometric).

A :class:`RelationGraph` turns a (pruned) :class:`kg.KnowledgeGraph` into per-relation edges
(reverse relations added) and the :class:`MessageRows` its layers read; :class:`KGFusionNet`
places patients' feature values on its nodes (:class:`NodeInput`, :class:`NodeChannels`),
propagates them with :class:`RelationalPropagation` layers (PyG ``MessagePassing``, patients
batched as channels), reads them out as concept-node scores (:class:`NodeScoreReadout`) and
fuses them with per-modality heads; :class:`HierarchyNet` is the sparse P-NET-style
alternative (one unit per KG node, connections only along the KG's hierarchy,
:func:`hierarchy_levels`, :func:`random_masks` for the control); :func:`cox_ph_loss` trains
their survival heads and :func:`attribute` explains their predictions. :func:`train_model`
streams patients in batches (:func:`train_epoch`, :func:`batched_outputs`) and trains
data-parallel under :mod:`torch.distributed` (:mod:`gnn.distributed`). :class:`MaskedNodeModel`
and :func:`pretrain_encoder` pre-train the graph encoder without labels (masked node values);
:func:`load_encoder` and :func:`load_readout` carry weights to a network on another panel. Errors derive from :class:`GNNError`. ``gnn`` may
import :mod:`kg`, never :mod:`fusion`.
"""

from gnn._exceptions import (
    GNNError,
    InvalidGraphError,
    InvalidParameterError,
    NoGraphBranchError,
    ShapeError,
)
from gnn.attribution import ATTRIBUTION_METHODS, NodeAttribution, attribute
from gnn.batch import batched_outputs
from gnn.distributed import SyncedBatchNorm, init_distributed, is_main_process, world
from gnn.hierarchy import (
    HierarchyConfig,
    HierarchyLevel,
    HierarchyNet,
    HierarchyReadout,
    hierarchy_levels,
    random_masks,
)
from gnn.losses import cox_ph_loss
from gnn.masked_linear import MaskedLinear
from gnn.model import FusionNetConfig, KGFusionNet
from gnn.node_input import NodeChannels, NodeInput
from gnn.pretrain import (
    ENCODER_PREFIXES,
    MaskedNodeModel,
    PretrainConfig,
    masked_node_loss,
    pretrain_encoder,
)
from gnn.propagation import RelationalPropagation
from gnn.readout import NodeScoreReadout
from gnn.relation_graph import MessageRows, RelationGraph, mean_adjacency, stack_adjacency
from gnn.training import (
    FusionBatch,
    TrainConfig,
    TrainResult,
    refresh_norm_statistics,
    train_epoch,
    train_model,
)
from gnn.transfer import (
    EncoderLayout,
    TransferReport,
    freeze_encoder,
    load_encoder,
    load_readout,
)

__all__ = [
    "ATTRIBUTION_METHODS",
    "ENCODER_PREFIXES",
    "EncoderLayout",
    "FusionBatch",
    "FusionNetConfig",
    "GNNError",
    "HierarchyConfig",
    "HierarchyLevel",
    "HierarchyNet",
    "HierarchyReadout",
    "InvalidGraphError",
    "InvalidParameterError",
    "KGFusionNet",
    "MaskedLinear",
    "MaskedNodeModel",
    "MessageRows",
    "NoGraphBranchError",
    "NodeAttribution",
    "NodeChannels",
    "NodeInput",
    "NodeScoreReadout",
    "PretrainConfig",
    "RelationGraph",
    "RelationalPropagation",
    "ShapeError",
    "SyncedBatchNorm",
    "TrainConfig",
    "TrainResult",
    "TransferReport",
    "attribute",
    "batched_outputs",
    "cox_ph_loss",
    "freeze_encoder",
    "hierarchy_levels",
    "init_distributed",
    "is_main_process",
    "load_encoder",
    "load_readout",
    "masked_node_loss",
    "mean_adjacency",
    "pretrain_encoder",
    "random_masks",
    "refresh_norm_statistics",
    "stack_adjacency",
    "train_epoch",
    "train_model",
    "world",
]
