"""Hierarchy queries: the terms above (:func:`superterms`) or below (:func:`subterms`) a term.

Edges run child → parent for ``is_a``/``part_of`` as in the sources, so :func:`superterms`
follows edges forward (towards the roots) and :func:`subterms` backward (towards the leaves).
Both accept a :class:`~kg.graph.KnowledgeGraph` or a :class:`~kg.index.GraphIndex`.
"""

from __future__ import annotations

from kg._traverse import Graph, Relations, neighbor_function

__all__ = ["subterms", "superterms"]


def superterms(
    kg: Graph,
    node: str,
    relations: Relations = ("is_a", "part_of"),
    *,
    include_self: bool = False,
) -> set[str]:
    """All terms above ``node``: follow ``relations`` forward (child → parent) to the roots.

    Parameters
    ----------
    kg : KnowledgeGraph or GraphIndex
        The graph to query.
    node : str
        The starting id.
    relations : str or iterable of str, optional
        Relations to follow; ``None`` follows all (default: ``("is_a", "part_of")``).
    include_self : bool
        Include ``node`` itself (default: ``False``).

    Returns
    -------
    set of str

    Raises
    ------
    UnknownNodeError
        If ``node`` is not a node.

    Examples
    --------
    >>> from kg.graph import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "x"),
    ...                     make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:2"], "x"))
    >>> sorted(superterms(kg, "GO:3"))
    ['GO:1', 'GO:2']
    """
    return _closure(kg, node, relations, "out", include_self)


def subterms(
    kg: Graph,
    node: str,
    relations: Relations = ("is_a", "part_of"),
    *,
    include_self: bool = False,
) -> set[str]:
    """All terms below ``node``: follow ``relations`` backward (parent → child) to the leaves.

    Parameters and exceptions are those of :func:`superterms`.

    Examples
    --------
    >>> from kg.graph import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2", "GO:3"], "go_term", "x"),
    ...                     make_edges(["GO:2", "GO:3"], "is_a", ["GO:1", "GO:2"], "x"))
    >>> sorted(subterms(kg, "GO:1", include_self=True))
    ['GO:1', 'GO:2', 'GO:3']
    """
    return _closure(kg, node, relations, "in", include_self)


def _closure(
    kg: Graph, node: str, relations: Relations, direction: str, include_self: bool
) -> set[str]:
    if not isinstance(node, str):
        msg = f"node must be one id (a str); got {type(node).__name__}. Call once per node."
        raise TypeError(msg)
    kg.check_nodes([node])
    neighbors = neighbor_function(kg, relations, direction)
    seen = {node}
    stack = [node]
    while stack:
        for other in neighbors(stack.pop()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    if not include_self:
        seen.discard(node)  # a cycle back to the node does not make it its own superterm
    return seen
