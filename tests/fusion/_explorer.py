"""Tiny hand-built explanations for the explanation-explorer tests (no model training)."""

from __future__ import annotations

import pandas as pd

from fusion.explanations import Explanation
from kg import KnowledgeGraph, make_edges, make_nodes

#: A patient id and a term name that try to end the page's <script> and run code.
HOSTILE = '</script><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

GENES = [f"NCBIGene:{i}" for i in range(1, 7)]


def tiny_kg() -> KnowledgeGraph:
    """Six genes; four GO terms (two namespaces) and two pathways, with a hostile term name.

    ``G1..G3 -> GO:3 -is_a-> GO:2 -is_a-> GO:1`` (biological_process), ``G4, G5 -> GO:4``
    (molecular_function, the hostile name), ``G1, G2, G6 -> R-2 -part_of-> R-1``.
    """
    nodes = pd.concat(
        [
            make_nodes(GENES, "gene", "t", name=[f"G{i}" for i in range(1, 7)]),
            make_nodes(
                ["GO:1", "GO:2", "GO:3", "GO:4"],
                "go_term",
                "t",
                name=["process", "middle process", "leaf process", HOSTILE],
                namespace=["biological_process"] * 3 + ["molecular_function"],
            ),
            make_nodes(
                ["reactome:R-1", "reactome:R-2"], "pathway", "t", name=["Top pathway", 'Sub, "x"']
            ),
        ]
    )
    edges = make_edges(
        [*GENES[:3], "GO:3", "GO:2", GENES[3], GENES[4], GENES[0], GENES[1], GENES[5], "reactome:R-2"],
        ["involved_in"] * 3 + ["is_a", "is_a"] + ["enables"] * 2 + ["participates_in"] * 3
        + ["part_of"],
        ["GO:3"] * 3 + ["GO:2", "GO:1", "GO:4", "GO:4"] + ["reactome:R-2"] * 3 + ["reactome:R-1"],
        "t",
    )  # fmt: skip
    return KnowledgeGraph(nodes, edges)


def _explanation(
    kg: KnowledgeGraph, patient: str, prediction: str, scores: dict[str, float], inputs: list[str]
) -> Explanation:
    return Explanation(
        kg, pd.Series(scores), inputs, patient, prediction=prediction, probability=0.75, method="ig"
    )


def tiny_explanations(kg: KnowledgeGraph | None = None) -> list[Explanation]:
    """Five patients over :func:`tiny_kg` in classes ``AD`` and ``CTRL``; one has a hostile id.

    ``p1``'s best term is ``leaf process`` (GO:3), ``p2``'s the pathway ``Sub`` (R-2),
    ``p3``'s the hostile-named GO:4; ``p10`` is a second ``p1...`` for the suggestions.
    """
    kg = tiny_kg() if kg is None else kg
    terms = ["GO:1", "GO:2", "GO:3", "GO:4", "reactome:R-1", "reactome:R-2"]

    def scores(*values: float) -> dict[str, float]:
        return dict(zip(terms, values))

    return [
        _explanation(kg, "p1", "AD", scores(0.2, 0.5, 0.9, 0.05, 0.3, 0.8), GENES[:3]),
        _explanation(kg, "p2", "AD", scores(0.1, 0.2, 0.3, 0.0, 0.6, 0.95), [*GENES[:2], GENES[5]]),
        _explanation(kg, "p3", "CTRL", scores(0.3, 0.1, -0.2, 0.9, 0.0, 0.1), GENES[3:5]),
        _explanation(kg, "p10", "CTRL", scores(0.4, 0.3, 0.2, 0.7, 0.1, 0.0), GENES[2:5]),
        _explanation(kg, HOSTILE, "CTRL", scores(0.5, 0.1, 0.1, 0.8, 0.2, 0.3), GENES[3:]),
    ]
