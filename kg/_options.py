"""Check a source's reader options against the reader's own signature and type hints.

A config names reader options as plain YAML data; a typo or an unknown value must fail when
the config is read, naming the key and what is allowed, not deep inside a reader (``read_obo()
got an unexpected keyword argument``) or never (``on_dangling: maybe`` silently accepted).
Allowed keys are the reader's keyword parameters; ``Literal`` options (``OnDangling``,
``on_invalid``, ...) must hold one of their values, ``bool``/``str``/``int`` options a value of
that type. Options with other hints (``Iterable[str]``, ...) are passed to the reader unchecked.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Collection, Mapping
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

__all__ = ["option_problem"]


@cache
def _parameters(reader: Callable[..., Any], injected: frozenset[str]) -> dict[str, Any]:
    """Keyword options of ``reader`` (all but its first, the path) with their resolved hints."""
    from kg.normalize import GeneNormalizer  # named only under TYPE_CHECKING in the readers

    hints = typing.get_type_hints(reader, localns={"GeneNormalizer": GeneNormalizer})
    parameters = list(inspect.signature(reader).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        msg = f"{reader.__name__} takes **kwargs; its options cannot be checked"
        raise TypeError(msg)
    return {p.name: hints.get(p.name, Any) for p in parameters if p.name not in injected}


def _expected(hint: Any, value: Any) -> str | None:
    """``None`` when ``value`` fits ``hint``, else what the hint expects, in words."""
    union = get_origin(hint) in (Union, types.UnionType)
    members = get_args(hint) if union else (hint,)
    literals: list[Any] = []
    classes: list[type] = []
    for member in members:
        if get_origin(member) is Literal:
            literals.extend(get_args(member))
        elif member is type(None):
            literals.append(None)
        elif isinstance(member, type) and get_origin(member) is None:
            classes.append(member)
        else:
            return None  # a generic hint (Iterable[str], ...): left to the reader
    if any(value == allowed and type(value) is type(allowed) for allowed in literals):
        return None
    if isinstance(value, bool):  # True is an int to isinstance, never to an option
        fits = bool in classes
    else:
        fits = isinstance(value, tuple(classes)) or (float in classes and isinstance(value, int))
    if fits:
        return None
    words = [f"one of {[v for v in literals if v is not None]}"] if literals else []
    words += [f"a {c.__name__}" for c in classes if c.__module__ == "builtins"]
    words += ["a path"] if any(c.__module__ == "pathlib" for c in classes) else []
    words += ["null"] if None in literals else []
    return " or ".join(words) or str(hint)


def option_problem(
    reader: Callable[..., Any], options: Mapping[str, Any], injected: Collection[str] = ()
) -> tuple[str, str] | None:
    """The first invalid option of a source as ``(key, what is wrong)``, or ``None``.

    Parameters
    ----------
    reader : callable
        The source format's reader; its keyword parameters are the allowed options.
    options : mapping
        The options a config gives.
    injected : collection of str
        Parameters the builder passes itself (the gene normaliser); not user options.

    Examples
    --------
    >>> from kg.obo import read_obo
    >>> option_problem(read_obo, {"on_dangling": "add"}) is None
    True
    >>> option_problem(read_obo, {"on_dangling": "maybe"})
    ('on_dangling', "must be one of ['raise', 'add', 'drop']; got 'maybe'")
    >>> option_problem(read_obo, {"colour": "red"})[1]  # doctest: +ELLIPSIS
    "is not an option of read_obo; allowed: ['acyclic', 'include_obsolete', ...]"
    """
    parameters = _parameters(reader, frozenset(injected))
    for key, value in options.items():
        if key not in parameters:
            return key, f"is not an option of {reader.__name__}; allowed: {sorted(parameters)}"
        expected = _expected(parameters[key], value)
        if expected is not None:
            return key, f"must be {expected}; got {value!r}"
    return None
