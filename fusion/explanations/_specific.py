"""How broad an explanation's terms are: coverage of its inputs, the ``max_share`` cut, and the
information content that breaks the decomposition's ties (private to
:mod:`fusion.explanations.explanation`)."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import pandas as pd

from fusion._params import Interval, invalid_parameter
from kg import KnowledgeGraph, coverage, information_content

__all__ = ["BROAD_MIN_INPUTS", "MAX_SHARE", "check_share", "input_coverage", "specificity"]

#: Default ``max_share`` of :meth:`Explanation.top` / :meth:`Explanation.ranking`: terms that
#: more than a tenth of the explanation's inputs reach are left out.
MAX_SHARE = 0.1
#: A term reached by at most this many inputs is never left out by ``max_share``: with few
#: inputs (fewer than 100 at the default share) every term holds a large share of them.
BROAD_MIN_INPUTS = 10

_SHARE = Interval(float, 0, 1, closed="right")
_COVERAGE_CACHE = 32  # input sets remembered per graph (patients often share theirs)
_COVERAGE: weakref.WeakKeyDictionary[KnowledgeGraph, dict[tuple[str, ...], pd.Series]] = (
    weakref.WeakKeyDictionary()
)


def input_coverage(kg: KnowledgeGraph, inputs: tuple[str, ...]) -> pd.Series:
    """:func:`kg.coverage` of ``inputs``, remembered for the last few input sets of ``kg``."""
    cached = _COVERAGE.setdefault(kg, {})
    if inputs not in cached:
        if len(cached) >= _COVERAGE_CACHE:
            cached.pop(next(iter(cached)))
        cached[inputs] = coverage(kg, inputs)
    return cached[inputs]


def check_share(max_share: object, owner: str) -> float | None:
    """``max_share`` as a float in ``(0, 1]`` or ``None``, else :class:`InvalidParameterError`."""
    if max_share is None:
        return None
    if _SHARE.is_satisfied_by(max_share):
        return float(max_share)  # type: ignore[arg-type]
    raise invalid_parameter("max_share", owner, "a float in the range (0, 1] or None", max_share)


def specificity(kg: KnowledgeGraph, inputs: Sequence[str]) -> pd.Series:
    """Information content of ``kg``'s terms: over its genes, or without genes over the nodes
    of the inputs' types."""
    if "gene" in kg.node_types:
        return information_content(kg)
    types = kg.nodes.loc[list(inputs), "type"].unique().tolist()
    return information_content(kg, annotated=kg.nodes_of_type(*types)) if types else pd.Series()
