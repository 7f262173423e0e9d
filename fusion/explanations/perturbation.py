"""Perturbing a cohort along explanations: what faithfulness metrics remove, keep and predict.

An explanation points at a patient's input features through its subgraph: the input nodes of
:meth:`Explanation.subgraph` (``k`` top nodes plus the shortest KG path from each to the nearest
input node; a top node that is itself an input is its own input) are
:func:`explanation_inputs`. :func:`remove_inputs` marks the patient's features linked to such
nodes unobserved (missing values, as the model sees a feature it was not given) and
:func:`keep_inputs` marks every other feature unobserved. Two random baselines: :func:`random_inputs`
draws, for the removal metrics, as many random input nodes as the explanation's subgraph has
(the same number of inputs removed or kept), and :func:`random_explanations` shuffles the
explanation's non-zero scores among the same candidate nodes, so that its top-``k`` is a random
set of ``k`` nodes of the same kind (ranking metrics; a random top-``k`` of terms may reach more
or fewer inputs than the explanation's).
:class:`ModelOutput` is the quantity explained (the explained class's probability, or a risk).
The metrics themselves are in :mod:`fusion.explanations.faithfulness`.

Long because the perturbations and both random baselines are defined on the same explanation
subgraph inputs (:func:`inputs_of_top`), and the docstring examples that pin them down are here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import pandas as pd

from fusion._exceptions import AlignmentError, InvalidParameterError
from fusion._params import check_positive
from fusion.data._checks import preview
from fusion.explanations.explanation import Explanation

if TYPE_CHECKING:
    from fusion.data.cohort import Cohort

__all__ = [
    "GraphEstimator",
    "ModelOutput",
    "add_noise",
    "explained_cohort",
    "explanation_inputs",
    "feature_node_ids",
    "inputs_of_top",
    "keep_inputs",
    "random_explanations",
    "random_inputs",
    "random_orders",
    "remove_inputs",
    "with_ranking",
]


class GraphEstimator(Protocol):
    """What the perturbations read of a fitted ``KGFusionClassifier`` / ``KGFusionSurvival``.

    Attributes
    ----------
    graph_ : gnn.RelationGraph
        The model's graph (``node_ids``: the KG id of each position).
    feature_nodes_ : mapping of str to Tensor
        Per modality, the graph position of each feature (``-1``: unlinked).
    feature_names_in_ : mapping of str to pandas.Index
        The features of each modality, in model order.
    scaler_ : ModalityScaler
        The standardisation fitted in training (``scale_``: per modality, per feature).
    predict : callable
        Predictions of a cohort (a risk per patient for survival models).
    """

    graph_: Any
    feature_nodes_: Mapping[str, Any]
    feature_names_in_: Mapping[str, pd.Index]
    scaler_: Any

    def predict(self, cohort: Cohort) -> Any: ...


def feature_node_ids(estimator: GraphEstimator) -> dict[str, pd.Series]:
    """Per modality, the KG id of the node each model feature is linked to (``None``: unlinked).

    Returns
    -------
    dict of str to pandas.Series
        Indexed by the modality's :attr:`feature_names_in_`, in model order.
    """
    ids = np.asarray(estimator.graph_.node_ids, dtype=object)
    result = {}
    for modality, positions in estimator.feature_nodes_.items():
        linked = np.asarray(positions.cpu().numpy() if hasattr(positions, "cpu") else positions)
        nodes = np.where(linked >= 0, ids[np.clip(linked, 0, None)], None)
        result[modality] = pd.Series(
            nodes, index=estimator.feature_names_in_[modality], dtype=object
        )
    return result


def inputs_of_top(
    explanation: Explanation, order: Sequence[str], ks: Iterable[int], *, max_len: int = 3
) -> dict[int, list[str]]:
    """For each ``k`` of ``ks``, the input nodes of the subgraph of the first ``k`` of ``order``.

    :func:`explanation_inputs` for every ``k`` at once, and for any order of the top nodes (a
    random explanation's): the paths (:meth:`Explanation.input_paths`) are searched once.
    """
    ks = sorted(set(ks))
    order = list(order[: ks[-1]])
    paths = explanation.input_paths(order, max_len)
    inputs = set(explanation.inputs)
    result, seen, chosen = {}, set(), []
    for rank, node in enumerate(order, start=1):
        for step in paths.get(node, ()):
            if step in inputs and step not in seen:
                seen.add(step)
                chosen.append(step)
        if rank in ks:
            result[rank] = list(chosen)
    return {k: result.get(k, list(chosen)) for k in ks}


def explanation_inputs(
    explanation: Explanation,
    k: int = 10,
    types: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
    *,
    max_len: int = 3,
) -> list[str]:
    """The input nodes of the explanation subgraph of the top ``k`` nodes
    (:meth:`Explanation.subgraph`: each top node that is an input, and the input nearest to
    each other top node within ``max_len`` hops), in rank order.

    Parameters
    ----------
    explanation : Explanation
        One patient's explanation.
    k, types, namespace, max_len :
        As in :meth:`Explanation.subgraph`.

    Examples
    --------
    >>> from kg import KnowledgeGraph, make_edges, make_nodes
    >>> kg = KnowledgeGraph(
    ...     pd.concat([make_nodes(["g1", "g2"], "gene", "x"), make_nodes(["T"], "go_term", "x")]),
    ...     make_edges(["g1", "g2"], "involved_in", ["T", "T"], "x"))
    >>> e = Explanation(kg, pd.Series({"T": 1.0, "g2": 0.5}), inputs=["g1", "g2"], patient="p")
    >>> explanation_inputs(e, 1, "go_term")  # T's nearest input, ties: the highest-scored
    ['g2']
    """
    k = check_positive("k", k, "explanation_inputs")
    order = explanation.ranking(types, namespace).index[:k]
    return inputs_of_top(explanation, order, [k], max_len=max_len)[k]


def random_orders(
    explanation: Explanation,
    n: int,
    rng: np.random.Generator,
    types: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
    *,
    max_share: float | None | Literal["default"] = "default",
) -> list[pd.Series]:
    """The rankings of :func:`random_explanations`: :meth:`Explanation.ranking` (with
    ``max_share``) with the nodes of non-zero score shuffled among their ranks (the scores stay
    where they were)."""
    n = check_positive("n", n, "random_explanations")
    ranking = explanation.ranking(types, namespace, max_share=max_share)
    slots = np.flatnonzero(ranking.to_numpy() != 0)
    ids = ranking.index.to_numpy(dtype=object)
    orders = []
    for _ in range(n):
        shuffled = ids.copy()
        shuffled[slots] = rng.permutation(ids[slots])
        orders.append(pd.Series(ranking.to_numpy(), index=pd.Index(shuffled, name="id")))
    return orders


def random_explanations(
    explanation: Explanation,
    n: int,
    rng: np.random.Generator,
    types: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
) -> list[Explanation]:
    """``n`` random explanations of the same size: the non-zero scores of the candidate nodes
    (of ``types`` / ``namespace``) shuffled among them.

    The candidates are the nodes the attribution method scored (the patient's input nodes for
    ``ig_features``, the concept nodes for ``contribution``, the reached terms after
    :meth:`~Explanation.decompose`), so the random top-``k`` is ``k`` nodes drawn uniformly
    among the nodes the explanation could have chosen. ``method`` gets the suffix ``"+random"``.

    Examples
    --------
    >>> from kg import KnowledgeGraph, make_nodes, make_edges
    >>> kg = KnowledgeGraph(make_nodes(list("abc"), "gene", "x"), make_edges(["a"], "r", ["b"], "x"))
    >>> e = Explanation(kg, pd.Series({"a": 3.0, "b": 2.0, "c": 0.0}), inputs=list("abc"), patient="p")
    >>> [r.scores.to_dict() for r in random_explanations(e, 2, np.random.default_rng(3))]
    [{'a': 2.0, 'b': 3.0, 'c': 0.0}, {'a': 3.0, 'b': 2.0, 'c': 0.0}]
    """
    orders = random_orders(explanation, n, rng, types, namespace)
    return [with_ranking(explanation, order) for order in orders]


def random_inputs(
    explanation: Explanation, sizes: Mapping[int, int], n: int, rng: np.random.Generator
) -> list[dict[int, list[str]]]:
    """``n`` random input sets of the given sizes: the baseline matched in inputs removed.

    Each draw is a random order of the patient's :attr:`~Explanation.inputs`, those with a
    non-zero score first (the inputs the attribution points at; the zero-scored ones only once
    those run out), and its set for key ``k`` is the first ``sizes[k]`` inputs of it, so that the
    sets of one draw are nested as the explanation's subgraph inputs are
    (:func:`inputs_of_top`). With ``sizes = {k: len(inputs_of_top(e, ...)[k])}`` a random set
    removes (or keeps) exactly as many input nodes as the explanation's top ``k``.

    Raises
    ------
    InvalidParameterError
        If ``n`` is not a positive int, or a size is negative or larger than the number of inputs.

    Examples
    --------
    >>> from kg import KnowledgeGraph, make_nodes, make_edges
    >>> kg = KnowledgeGraph(make_nodes(list("abc"), "gene", "x"), make_edges(["a"], "r", ["b"], "x"))
    >>> e = Explanation(kg, pd.Series({"a": 3.0, "b": 2.0, "c": 0.0}), inputs=list("abc"), patient="p")
    >>> random_inputs(e, {1: 1, 3: 3}, 2, np.random.default_rng(2))  # c (score 0) comes last
    [{1: ['a'], 3: ['a', 'b', 'c']}, {1: ['b'], 3: ['b', 'a', 'c']}]
    """
    n = check_positive("n", n, "random_inputs")
    inputs = np.asarray(explanation.inputs, dtype=object)
    bad = {k: s for k, s in sizes.items() if not 0 <= s <= len(inputs)}
    if bad:
        msg = f"random_inputs: sizes {bad} are not between 0 and the {len(inputs)} inputs of {explanation.patient!r}."
        raise InvalidParameterError(msg)
    scored = explanation.scores.reindex(list(inputs), fill_value=0.0).to_numpy() != 0
    first, last = inputs[scored], inputs[~scored]
    draws = []
    for _ in range(n):
        order = [*rng.permutation(first), *rng.permutation(last)]
        draws.append({k: [str(i) for i in order[:size]] for k, size in sizes.items()})
    return draws


def with_ranking(explanation: Explanation, ranking: pd.Series) -> Explanation:
    """``explanation`` with the scores of ``ranking``'s nodes set to its values (an item of
    :func:`random_orders`); ``method`` gets the suffix ``"+random"``."""
    scores = explanation.scores.copy()
    scores[ranking.index] = ranking.to_numpy()
    method = f"{explanation.method}+random"
    # the coverage is not recomputed: input_coverage remembers it per graph and input set
    return replace(explanation, scores=scores, method=method, edge_scores=None)


def explained_cohort(cohort: Cohort, explanations: Sequence[Explanation]) -> Cohort:
    """The explained patients' part of ``cohort``, in the order of ``explanations``.

    Raises
    ------
    AlignmentError
        If an explained patient (or an aggregate's label) is not a sample of ``cohort``.
    InvalidParameterError
        If there is no explanation, or a patient is explained more than once.
    """
    if not explanations:
        raise InvalidParameterError("no explanations to evaluate (an empty list).")
    patients = [e.patient for e in explanations]
    unknown = [p for p in patients if p not in cohort.samples]
    if unknown:
        msg = (
            f"explained patient(s) {preview(unknown)} are not samples of the cohort "
            f"({preview(cohort.samples)}); aggregates cannot be evaluated."
        )
        raise AlignmentError(msg)
    twice = sorted({p for p in patients if patients.count(p) > 1})
    if twice:
        raise InvalidParameterError(f"patients explained more than once: {preview(twice)}.")
    return cohort.subset(patients)


def _masked(
    cohort: Cohort, estimator: GraphEstimator, nodes: Mapping[str, Iterable[str]], keep: bool
) -> Cohort:
    unknown = [p for p in nodes if p not in cohort.samples]
    if unknown:
        msg = f"unknown patient id(s) {preview(unknown)}; the cohort has {preview(cohort.samples)}."
        raise AlignmentError(msg)
    linked = feature_node_ids(estimator)
    codes = {node: i for i, node in enumerate(pd.unique(pd.concat(linked.values()).dropna()))}
    chosen = {p: [codes[n] for n in set(ids) if n in codes] for p, ids in nodes.items()}
    frames = {}
    for modality, feature_node in linked.items():
        if modality not in cohort:
            continue
        frame = cohort[modality]
        feature_code = feature_node.reindex(frame.columns).map(codes).fillna(-1).to_numpy(int)
        values = frame.to_numpy(dtype=float, copy=True)
        for patient, row in zip(chosen, frame.index.get_indexer(list(chosen))):
            if row >= 0:
                hit = np.isin(feature_code, chosen[patient])
                values[row, ~hit if keep else hit] = np.nan
        frames[modality] = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    return cohort.with_data(frames)


def remove_inputs(
    cohort: Cohort, estimator: GraphEstimator, nodes: Mapping[str, Iterable[str]]
) -> Cohort:
    """``cohort`` with, for each patient of ``nodes``, the features linked to its nodes missing.

    Parameters
    ----------
    cohort : Cohort
        The patients' data.
    estimator : GraphEstimator
        The fitted model whose feature → node links are used.
    nodes : mapping of str to iterable of str
        Patient id → KG ids of input nodes (e.g. :func:`explanation_inputs`). Patients not in
        the mapping are unchanged.

    Raises
    ------
    AlignmentError
        If a patient id is not a sample of ``cohort``.
    """
    return _masked(cohort, estimator, nodes, keep=False)


def keep_inputs(
    cohort: Cohort, estimator: GraphEstimator, nodes: Mapping[str, Iterable[str]]
) -> Cohort:
    """``cohort`` with, for each patient of ``nodes``, every feature *not* linked to its nodes
    missing (unlinked features too): the prediction from the explanation's inputs alone.

    Parameters and errors as in :func:`remove_inputs`.
    """
    return _masked(cohort, estimator, nodes, keep=True)


def add_noise(cohort: Cohort, estimator: GraphEstimator, sd: float, seed: int = 0) -> Cohort:
    """``cohort`` with Gaussian noise of ``sd`` (in the model's standardised units: ``sd`` times
    the training standard deviation of each feature) added to every observed model feature.

    Raises
    ------
    InvalidParameterError
        If ``sd`` is negative or not finite.
    """
    if not np.isfinite(sd) or sd < 0:
        msg = f"The 'sd' parameter of add_noise must be a finite float >= 0. Got {sd!r} instead."
        raise InvalidParameterError(msg)
    rng = np.random.default_rng(seed)
    frames = {}
    for modality, features in estimator.feature_names_in_.items():
        if modality not in cohort:
            continue
        frame = cohort[modality]
        scale = estimator.scaler_.scale_[modality].reindex(frame.columns).fillna(0.0)
        scale[~frame.columns.isin(features)] = 0.0
        noise = rng.normal(0.0, sd, size=frame.shape) * scale.to_numpy()
        frames[modality] = frame + noise
    return cohort.with_data(frames)


@dataclass(frozen=True)
class ModelOutput:
    """The output an estimator's explanations explain, per patient (an adapter over estimators).

    Classifiers (with ``predict_proba`` and ``classes_``): the probability of each
    explanation's ``prediction`` (the explained class). Other estimators (``KGFusionSurvival``):
    ``predict``, a risk score (:meth:`targets` is ``None``).

    Parameters
    ----------
    estimator : GraphEstimator
        A fitted estimator.

    Raises
    ------
    InvalidParameterError
        If the estimator has neither ``predict_proba`` nor ``predict``.
    """

    estimator: Any

    def __post_init__(self) -> None:
        if not (hasattr(self.estimator, "predict_proba") or hasattr(self.estimator, "predict")):
            msg = f"{type(self.estimator).__name__} has neither predict_proba nor predict; nothing to explain."
            raise InvalidParameterError(msg)

    @property
    def kind(self) -> Literal["probability", "risk"]:
        """``"probability"`` for classifiers, ``"risk"`` otherwise."""
        return "probability" if hasattr(self.estimator, "predict_proba") else "risk"

    def targets(self, explanations: Sequence[Explanation]) -> np.ndarray | None:
        """Column of each explanation's explained class in :meth:`distribution` (``None``: risk).

        Raises
        ------
        InvalidParameterError
            If a ``prediction`` is not one of the estimator's classes.
        """
        if self.kind == "risk":
            return None
        classes = [str(c) for c in self.estimator.classes_]
        unknown = sorted({str(e.prediction) for e in explanations} - set(classes))
        if unknown:
            msg = f"explained class(es) {unknown} are not classes of the model {classes}."
            raise InvalidParameterError(msg)
        return np.array([classes.index(str(e.prediction)) for e in explanations])

    def outputs(self, cohort: Cohort, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, or risks ``(n_samples, 1)``.

        Predicted ``batch_size`` samples at a time (the model's memory grows with the batch).
        """
        batch_size = check_positive("batch_size", batch_size, "ModelOutput.outputs")
        parts = []
        for start in range(0, cohort.n_samples, batch_size):
            chunk = cohort.subset(cohort.samples[start : start + batch_size])
            if self.kind == "probability":
                parts.append(np.asarray(self.estimator.predict_proba(chunk), dtype=float))
            else:
                parts.append(np.asarray(self.estimator.predict(chunk), dtype=float)[:, None])
        return np.concatenate(parts)

    def explained(self, outputs: np.ndarray, targets: np.ndarray | None) -> np.ndarray:
        """The explained output of each row of :meth:`outputs`: the probability of the class
        ``targets`` (from :meth:`targets`) selects, or the risk."""
        if targets is None:
            return outputs[:, 0]
        return outputs[np.arange(len(outputs)), targets]
