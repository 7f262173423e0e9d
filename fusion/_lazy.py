"""Lazy public names for :mod:`fusion`'s packages (PEP 562).

Each package's ``__init__`` lists its public names and the module that defines each; the module
is imported on first access, so that ``import fusion`` and the ``kgfusion`` command line start
without importing torch or scikit-learn until a command needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package`` whose names live in submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name → the module that defines it (a name may be ``"module:attribute"`` when the
        module's attribute is called differently).
    namespace : dict
        The package's ``globals()``; a name is cached there after its first lookup.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        module, _, attribute = exports[name].partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return list(exports), __getattr__, __dir__
