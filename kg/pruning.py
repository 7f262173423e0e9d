"""Prune a knowledge graph to the part that can carry a cohort's signal.

scipy is imported when :func:`seed_closure` is called, never at import time of :mod:`kg`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kg.adjacency import adjacency_matrix
from kg.graph import KnowledgeGraph, make_edges
from kg.specificity import _reach_counts, information_content

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["seed_closure"]

logger = logging.getLogger(__name__)


def _bridges(edges: pd.DataFrame, index: pd.Index, keep: np.ndarray) -> pd.DataFrame:
    """Edges ``u -r-> v`` between kept nodes for each path ``u -r-> d_1 -> ... -> v`` through dropped nodes.

    The relation is the path's first one: under the true-path rule a gene annotated to a dropped
    term is annotated to its kept superterms, and a member of a dropped sub-pathway is a member
    of the kept pathway above it.
    """
    n = len(index)
    src, dst = index.get_indexer(edges["source"]), index.get_indexer(edges["target"])

    def matrix(mask: np.ndarray) -> csr_matrix:
        return adjacency_matrix(src[mask], dst[mask], n, dtype=np.float32)

    def boolean(m: csr_matrix) -> csr_matrix:
        m.data[:] = 1.0
        return m

    dropped = ~keep
    inner = matrix(dropped[src] & dropped[dst])
    reach = boolean(matrix(dropped[src] & keep[dst]))  # dropped d -> kept v, through dropped nodes
    while True:
        grown = boolean(reach + inner @ reach)
        if grown.nnz == reach.nnz:
            break
        reach = grown
    first = keep[src] & dropped[dst]
    parts = []
    for relation in pd.unique(edges["relation"].to_numpy()[first]):
        bridged = (matrix(first & (edges["relation"] == relation).to_numpy()) @ reach).tocoo()
        loop = bridged.row == bridged.col
        parts.append(
            make_edges(
                index[bridged.row[~loop]], relation, index[bridged.col[~loop]], "seed_closure"
            )
        )
    if not parts:
        return make_edges([], "", [], "seed_closure")
    bridges = pd.concat(parts, ignore_index=True)
    direct = pd.MultiIndex.from_frame(edges[["source", "relation", "target"]])
    return bridges[
        ~pd.MultiIndex.from_frame(bridges[["source", "relation", "target"]]).isin(direct)
    ]


def seed_closure(
    kg: KnowledgeGraph,
    seeds: Iterable[str],
    *,
    relations: Iterable[str] | None = None,
    min_seeds: int = 1,
    max_fraction: float = 1.0,
    min_ic: float = 0.0,
) -> KnowledgeGraph:
    """The seeds and the nodes reachable from them, keeping nodes that summarise several seeds.

    Following edges forward from the seeds (gene → annotated term → superterms) gives the
    closure of :meth:`kg.KnowledgeGraph.prune`. A non-seed node is then kept only when at least
    ``min_seeds`` seeds reach it (a term above a single linked gene repeats that gene's value),
    at most ``max_fraction`` of the seeds do (a root averages the whole cohort), and, for a
    term, its information content in the whole graph (:func:`kg.information_content`: how few
    of all annotated genes it holds) is at least ``min_ic`` (near-roots say little whatever the
    cohort). Since ``min_seeds`` counts only grow towards the roots, the kept terms are closed
    upwards up to the ``max_fraction`` and ``min_ic`` cuts. A kept node whose path to a kept
    node runs through dropped nodes gets a direct edge to it, labelled with the path's first
    relation (see :func:`_bridges`), so the kept terms still receive their genes' values.

    Parameters
    ----------
    kg : KnowledgeGraph
        The full graph.
    seeds : iterable of str
        Linked node ids (unknown ids raise :class:`kg.UnknownNodeError`).
    relations : iterable of str, optional
        Relations followed (default: all).
    min_seeds : int
        Minimum number of seeds below a kept non-seed node (default: ``1``, the plain closure).
    max_fraction : float
        Maximum fraction of the seeds below a kept non-seed node (default: ``1.0``).
    min_ic : float
        Minimum information content of a kept term (natural log; ``3.0`` drops terms holding
        more than ``e⁻³ ≈ 5 %`` of the genes annotated to their ontology); nodes without one
        (genes, miRNAs) are not filtered by it (default: ``0.0``, no cut).

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> nodes = make_nodes(["g1", "g2", "T1", "T2"], ["gene", "gene", "go_term", "go_term"], "x")
    >>> edges = make_edges(["g1", "g2", "g1"], "involved_in", ["T1", "T1", "T2"], "x")
    >>> sorted(seed_closure(KnowledgeGraph(nodes, edges), ["g1", "g2"], min_seeds=2).nodes.index)
    ['T1', 'g1', 'g2']

    A term reached through a dropped one keeps its genes through a bridge edge:

    >>> nodes = make_nodes(["g1", "g2", "T1", "T2"], ["gene", "gene", "go_term", "go_term"], "x")
    >>> edges = make_edges(["g1", "g2", "T1"], ["involved_in", "involved_in", "is_a"], ["T1", "T2", "T2"], "x")
    >>> pruned = seed_closure(KnowledgeGraph(nodes, edges), ["g1", "g2"], min_seeds=2)
    >>> sorted(map(tuple, pruned.edges[["source", "relation", "target"]].to_numpy()))
    [('g1', 'involved_in', 'T2'), ('g2', 'involved_in', 'T2')]

    ``T2`` holds both annotated genes (information content 0), ``T1`` one of two (``log 2``):

    >>> sorted(seed_closure(KnowledgeGraph(nodes, edges), ["g1", "g2"], min_ic=0.5).nodes.index)
    ['T1', 'g1', 'g2']
    """
    seeds = list(dict.fromkeys(kg.check_nodes(seeds)))
    closure = kg.prune(seeds, relations)
    if min_seeds <= 1 and max_fraction >= 1.0 and min_ic <= 0.0:
        return closure
    index = closure.nodes.index
    edges = closure.edges
    if relations is not None:
        edges = edges[edges["relation"].isin(list(relations))]
    n = len(index)
    adjacency = adjacency_matrix(
        index.get_indexer(edges["source"]), index.get_indexer(edges["target"]), n
    )
    positions = index.get_indexer(seeds)
    counts = _reach_counts(adjacency, positions)
    keep = (counts >= min_seeds) & (counts <= max_fraction * len(seeds))
    if min_ic > 0.0:
        ic = information_content(kg, relations=relations).reindex(index).to_numpy()
        keep &= ~(ic < min_ic)  # nodes without an IC (NaN: genes, miRNAs) pass
    keep[positions] = True
    logger.info(
        "seed_closure: %d of %d closure nodes kept (%d seeds)", int(keep.sum()), n, len(seeds)
    )
    kept = closure.subgraph(index[keep])
    edges = pd.concat([kept.edges, _bridges(edges, index, keep)], ignore_index=True)
    return KnowledgeGraph(kept.nodes, edges, closure.metadata, validate=False)
