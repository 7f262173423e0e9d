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
    >>> RelationGraph(["a"], ["gene"], ["r"], [torch.tensor([[0], [1]])])
    Traceback (most recent call last):
    ...
    gnn._exceptions.InvalidGraphError: edges of relation 'r' must be node positions in [0, 1); got positions up to 1.
    """


class ShapeError(GNNError, ValueError):
    """A tensor has the wrong shape (or is empty where data is needed)."""


class InvalidParameterError(GNNError, ValueError):
    """A parameter is outside its domain (an unknown method, a non-positive count...)."""


class NoGraphBranchError(GNNError, ValueError):
    """A graph-branch operation was asked of a model built with ``use_graph=False``."""
