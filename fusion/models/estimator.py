"""scikit-learn style estimators around :class:`gnn.KGFusionNet`: fit on a Cohort, predict, save.

:class:`KGFusionClassifier` predicts classes, :class:`KGFusionSurvival` Cox log-risks. Inside
``fit``: per-modality standardisation fitted on the training cohort only, linking of the features
to the knowledge graph (or precomputed links, ``fit(cohort, links=...)``), pruning of the graph
to the closure of the linked nodes, then an ensemble of networks, each early-stopped on its own
stratified inner validation split. The shared logic is :class:`fusion.models._base._KGFusionBase`;
model folders are :mod:`fusion.models.checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from typing_extensions import Self

from fusion._exceptions import CheckpointError, LabelError
from fusion.data.cohort import Cohort
from fusion.data.link import CohortLinks
from fusion.models._base import _KGFusionBase
from fusion.models.metrics import checked_survival, classification_metrics, concordance_index
from fusion.models.tensors import cohort_batch  # noqa: F401 (imported from here by fusion.explanations)
from gnn import cox_ph_loss

__all__ = ["KGFusionClassifier", "KGFusionSurvival"]


class KGFusionClassifier(_KGFusionBase):
    """Knowledge-graph fusion classifier on a :class:`~fusion.Cohort` (labels from the cohort).

    Parameters
    ----------
    kg : KnowledgeGraph, optional
        Prior knowledge; features are linked to it with :func:`fusion.data.link.link_cohort`. Without
        it (or with ``control="no_graph"``) only the per-modality heads are used.
    relations : list of str, optional
        Relations followed when pruning the graph to the closure of linked nodes (default all).
    min_seeds, max_fraction, min_ic :
        Keep closure nodes reached by at least ``min_seeds`` and at most ``max_fraction`` of the
        linked nodes, and terms whose information content in ``kg`` (Resnik's,
        :func:`kg.information_content`) is at least ``min_ic`` (see :func:`kg.seed_closure`)
        (defaults: ``3``, ``0.3``, ``3.0``). The defaults keep mid-level terms and drop
        near-roots: a term holding more than ``e⁻³ ≈ 5 %`` of the genes annotated in its
        ontology averages too much to explain anything, whatever the cohort. The share cap
        stays loose because a pathway a panel is built around is much of the panel (the TCA
        cycle holds 34 of a planted cohort's 150 linked genes). On a KG of a few dozen genes
        every term holds more than 5 % of them: pass ``min_ic=0.0`` (and
        ``max_fraction=1.0``) to keep them.
    relation_groups : {"relation", "type"}
        One message-passing relation per edge key or per endpoint-type pair (default ``"type"``).
    architecture : {"rgcn", "hierarchy"}
        The graph branch (default ``"rgcn"``): relational propagation over the KG
        (:class:`gnn.KGFusionNet`), or the sparse P-NET-style hierarchy network for genome-wide
        data (:class:`gnn.HierarchyNet`: one unit per gene from its linked features, then one per
        term along the KG's annotation and parent edges, ``layers`` levels deep, a head per
        level). For the hierarchy, ``hidden`` is the units per node (``1`` is P-NET's and the
        fastest; the cost grows with its square).
    hidden, embedding, layers, dropout, input_dropout, direct, encoder, aux_weight :
        Network settings (see :class:`gnn.FusionNetConfig`, :class:`gnn.HierarchyConfig`).
    control : {"none", "no_graph", "rewired", "permuted_features", "random_masks"}
        A matched random-graph control (default ``"none"``, the knowledge graph as it is):
        ``"no_graph"`` turns the graph branch off, ``"rewired"`` rewires the pruned graph's edges
        (degree-preserving within each relation), ``"permuted_features"`` permutes which linked
        node each feature sits on, ``"random_masks"`` gives the sparse hierarchy network random
        masks of equal sparsity; all seeded by ``random_state`` (see
        :data:`fusion.models.params.CONTROLS`).
    lr, weight_decay, max_epochs, patience, batch_size :
        Optimisation (see :class:`gnn.training.TrainConfig`); ``batch_size`` is the global
        batch when training data-parallel (``kgfusion train --nproc``, docs/scaling.md).
    eval_batch_size : int
        Patients per forward pass of the validation and of ``predict`` (default ``256``;
        ``0``: all at once). Memory grows with it, not with the cohort; outputs do not depend
        on it.
    precise_norm : bool
        Recompute the batch-norm statistics on the training part before each validation pass
        of the early stopping (see :attr:`gnn.TrainConfig.precise_norm`; default ``False``).
        Worth it for small cohorts, where an epoch is one or two steps and the running
        statistics lag far behind the weights.
    val_size : float
        Fraction of the training samples held out (stratified) for early stopping.
    n_ensemble : int
        Networks averaged, each with its own seed and inner split (default ``3``).
    random_state : int
        Seed; member ``k`` uses ``random_state + k``. Fits on CPU are fully deterministic.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    n_threads : int, optional
        Torch intra-op threads during fit and predict (restored afterwards); ``None`` leaves
        torch's setting. ``1`` is fastest on a busy machine (tiny ops, no thread barriers).
    progress : bool
        Show progress bars.
    pretrained : str or Path, optional
        An encoder folder (:func:`fusion.pretrain`, ``kgfusion pretrain``): every member's graph
        encoder starts from its weights, matched by modality kind, node type and relation name,
        so an encoder pre-trained on one panel fine-tunes on another linked to the same graph
        (``hidden`` and ``layers`` must be the encoder's). ``fit`` refuses a folder whose graph
        lacks nodes the cohort's features link to, saying how many (default: ``None``).
    freeze_encoder : bool
        With ``pretrained``: keep the encoder's weights fixed, training only the readout and
        the heads (default: ``False``, fine-tune all).

    Attributes
    ----------
    classes_ : ndarray
        Classes, in the column order of :meth:`predict_proba`.
    models_ : list of KGFusionNet
        The fitted ensemble members (:class:`gnn.HierarchyNet` for ``architecture="hierarchy"``).
    graph_ : RelationGraph
        The pruned graph (rewired under ``control="rewired"``).
    feature_nodes_ : dict of str to Tensor
        Per modality, the graph position of each feature (-1 unlinked).
    scaler_ : ModalityScaler
        Standardisation fitted on the training cohort.

    Examples
    --------
    Eight genes in two GO terms; the label depends on the first term's genes. Link the cohort
    to the graph once (a stage to inspect, cache and reuse), fit on the links, predict:

    >>> import numpy as np, pandas as pd
    >>> from fusion import Cohort, Modality, link_cohort
    >>> from kg import KnowledgeGraph, make_edges, make_nodes
    >>> ids, symbols = [f"NCBIGene:{i}" for i in range(1, 9)], [f"G{i}" for i in range(1, 9)]
    >>> kg = KnowledgeGraph(
    ...     pd.concat([make_nodes(ids, "gene", "doc", name=symbols),
    ...                make_nodes(["GO:1", "GO:2"], "go_term", "doc")]),
    ...     make_edges(ids, "involved_in", ["GO:1"] * 4 + ["GO:2"] * 4, "doc"))
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(60, 8)), index=[f"p{i}" for i in range(60)],
    ...                  columns=symbols)
    >>> y = pd.Series(np.where(x.iloc[:, :4].sum(axis=1) > 0, "case", "control"), index=x.index)
    >>> cohort = Cohort({"mRNA": x}, [Modality("mRNA", "mRNA", "symbol")], labels=y)
    >>> links = link_cohort(cohort, kg)
    >>> links.report.loc["mRNA", ["n_features", "linked"]].tolist()
    [8, 8]
    >>> model = KGFusionClassifier(kg, min_seeds=1, max_fraction=1.0, min_ic=0.0, max_epochs=20,
    ...                            n_ensemble=1, device="cpu", n_threads=1)
    >>> model.fit(cohort, links=links).predict_proba(cohort).shape
    (60, 2)
    >>> model.graph_.num_nodes, list(model.classes_)  # 8 genes and 2 terms
    (10, ['case', 'control'])
    """

    _task = "classification"
    _estimator_type = "classifier"

    def _targets(self, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
        labels = cohort.labels
        if labels is None:
            msg = f"{type(self).__name__}.fit needs a cohort with labels; this one has none."
            raise LabelError(msg)
        observed = labels.cat.remove_unused_categories()
        if len(observed.cat.categories) < 2:
            msg = f"{type(self).__name__}.fit needs at least 2 classes; got {list(observed.cat.categories)}."
            raise LabelError(msg)
        self.classes_ = np.asarray(observed.cat.categories, dtype=object)
        codes = observed.cat.codes.to_numpy()
        return torch.from_numpy(codes.astype(np.int64)), codes

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(output, target)

    def _out_channels(self) -> int:
        return len(self.classes_)

    def _task_meta(self) -> dict[str, Any]:
        return {"classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes_]}

    def _load_task_meta(self, meta: dict[str, Any], path: Path) -> None:
        classes = meta.get("classes")
        if not isinstance(classes, list) or len(classes) < 2 or len(set(map(str, classes))) < 2:
            msg = f"{path}: 'classes' must list at least 2 distinct class names; got {classes!r}."
            raise CheckpointError(msg)
        self.classes_ = np.asarray(classes, dtype=object)

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``: the ensemble's mean softmax."""
        logits = torch.from_numpy(self._outputs(cohort))
        return torch.softmax(logits, dim=-1).mean(dim=0).numpy()

    def predict(self, cohort: Cohort) -> np.ndarray:
        """Most probable class of each sample."""
        proba = self.predict_proba(cohort)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, cohort: Cohort, y: object = None) -> float:
        """Accuracy on ``cohort``'s labels."""
        labels = cohort.labels
        if labels is None:
            raise LabelError("score needs a cohort with labels.")
        return classification_metrics(labels.to_numpy(), self.predict_proba(cohort), self.classes_)[
            "acc"
        ]


