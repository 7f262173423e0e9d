"""Per-modality preprocessing in scikit-learn style: fit on training samples only.

Each transformer takes a :class:`~fusion.Cohort` and returns a new one with the same samples,
modalities, labels, split and presence mask. Statistics are fitted per modality on the rows
*present* in the fitting cohort (NaN cells ignored), so absent modalities never contribute and
are never filled. Fit on the training part of a split (``cohort.subset(train_ids)``) and
transform the rest, to keep held-out samples out of every statistic.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from fusion._exceptions import AlignmentError, CohortError, InvalidParameterError, NotFittedError
from fusion.data.cohort import Cohort

__all__ = ["ModalityImputer", "ModalityScaler", "VarianceFilter"]

logger = logging.getLogger(__name__)


def _invalid(owner: object, name: str, expected: str, got: object) -> InvalidParameterError:
    msg = (
        f"The {name!r} parameter of {type(owner).__name__} must be {expected}. Got {got!r} instead."
    )
    return InvalidParameterError(msg)


class _CohortTransformer(BaseEstimator):
    """Fit per modality on present rows; transform every selected modality of a cohort."""

    modalities: Sequence[str] | None

    def _validate_params(self) -> None:
        if self.modalities is not None and (
            isinstance(self.modalities, str) or not all(isinstance(m, str) for m in self.modalities)
        ):
            raise _invalid(
                self, "modalities", "None or a sequence of modality names", self.modalities
            )

    def _fit_modality(self, name: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _transform_modality(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def fit(self, cohort: Cohort, y: object = None) -> _CohortTransformer:
        """Fit on the present rows of each selected modality of ``cohort``.

        Parameters
        ----------
        cohort : Cohort
            The training cohort; no other sample influences the fitted state.
        y : ignored
            For scikit-learn compatibility.

        Returns
        -------
        self
        """
        self._validate_params()
        names = list(cohort) if self.modalities is None else list(self.modalities)
        unknown = [n for n in names if n not in cohort]
        if unknown:
            msg = f"{type(self).__name__}: no modalities {unknown} in the cohort ({list(cohort)})."
            raise AlignmentError(msg)
        self._reset()
        for name in names:
            frame = cohort[name]
            if frame.shape[0] == 0:
                msg = (
                    f"{type(self).__name__}: modality {name!r} has no samples present in the "
                    "fitting cohort; exclude it with modalities=[...]."
                )
                raise CohortError(msg)
            self._fit_modality(name, frame)
        self.modalities_ = tuple(names)
        self.feature_names_in_ = {n: cohort[n].columns for n in names}
        self.samples_fit_ = cohort.samples
        self.n_samples_fit_ = {n: cohort[n].shape[0] for n in names}
        logger.debug(
            "%s fitted on %d samples: %s",
            type(self).__name__,
            cohort.n_samples,
            self.n_samples_fit_,
        )
        return self

    def _reset(self) -> None:
        """Clear fitted state (subclasses create their dicts here)."""

    def transform(self, cohort: Cohort) -> Cohort:
        """Transform each fitted modality of ``cohort``; other modalities pass unchanged.

        Raises :class:`~fusion.NotFittedError` before :meth:`fit`, and
        :class:`~fusion.AlignmentError` when a modality or its features differ from the fit.
        """
        try:
            check_is_fitted(self)
        except _SklearnNotFittedError as err:
            raise NotFittedError(str(err)) from None
        new = {}
        for name in self.modalities_:
            if name not in cohort:
                msg = f"{type(self).__name__} was fitted on modality {name!r}, absent here."
                raise AlignmentError(msg)
            frame, fitted = cohort[name], self.feature_names_in_[name]
            if not frame.columns.equals(fitted):
                missing, extra = fitted.difference(frame.columns), frame.columns.difference(fitted)
                if len(missing) or len(extra):
                    msg = (
                        f"modality {name!r}: features differ from fit: missing {list(missing[:5])} "
                        f"({len(missing)}), unseen {list(extra[:5])} ({len(extra)})."
                    )
                    raise AlignmentError(msg)
                frame = frame[fitted]
            new[name] = self._transform_modality(name, frame)
        return cohort.with_data(new)

    def fit_transform(self, cohort: Cohort, y: object = None) -> Cohort:
        """:meth:`fit` then :meth:`transform` the same cohort."""
        return self.fit(cohort, y).transform(cohort)


class ModalityScaler(_CohortTransformer):
    """Scale each feature of each modality, fitted per modality on the rows present.

    Parameters
    ----------
    method : {"standard", "minmax"}, default "standard"
        ``"standard"``: subtract the mean, divide by the standard deviation (ddof=0);
        ``"minmax"``: map the fitted range to [0, 1]. Constant features get scale 1.
    modalities : sequence of str, optional
        Modalities to scale; default all.

    Attributes
    ----------
    center_, scale_ : dict of str to Series
        Per modality, per feature: ``x' = (x - center) / scale``.
    samples_fit_ : Index
        The samples of the fitting cohort (nothing else was seen).

    Examples
    --------
    >>> rna = pd.DataFrame({"g": [1.0, 3.0, 100.0]}, index=["a", "b", "c"])
    >>> c = Cohort({"mRNA": rna})
    >>> scaler = ModalityScaler().fit(c.subset(["a", "b"]))
    >>> scaler.center_["mRNA"].tolist(), scaler.scale_["mRNA"].tolist()
    ([2.0], [1.0])
    >>> scaler.transform(c)["mRNA"]["g"].tolist()
    [-1.0, 1.0, 98.0]
    """

    def __init__(
        self,
        method: Literal["standard", "minmax"] = "standard",
        modalities: Sequence[str] | None = None,
    ) -> None:
        self.method = method
        self.modalities = modalities

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.method not in ("standard", "minmax"):
            raise _invalid(self, "method", "a str among {'standard', 'minmax'}", self.method)

    def _reset(self) -> None:
        self.center_: dict[str, pd.Series] = {}
        self.scale_: dict[str, pd.Series] = {}

    def _fit_modality(self, name: str, frame: pd.DataFrame) -> None:
        empty = frame.columns[frame.isna().all().to_numpy()]
        if len(empty):
            logger.warning(
                "%s: %d features of %r have no value to fit; left unscaled: %s",
                type(self).__name__,
                len(empty),
                name,
                list(empty[:5]),
            )
        if self.method == "standard":
            center, scale = frame.mean(), frame.std(ddof=0)
        else:
            center, scale = frame.min(), frame.max() - frame.min()
        self.center_[name] = center.fillna(0.0)
        self.scale_[name] = scale.where(scale.notna() & (scale > 0), 1.0)

    def _transform_modality(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        return (frame - self.center_[name]) / self.scale_[name]


class VarianceFilter(_CohortTransformer):
    """Keep the most variable features of each modality (variance fitted on present rows).

    Parameters
    ----------
    top_k : int or mapping of str to int, optional
        Keep at most this many features per modality (all of them if fewer).
    threshold : float or mapping of str to float, optional
        Keep features whose variance is strictly greater. Applied before ``top_k``.
    modalities : sequence of str, optional
        Modalities to filter; default all.

    Attributes
    ----------
    variances_ : dict of str to Series
        Fitted variance (ddof=0, NaN ignored) per feature; NaN when a feature has no value.
    selected_ : dict of str to Index
        Kept features, in their original order.

    Examples
    --------
    >>> x = pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 0.0], "c": [0.0, 5.0]}, index=["s1", "s2"])
    >>> VarianceFilter(top_k=1).fit(Cohort({"mRNA": x})).selected_["mRNA"].tolist()
    ['c']
    >>> VarianceFilter(threshold=0.0).fit(Cohort({"mRNA": x})).selected_["mRNA"].tolist()
    ['a', 'c']
    """

    def __init__(
        self,
        top_k: int | Mapping[str, int] | None = None,
        threshold: float | Mapping[str, float] | None = None,
        modalities: Sequence[str] | None = None,
    ) -> None:
        self.top_k = top_k
        self.threshold = threshold
        self.modalities = modalities

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.top_k is None and self.threshold is None:
            raise _invalid(self, "top_k", "set (or threshold set)", None)
        ks = self.top_k.values() if isinstance(self.top_k, Mapping) else [self.top_k]
        if any(
            k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1)
            for k in ks
        ):
            raise _invalid(
                self, "top_k", "a positive int or a mapping of modality to positive int", self.top_k
            )
        ts = self.threshold.values() if isinstance(self.threshold, Mapping) else [self.threshold]
        if any(
            t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not t >= 0)
            for t in ts
        ):
            raise _invalid(
                self, "threshold", "a float >= 0 or a mapping of modality to float", self.threshold
            )

    def _reset(self) -> None:
        self.variances_: dict[str, pd.Series] = {}
        self.selected_: dict[str, pd.Index] = {}

    def _fit_modality(self, name: str, frame: pd.DataFrame) -> None:
        var = frame.var(ddof=0)
        self.variances_[name] = var
        keep = var.notna()
        threshold = (
            self.threshold.get(name) if isinstance(self.threshold, Mapping) else self.threshold
        )
        if threshold is not None:
            keep &= var > threshold
        top_k = self.top_k.get(name) if isinstance(self.top_k, Mapping) else self.top_k
        ranked = var[keep].sort_values(ascending=False, kind="stable")
        if top_k is not None:
            ranked = ranked.iloc[:top_k]
        if len(ranked) == 0:
            msg = f"VarianceFilter keeps no feature of modality {name!r} (threshold={threshold})."
            raise CohortError(msg)
        self.selected_[name] = frame.columns[frame.columns.isin(ranked.index)]
        logger.info("VarianceFilter: %r keeps %d of %d features", name, len(ranked), frame.shape[1])

    def _transform_modality(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[self.selected_[name]]


class ModalityImputer(_CohortTransformer):
    """Fill missing *values* inside present rows with per-feature training statistics.

    Whole missing modalities (absent rows) are never filled: the presence mask is unchanged.

    Parameters
    ----------
    strategy : {"mean", "median"}, default "mean"
        Statistic of the present training values of each feature.
    modalities : sequence of str, optional
        Modalities to impute; default all.

    Attributes
    ----------
    statistics_ : dict of str to Series
        The fill value per modality and feature.

    Examples
    --------
    >>> rna = pd.DataFrame({"g": [1.0, 3.0, np.nan]}, index=["a", "b", "c"])
    >>> prot = pd.DataFrame({"p": [np.nan]}, index=["c"])
    >>> c = Cohort({"mRNA": rna, "protein": prot})
    >>> out = ModalityImputer(modalities=["mRNA"]).fit_transform(c)
    >>> out["mRNA"]["g"].tolist(), out.presence["protein"].tolist()
    ([1.0, 3.0, 2.0], [False, False, True])
    """

    def __init__(
        self, strategy: Literal["mean", "median"] = "mean", modalities: Sequence[str] | None = None
    ) -> None:
        self.strategy = strategy
        self.modalities = modalities

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.strategy not in ("mean", "median"):
            raise _invalid(self, "strategy", "a str among {'mean', 'median'}", self.strategy)

    def _reset(self) -> None:
        self.statistics_: dict[str, pd.Series] = {}

    def _fit_modality(self, name: str, frame: pd.DataFrame) -> None:
        stats = frame.mean() if self.strategy == "mean" else frame.median()
        empty = stats.index[stats.isna().to_numpy()]
        if len(empty):
            msg = (
                f"ModalityImputer: {len(empty)} features of {name!r} have no training value to "
                f"impute from: {list(empty[:5])}; drop them first (e.g. VarianceFilter)."
            )
            raise CohortError(msg)
        self.statistics_[name] = stats

    def _transform_modality(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        n = int(frame.isna().to_numpy().sum())
        if n:
            logger.info("ModalityImputer: filled %d missing values of %r", n, name)
        return frame.fillna(self.statistics_[name])
