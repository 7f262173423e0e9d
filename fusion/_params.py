"""Validation of parameters shared by :mod:`fusion`'s packages.

Messages follow scikit-learn's: "The 'x' parameter of F must be ... Got ... instead."
"""

from __future__ import annotations

import numpy as np

from fusion._exceptions import InvalidParameterError

__all__ = ["check_positive"]


def check_positive(name: str, value: object, owner: str) -> int:
    """``value`` as a positive int, else :class:`~fusion.InvalidParameterError` (a ValueError)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        msg = f"The {name!r} parameter of {owner} must be a positive int. Got {value!r} instead."
        raise InvalidParameterError(msg)
    return int(value)
