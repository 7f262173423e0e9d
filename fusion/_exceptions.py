"""Exception hierarchy of :mod:`fusion`.

Every error raised on bad input derives from :class:`FusionError` and from the builtin exception
that matches its meaning, so callers may catch either. Messages name the file, row, sample and
column at fault where there is one, what was expected, and how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg import ParseError

__all__ = [
    "AlignmentError",
    "CheckpointError",
    "CohortError",
    "DataFileError",
    "FusionError",
    "InvalidParameterError",
    "LabelError",
    "LabelFileError",
    "ModelError",
    "NotFittedError",  # noqa: F822 (built on first use, see __getattr__)
    "SplitError",
]


class FusionError(Exception):
    """Base class of every error raised by :mod:`fusion`."""


class CohortError(FusionError, ValueError):
    """A cohort (or the data it is built from) violates a contract: shapes, ids, values."""


class DataFileError(CohortError, ParseError):
    """A data file holds bad content; the message starts with ``path:row:``.

    Also a :class:`kg.ParseError` (``line`` is ``row``), so one ``except ParseError`` catches a
    bad ontology file and a bad cohort file alike.

    Parameters
    ----------
    message : str
        What was wrong and how to fix it.
    path : str or Path, optional
        The file at fault.
    row : int, optional
        1-based line number within ``path`` (for Parquet files: 1-based record number).
    sample : str, optional
        The sample id of that row, when known.
    column : str, optional
        The column (feature) at fault, when there is one.
    value : str, optional
        The offending cell, as read.

    Examples
    --------
    >>> err = DataFileError("non-numeric value 'x'", path="a.csv", row=3, sample="s2", column="g1")
    >>> str(err)
    "a.csv:3: non-numeric value 'x'"
    >>> err.sample, err.column
    ('s2', 'g1')
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        row: int | None = None,
        sample: str | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.row = row
        self.sample = sample
        self.column = column
        self.value = value
        super().__init__(message, path, row)  # ParseError's, next in the MRO with an __init__

    def __reduce__(
        self,
    ) -> tuple[type, tuple[str, str | None, int | None, str | None, str | None, str | None]]:
        return type(self), (self.message, self.path, self.row, self.sample, self.column, self.value)


class AlignmentError(CohortError):
    """Sample or feature axes do not line up (unknown samples, features differing from fit)."""


class LabelError(CohortError):
    """Labels are missing, malformed, or hold classes unseen in the training labels."""


class LabelFileError(DataFileError, LabelError):
    """A label file holds a bad label (e.g. a test class unseen in the training labels)."""


class SplitError(CohortError):
    """A train/test split is missing or cannot be made (e.g. too few samples in a class)."""


class InvalidParameterError(FusionError, ValueError):
    """A parameter of a function or estimator has an invalid value or type."""


class CheckpointError(InvalidParameterError):
    """A model folder is missing, corrupt or not a kgfusion model; the message names the file.

    Also an :class:`InvalidParameterError` (the ``path`` given does not name a usable model).
    """


class ModelError(FusionError, ValueError):
    """A fitted model gives no valid prediction (non-finite outputs); the message names the
    patients."""


def _not_fitted_error() -> type:
    """Build :class:`NotFittedError` (scikit-learn is imported on first use, not at start-up)."""
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    return type(
        "NotFittedError",
        (FusionError, SklearnNotFittedError),
        {
            "__doc__": "An estimator was used before :meth:`fit`; also scikit-learn's "
            "``NotFittedError`` (a ValueError and AttributeError).",
            "__module__": __name__,
        },
    )


def __getattr__(name: str) -> Any:
    # NotFittedError subclasses scikit-learn's; building it lazily keeps `kgfusion --help` and the
    # kg commands free of the scikit-learn import (most of their start-up time otherwise).
    if name == "NotFittedError":
        globals()[name] = cls = _not_fitted_error()
        return cls
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
