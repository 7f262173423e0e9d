"""Graph queries of an :class:`~fusion.explanations.Explanation`: subgraph, paths, neighbourhood.

Mixed into :class:`~fusion.explanations.Explanation`; the answers are annotated subgraphs of
:attr:`kg.KnowledgeGraph.graph` (:func:`kg.shortest_paths`, :func:`kg.all_simple_paths`,
:func:`kg.neighborhood`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import networkx as nx

from fusion._params import check_positive
from fusion.data._checks import preview
from fusion.explanations._fields import ExplanationFields
from kg import all_simple_paths, neighborhood, shortest_paths

__all__ = ["GraphQueries"]

logger = logging.getLogger(__name__)


class GraphQueries(ExplanationFields):
    """:meth:`annotate`, :meth:`subgraph`, :meth:`input_paths`, :meth:`paths`,
    :meth:`neighborhood` and :meth:`hops_from_inputs`."""

    def annotate(self, nodes: Iterable[str]) -> nx.MultiDiGraph:
        """The KG subgraph induced by ``nodes`` with ``score``/``type``/``name``/``relation``.

        A copy of a :meth:`networkx.MultiDiGraph.subgraph` view of :attr:`kg.graph` (so the
        cached KG graph is never written to); graph attributes ``patient`` and ``method``.
        """
        view = self.kg.graph.subgraph(self.kg.check_nodes(nodes))
        graph = nx.MultiDiGraph(patient=self.patient, method=self.method)
        graph.add_nodes_from(view.nodes(data=True))  # copies the attribute dicts
        graph.add_edges_from(view.edges(keys=True, data=True))
        scores = self.scores.reindex(list(graph.nodes), fill_value=0.0)
        inputs = set(self.inputs)
        for node, data in graph.nodes(data=True):
            data["score"] = float(scores[node])
            data["input"] = node in inputs
            data.setdefault("name", node)
        edge_scores = self.edge_scores
        for u, v, key, data in graph.edges(keys=True, data=True):
            data["relation"] = key
            if edge_scores is not None:
                data["score"] = float(edge_scores.get((u, key, v), 0.0))
        return graph

    def subgraph(
        self,
        k: int = 20,
        types: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
        *,
        max_len: int = 3,
    ) -> nx.MultiDiGraph:
        """The explanation subgraph: the top-``k`` nodes and the KG paths from the inputs to them.

        For every top node that is not itself an input, a shortest KG path (edges followed in
        either direction, at most ``max_len`` hops, :func:`kg.shortest_paths`) from the input
        node nearest to it (ties: the highest-scored input) is added. Top nodes farther than
        ``max_len`` hops from every input are left out and listed in ``graph.graph["unreached"]``.

        Parameters
        ----------
        k : int
            Number of top nodes (default: ``20``).
        types, namespace : str or iterable of str, optional
            Select the top nodes as in :meth:`top`; path nodes may be of any type.
        max_len : int
            Longest path in hops (default: ``3``).

        Returns
        -------
        networkx.MultiDiGraph
            Nodes are KG ids with ``score``, ``type``, ``name``, ``input`` (bool) and ``top``
            (bool) attributes; edges are every KG edge among them, keyed by relation, with a
            ``relation`` attribute (and ``score`` when :attr:`edge_scores` is set).
        """
        max_len = check_positive("max_len", max_len, "Explanation.subgraph")
        top = self.top(k, types, namespace)["id"].tolist()
        best = self.input_paths(top, max_len)
        keep, unreached = set(), []
        for node in top:
            if node in best:
                keep.update(best[node])
            else:
                unreached.append(node)
        if unreached:
            logger.info(
                "%s: %d top node(s) more than %d hops from every input left out: %s",
                self.patient, len(unreached), max_len, preview(unreached),
            )  # fmt: skip
        graph = self.annotate(keep)
        for node, data in graph.nodes(data=True):
            data["top"] = node in top
        graph.graph["unreached"] = unreached
        return graph

    def input_paths(self, nodes: Iterable[str], max_len: int = 3) -> dict[str, list[str]]:
        """The path :meth:`subgraph` joins each of ``nodes`` to the inputs with.

        An input node is its own path (``[node]``); any other node gets a shortest KG path
        (edges followed in either direction, at most ``max_len`` hops) to the input nearest to
        it (ties: the highest-scored input), listed from the node to the input. Nodes farther
        than ``max_len`` hops from every input are left out.
        """
        nodes = list(nodes)
        inputs = list(self.inputs)
        input_score = self.scores.reindex(inputs, fill_value=0.0)
        best = {node: [node] for node in nodes if node in input_score.index}
        targets = [node for node in nodes if node not in best]
        if targets and inputs:
            for path in shortest_paths(self.kg, targets, inputs, cutoff=max_len):
                rank = (len(path), -input_score[path[-1]])
                current = best.get(path[0])
                if current is None or rank < (len(current), -input_score[current[-1]]):
                    best[path[0]] = path
        return best

    def paths(
        self, feature: str, term: str, max_len: int = 3, *, max_paths: int = 100
    ) -> list[list[str]]:
        """Simple KG paths (either edge direction) from ``feature`` to ``term``, shortest first.

        Raises
        ------
        kg.UnknownNodeError
            If either id is not a node.
        InvalidParameterError
            If ``max_len`` is not a positive int.
        """
        max_len = check_positive("max_len", max_len, "Explanation.paths")
        return all_simple_paths(self.kg, feature, term, cutoff=max_len, max_paths=max_paths)

    def neighborhood(self, term: str, k: int = 1) -> nx.MultiDiGraph:
        """The scored nodes within ``k`` hops of ``term`` (and ``term``), annotated as in
        :meth:`subgraph`; nodes whose score is ``0`` are not part of the explanation.

        Raises
        ------
        kg.UnknownNodeError
            If ``term`` is not a node.
        InvalidParameterError
            If ``k`` is not a positive int.
        """
        k = check_positive("k", k, "Explanation.neighborhood")
        around = neighborhood(self.kg, term, k).nodes.index
        scored = self.scores.reindex(around, fill_value=0.0)
        return self.annotate([term, *scored.index[(scored != 0) & (scored.index != term)]])

    def hops_from_inputs(self, nodes: Iterable[str], limit: int = 10) -> int | None:
        """Hops (edges followed either way) from the nearest of ``nodes`` to an input.

        ``None`` when there is no input, no node, or none within ``limit`` hops. Tells which
        ``max_len`` a :meth:`subgraph` needs to reach a node it left out as unreached.

        Raises
        ------
        kg.UnknownNodeError
            If a node is not in the graph.
        """
        nodes = self.kg.check_nodes(list(nodes))
        if not nodes or not self.inputs:
            return None
        undirected = self.kg.graph.to_undirected(as_view=True)
        depth = nx.multi_source_dijkstra_path_length(undirected, list(self.inputs), cutoff=limit)
        found = [depth[n] for n in nodes if n in depth]
        return int(min(found)) if found else None
