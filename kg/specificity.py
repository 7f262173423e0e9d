"""How specific a term is, from the annotation structure: information content and coverage.

A term annotated (by the true-path rule) with most of the genes says little about any of them:
"biological process" holds every annotated gene, "Metabolism" a fifth of them. Two measures
tell such terms from informative ones, both from one sparse reachability pass
(:func:`reach_counts`):

* :func:`information_content` — Resnik's information content (Resnik, 1995, IJCAI: "Using
  information content to evaluate semantic similarity in a taxonomy") over the whole graph,
  ``IC(t) = -log(n_t / n)``, with ``n_t`` the genes annotated to ``t`` or to a term below it and
  ``n`` the genes annotated to any term of its ontology (node type): ``0`` for a root holding
  every gene, ``log n`` for a term of one gene;
* :func:`coverage` — the share of a given set of nodes (a cohort's linked genes, a patient's
  inputs) that reaches each term: what the term summarises of *these* data.

scipy is imported when a function is called, never at import time of :mod:`kg`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kg.adjacency import adjacency_matrix
from kg.graph import KnowledgeGraph

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["coverage", "information_content", "reach_counts", "reachability"]

_IC_CACHE: weakref.WeakKeyDictionary[KnowledgeGraph, dict[tuple, pd.Series]] = (
    weakref.WeakKeyDictionary()
)
_ADJACENCY_CACHE: weakref.WeakKeyDictionary[KnowledgeGraph, dict[tuple | None, csr_matrix]] = (
    weakref.WeakKeyDictionary()
)


def _reach(adjacency: csr_matrix, seeds: np.ndarray) -> csr_matrix:
    """Sparse boolean ``(len(seeds), N)`` matrix: row ``i`` holds the nodes seed ``i`` reaches.

    A breadth-first search of all seeds at once: each round adds the frontier's successors not
    reached before, until no seed reaches anything new (cycles end too). A seed reaches itself.
    """
    from scipy.sparse import csr_matrix

    step = adjacency.astype(bool).tocsr()
    rows = np.arange(len(seeds))
    ones = np.ones(len(seeds), dtype=bool)
    reach = csr_matrix((ones, (rows, seeds)), shape=(len(seeds), adjacency.shape[0]))
    frontier = reach
    while frontier.nnz:
        successors = frontier @ step
        frontier = successors - successors.multiply(reach)
        frontier.eliminate_zeros()
        reach = reach + frontier
    return reach


def _reach_counts(adjacency: csr_matrix, seeds: np.ndarray) -> np.ndarray:
    """For every node, how many of ``seeds`` reach it (itself included; see :func:`_reach`).

    Each node is counted once per seed however many paths lead to it.
    """
    reach = _reach(adjacency, seeds)
    return np.bincount(reach.indices, minlength=adjacency.shape[0]).astype(np.int64)


def _graph_adjacency(kg: KnowledgeGraph, relations: Iterable[str] | None) -> csr_matrix:
    """The ``(N, N)`` adjacency of ``kg``'s edges along ``relations`` (all if ``None``), built
    once per graph and relation set."""
    key = None if relations is None else tuple(sorted(set(relations)))
    cached = _ADJACENCY_CACHE.setdefault(kg, {})
    if key not in cached:
        src, dst = kg.edge_rows
        if key is not None:
            followed = kg.edges["relation"].isin(key).to_numpy()
            src, dst = src[followed], dst[followed]
        cached[key] = adjacency_matrix(src, dst, kg.number_of_nodes())
    return cached[key]


def reachability(
    kg: KnowledgeGraph,
    sources: Iterable[str],
    targets: Iterable[str] | None = None,
    *,
    relations: Iterable[str] | None = None,
) -> csr_matrix:
    """Which ``targets`` each of ``sources`` reaches, following edges forward (itself included).

    For genes and terms this is the true-path rule: a gene reaches the terms it is annotated
    to and all their superterms. One breadth-first search of all sources at once over a sparse
    adjacency built once per graph (:func:`reach_counts` sums its columns).

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    sources : iterable of str
        Start node ids, one row each in this order (unknown ids raise
        :class:`kg.UnknownNodeError`).
    targets : iterable of str, optional
        Node ids, one column each in this order (default: every node, in node order).
    relations : iterable of str, optional
        Relations followed (default: all).

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean ``(len(sources), len(targets))`` matrix.

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> nodes = make_nodes(["g1", "g2", "T1", "T2"], ["gene", "gene", "go_term", "go_term"], "x")
    >>> edges = make_edges(["g1", "g2", "T1"], ["involved_in", "involved_in", "is_a"], ["T1", "T2", "T2"], "x")
    >>> reachability(KnowledgeGraph(nodes, edges), ["g1", "g2"], ["T1", "T2"]).toarray().tolist()
    [[True, True], [False, True]]
    """
    index = kg.nodes.index
    reach = _reach(_graph_adjacency(kg, relations), index.get_indexer(kg.check_nodes(sources)))
    if targets is None:
        return reach
    return reach.tocsc()[:, index.get_indexer(kg.check_nodes(targets))].tocsr()


def reach_counts(
    kg: KnowledgeGraph, seeds: Iterable[str], *, relations: Iterable[str] | None = None
) -> pd.Series:
    """How many of ``seeds`` reach each node, following edges forward (a seed reaches itself).

    Under the child → parent convention this is, for a term, the number of seeds annotated to
    it or to a term below it (the true-path rule); a seed reached by several paths counts once.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    seeds : iterable of str
        Node ids (unknown ids raise :class:`kg.UnknownNodeError`; duplicates count once).
    relations : iterable of str, optional
        Relations followed (default: all).

    Returns
    -------
    pandas.Series
        Count per node (int), indexed by id, for the nodes reached by at least one seed, in
        the order of :attr:`KnowledgeGraph.nodes`.

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> nodes = make_nodes(["g1", "g2", "T1", "T2"], ["gene", "gene", "go_term", "go_term"], "x")
    >>> edges = make_edges(["g1", "g2", "T1"], ["involved_in", "involved_in", "is_a"], ["T1", "T2", "T2"], "x")
    >>> reach_counts(KnowledgeGraph(nodes, edges), ["g1", "g2"]).to_dict()
    {'g1': 1, 'g2': 1, 'T1': 1, 'T2': 2}
    """
    seeds = list(dict.fromkeys(kg.check_nodes(seeds)))
    index = kg.nodes.index
    counts = _reach_counts(_graph_adjacency(kg, relations), index.get_indexer(seeds))
    reached = counts > 0
    return pd.Series(counts[reached], index=index[reached], name="seeds")


def information_content(
    kg: KnowledgeGraph,
    *,
    annotated: str | Iterable[str] = "gene",
    relations: Iterable[str] | None = None,
) -> pd.Series:
    """Resnik information content ``-log(n_t / n)`` of every term annotated with a gene.

    ``n_t`` counts the genes that reach term ``t`` (annotated to it or to a term below it,
    :func:`reach_counts` over ``relations``) and ``n`` the genes that reach any term of ``t``'s
    node type (its ontology: GO terms, pathways, phenotypes), so that each ontology's root
    scores about ``0`` whatever the other ontologies annotate.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph whose annotations define the corpus (for an explanation: the whole KG, so
        that a term's unmeasured genes count too).
    annotated : str or iterable of str
        The annotated nodes: a node type (default: ``"gene"``) or explicit ids.
    relations : iterable of str, optional
        Relations followed from a gene up to its terms (default: all).

    Returns
    -------
    pandas.Series
        IC per term (float, ``>= 0``, natural log), indexed by id in node order: every node
        that is not an annotated node and is reached by at least one. Terms no gene reaches
        are left out (their IC is undefined). Computed once per graph, annotated nodes and
        relations (the graph is immutable), then copied from a cache.

    Raises
    ------
    kg.UnknownNodeTypeError, kg.UnknownNodeError
        If ``annotated`` names a type without nodes, or an id that is not a node.

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> nodes = make_nodes(["g1", "g2", "T1", "T2"], ["gene", "gene", "go_term", "go_term"], "x")
    >>> edges = make_edges(["g1", "g2", "T1"], ["involved_in", "involved_in", "is_a"], ["T1", "T2", "T2"], "x")
    >>> information_content(KnowledgeGraph(nodes, edges)).round(3).to_dict()  # T2 holds both genes
    {'T1': 0.693, 'T2': 0.0}
    """
    ids = kg.nodes_of_type(annotated) if isinstance(annotated, str) else annotated
    ids = list(dict.fromkeys(kg.check_nodes(ids)))
    key = (
        annotated if isinstance(annotated, str) else tuple(ids),
        None if relations is None else tuple(sorted(set(relations))),
    )
    cached = _IC_CACHE.setdefault(kg, {})
    if key not in cached:
        cached[key] = _information_content(kg, ids, key[1])
    return cached[key].copy()


def _information_content(
    kg: KnowledgeGraph, ids: list[str], relations: Iterable[str] | None
) -> pd.Series:
    """:func:`information_content` of the annotated nodes ``ids`` (computed, not cached)."""
    genes = kg.nodes.index.get_indexer(ids)
    reach = _reach(_graph_adjacency(kg, relations), genes).tocsc()
    is_term = np.ones(kg.number_of_nodes(), dtype=bool)
    is_term[genes] = False
    counts = reach.getnnz(axis=0)
    types = kg.nodes["type"].to_numpy()
    n_annotated = np.zeros(len(types))
    for kind in pd.unique(types[is_term & (counts > 0)]):
        of_kind = is_term & (types == kind)
        n_annotated[of_kind] = (reach[:, of_kind].getnnz(axis=1) > 0).sum()
    kept = is_term & (counts > 0)
    ic = np.log(n_annotated[kept] / counts[kept])
    return pd.Series(ic, index=kg.nodes.index[kept], name="information_content")


def coverage(
    kg: KnowledgeGraph, nodes: Iterable[str], *, relations: Iterable[str] | None = None
) -> pd.Series:
    """The share of ``nodes`` that reaches each node (:func:`reach_counts` / ``len(nodes)``).

    For a term: the fraction of, e.g., a cohort's linked genes or a patient's input nodes
    annotated to it or below it; ``1`` for a term summarising all of them.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    nodes : iterable of str
        Node ids (duplicates count once); an empty set gives an empty result.
    relations : iterable of str, optional
        Relations followed (default: all).

    Returns
    -------
    pandas.Series
        Share per reached node (float in ``(0, 1]``), indexed by id; ``nodes`` themselves
        included (each reaches itself).

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> nodes = make_nodes(["g1", "g2", "T1", "T2"], ["gene", "gene", "go_term", "go_term"], "x")
    >>> edges = make_edges(["g1", "g2", "T1"], ["involved_in", "involved_in", "is_a"], ["T1", "T2", "T2"], "x")
    >>> coverage(KnowledgeGraph(nodes, edges), ["g1", "g2"])[["T1", "T2"]].tolist()
    [0.5, 1.0]
    """
    nodes = list(dict.fromkeys(nodes))
    counts = reach_counts(kg, nodes, relations=relations)
    return (counts / max(len(nodes), 1)).rename("coverage")
