"""Baseline classifiers on a :class:`~fusion.Cohort`, with the API of :class:`KGFusionClassifier`.

Early fusion concatenates every modality (absent modalities as missing values) into one matrix;
late fusion fits one model per modality on the samples that have it and averages or stacks
their probabilities. Imputation and scaling are fitted inside sklearn pipelines on the training
cohort only; hyper-parameters are either fixed a priori or tuned by inner cross-validation on the
training cohort (``GridSearchCV`` over the whole pipeline, so that imputation and scaling are
refitted in every inner fold too).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from fusion._exceptions import LabelError
from fusion._params import Constraints, Interval, StrOptions
from fusion.data.cohort import Cohort
from fusion.models.metrics import classification_metrics
from fusion.models.params import check_fitted, validate_params

__all__ = [
    "EarlyFusionLogistic",
    "EarlyFusionMLP",
    "LateFusion",
    "RandomForestBaseline",
    "concatenate",
    "preprocessed",
    "tuned_pipeline",
]

_CS = np.logspace(-4, 1, 11)
_SEED = [Interval(int, 0, None), None]


def concatenate(cohort: Cohort, modalities: list[str] | None = None) -> pd.DataFrame:
    """All (or the named) modalities side by side, columns ``<modality>:<feature>``.

    Samples lacking a modality get NaN in its columns (impute them downstream).

    Examples
    --------
    >>> a = pd.DataFrame({"g": [1.0, 2.0]}, index=["p1", "p2"])
    >>> b = pd.DataFrame({"x": [5.0]}, index=["p2"])
    >>> concatenate(Cohort({"mRNA": a, "protein": b})).to_dict("list")
    {'mRNA:g': [1.0, 2.0], 'protein:x': [nan, 5.0]}
    """
    names = list(cohort) if modalities is None else modalities
    frames = [cohort[m].reindex(cohort.samples).add_prefix(f"{m}:") for m in names]
    return pd.concat(frames, axis=1)


def _labels(estimator: object, cohort: Cohort) -> pd.Series:
    labels = cohort.labels
    if labels is None:
        msg = f"{type(estimator).__name__} needs a cohort with labels; this one has none."
        raise LabelError(msg)
    return labels.cat.remove_unused_categories()


def _inner_cv(random_state: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)


def preprocessed(model: BaseEstimator) -> Pipeline:
    """Mean imputation → standardisation → ``model``, as one pipeline (steps ``impute``,
    ``scale``, ``model``), so that both are fitted on the training samples only."""
    return Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler()), ("model", model)])


def tuned_pipeline(
    model: BaseEstimator, grid: dict[str, list], cv: StratifiedKFold
) -> GridSearchCV:
    """Mean imputation → standardisation → ``model``, with ``model``'s parameters in ``grid``
    chosen by log-loss over the folds of ``cv`` (the whole pipeline refitted in each fold)."""
    grid = {f"model__{name}": values for name, values in grid.items()}
    return GridSearchCV(preprocessed(model), grid, cv=cv, scoring="neg_log_loss")


def _logistic(random_state: int, solver: str = "lbfgs") -> GridSearchCV:
    """L2 logistic regression with C tuned by inner stratified 5-fold CV (see :func:`tuned_pipeline`).

    ``solver="liblinear"`` solves the dual problem by coordinate descent, much faster when
    features far outnumber patients (genome-wide inputs); its intercept is a feature of value
    10, so the intercept's penalty is negligible on standardised inputs.
    """
    model = (
        LogisticRegression(max_iter=5000)
        if solver == "lbfgs"
        else LogisticRegression(
            solver="liblinear", dual=True, intercept_scaling=10.0, max_iter=5000
        )
    )
    return tuned_pipeline(model, {"C": list(_CS)}, _inner_cv(random_state))


class _EarlyFusion:
    """The design matrix of a cohort: its modalities concatenated (see :func:`concatenate`).

    Estimators on other features (e.g. pathway scores) override both methods.
    """

    modalities_: list[str]

    def _fit_design(self, cohort: Cohort) -> pd.DataFrame:
        """The training design matrix; records what :meth:`_design` needs."""
        self.modalities_ = list(cohort)
        return concatenate(cohort)

    def _design(self, cohort: Cohort) -> pd.DataFrame:
        """The design matrix of new samples, columns as in training."""
        return concatenate(cohort, self.modalities_)


class _CohortClassifier(_EarlyFusion, BaseEstimator):
    """Fit a sklearn pipeline on a cohort's design matrix (see :class:`_EarlyFusion`)."""

    _estimator_type = "classifier"
    _param_constraints: ClassVar[Constraints] = {"random_state": _SEED}
    random_state: int

    def _pipeline(self) -> BaseEstimator:
        raise NotImplementedError

    def fit(self, cohort: Cohort, y: object = None) -> _CohortClassifier:
        """Fit on every sample of ``cohort`` (labels from the cohort); returns ``self``."""
        validate_params(self)
        labels = _labels(self, cohort)
        self.classes_ = np.asarray(labels.cat.categories, dtype=object)
        self.pipeline_ = self._pipeline().fit(self._fit_design(cohort), labels.cat.codes.to_numpy())
        return self

    def _check_fitted(self) -> None:
        check_fitted(self, "classes_")

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in :attr:`classes_` order."""
        self._check_fitted()
        return self.pipeline_.predict_proba(self._design(cohort))

    def predict(self, cohort: Cohort) -> np.ndarray:
        """Most probable class of each sample."""
        proba = self.predict_proba(cohort)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, cohort: Cohort, y: object = None) -> float:
        """Accuracy on ``cohort``'s labels."""
        labels = _labels(self, cohort)
        return classification_metrics(labels.to_numpy(), self.predict_proba(cohort), self.classes_)[
            "acc"
        ]


