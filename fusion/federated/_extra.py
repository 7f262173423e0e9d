"""Optional dependencies of :mod:`fusion.federated` (Flower, Opacus), with the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]

_EXTRA = "pip install 'kgfusion[federated]'"


def require(module: str) -> ModuleType:
    """Import ``module`` (e.g. ``"flwr.server"``, ``"opacus.accountants"``) of the ``federated`` extra.

    Raises
    ------
    ImportError
        Flower or Opacus is not installed; the message names the extra that installs them.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        msg = f"federated training needs {module.split('.')[0]!r} ({error}); install it with {_EXTRA}."
        raise ImportError(msg) from error
