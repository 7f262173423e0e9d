"""Explanations of predictions as scored knowledge-graph nodes, and the queries asked of them.

An :class:`Explanation` maps importance scores (from :mod:`gnn.attribution`, or any other source)
onto knowledge-graph ids, for one patient or aggregated over a class or cohort
(:meth:`Explanation.aggregate`). It answers questions with :mod:`kg.query`:

* :meth:`~Explanation.top`: the highest-scored nodes, by type and namespace;
* :meth:`~Explanation.subgraph`: the top-k nodes plus the shortest KG paths that join each of them
  to the patient's input feature nodes, as a :class:`networkx.MultiDiGraph` subgraph of
  :attr:`kg.KnowledgeGraph.graph` with ``score``/``type``/``name`` node and ``relation`` edge
  attributes;
* :meth:`~Explanation.paths`, :meth:`~Explanation.neighborhood` and :meth:`~Explanation.compare`.

Scores are importances: larger means more important; nodes without a score count as ``0``.
RDF export lives in :mod:`fusion.explanations.rdf`, pictures in :mod:`fusion.explanations.plot`,
attribution of a fitted model in :mod:`fusion.explanations.attribution`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion._params import check_positive
from fusion.data._checks import preview
from fusion.explanations.decompose import decompose_scores
from kg import KnowledgeGraph, all_simple_paths, neighborhood, shortest_paths

__all__ = ["COMPARE_COLUMNS", "TOP_COLUMNS", "Explanation"]

logger = logging.getLogger(__name__)

#: Columns of :meth:`Explanation.top`.
TOP_COLUMNS: tuple[str, ...] = ("id", "name", "type", "namespace", "score", "rank")
#: Columns of :meth:`Explanation.compare`.
COMPARE_COLUMNS: tuple[str, ...] = (
    "id", "name", "type", "score", "score_other", "difference", "status",
)  # fmt: skip


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True, eq=False)
class Explanation:
    """Importance scores of knowledge-graph nodes for one prediction (or a class aggregate).

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph the scores refer to.
    scores : pandas.Series
        Importance per node, indexed by KG id (larger is more important, finite).
    inputs : sequence of str
        KG ids carrying the patient's observed, linked input features (the seeds of paths).
    patient : str
        The patient id, or the class/cohort label of an aggregate.
    prediction : str, optional
        The predicted class (for an aggregate: the class label).
    probability : float, optional
        The predicted probability of the explained class.
    method : str
        Attribution method, e.g. ``"contribution"`` or ``"ig"`` (default: ``"unknown"``).
    model : mapping, optional
        Model provenance (name, version, fingerprint, training data, ...), exported to RDF.
    edge_scores : pandas.Series, optional
        Importance per edge, indexed by ``(source, relation, target)``.
    n_patients : int
        Patients averaged into this explanation (``1`` for a patient) (default: ``1``).

    Raises
    ------
    kg.UnknownNodeError
        If a scored or input id is not a node of ``kg``.
    InvalidParameterError
        If a score is not finite.

    Examples
    --------
    >>> from kg import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(make_nodes(["GO:1", "GO:2"], "go_term", "x", name=["root", "leaf"]),
    ...                     make_edges(["GO:2"], "is_a", ["GO:1"], "x"))
    >>> e = Explanation(kg, pd.Series({"GO:1": 0.2, "GO:2": 0.7}), inputs=["GO:2"], patient="p1")
    >>> e.top(1)[["id", "name", "rank"]].values.tolist()
    [['GO:2', 'leaf', 1]]
    """

    kg: KnowledgeGraph = field(repr=False)
    scores: pd.Series = field(repr=False)
    inputs: Sequence[str] = field(repr=False)
    patient: str
    prediction: str | None = None
    probability: float | None = None
    method: str = "unknown"
    model: Mapping[str, Any] = field(default_factory=dict, repr=False)
    edge_scores: pd.Series | None = field(default=None, repr=False)
    n_patients: int = 1

    def __post_init__(self) -> None:
        scores = pd.Series(self.scores, dtype=float, name="score")
        scores.index = pd.Index(self.kg.check_nodes(scores.index), dtype=object, name="id")
        if not np.isfinite(scores.to_numpy()).all():
            bad = scores.index[~np.isfinite(scores.to_numpy())]
            msg = f"explanation of {self.patient!r}: non-finite scores for {preview(bad)}."
            raise InvalidParameterError(msg)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "inputs", tuple(self.kg.check_nodes(self.inputs)))
        object.__setattr__(self, "model", dict(self.model))

    # ------------------------------------------------------------------------------ ranking
    def _candidates(
        self, type: str | Iterable[str] | None, namespace: str | Iterable[str] | None
    ) -> pd.Series:
        """Scores of the nodes of the given types/namespaces (validated), all if ``None``."""
        nodes = self.kg.nodes.loc[self.scores.index]
        keep = np.ones(len(nodes), dtype=bool)
        types = _as_list(type)
        if types is not None:
            keep &= nodes["type"].isin(self.kg.check_types(types)).to_numpy()
        namespaces = _as_list(namespace)
        if namespaces is not None:
            known = set(self.kg.nodes["namespace"].dropna())
            unknown = sorted(set(namespaces) - known)
            if unknown:
                msg = (
                    f"unknown namespace(s) {unknown}; this graph has {sorted(known)}. "
                    "Namespaces are those of the ontology (e.g. 'biological_process')."
                )
                raise InvalidParameterError(msg)
            keep &= nodes["namespace"].isin(namespaces).to_numpy()
        return self.scores[keep]

    def ranking(
        self, type: str | Iterable[str] | None = None, namespace: str | Iterable[str] | None = None
    ) -> pd.Series:
        """All scores of the selected nodes, best first (ties broken by id)."""
        scores = self._candidates(type, namespace)
        order = np.lexsort((scores.index.to_numpy(dtype=str), -scores.to_numpy()))
        return scores.iloc[order]

    def top(
        self,
        k: int = 20,
        type: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """The ``k`` highest-scored nodes.

        Parameters
        ----------
        k : int
            How many nodes (default: ``20``).
        type : str or iterable of str, optional
            Keep only nodes of these types (``"gene"``, ``"go_term"``, ``"pathway"``, ...).
        namespace : str or iterable of str, optional
            Keep only nodes of these namespaces (e.g. ``"biological_process"``).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`TOP_COLUMNS`, ``rank`` from 1, best first; ties broken by id.

        Raises
        ------
        InvalidParameterError
            If ``k`` is not a positive int, or a namespace is unknown.
        kg.UnknownNodeTypeError
            If a type has no node in the graph.
        """
        k = check_positive("k", k, "Explanation.top")
        best = self.ranking(type, namespace).iloc[:k]
        table = self.kg.nodes.loc[best.index, ["name", "type", "namespace"]]
        table = table.assign(score=best.to_numpy(), rank=np.arange(1, len(best) + 1))
        return table.rename_axis("id").reset_index()[list(TOP_COLUMNS)]

    # ------------------------------------------------------------------------------ graphs
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
        inputs = list(self.inputs)
        input_score = self.scores.reindex(inputs, fill_value=0.0)
        targets = [t for t in top if t not in input_score.index]
        keep, unreached = set(top) - set(targets), []
        best: dict[str, list[str]] = {}
        if targets and inputs:
            for path in shortest_paths(self.kg, targets, inputs, cutoff=max_len):
                rank = (len(path), -input_score[path[-1]])
                current = best.get(path[0])
                if current is None or rank < (len(current), -input_score[current[-1]]):
                    best[path[0]] = path
        for target in targets:
            if target in best:
                keep.update(best[target])
            else:
                unreached.append(target)
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

    # ------------------------------------------------------------------------------ compare
    def compare(
        self,
        other: Explanation,
        k: int = 20,
        type: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """How the top-``k`` nodes of ``other`` differ from this explanation's.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`COMPARE_COLUMNS` over the union of both top-``k`` sets: ``status`` is
            ``"gained"`` (top in ``other`` only), ``"lost"`` (top here only) or ``"kept"``;
            ``difference = score_other - score``; rows sorted by ``|difference|`` descending.

        Raises
        ------
        InvalidParameterError
            If the explanations refer to different knowledge graphs, or as :meth:`top`.
        """
        if other.kg is not self.kg:
            msg = f"cannot compare {self.patient!r} and {other.patient!r}: different knowledge graphs."
            raise InvalidParameterError(msg)
        mine = self.top(k, type, namespace)["id"]
        theirs = other.top(k, type, namespace)["id"]
        ids = pd.Index(mine).union(pd.Index(theirs), sort=False)
        table = self.kg.nodes.loc[ids, ["name", "type"]].rename_axis("id").reset_index()
        table["score"] = self.scores.reindex(ids, fill_value=0.0).to_numpy()
        table["score_other"] = other.scores.reindex(ids, fill_value=0.0).to_numpy()
        table["difference"] = table["score_other"] - table["score"]
        in_mine, in_theirs = ids.isin(mine), ids.isin(theirs)
        table["status"] = np.where(in_mine & in_theirs, "kept", np.where(in_mine, "lost", "gained"))
        order = np.lexsort((table["id"].to_numpy(dtype=str), -table["difference"].abs().to_numpy()))
        return table.iloc[order].reset_index(drop=True)[list(COMPARE_COLUMNS)]

    # ------------------------------------------------------------------------------ decompose
    def decompose(
        self,
        type: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
        *,
        relations: Iterable[str] | None = None,
        min_inputs: int = 2,
        threshold: float = 3.0,
    ) -> Explanation:
        """Score terms by the evidence of their own inputs (see :mod:`fusion.explanations.decompose`).

        The scores of :attr:`inputs` (e.g. per-gene attributions, ``method="ig_features"``)
        are decomposed onto the terms above them so that nested and overlapping terms compete
        for the same inputs (topGO's *elim*, then greedy claiming, backfitted): a pathway scores
        high when its own genes are important, not because it contains an important
        sub-pathway or shares genes with one.

        Parameters
        ----------
        type, namespace : str or iterable of str, optional
            The candidate terms: the non-input nodes of :attr:`scores` (for :func:`explain`,
            the model's graph) of these types / namespaces, as in :meth:`top` (default: all).
        relations : iterable of str, optional
            Edges followed from an input up to its terms (default: all).
        min_inputs : int
            Candidate terms reached by fewer inputs score 0 (default: ``2``).
        threshold : float
            z-score above which a term takes its inputs from its superterms and from
            overlapping terms (default: ``3.0``).

        Returns
        -------
        Explanation
            Scores are the terms' z-scores over the inputs they keep (``>= 0``; inputs are no
            longer scored); ``method`` gets the suffix ``"+decompose"``.

        Raises
        ------
        InvalidParameterError
            If ``min_inputs`` is not a positive int, ``threshold`` is not finite, fewer than two
            inputs are scored or their scores are all equal, or no candidate term is reached by
            ``min_inputs`` inputs.
        kg.UnknownNodeTypeError
            If a type has no node in the graph.

        Examples
        --------
        >>> from kg import KnowledgeGraph, make_edges, make_nodes
        >>> kg = KnowledgeGraph(
        ...     pd.concat([make_nodes(list("abcd"), "gene", "x"), make_nodes(["P", "Q"], "pathway", "x")]),
        ...     make_edges(["a", "b", "c", "P"], "member_of", ["P", "P", "Q", "Q"], "x"))
        >>> scores = pd.Series({"a": 2.0, "b": 3.0, "c": 0.0, "d": 0.1, "P": 0.0, "Q": 0.0})
        >>> e = Explanation(kg, scores, inputs=list("abcd"), patient="p1")
        >>> e.decompose("pathway").ranking().index.tolist()  # Q holds P's genes plus an unimportant one
        ['P', 'Q']
        """
        min_inputs = check_positive("min_inputs", min_inputs, "Explanation.decompose")
        inputs = list(self.inputs)
        terms = self._candidates(type, namespace).index.difference(inputs)
        scores = decompose_scores(
            self.kg,
            self.scores.reindex(inputs, fill_value=0.0),
            list(terms),
            relations=relations,
            min_inputs=min_inputs,
            threshold=threshold,
        )
        return replace(self, scores=scores, method=f"{self.method}+decompose", edge_scores=None)

    # ------------------------------------------------------------------------------ aggregate
    @classmethod
    def aggregate(
        cls, explanations: Sequence[Explanation], by: Sequence[str] | pd.Series | None = None
    ) -> dict[str, Explanation]:
        """Mean scores per group of explanations (a class, a cohort).

        Parameters
        ----------
        explanations : sequence of Explanation
            Over one knowledge graph; a node missing from one explanation scores ``0`` there.
        by : sequence of str or pandas.Series, optional
            The group of each explanation, in order; or a Series mapping patient id → group.
            ``None`` puts all in one group named ``"cohort"``.

        Returns
        -------
        dict of str to Explanation
            One per group (sorted), with ``patient`` and ``prediction`` set to the group,
            ``inputs`` the union of the members' inputs and ``n_patients`` the group size.

        Raises
        ------
        InvalidParameterError
            If there are no explanations, graphs or methods differ, or ``by`` does not match.
        """
        if not explanations:
            msg = "Explanation.aggregate needs at least one explanation; got none."
            raise InvalidParameterError(msg)
        first = explanations[0]
        if any(e.kg is not first.kg or e.method != first.method for e in explanations):
            msg = "Explanation.aggregate: explanations must share one knowledge graph and method."
            raise InvalidParameterError(msg)
        groups = _groups([e.patient for e in explanations], by)
        table = pd.concat([e.scores for e in explanations], axis=1, sort=False)
        result = {}
        for group in sorted(set(groups)):
            members = [i for i, g in enumerate(groups) if g == group]
            inputs = dict.fromkeys(n for i in members for n in explanations[i].inputs)
            scores = table.iloc[:, members].dropna(how="all")
            result[group] = replace(
                first,
                scores=scores.fillna(0.0).mean(axis=1),
                inputs=list(inputs),
                patient=group,
                prediction=group,
                probability=None,
                edge_scores=None,
                n_patients=len(members),
            )
        return result


def _groups(patients: list[str], by: Sequence[str] | pd.Series | None) -> list[str]:
    if by is None:
        return ["cohort"] * len(patients)
    if isinstance(by, pd.Series):
        missing = [p for p in patients if p not in by.index]
        if missing:
            msg = f"Explanation.aggregate: `by` has no group for patients {preview(missing)}."
            raise InvalidParameterError(msg)
        return [str(by[p]) for p in patients]
    by = list(by)
    if len(by) != len(patients):
        msg = f"Explanation.aggregate: `by` has {len(by)} groups for {len(patients)} explanations."
        raise InvalidParameterError(msg)
    return [str(g) for g in by]
