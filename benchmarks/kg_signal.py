"""Does the knowledge graph carry signal about the labels beyond the linked features themselves?

Model-free check of the prior knowledge on one modality of a cohort (default: ROSMAP's mRNA,
163 of 200 genes linked; its methylation and miRNA link to nothing in the default graph; or
TCGA breast's mRNA or protein). Three L2 logistic regressions, each a scikit-learn pipeline
fitted on training folds only (standardisation, then the graph transform, then the regression,
with ``C`` and the transform's strength chosen by inner stratified 5-fold CV on log-loss), under
5 × 5 repeated stratified CV over every patient with the modality:

- **features**: the standardised genes themselves;
- **KG-smoothed**: each patient's gene values diffused over the graph's gene–gene co-annotation
  network (two genes are neighbours when they share a GO term, pathway or phenotype; a term of
  ``s`` genes in the whole graph weighs ``1 / log(1 + s)``, split over its measured genes) with
  a personalised-PageRank kernel ``α (I − (1 − α) Â)⁻¹`` — network-regularised regression
  (Li & Li, 2008, Bioinformatics 24:1175);
- **term means**: the mean standardised value of the measured genes of each term with at least
  5 of them.

The two graph models are also run with the linked features' places in the graph permuted (same
graph, same linked features, each assigned to another one's gene: the null), and the table shows the paired AUC difference
between the real and the permuted graph over the 25 folds (mean ± standard error) of the
ROC-AUC (one-vs-rest for more than two classes) and of the log-loss (lower is better).

    python benchmarks/kg_signal.py [--data-dir ../shared/data] [--quick]
        [--cohort rosmap|brca] [--modality mRNA]
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import model_parser, print_table

from fusion import link_cohort, read_breast_tcga, read_mogonet
from fusion.models import tuned_pipeline
from kg import KnowledgeGraph, build_kg, shared_sources

COHORTS = {
    "rosmap": (read_mogonet, "mogonet_rosmap"),
    "brca": (read_breast_tcga, "mixomics_breast_tcga"),
}
MIN_TERM_GENES = 5
CS = [0.01, 0.03, 0.1, 0.3, 1.0]


def term_members(kg: KnowledgeGraph, genes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per term (any edge target of a linked gene), the positions of the features linked to its
    genes, and the term's gene count in the whole graph."""
    edges = kg.edges
    linked = genes.dropna()
    annotations = edges[edges["source"].isin(set(linked))]
    relations = annotations["relation"].unique()
    sizes = edges[edges["relation"].isin(relations)].groupby("target")["source"].nunique()
    position = pd.Series(np.arange(len(genes)), index=genes.index)
    feature_of_gene = position[linked.index].groupby(linked.to_numpy()).agg(list).to_dict()
    members = annotations.groupby("target")["source"].apply(
        lambda s: sorted({p for g in set(s) for p in feature_of_gene[g]})
    )
    return members[members.apply(len) >= 2], sizes.reindex(members.index)


def co_annotation(members: pd.Series, sizes: pd.Series, n_features: int) -> np.ndarray:
    """Feature × feature co-annotation weights (zero diagonal)."""
    weights = np.zeros((n_features, n_features))
    for term, positions in members.items():
        idx = np.asarray(positions)
        weights[np.ix_(idx, idx)] += 1.0 / (np.log1p(sizes[term]) * len(idx))
    np.fill_diagonal(weights, 0.0)
    return weights


class GraphDiffusion(TransformerMixin, BaseEstimator):
    """``X ↦ X K`` with the personalised-PageRank kernel ``K = α (I − (1 − α) Â)⁻¹`` of a
    feature graph (``Â``: symmetrically normalised adjacency with self-loops); ``alpha=1`` is
    the identity."""

    def __init__(self, adjacency: np.ndarray | None = None, alpha: float = 1.0) -> None:
        self.adjacency = adjacency
        self.alpha = alpha

    def fit(self, x: np.ndarray, y: object = None) -> GraphDiffusion:
        a = self.adjacency + np.eye(len(self.adjacency))
        d = 1.0 / np.sqrt(a.sum(axis=1))
        normalised = a * d[:, None] * d[None, :]
        self.kernel_ = self.alpha * np.linalg.inv(np.eye(len(a)) - (1.0 - self.alpha) * normalised)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return x @ self.kernel_


class TermMeans(TransformerMixin, BaseEstimator):
    """``X ↦`` the mean of each term's features (terms as lists of feature positions)."""

    def __init__(self, members: list[list[int]] | None = None) -> None:
        self.members = members

    def fit(self, x: np.ndarray, y: object = None) -> TermMeans:
        self.matrix_ = np.zeros((x.shape[1], len(self.members)))
        for j, positions in enumerate(self.members):
            self.matrix_[positions, j] = 1.0 / len(positions)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return x @ self.matrix_


