"""Read YAML configuration files safely: plain data only, no aliases, clear errors.

YAML aliases (``*name``) let a few hundred bytes expand into gigabytes ("billion laughs"), and
the expansion happens while a document is loaded, before any validation can look at it.
Configuration files never need them, so :func:`load_yaml` refuses every anchor and alias while
composing the document, before a single value is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent

from kg._exceptions import ParseError
from kg._source import PathLike

__all__ = ["load_yaml"]


class _NoAliasLoader(yaml.SafeLoader):
    """:class:`yaml.SafeLoader` that refuses anchors (``&name``) and aliases (``*name``)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            kind = "alias" if isinstance(event, AliasEvent) else "anchor"
            sign = "*" if kind == "alias" else "&"
            msg = (
                f"YAML {kind} {sign}{event.anchor} is not allowed in a kgfusion config "
                "(aliases can expand without bound); write the value out in full"
            )
            raise _Refused(msg, event.start_mark)
        return super().compose_node(parent, index)


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark: yaml.Mark) -> None:
        super().__init__(message)
        self.problem = message
        self.problem_mark = mark


def load_yaml(path: PathLike) -> Any:
    """Parse one YAML document of plain data (mappings, lists, scalars).

    Only YAML's safe tags are understood (no Python objects), and anchors and aliases are
    refused, so a small file cannot expand into a huge object. An empty file gives ``None``.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    Any
        The document as built from dicts, lists, strings, numbers, booleans and ``None``.

    Raises
    ------
    ParseError
        If the file cannot be read or decoded as UTF-8, is not valid YAML, or uses an anchor or
        alias; the message names the file and, where known, the line.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "ok.yaml").write_text("sources: [{path: a.obo, format: obo}]\\n")
    >>> load_yaml(folder / "ok.yaml")
    {'sources': [{'path': 'a.obo', 'format': 'obo'}]}
    >>> _ = (folder / "bomb.yaml").write_text("a: &x [1, 2]\\nb: [*x, *x]\\n")
    >>> load_yaml(folder / "bomb.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kg._exceptions.ParseError: ...bomb.yaml:1: YAML anchor &x is not allowed in a kgfusion config ...
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ParseError(f"cannot read the file: {error.strerror or error}", path) from None
    except UnicodeDecodeError as error:
        msg = f"not UTF-8 text (byte {error.start} is {error.object[error.start]:#04x}); save it as UTF-8"
        raise ParseError(msg, path) from None
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or error
        msg = problem if isinstance(error, _Refused) else f"not valid YAML: {problem}"
        raise ParseError(msg, path, mark.line + 1 if mark is not None else None) from None