class EarlyFusionLogistic(_CohortClassifier):
    """Concatenation → imputation → standardisation → L2 logistic regression.

    The inverse regularisation ``C`` is chosen among 11 values in ``[1e-4, 10]`` by inner
    stratified 5-fold CV (log-loss) on the training cohort.

    Parameters
    ----------
    random_state : int
        Seed of the inner folds.
    solver : {"lbfgs", "liblinear"}
        ``"lbfgs"`` (default) or ``"liblinear"``: the dual problem by coordinate descent, many
        times faster when features far outnumber patients (genome-wide mutation and copy
        number); one-vs-rest for more than two classes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(40, 3)), columns=["g1", "g2", "g3"]).rename("p{}".format)
    >>> y = pd.Series(np.where(x["g1"] > 0, "a", "b"), index=x.index)
    >>> model = EarlyFusionLogistic().fit(Cohort({"mRNA": x}, labels=y))
    >>> model.predict(Cohort({"mRNA": x.head(3)})).tolist() == y.head(3).tolist()
    True
    """

    _param_constraints: ClassVar[Constraints] = {
        "random_state": _SEED,
        "solver": [StrOptions({"lbfgs", "liblinear"})],
    }

    def __init__(self, random_state: int = 0, solver: str = "lbfgs") -> None:
        self.random_state = random_state
        self.solver = solver

    def _pipeline(self) -> BaseEstimator:
        return _logistic(self.random_state, self.solver)


class EarlyFusionMLP(_CohortClassifier):
    """Concatenation → imputation → standardisation → one-hidden-layer MLP.

    The L2 penalty ``alpha`` is chosen among ``alphas`` by inner stratified 3-fold CV
    (log-loss) on the training cohort.

    Parameters
    ----------
    hidden : int
        Hidden units (default: ``64``).
    alphas : tuple of float
        Candidate L2 penalties (default: ``(0.1, 1.0, 10.0)``).
    random_state : int
        Seed of the weights and of the inner folds.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> frame = pd.DataFrame(rng.normal(size=(30, 2)), columns=["p1", "p2"]).rename(str)
    >>> cohort = Cohort({"protein": frame}, labels=frame["p2"].gt(0).map({True: "x", False: "y"}))
    >>> EarlyFusionMLP(hidden=8, alphas=(1.0,)).fit(cohort).predict_proba(cohort).shape
    (30, 2)
    """

    _param_constraints: ClassVar[Constraints] = {
        "hidden": [Interval(int, 1, None)],
        "random_state": _SEED,
    }

    def __init__(
        self, hidden: int = 64, alphas: tuple[float, ...] = (0.1, 1.0, 10.0), random_state: int = 0
    ) -> None:
        self.hidden = hidden
        self.alphas = alphas
        self.random_state = random_state

    def _pipeline(self) -> BaseEstimator:
        mlp = MLPClassifier(
            hidden_layer_sizes=(self.hidden,), max_iter=1000, random_state=self.random_state
        )
        cv = StratifiedKFold(3, shuffle=True, random_state=self.random_state)
        return tuned_pipeline(mlp, {"alpha": list(self.alphas)}, cv)


