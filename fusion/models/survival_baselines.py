"""Survival baselines on a :class:`~fusion.Cohort`, with the API of :class:`KGFusionSurvival`.

Early fusion as in :mod:`fusion.models.baselines` (the modalities concatenated, imputation and
standardisation fitted on the training cohort only) into scikit-survival models: a Cox model with
an elastic-net penalty tuned by inner cross-validation (:class:`EarlyFusionCoxnet`) and a random
survival forest (:class:`RandomSurvivalForestBaseline`). :meth:`predict` gives risk scores (higher
= earlier event), :meth:`predict_survival` survival functions at given times. They need the
``survival`` extra (``pip install 'kgfusion[survival]'``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from fusion._params import Constraints, Interval
from fusion.data.cohort import Cohort
from fusion.models.baselines import _SEED, _EarlyFusion, preprocessed
from fusion.models.metrics import checked_survival, concordance_index, sksurv
from fusion.models.params import check_fitted, validate_params

__all__ = ["EarlyFusionCoxnet", "RandomSurvivalForestBaseline", "survival_target"]


def survival_target(cohort: Cohort, owner: str) -> np.ndarray:
    """The cohort's survival as scikit-survival's structured array (fields ``event``, ``time``).

    Raises
    ------
    LabelError
        The cohort has no survival, or no event (the message names ``owner``).
    """
    survival = checked_survival(cohort, owner)
    target = np.empty(len(survival), dtype=[("event", bool), ("time", float)])
    target["event"], target["time"] = survival["event"].to_numpy(bool), survival["time"]
    return target


class _CohortSurvival(_EarlyFusion, BaseEstimator):
    """Fit a scikit-survival pipeline on a cohort's design matrix; risks and survival functions."""

    _param_constraints: ClassVar[Constraints] = {"random_state": _SEED}
    random_state: int

    def _fit_model(self, x: pd.DataFrame, target: np.ndarray) -> Pipeline:
        raise NotImplementedError

    def _predict_params(self) -> dict[str, Any]:
        """Keyword arguments of the final model's ``predict`` and survival functions."""
        return {}

    def fit(self, cohort: Cohort, y: object = None) -> _CohortSurvival:
        """Fit on every sample of ``cohort`` (survival from the cohort); returns ``self``."""
        validate_params(self)
        sksurv(type(self).__name__)
        target = survival_target(cohort, type(self).__name__)
        self.pipeline_ = self._fit_model(self._fit_design(cohort), target)
        return self

    def _transformed(self, cohort: Cohort) -> np.ndarray:
        check_fitted(self, "pipeline_")
        return self.pipeline_[:-1].transform(self._design(cohort))

    def predict(self, cohort: Cohort) -> np.ndarray:
        """Risk score of each sample (higher = earlier event)."""
        x = self._transformed(cohort)
        return self.pipeline_[-1].predict(x, **self._predict_params())

    def predict_survival(self, cohort: Cohort, times: ArrayLike) -> np.ndarray:
        """Survival probabilities ``(n_samples, len(times))``; times past the model's last
        training time get the last value."""
        x = self._transformed(cohort)
        functions = self.pipeline_[-1].predict_survival_function(x, **self._predict_params())
        times = np.asarray(times, dtype=float)
        return np.array([f(np.clip(times, f.x[0], f.x[-1])) for f in functions]).reshape(
            -1, len(times)
        )

    def score(self, cohort: Cohort, y: object = None) -> float:
        """Harrell's C-index on ``cohort``'s survival."""
        target = survival_target(cohort, type(self).__name__)
        return concordance_index(target["time"], target["event"], self.predict(cohort))


