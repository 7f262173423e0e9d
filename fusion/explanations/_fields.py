"""The fields of :class:`~fusion.explanations.Explanation` that its query mixins read (private)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from kg import KnowledgeGraph

__all__ = ["ExplanationFields"]


class ExplanationFields:
    """Base of the mixins: declares, for type checkers, the dataclass fields they use."""

    if TYPE_CHECKING:
        kg: KnowledgeGraph
        scores: pd.Series
        inputs: tuple[str, ...]
        patient: str
        method: str
        edge_scores: pd.Series | None
