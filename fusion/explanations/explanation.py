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
The graph queries live in :mod:`fusion.explanations._queries`, comparison and aggregation in
:mod:`fusion.explanations._groups` (both mixed into :class:`Explanation`), the decomposition in
:mod:`fusion.explanations.decompose`. RDF export lives in :mod:`fusion.explanations.rdf`,
pictures in :mod:`fusion.explanations.plot`, attribution of a fitted model in
:mod:`fusion.explanations.attribution`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion._params import check_positive
from fusion.data._checks import preview
from fusion.explanations._groups import COMPARE_COLUMNS, GroupQueries
from fusion.explanations._queries import GraphQueries
from fusion.explanations._specific import (
    BROAD_MIN_INPUTS,
    MAX_SHARE,
    check_share,
    input_coverage,
    specificity,
)
from fusion.explanations.decompose import decompose_groups, decompose_scores
from kg import KnowledgeGraph

__all__ = ["BROAD_MIN_INPUTS", "COMPARE_COLUMNS", "MAX_SHARE", "TOP_COLUMNS", "Explanation"]

logger = logging.getLogger(__name__)

#: Columns of :meth:`Explanation.top`.
TOP_COLUMNS: tuple[str, ...] = ("id", "name", "type", "namespace", "score", "rank")


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True, eq=False)
class Explanation(GraphQueries, GroupQueries):
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
        The predicted class (for an aggregate: the class label); for a survival model
        ``"high risk"`` or ``"low risk"`` (its risk above, or not, the training median).
    probability : float, optional
        The predicted probability of the explained class (``None`` for a survival model).
    method : str
        Attribution method, e.g. ``"contribution"`` or ``"ig"`` (default: ``"unknown"``).
    model : mapping, optional
        Model provenance (name, version, fingerprint, training data, ...), exported to RDF.
    edge_scores : pandas.Series, optional
        Importance per edge, indexed by ``(source, relation, target)``.
    n_patients : int
        Patients averaged into this explanation (``1`` for a patient) (default: ``1``).
    risk : float, optional
        A survival model's predicted risk (log-hazard ratio) of the patient, the explained
        output (``None`` for a classifier or an aggregate).
    max_share : float or None
        The default of :meth:`top` and :meth:`ranking` (and so of :meth:`subgraph`, the RDF
        export and the pictures): terms reached by more than this share of :attr:`inputs`
        are left out (default: :data:`MAX_SHARE`, ``0.1``; ``None``: keep every node). Set
        it for everything drawn from one explanation with
        ``dataclasses.replace(e, max_share=None)``.

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
    risk: float | None = None
    max_share: float | None = MAX_SHARE

    def __post_init__(self) -> None:
        check_share(self.max_share, "Explanation")
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
    @cached_property
    def coverage(self) -> pd.Series:
        """The share of :attr:`inputs` that reaches each scored node (:func:`kg.coverage`).

        A term's share of the patient's inputs annotated to it or below it (``0`` when none
        reaches it); an input counts itself. A term most inputs reach summarises the patient,
        it does not single anything out: :meth:`top` and :meth:`ranking` leave out terms above
        ``max_share``. Computed once per explanation (and input set).
        """
        shares = input_coverage(self.kg, tuple(self.inputs))
        return shares.reindex(self.scores.index, fill_value=0.0)

    def _share(self, max_share: float | None | str, owner: str) -> float | None:
        """``max_share`` checked, or the explanation's own for ``"default"``."""
        return self.max_share if max_share == "default" else check_share(max_share, owner)

    def _candidates(
        self,
        type: str | Iterable[str] | None,
        namespace: str | Iterable[str] | None,
        max_share: float | None = None,
    ) -> pd.Series:
        """Scores of the nodes of the given types/namespaces (validated), all if ``None``;
        without the non-input nodes whose :attr:`coverage` exceeds ``max_share``."""
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
        if max_share is not None and max_share < 1.0:
            share = self.coverage.to_numpy()
            broad = (share > max_share) & (share * len(self.inputs) > BROAD_MIN_INPUTS)
            keep &= ~(broad & ~self.scores.index.isin(list(self.inputs)))
        return self.scores[keep]

    def ranking(
        self,
        type: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
        *,
        max_share: float | None | Literal["default"] = "default",
    ) -> pd.Series:
        """All scores of the selected nodes, best first (ties broken by id).

        Terms reached by more than ``max_share`` of the inputs are left out, as in :meth:`top`
        (``"default"``: the explanation's :attr:`max_share`; ``None``: every node).
        """
        max_share = self._share(max_share, "Explanation.ranking")
        scores = self._candidates(type, namespace, max_share)
        order = np.lexsort((scores.index.to_numpy(dtype=str), -scores.to_numpy()))
        return scores.iloc[order]

    def top(
        self,
        k: int = 20,
        type: str | Iterable[str] | None = None,
        namespace: str | Iterable[str] | None = None,
        *,
        nonzero: bool = False,
        max_share: float | None | Literal["default"] = "default",
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
        nonzero : bool
            Leave out nodes scoring ``0`` (they are not part of the explanation), so that a
            table has fewer than ``k`` rows rather than rows padded with zeros (default:
            ``False``).
        max_share : float, None or "default"
            Leave out terms (non-input nodes) that more than this share of :attr:`inputs`
            reach (:attr:`coverage`): near-roots and top-level categories summarise the
            patient instead of explaining the prediction (default: the explanation's
            :attr:`max_share`, :data:`MAX_SHARE` = ``0.1`` unless set; ``None`` or ``1.0``
            keeps every node). Inputs are never left out, nor terms reached by at most
            :data:`BROAD_MIN_INPUTS` (10) inputs.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`TOP_COLUMNS`, ``rank`` from 1, best first; ties broken by id.

        Raises
        ------
        InvalidParameterError
            If ``k`` is not a positive int, ``max_share`` not in ``(0, 1]`` or ``None``, or a
            namespace is unknown.
        kg.UnknownNodeTypeError
            If a type has no node in the graph.
        """
        k = check_positive("k", k, "Explanation.top")
        max_share = self._share(max_share, "Explanation.top")
        best = self.ranking(type, namespace, max_share=max_share)
        best = (best[best.to_numpy() != 0] if nonzero else best).iloc[:k]
        table = self.kg.nodes.loc[best.index, ["name", "type", "namespace"]]
        table = table.assign(score=best.to_numpy(), rank=np.arange(1, len(best) + 1))
        return table.rename_axis("id").reset_index()[list(TOP_COLUMNS)]

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
            specificity=specificity(self.kg, inputs),
        )
        return replace(self, scores=scores, method=f"{self.method}+decompose", edge_scores=None)

    def decompose_terms(
        self,
        *,
        relations: Iterable[str] | None = None,
        min_inputs: int = 2,
        threshold: float = 3.0,
    ) -> Explanation:
        """Every scored term re-scored by decomposition, each ontology on its own; inputs kept.

        What :func:`~fusion.explanations.explain` does by default with ``method="ig_features"``:
        the terms of each node type and namespace (GO biological process, molecular function,
        cellular component, Reactome pathways, HPO phenotypes) compete for the inputs as in
        :meth:`decompose` (:func:`~fusion.explanations.decompose.decompose_groups`), while the
        inputs keep their own scores. The scores then mix two scales: inputs keep the
        attribution's units (for ``ig_features`` a share of the predicted probability), terms
        get z-scores (``>= 0``); rank one kind at a time (``top(type="pathway")``,
        ``top(type="gene")``).

        Parameters
        ----------
        relations, min_inputs, threshold :
            As in :meth:`decompose`.

        Returns
        -------
        Explanation
            Same ``method`` (the attribution method; the term scores are its decomposition).
            With fewer than two inputs, or inputs all scoring the same (nothing to decompose:
            ``method="contribution"`` or ``"ig"``, which score concepts, or a patient without
            attribution), every term scores 0 and a warning is logged.

        Raises
        ------
        InvalidParameterError
            If ``min_inputs`` is not a positive int or ``threshold`` is not finite.

        Examples
        --------
        >>> from kg import KnowledgeGraph, make_edges, make_nodes
        >>> kg = KnowledgeGraph(
        ...     pd.concat([make_nodes(list("abcd"), "gene", "x"), make_nodes(["P", "Q"], "pathway", "x")]),
        ...     make_edges(["a", "b", "c", "P"], "member_of", ["P", "P", "Q", "Q"], "x"))
        >>> scores = pd.Series({"a": 2.0, "b": 3.0, "c": 0.0, "d": 0.1, "P": 0.0, "Q": 0.0})
        >>> e = Explanation(kg, scores, inputs=list("abcd"), patient="p1").decompose_terms()
        >>> e.ranking("pathway").round(3).to_dict()  # Σ z / √n over P's a, b and Q's a, b, c
        {'P': 1.039, 'Q': 0.184}
        >>> e.ranking("gene").to_dict()  # the inputs keep their own scores
        {'b': 3.0, 'a': 2.0, 'd': 0.1, 'c': 0.0}
        """
        min_inputs = check_positive("min_inputs", min_inputs, "Explanation.decompose_terms")
        inputs = list(self.inputs)
        input_scores = self.scores.reindex(inputs, fill_value=0.0)
        terms = self.scores.index.difference(inputs)
        scores = self.scores.copy()
        scores[terms] = 0.0
        if len(input_scores) < 2 or input_scores.nunique() < 2:
            logger.warning(
                "explanation of %r: %d input(s), %s: nothing to decompose, its terms score 0.",
                self.patient,
                len(input_scores),
                "all scoring the same" if len(input_scores) > 1 else "fewer than two",
            )
        elif len(terms):
            scores[terms] = decompose_groups(
                self.kg,
                input_scores,
                list(terms),
                relations=relations,
                min_inputs=min_inputs,
                threshold=threshold,
                specificity=specificity(self.kg, inputs),
            ).to_numpy()
        return replace(self, scores=scores, edge_scores=None)
