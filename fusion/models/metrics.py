"""Out-of-sample metrics: accuracy, F1, ROC-AUC (binary and one-vs-rest), Harrell's C-index and
the integrated Brier score of predicted survival functions (with a Breslow baseline hazard to turn
Cox risk scores into survival functions)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from fusion._exceptions import InvalidParameterError, LabelError

__all__ = [
    "breslow_survival",
    "checked_survival",
    "classification_metrics",
    "concordance_index",
    "evaluation_times",
    "integrated_brier_score",
    "survival_metrics",
]

_CHUNK = 2048


def concordance_index(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> float:
    """Harrell's concordance index of risk scores (higher risk = earlier event).

    A pair ``(i, j)`` is comparable when ``t_i < t_j`` and ``i`` had an event; it is concordant
    when ``risk_i > risk_j`` and counts one half when the risks tie. Pairs with equal times are
    not comparable. Returns NaN when no pair is comparable.

    Examples
    --------
    >>> concordance_index([1, 2, 3], [1, 1, 0], [3.0, 2.0, 1.0])
    1.0
    >>> concordance_index([1, 2, 3], [1, 1, 0], [1.0, 1.0, 1.0])
    0.5
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    if not (t.shape == e.shape == r.shape and t.ndim == 1):
        msg = f"time, event and risk must be 1-d arrays of one length; got shapes {t.shape}, {e.shape}, {r.shape}."
        raise InvalidParameterError(msg)
    if np.isnan(r).any():
        msg = "risk scores hold NaN; the model produced no finite prediction for some samples."
        raise InvalidParameterError(msg)
    concordant, comparable = 0.0, 0
    for start in range(0, len(t), _CHUNK):  # rows i in chunks: memory O(chunk × n)
        rows = slice(start, start + _CHUNK)
        pairs = (t[rows, None] < t[None, :]) & e[rows, None]
        higher = r[rows, None] > r[None, :]
        ties = r[rows, None] == r[None, :]
        comparable += int(pairs.sum())
        concordant += float((pairs & higher).sum()) + 0.5 * float((pairs & ties).sum())
    return concordant / comparable if comparable else float("nan")


def checked_survival(cohort: Any, owner: str) -> pd.DataFrame:
    """``cohort.survival`` (columns ``time``, ``event``) for fitting ``owner``, with one event at least.

    Raises
    ------
    LabelError
        The cohort has no survival, or no event (the message names ``owner``).
    """
    survival = cohort.survival
    if survival is None:
        msg = f"{owner}.fit needs a cohort with survival (time, event); this one has none."
        raise LabelError(msg)
    if not survival["event"].any():
        raise LabelError(f"{owner}.fit needs at least one event; the cohort has none.")
    return survival


