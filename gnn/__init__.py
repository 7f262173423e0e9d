"""gnn: knowledge-propagating graph neural network models (torch, torch-geometric).

A :class:`RelationGraph` turns a (pruned) :class:`kg.KnowledgeGraph` into per-relation edges
(reverse relations added) and the :class:`MessageRows` its layers read; :class:`KGFusionNet`
places patients' feature values on its nodes (:class:`NodeInput`, :class:`NodeChannels`),
propagates them with :class:`RelationalPropagation` layers (PyG ``MessagePassing``, patients
batched as channels), reads them out as concept-node scores (:class:`NodeScoreReadout`) and
fuses them with per-modality heads; :func:`cox_ph_loss` trains its survival head and
:func:`attribute` explains its predictions. Errors derive from :class:`GNNError`. ``gnn`` may
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
from gnn.losses import cox_ph_loss
from gnn.model import FusionNetConfig, KGFusionNet
from gnn.node_input import NodeChannels, NodeInput
from gnn.propagation import RelationalPropagation
from gnn.readout import NodeScoreReadout
from gnn.relation_graph import MessageRows, RelationGraph, mean_adjacency, stack_adjacency
from gnn.training import (
    FusionBatch,
    TrainConfig,
    TrainResult,
    refresh_norm_statistics,
    train_model,
)

__all__ = [
    "ATTRIBUTION_METHODS",
    "FusionBatch",
    "FusionNetConfig",
    "GNNError",
    "InvalidGraphError",
    "InvalidParameterError",
    "KGFusionNet",
    "MessageRows",
    "NoGraphBranchError",
    "NodeAttribution",
    "NodeChannels",
    "NodeInput",
    "NodeScoreReadout",
    "RelationGraph",
    "RelationalPropagation",
    "ShapeError",
    "TrainConfig",
    "TrainResult",
    "attribute",
    "cox_ph_loss",
    "mean_adjacency",
    "refresh_norm_statistics",
    "stack_adjacency",
    "train_model",
]
