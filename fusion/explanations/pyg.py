"""Explanations as PyG :class:`~torch_geometric.explain.HeteroExplanation` objects.

:func:`to_hetero_explanation` puts an :class:`~fusion.Explanation` on the ``HeteroData`` of its
knowledge graph (:func:`kg.to_hetero_data`: one node store per node type, one edge store per
``(src type, relation, dst type)``), so that PyG's tools (``visualize_graph``,
``get_explanation_subgraph``, explainer metrics) apply:

* ``node_mask`` (``[num_nodes, 1]`` per node type, PyG's object-level mask): the node's
  ``|score|`` divided by the largest ``|score|`` of the explanation (in ``[0, 1]``; with
  ``normalize=False`` the raw ``|score|``). The signed score is kept beside it as ``score``
  (``[num_nodes]``). The nodes that :meth:`Explanation.subgraph` adds to join the top nodes to
  the inputs score ``0`` of their own; they get the smallest positive float32 instead, so that
  ``get_explanation_subgraph()`` (which keeps the nodes of positive mask) keeps them.
* ``edge_mask`` (``[num_edges]`` per edge type): ``1`` for the edges of
  :meth:`Explanation.subgraph` (and for their reverse copies, ``rev_<relation>``, when the
  ``HeteroData`` has reverse edge types), ``0`` elsewhere.
* ``n_id`` per node type: the node's index in the ``HeteroData``, which survives
  ``subgraph``/``get_explanation_subgraph``; ``node_index`` (a :class:`kg.NodeIndex`) maps
  indices back to KG ids; ``patient``, ``method`` and ``prediction`` are graph attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fusion.explanations.explanation import Explanation
from kg import REVERSE_PREFIX, KnowledgeGraph, NodeIndex, UnknownNodeError, to_hetero_data

if TYPE_CHECKING:
    from collections.abc import Iterable

    from torch_geometric.data import HeteroData
    from torch_geometric.explain import HeteroExplanation

__all__ = ["to_hetero_explanation"]


def _index_of(data: HeteroData) -> NodeIndex:
    index = getattr(data, "node_index", None)
    if not isinstance(index, NodeIndex):
        msg = (
            "the HeteroData has no node_index (a kg.NodeIndex) to map KG ids to indices; "
            "build it with kg.to_hetero_data(kg)"
        )
        raise UnknownNodeError(msg)
    return index


def _node_scores(explanation: Explanation, index: NodeIndex) -> dict[str, np.ndarray]:
    """The explanation's scores per node type, in index order (``0`` for unscored nodes)."""
    indexed = pd.Index(np.concatenate([index.ids[t].to_numpy() for t in index.node_types]))
    scores = explanation.scores
    missing = scores.index[~scores.index.isin(indexed) & (scores.to_numpy() != 0)]
    if len(missing):
        msg = (
            f"{len(missing)} scored node(s) of {explanation.patient!r} are not in the "
            f"HeteroData, e.g. {missing[:5].tolist()}; build it from the explanation's KG"
        )
        raise UnknownNodeError(msg)
    return {
        t: scores.reindex(index.ids[t], fill_value=0.0).to_numpy(dtype=np.float64)
        for t in index.node_types
    }


def _edge_masks(
    data: HeteroData, index: NodeIndex, kg: KnowledgeGraph, edges: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], np.ndarray]:
    """``1`` at the subgraph's edges (and their reverse copies), per edge type of ``data``."""
    edges = list(edges)
    wanted: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    if edges:
        types = kg.nodes.loc[list({n for u, v, _ in edges for n in (u, v)}), "type"]
        for u, v, relation in edges:
            for key, (a, b) in (
                ((types[u], relation, types[v]), (u, v)),
                ((types[v], REVERSE_PREFIX + relation, types[u]), (v, u)),
            ):
                sources, targets = wanted.setdefault(key, ([], []))
                sources.append(a)
                targets.append(b)
    masks = {}
    for edge_type in data.edge_types:
        edge_index = data[edge_type].edge_index.numpy()
        mask = np.zeros(edge_index.shape[1], dtype=np.float32)
        if edge_type in wanted:
            src, _, dst = edge_type
            n_dst = len(index.ids[dst])
            sources, targets = wanted[edge_type]
            keys = index.to_index(src, sources) * n_dst + index.to_index(dst, targets)
            mask[np.isin(edge_index[0] * n_dst + edge_index[1], keys)] = 1.0
        masks[edge_type] = mask
    forward = {(types[u], r, types[v]) for u, v, r in edges} if edges else set()
    unknown = sorted(forward - set(masks))
    if unknown:
        msg = f"subgraph edges of type(s) {unknown} are not in the HeteroData's edge types"
        raise UnknownNodeError(msg)
    return masks