def survival_metrics(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> dict[str, float]:
    """``{"c_index": ...}`` (see :func:`concordance_index`)."""
    return {"c_index": concordance_index(time, event, risk)}


def sksurv(owner: str) -> ModuleType:
    """The ``sksurv`` package, or an :class:`ImportError` naming ``owner`` and the extra."""
    try:
        return importlib.import_module("sksurv")
    except ImportError as err:
        msg = f"{owner} needs scikit-survival: pip install 'kgfusion[survival]'."
        raise ImportError(msg) from err


def _survival_arrays(time: ArrayLike, event: ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    t, e = np.asarray(time, dtype=float), np.asarray(event, dtype=bool)
    if t.ndim != 1 or t.shape != e.shape:
        msg = f"{what}: time and event must be 1-d arrays of one length; got shapes {t.shape}, {e.shape}."
        raise InvalidParameterError(msg)
    return t, e


def breslow_survival(
    train_risk: ArrayLike,
    train_time: ArrayLike,
    train_event: ArrayLike,
    risk: ArrayLike,
    times: ArrayLike,
) -> np.ndarray:
    """Survival functions ``S(t | x) = exp(-H0(t) exp(risk))`` of Cox log-risks at ``times``.

    The Breslow baseline cumulative hazard is fitted on the training log-risks ``r_j``:
    ``H0(t) = sum over events i with t_i <= t of 1 / sum_{j: t_j >= t_i} exp(r_j)``.

    Returns
    -------
    ndarray of shape (len(risk), len(times))

    Examples
    --------
    With equal risks it is the Nelson-Aalen estimate: ``H0(2) = 1/3 + 1/2``.

    >>> s = breslow_survival([0, 0, 0], [1, 2, 3], [1, 1, 1], [0.0], [2.0])
    >>> bool(np.isclose(s[0, 0], np.exp(-(1 / 3 + 1 / 2))))
    True
    """
    t, e = _survival_arrays(train_time, train_event, "breslow_survival")
    r = np.asarray(train_risk, dtype=float)
    if r.shape != t.shape:
        msg = f"breslow_survival: train_risk has shape {r.shape}, train_time {t.shape}."
        raise InvalidParameterError(msg)
    offset = r.max() if len(r) else 0.0  # exp(r - offset) keeps the sums finite
    weights = np.exp(r - offset)
    event_times = np.unique(t[e])
    at_risk = np.array([weights[t >= u].sum() for u in event_times])
    deaths = np.array([int((t[e] == u).sum()) for u in event_times])
    cumulative = np.cumsum(deaths / at_risk)
    steps = np.searchsorted(event_times, np.asarray(times, dtype=float), side="right")
    hazard = np.concatenate([[0.0], cumulative])[steps]
    relative = np.exp(np.asarray(risk, dtype=float) - offset)
    return np.exp(-np.outer(relative, hazard))


def evaluation_times(
    train_time: ArrayLike,
    train_event: ArrayLike,
    test_time: ArrayLike,
    quantiles: Sequence[float] = tuple(np.linspace(0.1, 0.9, 9)),
) -> np.ndarray:
    """Times at which to score survival functions: the ``quantiles`` of the training event times
    that fall inside the test follow-up ``[min, max)`` (unique, sorted).

    Examples
    --------
    >>> evaluation_times([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [1.5, 4.5], quantiles=(0.25, 0.5, 0.75))
    array([2., 3., 4.])
    """
    t, e = _survival_arrays(train_time, train_event, "evaluation_times")
    test = np.asarray(test_time, dtype=float)
    if not e.any() or not len(test):
        return np.empty(0)
    candidates = np.unique(np.quantile(t[e], list(quantiles)))
    return candidates[(candidates >= test.min()) & (candidates < test.max())]


def integrated_brier_score(
    train_time: ArrayLike,
    train_event: ArrayLike,
    test_time: ArrayLike,
    test_event: ArrayLike,
    survival: ArrayLike,
    times: ArrayLike,
) -> float:
    """The integrated Brier score of survival functions ``survival`` (``(n_test, len(times))``).

    Inverse-probability-of-censoring weighted, the censoring distribution estimated on the
    training part (:func:`sksurv.metrics.integrated_brier_score`); lower is better, 0.25 is an
    uninformative 0.5 everywhere. NaN with fewer than two ``times``. Needs the ``survival`` extra.

    Examples
    --------
    >>> t, e = [1.0, 2.0, 3.0, 4.0], [True, True, True, True]
    >>> perfect = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    >>> integrated_brier_score(t, e, t, e, perfect, [1.5, 2.5])
    0.0
    """
    times = np.asarray(times, dtype=float)
    if len(times) < 2:
        return float("nan")
    sksurv("integrated_brier_score")
    surv = importlib.import_module("sksurv.util").Surv
    train = surv.from_arrays(*reversed(_survival_arrays(train_time, train_event, "train")))
    test = surv.from_arrays(*reversed(_survival_arrays(test_time, test_event, "test")))
    metrics = importlib.import_module("sksurv.metrics")
    return float(metrics.integrated_brier_score(train, test, np.asarray(survival, float), times))


def classification_metrics(
    y_true: ArrayLike, proba: ArrayLike, classes: Sequence[object]
) -> dict[str, float]:
    """Accuracy, F1 and ROC-AUC of predicted class probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True classes, each one of ``classes``.
    proba : array-like of shape (n, k)
        Predicted probability of each of the ``k`` ``classes`` (columns in that order).
    classes : sequence
        The classes; with two, the second is the positive class.

    Returns
    -------
    dict
        ``acc``; ``f1`` (binary F1 of the positive class with two classes, else macro F1);
        ``f1_macro``; ``f1_weighted``; ``auc`` (binary ROC-AUC, else one-vs-rest macro AUC over
        the classes present in ``y_true``; NaN when only one class is present).

    Examples
    --------
    >>> m = classification_metrics(["a", "b", "b"], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], ["a", "b"])
    >>> round(m["acc"], 3), round(m["f1"], 3), m["auc"]
    (0.667, 0.667, 1.0)
    """
    y = np.asarray(y_true, dtype=object)
    p = np.asarray(proba, dtype=float)
    classes = list(classes)
    if p.ndim != 2 or p.shape != (len(y), len(classes)):
        msg = f"proba must have shape (n_samples, n_classes) = ({len(y)}, {len(classes)}); got {p.shape}."
        raise InvalidParameterError(msg)
    unknown = sorted({str(v) for v in y} - {str(c) for c in classes})
    if unknown:
        msg = f"y_true holds classes {unknown} not among the predicted classes {classes}."
        raise InvalidParameterError(msg)
    codes = np.array([[str(c) for c in classes].index(str(v)) for v in y])
    predicted = p.argmax(axis=1)
    labels = list(range(len(classes)))
    out = {
        "acc": float(accuracy_score(codes, predicted)),
        "f1_macro": float(
            f1_score(codes, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "f1_weighted": float(
            f1_score(codes, predicted, labels=labels, average="weighted", zero_division=0)
        ),
    }
    if len(classes) == 2:
        out["f1"] = float(
            f1_score(codes, predicted, pos_label=1, average="binary", zero_division=0)
        )
    else:
        out["f1"] = out["f1_macro"]
    present = np.unique(codes)
    if len(present) < 2:
        out["auc"] = float("nan")
    elif len(classes) == 2:
        out["auc"] = float(roc_auc_score(codes, p[:, 1]))
    else:
        scores = [roc_auc_score(codes == k, p[:, k]) for k in present]
        out["auc"] = float(np.mean(scores))
    return {key: out[key] for key in ("acc", "f1", "f1_macro", "f1_weighted", "auc")}
