"""Exception hierarchy of :mod:`gnn`.

Every error raised on bad input derives from :class:`GNNError` and from the builtin exception
that matches its meaning (all of them :class:`ValueError` here), so callers may catch either.
Messages say what was expected, what came, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "GNNError",
    "InvalidGraphError",
    "InvalidParameterError",
    "NoGraphBranchError",
    "ShapeError",
]


class GNNError(Exception):
    """Base class of every error raised by :mod:`gnn`."""


class InvalidGraphError(GNNError, ValueError):
    """A graph is malformed: edges out of range, lists of different lengths, missing edge types.

    Examples
    --------
    >>> import torch
    >>> from gnn import RelationGraph
    >>> try:
    ...     RelationGraph(["a"], ["gene"], ["r"], [torch.tensor([[0], [1]])])  # node 1 of 1
    ... except ValueError as error:
    ...     print(type(error).__name__, isinstance(error, GNNError))
    InvalidGraphError True
    """


class ShapeError(GNNError, ValueError):
    """A tensor has the wrong shape (or is empty where data is needed)."""


class InvalidParameterError(GNNError, ValueError):
    """A parameter is outside its domain (an unknown method, a non-positive count...)."""


class NoGraphBranchError(GNNError, ValueError):
    """A graph-branch operation was asked of a model built with ``use_graph=False``."""
