"""Tiny synthetic cohorts and knowledge graphs shared by the estimator / harness tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fusion import Cohort, Modality
from kg import KnowledgeGraph, make_edges, make_nodes

GENES = [f"GENE{i}" for i in range(12)]

#: Estimator parameters for quick, deterministic KG fusion fits on the tiny cohorts.
FAST = {
    "max_epochs": 15,
    "batch_size": 16,
    "patience": 5,
    "n_ensemble": 2,
    "min_seeds": 2,
    "max_fraction": 1.0,
    "min_ic": 0.0,
    "device": "cpu",
    "n_threads": 1,
}


def tiny_kg() -> KnowledgeGraph:
    """12 genes annotated to 3 GO terms (4 each) under one root term."""
    genes = make_nodes([f"NCBIGene:{i + 1}" for i in range(12)], "gene", "t", name=GENES)
    terms = make_nodes(["GO:1", "GO:2", "GO:3", "GO:9"], "go_term", "t")
    annot = make_edges(
        [f"NCBIGene:{i + 1}" for i in range(12)],
        "involved_in",
        [f"GO:{i // 4 + 1}" for i in range(12)],
        "t",
    )
    is_a = make_edges(["GO:1", "GO:2", "GO:3"], "is_a", ["GO:9"] * 3, "t")
    return KnowledgeGraph(pd.concat([genes, terms]), pd.concat([annot, is_a]))


def tiny_cohort(n: int = 60, seed: int = 0, classes: int = 2, missing: bool = False) -> Cohort:
    """mRNA (12 linked genes + 1 unlinked) and methylation (5 probes); labels from GENE0..3.

    With ``missing``, the last third of the samples lack methylation.
    """
    rng = np.random.default_rng(seed)
    ids = [f"p{i:03d}" for i in range(n)]
    mrna = rng.normal(size=(n, 13))
    signal = mrna[:, :4].sum(axis=1) + 0.5 * rng.normal(size=n)
    edges = np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1])
    labels = pd.Series(np.array(list("abc"))[np.searchsorted(edges, signal)], index=ids)
    meth = rng.normal(size=(n, 5)) + 0.5 * (labels == "b").to_numpy()[:, None]
    rows = ids[: 2 * n // 3] if missing else ids
    data = {
        "mRNA": pd.DataFrame(mrna, index=ids, columns=GENES + ["NOTAGENE"]),
        "methylation": pd.DataFrame(meth, index=ids, columns=[f"cg{i:08d}" for i in range(5)]).loc[
            rows
        ],
    }
    modalities = [
        Modality("mRNA", "mRNA", "symbol"),
        Modality("methylation", "methylation", "cg_probe"),
    ]
    return Cohort(data, modalities, labels=labels)


def survival_cohort(n: int = 160, seed: int = 0) -> Cohort:
    """Exponential survival with log-hazard ``x0 - x1`` and ~30 % random censoring."""
    rng = np.random.default_rng(seed)
    ids = [f"s{i:03d}" for i in range(n)]
    x = rng.normal(size=(n, 6))
    time = rng.exponential(1.0 / np.exp(x[:, 0] - x[:, 1]))
    censor = rng.exponential(3.0, size=n)
    survival = pd.DataFrame({"time": np.minimum(time, censor), "event": time <= censor}, index=ids)
    frame = pd.DataFrame(x, index=ids, columns=GENES[:6])
    return Cohort({"mRNA": frame}, [Modality("mRNA", "mRNA", "symbol")], survival=survival)


class UnfittedEnsemble:
    """What :func:`fusion.explain` reads of a fitted estimator, over untrained networks: a base
    for test doubles that set ``models_``, ``kg``, ``classes_``, ``scaler_`` (an identity) and
    ``feature_names_in_``."""

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        """The members' mean softmax, as ``KGFusionClassifier.predict_proba``."""
        import torch

        from fusion.models import cohort_batch

        batch = cohort_batch(cohort, self.feature_names_in_)
        with torch.no_grad():
            outputs = [torch.softmax(net(*batch.inputs()), -1) for net in self.models_]
        return torch.stack(outputs).mean(0).numpy()
