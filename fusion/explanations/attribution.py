"""Explanations of a fitted estimator's predictions: :func:`explain` (the estimator hook).

Kept apart from :mod:`fusion.explanations.explanation` so that the explanation objects and their
queries do not import torch; :func:`explain` imports :mod:`gnn.attribution` when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from fusion._exceptions import AlignmentError
from fusion.data._checks import preview
from fusion.explanations.explanation import Explanation

if TYPE_CHECKING:
    from fusion.data.cohort import Cohort
    from gnn import KGFusionNet
    from kg import KnowledgeGraph

__all__ = ["ExplainableEstimator", "explain"]


class ExplainableEstimator(Protocol):
    """What :func:`explain` reads of a fitted ``KGFusionClassifier`` (its fitted attributes).

    Attributes
    ----------
    models_ : list of KGFusionNet
        The fitted ensemble members (attributions are averaged over them).
    kg : KnowledgeGraph
        The graph the members' node ids come from.
    classes_ : array-like
        Class labels, in logit order.
    scaler_ : ModalityScaler
        Preprocessing fitted in training (``transform(cohort) -> Cohort``).
    feature_names_in_ : mapping of str to pandas.Index
        Features of each modality, in model order.
    """

    models_: list[KGFusionNet]
    kg: KnowledgeGraph
    classes_: Any
    scaler_: Any
    feature_names_in_: Any


def explain(
    estimator: ExplainableEstimator,
    cohort: Cohort,
    patients: Sequence[str] | None = None,
    method: str = "contribution",
    *,
    n_steps: int = 32,
    batch_size: int = 64,
) -> list[Explanation]:
    """Explain the ensemble's predicted class of each patient (:func:`gnn.attribution.attribute`).

    Patients are attributed in batches of ``batch_size`` (no per-patient loop); the scores are
    the mean over ensemble members, each explaining the ensemble's predicted class.

    Parameters
    ----------
    estimator : ExplainableEstimator
        A fitted ``KGFusionClassifier``.
    cohort : Cohort
        The patients' data.
    patients : sequence of str, optional
        Sample ids to explain (default: every sample of ``cohort``).
    method : {"contribution", "ig", "ig_features"}
        Attribution method (see :func:`gnn.attribute`) (default: ``"contribution"``).
    n_steps, batch_size : int
        Passed to :func:`gnn.attribution.attribute`.

    Returns
    -------
    list of Explanation
        One per patient, in order; ``inputs`` are the nodes with an observed linked feature.

    Raises
    ------
    AlignmentError
        If a patient id is not a sample of ``cohort``.
    """
    import torch

    from fusion.models.estimator import cohort_batch
    from gnn.attribution import attribute

    if patients is not None:
        unknown = [p for p in patients if p not in cohort.samples]
        if unknown:
            msg = f"unknown patient id(s) {preview(unknown)}; the cohort has {preview(cohort.samples)}."
            raise AlignmentError(msg)
        cohort = cohort.subset(list(patients))
    members = estimator.models_
    batch = cohort_batch(estimator.scaler_.transform(cohort), estimator.feature_names_in_)
    values, observed, present = batch.values, batch.observed, batch.present
    with torch.no_grad():
        probability = torch.stack(
            [torch.softmax(net.eval()(values, observed, present), -1) for net in members]
        ).mean(0)
    target = probability.argmax(dim=-1)
    scores = torch.stack(
        [
            attribute(
                net,
                values,
                observed,
                present,
                method=method,
                target=target,
                n_steps=n_steps,
                batch_size=batch_size,
            ).scores  # type: ignore[arg-type]
            for net in members
        ]
    ).mean(0)
    model = members[0]
    node_ids = pd.Index(model.graph.node_ids, name="id")
    linked = (
        (model.node_input(values, observed)[:, :, 1::2].amax(dim=-1) > 0).cpu().numpy()
    )  # (N, B)
    classes = list(estimator.classes_)
    chosen = probability.gather(1, target[:, None]).squeeze(1)
    provenance = {"name": type(estimator).__name__, "ensemble": len(members)}
    return [
        Explanation(
            estimator.kg,
            pd.Series(scores[b].cpu().numpy(), index=node_ids),
            node_ids[linked[:, b]].tolist(),
            patient,
            prediction=str(classes[int(target[b])]),
            probability=float(chosen[b]),
            method=method,
            model=provenance,
        )
        for b, patient in enumerate(cohort.samples)
    ]
