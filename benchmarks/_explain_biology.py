"""Known-biology checks of ``benchmarks/explain.py``: where do terms a biologist expects rank in
a model's explanation of a held-out cohort? Reported, not tuned to.

A check is a set of terms of the real KG: named terms (ids looked up in the shared data's
Reactome names file and go-basic), optionally with every term below them, or the terms that
contain a gene (annotated to it, or above such a term). Its rank is the best rank of one of its
terms among all the terms the explanation ranks (ties share their mean rank); beside it, how many
of its terms are ranked (every term, however many genes it covers: ``max_share=None``) and the
best rank expected of as many terms placed at random,
``(N + 1) / (m + 1)`` for ``m`` of ``N`` ranked terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.explanations import Explanation
from kg import KnowledgeGraph, subterms, superterms


@dataclass(frozen=True)
class KnownTerms:
    """Terms a biologist expects for a task.

    Parameters
    ----------
    label : str
        What the terms are (a table row).
    ids : tuple of str
        Named terms.
    below : bool
        Include every subterm of ``ids`` (``is_a`` / ``part_of``) (default: ``False``).
    gene : str, optional
        Instead of ``ids``: the terms containing this gene (NCBI symbol).
    """

    label: str
    ids: tuple[str, ...] = ()
    below: bool = False
    gene: str | None = None

    def terms(self, kg: KnowledgeGraph) -> set[str]:
        """The check's term ids in ``kg`` (the real KG: the biology, whatever the model saw)."""
        if self.gene is not None:
            nodes = kg.nodes
            genes = nodes.index[(nodes["type"] == "gene") & (nodes["name"] == self.gene)]
            return set().union(*(superterms(kg, g, relations=None) for g in genes))
        ids = [i for i in self.ids if i in kg.nodes.index]
        if not self.below:
            return set(ids)
        return set().union(*(subterms(kg, i, include_self=True) for i in ids))


ESR_SIGNALLING = "reactome:R-HSA-8939211"  # ESR-mediated signaling
GO_ESTROGEN_SIGNALLING = "GO:0030520"  # intracellular estrogen receptor signaling pathway

#: The checks of each TCGA task.
KNOWN: dict[str, tuple[KnownTerms, ...]] = {
    "brca": (
        KnownTerms('Reactome "ESR-mediated signaling"', (ESR_SIGNALLING,)),
        KnownTerms(
            'GO "(intracellular) estrogen receptor signaling pathway"', (GO_ESTROGEN_SIGNALLING,)
        ),
        KnownTerms("either, or a term below", (ESR_SIGNALLING, GO_ESTROGEN_SIGNALLING), below=True),
        KnownTerms("best term containing GATA3", gene="GATA3"),
        KnownTerms("best term containing TP53", gene="TP53"),
        KnownTerms("best term containing PIK3CA", gene="PIK3CA"),
        KnownTerms("best term containing ESR1", gene="ESR1"),
    ),
    "prad": (
        KnownTerms(
            'Reactome "Cell Cycle" or GO "cell cycle"', ("reactome:R-HSA-1640170", "GO:0007049")
        ),
        KnownTerms(
            "cell cycle, or a term below", ("reactome:R-HSA-1640170", "GO:0007049"), below=True
        ),
        KnownTerms(
            'Reactome "DNA Repair" or GO "DNA repair"', ("reactome:R-HSA-73894", "GO:0006281")
        ),
        KnownTerms(
            "DNA repair, or a term below", ("reactome:R-HSA-73894", "GO:0006281"), below=True
        ),
        KnownTerms("best term containing TP53", gene="TP53"),
    ),
}


def known_records(
    explanation: Explanation, kg: KnowledgeGraph, checks: tuple[KnownTerms, ...], types: list[str]
) -> dict[str, float]:
    """Per check: best rank of its terms among ``explanation``'s ranked terms of ``types``, the
    number of its terms ranked, and the best rank expected at random."""
    ranking = explanation.ranking(types, max_share=None)
    ranks = ranking.rank(ascending=False, method="average")
    n = len(ranks)
    result: dict[str, float] = {
        "ranked terms": float(n),
        "scored terms": float((ranking > 0).sum()),
    }
    for check in checks:
        chosen = ranks.reindex(sorted(check.terms(kg))).dropna()
        m = len(chosen)
        result[f"{check.label}: best rank"] = float(chosen.min()) if m else np.nan
        result[f"{check.label}: terms ranked"] = float(m)
        result[f"{check.label}: random best rank"] = (n + 1) / (m + 1) if m else np.nan
    return result