def to_hetero_explanation(
    explanation: Explanation,
    data: KnowledgeGraph | HeteroData | None = None,
    *,
    k: int = 20,
    type: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
    max_len: int = 3,
    normalize: bool = True,
) -> HeteroExplanation:
    """``explanation`` as a PyG ``HeteroExplanation`` (masks: see the module docstring).

    Parameters
    ----------
    explanation : Explanation
        What to convert.
    data : KnowledgeGraph or HeteroData, optional
        The graph to put the masks on: a KG (converted with :func:`kg.to_hetero_data`) or a
        ``HeteroData`` from :func:`kg.to_hetero_data` (reuse one for many explanations)
        (default: ``to_hetero_data(explanation.kg)``).
    k, type, namespace, max_len
        Arguments of :meth:`Explanation.subgraph`, whose edges get ``edge_mask`` ``1``
        (default: ``20``, all types and namespaces, ``3``).
    normalize : bool
        Divide ``|score|`` by the largest ``|score|`` (default: ``True``).

    Returns
    -------
    torch_geometric.explain.HeteroExplanation
        Node stores with ``num_nodes``, ``n_id``, ``node_mask``, ``score``; edge stores with
        ``edge_index``, ``edge_mask``; it passes ``validate()``.

    Raises
    ------
    kg.UnknownNodeError
        If a scored node or a subgraph edge is not in ``data``.

    Examples
    --------
    >>> from kg import make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "x"),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "x"))
    >>> e = Explanation(kg, pd.Series({"GO:1": 0.5, "GO:2": -1.0}), inputs=["GO:2"], patient="p")
    >>> h = to_hetero_explanation(e, k=1)
    >>> h["go_term"].node_mask.flatten().tolist(), h["go_term", "is_a", "go_term"].edge_mask.tolist()
    ([0.5, 1.0], [1.0])
    >>> h.validate()
    True
    """
    import torch
    from torch_geometric.explain import HeteroExplanation

    if data is None or isinstance(data, KnowledgeGraph):
        data = to_hetero_data(explanation.kg if data is None else data)
    index = _index_of(data)
    scores = _node_scores(explanation, index)
    largest = max((np.abs(s).max(initial=0.0) for s in scores.values()), default=0.0)
    scale = largest if normalize and largest > 0 else 1.0
    sub = explanation.subgraph(k, type, namespace, max_len=max_len)
    connectors = pd.Index(list(sub.nodes), dtype=object)
    node_types = explanation.kg.nodes.loc[connectors, "type"] if len(connectors) else pd.Series()
    out = HeteroExplanation()
    tiny = float(torch.finfo(torch.float32).tiny)
    for node_type in index.node_types:
        mask = np.abs(scores[node_type]) / scale
        in_sub = connectors[node_types.to_numpy() == node_type]
        at = index.to_index(node_type, in_sub)
        mask[at] = np.maximum(mask[at], tiny)
        store = out[node_type]
        store.num_nodes = len(mask)
        store.n_id = torch.arange(len(mask))
        store.node_mask = torch.from_numpy(mask.astype(np.float32)).unsqueeze(-1)
        store.score = torch.from_numpy(scores[node_type].astype(np.float32))
    masks = _edge_masks(data, index, explanation.kg, sub.edges(keys=True))
    for edge_type, mask in masks.items():
        out[edge_type].edge_index = data[edge_type].edge_index
        out[edge_type].edge_mask = torch.from_numpy(mask)
    attributes: dict[str, Any] = {
        "patient": explanation.patient,
        "method": explanation.method,
        "prediction": explanation.prediction,
        "node_index": index,
    }
    for name, value in attributes.items():
        if value is not None:
            out[name] = value
    return out