def tuned(step: BaseEstimator | None, grid: dict[str, list], seed: int) -> GridSearchCV:
    """Standardise → ``step`` → L2 logistic regression, ``C`` and ``grid`` tuned by inner CV
    (the baselines' pipeline, :func:`fusion.models.tuned_pipeline`; nothing to impute here)."""
    model = Pipeline([("graph", step or "passthrough"), ("lr", LogisticRegression(max_iter=5000))])
    grid = {"lr__C": CS, **{f"graph__{k}": v for k, v in grid.items()}}
    return tuned_pipeline(model, grid, StratifiedKFold(5, shuffle=True, random_state=seed))


def models(
    members: pd.Series, sizes: pd.Series, n: int, permutation: np.ndarray
) -> dict[str, Callable[[int], GridSearchCV]]:
    """Model factories (by outer fold seed): the features, then each graph model with the real
    and the permuted feature → gene assignment."""

    def relabel(positions: list[int], perm: np.ndarray) -> list[int]:
        return sorted(int(perm[p]) for p in positions)

    out: dict[str, Callable[[int], GridSearchCV]] = {"features": lambda s: tuned(None, {}, s)}
    alphas = [1.0, 0.5, 0.25, 0.1]
    for label, perm in (("", np.arange(n)), (", permuted", permutation)):
        relabelled = members.apply(lambda p, perm=perm: relabel(p, perm))
        adjacency = co_annotation(relabelled, sizes, n)
        out[f"KG-smoothed{label}"] = lambda s, a=adjacency: tuned(
            GraphDiffusion(a), {"alpha": alphas}, s
        )
        terms = [p for p in relabelled if len(p) >= MIN_TERM_GENES]
        out[f"term means{label}"] = lambda s, t=terms: tuned(TermMeans(t), {}, s)
    return out


def scores(y: np.ndarray, proba: np.ndarray) -> tuple[float, float]:
    """ROC-AUC (one-vs-rest macro for more than two classes) and log-loss."""
    auc = (
        roc_auc_score(y, proba[:, 1])
        if proba.shape[1] == 2
        else roc_auc_score(y, proba, multi_class="ovr")
    )
    return auc, log_loss(y, proba, labels=np.arange(proba.shape[1]))


def paired(values: list[float], null: list[float]) -> str:
    """Mean ± standard error of the paired differences."""
    diff = np.subtract(values, null)
    return f"{diff.mean():+.3f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.3f}"


def main() -> None:
    parser = model_parser(__doc__.splitlines()[0], "2×2 CV")
    parser.add_argument("--cohort", choices=sorted(COHORTS), default="rosmap")
    parser.add_argument("--modality", default="mRNA", help="linked modality (default: mRNA)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    data = Path(args.data_dir)
    read, folder = COHORTS[args.cohort]
    cohort = read(data / folder)
    if args.modality not in cohort:
        parser.error(f"{args.cohort} has no modality {args.modality!r}; it has {list(cohort)}.")
    cohort = cohort.subset(cohort.samples[cohort.presence[args.modality].to_numpy()])
    kg = build_kg(shared_sources(data), progress=False)
    genes = link_cohort(cohort, kg).feature_nodes(args.modality)
    if genes.isna().all():
        parser.error(f"no feature of {args.cohort}'s {args.modality!r} links to the graph.")
    members, sizes = term_members(kg, genes)
    x = cohort[args.modality].reindex(cohort.samples).to_numpy()
    y = cohort.labels.cat.codes.to_numpy()
    n_terms = int((members.apply(len) >= MIN_TERM_GENES).sum())
    print(
        f"{args.cohort} {args.modality}, {len(y)} patients: {int(genes.notna().sum())} of "
        f"{len(genes)} features linked; {len(members)} terms hold ≥ 2 of them, {n_terms} hold "
        f"≥ {MIN_TERM_GENES}"
    )
    permutation = np.arange(len(genes))  # the linked features swap graph places
    linked = np.flatnonzero(genes.notna().to_numpy())
    permutation[linked] = np.random.default_rng(0).permutation(linked)
    factories = models(members, sizes, len(genes), permutation)
    k = 2 if args.quick else 5
    outer = RepeatedStratifiedKFold(n_splits=k, n_repeats=k, random_state=0)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in factories}
    start = time.perf_counter()
    for fold, (train, test) in enumerate(outer.split(x, y)):
        for name, factory in factories.items():
            model = factory(fold).fit(x[train], y[train])
            results[name].append(scores(y[test], model.predict_proba(x[test])))
    print(f"{k}×{k} repeated stratified CV, {time.perf_counter() - start:.0f} s\n")
    rows = []
    names = list(results)
    for name in sorted(names, key=lambda m: names.index(m.removesuffix(", permuted"))):
        auc, loss = np.asarray(results[name]).T
        row = {"model": name, "AUC": f"{auc.mean():.3f} ± {auc.std():.3f}", "Δ AUC": ""}
        row |= {"log-loss": f"{loss.mean():.3f} ± {loss.std():.3f}", "Δ log-loss": ""}
        if f"{name}, permuted" in results:
            null_auc, null_loss = np.asarray(results[f"{name}, permuted"]).T
            row["Δ AUC"], row["Δ log-loss"] = paired(auc, null_auc), paired(loss, null_loss)
        rows.append(row)
    print_table(rows)


if __name__ == "__main__":
    main()