class KGFusionSurvival(_KGFusionBase):
    """Knowledge-graph fusion Cox model on a :class:`~fusion.Cohort` (survival from the cohort).

    Same parameters as :class:`KGFusionClassifier`; the head outputs one log-hazard ratio per
    patient, trained with :func:`gnn.cox_ph_loss`; the inner split is stratified on events.
    :meth:`predict` returns risk scores (higher = earlier event), :meth:`score` Harrell's C-index.

    Attributes
    ----------
    median_risk_ : float
        Median predicted risk of the training cohort (the Cox partial likelihood fixes risks
        only up to a constant, so a risk is "high" or "low" relative to it, as in
        :func:`fusion.explain`). The other fitted attributes are :class:`KGFusionClassifier`'s,
        but ``classes_``.

    Examples
    --------
    Without a knowledge graph (per-modality heads only), on a hazard rising with ``g1``:

    >>> import numpy as np, pandas as pd
    >>> from fusion import Cohort
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(80, 3)), columns=["g1", "g2", "g3"],
    ...                  index=[f"p{i}" for i in range(80)])
    >>> times = pd.DataFrame({"time": rng.exponential(np.exp(-x["g1"])), "event": True},
    ...                      index=x.index)
    >>> cohort = Cohort({"mRNA": x}, survival=times)
    >>> model = KGFusionSurvival(lr=1e-2, n_ensemble=1, device="cpu", n_threads=1)
    >>> model.fit(cohort).predict(cohort).shape
    (80,)
    >>> bool(model.score(cohort) > 0.6)  # Harrell's C-index
    True
    """

    _task = "survival"

    def _targets(self, cohort: Cohort) -> tuple[torch.Tensor, np.ndarray]:
        survival = checked_survival(cohort, type(self).__name__)
        table = survival[["time", "event"]].to_numpy(dtype=np.float32)
        return torch.from_numpy(table), survival["event"].to_numpy()

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cox_ph_loss(output[:, 0], target[:, 0], target[:, 1])

    def _out_channels(self) -> int:
        return 1

    def _fit(self, cohort: Cohort, links: CohortLinks | None) -> Self:
        super()._fit(cohort, links)
        self.median_risk_ = float(np.median(self.predict(cohort)))
        return self

    def _task_meta(self) -> dict[str, Any]:
        return {"median_risk": self.median_risk_}

    def _load_task_meta(self, meta: dict[str, Any], path: Path) -> None:
        median = meta.get("median_risk")
        if (
            isinstance(median, bool)
            or not isinstance(median, (int, float))
            or not np.isfinite(median)
        ):
            msg = f"{path}: 'median_risk' (the training cohort's median risk) must be a finite number; got {median!r} (a model saved by an older kgfusion: retrain it)."
            raise CheckpointError(msg)
        self.median_risk_ = float(median)

    def predict(self, cohort: Cohort) -> np.ndarray:
        """Risk score (mean log-hazard ratio of the ensemble) of each sample."""
        return self._outputs(cohort)[:, :, 0].mean(axis=0)

    def score(self, cohort: Cohort, y: object = None) -> float:
        """Harrell's C-index on ``cohort``'s survival."""
        survival = cohort.survival
        if survival is None:
            raise LabelError("score needs a cohort with survival.")
        return concordance_index(survival["time"], survival["event"], self.predict(cohort))
