"""gnn's exception hierarchy: one base class, every error also the matching builtin."""

from __future__ import annotations

import pytest
import torch

import gnn
from gnn import (
    FusionNetConfig,
    GNNError,
    InvalidGraphError,
    InvalidParameterError,
    KGFusionNet,
    NoGraphBranchError,
    RelationGraph,
    ShapeError,
    attribute,
    refresh_norm_statistics,
)
from gnn.training import FusionBatch


@pytest.mark.parametrize(
    "error", [InvalidGraphError, InvalidParameterError, NoGraphBranchError, ShapeError]
)
def test_every_error_is_a_gnn_error_and_a_value_error(error: type[Exception]) -> None:
    assert issubclass(error, GNNError) and issubclass(error, ValueError)
    assert error.__name__ in gnn.__all__


def _net(**config: object) -> KGFusionNet:
    graph = RelationGraph(["g", "T"], ["gene", "go_term"], ["r"], [torch.tensor([[0], [1]])])
    return KGFusionNet(graph, {"m": torch.tensor([0, -1])}, 2, FusionNetConfig(**config))


def test_errors_raised_by_the_model_and_training_are_typed() -> None:
    with pytest.raises(InvalidParameterError, match="needs a source"):
        _net(direct="none", use_graph=False)
    values = {"m": torch.zeros(3, 2)}
    with pytest.raises(NoGraphBranchError, match="no graph branch"):
        _net(use_graph=False).propagate(values)
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        attribute(_net(), values, method="nope")  # type: ignore[arg-type]
    empty = FusionBatch(
        {"m": torch.zeros(0, 2)},
        {"m": torch.ones(0, 2, dtype=torch.bool)},
        torch.ones(0, 1, dtype=torch.bool),
    )
    with pytest.raises(ShapeError, match="at least one patient"):
        refresh_norm_statistics(_net(), empty)
