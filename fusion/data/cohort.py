"""The :class:`Cohort`: multimodal patient data over one shared, aligned sample axis.

Modelled on MuData: each modality is a DataFrame (samples × features) whose rows are a subset of
the cohort's samples. A patient lacking a modality has *no row* in that modality's frame; the
boolean :attr:`Cohort.presence` mask (samples × modalities, like MuData's ``obsmap``) records it.
Nothing is zero-imputed: missing *values* inside a present row stay NaN and are reported by
:meth:`Cohort.missing_values`; missing *modalities* stay absent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from fusion._exceptions import AlignmentError, CohortError, LabelError, SplitError
from fusion.data._checks import check_frame as _check_frame
from fusion.data._checks import preview as _preview
from fusion.data._checks import sample_index as _sample_index
from fusion.data.modality import MODALITY_KINDS, Modality, ModalityKind

__all__ = ["MODALITY_KINDS", "Cohort", "Modality", "ModalityKind"]

logger = logging.getLogger(__name__)

_SPLITS = ("train", "test")


class Cohort:
    """Multimodal data of one patient cohort, aligned on a shared sample index.

    Parameters
    ----------
    data : mapping of str to DataFrame
        One frame per modality, samples × features, indexed by sample id (str). Rows are only
        the samples that *have* the modality; values are numeric, NaN allowed, inf refused.
    modalities : iterable of Modality, optional
        Metadata per modality (matched by name); a name missing here must name a kind
        (see :meth:`Modality.from_name`).
    labels : Series, optional
        Class of each sample (indexed by sample id, every sample labelled); stored categorical.
    survival : DataFrame, optional
        Columns ``time`` (finite, >= 0) and ``event`` (bool or 0/1), one row per sample.
    split : Series, optional
        ``"train"`` or ``"test"`` per sample, when the data defines an official split.
    samples : sequence of str, optional
        The sample axis; default the union of the frames' rows in order of first appearance.

    Examples
    --------
    >>> rna = pd.DataFrame({"g1": [1.0, 2.0, 3.0]}, index=["p1", "p2", "p3"])
    >>> prot = pd.DataFrame({"a1": [0.5]}, index=["p2"])
    >>> y = pd.Series(["x", "y", "x"], index=["p1", "p2", "p3"])
    >>> c = Cohort({"mRNA": rna, "protein": prot}, labels=y)
    >>> c
    Cohort with 3 samples × 2 modalities
        mRNA: 3 × 1 (mRNA)
        protein: 1 × 1 (protein)
        labels: 2 classes {'x': 2, 'y': 1}
    >>> c.presence["protein"].tolist()
    [False, True, False]
    >>> c.subset(["p3", "p1"]).samples.tolist()
    ['p3', 'p1']
    """

    def __init__(
        self,
        data: Mapping[str, pd.DataFrame],
        modalities: Iterable[Modality] | None = None,
        *,
        labels: pd.Series | None = None,
        survival: pd.DataFrame | None = None,
        split: pd.Series | None = None,
        samples: Iterable[str] | None = None,
    ) -> None:
        meta = {m.name: m for m in (modalities or ())}
        unknown = set(meta) - set(data)
        if unknown:
            msg = f"metadata for modalities without data: {_preview(sorted(unknown))}."
            raise CohortError(msg)
        frames = {name: _check_frame(name, frame) for name, frame in data.items()}
        union = _sample_index([])
        for frame in frames.values():
            union = union.append(frame.index[~frame.index.isin(union)])
        if samples is None:
            self._samples = _sample_index(union)
        else:
            self._samples = _sample_index(samples)
            if self._samples.duplicated().any():
                dup = self._samples[self._samples.duplicated()].unique()
                msg = f"duplicate sample ids {_preview(dup)}."
                raise CohortError(msg)
            extra = union[~union.isin(self._samples)]
            if len(extra):
                msg = f"modality rows for samples outside `samples`: {_preview(extra)}."
                raise AlignmentError(msg)
        self._data = {name: self._ordered(frame) for name, frame in frames.items()}
        self._modalities = {name: meta.get(name) or Modality.from_name(name) for name in frames}
        self._labels = None if labels is None else self._check_labels(labels)
        self._survival = None if survival is None else self._check_survival(survival)
        self._split = None if split is None else self._check_split(split)

    # --- validation -------------------------------------------------------------------------

    def _ordered(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[self._samples[self._samples.isin(frame.index)]]

    def _aligned(self, what: str, index: pd.Index) -> None:
        if index.duplicated().any():
            msg = f"{what}: duplicate sample ids {_preview(index[index.duplicated()].unique())}."
            raise CohortError(msg)
        extra = index[~index.isin(self._samples)]
        if len(extra):
            msg = f"{what} for samples with no data in any modality: {_preview(extra)}."
            raise AlignmentError(msg)
        missing = self._samples[~self._samples.isin(index)]
        if len(missing):
            msg = f"{what} missing for samples {_preview(missing)}; every sample needs one."
            raise LabelError(msg) if what == "labels" else AlignmentError(msg)

    def _check_labels(self, labels: pd.Series) -> pd.Series:
        self._aligned("labels", labels.index)
        labels = labels.reindex(self._samples)
        if labels.isna().any():
            msg = f"labels missing (NaN) for samples {_preview(labels.index[labels.isna()])}."
            raise LabelError(msg)
        if not isinstance(labels.dtype, pd.CategoricalDtype):
            labels = labels.astype(pd.CategoricalDtype(sorted(labels.unique())))
        return labels.rename("label")

    def _check_survival(self, survival: pd.DataFrame) -> pd.DataFrame:
        if list(survival.columns) != ["time", "event"]:
            got = list(survival.columns)
            msg = f"survival must have exactly the columns ['time', 'event']; got {got}."
            raise CohortError(msg)
        self._aligned("survival", survival.index)
        survival = survival.reindex(self._samples)
        time = pd.to_numeric(survival["time"], errors="coerce")
        bad = time.index[~np.isfinite(time.to_numpy(dtype=float)) | (time < 0).to_numpy()]
        if len(bad):
            msg = f"survival time must be finite and >= 0; bad for samples {_preview(bad)}."
            raise CohortError(msg)
        event = survival["event"]
        if not event.isin([0, 1, True, False]).all():
            bad = _preview(event.index[~event.isin([0, 1])])
            msg = f"survival event must be 0/1 or bool; bad for samples {bad}."
            raise CohortError(msg)
        return pd.DataFrame(
            {"time": time.astype(float), "event": event.astype(bool)}, index=self._samples
        )

    def _check_split(self, split: pd.Series, check_classes: bool = True) -> pd.Series:
        self._aligned("split", split.index)
        split = split.reindex(self._samples)
        bad = split.index[~split.isin(_SPLITS)]
        if len(bad):
            msg = f"split values must be 'train' or 'test'; bad for samples {_preview(bad)}."
            raise SplitError(msg)
        if check_classes and self._labels is not None and (split == "train").any():
            seen = set(self._labels[split == "train"])
            unseen = sorted(set(self._labels[split == "test"]) - seen, key=str)
            if unseen:
                msg = f"test labels hold classes unseen in the training labels: {unseen}."
                raise LabelError(msg)
        return split.astype(pd.CategoricalDtype(list(_SPLITS))).rename("split")

    # --- access -----------------------------------------------------------------------------

    @property
    def samples(self) -> pd.Index:
        """The shared sample axis."""
        return self._samples

    @property
    def modalities(self) -> dict[str, Modality]:
        """Metadata of each modality, in order."""
        return dict(self._modalities)

    @property
    def n_samples(self) -> int:
        """Number of samples (patients)."""
        return len(self._samples)

    @property
    def labels(self) -> pd.Series | None:
        """Categorical class of each sample, or ``None``."""
        return None if self._labels is None else self._labels.copy()

    @property
    def survival(self) -> pd.DataFrame | None:
        """Survival ``time``/``event`` per sample, or ``None``."""
        return None if self._survival is None else self._survival.copy()

    @property
    def split(self) -> pd.Series | None:
        """Official ``"train"``/``"test"`` assignment per sample, or ``None``."""
        return None if self._split is None else self._split.copy()

    @property
    def presence(self) -> pd.DataFrame:
        """Boolean mask, samples × modalities: does the sample have a row in that modality."""
        return pd.DataFrame(
            {name: self._samples.isin(frame.index) for name, frame in self._data.items()},
            index=self._samples,
            dtype=bool,
        )

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._data:
            msg = f"no modality {name!r}; modalities are {list(self._data)}."
            raise KeyError(msg)
        return self._data[name].copy(deep=False)

    def __setitem__(self, name: str, value: pd.DataFrame | tuple[pd.DataFrame, Modality]) -> None:
        frame, meta = value if isinstance(value, tuple) else (value, self._modalities.get(name))
        meta = meta or Modality.from_name(name)
        if meta.name != name:
            msg = f"Modality named {meta.name!r} assigned to key {name!r}."
            raise CohortError(msg)
        frame = _check_frame(name, frame)
        extra = frame.index[~frame.index.isin(self._samples)]
        if len(extra):
            msg = f"modality {name!r} has rows for samples not in the cohort: {_preview(extra)}."
            raise AlignmentError(msg)
        self._data[name] = self._ordered(frame)
        self._modalities[name] = meta

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __repr__(self) -> str:
        lines = [f"Cohort with {self.n_samples} samples × {len(self._data)} modalities"]
        for name, frame in self._data.items():
            meta = self._modalities[name]
            scheme = f", {meta.id_scheme}" if meta.id_scheme else ""
            lines.append(f"    {name}: {frame.shape[0]} × {frame.shape[1]} ({meta.kind}{scheme})")
        if self._labels is not None:
            counts = self.label_counts().to_dict()
            lines.append(f"    labels: {len(counts)} classes {counts}")
        if self._survival is not None:
            lines.append(f"    survival: {int(self._survival['event'].sum())} events")
        if self._split is not None:
            counts = self._split.value_counts().to_dict()
            lines.append(f"    split: {counts['train']} train / {counts['test']} test")
        return "\n".join(lines)

    # --- reports ----------------------------------------------------------------------------

    def label_counts(self) -> pd.Series:
        """Number of samples per class (all classes, in category order)."""
        if self._labels is None:
            msg = "this cohort has no labels."
            raise LabelError(msg)
        return self._labels.value_counts(sort=False)

    def absent_samples(self) -> dict[str, pd.Index]:
        """For each modality, the samples that lack it."""
        presence = self.presence
        return {name: self._samples[~presence[name].to_numpy()] for name in self._data}

    def missing_values(self) -> pd.DataFrame:
        """Missing values (NaN) inside present rows, per modality.

        Returns
        -------
        DataFrame
            Indexed by modality: ``n_missing_cells``, ``missing_pct`` (of present cells),
            ``n_features_with_missing``, ``n_rows_all_missing`` and ``features_with_missing``
            (a list of feature names).
        """
        rows = {}
        for name, frame in self._data.items():
            isna = frame.isna()
            per_feature = isna.sum(axis=0)
            rows[name] = {
                "n_missing_cells": int(per_feature.sum()),
                "missing_pct": 100.0 * float(per_feature.sum()) / max(frame.size, 1),
                "n_features_with_missing": int((per_feature > 0).sum()),
                "n_rows_all_missing": int(isna.all(axis=1).sum()),
                "features_with_missing": list(frame.columns[per_feature.to_numpy() > 0]),
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def summary(self) -> pd.DataFrame:
        """One row per modality: kind, id scheme, samples present, features, missing %, balance.

        With a split, ``n_train``/``n_test`` count the present samples of each part; with labels,
        one ``label=<class>`` column per class counts the present samples of that class.
        """
        presence = self.presence
        missing = self.missing_values()
        out = pd.DataFrame(index=pd.Index(list(self._data), name="modality"))
        out["kind"] = [m.kind for m in self._modalities.values()]
        out["id_scheme"] = [m.id_scheme or "" for m in self._modalities.values()]
        out["n_samples"] = [f.shape[0] for f in self._data.values()]
        out["n_features"] = [f.shape[1] for f in self._data.values()]
        out["missing_pct"] = missing["missing_pct"].round(3) if len(missing) else []
        if self._split is not None:
            for part in _SPLITS:
                out[f"n_{part}"] = [
                    int((presence[n] & (self._split == part)).sum()) for n in self._data
                ]
        if self._labels is not None:
            for cls in self._labels.cat.categories:
                out[f"label={cls}"] = [
                    int((presence[n] & (self._labels == cls)).sum()) for n in self._data
                ]
        return out

    # --- derived cohorts --------------------------------------------------------------------

    def subset(self, samples: Iterable[str]) -> Cohort:
        """A new cohort restricted to ``samples`` (in that order); every modality is kept.

        Raises :class:`~fusion.AlignmentError` for ids not in the cohort.
        """
        ids = _sample_index(samples)
        unknown = ids[~ids.isin(self._samples)]
        if len(unknown):
            msg = f"cannot subset: samples not in the cohort: {_preview(unknown)}."
            raise AlignmentError(msg)
        if ids.duplicated().any():
            msg = f"cannot subset: duplicate sample ids {_preview(ids[ids.duplicated()].unique())}."
            raise CohortError(msg)
        data = {name: frame.loc[ids[ids.isin(frame.index)]] for name, frame in self._data.items()}
        labels = None if self._labels is None else self._labels.loc[ids]
        if labels is not None:  # keep every class, so that fold cohorts share categories
            labels = labels.astype(self._labels.dtype)
        out = Cohort(
            data,
            self._modalities.values(),
            labels=labels,
            survival=None if self._survival is None else self._survival.loc[ids],
            samples=ids,
        )
        if self._split is not None:  # a subset may hold test classes its train part lacks
            out._split = out._check_split(self._split.loc[ids], check_classes=False)
        return out

    def train_test(self) -> tuple[Cohort, Cohort]:
        """The official split as two cohorts ``(train, test)``.

        Raises :class:`~fusion.SplitError` when the cohort defines no split.
        """
        if self._split is None:
            msg = "this cohort defines no official train/test split; use fusion.stratified_split."
            raise SplitError(msg)
        train = self._samples[(self._split == "train").to_numpy()]
        test = self._samples[(self._split == "test").to_numpy()]
        return self.subset(train), self.subset(test)

    def with_data(self, data: Mapping[str, pd.DataFrame]) -> Cohort:
        """A new cohort with the frames of some modalities replaced (metadata and axes kept).

        Used by transformers; each new frame is validated like any other.
        """
        unknown = [name for name in data if name not in self._data]
        if unknown:
            msg = f"no modalities {unknown} to replace; modalities are {list(self._data)}."
            raise KeyError(msg)
        return Cohort(
            {name: data.get(name, frame) for name, frame in self._data.items()},
            self._modalities.values(),
            labels=self._labels,
            survival=self._survival,
            split=self._split,
            samples=self._samples,
        )

    def copy(self) -> Cohort:
        """A deep copy."""
        return self.subset(self._samples)
