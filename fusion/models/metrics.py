"""Out-of-sample metrics: accuracy, F1, ROC-AUC (binary and one-vs-rest) and Harrell's C-index."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from fusion._exceptions import InvalidParameterError

__all__ = ["classification_metrics", "concordance_index", "survival_metrics"]

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


def survival_metrics(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> dict[str, float]:
    """``{"c_index": ...}`` (see :func:`concordance_index`)."""
    return {"c_index": concordance_index(time, event, risk)}


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
