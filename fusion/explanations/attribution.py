"""Explanations of a fitted estimator's predictions: :func:`explain` (the estimator hook).

Kept apart from :mod:`fusion.explanations.explanation` so that the explanation objects and their
queries do not import torch; :func:`explain` imports :mod:`gnn.attribution` when called.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from fusion._exceptions import AlignmentError, InvalidParameterError
from fusion.data._checks import preview
from fusion.explanations.explanation import Explanation
from kg import KnowledgeGraph, make_edges

if TYPE_CHECKING:
    from torch import Tensor

    from fusion.data.cohort import Cohort
    from gnn import HierarchyNet, KGFusionNet, RelationGraph

__all__ = [
    "HIGH_RISK",
    "LOW_RISK",
    "PREDICTED_CLASS",
    "ExplainableEstimator",
    "explain",
    "explanation_kg",
]

#: The ``prediction`` of a survival model's explanation: risk above the training median, or not.
HIGH_RISK, LOW_RISK = "high risk", "low risk"
#: A classifier's ``model["explained"]`` when each patient's own predicted class is explained.
PREDICTED_CLASS = "predicted class"


class ExplainableEstimator(Protocol):
    """What :func:`explain` reads of a fitted ``KGFusionClassifier`` or ``KGFusionSurvival``.

    A classifier has ``classes_`` and ``predict_proba``; a survival model has neither, and
    ``median_risk_`` and ``predict`` (its risks) instead.

    Attributes
    ----------
    models_ : list of KGFusionNet
        The fitted ensemble members (attributions are averaged over them).
    kg : KnowledgeGraph
        The graph the members' node ids come from.
    classes_ : array-like
        Class labels, in logit order (classifiers).
    median_risk_ : float
        The training cohort's median predicted risk (survival models).
    scaler_ : ModalityScaler
        Preprocessing fitted in training (``transform(cohort) -> Cohort``).
    feature_names_in_ : mapping of str to pandas.Index
        Features of each modality, in model order.
    control : str
        The estimator's graph control (see :data:`fusion.models.params.CONTROLS`); read with
        the default ``"none"``.
    predict_proba : callable
        The ensemble's class probabilities of a cohort (classifiers).
    predict : callable
        The ensemble's risks of a cohort (survival models).
    """

    models_: list[KGFusionNet]
    kg: KnowledgeGraph
    classes_: Any
    scaler_: Any
    feature_names_in_: Any
    control: str

    def predict_proba(self, cohort: Cohort) -> Any: ...

    def predict(self, cohort: Cohort) -> Any: ...


#: Provenance of the edges :func:`explanation_kg` adds.
MODEL_EDGE = "kgfusion model graph (a path through nodes pruned from the saved KG)"
#: Provenance of the edges of a control model's own graph (:func:`explanation_kg`).
CONTROL_EDGE = "kgfusion model graph under control={control!r} (the edges the model saw)"
#: Controls whose explanations are on the model's own graph, not on ``kg``.
MODEL_GRAPH_CONTROLS: tuple[str, ...] = ("rewired", "permuted_features", "random_masks")
_COLUMNS = ["source", "relation", "target"]
_MODEL_KGS: weakref.WeakKeyDictionary[KnowledgeGraph, tuple[Any, str, KnowledgeGraph]] = (
    weakref.WeakKeyDictionary()
)


def explanation_kg(estimator: ExplainableEstimator) -> KnowledgeGraph:
    """The graph an estimator's explanations are queried on: the graph its model saw.

    The model propagates over its pruned graph (``graph_``), whose edges may bridge nodes
    pruned away (a gene annotated to a dropped sub-pathway is a member of the kept pathway
    above it). With the full KG (``kg``, as given to ``fit``) the bridged paths exist through
    the pruned nodes, and ``kg`` is returned. A saved model folder keeps only the KG induced
    by the model's nodes, where those paths are gone: then ``kg`` plus the model graph's edges
    between nodes it does not join (relation: the KG relation between those node types, or the
    model's relation name; provenance :data:`MODEL_EDGE`) is returned, so that subgraphs and
    :meth:`~Explanation.decompose` reach the terms the model reaches.

    Under a control of :data:`MODEL_GRAPH_CONTROLS` the model's graph is not the KG's:
    ``"rewired"`` propagates over rewired edges, ``"permuted_features"`` feeds each feature to
    another gene of the pruned graph, ``"random_masks"`` connects the hierarchy network's units
    at random. Then the model's own graph is returned: the nodes of ``graph_`` (their rows of
    ``kg``'s node table) and exactly its edges (for ``"random_masks"`` the network's
    connections, :meth:`gnn.HierarchyNet.connections`, the same in every member), relations
    named as above, provenance :data:`CONTROL_EDGE`; so that a rewired model's gene
    attributions decompose onto the rewired memberships (the random-graph control for
    explanations). Built once per graph.

    Raises
    ------
    InvalidParameterError
        If the estimator has no knowledge graph (``kg`` is ``None``).
    """
    kg, graph = estimator.kg, getattr(estimator, "graph_", None)
    if kg is None:
        msg = (
            "the model has no knowledge graph to explain on: a folder written by "
            "KGFusionClassifier.save holds none; load it with fusion.load_model from a folder "
            "written by `kgfusion train` (which saves the pruned KG), or set_params(kg=...)."
        )
        raise InvalidParameterError(msg)
    if graph is None or graph.num_nodes == 0:  # no graph branch
        return kg
    control = getattr(estimator, "control", "none")
    cached = _MODEL_KGS.get(kg)
    if cached is not None and cached[0]() is graph and cached[1] == control:
        return cached[2]
    ids = pd.Index(graph.node_ids, dtype=object)
    result = kg
    if control in MODEL_GRAPH_CONTROLS:
        edges = _masks(estimator.models_[0]) if control == "random_masks" else _edges(graph)
        result = _model_graph(kg, graph, edges, control)
    elif len(kg.nodes) == len(ids) and kg.nodes.index.isin(ids).all():
        result = _with_model_edges(kg, graph, ids)
    _MODEL_KGS[kg] = (weakref.ref(graph), control, result)
    return result


def _edges(graph: RelationGraph) -> pd.DataFrame:
    """``source, relation, target`` (node positions, relation name) of ``graph``'s base edges."""
    parts = [
        pd.DataFrame({"source": e[0].cpu().numpy(), "relation": r, "target": e[1].cpu().numpy()})
        for r, e in zip(graph.base_relations, graph.edges)
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_COLUMNS)


