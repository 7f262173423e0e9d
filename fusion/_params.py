"""Declarative validation of parameters shared by :mod:`fusion`'s packages.

A *constraint table* maps each parameter name to the constraints its value may satisfy (any one
of them); :func:`validate_parameter_constraints` checks a mapping of values against it and
raises :class:`~fusion.InvalidParameterError` with scikit-learn's message, "The 'x' parameter
of F must be ... Got ... instead.", built in one place (:func:`invalid_parameter`).

Examples
--------
>>> constraints = {
...     "lr": [Interval(float, 0, None, closed="neither")],
...     "hidden": [Interval(int, 1, None)],
...     "device": [StrOptions({"cpu", "cuda"}), None],
... }
>>> validate_parameter_constraints(constraints, {"lr": 0.01, "hidden": 4}, "F")
>>> validate_parameter_constraints(constraints, {"lr": "fast"}, "F")
Traceback (most recent call last):
...
fusion._exceptions.InvalidParameterError: The 'lr' parameter of F must be a float in the range (0, inf). Got 'fast' instead.
>>> validate_parameter_constraints(constraints, {"device": "tpu"}, "F")
Traceback (most recent call last):
...
fusion._exceptions.InvalidParameterError: The 'device' parameter of F must be a str among {'cpu', 'cuda'} or None. Got 'tpu' instead.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from fusion._exceptions import InvalidParameterError

__all__ = [
    "Boolean",
    "Constraint",
    "Constraints",
    "InstanceOf",
    "Interval",
    "ListOf",
    "Pattern",
    "StrOptions",
    "check_positive",
    "invalid_parameter",
    "shown",
    "validate_parameter_constraints",
]

_SHOWN = 80  # characters of a value echoed in a message


class Constraint(Protocol):
    """What a value may be: ``is_satisfied_by(value)``, and ``str()`` says it in words."""

    def is_satisfied_by(self, value: object) -> bool: ...


#: A constraint table: parameter name → the constraints of which its value satisfies one.
Constraints = Mapping[str, Sequence["Constraint | None"]]


def shown(value: object) -> str:
    """``repr(value)`` for messages: numpy scalars as Python ones, long text truncated.

    >>> shown(np.int64(3)), shown(np.float64(0.5)), shown("x" * 100)[-5:]
    ('3', '0.5', "...'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 4]}...{text[-1]}"


def invalid_parameter(name: str, owner: str, expected: str, value: object) -> InvalidParameterError:
    """scikit-learn's message as an :class:`~fusion.InvalidParameterError` (to raise).

    >>> str(invalid_parameter("k", "top", "an int in the range [1, inf)", 0))
    "The 'k' parameter of top must be an int in the range [1, inf). Got 0 instead."
    """
    msg = f"The {name!r} parameter of {owner} must be {expected}. Got {shown(value)} instead."
    return InvalidParameterError(msg)


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Interval:
    """A number of type ``type`` (``int``, or ``float`` which also admits ints) in a range.

    ``None`` bounds are infinite (and never reached: infinities and NaN are refused). ``closed``
    says which finite bounds belong to the range.
    """

    type: type
    left: float | None
    right: float | None
    closed: Literal["left", "right", "both", "neither"] = "both"

    def is_satisfied_by(self, value: object) -> bool:
        kind = numbers.Integral if self.type is int else numbers.Real
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
            return False
        if not math.isfinite(value):  # type: ignore[arg-type]
            return False
        low, high = self.left, self.right
        if low is not None and (
            value < low or (value == low and self.closed in ("right", "neither"))
        ):
            return False
        return high is None or not (
            value > high or (value == high and self.closed in ("left", "neither"))
        )

    def __str__(self) -> str:
        kind = "an int" if self.type is int else "a float"
        left, right = "(-inf", "inf)"
        if self.left is not None:
            left = ("[" if self.closed in ("left", "both") else "(") + _bound(self.left)
        if self.right is not None:
            right = _bound(self.right) + ("]" if self.closed in ("right", "both") else ")")
        return f"{kind} in the range {left}, {right}"


@dataclass(frozen=True)
class StrOptions:
    """One of a set of strings."""

    options: Collection[str]

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(o) for o in sorted(self.options)) + "}"


@dataclass(frozen=True)
class Pattern:
    """A string matching a regular expression entirely; ``description`` says it in words."""

    regex: str
    description: str

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(self.regex, value) is not None

    def __str__(self) -> str:
        return self.description


@dataclass(frozen=True)
class InstanceOf:
    """An instance of ``type``, named ``name`` in messages (default its qualified name)."""

    type: type
    name: str | None = None

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, self.type)

    def __str__(self) -> str:
        return f"an instance of {self.name or self.type.__qualname__!r}"


@dataclass(frozen=True)
class ListOf:
    """A list or tuple whose items are all of ``type``."""

    type: type

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, (list, tuple)) and all(isinstance(v, self.type) for v in value)

    def __str__(self) -> str:
        return f"a list of {self.type.__name__}"


@dataclass(frozen=True)
class Boolean:
    """``True`` or ``False`` (numpy booleans too)."""

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "a bool"


def _satisfied(constraint: Constraint | None, value: object) -> bool:
    return value is None if constraint is None else constraint.is_satisfied_by(value)


def _expected(constraints: Sequence[Constraint | None]) -> str:
    words = ["None" if c is None else str(c) for c in constraints]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def validate_parameter_constraints(
    constraints: Mapping[str, Sequence[Constraint | None]],
    params: Mapping[str, Any],
    owner: str,
) -> None:
    """Check every value of ``params`` that ``constraints`` names (others pass unchecked).

    Parameters
    ----------
    constraints : mapping of str to sequence of constraints
        Per parameter, the constraints of which the value must satisfy at least one; ``None``
        among them admits ``None``.
    params : mapping of str to object
        Parameter values.
    owner : str
        The function or class named in messages.

    Raises
    ------
    InvalidParameterError
        For the first value (in ``params`` order) that satisfies none of its constraints.
    """
    for name, value in params.items():
        options = constraints.get(name)
        if options is not None and not any(_satisfied(c, value) for c in options):
            raise invalid_parameter(name, owner, _expected(options), value)


def check_positive(name: str, value: object, owner: str) -> int:
    """``value`` as a positive int, else :class:`~fusion.InvalidParameterError` (a ValueError)."""
    if not Interval(int, 1, None).is_satisfied_by(value):
        raise invalid_parameter(name, owner, "a positive int", value)
    return int(value)  # type: ignore[call-overload]