class RandomForestBaseline(_CohortClassifier):
    """Concatenation → mean imputation → random forest (``n_estimators`` trees, sqrt features).

    Parameters
    ----------
    n_estimators : int
        Trees (default: ``500``).
    random_state : int
        Seed.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> x = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd")).rename("s{}".format)
    >>> cohort = Cohort({"clinical": x}, labels=x["a"] > 0)
    >>> forest = RandomForestBaseline(n_estimators=20).fit(cohort)
    >>> forest.classes_.tolist(), forest.predict_proba(cohort).shape
    ([False, True], (50, 2))
    """

    _param_constraints: ClassVar[Constraints] = {
        "n_estimators": [Interval(int, 1, None)],
        "random_state": _SEED,
    }

    def __init__(self, n_estimators: int = 500, random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _pipeline(self) -> BaseEstimator:
        forest = RandomForestClassifier(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=1
        )
        return make_pipeline(SimpleImputer(), forest)


class LateFusion(_CohortClassifier):
    """One logistic model per modality (see :class:`EarlyFusionLogistic`), then fused.

    Each modality model is fitted on the training samples that have that modality.
    ``"average"`` averages the probabilities of the modalities a sample has; ``"stacking"``
    feeds the per-modality probabilities (out-of-fold on the training cohort, inner 5-fold;
    the training class frequencies for an absent modality) to a logistic meta-model.

    Parameters
    ----------
    method : {"average", "stacking"}
        How the per-modality probabilities are combined (default: ``"average"``).
    random_state : int
        Seed of the inner folds.

    Examples
    --------
    Patients 30-39 lack the protein modality; their probabilities come from mRNA alone:

    >>> rng = np.random.default_rng(3)
    >>> rna = pd.DataFrame(rng.normal(size=(40, 2)), columns=["g1", "g2"]).rename(str)
    >>> protein = pd.DataFrame(rng.normal(size=(30, 2)), columns=["p1", "p2"]).rename(str)
    >>> cohort = Cohort({"mRNA": rna, "protein": protein}, labels=rna["g1"] > 0)
    >>> proba = LateFusion("average").fit(cohort).predict_proba(cohort)
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1))
    ((40, 2), True)
    """

    _param_constraints: ClassVar[Constraints] = {
        "method": [StrOptions({"average", "stacking"})],
        "random_state": _SEED,
    }

    def __init__(
        self, method: Literal["average", "stacking"] = "average", random_state: int = 0
    ) -> None:
        self.method = method
        self.random_state = random_state

    def fit(self, cohort: Cohort, y: object = None) -> LateFusion:
        """Fit one model per modality, and the meta-model for stacking; returns ``self``."""
        validate_params(self)
        labels = _labels(self, cohort)
        codes = labels.cat.codes.to_numpy()
        self.classes_ = np.asarray(labels.cat.categories, dtype=object)
        self.modalities_ = list(cohort)
        self.prior_ = np.bincount(codes, minlength=len(self.classes_)) / len(codes)
        presence = cohort.presence
        self.models_: dict[str, BaseEstimator] = {}
        out_of_fold = []
        for name in self.modalities_:
            rows = presence[name].to_numpy()
            x, target = cohort[name].reindex(cohort.samples[rows]), codes[rows]
            model = _logistic(self.random_state)
            self.models_[name] = clone(model).fit(x, target)
            if self.method == "stacking":
                proba = np.tile(self.prior_, (len(codes), 1))
                proba[rows] = cross_val_predict(
                    model, x, target, cv=_inner_cv(self.random_state), method="predict_proba"
                )
                out_of_fold.append(proba)
        if self.method == "stacking":
            self.meta_ = LogisticRegression(max_iter=5000).fit(np.hstack(out_of_fold), codes)
        return self

    def _modality_proba(self, cohort: Cohort) -> list[np.ndarray]:
        presence = cohort.presence
        out = []
        for name, model in self.models_.items():
            rows = presence[name].to_numpy()
            proba = np.tile(self.prior_, (cohort.n_samples, 1))
            if rows.any():
                proba[rows] = model.predict_proba(cohort[name].reindex(cohort.samples[rows]))
            out.append(np.where(rows[:, None], proba, np.nan))
        return out

    def predict_proba(self, cohort: Cohort) -> np.ndarray:
        """Fused class probabilities ``(n_samples, n_classes)``."""
        self._check_fitted()
        per_modality = self._modality_proba(cohort)
        if self.method == "average":
            stacked = np.stack(per_modality)
            return np.where(np.isnan(stacked).all(axis=0), self.prior_, np.nanmean(stacked, axis=0))
        filled = [np.where(np.isnan(p), self.prior_, p) for p in per_modality]
        return self.meta_.predict_proba(np.hstack(filled))
