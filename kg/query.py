"""Graph queries over a :class:`~kg.graph.KnowledgeGraph`: neighbourhoods, term closures, paths.

Every query takes the knowledge graph first, answers in KG ids (or a
:class:`~kg.graph.KnowledgeGraph` subgraph), validates its inputs and has a bounded cost.
Queries walk the cached :attr:`KnowledgeGraph.graph` in place: relation filters and edge
direction are applied while traversing, so no query copies the whole graph.

Edges run subject → object as in the sources (child → parent for ``is_a``/``part_of``, gene →
term for annotations). Direction-sensitive queries are named for what they return:
:func:`superterms` follows edges forward (towards the roots), :func:`subterms` backward (both
defined in :mod:`kg.hierarchy`, the shared traversal plumbing in ``kg._traverse``).

Every query but :func:`induced_subgraph_by_type` also accepts a :class:`~kg.index.GraphIndex`
(the compact adjacency of a saved graph, :meth:`GraphIndex.from_saved`) in place of the graph and
answers identically, without building the networkx graph.

Relation filters name relations; a relation absent from the graph simply matches no edge (a
pruned graph may lack ``part_of``, say), so check ``kg.relations`` when a typo is a risk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from itertools import pairwise

from kg._traverse import (
    Direction,
    Graph,
    Neighbors,
    Relations,
    as_list,
    bfs_distances,
    check_int,
    neighbor_function,
    relation_set,
)
from kg.graph import KnowledgeGraph
from kg.hierarchy import subterms, superterms
from kg.index import GraphIndex

__all__ = [
    "Direction",
    "all_simple_paths",
    "induced_subgraph_by_type",
    "neighborhood",
    "path_edges",
    "shortest_paths",
    "subterms",
    "superterms",
]

logger = logging.getLogger(__name__)


def neighborhood(
    kg: Graph,
    nodes: str | Iterable[str],
    k: int = 1,
    *,
    relations: Relations = None,
    direction: Direction = "both",
) -> KnowledgeGraph:
    """The subgraph of everything within ``k`` hops of the seed ``nodes``.

    Parameters
    ----------
    kg : KnowledgeGraph or GraphIndex
        The graph to query.
    nodes : str or iterable of str
        Seed id(s); they are always part of the result.
    k : int
        Number of hops (``0`` gives the seeds alone) (default: ``1``).
    relations : str or iterable of str, optional
        Follow and keep only edges with these relations (default: all).
    direction : {"out", "in", "both"}
        Follow edges subject → object, object → subject or either way (default: ``"both"``).

    Returns
    -------
    KnowledgeGraph
        The subgraph induced by the nodes found, keeping only the edges of ``relations``.

    Raises
    ------
    UnknownNodeError
        If a seed is not a node.
    ValueError
        If ``k`` is negative or ``direction`` is not one of the options.

    Examples
    --------
    >>> from kg.graph import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "x"),
    ...                     make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:2"], "x"))
    >>> sorted(neighborhood(kg, "GO:3", k=1).nodes.index)
    ['GO:2', 'GO:3']
    >>> neighborhood(kg, ["GO:3"], k=2, direction="in").number_of_nodes()
    1
    """
    k = check_int("k", k, 0, "neighborhood")
    seeds = kg.check_nodes(as_list(nodes))
    found = bfs_distances(neighbor_function(kg, relations, direction), seeds, k)
    sub = kg.subgraph(found)
    allowed = relation_set(relations)
    if allowed is None:
        return sub
    edges = sub.edges[sub.edges["relation"].isin(allowed)]
    return KnowledgeGraph(sub.nodes, edges, sub.metadata, validate=False)


def shortest_paths(
    kg: Graph,
    sources: str | Iterable[str],
    targets: str | Iterable[str],
    *,
    relations: Relations = None,
    directed: bool = False,
    cutoff: int | None = None,
) -> list[list[str]]:
    """One shortest path for every reachable ``(source, target)`` pair.

    A breadth-first search runs from each source and stops once every target is found or
    ``cutoff`` hops are exhausted. Pairs with ``source == target`` are skipped.

    Parameters
    ----------
    kg : KnowledgeGraph or GraphIndex
        The graph to query.
    sources, targets : str or iterable of str
        Start and end ids.
    relations : str or iterable of str, optional
        Follow only edges with these relations (default: all).
    directed : bool
        Follow edges subject → object only; otherwise either way (default: ``False``).
    cutoff : int, optional
        Longest path, in hops, to report (default: unbounded).

    Returns
    -------
    list of list of str
        Paths as node ids from source to target, ordered by source then target as given;
        unreachable pairs are absent. Use :func:`path_edges` to name each hop's relation.

    Raises
    ------
    UnknownNodeError
        If a source or target is not a node.
    ValueError
        If ``cutoff`` is not positive.

    Examples
    --------
    >>> from kg.graph import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "x"),
    ...                     make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:1"], "x"))
    >>> shortest_paths(kg, "GO:2", ["GO:3"])
    [['GO:2', 'GO:1', 'GO:3']]
    >>> shortest_paths(kg, "GO:2", ["GO:3"], directed=True)
    []
    """
    if cutoff is not None:
        cutoff = check_int("cutoff", cutoff, 1, "shortest_paths")
    sources = kg.check_nodes(as_list(sources))
    targets = kg.check_nodes(as_list(targets))
    neighbors = neighbor_function(kg, relations, "out" if directed else "both")
    paths: list[list[str]] = []
    for source in sources:
        wanted = set(targets) - {source}
        parent: dict[str, str | None] = {source: None}
        frontier = [source]
        depth = 0
        while frontier and wanted and (cutoff is None or depth < cutoff):
            depth += 1
            following = []
            for node in frontier:
                for other in neighbors(node):
                    if other not in parent:
                        parent[other] = node
                        following.append(other)
                        wanted.discard(other)
            frontier = following
        for target in targets:
            if target != source and target in parent:
                path = [target]
                while (step := parent[path[-1]]) is not None:
                    path.append(step)
                paths.append(path[::-1])
    return paths


def all_simple_paths(
    kg: Graph,
    sources: str | Iterable[str],
    targets: str | Iterable[str],
    *,
    cutoff: int = 3,
    max_paths: int = 100,
    relations: Relations = None,
    directed: bool = False,
) -> list[list[str]]:
    """Simple paths (no repeated node) from any source to any target, shortest first.

    Cost is bounded twice: no path is longer than ``cutoff`` hops, and the search stops after
    ``max_paths`` paths. A breadth-first search back from the targets first measures how far
    every nearby node is from a target, so the depth-first enumeration never enters a branch
    that cannot reach a target within the hops left. A path ends at the first target it meets.

    Parameters
    ----------
    kg : KnowledgeGraph or GraphIndex
        The graph to query.
    sources, targets : str or iterable of str
        Start and end ids; pairs with ``source == target`` are skipped.
    cutoff : int
        Longest path in hops (default: ``3``).
    max_paths : int
        Most paths to return; reaching it is logged at INFO level (default: ``100``).
    relations : str or iterable of str, optional
        Follow only edges with these relations (default: all).
    directed : bool
        Follow edges subject → object only; otherwise either way (default: ``False``).

    Returns
    -------
    list of list of str
        Paths ordered by length, then by source as given, then by adjacency order.

    Raises
    ------
    UnknownNodeError
        If a source or target is not a node.
    ValueError
        If ``cutoff`` or ``max_paths`` is not positive.

    Examples
    --------
    >>> from kg.graph import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["a:1", "a:2", "a:3", "a:4"], "gene", "x"),
    ...                     make_edges(["a:1", "a:1", "a:2", "a:3"], "r", ["a:2", "a:3", "a:4", "a:4"], "x"))
    >>> all_simple_paths(kg, "a:1", "a:4")
    [['a:1', 'a:2', 'a:4'], ['a:1', 'a:3', 'a:4']]
    >>> all_simple_paths(kg, "a:1", "a:4", max_paths=1)
    [['a:1', 'a:2', 'a:4']]
    """
    cutoff = check_int("cutoff", cutoff, 1, "all_simple_paths")
    max_paths = check_int("max_paths", max_paths, 1, "all_simple_paths")
    sources = kg.check_nodes(as_list(sources))
    targets = kg.check_nodes(as_list(targets))
    forward = neighbor_function(kg, relations, "out" if directed else "both")
    backward = neighbor_function(kg, relations, "in" if directed else "both")
    to_target = bfs_distances(backward, targets, cutoff)
    target_set = set(targets)
    paths: list[list[str]] = []
    for length in range(1, cutoff + 1):  # iterative deepening: shortest paths first
        for source in sources:
            if to_target.get(source, cutoff + 1) > length:
                continue
            for path in _paths_of_length(forward, source, target_set, to_target, length):
                paths.append(path)
                if len(paths) == max_paths:
                    logger.info(
                        "all_simple_paths stopped at max_paths=%d; raise it for more", max_paths
                    )
                    return paths
    return paths


def _paths_of_length(
    neighbors: Neighbors,
    source: str,
    targets: set[str],
    to_target: dict[str, int],
    length: int,
) -> Iterator[list[str]]:
    """Simple paths of exactly ``length`` hops from ``source`` ending at their first target."""
    path = [source]
    on_path = {source}
    stack = [iter(neighbors(source))]
    while stack:
        hops_left = length - len(path)  # hops left after stepping to the next node
        for other in stack[-1]:
            if other in on_path or to_target.get(other, length + 1) > hops_left:
                continue
            if other in targets:
                if hops_left == 0:
                    yield [*path, other]
                continue  # a path stops at the first target it reaches
            if hops_left > 0:
                path.append(other)
                on_path.add(other)
                stack.append(iter(neighbors(other)))
                break
        else:
            stack.pop()
            on_path.discard(path.pop())


def path_edges(
    kg: Graph, path: Iterable[str], *, relations: Relations = None
) -> list[tuple[str, str, str]]:
    """The edge behind every hop of ``path`` as a ``(subject, relation, object)`` triple.

    Each triple keeps the direction stored in the graph, so a hop walked against an edge comes
    back reversed (``("NCBIGene:1", "involved_in", "GO:3")`` for the hop GO:3 → NCBIGene:1).
    Where several edges join a hop, a forward edge wins over a backward one, then the first
    relation in edge-table order.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph the path was found in.
    path : iterable of str
        Node ids, as returned by :func:`shortest_paths` or :func:`all_simple_paths`.
    relations : str or iterable of str, optional
        Consider only edges with these relations (pass the same filter as the path query).

    Raises
    ------
    UnknownNodeError
        If a path node is not a node.
    ValueError
        If two consecutive path nodes are not joined by an edge.

    Examples
    --------
    >>> from kg.graph import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "x"),
    ...                     make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:1"], "x"))
    >>> path_edges(kg, ["GO:2", "GO:1", "GO:3"])
    [('GO:2', 'is_a', 'GO:1'), ('GO:3', 'is_a', 'GO:1')]
    """
    path = kg.check_nodes(path)
    allowed = relation_set(relations)
    if isinstance(kg, GraphIndex):
        between: Callable[[str, str], Iterable[str]] = kg.relations_between
    else:
        succ = kg.graph.succ
        between = lambda subject, obj: succ[subject].get(obj, ())
    triples: list[tuple[str, str, str]] = []
    for u, v in pairwise(path):
        for subject, obj in ((u, v), (v, u)):
            keys = [r for r in between(subject, obj) if allowed is None or r in allowed]
            if keys:
                triples.append((subject, keys[0], obj))
                break
        else:
            which = "" if allowed is None else f" with a relation in {sorted(allowed)}"
            msg = f"no edge{which} joins {u!r} and {v!r}; is this a path of this graph?"
            raise ValueError(msg)
    return triples


def induced_subgraph_by_type(kg: KnowledgeGraph, types: str | Iterable[str]) -> KnowledgeGraph:
    """The subgraph induced by all nodes of the given type(s), with every edge among them.

    Raises
    ------
    UnknownNodeTypeError
        If a type has no node in the graph.

    Examples
    --------
    >>> from kg.graph import make_edges, make_nodes
    >>> import pandas as pd
    >>> nodes = pd.concat([make_nodes(["GO:1", "GO:2"], "go_term", "x"), make_nodes(["g:1"], "gene", "x")])
    >>> kg = KnowledgeGraph(nodes, make_edges(["GO:2", "g:1"], ["is_a", "involved_in"], ["GO:1", "GO:2"], "x"))
    >>> induced_subgraph_by_type(kg, "go_term")
    KnowledgeGraph(nodes=2, edges=1, node_types=['go_term'], relations=['is_a'])
    """
    return kg.subgraph(kg.nodes_of_type(*as_list(types)))
