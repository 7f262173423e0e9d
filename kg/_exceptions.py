"""Exception hierarchy of :mod:`kg`.

Every error raised on bad input derives from :class:`KGError` and from the builtin exception
that matches its meaning, so callers may catch either. Messages name the file and the line
or id at fault, what was expected, and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AmbiguousIdError",
    "ConflictingDefinitionError",
    "CycleError",
    "DanglingReferenceError",
    "ForeignFolderError",
    "KGError",
    "ParseError",
    "UnknownFormatError",
    "UnknownNodeError",
    "UnknownNodeTypeError",
    "UnsafeRDFError",
]


class KGError(Exception):
    """Base class of every error raised by :mod:`kg`."""


def _where(path: str | Path | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{path}:{line}: " if line is not None else f"{path}: "


class ParseError(KGError, ValueError):
    """A source file could not be parsed.

    Parameters
    ----------
    message : str
        What was wrong and how to fix it.
    path : str or Path, optional
        The file at fault.
    line : int, optional
        1-based line number within ``path``.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(f"{_where(path, line)}{message}")

    def __reduce__(self) -> tuple[type, tuple[str, str | None, int | None]]:
        # keep path and line when the error crosses a process boundary (parallel builds)
        return type(self), (self.message, self.path, self.line)


class UnknownFormatError(KGError, ValueError):
    """A source names a format that no reader handles."""


class DanglingReferenceError(ParseError):
    """An edge points to a term that the source never declares."""


class CycleError(ParseError):
    """A relation that must be acyclic (e.g. ``is_a``) contains a cycle."""


class ConflictingDefinitionError(ParseError):
    """The same id is declared twice with conflicting attributes (e.g. names)."""


class UnsafeRDFError(ParseError):
    """An RDF/XML document declares a DTD or entities; it is refused, never expanded or fetched."""


class UnknownNodeError(KGError, KeyError):
    """A node id is not in the knowledge graph."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class UnknownNodeTypeError(KGError, ValueError):
    """A node type is not present in the knowledge graph."""


class AmbiguousIdError(KGError, LookupError):
    """An identifier (e.g. a gene alias) resolves to several nodes and none can be preferred."""


class ForeignFolderError(KGError, FileExistsError):
    """An output folder exists and holds something kgfusion did not write; it is never replaced."""