class EarlyFusionCoxnet(_CohortSurvival):
    """Concatenation → imputation → standardisation → Cox model with an elastic-net penalty.

    The penalty ``alpha`` is chosen on the regularisation path fitted on the training cohort
    (``n_alphas`` values down to ``alpha_min_ratio`` × the smallest alpha that zeroes every
    coefficient) by the mean C-index over inner event-stratified ``n_inner``-fold CV on the
    training cohort (imputation and scaling refitted in every inner fold); the model on the whole
    training cohort keeps its Breslow baseline (``fit_baseline_model=True``) for
    :meth:`predict_survival`.

    Parameters
    ----------
    l1_ratio : float
        Elastic-net mixing, 1 = lasso (default: ``0.5``).
    n_alphas : int
        Length of the path (default: ``20``).
    alpha_min_ratio : float
        Smallest alpha of the path relative to the largest (default: ``0.05``).
    n_inner : int
        Inner folds (default: ``5``; fewer when a fold would lack events).
    random_state : int
        Seed of the inner folds.

    Attributes
    ----------
    alpha_ : float
        The chosen penalty.
    inner_scores_ : ndarray
        Mean inner C-index of each alpha of the path.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(80, 3)), columns=["g1", "g2", "g3"]).rename("p{}".format)
    >>> times = pd.DataFrame({"time": rng.exponential(np.exp(-x["g1"])), "event": True},
    ...                      index=x.index)
    >>> model = EarlyFusionCoxnet().fit(Cohort({"mRNA": x}, survival=times))
    >>> bool(model.score(Cohort({"mRNA": x}, survival=times)) > 0.6)
    True
    """

    _param_constraints: ClassVar[Constraints] = {
        "l1_ratio": [Interval(float, 0.0, 1.0, closed="right")],
        "n_alphas": [Interval(int, 1, None)],
        "alpha_min_ratio": [Interval(float, 0.0, 1.0, closed="neither")],
        "n_inner": [Interval(int, 2, None)],
        "random_state": _SEED,
    }

    def __init__(
        self,
        l1_ratio: float = 0.5,
        n_alphas: int = 20,
        alpha_min_ratio: float = 0.05,
        n_inner: int = 5,
        random_state: int = 0,
    ) -> None:
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.n_inner = n_inner
        self.random_state = random_state

    def _coxnet(self, **params: Any) -> BaseEstimator:
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        return CoxnetSurvivalAnalysis(l1_ratio=self.l1_ratio, **params)

    def _fit_model(self, x: pd.DataFrame, target: np.ndarray) -> Pipeline:
        path = self._coxnet(
            n_alphas=self.n_alphas, alpha_min_ratio=self.alpha_min_ratio, fit_baseline_model=True
        )
        pipeline = preprocessed(path).fit(x, target)
        alphas = pipeline[-1].alphas_
        events = target["event"]
        folds = min(self.n_inner, int(events.sum()), int((~events).sum()) or self.n_inner)
        scores = np.zeros(len(alphas))
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for train, test in cv.split(x, events):
                inner = preprocessed(self._coxnet(alphas=alphas)).fit(x.iloc[train], target[train])
                z = inner[:-1].transform(x.iloc[test])
                scores += [
                    concordance_index(
                        target["time"][test], events[test], inner[-1].predict(z, alpha=a)
                    )
                    for a in alphas
                ]
            scores /= folds
        self.inner_scores_ = scores
        self.alpha_ = float(alphas[int(np.nanargmax(scores))] if folds >= 2 else alphas[-1])
        return pipeline

    def _predict_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha_}


class RandomSurvivalForestBaseline(_CohortSurvival):
    """Concatenation → mean imputation → random survival forest (sqrt features per split).

    Parameters
    ----------
    n_estimators : int
        Trees (default: ``100``).
    min_samples_leaf : int
        Smallest leaf (default: ``10``).
    random_state : int
        Seed.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd")).rename("s{}".format)
    >>> times = pd.DataFrame({"time": rng.exponential(np.exp(-x["a"])), "event": True},
    ...                      index=x.index)
    >>> forest = RandomSurvivalForestBaseline(n_estimators=20)
    >>> forest.fit(Cohort({"mRNA": x}, survival=times)).predict_survival(
    ...     Cohort({"mRNA": x.head(2)}), [0.5, 1.0]).shape
    (2, 2)
    """

    _param_constraints: ClassVar[Constraints] = {
        "n_estimators": [Interval(int, 1, None)],
        "min_samples_leaf": [Interval(int, 1, None)],
        "random_state": _SEED,
    }

    def __init__(
        self, n_estimators: int = 100, min_samples_leaf: int = 10, random_state: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _fit_model(self, x: pd.DataFrame, target: np.ndarray) -> Pipeline:
        from sksurv.ensemble import RandomSurvivalForest

        forest = RandomSurvivalForest(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
            n_jobs=1,
        )
        return Pipeline([("impute", SimpleImputer()), ("model", forest)]).fit(x, target)