def _masks(net: HierarchyNet) -> pd.DataFrame:
    """``source, relation, target`` of a hierarchy network's connections, each relation named
    by its node types (``gene->go_term``)."""
    source, target = net.connections().cpu().numpy()
    types = pd.Series(net.graph.node_types)
    relation = types[source].to_numpy(dtype=object) + "->" + types[target].to_numpy(dtype=object)
    return pd.DataFrame({"source": source, "relation": relation, "target": target})


def _named(kg: KnowledgeGraph, edges: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """``edges`` (of :func:`_edges` or :func:`_masks`) as KG ids, each relation named as in
    ``kg``: itself when ``kg`` has it, else ``kg``'s most common relation between the two node
    types (``gene->go_term`` under ``relation_groups="type"``)."""
    table, types = kg.edges, kg.nodes["type"]
    pairs = table.assign(pair=table["source"].map(types) + "->" + table["target"].map(types))
    common = pairs.groupby("pair")["relation"].agg(lambda r: r.value_counts().index[0])
    known = set(table["relation"])
    names = {r: r if r in known else common.get(r, r) for r in edges["relation"].unique()}
    return pd.DataFrame(
        {
            "source": ids[edges["source"].to_numpy(dtype=int)],
            "relation": edges["relation"].map(names),
            "target": ids[edges["target"].to_numpy(dtype=int)],
        },
        dtype=object,
    )


def _with_model_edges(kg: KnowledgeGraph, graph: RelationGraph, ids: pd.Index) -> KnowledgeGraph:
    model = _named(kg, _edges(graph), ids)
    joined = pd.MultiIndex.from_frame(kg.edges[["source", "target"]])
    new = model[~pd.MultiIndex.from_frame(model[["source", "target"]]).isin(joined)]
    if new.empty:
        return kg
    added = make_edges(new["source"], new["relation"], new["target"], MODEL_EDGE)
    return KnowledgeGraph(kg.nodes, pd.concat([kg.edges, added], ignore_index=True), kg.metadata)


def _model_graph(
    kg: KnowledgeGraph, graph: RelationGraph, edges: pd.DataFrame, control: str
) -> KnowledgeGraph:
    """The model's own graph: ``graph``'s nodes (rows of ``kg``'s table) and only ``edges``
    (a rewiring's repeated edges once)."""
    ids = pd.Index(graph.node_ids, dtype=object)
    model = _named(kg, edges, ids).drop_duplicates(ignore_index=True)
    edges = make_edges(
        model["source"], model["relation"], model["target"], CONTROL_EDGE.format(control=control)
    )
    metadata = {**kg.metadata, "model_graph": {"control": control}}
    return KnowledgeGraph(kg.nodes.loc[ids], edges, metadata)


@dataclass(frozen=True)
class _Predicted:
    """The ensemble's predictions that a cohort's explanations explain: the output position
    each member's attribution explains, and per patient its label, probability and risk."""

    target: Tensor
    labels: list[str]
    probability: list[float | None]
    risk: list[float | None]
    provenance: dict[str, Any]


def _predicted(
    estimator: ExplainableEstimator, cohort: Cohort, target: str | None = None
) -> _Predicted:
    """A classifier's most probable class, and the class explained (``target``, else the most
    probable) with its probability; a survival model's log-risk (output ``0``), labelled
    :data:`HIGH_RISK` above the training median and else :data:`LOW_RISK`."""
    import torch

    if hasattr(estimator, "classes_"):
        probability = torch.from_numpy(estimator.predict_proba(cohort))  # the ensemble's, checked
        classes = [str(c) for c in estimator.classes_]
        predicted = probability.argmax(dim=-1)
        explained = predicted
        if target is not None:
            if str(target) not in classes:
                msg = f"explain: target={target!r} is not a class of the model; its classes are {classes}."
                raise InvalidParameterError(msg)
            explained = torch.full_like(predicted, classes.index(str(target)))
        chosen = probability.gather(1, explained[:, None]).squeeze(1).tolist()
        labels = [classes[t] for t in predicted.tolist()]
        provenance = {"explained": PREDICTED_CLASS if target is None else str(target)}
        return _Predicted(explained, labels, chosen, [None] * len(labels), provenance)
    if target is not None:
        msg = f"explain: target={target!r} names a class, but a survival model has none: it explains its log-risk."
        raise InvalidParameterError(msg)
    risk = [float(r) for r in estimator.predict(cohort)]  # the ensemble's, checked
    median = float(estimator.median_risk_)
    labels = [HIGH_RISK if r > median else LOW_RISK for r in risk]
    explained = torch.zeros(len(risk), dtype=torch.long)
    provenance = {"output": "log-risk", "median_risk": median}
    return _Predicted(explained, labels, [None] * len(risk), risk, provenance)


def explain(
    estimator: ExplainableEstimator,
    cohort: Cohort,
    patients: Sequence[str] | None = None,
    method: str = "ig_features",
    *,
    n_steps: int = 32,
    batch_size: int = 64,
    target: str | None = None,
    decompose: bool | None = None,
) -> list[Explanation]:
    """Explain the ensemble's prediction of each patient (:func:`gnn.attribution.attribute`).

    Patients are attributed in batches of ``batch_size`` (no per-patient loop); the scores are
    the mean over ensemble members, each explaining the ensemble's predicted class, or for a
    survival model the predicted log-risk (a positive score is evidence for a higher risk).
    A classifier's explanation records the class (``prediction``) and its ``probability``; a
    survival model's its ``risk`` and, as ``prediction``, :data:`HIGH_RISK` when the risk is
    above the training cohort's median risk (``median_risk_``, also in the ``model``
    provenance) and :data:`LOW_RISK` otherwise (``probability`` is ``None``). The ``model``
    provenance records the estimator's ``control``; the explanations' graph is
    :func:`explanation_kg`'s (a control model's own graph).

    Parameters
    ----------
    estimator : ExplainableEstimator
        A fitted ``KGFusionClassifier`` or ``KGFusionSurvival``, of either architecture.
    cohort : Cohort
        The patients' data.
    patients : sequence of str, optional
        Sample ids to explain (default: every sample of ``cohort``).
    method : {"ig_features", "contribution", "ig"}
        Attribution method (see :func:`gnn.attribute`) (default: ``"ig_features"``: the input
        genes' own attributions, with the terms scored by decomposition, see ``decompose``).
    n_steps, batch_size : int
        Passed to :func:`gnn.attribution.attribute`.
    target : str, optional
        A classifier's class explained for every patient, e.g. to compare patients' evidence
        for one class (:func:`contrast`); ``probability`` is then that class's (default: each
        patient's predicted class, recorded as ``model["explained"]`` =
        :data:`PREDICTED_CLASS`).
    decompose : bool, optional
        Score the terms by decomposing the inputs' scores onto them
        (:meth:`Explanation.decompose_terms`: each ontology's nested and overlapping terms
        compete for the genes; the inputs keep their attributions) (default: ``None``, which
        decomposes for ``method="ig_features"``, the one method scoring the inputs; ``False``
        leaves its terms at 0).

    Returns
    -------
    list of Explanation
        One per patient, in order; ``inputs`` are the nodes with an observed linked feature.

    Raises
    ------
    AlignmentError
        If a patient id is not a sample of ``cohort``.
    InvalidParameterError
        If ``target`` is not a class of the model (or the model is a survival model), or
        ``decompose=True`` with a method other than ``"ig_features"``.
    """
    import torch

    from fusion.models.estimator import cohort_batch
    from gnn.attribution import attribute

    decompose = _decomposes(method, decompose)
    if patients is not None:
        unknown = [p for p in patients if p not in cohort.samples]
        if unknown:
            msg = f"unknown patient id(s) {preview(unknown)}; the cohort has {preview(cohort.samples)}."
            raise AlignmentError(msg)
        cohort = cohort.subset(list(patients))
    members = estimator.models_
    batch = cohort_batch(estimator.scaler_.transform(cohort), estimator.feature_names_in_)
    values, observed, present = batch.values, batch.observed, batch.present
    predicted = _predicted(estimator, cohort, target)
    scores = torch.stack(
        [
            attribute(
                net,
                values,
                observed,
                present,
                method=method,
                target=predicted.target,
                n_steps=n_steps,
                batch_size=batch_size,
            ).scores  # type: ignore[arg-type]
            for net in members
        ]
    ).mean(0)
    model = members[0]
    node_ids = pd.Index(model.graph.node_ids, name="id")
    linked = model.node_channels(values, observed).any_observed().cpu().numpy()  # (N, B)
    provenance = {
        "name": type(estimator).__name__,
        "ensemble": len(members),
        "control": getattr(estimator, "control", "none"),
        **predicted.provenance,
    }
    kg = explanation_kg(estimator)
    explanations = [
        Explanation(
            kg,
            pd.Series(scores[b].cpu().numpy(), index=node_ids),
            node_ids[linked[:, b]].tolist(),
            patient,
            prediction=predicted.labels[b],
            probability=predicted.probability[b],
            method=method,
            model=provenance,
            risk=predicted.risk[b],
        )
        for b, patient in enumerate(cohort.samples)
    ]
    return [e.decompose_terms() for e in explanations] if decompose else explanations


def _decomposes(method: str, decompose: bool | None) -> bool:
    """Whether :func:`explain` decomposes: by default for ``"ig_features"`` only."""
    if decompose is None:
        return method == "ig_features"
    if not isinstance(decompose, bool):
        msg = f"The 'decompose' parameter of explain must be a bool or None. Got {decompose!r} instead."
        raise InvalidParameterError(msg)
    if decompose and method != "ig_features":
        msg = (
            f"explain(decompose=True) decomposes the inputs' own scores onto the terms: it needs "
            f"method='ig_features'; method={method!r} scores the concept nodes (pass "
            "decompose=False, or method='ig_features')."
        )
        raise InvalidParameterError(msg)
    return decompose
