"""Traversal plumbing shared by the queries (:mod:`kg.query`, :mod:`kg.hierarchy`): input checks
and neighbour functions that read a :class:`~kg.graph.KnowledgeGraph`'s cached adjacency, or a
:class:`~kg.index.GraphIndex`, in place.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterable
from typing import Literal

from kg.graph import KnowledgeGraph
from kg.index import GraphIndex

__all__ = [
    "DIRECTIONS",
    "Direction",
    "Graph",
    "Neighbors",
    "Relations",
    "as_list",
    "bfs_distances",
    "check_int",
    "neighbor_function",
    "relation_set",
]

#: Which edges a traversal follows: ``"out"`` subject → object, ``"in"`` object → subject,
#: ``"both"`` either way.
Direction = Literal["out", "in", "both"]
DIRECTIONS: tuple[str, ...] = ("out", "in", "both")

Relations = str | Iterable[str] | None
#: What the queries run on: the graph, or the compact index of a saved one.
Graph = KnowledgeGraph | GraphIndex
Neighbors = Callable[[str], Iterable[str]]


def as_list(ids: str | Iterable[str]) -> list[str]:
    """One id or many as a list without duplicates (order kept)."""
    return [ids] if isinstance(ids, str) else list(dict.fromkeys(ids))


def relation_set(relations: Relations) -> frozenset[str] | None:
    if relations is None:
        return None
    return frozenset([relations] if isinstance(relations, str) else relations)


def check_int(name: str, value: int, minimum: int, function: str) -> int:
    """``value`` as an int ``>= minimum`` or a :class:`ValueError`/:class:`TypeError`."""
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        msg = f"The {name!r} parameter of {function} must be an int; got {value!r} instead."
        raise TypeError(msg) from None
    if value < minimum:
        bound = "non-negative" if minimum == 0 else f">= {minimum}"
        msg = f"The {name!r} parameter of {function} must be {bound}; got {value} instead."
        raise ValueError(msg)
    return value


def neighbor_function(kg: Graph, relations: Relations, direction: str) -> Neighbors:
    """A function giving the distinct neighbours of a node along the allowed edges.

    Reads the adjacency of the cached graph directly (a live view, never a copy); parallel edges
    and edges in both directions between the same pair give one neighbour.
    """
    if direction not in DIRECTIONS:
        msg = f"direction must be one of {DIRECTIONS}; got {direction!r} instead."
        raise ValueError(msg)
    allowed = relation_set(relations)
    if isinstance(kg, GraphIndex):
        return kg.neighbor_function(allowed, direction)
    graph = kg.graph
    adjacencies = {"out": (graph.succ,), "in": (graph.pred,), "both": (graph.succ, graph.pred)}[
        direction
    ]

    if allowed is None:
        if len(adjacencies) == 1:
            adjacency = adjacencies[0]
            return lambda node: adjacency[node]
        return lambda node: dict.fromkeys([*graph.succ[node], *graph.pred[node]])

    def neighbors(node: str) -> Iterable[str]:
        found: dict[str, None] = {}
        for adjacency in adjacencies:
            for other, keys in adjacency[node].items():
                if other not in found and not allowed.isdisjoint(keys):
                    found[other] = None
        return found

    return neighbors


def bfs_distances(neighbors: Neighbors, seeds: Iterable[str], cutoff: int | None) -> dict[str, int]:
    """Hop distance from the nearest seed of every node within ``cutoff`` hops."""
    distance = dict.fromkeys(seeds, 0)
    queue = deque(distance)
    while queue:
        node = queue.popleft()
        depth = distance[node]
        if cutoff is not None and depth >= cutoff:
            continue
        for other in neighbors(node):
            if other not in distance:
                distance[other] = depth + 1
                queue.append(other)
    return distance
